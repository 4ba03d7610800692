//! Outbound messages and data events (docs/intercom-notes.md, "Writes"): CreateEmailMessage,
//! CreateInAppMessage (Skyvia's parameter lists) and SubmitEvent. Declarations only.

use serde_json::{Value, json};

use super::{Args, ColumnType, Param, Procedure, ResultColumn, fields};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![email(), in_app(), submit_event()]
}

/// `from.id` is an integer in `create_message_request`; ids given as text are sent as numbers.
fn number_if_numeric(value: Option<&Value>) -> Value {
    match value {
        Some(Value::String(s)) => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(s.clone())),
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

fn message_body(args: &Args, message_type: &str) -> Value {
    let keys = [
        ("subject", "subject"),
        ("body", "body"),
        ("template", "template"),
        (
            "create_conversation_without_contact_reply",
            "create_conversation_without_contact_reply",
        ),
    ];
    let mut body = fields(args, &keys);
    let from = json!({"type": "admin", "id": number_if_numeric(args.get("from_id"))});
    let to = json!({"type": args.get("to_type"), "id": args.get("to_id")});
    body.insert("message_type".into(), json!(message_type));
    body.insert("from".into(), from);
    body.insert("to".into(), to);
    Value::Object(body)
}

/// Skyvia's parameter list, shared by both kinds of message: (subject, body, template,
/// from_id, to_type, to_id), then our optional last parameter. Subject and template are
/// required for email and ignored in-app.
fn message(name: &'static str, description: &'static str, email: bool) -> Procedure {
    let subject = Param::text(
        "subject",
        "Subject of the email (ignored for in-app messages).",
    );
    let template = Param::text(
        "template",
        "plain or personal (email styling; ignored for in-app messages).",
    )
    .one_of(&["plain", "personal"]);
    let (subject, template) = if email {
        (subject, template)
    } else {
        (subject.optional(), template.optional())
    };
    Procedure::new(name, description, "POST", "/messages")
        .param(subject)
        .param(Param::text(
            "body",
            "Content of the message (HTML allowed).",
        ))
        .param(template)
        .param(Param::text("from_id", "Id of the admin who sends it."))
        .param(Param::text("to_type", "user or lead.").one_of(&["user", "lead"]))
        .param(Param::text(
            "to_id",
            "Intercom id of the recipient contact.",
        ))
        .param(
            Param::bool(
                "create_conversation_without_contact_reply",
                "Create the conversation at once instead of when the contact replies.",
            )
            .optional(),
        )
        .column(ResultColumn::text("id", "id"))
        .column(ResultColumn::text("message_type", "message_type"))
        .column(ResultColumn::text("conversation_id", "conversation_id"))
        .column(ResultColumn::typed(
            "created_at",
            ColumnType::Timestamp,
            "created_at",
        ))
}

fn email() -> Procedure {
    message(
        "CreateEmailMessage",
        "Sends an email from an admin to a contact.",
        true,
    )
    .body(|a| Ok(message_body(a, "email")))
    .example(concat!(
        "CALL CreateEmailMessage('Welcome', 'Hi there!', 'plain', '991267460', 'user', ",
        "'6650d1c2e4b0a1f2c3d4e5f6')"
    ))
}

fn in_app() -> Procedure {
    message(
        "CreateInAppMessage",
        "Sends an in-app message from an admin to a contact (subject and template are ignored).",
        false,
    )
    // The 2.15 schema's enum says `in_app`, its examples and responses say `inapp`
    // (docs/intercom-notes.md, "Where the schema and the examples disagree"); Intercom accepts
    // `inapp`.
    .body(|a| Ok(message_body(a, "inapp")))
    .example(concat!(
        "CALL CreateInAppMessage(NULL, 'New: exports', NULL, '991267460', 'user', ",
        "'6650d1c2e4b0a1f2c3d4e5f6')"
    ))
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
