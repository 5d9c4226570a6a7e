use cdms_runtime::{CdmsSynced, Entity, Ref};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A local-only entity: it has no CDMS GUID, so CDMS cannot point at it.
#[derive(Entity)]
struct Tag {
    #[entity(primary_key)]
    id: i64,
    name: String,
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
    #[cdms(field = "optevia_Sector")]
    tag: Option<Ref<Tag>>,
}

fn main() {}
