//! Data attributes: list (docs/intercom-notes.md, "Custom attributes"), create and update
//! (docs/intercom-notes.md, "Writes").

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::paging::params;
use super::shared::now;
use crate::emulator::render;
use crate::emulator::store::{DataAttribute, Store};
use crate::emulator::{ApiError, EmulatorState};

pub(super) async fn list_data_attributes(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let model = p.get("model").map(String::as_str);
    if let Some(m) = model
        && !matches!(m, "contact" | "company" | "conversation")
    {
        return Err(ApiError::invalid(format!(
            "model must be one of contact, company, conversation; got '{m}'"
        )));
    }
    let archived = p.get("include_archived").is_some_and(|v| v == "true");
    let data: Vec<Value> = emulator
        .store()
        .data_attributes
        .iter()
        .filter(|a| model.is_none_or(|m| a.model == m) && (archived || !a.archived))
        .map(render::data_attribute)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

/// `options` of a list attribute: `[{value}]` with at least two entries (docs/intercom-notes.md,
/// "Writes").
fn options(body_fields: &Body) -> Result<Option<Vec<String>>, ApiError> {
    if body_fields.get("options").is_some() && body_fields.array("options").is_err() {
        return Err(ApiError::invalid("Options isn't an array"));
    }
    let Some(items) = body_fields.array("options")? else {
        return Ok(None);
    };
    let values = items
        .iter()
        .map(|item| {
            let o = body_fields.item("options", item)?;
            o.allow(&["value"])?;
            o.req_text("value")
        })
        .collect::<Result<Vec<_>, _>>()?;
    if values.len() < 2 {
        return Err(ApiError::invalid(
            "A list attribute needs at least two options",
        ));
    }
    Ok(Some(values))
}

/// Letters, digits, currency symbols and hyphens (docs/intercom-notes.md, "Writes"); spaces and
/// underscores also occur.
fn valid_name(name: &str) -> bool {
    !name.trim().is_empty()
        && name.chars().all(|c| {
            c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '$' | '€' | '£' | '¥' | '₹' | '¢')
        })
}

/// Why `name` cannot be a new `model` attribute, if it cannot (docs/intercom-notes.md, "Writes").
fn name_clash(store: &Store, model: &str, name: &str) -> Option<String> {
    let noun = |m: &str| if m == "company" { "company" } else { "people" };
    if store
        .data_attributes
        .iter()
        .any(|a| !a.custom && a.model == model && a.name.eq_ignore_ascii_case(name))
    {
        return Some(format!(
            "'{name}' is a standard attribute and cannot be created"
        ));
    }
    store.data_attributes
        .iter()
        .find(|a| {
            a.custom
                && matches!(a.model, "contact" | "company")
                && a.name.eq_ignore_ascii_case(name)
        })
        .map(|a| {
            format!(
                "You already have '{name}' in your {} data. To save this as new {} data, use a different name.",
                noun(a.model),
                noun(model)
            )
        })
}

/// `POST /data_attributes` `{name, model: contact|company, data_type, options?, description?,
/// messenger_writable?}`. `options` lists are reported as `string` with `options`, `datetime`
/// as `date` (docs/intercom-notes.md, "Custom attributes").
pub(super) async fn create_data_attribute(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&[
        "name",
        "model",
        "data_type",
        "options",
        "description",
        "messenger_writable",
    ])?;
    let name = body_fields.req_str("name")?;
    if !valid_name(&name) {
        return Err(ApiError::invalid(
            "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens",
        ));
    }
    let model = match body_fields.str("model")?.as_deref() {
        Some("contact") => "contact",
        Some("company") => "company",
        Some(_) => {
            return Err(ApiError::invalid(
                "The Data Attribute model field must be either contact or company",
            ));
        }
        None => return Err(super::body::missing("model")),
    };
    let data_type = body_fields.req_str("data_type")?;
    let reported = match data_type.as_str() {
        "string" | "options" => "string",
        "integer" => "integer",
        "float" => "float",
        "boolean" => "boolean",
        "date" | "datetime" => "date",
        _ => return Err(ApiError::invalid("Data Type isn't an option")),
    };
    let options = options(&body_fields)?;
    if data_type == "options" && options.is_none() {
        return Err(ApiError::invalid(
            "A list attribute needs at least two options",
        ));
    }
    if data_type != "options" && options.is_some() {
        return Err(ApiError::invalid("Only options attributes take options"));
    }
    let description = body_fields.str("description")?.unwrap_or_default();
    let messenger_writable = body_fields.bool("messenger_writable")?.unwrap_or(false);
    emulator.write(|store| {
        if let Some(clash) = name_clash(store, model, &name) {
            return Err(ApiError::invalid(clash));
        }
        let at = now();
        let id = store
            .data_attributes
            .iter()
            .filter_map(|a| a.id)
            .max()
            .map_or(15_000_001, |m| m + 1);
        store.data_attributes.push(DataAttribute {
            id: Some(id),
            model,
            full_name: format!("custom_attributes.{name}"),
            label: name.clone(),
            name,
            description,
            data_type: reported,
            options,
            api_writable: true,
            ui_writable: false,
            messenger_writable,
            custom: true,
            archived: false,
            created_at: Some(at),
            updated_at: Some(at),
            admin_id: Some(
                store
                    .admins
                    .first()
                    .map(|a| a.id.to_string())
                    .unwrap_or_default(),
            ),
        });
        let attr = store.data_attributes.last().ok_or_else(field_not_found)?;
        Ok(Json(render::data_attribute(attr)).into_response())
    })
}

fn field_not_found() -> ApiError {
    ApiError::not_found(
        "field_not_found",
        "We couldn't find that data attribute to update",
    )
}

/// `PUT /data_attributes/{id}` `{archived?, description?, messenger_writable?, options?}`; the
/// data type cannot change.
pub(super) async fn update_data_attribute(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["archived", "description", "messenger_writable", "options"])?;
    let archived = body_fields.bool("archived")?;
    let description = body_fields.str("description")?;
    let messenger_writable = body_fields.bool("messenger_writable")?;
    let options = options(&body_fields)?;
    emulator.write(|store| {
        let wanted: i64 = id.trim().parse().map_err(|_| field_not_found())?;
        let i = store
            .data_attributes
            .iter()
            .position(|a| a.id == Some(wanted))
            .ok_or_else(field_not_found)?;
        let attr = &mut store.data_attributes[i];
        if options.is_some() && attr.options.is_none() {
            return Err(ApiError::invalid("Only options attributes take options"));
        }
        if let Some(v) = archived {
            attr.archived = v;
        }
        if let Some(v) = description {
            attr.description = v;
        }
        if let Some(v) = messenger_writable {
            attr.messenger_writable = v;
        }
        if options.is_some() {
            attr.options = options;
        }
        attr.updated_at = Some(now());
        Ok(Json(render::data_attribute(&store.data_attributes[i])).into_response())
    })
}
