//! Every table read end to end against the seeded emulator, values checked against the
//! emulator's own records (not against constants), with small pages so every listing pages.

use std::collections::{BTreeMap, BTreeSet};

use intercom_sql::emulator::EmulatorConfig;

use crate::common::{field, start, start_with};

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

/// Expected rows: `fields` of every snapshot object of `kind`, sorted.
fn expected(env: &crate::common::TestEnv, kind: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let objects = env.emulator.state.snapshot(kind);
    assert!(!objects.is_empty(), "the seed has no {kind}");
    sorted(
        objects
            .iter()
            .map(|o| fields.iter().map(|f| field(o, f)).collect())
            .collect(),
    )
}

#[tokio::test]
async fn every_top_level_table_matches_the_seed() {
    // page_size 7 makes every paginated listing take several pages.
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 7).await;
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "contacts",
            "id, email, name, role, location_country, owner_id",
            &[
                "id",
                "email",
                "name",
                "role",
                "location.country",
                "owner_id",
            ],
        ),
        (
            "conversations",
            "id, state, priority, source_author_id, admin_assignee_id",
            &[
                "id",
                "state",
                "priority",
                "source.author.id",
                "admin_assignee_id",
            ],
        ),
        ("admins", "id, name, email", &["id", "name", "email"]),
        ("teams", "id, name", &["id", "name"]),
        ("tags", "id, name", &["id", "name"]),
        (
            "subscription_types",
            "id, name, consent_type",
            &["id", "default_translation.name", "consent_type"],
        ),
        (
            "segments",
            "id, name, person_type",
            &["id", "name", "person_type"],
        ),
        (
            "tickets",
            "id, ticket_id, title, admin_assignee_id, ticket_state_category",
            &[
                "id",
                "ticket_id",
                "ticket_attributes._default_title_",
                "admin_assignee_id",
                "ticket_state.category",
            ],
        ),
    ];
    for (table, columns, fields) in cases {
        let got = sorted(env.rows(&format!("SELECT {columns} FROM {table}")).await);
        assert_eq!(got, expected(&env, table, fields), "table {table}");
    }
}

#[tokio::test]
async fn segments_carry_their_member_counts() {
    let env = start().await;
    let rows = env.rows("SELECT id, count FROM segments ORDER BY id").await;
    assert!(!rows.is_empty());
    // Members: contacts (each contact's segments, asked of the emulator directly) and
    // companies (each company's segments, those without contacts too).
    let token = EmulatorConfig::default().token;
    let http = reqwest::Client::new();
    let mut members: BTreeMap<String, u64> = BTreeMap::new();
    let mut contact_members: BTreeMap<String, u64> = BTreeMap::new();
    for id in crate::common::snapshot_ids(&env, "contacts") {
        let body: serde_json::Value = http
            .get(format!("{}/contacts/{id}/segments", env.emulator.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for segment in body["data"].as_array().unwrap() {
            *members.entry(field(segment, "id")).or_default() += 1;
            *contact_members.entry(field(segment, "id")).or_default() += 1;
        }
    }
    for company in env.emulator.state.snapshot("companies") {
        let segments = company["segments"]["segments"].as_array().cloned();
        for segment in segments.unwrap_or_default() {
            *members.entry(field(&segment, "id")).or_default() += 1;
        }
    }
    for row in &rows {
        let want = members.get(&row[0]).copied().unwrap_or(0);
        assert_eq!(row[1], want.to_string(), "segment {}", row[0]);
        let one = env
            .rows(&format!(
                "SELECT count FROM segments WHERE id = '{}'",
                row[0]
            ))
            .await;
        assert_eq!(one, vec![vec![row[1].clone()]]);
    }
    assert!(rows.iter().any(|r| r[1] != "0"), "{rows:?}");
    // contact_segments: the same memberships, read per contact, or found by the contacts
    // search for one segment (one request).
    let per_contact: BTreeMap<String, u64> = env
        .rows("SELECT segment_id, count(*) FROM contact_segments GROUP BY 1")
        .await
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(per_contact, contact_members);
    for (segment, n) in &contact_members {
        env.emulator.state.clear_requests();
        let counted = env
            .rows(&format!(
                "SELECT count(*) FROM contact_segments WHERE segment_id = '{segment}'"
            ))
            .await;
        assert_eq!(counted, vec![vec![n.to_string()]], "segment {segment}");
        assert_eq!(env.requests(), ["POST /contacts/search"]);
    }
    // company_segments: a company's segments as the emulator holds them.
    let company = env
        .emulator
        .state
        .snapshot("companies")
        .into_iter()
        .find(|c| {
            c["segments"]["segments"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
        })
        .expect("a company in a segment");
    let mut want: Vec<String> = company["segments"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| field(s, "id"))
        .collect();
    want.sort();
    let got = env
        .rows(&format!(
            "SELECT segment_id FROM company_segments WHERE company_id = '{}' ORDER BY 1",
            field(&company, "id")
        ))
        .await
        .concat();
    assert_eq!(got, want);
}

#[tokio::test]
async fn companies_lists_only_companies_with_contacts() {
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 5).await;
    let got = sorted(
        env.rows("SELECT id, company_id, name, plan_name FROM companies")
            .await,
    );
    let snapshot = env.emulator.state.snapshot("companies");
    let want = sorted(
        snapshot
            .iter()
            .filter(|c| c.get("user_count").and_then(|n| n.as_i64()).unwrap_or(0) > 0)
            .map(|o| {
                ["id", "company_id", "name", "plan.name"]
                    .iter()
                    .map(|f| field(o, f))
                    .collect()
            })
            .collect(),
    );
    assert!(!want.is_empty());
    assert_eq!(got, want);
    let pages = env
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /companies?"))
        .count();
    assert!(
        pages > 1,
        "expected several pages of companies, got {pages}"
    );
}

/// A second read of a page-numbered list sends every page it found the first time with the
/// first page (one round of requests, where a first read takes two): all of them arrive before
/// the first is answered. Companies deleted in between: the pages past the new count are
/// dropped, and the rows are still exactly the listed companies.
#[tokio::test]
async fn a_second_read_of_a_numbered_list_sends_its_known_pages_at_once() {
    let latency = 300;
    let config = EmulatorConfig {
        latency: std::time::Duration::from_millis(latency),
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |c| c.page_size = 5).await;
    let listed = |env: &crate::common::TestEnv| -> BTreeSet<String> {
        env.emulator
            .state
            .snapshot("companies")
            .iter()
            .filter(|c| c.get("user_count").and_then(|n| n.as_i64()).unwrap_or(0) > 0)
            .map(|c| field(c, "id"))
            .collect()
    };
    let spread_of_the_read = |env: &crate::common::TestEnv, from: usize| -> (usize, u64) {
        let arrivals: Vec<u64> = env.emulator.state.requests()[from..]
            .iter()
            .filter(|r| r.method == "GET" && r.path == "/companies")
            .map(|r| r.received_ms)
            .collect();
        let spread = arrivals.iter().max().unwrap() - arrivals.iter().min().unwrap();
        (arrivals.len(), spread)
    };
    let read = |rows: Vec<Vec<String>>| -> BTreeSet<String> {
        rows.into_iter().map(|r| r[0].clone()).collect()
    };
    let sql = "SELECT id FROM companies";

    let before = env.emulator.state.requests().len();
    assert_eq!(read(env.rows(sql).await), listed(&env));
    let (pages, spread) = spread_of_the_read(&env, before);
    assert!(pages >= 4, "{pages} pages");
    assert!(
        spread >= latency,
        "the first read's pages came in {spread} ms"
    );

    let token = EmulatorConfig::default().token;
    let http = reqwest::Client::new();
    for id in listed(&env).iter().take(6) {
        let deleted = http
            .delete(format!("{}/companies/{id}", env.emulator.base_url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(deleted.status().is_success(), "{}", deleted.status());
    }
    let before = env.emulator.state.requests().len();
    let rows = read(env.rows(sql).await);
    assert_eq!(rows, listed(&env));
    let (sent, spread) = spread_of_the_read(&env, before);
    assert_eq!(
        sent as u64, pages as u64,
        "the pages known from the first read"
    );
    assert!(
        spread < latency * 2 / 3,
        "the second read's pages came {spread} ms apart: not with the first"
    );
}

#[tokio::test]
async fn typed_columns_hold_typed_values() {
    let env = start().await;
    let types = env
        .rows(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_name = 'contacts' AND column_name IN ('created_at', 'owner_id', 'has_hard_bounced', 'email') \
             ORDER BY column_name",
        )
        .await;
    assert_eq!(
        types,
        vec![
            vec![
                "created_at".to_string(),
                "Timestamp(µs, \"UTC\")".to_string()
            ],
            vec!["email".into(), "Utf8".into()],
            vec!["has_hard_bounced".into(), "Boolean".into()],
            vec!["owner_id".into(), "Int64".into()],
        ]
    );
    // Timestamps are real timestamps: comparable with timestamp literals and formatted as dates.
    let contacts = env.emulator.state.snapshot("contacts");
    let after_2023 = contacts
        .iter()
        .filter(|c| c.get("created_at").and_then(|v| v.as_i64()).unwrap_or(0) >= 1_672_531_200)
        .count();
    let got = env
        .rows("SELECT count(*) FROM contacts WHERE created_at >= TIMESTAMP '2023-01-01T00:00:00Z'")
        .await;
    assert_eq!(got, vec![vec![after_2023.to_string()]]);

    // Microseconds, as PostgreSQL's timestamptz: a literal half a second after a row's second
    // is not that second, on either side of it; pushed to the search (widened) or not.
    let created: Vec<i64> = contacts
        .iter()
        .filter_map(|c| c["created_at"].as_i64())
        .collect();
    let second = created[created.len() / 2];
    let at = |offset: &str| format!("to_timestamp({second}) + INTERVAL '{offset}'");
    let iso = chrono::DateTime::from_timestamp(second, 500_000_000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let count = |keep: &dyn Fn(i64) -> bool| created.iter().filter(|t| keep(**t)).count();
    for (filter, want) in [
        (format!("created_at = '{iso}'"), 0),
        (format!("created_at IN ('{iso}')"), 0),
        (format!("created_at BETWEEN '{iso}' AND '{iso}'"), 0),
        (format!("created_at < '{iso}'"), count(&|t| t <= second)),
        (format!("created_at >= '{iso}'"), count(&|t| t > second)),
        (
            format!("created_at < {}", at("0.5 seconds")),
            count(&|t| t <= second),
        ),
        (
            format!("created_at > {}", at("-0.5 seconds")),
            count(&|t| t >= second),
        ),
        (
            format!("created_at <= {}", at("-0.000001 seconds")),
            count(&|t| t < second),
        ),
    ] {
        for pushdown in ["on", "off"] {
            env.rows(&format!("SET intercom.pushdown = {pushdown}"))
                .await;
            let sql = format!("SELECT count(*) FROM contacts WHERE {filter}");
            let got = env.rows(&sql).await;
            assert_eq!(
                got,
                vec![vec![want.to_string()]],
                "{sql} (pushdown {pushdown})"
            );
        }
    }
}

/// Rows per parent (first column) of a set of pairs.
fn counts(pairs: &BTreeSet<Vec<String>>) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for p in pairs {
        *counts.entry(p[0].clone()).or_insert(0) += 1;
    }
    counts
}

fn nonzero(counts: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    counts.into_iter().filter(|(_, n)| *n > 0).collect()
}

#[tokio::test]
async fn child_tables_match_the_parents_embedded_lists() {
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 20).await;
    let contacts = env.emulator.state.snapshot("contacts");
    // Embedded lists hold at most 10 references (docs/intercom-notes.md, "Capped lists inside
    // objects"): every listed pair must be in the child table, and each contact must have exactly
    // `total_count` rows there.
    let mut tag_pairs = BTreeSet::new();
    let mut company_pairs = BTreeSet::new();
    let mut tag_counts = BTreeMap::new();
    let mut company_counts = BTreeMap::new();
    let mut capped = 0;
    for c in &contacts {
        let id = field(c, "id");
        for t in c["tags"]["data"].as_array().into_iter().flatten() {
            tag_pairs.insert(vec![id.clone(), field(t, "id")]);
        }
        for co in c["companies"]["data"].as_array().into_iter().flatten() {
            company_pairs.insert(vec![id.clone(), field(co, "id")]);
        }
        tag_counts.insert(id.clone(), c["tags"]["total_count"].as_u64().unwrap_or(0));
        company_counts.insert(
            id.clone(),
            c["companies"]["total_count"].as_u64().unwrap_or(0),
        );
        capped += usize::from(c["tags"]["has_more"] == serde_json::json!(true));
    }
    assert!(
        capped > 0,
        "the seed should include a contact with more than 10 tags"
    );
    assert!(!tag_pairs.is_empty() && !company_pairs.is_empty());

    let got: BTreeSet<_> = env
        .rows("SELECT contact_id, tag_id FROM contact_tags")
        .await
        .into_iter()
        .collect();
    assert!(got.is_superset(&tag_pairs));
    assert_eq!(counts(&got), nonzero(tag_counts));
    let got: BTreeSet<_> = env
        .rows("SELECT contact_id, company_id FROM contact_companies")
        .await
        .into_iter()
        .collect();
    assert!(got.is_superset(&company_pairs));
    assert_eq!(counts(&got), nonzero(company_counts));
    let contact_companies = got;
    // The same links seen from the companies' side.
    let got: BTreeSet<_> = env
        .rows("SELECT contact_id, company_id FROM company_contacts")
        .await
        .into_iter()
        .collect();
    assert_eq!(got, contact_companies);
}

#[tokio::test]
async fn conversation_parts_come_from_each_conversation() {
    let env = start().await;
    let conversations = env.emulator.state.snapshot("conversations");
    let mut want = Vec::new();
    for c in &conversations {
        for p in c["conversation_parts"]["conversation_parts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            want.push(vec![
                field(c, "id"),
                field(p, "id"),
                field(p, "part_type"),
                field(p, "author.id"),
            ]);
        }
    }
    assert!(!want.is_empty());
    let got = sorted(
        env.rows("SELECT conversation_id, id, part_type, author_id FROM conversation_parts")
            .await,
    );
    assert_eq!(got, sorted(want));

    // With the parent key given, only that conversation is fetched.
    let first = field(&conversations[0], "id");
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT id FROM conversation_parts WHERE conversation_id = '{first}'"
        ))
        .await;
    assert_eq!(
        rows.len(),
        conversations[0]["conversation_parts"]["conversation_parts"]
            .as_array()
            .map_or(0, |a| a.len())
    );
    assert_eq!(env.requests(), vec![format!("GET /conversations/{first}")]);
}

#[tokio::test]
async fn id_lookups_are_single_gets_and_unknown_ids_are_zero_rows() {
    let env = start().await;
    let contacts = env.emulator.state.snapshot("contacts");
    let id = field(&contacts[3], "id");
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!("SELECT id, email FROM contacts WHERE id = '{id}'"))
        .await;
    assert_eq!(rows, vec![vec![id.clone(), field(&contacts[3], "email")]]);
    assert_eq!(env.requests(), vec![format!("GET /contacts/{id}")]);

    env.emulator.state.clear_requests();
    let rows = env
        .rows("SELECT id FROM contacts WHERE id = '000000000000000000000000'")
        .await;
    assert!(rows.is_empty());
    assert_eq!(
        env.requests(),
        vec!["GET /contacts/000000000000000000000000".to_string()]
    );
}

#[tokio::test]
async fn every_table_is_listed_and_readable() {
    let env = start().await;
    let tables: Vec<String> = env.engine.tables().into_iter().map(|t| t.name).collect();
    for want in [
        "admins",
        "companies",
        "company_contacts",
        "contact_companies",
        "contact_tags",
        "contacts",
        "conversation_parts",
        "conversations",
        "segments",
        "subscription_types",
        "contact_subscriptions",
        "tags",
        "teams",
        "ticket_states",
        "tickets",
    ] {
        assert!(
            tables.contains(&want.to_string()),
            "{want} missing from {tables:?}"
        );
    }
    for table in &tables {
        let sql = format!("SELECT count(*) FROM {table}");
        // A table read only by key refuses a whole read, saying which key to give.
        if let Some(hint) = intercom_sql::tables::find(table).and_then(|t| t.key_required.as_ref())
        {
            let error = env.error(&sql).await;
            assert!(error.contains(hint.as_str()), "{table}: {error}");
            continue;
        }
        let rows = env.rows(&sql).await;
        let n: u64 = rows[0][0].parse().unwrap();
        assert!(n > 0, "{table} is empty");
    }
    let shown = env.rows("SHOW TABLES").await;
    assert!(shown.iter().any(|r| r.contains(&"contacts".to_string())));
}

#[tokio::test]
async fn explain_shows_the_requests_a_scan_will_send() {
    let env = start().await;
    // The plan column as the shell and psql show it: at most 78 columns a line (with the
    // plan_type column, 100), the scans' requests on lines under them.
    let plan = |rows: Vec<Vec<String>>| {
        let text = rows
            .iter()
            .map(|r| r[1].clone())
            .collect::<Vec<_>>()
            .join("\n");
        let long: Vec<&str> = text
            .lines()
            .filter(|l| l.chars().count() > intercom_sql::explain::WIDTH)
            .collect();
        assert!(long.is_empty(), "lines over 78 columns: {long:?}");
        crate::common::scan_blocks(&text).join("\n")
    };
    let shown = plan(
        env.rows("EXPLAIN SELECT id FROM contacts WHERE id IN ('a', 'b')")
            .await,
    );
    assert!(
        shown.contains(r#"request: GET /contacts/{id} for ids ["a", "b"]"#),
        "{shown}"
    );
    let shown = plan(env.rows("EXPLAIN SELECT id FROM contacts LIMIT 5").await);
    assert!(
        shown.contains("request: GET /contacts per_page=5 (cursor pages, at most 1)"),
        "{shown}"
    );
    let shown = plan(
        env.rows("EXPLAIN SELECT body FROM conversation_parts")
            .await,
    );
    assert!(
        shown.contains("request: GET /conversations/{id} for every row of conversations (listed by GET /conversations"),
        "{shown}"
    );
    // EXPLAIN plans only: nothing was sent.
    assert_eq!(env.emulator.state.request_count(), 0);
}

#[tokio::test]
async fn ticket_states_are_the_states_tickets_are_in() {
    let env = start().await;
    // Every ticket's state is one of ticket_states, with the same category.
    let orphans = env
        .rows(
            "SELECT t.id FROM tickets t LEFT JOIN ticket_states s ON s.id = t.ticket_state_id \
             WHERE s.id IS NULL OR s.category <> t.ticket_state_category",
        )
        .await;
    assert!(orphans.is_empty(), "{orphans:?}");
    let categories = env
        .rows("SELECT DISTINCT category FROM ticket_states ORDER BY 1")
        .await;
    assert_eq!(
        categories,
        [
            ["in_progress"],
            ["resolved"],
            ["submitted"],
            ["waiting_on_customer"]
        ]
        .map(|r| r.map(String::from).to_vec())
    );
    let requests = env.requests();
    assert!(
        requests.contains(&"GET /ticket_states".to_string()),
        "{requests:?}"
    );
}

#[tokio::test]
async fn contact_subscriptions_are_each_contacts_choices() {
    let env = start().await;
    // The contact objects list their explicit choices; the table must show the same pairs.
    let mut want = BTreeSet::new();
    for c in env.emulator.state.snapshot("contacts") {
        for key in [
            "opted_in_subscription_types",
            "opted_out_subscription_types",
        ] {
            for s in c[key]["data"].as_array().into_iter().flatten() {
                want.insert(vec![field(&c, "id"), field(s, "id")]);
            }
        }
    }
    assert!(!want.is_empty(), "the seed has no subscription choices");
    let got: BTreeSet<Vec<String>> = env
        .rows("SELECT contact_id, subscription_type_id FROM contact_subscriptions")
        .await
        .into_iter()
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn notes_by_id_are_one_get_each_with_their_contact() {
    let env = start().await;
    let notes = env.emulator.state.snapshot("notes");
    let on_contacts: Vec<&serde_json::Value> =
        notes.iter().filter(|n| n["contact"].is_object()).collect();
    assert!(!on_contacts.is_empty(), "the seed has no contact notes");
    for note in on_contacts.iter().take(5) {
        let id = field(note, "id");
        env.emulator.state.clear_requests();
        let rows = env
            .rows(&format!(
                "SELECT contact_id, id, body FROM notes WHERE id = '{id}'"
            ))
            .await;
        assert_eq!(
            rows,
            vec![vec![
                field(note, "contact.id"),
                id.clone(),
                field(note, "body")
            ]]
        );
        assert_eq!(env.requests(), vec![format!("GET /notes/{id}")]);
    }
    // A note on a company only is not a row of `notes` (the listing per contact never shows it).
    if let Some(note) = notes.iter().find(|n| !n["contact"].is_object()) {
        let id = field(note, "id");
        assert!(
            env.rows(&format!("SELECT id FROM notes WHERE id = '{id}'"))
                .await
                .is_empty()
        );
    }
    // An unknown id is zero rows.
    assert!(
        env.rows("SELECT id FROM notes WHERE id = '999999999'")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn companies_beyond_the_lists_reach_are_read_from_the_scroll() {
    // Over 10,000 companies with contacts: more than Intercom's paged list reaches.
    let config = EmulatorConfig {
        companies: 11_300,
        contacts: 60_000,
        conversations: 0,
        tickets: 0,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |_| {}).await;
    let visible: BTreeSet<String> = env
        .emulator
        .state
        .snapshot("companies")
        .iter()
        .filter(|c| c["user_count"].as_i64().unwrap_or(0) > 0)
        .map(|c| field(c, "id"))
        .collect();
    assert!(visible.len() > 10_000, "only {} visible", visible.len());
    let got: Vec<String> = env
        .rows("SELECT id FROM companies")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(got.len(), visible.len(), "every company, none twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), visible);
    // The first page tells the list falls short; the scroll reads them all.
    let sent = env.requests();
    assert!(
        sent[0].starts_with("GET /companies?page=1"),
        "{:?}",
        &sent[..2]
    );
    assert!(
        sent[1..]
            .iter()
            .all(|r| r.starts_with("GET /companies/scroll"))
    );
    // A LIMIT past the list's reach takes the scroll too.
    let rows = env.rows("SELECT id FROM companies LIMIT 10005").await;
    assert_eq!(rows.len(), 10_005);
    // That read stopped early: its scroll stays open until it idles out (Intercom cannot close
    // one), and holds the workspace's one scroll meanwhile. A whole read now says so.
    let error = env.error("SELECT count(*) FROM companies").await;
    assert!(
        error.contains("another read of every company is using this workspace's company scroll"),
        "{error}"
    );
}

#[tokio::test]
async fn a_contacts_cut_lists_are_completed_when_read() {
    // Contacts 0 and 997 carry 12 companies; contact 0 has 12 tags and notes as well.
    let env = start_with(
        EmulatorConfig {
            contacts: 1_000,
            ..EmulatorConfig::default()
        },
        |_| {},
    )
    .await;
    let contacts = env.emulator.state.snapshot("contacts");
    let cut = |list: &str| -> Vec<(String, u64)> {
        contacts
            .iter()
            .filter(|c| c[list]["has_more"] == true)
            .map(|c| (field(c, "id"), c[list]["total_count"].as_u64().unwrap()))
            .collect()
    };
    for (list, child, key) in [
        ("tags", "contact_tags", "tag_id"),
        ("companies", "contact_companies", "company_id"),
        ("notes", "notes", "id"),
    ] {
        let cut = cut(list);
        assert!(!cut.is_empty(), "the seed cuts no contact's {list}");
        env.emulator.state.clear_requests();
        let rows = env
            .rows(&format!(
                "SELECT id, {list} FROM contacts WHERE {list} IS NOT NULL ORDER BY id"
            ))
            .await;
        // One request per cut list, on top of the listing's (or the windows') pages.
        let extra: Vec<String> = env
            .requests()
            .into_iter()
            .filter(|r| r.starts_with("GET /contacts/") && r.contains(&format!("/{list}")))
            .collect();
        assert_eq!(extra.len(), cut.len(), "{list}: {extra:?}");
        for (id, total) in &cut {
            let value: serde_json::Value = rows
                .iter()
                .find(|r| &r[0] == id)
                .map(|r| serde_json::from_str(&r[1]).unwrap())
                .unwrap();
            let got: BTreeSet<String> = value["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| field(item, "id"))
                .collect();
            assert_eq!(got.len() as u64, *total, "{list} of {id}");
            assert_eq!(value["has_more"], false);
            let want: BTreeSet<String> = env
                .rows(&format!(
                    "SELECT {key} FROM {child} WHERE contact_id = '{id}'"
                ))
                .await
                .into_iter()
                .map(|r| r[0].clone())
                .collect();
            assert_eq!(got, want, "{list} of {id}");
        }
    }
    // With the setting off, the lists are as Intercom sent them, and nothing more is asked.
    env.rows("SET intercom.complete_lists = off").await;
    env.emulator.state.clear_requests();
    let rows = env
        .rows("SELECT tags FROM contacts WHERE tags LIKE '%\"has_more\":true%'")
        .await;
    assert_eq!(rows.len(), cut("tags").len());
    assert!(
        !env.requests()
            .iter()
            .any(|r| r.starts_with("GET /contacts/")),
        "{:?}",
        env.requests()
    );
    env.rows("SET intercom.complete_lists = on").await;
    // Not reading those columns costs nothing more.
    env.emulator.state.clear_requests();
    env.rows("SELECT id, email FROM contacts").await;
    assert!(
        !env.requests()
            .iter()
            .any(|r| r.starts_with("GET /contacts/")),
        "{:?}",
        env.requests()
    );
}

#[tokio::test]
async fn conversations_carry_their_company_fin_and_first_reply() {
    let env = start().await;
    let got = sorted(
        env.rows(
            "SELECT id, company_id, company_name, first_contact_reply_type, \
             to_unixtime(ai_agent_created_at), ai_agent_resolution_state FROM conversations",
        )
        .await,
    );
    let want = sorted(
        env.emulator
            .state
            .snapshot("conversations")
            .iter()
            .map(|c| {
                [
                    "id",
                    "company.id",
                    "company.name",
                    "first_contact_reply.type",
                    "ai_agent.created_at",
                    "ai_agent.resolution_state",
                ]
                .map(|f| field(c, f))
                .to_vec()
            })
            .collect(),
    );
    assert_eq!(got, want);
    assert!(got.iter().any(|r| r[1] != "NULL"), "some have a company");
    assert!(got.iter().any(|r| r[4] != "NULL"), "Fin took part in some");
}

#[tokio::test]
async fn each_ticket_type_is_a_table_with_typed_attributes() {
    let env = start_with(
        EmulatorConfig {
            tickets: 60,
            ..EmulatorConfig::default()
        },
        |_| {},
    )
    .await;
    let tickets = env.emulator.state.snapshot("tickets");
    let of_type = |id: &str| -> Vec<&serde_json::Value> {
        tickets
            .iter()
            .filter(|t| field(t, "ticket_type.id") == id)
            .collect()
    };
    // Bug report (95): Severity (list) and Affected users (integer).
    let want: Vec<Vec<String>> = of_type("95")
        .iter()
        .map(|t| {
            [
                "id",
                "ticket_attributes._default_title_",
                "ticket_attributes.Severity",
                "ticket_attributes.Affected users",
            ]
            .map(|f| field(t, f))
            .to_vec()
        })
        .collect();
    assert!(want.len() > 3, "{want:?}");
    let got = env
        .rows("SELECT id, title, severity, affected_users FROM bug_report_tickets")
        .await;
    assert_eq!(sorted(got), sorted(want));
    // Billing question (96): a decimal; Internal task (97): a boolean.
    for (table, column, attribute, kind) in [
        (
            "billing_question_tickets",
            "refund_amount",
            "Refund amount",
            "96",
        ),
        (
            "internal_task_tickets",
            "needs_engineering",
            "Needs engineering",
            "97",
        ),
    ] {
        let got = env.rows(&format!("SELECT id, {column} FROM {table}")).await;
        let want: Vec<Vec<String>> = of_type(kind)
            .iter()
            .map(|t| {
                vec![
                    field(t, "id"),
                    field(t, &format!("ticket_attributes.{attribute}")),
                ]
            })
            .collect();
        assert_eq!(sorted(got), sorted(want), "{table}");
    }
    // Attribute filters are searched by attribute id within the type, and answer as the
    // same filters applied locally do.
    for predicate in [
        "affected_users > 100",
        "severity = 'High' AND affected_users <= 300",
        "severity IN ('Low', 'Medium') OR affected_users = 44",
    ] {
        let sql = format!("SELECT id FROM bug_report_tickets WHERE {predicate} ORDER BY id");
        env.emulator.state.clear_requests();
        let pushed = env.rows(&sql).await;
        let searched = env.emulator.state.requests();
        assert!(
            searched.iter().all(|r| {
                let body = r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
                body.contains(r#""field":"ticket_type_id","operator":"=","value":"95""#)
                    && body.contains("ticket_attribute.21")
            }),
            "{predicate}: {:?}",
            searched.iter().map(|r| &r.body).collect::<Vec<_>>()
        );
        env.rows("SET intercom.pushdown = off").await;
        let local = env.rows(&sql).await;
        env.rows("SET intercom.pushdown = on").await;
        assert_eq!(pushed, local, "{predicate}");
    }
    // A ticket of another type is no row of this one, even looked up by id.
    let other = field(of_type("96")[0], "id");
    assert!(
        env.rows(&format!(
            "SELECT id FROM bug_report_tickets WHERE id = '{other}'"
        ))
        .await
        .is_empty()
    );
    let count = env.rows("SELECT count(*) FROM bug_report_tickets").await;
    assert_eq!(count[0][0], of_type("95").len().to_string());
}

#[tokio::test]
async fn the_help_center_is_read_as_intercom_answers_it() {
    let env = start().await;
    let want = expected(
        &env,
        "help_centers",
        &["id", "identifier", "display_name", "website_turned_on"],
    );
    let got = env
        .rows("SELECT id, identifier, display_name, website_turned_on FROM help_centers")
        .await;
    assert_eq!(sorted(got), sorted(want));
    let want = expected(
        &env,
        "collections",
        &["id", "name", "parent_id", "help_center_id", "order"],
    );
    let got = env
        .rows("SELECT id, name, parent_id, help_center_id, sort_order FROM collections")
        .await;
    assert!(want.iter().any(|c| c[2] != "NULL"), "sections are seeded");
    assert_eq!(sorted(got), sorted(want));
    let want = expected(
        &env,
        "articles",
        &[
            "id",
            "title",
            "state",
            "author_id",
            "parent_id",
            "parent_type",
            "translated_content.fr.title",
        ],
    );
    let got = env
        .rows(
            "SELECT id, title, state, author_id, parent_id, parent_type, \
             translated_content->'fr'->>'title' FROM articles",
        )
        .await;
    assert_eq!(sorted(got), sorted(want.clone()));
    assert!(want.iter().any(|a| a[6] != "NULL") && want.iter().any(|a| a[2] == "draft"));
    // Statistics come from each article's own GET: one request per article asked for.
    let ids: Vec<String> = want.iter().take(3).map(|a| a[0].clone()).collect();
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT article_id, views, conversions, reactions FROM article_statistics \
             WHERE article_id IN ('{}') ORDER BY article_id",
            ids.join("', '")
        ))
        .await;
    assert_eq!(env.requests().len(), 3, "{:?}", env.requests());
    for row in &got {
        let article = env
            .emulator
            .state
            .snapshot("articles")
            .into_iter()
            .find(|a| field(a, "id") == row[0])
            .unwrap();
        for (i, key) in ["views", "conversions", "reactions"].iter().enumerate() {
            assert_eq!(row[i + 1], field(&article, &format!("statistics.{key}")));
        }
    }
    assert_eq!(got.len(), 3);
    // By id: one GET; an unknown id is no row.
    env.emulator.state.clear_requests();
    let one = env
        .rows(&format!(
            "SELECT title FROM articles WHERE id = '{}'",
            ids[0]
        ))
        .await;
    assert_eq!(one.len(), 1);
    assert_eq!(env.requests(), [format!("GET /articles/{}", ids[0])]);
    assert!(
        env.rows("SELECT id FROM collections WHERE id = '999999'")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn news_brands_emails_and_the_ip_allowlist_are_read_as_intercom_answers_them() {
    let env = start().await;
    let want = expected(
        &env,
        "news_items",
        &[
            "id",
            "title",
            "state",
            "sender_id",
            "labels",
            "deliver_silently",
        ],
    );
    let got = env
        .rows("SELECT id, title, state, sender_id, labels, deliver_silently FROM news_items")
        .await;
    assert_eq!(sorted(got), sorted(want));
    // A feed's items are its live ones: computed here from the items' assignments.
    let mut want: Vec<Vec<String>> = Vec::new();
    for item in env.emulator.state.snapshot("news_items") {
        if item["state"] != "live" {
            continue;
        }
        for a in item["newsfeed_assignments"].as_array().unwrap() {
            want.push(vec![field(a, "newsfeed_id"), field(&item, "id")]);
        }
    }
    assert!(want.len() > 2, "{want:?}");
    let got = env
        .rows("SELECT newsfeed_id, news_item_id FROM newsfeed_items")
        .await;
    assert_eq!(sorted(got), sorted(want));
    let feeds = env.rows("SELECT id, name FROM newsfeeds").await;
    assert_eq!(sorted(feeds), expected(&env, "newsfeeds", &["id", "name"]));
    let brands = env
        .rows("SELECT id, name, is_default, help_center_id FROM brands")
        .await;
    assert_eq!(
        sorted(brands),
        expected(
            &env,
            "brands",
            &["id", "name", "is_default", "help_center_id"]
        )
    );
    let emails = env
        .rows("SELECT id, email, brand_id, forwarding_enabled FROM emails")
        .await;
    assert_eq!(
        sorted(emails),
        expected(
            &env,
            "emails",
            &["id", "email", "brand_id", "forwarding_enabled"]
        )
    );
    let list = env
        .rows("SELECT enabled, ip_allowlist FROM ip_allowlist")
        .await;
    assert_eq!(
        list,
        expected(&env, "ip_allowlist", &["enabled", "ip_allowlist"])
    );
    // One brand by id is one GET; an unknown one is no row.
    env.emulator.state.clear_requests();
    let one = env.rows("SELECT name FROM brands WHERE id = '11'").await;
    assert_eq!(one, [["Acme Premium"]]);
    assert_eq!(env.requests(), ["GET /brands/11"]);
    assert!(
        env.rows("SELECT email FROM emails WHERE id = '404'")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn import_sources_external_pages_and_internal_articles_are_read_as_intercom_answers_them() {
    let env = start().await;
    for (sql, kind, fields) in [
        (
            "SELECT id, url, sync_behavior, status, audience_ids FROM content_import_sources",
            "content_import_sources",
            &["id", "url", "sync_behavior", "status", "audience_ids"][..],
        ),
        (
            "SELECT id, title, source_id, external_id, fin_availability FROM external_pages",
            "external_pages",
            &[
                "id",
                "title",
                "source_id",
                "external_id",
                "fin_availability",
            ][..],
        ),
        (
            "SELECT id, title, owner_id, author_id, locale FROM internal_articles",
            "internal_articles",
            &["id", "title", "owner_id", "author_id", "locale"][..],
        ),
    ] {
        let got = env.rows(sql).await;
        assert_eq!(sorted(got), expected(&env, kind, fields), "{kind}");
    }
    // Numeric ids (content import sources) read as text and looked up by GET.
    env.emulator.state.clear_requests();
    let one = env
        .rows("SELECT url FROM content_import_sources WHERE id = '34'")
        .await;
    assert_eq!(one, [["https://status.acme.example/"]]);
    assert_eq!(env.requests(), ["GET /ai/content_import_sources/34"]);
}

#[tokio::test]
async fn calls_are_read_as_intercom_answers_them() {
    let env = start().await;
    let fields = [
        "id",
        "conversation_id",
        "admin_id",
        "contact_id",
        "state",
        "direction",
        "answered_at",
    ];
    let got = env
        .rows(
            "SELECT id, conversation_id, admin_id, contact_id, state, direction, \
             CAST(date_part('epoch', answered_at) AS BIGINT) FROM calls",
        )
        .await;
    let want = expected(&env, "calls", &fields);
    assert!(want.len() > 25, "more than one page of 25: {}", want.len());
    assert!(
        want.iter().any(|c| c[6] == "NULL"),
        "missed calls are seeded"
    );
    assert_eq!(sorted(got), want);
    env.emulator.state.clear_requests();
    let one = env.rows("SELECT state FROM calls WHERE id = '123'").await;
    assert_eq!(one.len(), 1);
    assert_eq!(env.requests(), ["GET /calls/123"]);
}

#[tokio::test]
async fn fin_voice_calls_are_read_by_conversation_or_by_their_keys() {
    let env = start().await;
    let seeded = env.emulator.state.snapshot("fin_voice_calls");
    let matched: Vec<&serde_json::Value> = seeded
        .iter()
        .filter(|c| !c["intercom_conversation_id"].is_null())
        .collect();
    assert!(
        matched.len() >= 3 && matched.len() < seeded.len(),
        "{seeded:?}"
    );
    let conversations: Vec<String> = matched
        .iter()
        .map(|c| field(c, "intercom_conversation_id"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let want: Vec<Vec<String>> = matched
        .iter()
        .map(|c| {
            vec![
                field(c, "intercom_conversation_id"),
                field(c, "id"),
                field(c, "external_call_id"),
                field(c, "status"),
            ]
        })
        .collect();
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT conversation_id, id, external_call_id, status FROM fin_voice_calls \
             WHERE conversation_id IN ('{}')",
            conversations.join("', '")
        ))
        .await;
    assert_eq!(sorted(got), sorted(want));
    assert_eq!(
        env.requests().len(),
        conversations.len(),
        "one request per conversation"
    );
    // By a call's own keys: one GET; a call not yet matched to a conversation is no row.
    let one = &matched[0];
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT conversation_id, call_summary FROM fin_voice_calls WHERE external_call_id = '{}'",
            field(one, "external_call_id")
        ))
        .await;
    assert_eq!(
        got,
        [[
            field(one, "intercom_conversation_id"),
            field(one, "call_summary")
        ]]
    );
    assert_eq!(env.requests().len(), 1);
    let unmatched = seeded
        .iter()
        .find(|c| c["intercom_conversation_id"].is_null())
        .unwrap();
    assert!(
        env.rows(&format!(
            "SELECT id FROM fin_voice_calls WHERE id = '{}'",
            field(unmatched, "id")
        ))
        .await
        .is_empty()
    );
    // A join from conversations hands over its keys.
    let joined = env
        .rows(&format!(
            "SELECT v.id FROM conversations c JOIN fin_voice_calls v ON v.conversation_id = c.id \
             WHERE c.id = '{}'",
            conversations[0]
        ))
        .await;
    assert!(!joined.is_empty());
    let message = env.error("SELECT * FROM fin_voice_calls").await;
    assert!(message.contains("add WHERE conversation_id"), "{message}");
}

#[tokio::test]
async fn a_calls_recording_transcript_and_search_come_from_their_own_endpoints() {
    let env = start().await;
    let calls = env.emulator.state.snapshot("calls");
    let answered: BTreeSet<String> = calls
        .iter()
        .filter(|c| c["state"] == "completed")
        .map(|c| field(c, "id"))
        .collect();
    let missed = calls
        .iter()
        .find(|c| c["state"] != "completed")
        .map(|c| field(c, "id"))
        .expect("a missed call is seeded");
    assert!(answered.len() > 1 && answered.len() < calls.len());
    // Every call asked once; the redirect's Location is the row, not followed.
    env.emulator.state.clear_requests();
    let recordings = env.rows("SELECT call_id, url FROM call_recordings").await;
    let ids: BTreeSet<String> = recordings.iter().map(|r| r[0].clone()).collect();
    assert_eq!(ids, answered);
    for r in &recordings {
        assert!(
            r[1].starts_with("https://") && r[1].contains(&format!("/{}.mp3", r[0])),
            "{r:?}"
        );
    }
    let asked = env
        .requests()
        .iter()
        .filter(|r| r.ends_with("/recording"))
        .count();
    assert_eq!(asked, calls.len(), "one request per call");
    // A transcript per call named: text, and no row for a call nobody answered.
    let one = answered.iter().next().unwrap().clone();
    let phone = field(
        calls.iter().find(|c| field(c, "id") == one).unwrap(),
        "phone",
    );
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT call_id, transcript FROM call_transcripts WHERE call_id IN ('{one}', '{missed}')"
        ))
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0][0], one);
    assert!(
        got[0][1].starts_with("[00:00:03] ") && got[0][1].contains(&phone),
        "{got:?}"
    );
    assert_eq!(env.requests().len(), 2);
    // By conversation: POST /calls/search, the call's fields and its transcript's entries.
    let conversations: Vec<String> = calls
        .iter()
        .take(4)
        .map(|c| field(c, "conversation_id"))
        .collect();
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT conversation_id, id, state, transcript_status, json_length(transcript) \
             FROM conversation_calls WHERE conversation_id IN ('{}')",
            conversations.join("', '")
        ))
        .await;
    let want: Vec<Vec<String>> = calls
        .iter()
        .take(4)
        .map(|c| {
            let done = c["state"] == "completed";
            vec![
                field(c, "conversation_id"),
                field(c, "id"),
                field(c, "state"),
                if done { "completed" } else { "NULL" }.to_string(),
                if done { "3" } else { "0" }.to_string(),
            ]
        })
        .collect();
    assert_eq!(sorted(got), sorted(want));
    let searches: Vec<serde_json::Value> = env
        .emulator
        .state
        .requests()
        .into_iter()
        .filter(|r| r.path == "/calls/search")
        .filter_map(|r| r.body)
        .collect();
    assert_eq!(
        searches.len(),
        conversations.len(),
        "one search per conversation"
    );
    assert!(searches.iter().all(|b| {
        b["conversation_ids"]
            .as_array()
            .is_some_and(|a| a.len() == 1)
    }));
    let refused = env.error("SELECT * FROM conversation_calls").await;
    assert!(refused.contains("add WHERE conversation_id"), "{refused}");
    // A join hands the call over: the call, then its transcript.
    env.emulator.state.clear_requests();
    let joined = env
        .rows(&format!(
            "SELECT c.phone FROM calls c JOIN call_transcripts t ON t.call_id = c.id WHERE c.id = '{one}'"
        ))
        .await;
    assert_eq!(joined, [[phone]]);
    assert_eq!(env.requests().len(), 2, "{:?}", env.requests());
}

#[tokio::test]
async fn articles_are_searched_by_phrase_and_internal_articles_by_folder() {
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 2).await;
    let articles = env.emulator.state.snapshot("articles");
    let phrase = "your";
    let holds = |a: &serde_json::Value| {
        let locales = a["translated_content"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values().filter(|v| v.is_object()));
        std::iter::once(a).chain(locales).any(|t| {
            ["title", "description", "body"].iter().any(|f| {
                t[*f]
                    .as_str()
                    .is_some_and(|s| s.to_lowercase().contains(phrase))
            })
        })
    };
    let want: Vec<Vec<String>> = articles
        .iter()
        .filter(|a| holds(a))
        .map(|a| vec![phrase.to_string(), field(a, "id"), field(a, "state")])
        .collect();
    assert!(want.len() > 2, "more than a page of 2: {want:?}");
    assert!(want.len() < articles.len(), "the phrase leaves some out");
    assert!(want.iter().any(|r| r[2] == "draft"), "drafts are found too");
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT phrase, id, state FROM article_search WHERE phrase = '{phrase}'"
        ))
        .await;
    assert_eq!(sorted(got), sorted(want.clone()));
    let requests = env.requests();
    assert!(
        requests.len() >= 2
            && requests
                .iter()
                .all(|r| r.starts_with("GET /articles/search?")
                    && r.contains("phrase=your")
                    && r.contains("state=all")),
        "pages of the search: {requests:?}"
    );
    // A filter on a column is SQL's, on top of the search.
    let published = env
        .rows(&format!(
            "SELECT id FROM article_search WHERE phrase = '{phrase}' AND state = 'published'"
        ))
        .await;
    assert_eq!(
        published.len(),
        want.iter().filter(|r| r[2] == "published").count()
    );
    let refused = env.error("SELECT * FROM article_search").await;
    assert!(refused.contains("add WHERE phrase"), "{refused}");
    // Folders split the internal articles: each article in exactly one.
    let all: BTreeSet<String> = env
        .emulator
        .state
        .snapshot("internal_articles")
        .iter()
        .map(|a| field(a, "id"))
        .collect();
    let found = env
        .rows(
            "SELECT folder_id, id FROM internal_article_search WHERE folder_id IN ('1', '2', '3')",
        )
        .await;
    let ids: Vec<String> = found.iter().map(|r| r[1].clone()).collect();
    assert_eq!(ids.len(), all.len(), "no article in two folders: {found:?}");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), all);
    assert!(found.iter().any(|r| r[0] == "1") && found.iter().any(|r| r[0] == "2"));
}

#[tokio::test]
async fn an_exports_file_is_read_as_records_once_the_job_is_done() {
    let env = start().await;
    let job = env
        .rows("CALL CreateDataExport('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')")
        .await[0][0]
        .clone();
    let early = env
        .error(&format!(
            "SELECT count(*) FROM data_export_rows WHERE job_identifier = '{job}'"
        ))
        .await;
    assert!(early.contains("404") && early.contains(&job), "{early}");
    let status = env
        .rows(&format!(
            "SELECT status FROM data_exports WHERE job_identifier = '{job}'"
        ))
        .await;
    assert_eq!(status, [["completed"]]);
    let conversations: BTreeSet<String> = env
        .emulator
        .state
        .snapshot("conversations")
        .iter()
        .map(|c| field(c, "id"))
        .collect();
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT line, record->>'conversation_id' FROM data_export_rows \
             WHERE job_identifier = '{job}' ORDER BY line"
        ))
        .await;
    assert_eq!(
        env.requests(),
        [format!("GET /download/content/data/{job}")]
    );
    assert_eq!(rows.len(), conversations.len());
    assert_eq!(rows[0][0], "1");
    let exported: BTreeSet<String> = rows.iter().map(|r| r[1].clone()).collect();
    assert_eq!(exported, conversations);
    // The reporting export's download names the token's workspace (GET /me, once).
    let job = env
        .rows(
            "CALL EnqueueReportingDataExport('conversation', '[\"conversation_id\", \"channel\"]', \
             '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')",
        )
        .await[0][0]
        .clone();
    env.rows(&format!(
        "CALL GetReportingDataExport('{job}', 'app', 'client')"
    ))
    .await;
    env.emulator.state.clear_requests();
    let n = env
        .rows(&format!(
            "SELECT count(*) FROM reporting_data_export_rows WHERE job_identifier IN ('{job}', '{job}')"
        ))
        .await;
    assert_eq!(n, [[conversations.len().to_string()]]);
    let workspace = field(&env.emulator.state.snapshot("articles")[0], "workspace_id");
    assert_eq!(
        env.requests(),
        [
            "GET /me".to_string(),
            format!("GET /download/reporting_data/{job}?app_id={workspace}&job_identifier={job}")
        ]
    );
}

#[tokio::test]
async fn an_articles_translations_are_a_row_per_locale() {
    let env = start().await;
    let articles = env.emulator.state.snapshot("articles");
    let mut want = Vec::new();
    for a in &articles {
        for (locale, content) in a["translated_content"].as_object().unwrap() {
            if content.is_object() {
                want.push(vec![
                    field(a, "id"),
                    locale.clone(),
                    field(content, "title"),
                    field(content, "state"),
                ]);
            }
        }
    }
    assert!(
        want.len() > articles.len(),
        "some articles have two locales"
    );
    env.emulator.state.clear_requests();
    let got = env
        .rows("SELECT article_id, locale, title, state FROM article_translations")
        .await;
    assert_eq!(sorted(got), sorted(want.clone()));
    let gets = env
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /articles/"))
        .count();
    assert_eq!(gets, articles.len(), "one request per article");
    // One article: one request.
    let french = want.iter().find(|r| r[1] == "fr").unwrap();
    env.emulator.state.clear_requests();
    let got = env
        .rows(&format!(
            "SELECT locale FROM article_translations WHERE article_id = '{}' ORDER BY locale",
            french[0]
        ))
        .await;
    assert_eq!(got, [["en"], ["fr"]]);
    assert_eq!(env.requests().len(), 1);
}
