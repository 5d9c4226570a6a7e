//! Checks the example entities against the real CDMS schema: every mapped property exists in
//! its entity set, with the CRM type the derive infers for it.
//!
//! The property lists come from the project's shared reference data (`cdms-schema/*.tsv`,
//! derived from the `$metadata` of the live CDMS; header `cdms_property<TAB>edm_kind`), found in
//! `$CDMS_SCHEMA_DIR` or in `../shared/cdms-schema` beside the repository. They are not part of
//! the repository: where they are absent the schema check says so and passes without checking.

use std::collections::HashMap;
use std::path::PathBuf;

use cdms_runtime::cdms::CdmsMeta;
use cdms_runtime::{Entity, EntityMeta, Role};

use crate::{all_entities, Organisation};

/// The folder holding the shared schema TSVs, if it is there.
fn schema_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("CDMS_SCHEMA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cdms-schema")
        });
    dir.is_dir().then_some(dir)
}

/// The property list of `set`, as `property → edm_kind`.
fn schema(dir: &std::path::Path, set: &str) -> HashMap<String, String> {
    let path = dir.join(format!("{set}.tsv"));
    let tsv = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tsv.lines()
        .skip(1)
        .filter_map(|line| line.split_once('\t'))
        .map(|(p, k)| (p.to_owned(), k.to_owned()))
        .collect()
}

fn cdms(meta: &EntityMeta) -> &'static CdmsMeta {
    CdmsMeta::of(meta).unwrap_or_else(|| panic!("{} is not synced", meta.name))
}

#[test]
fn every_property_exists_with_the_inferred_kind() {
    let Some(dir) = schema_dir() else {
        eprintln!("cdms-schema reference data not found: schema check skipped");
        return;
    };
    for meta in all_entities() {
        let cdms = cdms(meta);
        let schema = schema(&dir, cdms.set);
        assert_eq!(
            schema.get(cdms.id_property).map(String::as_str),
            Some("Guid"),
            "{}",
            cdms.id_property
        );
        for field in cdms.fields {
            let local = &meta.fields[field.field];
            let edm = schema
                .get(field.property)
                .map(String::as_str)
                .unwrap_or_else(|| {
                    panic!(
                        "{}.{}: {} is not a property of {}",
                        meta.name, local.name, field.property, cdms.set
                    )
                });
            assert_eq!(
                format!("{:?}", field.kind),
                edm,
                "{}.{} ↔ {}.{}",
                meta.name,
                local.name,
                cdms.set,
                field.property
            );
        }
    }
}

#[test]
fn every_field_but_the_key_and_local_notes_is_synced() {
    for meta in all_entities() {
        let cdms = cdms(meta);
        for (index, field) in meta.fields.iter().enumerate() {
            let mapped = cdms.by_field(index).is_some();
            let expected = !(field.role == Role::PrimaryKey
                || (meta.name, field.name) == ("Organisation", "notes"));
            assert_eq!(mapped, expected, "{}.{}", meta.name, field.name);
        }
        let modified = cdms.modified().map(|f| f.property);
        assert_eq!(modified, Some("ModifiedOn"), "{}", meta.name);
    }
}

#[test]
fn entities_come_after_the_entities_they_reference() {
    let order: Vec<&str> = all_entities().iter().map(|m| m.name).collect();
    for (position, meta) in all_entities().iter().enumerate() {
        for field in meta.fields {
            if let Some(target) = field.references {
                let target = target().name;
                let at = order.iter().position(|n| *n == target);
                assert!(
                    at.is_some_and(|at| at <= position),
                    "{} references {target}",
                    meta.name
                );
            }
        }
    }
}

#[test]
fn logical_names_are_the_lower_case_entity_names() {
    let names: Vec<(&str, &str)> = all_entities()
        .iter()
        .map(|m| (cdms(m).set, cdms(m).logical_name))
        .collect();
    assert_eq!(
        names,
        [
            ("optevia_countrySet", "optevia_country"),
            ("optevia_sectorSet", "optevia_sector"),
            ("optevia_ukregionSet", "optevia_ukregion"),
            ("optevia_businesstypeSet", "optevia_businesstype"),
            ("AccountSet", "account"),
            ("ContactSet", "contact"),
        ]
    );
}

#[test]
fn the_postcode_goes_through_its_converter() {
    let cdms = cdms(Organisation::META);
    let postcode = cdms
        .by_property("Address1_PostalCode")
        .expect("postcode mapped");
    let codec = postcode.codec.expect("converter");
    let decoded = (codec.decode)(&serde_json::json!(" sw1a   1aa"));
    assert_eq!(
        decoded,
        Ok(cdms_runtime::Value::Text("SW1A 1AA".to_owned()))
    );
    let encoded = (codec.encode)(cdms_runtime::Value::Null);
    assert_eq!(encoded, Ok(serde_json::Value::Null));
    let rejected = (codec.decode)(&serde_json::json!({"Value": 1}));
    assert_eq!(
        rejected,
        Err("expected a postcode string or null, got {\"Value\":1}".to_owned())
    );
}
