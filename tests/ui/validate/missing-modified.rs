use cdms_runtime::{CdmsSynced, Entity};
use uuid::Uuid;

#[derive(Entity, CdmsSynced)]
#[cdms(service = "Account")]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[cdms(field = "AccountId", id)]
    cdms_id: Option<Uuid>,
    #[cdms(field = "Name")]
    name: String,
}

fn main() {}
