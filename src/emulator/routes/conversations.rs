//! Conversations: list, get (with parts) and search.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::paging::{
    compile, cursor_pages, decode_cursor, encode_cursor, params, parse_search, per_page_param,
    search_page,
};
use super::{ApiResult, resource_not_found};
use crate::emulator::EmulatorState;
use crate::emulator::render::{self, JsonRecord};

/// `GET /conversations`: cursor list, default 20, never with parts (§2.2).
pub(super) async fn list_conversations(
    State(st): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let per_page = per_page_param(&p, 20)?;
    let s = st.store();
    let total = s.conversations.len();
    let (page, start) = match p.get("starting_after").filter(|c| !c.is_empty()) {
        Some(cursor) => {
            let (page, last) = decode_cursor("conversations", cursor)?;
            (page, last.saturating_add(1).min(total))
        }
        None => (1, 0),
    };
    let end = (start + per_page).min(total);
    let next =
        (end < total).then(|| encode_cursor("conversations", page.saturating_add(1), end - 1));
    let items: Vec<Value> = (start..end)
        .map(|i| render::conversation(s, i, false))
        .collect();
    Ok(Json(json!({
        "type": "conversation.list", "conversations": items, "total_count": total,
        "pages": cursor_pages(page, per_page, total, next),
    }))
    .into_response())
}

pub(super) async fn get_conversation(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let s = st.store();
    let i = s.conversation_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::conversation(s, i, true)).into_response())
}

/// `POST /conversations/search` (default 20, no parts).
pub(super) async fn search_conversations(
    State(st): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let req = parse_search(&body, 20)?;
    let query = compile(&req.query, st.schemas().1)?;
    let s = st.store();
    let matches: Arc<Vec<u32>> = st.cached_matches(format!("conversations:{}", req.query), || {
        (0..s.conversations.len())
            .filter(|&i| query.matches(&JsonRecord(&render::conversation(s, i, false))))
            .map(|i| i as u32)
            .collect()
    });
    let (page, items, next) = search_page("conversations.search", &matches, &req)?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| render::conversation(s, i, false))
        .collect();
    Ok(Json(json!({
        "type": "conversation.list", "conversations": items, "total_count": matches.len(),
        "pages": cursor_pages(page, req.per_page, matches.len(), next),
    }))
    .into_response())
}
