use cdms_runtime::Entity;

#[derive(Entity)]
struct Note {
    #[entity(primary_key = true)]
    id: i64,
    #[entity(unique(text))]
    text: String,
}

fn main() {}
