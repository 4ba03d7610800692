//! The workspace's admin activity log (`GET /admins/activity_logs`) and away status reasons
//! (`GET /away_status_reasons`).

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::paging::{
    cursor_pages, decode_cursor, encode_cursor, live_window, params, per_page_param,
};
use crate::emulator::render;
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

/// `GET /away_status_reasons`: every reason, deleted ones included, in one answer.
pub(super) async fn list_away_status_reasons(State(emulator): State<EmulatorState>) -> Json<Value> {
    let guard = emulator.store();
    let data: Vec<Value> = guard
        .away_status_reasons
        .iter()
        .map(render::away_status_reason)
        .collect();
    Json(json!({"type": "list", "data": data}))
}

/// A Unix-seconds query parameter.
fn seconds(
    p: &std::collections::HashMap<String, String>,
    key: &str,
) -> Result<Option<i64>, ApiError> {
    match p.get(key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(format!("{key} must be a Unix timestamp"))),
    }
}

/// `GET /admins/activity_logs?created_at_after=…[&created_at_before=…]`: newest first, cursor
/// pages of `per_page` (default 20). `created_at_after` is required; both bounds are exclusive.
pub(super) async fn list_activity_logs(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let after = seconds(&p, "created_at_after")?.ok_or_else(|| {
        ApiError::new(
            400,
            "parameter_not_found",
            "created_at_after is a required parameter",
        )
    })?;
    let before = seconds(&p, "created_at_before")?.unwrap_or(i64::MAX);
    let per_page = per_page_param(&p, 20)?;
    let guard = emulator.store();
    let store: &Store = &guard;
    let mut order: Vec<usize> = (0..store.activity_logs.len())
        .filter(|&i| {
            let at = store.activity_logs[i].created_at;
            at > after && at < before
        })
        .collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(store.activity_logs[i].created_at), i));
    let (page, start) = match p.get("starting_after").filter(|c| !c.is_empty()) {
        Some(cursor) => {
            let (page, last) = decode_cursor("activity_logs", cursor)?;
            (page, last.saturating_add(1))
        }
        None => (1, 0),
    };
    let (positions, more) = live_window(order.len(), start, per_page, |_| true);
    let next = positions
        .last()
        .filter(|_| more)
        .map(|&last| encode_cursor("activity_logs", page.saturating_add(1), last));
    let logs: Vec<Value> = positions
        .iter()
        .map(|&at| render::activity_log(store, &store.activity_logs[order[at]]))
        .collect();
    Ok(Json(json!({
        "type": "activity_log.list",
        "activity_logs": logs,
        "pages": cursor_pages(page, per_page, order.len(), next),
    }))
    .into_response())
}
