//! Table-driven pushdown tests: SQL predicate → search filter JSON (or nothing).

use std::sync::Arc;

use datafusion::common::DFSchema;
use datafusion::prelude::SessionContext;
use serde_json::{Value, json};

use super::{SearchNode, translate};
use crate::tables;

/// A SQL predicate parsed against a table's schema.
fn parse(def: &tables::TableDef, predicate: &str) -> datafusion::prelude::Expr {
    let schema = DFSchema::try_from(Arc::unwrap_or_clone(def.schema())).unwrap();
    SessionContext::new()
        .parse_sql_expr(predicate, &schema)
        .unwrap()
}

fn pushed(table: &str, predicate: &str) -> Value {
    let def = tables::find(table).unwrap();
    translate(def, &[parse(def, predicate)])
        .map(|n: SearchNode| n.to_json())
        .unwrap_or(Value::Null)
}

#[test]
fn contacts_predicates_translate_to_superset_filters() {
    let cases = [
        (
            "email = 'ada@example.com'",
            json!({"field": "email", "operator": "=", "value": "ada@example.com"}),
        ),
        (
            "'user' = role",
            json!({"field": "role", "operator": "=", "value": "user"}),
        ),
        (
            "location_country = 'France'",
            json!({"field": "location.country", "operator": "=", "value": "France"}),
        ),
        (
            "email IN ('a@x.io', 'b@x.io')",
            json!({"field": "email", "operator": "IN", "value": ["a@x.io", "b@x.io"]}),
        ),
        (
            "name LIKE 'Ad%'",
            json!({"field": "name", "operator": "^", "value": "Ad"}),
        ),
        (
            "email LIKE '%@x.io'",
            json!({"field": "email", "operator": "$", "value": "@x.io"}),
        ),
        (
            "name LIKE '%da%'",
            json!({"field": "name", "operator": "~", "value": "da"}),
        ),
        (
            "owner_id >= 5",
            json!({"field": "owner_id", "operator": ">", "value": 4}),
        ),
        (
            "owner_id NOT IN (1, 2)",
            json!({"field": "owner_id", "operator": "NIN", "value": [1, 2]}),
        ),
        (
            "has_hard_bounced = true",
            json!({"field": "has_hard_bounced", "operator": "=", "value": true}),
        ),
        (
            "phone IS NULL",
            json!({"field": "phone", "operator": "=", "value": null}),
        ),
        (
            "phone <> '+33 1'",
            json!({"field": "phone", "operator": "!=", "value": "+33 1"}),
        ),
        (
            "role = 'lead' OR email = 'x'",
            json!({"operator": "OR", "value": [
                {"field": "role", "operator": "=", "value": "lead"},
                {"field": "email", "operator": "=", "value": "x"}]}),
        ),
        (
            // An AND inside an OR would be a third level: widened to its first member.
            "role = 'lead' OR (email = 'x' AND name = 'y')",
            json!({"operator": "OR", "value": [
                {"field": "role", "operator": "=", "value": "lead"},
                {"field": "email", "operator": "=", "value": "x"}]}),
        ),
        // Dropping an unpushable member of an AND only widens it.
        (
            "email = 'x' AND lower(name) = 'y'",
            json!({"field": "email", "operator": "=", "value": "x"}),
        ),
    ];
    for (predicate, want) in cases {
        assert_eq!(pushed("contacts", predicate), want, "{predicate}");
    }
}

#[test]
fn predicates_that_cannot_be_widened_stay_local() {
    for predicate in [
        "lower(email) = 'x'",
        "email <> 'ada@x.io'", // case-insensitive != could drop 'ADA@x.io'
        "name ILIKE 'ad%'",    // Intercom's case rules are undocumented
        "name NOT LIKE '%ad%'",
        // Titlecase, dotless/dotted i, sharp s, ligatures, final sigma: each matches another
        // string case-insensitively, so a pushed negative would drop rows SQL keeps.
        "name NOT LIKE '%ǅ%'",
        "name <> 'ǅ'",
        "name NOT IN ('ǲ', '1')",
        "name NOT LIKE '%ı%'",
        "name NOT LIKE '%\u{0307}%'",
        "name <> 'ß'",
        "name <> 'ﬁ'",
        "name <> 'ς'",
        "name LIKE 'a_c%'",
        "name LIKE '%'",
        "role = 'lead' OR lower(email) = 'x'",
        "created_at IS NULL",
        "email IS NOT NULL",
        "workspace_id = 'w'", // not a search field
        "custom_attributes = '{}'",
    ] {
        assert_eq!(pushed("contacts", predicate), Value::Null, "{predicate}");
    }
    assert_eq!(
        pushed("tags", "name = 'VIP'"),
        Value::Null,
        "tags have no search endpoint"
    );
}

#[test]
fn dates_are_widened_by_two_days() {
    use datafusion::common::ScalarValue;
    use datafusion::prelude::{col, lit};
    let def = tables::find("contacts").unwrap();
    // The literal as the optimizer leaves it after coercion.
    let t = |secs: i64| lit(ScalarValue::TimestampSecond(Some(secs), Some("UTC".into())));
    let expr = col("created_at").gt(t(1_700_000_000));
    let node = translate(def, &[expr]).map(|n| n.to_json());
    assert_eq!(
        node,
        Some(json!({"field": "created_at", "operator": ">", "value": 1_700_000_000 - 2 * 86_400}))
    );
    let node = translate(def, &[col("last_seen_at").lt_eq(t(1_700_000_000))]).map(|n| n.to_json());
    assert_eq!(
        node,
        Some(
            json!({"field": "last_seen_at", "operator": "<", "value": 1_700_000_000 + 2 * 86_400})
        )
    );
    let node = translate(def, &[col("signed_up_at").eq(t(1_700_000_000))]).map(|n| n.to_json());
    assert_eq!(
        node,
        Some(json!({"field": "signed_up_at", "operator": "=", "value": 1_700_000_000}))
    );
}

#[test]
fn groups_respect_intercom_limits() {
    let def = tables::find("contacts").unwrap();
    let filters: Vec<_> = (0..20)
        .map(|i| parse(def, &format!("owner_id <> {i}")))
        .collect();
    let node = translate(def, &filters).unwrap();
    assert!(node.groups_fit() && node.depth() <= super::MAX_DEPTH);
    match node {
        SearchNode::Group { items, .. } => assert_eq!(items.len(), super::MAX_GROUP_ITEMS),
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_keys_become_searches_within_intercoms_limits() {
    use super::{MAX_DEPTH, MAX_IN_VALUES, key_queries, key_search_field};

    let keys: Vec<String> = (0..2_000).map(|i| format!("k{i}")).collect();
    let queries = key_queries("id", &keys);
    assert_eq!(queries.len(), 2);
    let mut sent = Vec::new();
    for query in &queries {
        assert!(
            query.depth() <= MAX_DEPTH && query.groups_fit(),
            "{query:?}"
        );
        let SearchNode::Group {
            operator: "OR",
            items,
        } = query
        else {
            panic!("{query:?}");
        };
        for item in items {
            let SearchNode::Filter {
                field,
                operator: "IN",
                value: Value::Array(values),
            } = item
            else {
                panic!("{item:?}");
            };
            assert_eq!(field, "id");
            assert!(values.len() <= MAX_IN_VALUES);
            sent.extend(
                values
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string()),
            );
        }
    }
    assert_eq!(sent, keys, "every key exactly once, in order");
    assert_eq!(
        key_queries("id", &keys[..3])
            .iter()
            .map(SearchNode::to_json)
            .collect::<Vec<_>>(),
        vec![json!({"field": "id", "operator": "IN", "value": ["k0", "k1", "k2"]})]
    );
    assert!(key_queries("id", &[]).is_empty());

    let field = |table: &str, column: &str| key_search_field(tables::find(table).unwrap(), column);
    for table in ["contacts", "conversations", "tickets"] {
        assert_eq!(field(table, "id").as_deref(), Some("id"), "{table}");
    }
    assert_eq!(
        field("contacts", "external_id").as_deref(),
        Some("external_id")
    );
    assert_eq!(field("contacts", "owner_id"), None);
    assert_eq!(field("companies", "id"), None);
}

#[test]
fn boolean_columns_as_conditions_are_pushed() {
    // What DataFusion leaves of `has_hard_bounced = true` / `= false` after simplification.
    assert_eq!(
        pushed("contacts", "has_hard_bounced"),
        json!({"field": "has_hard_bounced", "operator": "=", "value": true})
    );
    assert_eq!(
        pushed("contacts", "NOT has_hard_bounced"),
        json!({"field": "has_hard_bounced", "operator": "=", "value": false})
    );
    assert_eq!(
        pushed("contacts", "marked_email_as_spam"),
        json!({"field": "marked_email_as_spam", "operator": "=", "value": true})
    );
    assert_eq!(pushed("contacts", "role = 'user' IS NOT TRUE"), Value::Null);
}

#[test]
fn negatives_of_case_neutral_text_are_pushed() {
    assert_eq!(
        pushed("contacts", "phone NOT LIKE '%+33%'"),
        json!({"field": "phone", "operator": "!~", "value": "+33"})
    );
    assert_eq!(
        pushed("contacts", "phone <> '555-01'"),
        json!({"field": "phone", "operator": "!=", "value": "555-01"})
    );
}

/// Proof by exhaustion that [`super::case_neutral`] is sound: no character's case folding
/// yields, or is, a case-neutral character other than itself. So a case-neutral needle matches
/// case-insensitively exactly where it matches exactly, and its negatives can be pushed.
#[test]
fn case_neutral_chars_fold_to_nothing_else() {
    let mut problems = Vec::new();
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let mut buf = [0; 4];
        let folded = caseless::default_case_fold_str(c.encode_utf8(&mut buf));
        let upper: String = c.to_uppercase().collect();
        let lower: String = c.to_lowercase().collect();
        for variant in [folded, upper, lower] {
            if variant.chars().eq([c]) {
                continue;
            }
            for v in variant.chars() {
                if super::case_neutral(v.encode_utf8(&mut buf)) {
                    problems.push(format!(
                        "U+{:04X} has case variant U+{:04X}",
                        c as u32, v as u32
                    ));
                }
            }
            if super::case_neutral(c.encode_utf8(&mut buf)) {
                problems.push(format!(
                    "U+{:04X} is neutral but has a case variant",
                    c as u32
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:?}");
}

/// The one table of pushdown: for every table, typical predicates → the request line EXPLAIN
/// prints, and whether DataFusion is told the filter is used (Exact) or not (Unsupported).
#[test]
fn every_table_predicate_becomes_its_request_line() {
    use datafusion::logical_expr::TableProviderFilterPushDown::{Exact, Unsupported};
    let cases = [
        (
            "contacts",
            "",
            "GET /contacts per_page=150 (cursor pages; over 6 pages: POST /contacts/search in created_at windows read concurrently)",
            Exact,
        ),
        (
            "contacts",
            "id = 'a1'",
            "GET /contacts/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "contacts",
            "external_id IN ('u1', 'u2')",
            "GET /contacts/find_by_external_id/{id} for ids [\"u1\", \"u2\"]",
            Exact,
        ),
        (
            "contacts",
            "email = 'ada@x.io'",
            "POST /contacts/search {\"query\":{\"field\":\"email\",\"operator\":\"=\",\"value\":\"ada@x.io\"}} per_page=150 (search pages; over 6 pages: created_at windows read concurrently)",
            Exact,
        ),
        (
            "contacts",
            "lower(email) = 'x'",
            "GET /contacts per_page=150 (cursor pages; over 6 pages: POST /contacts/search in created_at windows read concurrently)",
            Unsupported,
        ),
        (
            "contact_tags",
            "contact_id = 'c1'",
            "GET /contacts/{id}/tags for ids [\"c1\"]",
            Exact,
        ),
        (
            "contact_tags",
            "tag_id = 't1'",
            "GET /contacts/{id}/tags for every row of contacts (listed by POST /contacts/search \
             {\"query\":{\"field\":\"tag_id\",\"operator\":\"=\",\"value\":\"t1\"}} per_page=150 \
             (search pages))",
            Exact,
        ),
        (
            "contact_segments",
            "segment_id IN ('s1', 's2')",
            "GET /contacts/{id}/segments for every row of contacts (listed by POST /contacts/search \
             {\"query\":{\"operator\":\"OR\",\"value\":[{\"field\":\"segment_id\",\"operator\":\"=\",\"value\":\"s1\"},\
             {\"field\":\"segment_id\",\"operator\":\"=\",\"value\":\"s2\"}]}} per_page=150 (search pages))",
            Exact,
        ),
        (
            "conversation_tags",
            "tag_id = 't1'",
            "GET /conversations/{id} for every row of conversations (listed by POST \
             /conversations/search {\"query\":{\"field\":\"tag_ids\",\"operator\":\"=\",\"value\":\"t1\"}} \
             per_page=150 (search pages))",
            Exact,
        ),
        (
            "conversation_contacts",
            "conversation_id = 'v1'",
            "GET /conversations/{id} for ids [\"v1\"]",
            Exact,
        ),
        (
            "conversation_teammates",
            "admin_id IN ('a1', 'a2')",
            "GET /conversations/{id} for every row of conversations (listed by POST \
             /conversations/search {\"query\":{\"operator\":\"OR\",\"value\":[{\"field\":\"teammate_ids\",\
             \"operator\":\"=\",\"value\":\"a1\"},{\"field\":\"teammate_ids\",\"operator\":\"=\",\"value\":\"a2\"}]}} \
             per_page=150 (search pages))",
            Exact,
        ),
        (
            "ticket_contacts",
            "contact_id = 'c1'",
            "GET /tickets/{id} for every row of tickets (listed by POST /tickets/search \
             {\"query\":{\"field\":\"contact_ids\",\"operator\":\"=\",\"value\":\"c1\"}} per_page=150 (search pages))",
            Exact,
        ),
        (
            "tickets",
            "category IN ('Customer', 'Tracker')",
            "POST /tickets/search {\"query\":{\"field\":\"category\",\"operator\":\"IN\",\"value\":[\"request\",\"tracker\"]}} \
             per_page=150 (search pages; over 6 pages: created_at windows read concurrently)",
            Exact,
        ),
        (
            "tickets",
            "category LIKE 'Cust%'",
            "POST /tickets/search {\"query\":{\"field\":\"created_at\",\"operator\":\">\",\"value\":0}} per_page=150 \
             (search pages; sent with the first created_at windows: over one page, created_at windows read concurrently)",
            Unsupported,
        ),
        (
            "company_notes",
            "company_id = 'c1'",
            "GET /companies/{id}/notes for ids [\"c1\"]",
            Exact,
        ),
        (
            "company_segments",
            "company_id = 'c1'",
            "GET /companies/{id}/segments for ids [\"c1\"]",
            Exact,
        ),
        (
            "contact_tags",
            "tag_name = 'VIP'",
            "GET /contacts/{id}/tags for every row of contacts (listed by GET /contacts per_page=150 \
             (cursor pages))",
            Unsupported,
        ),
        (
            "conversations",
            "state = 'open'",
            "POST /conversations/search {\"query\":{\"field\":\"state\",\"operator\":\"=\",\"value\":\"open\"}} per_page=150 (search pages; over 6 pages: created_at windows read concurrently)",
            Exact,
        ),
        (
            "tickets",
            "ticket_type_id = '95'",
            "POST /tickets/search {\"query\":{\"field\":\"ticket_type_id\",\"operator\":\"=\",\"value\":\"95\"}} per_page=150 (search pages; over 6 pages: created_at windows read concurrently)",
            Exact,
        ),
        (
            "companies",
            "id = 'k1'",
            "GET /companies/{id} for ids [\"k1\"]",
            Exact,
        ),
        ("admins", "", "GET /admins (single pages)", Exact),
        (
            "admins",
            "id = 'a1'",
            "GET /admins/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "companies",
            "",
            "GET /companies per_page=150 (page-number pages; past 10000 objects: GET /companies/scroll page after page), pages after the first fetched concurrently",
            Exact,
        ),
        (
            "company_contacts",
            "company_id = 'p1'",
            "GET /companies/{id}/contacts for ids [\"p1\"]",
            Exact,
        ),
        (
            "contact_companies",
            "contact_id = 'p1'",
            "GET /contacts/{id}/companies for ids [\"p1\"]",
            Exact,
        ),
        (
            "conversation_parts",
            "conversation_id = 'p1'",
            "GET /conversations/{id} for ids [\"p1\"]",
            Exact,
        ),
        (
            "data_attributes",
            "",
            "GET /data_attributes?include_archived=true (single pages)",
            Exact,
        ),
        (
            "notes",
            "contact_id = 'p1'",
            "GET /contacts/{id}/notes for ids [\"p1\"]",
            Exact,
        ),
        (
            "notes",
            "id = 'n1'",
            "GET /notes/{id} for ids [\"n1\"]",
            Exact,
        ),
        (
            "segment_companies",
            "segment_id = 'p1'",
            "GET /companies?segment_id={id} for ids [\"p1\"]",
            Exact,
        ),
        (
            "segments",
            "id = 'a1'",
            "GET /segments/{id}?include_count=true for ids [\"a1\"]",
            Exact,
        ),
        (
            "admin_activity_logs",
            "",
            "GET /admins/activity_logs?created_at_after=0 per_page=150 (cursor pages)",
            Exact,
        ),
        (
            "events",
            "contact_id = 'p1'",
            "GET /events?type=user&intercom_user_id={id} for ids [\"p1\"]",
            Exact,
        ),
        (
            "events",
            "event_name = 'x'",
            "no request (refused when run: events cannot be read whole: Intercom lists events one contact at a time; add WHERE contact_id = '…' (or IN, or join from contacts on contact_id))",
            Unsupported,
        ),
        (
            "away_status_reasons",
            "deleted = false",
            "GET /away_status_reasons (single pages)",
            Unsupported,
        ),
        ("me", "", "GET /me (single pages)", Exact),
        (
            "conversation_handling_events",
            "conversation_id = 'p1'",
            "GET /conversations/{id}/handling_events for ids [\"p1\"]",
            Exact,
        ),
        (
            "ticket_parts",
            "ticket_id IN ('p1', 'p2')",
            "GET /tickets/{id} for ids [\"p1\", \"p2\"]",
            Exact,
        ),
        (
            "event_summaries",
            "contact_id = 'p1'",
            "GET /events?type=user&intercom_user_id={id}&summary=true for ids [\"p1\"]",
            Exact,
        ),
        (
            "help_centers",
            "id = 'h1'",
            "GET /help_center/help_centers/{id} for ids [\"h1\"]",
            Exact,
        ),
        (
            "collections",
            "id = 'c1'",
            "GET /help_center/collections/{id} for ids [\"c1\"]",
            Exact,
        ),
        (
            "articles",
            "id = 'a1'",
            "GET /articles/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "article_statistics",
            "article_id = 'a1'",
            "GET /articles/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "content_import_sources",
            "id = 's1'",
            "GET /ai/content_import_sources/{id} for ids [\"s1\"]",
            Exact,
        ),
        (
            "external_pages",
            "id = 'p1'",
            "GET /ai/external_pages/{id} for ids [\"p1\"]",
            Exact,
        ),
        (
            "internal_articles",
            "id = 'i1'",
            "GET /internal_articles/{id} for ids [\"i1\"]",
            Exact,
        ),
        (
            "calls",
            "id = 'c1'",
            "GET /calls/{id} for ids [\"c1\"]",
            Exact,
        ),
        (
            "calls",
            "conversation_id IN ('v1', 'v2')",
            "POST /calls/search {\"conversation_ids\":[\"{id}\"]} for {id} in [\"v1\", \"v2\"]",
            Exact,
        ),
        (
            "call_recordings",
            "call_id = 'c1'",
            "GET /calls/{id}/recording for ids [\"c1\"]",
            Exact,
        ),
        (
            "call_transcripts",
            "",
            "GET /calls/{id}/transcript for every row of calls (listed by GET /calls per_page=150 (page-number pages))",
            Exact,
        ),
        (
            "conversation_calls",
            "conversation_id IN ('v1', 'v2')",
            "POST /calls/search {\"conversation_ids\":[\"{id}\"]} for ids [\"v1\", \"v2\"]",
            Exact,
        ),
        (
            "article_translations",
            "article_id = 'a1'",
            "GET /articles/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "article_search",
            "phrase = 'refund'",
            "GET /articles/search?phrase={id}&state=all&highlight=false for {id} in [\"refund\"]",
            Exact,
        ),
        (
            "internal_article_search",
            "folder_id = 'f1'",
            "GET /internal_articles/search?folder_id={id} for {id} in [\"f1\"]",
            Exact,
        ),
        (
            "data_export_rows",
            "",
            "no request (refused when run: data_export_rows cannot be read whole: an export's file is read by its job; add WHERE job_identifier = '…' (a completed job of data_exports))",
            Exact,
        ),
        (
            "reporting_data_export_rows",
            "job_identifier = 'j1'",
            "GET /download/reporting_data/{id}?app_id={app_id}&job_identifier={id} for {id} in [\"j1\"]",
            Exact,
        ),
        (
            "data_exports",
            "job_identifier = 'j1'",
            "GET /export/content/data/{id} for ids [\"j1\"]",
            Exact,
        ),
        (
            "reporting_datasets",
            "",
            "GET /export/reporting_data/get_datasets (single pages)",
            Exact,
        ),
        (
            "workflow_exports",
            "id = 'w1'",
            "GET /export/workflows/{id} for ids [\"w1\"]",
            Exact,
        ),
        (
            "fin_voice_calls",
            "external_call_id = 'x1'",
            "GET /fin_voice/external_id/{id} for ids [\"x1\"]",
            Exact,
        ),
        (
            "news_items",
            "id = 'n1'",
            "GET /news/news_items/{id} for ids [\"n1\"]",
            Exact,
        ),
        (
            "newsfeeds",
            "id = 'f1'",
            "GET /news/newsfeeds/{id} for ids [\"f1\"]",
            Exact,
        ),
        (
            "newsfeed_items",
            "newsfeed_id = 'f1'",
            "GET /news/newsfeeds/{id}/items for ids [\"f1\"]",
            Exact,
        ),
        (
            "brands",
            "id = 'b1'",
            "GET /brands/{id} for ids [\"b1\"]",
            Exact,
        ),
        (
            "emails",
            "id = 'e1'",
            "GET /emails/{id} for ids [\"e1\"]",
            Exact,
        ),
        (
            "ip_allowlist",
            "",
            "GET /ip_allowlist (single pages)",
            Exact,
        ),
        (
            "jobs",
            "id = 'j1'",
            "GET /jobs/status/{id} for ids [\"j1\"]",
            Exact,
        ),
        (
            "visitors",
            "user_id = 'v1'",
            "GET /visitors?user_id={id} for ids [\"v1\"]",
            Exact,
        ),
        (
            "tag_companies",
            "tag_id = 'p1'",
            "GET /companies?tag_id={id} for ids [\"p1\"]",
            Exact,
        ),
        (
            "teams",
            "id = 'a1'",
            "GET /teams/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "ticket_type_attributes",
            "ticket_type_id = 'p1'",
            "GET /ticket_types/{id} for ids [\"p1\"]",
            Exact,
        ),
        (
            "ticket_types",
            "id = 'a1'",
            "GET /ticket_types/{id} for ids [\"a1\"]",
            Exact,
        ),
        (
            "tags",
            "name = 'VIP'",
            "GET /tags (single pages)",
            Unsupported,
        ),
        (
            "ticket_states",
            "category = 'resolved'",
            "GET /ticket_states (single pages)",
            Unsupported,
        ),
        (
            "subscription_types",
            "",
            "GET /subscription_types (single pages)",
            Exact,
        ),
        (
            "contact_subscriptions",
            "contact_id IN ('c1', 'c2')",
            "GET /contacts/{id}/subscriptions for ids [\"c1\", \"c2\"]",
            Exact,
        ),
    ];
    let mut problems = Vec::new();
    for (table, predicate, line, support) in &cases {
        let def = tables::find(table).unwrap();
        let filters: Vec<_> = if predicate.is_empty() {
            Vec::new()
        } else {
            vec![parse(def, predicate)]
        };
        let got = super::plan(
            def,
            &filters,
            true,
            None,
            150,
            crate::settings::ScanMode::Auto,
            None,
        )
        .describe();
        if got != *line {
            problems.push(format!(
                "{table} WHERE {predicate}:\n  got  {got}\n  want {line}"
            ));
        }
        if let Some(f) = filters.first()
            && super::support(def, f) != *support
        {
            problems.push(format!("{table} WHERE {predicate}: not {support:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let covered: std::collections::BTreeSet<&str> = cases.iter().map(|c| c.0).collect();
    let missing: Vec<&str> = tables::all()
        .iter()
        .map(|t| t.name.as_str())
        .filter(|t| !covered.contains(t))
        .collect();
    assert!(missing.is_empty(), "tables without a row here: {missing:?}");
}

#[test]
fn time_ranges_become_a_listings_bounds_widened_by_a_second() {
    use datafusion::common::ScalarValue;
    use datafusion::prelude::{col, lit};
    let t = |secs: i64| lit(ScalarValue::TimestampSecond(Some(secs), Some("UTC".into())));
    let def = tables::find("admin_activity_logs").unwrap();
    let describe = |filters: Vec<datafusion::prelude::Expr>| {
        super::plan(
            def,
            &filters,
            true,
            None,
            150,
            crate::settings::ScanMode::Auto,
            None,
        )
        .describe()
    };
    let line =
        |query: &str| format!("GET /admins/activity_logs?{query} per_page=150 (cursor pages)");
    assert_eq!(
        describe(vec![col("created_at").gt_eq(t(1_000))]),
        line("created_at_after=999")
    );
    // Reversed operands, and two bounds ANDed: the tighter of each side.
    assert_eq!(
        describe(vec![
            t(2_000).gt(col("created_at")),
            col("created_at").lt_eq(t(3_000)),
            col("created_at").gt(t(500)),
            col("created_at").gt(t(900)),
        ]),
        line("created_at_after=899&created_at_before=2001")
    );
    assert_eq!(
        describe(vec![col("created_at").eq(t(1_000))]),
        line("created_at_after=999&created_at_before=1001")
    );
    assert_eq!(
        describe(vec![col("created_at").between(t(10), t(20))]),
        line("created_at_after=9&created_at_before=21")
    );
    // Not a range of the column: the whole log, filtered by the scan.
    let other = col("created_at").not_eq(t(1_000));
    assert_eq!(describe(vec![other.clone()]), line("created_at_after=0"));
    assert_eq!(
        super::support(def, &other),
        datafusion::logical_expr::TableProviderFilterPushDown::Unsupported
    );
}
