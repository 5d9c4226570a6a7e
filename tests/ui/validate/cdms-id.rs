use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct NoId {
    #[entity(primary_key)]
    id: i64,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
}

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct TwoIds {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[cdms(field = "ParentAccountId", id)]
    parent_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
}

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct WrongType {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id, money)]
    cdms_id: Uuid,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
}

fn main() {}
