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
    // The condition after the hop is on the organisation, not on the contact.
    let c = Contact::fields();
    let _ = c.organisation.matching(|_| c.name.eq("x"));
}
