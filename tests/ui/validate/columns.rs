use cdms_runtime::Entity;

#[derive(Entity)]
#[entity(table = "my notes")]
struct Note {
    #[entity(primary_key)]
    id: i64,
    #[entity(column = "TEXT")]
    title: String,
    text: String,
    #[entity(column = "2nd-text")]
    other: String,
}

fn main() {}
