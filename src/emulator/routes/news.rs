//! News: news items and newsfeeds (official spec: `listNewsItems`, `createNewsItem`,
//! `retrieveNewsItem`, `updateNewsItem`, `deleteNewsItem`, `listNewsfeeds`, `retrieveNewsfeed`,
//! `listLiveNewsfeedItems`). Kept as the JSON of the spec's `news_item` and `newsfeed` schemas.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use super::documents::{find, id_of, next_id, page_of};
use super::shared::{admin, now};
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

const FIELDS: [&str; 8] = [
    "title",
    "body",
    "sender_id",
    "state",
    "deliver_silently",
    "labels",
    "reactions",
    "newsfeed_assignments",
];

pub(super) async fn list_news_items(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    page_of(&guard.news_items, q, 10, Value::clone)
}

pub(super) async fn get_news_item(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.news_items, &id)?;
    Ok(Json(guard.news_items[i].clone()).into_response())
}

/// The checked fields of a `news_item_request` (`title` and `sender_id` are required).
fn request(body: &Bytes) -> Result<(serde_json::Map<String, Value>, i64), ApiError> {
    let b = Body::parse(body)?;
    b.allow(&FIELDS)?;
    let title = b.req_str("title")?;
    let sender = b.req_int("sender_id")?;
    let mut fields = serde_json::Map::new();
    fields.insert("title".into(), json!(title));
    fields.insert("sender_id".into(), json!(sender));
    if let Some(body) = b.str("body")? {
        fields.insert("body".into(), json!(body));
    }
    if let Some(state) = b.enumerated("state", &["draft", "live"])? {
        fields.insert("state".into(), json!(state));
    }
    if let Some(quiet) = b.bool("deliver_silently")? {
        fields.insert("deliver_silently".into(), json!(quiet));
    }
    for key in ["labels", "reactions"] {
        if let Some(items) = b.array(key)? {
            if items.iter().any(|v| !(v.is_string() || v.is_null())) {
                return Err(ApiError::invalid(format!(
                    "{key} must be an array of strings"
                )));
            }
            fields.insert(key.into(), json!(items));
        }
    }
    if let Some(items) = b.array("newsfeed_assignments")? {
        for item in items {
            let a = b.item("newsfeed_assignments", item)?;
            a.allow(&["newsfeed_id", "published_at"])?;
            a.req_int("newsfeed_id")?;
            a.int("published_at")?;
        }
        fields.insert("newsfeed_assignments".into(), json!(items));
    }
    Ok((fields, sender))
}

/// Checks the sender and the newsfeeds named by `fields`.
fn check_refs(
    store: &Store,
    fields: &serde_json::Map<String, Value>,
    sender: i64,
) -> Result<(), ApiError> {
    if admin(store, &sender.to_string()).is_none() {
        return Err(ApiError::invalid(format!(
            "sender_id {sender} is not an admin"
        )));
    }
    for a in fields
        .get("newsfeed_assignments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let feed = a["newsfeed_id"].as_i64().unwrap_or_default().to_string();
        find(&store.newsfeeds, &feed)
            .map_err(|_| ApiError::invalid(format!("newsfeed {feed} not found")))?;
    }
    Ok(())
}

pub(super) async fn create_news_item(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let (fields, sender) = request(&body)?;
    emulator.write(|store| {
        check_refs(store, &fields, sender)?;
        let at = now();
        let id = next_id(&store.news_items, 29);
        let mut item = json!({
            "id": id, "type": "news-item", "workspace_id": store.workspace_id,
            "body": "", "state": "draft", "labels": [], "cover_image_url": null,
            "reactions": [], "deliver_silently": false, "newsfeed_assignments": [],
            "created_at": at, "updated_at": at,
        });
        for (k, v) in fields {
            item[k.as_str()] = v;
        }
        store.news_items.push(item.clone());
        Ok(Json(item).into_response())
    })
}

pub(super) async fn update_news_item(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (fields, sender) = request(&body)?;
    emulator.write(|store| {
        let i = find(&store.news_items, &id)?;
        check_refs(store, &fields, sender)?;
        let item = &mut store.news_items[i];
        for (k, v) in fields {
            item[k.as_str()] = v;
        }
        item["updated_at"] = json!(now());
        Ok(Json(item.clone()).into_response())
    })
}

pub(super) async fn delete_news_item(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.news_items, &id)?;
        let gone = store.news_items.remove(i);
        Ok(
            Json(json!({"id": id_of(&gone), "object": "news-item", "deleted": true}))
                .into_response(),
        )
    })
}

pub(super) async fn list_newsfeeds(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    page_of(&guard.newsfeeds, q, 10, Value::clone)
}

pub(super) async fn get_newsfeed(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.newsfeeds, &id)?;
    Ok(Json(guard.newsfeeds[i].clone()).into_response())
}

/// `GET /news/newsfeeds/{id}/items`: the live items assigned to the feed.
pub(super) async fn newsfeed_items(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.newsfeeds, &id)?;
    let feed: i64 = id_of(&guard.newsfeeds[i]).parse().unwrap_or_default();
    let live: Vec<Value> = guard
        .news_items
        .iter()
        .filter(|n| n["state"] == "live")
        .filter(|n| {
            n["newsfeed_assignments"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["newsfeed_id"].as_i64() == Some(feed)))
        })
        .cloned()
        .collect();
    page_of(&live, q, 20, Value::clone)
}
