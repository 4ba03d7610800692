//! Conversation writes (docs/intercom-notes.md, "Writes"): create (contact-initiated), update
//! (incl. mark read), delete, reply (admin comment/note/quick reply, contact comment), manage
//! (close, snooze, open, assign), tags, participants, convert to a ticket and redact.
//!
//! Every change appends the conversation part Intercom would show and keeps `state`, `open`,
//! `snoozed_until`, `waiting_since`, assignees and the main `statistics` counters consistent.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::replies::{ReplyContent, reply_content, replying_contact};
use super::shared::{
    NewContact, add_tag, admin, admin_not_found, create_contact, html, insert_sorted, now,
    remove_tag, remove_value, resource_not_found, user_not_found,
};
use super::ticket_writes::{TicketDraft, create_ticket};
use crate::emulator::render;
use crate::emulator::store::{Author, Conversation, Part, Statistics, Store, next_numeric_id};
use crate::emulator::{ApiError, EmulatorState};

fn conversation_not_found() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

/// The conversation with its parts, as every conversation write answers.
fn render_full(store: &Store, i: usize) -> ApiResult {
    Ok(Json(render::conversation(store, i, true)).into_response())
}

/// The admin a body's `admin_id` names (required).
fn body_admin(store: &Store, body_fields: &Body) -> Result<u32, ApiError> {
    let id = body_fields.req_id("admin_id")?;
    admin(store, &id).ok_or_else(admin_not_found)
}

/// Appends a part in the conversation's current state.
fn push_part(
    s: &mut Store,
    conv: usize,
    part_type: &'static str,
    body: Option<String>,
    author: Author,
    assigned_to: Option<Author>,
    at: i64,
) -> usize {
    let id = s.next_part_id;
    s.next_part_id += 1;
    let c = &mut s.conversations[conv];
    c.parts.push(Part {
        id,
        part_type,
        body,
        created_at: at,
        author,
        assigned_to,
        state: c.state,
        redacted: false,
        metadata: None,
    });
    c.statistics.count_conversation_parts += 1;
    c.updated_at = at;
    c.parts.len() - 1
}

/// `POST /conversations`: a contact starts a conversation; answers the `user_message`.
pub(super) async fn create(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["from", "body", "subject", "attachment_urls", "created_at"])?;
    let from = body_fields.req_nested("from")?;
    from.allow(&["type", "id"])?;
    let from_type = from.req_enumerated("type", &["user", "lead", "contact"])?;
    let from_id = from.req_id("id")?;
    let text = body_fields.req_text("body")?;
    let subject = body_fields.str("subject")?;
    body_fields.bounded_array("attachment_urls", 10)?;
    let created_at = body_fields.int("created_at")?;
    emulator.write(|store| {
        let contact = match store.contact_index(&from_id) {
            Some(i) => i as u32,
            // docs/intercom-notes.md, "Writes": a visitor id with type `contact` converts the
            // visitor to a lead.
            None if from_type == "contact" => {
                let v = store
                    .visitors
                    .iter()
                    .position(|v| v.id == from_id && v.converted_to.is_none())
                    .ok_or_else(user_not_found)?;
                let new = NewContact {
                    role: "lead",
                    email: store.visitors[v].email.clone(),
                    external_id: None,
                    name: store.visitors[v].name.clone(),
                };
                let lead = create_contact(store, new, now());
                store.visitors[v].converted_to = Some(lead);
                lead
            }
            None => return Err(user_not_found()),
        };
        let at = created_at.unwrap_or_else(now);
        let message_id = store.next_message_id;
        store.next_message_id += 1;
        let body = html(&text);
        let company = store.contacts[contact as usize].companies.first().copied();
        store.conversations.push(Conversation {
            id: next_numeric_id(&store.conversations, |c| c.id, 1_000),
            title: None,
            created_at: at,
            updated_at: at,
            waiting_since: Some(at),
            snoozed_until: None,
            state: "open",
            read: false,
            priority: "not_priority",
            admin_assignee: None,
            team_assignee: None,
            source_type: "conversation",
            source_id: message_id,
            delivered_as: "customer_initiated",
            subject: subject.unwrap_or_default(),
            body: body.clone(),
            source_author: Author::Contact(contact),
            source_redacted: false,
            contacts: vec![contact],
            teammates: Vec::new(),
            tags: Vec::new(),
            statistics: Statistics {
                first_contact_reply_at: Some(at),
                last_contact_reply_at: Some(at),
                count_conversation_parts: 1,
                ..Statistics::default()
            },
            rating: None,
            custom: Vec::new(),
            ai_agent_participated: false,
            company,
            parts: Vec::new(),
            linked_ticket: None,
            deleted: false,
            archived: false,
        });
        store.contacts[contact as usize].last_replied_at = Some(at);
        let conv = store.conversations.len() - 1;
        Ok(Json(json!({
            "type": "user_message", "id": message_id.to_string(), "created_at": at,
            "body": body, "message_type": "inapp",
            "conversation_id": store.conversations[conv].id.to_string(),
        }))
        .into_response())
    })
}

/// `PUT /conversations/{id}`: `read`, `title`, `custom_attributes`, `company_id` (null removes).
pub(super) async fn update(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["read", "title", "custom_attributes", "company_id"])?;
    let read = body_fields.bool("read")?;
    let title = body_fields.nullable_str("title")?;
    let company_id = body_fields.nullable_str("company_id")?;
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(conversation_not_found)?;
        let custom = match body_fields.object("custom_attributes")? {
            Some(values) => super::shared::custom_changes(store, "conversation", values, |name| {
                ApiError::invalid(format!("Conversation attribute '{name}' does not exist"))
            })?,
            None => Vec::new(),
        };
        let company = match company_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(cid)) => {
                let found = store.company_index(&cid).or_else(|| {
                    store
                        .companies
                        .iter()
                        .position(|c| !c.deleted && c.company_id == cid)
                });
                let c = found
                    .ok_or_else(|| ApiError::not_found("company_not_found", "Company Not Found"))?;
                Some(Some(c as u32))
            }
        };
        let c = &mut store.conversations[i];
        if let Some(read) = read {
            c.read = read;
        }
        if let Some(title) = title {
            c.title = title;
        }
        if let Some(company) = company {
            c.company = company;
        }
        super::shared::apply_custom(&mut c.custom, custom);
        c.updated_at = now();
        render_full(store, i)
    })
}

/// `DELETE /conversations/{id}`: `{id, object: "conversation", deleted: true}` (irreversible).
pub(super) async fn delete(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(conversation_not_found)?;
        store.conversations[i].deleted = true;
        if let Some(t) = store.conversations[i].linked_ticket.take()
            && let Some(ticket) = store.tickets.get_mut(t as usize)
        {
            ticket.linked_conversation = None;
        }
        let id = store.conversations[i].id.to_string();
        Ok(Json(json!({"id": id, "object": "conversation", "deleted": true})).into_response())
    })
}

const ADMIN_REPLY_KEYS: &[&str] = &[
    "type",
    "message_type",
    "admin_id",
    "body",
    "created_at",
    "reply_options",
    "attachment_urls",
    "attachment_files",
    "skip_notifications",
];
const CONTACT_REPLY_KEYS: &[&str] = &[
    "type",
    "message_type",
    "body",
    "intercom_user_id",
    "user_id",
    "email",
    "created_at",
    "attachment_urls",
    "attachment_files",
    "reply_options",
    "skip_notifications",
];

/// `POST /conversations/{id}/reply` (`{id}` may be `last`: the replying contact's newest
/// conversation). Admin comments stop the wait; contact comments reopen a closed or snoozed
/// conversation and start the wait.
pub(super) async fn reply(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let kind = body_fields.req_enumerated("type", &["admin", "user"])?;
    if kind == "admin" {
        body_fields.allow(ADMIN_REPLY_KEYS)?;
    } else {
        body_fields.allow(CONTACT_REPLY_KEYS)?;
    }
    let ReplyContent {
        message_type,
        text,
        options,
    } = reply_content(&body_fields, kind)?;
    let created_at = body_fields.int("created_at")?;
    emulator.write(|store| {
        let author = if kind == "admin" {
            Author::Admin(body_admin(store, &body_fields)?)
        } else {
            Author::Contact(replying_contact(store, &body_fields)?)
        };
        let i = if id == "last" {
            let Author::Contact(contact) = author else {
                return Err(conversation_not_found());
            };
            (0..store.conversations.len())
                .filter(|&i| {
                    store.conversations[i].is_live()
                        && store.conversations[i].contacts.contains(&contact)
                })
                .max_by_key(|&i| (store.conversations[i].created_at, i))
                .ok_or_else(conversation_not_found)?
        } else {
            store
                .conversation_index(&id)
                .ok_or_else(conversation_not_found)?
        };
        let at = created_at.unwrap_or_else(now);
        {
            let c = &mut store.conversations[i];
            let stats = &mut c.statistics;
            match (author, message_type) {
                (Author::Contact(_), _) => {
                    if c.state == "closed" {
                        stats.count_reopens += 1;
                    }
                    c.state = "open";
                    c.snoozed_until = None;
                    c.waiting_since = Some(at);
                    stats.first_contact_reply_at.get_or_insert(at);
                    stats.last_contact_reply_at = Some(at);
                }
                (_, "comment" | "quick_reply") => {
                    c.waiting_since = None;
                    if stats.first_admin_reply_at.is_none() {
                        stats.first_admin_reply_at = Some(at);
                        stats.time_to_admin_reply = Some(at.saturating_sub(c.created_at));
                    }
                    stats.last_admin_reply_at = Some(at);
                }
                _ => {}
            }
        }
        let part = push_part(
            store,
            i,
            message_type,
            text.as_deref().map(html),
            author,
            None,
            at,
        );
        store.conversations[i].parts[part].metadata = options;
        if let Author::Contact(contact) = author {
            store.contacts[contact as usize].last_replied_at = Some(at);
        }
        render_full(store, i)
    })
}

/// `POST /conversations/{id}/parts`: `close`, `snoozed` (needs `snoozed_until`), `open`,
/// `assignment` (`type` admin|team, `assignee_id`, `"0"` unassigns).
pub(super) async fn manage(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let message_type =
        body_fields.req_enumerated("message_type", &["close", "snoozed", "open", "assignment"])?;
    match message_type {
        "close" | "assignment" => {
            body_fields.allow(&["message_type", "type", "admin_id", "assignee_id", "body"])?
        }
        _ => body_fields.allow(&["message_type", "type", "admin_id", "snoozed_until"])?,
    }
    let kind = match message_type {
        "close" => Some(body_fields.req_enumerated("type", &["admin"])?),
        "assignment" => Some(body_fields.req_enumerated("type", &["admin", "team"])?),
        _ => body_fields.enumerated("type", &["admin"])?,
    };
    let snoozed_until = match message_type {
        "snoozed" => Some(body_fields.req_int("snoozed_until")?),
        _ => None,
    };
    let assignee_id = match message_type {
        "assignment" => Some(body_fields.req_id("assignee_id")?),
        _ => None,
    };
    let text = body_fields.str("body")?.filter(|t| !t.trim().is_empty());
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(conversation_not_found)?;
        let actor = body_admin(store, &body_fields)?;
        let assignee = match (&assignee_id, kind) {
            (Some(a), _) if a == "0" => Some(None),
            (Some(a), Some("team")) => Some(Some(Author::Team(
                store
                    .team_index(a)
                    .ok_or_else(|| ApiError::not_found("team_not_found", "Team not found"))?
                    as u32,
            ))),
            (Some(a), _) => Some(Some(Author::Admin(
                admin(store, a).ok_or_else(admin_not_found)?,
            ))),
            (None, _) => None,
        };
        let at = now();
        let c = &mut store.conversations[i];
        let was_closed = c.state == "closed";
        let part_type = match message_type {
            "close" => {
                c.state = "closed";
                c.snoozed_until = None;
                c.waiting_since = None;
                let stats = &mut c.statistics;
                if stats.first_close_at.is_none() {
                    stats.first_close_at = Some(at);
                    stats.time_to_first_close = Some(at.saturating_sub(c.created_at));
                }
                stats.last_close_at = Some(at);
                stats.time_to_last_close = Some(at.saturating_sub(c.created_at));
                stats.last_closed_by_id = Some(store.admins[actor as usize].id.to_string());
                "close"
            }
            "snoozed" => {
                c.state = "snoozed";
                c.snoozed_until = snoozed_until;
                "snoozed"
            }
            "open" => {
                c.state = "open";
                c.snoozed_until = None;
                if was_closed {
                    c.statistics.count_reopens += 1;
                }
                "open"
            }
            _ => {
                match assignee {
                    Some(Some(Author::Team(t))) => c.team_assignee = Some(t),
                    Some(Some(Author::Admin(a))) => {
                        c.admin_assignee = Some(a);
                        if !c.teammates.contains(&a) {
                            c.teammates.push(a);
                        }
                    }
                    _ if kind == Some("team") => c.team_assignee = None,
                    _ => c.admin_assignee = None,
                }
                let stats = &mut c.statistics;
                stats.count_assignments += 1;
                if stats.first_assignment_at.is_none() {
                    stats.first_assignment_at = Some(at);
                    stats.time_to_assignment = Some(at.saturating_sub(c.created_at));
                }
                stats.last_assignment_at = Some(at);
                if was_closed {
                    // Assigning a closed conversation reopens it.
                    c.state = "open";
                    stats.count_reopens += 1;
                    "assign_and_reopen"
                } else {
                    "assignment"
                }
            }
        };
        let assigned_to = assignee.flatten();
        push_part(
            store,
            i,
            part_type,
            text.as_deref().map(html),
            Author::Admin(actor),
            assigned_to,
            at,
        );
        render_full(store, i)
    })
}

/// `POST /conversations/{id}/tags` `{id, admin_id}`: the tag with `applied_at`/`applied_by`.
pub(super) async fn attach_tag(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["id", "admin_id"])?;
    let tag_id = body_fields.req_id("id")?;
    body_fields.req_id("admin_id")?;
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(|| ApiError::not_found("not_found", "Conversation not found"))?;
        let actor = body_admin(store, &body_fields)?;
        let tag = store.tag_index(&tag_id).ok_or_else(resource_not_found)?;
        let tagging = add_tag(&mut store.conversations[i].tags, tag as u32, actor, now());
        Ok(Json(render::tag(store, tag, Some(&tagging))).into_response())
    })
}

/// `DELETE /conversations/{id}/tags/{tag_id}` with a JSON body `{admin_id}`
/// (docs/intercom-notes.md, "Writes").
pub(super) async fn detach_tag(
    State(emulator): State<EmulatorState>,
    Path((id, tag_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["admin_id"])?;
    body_fields.req_id("admin_id")?;
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(|| ApiError::not_found("not_found", "Conversation not found"))?;
        body_admin(store, &body_fields)?;
        let tag = store
            .tag_index(&tag_id)
            .filter(|&t| {
                store.conversations[i]
                    .tags
                    .iter()
                    .any(|x| x.tag == t as u32)
            })
            .ok_or_else(|| ApiError::not_found("tag_not_found", "Tag not found"))?;
        remove_tag(&mut store.conversations[i].tags, tag as u32);
        Ok(Json(render::tag(store, tag, None)).into_response())
    })
}

/// `{customers: [contact_reference]}`: what attaching or detaching a participant answers
/// (the examples' shape, docs/intercom-notes.md, "Where the schema and the examples disagree").
fn customers(store: &Store, i: usize) -> ApiResult {
    let list: Vec<Value> = store.conversations[i]
        .contacts
        .iter()
        .map(|c| {
            let c = &store.contacts[*c as usize];
            json!({"type": "contact", "id": c.id, "external_id": c.external_id})
        })
        .collect();
    Ok(Json(json!({"customers": list})).into_response())
}

/// `POST /conversations/{id}/customers` `{admin_id, customer: {intercom_user_id | user_id |
/// email}}`; an unknown email creates a lead (docs/intercom-notes.md, "Writes").
pub(super) async fn attach_customer(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["admin_id", "customer"])?;
    body_fields.req_id("admin_id")?;
    let customer = body_fields.req_nested("customer")?;
    customer.allow(&["intercom_user_id", "user_id", "email", "customer"])?;
    let email = customer.str("email")?;
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(conversation_not_found)?;
        body_admin(store, &body_fields)?;
        let contact = match (
            email.as_deref(),
            customer.get("intercom_user_id"),
            customer.get("user_id"),
        ) {
            (Some(email), None, None) => match store.contact_by_email(email) {
                Some(c) => c as u32,
                None => {
                    let new = NewContact {
                        role: "lead",
                        email: Some(email.to_string()),
                        external_id: None,
                        name: None,
                    };
                    create_contact(store, new, now())
                }
            },
            _ => replying_contact(store, &customer)?,
        };
        insert_sorted(&mut store.conversations[i].contacts, contact);
        store.conversations[i].updated_at = now();
        customers(store, i)
    })
}

/// `DELETE /conversations/{id}/customers/{contact_id}` with a JSON body `{admin_id}`; the last
/// participant cannot be removed (`422`).
pub(super) async fn detach_customer(
    State(emulator): State<EmulatorState>,
    Path((id, contact_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["admin_id", "customer"])?;
    body_fields.req_id("admin_id")?;
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(conversation_not_found)?;
        body_admin(store, &body_fields)?;
        let contact = store
            .contact_index(&contact_id)
            .map(|c| c as u32)
            .filter(|c| store.conversations[i].contacts.contains(c))
            .ok_or_else(user_not_found)?;
        if store.conversations[i].contacts.len() <= 1 {
            return Err(ApiError::new(
                422,
                "parameter_invalid",
                "Removing the last customer is not allowed",
            ));
        }
        remove_value(&mut store.conversations[i].contacts, contact);
        store.conversations[i].updated_at = now();
        customers(store, i)
    })
}

/// `POST /conversations/{id}/convert` `{ticket_type_id, attributes?}`: a new ticket of a
/// Customer ticket type, linked both ways with the conversation.
pub(super) async fn convert(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["ticket_type_id", "attributes"])?;
    let type_id = body_fields.req_id("ticket_type_id")?;
    let attributes = body_fields
        .object("attributes")?
        .cloned()
        .unwrap_or_default();
    emulator.write(|store| {
        let i = store
            .conversation_index(&id)
            .ok_or_else(conversation_not_found)?;
        let ty = store
            .ticket_type_index(&type_id)
            .filter(|&t| !store.ticket_types[t].archived)
            .ok_or_else(|| ApiError::invalid("Ticket type not found"))?;
        if store.ticket_types[ty].category != "Customer" {
            return Err(ApiError::invalid(
                "Ticket type is not a customer ticket type",
            ));
        }
        let c = &store.conversations[i];
        let mut attributes = attributes;
        // The ticket's title and description come from the conversation unless given.
        let text = plain_text(&c.body);
        let title = [c.title.clone().unwrap_or_default(), c.subject.clone()]
            .into_iter()
            .find(|t| !t.trim().is_empty())
            .unwrap_or_else(|| text.chars().take(80).collect());
        attributes
            .entry("_default_title_")
            .or_insert_with(|| json!(title));
        attributes
            .entry("_default_description_")
            .or_insert_with(|| json!(text));
        let draft = TicketDraft {
            ticket_type: ty,
            contacts: c.contacts.clone(),
            attributes,
            company: c.company,
            created_at: now(),
            admin_assignee: c.admin_assignee,
            team_assignee: c.team_assignee,
            linked_conversation: Some(i as u32),
        };
        let ticket = create_ticket(store, draft)?;
        store.conversations[i].linked_ticket = Some(ticket as u32);
        Ok(Json(render::ticket(store, ticket)).into_response())
    })
}

/// HTML reduced to its text (tags dropped).
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn part_not_found() -> ApiError {
    ApiError::not_found(
        "conversation_part_or_message_not_found",
        "Conversation part or message not found",
    )
}

fn not_redactable() -> ApiError {
    ApiError::new(
        400,
        "conversation_part_not_redactable",
        "Conversation part or message is not redactable",
    )
}

/// `POST /conversations/redact`: a part (`conversation_part_id`) or the source (`source_id`,
/// only when a contact wrote it); the text is removed and `redacted` set.
pub(super) async fn redact(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let kind = body_fields.req_enumerated("type", &["conversation_part", "source"])?;
    let target_key = if kind == "source" {
        "source_id"
    } else {
        "conversation_part_id"
    };
    body_fields.allow(&["type", "conversation_id", target_key])?;
    let conversation_id = body_fields.req_id("conversation_id")?;
    let target = body_fields.req_id(target_key)?;
    emulator.write(|store| {
        let i = store
            .conversation_index(&conversation_id)
            .ok_or_else(part_not_found)?;
        let c = &mut store.conversations[i];
        if kind == "source" {
            if c.source_id.to_string() != target {
                return Err(part_not_found());
            }
            if !matches!(c.source_author, Author::Contact(_)) || c.source_redacted {
                return Err(not_redactable());
            }
            c.body = String::new();
            c.source_redacted = true;
        } else {
            let p = c
                .parts
                .iter_mut()
                .find(|p| p.id.to_string() == target)
                .ok_or_else(part_not_found)?;
            if p.body.is_none() || p.redacted {
                return Err(not_redactable());
            }
            p.body = None;
            p.redacted = true;
        }
        c.updated_at = now();
        render_full(store, i)
    })
}
