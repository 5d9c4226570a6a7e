use cdms_runtime::{CdmsSynced, Entity, Ref};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    #[cdms(field = "ModifiedOn")]
    modified_on: DateTime<Utc>,
    #[cdms(field = "Name", relationship = "account_name")]
    name: String,
}

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Contact")]
struct Contact {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "ContactId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    #[cdms(field = "ModifiedOn")]
    modified_on: DateTime<Utc>,
    #[cdms(field = "ParentCustomerId", relationship = "contact customer")]
    organisation: Option<Ref<Organisation>>,
}

fn main() {}
