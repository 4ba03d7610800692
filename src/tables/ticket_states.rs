//! `ticket_states`: the states a ticket can be in (official spec: `listTicketStates`,
//! `GET /ticket_states`). Read-only.

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `ticket_states`: every ticket state of the workspace, with the ticket types using it.
pub(super) fn ticket_states() -> TableDef {
    TableDef::new(
        "ticket_states",
        "States a ticket can be in (submitted, in progress, waiting on customer, resolved).",
        Source::List(Listing::new("/ticket_states", PageStyle::Single, "data")),
    )
    .columns([
        C::text("id", "Id of the ticket state."),
        C::text(
            "category",
            "submitted, in_progress, waiting_on_customer or resolved.",
        ),
        C::text("internal_label", "Label teammates see."),
        C::text("external_label", "Label customers see."),
        C::bool("archived", "Whether the state is archived."),
        C::json(
            "ticket_types",
            "Ticket types that use this state (id, name, category, …), as a JSON array.",
        )
        .at("ticket_types.data"),
    ])
}
