use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

mod postcode {
    use cdms_runtime::cdms::CdmsKind;
    pub const KIND: CdmsKind = CdmsKind::String;
    pub fn from_cdms(json: &serde_json::Value) -> Result<Option<String>, String> {
        Ok(json.as_str().map(str::to_uppercase))
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
