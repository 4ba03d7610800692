//! `contacts` (users and leads) and the per-contact sub-resources `contact_tags` and
//! `contact_companies` (official spec: `GET /contacts`, `GET /contacts/{id}/tags`,
//! `GET /contacts/{id}/companies`).

use super::{ColumnDef as C, Listing, SearchType as S, Source, TableDef};
use crate::client::PageStyle;

/// Columns of a contact object, shared with `company_contacts` (which renames `id`).
pub(super) fn contact_columns(id_name: &str) -> Vec<C> {
    vec![
        C::text(id_name, "Intercom id of the contact (24 hex digits).").at("id"),
        C::text("workspace_id", "Workspace (app) id."),
        C::text("external_id", "Your id for the user (users only).").search(S::Str),
        C::text("role", "user or lead.").search(S::Str),
        C::text("email", "Primary email address.").search(S::Str),
        C::text("email_domain", "Domain of the email address.").search(S::Str),
        C::text("phone", "Phone number.").search(S::Str),
        C::text("name", "Full name.").search(S::Str),
        C::int("owner_id", "Id of the admin who owns the contact.").search(S::Int),
        C::bool("has_hard_bounced", "An email to the contact hard-bounced.").search(S::Bool),
        C::bool(
            "marked_email_as_spam",
            "The contact marked an email as spam.",
        ),
        C::bool(
            "unsubscribed_from_emails",
            "The contact unsubscribed from emails.",
        ),
        C::timestamp("created_at", "When the contact was created.").search(S::Date),
        C::timestamp("updated_at", "When the contact was last updated.").search(S::Date),
        C::timestamp("signed_up_at", "When the user signed up.").search(S::Date),
        C::timestamp("last_seen_at", "Last time the contact was seen.").search(S::Date),
        C::timestamp("last_replied_at", "Last time the contact replied.").search(S::Date),
        C::timestamp("last_contacted_at", "Last time a teammate contacted them.").search(S::Date),
        C::timestamp("last_email_opened_at", "Last time they opened an email.").search(S::Date),
        C::timestamp(
            "last_email_clicked_at",
            "Last time they clicked a link in an email.",
        ),
        C::text("language_override", "Language chosen for the Messenger.").search(S::Str),
        C::text("browser", "Last browser used.").search(S::Str),
        C::text("browser_version", "Version of that browser."),
        C::text("browser_language", "Language of that browser.").search(S::Str),
        C::text("os", "Last operating system used.").search(S::Str),
        C::text("location_country", "Country.")
            .at("location.country")
            .search(S::Str),
        C::text("location_region", "Region or state.")
            .at("location.region")
            .search(S::Str),
        C::text("location_city", "City.")
            .at("location.city")
            .search(S::Str),
        C::text("location_country_code", "ISO country code.").at("location.country_code"),
        C::text("location_continent_code", "Continent code.").at("location.continent_code"),
        C::text("android_app_name", "Android app name.").search(S::Str),
        C::text("android_app_version", "Android app version.").search(S::Str),
        C::text("android_device", "Android device.").search(S::Str),
        C::text("android_os_version", "Android OS version."),
        C::text("android_sdk_version", "Android SDK version."),
        C::timestamp("android_last_seen_at", "Last seen on Android.").search(S::Date),
        C::text("ios_app_name", "iOS app name.").search(S::Str),
        C::text("ios_app_version", "iOS app version.").search(S::Str),
        C::text("ios_device", "iOS device.").search(S::Str),
        C::text("ios_os_version", "iOS version.").search(S::Str),
        C::text("ios_sdk_version", "iOS SDK version.").search(S::Str),
        C::timestamp("ios_last_seen_at", "Last seen on iOS.").search(S::Date),
        C::text("utm_campaign", "UTM campaign."),
        C::text("utm_content", "UTM content."),
        C::text("utm_medium", "UTM medium."),
        C::text("utm_source", "UTM source."),
        C::text("utm_term", "UTM term."),
        C::text("referrer", "Referring URL."),
        C::json("avatar", "Avatar object."),
        C::json("tags", "First tags (at most 10; see contact_tags for all)."),
        C::json(
            "companies",
            "First companies (at most 10; see contact_companies for all).",
        ),
        C::json("notes", "First notes (at most 10)."),
        C::json("social_profiles", "Social profiles."),
        C::json(
            "custom_attributes",
            "Workspace-defined attributes, as a JSON object.",
        ),
    ]
}

/// `contacts`: every user and lead.
pub(super) fn contacts() -> TableDef {
    TableDef::new(
        "contacts",
        "People in the workspace: users and leads.",
        Source::List(Listing::new("/contacts", PageStyle::Cursor, "data")),
    )
    .get_by_id("/contacts/{id}")
    // Users only; leads have no external_id.
    .lookup("external_id", "/contacts/find_by_external_id/{id}")
    .search("/contacts/search", "data")
    .columns(contact_columns("id"))
}

/// `contact_tags`: which tags each contact carries.
pub(super) fn contact_tags() -> TableDef {
    TableDef::new(
        "contact_tags",
        "Tags applied to contacts (one row per contact and tag).",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            listing: Listing::new("/contacts/{id}/tags", PageStyle::Single, "data"),
        },
    )
    .columns([
        C::parent_key("contact_id", "Id of the contact."),
        C::text("tag_id", "Id of the tag.").at("id"),
        C::text("tag_name", "Name of the tag.").at("name"),
        C::timestamp("applied_at", "When the tag was applied."),
        C::text("applied_by_type", "Who applied it (admin, …).").at("applied_by.type"),
        C::text("applied_by_id", "Id of who applied it.").at("applied_by.id"),
    ])
}

/// `contact_companies`: the companies each contact belongs to.
pub(super) fn contact_companies() -> TableDef {
    let mut columns = vec![C::parent_key("contact_id", "Id of the contact.")];
    columns.extend(super::companies::company_columns(
        "company_id",
        "external_company_id",
    ));
    TableDef::new(
        "contact_companies",
        "Companies each contact is attached to (one row per contact and company).",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            // Schema says `companies`, the spec's example says `data` (official spec: `listCompaniesForAContact`).
            listing: Listing::new("/contacts/{id}/companies", PageStyle::PageNumber, "data")
                .or_items_at("companies"),
        },
    )
    .columns(columns)
}
