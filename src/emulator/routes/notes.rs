//! Notes, by id and as the page-number lists of a contact or company.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;

use super::paging::{ItemsPage, number_pages, page_param, page_range, per_page_param};
use super::{ApiResult, resource_not_found};
use crate::emulator::render;
use crate::emulator::store::Store;
use crate::emulator::{Db, EmulatorState};

pub(super) async fn get_note(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store.note_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::note(store, i)).into_response())
}

pub(super) fn notes_page(db: &Db, notes: &[u32], p: &HashMap<String, String>) -> ApiResult {
    let (page, per_page) = (page_param(p)?, per_page_param(p, 50)?);
    let page_of = ItemsPage {
        kind: "list",
        key: "data",
        items: notes[page_range(page, per_page, notes.len())]
            .iter()
            .map(|&i| db.note_json(i as usize))
            .collect(),
        total_count: notes.len(),
        pages: number_pages(page, per_page, notes.len()),
    };
    Ok(page_of.into_response())
}
