use cdms_runtime::{Entity, Ref};

struct Country {
    name: String,
}

#[derive(Entity)]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    country: Option<Ref<Country>>,
}

fn main() {}
