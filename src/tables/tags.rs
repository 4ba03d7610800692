//! `tags` (official spec: `GET /tags`).

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

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
    .writes(tags_writes())
}

/// What INSERT, UPDATE and DELETE on `tags` send.
fn tags_writes() -> TableWrites {
    TableWrites {
        table: "tags",
        insert: Some(
            Write::new("POST", "/tags")
                .fields(&[("name", "name")])
                .required(&["name"])
                .idempotent(),
        ),
        update: Some(
            Write::new("POST", "/tags")
                .fields(&[("name", "name")])
                .keys(&[("id", "id")])
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/tags/{id}").idempotent()),
        key: &["id"],
    }
}
