//! Command-line arguments shared by the commands, and what they turn into (a database handle, a
//! CDMS client, the selected entities).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use crate::cdms::bulk::{Bulk, LoadOptions};
use crate::cdms::{Auth, CdmsClient, CdmsMeta, CdmsRemote, Secret, SyncConfig};
use crate::{Db, EntityMeta};
use clap::{Args, ValueEnum};

use super::CliError;

/// The local database used when neither `--database-url` nor `DATABASE_URL` is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://cdms-sync.sqlite?mode=rwc";

/// The CDMS organisation used when neither `--cdms-url` nor `CDMS_URL` is given: what
/// `cdms-sync emulate` serves by default.
pub const DEFAULT_CDMS_URL: &str = "http://127.0.0.1:8080/UKTI";

/// The longest duration a flag takes, in seconds (a week): beyond it, durations would overflow
/// the clocks they are added to, and no sensible setting needs more.
pub(crate) const MAX_SECS: u64 = 7 * 24 * 3600;

/// A count flag (`--partitions`, `--sample`, ...) between `lo` and `hi`.
pub fn count_in(lo: u64, hi: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(lo..=hi)
}

fn secret(s: &str) -> Result<Secret, Infallible> {
    Ok(Secret::new(s))
}

/// The local database. `Debug` shows the URL without credentials.
#[derive(Clone, Args)]
pub struct DbArgs {
    /// Local database: `sqlite://path/file.sqlite?mode=rwc` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "URL",
        default_value = DEFAULT_DATABASE_URL,
        hide_env_values = true
    )]
    pub database_url: String,
}

impl std::fmt::Debug for DbArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbArgs")
            .field("database_url", &crate::redact_url(&self.database_url))
            .finish()
    }
}

impl DbArgs {
    /// Connects.
    pub async fn connect(&self) -> Result<Db, CliError> {
        Ok(Db::connect(&self.database_url).await?)
    }
}

/// Where CDMS is and how to sign in. Credentials are never printed: `--help` shows no value
/// taken from the environment, and `Debug` shows the URL without credentials.
#[derive(Clone, Args)]
pub struct CdmsArgs {
    /// The CDMS organisation root (the service path `/XRMServices/2011/OrganizationData.svc` is
    /// appended).
    #[arg(
        long,
        env = "CDMS_URL",
        value_name = "URL",
        default_value = DEFAULT_CDMS_URL,
        hide_env_values = true
    )]
    pub cdms_url: String,
    /// User name (with `--cdms-password`: HTTP Basic, or an ADFS form sign-in with
    /// `--cdms-login-path`).
    #[arg(long, env = "CDMS_USER", value_name = "USER", hide_env_values = true)]
    pub cdms_user: Option<String>,
    /// Password of `--cdms-user`.
    #[arg(long, env = "CDMS_PASSWORD", value_name = "PASSWORD", hide_env_values = true, value_parser = secret)]
    pub cdms_password: Option<Secret>,
    /// A bearer token (instead of a user name and password).
    #[arg(long, env = "CDMS_TOKEN", value_name = "TOKEN", hide_env_values = true, value_parser = secret)]
    pub cdms_token: Option<Secret>,
    /// The sign-in path of a claims (ADFS) front end, e.g. `/adfs/login`: sign in with a form and
    /// keep the session cookie instead of sending Basic credentials.
    #[arg(long, env = "CDMS_LOGIN_PATH", value_name = "PATH")]
    pub cdms_login_path: Option<String>,
    /// Time limit of one CDMS request, in seconds.
    #[arg(
        long,
        env = "CDMS_TIMEOUT_SECS",
        value_name = "SECS",
        default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(1..=MAX_SECS)
    )]
    pub cdms_timeout_secs: u64,
    /// Also trust the CA certificates in this PEM file (for a CDMS behind a private CA).
    /// Certificates are always verified.
    #[arg(long, env = "CDMS_CA_FILE", value_name = "PEM")]
    pub cdms_ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for CdmsArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CdmsArgs")
            .field("cdms_url", &crate::redact_url(&self.cdms_url))
            .field("cdms_user", &self.cdms_user.as_ref().map(|_| "***"))
            .field("cdms_password", &self.cdms_password)
            .field("cdms_token", &self.cdms_token)
            .field("cdms_login_path", &self.cdms_login_path)
            .field("cdms_timeout_secs", &self.cdms_timeout_secs)
            .field("cdms_ca_file", &self.cdms_ca_file)
            .finish()
    }
}

impl CdmsArgs {
    fn auth(&self) -> Result<Auth, CliError> {
        match (&self.cdms_token, &self.cdms_user, &self.cdms_password) {
            (Some(_), Some(_), _) => Err(CliError::usage(
                "give either CDMS_TOKEN or CDMS_USER/CDMS_PASSWORD, not both",
            )),
            (Some(token), None, _) => Ok(Auth::Bearer(token.clone())),
            (None, Some(user), Some(password)) => Ok(match &self.cdms_login_path {
                Some(path) => Auth::CookieSession {
                    login_path: path.clone(),
                    user: user.clone(),
                    password: password.clone(),
                },
                None => Auth::Basic {
                    user: user.clone(),
                    password: password.clone(),
                },
            }),
            (None, Some(_), None) => {
                Err(CliError::usage("CDMS_USER is set but CDMS_PASSWORD is not"))
            }
            (None, None, Some(_)) => {
                Err(CliError::usage("CDMS_PASSWORD is set but CDMS_USER is not"))
            }
            (None, None, None) => Ok(Auth::None),
        }
    }

    /// The HTTP client.
    pub fn client(&self) -> Result<CdmsClient, CliError> {
        let mut builder = CdmsClient::builder(self.cdms_url.clone())
            .auth(self.auth()?)
            .timeout(Duration::from_secs(self.cdms_timeout_secs.max(1)));
        if let Some(path) = &self.cdms_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                CliError::usage(format!(
                    "cannot read --cdms-ca-file {}: {e}",
                    path.display()
                ))
            })?;
            builder = builder.root_certificates_pem(&pem)?;
        }
        Ok(builder.build()?)
    }

    /// The sync remote.
    pub fn remote(&self) -> Result<Arc<CdmsRemote>, CliError> {
        Ok(Arc::new(CdmsRemote::new(
            self.client()?,
            SyncConfig::default(),
        )))
    }
}

/// Which entities a command works on.
#[derive(Debug, Clone, Args)]
pub struct EntityArgs {
    /// Only these entities (comma-separated; an entity name like `organisation`, its table, CDMS
    /// entity `Account` or set `AccountSet`). They are always processed in reference order.
    /// Default: all.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub entities: Vec<String>,
}

fn names(meta: &EntityMeta) -> Vec<String> {
    let mut out = vec![
        meta.name.to_ascii_lowercase(),
        meta.table.to_ascii_lowercase(),
    ];
    if let Some(cdms) = CdmsMeta::of(meta) {
        out.push(cdms.service.to_ascii_lowercase());
        out.push(cdms.set.to_ascii_lowercase());
        out.push(cdms.logical_name.to_ascii_lowercase());
    }
    out
}

impl EntityArgs {
    /// The selected entities' CDMS metadata, in reference order (the order of `all`).
    pub fn select(
        &self,
        all: &'static [&'static EntityMeta],
    ) -> Result<Vec<&'static CdmsMeta>, CliError> {
        for wanted in &self.entities {
            let w = wanted.trim().to_ascii_lowercase();
            if !all.iter().any(|m| names(m).contains(&w)) {
                let known: Vec<&str> = all.iter().map(|m| m.table).collect();
                return Err(CliError::usage(format!(
                    "unknown entity {wanted:?}; known: {}",
                    known.join(", ")
                )));
            }
        }
        let chosen = all.iter().filter(|m| {
            self.entities.is_empty()
                || self
                    .entities
                    .iter()
                    .any(|w| names(m).contains(&w.trim().to_ascii_lowercase()))
        });
        Ok(chosen.filter_map(|m| CdmsMeta::of(m)).collect())
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressMode {
    /// Bars on a terminal, log lines otherwise.
    Auto,
    /// Progress bars.
    Bars,
    /// Log lines.
    Log,
    /// Nothing but warnings and the final summary.
    None,
}

/// Worker identity and leases (load and poll).
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// This worker's name in leases (default: host, process id and a random suffix). Reuse a
    /// name after a crash to take its partitions back at once; never give two live workers the
    /// same name.
    #[arg(long, env = "CDMS_SYNC_WORKER", value_name = "ID")]
    pub worker_id: Option<String>,
    /// How long a claimed partition or entity stays reserved without renewal; a crashed worker's
    /// work is taken over after this long.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=MAX_SECS)
    )]
    pub lease_secs: u64,
}

/// How a bulk pass (`load`, `backfill`) splits and commits its work.
#[derive(Debug, Clone, Args)]
pub struct BatchArgs {
    /// Partitions per entity set (`CreatedOn` windows), decided when the pass is first planned.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = count_in(1, 10_000))]
    pub partitions: usize,
    /// Partitions fetched at once by this process.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = count_in(1, 256))]
    pub concurrency: usize,
    /// Pages (of 50 records) applied per transaction and checkpoint.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = count_in(1, 10_000))]
    pub pages_per_commit: usize,
    /// Stop after committing this many pages (running the same command again resumes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=u64::from(u32::MAX)))]
    pub max_pages: Option<u64>,
}

impl BatchArgs {
    /// The bulk options these flags and `worker`'s lease give.
    pub fn options(&self, worker: &WorkerArgs) -> LoadOptions {
        LoadOptions {
            partitions: self.partitions.max(1),
            concurrency: self.concurrency.max(1),
            pages_per_commit: self.pages_per_commit.max(1),
            lease: worker.lease(),
            max_pages: self.max_pages,
            ..LoadOptions::default()
        }
    }
}

impl WorkerArgs {
    /// Applies the worker id.
    pub fn apply(&self, bulk: Bulk) -> Bulk {
        match &self.worker_id {
            Some(id) => bulk.worker(id.clone()),
            None => bulk,
        }
    }

    /// The lease duration.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs.max(1))
    }
}
