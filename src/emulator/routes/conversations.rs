//! Conversations: list, get (with parts) and search.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::paging::{
    ItemsPage, compile, cursor_pages, decode_cursor, encode_cursor, live_window, params,
    parse_search, per_page_param, search_answer,
};
use super::{ApiResult, resource_not_found};
use crate::emulator::EmulatorState;
use crate::emulator::render::{self, JsonRecord};
use crate::emulator::store::Store;

/// `GET /conversations`: cursor list, default 20, never with parts (docs/intercom-notes.md,
/// "Paging").
pub(super) async fn list_conversations(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let per_page = per_page_param(&p, 20)?;
    let guard = emulator.store();
    let store: &Store = &guard;
    let len = store.conversations.len();
    let (page, start) = match p.get("starting_after").filter(|c| !c.is_empty()) {
        Some(cursor) => {
            let (page, last) = decode_cursor("conversations", cursor)?;
            (page, last.saturating_add(1).min(len))
        }
        None => (1, 0),
    };
    let live = |i: usize| store.conversations[i].is_live();
    let total = (0..len).filter(|&i| live(i)).count();
    let (items, more) = live_window(len, start, per_page, live);
    let next = items
        .last()
        .filter(|_| more)
        .map(|&last| encode_cursor("conversations", page.saturating_add(1), last));
    let body = ItemsPage {
        kind: CONVERSATION_PAGE.0,
        key: CONVERSATION_PAGE.1,
        items: items
            .into_iter()
            .map(|i| guard.conversation_json(i))
            .collect(),
        total_count: total,
        pages: cursor_pages(page, per_page, total, next),
    };
    Ok(body.into_response())
}

/// The `type` of a page of conversations (without parts), and the key of its items.
const CONVERSATION_PAGE: (&str, &str) = ("conversation.list", "conversations");

pub(super) async fn get_conversation(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store
        .conversation_index(&id)
        .ok_or_else(resource_not_found)?;
    Ok(Json(render::conversation(store, i, true)).into_response())
}

/// `GET /conversations/{id}/handling_events`: the pauses and resumes of its handling, all in
/// one answer.
pub(super) async fn handling_events(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store
        .conversation_index(&id)
        .ok_or_else(resource_not_found)?;
    let events: Vec<Value> = store
        .handling_events
        .get(&store.conversations[i].id)
        .into_iter()
        .flatten()
        .map(|e| render::handling_event(store, e))
        .collect();
    Ok(Json(json!({"handling_events": events})).into_response())
}

/// `POST /conversations/search` (default 20, no parts).
pub(super) async fn search_conversations(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let req = parse_search(&body, 20)?;
    let guard = emulator.store();
    let query = compile(&req.query, &guard.conversation_schema)?;
    let store: &Store = &guard;
    let key = format!("conversations:{}:{}", store.generation, req.query);
    let matches = emulator.search_matches(
        key,
        guard.conversations_by_created(),
        &query,
        |i| store.conversations[i].is_live(),
        |i| query.matches(&JsonRecord(guard.conversation_value(i))),
    );
    search_answer(
        "conversations.search",
        CONVERSATION_PAGE,
        &matches,
        &req,
        |i| guard.conversation_json(i),
    )
}
