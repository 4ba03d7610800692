//! Fin, Intercom's AI agent, driven from outside Intercom (official spec: `startFinConversation`
//! `POST /fin/start`, `replyToFin` `POST /fin/reply`, `submitFinCsat` `POST /fin/csat`), and
//! deflecting a phone call to the Messenger (`createPhoneSwitch` `POST
//! /phone_call_redirects`). Declarations only. Fin's answers arrive on the event stream its
//! answer names (`sse_subscription_url`), not through the API.

use serde_json::{Map, Value, json};

use super::{Args, ColumnType, Param, Procedure, ResultColumn};

pub(super) fn procedures() -> Vec<Procedure> {
    vec![start(), reply(), csat(), phone_switch()]
}

/// The parameters of a user's message to Fin, shared by start and reply.
fn message_params(procedure: Procedure) -> Procedure {
    procedure
        .param(Param::text(
            "conversation_id",
            "Your id for the conversation (not an Intercom id).",
        ))
        .param(Param::text("body", "The user's message."))
        .param(Param::text("user_id", "Your id for the user."))
        .param(Param::text("user_name", "The user's name.").optional())
        .param(Param::text("user_email", "The user's email.").optional())
        .param(
            Param::json(
                "attachments",
                "JSON array of attachments: {\"type\": \"url\", \"url\": …} or {\"type\": \"file\", \"name\", \"content_type\", \"data\"}.",
            )
            .optional(),
        )
}

/// `{conversation_id, message: {author: user, body, timestamp}, user: {id, name, email}}`.
fn message_body(args: &Args) -> Result<Value, String> {
    let mut user = Map::new();
    for (key, arg) in [
        ("id", "user_id"),
        ("name", "user_name"),
        ("email", "user_email"),
    ] {
        if let Some(v) = args.get(arg) {
            user.insert(key.into(), v.clone());
        }
    }
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut body = json!({
        "conversation_id": args.get("conversation_id"),
        "message": {"author": "user", "body": args.get("body"), "timestamp": timestamp},
        "user": user,
    });
    for key in ["attachments", "conversation_metadata"] {
        match args.get(key) {
            None => {}
            Some(v @ Value::Array(_)) if key == "attachments" => body[key] = v.clone(),
            Some(v @ Value::Object(_)) if key == "conversation_metadata" => body[key] = v.clone(),
            Some(_) => {
                let want = if key == "attachments" {
                    "array"
                } else {
                    "object"
                };
                return Err(format!("{key} must be a JSON {want}"));
            }
        }
    }
    Ok(body)
}

/// What Fin answers to a message: its status and where its replies stream.
fn fin_columns() -> Vec<ResultColumn> {
    vec![
        ResultColumn::text("conversation_id", "conversation_id"),
        ResultColumn::text("user_id", "user_id"),
        ResultColumn::text("status", "status"),
        ResultColumn::text("sse_subscription_url", "sse_subscription_url"),
    ]
}

fn start() -> Procedure {
    message_params(Procedure::new(
        "StartFinConversation",
        "Hands a user's first message (and optional history) to Fin; its answer streams from sse_subscription_url.",
        "POST",
        "/fin/start",
    ))
    .param(
        Param::json(
            "conversation_metadata",
            "JSON object: {\"history\": [earlier messages], \"attributes\": {…}}.",
        )
        .optional(),
    )
    .body(message_body)
    .columns(fin_columns())
    .example("CALL StartFinConversation('ext-123', 'How can I see my invoices?', 'user-456', 'Ann Lee', 'ann@example.com')")
}

fn reply() -> Procedure {
    message_params(Procedure::new(
        "ReplyToFin",
        "Sends the user's reply to Fin once Fin awaits it (status awaiting_user_reply).",
        "POST",
        "/fin/reply",
    ))
    .body(message_body)
    .columns(fin_columns())
    .example("CALL ReplyToFin('ext-123', 'It is order 1234.', 'user-456')")
}

fn csat() -> Procedure {
    Procedure::new(
        "SubmitFinCsat",
        "Records the user's satisfaction rating of a Fin conversation, with an optional remark.",
        "POST",
        "/fin/csat",
    )
    .param(Param::text(
        "conversation_id",
        "Your id for the conversation (as given to StartFinConversation).",
    ))
    .param(
        Param::text("rating", "The rating the user chose.")
            .one_of(&["terrible", "bad", "ok", "good", "amazing"]),
    )
    .param(Param::text("remark", "The user's comment.").optional())
    .body(|a| {
        Ok(Value::Object(super::fields(
            a,
            &[
                ("conversation_id", "conversation_id"),
                ("rating", "rating"),
                ("remark", "remark"),
            ],
        )))
    })
    .columns(vec![
        ResultColumn::text("conversation_id", "conversation_id"),
        ResultColumn::text("rating", "rating"),
        ResultColumn::text("status", "status"),
    ])
    .example("CALL SubmitFinCsat('ext-123', 'amazing', 'Quick and right')")
}

fn phone_switch() -> Procedure {
    Procedure::new(
        "CreatePhoneSwitch",
        "Deflects a phone call to the Messenger: texts the number a link to it (custom attributes go to the user or lead).",
        "POST",
        "/phone_call_redirects",
    )
    .param(Param::text("phone", "The caller's number, in E.164 (+353832345678)."))
    .param(
        Param::json(
            "custom_attributes",
            "JSON object of custom attributes to set on the user or lead.",
        )
        .optional(),
    )
    .check(|a| match a.get("custom_attributes") {
        None | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err("custom_attributes must be a JSON object".into()),
    })
    .body(|a| {
        Ok(Value::Object(super::fields(
            a,
            &[("phone", "phone"), ("custom_attributes", "custom_attributes")],
        )))
    })
    .columns(vec![ResultColumn::typed("url", ColumnType::Text, "url")])
    .example("CALL CreatePhoneSwitch('+353832345678', '{\"issue_type\": \"Billing\"}')")
}
