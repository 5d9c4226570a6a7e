//! Synced list reads: every lookup and combination of the seed's ORM tables against an empty
//! local store (CDMS's superset, then the exact local filter), ordering, slices, the page cap,
//! the read terminals (count, exists, first, last, earliest, latest, values, aggregate,
//! in_bulk), and local rows that CDMS no longer returns.

use cdms_entities::Organisation;
use cdms_runtime::cdms::{SyncConfig, SyncError};
use cdms_runtime::query::TimeTrunc;
use cdms_runtime::{Value, Q};
use cdms_tests::sync_support::{envs, envs_with, modified_on, new_org, sync_error, SyncEnv};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

/// Four accounts created at known instants:
/// - A "Acme Ltd", 10 employees, 2015-06-01T08:30:15Z (a Monday), UK, no e-mail
/// - B "ACME Holdings", 250, 2016-03-14T17:45:59Z (Monday), e-mail
/// - C "Zeta O'Hara", no count, 2016-12-31T23:59:59Z (Saturday), not UK, no e-mail
/// - D "beta plc", 5000, 2017-02-28T00:00:00Z (Tuesday), no e-mail
fn seed_four(env: &SyncEnv) -> [Uuid; 4] {
    let mut ids = [Uuid::nil(); 4];
    let rows = [
        (
            "2015-06-01T08:30:15Z",
            json!({"Name": "Acme Ltd", "NumberOfEmployees": 10, "optevia_ukorganisation": true, "DoNotEMail": false}),
        ),
        (
            "2016-03-14T17:45:59Z",
            json!({"Name": "ACME Holdings", "NumberOfEmployees": 250, "EMailAddress1": "info@acme.example", "DoNotEMail": false}),
        ),
        (
            "2016-12-31T23:59:59Z",
            json!({"Name": "Zeta O'Hara", "optevia_ukorganisation": false, "DoNotEMail": true}),
        ),
        (
            "2017-02-28T00:00:00Z",
            json!({"Name": "beta plc", "NumberOfEmployees": 5000, "DoNotEMail": false}),
        ),
    ];
    for (i, (when, props)) in rows.into_iter().enumerate() {
        env.clock.set(at(when));
        ids[i] = env.emulator().insert("AccountSet", props).expect("seed");
    }
    env.clock.set(at("2018-01-01T00:00:00Z"));
    ids
}

async fn names(env: &SyncEnv, q: Q<Organisation>) -> Vec<String> {
    // Start from an empty local store: the read must bring in every matching record.
    Organisation::objects(&env.db)
        .skip_cdms()
        .delete()
        .await
        .expect("clear");
    let mut names: Vec<String> = Organisation::objects(&env.db)
        .filter(q)
        .all()
        .await
        .expect("filter")
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn every_lookup_of_the_seed_table() {
    for env in envs().await {
        seed_four(&env);
        let f = Organisation::fields();
        let cases: Vec<(&str, Q<Organisation>, &[&str])> = vec![
            ("exact", f.name.eq("Acme Ltd"), &["Acme Ltd"]),
            ("exact is case-sensitive", f.name.eq("acme ltd"), &[]),
            ("iexact", f.name.iexact("acme LTD"), &["Acme Ltd"]),
            ("contains", f.name.contains("cme"), &["Acme Ltd"]),
            (
                "icontains",
                f.name.icontains("acme"),
                &["ACME Holdings", "Acme Ltd"],
            ),
            (
                "in",
                f.name.is_in(["beta plc", "Zeta O'Hara"]),
                &["Zeta O'Hara", "beta plc"],
            ),
            (
                "gt",
                f.number_of_employees.gt(10),
                &["ACME Holdings", "beta plc"],
            ),
            (
                "gte",
                f.number_of_employees.gte(10),
                &["ACME Holdings", "Acme Ltd", "beta plc"],
            ),
            ("lt", f.number_of_employees.lt(250), &["Acme Ltd"]),
            (
                "lte",
                f.number_of_employees.lte(250),
                &["ACME Holdings", "Acme Ltd"],
            ),
            ("startswith", f.name.startswith("Acme"), &["Acme Ltd"]),
            (
                "istartswith",
                f.name.istartswith("acme"),
                &["ACME Holdings", "Acme Ltd"],
            ),
            ("endswith", f.name.endswith("plc"), &["beta plc"]),
            ("iendswith", f.name.iendswith("LTD"), &["Acme Ltd"]),
            (
                "range",
                f.number_of_employees.range(10, 250),
                &["ACME Holdings", "Acme Ltd"],
            ),
            (
                "year",
                f.created_on.year().eq(2016),
                &["ACME Holdings", "Zeta O'Hara"],
            ),
            ("day", f.created_on.day().eq(31), &["Zeta O'Hara"]),
            (
                "week_day",
                f.created_on.week_day().eq(2),
                &["ACME Holdings", "Acme Ltd"],
            ),
            ("hour", f.created_on.hour().eq(17), &["ACME Holdings"]),
            ("minute", f.created_on.minute().eq(45), &["ACME Holdings"]),
            (
                "second",
                f.created_on.second().eq(59),
                &["ACME Holdings", "Zeta O'Hara"],
            ),
            (
                "isnull true",
                f.email.isnull(true),
                &["Acme Ltd", "Zeta O'Hara", "beta plc"],
            ),
            ("isnull false", f.email.isnull(false), &["ACME Holdings"]),
            ("regex", f.name.regex("^[A-Z]+ "), &["ACME Holdings"]),
            (
                "iregex",
                f.name.iregex("^acme"),
                &["ACME Holdings", "Acme Ltd"],
            ),
        ];
        for (what, q, expected) in cases {
            assert_eq!(
                names(&env, q).await,
                expected.to_vec(),
                "[{}] {what}",
                env.label()
            );
        }
    }
}

#[tokio::test]
async fn every_combination_of_the_seed_table() {
    for env in envs().await {
        seed_four(&env);
        let f = Organisation::fields();
        let acme = || f.name.icontains("acme");
        let big = || f.number_of_employees.gte(250);
        type Case<'a> = (
            &'a str,
            Box<dyn Fn() -> Q<Organisation> + 'a>,
            &'a [&'a str],
        );
        let cases: Vec<Case> = vec![
            ("and", Box::new(move || acme() & big()), &["ACME Holdings"]),
            (
                "or",
                Box::new(move || acme() | big()),
                &["ACME Holdings", "Acme Ltd", "beta plc"],
            ),
            (
                "nested",
                Box::new(move || (acme() & big()) & f.do_not_email.eq(false)),
                &["ACME Holdings"],
            ),
            (
                "not",
                Box::new(move || !acme()),
                &["Zeta O'Hara", "beta plc"],
            ),
            (
                "not over null",
                Box::new(move || !f.uk_organisation.eq(true)),
                &["ACME Holdings", "Zeta O'Hara", "beta plc"],
            ),
            (
                "or with not",
                Box::new(move || big() | !f.do_not_email.eq(false)),
                &["ACME Holdings", "Zeta O'Hara", "beta plc"],
            ),
        ];
        for (what, q, expected) in &cases {
            assert_eq!(
                names(&env, q()).await,
                expected.to_vec(),
                "[{}] {what}",
                env.label()
            );
        }
        // Chained filters and excludes.
        let chained = |qs: cdms_runtime::QuerySet<Organisation>| async move {
            let mut n: Vec<String> = qs
                .all()
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.name)
                .collect();
            n.sort();
            n
        };
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        let qs = Organisation::objects(&env.db).filter(acme()).filter(big());
        assert_eq!(chained(qs).await, ["ACME Holdings"]);
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        let qs = Organisation::objects(&env.db).exclude(acme());
        assert_eq!(chained(qs).await, ["Zeta O'Hara", "beta plc"]);
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        let qs = Organisation::objects(&env.db).exclude(acme() & big());
        assert_eq!(chained(qs).await, ["Acme Ltd", "Zeta O'Hara", "beta plc"]);
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        let qs = Organisation::objects(&env.db).exclude(acme() | big());
        assert_eq!(chained(qs).await, ["Zeta O'Hara"]);
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        let qs = Organisation::objects(&env.db)
            .exclude(acme())
            .exclude(big());
        assert_eq!(chained(qs).await, ["Zeta O'Hara"]);
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        let qs = Organisation::objects(&env.db)
            .filter(acme() | big())
            .exclude(f.number_of_employees.eq(10) & f.uk_organisation.eq(true));
        assert_eq!(chained(qs).await, ["ACME Holdings", "beta plc"]);
        // none(): no request at all.
        env.reset_log();
        assert!(Organisation::objects(&env.db)
            .none()
            .all()
            .await
            .unwrap()
            .is_empty());
        assert_eq!(env.total(), 0);
    }
}

#[tokio::test]
async fn ordering_and_slices() {
    for env in envs().await {
        seed_four(&env);
        let f = Organisation::fields();
        let list = |qs: cdms_runtime::QuerySet<Organisation>| async move {
            qs.all()
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.name)
                .collect::<Vec<_>>()
        };
        let by_size = Organisation::objects(&env.db)
            .filter(f.number_of_employees.isnull(false))
            .order_by([f.number_of_employees.asc()]);
        assert_eq!(
            list(by_size.clone()).await,
            ["Acme Ltd", "ACME Holdings", "beta plc"],
            "[{}]",
            env.label()
        );
        let desc = Organisation::objects(&env.db).order_by([f.number_of_employees.desc()]);
        assert_eq!(
            list(desc).await,
            ["beta plc", "ACME Holdings", "Acme Ltd", "Zeta O'Hara"],
            "nulls last descending"
        );
        let two_keys =
            Organisation::objects(&env.db).order_by([f.do_not_email.asc(), f.created_on.desc()]);
        assert_eq!(
            list(two_keys).await,
            ["beta plc", "ACME Holdings", "Acme Ltd", "Zeta O'Hara"]
        );

        // An exact filter and order with a slice fetches just the window.
        Organisation::objects(&env.db)
            .skip_cdms()
            .delete()
            .await
            .unwrap();
        env.reset_log();
        let window = list(by_size.clone().slice(1..2)).await;
        assert_eq!(window, ["ACME Holdings"]);
        let listed = env.requests();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].query.contains("$top=2"), "{}", listed[0].query);
        assert!(
            listed[0].query.contains("$orderby=NumberOfEmployees%20asc"),
            "{}",
            listed[0].query
        );
        // Reversal and first/last.
        let last = by_size.clone().last().await.unwrap().unwrap();
        assert_eq!(last.name, "beta plc");
        let first = by_size.clone().reverse().first().await.unwrap().unwrap();
        assert_eq!(first.name, "beta plc");
    }
}

#[tokio::test]
async fn read_terminals_refresh_before_answering() {
    for env in envs().await {
        let [a, b, _, d] = seed_four(&env);
        let f = Organisation::fields();
        let acme = Organisation::objects(&env.db).filter(f.name.icontains("acme"));
        assert_eq!(acme.count().await.unwrap(), 2, "[{}]", env.label());
        assert!(acme.exists().await.unwrap());
        assert!(!Organisation::objects(&env.db)
            .filter(f.name.eq("nobody"))
            .exists()
            .await
            .unwrap());
        assert_eq!(
            acme.clone().earliest(f.created_on).await.unwrap().cdms_id,
            Some(a)
        );
        assert_eq!(
            acme.clone().latest(f.created_on).await.unwrap().cdms_id,
            Some(b)
        );
        let sizes = Organisation::objects(&env.db)
            .aggregate(f.number_of_employees.sum())
            .await
            .unwrap();
        assert_eq!(sizes, Some(5260));
        let names = Organisation::objects(&env.db)
            .filter(f.number_of_employees.gte(250))
            .order_by([f.name.asc()])
            .values_list(f.name)
            .await
            .unwrap();
        assert_eq!(names, ["ACME Holdings", "beta plc"]);
        let values = acme
            .clone()
            .order_by([f.name.asc()])
            .values((f.name, f.number_of_employees))
            .await
            .unwrap();
        assert_eq!(values[1].get("number_of_employees"), Some(&Value::Int(10)));
        let years = Organisation::objects(&env.db)
            .datetimes(f.created_on, TimeTrunc::Year)
            .await
            .unwrap();
        assert_eq!(years.len(), 3);

        // Someone edits in CDMS: every terminal sees it.
        env.edit("AccountSet", d, json!({"Name": "Acme Beta"}));
        assert_eq!(acme.count().await.unwrap(), 3);
        env.edit("AccountSet", d, json!({"NumberOfEmployees": 1}));
        let sizes = Organisation::objects(&env.db)
            .aggregate(f.number_of_employees.sum())
            .await
            .unwrap();
        assert_eq!(sizes, Some(261));

        // in_bulk by local keys: one request for all of them.
        let all = Organisation::objects(&env.db)
            .skip_cdms()
            .all()
            .await
            .unwrap();
        env.reset_log();
        let pks: Vec<i64> = all.iter().map(|o| o.id).collect();
        let bulk = Organisation::objects(&env.db)
            .in_bulk(pks.clone())
            .await
            .unwrap();
        assert_eq!(bulk.len(), 4);
        assert_eq!(env.gets("AccountSet"), (0, 1));
        assert!(
            env.requests()[0].query.contains("AccountId%20eq%20guid"),
            "{}",
            env.requests()[0].query
        );
    }
}

#[tokio::test]
async fn lists_follow_pages_up_to_the_cap() {
    let config = SyncConfig::default().page_cap(120);
    for env in envs_with(config, |b| b).await {
        let mut ids = Vec::new();
        for i in 0..130 {
            ids.push(env.seed_account(&format!("Org {i:03}"), json!({"NumberOfEmployees": i})));
        }
        env.reset_log();
        let all = Organisation::objects(&env.db).all().await.unwrap();
        assert_eq!(all.len(), 120, "[{}] the cap", env.label());
        assert_eq!(
            env.gets("AccountSet"),
            (0, 3),
            "one request per page: 50 + 50 + 20"
        );
        // The default order favours fresh records: the 10 oldest were left out.
        let first = env.requests()[0].clone();
        assert!(first.query.contains("ModifiedOn%20desc"), "{}", first.query);
        assert!(all.iter().all(|o| o.number_of_employees >= Some(10)));

        // count cannot be answered faithfully from a capped list.
        let err = Organisation::objects(&env.db).count().await.unwrap_err();
        assert!(
            matches!(
                sync_error(&err),
                Some(SyncError::Incomplete {
                    op: "count",
                    cap: 120,
                    ..
                })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("skip_cdms"), "{err}");
        let err = Organisation::objects(&env.db)
            .aggregate(Organisation::fields().number_of_employees.max())
            .await
            .unwrap_err();
        assert!(
            matches!(
                sync_error(&err),
                Some(SyncError::Incomplete {
                    op: "aggregate",
                    ..
                })
            ),
            "{err}"
        );
        // exists is answered when a match is there.
        assert!(Organisation::objects(&env.db).exists().await.unwrap());
        // A narrower filter is complete.
        let f = Organisation::fields();
        assert_eq!(
            Organisation::objects(&env.db)
                .filter(f.number_of_employees.lt(30))
                .count()
                .await
                .unwrap(),
            30
        );
        // skip_cdms answers from the local store alone.
        assert_eq!(
            Organisation::objects(&env.db)
                .skip_cdms()
                .count()
                .await
                .unwrap(),
            130
        );
    }
}

#[tokio::test]
async fn local_rows_cdms_no_longer_returns_are_rechecked() {
    for env in envs().await {
        let [a, b, c, _] = seed_four(&env);
        let f = Organisation::fields();
        let acme = Organisation::objects(&env.db).filter(f.name.icontains("acme"));
        assert_eq!(acme.count().await.unwrap(), 2, "[{}]", env.label());
        // Renamed in CDMS (no longer matches) and deleted in CDMS.
        env.edit("AccountSet", a, json!({"Name": "Renamed"}));
        env.emulator().delete("AccountSet", b).unwrap();
        env.reset_log();
        assert_eq!(acme.all().await.unwrap(), vec![], "stale matches are gone");
        assert_eq!(
            env.gets("AccountSet"),
            (0, 2),
            "the list, then one by-id check"
        );
        let renamed = Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.cdms_id.eq(a))
            .get()
            .await
            .unwrap();
        assert_eq!(renamed.name, "Renamed");
        assert_eq!(
            renamed.modified_on,
            modified_on(&env.record("AccountSet", a))
        );
        assert!(!Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.cdms_id.eq(b))
            .exists()
            .await
            .unwrap());
        // Nothing stale: the list alone.
        env.reset_log();
        let zeta = Organisation::objects(&env.db)
            .filter(f.name.startswith("Zeta"))
            .all()
            .await
            .unwrap();
        assert_eq!(zeta.len(), 1);
        assert_eq!(zeta[0].cdms_id, Some(c));
        assert_eq!(env.total(), 1);
    }
}

#[tokio::test]
async fn local_only_fields_survive_refreshes() {
    for env in envs().await {
        let id = env.seed_account("Keep notes", json!({}));
        let f = Organisation::fields();
        let org = env.synced_account(id).await;
        Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.id.eq(org.id))
            .update([f.notes.set(Some("met at the fair".to_owned()))])
            .await
            .unwrap();
        env.edit("AccountSet", id, json!({"Name": "Kept notes"}));
        let all = Organisation::objects(&env.db).all().await.unwrap();
        assert_eq!(all.len(), 1, "[{}]", env.label());
        assert_eq!(all[0].name, "Kept notes");
        assert_eq!(all[0].notes.as_deref(), Some("met at the fair"));
        // And a row created from CDMS gets an empty local-only field.
        let other = env.seed_account("Fresh", json!({}));
        let fresh = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(other))
            .get()
            .await
            .unwrap();
        assert_eq!(fresh.notes, None);
        let _ = new_org("unused");
    }
}

/// After a page changed rows, the answer is the local answer read while CDMS answered with the
/// rows the refresh wrote put in place (no second read): it must be exactly what reading the
/// rows again returns, for rows that join the answer, leave it, change in place or move, in
/// every kind of order, with local-only values, lookups and every field type.
#[tokio::test]
async fn an_answer_brought_up_to_date_equals_the_rows_read_again() {
    for env in envs().await {
        let label = env.label();
        let f = Organisation::fields();
        let france = env.seed_country("France", "FR");
        let mut ids = Vec::new();
        for i in 0..12 {
            let mut extra = json!({
                "NumberOfEmployees": 10 * i,
                "Revenue": {"Value": format!("{i}000.5")},
                "Address1_Latitude": 51.5 + f64::from(i) / 7.0,
                "optevia_ukorganisation": i % 2 == 0,
                "Telephone1": format!("0{i}"),
            });
            if i % 3 == 0 {
                extra["optevia_Country"] =
                    json!({"Id": france.to_string(), "LogicalName": "optevia_country"});
            }
            ids.push(env.seed_account(&format!("Ans {i:02}"), extra));
        }
        let outside = env.seed_account("Outside", json!({}));
        // Stored locally, outside the answer until CDMS renames it.
        env.synced_account(outside).await;
        let queries = || {
            let q = || Organisation::objects(&env.db).filter(f.name.startswith("Ans "));
            [
                ("by key", q()),
                ("by key, reversed", q().reverse()),
                ("by size", q().order_by([f.number_of_employees.desc()])),
                ("by name", q().order_by([f.name.asc()])),
            ]
        };
        let agree = |step: &'static str| {
            let queries = queries();
            async move {
                for (what, q) in queries {
                    let synced = q.clone().all().await.unwrap();
                    let again = q.skip_cdms().all().await.unwrap();
                    assert_eq!(synced, again, "[{label}] {step}: {what}");
                }
            }
        };
        // First copies (new rows join the answer).
        agree("new").await;
        let first = ids[0];
        Organisation::objects(&env.db)
            .skip_cdms()
            .filter(f.cdms_id.eq(first))
            .update([f.notes.set(Some("local".to_owned()))])
            .await
            .unwrap();
        // Changes in place (the order keys unchanged), a record leaving, one joining.
        env.edit("AccountSet", ids[0], json!({"Telephone1": "999"}));
        env.edit("AccountSet", ids[1], json!({"Name": "Left"}));
        env.edit("AccountSet", outside, json!({"Name": "Ans joined"}));
        env.edit("AccountSet", ids[2], json!({"Revenue": {"Value": "7.25"}}));
        agree("changed").await;
        // Rows that move in the order.
        env.edit("AccountSet", ids[3], json!({"NumberOfEmployees": 100_000}));
        env.edit("AccountSet", ids[4], json!({"Name": "Ans 99"}));
        agree("moved").await;
        // New records among old ones.
        env.seed_account("Ans 05b", json!({"NumberOfEmployees": 55}));
        env.edit(
            "AccountSet",
            ids[6],
            json!({"optevia_Country": {"Id": null, "LogicalName": null}}),
        );
        agree("mixed").await;
        let kept = Organisation::objects(&env.db)
            .filter(f.cdms_id.eq(first))
            .get()
            .await
            .unwrap();
        assert_eq!(kept.notes.as_deref(), Some("local"), "[{label}]");
        assert_eq!(kept.telephone.as_deref(), Some("999"), "[{label}]");
    }
}

/// Through an exact filter, a record the local answer lacks is taken for new and inserted
/// without a look at its row. When its row is stored after all (it matched the filter only
/// since CDMS changed it), the insert leaves it alone and the record is applied as usual:
/// refreshed, with the version of a refresh, beside the page's new records.
#[tokio::test]
async fn a_record_taken_for_new_but_stored_is_refreshed() {
    for env in envs().await {
        let label = env.label();
        let f = Organisation::fields();
        let exact = || Organisation::objects(&env.db).filter(f.number_of_employees.eq(4242));
        let moved = env.seed_account("Moved", json!({"NumberOfEmployees": 7}));
        let before = env.synced_account(moved).await;
        assert!(exact().all().await.unwrap().is_empty(), "[{label}]");
        env.edit("AccountSet", moved, json!({"NumberOfEmployees": 4242}));
        for i in 0..3 {
            env.seed_account(&format!("New {i}"), json!({"NumberOfEmployees": 4242}));
        }
        let page = exact().all().await.unwrap();
        let mut names: Vec<&str> = page.iter().map(|o| o.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["Moved", "New 0", "New 1", "New 2"], "[{label}]");
        assert_eq!(page, exact().skip_cdms().all().await.unwrap(), "[{label}]");
        assert_eq!(page[0].id, before.id, "[{label}] the same row");
        let meta = <Organisation as cdms_runtime::Entity>::META;
        let db = &env.db;
        let versions = |pk| async move {
            cdms_runtime::store::history::versions(db, meta, pk)
                .await
                .unwrap()
        };
        let refreshed = versions(before.id).await;
        assert_eq!(refreshed.len(), 2, "[{label}] first copy and refresh");
        assert!(refreshed[1].prior.is_some(), "[{label}] {refreshed:?}");
        for org in &page[1..] {
            assert_eq!(versions(org.id).await.len(), 1, "[{label}] {}", org.name);
        }
    }
}
