//! `tickets` (intercom-api.md §4.23). Intercom has no ticket list endpoint: the table is read
//! through `POST /tickets/search`, with a catch-all query when the WHERE clause gives none.

use serde_json::json;

use super::{ColumnDef as C, Listing, SearchType as S, Source, TableDef};
use crate::client::PageStyle;

/// `tickets`: every ticket.
pub(super) fn tickets() -> TableDef {
    // Every ticket has a creation time after the epoch (§4.23's usual catch-all).
    let everything = json!({"field": "created_at", "operator": ">", "value": 0});
    TableDef::new(
        "tickets",
        "Tickets (customer, back-office and tracker), read through ticket search.",
        Source::List(Listing::new(
            "/tickets/search",
            PageStyle::Search { query: everything },
            "tickets",
        )),
    )
    .get_by_id("/tickets/{id}")
    .search("/tickets/search", "tickets")
    .columns([
        C::text("id", "Intercom id of the ticket (used in API paths)."),
        C::text(
            "ticket_id",
            "The ticket number shown in the Inbox and Messenger.",
        ),
        C::text("title", "Title.")
            .at("ticket_attributes._default_title_")
            .search_as("title", S::Str),
        C::text("description", "Description.")
            .at("ticket_attributes._default_description_")
            .search_as("description", S::Str),
        C::text("category", "Customer, Back-office or Tracker."),
        C::timestamp("created_at", "When the ticket was created.").search(S::Date),
        C::timestamp("updated_at", "When the ticket was last updated.").search(S::Date),
        C::timestamp("snoozed_until", "When a snooze ends.").search(S::Date),
        C::bool("open", "Whether the ticket is open.").search(S::Bool),
        C::text("admin_assignee_id", "Assigned admin ('0' when unassigned).").search(S::Str),
        C::text("team_assignee_id", "Assigned team ('0' when unassigned).").search(S::Str),
        C::bool(
            "is_shared",
            "Whether the ticket is shared with the customer.",
        ),
        C::text("ticket_type_id", "Ticket type id.")
            .at("ticket_type.id")
            .search_as("ticket_type_id", S::Str),
        C::text("ticket_type_name", "Ticket type name.").at("ticket_type.name"),
        C::text("ticket_state_id", "Ticket state id.").at("ticket_state.id"),
        C::text(
            "ticket_state_category",
            "submitted, in_progress, waiting_on_customer or resolved.",
        )
        .at("ticket_state.category"),
        C::text("ticket_state_internal_label", "State label teammates see.")
            .at("ticket_state.internal_label"),
        C::text("ticket_state_external_label", "State label customers see.")
            .at("ticket_state.external_label"),
        C::json("contacts", "Contacts on the ticket."),
        C::json(
            "ticket_attributes",
            "Ticket attributes by name, as a JSON object.",
        ),
        C::json("linked_objects", "Linked conversations and tickets."),
        C::json("ticket_parts", "Parts of the ticket (newest 500)."),
    ])
}
