use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account", field = "AccountId")]
#[entity(primary_key)]
struct Organisation {
    #[entity(primary_key, table = "organisation")]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
    #[cdms(skip, logical_name = "account")]
    name: String,
}

fn main() {}
