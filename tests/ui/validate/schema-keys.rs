use cdms_runtime::Entity;

#[derive(Entity)]
struct Note {
    #[entity(primary_key)]
    id: i64,
    #[entity(unique, index)]
    code: String,
    #[entity(renamed_from = "title")]
    title: String,
    #[entity(renamed_from = "code")]
    body: String,
    #[entity(renamed_from = "old name")]
    other: String,
    #[entity(renamed_from = "subject")]
    heading: String,
    #[entity(renamed_from = "subject")]
    caption: String,
}

fn main() {}
