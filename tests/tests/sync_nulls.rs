//! CRM's nulls by design: CRM stores `""` as null, so a blanked name arrives as null.
//! `#[cdms(null = default)]` reads it as the type's default; without it a null for a
//! non-optional field is a decode error, and writing `""` there is refused before any request.

use cdms_entities::{Contact, Country, Organisation};
use cdms_runtime::cdms::{codec, CdmsError, Synced};
use cdms_runtime::query::EntityExt;
use cdms_runtime::{Entity, Error, Value};
use cdms_tests::sync_support::{envs, new_node, new_org, Node};
use serde_json::json;
use uuid::Uuid;

fn cdms_error(e: &Error) -> Option<&CdmsError> {
    match e {
        Error::Cdms(c) => Some(c),
        _ => None,
    }
}

#[test]
fn a_null_decodes_to_the_default_under_null_default() {
    let id = Uuid::new_v4();
    let record = json!({
        "AccountId": id.to_string(),
        "ModifiedOn": "/Date(1583143200000)/",
        "Name": null,
        "DoNotEMail": false,
    });
    let name = Organisation::fields().name.index();
    let decoded =
        codec::decode_selected(Organisation::CDMS, &record, Some(&[name])).expect("decodes");
    assert_eq!(decoded.value(name), Some(&Value::Text(String::new())));
    let org = Organisation::from_row({
        let mut row = new_org("x").to_row();
        row[name] = decoded.value(name).cloned().unwrap_or(Value::Null);
        row
    })
    .expect("the row is valid");
    assert_eq!(org.name, "");

    // The same null without `null = default` names the entity, property and value.
    let record = json!({
        "new_nodeId": id.to_string(),
        "ModifiedOn": "/Date(1583143200000)/",
        "new_name": null,
    });
    let node_name = Node::fields().name.index();
    match codec::decode_selected(Node::CDMS, &record, Some(&[node_name])) {
        Err(CdmsError::Decode {
            entity,
            property,
            value,
            reason,
            ..
        }) => {
            assert_eq!(
                (entity, property.as_str(), value.as_str()),
                ("new_node", "new_name", "null")
            );
            assert!(reason.contains("null = default"), "{reason}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_blank_required_text_is_refused_before_any_request() {
    for env in envs().await {
        env.reset_log();
        let err = Node::objects(&env.db)
            .create(new_node("", None))
            .await
            .expect_err("refused");
        match cdms_error(&err) {
            Some(CdmsError::Encode {
                entity,
                property,
                value,
                reason,
            }) => {
                assert_eq!(
                    (*entity, property.as_str(), value.as_str()),
                    ("new_node", "new_name", "\"\"")
                );
                assert!(reason.contains("as null"), "{reason}");
            }
            _ => panic!("[{}] expected an encode error, got {err:?}", env.label()),
        }
        assert_eq!(env.total(), 0, "[{}] no request at all", env.label());
        assert_eq!(env.emulator().count("new_nodeSet"), 0);
        assert_eq!(
            Node::objects(&env.db).skip_cdms().count().await.unwrap(),
            0,
            "nothing local either"
        );

        // A save that blanks the name of an existing record is refused the same way.
        let mut node = Node::objects(&env.db)
            .create(new_node("named", None))
            .await
            .unwrap();
        node.name.clear();
        env.reset_log();
        let err = node.save(&env.db).await.expect_err("refused");
        assert!(
            matches!(cdms_error(&err), Some(CdmsError::Encode { .. })),
            "{err:?}"
        );
        assert_eq!(
            env.total(),
            0,
            "[{}] not even the conflict check",
            env.label()
        );
        let id = node.cdms_id.expect("in CDMS");
        assert_eq!(
            env.record("new_nodeSet", id).get("new_name"),
            Some(&json!("named"))
        );

        // Under `null = default` a blank goes through: CDMS keeps null, the row reads "".
        let org = Organisation::objects(&env.db)
            .create(new_org(""))
            .await
            .unwrap();
        let id = org.cdms_id.expect("in CDMS");
        assert_eq!(env.record("AccountSet", id).get("Name"), Some(&json!(null)));
        assert_eq!(org.name, "");
    }
}

#[tokio::test]
async fn a_list_over_records_with_null_names_succeeds() {
    for env in envs().await {
        let blank = env.seed("AccountSet", json!({ "Name": null, "DoNotEMail": false }));
        env.seed_account("Named Ltd", json!({}));
        let country = env.seed("optevia_countrySet", json!({ "optevia_Country": null }));
        let orgs = Organisation::objects(&env.db)
            .order_by([Organisation::fields().name.asc()])
            .all()
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", env.label()));
        let names: Vec<(&str, Option<Uuid>)> =
            orgs.iter().map(|o| (o.name.as_str(), o.cdms_id)).collect();
        assert_eq!(names[0], ("", Some(blank)), "[{}]", env.label());
        assert_eq!(names.len(), 2);
        let countries = Country::objects(&env.db).all().await.unwrap();
        assert_eq!(countries.len(), 1);
        assert_eq!(
            (countries[0].name.as_str(), countries[0].cdms_id),
            ("", Some(country))
        );

        // A contact whose last name was blanked in CDMS refreshes too.
        let contact = env.seed_contact("Blanked", None);
        env.tick();
        env.edit("ContactSet", contact, json!({ "LastName": "" }));
        let got = Contact::objects(&env.db)
            .filter(Contact::fields().cdms_id.eq(contact))
            .get()
            .await
            .unwrap();
        assert_eq!(got.last_name, "");

        // Without `null = default` the record is refused (quarantined, naming the property);
        // the list still answers.
        let node = env.seed("new_nodeSet", json!({ "new_name": null }));
        let nodes = Node::objects(&env.db).all().await.unwrap();
        assert!(nodes.is_empty(), "[{}]", env.label());
        let q = env.remote.quarantine(&env.db).await.unwrap();
        assert_eq!(q.len(), 1, "[{}] {q:?}", env.label());
        assert_eq!(q[0].cdms_id, Some(node));
        assert_eq!(q[0].property.as_deref(), Some("new_name"));
    }
}
