//! `segments` (official spec: `GET /segments`, listSegments; `GET /segments/{id}`,
//! retrieveSegment), and the segments each contact
//! (`GET /contacts/{contact_id}/segments`, listSegmentsForAContact) and each company (`GET
//! /companies/{company_id}/segments`, listAttachedSegmentsForCompanies) belongs to.

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `segments`: every segment.
pub(super) fn segments() -> TableDef {
    TableDef::new(
        "segments",
        "Saved segments of contacts.",
        // Member counts are sent only when asked for, by the list and the get alike.
        Source::List(
            Listing::new("/segments", PageStyle::Single, "segments")
                .with_query("include_count", "true"),
        ),
    )
    .get_by_id("/segments/{id}?include_count=true")
    .columns([
        C::text("id", "Intercom id of the segment."),
        C::text("name", "Segment name."),
        C::timestamp("created_at", "When the segment was created."),
        C::timestamp("updated_at", "When the segment was last updated."),
        C::text("person_type", "user or contact (leads)."),
        C::int("count", "Number of members (contacts, or companies)."),
    ])
}

/// The columns of a membership row: the member's id, then the segment's own.
fn membership_columns(key: &str, member: &str) -> Vec<C> {
    vec![
        C::parent_key(key, &format!("Id of the {member}.")),
        C::text("segment_id", "Id of the segment.").at("id"),
        C::text("segment_name", "Name of the segment.").at("name"),
        C::text("person_type", "user or contact (leads)."),
        C::timestamp("created_at", "When the segment was created."),
        C::timestamp("updated_at", "When the segment was last updated."),
    ]
}

/// `contact_segments`: the segments each contact is in.
pub(super) fn contact_segments() -> TableDef {
    TableDef::new(
        "contact_segments",
        "Segments each contact belongs to (one row per contact and segment).",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            listing: Listing::new("/contacts/{id}/segments", PageStyle::Single, "data"),
        },
    )
    .columns(membership_columns("contact_id", "contact"))
    // `WHERE segment_id = …`: the contacts search finds the segment's members.
    .parent_search("segment_id", "segment_id")
}

/// `company_segments`: the segments each company is in.
pub(super) fn company_segments() -> TableDef {
    TableDef::new(
        "company_segments",
        "Segments each company belongs to (one row per company and segment).",
        Source::Children {
            parent_table: "companies".into(),
            key_column: "company_id".into(),
            listing: Listing::new("/companies/{id}/segments", PageStyle::Single, "data"),
        },
    )
    .columns(membership_columns("company_id", "company"))
}
