use cdms_runtime::{Entity, Ref};

#[derive(Entity)]
struct Organisation {
    #[entity(primary_key)]
    id: i64,
    name: String,
}

#[derive(Entity)]
struct Contact {
    #[entity(primary_key)]
    id: i64,
    name: String,
    organisation: Option<Ref<Organisation>>,
}

fn main() {
    let c = Contact::fields();
    // After the hop the key must be a field of the organisation, not of the contact.
    let _ = c.organisation.then(c.name).asc();
    // A text field is not a reference: there is nothing to follow.
    let o = Organisation::fields();
    let _ = c.name.then(o.name).asc();
}
