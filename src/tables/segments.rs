//! `segments` (official spec: `GET /segments`).

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `segments`: every segment.
pub(super) fn segments() -> TableDef {
    TableDef::new(
        "segments",
        "Saved segments of contacts.",
        // Member counts are sent only when asked for. No lookup by id: a segment's GET would
        // need the same parameter, and the one page of the list answers `WHERE id = …` too.
        Source::List(
            Listing::new("/segments", PageStyle::Single, "segments")
                .with_query("include_count", "true"),
        ),
    )
    .columns([
        C::text("id", "Intercom id of the segment."),
        C::text("name", "Segment name."),
        C::timestamp("created_at", "When the segment was created."),
        C::timestamp("updated_at", "When the segment was last updated."),
        C::text("person_type", "user or contact (leads)."),
        C::int("count", "Number of members (contacts, or companies)."),
    ])
}
