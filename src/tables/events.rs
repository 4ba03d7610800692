//! Data events: what contacts did in your product, as your app reported them. `events` lists
//! one contact's events of the last 90 days (official spec: `lisDataEvents`,
//! `GET /events?type=user&intercom_user_id=…`, paged by the URL in `pages.next`), and
//! `event_summaries` their counts per event name (the same request with `summary=true`).
//! Intercom lists events only per contact, so a read must name its contacts (a WHERE on
//! `contact_id`, or a join from `contacts`) rather than walk every contact of the workspace.
//! Writes: `SubmitEvent` (`createDataEvent`, `POST /events`) and `SubmitEventSummary`
//! (`dataEventSummaries`, `POST /events/summaries`).

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// What a read of events without contacts is told.
const NAME_CONTACTS: &str = "Intercom lists events one contact at a time; add WHERE contact_id = '…' (or IN, or join from contacts on contact_id)";

/// The listing of one contact's events (`{id}`: the contact's Intercom id).
fn per_contact(style: PageStyle, summary: bool) -> Listing {
    let listing = Listing::new("/events", style, "events")
        .with_query("type", "user")
        .with_query("intercom_user_id", "{id}");
    if summary {
        listing.with_query("summary", "true")
    } else {
        listing
    }
}

/// `events`: one row per data event of the contacts named.
pub(super) fn events() -> TableDef {
    TableDef::new(
        "events",
        "Data events of contacts (last 90 days), read per contact.",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            listing: per_contact(PageStyle::Url, false),
        },
    )
    .key_required(NAME_CONTACTS)
    .columns([
        C::parent_key("contact_id", "Intercom id of the contact."),
        C::text("id", "Id of the event."),
        C::text("event_name", "Name of the event, e.g. invited-friend."),
        C::timestamp("created_at", "When the event happened."),
        C::text("user_id", "Your external id of the contact.").at("user_id"),
        C::text("email", "Email of the contact."),
        C::json(
            "metadata",
            "Up to 10 keys your app sent with the event, as a JSON object.",
        ),
    ])
    .actions(actions::procedures())
}

/// `event_summaries`: per contact and event name, how often and when first and last.
pub(super) fn event_summaries() -> TableDef {
    TableDef::new(
        "event_summaries",
        "Per contact and event name: count, first and last time.",
        Source::Children {
            parent_table: "contacts".into(),
            key_column: "contact_id".into(),
            listing: per_contact(PageStyle::Single, true),
        },
    )
    .key_required(NAME_CONTACTS)
    .columns([
        C::parent_key("contact_id", "Intercom id of the contact."),
        C::text("event_name", "Name of the event.").at("name"),
        C::int("count", "How many times it happened."),
        C::timestamp("first", "When it first happened."),
        C::timestamp("last", "When it last happened."),
        C::text("description", "Description of the event, if set."),
    ])
}

/// Data-event writes, as procedures.
mod actions {
    use serde_json::{Value, json};

    use crate::tables::action::{ColumnType, Param, Procedure, ResultColumn, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![submit_event(), submit_event_summary()]
    }

    fn submit_event() -> Procedure {
        Procedure::new(
            "SubmitEvent",
            "Records a data event for a contact (Intercom answers 202 with no body and ignores \
             exact duplicates).",
            "POST",
            "/events",
        )
        .param(Param::text(
            "event_name",
            "Event name, e.g. invited-friend (past-tense verb-noun).",
        ))
        .param(Param::timestamp("created_at", "When the event happened."))
        .param(Param::text("id", "Intercom id of the contact (required for leads).").optional())
        .param(Param::json("metadata", "JSON object of up to 10 flat keys.").optional())
        .param(Param::text("user_id", "Your external id of the user, instead of id.").optional())
        .param(Param::text("email", "Email of the user, instead of id.").optional())
        .check(|a| {
            if !a.has("id") && !a.has("user_id") && !a.has("email") {
                return Err("give the contact as id, user_id or email".into());
            }
            match a.get("metadata") {
                None | Some(Value::Object(_)) => Ok(()),
                Some(_) => Err(r#"metadata must be a JSON object, e.g. '{"plan": "pro"}'"#.into()),
            }
        })
        .body(|a| {
            let keys = [
                ("event_name", "event_name"),
                ("created_at", "created_at"),
                ("id", "id"),
                ("user_id", "user_id"),
                ("email", "email"),
                ("metadata", "metadata"),
            ];
            Ok(Value::Object(fields(a, &keys)))
        })
        // Intercom drops exact duplicates (same contact, name and created_at; docs/intercom-notes.md,
        // "Writes"), so repeating is safe.
        .idempotent()
        .column(ResultColumn::arg(
            "event_name",
            ColumnType::Text,
            "event_name",
        ))
        .column(ResultColumn::arg(
            "created_at",
            ColumnType::Timestamp,
            "created_at",
        ))
        .column(ResultColumn::arg("id", ColumnType::Text, "id"))
        .column(ResultColumn::arg("user_id", ColumnType::Text, "user_id"))
        .column(ResultColumn::arg("email", ColumnType::Text, "email"))
        .example(concat!(
            "CALL SubmitEvent('invited-friend', '2026-02-01T10:00:00Z', ",
            r#"'6650d1c2e4b0a1f2c3d4e5f6', '{"invitee": "bob@example.com"}')"#
        ))
    }

    fn submit_event_summary() -> Procedure {
        Procedure::new(
            "SubmitEventSummary",
            "Adds to a user's event counts in bulk: how often an event happened and when first \
             and last (Intercom answers with no body).",
            "POST",
            "/events/summaries",
        )
        .param(Param::text("user_id", "Your external id of the user."))
        .param(Param::text("event_name", "Name of the event."))
        .param(Param::int("count", "How many times it happened."))
        .param(Param::timestamp("first", "When it first happened."))
        .param(Param::timestamp("last", "When it last happened."))
        .body(|a| {
            let summary = fields(
                a,
                &[
                    ("event_name", "event_name"),
                    ("count", "count"),
                    ("first", "first"),
                    ("last", "last"),
                ],
            );
            Ok(json!({"user_id": a.get("user_id"), "event_summaries": Value::Object(summary)}))
        })
        .column(ResultColumn::arg("user_id", ColumnType::Text, "user_id"))
        .column(ResultColumn::arg(
            "event_name",
            ColumnType::Text,
            "event_name",
        ))
        .column(ResultColumn::arg("count", ColumnType::Int, "count"))
        .example(concat!(
            "CALL SubmitEventSummary('25', 'invited-friend', 3, ",
            "'2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z')"
        ))
    }
}
