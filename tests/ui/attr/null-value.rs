use cdms_runtime::{CdmsSynced, Entity};
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
    modified_on: DateTime<Utc>,
    #[cdms(field = "Name", null = empty)]
    name: String,
    #[cdms(field = "Telephone1", null)]
    telephone: String,
    #[cdms(field = "WebSiteURL", null = default, null = default)]
    website: String,
}

fn main() {}
