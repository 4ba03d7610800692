//! `tags` (intercom-api.md §4.21).

use super::{ColumnDef as C, Listing, Source, TableDef};
use crate::client::PageStyle;

/// `tags`: every tag.
pub(super) fn tags() -> TableDef {
    TableDef::new(
        "tags",
        "Tags that can be applied to contacts, companies, conversations and tickets.",
        Source::List(Listing::new("/tags", PageStyle::Single, "data")),
    )
    .get_by_id("/tags/{id}")
    .columns([
        C::text("id", "Intercom id of the tag."),
        C::text("name", "Tag name (case-insensitive in Intercom)."),
    ])
}
