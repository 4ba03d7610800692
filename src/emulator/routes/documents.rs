//! Objects the emulator keeps as the JSON the spec's schemas describe (the Help Center, news,
//! brands, sender addresses): finding one by id, numbering new ones, and page-numbered lists of
//! them, newest `updated_at` first.

use axum::Json;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::paging::{number_pages, page_param, page_range, params, per_page_param};
use crate::emulator::ApiError;

pub(super) fn not_found() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

/// An object's id as text (content import sources have numeric ids).
pub(super) fn id_of(object: &Value) -> String {
    match object.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(super) fn find(list: &[Value], id: &str) -> Result<usize, ApiError> {
    list.iter()
        .position(|o| id_of(o) == id.trim())
        .ok_or_else(not_found)
}

/// A page of `list` (newest `updated_at` first), as `{type: list, data, total_count, pages}`.
pub(super) fn page_of(
    list: &[Value],
    q: Option<String>,
    per_page_default: usize,
    shape: fn(&Value) -> Value,
) -> ApiResult {
    paged(list, q, per_page_default, shape, None)
}

/// [`page_of`] with `pages` as the spec's `pages_link`: `next` is the next page's URL (absent
/// on the last page), for the lists under `path`.
pub(super) fn linked_page_of(list: &[Value], q: Option<String>, path: &str) -> ApiResult {
    paged(list, q, 50, Value::clone, Some(path))
}

fn paged(
    list: &[Value],
    q: Option<String>,
    per_page_default: usize,
    shape: fn(&Value) -> Value,
    link: Option<&str>,
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, per_page_default)?);
    let mut order: Vec<&Value> = list.iter().collect();
    order.sort_by_key(|o| {
        let updated = o.get("updated_at").and_then(Value::as_i64).unwrap_or(0);
        (
            std::cmp::Reverse(updated),
            id_of(o).parse::<u64>().unwrap_or(0),
        )
    });
    let data: Vec<Value> = order[page_range(page, per_page, order.len())]
        .iter()
        .map(|o| shape(o))
        .collect();
    let mut pages = number_pages(page, per_page, order.len());
    if let Some(path) = link {
        pages["next"] = match pages["next"].is_null() {
            true => Value::Null,
            false => json!(format!(
                "https://api.intercom.io{path}?page={}&per_page={per_page}",
                page + 1
            )),
        };
    }
    Ok(Json(json!({
        "type": "list", "data": data, "total_count": order.len(), "pages": pages,
    }))
    .into_response())
}

/// What a search adds under `data` for one object of its page (`null`: nothing).
pub(super) type Shape<'a> = dyn Fn(&Value) -> Value + 'a;

/// A page of a search's `found` objects (newest `updated_at` first) as the help center's
/// searches answer: `{type: list, total_count, data: {<key>: […], <more>…}, pages}`; `more`
/// adds other arrays under `data` from the page's objects (an article search's `highlights`;
/// `null`s are left out).
pub(super) fn search_page_of(
    found: Vec<&Value>,
    q: Option<String>,
    key: &str,
    more: &[(&str, &Shape)],
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 10)?);
    let mut found = found;
    found.sort_by_key(|o| {
        let updated = o.get("updated_at").and_then(Value::as_i64).unwrap_or(0);
        (
            std::cmp::Reverse(updated),
            id_of(o).parse::<u64>().unwrap_or(0),
        )
    });
    let on_page = &found[page_range(page, per_page, found.len())];
    let mut data = serde_json::Map::new();
    data.insert(key.into(), on_page.iter().map(|o| (*o).clone()).collect());
    for (name, shape) in more {
        let items: Vec<Value> = on_page
            .iter()
            .map(|o| shape(o))
            .filter(|v| !v.is_null())
            .collect();
        data.insert((*name).into(), items.into());
    }
    let mut pages = number_pages(page, per_page, found.len());
    if let Some(map) = pages.as_object_mut() {
        map.remove("next");
    }
    Ok(Json(json!({
        "type": "list", "total_count": found.len(), "data": data, "pages": pages,
    }))
    .into_response())
}

/// A fresh numeric id above every id of `list` (ids are numeric strings).
pub(super) fn next_id(list: &[Value], first: u64) -> String {
    let max = list
        .iter()
        .filter_map(|o| id_of(o).parse::<u64>().ok())
        .max();
    max.map_or(first, |m| m + 1).to_string()
}
