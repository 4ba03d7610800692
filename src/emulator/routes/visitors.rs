//! Visitors (official spec: `GET /visitors`, docs/intercom-notes.md, "Writes"): look up by
//! `user_id`, convert to a contact.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;

use super::ApiResult;
use super::body::Body;
use super::paging::params;
use super::shared::{NewContact, contact_by, create_contact, now};
use crate::emulator::render;
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

fn visitor_not_found() -> ApiError {
    ApiError::not_found("not_found", "Visitor Not Found")
}

/// A visitor that has not been converted yet, by `id`, `user_id` or `email`.
fn find(store: &Store, key: &str, value: &str) -> Option<usize> {
    store.visitors.iter().position(|v| {
        v.converted_to.is_none()
            && match key {
                "id" => v.id == value,
                "user_id" => v.user_id == value,
                _ => v.email.as_deref() == Some(value),
            }
    })
}

/// `GET /visitors?user_id=…` (no list, no search).
pub(super) async fn get_visitor(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let user_id = p
        .get("user_id")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| super::body::missing("user_id"))?;
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = find(store, "user_id", user_id).ok_or_else(visitor_not_found)?;
    Ok(Json(render::visitor(store, i)).into_response())
}

/// `POST /visitors/convert` `{type: user|lead, visitor: {id|user_id|email}, user: {id|user_id,
/// email?}}`: merged into the contact `user` names when it exists, otherwise promoted to a new
/// contact carrying `user`'s identifiers. The visitor is gone afterwards.
pub(super) async fn convert(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["type", "user", "visitor"])?;
    let role = body_fields.req_enumerated("type", &["user", "lead"])?;
    let visitor = body_fields.req_nested("visitor")?;
    visitor.allow(&["id", "user_id", "email"])?;
    let user = body_fields.req_nested("user")?;
    user.allow(&["id", "user_id", "email"])?;
    let mut visitor_ref = None;
    for key in ["id", "user_id", "email"] {
        if let Some(value) = visitor.str(key)? {
            visitor_ref = Some((key, value));
            break;
        }
    }
    let visitor_ref = visitor_ref.ok_or_else(|| super::body::missing("visitor.id"))?;
    let user_id = user.str("id")?;
    let external_id = user.str("user_id")?;
    let email = user.str("email")?;
    if user_id.is_none() && external_id.is_none() && email.is_none() {
        return Err(super::body::missing("user.id"));
    }
    emulator.write(|store| {
        let v = find(store, visitor_ref.0, &visitor_ref.1).ok_or_else(visitor_not_found)?;
        let existing = match &user_id {
            Some(id) => Some(
                contact_by(store, "id", id)
                    .ok_or_else(|| ApiError::not_found("not_found", "User Not Found"))?,
            ),
            None => external_id
                .as_deref()
                .and_then(|e| contact_by(store, "user_id", e))
                .or_else(|| email.as_deref().and_then(|e| contact_by(store, "email", e))),
        };
        let contact = match existing {
            Some(c) => c,
            None => {
                let visitor = &store.visitors[v];
                let new = NewContact {
                    role,
                    email: email.clone().or_else(|| visitor.email.clone()),
                    external_id: external_id.clone().filter(|_| role == "user"),
                    name: visitor.name.clone(),
                };
                create_contact(store, new, now())
            }
        };
        store.visitors[v].converted_to = Some(contact);
        store.contacts[contact as usize].updated_at = now();
        Ok(Json(render::contact(store, contact as usize)).into_response())
    })
}

/// `PUT /visitors` `{id | user_id, name?, custom_attributes?}`: the visitor, updated.
pub(super) async fn update(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["id", "user_id", "name", "custom_attributes"])?;
    let key = match (body_fields.str("id")?, body_fields.str("user_id")?) {
        (Some(id), _) => ("id", id),
        (None, Some(user_id)) => ("user_id", user_id),
        (None, None) => return Err(super::body::missing("id")),
    };
    let name = body_fields.nullable_str("name")?;
    let custom = body_fields.object("custom_attributes")?.cloned();
    emulator.write(|store| {
        let i = find(store, key.0, &key.1).ok_or_else(visitor_not_found)?;
        let v = &mut store.visitors[i];
        if let Some(name) = name {
            v.name = name;
        }
        if let Some(custom) = custom {
            v.custom_attributes.extend(custom);
        }
        v.updated_at = now();
        Ok(Json(render::visitor(store, i)).into_response())
    })
}
