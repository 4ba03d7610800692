//! Companies: exact lookup and lists, `POST /companies/list`, scroll, and the per-company
//! sub-lists.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::ApiResult;
use super::notes::notes_page;
use super::paging::{ItemsPage, number_pages, page_param, page_range, params, per_page_param};
use crate::emulator::render;
use crate::emulator::store::Store;
use crate::emulator::{ApiError, Db, EmulatorState, Scroll};

fn company_not_found() -> ApiError {
    ApiError::not_found("company_not_found", "Company Not Found")
}

/// How many companies the paged lists reach; the scroll reaches the rest (official spec,
/// `listAllCompanies`).
const LIST_REACH: usize = 10_000;

/// A page of a company list: pages reach the first [`LIST_REACH`] companies only, while
/// `total_count` counts them all.
fn companies_page(db: &Db, list: &[u32], page: usize, per_page: usize) -> Response {
    let reachable = &list[..list.len().min(LIST_REACH)];
    let body = ItemsPage {
        kind: "list",
        key: "data",
        items: reachable[page_range(page, per_page, reachable.len())]
            .iter()
            .map(|i| db.company_json(*i as usize))
            .collect(),
        total_count: list.len(),
        pages: number_pages(page, per_page, reachable.len()),
    };
    body.into_response()
}

/// `GET /companies`: exact lookup (`company_id`/`name` -> one company) or a page-number list
/// of companies with contacts, optionally by `tag_id`/`segment_id` (docs/intercom-notes.md,
/// "Companies without contacts").
pub(super) async fn list_companies(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let guard = emulator.store();
    let store: &Store = &guard;
    if let Some(company_id) = p.get("company_id") {
        let i = store
            .companies
            .iter()
            .position(|c| !c.deleted && c.company_id == *company_id)
            .ok_or_else(company_not_found)?;
        return Ok(Json(render::company(store, i)).into_response());
    }
    if let Some(name) = p.get("name") {
        let i = store
            .companies
            .iter()
            .position(|c| !c.deleted && c.name.eq_ignore_ascii_case(name))
            .ok_or_else(company_not_found)?;
        return Ok(Json(render::company(store, i)).into_response());
    }
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 15)?);
    // An unknown tag or segment matches no company (an empty list, not an error).
    let tag = p
        .get("tag_id")
        .map(|t| store.tag_index(t).map_or(u32::MAX, |i| i as u32));
    let segment = p
        .get("segment_id")
        .map(|id| store.segment_index(id).map_or(u32::MAX, |i| i as u32));
    let list: Vec<u32> = store
        .visible_companies
        .iter()
        .copied()
        .filter(|&i| {
            let c = &store.companies[i as usize];
            tag.is_none_or(|t| c.tags.iter().any(|x| x.tag == t))
                && segment.is_none_or(|seg| c.segments.contains(&seg))
        })
        .collect();
    Ok(companies_page(&guard, &list, page, per_page))
}

/// `POST /companies/list`: query params `page`, `per_page`, `order` (by `last_request_at`,
/// newest first by default).
pub(super) async fn post_companies_list(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 15)?);
    let guard = emulator.store();
    let store: &Store = &guard;
    let mut list = store.visible_companies.clone();
    list.sort_by_key(|&i| (store.companies[i as usize].last_request_at, i));
    match p.get("order").map(String::as_str) {
        None | Some("desc") => list.reverse(),
        Some("asc") => {}
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "order must be asc or desc, got '{other}'"
            )));
        }
    }
    Ok(companies_page(&guard, &list, page, per_page))
}

/// Companies per scroll page (server-chosen, docs/intercom-notes.md, "Paging").
const SCROLL_PAGE: usize = 50;
/// Idle time after which a scroll expires (docs/intercom-notes.md, "Paging").
const SCROLL_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// `GET /companies/scroll`: one open scroll per app, 60 s idle expiry, empty page at the end.
pub(super) async fn scroll_companies(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let guard = emulator.store();
    let store: &Store = &guard;
    let mut scroll = emulator.scroll();
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
                param: crate::emulator::error::request_id(),
                next: 0,
                last_used: std::time::Instant::now(),
            });
            0
        }
        // A finished, expired or unknown scroll is not found (clients such as Singer's tap
        // expect Intercom's 404).
        Some(param) => match scroll.as_ref() {
            Some(sc) if sc.param == *param => sc.next,
            _ => {
                return Err(ApiError::not_found(
                    "not_found",
                    "scroll_param not found: the scroll has ended or expired",
                ));
            }
        },
    };
    let list = &store.visible_companies;
    let end = (start + SCROLL_PAGE).min(list.len());
    let data: Vec<&RawValue> = list[start.min(end)..end]
        .iter()
        .map(|i| guard.company_json(*i as usize))
        .collect();
    let param = scroll
        .as_ref()
        .map(|sc| sc.param.clone())
        .unwrap_or_default();
    let data_is_empty = data.is_empty();
    if data_is_empty {
        // End of data: the scroll closes (docs/intercom-notes.md, "Paging").
        *scroll = None;
    } else if let Some(sc) = scroll.as_mut() {
        sc.next = end;
        sc.last_used = std::time::Instant::now();
    }
    // The empty last page has no scroll_param: the scroll is over (docs/intercom-notes.md,
    // "Paging"); following the one before it again gets 404.
    let page = ScrollPage {
        data,
        scroll_param: (!data_is_empty).then_some(param),
    };
    Ok(Json(page).into_response())
}

/// A page of the company scroll: `{"type": "list", "data", "pages": null, "total_count":
/// null}`, and `scroll_param` unless it is the empty last page.
struct ScrollPage<'a> {
    data: Vec<&'a RawValue>,
    scroll_param: Option<String>,
}

impl serde::Serialize for ScrollPage<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", "list")?;
        map.serialize_entry("data", &self.data)?;
        map.serialize_entry("pages", &Value::Null)?;
        map.serialize_entry("total_count", &Value::Null)?;
        if let Some(param) = &self.scroll_param {
            map.serialize_entry("scroll_param", param)?;
        }
        map.end()
    }
}

pub(super) async fn get_company(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let i = store.company_index(&id).ok_or_else(company_not_found)?;
    Ok(Json(render::company(store, i)).into_response())
}

pub(super) async fn company_contacts(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let p = params(q);
    let (page, per_page) = (page_param(&p)?, per_page_param(&p, 50)?);
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.companies[store.company_index(&id).ok_or_else(company_not_found)?];
    let live: Vec<u32> = c
        .contacts
        .iter()
        .copied()
        .filter(|&i| store.contacts[i as usize].is_live())
        .collect();
    let total = live.len();
    let body = ItemsPage {
        kind: "list",
        key: "data",
        items: live[page_range(page, per_page, total)]
            .iter()
            .map(|i| guard.contact_json(*i as usize))
            .collect(),
        total_count: total,
        pages: number_pages(page, per_page, total),
    };
    Ok(body.into_response())
}

pub(super) async fn company_segments(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.companies[store.company_index(&id).ok_or_else(company_not_found)?];
    let data: Vec<Value> = c
        .segments
        .iter()
        .map(|i| render::segment(store, *i as usize, None))
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}

pub(super) async fn company_notes(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let guard = emulator.store();
    let store: &Store = &guard;
    let c = &store.companies[store.company_index(&id).ok_or_else(company_not_found)?];
    notes_page(&guard, &c.notes, &params(q))
}
