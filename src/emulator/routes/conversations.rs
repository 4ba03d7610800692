//! Conversations: list, get (with parts) and search.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::paging::{
    ItemsPage, compile, cursor_pages, decode_cursor, encode_cursor, live_window, params,
    parse_search, per_page_param, search_page,
};
use super::{ApiResult, resource_not_found};
use crate::emulator::render::{self, JsonRecord};
use crate::emulator::store::Store;
use crate::emulator::{Db, EmulatorState};

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
    let pages = cursor_pages(page, per_page, total, next);
    Ok(conversation_page(&guard, items, total, pages))
}

/// A page of conversations (without parts) as lists and searches answer it.
fn conversation_page(db: &Db, items: Vec<usize>, total: usize, pages: Value) -> Response {
    let body = ItemsPage {
        kind: "conversation.list",
        key: "conversations",
        items: items
            .into_iter()
            .map(|i| db.conversation_value(i))
            .collect(),
        total_count: total,
        pages,
    };
    Json(body).into_response()
}

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
    let matches = emulator.search_matches(key, guard.conversations_by_created(), &query, |i| {
        store.conversations[i].is_live() && query.matches(&JsonRecord(guard.conversation_value(i)))
    });
    let (page, items, next) = search_page("conversations.search", &matches, &req)?;
    let pages = cursor_pages(page, req.per_page, matches.len(), next);
    Ok(conversation_page(&guard, items, matches.len(), pages))
}
