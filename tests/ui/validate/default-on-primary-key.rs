use cdms_runtime::Entity;

#[derive(Entity)]
struct Counter {
    #[entity(primary_key, default = 1)]
    id: i64,
    #[entity(default = "draft")]
    state: String,
}

fn main() {}
