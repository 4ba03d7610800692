//! The tables of the admins' side and of contacts' activity — `me`, `away_status_reasons`,
//! `admin_activity_logs`, `conversation_handling_events`, `ticket_parts`, `events`,
//! `event_summaries`, `visitors` — read end to end against the seeded emulator, values
//! checked against the emulator's own records, and the requests each read sends.

use std::collections::BTreeMap;

use intercom_sql::emulator::EmulatorConfig;
use serde_json::Value;

use crate::common::{field, start, start_with};

fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

#[tokio::test]
async fn me_is_the_tokens_admin_and_its_workspace() {
    let env = start().await;
    let rows = env
        .rows("SELECT id, email, app_id_code, app_region, app_timezone, app_created_at IS NOT NULL FROM me")
        .await;
    let admins = env.emulator.state.snapshot("admins");
    // The emulator's token acts as its first admin.
    let first = admins
        .iter()
        .min_by_key(|a| field(a, "id").parse::<u64>().unwrap())
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], field(first, "id"));
    assert_eq!(rows[0][1], field(first, "email"));
    assert!(rows[0][2].starts_with("ws"), "{rows:?}");
    assert_eq!(rows[0][3..], ["US", "UTC", "true"]);
    assert_eq!(env.requests(), ["GET /me"]);
}

#[tokio::test]
async fn away_status_reasons_match_the_seed_deleted_ones_included() {
    let env = start().await;
    let got = sorted(
        env.rows("SELECT id, label, deleted, \"order\" FROM away_status_reasons")
            .await,
    );
    let want = sorted(
        env.emulator
            .state
            .snapshot("away_status_reasons")
            .iter()
            .map(|r| {
                ["id", "label", "deleted", "order"]
                    .map(|f| field(r, f))
                    .to_vec()
            })
            .collect(),
    );
    assert_eq!(got, want);
    assert!(
        got.iter().any(|r| r[2] == "true"),
        "a deleted reason is listed"
    );
}

/// Every activity log entry's (id, created_at) in the emulator, with `keep` applied.
fn logs(env: &crate::common::TestEnv, keep: impl Fn(i64) -> bool) -> Vec<Vec<String>> {
    sorted(
        env.emulator
            .state
            .snapshot("activity_logs")
            .iter()
            .filter(|l| keep(l["created_at"].as_i64().unwrap()))
            .map(|l| vec![field(l, "id"), field(l, "created_at")])
            .collect(),
    )
}

#[tokio::test]
async fn activity_log_ranges_become_the_listings_bounds() {
    // Pages of 7: every read follows several cursors.
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 7).await;
    let all = logs(&env, |_| true);
    assert!(all.len() > 14, "the seed has {} entries", all.len());
    let sql = "SELECT id, to_unixtime(created_at) FROM admin_activity_logs";
    assert_eq!(sorted(env.rows(sql).await), all);
    // Without a range the whole log is asked for, as Intercom requires a lower bound.
    let sent = env.requests();
    assert!(
        sent[0].starts_with("GET /admins/activity_logs?created_at_after=0"),
        "{sent:?}"
    );
    assert_eq!(sent.len(), all.len().div_ceil(7));
    // A range: the listing's bounds, widened by a second, the exact range applied after.
    let from: i64 = all[all.len() / 3][1].parse().unwrap();
    let to: i64 = all[2 * all.len() / 3][1].parse().unwrap();
    env.emulator.state.clear_requests();
    let got = sorted(
        env.rows(&format!(
            "{sql} WHERE created_at >= to_timestamp({from}) AND created_at < to_timestamp({to})"
        ))
        .await,
    );
    assert_eq!(got, logs(&env, |t| t >= from && t < to));
    let sent = env.requests();
    assert!(
        sent[0].contains(&format!("created_at_after={}", from - 1))
            && sent[0].contains(&format!("created_at_before={}", to + 1)),
        "{sent:?}"
    );
    assert!(sent.len() < all.len().div_ceil(7), "{sent:?}");
    // BETWEEN and an equality too.
    let got = sorted(
        env.rows(&format!(
            "{sql} WHERE created_at BETWEEN to_timestamp({from}) AND to_timestamp({to})"
        ))
        .await,
    );
    assert_eq!(got, logs(&env, |t| t >= from && t <= to));
    let got = env
        .rows(&format!("{sql} WHERE created_at = to_timestamp({from})"))
        .await;
    assert_eq!(sorted(got), logs(&env, |t| t == from));
}

#[tokio::test]
async fn handling_events_are_each_conversations() {
    let env = start().await;
    let want = sorted(
        env.emulator
            .state
            .snapshot("handling_events")
            .iter()
            .map(|e| {
                ["conversation_id", "type", "teammate.id", "reason"]
                    .map(|f| field(e, f))
                    .to_vec()
            })
            .collect(),
    );
    assert!(!want.is_empty());
    let got = env
        .rows("SELECT conversation_id, type, teammate_id, reason FROM conversation_handling_events")
        .await;
    assert_eq!(sorted(got), want);
    // One conversation: one request; its ISO timestamps are timestamps.
    let id = &want[0][0];
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT to_unixtime(timestamp) > 0 FROM conversation_handling_events WHERE conversation_id = '{id}'"
        ))
        .await;
    assert!(rows.iter().all(|r| r[0] == "true") && !rows.is_empty());
    assert_eq!(
        env.requests(),
        [format!("GET /conversations/{id}/handling_events")]
    );
}

#[tokio::test]
async fn ticket_parts_are_each_tickets_parts() {
    let env = start().await;
    let mut want = Vec::new();
    for t in env.emulator.state.snapshot("tickets") {
        for p in t["ticket_parts"]["ticket_parts"].as_array().unwrap() {
            want.push(vec![
                field(&t, "id"),
                field(p, "id"),
                field(p, "part_type"),
                field(p, "ticket_state"),
                field(p, "author.id"),
            ]);
        }
    }
    assert!(!want.is_empty());
    let got = env
        .rows("SELECT ticket_id, id, part_type, ticket_state, author_id FROM ticket_parts")
        .await;
    assert_eq!(sorted(got), sorted(want));
}

/// Each contact's seeded events, by contact id: (id, event_name, created_at).
fn events_by_contact(env: &crate::common::TestEnv) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut by: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for e in env.emulator.state.snapshot("events") {
        by.entry(field(&e, "intercom_user_id"))
            .or_default()
            .push(vec![
                field(&e, "id"),
                field(&e, "event_name"),
                field(&e, "created_at"),
            ]);
    }
    by
}

#[tokio::test]
async fn events_are_read_per_contact_following_intercoms_next_urls() {
    // Pages of 2: a contact's events take several pages, each asked by `pages.next`.
    let env = start_with(EmulatorConfig::default(), |c| c.page_size = 2).await;
    let by = events_by_contact(&env);
    let (contact, want) = by.iter().max_by_key(|(_, e)| e.len()).unwrap();
    assert!(want.len() > 4, "{want:?}");
    let got = env
        .rows(&format!(
            "SELECT id, event_name, to_unixtime(created_at) FROM events WHERE contact_id = '{contact}'"
        ))
        .await;
    assert_eq!(sorted(got), sorted(want.clone()));
    let sent = env.requests();
    assert_eq!(sent.len(), want.len().div_ceil(2), "{sent:?}");
    assert_eq!(
        sent[0],
        format!("GET /events?type=user&intercom_user_id={contact}&per_page=2")
    );
    // The next pages are the URLs Intercom gave (its host dropped): its cursor, its page size.
    assert!(
        sent[1..]
            .iter()
            .all(|r| r.starts_with("GET /events?type=user&intercom_user_id=")
                && r.contains("&before=")),
        "{sent:?}"
    );
}

#[tokio::test]
async fn events_need_their_contacts_named() {
    let env = start().await;
    for sql in [
        "SELECT * FROM events",
        "SELECT count(*) FROM event_summaries",
        "SELECT * FROM events WHERE event_name = 'upgraded-plan'",
    ] {
        let error = env.error(sql).await;
        assert!(
            error.contains("cannot be read whole") && error.contains("add WHERE contact_id = '…'"),
            "{sql}: {error}"
        );
    }
    assert_eq!(env.emulator.state.request_count(), 0, "nothing was sent");
    // A join from contacts names them: one request per contact found, no walk.
    let by = events_by_contact(&env);
    let contacts = env.emulator.state.snapshot("contacts");
    let with_events: Vec<&Value> = contacts
        .iter()
        .filter(|c| by.contains_key(&field(c, "id")))
        .take(3)
        .collect();
    let emails: Vec<String> = with_events
        .iter()
        .map(|c| format!("'{}'", field(c, "email")))
        .collect();
    let got = env
        .rows(&format!(
            "SELECT e.contact_id, e.id FROM contacts c JOIN events e ON e.contact_id = c.id \
             WHERE c.email IN ({})",
            emails.join(", ")
        ))
        .await;
    let want: Vec<Vec<String>> = with_events
        .iter()
        .flat_map(|c| {
            let id = field(c, "id");
            by[&id].iter().map(move |e| vec![id.clone(), e[0].clone()])
        })
        .collect();
    assert_eq!(sorted(got), sorted(want));
    let event_requests = env
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /events"))
        .count();
    assert_eq!(event_requests, with_events.len());
}

#[tokio::test]
async fn event_summaries_count_each_contacts_events_by_name() {
    let env = start().await;
    let by = events_by_contact(&env);
    let ids: Vec<&String> = by.keys().take(4).collect();
    let list: Vec<String> = ids.iter().map(|id| format!("'{id}'")).collect();
    let got = env
        .rows(&format!(
            "SELECT contact_id, event_name, count, to_unixtime(first), to_unixtime(last) \
             FROM event_summaries WHERE contact_id IN ({})",
            list.join(", ")
        ))
        .await;
    let mut want = Vec::new();
    for id in ids {
        let mut names: BTreeMap<&str, (u64, i64, i64)> = BTreeMap::new();
        for e in &by[id] {
            let at: i64 = e[2].parse().unwrap();
            let entry = names.entry(&e[1]).or_insert((0, i64::MAX, i64::MIN));
            *entry = (entry.0 + 1, entry.1.min(at), entry.2.max(at));
        }
        for (name, (count, first, last)) in names {
            want.push(vec![
                id.clone(),
                name.to_string(),
                count.to_string(),
                first.to_string(),
                last.to_string(),
            ]);
        }
    }
    assert_eq!(sorted(got), sorted(want));
}

#[tokio::test]
async fn visitors_are_read_by_user_id_and_updated_by_id() {
    let env = start().await;
    let visitors = env.emulator.state.snapshot("visitors");
    let v = &visitors[0];
    let (id, user_id) = (field(v, "id"), field(v, "user_id"));
    let rows = env
        .rows(&format!(
            "SELECT id, user_id, session_count FROM visitors WHERE user_id = '{user_id}'"
        ))
        .await;
    assert_eq!(
        rows,
        [vec![id.clone(), user_id.clone(), field(v, "session_count")]]
    );
    assert_eq!(env.requests(), [format!("GET /visitors?user_id={user_id}")]);
    assert!(
        env.rows("SELECT id FROM visitors WHERE user_id = 'nobody'")
            .await
            .is_empty()
    );
    // More keys than a table with a listing would look up one by one: a table read only by
    // key takes them all.
    let mut keys: Vec<String> = (0..24).map(|i| format!("'nobody-{i}'")).collect();
    keys.push(format!("'{user_id}'"));
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "SELECT id FROM visitors WHERE user_id IN ({})",
            keys.join(", ")
        ))
        .await;
    assert_eq!(rows, [vec![id.clone()]]);
    assert_eq!(env.requests().len(), 25);
    let error = env.error("SELECT * FROM visitors WHERE name = 'x'").await;
    assert!(
        error.contains("visitors cannot be read whole") && error.contains("WHERE user_id"),
        "{error}"
    );
    // UPDATE: the visitor is read by user_id, then `PUT /visitors` names it by id.
    env.emulator.state.clear_requests();
    let rows = env
        .rows(&format!(
            "UPDATE visitors SET name = 'Ann', custom_attributes = '{{\"plan\": \"pro\"}}' \
             WHERE user_id = '{user_id}' RETURNING name, custom_attributes"
        ))
        .await;
    assert_eq!(
        rows,
        [vec!["Ann".to_string(), r#"{"plan":"pro"}"#.to_string()]]
    );
    let put = env
        .emulator
        .state
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.path, "/visitors");
    assert_eq!(
        put.body.unwrap(),
        serde_json::json!({"id": id, "name": "Ann", "custom_attributes": {"plan": "pro"}})
    );
}

#[tokio::test]
async fn a_segment_by_id_is_one_get_with_its_count() {
    let env = start().await;
    let listed = env
        .rows("SELECT id, name, count FROM segments ORDER BY id")
        .await;
    env.emulator.state.clear_requests();
    let id = &listed[1][0];
    let got = env
        .rows(&format!(
            "SELECT id, name, count FROM segments WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(got, [listed[1].clone()]);
    assert_eq!(
        env.requests(),
        [format!("GET /segments/{id}?include_count=true")]
    );
}
