use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

mod upper {
    use cdms_runtime::cdms::CdmsKind;
    use serde_json::Value;

    pub const KIND: CdmsKind = CdmsKind::String;

    pub fn from_cdms(json: &Value) -> Result<String, String> {
        Ok(json.as_str().unwrap_or_default().to_uppercase())
    }

    pub fn to_cdms(value: &String) -> Value {
        Value::String(value.clone())
    }
}

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id, null = default)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
    #[cdms(field = "AccountNumber", null = default)]
    account_number: Option<String>,
    #[cdms(field = "optevia_LastVerified", null = default)]
    verified: NaiveDate,
    #[cdms(field = "Description", with = upper, null = default)]
    description: String,
    #[cdms(skip, null = default)]
    notes: String,
}

fn main() {}
