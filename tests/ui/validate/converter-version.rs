use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

mod tags {
    pub const KIND: cdms_runtime::cdms::CdmsKind = cdms_runtime::cdms::CdmsKind::String;
    pub fn from_cdms(v: &serde_json::Value) -> Result<String, String> {
        Ok(v.as_str().unwrap_or_default().to_owned())
    }
    pub fn to_cdms(v: &String) -> serde_json::Value {
        serde_json::Value::from(v.as_str())
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
    #[cdms(field = "Name", version = 2)]
    name: String,
    #[cdms(field = "Description", with = tags, version = 0)]
    tags: String,
    #[cdms(skip, version = 3)]
    notes: Option<String>,
}

fn main() {}
