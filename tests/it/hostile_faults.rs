//! Hostile answers from Intercom, against the emulator's fault injection: bodies cut short
//! (re-read, never re-sent for writes), writes whose answer is lost (the message says they may
//! have been applied, and nothing repeats them), long `id IN (…)` lists (a few searches or one
//! listing, not a GET per id), and a script failing mid-scan (no partial output).

use std::process::Stdio;
use std::time::Duration;

use intercom_sql::emulator::{self, EmulatorConfig, Fault, FaultRule};
use serde_json::Value;

use crate::common::{TestEnv, field, snapshot_ids, start, start_with};

fn rule(method: &str, path_prefix: &str, fault: Fault, count: u32) -> FaultRule {
    FaultRule {
        path_prefix: Some(path_prefix.to_string()),
        method: Some(method.to_string()),
        fault,
        count,
    }
}

/// A rule that lets `count` matching requests through untouched (rules apply in order, so
/// the rules after it hit later requests).
fn pass(method: &str, path_prefix: &str, count: u32) -> FaultRule {
    rule(method, path_prefix, Fault::Slow(Duration::ZERO), count)
}

fn sorted_ids(env: &TestEnv, kind: &str) -> Vec<String> {
    let mut ids = snapshot_ids(env, kind);
    ids.sort();
    ids
}

fn count_requests(env: &TestEnv, prefix: &str) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.starts_with(prefix))
        .count()
}

// ---------------------------------------------------------------- bodies cut short

#[tokio::test]
async fn the_emulator_cuts_a_complete_response_short() {
    let env = start().await;
    env.emulator
        .state
        .inject(rule("GET", "/admins", Fault::Truncate, 1));
    let response = reqwest::Client::new()
        .get(format!("{}/admins", env.emulator.base_url))
        .bearer_auth(EmulatorConfig::default().token)
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.expect("the whole (short) body");
    let error = serde_json::from_slice::<Value>(&body).expect_err("the JSON ends early");
    assert!(error.is_eof(), "{error}");
}

#[tokio::test]
async fn reads_cut_short_are_read_again_and_every_row_comes_once() {
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 20).await;
    let state = &env.emulator.state;
    // The list endpoint, page after page (the partition tests cover windows under faults).
    env.rows("SET intercom.scan = 'list'").await;
    let all = "SELECT id FROM contacts ORDER BY id";
    assert_eq!(
        env.rows(all).await.concat(),
        sorted_ids(&env, "contacts"),
        "a clean listing"
    );
    let clean_requests = count_requests(&env, "GET /contacts");
    assert!(clean_requests >= 10, "{:?}", env.requests());

    // Pages 1, 4 and 6 come back cut short (page 6 twice); the others are served whole.
    state.clear_requests();
    for fault_rule in [
        rule("GET", "/contacts", Fault::Truncate, 1),
        pass("GET", "/contacts", 3),
        rule("GET", "/contacts", Fault::Truncate, 1),
        pass("GET", "/contacts", 2),
        rule("GET", "/contacts", Fault::Truncate, 2),
    ] {
        state.inject(fault_rule);
    }
    let before = env.engine.client().stats();
    let rows = env.rows(all).await.concat();
    let after = env.engine.client().stats();
    assert_eq!(rows, sorted_ids(&env, "contacts"), "every row exactly once");
    assert_eq!(after.retries - before.retries, 4);
    assert_eq!(
        count_requests(&env, "GET /contacts"),
        clean_requests + 4,
        "{:?}",
        env.requests()
    );

    // A search (a POST, but a read) and a get-by-id are read again too.
    let leads: Vec<String> = state
        .snapshot("contacts")
        .iter()
        .filter(|c| c["role"] == "lead")
        .map(|c| field(c, "id"))
        .collect();
    state.inject(rule("POST", "/contacts/search", Fault::Truncate, 2));
    let mut found = env
        .rows("SELECT id FROM contacts WHERE role = 'lead'")
        .await
        .concat();
    found.sort();
    let mut want = leads.clone();
    want.sort();
    assert_eq!(found, want);

    state.inject(rule(
        "GET",
        &format!("/contacts/{}", leads[0]),
        Fault::Truncate,
        1,
    ));
    let rows = env
        .rows(&format!(
            "SELECT id FROM contacts WHERE id = '{}'",
            leads[0]
        ))
        .await;
    assert_eq!(rows, vec![vec![leads[0].clone()]]);
    assert_eq!(env.engine.client().stats().retries - after.retries, 3);
}

#[tokio::test]
async fn reads_cut_short_every_time_fail_with_a_clear_error() {
    let env = start_with(EmulatorConfig::default(), |c| c.max_retries = 2).await;
    env.emulator
        .state
        .inject(rule("GET", "/teams", Fault::Truncate, 10));
    let message = env.error("SELECT * FROM teams").await;
    assert!(
        message.contains("unexpected response from Intercom (GET /teams): the response was cut short (EOF while parsing"),
        "{message}"
    );
    assert_eq!(count_requests(&env, "GET /teams"), 3);
}

#[tokio::test]
async fn a_write_whose_answer_is_cut_short_is_not_sent_again() {
    let env = start().await;
    env.emulator
        .state
        .inject(rule("POST", "/contacts", Fault::Truncate, 1));
    let message = env
        .error("INSERT INTO contacts (role, email) VALUES ('lead', 'cut@hostile.test')")
        .await;
    assert!(
        message.starts_with(
            "INSERT INTO contacts: 0 of 1 rows inserted, 1 failed. Failed: row 1: Intercom accepted POST /contacts, but its answer could not be read (EOF while parsing"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "The request for row 1 was sent and may have been applied: check with SELECT … FROM contacts before retrying, or it may be inserted twice."
        ),
        "{message}"
    );
    assert_eq!(count_requests(&env, "POST /contacts"), 1, "not re-sent");
    let created = env
        .emulator
        .state
        .snapshot("contacts")
        .into_iter()
        .filter(|c| c["email"] == "cut@hostile.test")
        .count();
    assert_eq!(created, 1, "the emulator applied it once");
}

// ---------------------------------------------------------------- writes whose answer is lost

#[tokio::test]
async fn an_insert_answered_with_a_500_is_sent_once_and_may_have_been_applied() {
    let env = start().await;
    let before = env.emulator.state.snapshot("contacts").len();
    // One fault only: a repeated POST would succeed and create the contact.
    env.emulator
        .state
        .inject(rule("POST", "/contacts", Fault::Status(500), 1));
    let message = env
        .error("INSERT INTO contacts (role, email) VALUES ('lead', 'lost@hostile.test')")
        .await;
    assert!(
        message.starts_with(
            "INSERT INTO contacts: 0 of 1 rows inserted, 1 failed. Failed: row 1: Intercom API 500 server_error: Server error [POST /contacts"
        ),
        "{message}"
    );
    assert!(
        message.ends_with(
            "]. The request for row 1 was sent and may have been applied: check with SELECT … FROM contacts before retrying, or it may be inserted twice."
        ),
        "{message}"
    );
    assert!(!message.contains("retry later"), "{message}");
    assert!(!message.contains(".."), "{message}");
    assert_eq!(count_requests(&env, "POST /contacts"), 1, "not re-sent");
    // The emulator answers this fault without running the handler: nothing was created.
    assert_eq!(env.emulator.state.snapshot("contacts").len(), before);

    // A dropped connection: the same advice, once.
    env.emulator.state.clear_requests();
    env.emulator
        .state
        .inject(rule("POST", "/contacts", Fault::Drop, 1));
    let message = env
        .error("INSERT INTO contacts (role, email) VALUES ('lead', 'dropped@hostile.test')")
        .await;
    assert!(
        message.contains("Failed: row 1: no answer from Intercom at "),
        "{message}"
    );
    assert_eq!(
        message.matches("may have been applied").count(),
        1,
        "{message}"
    );
    assert!(!message.contains("Check the network"), "{message}");
    assert!(!message.contains("Not attempted"), "{message}");
    assert!(!message.contains(".."), "{message}");
    assert_eq!(count_requests(&env, "POST /contacts"), 1, "not re-sent");
}

#[tokio::test]
async fn procedures_and_intercom_api_say_a_lost_write_may_have_been_applied() {
    let env = start_with(EmulatorConfig::default(), |c| c.max_retries = 1).await;
    let state = &env.emulator.state;
    let conversation = state
        .snapshot("conversations")
        .into_iter()
        .find(|c| c["state"] == "open")
        .map(|c| field(&c, "id"))
        .expect("an open conversation");
    let admin = "991267460";

    state.inject(rule(
        "POST",
        &format!("/conversations/{conversation}/reply"),
        Fault::Status(500),
        1,
    ));
    let message = env
        .error(&format!(
            "CALL AdminReplyToConversation('{conversation}', 'note', '{admin}', 'once')"
        ))
        .await;
    assert!(
        message.starts_with("AdminReplyToConversation: Intercom API 500")
            && message.ends_with(
                "The request was sent and may have been applied: check with a SELECT before retrying it, or it may be applied twice."
            ),
        "{message}"
    );
    assert_eq!(count_requests(&env, "POST /conversations/"), 1);

    state.clear_requests();
    state.inject(rule("POST", "/tags", Fault::Drop, 1));
    let message = env
        .error("CALL intercom_api('POST', '/tags', '{\"name\": \"Lost tag\"}')")
        .await;
    assert!(
        message.starts_with("intercom_api: no answer from Intercom at ")
            && message.contains("may have been applied"),
        "{message}"
    );
    assert_eq!(count_requests(&env, "POST /tags"), 1);

    // In bulk, error statuses are rows; a raw write's 500 says the same.
    state.inject(rule("POST", "/tags", Fault::Status(500), 1));
    let rows = env
        .rows(
            "SELECT r.status, r.ok, r.error FROM (VALUES ('/tags')) v(p), \
             LATERAL intercom_api('POST', v.p, '{\"name\": \"Bulk tag\"}') r",
        )
        .await;
    assert_eq!(
        rows,
        vec![vec![
            "500".to_string(),
            "false".to_string(),
            "HTTP 500 server_error: Server error; the request was sent and may have been applied: check with a SELECT before retrying it".to_string(),
        ]]
    );

    // Idempotent writes are retried and keep their advice.
    let contact = field(&state.snapshot("contacts")[0], "id");
    state.inject(rule(
        "POST",
        &format!("/contacts/{contact}/archive"),
        Fault::Status(503),
        10,
    ));
    let message = env
        .error(&format!("CALL ArchiveContact('{contact}')"))
        .await;
    assert!(message.ends_with("retry later."), "{message}");
    assert!(!message.contains("may have been applied"), "{message}");
}

// ---------------------------------------------------------------- long id lists

/// `n` ids that no object has (24 hex digits, like Intercom's).
fn unknown_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("ffff{i:020x}")).collect()
}

fn in_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::test]
async fn two_thousand_ids_on_contacts_are_a_few_searches() {
    let env = start().await;
    let mut known: Vec<String> = sorted_ids(&env, "contacts")
        .into_iter()
        .step_by(7)
        .collect();
    let mut ids = unknown_ids(2_000 - known.len());
    ids.extend(known.iter().cloned());
    let sql = format!(
        "SELECT id FROM contacts WHERE id IN ({}) ORDER BY id",
        in_list(&ids)
    );
    env.emulator.state.clear_requests();
    let rows = env.rows(&sql).await.concat();
    known.sort();
    assert_eq!(rows, known);
    let requests = env.emulator.state.requests();
    assert!((1..=4).contains(&requests.len()), "{:?}", env.requests());
    let mut searched = Vec::new();
    for request in &requests {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/contacts/search")
        );
        let query = &request.body.as_ref().expect("a search body")["query"];
        let filters = match query["operator"].as_str() {
            Some("OR") => query["value"].as_array().cloned().unwrap_or_default(),
            _ => vec![query.clone()],
        };
        assert!(filters.len() <= 15, "{query}");
        for filter in filters {
            assert_eq!(filter["field"], "id");
            assert_eq!(filter["operator"], "IN");
            let values = filter["value"].as_array().cloned().unwrap_or_default();
            assert!(values.len() <= 100);
            if request
                .body
                .as_ref()
                .and_then(|b| b.pointer("/pagination/starting_after"))
                .is_none()
            {
                searched.extend(values.iter().filter_map(|v| v.as_str().map(str::to_string)));
            }
        }
    }
    searched.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(searched, want, "every id asked for once");

    // EXPLAIN shows the searches.
    let plan = env.plan("EXPLAIN", &sql).await;
    assert!(
        plan.contains(
            "request: POST /contacts/search {\"query\":{\"field\":\"id\",\"operator\":\"IN\",\"value\":[…]}} per_page=150 (search pages) for 2000 ids: 2 searches"
        ),
        "{plan}"
    );

    // The same answer without pushdown (a full listing, filtered locally).
    env.engine
        .execute("SET intercom.pushdown = off")
        .await
        .expect("SET");
    assert_eq!(env.rows(&sql).await.concat(), known);
    env.engine
        .execute("SET intercom.pushdown = on")
        .await
        .expect("SET");

    // That listing showed 200 contacts: 2 pages, fewer requests than the searches. From now
    // on the ids are read by listing.
    let plan = env.plan("EXPLAIN", &sql).await;
    assert!(
        plan.contains("request: GET /contacts per_page=150"),
        "{plan}"
    );
    env.emulator.state.clear_requests();
    assert_eq!(env.rows(&sql).await.concat(), known);
    assert_eq!(env.requests().len(), 2, "{:?}", env.requests());
}

#[tokio::test]
async fn two_thousand_ids_on_companies_are_one_listing() {
    let env = start().await;
    let companies = env.emulator.state.snapshot("companies");
    let known: Vec<String> = companies.iter().map(|c| field(c, "id")).collect();
    let mut ids = unknown_ids(2_000 - known.len());
    ids.extend(known.iter().cloned());
    let sql = format!(
        "SELECT id FROM companies WHERE id IN ({}) ORDER BY id",
        in_list(&ids)
    );
    env.emulator.state.clear_requests();
    let rows = env.rows(&sql).await.concat();
    let requests = env.requests();
    assert!(!requests.is_empty() && requests.len() <= 3, "{requests:?}");
    assert!(
        requests.iter().all(|r| r.starts_with("GET /companies?")),
        "a listing, not one GET per id: {requests:?}"
    );
    // Companies without contacts are not listed (as without the id filter).
    let mut listed: Vec<String> = companies
        .iter()
        .filter(|c| c["user_count"].as_i64() > Some(0))
        .map(|c| field(c, "id"))
        .collect();
    listed.sort();
    assert_eq!(rows, listed);

    let plan = env.plan("EXPLAIN", &sql).await;
    assert!(plan.contains("request: GET /companies per_page="), "{plan}");
}

// ---------------------------------------------------------------- scripts failing mid-scan

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_failing_mid_scan_prints_nothing_and_exits_1() {
    let config = EmulatorConfig {
        contacts: 1_000,
        ..EmulatorConfig::default()
    };
    let token = config.token.clone();
    let emulator = emulator::spawn(config, "127.0.0.1:0")
        .await
        .expect("emulator starts");
    let run = |format: &'static str| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
        command
            .args(["--base-url", &emulator.base_url, "--format", format])
            .args([
                "-c",
                "SET intercom.scan = 'list'; SELECT id, email FROM contacts",
            ])
            .env("INTERCOM_ACCESS_TOKEN", &token)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        async move {
            let out = command.output().await.expect("run intercom-sql");
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };

    // Pages 1 and 2 are served; page 3 fails for good (after the client's retries).
    for format in ["csv", "json"] {
        emulator.state.clear_faults();
        emulator.state.clear_requests();
        emulator.state.inject(pass("GET", "/contacts", 2));
        emulator
            .state
            .inject(rule("GET", "/contacts", Fault::Status(500), 1_000));
        let (code, stdout, stderr) = run(format).await;
        assert_eq!(code, 1, "{format}: {stderr}");
        assert!(
            stderr.starts_with("Error: ") && stderr.contains("Intercom API 500"),
            "{format}: {stderr}"
        );
        assert!(stdout.is_empty(), "{format}: partial output: {stdout}");
        let pages: Vec<_> = emulator
            .state
            .requests()
            .into_iter()
            .filter(|r| r.path == "/contacts" && r.status == 200)
            .collect();
        assert_eq!(
            pages.len(),
            2,
            "{format}: rows were fetched before the failure"
        );
    }

    // Without the fault, the whole result is printed.
    emulator.state.clear_faults();
    let (code, stdout, stderr) = run("csv").await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().next(), Some("id,email"));
    assert_eq!(stdout.lines().count(), 1 + 1_000);
}
