//! HTTP handlers of the emulated Intercom API, one file per resource, and their pagination
//! (intercom-api.md §2). This module holds the route table and the router wiring.
//!
//! Handlers only read the store and shape envelopes; search semantics live in `search`,
//! object rendering in `render`, auth/faults/logging in the middleware of `emulator/mod.rs`,
//! query strings, cursors and `pages` envelopes in [`paging`].

mod admins;
mod companies;
mod contacts;
mod conversations;
mod data_attributes;
mod notes;
mod paging;
mod segments;
mod tags;
mod tickets;

use axum::Router;
use axum::response::Response;
use axum::routing::{get, post};

use super::{ApiError, EmulatorState};

pub use paging::percent_decode;

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
        .route("/me", get(admins::me))
        .route("/admins", get(admins::list_admins))
        .route("/admins/{admin_id}", get(admins::get_admin))
        .route("/teams", get(admins::list_teams))
        .route("/teams/{team_id}", get(admins::get_team))
        .route("/tags", get(tags::list_tags))
        .route("/tags/{tag_id}", get(tags::get_tag))
        .route("/segments", get(segments::list_segments))
        .route("/segments/{segment_id}", get(segments::get_segment))
        .route("/contacts", get(contacts::list_contacts))
        .route("/contacts/search", post(contacts::search_contacts))
        .route(
            "/contacts/find_by_external_id/{external_id}",
            get(contacts::find_contact_by_external_id),
        )
        .route("/contacts/{contact_id}", get(contacts::get_contact))
        .route("/contacts/{contact_id}/tags", get(contacts::contact_tags))
        .route(
            "/contacts/{contact_id}/companies",
            get(contacts::contact_companies),
        )
        .route("/contacts/{contact_id}/notes", get(contacts::contact_notes))
        .route(
            "/contacts/{contact_id}/segments",
            get(contacts::contact_segments),
        )
        .route("/companies", get(companies::list_companies))
        .route("/companies/list", post(companies::post_companies_list))
        .route("/companies/scroll", get(companies::scroll_companies))
        .route("/companies/{company_id}", get(companies::get_company))
        .route(
            "/companies/{company_id}/contacts",
            get(companies::company_contacts),
        )
        .route(
            "/companies/{company_id}/segments",
            get(companies::company_segments),
        )
        .route(
            "/companies/{company_id}/notes",
            get(companies::company_notes),
        )
        .route("/conversations", get(conversations::list_conversations))
        .route(
            "/conversations/search",
            post(conversations::search_conversations),
        )
        .route(
            "/conversations/{conversation_id}",
            get(conversations::get_conversation),
        )
        .route("/tickets/search", post(tickets::search_tickets))
        .route("/tickets/{ticket_id}", get(tickets::get_ticket))
        .route("/notes/{note_id}", get(notes::get_note))
        .route(
            "/data_attributes",
            get(data_attributes::list_data_attributes),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
}

/// Intercom answers unknown paths and unsupported methods with 404 (§6.2).
async fn unknown_route() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

fn resource_not_found() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}
