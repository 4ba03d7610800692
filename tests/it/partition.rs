//! Partitioned reads (`SET intercom.scan`): windows of `created_at` read concurrently must
//! return exactly the rows of a page-by-page listing — none lost, none twice — at window
//! edges, with ties on the boundary second, with objects created during the read, under 429s,
//! 5xx and bodies cut short; and the shared budget keeps a scan inside Intercom's rate limit.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use intercom_sql::client::pagination::pages;
use intercom_sql::client::{IntercomClient, ListRequest, PageStyle};
use intercom_sql::emulator::{EmulatorConfig, Fault, FaultRule};
use intercom_sql::pushdown::partition::{Window, first_windows, window_query};
use intercom_sql::tables::{self, PartitionKey};
use serde_json::{Value, json};

use crate::common::{TestEnv, field, snapshot_ids, start_with};

/// Ids a query returns, in the order they came, with `SET intercom.scan = mode` first.
async fn ids(env: &TestEnv, mode: &str, sql: &str) -> Vec<String> {
    env.rows(&format!("SET intercom.scan = '{mode}'")).await;
    env.rows(sql)
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

/// Asserts `got` holds each id once, and exactly the ids of `want`.
fn same_rows(got: &[String], want: &[String], what: &str) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "{what}: an id came twice");
    let got: BTreeSet<&String> = got.iter().collect();
    let want: BTreeSet<&String> = want.iter().collect();
    let lost: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "{what}: lost {lost:?}, extra {extra:?}"
    );
}

fn metric(scan: &str, name: &str) -> u64 {
    scan.split(&format!("{name}="))
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {scan}"))
}

#[tokio::test]
async fn windows_return_exactly_the_rows_of_the_listing() {
    // An odd time zone (UTC+12:45) puts contacts' day boundaries away from UTC midnight.
    let config = EmulatorConfig {
        contacts: 600,
        conversations: 300,
        tickets: 120,
        companies: 40,
        timezone: "Pacific/Chatham".into(),
        ..EmulatorConfig::default()
    };
    // Small pages and few windows at once, so that every table splits into many windows.
    let env = start_with(config, |c| {
        c.page_size = 10;
        c.concurrency = 6;
    })
    .await;
    for (table, sql) in [
        ("contacts", "SELECT id FROM contacts"),
        ("contacts", "SELECT id FROM contacts WHERE role = 'user'"),
        ("conversations", "SELECT id FROM conversations"),
        ("conversations", "SELECT id FROM conversations WHERE open"),
        ("tickets", "SELECT id FROM tickets"),
        ("companies", "SELECT id FROM companies"),
    ] {
        let listed = ids(&env, "list", sql).await;
        let partitioned = ids(&env, "partitioned", sql).await;
        same_rows(&partitioned, &listed, sql);
        let auto = ids(&env, "auto", sql).await;
        same_rows(&auto, &listed, sql);
        if !sql.contains("WHERE") {
            let snapshot = env.emulator.state.snapshot(table);
            let every: Vec<String> = snapshot
                .iter()
                // Companies without a contact are not listed (docs/intercom-notes.md).
                .filter(|o| table != "companies" || o["user_count"].as_u64() != Some(0))
                .map(|o| field(o, "id"))
                .collect();
            same_rows(&listed, &every, table);
        }
    }
    // The reads did split, and EXPLAIN shows how.
    env.rows("SET intercom.scan = 'partitioned'").await;
    let scan = env
        .scan_line("EXPLAIN ANALYZE", "SELECT id FROM contacts")
        .await;
    assert!(
        scan.contains("created_at windows read concurrently") && scan.contains("concurrency=6"),
        "{scan}"
    );
    assert!(metric(&scan, "windows") > 5, "{scan}");
    assert_eq!(metric(&scan, "output_rows"), 600, "{scan}");
    let shown = env.rows("SHOW intercom.scan").await;
    assert!(shown.concat().concat().contains("partitioned"), "{shown:?}");
    let message = env.error("SET intercom.scan = 'fast'").await;
    assert!(
        message.contains("intercom.scan takes auto, partitioned or list, not 'fast'"),
        "{message}"
    );
}

/// The partition key `kind` declares.
fn partition_key(kind: &str) -> PartitionKey {
    tables::find(kind)
        .and_then(|d| d.search.as_ref()?.partition.clone())
        .expect("a partition key")
}

/// Every object of `kind`'s search within `window`, as ids (kept to the window as the scan
/// keeps them).
async fn search_window(
    client: &Arc<IntercomClient>,
    kind: &str,
    key: &PartitionKey,
    window: Window,
) -> Vec<String> {
    let def = tables::find(kind).unwrap();
    let endpoint = def.search.as_ref().unwrap();
    let query = window_query(&Value::Null, key, window).expect("a window query");
    let mut request = ListRequest::new(
        endpoint.path.clone(),
        PageStyle::Search { query },
        &endpoint.items_key,
    );
    request.per_page = Some(150);
    let mut found = Vec::new();
    let mut stream = pages(client.clone(), request);
    while let Some(page) = stream.next().await {
        for item in page.expect("a page").values() {
            let at = item["created_at"].as_i64();
            if !window.checked(key) || window.holds(at) {
                found.push(field(&item, "id"));
            }
        }
    }
    found
}

#[tokio::test]
async fn window_edges_on_a_tied_second_lose_and_duplicate_nothing() {
    let config = EmulatorConfig {
        timezone: "America/St_Johns".into(),
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |_| {}).await;
    let contact = field(&env.emulator.state.snapshot("contacts")[0], "id");
    // Conversations imported with the same creation second, and their neighbours.
    let tie: i64 = 1_767_225_600; // 2026-01-01 00:00:00 UTC
    for at in [tie - 1, tie, tie, tie, tie + 1] {
        env.rows(&format!(
            "CALL CreateConversation('{contact}', 'tied', 'user', NULL, to_timestamp({at}))"
        ))
        .await;
    }
    // Contacts created together (one second, one day).
    env.rows(
        "INSERT INTO contacts (email, role) VALUES ('t1@tie.example', 'user'), \
         ('t2@tie.example', 'user'), ('t3@tie.example', 'user')",
    )
    .await;
    let client = env.engine.client().clone();
    for kind in ["conversations", "contacts"] {
        let key = partition_key(kind);
        let all = search_window(&client, kind, &key, Window::ALL).await;
        let expected: Vec<String> = snapshot_ids(&env, kind);
        same_rows(&all, &expected, kind);
        // Every creation second of the workspace (ties included) as a boundary, and a second
        // inside a day that has objects.
        let mut edges: BTreeSet<i64> = env
            .emulator
            .state
            .snapshot(kind)
            .iter()
            .filter_map(|o| o["created_at"].as_i64())
            .collect();
        let more: Vec<i64> = edges.iter().map(|e| e + 3_600).collect();
        edges.extend(more);
        for (i, edge) in edges.iter().enumerate() {
            // Spot-check a spread of edges (each costs two searches).
            if i % 7 != 0 && *edge != tie && *edge != tie + 1 {
                continue;
            }
            let below = Window {
                lo: None,
                hi: Some(*edge),
            };
            let above = Window {
                lo: Some(*edge),
                hi: None,
            };
            let mut both = search_window(&client, kind, &key, below).await;
            both.extend(search_window(&client, kind, &key, above).await);
            same_rows(&both, &expected, &format!("{kind} split at {edge}"));
        }
        // Three windows with the tie in the middle one.
        let mut three = Vec::new();
        for window in [
            Window {
                lo: None,
                hi: Some(tie),
            },
            Window {
                lo: Some(tie),
                hi: Some(tie + 1),
            },
            Window {
                lo: Some(tie + 1),
                hi: None,
            },
        ] {
            three.extend(search_window(&client, kind, &key, window).await);
        }
        same_rows(&three, &expected, &format!("{kind} around the tie"));
    }
    // The tied conversations are in the one-second window, and only there.
    let key = partition_key("conversations");
    let tied = search_window(
        &client,
        "conversations",
        &key,
        Window {
            lo: Some(tie),
            hi: Some(tie + 1),
        },
    )
    .await;
    assert_eq!(tied.len(), 3, "{tied:?}");
}

#[tokio::test]
async fn contacts_created_during_a_partitioned_read_do_not_disturb_it() {
    let config = EmulatorConfig {
        contacts: 800,
        latency: Duration::from_millis(15),
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| {
        c.page_size = 10;
        c.concurrency = 8;
    })
    .await;
    let before: Vec<String> = snapshot_ids(&env, "contacts");
    env.rows("SET intercom.scan = 'partitioned'").await;
    let base = env.emulator.base_url.clone();
    let token = EmulatorConfig::default().token;
    let writer = tokio::spawn(async move {
        let http = reqwest::Client::new();
        for i in 0..25 {
            let response = http
                .post(format!("{base}/contacts"))
                .bearer_auth(&token)
                .json(&json!({"email": format!("during{i}@scan.example"), "role": "user"}))
                .send()
                .await
                .expect("create");
            assert!(response.status().is_success());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let got: Vec<String> = env
        .rows("SELECT id FROM contacts")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    writer.await.expect("writer");
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "an id came twice");
    let missing: Vec<&String> = before.iter().filter(|id| !unique.contains(id)).collect();
    assert!(missing.is_empty(), "lost during the read: {missing:?}");
    // Those created meanwhile may or may not be in (the read raced them); nothing else is.
    assert!(got.len() <= before.len() + 25, "{}", got.len());
}

#[tokio::test]
async fn windows_under_429s_5xx_and_cut_bodies_return_every_row_once() {
    let config = EmulatorConfig {
        contacts: 500,
        conversations: 250,
        tickets: 400,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| {
        c.page_size = 10;
        c.concurrency = 64;
    })
    .await;
    for (kind, sql) in [
        ("contacts", "SELECT id FROM contacts"),
        ("conversations", "SELECT id FROM conversations"),
        ("tickets", "SELECT id FROM tickets"),
    ] {
        // The listing, then two partitioned reads under faults: the first from what it
        // learns (the first windows), the second from the windows the first kept.
        let clean = ids(&env, "list", sql).await;
        let path = format!("/{kind}/search");
        let state = &env.emulator.state;
        let rule = |fault: Fault, count: u32| FaultRule {
            path_prefix: Some(path.clone()),
            method: Some("POST".into()),
            fault,
            count,
        };
        for read in ["first", "second"] {
            for fault_rule in [
                rule(Fault::Slow(Duration::ZERO), 2),
                rule(
                    Fault::RateLimited {
                        reset_after_secs: 1,
                    },
                    2,
                ),
                rule(Fault::Slow(Duration::ZERO), 5),
                rule(Fault::Status(503), 2),
                rule(Fault::Slow(Duration::ZERO), 4),
                rule(Fault::Truncate, 2),
                rule(Fault::Slow(Duration::ZERO), 9),
                rule(Fault::Status(500), 1),
            ] {
                state.inject(fault_rule);
            }
            let before = env.engine.client().stats();
            let faulty = ids(&env, "partitioned", sql).await;
            let after = env.engine.client().stats();
            state.clear_faults();
            same_rows(&faulty, &clean, &format!("{kind}, {read} read"));
            assert!(
                after.retries - before.retries >= 7,
                "{kind}, {read}: {after:?}"
            );
            assert!(
                after.rate_limit_waits - before.rate_limit_waits >= 2,
                "{kind}, {read}: {after:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_shared_budget_keeps_a_scan_inside_the_rate_limit() {
    // 12 requests every 2 seconds; the scan needs about 30.
    let config = EmulatorConfig {
        contacts: 280,
        rate_limit_per_window: Some(12),
        rate_window_secs: 2,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| {
        c.page_size = 10;
        c.concurrency = 4;
    })
    .await;
    let expected: Vec<String> = snapshot_ids(&env, "contacts");
    for mode in ["list", "partitioned"] {
        env.emulator.state.clear_requests();
        let before = env.engine.client().stats();
        let got = ids(&env, mode, "SELECT id FROM contacts").await;
        let after = env.engine.client().stats();
        same_rows(&got, &expected, mode);
        let refused = env
            .emulator
            .state
            .requests()
            .iter()
            .filter(|r| r.status == 429)
            .count();
        assert_eq!(refused, 0, "{mode}: the budget let a request hit the limit");
        assert!(
            after.throttled > before.throttled,
            "{mode}: the scan never waited for the window: {after:?}"
        );
        assert_eq!(after.rate_limit_waits, before.rate_limit_waits, "{mode}");
    }
}

#[tokio::test]
async fn a_limit_above_a_local_filter_reads_page_after_page() {
    let config = EmulatorConfig {
        contacts: 3_000,
        latency: Duration::from_millis(20),
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| c.page_size = 50).await;
    // `lower(email)` is not sent to Intercom: the LIMIT sits above a filter the scan does not
    // apply, so the scan cannot know it. It must still stop after the first pages.
    let sql = "SELECT id FROM contacts WHERE lower(email) LIKE '%a%' LIMIT 5";
    let mut sent = Vec::new();
    for mode in ["list", "auto", "partitioned"] {
        env.rows(&format!("SET intercom.scan = '{mode}'")).await;
        env.emulator.state.clear_requests();
        assert_eq!(env.rows(sql).await.len(), 5);
        let requests = env.requests();
        // `partitioned` reads through search, one page after another; the others list.
        assert!(
            requests
                .iter()
                .all(|r| r.contains("/search") == (mode == "partitioned")),
            "{mode}: {requests:?}"
        );
        sent.push(requests.len());
        let plan = env
            .rows(&format!("EXPLAIN {sql}"))
            .await
            .concat()
            .join("\n");
        assert!(!plan.contains("windows read concurrently"), "{plan}");
    }
    // No window fan-out, and no read-ahead: the first pages have the rows (60 exist).
    assert!(sent.iter().all(|&n| n <= 3), "{sent:?}");
    // Without the LIMIT the same read goes in windows (the plan's lines folded back).
    let plan = env
        .rows("EXPLAIN SELECT id FROM contacts WHERE lower(email) LIKE '%a%'")
        .await
        .concat()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        plan.contains("created_at windows read concurrently"),
        "{plan}"
    );
}

/// A second whole read starts from the windows the first ended with: fewer requests, and the
/// same rows as a listing even after objects were created and deleted in between.
#[tokio::test]
async fn a_second_whole_read_starts_from_the_first_reads_windows() {
    let config = EmulatorConfig {
        contacts: 700,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| {
        c.page_size = 10;
        c.concurrency = 6;
    })
    .await;
    let sql = "SELECT id FROM contacts";
    env.rows("SET intercom.scan = 'partitioned'").await;
    let first = env.scan_line("EXPLAIN ANALYZE", sql).await;
    assert_eq!(metric(&first, "windows_kept"), 0, "{first}");
    assert_eq!(metric(&first, "output_rows"), 700, "{first}");

    // Objects come and go between the reads: new ones past the last window, some deleted.
    let base = env.emulator.base_url.clone();
    let token = EmulatorConfig::default().token;
    let http = reqwest::Client::new();
    for i in 0..30 {
        let created = http
            .post(format!("{base}/contacts"))
            .bearer_auth(&token)
            .json(&json!({"email": format!("between{i}@reads.example"), "role": "user"}))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success());
    }
    for id in snapshot_ids(&env, "contacts").iter().step_by(97) {
        let deleted = http
            .delete(format!("{base}/contacts/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success());
    }
    let listed = ids(&env, "list", sql).await;
    assert_eq!(listed.len(), 700 + 30 - 8);
    env.rows("SET intercom.scan = 'partitioned'").await;
    let second = env.scan_line("EXPLAIN ANALYZE", sql).await;
    let kept = metric(&second, "windows_kept");
    assert!(kept > 1, "{second}");
    assert!(
        metric(&second, "requests") < metric(&first, "requests"),
        "the second read sent no fewer requests:\nfirst: {first}\nsecond: {second}"
    );
    let again = ids(&env, "partitioned", sql).await;
    same_rows(&again, &listed, "a read from kept windows");
}

/// A table small for the requests in flight (a page or two a window): the second read's
/// windows are cut where the first found the objects, so each is one page, read in one round.
/// Fifteen conversations created in fifteen seconds make the first read page one window twice.
#[tokio::test]
async fn a_second_read_of_a_small_table_takes_a_page_a_window() {
    let config = EmulatorConfig {
        conversations: 300,
        tickets: 200,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| {
        c.page_size = 10;
        c.concurrency = 64;
    })
    .await;
    let contact = field(&env.emulator.state.snapshot("contacts")[0], "id");
    let burst: i64 = 1_700_000_000; // 2023-11-14, among the generated conversations
    for at in burst..burst + 15 {
        env.rows(&format!(
            "CALL CreateConversation('{contact}', 'burst', 'user', NULL, to_timestamp({at}))"
        ))
        .await;
    }
    env.rows("SET intercom.scan = 'partitioned'").await;
    for (sql, rows) in [
        ("SELECT id FROM conversations", 315),
        ("SELECT id FROM tickets", 200),
    ] {
        let first = env.scan_line("EXPLAIN ANALYZE", sql).await;
        assert_eq!(metric(&first, "output_rows"), rows, "{first}");
        let second = env.scan_line("EXPLAIN ANALYZE", sql).await;
        assert_eq!(metric(&second, "output_rows"), rows, "{second}");
        let kept = metric(&second, "windows_kept");
        assert!(kept > 1, "{second}");
        assert_eq!(
            metric(&second, "requests"),
            kept,
            "one page a window:\nfirst: {first}\nsecond: {second}"
        );
        assert!(metric(&second, "requests") < metric(&first, "requests"));
    }
}

/// A whole read of a table with no listing (tickets) sends the first windows with the whole
/// search's first page, in one round: a table of one page is that page (the windows' answers
/// dropped, and the next read sends the search alone); a larger one is read from the windows,
/// each object once.
#[tokio::test]
async fn a_whole_read_without_a_listing_sends_its_first_windows_with_its_first_page() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let probes = first_windows(now, true);
    let searches = |env: &TestEnv| {
        env.emulator
            .state
            .requests()
            .into_iter()
            .filter(|r| r.path == "/tickets/search")
            .map(|r| r.body.unwrap_or(Value::Null))
            .collect::<Vec<_>>()
    };
    // One page of 20 tickets.
    let env = start_with(EmulatorConfig::default(), |_| {}).await;
    let every = snapshot_ids(&env, "tickets");
    assert_eq!(every.len(), 20);
    env.emulator.state.clear_requests();
    let first = ids(&env, "auto", "SELECT id FROM tickets").await;
    same_rows(&first, &every, "one page");
    let sent = searches(&env);
    assert_eq!(sent.len(), 1 + probes.len(), "{sent:?}");
    let catch_all = json!({"field": "created_at", "operator": ">", "value": 0});
    assert_eq!(
        sent.iter().filter(|b| b["query"] == catch_all).count(),
        1,
        "{sent:?}"
    );
    env.emulator.state.clear_requests();
    let again = ids(&env, "auto", "SELECT id FROM tickets").await;
    same_rows(&again, &every, "one page again");
    assert_eq!(searches(&env).len(), 1, "the search alone");

    // A table kept as one page that has grown: read whole all the same, and the next read
    // learns it anew (the first windows again).
    let config = EmulatorConfig {
        tickets: 8,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| c.page_size = 10).await;
    ids(&env, "auto", "SELECT id FROM tickets").await;
    let contact = field(&env.emulator.state.snapshot("contacts")[0], "id");
    let ticket_type = field(&env.emulator.state.snapshot("ticket_types")[0], "id");
    let values: Vec<String> = (0..5)
        .map(|i| format!("('{ticket_type}', '{contact}', 'grown {i}')"))
        .collect();
    env.rows(&format!(
        "INSERT INTO tickets (ticket_type_id, contacts, title) VALUES {}",
        values.join(", ")
    ))
    .await;
    let every = snapshot_ids(&env, "tickets");
    assert_eq!(every.len(), 13);
    for (read, requests) in [("grown", 2), ("after", 1 + probes.len())] {
        env.emulator.state.clear_requests();
        let got = ids(&env, "auto", "SELECT id FROM tickets").await;
        same_rows(&got, &every, read);
        assert_eq!(searches(&env).len(), requests, "{read}");
    }

    // 200 tickets in pages of 10, answered 400 ms after they are asked: the first round is the
    // search and the windows, sent together, none of them past its first page; the rows come
    // from the windows.
    let latency = Duration::from_millis(400);
    let config = EmulatorConfig {
        tickets: 200,
        latency,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| c.page_size = 10).await;
    let every = snapshot_ids(&env, "tickets");
    env.emulator.state.clear_requests();
    let read = ids(&env, "auto", "SELECT id FROM tickets").await;
    same_rows(&read, &every, "200 tickets");
    let sent = searches(&env);
    let round: Vec<&Value> = sent.iter().take(1 + probes.len()).collect();
    let arrived: Vec<u64> = env
        .emulator
        .state
        .requests()
        .iter()
        .filter(|r| r.path == "/tickets/search")
        .take(round.len())
        .map(|r| r.received_ms)
        .collect();
    let spread = arrived.iter().max().unwrap() - arrived.iter().min().unwrap();
    assert!(
        spread < latency.as_millis() as u64,
        "one round, not waiting for an answer: {arrived:?}"
    );
    assert!(
        round
            .iter()
            .all(|b| b["pagination"].get("starting_after").is_none()),
        "{round:?}"
    );
    // Besides the whole search, windows from open to open, each starting where the one
    // before ends (their edges are the engine's, taken at its own `now`).
    assert_eq!(round.iter().filter(|b| b["query"] == catch_all).count(), 1);
    let bound = |item: &Value, op: &str| {
        (item["operator"] == op).then(|| item["value"].as_i64().expect("a bound"))
    };
    let mut windows: Vec<(Option<i64>, Option<i64>)> = round
        .iter()
        .filter(|b| b["query"] != catch_all)
        .map(|b| {
            let query = &b["query"];
            let items = match query["value"].as_array() {
                Some(items) if query["operator"] == "AND" => items.clone(),
                _ => vec![query.clone()],
            };
            let lo = items.iter().find_map(|i| bound(i, ">")).map(|v| v + 1);
            let hi = items.iter().find_map(|i| bound(i, "<"));
            (lo, hi)
        })
        .collect();
    windows.sort();
    assert_eq!(windows.first().map(|w| w.0), Some(None), "{windows:?}");
    assert_eq!(windows.last().map(|w| w.1), Some(None), "{windows:?}");
    for pair in windows.windows(2) {
        assert_eq!(pair[0].1, pair[1].0, "{windows:?}");
    }
    assert!(
        sent.len() > round.len(),
        "read on from the windows: {sent:?}"
    );
}
