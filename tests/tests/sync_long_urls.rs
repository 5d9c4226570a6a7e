//! IIS in front of CRM 2011 refuses query strings over 2,048 bytes (404.15) and URL paths over
//! 4,096 (404.14); the emulator does the same, and no request the client sends goes over:
//! `$select` is dropped when it does not fit, a long `in` list is listed in chunks, and any
//! other filter too long for one request is relaxed remotely and applied exactly locally.

use cdms_entities::Organisation;
use cdms_runtime::cdms::wire::MAX_QUERY_STRING;
use cdms_runtime::cdms::{CdmsError, ListOptions};
use cdms_tests::sync_support::{client, envs};
use serde_json::json;

#[tokio::test]
async fn the_emulator_refuses_what_iis_refuses() {
    for env in envs().await.into_iter().take(1) {
        let base = env.emu.base_url();
        let http = reqwest::Client::new();
        let long = "a".repeat(MAX_QUERY_STRING);
        let url = format!(
            "{base}/XRMServices/2011/OrganizationData.svc/AccountSet?$filter=Name%20eq%20%27{long}%27"
        );
        let answer = http
            .get(&url)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404);
        assert!(answer.text().await.unwrap().contains("404.15"));
        let path = format!(
            "{base}/XRMServices/2011/OrganizationData.svc/{}",
            "x".repeat(4_200)
        );
        let answer = http.get(&path).send().await.unwrap();
        assert_eq!(answer.status(), 404);
        assert!(answer.text().await.unwrap().contains("404.14"));
        // Just under the limit is served.
        let fits = "a".repeat(MAX_QUERY_STRING - 40);
        let url = format!(
            "{base}/XRMServices/2011/OrganizationData.svc/AccountSet?$filter=Name%20eq%20%27{fits}%27"
        );
        let answer = http
            .get(&url)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
}

#[tokio::test]
async fn the_client_narrows_or_refuses_instead_of_sending_too_long() {
    for env in envs().await.into_iter().take(1) {
        env.seed_account("Acme", json!({}));
        let c = client(&env.emu);
        // A $select that does not fit is dropped: every property comes back.
        let wide = ListOptions {
            select: vec!["Name".to_owned(); 600],
            ..ListOptions::default()
        };
        assert!(wide.query().len() > MAX_QUERY_STRING);
        env.reset_log();
        let rows = c.list("AccountSet", &wide).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].get("DoNotEMail").is_some(), "all properties");
        let sent = &env.requests()[0];
        assert!(!sent.query.contains("select"), "{}", sent.query);
        // A $filter that cannot fit is refused before sending.
        let long = ListOptions {
            filter: Some(format!("Name eq '{}'", "z".repeat(3_000))),
            ..ListOptions::default()
        };
        env.reset_log();
        match c.list("AccountSet", &long).await {
            Err(CdmsError::TooLong { set, length, .. }) => {
                assert_eq!(set, "AccountSet");
                assert!(length > MAX_QUERY_STRING);
            }
            other => panic!("expected TooLong, got {other:?}"),
        }
        assert_eq!(env.total(), 0, "nothing was sent");
    }
}

#[tokio::test]
async fn long_filters_are_split_or_relaxed_and_answered_exactly() {
    for env in envs().await {
        let label = env.label();
        let mut names = Vec::new();
        for i in 0..30 {
            let name = format!("Long Name Limited Partnership Number {i:04}");
            env.seed_account(&name, json!({}));
            names.push(name);
        }
        env.seed_account("Other Ltd", json!({}));
        let f = Organisation::fields();
        // 200 values of ~45 characters: far over the limit as one or-chain.
        let mut wanted: Vec<String> = names.iter().step_by(2).cloned().collect();
        wanted.extend((0..185).map(|i| format!("Nobody By This Name Limited Partnership {i:04}")));
        env.reset_log();
        let found = Organisation::objects(&env.db)
            .filter(f.name.is_in(wanted.clone()))
            .all()
            .await
            .unwrap_or_else(|e| panic!("[{label}] {e}"));
        assert_eq!(found.len(), 15, "[{label}] exactly the matching records");
        let requests = env.requests();
        assert!(requests.len() > 1, "[{label}] listed in chunks");
        for r in &requests {
            assert!(
                r.query.len() <= MAX_QUERY_STRING,
                "[{label}] {}",
                r.query.len()
            );
            assert_eq!(r.status, Some(200), "[{label}]");
        }

        // A long condition that is not an `in` list: relaxed remotely, exact locally.
        let long = format!("{} and more", "x".repeat(2_500));
        env.seed_account(&long, json!({}));
        env.reset_log();
        let found = Organisation::objects(&env.db)
            .filter(f.name.eq(long.clone()))
            .all()
            .await
            .unwrap_or_else(|e| panic!("[{label}] {e}"));
        assert_eq!(found.len(), 1, "[{label}]");
        assert_eq!(found[0].name, long);
        for r in env.requests() {
            assert!(r.query.len() <= MAX_QUERY_STRING, "[{label}]");
            assert!(
                !r.query.contains("xxxxxxxx"),
                "[{label}] the filter was relaxed"
            );
        }
    }
}
