//! The Help Center: help centers, collections (and their sections) and articles (official
//! spec: `listHelpCenters`, `retrieveHelpCenter`, `listAllCollections`, `createCollection`,
//! `retrieveCollection`, `updateCollection`, `deleteCollection`, `listArticles`,
//! `createArticle`, `retrieveArticle`, `updateArticle`, `deleteArticle`).
//!
//! The objects are kept as the JSON the spec's schemas describe (`help_center`, `collection`,
//! `article`): the routes answer them as they are, lists newest `updated_at` first, page-numbered.
//! An article's top-level title, description, body, author, state and url are its
//! default-locale content; `translated_content` holds every locale's.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::ApiResult;
use super::body::Body;
use super::documents::{find, id_of, next_id, page_of, search_page_of};
use super::paging::params;
use super::shared::{admin, now};
use crate::emulator::render;
use crate::emulator::store::Store;
use crate::emulator::{ApiError, EmulatorState};

/// The fields of one locale's article content (`article_content`).
const ARTICLE_CONTENT: [&str; 5] = ["title", "description", "body", "author_id", "state"];

/// `GET /help_center/help_centers`: every help center at once.
pub(super) async fn list_help_centers(State(emulator): State<EmulatorState>) -> Json<Value> {
    let guard = emulator.store();
    Json(json!({"type": "list", "data": guard.help_centers.clone()}))
}

pub(super) async fn get_help_center(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.help_centers, &id)?;
    Ok(Json(guard.help_centers[i].clone()).into_response())
}

pub(super) async fn list_collections(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    page_of(&guard.collections, q, 20, Value::clone)
}

pub(super) async fn get_collection(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.collections, &id)?;
    Ok(Json(guard.collections[i].clone()).into_response())
}

/// Checks `translated_content` of a collection: locale → `{name, description}`.
fn group_content(body: &Body) -> Result<Option<Map<String, Value>>, ApiError> {
    translated(body, |locale, key, _| match key {
        "type" | "name" | "description" => Ok(()),
        _ => Err(ApiError::new(
            400,
            "bad_request",
            format!("bad 'translated_content.{locale}.{key}' parameter"),
        )),
    })
}

/// `translated_content` of a request: an object of locale → object, each field checked by
/// `check(locale, key, value)`.
fn translated(
    body: &Body,
    check: impl Fn(&str, &str, &Value) -> Result<(), ApiError>,
) -> Result<Option<Map<String, Value>>, ApiError> {
    let Some(content) = body.object("translated_content")? else {
        return Ok(None);
    };
    for (locale, value) in content.iter().filter(|(l, _)| *l != "type") {
        let Some(fields) = value.as_object() else {
            return Err(ApiError::invalid(format!(
                "translated_content.{locale} must be an object"
            )));
        };
        for (key, v) in fields {
            check(locale, key, v)?;
        }
    }
    Ok(Some(content.clone()))
}

/// Checks a collection's `parent_id` (a collection of the same help center) and `help_center_id`.
fn collection_place(
    store: &Store,
    parent: Option<&str>,
    help_center: Option<i64>,
) -> Result<(), ApiError> {
    if let Some(parent) = parent {
        find(&store.collections, parent)
            .map_err(|_| ApiError::invalid(format!("parent_id {parent} is not a collection")))?;
    }
    if let Some(hc) = help_center
        && find(&store.help_centers, &hc.to_string()).is_err()
    {
        return Err(ApiError::invalid(format!(
            "help_center_id {hc} is not a help center"
        )));
    }
    Ok(())
}

const COLLECTION_FIELDS: [&str; 5] = [
    "name",
    "description",
    "translated_content",
    "parent_id",
    "help_center_id",
];

pub(super) async fn create_collection(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&COLLECTION_FIELDS)?;
    let name = b
        .str("name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            ApiError::new(400, "parameter_not_found", "Name is a required parameter.")
        })?;
    let description = b.str("description")?.unwrap_or_default();
    let content = group_content(&b)?;
    let parent = b.id("parent_id")?;
    let help_center = b.int("help_center_id")?;
    emulator.write(|store| {
        collection_place(store, parent.as_deref(), help_center)?;
        let id = next_id(&store.collections, 170);
        let at = now();
        let help_center = help_center.or_else(|| {
            store
                .help_centers
                .first()
                .and_then(|h| id_of(h).parse().ok())
        });
        let order = store.collections.len() + 1;
        let mut collection = json!({
            "id": id, "workspace_id": store.workspace_id, "name": name,
            "description": description, "created_at": at, "updated_at": at,
            "url": format!("https://help.example.test/en/collections/{id}"),
            "icon": "book-bookmark", "order": order, "default_locale": "en",
            "parent_id": parent, "help_center_id": help_center,
        });
        let mut translated = Map::new();
        translated.insert("type".into(), json!("group_translated_content"));
        translated.insert(
            "en".into(),
            json!({"type": "group_content", "name": name, "description": description}),
        );
        if let Some(content) = content {
            for (locale, value) in content.into_iter().filter(|(l, _)| l != "type") {
                let mut value = value;
                value["type"] = json!("group_content");
                translated.insert(locale, value);
            }
        }
        collection["translated_content"] = Value::Object(translated);
        store.collections.push(collection.clone());
        Ok(Json(collection).into_response())
    })
}

pub(super) async fn update_collection(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&COLLECTION_FIELDS[..4])?;
    let name = b.str("name")?;
    let description = b.str("description")?;
    let content = group_content(&b)?;
    let parent = b.nullable_str("parent_id")?;
    emulator.write(|store| {
        let i = find(&store.collections, &id)?;
        if let Some(Some(parent)) = &parent {
            if *parent == id_of(&store.collections[i]) {
                return Err(ApiError::invalid("a collection cannot be its own parent"));
            }
            collection_place(store, Some(parent), None)?;
        }
        let collection = &mut store.collections[i];
        if let Some(name) = name {
            collection["name"] = json!(name);
            collection["translated_content"]["en"]["name"] = json!(name);
        }
        if let Some(description) = description {
            collection["description"] = json!(description);
            collection["translated_content"]["en"]["description"] = json!(description);
        }
        if let Some(parent) = parent {
            collection["parent_id"] = json!(parent);
        }
        if let Some(content) = content {
            for (locale, value) in content.into_iter().filter(|(l, _)| l != "type") {
                let mut value = value;
                value["type"] = json!("group_content");
                collection["translated_content"][locale.as_str()] = value;
            }
        }
        collection["updated_at"] = json!(now());
        Ok(Json(collection.clone()).into_response())
    })
}

pub(super) async fn delete_collection(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.collections, &id)?;
        let gone = store.collections.remove(i);
        let gone_id = id_of(&gone).to_string();
        // Its sections and articles are left without a parent.
        for c in &mut store.collections {
            if c["parent_id"] == gone_id.as_str() {
                c["parent_id"] = Value::Null;
            }
        }
        for a in &mut store.articles {
            if a["parent_id"].as_i64().map(|p| p.to_string()).as_ref() == Some(&gone_id) {
                a["parent_id"] = Value::Null;
                a["parent_type"] = Value::Null;
                a["parent_ids"] = json!([]);
            }
        }
        Ok(Json(json!({"id": gone_id, "object": "collection", "deleted": true})).into_response())
    })
}

/// An article as lists show it (`article_list_item`: no statistics).
fn list_item(article: &Value) -> Value {
    let mut item = article.clone();
    if let Some(map) = item.as_object_mut() {
        map.remove("statistics");
    }
    item
}

pub(super) async fn list_articles(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    page_of(&guard.articles, q, 25, list_item)
}

/// `GET /articles/search?phrase=&state=&help_center_id=&highlight=`: the articles whose
/// title, description or body (any locale) holds the phrase, ignoring case; `state` is
/// `published` (the default), `draft` or `all`; `help_center_id` keeps the articles in that
/// help center's collections and their sections.
pub(super) async fn search_articles(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q.clone());
    let phrase = p
        .get("phrase")
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let state = p.get("state").map_or("published", String::as_str);
    if !["published", "draft", "all"].contains(&state) {
        return Err(ApiError::invalid(
            "state must be one of published, draft or all",
        ));
    }
    let highlight = match p.get("highlight").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("highlight must be true or false")),
    };
    let help_center = p
        .get("help_center_id")
        .map(|id| id.trim().parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::invalid("help_center_id must be an integer"))?;
    let guard = emulator.store();
    // The help center's collections, then their sections.
    let mut in_center: Vec<String> = guard
        .collections
        .iter()
        .filter(|c| help_center.is_some() && c["help_center_id"].as_i64() == help_center)
        .map(id_of)
        .collect();
    let sections: Vec<String> = guard
        .collections
        .iter()
        .filter(|c| {
            c["parent_id"]
                .as_str()
                .is_some_and(|p| in_center.iter().any(|i| i == p))
        })
        .map(id_of)
        .collect();
    in_center.extend(sections);
    let placed = |article: &Value| {
        help_center.is_none()
            || article["parent_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|id| in_center.contains(&id.to_string()))
    };
    let holds = |article: &Value| {
        let locales = article["translated_content"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values().filter(|v| v.is_object()));
        phrase.is_empty()
            || std::iter::once(article).chain(locales).any(|text| {
                ["title", "description", "body"].iter().any(|f| {
                    text[*f]
                        .as_str()
                        .is_some_and(|s| s.to_lowercase().contains(&phrase))
                })
            })
    };
    let found: Vec<Value> = guard
        .articles
        .iter()
        .filter(|a| (state == "all" || a["state"] == state) && placed(a) && holds(a))
        .map(list_item)
        .collect();
    // Highlights are plain text here: where the phrase is is not marked.
    let highlights = |article: &Value| -> Value {
        if !highlight {
            return Value::Null;
        }
        json!({
            "article_id": id_of(article),
            "highlighted_title": [{"type": "plain", "text": article["title"].as_str().unwrap_or("")}],
            "highlighted_summary": [[{"type": "plain", "text": article["description"].as_str().unwrap_or("")}]],
        })
    };
    search_page_of(
        found.iter().collect(),
        q,
        "articles",
        &[("highlights", &highlights)],
    )
}

pub(super) async fn get_article(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.articles, &id)?;
    Ok(Json(guard.articles[i].clone()).into_response())
}

const ARTICLE_FIELDS: [&str; 8] = [
    "title",
    "description",
    "body",
    "author_id",
    "state",
    "parent_id",
    "parent_type",
    "translated_content",
];

/// Checks `translated_content` of an article: locale → `article_content` fields.
fn article_content(body: &Body) -> Result<Option<Map<String, Value>>, ApiError> {
    translated(body, |locale, key, v| {
        let ok = match key {
            "type" | "title" | "description" | "body" | "url" => v.is_string() || v.is_null(),
            "author_id" | "created_at" | "updated_at" => v.is_i64(),
            "state" => matches!(v.as_str(), Some("published" | "draft")),
            _ => {
                return Err(ApiError::new(
                    400,
                    "bad_request",
                    format!("bad 'translated_content.{locale}.{key}' parameter"),
                ));
            }
        };
        match ok {
            true => Ok(()),
            false => Err(ApiError::invalid(format!(
                "translated_content.{locale}.{key} has the wrong type"
            ))),
        }
    })
}

/// The article's url for a locale.
fn article_url(id: &str, locale: &str, title: &str) -> String {
    let slug: String = title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("https://help.example.test/{locale}/articles/{id}-{slug}")
}

/// Sets one locale's content of `article` from `fields` (the default locale's also at the top).
fn set_content(article: &mut Value, locale: &str, fields: &Map<String, Value>, at: i64) {
    let id = id_of(article).to_string();
    let default = article["default_locale"]
        .as_str()
        .unwrap_or("en")
        .to_string();
    let entry = &mut article["translated_content"][locale];
    if !entry.is_object() {
        *entry = json!({"type": "article_content", "created_at": at, "state": "draft"});
    }
    for key in ARTICLE_CONTENT {
        if let Some(v) = fields.get(key) {
            entry[key] = v.clone();
        }
    }
    entry["updated_at"] = json!(at);
    let title = entry["title"].as_str().unwrap_or_default().to_string();
    entry["url"] = json!(article_url(&id, locale, &title));
    if locale == default {
        let entry = entry.clone();
        for key in ARTICLE_CONTENT.iter().chain(&["url"]) {
            article[*key] = entry[*key].clone();
        }
    }
}

/// Checks an article's parent: a collection (or section) that exists.
fn article_parent(store: &Store, parent: Option<&str>, kind: Option<&str>) -> Result<(), ApiError> {
    if let Some(kind) = kind
        && !["collection", "section"].contains(&kind)
    {
        return Err(ApiError::invalid(format!(
            "parent_type must be collection or section, got '{kind}'"
        )));
    }
    if let Some(parent) = parent {
        find(&store.collections, parent)
            .map_err(|_| ApiError::invalid(format!("parent_id {parent} is not a collection")))?;
    }
    Ok(())
}

pub(super) async fn create_article(
    State(emulator): State<EmulatorState>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&ARTICLE_FIELDS)?;
    let content = article_content(&b)?;
    let default = content
        .as_ref()
        .and_then(|c| c.get("en"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut fields = Map::new();
    for key in ARTICLE_CONTENT {
        if let Some(v) = b.get(key).filter(|v| !v.is_null()) {
            fields.insert(key.into(), v.clone());
        } else if let Some(v) = default.get(key) {
            fields.insert(key.into(), v.clone());
        }
    }
    if !fields.get("title").is_some_and(Value::is_string) {
        return Err(super::body::missing("title"));
    }
    let author = fields
        .get("author_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| {
            ApiError::new(
                400,
                "parameter_not_found",
                "author_id must be in the main body or default locale translated_content object",
            )
        })?;
    let state = b.enumerated("state", &["published", "draft"])?;
    let parent = b.id("parent_id")?;
    let parent_type = b.str("parent_type")?;
    emulator.write(|store| {
        if admin(store, &author.to_string()).is_none() {
            return Err(ApiError::invalid(format!("author_id {author} is not an admin")));
        }
        article_parent(store, parent.as_deref(), parent_type.as_deref())?;
        let id = next_id(&store.articles, 45);
        let at = now();
        let parent_id = parent.as_deref().and_then(|p| p.parse::<i64>().ok());
        let mut article = json!({
            "type": "article", "id": id, "workspace_id": store.workspace_id,
            "parent_id": parent_id,
            "parent_type": parent.as_ref().map(|_| parent_type.clone().unwrap_or_else(|| "collection".into())),
            "parent_ids": parent_id.into_iter().collect::<Vec<_>>(),
            "statistics": render::article_statistics(0),
            "tags": {"type": "tag.list", "tags": []},
            "default_locale": "en", "created_at": at, "updated_at": at,
            "translated_content": {"type": "article_translated_content"},
        });
        fields.insert(
            "state".into(),
            json!(state.unwrap_or("draft")),
        );
        set_content(&mut article, "en", &fields, at);
        for (locale, value) in content.into_iter().flatten() {
            if locale == "type" || locale == "en" {
                continue;
            }
            if let Some(map) = value.as_object() {
                set_content(&mut article, &locale, map, at);
            }
        }
        store.articles.push(article.clone());
        Ok(Json(article).into_response())
    })
}

pub(super) async fn update_article(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&ARTICLE_FIELDS)?;
    let content = article_content(&b)?;
    let mut fields = Map::new();
    for key in ARTICLE_CONTENT {
        if let Some(v) = b.get(key).filter(|v| !v.is_null()) {
            fields.insert(key.into(), v.clone());
        }
    }
    b.enumerated("state", &["published", "draft"])?;
    let author = b.int("author_id")?;
    let parent = b.id("parent_id")?;
    let parent_type = b.str("parent_type")?;
    emulator.write(|store| {
        let i = find(&store.articles, &id)?;
        if let Some(author) = author
            && admin(store, &author.to_string()).is_none()
        {
            return Err(ApiError::invalid(format!(
                "author_id {author} is not an admin"
            )));
        }
        article_parent(store, parent.as_deref(), parent_type.as_deref())?;
        let at = now();
        let article = &mut store.articles[i];
        if let Some(parent) = parent.as_deref().and_then(|p| p.parse::<i64>().ok()) {
            article["parent_id"] = json!(parent);
            article["parent_ids"] = json!([parent]);
            article["parent_type"] =
                json!(parent_type.clone().unwrap_or_else(|| "collection".into()));
        }
        let default = article["default_locale"]
            .as_str()
            .unwrap_or("en")
            .to_string();
        if !fields.is_empty() {
            set_content(article, &default, &fields, at);
        }
        for (locale, value) in content.into_iter().flatten() {
            if let (false, Some(map)) = (locale == "type", value.as_object()) {
                set_content(article, &locale, map, at);
            }
        }
        article["updated_at"] = json!(at);
        Ok(Json(article.clone()).into_response())
    })
}

pub(super) async fn delete_article(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = find(&store.articles, &id)?;
        let gone = store.articles.remove(i);
        Ok(Json(json!({"id": id_of(&gone), "object": "article", "deleted": true})).into_response())
    })
}
