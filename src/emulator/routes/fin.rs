//! Fin driven from outside Intercom and phone-call deflection (official spec:
//! `startFinConversation`, `replyToFin`, `submitFinCsat`, `createPhoneSwitch`). The emulator
//! keeps each external conversation's user and status; Fin "answers" at once
//! (`awaiting_user_reply`), and a rating is accepted once a conversation has an answer.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::ApiResult;
use super::body::Body;
use crate::emulator::{ApiError, EmulatorState};

/// A user's message to Fin: `conversation_id`, `message`, `user` required.
fn fin_message(body: &Bytes, start: bool) -> Result<(String, String), ApiError> {
    let b = Body::parse(body)?;
    let mut allowed = vec!["conversation_id", "message", "user", "attachments"];
    if start {
        allowed.push("conversation_metadata");
    }
    b.allow(&allowed)?;
    let conversation = b
        .str("conversation_id")?
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| ApiError::invalid("conversation_id is required"))?;
    let message = b.req_nested("message")?;
    message.allow(&["author", "body", "timestamp", "timestamp_ms"])?;
    message.req_enumerated("author", &["user", "agent", "fin"])?;
    message.req_str("body")?;
    message.req_str("timestamp")?;
    let user = b.req_nested("user")?;
    user.allow(&["id", "name", "email", "attributes"])?;
    let user_id = user.req_str("id")?;
    for item in b.array("attachments")?.into_iter().flatten() {
        let a = b.item("attachments", item)?;
        a.allow(&["type", "url", "name", "content_type", "data"])?;
        a.req_enumerated("type", &["url", "file"])?;
    }
    Ok((conversation, user_id))
}

fn fin_answer(conversation: &str, user: &str, status: &str) -> Response {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Json(json!({
        "conversation_id": conversation, "user_id": user, "status": status,
        "created_at_ms": now,
        "sse_subscription_url": format!(
            "https://realtime.example.test/event-stream?channels=fin_agent_api:{conversation}"
        ),
    }))
    .into_response()
}

/// `POST /fin/start`: a conversation already started is started again (its history reset).
pub(super) async fn start(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let (conversation, user) = fin_message(&body, true)?;
    emulator.write(|store| {
        store
            .fin_conversations
            .insert(conversation.clone(), (user.clone(), None));
        Ok(fin_answer(&conversation, &user, "awaiting_user_reply"))
    })
}

/// `POST /fin/reply`: only to a conversation Fin has started.
pub(super) async fn reply(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let (conversation, user) = fin_message(&body, false)?;
    emulator.write(|store| {
        if !store.fin_conversations.contains_key(&conversation) {
            return Err(ApiError::invalid(format!(
                "conversation {conversation} was not started with /fin/start"
            )));
        }
        Ok(fin_answer(&conversation, &user, "awaiting_user_reply"))
    })
}

/// A 422 in `submitFinCsat`'s shape: `{"errors": {field: message}}`.
fn unprocessable(field: &str, message: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"errors": {field: message}})),
    )
        .into_response()
}

/// `POST /fin/csat`: a rating, once; a remark closes it.
pub(super) async fn csat(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&["conversation_id", "rating", "remark"])?;
    let conversation = b.req_str("conversation_id")?;
    let Some(rating) = b.str("rating")? else {
        return Ok(unprocessable("rating", "Rating isn't an option"));
    };
    if !["terrible", "bad", "ok", "good", "amazing"].contains(&rating.as_str()) {
        return Ok(unprocessable("rating", "Rating isn't an option"));
    }
    let remark = b.str("remark")?;
    emulator.write(|store| {
        let Some((_, rated)) = store.fin_conversations.get_mut(&conversation) else {
            return Ok(unprocessable(
                "external_conversation_id",
                "Conversation not found for the given external_conversation_id",
            ));
        };
        if matches!(rated, Some(true)) {
            return Ok(unprocessable(
                "base",
                "This rating can no longer be changed because a remark has already been submitted",
            ));
        }
        *rated = Some(remark.is_some());
        Ok(
            Json(json!({"conversation_id": conversation, "rating": rating, "status": "rated"}))
                .into_response(),
        )
    })
}

/// `POST /phone_call_redirects`: an E.164 number gets a Messenger link by SMS.
pub(super) async fn phone_switch(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&["phone", "custom_attributes"])?;
    let phone = b.req_str("phone")?;
    b.object("custom_attributes")?;
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error_key": "invalid_phone_number", "message": "Invalid phone number"})),
        )
            .into_response());
    }
    let id = emulator.write(|store| {
        store.phone_switches += 1;
        Ok(store.phone_switches)
    })?;
    let url = format!("http://via.intercom.io/msgr/00000000-0000-4000-8000-{id:012x}");
    Ok(Json(json!({"type": "phone_call_redirect", "url": url})).into_response())
}
