//! INSERT / UPDATE / DELETE against the emulator: every table and statement form is run and
//! the emulator's state checked to have changed as Intercom's would; refused statements are
//! checked to send nothing.

use intercom_sql::emulator::{EmulatorConfig, Fault, FaultRule};
use serde_json::Value;

use crate::common::{TestEnv, field, start, start_with};

const ADMIN: &str = "991267460";

fn snapshot(env: &TestEnv, kind: &str) -> Vec<Value> {
    env.emulator.state.snapshot(kind)
}

fn find_by(env: &TestEnv, kind: &str, key: &str, value: &str) -> Option<Value> {
    snapshot(env, kind)
        .into_iter()
        .find(|o| field(o, key) == value)
}

/// `METHOD /path` of the write requests served (reads are left out).
fn writes(env: &TestEnv) -> Vec<String> {
    env.requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET ") && !r.ends_with("/search"))
        .collect()
}

/// The affected-row count a statement returned.
async fn count(env: &TestEnv, sql: &str) -> u64 {
    let rows = env.rows(sql).await;
    assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
    rows[0][0]
        .parse()
        .unwrap_or_else(|_| panic!("{sql}: {rows:?}"))
}

/// Runs SQL that must fail before any request: returns the message.
async fn refused(env: &TestEnv, sql: &str) -> String {
    env.emulator.state.clear_requests();
    let message = env.error(sql).await;
    assert!(writes(env).is_empty(), "{sql} sent {:?}", writes(env));
    assert!(!message.contains('\n'), "{message}");
    message
}

fn user_ids(env: &TestEnv, n: usize) -> Vec<String> {
    snapshot(env, "contacts")
        .into_iter()
        .filter(|c| c["role"] == "user")
        .take(n)
        .map(|c| field(&c, "id"))
        .collect()
}

#[tokio::test]
async fn contacts_are_inserted_updated_and_deleted() {
    let env = start().await;
    let n = count(
        &env,
        "INSERT INTO contacts (role, email, name, \"custom_attributes.seats\") VALUES \
         ('user', 'ada@dml.test', 'Ada', 5), ('lead', 'bob@dml.test', NULL, NULL)",
    )
    .await;
    assert_eq!(n, 2);
    let ada = find_by(&env, "contacts", "email", "ada@dml.test").expect("ada created");
    assert_eq!(ada["name"], "Ada");
    assert_eq!(ada["role"], "user");
    assert_eq!(ada["custom_attributes"]["seats"], 5);
    let bob = find_by(&env, "contacts", "email", "bob@dml.test").expect("bob created");
    assert_eq!(bob["role"], "lead");
    assert!(bob["name"].is_null(), "NULL values are left out: {bob}");

    // The WHERE is the same search a SELECT sends; the SET sends only what it names.
    env.emulator.state.clear_requests();
    let n = count(
        &env,
        "UPDATE contacts SET name = 'Ada Lovelace', phone = '+44 1', custom_attributes.seats = 7 \
         WHERE email = 'ada@dml.test'",
    )
    .await;
    assert_eq!(n, 1);
    let ada_id = field(&ada, "id");
    assert_eq!(
        env.requests(),
        vec![
            "POST /contacts/search".to_string(),
            format!("PUT /contacts/{ada_id}")
        ]
    );
    let ada = find_by(&env, "contacts", "id", &ada_id).unwrap();
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["phone"], "+44 1");
    assert_eq!(ada["custom_attributes"]["seats"], 7);
    assert_eq!(
        ada["email"], "ada@dml.test",
        "unchanged columns are not sent"
    );
    // SET … = NULL clears the field.
    count(
        &env,
        &format!("UPDATE contacts SET phone = NULL WHERE id = '{ada_id}'"),
    )
    .await;
    assert!(find_by(&env, "contacts", "id", &ada_id).unwrap()["phone"].is_null());
    // The avatar is written as its image's URL and read back as Intercom's avatar object.
    let url = "https://example.com/ada.png";
    count(
        &env,
        &format!("UPDATE contacts SET avatar = '{url}' WHERE id = '{ada_id}'"),
    )
    .await;
    let rows = env
        .rows(&format!(
            "SELECT avatar->>'image_url' FROM contacts WHERE id = '{ada_id}'"
        ))
        .await;
    assert_eq!(rows, vec![vec![url.to_string()]]);
    count(
        &env,
        "INSERT INTO contacts (role, email, avatar) VALUES ('lead', 'cy@dml.test', 'https://example.com/cy.png')",
    )
    .await;
    let cy = find_by(&env, "contacts", "email", "cy@dml.test").expect("cy created");
    assert_eq!(cy["avatar"]["image_url"], "https://example.com/cy.png");
    count(&env, "DELETE FROM contacts WHERE email = 'cy@dml.test'").await;

    env.emulator.state.clear_requests();
    let n = count(&env, "DELETE FROM contacts WHERE email LIKE '%@dml.test'").await;
    assert_eq!(n, 2);
    assert!(find_by(&env, "contacts", "email", "ada@dml.test").is_none());
    assert!(find_by(&env, "contacts", "email", "bob@dml.test").is_none());
    assert_eq!(
        writes(&env)
            .iter()
            .filter(|w| w.starts_with("DELETE /contacts/"))
            .count(),
        2
    );
}

#[tokio::test]
async fn companies_and_tags_are_written() {
    let env = start().await;
    let n = count(
        &env,
        "INSERT INTO companies (company_id, name, size, industry) VALUES ('dml-co', 'DML Ltd', 12, 'Tools')",
    )
    .await;
    assert_eq!(n, 1);
    let company = find_by(&env, "companies", "company_id", "dml-co").expect("company created");
    assert_eq!(company["name"], "DML Ltd");
    assert_eq!(company["size"], 12);
    let id = field(&company, "id");
    // Intercom lists no company without contacts (docs/intercom-notes.md, "Companies without
    // contacts"), but its id finds it: UPDATE reaches it before it has a contact, and after.
    let update = format!("UPDATE companies SET size = 99 WHERE id = '{id}'");
    assert_eq!(count(&env, &update).await, 1);
    assert_eq!(find_by(&env, "companies", "id", &id).unwrap()["size"], 99);
    let contact = user_ids(&env, 1).remove(0);
    count(
        &env,
        &format!(
            "INSERT INTO contact_companies (contact_id, company_id) VALUES ('{contact}', '{id}')"
        ),
    )
    .await;
    let n = count(
        &env,
        &format!("UPDATE companies SET website = 'https://dml.test', size = 13 WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(n, 1);
    let company = find_by(&env, "companies", "id", &id).unwrap();
    assert_eq!(company["website"], "https://dml.test");
    assert_eq!(company["size"], 13);
    assert_eq!(
        count(&env, &format!("DELETE FROM companies WHERE id = '{id}'")).await,
        1
    );
    assert!(find_by(&env, "companies", "id", &id).is_none());
    // A company that never had a contact is deleted by its own company_id.
    count(
        &env,
        "INSERT INTO companies (company_id, name) VALUES ('dml-lonely', 'Lonely Ltd')",
    )
    .await;
    assert_eq!(
        count(
            &env,
            "DELETE FROM companies WHERE company_id = 'dml-lonely'"
        )
        .await,
        1
    );
    assert!(find_by(&env, "companies", "company_id", "dml-lonely").is_none());

    assert_eq!(
        count(&env, "INSERT INTO tags (name) VALUES ('dml-a'), ('dml-b')").await,
        2
    );
    assert!(find_by(&env, "tags", "name", "dml-a").is_some());
    let n = count(
        &env,
        "UPDATE tags SET name = 'dml-renamed' WHERE name = 'dml-a'",
    )
    .await;
    assert_eq!(n, 1);
    assert!(find_by(&env, "tags", "name", "dml-a").is_none());
    assert!(find_by(&env, "tags", "name", "dml-renamed").is_some());
    let n = count(&env, "DELETE FROM tags WHERE name LIKE 'dml-%'").await;
    assert_eq!(n, 2);
    assert!(find_by(&env, "tags", "name", "dml-renamed").is_none());
    assert!(find_by(&env, "tags", "name", "dml-b").is_none());
}

#[tokio::test]
async fn notes_and_data_attributes_are_created() {
    let env = start().await;
    let contact = user_ids(&env, 1).remove(0);
    let n = count(
        &env,
        &format!(
            "INSERT INTO notes (contact_id, body, admin_id) VALUES ('{contact}', 'Called about the DML renewal', '{ADMIN}')"
        ),
    )
    .await;
    assert_eq!(n, 1);
    let note = snapshot(&env, "notes")
        .into_iter()
        .find(|n| field(n, "body").contains("Called about the DML renewal"))
        .expect("note created");
    assert_eq!(field(&note, "contact.id"), contact);
    assert_eq!(field(&note, "author.id"), ADMIN);
    // …and it reads back through the notes table.
    let rows = env
        .rows(&format!(
            "SELECT admin_id FROM notes WHERE contact_id = '{contact}' AND body LIKE '%DML renewal%'"
        ))
        .await;
    assert_eq!(rows, vec![vec![ADMIN.to_string()]]);

    let n = count(
        &env,
        "INSERT INTO data_attributes (name, model, data_type, options, description) VALUES \
         ('dml_tier', 'contact', 'options', '[\"gold\", \"silver\"]', 'Tier from DML')",
    )
    .await;
    assert_eq!(n, 1);
    let attribute = find_by(&env, "data_attributes", "name", "dml_tier").expect("created");
    assert_eq!(attribute["model"], "contact");
    assert_eq!(attribute["description"], "Tier from DML");
    let id = field(&attribute, "id");
    let n = count(
        &env,
        &format!("UPDATE data_attributes SET description = 'Changed' WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        find_by(&env, "data_attributes", "id", &id).unwrap()["description"],
        "Changed"
    );
}

#[tokio::test]
async fn tickets_and_conversations_are_updated_and_deleted() {
    let env = start().await;
    let contact = user_ids(&env, 1).remove(0);
    let ticket_type = field(&snapshot(&env, "ticket_types")[0], "id");
    let n = count(
        &env,
        &format!(
            "INSERT INTO tickets (ticket_type_id, contacts, title, description) VALUES \
             ('{ticket_type}', '{contact}', 'Printer on fire', 'Smoke everywhere')"
        ),
    )
    .await;
    assert_eq!(n, 1);
    let ticket = snapshot(&env, "tickets")
        .into_iter()
        .find(|t| t["ticket_attributes"]["_default_title_"] == "Printer on fire")
        .expect("ticket created");
    assert_eq!(ticket["contacts"]["contacts"][0]["id"], contact.as_str());
    let id = field(&ticket, "id");
    let n = count(
        &env,
        &format!("UPDATE tickets SET title = 'Printer fixed', open = false WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(n, 1);
    let ticket = find_by(&env, "tickets", "id", &id).unwrap();
    assert_eq!(
        ticket["ticket_attributes"]["_default_title_"],
        "Printer fixed"
    );
    assert_eq!(ticket["open"], false);
    assert_eq!(
        count(&env, &format!("DELETE FROM tickets WHERE id = '{id}'")).await,
        1
    );
    assert!(find_by(&env, "tickets", "id", &id).is_none());

    let conversation = field(&snapshot(&env, "conversations")[0], "id");
    let n = count(
        &env,
        &format!("UPDATE conversations SET title = 'Renamed by SQL', read = true WHERE id = '{conversation}'"),
    )
    .await;
    assert_eq!(n, 1);
    let after = find_by(&env, "conversations", "id", &conversation).unwrap();
    assert_eq!(after["title"], "Renamed by SQL");
    assert_eq!(after["read"], true);
    assert_eq!(
        count(
            &env,
            &format!("DELETE FROM conversations WHERE id = '{conversation}'")
        )
        .await,
        1
    );
    assert!(find_by(&env, "conversations", "id", &conversation).is_none());
}

#[tokio::test]
async fn junction_tables_attach_and_detach() {
    let env = start().await;
    let contacts = user_ids(&env, 2);
    let tag = field(&snapshot(&env, "tags")[0], "id");
    // INSERT … SELECT: the contacts come from a query.
    let n = count(
        &env,
        &format!(
            "INSERT INTO contact_tags (contact_id, tag_id) SELECT id, '{tag}' FROM contacts WHERE id IN ('{}', '{}')",
            contacts[0], contacts[1]
        ),
    )
    .await;
    assert_eq!(n, 2);
    for c in &contacts {
        let rows = env
            .rows(&format!(
                "SELECT tag_id FROM contact_tags WHERE contact_id = '{c}' AND tag_id = '{tag}'"
            ))
            .await;
        assert_eq!(rows.len(), 1, "{c} tagged");
    }
    let n = count(
        &env,
        &format!(
            "DELETE FROM contact_tags WHERE tag_id = '{tag}' AND contact_id = '{}'",
            contacts[0]
        ),
    )
    .await;
    assert_eq!(n, 1);
    let rows = env
        .rows(&format!(
            "SELECT tag_id FROM contact_tags WHERE contact_id = '{}' AND tag_id = '{tag}'",
            contacts[0]
        ))
        .await;
    assert!(rows.is_empty());

    let company = field(&snapshot(&env, "companies")[0], "id");
    let c = &contacts[0];
    let n = count(
        &env,
        &format!(
            "INSERT INTO contact_companies (contact_id, company_id) VALUES ('{c}', '{company}')"
        ),
    )
    .await;
    assert_eq!(n, 1);
    let listed = format!(
        "SELECT company_id FROM contact_companies WHERE contact_id = '{c}' AND company_id = '{company}'"
    );
    assert_eq!(env.rows(&listed).await.len(), 1);
    let n = count(
        &env,
        &format!(
            "DELETE FROM contact_companies WHERE contact_id = '{c}' AND company_id = '{company}'"
        ),
    )
    .await;
    assert_eq!(n, 1);
    assert!(env.rows(&listed).await.is_empty());
}

#[tokio::test]
async fn unsafe_or_impossible_statements_are_refused_before_any_request() {
    let env = start().await;
    let id = user_ids(&env, 1).remove(0);
    let cases = [
        ("UPDATE contacts SET name = 'x'", "without WHERE is refused"),
        ("DELETE FROM tags", "without WHERE is refused"),
        (
            "UPDATE contacts SET created_at = now() WHERE role = 'user'",
            "column created_at cannot be set through the API",
        ),
        (
            "UPDATE contacts SET id = 'x' WHERE role = 'user'",
            "id identifies the row",
        ),
        (
            "INSERT INTO admins (name) VALUES ('x')",
            "Intercom has no way to write admins",
        ),
        (
            "DELETE FROM notes WHERE id = '1'",
            "notes takes INSERT only",
        ),
        (
            "INSERT INTO conversations (title) VALUES ('x')",
            "column title cannot be set through the API; settable columns: source_author_id",
        ),
        (
            "DELETE FROM ticket_types WHERE id = '1'",
            "ticket_types takes INSERT and UPDATE only",
        ),
        ("TRUNCATE contacts", "TRUNCATE is not supported"),
        (
            "INSERT INTO tickets (ticket_type_id, title) VALUES ('1', 'no contact')",
            "row 1: contacts must be given",
        ),
        (
            "INSERT INTO notes (contact_id, body) VALUES (NULL, 'x')",
            "contact_id must not be NULL",
        ),
    ];
    for (sql, expected) in cases {
        let message = refused(&env, sql).await;
        assert!(message.contains(expected), "{sql}: {message}");
    }
    // More rows than intercom.max_write_rows: refused with nothing sent, then allowed.
    env.rows("SET intercom.max_write_rows = 2").await;
    let message = refused(
        &env,
        "UPDATE contacts SET name = 'Many' WHERE role = 'user'",
    )
    .await;
    assert!(
        message.contains("more than intercom.max_write_rows (2)"),
        "{message}"
    );
    // EXPLAIN shows the write and sends nothing.
    env.emulator.state.clear_requests();
    let plan = env
        .rows(&format!("EXPLAIN DELETE FROM contacts WHERE id = '{id}'"))
        .await;
    let plan: String = plan
        .iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        plan.contains("IntercomWrite: DELETE FROM contacts [DELETE /contacts/{id} per row]"),
        "{plan}"
    );
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    assert!(find_by(&env, "contacts", "id", &id).is_some());
}

#[tokio::test]
async fn read_only_sessions_refuse_writes() {
    let env = start_with(EmulatorConfig::default(), |c| c.read_only = true).await;
    let id = user_ids(&env, 1).remove(0);
    for sql in [
        format!("DELETE FROM contacts WHERE id = '{id}'"),
        "INSERT INTO tags (name) VALUES ('never')".to_string(),
        format!("UPDATE contacts SET name = 'never' WHERE id = '{id}'"),
    ] {
        let message = env.error(&sql).await;
        assert!(message.contains("read-only (--read-only)"), "{message}");
        assert!(writes(&env).is_empty(), "{sql}: {:?}", writes(&env));
    }
    assert!(find_by(&env, "contacts", "id", &id).is_some());
    assert!(find_by(&env, "tags", "name", "never").is_none());
}

#[tokio::test]
async fn a_statement_failing_half_way_reports_every_row() {
    let env = start().await;
    let ids = user_ids(&env, 3);
    env.emulator.state.inject(FaultRule {
        path_prefix: Some(format!("/contacts/{}", ids[1])),
        method: Some("DELETE".into()),
        fault: Fault::Status(404),
        count: 1,
    });
    let message = env
        .error(&format!(
            "DELETE FROM contacts WHERE id IN ('{}', '{}', '{}')",
            ids[0], ids[1], ids[2]
        ))
        .await;
    assert!(!message.contains('\n'), "{message}");
    assert!(
        message.starts_with("DELETE FROM contacts: 2 of 3 rows deleted, 1 failed."),
        "{message}"
    );
    assert!(
        message.contains(&format!("Failed: id {}: Intercom API 404", ids[1])),
        "{message}"
    );
    assert!(
        message.contains(&ids[0]) && message.contains(&ids[2]),
        "{message}"
    );
    assert!(find_by(&env, "contacts", "id", &ids[0]).is_none());
    assert!(
        find_by(&env, "contacts", "id", &ids[1]).is_some(),
        "the failed row stays"
    );
    assert!(find_by(&env, "contacts", "id", &ids[2]).is_none());

    // A refused token dooms the rest: they are reported as not attempted, not sent.
    let more = user_ids(&env, 2);
    env.emulator.state.clear_requests();
    env.emulator.state.inject(FaultRule {
        path_prefix: Some("/contacts/".into()),
        method: Some("PUT".into()),
        fault: Fault::Status(401),
        count: 5,
    });
    let message = env
        .error(&format!(
            "UPDATE contacts SET name = 'x' WHERE id IN ('{}', '{}')",
            more[0], more[1]
        ))
        .await;
    assert!(
        message.contains("0 of 2 rows updated, 1 failed, 1 not attempted"),
        "{message}"
    );
    assert_eq!(
        writes(&env)
            .iter()
            .filter(|w| w.starts_with("PUT "))
            .count(),
        1,
        "{:?}",
        writes(&env)
    );
}

#[tokio::test]
async fn dot_segments_never_reach_another_path() {
    let env = start().await;
    let tag = field(&snapshot(&env, "tags")[0], "id");
    let tags_before = snapshot(&env, "tags").len();
    // `/contacts/../tags` would be `/tags`: no request may be built from `..`.
    for id in ["..", "."] {
        env.emulator.state.clear_requests();
        let n = count(
            &env,
            &format!("DELETE FROM contact_tags WHERE contact_id = '{id}' AND tag_id = '{tag}'"),
        )
        .await;
        assert_eq!(n, 0, "{id}");
        let rows = env
            .rows(&format!("SELECT id FROM contacts WHERE id = '{id}'"))
            .await;
        assert!(rows.is_empty(), "{id}: {rows:?}");
        assert!(
            env.requests().iter().all(|r| !r.contains("/tags")),
            "{id}: {:?}",
            env.requests()
        );
    }
    assert_eq!(snapshot(&env, "tags").len(), tags_before);
    let message = refused(
        &env,
        &format!("INSERT INTO contact_tags (contact_id, tag_id) VALUES ('..', '{tag}')"),
    )
    .await;
    assert!(
        message.contains("contact_id '..' is not a valid id"),
        "{message}"
    );
    let message = refused(&env, "CALL ArchiveContact('..')").await;
    assert!(message.contains("is not a valid Intercom id"), "{message}");
}

#[tokio::test]
async fn update_from_is_refused_and_inserts_cannot_choose_ids() {
    let env = start().await;
    // DataFusion 55 cannot plan UPDATE … FROM; the refusal is clear and nothing is sent.
    let message = refused(
        &env,
        "UPDATE contacts SET name = s.name FROM (SELECT 'x' AS name) s WHERE contacts.id = 'a'",
    )
    .await;
    assert!(
        message.contains("UPDATE ... FROM is not supported"),
        "{message}"
    );
    // Intercom assigns ids.
    let message = refused(&env, "INSERT INTO tags (id, name) VALUES ('5', 'x')").await;
    assert!(message.contains("id is assigned by Intercom"), "{message}");
    assert!(find_by(&env, "tags", "name", "x").is_none());
}

#[tokio::test]
async fn contact_subscriptions_are_inserted_and_deleted_like_the_procedures() {
    let env = start().await;
    let user = user_ids(&env, 1).remove(0);
    let types = env
        .rows("SELECT id, name FROM subscription_types ORDER BY id")
        .await;
    assert_eq!(types.len(), 3, "{types:?}");
    let (newsletter, updates) = (types[0][0].clone(), types[1][0].clone());
    let mine = format!(
        "SELECT subscription_type_id, consent_type FROM contact_subscriptions \
         WHERE contact_id = '{user}' ORDER BY 1"
    );
    // Start from no explicit choices (the seed gives some contacts one).
    env.rows(&format!(
        "DELETE FROM contact_subscriptions WHERE contact_id = '{user}'"
    ))
    .await;

    env.emulator.state.clear_requests();
    let n = count(
        &env,
        &format!(
            "INSERT INTO contact_subscriptions (contact_id, subscription_type_id) \
             VALUES ('{user}', '{updates}')"
        ),
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        writes(&env),
        [format!("POST /contacts/{user}/subscriptions")]
    );
    let n = count(
        &env,
        &format!(
            "INSERT INTO contact_subscriptions (contact_id, subscription_type_id, consent_type) \
             VALUES ('{user}', '{newsletter}', 'opt_out')"
        ),
    )
    .await;
    assert_eq!(n, 1);
    let after = env.rows(&mine).await;
    assert!(
        after.contains(&vec![updates.clone(), "opt_in".into()]),
        "{after:?}"
    );
    assert!(after.iter().any(|r| r[0] == newsletter), "{after:?}");

    let message = refused(
        &env,
        &format!(
            "INSERT INTO contact_subscriptions (contact_id, subscription_type_id, consent_type) \
             VALUES ('{user}', '{newsletter}', 'maybe')"
        ),
    )
    .await;
    assert!(
        message.contains("consent_type must be opt_in or opt_out"),
        "{message}"
    );

    env.emulator.state.clear_requests();
    let n = count(
        &env,
        &format!("DELETE FROM contact_subscriptions WHERE contact_id = '{user}'"),
    )
    .await;
    assert_eq!(n, 2);
    let mut deleted = writes(&env);
    deleted.sort();
    assert_eq!(
        deleted,
        [
            format!("DELETE /contacts/{user}/subscriptions/{newsletter}"),
            format!("DELETE /contacts/{user}/subscriptions/{updates}"),
        ]
    );
    assert!(env.rows(&mine).await.is_empty());
    // The procedure sends the same request as the INSERT.
    env.emulator.state.clear_requests();
    env.rows(&format!("CALL SubscribeContact('{user}', '{updates}')"))
        .await;
    assert_eq!(
        writes(&env),
        [format!("POST /contacts/{user}/subscriptions")]
    );
}

/// INSERT, UPDATE and DELETE … RETURNING answer with the written rows, in the table's columns,
/// through the RETURNING list (expressions, aliases, `*`), so a script can use a new id.
#[tokio::test]
async fn returning_answers_with_the_written_rows() {
    let env = start().await;
    env.emulator.state.clear_requests();
    let rows = env
        .rows(
            "INSERT INTO contacts (role, email, name) VALUES \
             ('user', 'ret.one@example.com', 'Ret One'), ('lead', 'ret.two@example.com', 'Ret Two') \
             RETURNING id, email, upper(name) AS shout, created_at IS NOT NULL AS stamped",
        )
        .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(writes(&env), ["POST /contacts", "POST /contacts"]);
    for (row, email) in rows
        .iter()
        .zip(["ret.one@example.com", "ret.two@example.com"])
    {
        let created = find_by(&env, "contacts", "email", email).expect("created");
        assert_eq!(row[0], field(&created, "id"), "the id Intercom assigned");
        assert_eq!(row[1], email);
        assert_eq!(row[3], "true");
    }
    assert_eq!(rows[0][2], "RET ONE");
    // The new id is usable at once: attach a tag to the contact just created.
    let id = &rows[0][0];
    let tag = field(&snapshot(&env, "tags")[0], "id");
    let attached = env
        .rows(&format!(
            "INSERT INTO contact_tags (contact_id, tag_id) VALUES ('{id}', '{tag}') RETURNING contact_id, tag_id"
        ))
        .await;
    assert_eq!(attached, [[id.clone(), tag.clone()]]);
    // UPDATE answers with the object after the change; only the rows it matched.
    let updated = env
        .rows(&format!(
            "UPDATE contacts SET name = 'Renamed' WHERE id = '{id}' RETURNING name, email"
        ))
        .await;
    assert_eq!(updated, [["Renamed", "ret.one@example.com"]]);
    // A child table keeps its parent key; `*` is every column of the table.
    let note = env
        .rows(&format!(
            "INSERT INTO notes (contact_id, body) VALUES ('{id}', 'first call') RETURNING *"
        ))
        .await;
    let columns = env
        .rows("SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes'")
        .await;
    assert_eq!(note.len(), 1);
    assert_eq!(note[0].len().to_string(), columns[0][0]);
    let note_id = snapshot(&env, "notes")
        .into_iter()
        .find(|n| field(n, "body").contains("first call"))
        .map(|n| field(&n, "id"))
        .expect("note created");
    assert!(
        note[0].contains(&note_id) && note[0].contains(id),
        "{note:?}"
    );
    // DELETE answers with the row as it was before.
    let deleted = env
        .rows(&format!(
            "DELETE FROM contacts WHERE id = '{}' RETURNING email, role",
            rows[1][0]
        ))
        .await;
    assert_eq!(deleted, [["ret.two@example.com", "lead"]]);
    assert!(find_by(&env, "contacts", "email", "ret.two@example.com").is_none());
    // A RETURNING list naming a column the table lacks is refused before anything is sent.
    let message = refused(
        &env,
        "INSERT INTO tags (name) VALUES ('never') RETURNING colour",
    )
    .await;
    assert!(message.contains("colour"), "{message}");
    assert!(find_by(&env, "tags", "name", "never").is_none());
}

#[tokio::test]
async fn explain_of_returning_says_what_to_do() {
    let env = start().await;
    let message = refused(
        &env,
        "EXPLAIN INSERT INTO tags (name) VALUES ('x') RETURNING id",
    )
    .await;
    assert!(
        message.contains("EXPLAIN it without the RETURNING list"),
        "{message}"
    );
}

/// Skyvia writes conversations and ticket types as rows: INSERT into `conversations` sends
/// what `CreateConversation` sends and RETURNING reads the new conversation back (Intercom
/// answers with the message); `ticket_types` takes INSERT and UPDATE.
#[tokio::test]
async fn conversations_and_ticket_types_are_inserted_as_rows() {
    let env = start().await;
    let contact = user_ids(&env, 1).remove(0);
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "INSERT INTO conversations (source_author_id, source_body) VALUES ('{contact}', 'Hi from SQL') \
             RETURNING id, state, source_author_id, source_body"
        ))
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let sent = env.emulator.state.requests();
    let post = sent.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/conversations");
    assert_eq!(
        post.body.as_ref().unwrap(),
        &serde_json::json!({"from": {"type": "contact", "id": contact}, "body": "Hi from SQL"})
    );
    let created = snapshot(&env, "conversations")
        .into_iter()
        .find(|c| field(c, "source.body").contains("Hi from SQL"))
        .expect("created");
    let id = field(&created, "id");
    assert_eq!(rows[0][0], id, "the conversation's id, not the message's");
    assert_eq!(rows[0][1], field(&created, "state"));
    assert_eq!(rows[0][2], contact);
    assert!(rows[0][3].contains("Hi from SQL"), "{rows:?}");
    assert_eq!(
        writes(&env),
        ["POST /conversations"],
        "one write, then one read back"
    );
    assert!(env.requests().contains(&format!("GET /conversations/{id}")));
    // Without RETURNING nothing is read back; a missing author is refused before sending.
    env.emulator.state.clear_requests();
    let n = count(
        &env,
        &format!(
            "INSERT INTO conversations (source_author_id, source_author_type, source_body) \
             VALUES ('{contact}', 'user', 'Second')"
        ),
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(env.requests(), ["POST /conversations"]);
    let message = refused(&env, "INSERT INTO conversations (source_body) VALUES ('x')").await;
    assert!(message.contains("source_author_id"), "{message}");

    // Ticket types: INSERT, then UPDATE (archiving retires one; Intercom has no delete).
    let made = env
        .rows(
            "INSERT INTO ticket_types (name, description, category, icon) \
             VALUES ('Refund', 'Money back', 'Customer', '💰') RETURNING id, name, category",
        )
        .await;
    let type_id = made[0][0].clone();
    assert_eq!(made[0][1..], ["Refund", "Customer"]);
    assert!(find_by(&env, "ticket_types", "id", &type_id).is_some());
    let changed = env
        .rows(&format!(
            "UPDATE ticket_types SET description = 'Refunds and chargebacks', archived = true \
             WHERE id = '{type_id}' RETURNING description, archived"
        ))
        .await;
    assert_eq!(changed, [["Refunds and chargebacks", "true"]]);
    let message = refused(
        &env,
        &format!("DELETE FROM ticket_types WHERE id = '{type_id}'"),
    )
    .await;
    assert!(message.contains("ticket_types"), "{message}");
}

#[tokio::test]
async fn a_ticket_types_table_creates_and_changes_tickets_of_its_type() {
    let env = start().await;
    let contact = user_ids(&env, 1).remove(0);
    env.emulator.state.clear_requests();
    let made = env
        .rows(&format!(
            "INSERT INTO bug_report_tickets (contacts, title, severity, affected_users) \
             VALUES ('{contact}', 'Export hangs', 'High', 120) \
             RETURNING id, ticket_type_id, title, severity, affected_users"
        ))
        .await;
    assert_eq!(made.len(), 1, "{made:?}");
    let post = env
        .emulator
        .state
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/tickets")
        .expect("one POST /tickets");
    assert_eq!(
        post.body.unwrap(),
        serde_json::json!({
            "ticket_type_id": "95",
            "contacts": [{"id": contact}],
            "ticket_attributes": {
                "_default_title_": "Export hangs",
                "Severity": "High",
                "Affected users": 120,
            },
        })
    );
    let id = made[0][0].clone();
    assert_eq!(made[0][1..], ["95", "Export hangs", "High", "120"]);
    let ticket = find_by(&env, "tickets", "id", &id).expect("created");
    assert_eq!(ticket["ticket_attributes"]["Affected users"], 120);

    // UPDATE sets attributes by column; the row is found through the type's own search.
    let n = count(
        &env,
        &format!(
            "UPDATE bug_report_tickets SET affected_users = 400, severity = 'Low' WHERE id = '{id}'"
        ),
    )
    .await;
    assert_eq!(n, 1);
    let ticket = find_by(&env, "tickets", "id", &id).unwrap();
    assert_eq!(ticket["ticket_attributes"]["Affected users"], 400);
    assert_eq!(ticket["ticket_attributes"]["Severity"], "Low");
    assert_eq!(
        env.rows(&format!(
            "SELECT severity, affected_users FROM bug_report_tickets WHERE id = '{id}'"
        ))
        .await,
        [["Low", "400"]]
    );

    // Another type's ticket is no row here: UPDATE and DELETE do not reach it.
    let other = snapshot(&env, "tickets")
        .into_iter()
        .find(|t| field(t, "ticket_type.id") == "96")
        .map(|t| field(&t, "id"))
        .unwrap();
    let n = count(
        &env,
        &format!("UPDATE bug_report_tickets SET title = 'Not mine' WHERE id = '{other}'"),
    )
    .await;
    assert_eq!(n, 0);
    assert_ne!(
        find_by(&env, "tickets", "id", &other).unwrap()["ticket_attributes"]["_default_title_"],
        "Not mine"
    );

    // The type is the table's: another one is refused before sending; the same one is fine.
    let message = refused(
        &env,
        &format!(
            "INSERT INTO bug_report_tickets (ticket_type_id, contacts, title) VALUES ('96', '{contact}', 'x')"
        ),
    )
    .await;
    assert!(
        message.contains("ticket_type_id is 95 in bug_report_tickets"),
        "{message}"
    );
    let message = refused(
        &env,
        &format!(
            "INSERT INTO bug_report_tickets (contacts, refund_amount) VALUES ('{contact}', 3.5)"
        ),
    )
    .await;
    assert!(message.contains("refund_amount"), "{message}");
    assert_eq!(
        count(
            &env,
            &format!("DELETE FROM bug_report_tickets WHERE id = '{id}'")
        )
        .await,
        1
    );
    assert!(find_by(&env, "tickets", "id", &id).is_none());
}

#[tokio::test]
async fn help_center_collections_and_articles_are_written() {
    let env = start().await;
    env.emulator.state.clear_requests();
    let made = env
        .rows(
            "INSERT INTO collections (name, description, help_center_id) \
             VALUES ('Security', 'Keeping accounts safe', 81) RETURNING id, name, help_center_id",
        )
        .await;
    let collection = made[0][0].clone();
    assert_eq!(made[0][1..], ["Security", "81"]);
    assert_eq!(writes(&env), ["POST /help_center/collections"]);
    let section = env
        .rows(&format!(
            "INSERT INTO collections (name, parent_id) VALUES ('Passwords', '{collection}') RETURNING id, parent_id"
        ))
        .await;
    assert_eq!(section[0][1], collection);

    env.emulator.state.clear_requests();
    let article = env
        .rows(&format!(
            "INSERT INTO articles (title, body, author_id, state, parent_id, translated_content) \
             VALUES ('Resetting 2FA', '<p>Steps</p>', {ADMIN}, 'published', {collection}, \
             '{{\"fr\": {{\"title\": \"Réinitialiser la 2FA\", \"state\": \"draft\"}}}}') \
             RETURNING id, state, parent_id, translated_content->'fr'->>'title'"
        ))
        .await;
    let sent = env.emulator.state.requests();
    let post = sent.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(
        post.body.clone().unwrap(),
        serde_json::json!({
            "title": "Resetting 2FA", "body": "<p>Steps</p>", "author_id": ADMIN.parse::<i64>().unwrap(),
            "state": "published", "parent_id": collection.parse::<i64>().unwrap(),
            "translated_content": {"fr": {"title": "Réinitialiser la 2FA", "state": "draft"}},
        })
    );
    let id = article[0][0].clone();
    assert_eq!(
        article[0][1..],
        ["published", collection.as_str(), "Réinitialiser la 2FA"]
    );
    let n = count(
        &env,
        &format!(
            "UPDATE articles SET state = 'draft', title = 'Resetting two-factor' WHERE id = '{id}'"
        ),
    )
    .await;
    assert_eq!(n, 1);
    let stored = find_by(&env, "articles", "id", &id).unwrap();
    assert_eq!(
        (field(&stored, "state"), field(&stored, "title")),
        ("draft".into(), "Resetting two-factor".into())
    );
    assert_eq!(
        field(&stored, "translated_content.en.title"),
        "Resetting two-factor"
    );
    // Required columns are checked before anything is sent; a bad author is Intercom's error.
    let message = refused(&env, "INSERT INTO articles (title) VALUES ('No author')").await;
    assert!(message.contains("author_id"), "{message}");
    let message = refused(&env, "INSERT INTO collections (description) VALUES ('x')").await;
    assert!(message.contains("name"), "{message}");
    let message = env
        .error("INSERT INTO articles (title, author_id) VALUES ('x', 1)")
        .await;
    assert!(message.contains("author_id 1 is not an admin"), "{message}");

    assert_eq!(
        count(&env, &format!("DELETE FROM articles WHERE id = '{id}'")).await,
        1
    );
    assert!(find_by(&env, "articles", "id", &id).is_none());
    assert_eq!(
        count(
            &env,
            &format!("DELETE FROM collections WHERE id = '{collection}'")
        )
        .await,
        1
    );
    assert!(find_by(&env, "collections", "id", &collection).is_none());
}

#[tokio::test]
async fn news_items_and_the_ip_allowlist_are_written() {
    let env = start().await;
    env.emulator.state.clear_requests();
    let made = env
        .rows(&format!(
            "INSERT INTO news_items (title, body, sender_id, state, labels, newsfeed_assignments) \
             VALUES ('Dark mode', '<p>Here.</p>', {ADMIN}, 'live', '[\"Product\"]', \
             '[{{\"newsfeed_id\": 54, \"published_at\": 1767225600}}]') RETURNING id, state, labels"
        ))
        .await;
    let id = made[0][0].clone();
    assert_eq!(made[0][1..], ["live", r#"["Product"]"#]);
    let post = env
        .emulator
        .state
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        post.body.unwrap(),
        serde_json::json!({
            "title": "Dark mode", "body": "<p>Here.</p>", "sender_id": ADMIN.parse::<i64>().unwrap(),
            "state": "live", "labels": ["Product"],
            "newsfeed_assignments": [{"newsfeed_id": 54, "published_at": 1_767_225_600}],
        })
    );
    // Live in feed 54 now.
    let feed = env
        .rows(&format!(
            "SELECT title FROM newsfeed_items WHERE newsfeed_id = '54' AND news_item_id = '{id}'"
        ))
        .await;
    assert_eq!(feed, [["Dark mode"]]);
    // UPDATE sends the row's title and sender with what it sets (Intercom requires both).
    env.emulator.state.clear_requests();
    assert_eq!(
        count(
            &env,
            &format!("UPDATE news_items SET state = 'draft' WHERE id = '{id}'")
        )
        .await,
        1
    );
    let put = env
        .emulator
        .state
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(
        put.body.unwrap(),
        serde_json::json!({"title": "Dark mode", "sender_id": ADMIN.parse::<i64>().unwrap(), "state": "draft"})
    );
    assert_eq!(
        field(&find_by(&env, "news_items", "id", &id).unwrap(), "state"),
        "draft"
    );
    let message = refused(&env, "INSERT INTO news_items (title) VALUES ('x')").await;
    assert!(message.contains("sender_id"), "{message}");
    assert_eq!(
        count(&env, &format!("DELETE FROM news_items WHERE id = '{id}'")).await,
        1
    );
    assert!(find_by(&env, "news_items", "id", &id).is_none());

    // The IP allowlist: one row, changed by UPDATE (a WHERE clause is still required).
    let rows = env
        .rows(
            "UPDATE ip_allowlist SET enabled = true, ip_allowlist = '[\"203.0.113.0/24\"]' \
             WHERE true RETURNING enabled, ip_allowlist",
        )
        .await;
    assert_eq!(rows, [["true", r#"["203.0.113.0/24"]"#]]);
    let stored = &snapshot(&env, "ip_allowlist")[0];
    assert_eq!(
        stored["ip_allowlist"],
        serde_json::json!(["203.0.113.0/24"])
    );
    let message = refused(&env, "UPDATE ip_allowlist SET enabled = false").await;
    assert!(message.contains("WHERE"), "{message}");
    let message = env
        .error("UPDATE ip_allowlist SET ip_allowlist = '[\"not an address\"]' WHERE true")
        .await;
    assert!(message.contains("CIDR"), "{message}");
    let message = refused(&env, "DELETE FROM ip_allowlist WHERE true").await;
    assert!(message.contains("UPDATE"), "{message}");
}

#[tokio::test]
async fn import_sources_external_pages_and_internal_articles_are_written() {
    let env = start().await;
    let source = env
        .rows(
            "INSERT INTO content_import_sources (url, sync_behavior) \
             VALUES ('https://docs.example.com/', 'api') RETURNING id, status",
        )
        .await;
    let source_id = source[0][0].clone();
    assert_eq!(source[0][1], "active");
    env.emulator.state.clear_requests();
    let page = env
        .rows(&format!(
            "INSERT INTO external_pages (title, html, locale, source_id, external_id) \
             VALUES ('Install', '<h1>Install</h1>', 'en', {source_id}, 'install') RETURNING id"
        ))
        .await;
    let page_id = page[0][0].clone();
    // UPDATE carries the row's title, html, url, locale and source as Intercom requires.
    env.emulator.state.clear_requests();
    assert_eq!(
        count(
            &env,
            &format!("UPDATE external_pages SET fin_availability = false WHERE id = '{page_id}'")
        )
        .await,
        1
    );
    let put = env
        .emulator
        .state
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(
        put.body.unwrap(),
        serde_json::json!({"title": "Install", "html": "<h1>Install</h1>", "url": "",
            "locale": "en", "source_id": source_id.parse::<i64>().unwrap(), "fin_availability": false})
    );
    let stored = find_by(&env, "external_pages", "id", &page_id).unwrap();
    assert_eq!(stored["fin_availability"], false);
    // A source not fed through the API takes no pages: Intercom's error, in one line.
    let message = env
        .error(
            "INSERT INTO external_pages (title, html, locale, source_id, external_id) \
             VALUES ('x', 'y', 'en', 34, 'z')",
        )
        .await;
    assert!(message.contains("not synced through the API"), "{message}");
    let message = refused(&env, "INSERT INTO external_pages (title) VALUES ('x')").await;
    assert!(message.contains("html"), "{message}");
    // Deleting the source deletes its pages.
    assert_eq!(
        count(
            &env,
            &format!("DELETE FROM content_import_sources WHERE id = '{source_id}'")
        )
        .await,
        1
    );
    assert!(find_by(&env, "external_pages", "id", &page_id).is_none());

    let made = env
        .rows(&format!(
            "INSERT INTO internal_articles (title, body, owner_id, author_id) \
             VALUES ('Refund policy', '<p>30 days</p>', {ADMIN}, {ADMIN}) RETURNING id, locale"
        ))
        .await;
    let id = made[0][0].clone();
    assert_eq!(made[0][1], "en");
    assert_eq!(
        count(
            &env,
            &format!("UPDATE internal_articles SET body = '<p>60 days</p>' WHERE id = '{id}'")
        )
        .await,
        1
    );
    assert_eq!(
        field(
            &find_by(&env, "internal_articles", "id", &id).unwrap(),
            "body"
        ),
        "<p>60 days</p>"
    );
    assert_eq!(
        count(
            &env,
            &format!("DELETE FROM internal_articles WHERE id = '{id}'")
        )
        .await,
        1
    );
    assert!(find_by(&env, "internal_articles", "id", &id).is_none());
}

#[tokio::test]
async fn a_custom_object_types_table_reads_by_key_and_creates_and_deletes_instances() {
    let env = crate::common::start_with(intercom_sql::emulator::EmulatorConfig::default(), |c| {
        c.custom_object_types = vec!["Order".into(), "Subscription".into(), "..".into()];
    })
    .await;
    let orders: Vec<serde_json::Value> = env
        .emulator
        .state
        .snapshot("custom_objects")
        .into_iter()
        .filter(|o| o["type"] == "Order")
        .collect();
    let one = &orders[0];
    let (id, external) = (
        crate::common::field(one, "id"),
        crate::common::field(one, "external_id"),
    );
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT id, type FROM order_objects WHERE external_id = '{external}'"
        ))
        .await;
    assert_eq!(got, [[id.clone(), "Order".to_string()]]);
    assert_eq!(
        env.requests(),
        [format!(
            "GET /custom_object_instances/Order?external_id={external}"
        )]
    );
    // An Order's id is no Subscription.
    assert!(
        env.rows(&format!(
            "SELECT id FROM subscription_objects WHERE id = '{id}'"
        ))
        .await
        .is_empty()
    );
    let refused = env.error("SELECT * FROM order_objects").await;
    assert!(refused.contains("add WHERE id"), "{refused}");
    // INSERT is Intercom's create-or-update, of the table's type.
    env.emulator.state.clear_requests();
    let created = env
        .rows(
            "INSERT INTO order_objects (external_id, custom_attributes) \
             VALUES ('ORD-T1', '{\"total_amount\": 12.5}') RETURNING id, type",
        )
        .await;
    assert_eq!(created[0][1], "Order");
    let posts: Vec<intercom_sql::emulator::RequestRecord> = env
        .emulator
        .state
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/custom_object_instances/Order");
    assert_eq!(
        posts[0].body.as_ref().unwrap()["custom_attributes"]["total_amount"],
        12.5
    );
    let again = env
        .rows(
            "INSERT INTO order_objects (external_id, custom_attributes) \
             VALUES ('ORD-T1', '{\"total_amount\": 13}') RETURNING id",
        )
        .await;
    assert_eq!(
        again,
        [[created[0][0].clone()]],
        "same external id, same instance"
    );
    env.rows("DELETE FROM order_objects WHERE external_id = 'ORD-T1'")
        .await;
    assert!(
        env.rows("SELECT id FROM order_objects WHERE external_id = 'ORD-T1'")
            .await
            .is_empty()
    );
    // A type that is no path segment makes no table.
    let tables = env
        .rows(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_name IN ('order_objects', 'subscription_objects', 'custom_object_3_objects') \
             ORDER BY 1",
        )
        .await;
    assert_eq!(tables, [["order_objects"], ["subscription_objects"]]);
}
