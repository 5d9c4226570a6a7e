use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

mod revenue {
    use cdms_runtime::cdms::CdmsKind;
    pub const KIND: CdmsKind = CdmsKind::Money;
    pub fn from_cdms(_: &serde_json::Value) -> Result<Option<rust_decimal::Decimal>, String> {
        Ok(None)
    }
    pub fn to_cdms(_: &Option<rust_decimal::Decimal>) -> serde_json::Value {
        serde_json::Value::Null
    }
}

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id, with = revenue)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
    #[cdms(skip, field = "Name")]
    name: String,
    #[cdms(field = "Revenue", money, with = revenue)]
    revenue: Option<Decimal>,
}

fn main() {}
