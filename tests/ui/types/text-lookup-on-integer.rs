use cdms_runtime::Entity;

#[derive(Entity)]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    name: String,
    employees: Option<i32>,
}

fn main() {
    let _ = Organisation::fields().employees.icontains("x");
}
