use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    #[cdms(skip)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    #[cdms(skip)]
    modified_on: DateTime<Utc>,
    #[entity(created)]
    #[cdms(skip)]
    created_on: Option<DateTime<Utc>>,
}

fn main() {}
