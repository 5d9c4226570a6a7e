//! Configuring an [`Emulator`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::auth::{Auth, Sessions};
use super::clock::{Clock, Precision};
use super::error::EmulatorError;
use super::faults::{FaultRule, Faults, Latency};
use super::log::RequestLog;
use super::schema::{SetSchema, SetSpec};
use super::store::{GuidOrder, Store};
use super::{Emulator, Inner};
use crate::cdms::meta::CdmsMeta;

/// Where the organisation sits in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrgUrl {
    /// On-premises style: `http://host/<Org>/XRMServices/2011/OrganizationData.svc` (default).
    #[default]
    Path,
    /// Internet-facing (IFD) style, the org in the host name: `http://host/XRMServices/...`.
    Root,
}

/// Fixed settings of an emulator.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub org: String,
    pub org_url: OrgUrl,
    pub page_size: usize,
    pub skip_limit: usize,
    pub precision: Precision,
    pub bump_on_update: bool,
    pub version_numbers: bool,
    pub lowercase_entry_uris: bool,
    pub check_references: bool,
    pub max_body: usize,
    pub json_for_any_accept: bool,
}

/// Builds an [`Emulator`]: `Emulator::builder().set(Account::CDMS).build()?`.
#[derive(Debug)]
pub struct EmulatorBuilder {
    specs: Vec<SetSpec>,
    cfg: Config,
    guid_order: GuidOrder,
    clock: Clock,
    auth: Auth,
    latency: Latency,
    seed: u64,
    faults: Vec<FaultRule>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            specs: Vec::new(),
            cfg: Config {
                org: "UKTI".to_owned(),
                org_url: OrgUrl::Path,
                page_size: crate::cdms::wire::PAGE_SIZE,
                skip_limit: 5000,
                precision: Precision::Seconds,
                bump_on_update: true,
                version_numbers: true,
                lowercase_entry_uris: true,
                check_references: true,
                max_body: 16 * 1024 * 1024,
                json_for_any_accept: false,
            },
            guid_order: GuidOrder::SqlServer,
            clock: Clock::system(),
            auth: Auth::None,
            latency: Latency::None,
            seed: 0x00C0_FFEE,
            faults: Vec::new(),
        }
    }
}

impl EmulatorBuilder {
    /// Serves the entity set described by derived CDMS metadata.
    pub fn set(mut self, meta: &'static CdmsMeta) -> Self {
        self.specs.push(SetSpec::from_meta(meta));
        self
    }

    /// Serves several entity sets.
    pub fn sets(mut self, metas: impl IntoIterator<Item = &'static CdmsMeta>) -> Self {
        self.specs.extend(metas.into_iter().map(SetSpec::from_meta));
        self
    }

    /// Serves a set described explicitly (extra properties, lookup targets, a TSV schema).
    pub fn spec(mut self, spec: SetSpec) -> Self {
        self.specs.push(spec);
        self
    }

    /// Serves several sets described explicitly (e.g. those of a `$metadata` file).
    pub fn specs(mut self, specs: impl IntoIterator<Item = SetSpec>) -> Self {
        self.specs.extend(specs);
        self
    }

    /// The organisation name (URL segment and `<Org>Context`); default `UKTI`.
    pub fn org(mut self, name: &str) -> Self {
        self.cfg.org = name.to_owned();
        self
    }

    /// Where the organisation sits in the URL; default [`OrgUrl::Path`].
    pub fn org_url(mut self, style: OrgUrl) -> Self {
        self.cfg.org_url = style;
        self
    }

    /// Added latency on every request (changeable later with `set_latency`).
    pub fn latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Seed of the latency jitter RNG.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The authentication mode; default [`Auth::None`].
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = auth.into();
        self
    }

    /// Rows per page (CRM: 50, not client-controllable).
    pub fn page_size(mut self, rows: usize) -> Self {
        self.cfg.page_size = rows;
        self
    }

    /// The largest `$skip + $top` served without a paging cookie (CRM: 5000); beyond it
    /// requests with `$skip` get HTTP 500 mentioning paging.
    pub fn skip_limit(mut self, rows: usize) -> Self {
        self.cfg.skip_limit = rows;
        self
    }

    /// The clock stamping `CreatedOn`/`ModifiedOn` and ageing sessions; default system time.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Precision of server timestamps; default whole seconds.
    pub fn timestamp_precision(mut self, precision: Precision) -> Self {
        self.cfg.precision = precision;
        self
    }

    /// Whether MERGE/PUT stamp a new `ModifiedOn` and `VersionNumber` (default: yes, as
    /// standard CRM does; uktrade's staging test suggested otherwise within one second).
    pub fn bump_modified_on_update(mut self, bump: bool) -> Self {
        self.cfg.bump_on_update = bump;
        self
    }

    /// Whether `VersionNumber` is reported (default) or always `null` (as vanilla 2011 REST
    /// answered).
    pub fn version_numbers(mut self, report: bool) -> Self {
        self.cfg.version_numbers = report;
        self
    }

    /// Whether `__metadata.uri` spells the service path in lower case (`/xrmservices/2011/
    /// organizationdata.svc`), as CRM sometimes did (default: yes, so clients never compare base
    /// URLs as strings). Paths are matched case-insensitively either way.
    pub fn lowercase_entry_uris(mut self, lower: bool) -> Self {
        self.cfg.lowercase_entry_uris = lower;
        self
    }

    /// Whether entity data is also served as JSON to requests that accept anything (no
    /// `Accept`, `*/*`, `application/*`). Default: no, they get 406, standing in for the Atom
    /// XML CRM answers them with (dialect §1: JSON only for `Accept: application/json`), which
    /// the emulator does not write; so a client that forgets to ask for JSON fails here as it
    /// would against CRM. Answers without a body (MERGE, PUT, DELETE: 204) never depend on
    /// `Accept`.
    pub fn json_for_any_accept(mut self, json: bool) -> Self {
        self.cfg.json_for_any_accept = json;
        self
    }

    /// Whether HTTP writes must reference existing records of served sets (default: yes, 404
    /// otherwise). The data-access methods never check, so tests can seed in any order.
    pub fn check_references(mut self, check: bool) -> Self {
        self.cfg.check_references = check;
        self
    }

    /// How GUID keys are ordered; default SQL Server order.
    pub fn guid_order(mut self, order: GuidOrder) -> Self {
        self.guid_order = order;
        self
    }

    /// Adds a fault rule active from the start.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Validates the configuration and creates the (empty) organisation.
    pub fn build(self) -> Result<Emulator, EmulatorError> {
        let cfg = self.cfg;
        if cfg.org.is_empty()
            || !cfg
                .org
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(EmulatorError::Config(format!(
                "organisation name {:?} must be non-empty ASCII letters, digits, '_' or '-'",
                cfg.org
            )));
        }
        if cfg.page_size == 0 {
            return Err(EmulatorError::Config("page size must be at least 1".into()));
        }
        let mut schemas = Vec::with_capacity(self.specs.len());
        let mut by_set = HashMap::new();
        let mut by_logical = HashMap::new();
        for spec in self.specs {
            let schema = SetSchema::build(spec)?;
            if by_set.insert(schema.set.clone(), schemas.len()).is_some() {
                return Err(EmulatorError::Config(format!(
                    "entity set {} is served twice",
                    schema.set
                )));
            }
            if by_logical
                .insert(schema.logical.clone(), schemas.len())
                .is_some()
            {
                return Err(EmulatorError::Config(format!(
                    "two sets share the logical name {}",
                    schema.logical
                )));
            }
            schemas.push(schema);
        }
        super::schema::link_navigations(&mut schemas, &by_logical)?;
        let faults = Faults::default();
        for rule in self.faults {
            faults.add(rule);
        }
        let store = Store::new(schemas.len(), self.guid_order);
        Ok(Emulator {
            inner: Arc::new(Inner {
                cfg,
                schemas,
                by_set,
                by_logical,
                store: RwLock::new(store),
                clock: self.clock,
                faults,
                log: RequestLog::default(),
                sessions: Sessions::default(),
                auth: RwLock::new(self.auth),
                latency: Mutex::new((self.latency, fastrand::Rng::with_seed(self.seed))),
            }),
        })
    }
}
