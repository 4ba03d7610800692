//! Tickets: get and search.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;

use super::ApiResult;
use super::paging::{compile, parse_search, search_answer};
use crate::emulator::render::{self, JsonRecord};
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

/// `POST /tickets/search` (default 20, parts included).
pub(super) async fn search_tickets(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let req = parse_search(&body, 20)?;
    let guard = emulator.store();
    let query = compile(&req.query, &guard.ticket_schema)?;
    let store: &Store = &guard;
    let key = format!("tickets:{}:{}", store.generation, req.query);
    let matches = emulator.search_matches(
        key,
        guard.tickets_by_created(),
        &query,
        |i| !store.tickets[i].deleted,
        |i| query.matches(&JsonRecord(guard.ticket_search_value(i))),
    );
    search_answer(
        "tickets.search",
        ("ticket.list", "tickets"),
        &matches,
        &req,
        |i| guard.ticket_json(i),
    )
}

pub(super) async fn get_ticket(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store
        .ticket_index(&id)
        .ok_or_else(|| ApiError::not_found("ticket_not_found", "Ticket not found"))?;
    Ok(Json(render::ticket(store, i)).into_response())
}
