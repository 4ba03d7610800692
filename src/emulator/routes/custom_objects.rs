//! Custom object instances (official spec: `createCustomObjectInstances`,
//! `getCustomObjectInstancesByExternalId`, `getCustomObjectInstancesById`, and the two
//! deletes). Intercom has no list of instances: each is reached by its type and its id or
//! external id. The workspace's types are fixed by the seed (`Order`, `Subscription`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::paging::params;
use super::shared::now;
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

/// The object types the emulated workspace declares.
pub(crate) const TYPES: [&str; 2] = ["Order", "Subscription"];

fn known_type(kind: &str) -> Result<(), ApiError> {
    match TYPES.contains(&kind) {
        true => Ok(()),
        false => Err(ApiError::not_found(
            "not_found",
            &format!("Custom object type `{kind}` not found"),
        )),
    }
}

fn instance_not_found() -> ApiError {
    ApiError::not_found("not_found", "Custom object instance not found")
}

/// The position of the instance of `kind` whose `field` is `value`.
fn position(store: &Store, kind: &str, field: &str, value: &str) -> Result<usize, ApiError> {
    known_type(kind)?;
    store
        .custom_objects
        .iter()
        .position(|o| o["type"] == kind && o[field] == value)
        .ok_or_else(instance_not_found)
}

fn external_id(q: Option<String>) -> Result<String, ApiError> {
    params(q)
        .get("external_id")
        .filter(|v| !v.trim().is_empty())
        .cloned()
        .ok_or_else(|| super::body::missing("external_id"))
}

pub(super) async fn by_external_id(
    State(emulator): State<EmulatorState>,
    Path(kind): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let external = external_id(q)?;
    let guard = emulator.store();
    let i = position(&guard, &kind, "external_id", &external)?;
    Ok(Json(guard.custom_objects[i].clone()).into_response())
}

pub(super) async fn by_id(
    State(emulator): State<EmulatorState>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult {
    let guard = emulator.store();
    let i = position(&guard, &kind, "id", id.trim())?;
    Ok(Json(guard.custom_objects[i].clone()).into_response())
}

/// `POST /custom_object_instances/{type}`: creates the instance, or updates the one with the
/// same `external_id`.
pub(super) async fn create_or_update(
    State(emulator): State<EmulatorState>,
    Path(kind): Path<String>,
    body: Bytes,
) -> ApiResult {
    known_type(&kind)?;
    let b = Body::parse(&body)?;
    b.allow(&[
        "external_id",
        "external_created_at",
        "external_updated_at",
        "custom_attributes",
    ])?;
    let external = b.req_str("external_id")?;
    let created = b.int("external_created_at")?;
    let updated = b.int("external_updated_at")?;
    let attributes = b.object("custom_attributes")?.cloned().unwrap_or_default();
    emulator.write(|store| {
        let at = now();
        let existing = store
            .custom_objects
            .iter()
            .position(|o| o["type"] == kind.as_str() && o["external_id"] == external.as_str());
        let i = match existing {
            Some(i) => i,
            None => {
                let id = store
                    .custom_objects
                    .iter()
                    .filter_map(|o| o["id"].as_str()?.parse::<u64>().ok())
                    .max()
                    .map_or(22, |m| m + 1);
                store.custom_objects.push(json!({
                    "id": id.to_string(), "type": kind, "external_id": external,
                    "external_created_at": null, "external_updated_at": null,
                    "custom_attributes": {}, "created_at": at,
                }));
                store.custom_objects.len() - 1
            }
        };
        let object = &mut store.custom_objects[i];
        if let Some(t) = created {
            object["external_created_at"] = json!(t);
        }
        if let Some(t) = updated {
            object["external_updated_at"] = json!(t);
        }
        for (k, v) in attributes {
            object["custom_attributes"][k.as_str()] = v;
        }
        object["updated_at"] = json!(at);
        Ok(Json(object.clone()).into_response())
    })
}

fn delete_at(store: &mut Store, kind: &str, i: usize) -> Value {
    let gone = store.custom_objects.remove(i);
    json!({"id": gone["id"], "object": kind, "deleted": true})
}

pub(super) async fn delete_by_external_id(
    State(emulator): State<EmulatorState>,
    Path(kind): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let external = external_id(q)?;
    emulator.write(|store| {
        let i = position(store, &kind, "external_id", &external)?;
        Ok(Json(delete_at(store, &kind, i)).into_response())
    })
}

pub(super) async fn delete_by_id(
    State(emulator): State<EmulatorState>,
    Path((kind, id)): Path<(String, String)>,
) -> ApiResult {
    emulator.write(|store| {
        let i = position(store, &kind, "id", id.trim())?;
        Ok(Json(delete_at(store, &kind, i)).into_response())
    })
}
