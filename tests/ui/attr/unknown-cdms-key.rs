use cdms_runtime::{CdmsSynced, Entity};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account", entity_set = "AccountSet")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[entity(modified)]
    modified_on: DateTime<Utc>,
    #[cdms(feild = "Name")]
    name: String,
}

// The derive's errors come with inert impls, so code using the entity reports nothing more.
fn main() {
    let _ = Organisation::fields().name.icontains("acme");
    let _ = <Organisation as cdms_runtime::cdms::Synced>::CDMS;
}
