use cdms_runtime::Entity;

#[derive(Entity)]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    name: String,
}

fn main() {
    let _ = Organisation::fields().nmae.eq("Acme");
}
