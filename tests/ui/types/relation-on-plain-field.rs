use cdms_runtime::{Entity, Q};

#[derive(Entity)]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    name: String,
}

fn main() {
    // Only a reference field leads to another entity.
    let _ = Organisation::fields().name.matching(|_| Q::all());
}
