//! What a reply to a conversation or a ticket says and who sends it, validated the same way
//! for both (official spec: `replyConversation`, `replyTicket`).

use serde_json::{Value, json};

use super::body::Body;
use super::shared::{contact_by, user_not_found};
use crate::emulator::ApiError;
use crate::emulator::store::Store;

/// A contact's reply identifier: exactly one of `intercom_user_id`, `user_id`, `email`.
pub(super) fn replying_contact(store: &Store, body_fields: &Body) -> Result<u32, ApiError> {
    let keys = ["intercom_user_id", "user_id", "email"];
    let given: Vec<&str> = keys
        .into_iter()
        .filter(|k| body_fields.get(k).is_some())
        .collect();
    let [key] = given.as_slice() else {
        return Err(ApiError::new(
            400,
            "parameter_not_found",
            "exactly one of intercom_user_id, user_id or email is required",
        ));
    };
    let value = body_fields.req_str(key)?;
    contact_by(store, key, &value).ok_or_else(user_not_found)
}

/// What a reply says, validated the same way for conversations and tickets.
pub(super) struct ReplyContent {
    /// `comment`, `note` or `quick_reply` (admins); `comment` (contacts).
    pub(super) message_type: &'static str,
    /// The non-blank body; required unless a quick reply.
    pub(super) text: Option<String>,
    /// Quick-reply options; required for a quick reply.
    pub(super) options: Option<Value>,
}

/// The content of an admin (`kind` = `admin`) or contact reply, with at most 10 attachments.
pub(super) fn reply_content(body_fields: &Body, kind: &str) -> Result<ReplyContent, ApiError> {
    let message_type = if kind == "admin" {
        body_fields.req_enumerated("message_type", &["comment", "note", "quick_reply"])?
    } else {
        body_fields.req_enumerated("message_type", &["comment"])?
    };
    let text = body_fields.str("body")?.filter(|t| !t.trim().is_empty());
    let options = reply_options(body_fields)?;
    if message_type == "quick_reply" && options.is_none() {
        return Err(super::body::missing("reply_options"));
    }
    if message_type != "quick_reply" && text.is_none() {
        return Err(super::body::missing("body"));
    }
    body_fields.bounded_array("attachment_urls", 10)?;
    body_fields.bounded_array("attachment_files", 10)?;
    Ok(ReplyContent {
        message_type,
        text,
        options,
    })
}

/// Validated `reply_options` of a quick reply: `[{text, uuid}]`, at least one.
pub(super) fn reply_options(body_fields: &Body) -> Result<Option<Value>, ApiError> {
    let Some(items) = body_fields.array("reply_options")? else {
        return Ok(None);
    };
    let mut options = Vec::new();
    for item in items {
        let o = body_fields.item("reply_options", item)?;
        o.allow(&["text", "uuid"])?;
        options.push(json!({"text": o.req_text("text")?, "uuid": o.req_text("uuid")?}));
    }
    if options.is_empty() {
        return Err(ApiError::invalid("'reply_options' must not be empty"));
    }
    Ok(Some(json!({"quick_reply_options": options})))
}
