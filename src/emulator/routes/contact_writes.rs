//! Contact writes (docs/intercom-notes.md, "Writes"): create, update, delete, merge, archive,
//! unarchive, block, and attaching tags, companies, subscriptions and notes.
//!
//! Emulator decisions where Intercom's behaviour is unconfirmed: archived contacts are hidden
//! like deleted ones (lists, search, get-by-id, sub-resources) but can be unarchived or deleted;
//! duplicate detection on create/update covers `external_id` on any contact and `email` among
//! users (leads may share an email), archived contacts included (docs/intercom-notes.md, "Writes").

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::shared::{
    NewContact, add_tag, admin, apply_custom, create_contact, custom_changes, html, insert_sorted,
    now, remove_tag, remove_value, resource_not_found, unknown_attribute, user_not_found,
};
use crate::emulator::render;
use crate::emulator::store::{AttrValue, Contact, ContactState, Note, Store, next_numeric_id};
use crate::emulator::{ApiError, EmulatorState};

/// Body keys of `POST /contacts` and `PUT /contacts/{id}` (`create_contact_request`).
const CONTACT_KEYS: &[&str] = &[
    "role",
    "external_id",
    "email",
    "phone",
    "name",
    "avatar",
    "signed_up_at",
    "last_seen_at",
    "owner_id",
    "unsubscribed_from_emails",
    "custom_attributes",
];

/// A validated contact create/update: `None` = leave alone, `Some(None)` = clear.
#[derive(Default)]
struct ContactChanges {
    role: Option<&'static str>,
    email: Option<Option<String>>,
    external_id: Option<Option<String>>,
    phone: Option<Option<String>>,
    name: Option<Option<String>>,
    avatar: Option<Option<String>>,
    signed_up_at: Option<Option<i64>>,
    last_seen_at: Option<Option<i64>>,
    owner_id: Option<Option<u64>>,
    unsubscribed_from_emails: Option<bool>,
    custom: Vec<(u32, Option<AttrValue>)>,
}

fn nullable_int(body_fields: &Body, key: &str) -> Result<Option<Option<i64>>, ApiError> {
    if body_fields.has(key) && body_fields.get(key).is_none() {
        return Ok(Some(None));
    }
    Ok(body_fields.int(key)?.map(Some))
}

fn contact_changes(store: &Store, body_fields: &Body) -> Result<ContactChanges, ApiError> {
    body_fields.allow(CONTACT_KEYS)?;
    let owner_id = match nullable_int(body_fields, "owner_id")? {
        Some(Some(id)) => {
            let a = admin(store, &id.to_string())
                .ok_or_else(|| ApiError::invalid(format!("owner_id {id} is not a teammate")))?;
            Some(Some(store.admins[a as usize].id))
        }
        Some(None) => Some(None),
        None => None,
    };
    let custom = match body_fields.object("custom_attributes")? {
        Some(values) => custom_changes(store, "contact", values, unknown_attribute)?,
        None => Vec::new(),
    };
    Ok(ContactChanges {
        role: body_fields.enumerated("role", &["user", "lead"])?,
        email: body_fields.nullable_str("email")?,
        external_id: body_fields
            .nullable_str("external_id")?
            .map(|e| e.filter(|e| !e.is_empty())),
        phone: body_fields.nullable_str("phone")?,
        name: body_fields.nullable_str("name")?,
        avatar: body_fields.nullable_str("avatar")?,
        signed_up_at: nullable_int(body_fields, "signed_up_at")?,
        last_seen_at: nullable_int(body_fields, "last_seen_at")?,
        owner_id,
        unsubscribed_from_emails: body_fields.bool("unsubscribed_from_emails")?,
        custom,
    })
}

/// `409 conflict` when another (live or archived) contact already holds the external id, or,
/// for users, the email (docs/intercom-notes.md, "Writes").
fn check_duplicates(
    s: &Store,
    me: Option<usize>,
    role: &str,
    email: Option<&str>,
    external_id: Option<&str>,
) -> Result<(), ApiError> {
    let exists = |i: usize| {
        Some(i) != me
            && matches!(
                s.contacts[i].state,
                ContactState::Active | ContactState::Archived
            )
    };
    let by_external = external_id
        .and_then(|e| s.contact_by_external_id.get(e))
        .map(|i| *i as usize)
        .filter(|&i| exists(i));
    let by_email = || {
        let email = email.filter(|_| role == "user")?;
        s.contacts.iter().enumerate().position(|(i, c)| {
            exists(i)
                && c.role == "user"
                && c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    };
    match by_external.or_else(by_email) {
        Some(i) => {
            let c = &s.contacts[i];
            let which = if c.state == ContactState::Archived {
                "An archived contact"
            } else {
                "A contact"
            };
            Err(ApiError::new(
                409,
                "conflict",
                format!(
                    "{which} matching those details already exists with id={}",
                    c.id
                ),
            ))
        }
        None => Ok(()),
    }
}

fn apply_changes(c: &mut Contact, ch: ContactChanges, at: i64) {
    if let Some(role) = ch.role {
        c.role = role;
    }
    if let Some(v) = ch.email {
        c.email = v;
    }
    if let Some(v) = ch.external_id {
        c.external_id = v;
    }
    if let Some(v) = ch.phone {
        c.phone = v;
    }
    if let Some(v) = ch.name {
        c.name = v;
    }
    if let Some(v) = ch.avatar {
        c.avatar = v;
    }
    if let Some(v) = ch.signed_up_at {
        c.signed_up_at = v;
    }
    if let Some(v) = ch.last_seen_at {
        c.last_seen_at = v;
    }
    if let Some(v) = ch.owner_id {
        c.owner_id = v;
    }
    if let Some(v) = ch.unsubscribed_from_emails {
        c.unsubscribed_from_emails = v;
    }
    apply_custom(&mut c.custom, ch.custom);
    c.updated_at = at;
}

fn render_contact(store: &Store, i: usize) -> ApiResult {
    Ok(Json(render::contact(store, i)).into_response())
}

/// `POST /contacts`: at least one of `email`, `external_id`, `role`; role defaults to `user`.
pub(super) async fn create(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    emulator.write(|store| {
        let ch = contact_changes(store, &body_fields)?;
        if ch.role.is_none()
            && ch.email.clone().flatten().is_none()
            && ch.external_id.clone().flatten().is_none()
        {
            return Err(ApiError::new(
                400,
                "parameter_not_found",
                "one of email, external_id or role is required",
            ));
        }
        let role = ch.role.unwrap_or("user");
        let email = ch.email.clone().flatten();
        let external_id = ch.external_id.clone().flatten();
        check_duplicates(store, None, role, email.as_deref(), external_id.as_deref())?;
        let at = now();
        let i = create_contact(
            store,
            NewContact {
                role,
                email: None,
                external_id: None,
                name: None,
            },
            at,
        ) as usize;
        if let Some(ext) = &external_id {
            store.contact_by_external_id.insert(ext.clone(), i as u32);
        }
        apply_changes(&mut store.contacts[i], ch, at);
        render_contact(store, i)
    })
}

/// `PUT /contacts/{id}`: partial update of a live contact.
pub(super) async fn update(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let ch = contact_changes(store, &body_fields)?;
        let c = &store.contacts[i];
        let role = ch.role.unwrap_or(c.role);
        let email = ch.email.clone().unwrap_or_else(|| c.email.clone());
        let external_id = ch
            .external_id
            .clone()
            .unwrap_or_else(|| c.external_id.clone());
        check_duplicates(
            store,
            Some(i),
            role,
            email.as_deref(),
            external_id.as_deref(),
        )?;
        if let Some(old) = &c.external_id
            && external_id.as_ref() != Some(old)
        {
            let old = old.clone();
            store.contact_by_external_id.remove(&old);
        }
        if let Some(ext) = &external_id {
            store.contact_by_external_id.insert(ext.clone(), i as u32);
        }
        apply_changes(&mut store.contacts[i], ch, now());
        render_contact(store, i)
    })
}

/// `{type, id, external_id, <flag>: value}`: the answer of delete/archive/unarchive/block.
fn contact_flag(c: &Contact, flag: &str, value: bool) -> Value {
    let mut v = json!({"type": "contact", "id": c.id, "external_id": c.external_id});
    if let Some(obj) = v.as_object_mut() {
        obj.insert(flag.to_string(), Value::Bool(value));
    }
    v
}

/// Detaches a contact that leaves the workspace from its companies' member lists.
fn leave_companies(store: &mut Store, i: usize) {
    let companies = std::mem::take(&mut store.contacts[i].companies);
    for company in companies {
        if let Some(c) = store.companies.get_mut(company as usize) {
            remove_value(&mut c.contacts, i as u32);
        }
    }
}

/// `DELETE /contacts/{id}` (archived contacts can be deleted too).
pub(super) async fn delete(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store.contact_index_any(&id).ok_or_else(user_not_found)?;
        leave_companies(store, i);
        let c = &mut store.contacts[i];
        c.state = ContactState::Deleted;
        let body = contact_flag(c, "deleted", true);
        if let Some(ext) = c.external_id.clone() {
            store.contact_by_external_id.remove(&ext);
        }
        store.refresh_indexes();
        Ok(Json(body).into_response())
    })
}

/// `POST /contacts/{id}/archive` (idempotent).
pub(super) async fn archive(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    set_archived(&emulator, &id, true)
}

/// `POST /contacts/{id}/unarchive` (idempotent).
pub(super) async fn unarchive(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    set_archived(&emulator, &id, false)
}

fn set_archived(emulator: &EmulatorState, id: &str, archived: bool) -> ApiResult {
    emulator.write(|store| {
        let i = store.contact_index_any(id).ok_or_else(user_not_found)?;
        let c = &mut store.contacts[i];
        c.state = if archived {
            ContactState::Archived
        } else {
            ContactState::Active
        };
        c.updated_at = now();
        let body = contact_flag(c, "archived", archived);
        store.refresh_indexes();
        Ok(Json(body).into_response())
    })
}

/// `POST /contacts/{id}/block`: also archives the contact's conversations (docs/intercom-notes.md,
/// "Writes"), which then leave lists, search and get-by-id. There is no unblock in 2.15.
pub(super) async fn block(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store.contact_index_any(&id).ok_or_else(user_not_found)? as u32;
        for conv in store.conversations.iter_mut() {
            if conv.contacts.contains(&i) {
                conv.archived = true;
            }
        }
        let c = &mut store.contacts[i as usize];
        c.blocked = true;
        c.updated_at = now();
        Ok(Json(contact_flag(c, "blocked", true)).into_response())
    })
}

/// `POST /contacts/merge`: a lead (`from`) into a user (`into`). Tags, companies, notes,
/// subscriptions, conversations and tickets move to `into`; `from` then 404s everywhere.
pub(super) async fn merge(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["from", "into"])?;
    let from_id = body_fields.req_id("from")?;
    let into_id = body_fields.req_id("into")?;
    emulator.write(|store| {
        let from = store.contact_index(&from_id).ok_or_else(user_not_found)?;
        let into = store.contact_index(&into_id).ok_or_else(user_not_found)?;
        if from == into {
            return Err(ApiError::invalid(
                "from and into must be different contacts",
            ));
        }
        if store.contacts[from].role != "lead" {
            return Err(ApiError::invalid(
                "the contact to merge from must be a lead",
            ));
        }
        if store.contacts[into].role != "user" {
            return Err(ApiError::invalid(
                "the contact to merge into must be a user",
            ));
        }
        let (from32, into32) = (from as u32, into as u32);
        let moved = std::mem::take(&mut store.contacts[from].tags);
        for t in moved {
            add_tag(&mut store.contacts[into].tags, t.tag, t.admin, t.applied_at);
        }
        let companies = std::mem::take(&mut store.contacts[from].companies);
        for company in companies {
            insert_sorted(&mut store.contacts[into].companies, company);
            if let Some(c) = store.companies.get_mut(company as usize) {
                remove_value(&mut c.contacts, from32);
                insert_sorted(&mut c.contacts, into32);
            }
        }
        let notes = std::mem::take(&mut store.contacts[from].notes);
        for n in &notes {
            if let Some(note) = store.notes.get_mut(*n as usize) {
                note.contact = Some(into32);
            }
        }
        store.contacts[into].notes.extend(notes);
        let subscriptions = std::mem::take(&mut store.contacts[from].subscriptions);
        for (sub, consent) in subscriptions {
            let target = &mut store.contacts[into].subscriptions;
            if !target.iter().any(|(x, _)| *x == sub) {
                target.push((sub, consent));
            }
        }
        for conv in store.conversations.iter_mut() {
            if remove_value(&mut conv.contacts, from32) {
                insert_sorted(&mut conv.contacts, into32);
            }
        }
        for ticket in store.tickets.iter_mut() {
            if remove_value(&mut ticket.contacts, from32) {
                insert_sorted(&mut ticket.contacts, into32);
            }
        }
        store.contacts[from].state = ContactState::Merged(into32);
        if let Some(ext) = store.contacts[from].external_id.clone() {
            store.contact_by_external_id.remove(&ext);
        }
        store.contacts[into].updated_at = now();
        store.refresh_indexes();
        render_contact(store, into)
    })
}

/// `POST /contacts/{id}/tags` `{id}`: the tag with `applied_at`/`applied_by`.
pub(super) async fn attach_tag(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["id"])?;
    let tag_id = body_fields.req_id("id")?;
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let tag = store.tag_index(&tag_id).ok_or_else(resource_not_found)?;
        let at = now();
        let tagging = add_tag(&mut store.contacts[i].tags, tag as u32, 0, at);
        Ok(Json(render::tag(store, tag, Some(&tagging))).into_response())
    })
}

/// `DELETE /contacts/{id}/tags/{tag_id}`: the removed tag.
pub(super) async fn detach_tag(
    State(emulator): State<EmulatorState>,
    Path((id, tag_id)): Path<(String, String)>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let tag = store.tag_index(&tag_id).ok_or_else(resource_not_found)?;
        remove_tag(&mut store.contacts[i].tags, tag as u32);
        Ok(Json(render::tag(store, tag, None)).into_response())
    })
}

/// Company associations one contact may hold (official spec: `GET /contacts/{id}/companies`).
const MAX_CONTACT_COMPANIES: usize = 1000;

/// `POST /contacts/{id}/companies` `{id}` (Intercom company id): the company.
pub(super) async fn attach_company(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["id"])?;
    let company_id = body_fields
        .id("id")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::new(400, "parameter_not_found", "company not specified"))?;
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let company = store
            .company_index(&company_id)
            .ok_or_else(|| ApiError::not_found("company_not_found", "Company Not Found"))?;
        let c = &store.contacts[i];
        if c.companies.len() >= MAX_CONTACT_COMPANIES && !c.companies.contains(&(company as u32)) {
            return Err(ApiError::new(
                400,
                "contact_company_limit_exceeded",
                "Contact has reached the maximum of 1000 company associations",
            ));
        }
        insert_sorted(&mut store.contacts[i].companies, company as u32);
        insert_sorted(&mut store.companies[company].contacts, i as u32);
        store.companies[company].updated_at = now();
        store.refresh_indexes();
        Ok(Json(render::company(store, company)).into_response())
    })
}

/// `DELETE /contacts/{id}/companies/{company_id}`: the company.
pub(super) async fn detach_company(
    State(emulator): State<EmulatorState>,
    Path((id, company_id)): Path<(String, String)>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let company = store
            .company_index(&company_id)
            .filter(|&c| store.contacts[i].companies.contains(&(c as u32)))
            .ok_or_else(|| ApiError::not_found("company_not_found", "Company Not Found"))?;
        remove_value(&mut store.contacts[i].companies, company as u32);
        remove_value(&mut store.companies[company].contacts, i as u32);
        store.refresh_indexes();
        Ok(Json(render::company(store, company)).into_response())
    })
}

/// `GET /contacts/{id}/subscriptions`: the contact's explicit choices only (official spec: `GET
/// /contacts/{id}/subscriptions`).
pub(super) async fn list_subscriptions(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.contacts[store.contact_index(&id).ok_or_else(user_not_found)?];
    let data: Vec<Value> = c
        .subscriptions
        .iter()
        .filter_map(|(sub, _)| store.subscription_types.get(*sub as usize))
        .map(render::subscription_type)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

/// `POST /contacts/{id}/subscriptions` `{id, consent_type}`: the subscription type.
pub(super) async fn attach_subscription(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["id", "consent_type"])?;
    let sub_id = body_fields.req_id("id")?;
    let consent = body_fields.req_enumerated("consent_type", &["opt_in", "opt_out"])?;
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let sub = store
            .subscription_type_index(&sub_id)
            .ok_or_else(resource_not_found)?;
        let choices = &mut store.contacts[i].subscriptions;
        match choices.iter_mut().find(|(x, _)| *x == sub as u32) {
            Some(choice) => choice.1 = consent,
            None => choices.push((sub as u32, consent)),
        }
        store.contacts[i].updated_at = now();
        Ok(Json(render::subscription_type(&store.subscription_types[sub])).into_response())
    })
}

/// `DELETE /contacts/{id}/subscriptions/{subscription_id}`: the subscription type.
pub(super) async fn detach_subscription(
    State(emulator): State<EmulatorState>,
    Path((id, sub_id)): Path<(String, String)>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        let sub = store
            .subscription_type_index(&sub_id)
            .ok_or_else(resource_not_found)?;
        store.contacts[i]
            .subscriptions
            .retain(|(x, _)| *x != sub as u32);
        Ok(Json(render::subscription_type(&store.subscription_types[sub])).into_response())
    })
}

/// `POST /contacts/{id}/notes` `{body, admin_id?}`: the note, body wrapped in `<p>…</p>`.
pub(super) async fn create_note(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["body", "admin_id", "contact_id"])?;
    let text = body_fields.req_text("body")?;
    let admin_id = body_fields.id("admin_id")?;
    emulator.write(|store| {
        let i = store.contact_index(&id).ok_or_else(user_not_found)?;
        // Without `admin_id` the note is by the token's admin (`/me`, admin #1).
        let author = match &admin_id {
            Some(a) => admin(store, a).ok_or_else(resource_not_found)?,
            None => 0,
        };
        let note = store.notes.len() as u32;
        store.notes.push(Note {
            id: next_numeric_id(&store.notes, |n| n.id, 3_100_001),
            created_at: now(),
            contact: Some(i as u32),
            company: None,
            author,
            body: html(&text),
        });
        store.contacts[i].notes.push(note);
        Ok(Json(render::note(store, note as usize)).into_response())
    })
}

/// `GET /subscription_types` (official spec: `GET /subscription_types`).
pub(super) async fn list_subscription_types(State(emulator): State<EmulatorState>) -> ApiResult {
    let guard = emulator.store();
    let data: Vec<Value> = guard
        .subscription_types
        .iter()
        .map(render::subscription_type)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}
