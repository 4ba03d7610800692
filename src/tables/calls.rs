//! `calls`: phone calls (official spec: `listCalls`, `showCall`). Read-only. Timestamps may
//! come as Unix seconds or ISO-8601 text (the spec's `datetime`); both are read.

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef};

/// `calls`: every call, newest first.
pub(super) fn calls() -> TableDef {
    TableDef::new(
        "calls",
        "Phone calls with customers, each on a conversation.",
        Source::List(Listing::new("/calls", PageStyle::PageNumber, "data")),
    )
    .get_by_id("/calls/{id}")
    .columns([
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
    ])
}
