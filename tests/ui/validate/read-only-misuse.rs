use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id, read_only)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    #[cdms(read_only)]
    modified_on: DateTime<Utc>,
    #[cdms(field = "VersionNumber", read_only)]
    version_number: Option<i64>,
    #[cdms(skip, read_only)]
    notes: Option<String>,
}

fn main() {}
