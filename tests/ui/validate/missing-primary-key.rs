use cdms_runtime::Entity;

#[derive(Entity)]
struct Note {
    id: i64,
    text: String,
}

#[derive(Entity)]
struct Empty {}

fn main() {}
