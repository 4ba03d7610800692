//! Outbound messages (docs/intercom-notes.md, "Writes"): CreateEmailMessage and
//! CreateInAppMessage (Skyvia's parameter lists). Declarations only. Data events are with
//! their table, `crate::tables::events`.

use serde_json::{Value, json};

use super::{Args, ColumnType, Param, Procedure, ResultColumn, fields};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![email(), in_app()]
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
