//! Admin-initiated messages (`POST /messages`, docs/intercom-notes.md, "Writes") and data events
//! (`POST /events`, docs/intercom-notes.md, "Writes").

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::shared::{admin, admin_not_found, contact_by, html, now, user_not_found};
use crate::emulator::store::{Author, Conversation, DataEvent, Statistics, Store, next_numeric_id};
use crate::emulator::{ApiError, EmulatorState};

/// The contacts of `to`/`cc`/`bcc`: one recipient `{type: user|lead, id}` or an array of them.
fn recipients(store: &Store, body_fields: &Body, key: &str) -> Result<Vec<u32>, ApiError> {
    let items: Vec<&Value> = match body_fields.get(key) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    };
    items
        .into_iter()
        .map(|item| {
            let r = body_fields.item(key, item)?;
            r.allow(&["type", "id"])?;
            r.req_enumerated("type", &["user", "lead"])?;
            let id = r.req_id("id")?;
            contact_by(store, "id", &id).ok_or_else(user_not_found)
        })
        .collect()
}

/// `POST /messages`: answers the `admin_message`. `message_type` `in_app` is accepted and
/// answered as `inapp` (docs/intercom-notes.md, "Where the schema and the examples disagree");
/// email needs `subject` and `template`. With `create_conversation_without_contact_reply` the
/// conversation exists at once.
pub(super) async fn create(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&[
        "message_type",
        "subject",
        "body",
        "template",
        "from",
        "to",
        "cc",
        "bcc",
        "created_at",
        "create_conversation_without_contact_reply",
    ])?;
    let message_type = body_fields.req_enumerated("message_type", &["in_app", "inapp", "email"])?;
    let message_type = if message_type == "email" {
        "email"
    } else {
        "inapp"
    };
    let text = body_fields
        .str("body")?
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("Body is required"))?;
    let subject = body_fields.str("subject")?;
    let template = body_fields.enumerated("template", &["plain", "personal"])?;
    if message_type == "email" {
        if subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(ApiError::new(
                422,
                "parameter_not_found",
                "No subject supplied for email message",
            ));
        }
        if template.is_none() {
            return Err(ApiError::new(
                422,
                "parameter_not_found",
                "No template supplied for email message",
            ));
        }
    }
    let from = body_fields.req_nested("from")?;
    from.allow(&["type", "id"])?;
    from.req_enumerated("type", &["admin"])?;
    let from_id = from.req_id("id")?;
    if body_fields.get("to").is_none() {
        return Err(super::body::missing("to"));
    }
    let created_at = body_fields.int("created_at")?;
    let with_conversation = body_fields
        .bool("create_conversation_without_contact_reply")?
        .unwrap_or(false);
    emulator.write(|store| {
        let owner = admin(store, &from_id).ok_or_else(admin_not_found)?;
        let to = recipients(store, &body_fields, "to")?;
        if to.is_empty() {
            return Err(super::body::missing("to"));
        }
        recipients(store, &body_fields, "cc")?;
        recipients(store, &body_fields, "bcc")?;
        let at = created_at.unwrap_or_else(now);
        let id = store.next_message_id;
        store.next_message_id += 1;
        let body = html(&text);
        let mut conversation_id = None;
        if with_conversation {
            let conv_id = next_numeric_id(&store.conversations, |c| c.id, 1_000);
            store.conversations.push(Conversation {
                id: conv_id,
                title: None,
                created_at: at,
                updated_at: at,
                waiting_since: None,
                snoozed_until: None,
                state: "open",
                read: true,
                priority: "not_priority",
                admin_assignee: None,
                team_assignee: None,
                source_type: if message_type == "email" {
                    "email"
                } else {
                    "conversation"
                },
                source_id: id,
                delivered_as: "admin_initiated",
                subject: subject.clone().unwrap_or_default(),
                body: body.clone(),
                source_author: Author::Admin(owner),
                source_redacted: false,
                contacts: to.clone(),
                teammates: vec![owner],
                tags: Vec::new(),
                statistics: Statistics {
                    count_conversation_parts: 1,
                    ..Statistics::default()
                },
                rating: None,
                custom: Vec::new(),
                ai_agent_participated: false,
                company: None,
                parts: Vec::new(),
                linked_ticket: None,
                deleted: false,
                archived: false,
            });
            conversation_id = Some(conv_id.to_string());
        }
        for c in &to {
            store.contacts[*c as usize].last_contacted_at = Some(at);
        }
        let a = &store.admins[owner as usize];
        let mut v = json!({
            "type": "admin_message", "id": id.to_string(), "created_at": at,
            "subject": subject.unwrap_or_default(), "body": body, "message_type": message_type,
            "owner": {"type": "admin", "id": a.id.to_string(), "name": a.name, "email": a.email,
                      "away_mode_enabled": a.away_mode_enabled,
                      "away_mode_reassign": a.away_mode_reassign},
        });
        if let (Some(cid), Some(obj)) = (conversation_id, v.as_object_mut()) {
            obj.insert("conversation_id".into(), json!(cid));
        }
        Ok(Json(v).into_response())
    })
}

/// Metadata keys kept per event; the rest are dropped silently (docs/intercom-notes.md, "Writes").
const MAX_METADATA_KEYS: usize = 10;

/// `POST /events`: `202` with an empty body; unknown user `404`. A duplicate (same contact,
/// name and `created_at`) is accepted and ignored.
pub(super) async fn create_event(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&[
        "event_name",
        "created_at",
        "user_id",
        "id",
        "email",
        "metadata",
    ])?;
    let name = body_fields.req_text("event_name")?;
    let created_at = body_fields.req_int("created_at")?;
    let metadata: serde_json::Map<String, Value> = body_fields
        .object("metadata")?
        .map(|m| {
            m.iter()
                .take(MAX_METADATA_KEYS)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let id = body_fields.id("id")?;
    let user_id = body_fields.str("user_id")?;
    let email = body_fields.str("email")?;
    if id.is_none() && user_id.is_none() && email.is_none() {
        return Err(ApiError::new(
            400,
            "parameter_not_found",
            "one of id, user_id or email is required",
        ));
    }
    emulator.write(|store| {
        let contact = match (&id, &user_id, &email) {
            (Some(id), _, _) => contact_by(store, "id", id),
            (None, Some(u), _) => contact_by(store, "user_id", u),
            (None, None, Some(e)) => contact_by(store, "email", e),
            (None, None, None) => None,
        }
        .ok_or_else(user_not_found)?;
        let duplicate = store
            .events
            .iter()
            .any(|e| e.contact == contact && e.event_name == name && e.created_at == created_at);
        if !duplicate {
            let seq = store.events.iter().map(|e| e.seq + 1).max().unwrap_or(1);
            store.events.push(DataEvent {
                seq,
                contact,
                event_name: name.clone(),
                created_at,
                metadata,
            });
        }
        Ok(StatusCode::ACCEPTED.into_response())
    })
}
