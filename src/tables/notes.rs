//! `notes` (intercom-api.md §4.13): notes admins leave on contacts.

use super::{ColumnDef as C, Listing, Source, TableDef};
use crate::client::PageStyle;

/// `notes`: the notes on each contact, read per contact like `contact_tags`.
pub(super) fn notes() -> TableDef {
    TableDef::new(
        "notes",
        "Notes admins wrote on contacts (one row per note).",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            listing: Listing::new("/contacts/{id}/notes", PageStyle::PageNumber, "data"),
        },
    )
    .columns([
        C::parent_key("contact_id", "Id of the contact the note is on."),
        C::text("id", "Intercom id of the note."),
        C::text("body", "The note's text (HTML)."),
        C::text("admin_id", "Id of the admin who wrote it.").at("author.id"),
        C::text("admin_name", "Name of the admin who wrote it.").at("author.name"),
        C::timestamp("created_at", "When the note was written."),
    ])
}
