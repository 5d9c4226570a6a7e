//! Generated records for any served schema ([`Emulator::generate`]): what `emulate --seed N`
//! serves when the application has no data set of its own.

use serde_json::{json, Map, Value as J};
use uuid::Uuid;

use super::error::EmulatorError;
use super::schema::{SetSchema, OVERRIDDEN_CREATED_ON};
use super::Emulator;
use crate::cdms::meta::CdmsKind;
use crate::cdms::wire;

/// One day, in milliseconds.
const DAY_MS: i64 = 86_400_000;

impl Emulator {
    /// Fills every served set with `per_set` generated records (deterministic for a `seed`):
    /// every property a value of its type (strings of at most 32 characters, numbers between 0
    /// and 10 000, option set codes 1 and 2, dates at midnight UTC within the last three years),
    /// a lookup a record of one of its target sets (a random earlier record for a lookup to its
    /// own set; members null when its targets are unknown or not served), `CreatedOn` (through
    /// `OverriddenCreatedOn` when the set has it) spread over the same years. Returns how many
    /// records were created.
    pub fn generate(&self, per_set: usize, seed: u64) -> Result<u64, EmulatorError> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let schemas = &self.inner.schemas;
        let ids: Vec<Vec<Uuid>> = schemas
            .iter()
            .map(|_| {
                (0..per_set)
                    .map(|_| {
                        uuid::Builder::from_random_bytes(rng.u128(..).to_le_bytes()).into_uuid()
                    })
                    .collect()
            })
            .collect();
        let today = self.inner.clock.now().timestamp_millis().div_euclid(DAY_MS) * DAY_MS;
        let mut total = 0;
        for (s, schema) in schemas.iter().enumerate() {
            let rows: Vec<J> = (0..per_set)
                .map(|i| J::Object(self.record(schema, s, i, &ids, today, &mut rng)))
                .collect();
            total += self.insert_many(&schema.set, rows)?.len() as u64;
        }
        Ok(total)
    }

    fn record(
        &self,
        schema: &SetSchema,
        s: usize,
        i: usize,
        ids: &[Vec<Uuid>],
        today: i64,
        rng: &mut fastrand::Rng,
    ) -> Map<String, J> {
        let mut row = Map::new();
        let date = |rng: &mut fastrand::Rng| {
            J::String(wire::format_date(&millis(
                today - DAY_MS * rng.i64(1..3 * 365),
            )))
        };
        for (p, prop) in schema.props.iter().enumerate() {
            if prop.managed {
                continue;
            }
            let value = if p == schema.id {
                json!(ids[s][i].to_string())
            } else if prop.name == OVERRIDDEN_CREATED_ON {
                date(rng)
            } else {
                match prop.kind {
                    CdmsKind::String => {
                        let stem: String = prop.name.chars().take(24).collect();
                        json!(format!("{stem} {}", rng.u32(1..1_000_000)))
                    }
                    CdmsKind::Boolean => json!(rng.bool()),
                    CdmsKind::Int32 => json!(rng.i32(0..10_000)),
                    CdmsKind::Int64 => json!(rng.i64(0..10_000).to_string()),
                    CdmsKind::Decimal => json!(cents(rng)),
                    CdmsKind::Double => json!(f64::from(rng.u32(0..1_000_000)) / 100.0),
                    CdmsKind::DateTime => date(rng),
                    CdmsKind::Guid => json!(Uuid::from_u128(rng.u128(..)).to_string()),
                    CdmsKind::Money => json!({ "Value": cents(rng) }),
                    CdmsKind::OptionSetValue => json!({ "Value": rng.i32(1..=2) }),
                    CdmsKind::EntityReference => self.reference(&prop.targets, s, i, ids, rng),
                }
            };
            row.insert(prop.name.clone(), value);
        }
        row
    }

    /// A reference to a record of one of `targets` (served sets only); for the set itself, to
    /// an earlier record, so that references never form cycles.
    fn reference(
        &self,
        targets: &[String],
        s: usize,
        i: usize,
        ids: &[Vec<Uuid>],
        rng: &mut fastrand::Rng,
    ) -> J {
        let served: Vec<(&str, usize)> = targets
            .iter()
            .filter_map(|t| Some((t.as_str(), *self.inner.by_logical.get(t)?)))
            .filter(|&(_, t)| if t == s { i > 0 } else { !ids[t].is_empty() })
            .collect();
        if served.is_empty() {
            // A complex value is never null itself (WCF Data Services V2): its members are.
            return json!({ "Id": null, "LogicalName": null });
        }
        let (logical, t) = served[rng.usize(..served.len())];
        let upto = if t == s { i } else { ids[t].len() };
        json!({ "Id": ids[t][rng.usize(..upto)].to_string(), "LogicalName": logical })
    }
}

fn cents(rng: &mut fastrand::Rng) -> String {
    let c = rng.u32(0..1_000_000);
    format!("{}.{:02}", c / 100, c % 100)
}

fn millis(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
