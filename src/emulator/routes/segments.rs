//! Segments, with their optional member counts.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::paging::params;
use super::{ApiResult, resource_not_found};
use crate::emulator::EmulatorState;
use crate::emulator::render;
use crate::emulator::store::Store;

fn segment_count(store: &Store, segment: usize) -> usize {
    let seg = segment as u32;
    store
        .contacts
        .iter()
        .filter(|c| c.is_live() && c.segments.contains(&seg))
        .count()
        + store
            .companies
            .iter()
            .filter(|c| !c.deleted && c.segments.contains(&seg))
            .count()
}

pub(super) async fn list_segments(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> Json<Value> {
    let with_count = params(q).get("include_count").is_some_and(|v| v == "true");
    let guard = emulator.store();
    let store: &Store = &guard;
    let segments: Vec<Value> = (0..store.segments.len())
        .map(|i| render::segment(store, i, with_count.then(|| segment_count(store, i))))
        .collect();
    Json(json!({"type": "segment.list", "segments": segments, "pages": {}}))
}

pub(super) async fn get_segment(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let with_count = params(q).get("include_count").is_some_and(|v| v == "true");
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store.segment_index(&id).ok_or_else(resource_not_found)?;
    let count = with_count.then(|| segment_count(store, i));
    Ok(Json(render::segment(store, i, count)).into_response())
}
