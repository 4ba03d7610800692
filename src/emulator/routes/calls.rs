//! Calls (official spec: `listCalls`, `showCall`): page-numbered, at most 25 a page, kept as
//! the JSON of the spec's `call` schema.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::Value;

use super::ApiResult;
use super::documents::{find, page_of};
use super::paging::params;
use crate::emulator::{ApiError, EmulatorState};

/// Calls a page holds at most (docs/intercom-notes.md, "Paging").
const MAX_PER_PAGE: usize = 25;

pub(super) async fn list_calls(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    // Larger pages are cut to 25, as `per_page` above 150 is cut to 150 elsewhere.
    let mut p = params(q);
    if let Some(n) = p
        .get("per_page")
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        p.insert("per_page".into(), n.min(MAX_PER_PAGE).to_string());
    }
    let query: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let guard = emulator.store();
    page_of(
        &guard.calls,
        Some(query.join("&")),
        MAX_PER_PAGE,
        Value::clone,
    )
}

pub(super) async fn get_call(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.calls, &id).map_err(|_| ApiError::not_found("not_found", "Not Found"))?;
    Ok(Json(guard.calls[i].clone()).into_response())
}
