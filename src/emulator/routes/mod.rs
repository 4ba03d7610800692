//! HTTP handlers of the emulated Intercom API, one file per resource, and their pagination
//! (docs/intercom-notes.md, "Paging"). This module holds the route table and the router wiring.
//!
//! Read handlers take the store's shared lock and shape envelopes; write handlers parse their
//! body ([`body`]), then validate and mutate inside one `EmulatorState::write` (so a rejected
//! request leaves the store unchanged). Search semantics live in `search`, object rendering in
//! `render`, auth/faults/logging in the middleware of `emulator/mod.rs`, query strings, cursors
//! and `pages` envelopes in [`paging`], helpers shared by writes in [`shared`].

mod activity;
mod admins;
mod body;
mod calls;
mod companies;
mod company_writes;
mod contact_writes;
mod contacts;
mod conversation_writes;
mod conversations;
mod custom_objects;
mod data_attributes;
mod documents;
mod events;
mod exports;
mod fin;
mod fin_voice;
mod help_center;
mod knowledge;
mod messages;
mod news;
mod notes;
mod paging;
mod replies;
mod segments;
mod shared;
mod tags;
mod ticket_types;
mod ticket_writes;
mod tickets;
mod visitors;
mod workspace;

use axum::Router;
use axum::response::Response;
use axum::routing::{delete, get, post, put};

use super::{ApiError, EmulatorState};

pub use paging::percent_decode;

pub(super) const CUSTOM_OBJECT_TYPES: [&str; 2] = custom_objects::TYPES;

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
    // Writes (docs/intercom-notes.md, "Writes") and the reads they need.
    ("POST", "/contacts"),
    ("PUT", "/contacts/{contact_id}"),
    ("DELETE", "/contacts/{contact_id}"),
    ("POST", "/contacts/merge"),
    ("POST", "/contacts/{contact_id}/archive"),
    ("POST", "/contacts/{contact_id}/unarchive"),
    ("POST", "/contacts/{contact_id}/block"),
    ("POST", "/contacts/{contact_id}/tags"),
    ("DELETE", "/contacts/{contact_id}/tags/{tag_id}"),
    ("POST", "/contacts/{contact_id}/companies"),
    ("DELETE", "/contacts/{contact_id}/companies/{company_id}"),
    ("GET", "/contacts/{contact_id}/subscriptions"),
    ("POST", "/contacts/{contact_id}/subscriptions"),
    (
        "DELETE",
        "/contacts/{contact_id}/subscriptions/{subscription_id}",
    ),
    ("POST", "/contacts/{contact_id}/notes"),
    ("GET", "/subscription_types"),
    ("POST", "/companies"),
    ("PUT", "/companies/{company_id}"),
    ("DELETE", "/companies/{company_id}"),
    ("POST", "/tags"),
    ("DELETE", "/tags/{tag_id}"),
    ("POST", "/conversations"),
    ("PUT", "/conversations/{conversation_id}"),
    ("DELETE", "/conversations/{conversation_id}"),
    ("POST", "/conversations/{conversation_id}/reply"),
    ("POST", "/conversations/{conversation_id}/parts"),
    ("POST", "/conversations/{conversation_id}/tags"),
    ("DELETE", "/conversations/{conversation_id}/tags/{tag_id}"),
    ("POST", "/conversations/{conversation_id}/customers"),
    (
        "DELETE",
        "/conversations/{conversation_id}/customers/{contact_id}",
    ),
    ("POST", "/conversations/{conversation_id}/convert"),
    ("POST", "/conversations/redact"),
    ("POST", "/messages"),
    ("POST", "/tickets"),
    ("POST", "/tickets/enqueue"),
    ("GET", "/help_center/help_centers"),
    ("GET", "/help_center/help_centers/{help_center_id}"),
    ("GET", "/help_center/collections"),
    ("POST", "/help_center/collections"),
    ("GET", "/help_center/collections/{collection_id}"),
    ("PUT", "/help_center/collections/{collection_id}"),
    ("DELETE", "/help_center/collections/{collection_id}"),
    ("GET", "/articles"),
    ("POST", "/articles"),
    ("GET", "/articles/{article_id}"),
    ("PUT", "/articles/{article_id}"),
    ("DELETE", "/articles/{article_id}"),
    ("GET", "/news/news_items"),
    ("POST", "/news/news_items"),
    ("GET", "/news/news_items/{news_item_id}"),
    ("PUT", "/news/news_items/{news_item_id}"),
    ("DELETE", "/news/news_items/{news_item_id}"),
    ("GET", "/news/newsfeeds"),
    ("GET", "/news/newsfeeds/{newsfeed_id}"),
    ("GET", "/news/newsfeeds/{newsfeed_id}/items"),
    ("GET", "/ai/content_import_sources"),
    ("POST", "/ai/content_import_sources"),
    ("GET", "/ai/content_import_sources/{source_id}"),
    ("PUT", "/ai/content_import_sources/{source_id}"),
    ("DELETE", "/ai/content_import_sources/{source_id}"),
    ("GET", "/ai/external_pages"),
    ("POST", "/ai/external_pages"),
    ("GET", "/ai/external_pages/{page_id}"),
    ("PUT", "/ai/external_pages/{page_id}"),
    ("DELETE", "/ai/external_pages/{page_id}"),
    ("GET", "/internal_articles"),
    ("POST", "/internal_articles"),
    ("GET", "/internal_articles/{internal_article_id}"),
    ("PUT", "/internal_articles/{internal_article_id}"),
    ("DELETE", "/internal_articles/{internal_article_id}"),
    ("POST", "/fin/start"),
    ("POST", "/fin/reply"),
    ("POST", "/fin/csat"),
    ("POST", "/phone_call_redirects"),
    (
        "POST",
        "/custom_object_instances/{custom_object_type_identifier}",
    ),
    (
        "GET",
        "/custom_object_instances/{custom_object_type_identifier}",
    ),
    (
        "DELETE",
        "/custom_object_instances/{custom_object_type_identifier}",
    ),
    (
        "GET",
        "/custom_object_instances/{custom_object_type_identifier}/{custom_object_instance_id}",
    ),
    (
        "DELETE",
        "/custom_object_instances/{custom_object_type_identifier}/{custom_object_instance_id}",
    ),
    ("POST", "/export/content/data"),
    ("GET", "/export/content/data/{job_identifier}"),
    ("POST", "/export/cancel/{job_identifier}"),
    ("POST", "/export/reporting_data/enqueue"),
    ("GET", "/export/reporting_data/get_datasets"),
    ("GET", "/export/reporting_data/{job_identifier}"),
    ("GET", "/export/workflows/{id}"),
    ("POST", "/fin_voice/register"),
    ("GET", "/fin_voice/collect/{id}"),
    ("GET", "/fin_voice/external_id/{external_id}"),
    ("GET", "/fin_voice/phone_number/{phone_number}"),
    ("GET", "/fin_voice/conversation/{conversation_id}"),
    ("GET", "/calls"),
    ("GET", "/calls/{call_id}"),
    ("GET", "/calls/{call_id}/recording"),
    ("GET", "/calls/{call_id}/transcript"),
    ("POST", "/calls/search"),
    ("GET", "/articles/search"),
    ("GET", "/internal_articles/search"),
    ("GET", "/download/content/data/{job_identifier}"),
    ("GET", "/download/reporting_data/{job_identifier}"),
    ("GET", "/brands"),
    ("GET", "/brands/{id}"),
    ("GET", "/emails"),
    ("GET", "/emails/{id}"),
    ("GET", "/ip_allowlist"),
    ("PUT", "/ip_allowlist"),
    ("GET", "/jobs/status/{job_id}"),
    ("PUT", "/tickets/{ticket_id}"),
    ("DELETE", "/tickets/{ticket_id}"),
    ("POST", "/tickets/{ticket_id}/reply"),
    ("POST", "/tickets/{ticket_id}/tags"),
    ("DELETE", "/tickets/{ticket_id}/tags/{tag_id}"),
    ("GET", "/ticket_types"),
    ("POST", "/ticket_types"),
    ("GET", "/ticket_types/{ticket_type_id}"),
    ("PUT", "/ticket_types/{ticket_type_id}"),
    ("POST", "/ticket_types/{ticket_type_id}/attributes"),
    (
        "PUT",
        "/ticket_types/{ticket_type_id}/attributes/{attribute_id}",
    ),
    ("GET", "/ticket_states"),
    ("POST", "/data_attributes"),
    ("PUT", "/data_attributes/{data_attribute_id}"),
    ("POST", "/events"),
    ("PUT", "/admins/{admin_id}/away"),
    ("GET", "/visitors"),
    ("PUT", "/visitors"),
    ("POST", "/visitors/convert"),
    ("GET", "/away_status_reasons"),
    ("GET", "/admins/activity_logs"),
    ("GET", "/events"),
    ("POST", "/events/summaries"),
    ("GET", "/conversations/{id}/handling_events"),
];

/// The API routes (without middleware or state).
pub fn api_routes() -> Router<EmulatorState> {
    Router::new()
        .route("/me", get(admins::me))
        .route("/admins", get(admins::list_admins))
        .route("/admins/activity_logs", get(activity::list_activity_logs))
        .route(
            "/away_status_reasons",
            get(activity::list_away_status_reasons),
        )
        .route("/events/summaries", post(events::create_summaries))
        .route("/admins/{admin_id}", get(admins::get_admin))
        .route("/admins/{admin_id}/away", put(admins::set_away))
        .route("/teams", get(admins::list_teams))
        .route("/teams/{team_id}", get(admins::get_team))
        .route("/tags", get(tags::list_tags).post(tags::post_tags))
        .route(
            "/tags/{tag_id}",
            get(tags::get_tag).delete(tags::delete_tag),
        )
        .route("/segments", get(segments::list_segments))
        .route("/segments/{segment_id}", get(segments::get_segment))
        .route(
            "/contacts",
            get(contacts::list_contacts).post(contact_writes::create),
        )
        .route("/contacts/search", post(contacts::search_contacts))
        .route("/contacts/merge", post(contact_writes::merge))
        .route(
            "/contacts/find_by_external_id/{external_id}",
            get(contacts::find_contact_by_external_id),
        )
        .route(
            "/contacts/{contact_id}",
            get(contacts::get_contact)
                .put(contact_writes::update)
                .delete(contact_writes::delete),
        )
        .route(
            "/contacts/{contact_id}/archive",
            post(contact_writes::archive),
        )
        .route(
            "/contacts/{contact_id}/unarchive",
            post(contact_writes::unarchive),
        )
        .route("/contacts/{contact_id}/block", post(contact_writes::block))
        .route(
            "/contacts/{contact_id}/tags",
            get(contacts::contact_tags).post(contact_writes::attach_tag),
        )
        .route(
            "/contacts/{contact_id}/tags/{tag_id}",
            delete(contact_writes::detach_tag),
        )
        .route(
            "/contacts/{contact_id}/companies",
            get(contacts::contact_companies).post(contact_writes::attach_company),
        )
        .route(
            "/contacts/{contact_id}/companies/{company_id}",
            delete(contact_writes::detach_company),
        )
        .route(
            "/contacts/{contact_id}/subscriptions",
            get(contact_writes::list_subscriptions).post(contact_writes::attach_subscription),
        )
        .route(
            "/contacts/{contact_id}/subscriptions/{subscription_id}",
            delete(contact_writes::detach_subscription),
        )
        .route(
            "/subscription_types",
            get(contact_writes::list_subscription_types),
        )
        .route(
            "/contacts/{contact_id}/notes",
            get(contacts::contact_notes).post(contact_writes::create_note),
        )
        .route(
            "/contacts/{contact_id}/segments",
            get(contacts::contact_segments),
        )
        .route(
            "/companies",
            get(companies::list_companies).post(company_writes::upsert),
        )
        .route("/companies/list", post(companies::post_companies_list))
        .route("/companies/scroll", get(companies::scroll_companies))
        .route(
            "/companies/{company_id}",
            get(companies::get_company)
                .put(company_writes::update)
                .delete(company_writes::delete),
        )
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
        .route(
            "/conversations",
            get(conversations::list_conversations).post(conversation_writes::create),
        )
        .route(
            "/conversations/search",
            post(conversations::search_conversations),
        )
        .route("/conversations/redact", post(conversation_writes::redact))
        .route(
            "/conversations/{conversation_id}",
            get(conversations::get_conversation)
                .put(conversation_writes::update)
                .delete(conversation_writes::delete),
        )
        .route(
            "/conversations/{conversation_id}/reply",
            post(conversation_writes::reply),
        )
        .route(
            "/conversations/{conversation_id}/parts",
            post(conversation_writes::manage),
        )
        .route(
            "/conversations/{conversation_id}/tags",
            post(conversation_writes::attach_tag),
        )
        .route(
            "/conversations/{conversation_id}/tags/{tag_id}",
            delete(conversation_writes::detach_tag),
        )
        .route(
            "/conversations/{conversation_id}/customers",
            post(conversation_writes::attach_customer),
        )
        .route(
            "/conversations/{conversation_id}/customers/{contact_id}",
            delete(conversation_writes::detach_customer),
        )
        .route(
            "/conversations/{conversation_id}/convert",
            post(conversation_writes::convert),
        )
        .route("/messages", post(messages::create))
        .route(
            "/events",
            get(events::list_events).post(messages::create_event),
        )
        .route("/tickets", post(ticket_writes::create))
        .route("/tickets/enqueue", post(ticket_writes::enqueue))
        .route(
            "/help_center/help_centers",
            get(help_center::list_help_centers),
        )
        .route(
            "/help_center/help_centers/{help_center_id}",
            get(help_center::get_help_center),
        )
        .route(
            "/help_center/collections",
            get(help_center::list_collections).post(help_center::create_collection),
        )
        .route(
            "/help_center/collections/{collection_id}",
            get(help_center::get_collection)
                .put(help_center::update_collection)
                .delete(help_center::delete_collection),
        )
        .route(
            "/news/news_items",
            get(news::list_news_items).post(news::create_news_item),
        )
        .route(
            "/news/news_items/{news_item_id}",
            get(news::get_news_item)
                .put(news::update_news_item)
                .delete(news::delete_news_item),
        )
        .route("/news/newsfeeds", get(news::list_newsfeeds))
        .route("/news/newsfeeds/{newsfeed_id}", get(news::get_newsfeed))
        .route(
            "/news/newsfeeds/{newsfeed_id}/items",
            get(news::newsfeed_items),
        )
        .route(
            "/ai/content_import_sources",
            get(knowledge::list_sources).post(knowledge::create_source),
        )
        .route(
            "/ai/content_import_sources/{source_id}",
            get(knowledge::get_source)
                .put(knowledge::update_source)
                .delete(knowledge::delete_source),
        )
        .route(
            "/ai/external_pages",
            get(knowledge::list_pages).post(knowledge::create_page),
        )
        .route(
            "/ai/external_pages/{page_id}",
            get(knowledge::get_page)
                .put(knowledge::update_page)
                .delete(knowledge::delete_page),
        )
        .route(
            "/internal_articles",
            get(knowledge::list_internal_articles).post(knowledge::create_internal_article),
        )
        .route(
            "/internal_articles/{internal_article_id}",
            get(knowledge::get_internal_article)
                .put(knowledge::update_internal_article)
                .delete(knowledge::delete_internal_article),
        )
        .route("/fin/start", post(fin::start))
        .route("/fin/reply", post(fin::reply))
        .route("/fin/csat", post(fin::csat))
        .route("/phone_call_redirects", post(fin::phone_switch))
        .route(
            "/custom_object_instances/{custom_object_type_identifier}",
            get(custom_objects::by_external_id)
                .post(custom_objects::create_or_update)
                .delete(custom_objects::delete_by_external_id),
        )
        .route(
            "/custom_object_instances/{custom_object_type_identifier}/{custom_object_instance_id}",
            get(custom_objects::by_id).delete(custom_objects::delete_by_id),
        )
        .route("/export/content/data", post(exports::create_content))
        .route(
            "/export/content/data/{job_identifier}",
            get(exports::content_status),
        )
        .route("/export/cancel/{job_identifier}", post(exports::cancel))
        .route(
            "/export/reporting_data/enqueue",
            post(exports::enqueue_reporting),
        )
        .route(
            "/export/reporting_data/get_datasets",
            get(exports::list_datasets),
        )
        .route(
            "/export/reporting_data/{job_identifier}",
            get(exports::reporting_status),
        )
        .route("/export/workflows/{id}", get(exports::export_workflow))
        .route("/fin_voice/register", post(fin_voice::register))
        .route("/fin_voice/collect/{id}", get(fin_voice::by_id))
        .route(
            "/fin_voice/external_id/{external_id}",
            get(fin_voice::by_external_id),
        )
        .route(
            "/fin_voice/phone_number/{phone_number}",
            get(fin_voice::by_phone_number),
        )
        .route(
            "/fin_voice/conversation/{conversation_id}",
            get(fin_voice::by_conversation),
        )
        .route("/calls", get(calls::list_calls))
        .route("/calls/{call_id}", get(calls::get_call))
        .route("/calls/{call_id}/recording", get(calls::recording))
        .route("/calls/{call_id}/transcript", get(calls::transcript))
        .route("/calls/search", post(calls::search))
        .route("/articles/search", get(help_center::search_articles))
        .route(
            "/internal_articles/search",
            get(knowledge::search_internal_articles),
        )
        .route(
            "/download/content/data/{job_identifier}",
            get(exports::download_content),
        )
        .route(
            "/download/reporting_data/{job_identifier}",
            get(exports::download_reporting),
        )
        .route("/brands", get(workspace::list_brands))
        .route("/brands/{id}", get(workspace::get_brand))
        .route("/emails", get(workspace::list_emails))
        .route("/emails/{id}", get(workspace::get_email))
        .route(
            "/ip_allowlist",
            get(workspace::get_ip_allowlist).put(workspace::update_ip_allowlist),
        )
        .route(
            "/articles",
            get(help_center::list_articles).post(help_center::create_article),
        )
        .route(
            "/articles/{article_id}",
            get(help_center::get_article)
                .put(help_center::update_article)
                .delete(help_center::delete_article),
        )
        .route("/jobs/status/{job_id}", get(ticket_writes::job_status))
        .route("/tickets/search", post(tickets::search_tickets))
        .route(
            "/tickets/{ticket_id}",
            get(tickets::get_ticket)
                .put(ticket_writes::update)
                .delete(ticket_writes::delete),
        )
        .route("/tickets/{ticket_id}/reply", post(ticket_writes::reply))
        .route("/tickets/{ticket_id}/tags", post(ticket_writes::attach_tag))
        .route(
            "/tickets/{ticket_id}/tags/{tag_id}",
            delete(ticket_writes::detach_tag),
        )
        .route(
            "/ticket_types",
            get(ticket_types::list_types).post(ticket_types::create_type),
        )
        .route(
            "/ticket_types/{ticket_type_id}",
            get(ticket_types::get_type).put(ticket_types::update_type),
        )
        .route(
            "/ticket_types/{ticket_type_id}/attributes",
            post(ticket_types::create_attribute),
        )
        .route(
            "/ticket_types/{ticket_type_id}/attributes/{attribute_id}",
            put(ticket_types::update_attribute),
        )
        .route("/ticket_states", get(ticket_types::list_states))
        .route(
            "/visitors",
            get(visitors::get_visitor).put(visitors::update),
        )
        // The spec names this parameter `id`; the router needs one name per position.
        .route(
            "/conversations/{conversation_id}/handling_events",
            get(conversations::handling_events),
        )
        .route("/visitors/convert", post(visitors::convert))
        .route("/notes/{note_id}", get(notes::get_note))
        .route(
            "/data_attributes",
            get(data_attributes::list_data_attributes).post(data_attributes::create_data_attribute),
        )
        .route(
            "/data_attributes/{data_attribute_id}",
            put(data_attributes::update_data_attribute),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
}

/// Intercom answers unknown paths and unsupported methods with 404 (docs/intercom-notes.md, "Errors
/// and rate limits").
async fn unknown_route() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}

fn resource_not_found() -> ApiError {
    ApiError::not_found("not_found", "Resource Not Found")
}
