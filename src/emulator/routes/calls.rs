//! Calls (official spec: `listCalls`, `showCall`, `showCallRecording`, `showCallTranscript`,
//! `listCallsWithTranscripts`): page-numbered, at most 25 a page, kept as the JSON of the
//! spec's `call` schema. A call that was answered has a recording (a redirect to a signed URL
//! on another host) and a transcript (text, or entries from `POST /calls/search`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::ApiResult;
use super::documents::{find, page_of};
use super::paging::params;
use crate::emulator::{ApiError, EmulatorState};

/// Calls a page holds at most (docs/intercom-notes.md, "Paging").
const MAX_PER_PAGE: usize = 25;

pub(super) async fn list_calls(
    State(emulator): State<EmulatorState>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    // Larger pages are cut to 25, as `per_page` above 150 is cut to 150 elsewhere.
    let mut p = params(q);
    if let Some(n) = p
        .get("per_page")
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        p.insert("per_page".into(), n.min(MAX_PER_PAGE).to_string());
    }
    let query: Vec<String> = p.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let guard = emulator.store();
    page_of(
        &guard.calls,
        Some(query.join("&")),
        MAX_PER_PAGE,
        Value::clone,
    )
}

pub(super) async fn get_call(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let guard = emulator.store();
    let i = find(&guard.calls, &id).map_err(|_| ApiError::not_found("not_found", "Not Found"))?;
    Ok(Json(guard.calls[i].clone()).into_response())
}

/// The answered call `id`, or the error Intercom gives for a call without `what`.
fn answered(emulator: &EmulatorState, id: &str, what: &str) -> Result<Value, ApiError> {
    let guard = emulator.store();
    let i = find(&guard.calls, id).map_err(|_| ApiError::not_found("not_found", "Not Found"))?;
    let call = guard.calls[i].clone();
    if call["state"] != "completed" {
        return Err(ApiError::not_found("not_found", what));
    }
    Ok(call)
}

/// The lines of a call's transcript: (seconds from the start, speaker, text).
fn utterances(call: &Value) -> Vec<(i64, &'static str, String)> {
    let phone = call["phone"].as_str().unwrap_or("");
    vec![
        (
            3,
            "Teammate 1",
            "Hello, thanks for calling. How can I help today?".into(),
        ),
        (
            9,
            "User",
            format!("I am calling from {phone} about my account."),
        ),
        (15, "Teammate 1", "I can help with that.".into()),
    ]
}

/// A fixed stand-in for a URL signature (FNV-1a of the call id).
fn signature(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `GET /calls/{id}/recording`: `302` to the recording's signed URL.
pub(super) async fn recording(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let call = answered(&emulator, &id, "Recording Not Found")?;
    let url = format!(
        "https://recordings.emulator.invalid/calls/{}.mp3?X-Amz-Expires=300&X-Amz-Signature={:016x}",
        call["id"].as_str().unwrap_or(""),
        signature(call["id"].as_str().unwrap_or(""))
    );
    Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
}

/// `GET /calls/{id}/transcript`: the transcript as a text file.
pub(super) async fn transcript(
    State(emulator): State<EmulatorState>,
    Path(id): Path<String>,
) -> ApiResult {
    let call = answered(&emulator, &id, "Not Found")?;
    let text: Vec<String> = utterances(&call)
        .into_iter()
        .map(|(at, who, said)| format!("[00:00:{at:02}] {who}: \"{said}\""))
        .collect();
    let disposition = "attachment; filename=transcription_data.txt";
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text.join("\n"),
    )
        .into_response())
}

/// `POST /calls/search` `{"conversation_ids": [1 to 20 ids]}`: the calls of those
/// conversations, each with its transcript's entries (none for a call nobody answered).
pub(super) async fn search(State(emulator): State<EmulatorState>, body: Bytes) -> ApiResult {
    let limit = || {
        ApiError::new(
            400,
            "conversation_id_limit_exceeded",
            "A list of up to 20 conversation IDs is required",
        )
    };
    let b = super::body::Body::parse(&body)?;
    let ids: Vec<String> = b
        .array("conversation_ids")?
        .ok_or_else(limit)?
        .iter()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    if ids.is_empty() || ids.len() > 20 {
        return Err(limit());
    }
    let guard = emulator.store();
    let data: Vec<Value> = guard
        .calls
        .iter()
        .filter(|c| c["conversation_id"].as_str().is_some_and(|id| ids.iter().any(|i| i == id)))
        .map(|call| {
            let mut call = call.clone();
            let done = call["state"] == "completed";
            let entries: Vec<Value> = if done {
                utterances(&call)
                    .into_iter()
                    .map(|(at, who, said)| json!({"offset_seconds": at, "speaker": who, "text": said}))
                    .collect()
            } else {
                Vec::new()
            };
            call["transcript"] = entries.into();
            call["transcript_status"] = if done { json!("completed") } else { Value::Null };
            call
        })
        .collect();
    Ok(Json(json!({"type": "list", "data": data})).into_response())
}
