//! Tags.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{ApiResult, resource_not_found};
use crate::emulator::EmulatorState;
use crate::emulator::render;

pub(super) async fn list_tags(State(st): State<EmulatorState>) -> Json<Value> {
    let s = st.store();
    let tags: Vec<Value> = (0..s.tags.len()).map(|i| render::tag(s, i, None)).collect();
    Json(json!({"type": "list", "data": tags}))
}

pub(super) async fn get_tag(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s.tag_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::tag(s, i, None)).into_response())
}
