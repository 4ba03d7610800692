//! Query strings, cursors, `pages` envelopes and search request bodies shared by the
//! resource handlers (docs/intercom-notes.md, "Paging").
//!
//! Cursors are opaque URL-safe base64 of `kind|page|index-of-last-item`, so a page resumes in
//! O(1) (lists) or O(log n) (search, by binary search in the cached match list).

use std::collections::HashMap;

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::emulator::ApiError;
use crate::emulator::search;

/// Decodes `%XX` escapes and `+` of a query-string component.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn params(raw: Option<String>) -> HashMap<String, String> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `per_page`: absent -> default; not a positive integer -> 400; above 150 -> 150
/// (docs/intercom-notes.md, "Paging").
pub(super) fn per_page(value: Option<&Value>, default: usize) -> Result<usize, ApiError> {
    let n = match value {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if n >= 1 => Ok((n as usize).min(150)),
        _ => Err(ApiError::invalid("per_page must be a positive integer")),
    }
}

pub(super) fn per_page_param(
    p: &HashMap<String, String>,
    default: usize,
) -> Result<usize, ApiError> {
    per_page(
        p.get("per_page").map(|s| Value::String(s.clone())).as_ref(),
        default,
    )
}

pub(super) fn page_param(p: &HashMap<String, String>) -> Result<usize, ApiError> {
    match p.get("page") {
        None => Ok(1),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(ApiError::invalid("page must be a positive integer")),
        },
    }
}

pub(super) fn encode_cursor(kind: &str, page: usize, last_index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}|{page}|{last_index}"))
}

/// Decodes a cursor issued for `kind`: (page it leads to, index of the last item seen).
pub(super) fn decode_cursor(kind: &str, cursor: &str) -> Result<(usize, usize), ApiError> {
    let bad = || ApiError::invalid(format!("starting_after '{cursor}' is not a valid cursor"));
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('=').trim())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut it = text.split('|');
    if it.next() != Some(kind) {
        return Err(bad());
    }
    let page = it.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let index = it.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    if it.next().is_some() {
        return Err(bad());
    }
    Ok((page, index))
}

pub(super) fn total_pages(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page)
}

/// One page of a cursor list over a `Vec` with hidden entries (deleted, archived…): up to
/// `per_page` indexes from `start` for which `live` holds, the index of the last one and
/// whether another live index follows (then `next` is due).
pub(super) fn live_window(
    len: usize,
    start: usize,
    per_page: usize,
    live: impl Fn(usize) -> bool,
) -> (Vec<usize>, bool) {
    let mut items = Vec::with_capacity(per_page.min(len));
    let mut i = start.min(len);
    while i < len && items.len() < per_page {
        if live(i) {
            items.push(i);
        }
        i += 1;
    }
    let more = (i..len).any(live);
    (items, more)
}

/// `pages` of a cursor list (docs/intercom-notes.md, "Paging"); `next` only when more rows remain.
pub(super) fn cursor_pages(
    page: usize,
    per_page: usize,
    total: usize,
    next: Option<String>,
) -> Value {
    let mut pages = json!({
        "type": "pages", "page": page, "per_page": per_page,
        "total_pages": total_pages(total, per_page),
    });
    if let (Some(cursor), Some(obj)) = (next, pages.as_object_mut()) {
        obj.insert(
            "next".into(),
            json!({"page": page.saturating_add(1), "per_page": per_page, "starting_after": cursor}),
        );
    }
    pages
}

/// `pages` of a page-number list (docs/intercom-notes.md, "Paging"): `next` is `{page, per_page}`
/// or null.
pub(super) fn number_pages(page: usize, per_page: usize, total: usize) -> Value {
    let pages = total_pages(total, per_page);
    let next = if page < pages {
        json!({"page": page + 1, "per_page": per_page})
    } else {
        Value::Null
    };
    json!({"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": pages})
}

/// Items `[(page-1)*per_page ..]` of `total`.
pub(super) fn page_range(page: usize, per_page: usize, total: usize) -> std::ops::Range<usize> {
    let start = (page - 1).saturating_mul(per_page).min(total);
    start..(start + per_page).min(total)
}

/// Parsed body of a search request (docs/intercom-notes.md, "Paging": pagination only in the body).
pub(super) struct SearchRequest {
    pub(super) query: Value,
    pub(super) per_page: usize,
    pub(super) cursor: Option<String>,
}

pub(super) fn parse_search(
    body: &Bytes,
    default_per_page: usize,
) -> Result<SearchRequest, ApiError> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("request body is not valid JSON: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| ApiError::invalid("request body must be a JSON object"))?;
    let query = obj
        .get("query")
        .cloned()
        .ok_or_else(|| ApiError::new(400, "parameter_not_found", "query is required"))?;
    let pagination = obj.get("pagination");
    if pagination.is_some_and(|p| !p.is_null() && !p.is_object()) {
        return Err(ApiError::invalid("pagination must be an object"));
    }
    let per_page = per_page(pagination.and_then(|p| p.get("per_page")), default_per_page)?;
    let cursor = match pagination.and_then(|p| p.get("starting_after")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("starting_after must be a string")),
    };
    Ok(SearchRequest {
        query,
        per_page,
        cursor,
    })
}

/// The page of a search's `matches` that `req` asks for, answered as `{"type": kind, key:
/// [...], "total_count", "pages"}` with each item as `show` renders it; `cursor` names the
/// search in its cursors.
pub(super) fn search_answer<'a>(
    cursor: &str,
    (kind, key): (&'static str, &'static str),
    matches: &[u32],
    req: &SearchRequest,
    show: impl Fn(usize) -> &'a RawValue,
) -> Result<axum::response::Response, ApiError> {
    let (page, items, next) = search_page(cursor, matches, req)?;
    let body = ItemsPage {
        kind,
        key,
        items: items.into_iter().map(show).collect(),
        total_count: matches.len(),
        pages: cursor_pages(page, req.per_page, matches.len(), next),
    };
    Ok(body.into_response())
}

/// One page of a cached match list: (page number, the page's store indexes, next cursor).
fn search_page(
    kind: &str,
    matches: &[u32],
    req: &SearchRequest,
) -> Result<(usize, Vec<usize>, Option<String>), ApiError> {
    let (page, start) = match &req.cursor {
        Some(cursor) => {
            let (page, last) = decode_cursor(kind, cursor)?;
            (page, matches.partition_point(|&m| (m as usize) <= last))
        }
        None => (1, 0),
    };
    let end = (start + req.per_page).min(matches.len());
    let items: Vec<usize> = matches[start..end].iter().map(|&m| m as usize).collect();
    let next = (end < matches.len())
        .then(|| {
            items
                .last()
                .map(|&last| encode_cursor(kind, page.saturating_add(1), last))
        })
        .flatten();
    Ok((page, items, next))
}

pub(super) fn compile(
    query: &Value,
    schema: &search::SearchSchema,
) -> Result<search::Query, ApiError> {
    search::compile(query, schema).map_err(|e| ApiError::invalid(e.message))
}

/// A list or search page, `{"type", <items key>: [...], "total_count", "pages"}`, whose items
/// are borrowed as rendered once and written as they are (no copy into a new `Value`).
pub(super) struct ItemsPage<'a> {
    /// The page's `type` (`list`, `conversation.list`, …).
    pub(super) kind: &'static str,
    /// The key its items are under (`data`, `conversations`, …).
    pub(super) key: &'static str,
    pub(super) items: Vec<&'a RawValue>,
    pub(super) total_count: usize,
    pub(super) pages: Value,
}

impl ItemsPage<'_> {
    /// The page as a JSON response, written into a buffer sized for it up front: a page of
    /// 150 contacts is ~150 KB, which a buffer grown from empty copies about twice over.
    pub(super) fn into_response(self) -> axum::response::Response {
        use axum::response::IntoResponse;
        let items: usize = self.items.iter().map(|item| item.get().len() + 1).sum();
        // The envelope around the items: type, key, total_count and pages (with a cursor).
        let mut body = Vec::with_capacity(items + 512);
        match serde_json::to_writer(&mut body, &self) {
            Ok(()) => (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
            Err(e) => ApiError::new(500, "server_error", format!("cannot write the page: {e}"))
                .into_response(),
        }
    }
}

impl serde::Serialize for ItemsPage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("type", self.kind)?;
        map.serialize_entry(self.key, &self.items)?;
        map.serialize_entry("total_count", &self.total_count)?;
        map.serialize_entry("pages", &self.pages)?;
        map.end()
    }
}
