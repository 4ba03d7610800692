//! Ticket types and their attributes (official spec: `GET /ticket_types`, docs/intercom-notes.md,
//! "Writes"): list, get, create, update; attribute create and update; and `GET /ticket_states`
//! (official spec: `GET /ticket_types/{id}`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::ApiResult;
use super::body::Body;
use super::shared::{now, resource_not_found};
use crate::emulator::render;
use crate::emulator::seed::default_ticket_attributes;
use crate::emulator::store::{Store, TicketType, TicketTypeAttribute, next_numeric_id};
use crate::emulator::{ApiError, EmulatorState};

/// `GET /ticket_types` (official spec: `GET /ticket_types`).
pub(super) async fn list_types(State(emulator): State<EmulatorState>) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let data: Vec<Value> = store
        .ticket_types
        .iter()
        .map(|t| render::ticket_type(store, t))
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

/// `GET /ticket_types/{id}`.
pub(super) async fn get_type(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let t = store
        .ticket_type_index(&id)
        .ok_or_else(resource_not_found)?;
    Ok(Json(render::ticket_type(store, &store.ticket_types[t])).into_response())
}

/// `GET /ticket_states` (official spec: `GET /ticket_types/{id}`), each with the (slim) ticket
/// types it belongs to.
pub(super) async fn list_states(State(emulator): State<EmulatorState>) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let types: Vec<Value> = store
        .ticket_types
        .iter()
        .map(|t| {
            json!({"type": "ticket_type", "id": t.id.to_string(), "name": t.name,
                   "description": t.description, "icon": t.icon, "archived": t.archived,
                   "is_internal": t.is_internal, "category": t.category})
        })
        .collect();
    let data: Vec<Value> = store
        .ticket_states
        .iter()
        .map(|x| {
            json!({"type": "ticket_state", "id": x.id.to_string(), "category": x.category,
                   "internal_label": x.internal_label, "external_label": x.external_label,
                   "archived": false,
                   "ticket_types": {"type": "list", "data": types}})
        })
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

const CATEGORIES: &[&str] = &["Customer", "Back-office", "Tracker"];

/// `POST /ticket_types` `{name, description?, category?, icon?, is_internal?}`; starts with
/// `_default_title_` and `_default_description_` (docs/intercom-notes.md, "Writes").
pub(super) async fn create_type(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["name", "description", "category", "icon", "is_internal"])?;
    let name = body_fields.req_text("name")?;
    let description = body_fields.str("description")?.unwrap_or_default();
    let category = body_fields
        .enumerated("category", CATEGORIES)?
        .unwrap_or("Customer");
    let icon = body_fields.str("icon")?.unwrap_or_else(|| "🎟️".to_string());
    let is_internal = body_fields.bool("is_internal")?.unwrap_or(false);
    emulator.write(|store| {
        let at = now();
        let first_attr = next_attribute_id(store);
        store.ticket_types.push(TicketType {
            id: next_numeric_id(&store.ticket_types, |t| t.id, 95),
            name,
            description,
            icon,
            category,
            is_internal,
            archived: false,
            created_at: at,
            updated_at: at,
            attributes: default_ticket_attributes(first_attr, at),
        });
        let t = store.ticket_types.last().ok_or_else(resource_not_found)?;
        Ok(Json(render::ticket_type(store, t)).into_response())
    })
}

/// `PUT /ticket_types/{id}`.
pub(super) async fn update_type(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&[
        "name",
        "description",
        "category",
        "icon",
        "archived",
        "is_internal",
    ])?;
    let name = body_fields.str("name")?.filter(|n| !n.trim().is_empty());
    let description = body_fields.str("description")?;
    let category = body_fields.enumerated("category", CATEGORIES)?;
    let icon = body_fields.str("icon")?;
    let archived = body_fields.bool("archived")?;
    let is_internal = body_fields.bool("is_internal")?;
    emulator.write(|store| {
        let t = store
            .ticket_type_index(&id)
            .ok_or_else(resource_not_found)?;
        let ty = &mut store.ticket_types[t];
        if let Some(v) = name {
            ty.name = v;
        }
        if let Some(v) = description {
            ty.description = v;
        }
        if let Some(v) = category {
            ty.category = v;
        }
        if let Some(v) = icon {
            ty.icon = v;
        }
        if let Some(v) = archived {
            ty.archived = v;
        }
        if let Some(v) = is_internal {
            ty.is_internal = v;
        }
        ty.updated_at = now();
        Ok(Json(render::ticket_type(store, &store.ticket_types[t])).into_response())
    })
}

/// Attribute ids are unique across ticket types.
fn next_attribute_id(store: &Store) -> u64 {
    store
        .ticket_types
        .iter()
        .flat_map(|t| t.attributes.iter().map(|a| a.id + 1))
        .max()
        .unwrap_or(200)
}

const DATA_TYPES: &[&str] = &[
    "string", "list", "integer", "decimal", "boolean", "datetime", "files",
];

/// `input_options` from `multiline` (strings), `list_items` (lists, comma-separated) and
/// `allow_multiple_values` (files); `None` when the body sets none of them.
fn input_options(body_fields: &Body, data_type: &str) -> Result<Option<Value>, ApiError> {
    let mut options = Map::new();
    if let Some(m) = body_fields.bool("multiline")? {
        if data_type != "string" {
            return Err(ApiError::invalid(
                "'multiline' only applies to string attributes",
            ));
        }
        options.insert("multiline".into(), json!(m));
    }
    if let Some(items) = body_fields.str("list_items")? {
        if data_type != "list" {
            return Err(ApiError::invalid(
                "'list_items' only applies to list attributes",
            ));
        }
        let items: Vec<Value> = items
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(|label| json!({"label": label, "archived": false}))
            .collect();
        if items.is_empty() {
            return Err(ApiError::invalid(
                "'list_items' must name at least one item",
            ));
        }
        options.insert("list_items".into(), json!(items));
    }
    if let Some(m) = body_fields.bool("allow_multiple_values")? {
        if data_type != "files" {
            return Err(ApiError::invalid(
                "'allow_multiple_values' only applies to files attributes",
            ));
        }
        options.insert("allow_multiple_values".into(), json!(m));
    }
    Ok((!options.is_empty()).then_some(Value::Object(options)))
}

const ATTRIBUTE_FLAGS: &[&str] = &[
    "required_to_create",
    "required_to_create_for_contacts",
    "visible_on_create",
    "visible_to_contacts",
];

/// `POST /ticket_types/{id}/attributes` `{name, description, data_type, …}`.
pub(super) async fn create_attribute(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let mut keys = vec![
        "name",
        "description",
        "data_type",
        "multiline",
        "list_items",
        "allow_multiple_values",
    ];
    keys.extend(ATTRIBUTE_FLAGS);
    body_fields.allow(&keys)?;
    let name = body_fields.req_text("name")?;
    let description = body_fields.req_str("description")?;
    let data_type = body_fields.req_enumerated("data_type", DATA_TYPES)?;
    let mut options = input_options(&body_fields, data_type)?;
    if data_type == "list" && options.is_none() {
        return Err(super::body::missing("list_items"));
    }
    if data_type == "string" && options.is_none() {
        options = Some(json!({"multiline": false}));
    }
    let flags = ATTRIBUTE_FLAGS
        .iter()
        .map(|k| body_fields.bool(k))
        .collect::<Result<Vec<_>, _>>()?;
    emulator.write(|store| {
        let t = store
            .ticket_type_index(&id)
            .ok_or_else(resource_not_found)?;
        if store.ticket_types[t]
            .attributes
            .iter()
            .any(|a| a.name.eq_ignore_ascii_case(&name))
        {
            return Err(ApiError::invalid(format!(
                "An attribute named '{name}' already exists on this ticket type"
            )));
        }
        let at = now();
        let attr = TicketTypeAttribute {
            id: next_attribute_id(store),
            name,
            description,
            data_type,
            input_options: options,
            order: store.ticket_types[t].attributes.len() as i64,
            required_to_create: flags[0].unwrap_or(false),
            required_to_create_for_contacts: flags[1].unwrap_or(false),
            visible_on_create: flags[2].unwrap_or(true),
            visible_to_contacts: flags[3].unwrap_or(true),
            default: false,
            archived: false,
            created_at: at,
            updated_at: at,
        };
        let ty = &mut store.ticket_types[t];
        ty.attributes.push(attr);
        ty.updated_at = at;
        let ty = &store.ticket_types[t];
        let a = ty.attributes.last().ok_or_else(resource_not_found)?;
        Ok(Json(render::ticket_type_attribute(store, ty, a)).into_response())
    })
}

/// `PUT /ticket_types/{id}/attributes/{attribute_id}`: as create minus `data_type`, plus
/// `archived`.
pub(super) async fn update_attribute(
    State(emulator): State<EmulatorState>,
    Path((id, attribute_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let mut keys = vec![
        "name",
        "description",
        "multiline",
        "list_items",
        "allow_multiple_values",
        "archived",
    ];
    keys.extend(ATTRIBUTE_FLAGS);
    body_fields.allow(&keys)?;
    let name = body_fields.str("name")?.filter(|n| !n.trim().is_empty());
    let description = body_fields.str("description")?;
    let archived = body_fields.bool("archived")?;
    let flags = ATTRIBUTE_FLAGS
        .iter()
        .map(|k| body_fields.bool(k))
        .collect::<Result<Vec<_>, _>>()?;
    emulator.write(|store| {
        let t = store
            .ticket_type_index(&id)
            .ok_or_else(resource_not_found)?;
        let a = store.ticket_types[t]
            .attributes
            .iter()
            .position(|a| a.id.to_string() == attribute_id.trim())
            .ok_or_else(resource_not_found)?;
        let options = input_options(&body_fields, store.ticket_types[t].attributes[a].data_type)?;
        let at = now();
        let attr = &mut store.ticket_types[t].attributes[a];
        if let Some(v) = name {
            attr.name = v;
        }
        if let Some(v) = description {
            attr.description = v;
        }
        if let Some(v) = archived {
            attr.archived = v;
        }
        if options.is_some() {
            attr.input_options = options;
        }
        let targets = [
            &mut attr.required_to_create,
            &mut attr.required_to_create_for_contacts,
            &mut attr.visible_on_create,
            &mut attr.visible_to_contacts,
        ];
        for (target, flag) in targets.into_iter().zip(&flags) {
            if let Some(v) = flag {
                *target = *v;
            }
        }
        attr.updated_at = at;
        let ty = &store.ticket_types[t];
        Ok(Json(render::ticket_type_attribute(store, ty, &ty.attributes[a])).into_response())
    })
}
