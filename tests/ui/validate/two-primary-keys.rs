use cdms_runtime::Entity;

#[derive(Entity)]
struct Note {
    #[entity(primary_key)]
    id: i64,
    #[entity(primary_key)]
    other_id: i64,
    text: String,
}

fn main() {}
