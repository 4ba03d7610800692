//! `conversations` and `conversation_parts` (official spec: `GET /conversations`,
//! `GET /conversations/{id}`). Parts come only from
//! `GET /conversations/{id}` (at most the newest 500), so they are a per-conversation child table.

use super::PageStyle;
use super::write::{TableWrites, Write};
use super::{ColumnDef as C, Compared, Listing, SearchType as S, Source, TableDef};

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
    .custom_attributes("conversation", false)
    .search("/conversations/search", "conversations")
    .partitioned_by("created_at", Compared::BySecond)
    .columns([
        C::text("id", "Intercom id of the conversation."),
        C::text("title", "Title, if set."),
        C::timestamp("created_at", "When the conversation started.").search(S::Date),
        C::timestamp("updated_at", "When it last changed.").search(S::Date),
        C::timestamp(
            "waiting_since",
            "Since when the contact has waited for a reply (null after an admin reply).",
        )
        .search(S::Date),
        C::timestamp("snoozed_until", "When a snooze ends.").search(S::Date),
        C::bool("open", "Whether the conversation is open.").search(S::Bool),
        C::text("state", "open, closed or snoozed.").search(S::Str),
        C::bool("read", "Whether the last contact message was read.").search(S::Bool),
        C::text("priority", "priority or not_priority.").search(S::Str),
        C::int(
            "admin_assignee_id",
            "Assigned admin (null when unassigned).",
        )
        .search(S::Int),
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
        .at("source.delivered_as")
        .search(S::Str),
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
        C::text(
            "first_contact_reply_type",
            "Channel of the contact's first reply (conversation, email, …).",
        )
        .at("first_contact_reply.type"),
        C::text(
            "first_contact_reply_url",
            "Page the contact first replied from, if any.",
        )
        .at("first_contact_reply.url"),
        C::int(
            "statistics_time_to_assignment",
            "Seconds until first assignment.",
        )
        .at("statistics.time_to_assignment")
        .search(S::Int),
        C::int(
            "statistics_time_to_admin_reply",
            "Seconds until first admin reply.",
        )
        .at("statistics.time_to_admin_reply")
        .search(S::Int),
        C::int(
            "statistics_time_to_first_close",
            "Seconds until first close.",
        )
        .at("statistics.time_to_first_close")
        .search(S::Int),
        C::int(
            "statistics_median_time_to_reply",
            "Median seconds to reply.",
        )
        .at("statistics.median_time_to_reply")
        .search(S::Int),
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
        .at("conversation_rating.rating")
        .search_as("conversation_rating.score", S::Int),
        C::text("conversation_rating_remark", "Remark left with the rating.")
            .at("conversation_rating.remark")
            .search(S::Str),
        C::timestamp("conversation_rating_created_at", "When the rating was given.")
            .at("conversation_rating.created_at"),
        C::text(
            "conversation_rating_contact_id",
            "Contact who gave the rating.",
        )
        .at("conversation_rating.contact.id")
        .search_as("conversation_rating.contact_id", S::Str),
        C::text(
            "conversation_rating_teammate_id",
            "Teammate the rating is about.",
        )
        .at("conversation_rating.teammate.id"),
        C::text(
            "ai_agent_source_type",
            "What brought Fin in: essentials_plan_setup, profile, workflow, …",
        )
        .at("ai_agent.source_type")
        .search(S::Str),
        C::text("ai_agent_source_title", "Title of that source.")
            .at("ai_agent.source_title")
            .search(S::Str),
        C::text(
            "ai_agent_last_answer_type",
            "Fin's last answer: ai_answer or custom_answer.",
        )
        .at("ai_agent.last_answer_type")
        .search(S::Str),
        C::text(
            "ai_agent_resolution_state",
            "assumed_resolution, confirmed_resolution, escalated, negative_feedback, procedure_handoff.",
        )
        .at("ai_agent.resolution_state")
        .search(S::Str),
        C::int("ai_agent_rating", "Rating the contact gave Fin.")
            .at("ai_agent.rating")
            .search(S::Int),
        C::text("ai_agent_rating_remark", "Remark left with Fin's rating.")
            .at("ai_agent.rating_remark")
            .search(S::Str),
        C::timestamp("ai_agent_created_at", "When Fin joined the conversation.")
            .at("ai_agent.created_at"),
        C::json(
            "ai_agent",
            "Fin's part in the conversation, as JSON (content sources used, …).",
        ),
        C::text(
            "company_id",
            "Intercom id of the company the conversation is about, if set.",
        )
        .at("company.id"),
        C::text("company_name", "Name of that company.").at("company.name"),
        C::json("company", "That company, as JSON."),
        C::json("sla_applied", "SLA applied to the conversation."),
        C::json("linked_objects", "Linked tickets and conversations."),
        C::json(
            "custom_attributes",
            "Conversation attributes, as a JSON object.",
        ),
    ])
    .writes(conversations_writes())
    .actions(actions::procedures())
}

/// A membership table of conversations: the `items_key` list of each conversation (`GET
/// /conversations/{id}`, retrieveConversation), whose `column` is found by the conversations
/// search's `field` (`tag_ids`, `contact_ids`, `teammate_ids`: array membership).
fn conversation_members(
    name: &str,
    description: &str,
    items_key: &str,
    (column, field): (&str, &str),
    columns: Vec<C>,
) -> TableDef {
    let mut all = vec![C::parent_key("conversation_id", "Id of the conversation.")];
    all.extend(columns);
    TableDef::new(
        name,
        description,
        Source::Children {
            parent_table: "conversations".into(),
            key_column: "conversation_id".into(),
            listing: Listing::new("/conversations/{id}", PageStyle::Single, items_key),
        },
    )
    .columns(all)
    .parent_search(column, field)
}

/// `conversation_tags`: the tags on each conversation.
pub(super) fn conversation_tags() -> TableDef {
    conversation_members(
        "conversation_tags",
        "Tags on each conversation (one row per conversation and tag).",
        "tags.tags",
        ("tag_id", "tag_ids"),
        vec![
            C::text("tag_id", "Id of the tag.").at("id"),
            C::text("tag_name", "Name of the tag.").at("name"),
            C::timestamp("applied_at", "When the tag was applied."),
            C::text("applied_by_type", "Who applied it (admin, …).").at("applied_by.type"),
            C::text("applied_by_id", "Id of who applied it.").at("applied_by.id"),
        ],
    )
}

/// `conversation_contacts`: the contacts taking part in each conversation.
pub(super) fn conversation_contacts() -> TableDef {
    conversation_members(
        "conversation_contacts",
        "Contacts in each conversation (one row per conversation and contact).",
        "contacts.contacts",
        ("contact_id", "contact_ids"),
        vec![
            C::text("contact_id", "Id of the contact.").at("id"),
            C::text("external_id", "The contact's external id, if it has one."),
        ],
    )
}

/// `conversation_teammates`: the teammates who took part in each conversation.
pub(super) fn conversation_teammates() -> TableDef {
    conversation_members(
        "conversation_teammates",
        "Teammates who took part in each conversation (one row per conversation and teammate).",
        "teammates.teammates",
        ("admin_id", "teammate_ids"),
        vec![C::text("admin_id", "Id of the teammate (admin).").at("id")],
    )
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

/// `conversation_handling_events`: when teammates paused and resumed handling each
/// conversation (listHandlingEvents, `GET /conversations/{id}/handling_events`).
pub(super) fn conversation_handling_events() -> TableDef {
    TableDef::new(
        "conversation_handling_events",
        "When teammates paused and resumed handling each conversation.",
        Source::Children {
            parent_table: "conversations".into(),
            key_column: "conversation_id".into(),
            listing: Listing::new(
                "/conversations/{id}/handling_events",
                PageStyle::Single,
                "handling_events",
            ),
        },
    )
    .columns([
        C::parent_key("conversation_id", "Id of the conversation."),
        C::text("type", "paused or resumed."),
        C::timestamp("timestamp", "When it happened."),
        C::text("reason", "Why handling was paused, if given."),
        C::text("teammate_type", "admin, team or bot.").at("teammate.type"),
        C::text("teammate_id", "Id of the teammate.").at("teammate.id"),
        C::text("teammate_name", "Name of the teammate.").at("teammate.name"),
        C::text("teammate_email", "Email of the teammate.").at("teammate.email"),
    ])
}

/// Starts a conversation from a contact; shared by INSERT into `conversations` and
/// `CreateConversation`.
const CONVERSATIONS: &str = "/conversations";

/// A conversation's author given by id alone is any contact (`from.type` `contact`; `user`
/// and `lead` are taken as given).
fn contact_from(body: &mut serde_json::Map<String, serde_json::Value>) -> Result<(), String> {
    if let Some(serde_json::Value::Object(from)) = body.get_mut("from") {
        from.entry("type")
            .or_insert_with(|| serde_json::Value::String("contact".into()));
    }
    Ok(())
}

/// What INSERT, UPDATE and DELETE on `conversations` send.
fn conversations_writes() -> TableWrites {
    TableWrites {
        table: "conversations",
        // Sends what `CreateConversation` sends; Intercom answers with the message, so
        // RETURNING reads the conversation back.
        insert: Some(
            Write::new("POST", CONVERSATIONS)
                .fields(&[
                    ("source_author_id", "from.id"),
                    ("source_author_type", "from.type"),
                    ("source_body", "body"),
                    ("source_subject", "subject"),
                    ("created_at", "created_at"),
                ])
                .required(&["source_author_id", "source_body"])
                .finish(contact_from)
                .read_back("/conversations/{conversation_id}"),
        ),
        update: Some(
            Write::new("PUT", "/conversations/{id}")
                .fields(&[("title", "title"), ("read", "read")])
                .custom()
                .idempotent(),
        ),
        delete: Some(Write::new("DELETE", "/conversations/{id}").idempotent()),
        key: &["id"],
    }
}

/// Actions on conversations, as procedures. State changes and participant changes add
/// conversation parts (and a closing `body` is a message to the contact), so they are not
/// repeated after a 5xx; tags and updates are.
mod actions {
    use serde_json::{Value, json};

    use crate::tables::action::{
        Args, ColumnType, Param, Procedure, ResultColumn, fields, tag_columns,
    };

    const PARTS: &str = "/conversations/{conversation_id}/parts";

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![
            admin_reply(),
            contact_reply(),
            close(),
            snooze(),
            open(),
            assign(),
            tag(
                "TagConversation",
                [tag_id(), conversation_admin("Admin applying the tag.")],
            ),
            tag(
                "AddTagToConversation",
                [conversation_admin("Admin applying the tag."), tag_id()],
            ),
            untag("UntagConversation"),
            untag("RemoveTagFromConversation"),
            attach_contact(),
            detach_contact(),
            mark_read(),
            update(),
            convert_to_ticket(),
            redact_part(),
            delete(),
            create(),
        ]
    }

    fn conversation_id() -> Param {
        Param::text("conversation_id", "Id of the conversation.")
    }

    fn conversation_admin(doc: &'static str) -> Param {
        Param::text("admin_id", doc)
    }

    fn tag_id() -> Param {
        Param::text("tag_id", "Id of the tag.")
    }

    fn attachment_urls() -> Param {
        Param::json(
            "attachment_urls",
            "JSON array of up to 10 file URLs to attach.",
        )
        .optional()
    }

    /// The conversation that reply and part endpoints answer with.
    fn conversation_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::text("id", "id"),
            ResultColumn::text("state", "state"),
            ResultColumn::typed("open", ColumnType::Bool, "open"),
        ]
    }

    /// The conversation plus the part a reply added (the last one).
    fn reply_columns() -> Vec<ResultColumn> {
        let mut columns = conversation_columns();
        columns.push(ResultColumn::text(
            "part_id",
            "conversation_parts.conversation_parts.-1.id",
        ));
        columns.push(ResultColumn::text(
            "part_type",
            "conversation_parts.conversation_parts.-1.part_type",
        ));
        columns
    }

    /// The tag that the conversation tag endpoints answer with.
    /// `admin_id` as the 2.15 conversation request schemas type it: a string.
    fn admin(args: &Args) -> Value {
        args.get("admin_id").cloned().unwrap_or(Value::Null)
    }

    fn check_attachments(args: &Args) -> Result<(), String> {
        match args.get("attachment_urls") {
            None => Ok(()),
            Some(Value::Array(urls)) if urls.len() <= 10 && urls.iter().all(Value::is_string) => {
                Ok(())
            }
            Some(_) => Err("attachment_urls must be a JSON array of at most 10 URL strings".into()),
        }
    }

    fn check_object(args: &Args, name: &str, example: &str) -> Result<(), String> {
        match args.get(name) {
            None | Some(Value::Object(_)) => Ok(()),
            Some(_) => Err(format!("{name} must be a JSON object, e.g. '{example}'")),
        }
    }

    /// A `POST …/parts` body by an admin: `message_type`, `type: admin`, `admin_id`, and the
    /// arguments in `extra`.
    fn part(message_type: &str, args: &Args, extra: &[(&str, &str)]) -> Value {
        let mut body = fields(args, extra);
        body.insert("message_type".into(), json!(message_type));
        body.insert("type".into(), json!("admin"));
        body.insert("admin_id".into(), admin(args));
        Value::Object(body)
    }

    fn admin_reply() -> Procedure {
        Procedure::new(
            "AdminReplyToConversation",
            "Replies to a conversation as an admin: a comment the contact sees, or an internal note.",
            "POST",
            "/conversations/{conversation_id}/reply",
        )
        .param(conversation_id())
        .param(
            Param::text(
                "message_type",
                "comment (seen by the contact), note (internal) or quick_reply (buttons).",
            )
            .one_of(&["comment", "note", "quick_reply"]),
        )
        .param(conversation_admin("Admin who replies."))
        .param(Param::text("body", "Text of the reply (HTML allowed)."))
        .param(attachment_urls())
        .param(
            Param::json(
                "reply_options",
                r#"quick_reply's buttons: a JSON array of texts (["Yes", "No"]) or of {"text", "uuid"}."#,
            )
            .optional(),
        )
        .param(
            Param::json(
                "attachment_files",
                r#"JSON array of up to 10 files sent inline: {"name", "content_type", "data" (base64)}."#,
            )
            .optional(),
        )
        .param(created_at())
        .param(
            Param::bool(
                "skip_notifications",
                "true sends the reply without notifying the contact.",
            )
            .optional(),
        )
        .check(|a| {
            check_attachments(a)?;
            let quick = a.text("message_type").as_deref() == Some("quick_reply");
            match (quick, a.get("reply_options")) {
                (true, None) => Err("a quick_reply needs reply_options, e.g. '[\"Yes\", \"No\"]'".into()),
                (false, Some(_)) => Err("reply_options are for message_type quick_reply".into()),
                (_, Some(options)) => quick_reply_options(options).map(|_| ()),
                (false, None) => Ok(()),
            }?;
            match a.get("attachment_files") {
                None => Ok(()),
                Some(Value::Array(files))
                    if files.len() <= 10 && files.iter().all(Value::is_object) =>
                {
                    Ok(())
                }
                Some(_) => Err(
                    r#"attachment_files must be a JSON array of at most 10 {"name", "content_type", "data"} objects"#
                        .into(),
                ),
            }
        })
        .body(|a| {
            let keys = [
                ("message_type", "message_type"),
                ("body", "body"),
                ("attachment_urls", "attachment_urls"),
                ("attachment_files", "attachment_files"),
                ("created_at", "created_at"),
                ("skip_notifications", "skip_notifications"),
            ];
            let mut body = fields(a, &keys);
            body.insert("type".into(), json!("admin"));
            body.insert("admin_id".into(), admin(a));
            if let Some(options) = a.get("reply_options") {
                body.insert("reply_options".into(), quick_reply_options(options)?);
            }
            Ok(Value::Object(body))
        })
        .columns(reply_columns())
        .example("CALL AdminReplyToConversation('1001', 'comment', '991267460', 'Fixed now!')")
    }

    fn contact_reply() -> Procedure {
        Procedure::new(
            "ContactReplyToConversation",
            "Replies to a conversation on behalf of a contact.",
            "POST",
            "/conversations/{conversation_id}/reply",
        )
        .param(conversation_id())
        .param(
            Param::text(
                "intercom_user_id",
                "Intercom id of the contact who replies (or NULL, and email or user_id).",
            )
            .optional(),
        )
        .param(Param::text("body", "Text of the reply."))
        .param(attachment_urls())
        .param(Param::text("email", "Email of the contact who replies, instead.").optional())
        .param(
            Param::text(
                "user_id",
                "Your external id of the contact who replies, instead.",
            )
            .optional(),
        )
        .param(created_at())
        .check(|a| {
            one_contact(a, "intercom_user_id")?;
            check_attachments(a)
        })
        .body(|a| {
            let keys = [
                ("intercom_user_id", "intercom_user_id"),
                ("email", "email"),
                ("user_id", "user_id"),
                ("body", "body"),
                ("attachment_urls", "attachment_urls"),
                ("created_at", "created_at"),
            ];
            let mut body = fields(a, &keys);
            body.insert("type".into(), json!("user"));
            body.insert("message_type".into(), json!("comment"));
            Ok(Value::Object(body))
        })
        .columns(reply_columns())
        .example("CALL ContactReplyToConversation('1001', '6650d1c2e4b0a1f2c3d4e5f6', 'It works')")
    }

    /// A quick reply's options as Intercom takes them, `[{"text", "uuid"}]`: texts given alone
    /// get a fresh random (version 4) UUID each.
    fn quick_reply_options(options: &Value) -> Result<Value, String> {
        let wrong = || {
            r#"reply_options must be a non-empty JSON array of texts or of {"text", "uuid"} objects"#
                .to_string()
        };
        let Value::Array(items) = options else {
            return Err(wrong());
        };
        if items.is_empty() {
            return Err(wrong());
        }
        items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(json!({"text": text, "uuid": random_uuid()})),
                Value::Object(o) if o.get("text").is_some_and(Value::is_string) => {
                    let uuid = match o.get("uuid") {
                        Some(Value::String(u)) => u.clone(),
                        _ => random_uuid(),
                    };
                    Ok(json!({"text": o["text"], "uuid": uuid}))
                }
                _ => Err(wrong()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }

    /// A random version 4 UUID, `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
    fn random_uuid() -> String {
        let (a, b) = (fastrand::u64(..), fastrand::u64(..));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// Exactly one way of naming the contact: its Intercom id (the parameter `id`), `email`
    /// or `user_id` (the spec's three forms of a contact in conversation requests).
    fn one_contact(a: &Args, id: &str) -> Result<(), String> {
        let given: Vec<&str> = [id, "email", "user_id"]
            .into_iter()
            .filter(|k| a.has(k))
            .collect();
        match given.len() {
            1 => Ok(()),
            0 => Err(format!("name the contact: give {id}, email or user_id")),
            _ => Err(format!(
                "name the contact one way only: {} were all given",
                given.join(", ")
            )),
        }
    }

    fn created_at() -> Param {
        Param::timestamp(
            "created_at",
            "When the reply was made, for imports (default: now).",
        )
        .optional()
    }

    fn close() -> Procedure {
        Procedure::new("CloseConversation", "Closes a conversation.", "POST", PARTS)
            .param(conversation_id())
            .param(conversation_admin("Admin who closes it."))
            .param(Param::text("body", "Optional closing message shown to the contact.").optional())
            .body(|a| Ok(part("close", a, &[("body", "body")])))
            .columns(conversation_columns())
            .example("CALL CloseConversation('1001', '991267460')")
    }

    fn snooze() -> Procedure {
        Procedure::new(
            "SnoozeConversation",
            "Snoozes a conversation until a given time.",
            "POST",
            PARTS,
        )
        .param(conversation_id())
        .param(
            conversation_admin("Admin who snoozes it (left out: the token's own admin).")
                .or_token_admin(),
        )
        .param(Param::timestamp(
            "snoozed_until",
            "When the conversation reopens; Intercom requires it",
        ))
        // Skyvia's two-argument form: (conversation_id, snoozed_until).
        .short_form(&["conversation_id", "snoozed_until"])
        .body(|a| Ok(part("snoozed", a, &[("snoozed_until", "snoozed_until")])))
        .columns(conversation_columns())
        .column(ResultColumn::typed(
            "snoozed_until",
            ColumnType::Timestamp,
            "snoozed_until",
        ))
        .example("CALL SnoozeConversation('1001', '991267460', '2026-03-01T09:00:00Z')")
    }

    fn open() -> Procedure {
        Procedure::new(
            "OpenConversation",
            "Reopens a closed or snoozed conversation.",
            "POST",
            PARTS,
        )
        .param(conversation_id())
        .param(conversation_admin("Admin who opens it."))
        .body(|a| Ok(part("open", a, &[])))
        .columns(conversation_columns())
        .example("CALL OpenConversation('1001', '991267460')")
    }

    fn assign() -> Procedure {
        Procedure::new(
            "AssignConversation",
            "Assigns a conversation to an admin or a team (assignee_id '0' unassigns).",
            "POST",
            PARTS,
        )
        .param(conversation_id())
        .param(
            Param::text(
                "type",
                "admin to assign to an admin, team to assign to a team.",
            )
            .one_of(&["admin", "team"]),
        )
        .param(conversation_admin("Admin making the assignment."))
        .param(Param::text(
            "assignee_id",
            "Id of the admin or team to assign to; '0' unassigns.",
        ))
        .param(Param::text("body", "Optional note added with the assignment.").optional())
        .body(|a| {
            let keys = [
                ("type", "type"),
                ("assignee_id", "assignee_id"),
                ("body", "body"),
            ];
            let mut body = fields(a, &keys);
            body.insert("message_type".into(), json!("assignment"));
            body.insert("admin_id".into(), admin(a));
            Ok(Value::Object(body))
        })
        .columns(conversation_columns())
        .column(ResultColumn::text("admin_assignee_id", "admin_assignee_id"))
        .column(ResultColumn::text("team_assignee_id", "team_assignee_id"))
        .example(concat!(
            "CALL AssignConversation(conversation_id => '1001', type => 'admin', ",
            "admin_id => '991267460', assignee_id => '991267461')"
        ))
    }

    /// TagConversation, or Skyvia's AddTagToConversation: the same request, with `tag_id` and
    /// `admin_id` after `conversation_id` in the given order.
    fn tag(name: &'static str, rest: [Param; 2]) -> Procedure {
        let (description, example, alias) = if name == "TagConversation" {
            (
                "Applies a tag to a conversation.",
                "CALL TagConversation('1001', '81', '991267460')",
                None,
            )
        } else {
            (
                "Skyvia's name for TagConversation, with Skyvia's parameter order.",
                "CALL AddTagToConversation('1001', '991267460', '81')",
                Some("TagConversation"),
            )
        };
        let [second, third] = rest;
        let procedure = Procedure::new(
            name,
            description,
            "POST",
            "/conversations/{conversation_id}/tags",
        )
        .param(conversation_id())
        .param(second)
        .param(third)
        .body(|a| Ok(json!({"id": a.get("tag_id"), "admin_id": admin(a)})))
        .idempotent()
        .columns(tag_columns("conversation_id"))
        .example(example);
        match alias {
            Some(target) => procedure.alias_of(target),
            None => procedure,
        }
    }

    /// UntagConversation, or Skyvia's RemoveTagFromConversation (same parameter order).
    fn untag(name: &'static str) -> Procedure {
        let procedure = Procedure::new(
            name,
            "Removes a tag from a conversation.",
            "DELETE",
            "/conversations/{conversation_id}/tags/{tag_id}",
        )
        .param(conversation_id())
        .param(tag_id())
        .param(conversation_admin("Admin removing the tag."))
        // DELETE with a JSON body (docs/intercom-notes.md, "Writes").
        .body(|a| Ok(json!({"admin_id": admin(a)})))
        .idempotent()
        .columns(tag_columns("conversation_id"));
        if name == "UntagConversation" {
            procedure.example("CALL UntagConversation('1001', '81', '991267460')")
        } else {
            procedure
                .alias_of("UntagConversation")
                .example("CALL RemoveTagFromConversation('1001', '81', '991267460')")
        }
    }

    fn participant_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::arg("conversation_id", ColumnType::Text, "conversation_id"),
            ResultColumn::arg("contact_id", ColumnType::Text, "contact_id"),
            ResultColumn::typed("customers", ColumnType::Json, "customers"),
        ]
    }

    fn attach_contact() -> Procedure {
        Procedure::new(
            "AttachContactToConversation",
            "Adds a contact as a participant of a conversation.",
            "POST",
            "/conversations/{conversation_id}/customers",
        )
        .param(conversation_id())
        .param(conversation_admin("Admin adding the participant."))
        .param(
            Param::text(
                "contact_id",
                "Intercom id of the contact to add (or NULL, and email or user_id).",
            )
            .optional(),
        )
        .param(Param::text("email", "Email of the contact to add, instead.").optional())
        .param(
            Param::text(
                "user_id",
                "Your external id of the contact to add, instead.",
            )
            .optional(),
        )
        .check(|a| one_contact(a, "contact_id"))
        .body(|a| {
            let customer = fields(
                a,
                &[
                    ("intercom_user_id", "contact_id"),
                    ("email", "email"),
                    ("user_id", "user_id"),
                ],
            );
            Ok(json!({"admin_id": admin(a), "customer": customer}))
        })
        .columns(participant_columns())
        .example(concat!(
            "CALL AttachContactToConversation('1001', '991267460', ",
            "'6650d1c2e4b0a1f2c3d4e5f6')"
        ))
    }

    fn detach_contact() -> Procedure {
        Procedure::new(
            "DetachContactFromConversation",
            "Removes a participant from a conversation (not the last one).",
            "DELETE",
            "/conversations/{conversation_id}/customers/{contact_id}",
        )
        .param(conversation_id())
        .param(conversation_admin("Admin removing the participant."))
        .param(Param::text(
            "contact_id",
            "Intercom id of the contact to remove.",
        ))
        // DELETE with a JSON body (docs/intercom-notes.md, "Writes").
        .body(|a| Ok(json!({"admin_id": admin(a)})))
        .columns(participant_columns())
        .example(concat!(
            "CALL DetachContactFromConversation('1001', '991267460', ",
            "'6650d1c2e4b0a1f2c3d4e5f6')"
        ))
    }

    fn mark_read() -> Procedure {
        Procedure::new(
            "MarkConversationRead",
            "Marks a conversation as read.",
            "PUT",
            "/conversations/{conversation_id}",
        )
        .param(conversation_id())
        .body(|_| Ok(json!({"read": true})))
        .idempotent()
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::typed("read", ColumnType::Bool, "read"))
        .example("CALL MarkConversationRead('1001')")
    }

    fn update() -> Procedure {
        Procedure::new(
            "UpdateConversation",
            "Sets a conversation's title and/or custom attributes (the attributes must exist).",
            "PUT",
            "/conversations/{conversation_id}",
        )
        .param(conversation_id())
        .param(Param::text("title", "New title.").optional())
        .param(
            Param::json(
                "custom_attributes",
                "JSON object of attribute name to value.",
            )
            .optional(),
        )
        .check(|a| {
            if !a.has("title") && !a.has("custom_attributes") {
                return Err("give title or custom_attributes (or both)".into());
            }
            check_object(a, "custom_attributes", r#"{"Issue type": "Billing"}"#)
        })
        .body(|a| {
            let keys = [
                ("title", "title"),
                ("custom_attributes", "custom_attributes"),
            ];
            Ok(Value::Object(fields(a, &keys)))
        })
        .idempotent()
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("title", "title"))
        .column(ResultColumn::typed(
            "custom_attributes",
            ColumnType::Json,
            "custom_attributes",
        ))
        .example(
            r#"CALL UpdateConversation('1001', custom_attributes => '{"Issue type": "Billing"}')"#,
        )
    }

    fn convert_to_ticket() -> Procedure {
        Procedure::new(
            "ConvertConversationToTicket",
            "Converts a conversation into a ticket of a Customer ticket type.",
            "POST",
            "/conversations/{conversation_id}/convert",
        )
        .param(conversation_id())
        .param(Param::text(
            "ticket_type_id",
            "Id of a Customer ticket type.",
        ))
        .param(Param::json("attributes", "JSON object of ticket attributes.").optional())
        .check(|a| check_object(a, "attributes", r#"{"Severity": "High"}"#))
        .body(|a| {
            let keys = [
                ("ticket_type_id", "ticket_type_id"),
                ("attributes", "attributes"),
            ];
            Ok(Value::Object(fields(a, &keys)))
        })
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("ticket_id", "ticket_id"))
        .column(ResultColumn::text("category", "category"))
        .example("CALL ConvertConversationToTicket('1001', '62')")
    }

    fn redact_part() -> Procedure {
        Procedure::new(
            "RedactConversationPart",
            "Redacts the text of one part of a conversation (irreversible).",
            "POST",
            "/conversations/redact",
        )
        .param(conversation_id())
        .param(Param::text(
            "conversation_part_id",
            "Id of the part to redact (see conversation_parts).",
        ))
        .body(|a| {
            let keys = [
                ("conversation_id", "conversation_id"),
                ("conversation_part_id", "conversation_part_id"),
            ];
            let mut body = fields(a, &keys);
            body.insert("type".into(), json!("conversation_part"));
            Ok(Value::Object(body))
        })
        .idempotent()
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::arg(
            "conversation_part_id",
            ColumnType::Text,
            "conversation_part_id",
        ))
        .example("CALL RedactConversationPart('1001', '40000012')")
    }

    fn delete() -> Procedure {
        Procedure::new(
            "DeleteConversation",
            "Deletes a conversation (irreversible).",
            "DELETE",
            "/conversations/{conversation_id}",
        )
        .param(conversation_id())
        .idempotent()
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::typed("deleted", ColumnType::Bool, "deleted"))
        .example("CALL DeleteConversation('1001')")
    }

    fn create() -> Procedure {
        Procedure::new(
            "CreateConversation",
            "Starts a conversation from a contact (an in-app message written by the contact).",
            "POST",
            super::CONVERSATIONS,
        )
        .param(Param::text(
            "contact_id",
            "Intercom id of the contact who writes.",
        ))
        .param(Param::text("body", "Text of the message."))
        .param(
            Param::text("contact_type", "user, lead, or contact (any contact).")
                .default_value("user")
                .one_of(&["user", "lead", "contact"]),
        )
        .param(Param::text("subject", "Optional subject.").optional())
        .param(Param::timestamp("created_at", "Optional creation time, for imports.").optional())
        .body(|a| {
            let keys = [
                ("body", "body"),
                ("subject", "subject"),
                ("created_at", "created_at"),
            ];
            let mut body = fields(a, &keys);
            let from = json!({"type": a.get("contact_type"), "id": a.get("contact_id")});
            body.insert("from".into(), from);
            Ok(Value::Object(body))
        })
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("conversation_id", "conversation_id"))
        .column(ResultColumn::text("message_type", "message_type"))
        .column(ResultColumn::typed(
            "created_at",
            ColumnType::Timestamp,
            "created_at",
        ))
        .example("CALL CreateConversation('6650d1c2e4b0a1f2c3d4e5f6', 'Hi, I cannot log in')")
    }
}
