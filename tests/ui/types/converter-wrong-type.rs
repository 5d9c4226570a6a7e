use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

mod postcode {
    use cdms_runtime::cdms::CdmsKind;
    pub const KIND: CdmsKind = CdmsKind::String;
    pub fn from_cdms(json: &serde_json::Value) -> Result<String, String> {
        json.as_str().map(str::to_uppercase).ok_or_else(|| "not a string".to_owned())
    }
    pub fn to_cdms(value: &String) -> serde_json::Value {
        serde_json::Value::String(value.clone())
    }
}

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
    #[cdms(field = "Address1_PostalCode", with = postcode)]
    postcode: Option<String>,
}

fn main() {}
