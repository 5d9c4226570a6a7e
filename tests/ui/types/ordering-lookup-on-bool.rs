use cdms_runtime::Entity;

#[derive(Entity)]
struct Contact {
    #[entity(primary_key)]
    id: i64,
    do_not_phone: bool,
}

fn main() {
    let _ = Contact::fields().do_not_phone.gt(false);
}
