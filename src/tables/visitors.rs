//! `visitors`: anonymous Messenger visitors, found by their `user_id` (official spec:
//! `retrieveVisitorWithUserId` `GET /visitors?user_id=`, `updateVisitor` `PUT /visitors`).
//! Intercom has no list or search of visitors, so a read must name its visitors. UPDATE sets
//! the name and custom attributes; `ConvertVisitor` (on contacts) turns one into a contact.

use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Source, TableDef};

/// `visitors`: Messenger visitors, read by `user_id`.
pub(super) fn visitors() -> TableDef {
    TableDef::new(
        "visitors",
        "Anonymous Messenger visitors, read by user_id (Intercom cannot list them).",
        Source::Lookups,
    )
    .lookup("user_id", "/visitors?user_id={id}")
    .key_required(
        "Intercom cannot list visitors; add WHERE user_id = '…' (or IN, or join on user_id)",
    )
    .columns([
        C::text("id", "Intercom id of the visitor."),
        C::text(
            "user_id",
            "The visitor's user_id (Messenger's anonymous id).",
        ),
        C::text("email", "Email, if the visitor gave one."),
        C::text("name", "Name, if known."),
        C::text("phone", "Phone number, if known."),
        C::text("pseudonym", "Name Intercom made up for the visitor."),
        C::bool("anonymous", "Whether the visitor gave no email."),
        C::text("avatar_image_url", "Avatar image URL.").at("avatar.image_url"),
        C::timestamp("created_at", "When the visitor was first seen."),
        C::timestamp("updated_at", "When the visitor last changed."),
        C::timestamp("signed_up_at", "When the visitor signed up, if ever."),
        C::timestamp("last_request_at", "When the visitor was last seen."),
        C::int("session_count", "Number of sessions."),
        C::text("owner_id", "Id of the admin who owns the visitor."),
        C::bool(
            "unsubscribed_from_emails",
            "Whether the visitor opted out of email.",
        ),
        C::bool(
            "marked_email_as_spam",
            "Whether the visitor marked an email as spam.",
        ),
        C::bool(
            "has_hard_bounced",
            "Whether an email to the visitor hard-bounced.",
        ),
        C::text("referrer", "Page the visitor came from."),
        C::text("utm_source", "utm_source of the visit."),
        C::text("utm_medium", "utm_medium of the visit."),
        C::text("utm_campaign", "utm_campaign of the visit."),
        C::text("country", "Country, from the location.").at("location_data.country_name"),
        C::text("city", "City, from the location.").at("location_data.city_name"),
        C::json("tags", "Tags, as JSON.").at("tags.tags"),
        C::json("segments", "Segments, as JSON.").at("segments.segments"),
        C::json("companies", "Companies, as JSON.").at("companies.companies"),
        C::json(
            "custom_attributes",
            "Custom attributes, as a JSON object (UPDATE merges the keys given).",
        ),
    ])
    .writes(TableWrites {
        table: "visitors",
        insert: None,
        update: Some(
            Write::new("PUT", "/visitors")
                .keys(&[("id", "id")])
                .fields(&[("name", "name")])
                .custom()
                .idempotent(),
        ),
        delete: None,
        key: &["id"],
    })
}
