//! `segments` (official spec: `GET /segments`).

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `segments`: every segment.
pub(super) fn segments() -> TableDef {
    TableDef::new(
        "segments",
        "Saved segments of contacts.",
        Source::List(Listing::new("/segments", PageStyle::Single, "segments")),
    )
    .get_by_id("/segments/{id}")
    .columns([
        C::text("id", "Intercom id of the segment."),
        C::text("name", "Segment name."),
        C::timestamp("created_at", "When the segment was created."),
        C::timestamp("updated_at", "When the segment was last updated."),
        C::text("person_type", "user or contact (leads)."),
        C::int("count", "Number of members (only when Intercom sends it)."),
    ])
}
