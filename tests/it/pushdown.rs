//! Pushdown never changes an answer: seeded, generated WHERE clauses over contacts and
//! conversations give the same rows with pushdown (search requests against the emulator) as a
//! local evaluation over a full copy of the table fetched with pushdown off. Plus request counts.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use intercom_sql::Engine;
use intercom_sql::emulator::{EmulatorConfig, RequestRecord};

use crate::common::clauses::{
    Kind, Samples, TRICKY_NAMES, TRICKY_NEEDLES, clause, quote, tricky_atoms,
};
use crate::common::{TestEnv, field, start, start_with, strings};

const CLAUSES_PER_TABLE: usize = 260;

/// Column pools: (column, kind).
const CONTACT_COLUMNS: &[(&str, Kind)] = &[
    ("email", Kind::Text),
    ("name", Kind::Text),
    ("role", Kind::Text),
    ("location_country", Kind::Text),
    ("location_city", Kind::Text),
    ("phone", Kind::Text),
    ("browser", Kind::Text),
    ("external_id", Kind::Text),
    ("owner_id", Kind::Int),
    ("has_hard_bounced", Kind::Bool),
    ("marked_email_as_spam", Kind::Bool),
    ("unsubscribed_from_emails", Kind::Bool),
    ("created_at", Kind::Time),
    ("last_seen_at", Kind::Time),
    ("last_email_clicked_at", Kind::Time),
    ("signed_up_at", Kind::Time),
    // Custom attributes, typed from GET /data_attributes (quoted: the local copy has no
    // `custom_attributes.x` spelling).
    ("\"custom_attributes.plan_tier\"", Kind::Text),
    ("\"custom_attributes.Account Manager\"", Kind::Text),
    ("\"custom_attributes.seats\"", Kind::Int),
    ("\"custom_attributes.beta_tester\"", Kind::Bool),
    ("\"custom_attributes.trial_ends_at\"", Kind::Time),
];
const CONVERSATION_COLUMNS: &[(&str, Kind)] = &[
    ("state", Kind::Text),
    ("priority", Kind::Text),
    ("source_type", Kind::Text),
    ("source_author_id", Kind::Text),
    ("source_subject", Kind::Text),
    ("admin_assignee_id", Kind::Int),
    ("team_assignee_id", Kind::Int),
    ("statistics_count_reopens", Kind::Int),
    ("open", Kind::Bool),
    ("read", Kind::Bool),
    ("created_at", Kind::Time),
    ("updated_at", Kind::Time),
    ("waiting_since", Kind::Time),
    ("snoozed_until", Kind::Time),
    ("source_delivered_as", Kind::Text),
    ("conversation_rating_rating", Kind::Int),
    ("conversation_rating_remark", Kind::Text),
    ("ai_agent_resolution_state", Kind::Text),
    ("ai_agent_source_type", Kind::Text),
    ("statistics_time_to_admin_reply", Kind::Int),
    ("statistics_median_time_to_reply", Kind::Int),
];

const TICKET_COLUMNS: &[(&str, Kind)] = &[
    ("title", Kind::Text),
    ("admin_assignee_id", Kind::Text),
    ("team_assignee_id", Kind::Text),
    ("ticket_type_id", Kind::Text),
    ("category", Kind::Text),
    ("ticket_state_category", Kind::Text),
    ("open", Kind::Bool),
    ("created_at", Kind::Time),
    ("updated_at", Kind::Time),
];

async fn samples(local: &SessionContext, table: &str, columns: &[(&str, Kind)]) -> Samples {
    let mut out = Vec::new();
    for (name, kind) in columns {
        let expr = if *kind == Kind::Time {
            format!("CAST(to_unixtime({name}) AS BIGINT)")
        } else {
            name.to_string()
        };
        let batches = local
            .sql(&format!("SELECT {expr} FROM {table}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let values = strings(&batches)
            .into_iter()
            .map(|r| Some(r[0].clone()).filter(|v| v != "NULL"))
            .collect();
        out.push((name.to_string(), *kind, values));
    }
    Samples { columns: out }
}

/// The whole table with pushdown off, as a local in-memory table.
async fn local_copy(engine: &Engine, table: &str) -> SessionContext {
    engine.execute("SET intercom.pushdown = off").await.unwrap();
    let batches: Vec<RecordBatch> = engine
        .execute(&format!("SELECT * FROM {table}"))
        .await
        .unwrap();
    engine.execute("SET intercom.pushdown = on").await.unwrap();
    let schema = batches[0].schema();
    let local = SessionContext::new();
    local
        .register_table(
            table,
            Arc::new(MemTable::try_new(schema, vec![batches]).unwrap()),
        )
        .unwrap();
    local
}

/// What a table's pushdown is expected to do with the random clauses, so that the test proves
/// something: how a narrowed request looks, how many clauses at least are narrowed, and how
/// many counts at least come from `total_count`.
struct Expect {
    narrowed: fn(&RequestRecord) -> bool,
    min_narrowed: usize,
    min_counted: usize,
}

/// Searched tables: most clauses become searches, many counts are read from `total_count`.
const SEARCHED: Expect = Expect {
    narrowed: |request| request.method == "POST" && request.path.ends_with("/search"),
    min_narrowed: CLAUSES_PER_TABLE / 2,
    min_counted: 10,
};

async fn differential(env: &TestEnv, table: &str, columns: &[(&str, Kind)], seed: u64) {
    differential_with(env, table, columns, seed, SEARCHED).await
}

async fn differential_with(
    env: &TestEnv,
    table: &str,
    columns: &[(&str, Kind)],
    seed: u64,
    expect: Expect,
) {
    let local = local_copy(&env.engine, table).await;
    let samples = samples(&local, table, columns).await;
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut searched, mut nonempty, mut counted) = (0, 0, 0);
    // Every tricky needle in every form, then the random clauses.
    let text_column = columns
        .iter()
        .filter(|(_, k)| *k == Kind::Text)
        .map(|(n, _)| *n)
        .find(|n| *n == "name" || *n == "title");
    let tricky: Vec<String> = text_column
        .map(|c| {
            TRICKY_NEEDLES
                .iter()
                .flat_map(|n| tricky_atoms(c, n))
                .collect()
        })
        .unwrap_or_default();
    let random = (0..CLAUSES_PER_TABLE).map(|_| clause(&mut rng, &samples));
    let clauses: Vec<String> = tricky.iter().cloned().chain(random).collect();
    for (i, clause) in clauses.into_iter().enumerate() {
        let random = i >= tricky.len();
        let sql = format!("SELECT id FROM {table} WHERE {clause} ORDER BY id");
        let want = match local.sql(&sql).await {
            Ok(df) => strings(&df.collect().await.unwrap()),
            Err(e) => panic!("clause {i} does not plan locally: {clause}: {e}"),
        };
        env.emulator.state.clear_requests();
        let got = env.rows(&sql).await;
        assert_eq!(
            got, want,
            "clause {i} (seed {seed}) changed the answer: WHERE {clause}"
        );
        // A count is answered from `total_count` when the search is exact: same number.
        let count = format!("SELECT count(*) FROM {table} WHERE {clause}");
        assert_eq!(
            env.rows(&count).await,
            vec![vec![want.len().to_string()]],
            "clause {i} (seed {seed}) changed the count: WHERE {clause}"
        );
        counted += usize::from(env.plan("EXPLAIN", &count).await.contains("rows counted"));
        if !random {
            continue;
        }
        let requests = env.emulator.state.requests();
        searched += usize::from(requests.iter().any(|r| (expect.narrowed)(r)));
        nonempty += usize::from(!want.is_empty());
    }
    // The generator must really exercise pushdown and real matches, or the test proves little.
    assert!(
        searched > expect.min_narrowed,
        "{table}: only {searched} clauses narrowed the requests"
    );
    assert!(
        nonempty > CLAUSES_PER_TABLE / 4,
        "{table}: only {nonempty} clauses matched any row"
    );
    // Exact searches (booleans, integers) must come up often enough to test counting.
    assert!(
        counted >= expect.min_counted,
        "{table}: only {counted} clauses were counted from total_count"
    );
}

const ACTIVITY_LOG_COLUMNS: &[(&str, Kind)] = &[
    ("created_at", Kind::Time),
    ("activity_type", Kind::Text),
    ("performed_by_email", Kind::Text),
];

#[tokio::test]
async fn pushdown_never_changes_activity_log_results() {
    // Pages of 7: a narrowed range reads fewer pages, and edges fall inside pages.
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 7).await;
    let expect = Expect {
        narrowed: |request| {
            let query = request.query.as_deref().unwrap_or_default();
            query.contains("created_at_before=") || !query.contains("created_at_after=0&")
        },
        // Only a top-level comparison of created_at narrows (not one under OR or NOT).
        min_narrowed: CLAUSES_PER_TABLE / 8,
        min_counted: 0,
    };
    differential_with(
        &env,
        "admin_activity_logs",
        ACTIVITY_LOG_COLUMNS,
        14,
        expect,
    )
    .await;
}

#[tokio::test]
async fn pushdown_never_changes_contacts_results() {
    // A non-UTC workspace makes day truncation bite.
    let config = EmulatorConfig {
        timezone: "America/Los_Angeles".into(),
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |_| {}).await;
    for name in TRICKY_NAMES {
        env.engine
            .execute(&format!(
                "INSERT INTO contacts (role, name) VALUES ('lead', {})",
                quote(name)
            ))
            .await
            .unwrap();
    }
    differential(&env, "contacts", CONTACT_COLUMNS, 11).await;
}

#[tokio::test]
async fn pushdown_never_changes_conversations_results() {
    let env = start().await;
    differential(&env, "conversations", CONVERSATION_COLUMNS, 12).await;
}

#[tokio::test]
async fn pushdown_never_changes_tickets_results() {
    let env = start_with(
        EmulatorConfig {
            tickets: 60,
            ..EmulatorConfig::default()
        },
        |_| {},
    )
    .await;
    differential(&env, "tickets", TICKET_COLUMNS, 13).await;
}

#[tokio::test]
async fn search_and_lookups_send_the_fewest_requests() {
    let env = start().await;
    let contact = &env.emulator.state.snapshot("contacts")[5];
    let email = contact["email"].as_str().unwrap().to_string();
    let id = contact["id"].as_str().unwrap().to_string();

    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!("SELECT id FROM contacts WHERE email = '{email}'"))
        .await;
    assert_eq!(rows, vec![vec![id.clone()]]);
    assert_eq!(env.requests(), vec!["POST /contacts/search".to_string()]);
    let body = env.emulator.state.requests()[0].body.clone().unwrap();
    assert_eq!(
        body["query"],
        serde_json::json!({"field": "email", "operator": "=", "value": email})
    );

    let conversations = env.emulator.state.snapshot("conversations");
    let ids: Vec<String> = conversations[..3]
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT id FROM conversations WHERE id IN ('{}', '{}', '{}')",
            ids[0], ids[1], ids[2]
        ))
        .await;
    assert_eq!(rows.len(), 3);
    let mut requests = env.requests();
    requests.sort();
    let mut want: Vec<String> = ids
        .iter()
        .map(|i| format!("GET /conversations/{i}"))
        .collect();
    want.sort();
    assert_eq!(requests, want);

    env.emulator.state.clear_requests();
    env.engine
        .execute("SET intercom.pushdown = off")
        .await
        .unwrap();
    let rows = env
        .rows(&format!("SELECT id FROM contacts WHERE email = '{email}'"))
        .await;
    assert_eq!(rows, vec![vec![id]]);
    assert!(
        env.requests()
            .iter()
            .all(|r| r.starts_with("GET /contacts")),
        "{:?}",
        env.requests()
    );
}

#[tokio::test]
async fn explain_analyze_reports_requests_pages_rows_and_retries() {
    use intercom_sql::emulator::{Fault, FaultRule};
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 50).await;
    env.emulator.state.inject(FaultRule {
        path_prefix: Some("/contacts".into()),
        method: None,
        fault: Fault::RateLimited {
            reset_after_secs: 1,
        },
        count: 1,
    });
    let scan = env
        .scan_line(
            "EXPLAIN ANALYZE",
            "SELECT id FROM contacts WHERE role = 'lead'",
        )
        .await;
    let leads = env
        .emulator
        .state
        .snapshot("contacts")
        .iter()
        .filter(|c| c["role"] == "lead")
        .count();
    let pages = leads.div_ceil(50).max(1);
    for want in [
        format!("requests={}", pages + 1),
        "retries=1".to_string(),
        "rate_limit_waits=1".to_string(),
        format!("pages={pages}"),
        format!("rows_fetched={leads}"),
        format!("output_rows={leads}"),
    ] {
        assert!(scan.contains(&want), "{want} missing from: {scan}");
    }
}

#[tokio::test]
async fn external_ids_and_company_ids_are_looked_up_without_changing_answers() {
    let env = start().await;
    let contacts = env.emulator.state.snapshot("contacts");
    let user = contacts
        .iter()
        .find(|c| c["external_id"].is_string())
        .expect("a user with an external_id");
    let external_id = user["external_id"].as_str().unwrap();
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT id, external_id FROM contacts WHERE external_id = '{external_id}'"
        ))
        .await;
    assert_eq!(
        rows,
        vec![vec![
            user["id"].as_str().unwrap().to_string(),
            external_id.to_string()
        ]]
    );
    assert_eq!(
        env.requests(),
        vec![format!("GET /contacts/find_by_external_id/{external_id}")]
    );

    // A company without contacts is not in Intercom's lists, but its id (and its own
    // company_id) finds it: the keys are looked up, whatever the listing would cost.
    let companies = env.emulator.state.snapshot("companies");
    let hidden = companies
        .iter()
        .find(|c| c["user_count"].as_i64() == Some(0))
        .expect("a company without contacts");
    let shown = companies
        .iter()
        .find(|c| c["user_count"].as_i64() > Some(0))
        .unwrap();
    let (hidden_id, shown_id) = (field(hidden, "id"), field(shown, "id"));
    let mut both = vec![hidden_id.clone(), shown_id.clone()];
    both.sort();
    let sql =
        format!("SELECT id FROM companies WHERE id IN ('{hidden_id}', '{shown_id}') ORDER BY id");
    env.rows("SELECT count(*) FROM companies").await; // the listing's size is now known
    env.emulator.state.clear_requests();
    let found: Vec<String> = env.rows(&sql).await.concat();
    assert_eq!(found, both);
    assert_eq!(env.requests().len(), 2, "{:?}", env.requests());
    let by_own_id = env
        .rows(&format!(
            "SELECT id FROM companies WHERE company_id = '{}'",
            field(hidden, "company_id")
        ))
        .await;
    assert_eq!(by_own_id, vec![vec![hidden_id.clone()]]);
    // Without pushdown the table is Intercom's listing, which leaves it out
    // (docs/tables/companies.md).
    env.engine
        .execute("SET intercom.pushdown = off")
        .await
        .unwrap();
    assert_eq!(env.rows(&sql).await.concat(), vec![shown_id]);
}

#[tokio::test]
async fn the_pushdown_setting_is_shown_set_and_checked() {
    let env = start().await;
    assert_eq!(
        env.rows("SHOW intercom.pushdown").await,
        vec![vec!["intercom.pushdown".to_string(), "on".into()]]
    );
    env.engine
        .execute("SET intercom.pushdown = off")
        .await
        .unwrap();
    assert_eq!(env.rows("SHOW intercom.pushdown").await[0][1], "off");
    let message = env.error("SET intercom.pushdown = maybe").await;
    assert!(
        message.contains("intercom.pushdown takes on or off, not 'maybe'"),
        "{message}"
    );
    let message = env.error("SET intercom.nope = 1").await;
    assert!(
        message.contains("unknown setting intercom.nope"),
        "{message}"
    );
    // A second engine (another session) keeps its own value.
    let other = Engine::connect(env.engine.client().config().clone()).unwrap();
    let batches = other.execute("SHOW intercom.pushdown").await.unwrap();
    assert_eq!(strings(&batches)[0][1], "on");
}

#[tokio::test]
async fn your_own_company_id_is_one_lookup() {
    let env = start().await;
    let companies = env.emulator.state.snapshot("companies");
    let shown = companies
        .iter()
        .find(|c| c["user_count"].as_i64() > Some(0))
        .unwrap();
    let hidden = companies
        .iter()
        .find(|c| c["user_count"].as_i64() == Some(0))
        .unwrap();
    let company_id = shown["company_id"].as_str().unwrap();
    let rows = env
        .rows(&format!(
            "SELECT id FROM companies WHERE company_id = '{company_id}'"
        ))
        .await;
    assert_eq!(rows, vec![vec![shown["id"].as_str().unwrap().to_string()]]);
    assert_eq!(
        env.requests(),
        vec![format!("GET /companies?company_id={company_id}")]
    );
    // Not listed by Intercom, but found by the lookup; an unknown id is zero rows.
    let rows = env
        .rows(&format!(
            "SELECT id FROM companies WHERE company_id = '{}'",
            hidden["company_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rows, vec![vec![hidden["id"].as_str().unwrap().to_string()]]);
    let rows = env
        .rows("SELECT id FROM companies WHERE company_id = 'no-such-company'")
        .await;
    assert!(rows.is_empty(), "{rows:?}");
}

#[tokio::test]
async fn limit_passes_through_pushed_filters_and_stops_paging() {
    // Pages of 10: a full listing would take 60 requests.
    let env = start_with(
        EmulatorConfig {
            contacts: 600,
            ..EmulatorConfig::default()
        },
        |c| c.page_size = 10,
    )
    .await;
    let leads = env
        .emulator
        .state
        .snapshot("contacts")
        .iter()
        .filter(|c| c["role"] == "lead")
        .count();
    assert!(leads > 20, "{leads}");
    env.emulator.state.clear_requests();
    let rows = env
        .rows("SELECT id, role FROM contacts WHERE role = 'lead' LIMIT 5")
        .await;
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r[1] == "lead"));
    let requests = env.emulator.state.requests();
    assert_eq!(requests.len(), 1, "{:?}", env.requests());
    assert_eq!(
        requests[0].body.as_ref().unwrap()["pagination"]["per_page"],
        5
    );

    // With pushdown off the same query pages through the listing only until 5 leads are found.
    env.engine
        .execute("SET intercom.pushdown = off")
        .await
        .unwrap();
    env.emulator.state.clear_requests();
    let rows = env
        .rows("SELECT id FROM contacts WHERE role = 'lead' LIMIT 5")
        .await;
    assert_eq!(rows.len(), 5);
    let pages = env.emulator.state.request_count();
    assert!(pages < 10, "{pages} pages for 5 leads");

    let plan = env
        .plan(
            "EXPLAIN",
            "SELECT id FROM contacts WHERE role = 'lead' LIMIT 5",
        )
        .await;
    assert!(
        plan.contains("limit=5") && plan.contains("filter: role@"),
        "{plan}"
    );
}

/// Runs `sql` with pushdown on and off; returns both answers (sorted) and the requests each sent.
async fn on_and_off(env: &TestEnv, sql: &str) -> [(Vec<Vec<String>>, Vec<String>); 2] {
    let mut out = Vec::new();
    for setting in ["on", "off"] {
        env.engine
            .execute(&format!("SET intercom.pushdown = {setting}"))
            .await
            .unwrap();
        env.emulator.state.clear_requests();
        let mut rows = env.rows(sql).await;
        rows.sort();
        out.push((rows, env.requests()));
    }
    env.engine
        .execute("SET intercom.pushdown = on")
        .await
        .unwrap();
    [out.remove(0), out.remove(0)]
}

#[tokio::test]
async fn joins_fetch_only_the_matching_parents_sub_resources() {
    let env = start().await;
    let contacts = env.emulator.state.snapshot("contacts");
    let total = contacts.len();
    let email = contacts[0]["email"].as_str().unwrap().to_string();
    let prefix = &email[..6];
    let matching = contacts
        .iter()
        .filter(|c| c["email"].as_str().is_some_and(|e| e.starts_with(prefix)))
        .count();
    assert!(
        matching >= 1 && matching * 4 < total,
        "{matching} of {total}"
    );

    for sql in [
        format!(
            "SELECT c.email, t.tag_name FROM contacts c JOIN contact_tags t \
             ON t.contact_id = c.id WHERE c.email = '{email}'"
        ),
        // Written the other way round: the planner still builds from the searched side.
        format!(
            "SELECT c.email, t.tag_name FROM contact_tags t JOIN contacts c \
             ON t.contact_id = c.id WHERE c.email = '{email}'"
        ),
        format!(
            "SELECT c.id, t.tag_id FROM contacts c JOIN contact_tags t \
             ON t.contact_id = c.id WHERE c.email LIKE '{prefix}%'"
        ),
    ] {
        let [(on, sent), (off, walked)] = on_and_off(&env, &sql).await;
        assert_eq!(on, off, "{sql}");
        // One search, then one tag list per matching contact: O(matching), not O(all).
        let searches = sent
            .iter()
            .filter(|r| *r == "POST /contacts/search")
            .count();
        let tag_lists = sent.iter().filter(|r| r.ends_with("/tags")).count();
        assert_eq!(searches, 1, "{sql}: {sent:?}");
        let expected = if sql.contains("LIKE") { matching } else { 1 };
        assert_eq!(tag_lists, expected, "{sql}: {sent:?}");
        assert_eq!(sent.len(), 1 + expected, "{sql}: {sent:?}");
        assert!(walked.len() > total, "pushdown off walks every contact");
    }

    // Conversations and their parts, the same way.
    let sql = "SELECT v.id, p.id FROM conversations v JOIN conversation_parts p \
               ON p.conversation_id = v.id WHERE v.state = 'snoozed'";
    let snoozed = env
        .emulator
        .state
        .snapshot("conversations")
        .iter()
        .filter(|c| c["state"] == "snoozed")
        .count();
    let [(on, sent), (off, _)] = on_and_off(&env, sql).await;
    assert_eq!(on, off);
    let part_fetches = sent
        .iter()
        .filter(|r| r.starts_with("GET /conversations/"))
        .count();
    assert_eq!(part_fetches, snoozed, "{sent:?}");
}

#[tokio::test]
async fn join_keys_become_lookups_and_show_in_explain_analyze() {
    let env = start().await;
    let contacts = env.emulator.state.snapshot("contacts");
    let (a, b) = (
        contacts[3]["id"].as_str().unwrap(),
        contacts[4]["id"].as_str().unwrap(),
    );
    // The tags of two contacts are the small side; the contacts they belong to are then
    // fetched by id instead of listing every contact.
    let sql = format!(
        "SELECT t.tag_id, c.email FROM contact_tags t JOIN contacts c ON c.id = t.contact_id \
         WHERE t.contact_id IN ('{a}', '{b}')"
    );
    let [(on, sent), (off, _)] = on_and_off(&env, &sql).await;
    assert_eq!(on, off);
    assert!(!on.is_empty());
    assert!(
        sent.iter().all(|r| !r.starts_with("GET /contacts?")
            && r != "GET /contacts"
            && r != "POST /contacts/search"),
        "{sent:?}"
    );
    assert!(sent.len() <= 4, "{sent:?}");

    let email = contacts[0]["email"].as_str().unwrap();
    let text = env
        .plan(
            "EXPLAIN ANALYZE",
            &format!(
                "SELECT t.tag_name FROM contacts c JOIN contact_tags t \
                 ON t.contact_id = c.id WHERE c.email = '{email}'"
            ),
        )
        .await;
    let id = contacts[0]["id"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "ran: GET /contacts/{{id}}/tags for ids [\"{id}\"]"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn custom_attributes_are_typed_columns_and_searched() {
    let env = start().await;
    let sql = "SELECT id, custom_attributes.seats FROM contacts \
               WHERE custom_attributes.plan_tier = 'enterprise' AND custom_attributes.seats > 100 \
               ORDER BY id";
    let [(on, sent), (off, _)] = on_and_off(&env, sql).await;
    assert_eq!(on, off);
    assert!(!on.is_empty());
    assert!(
        on.iter().all(|r| r[1].parse::<i64>().unwrap() > 100),
        "{on:?}"
    );
    assert_eq!(sent, ["POST /contacts/search"]);
    env.emulator.state.clear_requests();
    env.rows(sql).await;
    let body = env.emulator.state.requests()[0].body.clone().unwrap();
    assert_eq!(
        body["query"]["value"][0],
        serde_json::json!({"field": "custom_attributes.plan_tier", "operator": "=", "value": "enterprise"})
    );
    // Qualified, quoted and mixed-case spellings name the same columns.
    let rows = env
        .rows(
            "SELECT count(*) FROM contacts c WHERE c.custom_attributes.\"Account Manager\" IS NOT NULL \
             AND \"custom_attributes.beta_tester\" = true",
        )
        .await;
    assert!(rows[0][0].parse::<i64>().unwrap() > 0, "{rows:?}");
    // Companies and conversations get typed columns too (read, not searched).
    let described = env.engine.tables();
    for table in ["companies", "conversations"] {
        let info = described.iter().find(|t| t.name == table).unwrap();
        assert!(
            info.schema
                .fields()
                .iter()
                .any(|f| f.name().starts_with("custom_attributes.")),
            "{table} has no custom attribute columns"
        );
    }
    let error = env
        .error("SELECT custom_attributes.no_such_thing FROM contacts")
        .await;
    assert!(error.contains("custom_attributes.no_such_thing"), "{error}");
}

#[tokio::test]
async fn companies_by_tag_and_segment_are_one_filtered_list() {
    let env = start().await;
    let tags = env.rows("SELECT id FROM tags ORDER BY id").await;
    let segments = env.rows("SELECT id FROM segments ORDER BY id").await;
    let mut checked = 0;
    for (table, key, ids) in [
        ("tag_companies", "tag_id", &tags),
        ("segment_companies", "segment_id", &segments),
    ] {
        for id in ids.iter().map(|r| &r[0]).take(4) {
            let sql = format!("SELECT {key}, company_id, name FROM {table} WHERE {key} = '{id}'");
            let [(on, sent), (off, walked)] = on_and_off(&env, &sql).await;
            assert_eq!(on, off, "{sql}");
            assert_eq!(sent.len(), 1, "{sent:?}");
            assert!(
                sent[0].starts_with(&format!("GET /companies?{key}={id}")),
                "{sent:?}"
            );
            assert!(walked.len() > ids.len(), "pushdown off walks every parent");
            checked += on.len();
        }
    }
    assert!(checked > 0, "no tag or segment has companies");

    // The tags' own view agrees: a company is in tag_companies iff it carries the tag.
    let embedded = env
        .rows(
            "SELECT count(*) FROM companies c, tags t \
             WHERE t.name = 'VIP' AND c.tags LIKE '%\"id\":\"' || t.id || '\"%'",
        )
        .await;
    let listed = env
        .rows(
            "SELECT count(*) FROM tags t JOIN tag_companies c ON c.tag_id = t.id \
             WHERE t.name = 'VIP'",
        )
        .await;
    assert_eq!(embedded, listed);
    assert_ne!(listed[0][0], "0", "no company carries VIP");
}

#[tokio::test]
async fn count_of_an_exact_search_is_one_request_and_the_same_number() {
    let env = start().await;
    let bounced = env
        .emulator
        .state
        .snapshot("contacts")
        .iter()
        .filter(|c| c["has_hard_bounced"] == serde_json::json!(true))
        .count();
    assert!(bounced > 0, "the seed has no contact whose email bounced");
    let cases = [
        ("SELECT count(*) FROM contacts", "GET /contacts?per_page=1"),
        (
            "SELECT count(*) FROM contacts WHERE has_hard_bounced",
            "POST /contacts/search",
        ),
        (
            "SELECT count(*) FROM contacts WHERE NOT has_hard_bounced AND owner_id IN (1, 2)",
            "POST /contacts/search",
        ),
        (
            "SELECT count(*) FROM conversations",
            "GET /conversations?per_page=1",
        ),
        ("SELECT count(*) FROM tickets", "POST /tickets/search"),
        (
            "SELECT count(1) FROM conversations WHERE open",
            "POST /conversations/search",
        ),
    ];
    for (sql, request) in cases {
        let [(on, on_requests), (off, _)] = on_and_off(&env, sql).await;
        assert_eq!(on, off, "{sql}: counting changed the answer");
        assert_eq!(on_requests, vec![request.to_string()], "{sql}");
        let plan = env.scan_line("EXPLAIN", sql).await;
        assert!(plan.contains("rows counted, not read"), "{sql}: {plan}");
    }
    let [(on, _), _] =
        on_and_off(&env, "SELECT count(*) FROM contacts WHERE has_hard_bounced").await;
    assert_eq!(on, vec![vec![bounced.to_string()]]);

    // Searches Intercom widens (case-insensitive text, day-granular dates, `<` that may be
    // inclusive) are read and checked row by row: the same answer, more requests.
    for sql in [
        "SELECT count(*) FROM contacts WHERE role = 'lead'",
        "SELECT count(*) FROM contacts WHERE created_at > TIMESTAMP '2024-01-01'",
        "SELECT count(*) FROM conversations WHERE created_at < TIMESTAMP '2024-06-01'",
        "SELECT count(*) FROM contacts WHERE role = 'lead' LIMIT 1",
    ] {
        let [(on, on_requests), (off, _)] = on_and_off(&env, sql).await;
        assert_eq!(on, off, "{sql}");
        assert!(
            on_requests.iter().all(|r| !r.contains("per_page=1")),
            "{sql}: {on_requests:?}"
        );
        let plan = env.scan_line("EXPLAIN", sql).await;
        assert!(!plan.contains("rows counted"), "{sql}: {plan}");
    }
    // Columns wanted: the rows are read.
    let plan = env
        .scan_line("EXPLAIN", "SELECT count(email) FROM contacts")
        .await;
    assert!(!plan.contains("rows counted"), "{plan}");
}

#[tokio::test]
async fn a_count_survives_a_failing_first_answer_and_reports_errors_in_one_line() {
    use intercom_sql::emulator::{Fault, FaultRule};
    let env = start().await;
    let total = env.emulator.state.snapshot("contacts").len();
    let fault = |fault, count| FaultRule {
        path_prefix: Some("/contacts".into()),
        method: Some("GET".into()),
        fault,
        count,
    };
    env.emulator.state.inject(fault(Fault::Status(503), 1));
    let rows = env.rows("SELECT count(*) FROM contacts").await;
    assert_eq!(rows, vec![vec![total.to_string()]]);
    env.emulator.state.inject(fault(Fault::Status(401), 100));
    let error = env.error("SELECT count(*) FROM contacts").await;
    assert!(!error.contains('\n') && error.contains("401"), "{error}");
}

#[tokio::test]
async fn ids_of_a_small_table_known_to_fit_in_fewer_pages_are_read_by_listing_it() {
    let env = start().await;
    let contacts = snapshot_ids_of(&env, "contacts");
    let ids: Vec<String> = contacts[..4].to_vec();
    let sql = format!(
        "SELECT id FROM contacts WHERE id IN ({}) ORDER BY id",
        ids.iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Size unknown: a GET per id.
    let [(first, first_requests), (off, _)] = on_and_off(&env, &sql).await;
    assert_eq!(first, off);
    assert_eq!(first_requests.len(), 4, "{first_requests:?}");
    assert!(
        first_requests
            .iter()
            .all(|r| r.starts_with("GET /contacts/"))
    );
    // The listing just read (pushdown off) reported 200 contacts: two pages. Two requests
    // replace four, with the same rows.
    let [(known, known_requests), _] = on_and_off(&env, &sql).await;
    assert_eq!(known, first);
    assert_eq!(known_requests.len(), 2, "{known_requests:?}");
    assert!(
        known_requests
            .iter()
            .all(|r| r.starts_with("GET /contacts?")),
        "{known_requests:?}"
    );
    let plan = env.scan_line("EXPLAIN", &sql).await;
    assert!(plan.contains("request: GET /contacts per_page="), "{plan}");
    // One id is still one request.
    env.emulator.state.clear_requests();
    let one = env
        .rows(&format!("SELECT id FROM contacts WHERE id = '{}'", ids[0]))
        .await;
    assert_eq!(one, vec![vec![ids[0].clone()]]);
    assert_eq!(env.requests().len(), 1);
    // Where the listing takes as many requests, the lookups stay: no fewer than 2 GETs.
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT id FROM contacts WHERE id IN ('{}', '{}')",
            contacts[0], contacts[1]
        ))
        .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(env.requests().len(), 2, "{:?}", env.requests());
    // Companies are looked up even when their listing is known to be one page: it leaves out
    // those without contacts, which their ids find.
    let companies = snapshot_ids_of(&env, "companies");
    env.rows("SELECT count(*) FROM companies").await;
    env.emulator.state.clear_requests();
    let sql = format!(
        "SELECT id FROM companies WHERE id IN ('{}', '{}', '{}')",
        companies[0], companies[1], companies[2]
    );
    assert_eq!(env.rows(&sql).await.len(), 3);
    let requests = env.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert!(requests.iter().all(|r| r.starts_with("GET /companies/")));
}

fn snapshot_ids_of(env: &TestEnv, kind: &str) -> Vec<String> {
    crate::common::snapshot_ids(env, kind)
}

/// `contact_tags WHERE tag_id = …` finds the tagged contacts with one contacts search: only
/// their tags are read, and when nothing but the contact is wanted, no tag list at all.
#[tokio::test]
async fn a_tags_members_are_one_contacts_search() {
    let env = start().await;
    let tag = crate::common::snapshot_ids(&env, "tags")[0].clone();
    let queries = [
        format!("SELECT contact_id FROM contact_tags WHERE tag_id = '{tag}' ORDER BY 1"),
        format!("SELECT count(*) FROM contact_tags WHERE tag_id = '{tag}'"),
        format!(
            "SELECT contact_id, tag_id, tag_name, applied_at FROM contact_tags WHERE tag_id = '{tag}' ORDER BY 1"
        ),
        format!(
            "SELECT contact_id, tag_id FROM contact_tags WHERE tag_id IN ('{tag}', 'nope') ORDER BY 1"
        ),
        format!(
            "SELECT c.email FROM contacts c JOIN contact_tags t ON t.contact_id = c.id WHERE t.tag_id = '{tag}' ORDER BY 1"
        ),
    ];
    let mut results = Vec::new();
    for sql in &queries {
        let [(on, on_requests), (off, off_requests)] = on_and_off(&env, sql).await;
        assert_eq!(on, off, "{sql}");
        assert!(
            on_requests[0].starts_with("POST /contacts/search"),
            "{sql}: {on_requests:?}"
        );
        assert!(
            on_requests.len() < off_requests.len() / 4,
            "{sql}: {on_requests:?}"
        );
        results.push((on, on_requests));
    }
    let members = results[0].0.len();
    assert!(members > 1, "the seed's first tag has members");
    // The members alone: one search, no request per contact.
    assert_eq!(results[0].1.len(), 1, "{:?}", results[0].1);
    assert_eq!(results[1].1.len(), 1, "{:?}", results[1].1);
    assert_eq!(results[1].0, vec![vec![members.to_string()]]);
    // The tag's own columns: one search, then the tags of the members only.
    assert_eq!(results[2].1.len(), 1 + members, "{:?}", results[2].1);
    // Two values: an OR of `=` (the search takes no IN on tag_id), each member's tags read.
    assert_eq!(results[3].1.len(), 1 + members, "{:?}", results[3].1);
    let plan = env.scan_line("EXPLAIN", &queries[0]).await;
    assert!(
        plan.contains(&format!(
            "POST /contacts/search {{\"query\":{{\"field\":\"tag_id\",\"operator\":\"=\",\"value\":\"{tag}\"}}}}"
        )) && plan.contains("each of the contacts found is one row with tag_id"),
        "{plan}"
    );
    let plan = env.scan_line("EXPLAIN", &queries[2]).await;
    assert!(
        plan.contains(
            "GET /contacts/{id}/tags for every row of contacts (listed by POST /contacts/search"
        ),
        "{plan}"
    );
}

/// A conversation's tags, contacts and teammates, asked by member, are one conversations search
/// (array membership: `tag_ids`, `contact_ids`, `teammate_ids`), with the same rows as walking
/// every conversation.
#[tokio::test]
async fn conversation_memberships_are_one_conversations_search() {
    let env = start().await;
    let conversations = env.emulator.state.snapshot("conversations");
    let first_id = |list: &str, key: &str| {
        conversations
            .iter()
            .find_map(|c| c[list][key].as_array()?.first().map(|x| field(x, "id")))
            .expect("a conversation with one")
    };
    let cases = [
        (
            "conversation_tags",
            "tag_id",
            "tag_ids",
            first_id("tags", "tags"),
        ),
        (
            "conversation_contacts",
            "contact_id",
            "contact_ids",
            first_id("contacts", "contacts"),
        ),
        (
            "conversation_teammates",
            "admin_id",
            "teammate_ids",
            first_id("teammates", "teammates"),
        ),
    ];
    for (table, column, field_name, value) in cases {
        let members =
            format!("SELECT conversation_id FROM {table} WHERE {column} = '{value}' ORDER BY 1");
        let [(on, on_requests), (off, off_requests)] = on_and_off(&env, &members).await;
        assert_eq!(on, off, "{members}");
        assert!(!on.is_empty(), "{members}");
        assert_eq!(on_requests, ["POST /conversations/search"], "{members}");
        assert!(off_requests.len() > on.len(), "{off_requests:?}");
        let plan = env.scan_line("EXPLAIN", &members).await;
        assert!(
            plan.contains(&format!(
                "{{\"field\":\"{field_name}\",\"operator\":\"=\",\"value\":\"{value}\"}}"
            )),
            "{plan}"
        );
        // Every column: the search, then only the members' conversations (a teammate row
        // has no column but the two the search gives).
        let all = format!("SELECT * FROM {table} WHERE {column} = '{value}' ORDER BY 1");
        let [(on, on_requests), (off, _)] = on_and_off(&env, &all).await;
        assert_eq!(on, off, "{all}");
        let per_member = usize::from(table != "conversation_teammates");
        assert_eq!(
            on_requests.len(),
            1 + per_member * on.len(),
            "{all}: {on_requests:?}"
        );
    }
}

/// A contact's tickets are one tickets search (`contact_ids`); the category is searched by the
/// names Intercom's search takes (`request`, `task`, `tracker`), with the same rows.
#[tokio::test]
async fn ticket_contacts_and_categories_are_searched() {
    let env = start().await;
    let tickets = env.emulator.state.snapshot("tickets");
    let contact = tickets
        .iter()
        .find_map(|t| {
            t["contacts"]["contacts"]
                .as_array()?
                .first()
                .map(|c| field(c, "id"))
        })
        .expect("a ticket with a contact");
    let sql = format!("SELECT ticket_id FROM ticket_contacts WHERE contact_id = '{contact}'");
    let [(on, on_requests), (off, off_requests)] = on_and_off(&env, &sql).await;
    assert_eq!(on, off);
    assert!(!on.is_empty());
    assert_eq!(on_requests, ["POST /tickets/search"]);
    assert!(off_requests.len() > 2, "{off_requests:?}");
    for category in ["Customer", "Back-office", "Tracker"] {
        let sql = format!("SELECT id FROM tickets WHERE category = '{category}' ORDER BY id");
        let [(on, on_requests), (off, _)] = on_and_off(&env, &sql).await;
        assert_eq!(on, off, "{sql}");
        assert_eq!(on_requests.len(), 1, "{on_requests:?}");
    }
    let plan = env
        .scan_line(
            "EXPLAIN",
            "SELECT id FROM tickets WHERE category = 'Back-office'",
        )
        .await;
    assert!(
        plan.contains("{\"field\":\"category\",\"operator\":\"=\",\"value\":\"task\"}"),
        "{plan}"
    );
}

const BUG_REPORT_COLUMNS: &[(&str, Kind)] = &[
    ("severity", Kind::Text),
    ("affected_users", Kind::Int),
    ("title", Kind::Text),
    ("created_at", Kind::Time),
    ("open", Kind::Bool),
];

#[tokio::test]
async fn pushdown_never_changes_a_ticket_types_results() {
    let env = start_with(
        EmulatorConfig {
            tickets: 120,
            ..EmulatorConfig::default()
        },
        |_| {},
    )
    .await;
    // Every search of the table holds its type; a clause is narrowed when it adds an
    // attribute or another field to it.
    let expect = Expect {
        narrowed: |request| {
            let body = request
                .body
                .as_ref()
                .map(|b| b.to_string())
                .unwrap_or_default();
            body.contains("ticket_attribute.") || body.contains("\"title\"")
        },
        min_narrowed: CLAUSES_PER_TABLE / 4,
        min_counted: 10,
    };
    differential_with(&env, "bug_report_tickets", BUG_REPORT_COLUMNS, 15, expect).await;
}

#[tokio::test]
async fn the_most_recently_seen_companies_are_one_sorted_list_page() {
    let env = start_with(
        EmulatorConfig {
            companies: 400,
            contacts: 2_000,
            ..EmulatorConfig::default()
        },
        |c| c.page_size = 50,
    )
    .await;
    let queries = [
        (
            "SELECT id, last_request_at FROM companies ORDER BY last_request_at DESC NULLS LAST LIMIT 10",
            "order=desc",
            1,
        ),
        (
            "SELECT id, name FROM companies ORDER BY last_request_at LIMIT 7",
            "order=asc",
            1,
        ),
        // More than a page, a second key (ties on the first would be read to their end).
        (
            "SELECT name, last_request_at, id FROM companies ORDER BY last_request_at DESC NULLS LAST, id LIMIT 120",
            "order=desc",
            3,
        ),
    ];
    for (sql, order, pages) in queries {
        env.emulator.state.clear_requests();
        let pushed = env.rows(sql).await;
        let sent = env.requests();
        assert_eq!(sent.len(), pages, "{sql}: {sent:?}");
        assert!(
            sent.iter()
                .all(|r| r.starts_with("POST /companies/list?") && r.contains(order)),
            "{sql}: {sent:?}"
        );
        env.rows("SET intercom.pushdown = off").await;
        env.emulator.state.clear_requests();
        let local = env.rows(sql).await;
        assert!(env.requests().len() > pages, "{sql}");
        env.rows("SET intercom.pushdown = on").await;
        assert_eq!(pushed, local, "{sql}");
    }
    let line = env
        .scan_line(
            "EXPLAIN",
            "SELECT id FROM companies ORDER BY last_request_at DESC NULLS LAST LIMIT 10",
        )
        .await;
    assert!(
        line.contains("POST /companies/list?order=desc per_page=11")
            && line.contains("stops after 10 rows with a value and their ties"),
        "{line}"
    );
    // Not taken: NULLS FIRST (PostgreSQL's default for DESC: Intercom does not say where
    // companies never seen sort), a filter between the sort and the scan, no LIMIT.
    for sql in [
        "SELECT id FROM companies ORDER BY last_request_at DESC LIMIT 10",
        "SELECT id FROM companies WHERE name LIKE '%a%' ORDER BY last_request_at LIMIT 10",
        "SELECT id FROM companies ORDER BY last_request_at",
    ] {
        let line = env.scan_line("EXPLAIN", sql).await;
        assert!(line.contains("GET /companies per_page"), "{sql}: {line}");
    }
}

/// A keyed table's only pushdown is its key (and a column's query parameter): random clauses
/// over its columns, under key values given as `=`, `IN` or ORs, give the rows a local filter
/// of each value's rows gives, and only the values named are listed.
async fn keyed_differential(
    env: &TestEnv,
    table: &str,
    key: &str,
    values: &[&str],
    columns: &[(&str, Kind)],
    seed: u64,
) -> usize {
    let mut batches = Vec::new();
    for value in values {
        let sql = format!("SELECT * FROM {table} WHERE {key} = '{value}'");
        batches.extend(env.engine.execute(&sql).await.unwrap());
    }
    let schema = batches[0].schema();
    let local = SessionContext::new();
    local
        .register_table(
            table,
            Arc::new(MemTable::try_new(schema, vec![batches]).unwrap()),
        )
        .unwrap();
    let samples = samples(&local, table, columns).await;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut nonempty = 0;
    for i in 0..120 {
        let mut chosen: Vec<&str> = values
            .iter()
            .copied()
            .filter(|_| rng.u8(..) < 100)
            .collect();
        if chosen.is_empty() {
            chosen.push(values[rng.usize(..values.len())]);
        }
        let keys = match rng.u8(..3) {
            0 if chosen.len() == 1 => format!("{key} = '{}'", chosen[0]),
            1 => format!("{key} IN ('{}')", chosen.join("', '")),
            _ => format!(
                "({})",
                chosen
                    .iter()
                    .map(|p| format!("{key} = '{p}'"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            ),
        };
        let sql = format!(
            "SELECT {key}, id FROM {table} WHERE {keys} AND ({}) ORDER BY {key}, id",
            clause(&mut rng, &samples)
        );
        let want = strings(&local.sql(&sql).await.unwrap().collect().await.unwrap());
        env.emulator.state.clear_requests();
        let got = env.rows(&sql).await;
        assert_eq!(got, want, "clause {i} changed the answer: {sql}");
        nonempty += usize::from(!want.is_empty());
        let mut listed: Vec<String> = env
            .emulator
            .state
            .requests()
            .iter()
            .filter(|r| r.query.as_deref().is_some_and(|q| q.contains("page=1&")))
            .map(|r| r.query.clone().unwrap_or_default())
            .collect();
        listed.sort();
        listed.dedup();
        assert_eq!(listed.len(), chosen.len(), "{sql}: {listed:?}");
    }
    nonempty
}

const ARTICLE_SEARCH_COLUMNS: &[(&str, Kind)] = &[
    ("title", Kind::Text),
    ("state", Kind::Text),
    ("author_id", Kind::Int),
    ("created_at", Kind::Time),
];

#[tokio::test]
async fn pushdown_never_changes_article_search_results() {
    // Pages of 3: a phrase's rows span pages.
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 3).await;
    let phrases = ["your", "team", "refund", "plan", "no-such-words"];
    let nonempty = keyed_differential(
        &env,
        "article_search",
        "phrase",
        &phrases,
        ARTICLE_SEARCH_COLUMNS,
        21,
    )
    .await;
    assert!(nonempty > 30, "only {nonempty} clauses matched any row");
    // `state = …` is the search's own parameter; the rows are the same.
    env.emulator.state.clear_requests();
    let published = env
        .rows("SELECT id FROM article_search WHERE phrase = 'your' AND state = 'published'")
        .await;
    assert!(!published.is_empty());
    assert!(
        env.requests()
            .iter()
            .all(|r| r.contains("state=published") && !r.contains("state=all")),
        "{:?}",
        env.requests()
    );
}

const INTERNAL_ARTICLE_COLUMNS: &[(&str, Kind)] = &[
    ("title", Kind::Text),
    ("owner_id", Kind::Int),
    ("created_at", Kind::Time),
];

#[tokio::test]
async fn pushdown_never_changes_internal_article_search_results() {
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 2).await;
    let nonempty = keyed_differential(
        &env,
        "internal_article_search",
        "folder_id",
        &["1", "2", "3", "99"],
        INTERNAL_ARTICLE_COLUMNS,
        22,
    )
    .await;
    assert!(nonempty > 30, "only {nonempty} clauses matched any row");
}

/// `calls WHERE conversation_id …` is one `POST /calls/search` per conversation, and the same
/// rows as the whole list filtered (pushdown off), under random extra clauses.
#[tokio::test]
async fn calls_of_conversations_are_their_search_and_the_same_rows() {
    let env = start().await;
    let mut conversations: Vec<String> = env
        .emulator
        .state
        .snapshot("calls")
        .iter()
        .map(|c| field(c, "conversation_id"))
        .collect();
    conversations.sort();
    conversations.dedup();
    // Conversations without calls too.
    let mut pool: Vec<String> = conversations.iter().take(12).cloned().collect();
    pool.extend(["1001".to_string(), "999999".to_string()]);
    let extras = [
        "TRUE",
        "state = 'completed'",
        "direction = 'inbound' OR answered_at IS NULL",
        "ended_at > initiated_at",
    ];
    let mut rng = fastrand::Rng::with_seed(5);
    let mut matched = 0;
    for i in 0..30 {
        let mut chosen: Vec<&String> = pool.iter().filter(|_| rng.u8(..) < 50).collect();
        if chosen.is_empty() {
            chosen.push(&pool[rng.usize(..pool.len())]);
        }
        let keys = if rng.bool() {
            format!(
                "conversation_id IN ('{}')",
                chosen
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("', '")
            )
        } else {
            format!(
                "({})",
                chosen
                    .iter()
                    .map(|c| format!("conversation_id = '{c}'"))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            )
        };
        let extra = extras[rng.usize(..extras.len())];
        let sql = format!("SELECT id, conversation_id FROM calls WHERE {keys} AND ({extra})");
        let [(on, on_requests), (off, off_requests)] = on_and_off(&env, &sql).await;
        assert_eq!(on, off, "clause {i} changed the answer: {sql}");
        matched += usize::from(!on.is_empty());
        assert_eq!(on_requests.len(), chosen.len(), "{sql}: {on_requests:?}");
        assert!(
            on_requests.iter().all(|r| r == "POST /calls/search"),
            "{on_requests:?}"
        );
        assert!(
            off_requests.iter().all(|r| r.starts_with("GET /calls")),
            "{off_requests:?}"
        );
    }
    assert!(matched > 10, "only {matched} clauses matched a call");
}
