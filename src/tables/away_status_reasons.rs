//! `away_status_reasons`: the reasons teammates give for being away (official spec:
//! `listAwayStatusReasons`, `GET /away_status_reasons`). Read-only; deleted reasons are listed
//! too. `SetAdminAway` takes a reason's id.

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `away_status_reasons`: every away reason of the workspace, deleted ones included.
pub(super) fn away_status_reasons() -> TableDef {
    TableDef::new(
        "away_status_reasons",
        "Reasons teammates give for being away (deleted ones included).",
        Source::List(Listing::new(
            "/away_status_reasons",
            PageStyle::Single,
            "data",
        )),
    )
    .columns([
        C::text(
            "id",
            "Id of the reason (SetAdminAway's away_status_reason_id).",
        ),
        C::text("label", "The reason, as teammates see it."),
        C::text("emoji", "Its emoji."),
        C::int("order", "Position in the list teammates pick from."),
        C::bool("deleted", "Whether the reason was deleted."),
        C::timestamp("created_at", "When it was created."),
        C::timestamp("updated_at", "When it last changed."),
    ])
}
