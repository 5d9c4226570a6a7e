//! Tests of the demo data generator.

use super::*;

#[test]
fn records_are_deterministic_and_varied() {
    assert_eq!(organisation(17), organisation(17));
    assert_eq!(contact(5, 100), contact(5, 100));
    assert_ne!(organisation_id(1), organisation_id(2));
    let names: std::collections::HashSet<String> = (0..200)
        .filter_map(|i| organisation(i).0["Name"].as_str().map(str::to_owned))
        .collect();
    assert!(names.len() > 190, "{} distinct names", names.len());
    let no_email = (0..1000)
        .filter(|&i| contact(i, 400).0.get("EMailAddress1").is_none())
        .count();
    assert!(
        (40..=130).contains(&no_email),
        "{no_email} contacts without e-mail"
    );
}

#[test]
fn contacts_are_created_after_their_organisation() {
    for i in 0..300 {
        let (c, modified) = contact(i, 50);
        let created =
            wire::parse_date(c[OVERRIDDEN_CREATED_ON].as_str().unwrap_or_default()).unwrap();
        assert!(modified >= created.timestamp());
        if let Some(org) = c.get("ParentCustomerId") {
            let index = (0..50)
                .find(|&o| org["Id"] == json!(organisation_id(o).to_string()))
                .unwrap();
            let org_created = wire::parse_date(
                organisation(index).0[OVERRIDDEN_CREATED_ON]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
            assert!(created >= org_created);
        }
    }
}

#[test]
fn seeds_an_emulator() {
    let emu = emulator_builder().build().unwrap();
    let seeded = seed(&emu, DemoScale::organisations(120)).unwrap();
    assert_eq!(seeded.organisations, 120);
    assert_eq!(seeded.contacts, 300);
    for (set, n) in seeded.per_set() {
        assert_eq!(emu.count(set), n, "{set}");
    }
    let org = emu.get(Organisation::CDMS.set, organisation_id(3)).unwrap();
    let (json, modified) = organisation(3);
    let read = |v: &J| v.as_str().and_then(wire::parse_date);
    assert_eq!(read(&org["ModifiedOn"]), Some(instant(modified)));
    assert_eq!(read(&org["CreatedOn"]), read(&json[OVERRIDDEN_CREATED_ON]));
}
