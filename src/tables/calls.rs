//! `calls`: phone calls (official spec: `listCalls`, `showCall`), with their recordings
//! (`showCallRecording`), transcripts (`showCallTranscript`) and the calls of given
//! conversations with their transcripts (`listCallsWithTranscripts`, `POST /calls/search`).
//! Read-only. Timestamps may come as Unix seconds or ISO-8601 text (the spec's `datetime`);
//! both are read.

use serde_json::json;

use super::PageStyle;
use super::{BodyFormat, ColumnDef as C, Listing, Source, TableDef};

/// `calls`: every call, newest first.
pub(super) fn calls() -> TableDef {
    TableDef::new(
        "calls",
        "Phone calls with customers, each on a conversation.",
        Source::List(Listing::new("/calls", PageStyle::PageNumber, "data")),
    )
    .get_by_id("/calls/{id}")
    .listed_by("conversation_id", calls_of_conversation())
    .columns(call_columns())
}

/// The calls of one conversation, with their transcripts (`POST /calls/search`; it takes up to
/// 20 conversations, one is sent per request).
fn calls_of_conversation() -> Listing {
    Listing::new("/calls/search", PageStyle::Single, "data")
        .posting(json!({ "conversation_ids": ["{id}"] }))
}

/// `conversation_calls`: the calls of each conversation, with the transcripts Intercom keeps
/// as entries (`POST /calls/search`, which takes conversation ids and no query).
pub(super) fn conversation_calls() -> TableDef {
    let mut columns = vec![C::parent_key(
        "conversation_id",
        "The conversation (conversations.id).",
    )];
    columns.extend(
        call_columns()
            .into_iter()
            .filter(|c| c.name != "conversation_id"),
    );
    columns.extend([
        C::json(
            "transcript",
            "The transcript's entries (speaker, text, times), [] when there is none.",
        ),
        C::text(
            "transcript_status",
            "State of the transcript, e.g. completed.",
        ),
    ]);
    TableDef::new(
        "conversation_calls",
        "Calls of each conversation, with their transcripts (read by conversation).",
        Source::Children {
            parent_table: "conversations".into(),
            key_column: "conversation_id".into(),
            listing: calls_of_conversation(),
        },
    )
    .key_required(
        "Intercom finds calls with their transcripts by conversation; add WHERE conversation_id = '…' (or IN, or join from conversations); the calls table lists every call",
    )
    .columns(columns)
}

/// `call_recordings`: where each call's recording can be downloaded (`GET
/// /calls/{id}/recording` answers with a redirect to a signed URL, which is not followed).
pub(super) fn call_recordings() -> TableDef {
    TableDef::new(
        "call_recordings",
        "Signed download URL of each call's recording (one request per call; calls without one have no row).",
        Source::Children {
            parent_table: "calls".into(),
            key_column: "call_id".into(),
            listing: Listing::new("/calls/{id}/recording", PageStyle::Single, "$")
                .answering(BodyFormat::Redirect("url")),
        },
    )
    .columns([
        C::parent_key("call_id", "The call (calls.id)."),
        C::text(
            "url",
            "Signed URL of the audio file (short-lived; fetch it soon).",
        ),
    ])
}

/// `call_transcripts`: each call's transcript as text (`GET /calls/{id}/transcript`).
pub(super) fn call_transcripts() -> TableDef {
    TableDef::new(
        "call_transcripts",
        "Each call's transcript as text (one request per call; calls without one have no row).",
        Source::Children {
            parent_table: "calls".into(),
            key_column: "call_id".into(),
            listing: Listing::new("/calls/{id}/transcript", PageStyle::Single, "$")
                .answering(BodyFormat::Text("transcript")),
        },
    )
    .columns([
        C::parent_key("call_id", "The call (calls.id)."),
        C::text(
            "transcript",
            "The transcript, one line per utterance: [hh:mm:ss] speaker: \"text\".",
        ),
    ])
}

/// The columns of a call.
fn call_columns() -> Vec<C> {
    vec![
        C::text("id", "Id of the call."),
        C::text(
            "conversation_id",
            "Its conversation (conversations.id), if any.",
        ),
        C::text("admin_id", "Teammate on the call (admins.id), if any."),
        C::text("contact_id", "Contact on the call (contacts.id), if any."),
        C::text("state", "State, e.g. completed or missed."),
        C::text("call_type", "Kind of call, e.g. phone."),
        C::text("direction", "inbound or outbound."),
        C::text("ended_reason", "Why it ended, e.g. answered or no_answer."),
        C::text("phone", "The other party's number (E.164)."),
        C::timestamp("initiated_at", "When the call started ringing."),
        C::timestamp("answered_at", "When it was answered, if it was."),
        C::timestamp("ended_at", "When it ended."),
        C::text(
            "recording_url",
            "API URL of its recording (redirects to the audio), if recorded.",
        ),
        C::text(
            "transcription_url",
            "API URL of its transcript (text), if transcribed.",
        ),
        C::text("fin_recording_url", "API URL of Fin's recording, if any."),
        C::text(
            "fin_transcription_url",
            "API URL of Fin's transcript, if any.",
        ),
        C::timestamp("created_at", "When the call was created."),
        C::timestamp("updated_at", "When it last changed."),
    ]
}
