//! A deterministic, realistic CDMS data set for the demo, the standalone emulator, tests and
//! benchmarks.
//!
//! The lookup sets hold real reference data (58 countries with ISO codes and dialling codes, 37
//! export sectors as UKTI listed them, 14 UK regions, 8 business types). Organisations get
//! company-like names (`Thornbury Precision Engineering Ltd`), a UK town with a plausible postcode
//! district, Companies House and VAT numbers, a web site and telephone number (Ofcom's drama
//! ranges are not used: the numbers are random), sizes, revenue and option-set codes; about one
//! in five is registered abroad. Contacts are about 2.5 per organisation, with common UK names,
//! job titles, and the data-quality gaps CDMS really had (about 8% have no e-mail address).
//!
//! Everything is a pure function of the record's index and [`DEMO_SEED`]: ids, names and
//! timestamps are identical on every run and every machine, and `CreatedOn`/`ModifiedOn` spread
//! over 2009–2016 (sent as `OverriddenCreatedOn`, then `ModifiedOn` set directly), so time
//! partitions and watermarks behave as they do on real data.

mod lists;
mod rng;

use cdms_runtime::cdms::{wire, CdmsKind, CdmsMeta, Synced};
use cdms_runtime::emulator::{Emulator, EmulatorBuilder, EmulatorError, SetSpec};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use crate::{BusinessType, Contact, Country, Organisation, Sector, UkRegion};
use lists::{CountryRow, Town};
use rng::Rng;

/// The seed of the demo data set.
pub const DEMO_SEED: u64 = 0x5EED_CD35_2011;

/// Organisations in the demo's data set.
pub const DEFAULT_ORGANISATIONS: usize = 4_000;

/// How many records of each generated set to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoScale {
    /// Organisations (`AccountSet`).
    pub organisations: usize,
    /// Contacts (`ContactSet`).
    pub contacts: usize,
}

impl DemoScale {
    /// `organisations` organisations and five contacts for every two of them.
    pub fn organisations(organisations: usize) -> Self {
        DemoScale {
            organisations,
            contacts: organisations.saturating_mul(5) / 2,
        }
    }
}

impl Default for DemoScale {
    fn default() -> Self {
        DemoScale::organisations(DEFAULT_ORGANISATIONS)
    }
}

/// How many records [`seed`] created per set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    /// `optevia_countrySet`
    pub countries: usize,
    /// `optevia_sectorSet`
    pub sectors: usize,
    /// `optevia_ukregionSet`
    pub uk_regions: usize,
    /// `optevia_businesstypeSet`
    pub business_types: usize,
    /// `AccountSet`
    pub organisations: usize,
    /// `ContactSet`
    pub contacts: usize,
}

impl Seeded {
    /// Records in all sets.
    pub fn total(&self) -> usize {
        self.countries
            + self.sectors
            + self.uk_regions
            + self.business_types
            + self.organisations
            + self.contacts
    }

    /// `(entity set, records)` in reference order.
    pub fn per_set(&self) -> [(&'static str, usize); 6] {
        [
            (Country::CDMS.set, self.countries),
            (Sector::CDMS.set, self.sectors),
            (UkRegion::CDMS.set, self.uk_regions),
            (BusinessType::CDMS.set, self.business_types),
            (Organisation::CDMS.set, self.organisations),
            (Contact::CDMS.set, self.contacts),
        ]
    }
}

const OVERRIDDEN_CREATED_ON: &str = "OverriddenCreatedOn";

fn spec(meta: &'static CdmsMeta, primary_name: &str) -> SetSpec {
    SetSpec::from_meta(meta)
        .property(OVERRIDDEN_CREATED_ON, CdmsKind::DateTime)
        .primary_name(primary_name)
}

/// An emulator builder serving this crate's six entity sets (plus the writable
/// `OverriddenCreatedOn` CDMS has on every set), with each set's primary name for lookup names.
pub fn emulator_builder() -> EmulatorBuilder {
    Emulator::builder()
        .spec(spec(Country::CDMS, "optevia_Country"))
        .spec(spec(Sector::CDMS, "optevia_name"))
        .spec(spec(UkRegion::CDMS, "optevia_name"))
        .spec(spec(BusinessType::CDMS, "optevia_name"))
        .spec(spec(Organisation::CDMS, "Name"))
        .spec(spec(Contact::CDMS, "LastName"))
}

const STREAM_COUNTRY: u64 = 1;
const STREAM_SECTOR: u64 = 2;
const STREAM_REGION: u64 = 3;
const STREAM_BUSINESS_TYPE: u64 = 4;
const STREAM_ORGANISATION: u64 = 5;
const STREAM_CONTACT: u64 = 6;

fn id(stream: u64, index: usize) -> Uuid {
    // A generator of its own, so ids do not depend on how many draws the record makes.
    Rng::at(stream.wrapping_add(0x1000), index).uuid()
}

/// The CDMS id of demo country `i` (0 is the United Kingdom).
pub fn country_id(i: usize) -> Uuid {
    id(STREAM_COUNTRY, i)
}

/// The CDMS id of demo organisation `i`.
pub fn organisation_id(i: usize) -> Uuid {
    id(STREAM_ORGANISATION, i)
}

/// The CDMS id of demo contact `i`.
pub fn contact_id(i: usize) -> Uuid {
    id(STREAM_CONTACT, i)
}

/// CDMS went live in mid 2009; the data set was taken in August 2016.
fn era() -> (i64, i64) {
    let start = Utc
        .with_ymd_and_hms(2009, 6, 1, 8, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp());
    let end = Utc
        .with_ymd_and_hms(2016, 8, 8, 18, 0, 0)
        .single()
        .map_or(0, |t| t.timestamp());
    (start, end)
}

fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

fn date(secs: i64) -> J {
    J::String(wire::format_date(&instant(secs)))
}

fn lookup(id: Uuid, logical: &str) -> J {
    json!({ "Id": id.to_string(), "LogicalName": logical })
}

fn option(value: i64) -> J {
    json!({ "Value": value })
}

/// A lookup record: created in the first weeks of CDMS, touched once since.
fn lookup_row(stream: u64, i: usize, id_property: &str, mut props: Map<String, J>) -> (J, i64) {
    let mut rng = Rng::at(stream, i);
    let (start, end) = era();
    let created = start + rng.range(0, 30 * 86_400);
    let modified = rng.range(created, end);
    props.insert(id_property.to_owned(), J::String(id(stream, i).to_string()));
    props.insert(OVERRIDDEN_CREATED_ON.to_owned(), date(created));
    (J::Object(props), modified)
}

fn country(i: usize, c: &CountryRow) -> (J, i64) {
    let mut p = Map::new();
    p.insert("optevia_Country".into(), json!(c.name));
    p.insert("optevia_ISOCountry2".into(), json!(c.iso2));
    p.insert("optevia_ISOCountry3".into(), json!(c.iso3));
    p.insert("optevia_TelephoneCode".into(), json!(c.dialling));
    p.insert("detica_eu".into(), json!(c.eu));
    lookup_row(STREAM_COUNTRY, i, Country::CDMS.id_property, p)
}

fn sector(i: usize, name: &str) -> (J, i64) {
    let mut p = Map::new();
    p.insert("optevia_name".into(), json!(name));
    p.insert("optevia_SortIndex".into(), json!((i as i64 + 1) * 10));
    lookup_row(STREAM_SECTOR, i, Sector::CDMS.id_property, p)
}

fn region(i: usize, (name, code): (&str, &str)) -> (J, i64) {
    let mut p = Map::new();
    p.insert("optevia_name".into(), json!(name));
    p.insert("optevia_UKRegionCode".into(), json!(code));
    lookup_row(STREAM_REGION, i, UkRegion::CDMS.id_property, p)
}

fn business_type(i: usize, name: &str) -> (J, i64) {
    let mut p = Map::new();
    p.insert("optevia_name".into(), json!(name));
    p.insert("optevia_SortIndex".into(), json!(i as i64 + 1));
    lookup_row(STREAM_BUSINESS_TYPE, i, BusinessType::CDMS.id_property, p)
}

fn slug(words: &[&str]) -> String {
    words
        .iter()
        .flat_map(|w| w.split_whitespace().take(1))
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase()
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn postcode(rng: &mut Rng, town: &Town) -> String {
    const UNIT_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
    let district = rng.pick(town.districts);
    let sector = rng.below(10);
    let a = char::from(*rng.pick(UNIT_LETTERS));
    let b = char::from(*rng.pick(UNIT_LETTERS));
    let code = format!("{district} {sector}{a}{b}");
    // Typed by hand into CRM: some are lower case or lack the space.
    match rng.below(40) {
        0 => code.to_lowercase(),
        1 => code.replace(' ', ""),
        _ => code,
    }
}

fn company_name(rng: &mut Rng, business_type: usize) -> (String, String) {
    let stem = *rng.pick(lists::NAME_STEMS);
    let core = *rng.pick(lists::NAME_CORES);
    let domain = slug(&[stem, core]);
    let name = match business_type {
        0 => format!(
            "{stem} {core} {}",
            if rng.percent(70) { "Ltd" } else { "Limited" }
        ),
        1 => format!("{stem} {core} plc"),
        2 => format!("{stem} {core} LLP"),
        3 => format!(
            "{stem} & {} {}",
            rng.pick(lists::LAST_NAMES),
            if rng.percent(50) { "Partners" } else { "Co" }
        ),
        4 => format!("{} {core}", rng.pick(lists::LAST_NAMES)),
        5 => format!(
            "{stem} {} Trust",
            if rng.percent(50) {
                "Community"
            } else {
                "Heritage"
            }
        ),
        6 => format!("{stem} Borough Council"),
        _ => format!("{stem} {core} Group"),
    };
    let name = if rng.percent(6) {
        format!("{name} (UK)")
    } else {
        name
    };
    (name, domain)
}

fn address_line(rng: &mut Rng) -> String {
    const STREETS: &[&str] = &[
        "Road",
        "Street",
        "Lane",
        "Avenue",
        "Way",
        "Place",
        "Square",
        "Business Park",
    ];
    let street = format!("{} {}", rng.pick(lists::NAME_STEMS), rng.pick(STREETS));
    match rng.below(5) {
        0 => format!("Unit {}, {street}", rng.range(1, 40)),
        1 => format!("{} House, {street}", rng.pick(lists::NAME_STEMS)),
        _ => format!("{} {street}", rng.range(1, 250)),
    }
}

/// Demo organisation `i` as CDMS write JSON, and its `ModifiedOn` (Unix seconds).
pub fn organisation(i: usize) -> (J, i64) {
    let mut rng = Rng::at(STREAM_ORGANISATION, i);
    let (start, end) = era();
    let created = rng.range(start, end - 86_400);
    let modified = if rng.percent(35) {
        created
    } else {
        rng.range(created, end)
    };
    let business_type = match rng.below(100) {
        0..=69 => 0,
        70..=74 => 1,
        75..=79 => 2,
        80..=84 => 3,
        85..=91 => 4,
        92..=95 => 5,
        96 => 6,
        _ => 7,
    };
    let (name, domain) = company_name(&mut rng, business_type);
    let uk = !rng.percent(20);
    let country_index = if uk {
        0
    } else {
        1 + rng.below(lists::COUNTRIES.len() - 1)
    };
    let country = &lists::COUNTRIES[country_index];
    let mut p = Map::new();
    p.insert(
        Organisation::CDMS.id_property.into(),
        json!(organisation_id(i).to_string()),
    );
    p.insert(OVERRIDDEN_CREATED_ON.into(), date(created));
    p.insert("Name".into(), json!(name));
    p.insert("AccountNumber".into(), json!(format!("ORG-{:07}", i + 1)));
    let tld = if uk { "co.uk" } else { "com" };
    if uk {
        let town = rng.pick(lists::TOWNS);
        let ch = match town.region {
            9 => format!("SC{}", rng.digits(6)),
            11 => format!("NI{}", rng.digits(6)),
            _ => format!("0{}", rng.digits(7)),
        };
        if business_type <= 2 {
            p.insert("optevia_CompaniesHouseNumber".into(), json!(ch));
        }
        if rng.percent(75) {
            p.insert(
                "optevia_VATNumber".into(),
                json!(format!("GB{}", rng.digits(9))),
            );
        }
        p.insert("Address1_City".into(), json!(town.name));
        p.insert(
            "Address1_PostalCode".into(),
            json!(postcode(&mut rng, town)),
        );
        let jitter = (rng.below(2000) as f64 - 1000.0) / 20_000.0;
        p.insert(
            "Address1_Latitude".into(),
            json!(((town.latitude + jitter) * 10_000.0).round() / 10_000.0),
        );
        p.insert(
            "Telephone1".into(),
            json!(format!(
                "{} {} {}",
                town.std_code,
                rng.digits(3),
                rng.digits(4)
            )),
        );
        p.insert(
            "optevia_UKRegion".into(),
            lookup(id(STREAM_REGION, town.region), UkRegion::CDMS.logical_name),
        );
    } else {
        p.insert("Address1_City".into(), json!(country.capital));
        p.insert(
            "Telephone1".into(),
            json!(format!("+{} {}", country.dialling, rng.digits(9))),
        );
    }
    p.insert("Address1_Line1".into(), json!(address_line(&mut rng)));
    if rng.percent(85) {
        p.insert("WebSiteURL".into(), json!(format!("www.{domain}.{tld}")));
    }
    if rng.percent(70) {
        let mailbox = rng.pick(&["info", "enquiries", "sales", "hello", "contact"]);
        p.insert(
            "EMailAddress1".into(),
            json!(format!("{mailbox}@{domain}.{tld}")),
        );
    }
    let employees = match rng.below(10) {
        0..=4 => rng.range(1, 50),
        5..=7 => rng.range(50, 250),
        8 => rng.range(250, 5_000),
        _ => rng.range(5_000, 120_000),
    };
    if rng.percent(90) {
        p.insert("NumberOfEmployees".into(), json!(employees));
    }
    if rng.percent(60) {
        let revenue = employees * rng.range(40_000, 250_000);
        p.insert(
            "Revenue".into(),
            json!({ "Value": format!("{revenue}.00") }),
        );
    }
    if rng.percent(85) {
        // Code 40 is a customisation: it decodes to `IndustryCode::Other(40)`.
        let code = if rng.percent(2) { 40 } else { rng.range(1, 34) };
        p.insert("IndustryCode".into(), option(code));
    }
    if rng.percent(75) {
        p.insert("CustomerTypeCode".into(), option(rng.range(1, 13)));
    }
    p.insert("DoNotEMail".into(), json!(rng.percent(7)));
    if rng.percent(95) {
        p.insert("optevia_ukorganisation".into(), json!(uk));
    }
    p.insert(
        "optevia_Country".into(),
        lookup(country_id(country_index), Country::CDMS.logical_name),
    );
    if rng.percent(92) {
        let s = rng.below(lists::SECTORS.len());
        p.insert(
            "optevia_Sector".into(),
            lookup(id(STREAM_SECTOR, s), Sector::CDMS.logical_name),
        );
    }
    p.insert(
        "optevia_BusinessType".into(),
        lookup(
            id(STREAM_BUSINESS_TYPE, business_type),
            BusinessType::CDMS.logical_name,
        ),
    );
    (J::Object(p), modified)
}

/// Demo contact `i` of a data set with `organisations` organisations, as CDMS write JSON, and its
/// `ModifiedOn` (Unix seconds).
pub fn contact(i: usize, organisations: usize) -> (J, i64) {
    let mut rng = Rng::at(STREAM_CONTACT, i);
    let (start, end) = era();
    let female = rng.percent(48);
    let first = *rng.pick(if female {
        lists::FIRST_NAMES_FEMALE
    } else {
        lists::FIRST_NAMES_MALE
    });
    let last = *rng.pick(lists::LAST_NAMES);
    let mut p = Map::new();
    p.insert(
        Contact::CDMS.id_property.into(),
        json!(contact_id(i).to_string()),
    );
    let mut created = rng.range(start, end - 3_600);
    let employer = (organisations > 0 && rng.percent(95)).then(|| rng.below(organisations));
    let mut domain = None;
    if let Some(org) = employer {
        let (org_json, _) = organisation(org);
        let org_created = org_json
            .get(OVERRIDDEN_CREATED_ON)
            .and_then(J::as_str)
            .and_then(wire::parse_date)
            .map_or(start, |t| t.timestamp());
        created = rng.range(org_created, end - 3_600);
        domain = org_json
            .get("WebSiteURL")
            .and_then(J::as_str)
            .and_then(|w| w.strip_prefix("www."))
            .map(str::to_owned);
        p.insert(
            "ParentCustomerId".into(),
            lookup(organisation_id(org), Organisation::CDMS.logical_name),
        );
    }
    let modified = if rng.percent(40) {
        created
    } else {
        rng.range(created, end)
    };
    p.insert(OVERRIDDEN_CREATED_ON.into(), date(created));
    if rng.percent(97) {
        p.insert("FirstName".into(), json!(first));
    }
    p.insert("LastName".into(), json!(last));
    let local: String = format!("{first}.{last}")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let local = local.to_ascii_lowercase();
    if rng.percent(92) {
        let email = match &domain {
            Some(d) if rng.percent(85) => format!("{local}@{d}"),
            _ => format!(
                "{local}{}@{}",
                rng.range(1, 99),
                rng.pick(lists::MAIL_HOSTS)
            ),
        };
        p.insert("EMailAddress1".into(), json!(email));
    }
    if rng.percent(80) {
        p.insert(
            "Telephone1".into(),
            json!(format!("07{} {}", rng.digits(3), rng.digits(6))),
        );
    }
    if rng.percent(85) {
        p.insert("JobTitle".into(), json!(rng.pick(lists::JOB_TITLES)));
    }
    if rng.percent(30) {
        let born = rng.range(-315_619_200, 946_684_800); // 1960 … 2000
        p.insert("BirthDate".into(), date(born - born.rem_euclid(86_400)));
    }
    p.insert("DoNotPhone".into(), json!(rng.percent(5)));
    if rng.percent(10) {
        p.insert(
            "AnnualIncome".into(),
            json!({ "Value": format!("{}.00", rng.range(18, 250) * 1_000) }),
        );
    }
    if rng.percent(80) {
        p.insert("GenderCode".into(), option(if female { 2 } else { 1 }));
    }
    (J::Object(p), modified)
}

/// Records per `insert_many` call while seeding.
const CHUNK: usize = 2_000;

fn insert_all(
    emu: &Emulator,
    set: &str,
    rows: impl Iterator<Item = (J, i64)>,
) -> Result<usize, EmulatorError> {
    let mut n = 0;
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut modified = Vec::with_capacity(CHUNK);
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        chunk.clear();
        modified.clear();
        for (json, m) in rows.by_ref().take(CHUNK) {
            chunk.push(json);
            modified.push(m);
        }
        let ids = emu.insert_many(set, chunk.drain(..))?;
        for (id, m) in ids.into_iter().zip(&modified) {
            emu.set_modified(set, id, instant(*m))?;
        }
        n += modified.len();
    }
    Ok(n)
}

/// Fills `emu` (built from [`emulator_builder`]) with the demo data set at `scale`: the lookup
/// sets in full, then the organisations and contacts.
pub fn seed(emu: &Emulator, scale: DemoScale) -> Result<Seeded, EmulatorError> {
    let countries = insert_all(
        emu,
        Country::CDMS.set,
        lists::COUNTRIES
            .iter()
            .enumerate()
            .map(|(i, c)| country(i, c)),
    )?;
    let sectors = insert_all(
        emu,
        Sector::CDMS.set,
        lists::SECTORS.iter().enumerate().map(|(i, s)| sector(i, s)),
    )?;
    let uk_regions = insert_all(
        emu,
        UkRegion::CDMS.set,
        lists::UK_REGIONS
            .iter()
            .enumerate()
            .map(|(i, r)| region(i, *r)),
    )?;
    let business_types = insert_all(
        emu,
        BusinessType::CDMS.set,
        lists::BUSINESS_TYPES
            .iter()
            .enumerate()
            .map(|(i, b)| business_type(i, b)),
    )?;
    let organisations = insert_all(
        emu,
        Organisation::CDMS.set,
        (0..scale.organisations).map(organisation),
    )?;
    let contacts = insert_all(
        emu,
        Contact::CDMS.set,
        (0..scale.contacts).map(|i| contact(i, scale.organisations)),
    )?;
    Ok(Seeded {
        countries,
        sectors,
        uk_regions,
        business_types,
        organisations,
        contacts,
    })
}

#[cfg(test)]
mod tests;
