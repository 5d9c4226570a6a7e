use cdms_runtime::Entity;

#[derive(Entity)]
struct Note {
    #[entity(primary_key, unique)]
    id: Option<i64>,
    text: String,
}

fn main() {}
