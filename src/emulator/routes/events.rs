//! Data events of one contact (`GET /events?type=user&…`, paged by the URL in `pages.next`
//! with a `before=` cursor in milliseconds, docs/intercom-notes.md, "Paging"), their summary
//! (`&summary=true`), and event summaries sent in bulk (`POST /events/summaries`).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::paging::{params, per_page_param};
use super::shared::{contact_by, user_not_found};
use crate::emulator::render;
use crate::emulator::store::{DataEvent, Store};
use crate::emulator::{ApiError, EmulatorState};

/// Where an event sorts in its contact's list, newest first: its time in milliseconds (the
/// emulator records seconds; the order of recording tells events of one second apart).
fn millis(e: &DataEvent) -> i64 {
    e.created_at * 1_000 + (e.seq % 1_000) as i64
}

/// The contact a query names by `intercom_user_id`, `user_id` or `email`.
fn contact_of(store: &Store, p: &HashMap<String, String>) -> Result<u32, ApiError> {
    let named = [
        ("intercom_user_id", "id"),
        ("user_id", "user_id"),
        ("email", "email"),
    ]
    .into_iter()
    .find_map(|(param, key)| Some((key, p.get(param).filter(|v| !v.is_empty())?)));
    let (key, value) = named.ok_or_else(|| {
        ApiError::new(
            400,
            "parameter_not_found",
            "one of intercom_user_id, user_id or email is required",
        )
    })?;
    contact_by(store, key, value).ok_or_else(user_not_found)
}

/// `GET /events?type=user&(intercom_user_id|user_id|email)=…[&per_page=][&before=][&summary=true]`.
pub(super) async fn list_events(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    match p.get("type").map(String::as_str) {
        Some("user") => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "type '{other}' is not supported, use user"
            )));
        }
        None => {
            return Err(ApiError::new(
                400,
                "parameter_not_found",
                "type is a required parameter",
            ));
        }
    }
    let per_page = per_page_param(&p, 50)?;
    let before = match p.get("before") {
        None => i64::MAX,
        Some(v) => v
            .parse()
            .map_err(|_| ApiError::invalid("before must be a timestamp in milliseconds"))?,
    };
    let guard = emulator.store();
    let store: &Store = &guard;
    let contact = contact_of(store, &p)?;
    let c = &store.contacts[contact as usize];
    let mut events: Vec<&DataEvent> = store
        .events
        .iter()
        .filter(|e| e.contact == contact)
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(millis(e)));
    if p.get("summary").is_some_and(|v| v == "true") {
        let mut by_name: Vec<(&str, i64, i64, usize)> = Vec::new();
        for e in &events {
            match by_name.iter_mut().find(|(n, ..)| *n == e.event_name) {
                Some((_, first, last, count)) => {
                    *first = (*first).min(e.created_at);
                    *last = (*last).max(e.created_at);
                    *count += 1;
                }
                None => by_name.push((&e.event_name, e.created_at, e.created_at, 1)),
            }
        }
        let summaries: Vec<Value> = by_name
            .into_iter()
            .map(|(name, first, last, count)| {
                // No description: the spec's field is a non-null string, sent only when set.
                json!({"name": name, "first": render::iso(first), "last": render::iso(last),
                       "count": count})
            })
            .collect();
        return Ok(Json(json!({
            "type": "event.summary", "email": c.email, "intercom_user_id": c.id,
            "user_id": c.external_id, "events": summaries,
        }))
        .into_response());
    }
    let page: Vec<&DataEvent> = events
        .iter()
        .copied()
        .filter(|e| millis(e) < before)
        .take(per_page)
        .collect();
    let more = page
        .last()
        .is_some_and(|last| events.iter().any(|e| millis(e) < millis(last)));
    let mut pages = json!({});
    if let (Some(last), true) = (page.last(), more) {
        // Intercom's next URL: a full URL on its own host, with every parameter.
        pages["next"] = json!(format!(
            "https://api.intercom.io/events?type=user&intercom_user_id={}&per_page={per_page}&before={}",
            c.id,
            millis(last)
        ));
    }
    let items: Vec<Value> = page.iter().map(|e| render::data_event(store, e)).collect();
    Ok(Json(json!({"type": "event.list", "events": items, "pages": pages})).into_response())
}

/// `POST /events/summaries` `{user_id, event_summaries: {event_name, count, first, last}}`:
/// `200` with an empty body; the summary is not recorded as events.
pub(super) async fn create_summaries(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(&["user_id", "event_summaries"])?;
    let user_id = body_fields.req_str("user_id")?;
    let summary = body_fields.req_nested("event_summaries")?;
    summary.allow(&["event_name", "count", "first", "last"])?;
    summary.req_text("event_name")?;
    summary.int("count")?;
    summary.int("first")?;
    summary.int("last")?;
    let guard = emulator.store();
    contact_by(&guard, "user_id", &user_id).ok_or_else(user_not_found)?;
    Ok(StatusCode::OK.into_response())
}
