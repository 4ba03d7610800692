//! `conversations` and `conversation_parts` (official spec: `GET /conversations`,
//! `GET /conversations/{id}`). Parts come only from
//! `GET /conversations/{id}` (at most the newest 500), so they are a per-conversation child table.

use super::{ColumnDef as C, Listing, SearchType as S, Source, TableDef};
use crate::client::PageStyle;

/// `conversations`: every conversation (without parts).
pub(super) fn conversations() -> TableDef {
    TableDef::new(
        "conversations",
        "Conversations between contacts and teammates.",
        Source::List(Listing::new(
            "/conversations",
            PageStyle::Cursor,
            "conversations",
        )),
    )
    .get_by_id("/conversations/{id}")
    .search("/conversations/search", "conversations")
    .columns([
        C::text("id", "Intercom id of the conversation."),
        C::text("title", "Title, if set."),
        C::timestamp("created_at", "When the conversation started.").search(S::Date),
        C::timestamp("updated_at", "When it last changed.").search(S::Date),
        C::timestamp(
            "waiting_since",
            "Since when the contact has waited for a reply (null after an admin reply).",
        ),
        C::timestamp("snoozed_until", "When a snooze ends.").search(S::Date),
        C::bool("open", "Whether the conversation is open.").search(S::Bool),
        C::text("state", "open, closed or snoozed.").search(S::Str),
        C::bool("read", "Whether the last contact message was read.").search(S::Bool),
        C::text("priority", "priority or not_priority.").search(S::Str),
        C::int(
            "admin_assignee_id",
            "Assigned admin (null when unassigned).",
        ),
        C::int("team_assignee_id", "Assigned team (null when unassigned).").search(S::Int),
        C::bool("ai_agent_participated", "Whether Fin took part.").search(S::Bool),
        C::text("source_type", "Channel: conversation, email, phone_call, …")
            .at("source.type")
            .search(S::Str),
        C::text("source_id", "Id of the first message.")
            .at("source.id")
            .search(S::Str),
        C::text(
            "source_delivered_as",
            "customer_initiated, admin_initiated, …",
        )
        .at("source.delivered_as"),
        C::text("source_subject", "Subject of the first message.")
            .at("source.subject")
            .search(S::Str),
        C::text("source_body", "Body (HTML) of the first message.").at("source.body"),
        C::text("source_url", "URL where the conversation started.")
            .at("source.url")
            .search(S::Str),
        C::text("source_author_type", "Author type of the first message.")
            .at("source.author.type")
            .search(S::Str),
        C::text("source_author_id", "Author id of the first message.")
            .at("source.author.id")
            .search(S::Str),
        C::text("source_author_name", "Author name of the first message.")
            .at("source.author.name")
            .search(S::Str),
        C::text("source_author_email", "Author email of the first message.")
            .at("source.author.email")
            .search(S::Str),
        C::json("contacts", "Contacts in the conversation."),
        C::json("teammates", "Teammates who took part."),
        C::json("tags", "Tags on the conversation."),
        C::timestamp("first_contact_reply_at", "First reply by the contact.")
            .at("first_contact_reply.created_at"),
        C::int(
            "statistics_time_to_assignment",
            "Seconds until first assignment.",
        )
        .at("statistics.time_to_assignment"),
        C::int(
            "statistics_time_to_admin_reply",
            "Seconds until first admin reply.",
        )
        .at("statistics.time_to_admin_reply"),
        C::int(
            "statistics_time_to_first_close",
            "Seconds until first close.",
        )
        .at("statistics.time_to_first_close"),
        C::int(
            "statistics_median_time_to_reply",
            "Median seconds to reply.",
        )
        .at("statistics.median_time_to_reply"),
        C::timestamp("statistics_first_admin_reply_at", "First admin reply.")
            .at("statistics.first_admin_reply_at")
            .search(S::Date),
        C::timestamp("statistics_last_close_at", "Last close.")
            .at("statistics.last_close_at")
            .search(S::Date),
        C::int("statistics_count_reopens", "Times reopened.")
            .at("statistics.count_reopens")
            .search(S::Int),
        C::int("statistics_count_assignments", "Times assigned.")
            .at("statistics.count_assignments")
            .search(S::Int),
        C::int("statistics_count_conversation_parts", "Number of parts.")
            .at("statistics.count_conversation_parts")
            .search(S::Int),
        C::json("statistics", "All statistics, as JSON."),
        C::int(
            "conversation_rating_rating",
            "Rating 1–5 given by the contact.",
        )
        .at("conversation_rating.rating"),
        C::text("conversation_rating_remark", "Remark left with the rating.")
            .at("conversation_rating.remark"),
        C::json("sla_applied", "SLA applied to the conversation."),
        C::json("linked_objects", "Linked tickets and conversations."),
        C::json(
            "custom_attributes",
            "Conversation attributes, as a JSON object.",
        ),
    ])
}

/// `conversation_parts`: messages, notes and actions within each conversation.
pub(super) fn conversation_parts() -> TableDef {
    TableDef::new(
        "conversation_parts",
        "Parts of each conversation: replies, notes, assignments, state changes (newest 500 per conversation).",
        Source::Children {
            parent_table: "conversations".into(),
            key_column: "conversation_id".into(),
            listing: Listing::new("/conversations/{id}", PageStyle::Single, "conversation_parts.conversation_parts"),
        },
    )
    .columns([
        C::parent_key("conversation_id", "Id of the conversation."),
        C::text("id", "Id of the part."),
        C::text("part_type", "comment, note, assignment, open, close, …"),
        C::text("body", "Body (HTML)."),
        C::timestamp("created_at", "When the part was created."),
        C::timestamp("updated_at", "When the part was last updated."),
        C::timestamp("notified_at", "When the contact was notified."),
        C::text("assigned_to_type", "Assignee type, for assignments.").at("assigned_to.type"),
        C::text("assigned_to_id", "Assignee id, for assignments.").at("assigned_to.id"),
        C::text("author_type", "admin, user, lead, bot or team.").at("author.type"),
        C::text("author_id", "Author id.").at("author.id"),
        C::text("author_name", "Author name.").at("author.name"),
        C::text("author_email", "Author email.").at("author.email"),
        C::text("external_id", "External id, if set."),
        C::bool("redacted", "Whether the part was redacted."),
        C::text("state", "Conversation state after this part."),
        C::json("attachments", "Attachments."),
    ])
}
