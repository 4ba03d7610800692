//! HTTP handlers of the emulated Intercom API and their pagination (intercom-api.md §2).
//!
//! Handlers only read the store and shape envelopes; search semantics live in `search`,
//! object rendering in `render`, auth/faults/logging in the middleware of `mod.rs`.
//! Cursors are opaque URL-safe base64 of `kind|page|index-of-last-item`, so a page resumes in
//! O(1) (lists) or O(log n) (search, by binary search in the cached match list).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

use super::render::{self, ContactRecord, JsonRecord};
use super::search;
use super::{ApiError, EmulatorState, Scroll};

type ApiResult = Result<Response, ApiError>;

/// Every (METHOD, path template) served, with the spec's parameter names.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/me"),
    ("GET", "/admins"),
    ("GET", "/admins/{admin_id}"),
    ("GET", "/teams"),
    ("GET", "/teams/{team_id}"),
    ("GET", "/tags"),
    ("GET", "/tags/{tag_id}"),
    ("GET", "/segments"),
    ("GET", "/segments/{segment_id}"),
    ("GET", "/contacts"),
    ("GET", "/contacts/{contact_id}"),
    ("POST", "/contacts/search"),
    ("GET", "/contacts/find_by_external_id/{external_id}"),
    ("GET", "/contacts/{contact_id}/tags"),
    ("GET", "/contacts/{contact_id}/companies"),
    ("GET", "/contacts/{contact_id}/notes"),
    ("GET", "/contacts/{contact_id}/segments"),
    ("GET", "/companies"),
    ("GET", "/companies/{company_id}"),
    ("POST", "/companies/list"),
    ("GET", "/companies/scroll"),
    ("GET", "/companies/{company_id}/contacts"),
    ("GET", "/companies/{company_id}/segments"),
    ("GET", "/companies/{company_id}/notes"),
    ("GET", "/conversations"),
    ("GET", "/conversations/{conversation_id}"),
    ("POST", "/conversations/search"),
    ("POST", "/tickets/search"),
    ("GET", "/tickets/{ticket_id}"),
    ("GET", "/notes/{note_id}"),
    ("GET", "/data_attributes"),
];

/// The API routes (without middleware or state).
pub fn api_routes() -> Router<EmulatorState> {
    Router::new()
        .route("/me", get(me))
        .route("/admins", get(list_admins))
        .route("/admins/{admin_id}", get(get_admin))
        .route("/teams", get(list_teams))
        .route("/teams/{team_id}", get(get_team))
        .route("/tags", get(list_tags))
        .route("/tags/{tag_id}", get(get_tag))
        .route("/segments", get(list_segments))
        .route("/segments/{segment_id}", get(get_segment))
        .route("/contacts", get(list_contacts))
        .route("/contacts/search", post(search_contacts))
        .route(
            "/contacts/find_by_external_id/{external_id}",
            get(find_contact_by_external_id),
        )
        .route("/contacts/{contact_id}", get(get_contact))
        .route("/contacts/{contact_id}/tags", get(contact_tags))
        .route("/contacts/{contact_id}/companies", get(contact_companies))
        .route("/contacts/{contact_id}/notes", get(contact_notes))
        .route("/contacts/{contact_id}/segments", get(contact_segments))
        .route("/companies", get(list_companies))
        .route("/companies/list", post(post_companies_list))
        .route("/companies/scroll", get(scroll_companies))
        .route("/companies/{company_id}", get(get_company))
        .route("/companies/{company_id}/contacts", get(company_contacts))
        .route("/companies/{company_id}/segments", get(company_segments))
        .route("/companies/{company_id}/notes", get(company_notes))
        .route("/conversations", get(list_conversations))
        .route("/conversations/search", post(search_conversations))
        .route("/conversations/{conversation_id}", get(get_conversation))
        .route("/tickets/search", post(search_tickets))
        .route("/tickets/{ticket_id}", get(get_ticket))
        .route("/notes/{note_id}", get(get_note))
        .route("/data_attributes", get(list_data_attributes))
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
}

/// Intercom answers unknown paths and unsupported methods with 404 (§6.2).
async fn unknown_route() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

// ---------------------------------------------------------------------------------------------
// Query strings and cursors

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
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn params(raw: Option<String>) -> HashMap<String, String> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `per_page`: absent -> default; not a positive integer -> 400; above 150 -> 150 (§2.2).
fn per_page(value: Option<&Value>, default: usize) -> Result<usize, ApiError> {
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

fn per_page_param(p: &HashMap<String, String>, default: usize) -> Result<usize, ApiError> {
    per_page(
        p.get("per_page").map(|s| Value::String(s.clone())).as_ref(),
        default,
    )
}

fn page_param(p: &HashMap<String, String>) -> Result<usize, ApiError> {
    match p.get("page") {
        None => Ok(1),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(ApiError::invalid("page must be a positive integer")),
        },
    }
}

fn encode_cursor(kind: &str, page: usize, last_index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}|{page}|{last_index}"))
}

/// Decodes a cursor issued for `kind`: (page it leads to, index of the last item seen).
fn decode_cursor(kind: &str, cursor: &str) -> Result<(usize, usize), ApiError> {
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

fn total_pages(total: usize, per_page: usize) -> usize {
    total.div_ceil(per_page)
}

/// `pages` of a cursor list (§2.1); `next` only when more rows remain.
fn cursor_pages(page: usize, per_page: usize, total: usize, next: Option<String>) -> Value {
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

/// `pages` of a page-number list (§2.4): `next` is `{page, per_page}` or null.
fn number_pages(page: usize, per_page: usize, total: usize) -> Value {
    let pages = total_pages(total, per_page);
    let next = if page < pages {
        json!({"page": page + 1, "per_page": per_page})
    } else {
        Value::Null
    };
    json!({"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": pages})
}

/// Items `[(page-1)*per_page ..]` of `total`.
fn page_range(page: usize, per_page: usize, total: usize) -> std::ops::Range<usize> {
    let start = (page - 1).saturating_mul(per_page).min(total);
    start..(start + per_page).min(total)
}

// ---------------------------------------------------------------------------------------------
// Admins, teams, tags, segments, notes, data attributes

async fn me(State(st): State<EmulatorState>) -> Json<Value> {
    Json(render::me(st.store()))
}

async fn list_admins(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> Json<Value> {
    let avatar = params(q).get("display_avatar").is_some_and(|v| v == "true");
    let s = st.store();
    let admins: Vec<Value> = (0..s.admins.len())
        .map(|i| render::admin(s, i, avatar))
        .collect();
    Json(json!({"type": "admin.list", "admins": admins}))
}

async fn get_admin(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s
        .admin_index(&id)
        .ok_or_else(|| ApiError::not_found("admin_not_found", "Admin not found"))?;
    Ok(Json(render::admin(s, i, false)).into_response())
}

async fn list_teams(State(st): State<EmulatorState>) -> Json<Value> {
    let s = st.store();
    let teams: Vec<Value> = (0..s.teams.len()).map(|i| render::team(s, i)).collect();
    Json(json!({"type": "team.list", "teams": teams}))
}

async fn get_team(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s
        .team_index(&id)
        .ok_or_else(|| ApiError::not_found("team_not_found", "Team not found"))?;
    Ok(Json(render::team(s, i)).into_response())
}

async fn list_tags(State(st): State<EmulatorState>) -> Json<Value> {
    let s = st.store();
    let tags: Vec<Value> = (0..s.tags.len()).map(|i| render::tag(s, i, None)).collect();
    Json(json!({"type": "list", "data": tags}))
}

fn resource_not_found() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

async fn get_tag(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s.tag_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::tag(s, i, None)).into_response())
}

fn segment_count(st: &EmulatorState, segment: usize) -> usize {
    let s = st.store();
    let seg = segment as u32;
    s.contacts
        .iter()
        .filter(|c| c.segments.contains(&seg))
        .count()
        + s.companies
            .iter()
            .filter(|c| c.segments.contains(&seg))
            .count()
}

async fn list_segments(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> Json<Value> {
    let with_count = params(q).get("include_count").is_some_and(|v| v == "true");
    let s = st.store();
    let segments: Vec<Value> = (0..s.segments.len())
        .map(|i| render::segment(s, i, with_count.then(|| segment_count(&st, i))))
        .collect();
    Json(json!({"type": "segment.list", "segments": segments, "pages": {}}))
}

async fn get_segment(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let with_count = params(q).get("include_count").is_some_and(|v| v == "true");
    let s = st.store();
    let i = s.segment_index(&id).ok_or_else(resource_not_found)?;
    let count = with_count.then(|| segment_count(&st, i));
    Ok(Json(render::segment(s, i, count)).into_response())
}

async fn get_note(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s.note_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::note(s, i)).into_response())
}

async fn list_data_attributes(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = params(q);
    let model = p.get("model").map(String::as_str);
    if let Some(m) = model
        && !matches!(m, "contact" | "company" | "conversation")
    {
        return Err(ApiError::invalid(format!(
            "model must be one of contact, company, conversation; got '{m}'"
        )));
    }
    let data: Vec<Value> = st
        .store()
        .data_attributes
        .iter()
        .filter(|a| model.is_none_or(|m| a.model == m))
        .map(render::data_attribute)
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

// ---------------------------------------------------------------------------------------------
// Contacts

fn contact_not_found() -> ApiError {
    ApiError::not_found("not_found", "User Not Found")
}

#[derive(Serialize)]
struct ContactPage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    data: Vec<render::ContactView<'a>>,
    total_count: usize,
    pages: Value,
}

/// `GET /contacts`: cursor list, default 10 per page on the wire (§2.2), max 150.
async fn list_contacts(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = params(q);
    let per_page = per_page_param(&p, 10)?;
    let s = st.store();
    let total = s.contacts.len();
    let (page, start) = match p.get("starting_after").filter(|c| !c.is_empty()) {
        Some(cursor) => {
            let (page, last) = decode_cursor("contacts", cursor)?;
            (page, last.saturating_add(1).min(total))
        }
        None => (1, 0),
    };
    let end = (start + per_page).min(total);
    let next = (end < total).then(|| encode_cursor("contacts", page.saturating_add(1), end - 1));
    let body = ContactPage {
        kind: "list",
        data: (start..end).map(|i| render::contact(s, i)).collect(),
        total_count: total,
        pages: cursor_pages(page, per_page, total, next),
    };
    Ok(Json(body).into_response())
}

async fn get_contact(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s.contact_index(&id).ok_or_else(contact_not_found)?;
    Ok(Json(render::contact(s, i)).into_response())
}

async fn find_contact_by_external_id(
    State(st): State<EmulatorState>,
    Path(external_id): Path<String>,
) -> ApiResult {
    let s = st.store();
    let i = s
        .contact_by_external_id
        .get(&external_id)
        .copied()
        .filter(|i| s.contacts[*i as usize].role == "user")
        .ok_or_else(contact_not_found)?;
    Ok(Json(render::contact(s, i as usize)).into_response())
}

async fn contact_tags(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let c = &s.contacts[s.contact_index(&id).ok_or_else(contact_not_found)?];
    let tags: Vec<Value> = c
        .tags
        .iter()
        .map(|t| render::tag(s, t.tag as usize, Some(t)))
        .collect();
    Ok(Json(json!({"type": "list", "data": tags})).into_response())
}

async fn contact_segments(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let c = &s.contacts[s.contact_index(&id).ok_or_else(contact_not_found)?];
    let segments: Vec<Value> = c
        .segments
        .iter()
        .map(|i| render::segment(s, *i as usize, None))
        .collect();
    Ok(Json(json!({"type": "list", "data": segments})).into_response())
}

/// `GET /contacts/{id}/companies`: page-number list with link-style `pages.next` (a URL).
async fn contact_companies(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 50)?);
    let s = st.store();
    let c = &s.contacts[s.contact_index(&id).ok_or_else(contact_not_found)?];
    let total = c.companies.len();
    let data: Vec<Value> = c.companies[page_range(page, per_page, total)]
        .iter()
        .map(|i| render::company(s, *i as usize))
        .collect();
    let pages = total_pages(total, per_page);
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let next = (page < pages).then(|| {
        format!(
            "http://{host}/contacts/{id}/companies?page={}&per_page={per_page}",
            page + 1
        )
    });
    Ok(Json(json!({
        "type": "list", "data": data, "total_count": total,
        "pages": {"type": "pages", "next": next, "page": page, "per_page": per_page, "total_pages": pages},
    }))
    .into_response())
}

fn notes_page(st: &EmulatorState, notes: &[u32], p: &HashMap<String, String>) -> ApiResult {
    let (page, per_page) = (page_param(p)?, per_page_param(p, 50)?);
    let s = st.store();
    let data: Vec<Value> = notes[page_range(page, per_page, notes.len())]
        .iter()
        .map(|i| render::note(s, *i as usize))
        .collect();
    Ok(Json(json!({
        "type": "list", "data": data, "total_count": notes.len(),
        "pages": number_pages(page, per_page, notes.len()),
    }))
    .into_response())
}

async fn contact_notes(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let s = st.store();
    let c = &s.contacts[s.contact_index(&id).ok_or_else(contact_not_found)?];
    notes_page(&st, &c.notes, &params(q))
}

/// Parsed body of a search request (§2.3: pagination only in the body).
struct SearchRequest {
    query: Value,
    per_page: usize,
    cursor: Option<String>,
}

fn parse_search(body: &Bytes, default_per_page: usize) -> Result<SearchRequest, ApiError> {
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

fn compile(query: &Value, schema: &search::SearchSchema) -> Result<search::Query, ApiError> {
    search::compile(query, schema).map_err(|e| ApiError::invalid(e.message))
}

/// `POST /contacts/search` (default 50 per page).
async fn search_contacts(State(st): State<EmulatorState>, body: Bytes) -> ApiResult {
    let req = parse_search(&body, 50)?;
    let query = compile(&req.query, st.schemas().0)?;
    let s = st.store();
    let matches = st.cached_matches(format!("contacts:{}", req.query), || {
        s.contacts
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                query.matches(&ContactRecord {
                    store: s,
                    contact: c,
                })
            })
            .map(|(i, _)| i as u32)
            .collect()
    });
    let (page, items, next) = search_page("contacts.search", &matches, &req)?;
    let body = ContactPage {
        kind: "list",
        data: items.into_iter().map(|i| render::contact(s, i)).collect(),
        total_count: matches.len(),
        pages: cursor_pages(page, req.per_page, matches.len(), next),
    };
    Ok(Json(body).into_response())
}

// ---------------------------------------------------------------------------------------------
// Companies

fn company_not_found() -> ApiError {
    ApiError::not_found("company_not_found", "Company Not Found")
}

fn companies_page(st: &EmulatorState, list: &[u32], page: usize, per_page: usize) -> Response {
    let s = st.store();
    let data: Vec<Value> = list[page_range(page, per_page, list.len())]
        .iter()
        .map(|i| render::company(s, *i as usize))
        .collect();
    Json(json!({
        "type": "list", "data": data, "total_count": list.len(),
        "pages": number_pages(page, per_page, list.len()),
    }))
    .into_response()
}

/// `GET /companies`: exact lookup (`company_id`/`name` -> one company) or a page-number list
/// of companies with contacts, optionally by `tag_id`/`segment_id` (§4.6).
async fn list_companies(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = params(q);
    let s = st.store();
    if let Some(company_id) = p.get("company_id") {
        let i = s
            .companies
            .iter()
            .position(|c| c.company_id == *company_id)
            .ok_or_else(company_not_found)?;
        return Ok(Json(render::company(s, i)).into_response());
    }
    if let Some(name) = p.get("name") {
        let i = s
            .companies
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(company_not_found)?;
        return Ok(Json(render::company(s, i)).into_response());
    }
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 15)?);
    // An unknown tag or segment matches no company (an empty list, not an error).
    let tag = p
        .get("tag_id")
        .map(|t| s.tag_index(t).map_or(u32::MAX, |i| i as u32));
    let segment = p
        .get("segment_id")
        .map(|id| s.segment_index(id).map_or(u32::MAX, |i| i as u32));
    let list: Vec<u32> = s
        .visible_companies
        .iter()
        .copied()
        .filter(|&i| {
            let c = &s.companies[i as usize];
            tag.is_none_or(|t| c.tags.iter().any(|x| x.tag == t))
                && segment.is_none_or(|seg| c.segments.contains(&seg))
        })
        .collect();
    Ok(companies_page(&st, &list, page, per_page))
}

/// `POST /companies/list`: query params `page`, `per_page`, `order` (by `last_request_at`,
/// newest first by default).
async fn post_companies_list(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 15)?);
    let s = st.store();
    let mut list = s.visible_companies.clone();
    list.sort_by_key(|&i| (s.companies[i as usize].last_request_at, i));
    match p.get("order").map(String::as_str) {
        None | Some("desc") => list.reverse(),
        Some("asc") => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "order must be asc or desc, got '{other}'"
            )));
        }
    }
    Ok(companies_page(&st, &list, page, per_page))
}

/// Companies per scroll page (server-chosen, §2.5).
const SCROLL_PAGE: usize = 50;
/// Idle time after which a scroll expires (§2.5).
const SCROLL_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// `GET /companies/scroll`: one open scroll per app, 60 s idle expiry, empty page at the end.
async fn scroll_companies(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = params(q);
    let s = st.store();
    let mut scroll = st.scroll();
    if scroll
        .as_ref()
        .is_some_and(|sc| sc.last_used.elapsed() > SCROLL_TTL)
    {
        *scroll = None;
    }
    let start = match p.get("scroll_param").filter(|v| !v.is_empty()) {
        None => {
            if scroll.is_some() {
                return Err(ApiError::new(
                    400,
                    "bad_request",
                    "scroll already exists for this app",
                ));
            }
            *scroll = Some(Scroll {
                param: super::error::request_id(),
                next: 0,
                last_used: std::time::Instant::now(),
            });
            0
        }
        Some(param) => match scroll.as_ref() {
            Some(sc) if sc.param == *param => sc.next,
            _ => {
                return Err(ApiError::invalid(
                    "scroll_param is invalid or the scroll has expired",
                ));
            }
        },
    };
    let list = &s.visible_companies;
    let end = (start + SCROLL_PAGE).min(list.len());
    let data: Vec<Value> = list[start.min(end)..end]
        .iter()
        .map(|i| render::company(s, *i as usize))
        .collect();
    let param = scroll
        .as_ref()
        .map(|sc| sc.param.clone())
        .unwrap_or_default();
    if data.is_empty() {
        // End of data: the scroll closes (§2.5).
        *scroll = None;
    } else if let Some(sc) = scroll.as_mut() {
        sc.next = end;
        sc.last_used = std::time::Instant::now();
    }
    Ok(Json(json!({
        "type": "list", "data": data, "pages": Value::Null, "total_count": Value::Null,
        "scroll_param": param,
    }))
    .into_response())
}

async fn get_company(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s.company_index(&id).ok_or_else(company_not_found)?;
    Ok(Json(render::company(s, i)).into_response())
}

async fn company_contacts(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 50)?);
    let s = st.store();
    let c = &s.companies[s.company_index(&id).ok_or_else(company_not_found)?];
    let total = c.contacts.len();
    let body = ContactPage {
        kind: "list",
        data: c.contacts[page_range(page, per_page, total)]
            .iter()
            .map(|i| render::contact(s, *i as usize))
            .collect(),
        total_count: total,
        pages: number_pages(page, per_page, total),
    };
    Ok(Json(body).into_response())
}

async fn company_segments(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let c = &s.companies[s.company_index(&id).ok_or_else(company_not_found)?];
    let data: Vec<Value> = c
        .segments
        .iter()
        .map(|i| render::segment(s, *i as usize, None))
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

async fn company_notes(
    State(st): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let s = st.store();
    let c = &s.companies[s.company_index(&id).ok_or_else(company_not_found)?];
    notes_page(&st, &c.notes, &params(q))
}

// ---------------------------------------------------------------------------------------------
// Conversations and tickets

/// `GET /conversations`: cursor list, default 20, never with parts (§2.2).
async fn list_conversations(State(st): State<EmulatorState>, RawQuery(q): RawQuery) -> ApiResult {
    let p = params(q);
    let per_page = per_page_param(&p, 20)?;
    let s = st.store();
    let total = s.conversations.len();
    let (page, start) = match p.get("starting_after").filter(|c| !c.is_empty()) {
        Some(cursor) => {
            let (page, last) = decode_cursor("conversations", cursor)?;
            (page, last.saturating_add(1).min(total))
        }
        None => (1, 0),
    };
    let end = (start + per_page).min(total);
    let next =
        (end < total).then(|| encode_cursor("conversations", page.saturating_add(1), end - 1));
    let items: Vec<Value> = (start..end)
        .map(|i| render::conversation(s, i, false))
        .collect();
    Ok(Json(json!({
        "type": "conversation.list", "conversations": items, "total_count": total,
        "pages": cursor_pages(page, per_page, total, next),
    }))
    .into_response())
}

async fn get_conversation(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s.conversation_index(&id).ok_or_else(resource_not_found)?;
    Ok(Json(render::conversation(s, i, true)).into_response())
}

/// `POST /conversations/search` (default 20, no parts).
async fn search_conversations(State(st): State<EmulatorState>, body: Bytes) -> ApiResult {
    let req = parse_search(&body, 20)?;
    let query = compile(&req.query, st.schemas().1)?;
    let s = st.store();
    let matches: Arc<Vec<u32>> = st.cached_matches(format!("conversations:{}", req.query), || {
        (0..s.conversations.len())
            .filter(|&i| query.matches(&JsonRecord(&render::conversation(s, i, false))))
            .map(|i| i as u32)
            .collect()
    });
    let (page, items, next) = search_page("conversations.search", &matches, &req)?;
    let items: Vec<Value> = items
        .into_iter()
        .map(|i| render::conversation(s, i, false))
        .collect();
    Ok(Json(json!({
        "type": "conversation.list", "conversations": items, "total_count": matches.len(),
        "pages": cursor_pages(page, req.per_page, matches.len(), next),
    }))
    .into_response())
}

/// `POST /tickets/search` (default 20, parts included).
async fn search_tickets(State(st): State<EmulatorState>, body: Bytes) -> ApiResult {
    let req = parse_search(&body, 20)?;
    let query = compile(&req.query, st.schemas().2)?;
    let s = st.store();
    let matches = st.cached_matches(format!("tickets:{}", req.query), || {
        (0..s.tickets.len())
            .filter(|&i| query.matches(&JsonRecord(&render::ticket_search_json(s, i))))
            .map(|i| i as u32)
            .collect()
    });
    let (page, items, next) = search_page("tickets.search", &matches, &req)?;
    let items: Vec<Value> = items.into_iter().map(|i| render::ticket(s, i)).collect();
    Ok(Json(json!({
        "type": "ticket.list", "tickets": items, "total_count": matches.len(),
        "pages": cursor_pages(page, req.per_page, matches.len(), next),
    }))
    .into_response())
}

async fn get_ticket(State(st): State<EmulatorState>, Path(id): Path<String>) -> ApiResult {
    let s = st.store();
    let i = s
        .ticket_index(&id)
        .ok_or_else(|| ApiError::not_found("ticket_not_found", "Ticket not found"))?;
    Ok(Json(render::ticket(s, i)).into_response())
}
