//! Content Fin and teammates learn from: content import sources and their external pages
//! (official spec: `listContentImportSources`, `createContentImportSource`,
//! `getContentImportSource`, `updateContentImportSource`, `deleteContentImportSource`,
//! `listExternalPages`, `createExternalPage`, `getExternalPage`, `updateExternalPage`,
//! `deleteExternalPage`) and internal articles (`listInternalArticles`,
//! `createInternalArticle`, `retrieveInternalArticle`, `updateInternalArticle`,
//! `deleteInternalArticle`). Kept as the JSON of the spec's schemas.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::ApiResult;
use super::body::Body;
use super::documents::{find, id_of, linked_page_of, next_id, page_of, search_page_of};
use super::paging::params;
use super::shared::{admin, now};
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

const SOURCES: &str = "/ai/content_import_sources";
const PAGES: &str = "/ai/external_pages";

pub(super) async fn list_sources(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    linked_page_of(&emulator.store().content_import_sources, q, SOURCES)
}

pub(super) async fn get_source(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.content_import_sources, &id)?;
    Ok(Json(guard.content_import_sources[i].clone()).into_response())
}

/// The checked fields of a source request; `sync_behaviors` are those the operation takes.
fn source_fields(body: &Bytes, update: bool) -> Result<Map<String, Value>, ApiError> {
    let b = Body::parse(body)?;
    let mut allowed = vec!["sync_behavior", "status", "url", "audience_ids"];
    if update {
        allowed.push("apply_audience_to_existing_content");
    }
    b.allow(&allowed)?;
    let behaviors: &[&str] = match update {
        true => &["api", "automated", "manual"],
        false => &["api"],
    };
    let mut fields = Map::new();
    fields.insert(
        "sync_behavior".into(),
        json!(b.req_enumerated("sync_behavior", behaviors)?),
    );
    let url = b.req_str("url")?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ApiError::invalid(format!(
            "url must be an http(s) URL, got '{url}'"
        )));
    }
    fields.insert("url".into(), json!(url));
    if let Some(status) = b.enumerated("status", &["active", "deactivated"])? {
        fields.insert("status".into(), json!(status));
    }
    match b.get("audience_ids") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.is_i64() => {
            fields.insert("audience_ids".into(), json!([n]));
        }
        Some(Value::Array(ids)) if ids.iter().all(Value::is_i64) => {
            fields.insert("audience_ids".into(), json!(ids));
        }
        Some(_) => return Err(ApiError::invalid("audience_ids must be integers")),
    }
    b.bool("apply_audience_to_existing_content")?;
    Ok(fields)
}

pub(super) async fn create_source(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let fields = source_fields(&body, false)?;
    emulator.write(|store| {
        let at = now();
        let id: i64 = next_id(&store.content_import_sources, 33)
            .parse()
            .unwrap_or(33);
        let mut source = json!({
            "id": id, "type": "content_import_source", "status": "active", "audience_ids": [],
            "created_at": at, "updated_at": at, "last_synced_at": at,
        });
        for (k, v) in fields {
            source[k.as_str()] = v;
        }
        store.content_import_sources.push(source.clone());
        Ok(Json(source).into_response())
    })
}

pub(super) async fn update_source(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let fields = source_fields(&body, true)?;
    emulator.write(|store| {
        let i = find(&store.content_import_sources, &id)?;
        let source = &mut store.content_import_sources[i];
        for (k, v) in fields {
            source[k.as_str()] = v;
        }
        source["updated_at"] = json!(now());
        Ok(Json(source.clone()).into_response())
    })
}

/// `DELETE /ai/content_import_sources/{id}`: 204, and its external pages go with it.
pub(super) async fn delete_source(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.content_import_sources, &id)?;
        let gone = id_of(&store.content_import_sources.remove(i));
        store
            .external_pages
            .retain(|p| p["source_id"].as_i64().map(|s| s.to_string()).as_ref() != Some(&gone));
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

pub(super) async fn list_pages(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    linked_page_of(&emulator.store().external_pages, q, PAGES)
}

pub(super) async fn get_page(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.external_pages, &id)?;
    Ok(Json(guard.external_pages[i].clone()).into_response())
}

/// The checked fields of an external page request (`required` differ between create and
/// update).
fn page_fields(body: &Bytes, update: bool) -> Result<Map<String, Value>, ApiError> {
    let b = Body::parse(body)?;
    let flags: &[&str] = match update {
        true => &["fin_availability"],
        false => &["ai_agent_availability", "ai_copilot_availability"],
    };
    let mut allowed = vec!["title", "html", "url", "locale", "source_id", "external_id"];
    allowed.extend(flags);
    b.allow(&allowed)?;
    let mut fields = Map::new();
    fields.insert("title".into(), json!(b.req_str("title")?));
    fields.insert("html".into(), json!(b.req_str("html")?));
    fields.insert("locale".into(), json!(b.req_enumerated("locale", &["en"])?));
    fields.insert("source_id".into(), json!(b.req_int("source_id")?));
    match update {
        true => fields.insert("url".into(), json!(b.req_str("url")?)),
        false => fields.insert("external_id".into(), json!(b.req_str("external_id")?)),
    };
    for key in ["url", "external_id"] {
        if let (false, Some(v)) = (fields.contains_key(key), b.str(key)?) {
            fields.insert(key.into(), json!(v));
        }
    }
    for flag in flags {
        if let Some(v) = b.bool(flag)? {
            fields.insert((*flag).into(), json!(v));
        }
    }
    Ok(fields)
}

/// The page's source must exist and be fed through the API.
fn api_source(store: &Store, fields: &Map<String, Value>) -> Result<(), ApiError> {
    let source = fields["source_id"].to_string();
    let i = find(&store.content_import_sources, &source)
        .map_err(|_| ApiError::invalid(format!("content import source {source} not found")))?;
    match store.content_import_sources[i]["sync_behavior"].as_str() {
        Some("api") => Ok(()),
        _ => Err(ApiError::invalid(format!(
            "content import source {source} is not synced through the API"
        ))),
    }
}

pub(super) async fn create_page(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let fields = page_fields(&body, false)?;
    emulator.write(|store| {
        api_source(store, &fields)?;
        let at = now();
        let id = next_id(&store.external_pages, 19);
        let mut page = json!({
            "id": id, "type": "external_page", "url": "",
            "ai_agent_availability": true, "ai_copilot_availability": true,
            "ai_sales_agent_availability": true, "fin_availability": true,
            "created_at": at, "updated_at": at, "last_ingested_at": at,
        });
        for (k, v) in fields {
            page[k.as_str()] = v;
        }
        store.external_pages.push(page.clone());
        Ok(Json(page).into_response())
    })
}

pub(super) async fn update_page(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let fields = page_fields(&body, true)?;
    emulator.write(|store| {
        let i = find(&store.external_pages, &id)?;
        api_source(store, &fields)?;
        let at = now();
        let page = &mut store.external_pages[i];
        for (k, v) in fields {
            page[k.as_str()] = v;
        }
        page["updated_at"] = json!(at);
        page["last_ingested_at"] = json!(at);
        Ok(Json(page.clone()).into_response())
    })
}

/// `DELETE /ai/external_pages/{id}`: answers with the page deleted.
pub(super) async fn delete_page(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.external_pages, &id)?;
        Ok(Json(store.external_pages.remove(i)).into_response())
    })
}

pub(super) async fn list_internal_articles(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    page_of(&emulator.store().internal_articles, q, 25, Value::clone)
}

/// The folder an internal article is filed in. Intercom's API shows no folders; the emulator
/// files article `n` in folder `n mod 3 + 1`, so that a search by folder finds some of them.
fn folder_of(article: &Value) -> String {
    (id_of(article).parse::<u64>().unwrap_or(0) % 3 + 1).to_string()
}

/// `GET /internal_articles/search?folder_id=`: the internal articles of a folder (every one
/// without `folder_id`).
pub(super) async fn search_internal_articles(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let folder = params(q.clone())
        .get("folder_id")
        .map(|f| f.trim().to_string());
    let guard = emulator.store();
    let found: Vec<&Value> = guard
        .internal_articles
        .iter()
        .filter(|a| folder.as_ref().is_none_or(|f| *f == folder_of(a)))
        .collect();
    search_page_of(found, q, "internal_articles", &[])
}

pub(super) async fn get_internal_article(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.internal_articles, &id)?;
    Ok(Json(guard.internal_articles[i].clone()).into_response())
}

/// The checked fields of an internal article request; create requires title, owner and author.
fn internal_fields(
    store: &Store,
    body: &Bytes,
    create: bool,
) -> Result<Map<String, Value>, ApiError> {
    let b = Body::parse(body)?;
    b.allow(&["title", "body", "author_id", "owner_id"])?;
    let mut fields = Map::new();
    if create {
        fields.insert("title".into(), json!(b.req_str("title")?));
        for key in ["owner_id", "author_id"] {
            fields.insert(key.into(), json!(b.req_int(key)?));
        }
    }
    for key in ["title", "body"] {
        if let (false, Some(v)) = (fields.contains_key(key), b.str(key)?) {
            fields.insert(key.into(), json!(v));
        }
    }
    for key in ["owner_id", "author_id"] {
        if let (false, Some(v)) = (fields.contains_key(key), b.int(key)?) {
            fields.insert(key.into(), json!(v));
        }
        if let Some(who) = fields.get(key).and_then(Value::as_i64)
            && admin(store, &who.to_string()).is_none()
        {
            return Err(ApiError::invalid(format!("{key} {who} is not an admin")));
        }
    }
    Ok(fields)
}

pub(super) async fn create_internal_article(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    emulator.write(|store| {
        let fields = internal_fields(store, &body, true)?;
        let at = now();
        let id = next_id(&store.internal_articles, 39);
        let mut article = json!({
            "type": "internal_article", "id": id, "body": "", "locale": "en",
            "created_at": at, "updated_at": at,
        });
        for (k, v) in fields {
            article[k.as_str()] = v;
        }
        store.internal_articles.push(article.clone());
        Ok(Json(article).into_response())
    })
}

pub(super) async fn update_internal_article(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.internal_articles, &id)?;
        let fields = internal_fields(store, &body, false)?;
        let article = &mut store.internal_articles[i];
        for (k, v) in fields {
            article[k.as_str()] = v;
        }
        article["updated_at"] = json!(now());
        Ok(Json(article.clone()).into_response())
    })
}

pub(super) async fn delete_internal_article(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.internal_articles, &id)?;
        let gone = store.internal_articles.remove(i);
        Ok(
            Json(json!({"id": id_of(&gone), "object": "internal_article", "deleted": true}))
                .into_response(),
        )
    })
}
