//! Tags: list, get, the `POST /tags` multiplexer and delete (official spec: `GET /tags`,
//! docs/intercom-notes.md, "Writes").

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::body::Body;
use super::shared::{add_tag, now, remove_tag, user_not_found};
use super::{ApiResult, resource_not_found};
use crate::emulator::render;
use crate::emulator::store::{Store, Tag, next_numeric_id};
use crate::emulator::{ApiError, EmulatorState};

pub(super) async fn list_tags(State(emulator): State<EmulatorState>) -> Json<Value> {
    let guard = emulator.store();
    let store: &Store = &guard;
    let tags: Vec<Value> = (0..store.tags.len())
        .filter(|&i| !store.tags[i].deleted)
        .map(|i| render::tag(store, i, None))
        .collect();
    Json(json!({"type": "list", "data": tags}))
}

pub(super) async fn get_tag(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store.tag_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::tag(store, i, None)).into_response())
}

fn invalid_tag_parameters() -> ApiError {
    ApiError::invalid("invalid tag parameters")
}

/// The tag named `name` (case-insensitive, official spec: `GET /tags`), created when missing.
fn tag_named(store: &mut Store, name: &str) -> usize {
    if let Some(i) = store
        .tags
        .iter()
        .position(|t| !t.deleted && t.name.eq_ignore_ascii_case(name))
    {
        return i;
    }
    store.tags.push(Tag {
        id: next_numeric_id(&store.tags, |t| t.id, 8_000_001),
        name: name.to_string(),
        deleted: false,
    });
    store.tags.len() - 1
}

/// A company of a `companies` item: `{id}` (Intercom id) or `{company_id}`; plus `untag`.
fn company_item(
    store: &Store,
    body_fields: &Body,
    item: &Value,
) -> Result<(usize, bool), ApiError> {
    let item = body_fields.item("companies", item)?;
    item.allow(&["id", "company_id", "untag"])?;
    let untag = item.bool("untag")?.unwrap_or(false);
    let found = match (item.id("id")?, item.id("company_id")?) {
        (Some(id), _) => store.company_index(&id),
        (None, Some(company_id)) => store
            .companies
            .iter()
            .position(|c| !c.deleted && c.company_id == company_id),
        (None, None) => return Err(invalid_tag_parameters()),
    };
    let i = found.ok_or_else(|| ApiError::not_found("company_not_found", "Company Not Found"))?;
    Ok((i, untag))
}

/// `POST /tags`, a multiplexer (docs/intercom-notes.md, "Writes"): create `{name}`, rename `{id,
/// name}`, tag or untag companies `{name, companies: [...]}`, tag contacts `{name, users: [{id}]}`.
/// Every form answers `{type: "tag", id, name}`; bodies that fit none are `400 parameter_invalid`
/// "invalid tag parameters".
pub(super) async fn post_tags(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    if body_fields
        .keys()
        .any(|k| !["name", "id", "companies", "users"].contains(&k))
    {
        return Err(invalid_tag_parameters());
    }
    let name = body_fields
        .str("name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(invalid_tag_parameters)?;
    let companies = body_fields.array("companies")?;
    let users = body_fields.array("users")?;
    let id = body_fields.id("id")?;
    if companies.is_some() && users.is_some() {
        return Err(invalid_tag_parameters());
    }
    emulator.write(|store| {
        let at = now();
        let tag = if let Some(items) = companies {
            let targets = items
                .iter()
                .map(|item| company_item(store, &body_fields, item))
                .collect::<Result<Vec<_>, _>>()?;
            let tag = tag_named(store, &name);
            for (company, untag) in targets {
                let tags = &mut store.companies[company].tags;
                if untag {
                    remove_tag(tags, tag as u32);
                } else {
                    add_tag(tags, tag as u32, 0, at);
                }
            }
            tag
        } else if let Some(items) = users {
            let targets = items
                .iter()
                .map(|item| {
                    let item = body_fields.item("users", item)?;
                    item.allow(&["id"])?;
                    let id = item.req_id("id")?;
                    store.contact_index(&id).ok_or_else(user_not_found)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let tag = tag_named(store, &name);
            for contact in targets {
                add_tag(&mut store.contacts[contact].tags, tag as u32, 0, at);
            }
            tag
        } else if let Some(id) = id {
            let tag = store.tag_index(&id).ok_or_else(resource_not_found)?;
            store.tags[tag].name = name.clone();
            tag
        } else {
            tag_named(store, &name)
        };
        let t = &store.tags[tag];
        Ok(Json(json!({"type": "tag", "id": t.id.to_string(), "name": t.name})).into_response())
    })
}

/// `DELETE /tags/{id}`: `200` with an empty body (docs/intercom-notes.md, "Ids and timestamps");
/// the tag leaves every object.
pub(super) async fn delete_tag(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let tag = store.tag_index(&id).ok_or_else(resource_not_found)? as u32;
        store.tags[tag as usize].deleted = true;
        for c in store.contacts.iter_mut() {
            remove_tag(&mut c.tags, tag);
        }
        for c in store.companies.iter_mut() {
            remove_tag(&mut c.tags, tag);
        }
        for c in store.conversations.iter_mut() {
            remove_tag(&mut c.tags, tag);
        }
        for t in store.tickets.iter_mut() {
            remove_tag(&mut t.tags, tag);
        }
        Ok(StatusCode::OK.into_response())
    })
}
