use cdms_runtime::{Entity, FieldType};

#[derive(Entity)]
struct Tagged<T: FieldType> {
    #[entity(primary_key)]
    id: i64,
    tag: T,
}

fn main() {}
