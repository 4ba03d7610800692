//! `notes` (official spec: `GET /contacts/{id}/notes`, `GET /notes/{id}`): notes admins leave on
//! contacts; `company_notes` (`GET /companies/{id}/notes`, listCompanyNotes): on companies.

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Listing, Source, TableDef};

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
    // A note fetched by id names its contact; a company's note has none and is no row here.
    .child_lookup("id", "/notes/{id}", "contact.id")
    .columns(note_columns(C::parent_key(
        "contact_id",
        "Id of the contact the note is on.",
    )))
    .writes(notes_writes())
    .actions(actions::procedures())
}

/// `company_notes`: the notes on each company, read per company.
pub(super) fn company_notes() -> TableDef {
    TableDef::new(
        "company_notes",
        "Notes admins wrote on companies (one row per note).",
        Source::Children {
            parent_table: "companies".into(),
            key_column: "company_id".into(),
            listing: Listing::new("/companies/{id}/notes", PageStyle::PageNumber, "data"),
        },
    )
    .columns(note_columns(C::parent_key(
        "company_id",
        "Intercom id of the company the note is on.",
    )))
}

/// A note's columns after the key of what it is on.
fn note_columns(on: C) -> Vec<C> {
    vec![
        on,
        C::text("id", "Intercom id of the note."),
        C::text("body", "The note's text (HTML)."),
        C::text("admin_id", "Id of the admin who wrote it.").at("author.id"),
        C::text("admin_name", "Name of the admin who wrote it.").at("author.name"),
        C::timestamp("created_at", "When the note was written."),
    ]
}

/// Adds a note to a contact; shared by INSERT into `notes` and `CreateContactNote`.
const NOTES: &str = "/contacts/{contact_id}/notes";

/// What INSERT, UPDATE and DELETE on `notes` send.
fn notes_writes() -> TableWrites {
    TableWrites {
        table: "notes",
        insert: Some(
            Write::new("POST", NOTES)
                .fields(&[("body", "body"), ("admin_id", "admin_id")])
                .required(&["body"]),
        ),
        update: None,
        delete: None,
        key: &["id"],
    }
}

/// Actions on notes, as procedures.
mod actions {
    use serde_json::Value;

    use super::NOTES;
    use crate::tables::action::{ColumnType, Param, Procedure, ResultColumn, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![create_note()]
    }

    fn create_note() -> Procedure {
        Procedure::new(
            "CreateContactNote",
            "Adds a note to a contact (Intercom wraps the body in <p>…</p>).",
            "POST",
            NOTES,
        )
        .param(Param::contact_id())
        .param(Param::text("body", "Text of the note (HTML allowed)."))
        .param(
            Param::text(
                "admin_id",
                "Author of the note; Intercom uses the token's admin when NULL.",
            )
            .optional(),
        )
        .body(|a| {
            let keys = [("body", "body"), ("admin_id", "admin_id")];
            Ok(Value::Object(fields(a, &keys)))
        })
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::arg(
            "contact_id",
            ColumnType::Text,
            "contact_id",
        ))
        .column(ResultColumn::text("body", "body"))
        .column(ResultColumn::typed(
            "created_at",
            ColumnType::Timestamp,
            "created_at",
        ))
        .example(concat!(
            "CALL CreateContactNote('6650d1c2e4b0a1f2c3d4e5f6', 'Called about renewal', ",
            "'991267460')"
        ))
    }
}
