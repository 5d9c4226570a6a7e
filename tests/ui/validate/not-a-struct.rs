use cdms_runtime::{CdmsSynced, Entity};

#[derive(Entity, CdmsSynced)]
enum Status {
    Active,
    Inactive,
}

#[derive(Entity)]
struct Pair(i64, String);

#[derive(Entity)]
struct Unit;

fn main() {}
