use cdms_runtime::Entity;

#[derive(Entity)]
#[entity(table = "note", schema = "public")]
struct Note {
    #[entity(primary)]
    id: i64,
    text: String,
}

fn main() {}
