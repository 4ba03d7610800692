//! Procedures against the emulator: every procedure is called and the emulator's state is
//! checked to have changed as Intercom's would; bad input is checked to send nothing.

use intercom_sql::emulator::{EmulatorConfig, Fault, FaultRule};
use serde_json::Value;

use crate::common::{TestEnv, start, start_with};

const ADMIN: &str = "991267460";
const OTHER_ADMIN: &str = "991267461";

fn snapshot(env: &TestEnv, kind: &str) -> Vec<Value> {
    env.emulator.state.snapshot(kind)
}

/// The object of `kind` with this id, if the emulator still shows it.
fn find(env: &TestEnv, kind: &str, id: &str) -> Option<Value> {
    snapshot(env, kind)
        .into_iter()
        .find(|o| crate::common::field(o, "id") == id)
}

fn get(env: &TestEnv, kind: &str, id: &str) -> Value {
    find(env, kind, id).unwrap_or_else(|| panic!("no {kind} {id}"))
}

/// Whether `needle` appears as a string anywhere inside `value`.
fn mentions(value: &Value, needle: &str) -> bool {
    match value {
        Value::String(s) => s == needle,
        Value::Number(n) => n.to_string() == needle,
        Value::Array(items) => items.iter().any(|v| mentions(v, needle)),
        Value::Object(map) => map.values().any(|v| mentions(v, needle)),
        _ => false,
    }
}

/// `METHOD /path` of the write requests served (reads are left out).
fn writes(env: &TestEnv) -> Vec<String> {
    env.requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect()
}

fn contact_with_role(env: &TestEnv, role: &str) -> String {
    snapshot(env, "contacts")
        .into_iter()
        .find(|c| c["role"] == role)
        .map(|c| crate::common::field(&c, "id"))
        .unwrap_or_else(|| panic!("no {role}"))
}

/// An open conversation and its (first) contact.
fn open_conversation(env: &TestEnv) -> (String, String) {
    snapshot(env, "conversations")
        .into_iter()
        .find(|c| {
            c["state"] == "open" && c["contacts"]["contacts"].as_array().map(Vec::len) == Some(1)
        })
        .map(|c| {
            (
                crate::common::field(&c, "id"),
                crate::common::field(&c["contacts"]["contacts"][0], "id"),
            )
        })
        .expect("an open conversation")
}

fn last_part(conversation: &Value) -> Value {
    conversation["conversation_parts"]["conversation_parts"]
        .as_array()
        .and_then(|parts| parts.last().cloned())
        .unwrap_or(Value::Null)
}

/// Runs SQL that must fail before any request: returns the message.
async fn refused(env: &TestEnv, sql: &str) -> String {
    env.emulator.state.clear_requests();
    let message = env.error(sql).await;
    assert!(env.requests().is_empty(), "{sql} sent {:?}", env.requests());
    assert!(!message.contains('\n'), "{message}");
    message
}

// ---------------------------------------------------------------- forms, binding, metadata

#[tokio::test]
async fn call_and_table_function_are_the_same_procedure() {
    let env = start().await;
    let id = contact_with_role(&env, "user");
    let rows = env.rows(&format!("CALL ArchiveContact('{id}')")).await;
    assert_eq!(rows[0][0], id);
    assert_eq!(rows[0][2], "true", "archived column");
    assert!(rows[0][3].contains("\"archived\":true"), "response JSON");
    assert!(
        find(&env, "contacts", &id).is_none(),
        "archived contacts leave lists"
    );
    let rows = env
        .rows(&format!(
            "SELECT id, archived FROM unarchive_contact('{id}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![id.clone(), "false".into()]]);
    assert!(find(&env, "contacts", &id).is_some());
    // Either spelling, any case, in either form.
    env.rows(&format!("call archive_contact(contact_id => '{id}')"))
        .await;
    env.rows(&format!("SELECT * FROM UnarchiveContact('{id}')"))
        .await;
    assert_eq!(
        writes(&env),
        vec![
            format!("POST /contacts/{id}/archive"),
            format!("POST /contacts/{id}/unarchive"),
            format!("POST /contacts/{id}/archive"),
            format!("POST /contacts/{id}/unarchive"),
        ]
    );
}

#[tokio::test]
async fn explain_plans_a_call_without_sending_it() {
    let env = start().await;
    env.rows("SET intercom.explain_width = 0").await;
    let id = contact_with_role(&env, "user");
    for sql in [
        format!("EXPLAIN CALL ArchiveContact('{id}')"),
        format!("EXPLAIN SELECT * FROM archive_contact('{id}')"),
        format!(
            "EXPLAIN SELECT * FROM contacts c, LATERAL archive_contact(c.id) WHERE c.id = '{id}'"
        ),
    ] {
        let rows = env.rows(&sql).await;
        let plan = rows
            .iter()
            .map(|r| r.join(" "))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            plan.contains("POST /contacts/{contact_id}/archive"),
            "{plan}"
        );
        // The same plan every time (golden files can pin it).
        let again = env.rows(&sql).await;
        assert_eq!(rows, again);
    }
    let rows = env
        .rows(&format!(
            "EXPLAIN SELECT a.ok FROM contacts c, LATERAL archive_contact(c.id) a WHERE c.id = '{id}'"
        ))
        .await;
    assert_eq!(
        rows[0][1],
        format!(
            "Projection: __call1_ok AS ok\n  ProcedureApply: ArchiveContact(contact_id => c.id) for each \
             input row [POST /contacts/{{contact_id}}/archive]\n    SubqueryAlias: c\n      \
             TableScan: contacts projection=[id], full_filters=[contacts.id = Utf8(\"{id}\")]"
        )
    );
    assert!(writes(&env).is_empty(), "{:?}", env.requests());
    assert!(find(&env, "contacts", &id).is_some());
}

#[tokio::test]
async fn bad_input_is_refused_before_any_request() {
    let env = start().await;
    let cases = [
        (
            "CALL ArchiveContacts('x')",
            "procedure ArchiveContacts does not exist; did you mean ArchiveContact? (\\procs lists them)",
        ),
        (
            "CALL ArchiveContact('x', 'y')",
            "ArchiveContact(contact_id text) takes 1 argument, got 2",
        ),
        (
            "CALL ArchiveContact()",
            "ArchiveContact(contact_id text) takes 1 argument, got 0; missing contact_id (text): Intercom id of the contact.",
        ),
        (
            "CALL ArchiveContact(NULL)",
            "ArchiveContact: contact_id must not be NULL (Intercom id of the contact.)",
        ),
        (
            "CALL ArchiveContact(contactid => 'x')",
            "ArchiveContact has no parameter named contactid; did you mean contact_id? Its parameters: contact_id",
        ),
        (
            "CALL SnoozeConversation('1001')",
            "SnoozeConversation(conversation_id text, admin_id text = NULL, snoozed_until timestamp) takes 2 to 3 arguments, got 1; missing snoozed_until (timestamp): When the conversation reopens; Intercom requires it",
        ),
        (
            "CALL SnoozeConversation('1001', '991267460', 'next tuesday')",
            "SnoozeConversation: snoozed_until expects a timestamp (ISO-8601 text such as '2026-03-01T09:00:00Z', or Unix seconds), got text ('next tuesday')",
        ),
        (
            "CALL AdminReplyToConversation('1001', 'reply', '991267460', 'Hi')",
            "AdminReplyToConversation: message_type must be one of comment, note, quick_reply; got 'reply'",
        ),
        (
            "CALL AssignConversation('1001', 'robot', '991267460', '1')",
            "AssignConversation: type must be one of admin, team; got 'robot'",
        ),
        (
            "CALL SetAdminAway('991267460', 'maybe')",
            "SetAdminAway: away_mode_enabled expects a boolean, got text ('maybe')",
        ),
        (
            "CALL UpdateConversation('1001', custom_attributes => '{oops')",
            "UpdateConversation: custom_attributes expects JSON text, got text that is not JSON (key must be a string at line 1 column 2): '{oops'",
        ),
        (
            "CALL UpdateConversation('1001')",
            "UpdateConversation: give title or custom_attributes (or both)",
        ),
        (
            "SELECT * FROM archive_contactz('x')",
            "table function 'archive_contactz' not found; did you mean archive_contact?",
        ),
        (
            "CALL intercom_api('GET', 'https://example.com/me')",
            "intercom_api: path must be relative to the API root and start with '/', e.g. '/me'; got 'https://example.com/me'",
        ),
        (
            "SELECT (SELECT id FROM archive_contact(c.id)) FROM contacts c",
            "ArchiveContact: arguments that refer to another table work only as FROM t, LATERAL archive_contact(t.col) (or CROSS/LEFT JOIN LATERAL … ON true)",
        ),
    ];
    for (sql, message) in cases {
        assert_eq!(refused(&env, sql).await, message, "{sql}");
    }
}

#[tokio::test]
async fn procedures_are_listed_with_their_parameters() {
    let env = start().await;
    let rows = env
        .rows("SELECT name, function_name, method, path FROM procedures WHERE name = 'ArchiveContact'")
        .await;
    assert_eq!(
        rows,
        vec![vec![
            "ArchiveContact".to_string(),
            "archive_contact".into(),
            "POST".into(),
            "/contacts/{contact_id}/archive".into()
        ]]
    );
    let rows = env
        .rows("SELECT position, name, type, required, \"default\", allowed_values FROM procedure_parameters WHERE procedure = 'SubscribeContact' ORDER BY position")
        .await;
    assert_eq!(
        rows[2],
        vec![
            "3",
            "consent_type",
            "text",
            "false",
            "'opt_in'",
            "opt_in, opt_out"
        ]
    );
    let count = env.rows("SELECT count(*) FROM procedures").await;
    assert_eq!(
        count[0][0],
        intercom_sql::procedures::all().len().to_string()
    );
    assert!(env.requests().is_empty());
}

#[tokio::test]
async fn parameters_bind_like_literals() {
    use datafusion::common::ParamValues;
    use datafusion::common::ScalarValue;
    let env = start().await;
    let id = contact_with_role(&env, "user");
    let df = env
        .engine
        .context()
        .sql("SELECT id, archived FROM archive_contact($1)")
        .await
        .unwrap()
        .with_param_values(ParamValues::List(vec![
            ScalarValue::Utf8(Some(id.clone())).into(),
        ]))
        .unwrap();
    let rows = crate::common::strings(&df.collect().await.unwrap());
    assert_eq!(rows, vec![vec![id.clone(), "true".into()]]);
    assert!(find(&env, "contacts", &id).is_none());
}

// ---------------------------------------------------------------- read-only, retries

#[tokio::test]
async fn read_only_sessions_refuse_every_action() {
    let env = start_with(EmulatorConfig::default(), |c| c.read_only = true).await;
    let id = contact_with_role(&env, "user");
    assert_eq!(
        refused(&env, &format!("CALL ArchiveContact('{id}')")).await,
        "intercom-sql is read-only (--read-only); CALL ArchiveContact was not run"
    );
    assert_eq!(
        refused(
            &env,
            "CALL intercom_api('POST', '/tags', '{\"name\": \"x\"}')"
        )
        .await,
        "intercom-sql is read-only (--read-only); CALL intercom_api was not run"
    );
    env.emulator.state.clear_requests();
    let message = env
        .error(&format!(
            "SELECT a.ok FROM contacts c, LATERAL archive_contact(c.id) a WHERE c.id = '{id}'"
        ))
        .await;
    assert_eq!(
        message,
        "intercom-sql is read-only (--read-only); CALL ArchiveContact was not run"
    );
    assert!(writes(&env).is_empty());
    assert!(find(&env, "contacts", &id).is_some());
    // Reads still work, including raw GETs.
    let rows = env
        .rows("SELECT status FROM intercom_api('GET', '/me')")
        .await;
    assert_eq!(rows, vec![vec!["200".to_string()]]);
}

#[tokio::test]
async fn writes_are_not_repeated_after_a_server_error_unless_idempotent() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    env.emulator.state.inject(FaultRule {
        path_prefix: Some(format!("/conversations/{conversation}/reply")),
        method: Some("POST".into()),
        fault: Fault::Status(500),
        count: 1,
    });
    let message = env
        .error(&format!(
            "CALL AdminReplyToConversation('{conversation}', 'comment', '{ADMIN}', 'once only')"
        ))
        .await;
    assert!(
        message.starts_with("AdminReplyToConversation: Intercom API 500"),
        "{message}"
    );
    assert_eq!(writes(&env).len(), 1, "a reply is not repeated");
    // Archive is idempotent: repeated after the 500, and it succeeds.
    let id = contact_with_role(&env, "user");
    env.emulator.state.clear_requests();
    env.emulator.state.inject(FaultRule {
        path_prefix: Some(format!("/contacts/{id}/archive")),
        method: None,
        fault: Fault::Status(503),
        count: 1,
    });
    env.rows(&format!("CALL ArchiveContact('{id}')")).await;
    assert_eq!(writes(&env).len(), 2);
    assert!(find(&env, "contacts", &id).is_none());
}

#[tokio::test]
async fn rate_limited_writes_wait_for_the_reset_and_go_through() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    env.emulator.state.inject(FaultRule {
        path_prefix: Some(format!("/conversations/{conversation}/reply")),
        method: None,
        fault: Fault::RateLimited {
            reset_after_secs: 0,
        },
        count: 1,
    });
    env.rows(&format!(
        "CALL AdminReplyToConversation('{conversation}', 'note', '{ADMIN}', 'after the wait')"
    ))
    .await;
    assert_eq!(writes(&env).len(), 2, "the 429 was retried once");
    let part = last_part(&get(&env, "conversations", &conversation));
    assert_eq!(part["body"], "<p>after the wait</p>");
    assert_eq!(env.engine.client().stats().rate_limit_waits, 1);
}

// ---------------------------------------------------------------- bulk

#[tokio::test]
async fn lateral_calls_act_on_the_filtered_rows_only() {
    let env = start().await;
    let leads: Vec<String> = snapshot(&env, "contacts")
        .into_iter()
        .filter(|c| c["role"] == "lead")
        .map(|c| crate::common::field(&c, "id"))
        .take(3)
        .collect();
    let list = leads
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT c.id, a.archived, a.ok, a.error FROM contacts c, LATERAL archive_contact(c.id) a \
             WHERE c.id IN ({list}) ORDER BY c.id"
        ))
        .await;
    let mut expected: Vec<Vec<String>> = leads
        .iter()
        .map(|id| vec![id.clone(), "true".into(), "true".into(), "NULL".into()])
        .collect();
    expected.sort();
    assert_eq!(rows, expected);
    assert_eq!(writes(&env).len(), 3, "{:?}", env.requests());
    for id in &leads {
        assert!(find(&env, "contacts", id).is_none());
    }
}

#[tokio::test]
async fn a_bulk_call_reports_each_row_and_goes_on_after_a_failure() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    let sql = format!(
        "SELECT v.conversation_id, t.ok, t.error, t.tag_name \
         FROM (VALUES ('{conversation}'), ('999999999'), ('{conversation}')) AS v(conversation_id), \
              LATERAL tag_conversation(v.conversation_id, '8000001', '{ADMIN}') t"
    );
    let rows = env.rows(&sql).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][1], "true");
    assert_eq!(rows[0][3], "VIP");
    assert_eq!(rows[1][1], "false");
    assert!(
        rows[1][2].starts_with("TagConversation: Intercom API 404"),
        "{}",
        rows[1][2]
    );
    assert_eq!(rows[2][1], "true", "the row after a failure still ran");
    assert_eq!(writes(&env).len(), 3);
    assert!(mentions(
        &get(&env, "conversations", &conversation)["tags"],
        "8000001"
    ));
}

#[tokio::test]
async fn a_bulk_call_stops_when_the_rate_limit_does_not_clear_and_says_so() {
    let env = start_with(EmulatorConfig::default(), |c| c.max_retries = 0).await;
    let users: Vec<String> = snapshot(&env, "contacts")
        .into_iter()
        .filter(|c| c["role"] == "user")
        .map(|c| crate::common::field(&c, "id"))
        .take(3)
        .collect();
    env.emulator.state.inject(FaultRule {
        path_prefix: Some(format!("/contacts/{}/archive", users[1])),
        method: None,
        fault: Fault::RateLimited {
            reset_after_secs: 0,
        },
        count: 5,
    });
    let values = users
        .iter()
        .map(|id| format!("('{id}')"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = env
        .rows(&format!(
            "SELECT v.id, a.ok, a.error FROM (VALUES {values}) AS v(id), LATERAL archive_contact(v.id) a"
        ))
        .await;
    assert_eq!(rows[0][1], "true");
    assert_eq!(rows[1][1], "false");
    assert!(rows[1][2].contains("429"), "{}", rows[1][2]);
    assert_eq!(rows[2][1], "false");
    assert!(
        rows[2][2].starts_with("not attempted: stopped after an earlier row failed"),
        "{}",
        rows[2][2]
    );
    assert!(
        find(&env, "contacts", &users[2]).is_some(),
        "not attempted means not sent"
    );
    assert_eq!(writes(&env).len(), 2);
}

#[tokio::test]
async fn a_bulk_call_over_the_row_limit_is_refused_until_raised() {
    let env = start().await;
    let sql =
        "SELECT count(*) FROM contacts c, LATERAL archive_contact(c.id) a WHERE c.role = 'lead'";
    let leads = snapshot(&env, "contacts")
        .iter()
        .filter(|c| c["role"] == "lead")
        .count();
    assert!(leads > 5);
    env.engine
        .execute("SET intercom.max_write_rows = 5")
        .await
        .unwrap();
    let message = env.error(sql).await;
    assert!(
        message.starts_with(
            "ArchiveContact would run for more than intercom.max_write_rows (5) rows (at least "
        ),
        "{message}"
    );
    assert!(
        message.ends_with("nothing was sent. Narrow the query, or allow it for this session with SET intercom.max_write_rows = <rows>"),
        "{message}"
    );
    assert!(
        writes(&env)
            .iter()
            .all(|w| w.starts_with("POST /contacts/search")),
        "{:?}",
        writes(&env)
    );
    assert_eq!(
        snapshot(&env, "contacts")
            .iter()
            .filter(|c| c["role"] == "lead")
            .count(),
        leads
    );
    env.engine
        .execute(&format!("SET intercom.max_write_rows = {leads}"))
        .await
        .unwrap();
    assert_eq!(env.rows(sql).await, vec![vec![leads.to_string()]]);
    assert_eq!(
        snapshot(&env, "contacts")
            .iter()
            .filter(|c| c["role"] == "lead")
            .count(),
        0
    );
}

#[tokio::test]
async fn a_bad_row_in_a_bulk_call_fails_it_before_anything_is_sent() {
    let env = start().await;
    let id = contact_with_role(&env, "user");
    let message = refused(
        &env,
        &format!(
            "SELECT * FROM (VALUES ('{id}'), (NULL)) AS v(id), LATERAL archive_contact(v.id) a"
        ),
    )
    .await;
    assert_eq!(
        message,
        "row 2: ArchiveContact: contact_id must not be NULL (Intercom id of the contact.); nothing was sent"
    );
    assert!(find(&env, "contacts", &id).is_some());
}

#[tokio::test]
async fn a_limit_bounds_the_calls() {
    let env = start().await;
    env.engine
        .execute("SET intercom.max_write_rows = 1000")
        .await
        .unwrap();
    let rows = env
        .rows(
            "SELECT c.id, a.ok FROM contacts c CROSS JOIN LATERAL archive_contact(c.id) a LIMIT 2",
        )
        .await;
    assert_eq!(rows.len(), 2);
    let archives = writes(&env)
        .iter()
        .filter(|w| w.ends_with("/archive"))
        .count();
    assert_eq!(archives, 2);
}

// ---------------------------------------------------------------- contacts and companies

#[tokio::test]
async fn block_contact_blocks_and_archives_their_conversations() {
    let env = start().await;
    let (conversation, contact) = open_conversation(&env);
    let rows = env
        .rows(&format!(
            "SELECT id, blocked FROM block_contact('{contact}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![contact.clone(), "true".into()]]);
    assert!(find(&env, "conversations", &conversation).is_none());
}

#[tokio::test]
async fn merge_contacts_moves_a_lead_into_a_user() {
    let env = start().await;
    let lead = contact_with_role(&env, "lead");
    let user = contact_with_role(&env, "user");
    let rows = env
        .rows(&format!(
            "SELECT id, role FROM merge_contacts('{lead}', '{user}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![user.clone(), "user".into()]]);
    assert!(find(&env, "contacts", &lead).is_none());
    assert!(find(&env, "contacts", &user).is_some());
    // Merging users into leads is refused by Intercom, and the error says why.
    let other = contact_with_role(&env, "user");
    let message = env
        .error(&format!("CALL MergeContacts('{other}', '{user}')"))
        .await;
    assert!(
        message.starts_with("MergeContacts: Intercom API 4"),
        "{message}"
    );
}

#[tokio::test]
async fn companies_attach_and_detach() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let company = snapshot(&env, "companies")
        .into_iter()
        .map(|c| crate::common::field(&c, "id"))
        .find(|id| !mentions(&get(&env, "contacts", &contact)["companies"], id))
        .unwrap();
    let rows = env
        .rows(&format!(
            "SELECT contact_id, id FROM attach_contact_to_company('{contact}', '{company}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![contact.clone(), company.clone()]]);
    let companies = env
        .rows(&format!(
            "SELECT response FROM intercom_api('GET', '/contacts/{contact}/companies?per_page=50')"
        ))
        .await;
    assert!(companies[0][0].contains(&company));
    env.rows(&format!(
        "CALL DetachContactFromCompany('{contact}', '{company}')"
    ))
    .await;
    let companies = env
        .rows(&format!(
            "SELECT response FROM intercom_api('GET', '/contacts/{contact}/companies?per_page=50')"
        ))
        .await;
    assert!(!companies[0][0].contains(&company));
}

#[tokio::test]
async fn contact_tags_are_applied_and_removed() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let tags_of = |contact: &str| {
        format!("SELECT response FROM intercom_api('GET', '/contacts/{contact}/tags')")
    };
    let before = env.rows(&tags_of(&contact)).await[0][0].clone();
    let tag = snapshot(&env, "tags")
        .into_iter()
        .map(|t| crate::common::field(&t, "id"))
        .find(|t| !before.contains(&format!("\"id\":\"{t}\"")))
        .unwrap();
    let rows = env
        .rows(&format!(
            "SELECT contact_id, tag_id FROM tag_contact('{contact}', '{tag}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![contact.clone(), tag.clone()]]);
    let after = env.rows(&tags_of(&contact)).await[0][0].clone();
    assert!(after.contains(&format!("\"id\":\"{tag}\"")), "{after}");
    env.rows(&format!("CALL UntagContact('{contact}', '{tag}')"))
        .await;
    let after = env.rows(&tags_of(&contact)).await[0][0].clone();
    assert!(!after.contains(&format!("\"id\":\"{tag}\"")), "{after}");
}

#[tokio::test]
async fn contact_notes_are_created() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let rows = env
        .rows(&format!(
            "SELECT id, contact_id, body FROM create_contact_note('{contact}', 'Called about renewal', '{ADMIN}')"
        ))
        .await;
    let note = get(&env, "notes", &rows[0][0]);
    assert_eq!(note["body"], "<p>Called about renewal</p>");
    assert_eq!(note["contact"]["id"], contact.as_str());
    assert_eq!(note["author"]["id"], ADMIN);
    assert_eq!(rows[0][2], "<p>Called about renewal</p>");
}

#[tokio::test]
async fn subscriptions_are_recorded_and_removed() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let subscription = crate::common::field(&snapshot(&env, "subscription_types")[0], "id");
    let rows = env
        .rows(&format!(
            "SELECT id, consent_type FROM subscribe_contact('{contact}', '{subscription}', consent_type => 'OPT_OUT')"
        ))
        .await;
    assert_eq!(rows, vec![vec![subscription.clone(), "opt_out".into()]]);
    let listed = env
        .rows(&format!(
            "SELECT response FROM intercom_api('GET', '/contacts/{contact}/subscriptions')"
        ))
        .await;
    assert!(
        listed[0][0].contains(&format!("\"id\":\"{subscription}\"")),
        "{}",
        listed[0][0]
    );
    env.rows(&format!(
        "CALL UnsubscribeContact('{contact}', '{subscription}')"
    ))
    .await;
    let listed = env
        .rows(&format!(
            "SELECT response FROM intercom_api('GET', '/contacts/{contact}/subscriptions')"
        ))
        .await;
    assert!(
        !listed[0][0].contains(&format!("\"id\":\"{subscription}\"")),
        "{}",
        listed[0][0]
    );
}

#[tokio::test]
async fn company_tags_are_applied_and_removed_by_name() {
    let env = start().await;
    let company = snapshot(&env, "companies")
        .into_iter()
        .find(|c| !mentions(&c["tags"], "Beta"))
        .map(|c| crate::common::field(&c, "id"))
        .unwrap();
    let rows = env
        .rows(&format!(
            "SELECT company_id, tag_name FROM tag_company('{company}', 'Beta')"
        ))
        .await;
    assert_eq!(rows, vec![vec![company.clone(), "Beta".into()]]);
    assert!(mentions(&get(&env, "companies", &company)["tags"], "Beta"));
    env.rows(&format!("CALL UntagCompany('{company}', 'Beta')"))
        .await;
    assert!(!mentions(&get(&env, "companies", &company)["tags"], "Beta"));
}

#[tokio::test]
async fn visitors_convert_to_leads() {
    let env = start().await;
    let visitor = crate::common::field(&snapshot(&env, "visitors")[0], "id");
    let before = snapshot(&env, "contacts").len();
    let rows = env
        .rows(&format!(
            "SELECT id, role, email FROM convert_visitor('{visitor}', 'lead', email => 'winston@example.com')"
        ))
        .await;
    assert_eq!(rows[0][1..], ["lead", "winston@example.com"]);
    assert!(find(&env, "visitors", &visitor).is_none());
    assert_eq!(snapshot(&env, "contacts").len(), before + 1);
    assert!(find(&env, "contacts", &rows[0][0]).is_some());
    // Merging into a user needs to know which user.
    assert_eq!(
        refused(&env, &format!("CALL ConvertVisitor('{visitor}', 'user')")).await,
        "ConvertVisitor: say who the visitor becomes: give contact_id, user_id or email"
    );
}

// ---------------------------------------------------------------- conversations

#[tokio::test]
async fn admins_and_contacts_reply_to_conversations() {
    let env = start().await;
    let (conversation, contact) = open_conversation(&env);
    // Skyvia's signature, positional.
    let rows = env
        .rows(&format!(
            "SELECT id, part_type FROM admin_reply_to_conversation('{conversation}', 'note', '{ADMIN}', 'Checked the logs')"
        ))
        .await;
    assert_eq!(rows, vec![vec![conversation.clone(), "note".into()]]);
    let part = last_part(&get(&env, "conversations", &conversation));
    assert_eq!(part["part_type"], "note");
    assert_eq!(part["author"]["id"], ADMIN);
    env.rows(&format!(
        "CALL ContactReplyToConversation('{conversation}', '{contact}', 'Thanks!')"
    ))
    .await;
    let part = last_part(&get(&env, "conversations", &conversation));
    assert_eq!(part["part_type"], "comment");
    assert_eq!(part["author"]["id"], contact.as_str());
    assert_eq!(part["body"], "<p>Thanks!</p>");
    // The contact by email instead of its id; the spec's other request forms.
    let email = crate::common::field(&get(&env, "contacts", &contact), "email");
    env.emulator.state.clear_requests();
    env.rows(&format!(
        "CALL ContactReplyToConversation('{conversation}', NULL, 'By email', email => '{email}')"
    ))
    .await;
    let sent = env.emulator.state.requests().pop().unwrap();
    assert_eq!(
        sent.body.unwrap(),
        serde_json::json!({"type": "user", "message_type": "comment", "email": email, "body": "By email"})
    );
    assert_eq!(
        last_part(&get(&env, "conversations", &conversation))["author"]["id"],
        contact.as_str()
    );
    for (call, message) in [
        (
            format!("CALL ContactReplyToConversation('{conversation}', NULL, 'x')"),
            "ContactReplyToConversation: name the contact: give intercom_user_id, email or user_id",
        ),
        (
            format!(
                "CALL ContactReplyToConversation('{conversation}', '{contact}', 'x', email => '{email}')"
            ),
            "ContactReplyToConversation: name the contact one way only: intercom_user_id, email were all given",
        ),
    ] {
        assert_eq!(refused(&env, &call).await, message);
    }
    // A quick reply: buttons given as texts get a UUID each; an admin's note can skip
    // notifications and carry its own time.
    env.emulator.state.clear_requests();
    env.rows(&format!(
        "CALL AdminReplyToConversation('{conversation}', 'quick_reply', '{ADMIN}', 'Did that help?', \
         reply_options => '[\"Yes\", {{\"text\": \"No\", \"uuid\": \"0f8e9c1a-1b2c-4d3e-8f4a-5b6c7d8e9f00\"}}]')"
    ))
    .await;
    let sent = env.emulator.state.requests().pop().unwrap().body.unwrap();
    let options = sent["reply_options"].as_array().unwrap();
    assert_eq!(options.len(), 2);
    assert_eq!(options[0]["text"], "Yes");
    let uuid = options[0]["uuid"].as_str().unwrap();
    assert!(
        uuid.len() == 36 && uuid.as_bytes()[14] == b'4',
        "a version 4 UUID: {uuid}"
    );
    assert_eq!(options[1]["uuid"], "0f8e9c1a-1b2c-4d3e-8f4a-5b6c7d8e9f00");
    assert_eq!(
        last_part(&get(&env, "conversations", &conversation))["part_type"],
        "quick_reply"
    );
    env.rows(&format!(
        "CALL AdminReplyToConversation('{conversation}', 'note', '{ADMIN}', 'Imported', \
         created_at => '2026-01-01T00:00:00Z', skip_notifications => true)"
    ))
    .await;
    let sent = env.emulator.state.requests().pop().unwrap().body.unwrap();
    assert_eq!(
        (
            sent["created_at"].clone(),
            sent["skip_notifications"].clone()
        ),
        (serde_json::json!(1_767_225_600), serde_json::json!(true))
    );
    assert_eq!(
        refused(
            &env,
            &format!(
                "CALL AdminReplyToConversation('{conversation}', 'quick_reply', '{ADMIN}', 'x')"
            )
        )
        .await,
        r#"AdminReplyToConversation: a quick_reply needs reply_options, e.g. '["Yes", "No"]'"#
    );
}

#[tokio::test]
async fn conversations_close_snooze_open_and_assign() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    let rows = env
        .rows(&format!(
            "SELECT state, open FROM close_conversation('{conversation}', '{ADMIN}')"
        ))
        .await;
    assert_eq!(rows, vec![vec!["closed".to_string(), "false".into()]]);
    assert_eq!(get(&env, "conversations", &conversation)["state"], "closed");

    env.rows(&format!(
        "CALL SnoozeConversation('{conversation}', '{ADMIN}', '2030-01-02T03:04:05Z')"
    ))
    .await;
    let snoozed = get(&env, "conversations", &conversation);
    assert_eq!(snoozed["state"], "snoozed");
    assert_eq!(snoozed["snoozed_until"], 1_893_553_445);
    // Skyvia's two-argument form: the conversation and the time; the token's own admin acts
    // (one GET /me first).
    env.rows(&format!(
        "CALL OpenConversation('{conversation}', '{ADMIN}')"
    ))
    .await;
    env.emulator.state.clear_requests();
    env.rows(&format!(
        "CALL SnoozeConversation('{conversation}', '2030-02-03T04:05:06Z')"
    ))
    .await;
    let sent = env.emulator.state.requests();
    assert_eq!(sent.len(), 2, "{:?}", env.requests());
    assert_eq!(sent[0].path, "/me");
    let body = sent[1].body.clone().unwrap();
    assert_eq!(body["admin_id"], ADMIN, "{body}");
    assert_eq!(body["snoozed_until"], 1_896_321_906, "{body}");
    assert_eq!(
        get(&env, "conversations", &conversation)["state"],
        "snoozed"
    );
    // The token's admin is asked once per session: the next call sends only its own request.
    env.rows(&format!(
        "CALL OpenConversation('{conversation}', '{ADMIN}')"
    ))
    .await;
    env.emulator.state.clear_requests();
    env.rows(&format!(
        "CALL SnoozeConversation('{conversation}', '2030-02-04T04:05:06Z')"
    ))
    .await;
    assert_eq!(
        env.requests(),
        [format!("POST /conversations/{conversation}/parts")]
    );

    env.rows(&format!(
        "CALL OpenConversation('{conversation}', '{ADMIN}')"
    ))
    .await;
    assert_eq!(get(&env, "conversations", &conversation)["state"], "open");

    env.rows(&format!(
        "CALL AssignConversation(conversation_id => '{conversation}', type => 'admin', admin_id => '{ADMIN}', assignee_id => '{OTHER_ADMIN}')"
    ))
    .await;
    let assigned = get(&env, "conversations", &conversation);
    assert_eq!(assigned["admin_assignee_id"].to_string(), OTHER_ADMIN);
    let team = crate::common::field(&snapshot(&env, "teams")[0], "id");
    env.rows(&format!(
        "CALL AssignConversation('{conversation}', 'team', '{ADMIN}', '{team}')"
    ))
    .await;
    assert_eq!(
        get(&env, "conversations", &conversation)["team_assignee_id"].to_string(),
        team
    );
}

#[tokio::test]
async fn conversation_tags_in_our_order_and_in_skyvias() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    let tags = |env: &TestEnv| get(env, "conversations", &conversation)["tags"].clone();
    env.rows(&format!(
        "CALL TagConversation('{conversation}', '8000002', '{ADMIN}')"
    ))
    .await;
    assert!(mentions(&tags(&env), "8000002"));
    // Skyvia: AddTagToConversation(conversation_id, admin_id, tag_id).
    env.rows(&format!(
        "CALL AddTagToConversation('{conversation}', '{ADMIN}', '8000003')"
    ))
    .await;
    assert!(mentions(&tags(&env), "8000003"));
    env.rows(&format!(
        "CALL UntagConversation('{conversation}', '8000002', '{ADMIN}')"
    ))
    .await;
    assert!(!mentions(&tags(&env), "8000002"));
    // Skyvia: RemoveTagFromConversation(conversation_id, tag_id, admin_id).
    env.rows(&format!(
        "CALL RemoveTagFromConversation('{conversation}', '8000003', '{ADMIN}')"
    ))
    .await;
    assert!(!mentions(&tags(&env), "8000003"));
}

#[tokio::test]
async fn conversation_participants_are_added_and_removed() {
    let env = start().await;
    let (conversation, contact) = open_conversation(&env);
    let other = snapshot(&env, "contacts")
        .into_iter()
        .map(|c| crate::common::field(&c, "id"))
        .find(|id| *id != contact)
        .unwrap();
    env.rows(&format!(
        "CALL AttachContactToConversation('{conversation}', '{ADMIN}', '{other}')"
    ))
    .await;
    assert!(mentions(
        &get(&env, "conversations", &conversation)["contacts"],
        &other
    ));
    env.rows(&format!(
        "CALL DetachContactFromConversation('{conversation}', '{ADMIN}', '{other}')"
    ))
    .await;
    let contacts = get(&env, "conversations", &conversation)["contacts"].clone();
    assert!(!mentions(&contacts, &other));
    assert!(mentions(&contacts, &contact));
    // By your own user_id instead of the Intercom id.
    let user = snapshot(&env, "contacts")
        .into_iter()
        .find(|c| c["external_id"].is_string() && crate::common::field(c, "id") != contact)
        .unwrap();
    let (user_id, user_intercom_id) = (
        crate::common::field(&user, "external_id"),
        crate::common::field(&user, "id"),
    );
    env.rows(&format!(
        "CALL AttachContactToConversation('{conversation}', '{ADMIN}', user_id => '{user_id}')"
    ))
    .await;
    assert!(mentions(
        &get(&env, "conversations", &conversation)["contacts"],
        &user_intercom_id
    ));
}

#[tokio::test]
async fn conversations_are_marked_read_and_updated() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    let rows = env
        .rows(&format!(
            "SELECT id, read FROM mark_conversation_read('{conversation}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![conversation.clone(), "true".into()]]);
    assert_eq!(get(&env, "conversations", &conversation)["read"], true);
    env.rows(&format!(
        "CALL UpdateConversation('{conversation}', 'Billing mix-up', '{{\"Issue type\": \"Billing\"}}')"
    ))
    .await;
    let updated = get(&env, "conversations", &conversation);
    assert_eq!(updated["title"], "Billing mix-up");
    assert_eq!(updated["custom_attributes"]["Issue type"], "Billing");
}

#[tokio::test]
async fn conversations_convert_to_tickets() {
    let env = start().await;
    let (conversation, _) = open_conversation(&env);
    let ticket_type = snapshot(&env, "ticket_types")
        .into_iter()
        .find(|t| t["category"] == "Customer")
        .map(|t| crate::common::field(&t, "id"))
        .unwrap();
    let before = snapshot(&env, "tickets").len();
    let rows = env
        .rows(&format!(
            "SELECT id, category FROM convert_conversation_to_ticket('{conversation}', '{ticket_type}')"
        ))
        .await;
    assert_eq!(rows[0][1], "Customer");
    assert_eq!(snapshot(&env, "tickets").len(), before + 1);
    let ticket = get(&env, "tickets", &rows[0][0]);
    assert_eq!(crate::common::field(&ticket, "ticket_type.id"), ticket_type);
}

#[tokio::test]
async fn conversation_parts_are_redacted() {
    let env = start().await;
    let conversation = snapshot(&env, "conversations")
        .into_iter()
        .find(|c| {
            c["conversation_parts"]["conversation_parts"]
                .as_array()
                .is_some_and(|p| {
                    p.iter()
                        .any(|p| p["part_type"] == "comment" && p["body"].is_string())
                })
        })
        .unwrap();
    let id = crate::common::field(&conversation, "id");
    let part = conversation["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part_type"] == "comment" && p["body"].is_string())
        .map(|p| crate::common::field(p, "id"))
        .unwrap();
    env.rows(&format!("CALL RedactConversationPart('{id}', '{part}')"))
        .await;
    let after = get(&env, "conversations", &id);
    let redacted = after["conversation_parts"]["conversation_parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| crate::common::field(p, "id") == part)
        .cloned()
        .unwrap();
    assert_eq!(redacted["redacted"], true);
}

#[tokio::test]
async fn conversations_are_created_and_deleted() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let rows = env
        .rows(&format!(
            "SELECT conversation_id, message_type FROM create_conversation('{contact}', 'I cannot log in')"
        ))
        .await;
    let conversation = rows[0][0].clone();
    let created = get(&env, "conversations", &conversation);
    assert!(mentions(&created["contacts"], &contact));
    assert!(created.to_string().contains("I cannot log in"));
    let rows = env
        .rows(&format!(
            "SELECT id, deleted FROM delete_conversation('{conversation}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![conversation.clone(), "true".into()]]);
    assert!(find(&env, "conversations", &conversation).is_none());
}

// ---------------------------------------------------------------- messages, events, admins

#[tokio::test]
async fn messages_are_sent_by_email_and_in_app() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    // Skyvia's parameter list; with a conversation created at once so it can be checked.
    let rows = env
        .rows(&format!(
            "SELECT message_type, conversation_id FROM create_email_message('Welcome', 'Hi there!', 'plain', '{ADMIN}', 'user', '{contact}', true)"
        ))
        .await;
    assert_eq!(rows[0][0], "email");
    let conversation = get(&env, "conversations", &rows[0][1]);
    assert!(mentions(&conversation["contacts"], &contact));
    assert!(conversation.to_string().contains("Hi there!"));

    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT message_type FROM create_in_app_message(NULL, 'New: exports', NULL, '{ADMIN}', 'user', '{contact}')"
        ))
        .await;
    assert_eq!(rows, vec![vec!["inapp".to_string()]]);
    let sent = env.emulator.state.requests();
    let body = sent[0].body.clone().unwrap();
    assert_eq!(body["message_type"], "inapp");
    assert_eq!(body["to"]["id"], contact.as_str());
    assert!(body.get("subject").is_none());
    let rows = env
        .rows(&format!(
            "SELECT conversation_id FROM create_in_app_message(body => 'Welcome aboard', \
             from_id => '{ADMIN}', to_type => 'user', to_id => '{contact}', \
             create_conversation_without_contact_reply => true)"
        ))
        .await;
    let conversation = get(&env, "conversations", &rows[0][0]);
    assert!(conversation.to_string().contains("Welcome aboard"));
    // Email needs its subject.
    assert!(
        refused(
            &env,
            &format!("CALL CreateEmailMessage(NULL, 'x', 'plain', '{ADMIN}', 'user', '{contact}')")
        )
        .await
        .contains("subject must not be NULL")
    );
}

#[tokio::test]
async fn events_are_submitted() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let rows = env
        .rows(&format!(
            "CALL SubmitEvent('invited-friend', '2026-02-01T10:00:00Z', '{contact}', '{{\"invitee\": \"bob@example.com\"}}')"
        ))
        .await;
    assert_eq!(rows[0][0], "invited-friend");
    assert_eq!(rows[0][5], "NULL", "202 with an empty body");
    // The seed has events of its own, none of this name.
    let events: Vec<_> = snapshot(&env, "events")
        .into_iter()
        .filter(|e| mentions(e, "invited-friend"))
        .collect();
    assert_eq!(events.len(), 1);
    assert!(mentions(&events[0], "bob@example.com"));
    assert!(mentions(&events[0], "1769940000"));
}

#[tokio::test]
async fn admins_go_away_and_come_back() {
    let env = start().await;
    let rows = env
        .rows(&format!("SELECT id, away_mode_enabled, away_mode_reassign FROM set_admin_away('{ADMIN}', true, true)"))
        .await;
    assert_eq!(
        rows,
        vec![vec![ADMIN.to_string(), "true".into(), "true".into()]]
    );
    assert_eq!(get(&env, "admins", ADMIN)["away_mode_enabled"], true);
    env.rows(&format!("CALL SetAdminAway('{ADMIN}', false)"))
        .await;
    let admin = get(&env, "admins", ADMIN);
    assert_eq!(admin["away_mode_enabled"], false);
    assert_eq!(admin["away_mode_reassign"], false, "the default");
}

// ---------------------------------------------------------------- tickets

fn customer_ticket_type(env: &TestEnv) -> String {
    snapshot(env, "ticket_types")
        .into_iter()
        .find(|t| t["category"] == "Customer")
        .map(|t| crate::common::field(&t, "id"))
        .unwrap()
}

#[tokio::test]
async fn tickets_are_created_updated_replied_to_and_deleted() {
    let env = start().await;
    let contact = contact_with_role(&env, "user");
    let ticket_type = customer_ticket_type(&env);
    let rows = env
        .rows(&format!(
            "SELECT id, category, open FROM create_ticket('{ticket_type}', '{contact}', 'Refund request', 'Charged twice')"
        ))
        .await;
    let ticket = rows[0][0].clone();
    let created = get(&env, "tickets", &ticket);
    assert_eq!(
        created["ticket_attributes"]["_default_title_"],
        "Refund request"
    );
    assert!(mentions(&created["contacts"], &contact));

    let rows = env
        .rows(&format!(
            "SELECT open FROM update_ticket('{ticket}', open => false, admin_id => {ADMIN})"
        ))
        .await;
    assert_eq!(rows, vec![vec!["false".to_string()]]);
    assert_eq!(get(&env, "tickets", &ticket)["open"], false);

    let rows = env
        .rows(&format!(
            "SELECT part_type FROM reply_to_ticket('{ticket}', 'note', '{ADMIN}', 'Escalated to billing')"
        ))
        .await;
    assert_eq!(rows, vec![vec!["note".to_string()]]);
    let parts = get(&env, "tickets", &ticket)["ticket_parts"].to_string();
    assert!(parts.contains("Escalated to billing"), "{parts}");

    env.rows(&format!(
        "CALL ReplyToTicket('{ticket}', 'comment', NULL, 'Any news?', intercom_user_id => '{contact}')"
    ))
    .await;
    let parts = get(&env, "tickets", &ticket)["ticket_parts"].to_string();
    assert!(parts.contains("Any news?"), "{parts}");

    env.rows(&format!("CALL DeleteTicket('{ticket}')")).await;
    assert!(find(&env, "tickets", &ticket).is_none());
}

#[tokio::test]
async fn ticket_tags_are_applied_and_removed() {
    let env = start().await;
    let ticket = crate::common::field(&snapshot(&env, "tickets")[0], "id");
    // Tickets do not show their tags (the 2.15 ticket has no tags field), but removing a tag
    // the ticket does not have is a 404: that tells whether it is there.
    let untag = format!("CALL UntagTicket('{ticket}', '8000004', '{ADMIN}')");
    assert!(env.error(&untag).await.contains("404 tag_not_found"));
    let rows = env
        .rows(&format!(
            "SELECT ticket_id, tag_id, tag_name FROM tag_ticket('{ticket}', '8000004', '{ADMIN}')"
        ))
        .await;
    assert_eq!(
        rows,
        vec![vec![ticket.clone(), "8000004".into(), "Newsletter".into()]]
    );
    env.rows(&untag).await;
    assert!(
        env.error(&untag).await.contains("404 tag_not_found"),
        "removed"
    );
}

#[tokio::test]
async fn ticket_types_and_their_attributes_are_created_and_updated() {
    let env = start().await;
    let rows = env
        .rows("SELECT id, name, category FROM create_ticket_type('Refund', 'Money back', 'Customer', '💰')")
        .await;
    let ticket_type = rows[0][0].clone();
    assert_eq!(get(&env, "ticket_types", &ticket_type)["name"], "Refund");
    env.rows(&format!(
        "CALL UpdateTicketType('{ticket_type}', description => 'Refunds and chargebacks')"
    ))
    .await;
    assert_eq!(
        get(&env, "ticket_types", &ticket_type)["description"],
        "Refunds and chargebacks"
    );
    // Skyvia's parameter lists.
    env.rows(&format!(
        "CALL CreateTicketTypeAttribute('{ticket_type}', 'Order number', 'The order to refund', 'string', true, false, true, true, false, false)"
    ))
    .await;
    let attribute = |env: &TestEnv| {
        get(env, "ticket_types", &ticket_type)["ticket_type_attributes"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "Order number")
            .cloned()
            .unwrap()
    };
    assert_eq!(attribute(&env)["required_to_create"], true);
    env.emulator.state.clear_requests();
    env.rows(&format!(
        "CALL UpdateTicketTypeAttribute('{ticket_type}', 'Order number', 'Order to refund, e.g. #1234', false, false, true, true, false, false, false)"
    ))
    .await;
    let updated = attribute(&env);
    assert_eq!(updated["description"], "Order to refund, e.g. #1234");
    assert_eq!(updated["required_to_create"], false);
    let attribute_id = crate::common::field(&updated, "id");
    assert_eq!(
        env.requests(),
        vec![
            format!("GET /ticket_types/{ticket_type}"),
            format!("PUT /ticket_types/{ticket_type}/attributes/{attribute_id}")
        ]
    );
    // An attribute that is not there is named, and nothing is written.
    env.emulator.state.clear_requests();
    let message = env
        .error(&format!(
            "CALL UpdateTicketTypeAttribute('{ticket_type}', 'Nope', 'x')"
        ))
        .await;
    assert!(
        message.starts_with(&format!(
            "UpdateTicketTypeAttribute: ticket type {ticket_type} has no attribute named 'Nope'; its attributes: "
        )),
        "{message}"
    );
    assert!(writes(&env).is_empty());
}

// ---------------------------------------------------------------- data attributes, raw

#[tokio::test]
async fn data_attributes_are_created_and_updated() {
    let env = start().await;
    let rows = env
        .rows("SELECT id, full_name, data_type FROM create_data_attribute('contract_tier', 'company', 'options', 'Tier of the contract', '[\"gold\", \"silver\"]')")
        .await;
    assert_eq!(rows[0][1], "custom_attributes.contract_tier");
    let id = rows[0][0].clone();
    let created = get(&env, "data_attributes", &id);
    assert_eq!(created["model"], "company");
    assert!(mentions(&created["options"], "gold"));
    env.rows(&format!(
        "CALL UpdateDataAttribute('{id}', archived => true)"
    ))
    .await;
    assert_eq!(get(&env, "data_attributes", &id)["archived"], true);
    // The table lists archived attributes too, marked.
    let rows = env
        .rows(&format!(
            "SELECT archived FROM data_attributes WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(rows, vec![vec!["true".to_string()]]);
    assert_eq!(
        refused(&env, "CALL CreateDataAttribute('x', 'company', 'options')").await,
        "CreateDataAttribute: data_type options needs options, e.g. '[\"small\", \"large\"]'"
    );
}

#[tokio::test]
async fn intercom_api_sends_any_request_and_returns_error_statuses() {
    let env = start().await;
    let rows = env
        .rows(
            "SELECT status, json_get_str(response, 'name') AS name FROM intercom_api('GET', '/me')",
        )
        .await;
    assert_eq!(rows[0][0], "200");
    assert_eq!(
        rows[0][1],
        get(&env, "admins", ADMIN)["name"].as_str().unwrap()
    );
    let rows = env
        .rows("SELECT status FROM intercom_api('GET', '/contacts/nope')")
        .await;
    assert_eq!(rows, vec![vec!["404".to_string()]]);
    // In bulk, an error status is a failed row with Intercom's message.
    let rows = env
        .rows(
            "SELECT v.p, r.status, r.ok, r.error FROM (VALUES ('/me'), ('/contacts/nope')) v(p), \
             LATERAL intercom_api('GET', v.p) r",
        )
        .await;
    assert_eq!(rows[0][1..], ["200", "true", "NULL"]);
    assert_eq!(
        rows[1][1..],
        ["404", "false", "HTTP 404 not_found: User Not Found"]
    );
    let rows = env
        .rows("CALL intercom_api('POST', '/tags', '{\"name\": \"Made by SQL\"}')")
        .await;
    assert_eq!(rows[0][0], "200");
    assert!(
        snapshot(&env, "tags")
            .iter()
            .any(|t| t["name"] == "Made by SQL")
    );
}

/// Every procedure is called by at least one test above.
#[test]
fn every_procedure_has_an_integration_test() {
    let source = include_str!("procedures.rs");
    let untested: Vec<&str> = intercom_sql::procedures::all()
        .iter()
        .filter(|p| {
            !source.contains(&format!("CALL {}(", p.name))
                && !source.contains(&format!("FROM {}(", p.function_name))
        })
        .map(|p| p.name)
        .collect();
    assert!(
        untested.is_empty(),
        "procedures without a test: {untested:?}"
    );
}

#[test]
fn the_command_line_read_only_switch_refuses_procedures() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"))
        .env_remove("INTERCOM_ACCESS_TOKEN")
        .args([
            "--read-only",
            "-c",
            "CALL BlockContact('5ff80747000000005deece66')",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run intercom-sql");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "Error: intercom-sql is read-only (--read-only); CALL BlockContact was not run"
    );
}

#[tokio::test]
async fn an_embedding_context_gets_procedures_too() {
    let env = start().await;
    let ctx = datafusion::prelude::SessionContext::new();
    intercom_sql::register_intercom(&ctx, env.engine.client().config().clone()).unwrap();
    let id = contact_with_role(&env, "user");
    let plan = intercom_sql::session::plan_sql(&ctx, &format!("CALL ArchiveContact('{id}')"))
        .await
        .unwrap();
    ctx.execute_logical_plan(plan)
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(find(&env, "contacts", &id).is_none());
    let batches = ctx
        .sql(&format!(
            "SELECT a.archived FROM (VALUES ('{id}')) v(id), LATERAL unarchive_contact(v.id) a"
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        crate::common::strings(&batches),
        vec![vec!["false".to_string()]]
    );
    assert!(find(&env, "contacts", &id).is_some());
}

#[tokio::test]
async fn visitors_merge_into_an_existing_user() {
    let env = start().await;
    let visitor = crate::common::field(&snapshot(&env, "visitors")[1], "id");
    let user = contact_with_role(&env, "user");
    let before = snapshot(&env, "contacts").len();
    let rows = env
        .rows(&format!(
            "SELECT id FROM convert_visitor('{visitor}', 'user', contact_id => '{user}')"
        ))
        .await;
    assert_eq!(rows, vec![vec![user.clone()]]);
    assert!(find(&env, "visitors", &visitor).is_none());
    assert_eq!(
        snapshot(&env, "contacts").len(),
        before,
        "merged, not created"
    );
}

#[test]
fn the_repl_lists_and_describes_procedures() {
    use rexpect::session::spawn_command;
    let home = tempfile::tempdir().expect("temporary HOME");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
    command
        .env_remove("INTERCOM_ACCESS_TOKEN")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("COLUMNS", "250");
    let mut repl = spawn_command(command, Some(60_000)).expect("spawn intercom-sql");
    let prompt = "intercom> ";
    repl.exp_string(prompt).expect("first prompt");
    for (line, expected) in [
        (
            "\\procs",
            "SnoozeConversation(conversation_id text, admin_id text = NULL, snoozed_until timestamp)",
        ),
        (
            "\\df SnoozeConversation",
            "Endpoint: GET /me (when admin_id is not given) then POST /conversations/{conversation_id}/parts",
        ),
        ("\\df nope_nope", "procedure nope_nope does not exist"),
    ] {
        repl.send_line(line).expect("send");
        repl.exp_string(expected).expect(line);
        repl.exp_string(prompt).expect("prompt");
    }
    repl.send_line("\\q").expect("quit");
    repl.exp_eof().expect("exit");
}

#[tokio::test]
async fn the_registered_table_function_runs_when_scanned() {
    use datafusion::catalog::TableFunctionArgs;
    use datafusion::logical_expr::lit;
    let env = start().await;
    let id = contact_with_role(&env, "user");
    let ctx = env.engine.context();
    let state = ctx.state();
    let provider = ctx
        .table_function("archive_contact")
        .unwrap()
        .create_table_provider_with_args(TableFunctionArgs::new(&[lit(id.clone())], &state))
        .unwrap();
    assert!(writes(&env).is_empty(), "making the table sends nothing");
    let rows = ctx
        .read_table(provider)
        .unwrap()
        .select_columns(&["archived"])
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(
        crate::common::strings(&rows),
        vec![vec!["true".to_string()]]
    );
    assert!(find(&env, "contacts", &id).is_none());
}

#[tokio::test]
async fn a_lateral_subquery_may_repeat_the_outer_columns() {
    let env = start().await;
    let rows = env
        .rows(
            "SELECT r.* FROM (SELECT id FROM contacts ORDER BY id LIMIT 2) c, \
             LATERAL (SELECT c.id AS contact, status FROM intercom_api('GET', '/contacts/' || c.id)) r",
        )
        .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][1], "200");
    assert_eq!(rows[0][0].len(), 24, "{rows:?}");
}

#[tokio::test]
async fn placeholders_take_the_parameter_types() {
    use datafusion::arrow::datatypes::DataType;
    let env = start().await;
    let plan = env
        .engine
        .context()
        .state()
        .create_logical_plan("SELECT * FROM snooze_conversation($1, $2, $3)")
        .await
        .unwrap();
    let types = plan.get_parameter_types().unwrap();
    assert_eq!(types["$1"], Some(DataType::Utf8));
    assert_eq!(
        types["$3"],
        Some(DataType::Utf8),
        "timestamps are sent as text"
    );
    let plan = env
        .engine
        .context()
        .state()
        .create_logical_plan("SELECT * FROM set_admin_away($1, $2, away_status_reason_id => $3)")
        .await
        .unwrap();
    let types = plan.get_parameter_types().unwrap();
    assert_eq!(types["$2"], Some(DataType::Boolean));
    assert_eq!(types["$3"], Some(DataType::Int64));
    assert!(env.requests().is_empty());
}

#[tokio::test]
async fn submit_event_summary_sends_the_summary() {
    let env = start().await;
    let contacts = env.emulator.state.snapshot("contacts");
    let user = contacts
        .iter()
        .find(|c| c["external_id"].is_string())
        .unwrap();
    let user_id = crate::common::field(user, "external_id");
    env.rows(&format!(
        "CALL SubmitEventSummary('{user_id}', 'invited-friend', 3, '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')"
    ))
    .await;
    let sent = env.emulator.state.requests();
    let last = sent.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path.as_str(), last.status),
        ("POST", "/events/summaries", 200)
    );
    assert_eq!(
        last.body.as_ref().unwrap(),
        &serde_json::json!({"user_id": user_id, "event_summaries": {
            "event_name": "invited-friend", "count": 3, "first": 1767225600, "last": 1769904000}})
    );
    let error = env
        .error("CALL SubmitEventSummary('no-such-user', 'x', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')")
        .await;
    assert!(error.contains("404"), "{error}");
}

#[tokio::test]
async fn a_queued_ticket_is_a_job_the_jobs_table_follows() {
    let env = start().await;
    let contact = crate::common::field(&snapshot(&env, "contacts")[0], "id");
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "CALL EnqueueCreateTicket('95', '{contact}', 'Queued refund', 'Charged twice', \
             '{{\"Severity\": \"Low\"}}', NULL, true)"
        ))
        .await;
    let [job_id, status, resource_type, url, _] = rows[0].as_slice() else {
        panic!("{rows:?}")
    };
    assert_eq!(
        (status.as_str(), resource_type.as_str()),
        ("pending", "ticket")
    );
    assert!(url.ends_with(&format!("/jobs/status/{job_id}")), "{url}");
    let sent = env.emulator.state.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body.clone().unwrap(),
        serde_json::json!({
            "ticket_type_id": "95",
            "contacts": [{"id": contact}],
            "ticket_attributes": {
                "Severity": "Low",
                "_default_title_": "Queued refund",
                "_default_description_": "Charged twice",
            },
            "skip_notifications": true,
        })
    );
    // The job's status in one request, and through it the ticket. The tickets are read whole
    // (the first time with the first windows of a whole read; the table being one page, the
    // next read sends its search alone): one request each.
    let joined = format!(
        "SELECT j.status, t.title, t.ticket_type_id FROM jobs j JOIN tickets t ON t.id = j.resource_id \
         WHERE j.id = '{job_id}'"
    );
    for _ in 0..2 {
        env.emulator.state.clear_requests();
        let done = env.rows(&joined).await;
        assert_eq!(done, [["success", "Queued refund", "95"]]);
        let sent = env.requests();
        assert_eq!(
            sent.iter().filter(|r| r.contains("/jobs/status/")).count(),
            1,
            "{sent:?}"
        );
        assert!(
            sent.iter()
                .all(|r| r.contains("/jobs/status/") || r == "POST /tickets/search"),
            "{sent:?}"
        );
    }
    assert_eq!(env.requests().len(), 2, "{:?}", env.requests());
    // An unknown job is no row; a read naming no job is refused before sending anything.
    assert!(
        env.rows("SELECT * FROM jobs WHERE id = '999999'")
            .await
            .is_empty()
    );
    env.emulator.state.clear_requests();
    let message = env.error("SELECT * FROM jobs").await;
    assert!(message.contains("add WHERE id = "), "{message}");
    assert!(env.requests().is_empty());
    // Intercom checks the ticket before queueing it: a missing title (required) is refused in
    // one line.
    let message = env
        .error(&format!("CALL EnqueueCreateTicket('95', '{contact}')"))
        .await;
    assert!(
        !message.contains('\n') && message.contains("Missing required ticket attributes"),
        "{message}"
    );
    assert_eq!(
        snapshot(&env, "tickets")
            .iter()
            .filter(|t| t["ticket_attributes"]["_default_title_"] == "Queued refund")
            .count(),
        1
    );
}

#[tokio::test]
async fn fin_is_started_replied_to_and_rated_and_calls_are_deflected() {
    let env = start().await;
    env.emulator.state.clear_requests();
    let started = env
        .rows(
            "CALL StartFinConversation('ext-1', 'Where is my invoice?', 'user-9', 'Ann', \
             'ann@example.com', '[{\"type\": \"url\", \"url\": \"https://example.com/a.png\"}]')",
        )
        .await;
    assert_eq!(started[0][..3], ["ext-1", "user-9", "awaiting_user_reply"]);
    assert!(started[0][3].starts_with("https://"), "{started:?}");
    let sent = env.emulator.state.requests();
    let body = sent[0].body.clone().unwrap();
    assert_eq!(body["message"]["author"], "user");
    assert_eq!(body["message"]["body"], "Where is my invoice?");
    assert!(
        body["message"]["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(
        body["user"],
        serde_json::json!({"id": "user-9", "name": "Ann", "email": "ann@example.com"})
    );
    assert_eq!(body["attachments"][0]["type"], "url");
    let replied = env
        .rows("CALL ReplyToFin('ext-1', 'Order 1234', 'user-9')")
        .await;
    assert_eq!(replied[0][2], "awaiting_user_reply");
    let rated = env
        .rows("CALL SubmitFinCsat('ext-1', 'good', 'Quick')")
        .await;
    assert_eq!(rated[0][..3], ["ext-1", "good", "rated"]);
    // Intercom's own 422s (a different error shape) come back in one line naming the problem.
    let again = env.error("CALL SubmitFinCsat('ext-1', 'amazing')").await;
    assert!(
        !again.contains('\n') && again.contains("a remark has already been submitted"),
        "{again}"
    );
    let unknown = env.error("CALL SubmitFinCsat('ext-404', 'ok')").await;
    assert!(unknown.contains("Conversation not found"), "{unknown}");
    // Bad arguments never reach Intercom.
    env.emulator.state.clear_requests();
    let message = env.error("CALL SubmitFinCsat('ext-1', 'superb')").await;
    assert!(
        message.contains("terrible, bad, ok, good, amazing"),
        "{message}"
    );
    let message = env
        .error("CALL StartFinConversation('ext-2', 'hi', 'u', NULL, NULL, '{\"not\": \"a list\"}')")
        .await;
    assert!(
        message.contains("attachments must be a JSON array"),
        "{message}"
    );
    assert!(env.requests().is_empty());

    let link = env
        .rows("CALL CreatePhoneSwitch('+353832345678', '{\"issue_type\": \"Billing\"}')")
        .await;
    assert!(
        link[0][0].starts_with("http://via.intercom.io/msgr/"),
        "{link:?}"
    );
    let bad = env.error("CALL CreatePhoneSwitch('0123')").await;
    assert!(
        bad.contains("invalid_phone_number: Invalid phone number"),
        "{bad}"
    );
}

#[tokio::test]
async fn fin_voice_calls_are_registered_and_found_by_phone_number() {
    let env = start().await;
    let registered = env
        .rows("CALL RegisterFinVoiceCall('+15550201234', 'aws-call-42', 'five9', '{\"queue\": \"billing\"}')")
        .await;
    assert_eq!(registered[0][1..3], ["aws-call-42", "registered"]);
    let sent = env.emulator.state.requests();
    assert_eq!(
        sent.last().unwrap().body.clone().unwrap(),
        serde_json::json!({"phone_number": "+15550201234", "call_id": "aws-call-42",
                           "source": "five9", "data": {"queue": "billing"}})
    );
    // The newest call of the number; the `+` reaches Intercom encoded, as a path segment.
    env.emulator.state.clear_requests();
    let found = env.rows("CALL FindFinVoiceCall('+15550201234')").await;
    assert_eq!(found[0][0], registered[0][0]);
    assert_eq!(
        env.requests(),
        ["GET /fin_voice/phone_number/%2B15550201234"]
    );
    let again = env
        .error("CALL RegisterFinVoiceCall('+15550201234', 'aws-call-42')")
        .await;
    assert!(
        again.contains("409") && again.contains("already registered"),
        "{again}"
    );
    let message = env
        .error("CALL RegisterFinVoiceCall('+15550201234', 'x', 'skype')")
        .await;
    assert!(
        message.contains("aws_connect, five9, zoom_phone"),
        "{message}"
    );
    let missing = env.error("CALL FindFinVoiceCall('+19999999999')").await;
    assert!(missing.contains("404"), "{missing}");
}

#[tokio::test]
async fn exports_are_started_followed_and_canceled() {
    let env = start().await;
    let started = env
        .rows("CALL CreateDataExport('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')")
        .await;
    let job = started[0][0].clone();
    assert_eq!(started[0][1], "pending");
    let sent = env.emulator.state.requests();
    assert_eq!(
        sent.last().unwrap().body.clone().unwrap(),
        serde_json::json!({"created_at_after": 1_767_225_600, "created_at_before": 1_769_904_000})
    );
    // Intercom allows one pending message export at a time: its 429 in one line.
    let busy = env
        .error("CALL CreateDataExport('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z')")
        .await;
    assert!(busy.contains("1 pending message data export"), "{busy}");
    let cancelled = env.rows(&format!("CALL CancelDataExport('{job}')")).await;
    assert_eq!(cancelled[0][1], "canceled");
    let status = env
        .rows(&format!(
            "SELECT status, download_url FROM data_exports WHERE job_identifier = '{job}'"
        ))
        .await;
    assert_eq!(status, [["canceled", ""]]);
    // A second export, followed to completion through the table.
    let second = env
        .rows("CALL CreateDataExport('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z')")
        .await;
    let done = env
        .rows(&format!(
            "SELECT status, download_url FROM data_exports WHERE job_identifier = '{}'",
            second[0][0]
        ))
        .await;
    assert_eq!(done[0][0], "completed");
    assert!(done[0][1].ends_with(&second[0][0]), "{done:?}");
    let message = env.error("SELECT * FROM data_exports").await;
    assert!(message.contains("add WHERE job_identifier"), "{message}");

    // The reporting export: datasets, a job, its status.
    let datasets = env
        .rows("SELECT id FROM reporting_datasets ORDER BY id")
        .await;
    assert_eq!(datasets, [["conversation"], ["ticket"]]);
    let queued = env
        .rows(
            "CALL EnqueueReportingDataExport('ticket', '[\"ticket_id\", \"ticket_state\"]', \
             '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')",
        )
        .await;
    env.emulator.state.clear_requests();
    let status = env
        .rows(&format!(
            "CALL GetReportingDataExport('{}', 'ws1', 'client-9')",
            queued[0][0]
        ))
        .await;
    assert_eq!(status[0][1], "completed");
    assert_eq!(
        env.requests(),
        [format!(
            "GET /export/reporting_data/{}?app_id=ws1&client_id=client-9",
            queued[0][0]
        )]
    );
    let bad = env
        .error(
            "CALL EnqueueReportingDataExport('ticket', '[]', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')",
        )
        .await;
    assert!(bad.contains("attribute_ids must be a JSON array"), "{bad}");

    // A workflow's configuration, by id.
    let workflow = env
        .rows("SELECT title, state FROM workflow_exports WHERE id = '67890'")
        .await;
    assert_eq!(workflow, [["Route billing questions", "live"]]);
    assert!(
        env.rows("SELECT title FROM workflow_exports WHERE id = '404'")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn custom_object_instances_are_reached_by_type_and_key() {
    let env = start().await;
    env.emulator.state.clear_requests();
    let made = env
        .rows(
            "CALL UpsertCustomObjectInstance('Order', 'ORD-2000', \
             '{\"order_number\": \"ORDER-2000\", \"total_amount\": 99.99}', '2026-01-01T00:00:00Z')",
        )
        .await;
    let id = made[0][0].clone();
    assert_eq!(made[0][1], "ORD-2000");
    assert_eq!(
        env.emulator.state.requests()[0].body.clone().unwrap(),
        serde_json::json!({"external_id": "ORD-2000", "external_created_at": 1_767_225_600,
            "custom_attributes": {"order_number": "ORDER-2000", "total_amount": 99.99}})
    );
    // The same external id updates (attributes merged), it does not create another.
    let again = env
        .rows("CALL UpsertCustomObjectInstance('Order', 'ORD-2000', '{\"total_amount\": 10}')")
        .await;
    assert_eq!(again[0][0], id);
    let found = env
        .rows(
            "SELECT id, custom_attributes->>'order_number', custom_attributes->>'total_amount' \
             FROM find_custom_object_instance('Order', 'ORD-2000')",
        )
        .await;
    assert_eq!(found, [[id.as_str(), "ORDER-2000", "10"]]);
    let by_id = env
        .rows(&format!("CALL GetCustomObjectInstance('Order', '{id}')"))
        .await;
    assert_eq!(by_id[0][1], "ORD-2000");
    // An unknown type is Intercom's 404 naming it, in one line.
    let message = env
        .error("CALL GetCustomObjectInstance('Invoice', '22')")
        .await;
    assert!(
        !message.contains('\n') && message.contains("Custom object type `Invoice` not found"),
        "{message}"
    );
    let gone = env
        .rows("CALL DeleteCustomObjectInstanceByExternalId('Order', 'ORD-2000')")
        .await;
    assert_eq!(gone, [[id.as_str(), "true", &gone[0][2]]]);
    let gone = env
        .rows("CALL DeleteCustomObjectInstance('Order', '22')")
        .await;
    assert_eq!(gone[0][..2], ["22", "true"]);
    let message = env
        .error("CALL GetCustomObjectInstance('Order', '22')")
        .await;
    assert!(
        message.contains("Custom object instance not found"),
        "{message}"
    );
    let message = env
        .error("CALL UpsertCustomObjectInstance('Order', 'x', '[1]')")
        .await;
    assert!(
        message.contains("custom_attributes must be a JSON object"),
        "{message}"
    );
}

#[tokio::test]
async fn the_raw_request_takes_patch_and_headers_but_never_the_authorization() {
    let env = start().await;
    env.emulator.state.clear_requests();
    let rows = env
        .rows(
            "SELECT status, response->>'id' FROM intercom_api('GET', '/me', NULL, \
             '{\"Intercom-Version\": \"Unstable\"}')",
        )
        .await;
    assert_eq!(rows[0][0], "200");
    let sent = env.emulator.state.requests();
    assert_eq!(sent[0].version.as_deref(), Some("Unstable"), "{sent:?}");
    // Without headers the client's own version goes out.
    env.emulator.state.clear_requests();
    env.rows("SELECT status FROM intercom_api('GET', '/me')")
        .await;
    assert_eq!(
        env.emulator.state.requests()[0].version.as_deref(),
        Some("2.15")
    );
    // PATCH is sent as given (the 2.15 API has no PATCH route: Intercom's 404 comes back as a
    // status, not an error).
    let rows = env
        .rows("SELECT status FROM intercom_api('PATCH', '/contacts/x', '{\"name\": \"y\"}')")
        .await;
    assert_eq!(rows[0][0], "404");
    assert_eq!(
        env.emulator.state.requests().last().unwrap().method,
        "PATCH"
    );
    // The token's header cannot be replaced or added; bad headers are named, nothing is sent.
    env.emulator.state.clear_requests();
    for (headers, want) in [
        (
            r#"{"Authorization": "Bearer other"}"#,
            "header Authorization is set by intercom-sql and cannot be given",
        ),
        (
            r#"{"bad header": "x"}"#,
            "'bad header' is not a valid header name",
        ),
        (r#"{"X-Id": 5}"#, "the value of header X-Id must be text"),
        (r#"["Intercom-Version"]"#, "headers must be a JSON object"),
    ] {
        let message = env
            .error(&format!(
                "SELECT status FROM intercom_api('GET', '/me', NULL, '{headers}')"
            ))
            .await;
        assert!(message.contains(want), "{headers}: {message}");
        assert!(!message.contains("Bearer other"), "{message}");
    }
    assert!(env.emulator.state.requests().is_empty());
}

#[tokio::test]
async fn intercom_api_items_follows_every_paging_style_and_only_reads() {
    let env = start().await;
    let contacts = crate::common::snapshot_ids(&env, "contacts");
    // Cursor pages: every contact once, a request per page of 7.
    env.emulator.state.clear_requests();
    let got = env
        .rows("SELECT item->>'id' FROM intercom_api_items('GET', '/contacts?per_page=7')")
        .await;
    let mut ids: Vec<String> = got.into_iter().map(|r| r[0].clone()).collect();
    ids.sort();
    let mut want = contacts.clone();
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(env.requests().len(), want.len().div_ceil(7));
    // Page numbers, the scroll and a search (its cursor in the body) read what the tables read.
    for (sql, table) in [
        (
            "SELECT item->>'id' FROM intercom_api_items('GET', '/companies?per_page=5')",
            "SELECT id FROM companies",
        ),
        (
            "SELECT item->>'id' FROM intercom_api_items('GET', '/companies/scroll')",
            "SELECT id FROM companies",
        ),
        (
            "SELECT item->>'id' FROM intercom_api_items('POST', '/conversations/search', \
             '{\"query\": {\"field\": \"state\", \"operator\": \"=\", \"value\": \"open\"}, \"pagination\": {\"per_page\": 4}}')",
            "SELECT id FROM conversations WHERE state = 'open'",
        ),
        (
            "SELECT item->>'title' FROM intercom_api_items('GET', '/articles/search?phrase=your&state=all&per_page=2')",
            "SELECT title FROM article_search WHERE phrase = 'your'",
        ),
    ] {
        let mut got = env.rows(sql).await;
        let mut want = env.rows(table).await;
        got.sort();
        want.sort();
        assert!(want.len() > 4, "{table}: several pages");
        assert_eq!(got, want, "{sql}");
    }
    let searches: Vec<serde_json::Value> = env
        .emulator
        .state
        .requests()
        .into_iter()
        .filter(|r| r.path == "/conversations/search")
        .filter_map(|r| r.body)
        .collect();
    assert!(
        searches.iter().any(
            |b| b["pagination"]["starting_after"].is_string() && b["query"]["field"] == "state"
        ),
        "the search's next pages carry the cursor and the query: {searches:?}"
    );
    // A LIMIT stops the pages.
    env.emulator.state.clear_requests();
    let few = env
        .rows("SELECT item FROM intercom_api_items('GET', '/contacts?per_page=5') LIMIT 7")
        .await;
    assert_eq!(few.len(), 7);
    assert_eq!(env.requests().len(), 2);
    // Only reads, relative paths, literal arguments.
    for (sql, says) in [
        (
            "SELECT * FROM intercom_api_items('DELETE', '/contacts/1')",
            "only reads",
        ),
        (
            "SELECT * FROM intercom_api_items('POST', '/contacts', '{}')",
            "search or list endpoint",
        ),
        (
            "SELECT * FROM intercom_api_items('GET', 'https://evil.example/x')",
            "relative to the API root",
        ),
        (
            "SELECT * FROM intercom_api_items('GET', '/contacts', '{}')",
            "takes no body",
        ),
        (
            "SELECT * FROM intercom_api_items('GET')",
            "2 to 4 arguments",
        ),
        (
            "SELECT * FROM intercom_api_items('GET', '/me')",
            "expected a list of items",
        ),
    ] {
        let error = env.error(sql).await;
        assert!(error.contains(says), "{sql}: {error}");
    }
}

#[tokio::test]
async fn a_wait_for_an_export_polls_until_it_is_done_reports_progress_and_can_be_cancelled() {
    // Jobs finish on their third status read.
    let config = intercom_sql::emulator::EmulatorConfig {
        export_status_reads: 3,
        ..Default::default()
    };
    let env = crate::common::start_with(config, |_| {}).await;
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = lines.clone();
    env.engine
        .report_progress_to(std::sync::Arc::new(move |line: &str| {
            seen.lock().unwrap().push(line.to_string())
        }));
    let job = env
        .rows("CALL CreateDataExport('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')")
        .await[0][0]
        .clone();
    env.emulator.state.clear_requests();
    let started = std::time::Instant::now();
    let done = env.rows(&format!("CALL WaitForDataExport('{job}')")).await;
    assert_eq!(done[0][1], "completed");
    assert_eq!(
        env.requests(),
        vec![format!("GET /export/content/data/{job}"); 3],
        "asked until done"
    );
    // Waited 1 s, then 1.5 s, between the reads.
    assert!(started.elapsed() >= std::time::Duration::from_millis(2_400));
    let progress = lines.lock().unwrap().clone();
    assert_eq!(progress.len(), 2, "{progress:?}");
    assert!(
        progress[0].starts_with("WaitForDataExport: in_progress after 0 s"),
        "{progress:?}"
    );
    // A short timeout: the error says where the job stands, with 57014.
    let second = env
        .rows("CALL CreateDataExport('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z')")
        .await[0][0]
        .clone();
    let error = env
        .engine
        .execute(&format!("CALL WaitForDataExport('{second}', 1)"))
        .await
        .unwrap_err();
    assert_eq!(
        error.procedure_error().map(|p| p.sqlstate()),
        Some("57014"),
        "{}",
        error.user_message()
    );
    assert!(
        error.user_message().contains("still in_progress after 1 s"),
        "{}",
        error.user_message()
    );
    // Cancelling the statement (dropping it) stops the polls; the job goes on.
    env.rows(&format!("CALL WaitForDataExport('{second}')"))
        .await;
    let third = env
        .rows("CALL CreateDataExport('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z')")
        .await[0][0]
        .clone();
    let statement = format!("CALL WaitForDataExport('{third}', 600)");
    let waited = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        env.engine.execute(&statement),
    )
    .await;
    assert!(waited.is_err(), "still waiting when cancelled");
    env.emulator.state.clear_requests();
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    // A reporting export is waited for the same way.
    let queued = env
        .rows(
            "CALL EnqueueReportingDataExport('ticket', '[\"ticket_id\"]', \
             '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')",
        )
        .await[0][0]
        .clone();
    env.emulator.state.clear_requests();
    let done = env
        .rows(&format!(
            "CALL WaitForReportingDataExport('{queued}', 'ws1', 'client-9', 60)"
        ))
        .await;
    assert_eq!(done[0][1], "completed");
    assert_eq!(env.requests().len(), 3);
}
