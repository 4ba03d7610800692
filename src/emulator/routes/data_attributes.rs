//! Data attributes (`GET /data_attributes`, §7.2).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::paging::params;
use crate::emulator::render;
use crate::emulator::{ApiError, EmulatorState};

pub(super) async fn list_data_attributes(
    State(st): State<EmulatorState>,
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
    let data: Vec<Value> = st
        .store()
        .data_attributes
        .iter()
        .filter(|a| model.is_none_or(|m| a.model == m))
        .map(render::data_attribute)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}
