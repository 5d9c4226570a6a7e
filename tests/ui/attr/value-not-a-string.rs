use cdms_runtime::Entity;

#[derive(Entity)]
#[entity(table = organisation)]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    #[entity(column = 42)]
    name: String,
}

fn main() {}
