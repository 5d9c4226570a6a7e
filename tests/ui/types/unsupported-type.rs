use cdms_runtime::Entity;

#[derive(Entity)]
struct Document {
    #[entity(primary_key)]
    id: i64,
    content: Vec<u8>,
}

fn main() {}
