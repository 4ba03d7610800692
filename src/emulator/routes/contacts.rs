//! Contacts: list, get, lookup by external id, search and the per-contact sub-lists.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::notes::notes_page;
use super::paging::{
    ItemsPage, compile, cursor_pages, decode_cursor, encode_cursor, live_window, page_param,
    page_range, params, parse_search, per_page_param, search_answer, total_pages,
};
use crate::emulator::render::{self, ContactRecord};
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

fn contact_not_found() -> ApiError {
    ApiError::not_found("not_found", "User Not Found")
}

/// `GET /contacts`: cursor list, default 10 per page on the wire (docs/intercom-notes.md,
/// "Paging"), max 150.
pub(super) async fn list_contacts(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let per_page = per_page_param(&p, 10)?;
    let guard = emulator.store();
    let store: &Store = &guard;
    let len = store.contacts.len();
    let (page, start) = match p.get("starting_after").filter(|c| !c.is_empty()) {
        Some(cursor) => {
            let (page, last) = decode_cursor("contacts", cursor)?;
            (page, last.saturating_add(1).min(len))
        }
        None => (1, 0),
    };
    // Archived, deleted and merged-away contacts are not listed (docs/intercom-notes.md, "Writes").
    let (items, more) = live_window(len, start, per_page, |i| store.contacts[i].is_live());
    let next = items
        .last()
        .filter(|_| more)
        .map(|&last| encode_cursor("contacts", page.saturating_add(1), last));
    let total = store.live_contacts;
    let body = ItemsPage {
        kind: "list",
        key: "data",
        items: items.into_iter().map(|i| guard.contact_json(i)).collect(),
        total_count: total,
        pages: cursor_pages(page, per_page, total, next),
    };
    Ok(body.into_response())
}

pub(super) async fn get_contact(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store.contact_index(&id).ok_or_else(contact_not_found)?;
    Ok(Json(render::contact(store, i)).into_response())
}

pub(super) async fn find_contact_by_external_id(
    State(emulator): State<EmulatorState>,
    Path(external_id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store
        .contact_by_external_id
        .get(&external_id)
        .copied()
        .filter(|i| {
            let c = &store.contacts[*i as usize];
            c.is_live() && c.role == "user"
        })
        .ok_or_else(contact_not_found)?;
    Ok(Json(render::contact(store, i as usize)).into_response())
}

pub(super) async fn contact_tags(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.contacts[store.contact_index(&id).ok_or_else(contact_not_found)?];
    let tags: Vec<Value> = c
        .tags
        .iter()
        .map(|t| render::tag(store, t.tag as usize, Some(t)))
        .collect();
    Ok(Json(json!({"type": "list", "data": tags})).into_response())
}

pub(super) async fn contact_segments(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.contacts[store.contact_index(&id).ok_or_else(contact_not_found)?];
    let segments: Vec<Value> = c
        .segments
        .iter()
        .map(|i| render::segment(store, *i as usize, None))
        .collect();
    Ok(Json(json!({"type": "list", "data": segments})).into_response())
}

/// `GET /contacts/{id}/companies`: page-number list with link-style `pages.next` (a URL).
pub(super) async fn contact_companies(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 50)?);
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.contacts[store.contact_index(&id).ok_or_else(contact_not_found)?];
    let total = c.companies.len();
    let items = c.companies[page_range(page, per_page, total)]
        .iter()
        .map(|&i| guard.company_json(i as usize))
        .collect();
    let pages = total_pages(total, per_page);
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let next = (page < pages).then(|| {
        format!(
            "http://{host}/contacts/{id}/companies?page={}&per_page={per_page}",
            page + 1
        )
    });
    let page_of = ItemsPage {
        kind: "list",
        key: "data",
        items,
        total_count: total,
        pages: json!({"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": pages}),
    };
    Ok(page_of.into_response())
}

pub(super) async fn contact_notes(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.contacts[store.contact_index(&id).ok_or_else(contact_not_found)?];
    notes_page(&guard, &c.notes, &params(q))
}

/// `POST /contacts/search` (default 50 per page).
pub(super) async fn search_contacts(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let req = parse_search(&body, 50)?;
    let guard = emulator.store();
    let query = compile(&req.query, &guard.contact_schema)?;
    let store: &Store = &guard;
    let key = format!("contacts:{}:{}", store.generation, req.query);
    let matches = emulator.search_matches(
        key,
        guard.contacts_by_created(),
        &query,
        |i| store.contacts[i].is_live(),
        |i| {
            let contact = &store.contacts[i];
            query.matches(&ContactRecord { store, contact })
        },
    );
    search_answer("contacts.search", ("list", "data"), &matches, &req, |i| {
        guard.contact_json(i)
    })
}
