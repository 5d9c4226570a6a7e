use cdms_runtime::Entity;

const ZERO: i64 = 0;

#[derive(Entity)]
struct Counter {
    #[entity(primary_key)]
    id: i64,
    #[entity(default = ZERO)]
    count: i64,
    #[entity(default = 1 + 1)]
    step: i64,
    #[entity(default = b'x')]
    mark: i32,
    #[entity(default = 99999999999999999999)]
    huge: i64,
    #[entity(default)]
    none: i64,
}

fn main() {}
