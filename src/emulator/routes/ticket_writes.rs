//! Ticket writes (docs/intercom-notes.md, "Writes"): create, update, delete, reply, tags. Ticket
//! types and their attributes are in `ticket_types`.
//!
//! Ticket attributes are checked against the ticket type: unknown names, wrong value types and
//! missing `required_to_create` attributes are `400 parameter_invalid`. Every ticket state
//! belongs to every ticket type in the emulated workspace.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::ApiResult;
use super::body::Body;
use super::replies::{ReplyContent, reply_content, replying_contact};
use super::shared::{
    NewContact, add_tag, admin, admin_not_found, contact_by, create_contact, html, now, remove_tag,
    resource_not_found, user_not_found,
};
use crate::emulator::render;
use crate::emulator::store::{
    Author, Store, Ticket, TicketPart, TicketType, TicketTypeAttribute, next_numeric_id,
};
use crate::emulator::{ApiError, EmulatorState};

fn ticket_not_found() -> ApiError {
    ApiError::not_found("ticket_not_found", "Ticket not found")
}

fn assignee_not_found() -> ApiError {
    ApiError::not_found("assignee_not_found", "Assignee not found")
}

/// Checks one ticket attribute value against its attribute's `data_type` (`null` clears).
fn check_attribute(attr: &TicketTypeAttribute, value: &Value) -> Result<(), ApiError> {
    let ok = match (attr.data_type, value) {
        (_, Value::Null) => true,
        ("string" | "list", Value::String(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("decimal", Value::Number(_)) => true,
        ("boolean", Value::Bool(_)) => true,
        ("datetime", Value::Number(_) | Value::String(_)) => true,
        ("files", Value::Array(_)) => true,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Ticket attribute '{}' must be of type {}",
            attr.name, attr.data_type
        )))
    }
}

/// Validates `ticket_attributes` against a ticket type (names exist and are not archived,
/// values fit); with `creating`, every `required_to_create` attribute must be given.
fn check_attributes(
    ty: &TicketType,
    values: &Map<String, Value>,
    creating: bool,
) -> Result<(), ApiError> {
    for (name, value) in values {
        let attr = ty
            .attributes
            .iter()
            .find(|a| a.name == *name && !a.archived)
            .ok_or_else(|| {
                ApiError::invalid(format!("Ticket attribute '{name}' does not exist"))
            })?;
        check_attribute(attr, value)?;
    }
    if creating
        && ty.attributes.iter().any(|a| {
            a.required_to_create && !a.archived && values.get(&a.name).is_none_or(Value::is_null)
        })
    {
        return Err(ApiError::invalid("Missing required ticket attributes"));
    }
    Ok(())
}

/// Merges attribute values into a ticket (`null` removes the value).
fn merge_attributes(target: &mut Vec<(String, Value)>, values: Map<String, Value>) {
    for (name, value) in values {
        let existing = target.iter().position(|(k, _)| *k == name);
        match (existing, value.is_null()) {
            (Some(i), true) => {
                target.remove(i);
            }
            (Some(i), false) => target[i].1 = value,
            (None, false) => target.push((name, value)),
            (None, true) => {}
        }
    }
}

/// Everything a new ticket needs; see [`create_ticket`].
pub(super) struct TicketDraft {
    pub(super) ticket_type: usize,
    pub(super) contacts: Vec<u32>,
    pub(super) attributes: Map<String, Value>,
    pub(super) company: Option<u32>,
    pub(super) created_at: i64,
    pub(super) admin_assignee: Option<u32>,
    pub(super) team_assignee: Option<u32>,
    pub(super) linked_conversation: Option<u32>,
}

/// Validates the draft's attributes and appends the ticket (state `submitted`); its index.
pub(super) fn create_ticket(store: &mut Store, d: TicketDraft) -> Result<usize, ApiError> {
    check_attributes(&store.ticket_types[d.ticket_type], &d.attributes, true)?;
    let state = store
        .ticket_states
        .iter()
        .position(|t| t.category == "submitted")
        .unwrap_or(0) as u32;
    let mut attributes = Vec::new();
    merge_attributes(&mut attributes, d.attributes);
    store.tickets.push(Ticket {
        id: next_numeric_id(&store.tickets, |t| t.id, 600),
        ticket_id: store
            .tickets
            .iter()
            .map(|t| t.ticket_id + 1)
            .max()
            .unwrap_or(30),
        ticket_type: d.ticket_type as u32,
        state,
        contacts: d.contacts,
        admin_assignee: d.admin_assignee,
        team_assignee: d.team_assignee,
        created_at: d.created_at,
        updated_at: d.created_at,
        open: true,
        snoozed_until: None,
        is_shared: false,
        attributes,
        parts: Vec::new(),
        tags: Vec::new(),
        company: d.company,
        linked_conversation: d.linked_conversation,
        deleted: false,
    });
    Ok(store.tickets.len() - 1)
}

fn live_ticket_type(store: &Store, id: &str) -> Result<usize, ApiError> {
    store
        .ticket_type_index(id)
        .filter(|&t| !store.ticket_types[t].archived)
        .ok_or_else(|| ApiError::invalid(format!("Ticket type '{id}' not found")))
}

/// `POST /tickets`: `ticket_type_id`, `contacts` (exactly one identifier each; an unknown
/// email creates a lead), optional attributes, company, link, assignment.
pub(super) async fn create(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    create_then(&emulator, &body, |store, t| {
        Ok(Json(render::ticket(store, t)).into_response())
    })
}

/// `POST /tickets/enqueue`: the checks of `POST /tickets`, then a job (`pending` as answered;
/// the ticket is made at once, so `GET /jobs/status/{id}` finds it done).
pub(super) async fn enqueue(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    create_then(&emulator, &body, |store, t| {
        store.jobs.push(t as u32);
        Ok(Json(render::job(store, store.jobs.len() - 1, false)).into_response())
    })
}

/// `GET /jobs/status/{job_id}`.
pub(super) async fn job_status(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let job = id
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_sub(1))
        .filter(|&n| n < guard.jobs.len())
        .ok_or_else(|| ApiError::not_found("job_not_found", "Job Not Found"))?;
    Ok(Json(render::job(&guard, job, true)).into_response())
}

/// Creates the ticket `body` describes and answers with `then`.
fn create_then(
    emulator: &EmulatorState,
    body: &Bytes,
    then: impl FnOnce(&mut Store, usize) -> ApiResult,
) -> ApiResult {
    let body_fields = Body::parse(body)?;
    body_fields.allow(&[
        "ticket_type_id",
        "contacts",
        "ticket_attributes",
        "company_id",
        "created_at",
        "conversation_to_link_id",
        "assignment",
        "skip_notifications",
    ])?;
    let type_id = body_fields.req_id("ticket_type_id")?;
    let contacts = body_fields
        .array("contacts")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| super::body::missing("contacts"))?;
    let mut refs = Vec::new();
    for item in contacts {
        let c = body_fields.item("contacts", item)?;
        c.allow(&["id", "external_id", "email"])?;
        let given: Vec<&str> = ["id", "external_id", "email"]
            .into_iter()
            .filter(|k| c.get(k).is_some())
            .collect();
        let [key] = given.as_slice() else {
            return Err(ApiError::invalid(
                "each contact needs exactly one of id, external_id or email",
            ));
        };
        refs.push((*key, c.req_str(key)?));
    }
    let attributes = body_fields
        .object("ticket_attributes")?
        .cloned()
        .unwrap_or_default();
    let company_id = body_fields.id("company_id")?;
    let link = body_fields.id("conversation_to_link_id")?;
    let created_at = body_fields.int("created_at")?;
    let assignment = body_fields.nested("assignment")?;
    if let Some(a) = &assignment {
        a.allow(&["admin_assignee_id", "team_assignee_id"])?;
    }
    emulator.write(|store| {
        let ty = live_ticket_type(store, &type_id)?;
        check_attributes(&store.ticket_types[ty], &attributes, true)?;
        let company = match &company_id {
            Some(c) => Some(
                store
                    .company_index(c)
                    .ok_or_else(|| ApiError::not_found("company_not_found", "Company Not Found"))?
                    as u32,
            ),
            None => None,
        };
        let linked = match &link {
            Some(c) => Some(store.conversation_index(c).ok_or_else(resource_not_found)? as u32),
            None => None,
        };
        let (mut admin_assignee, mut team_assignee) = (None, None);
        if let Some(a) = &assignment {
            if let Some(id) = a.id("admin_assignee_id")?.filter(|id| id != "0") {
                admin_assignee = Some(admin(store, &id).ok_or_else(assignee_not_found)?);
            }
            if let Some(id) = a.id("team_assignee_id")?.filter(|id| id != "0") {
                team_assignee = Some(store.team_index(&id).ok_or_else(assignee_not_found)? as u32);
            }
        }
        let mut new_emails = Vec::new();
        let mut found = Vec::new();
        for (key, value) in &refs {
            match contact_by(store, key, value) {
                Some(c) => found.push(c),
                None if *key == "email" => new_emails.push(value.clone()),
                None => return Err(user_not_found()),
            }
        }
        let at = created_at.unwrap_or_else(now);
        for email in new_emails {
            let new = NewContact {
                role: "lead",
                email: Some(email),
                external_id: None,
                name: None,
            };
            found.push(create_contact(store, new, now()));
        }
        found.dedup();
        let draft = TicketDraft {
            ticket_type: ty,
            contacts: found,
            attributes,
            company,
            created_at: at,
            admin_assignee,
            team_assignee,
            linked_conversation: linked,
        };
        let t = create_ticket(store, draft)?;
        if let Some(c) = linked {
            store.conversations[c as usize].linked_ticket = Some(t as u32);
        }
        then(store, t)
    })
}

/// A new ticket part; [`push_part`] numbers it and stamps the ticket's current state.
fn part(
    part_type: &'static str,
    body: Option<String>,
    author: Author,
    previous: &'static str,
    assigned_to: Option<Author>,
    at: i64,
) -> TicketPart {
    TicketPart {
        id: 0,
        part_type,
        body,
        previous_state: previous,
        state: previous,
        created_at: at,
        author,
        assigned_to,
    }
}

/// Appends a ticket part in the ticket's current state; its position.
fn push_part(store: &mut Store, t: usize, mut part: TicketPart) -> usize {
    part.id = store.next_ticket_part_id;
    store.next_ticket_part_id += 1;
    part.state = store.ticket_states[store.tickets[t].state as usize].category;
    let ticket = &mut store.tickets[t];
    ticket.updated_at = part.created_at;
    ticket.parts.push(part);
    ticket.parts.len() - 1
}

/// `PUT /tickets/{id}`: attributes, state (a `ticket_state_updated_by_admin` part), `open`
/// (false closes: resolved and unsnoozed), sharing, snooze, company, assignee.
pub(super) async fn update(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&[
        "ticket_attributes",
        "ticket_state_id",
        "company_id",
        "open",
        "is_shared",
        "snoozed_until",
        "admin_id",
        "assignee_id",
        "skip_notifications",
    ])?;
    let attributes = body_fields.object("ticket_attributes")?.cloned();
    let state_id = body_fields.id("ticket_state_id")?;
    let company_id = body_fields.nullable_str("company_id")?;
    let open = body_fields.bool("open")?;
    let is_shared = body_fields.bool("is_shared")?;
    let snoozed_until = body_fields.int("snoozed_until")?;
    let admin_id = body_fields.id("admin_id")?;
    let assignee_id = body_fields.id("assignee_id")?;
    emulator.write(|store| {
        let t = store.ticket_index(&id).ok_or_else(ticket_not_found)?;
        let ty = store.tickets[t].ticket_type as usize;
        if let Some(values) = &attributes {
            check_attributes(&store.ticket_types[ty], values, false)?;
        }
        let actor = match &admin_id {
            Some(a) => admin(store, a).ok_or_else(assignee_not_found)?,
            None => 0,
        };
        let new_state = match &state_id {
            Some(sid) => Some(
                store.ticket_states
                    .iter()
                    .position(|x| x.id.to_string() == *sid)
                    .ok_or_else(|| {
                        ApiError::new(
                            400,
                            "ticket_state_id_invalid",
                            "Ticket state id is not valid or is not associated with the ticket type",
                        )
                    })? as u32,
            ),
            None => None,
        };
        let company = match company_id {
            None => None,
            Some(None) => Some(None),
            Some(Some(c)) => Some(Some(
                store.company_index(&c)
                    .ok_or_else(|| ApiError::not_found("company_not_found", "Company Not Found"))?
                    as u32,
            )),
        };
        let assignee = match assignee_id.as_deref() {
            None => None,
            Some("0") => Some(None),
            Some(a) => match (admin(store, a), store.team_index(a)) {
                (Some(x), _) => Some(Some(Author::Admin(x))),
                (None, Some(x)) => Some(Some(Author::Team(x as u32))),
                (None, None) => return Err(assignee_not_found()),
            },
        };
        let at = now();
        let resolved = store
            .ticket_states
            .iter()
            .position(|x| x.category == "resolved")
            .map(|x| x as u32);
        let submitted = store
            .ticket_states
            .iter()
            .position(|x| x.category == "submitted")
            .map(|x| x as u32);
        let previous = store.ticket_states[store.tickets[t].state as usize].category;
        let target_state = match (new_state, open) {
            (Some(state), _) => Some(state),
            (None, Some(false)) => resolved,
            (None, Some(true)) if Some(store.tickets[t].state) == resolved => submitted,
            _ => None,
        };
        let ticket = &mut store.tickets[t];
        if let Some(values) = attributes {
            merge_attributes(&mut ticket.attributes, values);
        }
        if let Some(state) = target_state {
            ticket.state = state;
        }
        if let Some(open) = open {
            ticket.open = open;
            if !open {
                ticket.snoozed_until = None;
            }
        }
        if let Some(shared) = is_shared {
            ticket.is_shared = shared;
        }
        if let Some(until) = snoozed_until {
            ticket.snoozed_until = Some(until);
        }
        if let Some(company) = company {
            ticket.company = company;
        }
        match assignee {
            Some(None) => {
                ticket.admin_assignee = None;
                ticket.team_assignee = None;
            }
            Some(Some(Author::Admin(a))) => ticket.admin_assignee = Some(a),
            Some(Some(Author::Team(x))) => ticket.team_assignee = Some(x),
            _ => {}
        }
        ticket.updated_at = at;
        if let Some(state) = target_state {
            let category = store.ticket_states[state as usize].category;
            store.tickets[t].open = category != "resolved";
            if category != previous {
                let p = part(
                    "ticket_state_updated_by_admin",
                    None,
                    Author::Admin(actor),
                    previous,
                    None,
                    at,
                );
                push_part(store, t, p);
            }
        }
        if let Some(to) = assignee {
            let current = store.ticket_states[store.tickets[t].state as usize].category;
            let p = part("assignment", None, Author::Admin(actor), current, to, at);
            push_part(store, t, p);
        }
        Ok(Json(render::ticket(store, t)).into_response())
    })
}

/// `DELETE /tickets/{id}`: `{id, object: "ticket", deleted: true}`.
pub(super) async fn delete(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let t = store.ticket_index(&id).ok_or_else(ticket_not_found)?;
        store.tickets[t].deleted = true;
        if let Some(c) = store.tickets[t].linked_conversation.take()
            && let Some(conv) = store.conversations.get_mut(c as usize)
        {
            conv.linked_ticket = None;
        }
        let id = store.tickets[t].id.to_string();
        Ok(Json(json!({"id": id, "object": "ticket", "deleted": true})).into_response())
    })
}

/// `POST /tickets/{id}/reply`: answers the new `ticket_part`, not the ticket
/// (docs/intercom-notes.md, "Writes").
pub(super) async fn reply(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let kind = body_fields.req_enumerated("type", &["admin", "user"])?;
    let mut keys = vec![
        "type",
        "message_type",
        "body",
        "created_at",
        "attachment_urls",
        "reply_options",
        "skip_notifications",
    ];
    if kind == "admin" {
        keys.extend(["admin_id", "cross_post"]);
    } else {
        keys.extend(["intercom_user_id", "user_id", "email"]);
    }
    body_fields.allow(&keys)?;
    let ReplyContent {
        message_type, text, ..
    } = reply_content(&body_fields, kind)?;
    let created_at = body_fields.int("created_at")?;
    emulator.write(|store| {
        let t = store.ticket_index(&id).ok_or_else(resource_not_found)?;
        let author = if kind == "admin" {
            let id = body_fields.req_id("admin_id")?;
            Author::Admin(admin(store, &id).ok_or_else(admin_not_found)?)
        } else {
            let category = store.ticket_types[store.tickets[t].ticket_type as usize].category;
            if category != "Customer" {
                return Err(ApiError::new(
                    400,
                    "parameter_mismatch",
                    "User replies are not allowed on Backoffice tickets",
                ));
            }
            Author::Contact(replying_contact(store, &body_fields)?)
        };
        let at = created_at.unwrap_or_else(now);
        let current = store.ticket_states[store.tickets[t].state as usize].category;
        let body = text.as_deref().map(html);
        let p = push_part(
            store,
            t,
            part(message_type, body, author, current, None, at),
        );
        let mut v = render::ticket_part(store, &store.tickets[t].parts[p]);
        if let Some(obj) = v.as_object_mut() {
            // The reply schema (`ticket_reply`) has no state fields; keep to its shape.
            obj.remove("previous_ticket_state");
            obj.remove("ticket_state");
        }
        Ok(Json(v).into_response())
    })
}

/// `POST /tickets/{id}/tags` `{id, admin_id}`.
pub(super) async fn attach_tag(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["id", "admin_id"])?;
    let tag_id = body_fields.req_id("id")?;
    let admin_id = body_fields.req_id("admin_id")?;
    emulator.write(|store| {
        let t = store.ticket_index(&id).ok_or_else(ticket_not_found)?;
        let actor = admin(store, &admin_id).ok_or_else(admin_not_found)?;
        let tag = store.tag_index(&tag_id).ok_or_else(resource_not_found)?;
        let tagging = add_tag(&mut store.tickets[t].tags, tag as u32, actor, now());
        Ok(Json(render::tag(store, tag, Some(&tagging))).into_response())
    })
}

/// `DELETE /tickets/{id}/tags/{tag_id}` with a JSON body `{admin_id}`.
pub(super) async fn detach_tag(
    State(emulator): State<EmulatorState>,
    Path((id, tag_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["admin_id"])?;
    let admin_id = body_fields.req_id("admin_id")?;
    emulator.write(|store| {
        let t = store.ticket_index(&id).ok_or_else(ticket_not_found)?;
        admin(store, &admin_id).ok_or_else(admin_not_found)?;
        let tag = store
            .tag_index(&tag_id)
            .filter(|&x| store.tickets[t].tags.iter().any(|y| y.tag == x as u32))
            .ok_or_else(|| ApiError::not_found("tag_not_found", "Tag not found"))?;
        remove_tag(&mut store.tickets[t].tags, tag as u32);
        Ok(Json(render::tag(store, tag, None)).into_response())
    })
}
