//! Company writes (docs/intercom-notes.md, "Writes"): upsert by `company_id`, update, delete.
//!
//! A created company stays out of list endpoints until a contact is attached
//! (docs/intercom-notes.md, "Companies without contacts"); a deleted one is archived: its contacts
//! are detached (they survive) and it is never found again.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::json;

use super::ApiResult;
use super::body::Body;
use super::shared::{apply_custom, custom_changes, now, remove_value, unknown_attribute};
use crate::emulator::render;
use crate::emulator::store::{AttrValue, Company, Store, next_hex_id};
use crate::emulator::{ApiError, EmulatorState};

fn company_not_found() -> ApiError {
    ApiError::not_found("company_not_found", "Company Not Found")
}

/// Writable company fields of `PUT /companies/{id}`; `POST /companies` adds `company_id` and
/// `remote_created_at` (`create_or_update_company_request`).
const UPDATE_KEYS: &[&str] = &[
    "name",
    "plan",
    "size",
    "website",
    "industry",
    "custom_attributes",
    "monthly_spend",
];

#[derive(Default)]
struct CompanyChanges {
    name: Option<String>,
    plan: Option<String>,
    size: Option<i64>,
    website: Option<String>,
    industry: Option<String>,
    monthly_spend: Option<i64>,
    remote_created_at: Option<i64>,
    custom: Vec<(u32, Option<AttrValue>)>,
}

fn company_changes(store: &Store, body_fields: &Body) -> Result<CompanyChanges, ApiError> {
    let custom = match body_fields.object("custom_attributes")? {
        Some(values) => custom_changes(store, "company", values, unknown_attribute)?,
        None => Vec::new(),
    };
    Ok(CompanyChanges {
        name: body_fields.str("name")?,
        plan: body_fields.str("plan")?,
        size: body_fields.int("size")?,
        website: body_fields.str("website")?,
        industry: body_fields.str("industry")?,
        // docs/intercom-notes.md, "Writes": floats are truncated to an integer.
        monthly_spend: body_fields.truncated("monthly_spend")?,
        remote_created_at: body_fields.int("remote_created_at")?,
        custom,
    })
}

/// The id of a plan by name: the one companies already use, else a new one.
fn plan_id(store: &Store, name: &str) -> String {
    let known = store
        .companies
        .iter()
        .filter_map(|c| c.plan.as_ref())
        .find(|(_, n)| n == name)
        .map(|(id, _)| id.clone());
    known.unwrap_or_else(|| {
        let max = store
            .companies
            .iter()
            .filter_map(|c| c.plan.as_ref().and_then(|(id, _)| id.parse::<u64>().ok()))
            .max()
            .unwrap_or(261_000);
        (max + 1).to_string()
    })
}

fn apply_changes(store: &mut Store, i: usize, ch: CompanyChanges) {
    let plan = ch
        .plan
        .filter(|p| !p.is_empty())
        .map(|p| (plan_id(store, &p), p));
    let c = &mut store.companies[i];
    if let Some(v) = ch.name {
        c.name = v;
    }
    if plan.is_some() {
        c.plan = plan;
    }
    if let Some(v) = ch.size {
        c.size = v;
    }
    if let Some(v) = ch.website {
        c.website = v;
    }
    if let Some(v) = ch.industry {
        c.industry = v;
    }
    if let Some(v) = ch.monthly_spend {
        c.monthly_spend = v;
    }
    if let Some(v) = ch.remote_created_at {
        c.remote_created_at = v;
    }
    apply_custom(&mut c.custom, ch.custom);
    c.updated_at = now();
}

/// `POST /companies`: looked up by `company_id`, updated if found, else created
/// (docs/intercom-notes.md, "Writes").
pub(super) async fn upsert(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    let mut keys = UPDATE_KEYS.to_vec();
    keys.extend(["company_id", "remote_created_at"]);
    body_fields.allow(&keys)?;
    let company_id = body_fields.req_text("company_id")?;
    emulator.write(|store| {
        let ch = company_changes(store, &body_fields)?;
        let existing = store
            .companies
            .iter()
            .position(|c| !c.deleted && c.company_id == company_id);
        let i = match existing {
            Some(i) => i,
            None => {
                let at = now();
                let id = next_hex_id(
                    store.companies.last().map(|c| c.id.as_str()),
                    at,
                    0xc0 + store.companies.len() as u64,
                );
                store.companies.push(Company {
                    id,
                    company_id: company_id.clone(),
                    name: String::new(),
                    plan: None,
                    remote_created_at: at,
                    created_at: at,
                    updated_at: at,
                    last_request_at: at,
                    size: 0,
                    website: String::new(),
                    industry: String::new(),
                    monthly_spend: 0,
                    session_count: 0,
                    custom: Vec::new(),
                    tags: Vec::new(),
                    segments: Vec::new(),
                    contacts: Vec::new(),
                    notes: Vec::new(),
                    deleted: false,
                });
                store.companies.len() - 1
            }
        };
        apply_changes(store, i, ch);
        Ok(Json(render::company(store, i)).into_response())
    })
}

/// `PUT /companies/{id}` (Intercom id); `company_id` can never change.
pub(super) async fn update(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body_fields = Body::parse(&body)?;
    body_fields.allow(UPDATE_KEYS)?;
    emulator.write(|store| {
        let i = store.company_index(&id).ok_or_else(company_not_found)?;
        let ch = company_changes(store, &body_fields)?;
        apply_changes(store, i, ch);
        Ok(Json(render::company(store, i)).into_response())
    })
}

/// `DELETE /companies/{id}`: `{id, object: "company", deleted: true}`.
pub(super) async fn delete(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    emulator.write(|store| {
        let i = store.company_index(&id).ok_or_else(company_not_found)?;
        let contacts = std::mem::take(&mut store.companies[i].contacts);
        for c in contacts {
            if let Some(contact) = store.contacts.get_mut(c as usize) {
                remove_value(&mut contact.companies, i as u32);
            }
        }
        for conv in store.conversations.iter_mut() {
            if conv.company == Some(i as u32) {
                conv.company = None;
            }
        }
        for ticket in store.tickets.iter_mut() {
            if ticket.company == Some(i as u32) {
                ticket.company = None;
            }
        }
        store.companies[i].deleted = true;
        store.refresh_indexes();
        Ok(
            Json(json!({"id": store.companies[i].id, "object": "company", "deleted": true}))
                .into_response(),
        )
    })
}
