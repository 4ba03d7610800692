//! `fin_voice_calls`: calls Fin answered on an external phone system (AWS Connect, Five9, Zoom
//! Phone), each once matched to an Intercom conversation (official spec:
//! `collectFinVoiceCallsByConversationId` `GET /fin_voice/conversation/{id}`,
//! `collectFinVoiceCallById` `GET /fin_voice/collect/{id}`, `collectFinVoiceCallByExternalId`
//! `GET /fin_voice/external_id/{id}`). Intercom cannot list them: a read names the
//! conversations, or the calls by id or external call id. `RegisterFinVoiceCall` and
//! `FindFinVoiceCall` (the newest call of a phone number) are its procedures.

use super::PageStyle;
use super::{ColumnDef as C, Listing, Source, TableDef, WHOLE_BODY};

/// `fin_voice_calls`: a child of `conversations`, read only by key.
pub(super) fn fin_voice_calls() -> TableDef {
    TableDef::new(
        "fin_voice_calls",
        "Calls Fin answered on an external phone system, by conversation (read by key).",
        Source::Children {
            parent_table: "conversations".into(),
            key_column: "conversation_id".into(),
            listing: Listing::new(
                "/fin_voice/conversation/{id}",
                PageStyle::Single,
                WHOLE_BODY,
            ),
        },
    )
    .child_lookup("id", "/fin_voice/collect/{id}", "intercom_conversation_id")
    .child_lookup(
        "external_call_id",
        "/fin_voice/external_id/{id}",
        "intercom_conversation_id",
    )
    .key_required(
        "Intercom lists Fin Voice calls one conversation at a time; add WHERE conversation_id = '…' (or IN, or join from conversations), or WHERE id / external_call_id = '…'",
    )
    .columns([
        C::parent_key(
            "conversation_id",
            "Its Intercom conversation (conversations.id).",
        ),
        C::text("id", "Id of Intercom's reference to the call."),
        C::text(
            "external_call_id",
            "The call's id in the phone system it came from.",
        ),
        C::text("user_phone_number", "The caller's number (E.164)."),
        C::text("status", "registered, in-progress, or how the call was resolved."),
        C::text("intercom_call_id", "The Intercom call (calls.id), once matched."),
        C::text("call_summary", "Summary of the call (at most 256 characters)."),
        C::json("call_transcript", "Transcript entries, as a JSON array."),
        C::json("intent", "Intents recognised in the call, as a JSON array."),
        C::text("app_id", "Workspace (app) id."),
    ])
    .actions(actions::procedures())
}

mod actions {
    use serde_json::Value;

    use crate::tables::action::{Param, Procedure, ResultColumn, fields};

    pub(super) fn procedures() -> Vec<Procedure> {
        vec![register(), find_by_phone()]
    }

    fn call_columns() -> Vec<ResultColumn> {
        vec![
            ResultColumn::text("id", "id"),
            ResultColumn::text("external_call_id", "external_call_id"),
            ResultColumn::text("status", "status"),
            ResultColumn::text("conversation_id", "intercom_conversation_id"),
        ]
    }

    fn register() -> Procedure {
        Procedure::new(
            "RegisterFinVoiceCall",
            "Registers a call of an external phone system with Intercom, for Fin Voice to match it to a call and conversation.",
            "POST",
            "/fin_voice/register",
        )
        .param(Param::text("phone_number", "The caller's number, in E.164 (+15550201234)."))
        .param(Param::text("call_id", "The call's id in the phone system."))
        .param(
            Param::text("source", "The phone system (default aws_connect).")
                .one_of(&["aws_connect", "five9", "zoom_phone"])
                .optional(),
        )
        .param(Param::json("data", "JSON object of more details about the call.").optional())
        .check(|a| match a.get("data") {
            None | Some(Value::Object(_)) => Ok(()),
            Some(_) => Err("data must be a JSON object".into()),
        })
        .body(|a| {
            Ok(Value::Object(fields(
                a,
                &[
                    ("phone_number", "phone_number"),
                    ("call_id", "call_id"),
                    ("source", "source"),
                    ("data", "data"),
                ],
            )))
        })
        .columns(call_columns())
        .example("CALL RegisterFinVoiceCall('+15550201234', 'aws-call-42', 'aws_connect')")
    }

    fn find_by_phone() -> Procedure {
        Procedure::new(
            "FindFinVoiceCall",
            "The newest Fin Voice call of a phone number.",
            "GET",
            "/fin_voice/phone_number/{phone_number}",
        )
        .param(Param::text(
            "phone_number",
            "The caller's number, in E.164.",
        ))
        .columns(call_columns())
        .example("CALL FindFinVoiceCall('+15550201234')")
    }
}
