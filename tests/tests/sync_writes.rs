//! Synced writes: create, save, delete, bulk_create, queryset update and delete, get_or_create,
//! update_or_create — one CDMS write per record, `modified` = CDMS `ModifiedOn` afterwards.

use cdms_entities::{Contact, Organisation};
use cdms_runtime::cdms::SyncError;
use cdms_runtime::query::EntityExt;
use cdms_runtime::store::VersionKind;
use cdms_runtime::Entity;
use cdms_tests::sync_support::{envs, modified_on, new_contact, new_org, sync_error, text};
use serde_json::json;

#[tokio::test]
async fn create_posts_once_with_a_client_generated_id() {
    for env in envs().await {
        env.reset_log();
        let mut draft = new_org("Acme Ltd");
        draft.number_of_employees = Some(42);
        draft.address_postcode = Some(" sw1a  1aa ".to_owned());
        draft.notes = Some("local only".to_owned());
        let org = Organisation::objects(&env.db).create(draft).await.unwrap();
        assert_eq!(env.total(), 1, "[{}] create = one request", env.label());
        assert_eq!(env.count("POST", "AccountSet"), 1);
        let id = org.cdms_id.expect("CDMS id");
        let record = env.record("AccountSet", id);
        assert_eq!(text(&record, "Name"), Some("Acme Ltd"));
        assert_eq!(record.get("NumberOfEmployees"), Some(&json!(42)));
        assert_eq!(
            text(&record, "Address1_PostalCode"),
            Some("SW1A 1AA"),
            "the converter's form"
        );
        assert_eq!(
            org.address_postcode.as_deref(),
            Some("SW1A 1AA"),
            "the row takes what CDMS stored"
        );
        assert_eq!(
            org.modified_on,
            modified_on(&record),
            "modified = ModifiedOn"
        );
        let created = record
            .get("CreatedOn")
            .and_then(|v| v.as_str())
            .and_then(cdms_runtime::cdms::wire::parse_date);
        assert_eq!(org.created_on, created, "created = CreatedOn");
        assert_eq!(org.notes.as_deref(), Some("local only"));
        assert!(!record.contains_key("notes"));
        let versions = org.versions(&env.db).await.unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(
            (versions[0].kind, versions[0].actor.as_deref()),
            (VersionKind::LocalChange, Some("tester"))
        );
        // A synced read right after: in sync, nothing to refresh.
        let f = Organisation::fields();
        let again = Organisation::objects(&env.db)
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(again, org);
        assert_eq!(org.versions(&env.db).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn save_merges_changed_fields_in_three_requests() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Before"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        env.tick();
        env.reset_log();
        org.name = "After".to_owned();
        org.telephone = Some("0207 946 0000".to_owned());
        org.save(&env.db).await.unwrap();
        assert_eq!(env.total(), 3, "[{}] GET, MERGE, GET", env.label());
        assert_eq!(env.count("MERGE", "AccountSet"), 1);
        assert_eq!(env.gets("AccountSet"), (2, 0));
        let record = env.record("AccountSet", id);
        assert_eq!(text(&record, "Name"), Some("After"));
        assert_eq!(text(&record, "Telephone1"), Some("0207 946 0000"));
        assert_eq!(
            org.modified_on,
            modified_on(&record),
            "modified = the new ModifiedOn"
        );
        let f = Organisation::fields();
        let stored = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.id.eq(org.id))
            .get()
            .await
            .unwrap();
        assert_eq!(stored, org);

        // Nothing changed: no request at all.
        env.reset_log();
        org.save(&env.db).await.unwrap();
        assert_eq!(env.total(), 0, "an unchanged save does not write to CDMS");
        // Only a local-only field changed: no request either.
        org.notes = Some("private".to_owned());
        org.save(&env.db).await.unwrap();
        assert_eq!(env.total(), 0);
        assert_eq!(
            org.modified_on,
            modified_on(&env.record("AccountSet", id)),
            "still in sync"
        );
        // A caller cannot move modified: it stays CDMS's.
        org.modified_on = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        org.save(&env.db).await.unwrap();
        assert_eq!(org.modified_on, modified_on(&env.record("AccountSet", id)));
    }
}

#[tokio::test]
async fn delete_is_one_request_and_tolerates_a_record_already_gone() {
    for env in envs().await {
        let mut org = Organisation::objects(&env.db)
            .create(new_org("Short lived"))
            .await
            .unwrap();
        let id = org.cdms_id.unwrap();
        let pk = org.id;
        env.reset_log();
        org.delete(&env.db).await.unwrap();
        assert_eq!(env.total(), 1, "[{}] delete = one request", env.label());
        assert_eq!(env.count("DELETE", "AccountSet"), 1);
        assert!(env.emulator().get("AccountSet", id).is_none());
        assert_eq!(
            Organisation::objects(&env.db)
                .skip_cdms()
                .count()
                .await
                .unwrap(),
            0
        );
        let versions =
            cdms_runtime::store::history::versions(&env.local.db, Organisation::META, pk)
                .await
                .unwrap();
        assert_eq!(versions.last().unwrap().kind, VersionKind::Delete);

        // Deleted in CDMS meanwhile: the local delete still happens.
        let mut other = Organisation::objects(&env.db)
            .create(new_org("Gone already"))
            .await
            .unwrap();
        env.emulator()
            .delete("AccountSet", other.cdms_id.unwrap())
            .unwrap();
        other.delete(&env.db).await.unwrap();
        assert_eq!(
            Organisation::objects(&env.db)
                .skip_cdms()
                .count()
                .await
                .unwrap(),
            0
        );
    }
}

#[tokio::test]
async fn bulk_create_and_queryset_update_and_delete_write_record_by_record() {
    for env in envs().await {
        env.reset_log();
        let created = Organisation::objects(&env.db)
            .bulk_create(vec![new_org("One"), new_org("Two"), new_org("Three")])
            .await
            .unwrap();
        assert_eq!(env.count("POST", "AccountSet"), 3, "[{}]", env.label());
        assert_eq!(env.emulator().count("AccountSet"), 3);
        for o in &created {
            assert_eq!(
                o.modified_on,
                modified_on(&env.record("AccountSet", o.cdms_id.unwrap()))
            );
            assert_eq!(o.versions(&env.db).await.unwrap().len(), 1);
        }

        let f = Organisation::fields();
        env.tick();
        env.reset_log();
        let n = Organisation::objects(&env.db)
            .filter(f.name.startswith("T"))
            .update([f.website.set(Some("https://t.example".to_owned()))])
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(env.count("MERGE", "AccountSet"), 2);
        for o in Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.name.startswith("T"))
            .all()
            .await
            .unwrap()
        {
            let record = env.record("AccountSet", o.cdms_id.unwrap());
            assert_eq!(text(&record, "WebSiteURL"), Some("https://t.example"));
            assert_eq!(o.modified_on, modified_on(&record));
        }

        env.reset_log();
        let n = Organisation::objects(&env.db)
            .filter(f.name.eq("One"))
            .delete()
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(env.count("DELETE", "AccountSet"), 1);
        assert_eq!(env.emulator().count("AccountSet"), 2);
    }
}

#[tokio::test]
async fn get_or_create_and_update_or_create() {
    for env in envs().await {
        let f = Organisation::fields();
        // Only CDMS has it: found through the read, no create.
        let id = env.seed_account("Existing", json!({}));
        env.reset_log();
        let (found, created) = Organisation::objects(&env.db)
            .get_or_create(f.name.eq("Existing"), new_org("Existing"))
            .await
            .unwrap();
        assert!(!created, "[{}]", env.label());
        assert_eq!(found.cdms_id, Some(id));
        assert_eq!(env.count("POST", "AccountSet"), 0);
        // Nobody has it: created in CDMS.
        let (made, created) = Organisation::objects(&env.db)
            .get_or_create(f.name.eq("Brand new"), new_org("Brand new"))
            .await
            .unwrap();
        assert!(created);
        assert!(env
            .emulator()
            .get("AccountSet", made.cdms_id.unwrap())
            .is_some());
        // update_or_create: updates through CDMS, or creates.
        env.tick();
        let (updated, created) = Organisation::objects(&env.db)
            .update_or_create(
                f.name.eq("Existing"),
                new_org("Existing"),
                [f.telephone.set(Some("01".to_owned()))],
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(
            text(&env.record("AccountSet", id), "Telephone1"),
            Some("01")
        );
        assert_eq!(
            updated.modified_on,
            modified_on(&env.record("AccountSet", id))
        );
        let (fresh, created) = Organisation::objects(&env.db)
            .update_or_create(
                f.name.eq("Another"),
                new_org("Another"),
                [f.telephone.set(Some("02".to_owned()))],
            )
            .await
            .unwrap();
        assert!(created);
        assert_eq!(
            text(
                &env.record("AccountSet", fresh.cdms_id.unwrap()),
                "Telephone1"
            ),
            Some("02")
        );
    }
}

#[tokio::test]
async fn references_are_written_as_lookups() {
    for env in envs().await {
        let org = Organisation::objects(&env.db)
            .create(new_org("Employer"))
            .await
            .unwrap();
        let contact = Contact::objects(&env.db)
            .create(new_contact("Smith", Some(&org)))
            .await
            .unwrap();
        let record = env.record("ContactSet", contact.cdms_id.unwrap());
        let parent = record.get("ParentCustomerId").expect("lookup");
        assert_eq!(
            parent.get("Id").and_then(|v| v.as_str()),
            Some(org.cdms_id.unwrap().to_string().as_str()),
            "[{}]",
            env.label()
        );
        assert_eq!(contact.organisation.map(|r| r.pk()), Some(org.id));

        // A reference to a row CDMS does not have yet is refused, and nothing changes.
        let draft = Organisation::objects(&env.db)
            .skip_cdms()
            .create(new_org("Draft"))
            .await
            .unwrap();
        let before = env.snapshot().await;
        env.reset_log();
        let err = Contact::objects(&env.db)
            .create(new_contact("Jones", Some(&draft)))
            .await
            .unwrap_err();
        match sync_error(&err) {
            Some(SyncError::Unpublished {
                entity,
                pk,
                message,
            }) => {
                assert_eq!((*entity, *pk), ("Organisation", draft.id));
                assert!(message.contains("publish"), "{message}");
            }
            other => panic!("expected Unpublished, got {other:?}: {err}"),
        }
        assert_eq!(env.total(), 0);
        assert_eq!(env.snapshot().await, before);
    }
}
