//! `contacts` (users and leads), the per-contact sub-resource `contact_tags`, and
//! `company_contacts` (the contacts of each company), with writes and actions (official spec:
//! `GET /contacts`, `GET /contacts/{id}/tags`, `GET /companies/{id}/contacts`).

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Compared, Listing, SearchType as S, Source, TableDef};

/// Columns of a contact object, for `contacts` and `company_contacts` (which renames `id`).
fn contact_columns(id_name: &str) -> Vec<C> {
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
        )
        .search(S::Bool),
        C::bool(
            "unsubscribed_from_emails",
            "The contact unsubscribed from emails.",
        )
        .search(S::Bool),
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
        )
        .search(S::Date),
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
        C::json(
            "tags",
            "Tags, as Intercom's list object; its first 10, completed when it has more.",
        ),
        C::json(
            "companies",
            "Companies, as Intercom's list object; its first 10, completed when it has more.",
        ),
        C::json(
            "notes",
            "Notes, as Intercom's list object; its first 10, completed when it has more.",
        ),
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
    .custom_attributes("contact", true)
    // Users only; leads have no external_id.
    .lookup("external_id", "/contacts/find_by_external_id/{id}")
    .search("/contacts/search", "data")
    .partitioned_by("created_at", Compared::ByDay)
    .columns(contact_columns("id"))
    // Intercom embeds a contact's first 10 of each (docs/intercom-notes.md, "Capped lists
    // inside objects"); the sub-resources have them all.
    .completed_from("tags", "contact_tags")
    .completed_from("companies", "contact_companies")
    .completed_from("notes", "notes")
    .writes(contacts_writes())
    .actions(actions::procedures())
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
    // `WHERE tag_id = …`: the contacts search finds the tagged contacts, and only their tags
    // are read (not every contact's).
    .parent_search("tag_id", "tag_id")
    .writes(contact_tags_writes())
}

/// What INSERT, UPDATE and DELETE on `contacts` send.
fn contacts_writes() -> TableWrites {
    TableWrites {
        table: "contacts",
        insert: Some(
            Write::new("POST", "/contacts")
                .fields(CONTACT_FIELDS)
                .custom(),
        ),
        update: Some(
            Write::new("PUT", "/contacts/{id}")
                .fields(CONTACT_FIELDS)
                .custom()
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/contacts/{id}").idempotent()),
        key: &["id"],
    }
}

/// Tags a contact (body `{id}`); shared by INSERT into `contact_tags` and `TagContact`.
const TAGS: &str = "/contacts/{contact_id}/tags";
/// Untags a contact; shared by DELETE from `contact_tags` and `UntagContact`.
const TAG: &str = "/contacts/{contact_id}/tags/{tag_id}";

/// What INSERT, UPDATE and DELETE on `contact_tags` send.
fn contact_tags_writes() -> TableWrites {
    TableWrites {
        table: "contact_tags",
        insert: Some(
            Write::new("POST", TAGS)
                .keys(&[("tag_id", "id")])
                .required(&["contact_id", "tag_id"])
                .idempotent(),
        ),
        update: None,
        delete: Some(Write::new("DELETE", TAG).idempotent()),
        key: &["contact_id", "tag_id"],
    }
}

const CONTACT_FIELDS: &[(&str, &str)] = &[
    ("role", "role"),
    ("external_id", "external_id"),
    ("email", "email"),
    ("phone", "phone"),
    ("name", "name"),
    ("owner_id", "owner_id"),
    ("signed_up_at", "signed_up_at"),
    ("last_seen_at", "last_seen_at"),
    ("unsubscribed_from_emails", "unsubscribed_from_emails"),
    // Written as the image's URL; read back as `{"type": "avatar", "image_url": …}`.
    ("avatar", "avatar"),
];

/// `company_contacts`: the contacts attached to each company.
pub(super) fn company_contacts() -> TableDef {
    let mut columns = vec![C::parent_key("company_id", "Intercom id of the company.")];
    columns.extend(contact_columns("contact_id"));
    TableDef::new(
        "company_contacts",
        "Contacts attached to each company (one row per company and contact).",
        Source::Children {
            parent_table: "companies".into(),
            key_column: "company_id".into(),
            listing: Listing::new("/companies/{id}/contacts", PageStyle::PageNumber, "data"),
        },
    )
    .columns(columns)
}

/// Actions on contacts, as procedures.
mod actions {
    use serde_json::{Value, json};

    use super::{TAG, TAGS};
    use crate::tables::action::{
        Args, ColumnType, Param, Procedure, ResultColumn, fields, tag_columns,
    };

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![
            contact_flag(
                "ArchiveContact",
                "Archives a contact: it disappears from lists and searches until unarchived.",
                "/contacts/{contact_id}/archive",
                "archived",
            )
            .example("CALL ArchiveContact('6650d1c2e4b0a1f2c3d4e5f6')"),
            contact_flag(
                "UnarchiveContact",
                "Restores an archived contact.",
                "/contacts/{contact_id}/unarchive",
                "archived",
            )
            .example("CALL UnarchiveContact('6650d1c2e4b0a1f2c3d4e5f6')"),
            contact_flag(
                "BlockContact",
                "Blocks a contact (and archives their conversations). Intercom has no unblock.",
                "/contacts/{contact_id}/block",
                "blocked",
            )
            .example("CALL BlockContact('6650d1c2e4b0a1f2c3d4e5f6')"),
            merge(),
            tag_contact(),
            untag_contact(),
            convert_visitor(),
        ]
    }

    /// The archive/unarchive/block family: `POST /contacts/{id}/archive` (and the like), no body,
    /// answered with `{type, id, external_id, <flag>}`. Repeating one leaves the same state.
    fn contact_flag(
        name: &'static str,
        description: &'static str,
        path: &'static str,
        flag: &'static str,
    ) -> Procedure {
        Procedure::new(name, description, "POST", path)
            .param(Param::contact_id())
            .column(ResultColumn::text("id", "id"))
            .column(ResultColumn::text("external_id", "external_id"))
            .column(ResultColumn::typed(flag, ColumnType::Bool, flag))
            .idempotent()
    }

    /// `{"id": <argument>}`, the body of the attach endpoints.
    fn id_of(args: &Args, param: &str) -> Value {
        Value::Object(fields(args, &[("id", param)]))
    }

    fn merge() -> Procedure {
        Procedure::new(
            "MergeContacts",
            "Merges a lead into a user; the lead then no longer exists. Returns the user.",
            "POST",
            "/contacts/merge",
        )
        .param(Param::text(
            "lead_id",
            "Intercom id of the lead to merge (it disappears).",
        ))
        .param(Param::text(
            "user_id",
            "Intercom id of the user that remains.",
        ))
        .body(|a| {
            let keys = [("from", "lead_id"), ("into", "user_id")];
            Ok(Value::Object(fields(a, &keys)))
        })
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("role", "role"))
        .column(ResultColumn::text("email", "email"))
        .column(ResultColumn::text("external_id", "external_id"))
        .example(concat!(
            "CALL MergeContacts(lead_id => '6650d1c2e4b0a1f2c3d4e5f6', ",
            "user_id => '6650d1c2e4b0a1f2c3d4e5f7')"
        ))
    }

    fn tag_contact() -> Procedure {
        Procedure::new("TagContact", "Applies a tag to a contact.", "POST", TAGS)
            .param(Param::contact_id())
            .param(Param::text("tag_id", "Id of the tag (see the tags table)."))
            .body(|a| Ok(id_of(a, "tag_id")))
            .idempotent()
            .columns(tag_columns("contact_id"))
            .example("CALL TagContact('6650d1c2e4b0a1f2c3d4e5f6', '81')")
    }

    fn untag_contact() -> Procedure {
        Procedure::new(
            "UntagContact",
            "Removes a tag from a contact.",
            "DELETE",
            TAG,
        )
        .param(Param::contact_id())
        .param(Param::text("tag_id", "Id of the tag."))
        .idempotent()
        .columns(tag_columns("contact_id"))
        .example("CALL UntagContact('6650d1c2e4b0a1f2c3d4e5f6', '81')")
    }

    fn convert_visitor() -> Procedure {
        Procedure::new(
            "ConvertVisitor",
            "Converts a Messenger visitor into a contact (a lead or a user), or merges it into the \
             existing contact with that id, user_id or email.",
            "POST",
            "/visitors/convert",
        )
        .param(Param::text("visitor_id", "Intercom id of the visitor."))
        .param(
            Param::text("type", "Role of the resulting contact: lead or user.")
                .default_value("lead")
                .one_of(&["lead", "user"]),
        )
        .param(
            Param::text(
                "contact_id",
                "Intercom id of an existing contact to merge the visitor into.",
            )
            .optional(),
        )
        .param(
            Param::text(
                "user_id",
                "Your external id of the contact (an existing one is merged into).",
            )
            .optional(),
        )
        .param(
            Param::text(
                "email",
                "Email of the contact (an existing one is merged into).",
            )
            .optional(),
        )
        .check(|a| {
            if !a.has("contact_id") && !a.has("user_id") && !a.has("email") {
                return Err(
                    "say who the visitor becomes: give contact_id, user_id or email".into(),
                );
            }
            Ok(())
        })
        .body(|a| {
            let keys = [
                ("id", "contact_id"),
                ("user_id", "user_id"),
                ("email", "email"),
            ];
            let user = Value::Object(fields(a, &keys));
            Ok(json!({"type": a.get("type"), "visitor": {"id": a.get("visitor_id")}, "user": user}))
        })
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("role", "role"))
        .column(ResultColumn::text("email", "email"))
        .example(
            "CALL ConvertVisitor('6650d1c2e4b0a1f2c3d4e5aa', 'lead', email => 'ann@example.com')",
        )
    }
}
