//! `/me`, admins (incl. away mode, docs/intercom-notes.md, "Writes") and teams.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::paging::params;
use super::shared::admin_not_found;
use crate::emulator::render;
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

pub(super) async fn me(State(emulator): State<EmulatorState>) -> Json<Value> {
    Json(render::me(&emulator.store()))
}

pub(super) async fn list_admins(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> Json<Value> {
    let avatar = params(q).get("display_avatar").is_some_and(|v| v == "true");
    let guard = emulator.store();
    let store: &Store = &guard;
    let admins: Vec<Value> = (0..store.admins.len())
        .map(|i| render::admin(store, i, avatar))
        .collect();
    Json(json!({"type": "admin.list", "admins": admins}))
}

pub(super) async fn get_admin(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store.admin_index(&id).ok_or_else(admin_not_found)?;
    Ok(Json(render::admin(store, i, false)).into_response())
}

pub(super) async fn list_teams(State(emulator): State<EmulatorState>) -> Json<Value> {
    let guard = emulator.store();
    let store: &Store = &guard;
    let teams: Vec<Value> = (0..store.teams.len())
        .map(|i| render::team(store, i))
        .collect();
    Json(json!({"type": "team.list", "teams": teams}))
}

pub(super) async fn get_team(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store
        .team_index(&id)
        .ok_or_else(|| ApiError::not_found("team_not_found", "Team not found"))?;
    Ok(Json(render::team(store, i)).into_response())
}

/// `PUT /admins/{id}/away` `{away_mode_enabled, away_mode_reassign, away_status_reason_id?}`:
/// the admin. Leaving away mode clears the reason.
pub(super) async fn set_away(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&[
        "away_mode_enabled",
        "away_mode_reassign",
        "away_status_reason_id",
    ])?;
    let enabled = body_fields.req_bool("away_mode_enabled")?;
    let reassign = body_fields.req_bool("away_mode_reassign")?;
    let reason = body_fields.int("away_status_reason_id")?;
    emulator.write(|store| {
        let i = store.admin_index(&id).ok_or_else(|| {
            ApiError::not_found("admin_not_found", "Admin for admin_id not found")
        })?;
        let a = &mut store.admins[i];
        a.away_mode_enabled = enabled;
        a.away_mode_reassign = reassign;
        a.away_status_reason_id = if enabled { reason } else { None };
        Ok(Json(render::admin(store, i, false)).into_response())
    })
}
