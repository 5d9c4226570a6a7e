use cdms_runtime::CdmsSynced;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
}

fn main() {}
