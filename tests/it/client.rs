//! The client against the emulator: every pagination style over several pages, error decoding
//! (401, 404), retries on 429/5xx/dropped connections, cursor-loop detection, streaming and
//! cancellation.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use intercom_sql::client::pagination::pages;
use intercom_sql::client::{IntercomClient, ListRequest, PageStyle};
use intercom_sql::emulator::{EmulatorConfig, Fault, FaultRule};
use intercom_sql::{AccessToken, Config};
use serde_json::json;

use crate::common::{start, start_with};

fn client_for(env: &crate::common::TestEnv) -> Arc<IntercomClient> {
    env.engine.client().clone()
}

async fn collect_ids(client: Arc<IntercomClient>, request: ListRequest) -> Vec<String> {
    let mut stream = pages(client, request);
    let mut ids = Vec::new();
    while let Some(page) = stream.next().await {
        for item in page.expect("page").values() {
            ids.push(
                item["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| item["id"].to_string()),
            );
        }
    }
    ids.sort();
    ids
}

fn snapshot_ids(env: &crate::common::TestEnv, kind: &str) -> Vec<String> {
    let mut ids: Vec<String> = env
        .emulator
        .state
        .snapshot(kind)
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_pagination_style_reads_everything_over_several_pages() {
    let env = start().await;
    let client = client_for(&env);

    // Style A: cursor list.
    let mut request = ListRequest::new("/contacts", PageStyle::Cursor, "data");
    request.per_page = Some(9);
    assert_eq!(
        collect_ids(client.clone(), request).await,
        snapshot_ids(&env, "contacts")
    );
    let cursor_pages = env
        .requests()
        .iter()
        .filter(|r| r.contains("starting_after="))
        .count();
    assert!(cursor_pages > 5, "cursor pages: {cursor_pages}");

    // Style B: search with the cursor in the body.
    env.emulator.state.clear_requests();
    let query = json!({"field": "created_at", "operator": ">", "value": 0});
    let mut request = ListRequest::new("/contacts/search", PageStyle::Search { query }, "data");
    request.per_page = Some(11);
    assert_eq!(
        collect_ids(client.clone(), request).await,
        snapshot_ids(&env, "contacts")
    );
    let bodies: Vec<_> = env
        .emulator
        .state
        .requests()
        .into_iter()
        .filter_map(|r| r.body)
        .collect();
    assert!(bodies.len() > 5);
    assert!(
        bodies[1]["pagination"]["starting_after"].is_string(),
        "{}",
        bodies[1]
    );

    // Style C: page numbers.
    env.emulator.state.clear_requests();
    let mut request = ListRequest::new("/companies", PageStyle::PageNumber, "data");
    request.per_page = Some(4);
    let listed = collect_ids(client.clone(), request).await;
    assert!(!listed.is_empty());
    assert!(
        env.requests().iter().any(|r| r.contains("page=3")),
        "{:?}",
        env.requests()
    );

    // Style D: company scroll gives the same companies as the page-number list.
    let request = ListRequest::new("/companies/scroll", PageStyle::Scroll, "data");
    assert_eq!(collect_ids(client.clone(), request).await, listed);

    // Style F: one-shot list.
    let request = ListRequest::new("/admins", PageStyle::Single, "admins");
    assert_eq!(
        collect_ids(client, request).await,
        snapshot_ids(&env, "admins")
    );
}

#[tokio::test]
async fn bad_token_gives_a_clear_401_without_the_token() {
    let env = start_with(EmulatorConfig::default(), |c| {
        c.token = AccessToken::new("wrong-secret-token")
    })
    .await;
    let message = env.error("SELECT * FROM contacts").await;
    assert!(
        message.contains("Intercom API 401 unauthorized"),
        "{message}"
    );
    assert!(message.contains("Check the access token"), "{message}");
    assert!(message.contains("request_id"), "{message}");
    assert!(!message.contains("wrong-secret-token"), "{message}");
    assert!(!message.contains('\n'));
}

#[tokio::test]
async fn reads_retry_on_429_and_5xx_and_dropped_connections() {
    let env = start().await;
    let state = &env.emulator.state;
    let rule = |fault, count| FaultRule {
        path_prefix: Some("/admins".into()),
        method: None,
        fault,
        count,
    };

    state.inject(rule(
        Fault::RateLimited {
            reset_after_secs: 1,
        },
        2,
    ));
    let before = env.engine.client().stats();
    let rows = env.rows("SELECT count(*) FROM admins").await;
    assert_eq!(rows[0][0], state.snapshot("admins").len().to_string());
    let after = env.engine.client().stats();
    assert_eq!(after.retries - before.retries, 2);
    assert_eq!(after.rate_limit_waits - before.rate_limit_waits, 2);
    assert_eq!(after.requests - before.requests, 3);

    for fault in [Fault::Status(500), Fault::Status(503), Fault::Drop] {
        state.inject(rule(fault.clone(), 2));
        let before = env.engine.client().stats();
        let rows = env.rows("SELECT count(*) FROM admins").await;
        assert_eq!(
            rows[0][0],
            state.snapshot("admins").len().to_string(),
            "{fault:?}"
        );
        let after = env.engine.client().stats();
        assert_eq!(after.retries - before.retries, 2, "{fault:?}");
        assert_eq!(after.rate_limit_waits, before.rate_limit_waits, "{fault:?}");
    }
}

#[tokio::test]
async fn retries_give_up_with_the_last_error() {
    let env = start_with(EmulatorConfig::default(), |c| c.max_retries = 2).await;
    env.emulator.state.inject(FaultRule {
        path_prefix: Some("/teams".into()),
        method: None,
        fault: Fault::Status(500),
        count: 10,
    });
    let message = env.error("SELECT * FROM teams").await;
    assert!(message.contains("Intercom API 500"), "{message}");
    assert_eq!(
        env.requests()
            .iter()
            .filter(|r| r.starts_with("GET /teams"))
            .count(),
        3
    );
}

#[tokio::test]
async fn unreachable_api_is_a_clear_error() {
    let config = Config::new("http://127.0.0.1:9", AccessToken::new("t"));
    let engine = intercom_sql::Engine::connect(Config {
        max_retries: 0,
        ..config
    })
    .unwrap();
    let message = engine
        .execute("SELECT * FROM tags")
        .await
        .unwrap_err()
        .user_message();
    assert!(
        message.contains("cannot reach Intercom at http://127.0.0.1:9"),
        "{message}"
    );
}

#[tokio::test]
async fn a_repeated_cursor_stops_with_an_error_instead_of_looping() {
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 10).await;
    // The list endpoint's cursor, page after page.
    env.rows("SET intercom.scan = 'list'").await;
    env.emulator.state.inject(FaultRule {
        path_prefix: Some("/contacts".into()),
        method: None,
        fault: Fault::CursorLoop,
        count: 100,
    });
    let message = env.error("SELECT * FROM contacts").await;
    assert!(message.contains("same page cursor twice"), "{message}");
    assert!(
        env.emulator.state.request_count() < 10,
        "{:?}",
        env.requests()
    );
}

#[tokio::test]
async fn rows_stream_before_the_last_page_and_dropping_the_stream_stops_requests() {
    let config = EmulatorConfig {
        contacts: 400,
        latency: Duration::from_millis(30),
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| c.page_size = 10).await;
    // Page after page (a partitioned read's windows start together; see the partition tests).
    env.rows("SET intercom.scan = 'list'").await;
    env.emulator.state.clear_requests();
    let mut stream = env
        .engine
        .execute_stream("SELECT id FROM contacts")
        .await
        .unwrap();
    let first = stream.next().await.expect("a batch").expect("no error");
    assert!(first.num_rows() > 0);
    // 40 pages exist; the first rows arrived long before the last page was requested.
    let at_first_batch = env.emulator.state.request_count();
    assert!(
        at_first_batch < 10,
        "requests before the first batch: {at_first_batch}"
    );
    drop(stream);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let settled = env.emulator.state.request_count();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        env.emulator.state.request_count(),
        settled,
        "requests continued after the query was dropped"
    );
    assert!(settled < 10, "{settled}");
}

#[tokio::test]
async fn limit_stops_paging_early() {
    let env = start().await;
    let rows = env.rows("SELECT id FROM contacts LIMIT 10").await;
    assert_eq!(rows.len(), 10);
    assert_eq!(
        env.requests(),
        vec!["GET /contacts?per_page=10".to_string()]
    );
}
