//! Fin Voice: calls from an external phone system registered with Intercom, and looked up by
//! reference id, external call id, phone number or conversation (official spec:
//! `registerFinVoiceCall`, `collectFinVoiceCallById`, `collectFinVoiceCallByExternalId`,
//! `collectFinVoiceCallByPhoneNumber`, `collectFinVoiceCallsByConversationId`). Kept as the
//! JSON of the spec's `ai_call_response`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::body::Body;
use crate::emulator::{ApiError, EmulatorState};

fn not_found() -> ApiError {
    ApiError::not_found("not_found", "Call not found")
}

/// The one call whose `field` is `value` (the newest when several are).
fn one(emulator: &EmulatorState, field: &str, value: &str) -> ApiResult {
    let guard = emulator.store();
    let call = guard
        .fin_voice_calls
        .iter()
        .rev()
        .find(|c| match &c[field] {
            Value::String(s) => s == value,
            Value::Number(n) => n.to_string() == value,
            _ => false,
        })
        .ok_or_else(not_found)?;
    Ok(Json(call.clone()).into_response())
}

pub(super) async fn by_id(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    one(&emulator, "id", id.trim())
}

pub(super) async fn by_external_id(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    one(&emulator, "external_call_id", &id)
}

pub(super) async fn by_phone_number(
    State(emulator): State<EmulatorState>,
    Path(phone): Path<String>,
) -> ApiResult {
    one(&emulator, "user_phone_number", phone.trim())
}

/// `GET /fin_voice/conversation/{id}`: every call of the conversation, as a bare array.
pub(super) async fn by_conversation(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> Json<Value> {
    let guard = emulator.store();
    let calls: Vec<Value> = guard
        .fin_voice_calls
        .iter()
        .filter(|c| c["intercom_conversation_id"] == id.trim())
        .cloned()
        .collect();
    Json(Value::Array(calls))
}

/// `POST /fin_voice/register`: a new reference for an external call; a call id already
/// registered is 409.
pub(super) async fn register(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let b = Body::parse(&body)?;
    b.allow(&["phone_number", "call_id", "source", "data"])?;
    let phone = b.req_str("phone_number")?;
    let digits = phone.strip_prefix('+').unwrap_or_default();
    if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::invalid(format!(
            "phone_number must be in E.164 format, got '{phone}'"
        )));
    }
    let call_id = b.req_str("call_id")?;
    b.enumerated("source", &["five9", "zoom_phone", "aws_connect"])?;
    b.object("data")?;
    emulator.write(|store| {
        if store
            .fin_voice_calls
            .iter()
            .any(|c| c["external_call_id"] == call_id.as_str())
        {
            return Err(ApiError::new(
                409,
                "conflict",
                format!("call {call_id} is already registered"),
            ));
        }
        let id = store
            .fin_voice_calls
            .iter()
            .filter_map(|c| c["id"].as_i64())
            .max()
            .map_or(12_345, |m| m + 1);
        let app_id: i64 = 12_345;
        let call = json!({
            "id": id, "app_id": app_id, "user_phone_number": phone, "status": "registered",
            "intercom_call_id": null, "external_call_id": call_id,
            "intercom_conversation_id": null, "call_transcript": [], "call_summary": "",
            "intent": [],
        });
        store.fin_voice_calls.push(call.clone());
        Ok(Json(call).into_response())
    })
}
