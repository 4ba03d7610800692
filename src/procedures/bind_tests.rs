//! Binding as a table of cases: arguments in, slots or a message out.

use datafusion::common::ScalarValue;
use serde_json::json;

use super::*;
use crate::procedures::find;
use crate::tables::value::parse_time;

fn proc(name: &str) -> &'static Procedure {
    find(name).unwrap()
}

fn named(name: &str, v: i32) -> (Option<String>, i32) {
    (Some(name.to_string()), v)
}

fn pos(v: i32) -> (Option<String>, i32) {
    (None, v)
}

#[test]
fn arrange_puts_positional_and_named_arguments_in_parameter_order() {
    let p = proc("AssignConversation");
    let slots = arrange(
        p,
        vec![
            pos(1),
            named("ASSIGNEE_ID", 4),
            named("type", 2),
            named("admin_id", 3),
        ],
    )
    .unwrap();
    assert_eq!(slots, vec![Some(1), Some(2), Some(3), Some(4), None]);
    // Skyvia's two positional arguments fill (conversation_id, snoozed_until); three are in
    // parameter order, and names are never moved.
    let p = proc("SnoozeConversation");
    assert_eq!(
        arrange(p, vec![pos(1), pos(3)]).unwrap(),
        vec![Some(1), None, Some(3)]
    );
    assert_eq!(
        arrange(p, vec![pos(1), pos(2), pos(3)]).unwrap(),
        vec![Some(1), Some(2), Some(3)]
    );
    assert_eq!(
        arrange(
            p,
            vec![pos(1), named("admin_id", 2), named("snoozed_until", 3)]
        )
        .unwrap(),
        vec![Some(1), Some(2), Some(3)]
    );
}

/// Procedure, arguments (name, value), expected message.
type Case = (&'static str, Vec<(Option<String>, i32)>, &'static str);

#[test]
fn arrange_reports_every_kind_of_mistake_in_one_line() {
    let cases: Vec<Case> = vec![
        (
            "ArchiveContact",
            vec![pos(1), pos(2)],
            "ArchiveContact(contact_id text) takes 1 argument, got 2",
        ),
        (
            "AssignConversation",
            vec![pos(1), pos(2), pos(3), pos(4), pos(5), pos(6)],
            "AssignConversation(conversation_id text, type text, admin_id text, assignee_id text, body text = NULL) takes 4 to 5 arguments, got 6",
        ),
        (
            "SnoozeConversation",
            vec![pos(1)],
            "SnoozeConversation(conversation_id text, admin_id text = NULL, snoozed_until timestamp) takes 2 to 3 arguments, got 1; missing snoozed_until (timestamp): When the conversation reopens; Intercom requires it",
        ),
        (
            "SnoozeConversation",
            vec![named("conversation_id", 1), named("admin_id", 2)],
            "SnoozeConversation(conversation_id text, admin_id text = NULL, snoozed_until timestamp) needs snoozed_until; missing snoozed_until (timestamp): When the conversation reopens; Intercom requires it",
        ),
        (
            "ArchiveContact",
            vec![named("contactid", 1)],
            "ArchiveContact has no parameter named contactid; did you mean contact_id? Its parameters: contact_id",
        ),
        (
            "ArchiveContact",
            vec![named("zzzzzzzzzz", 1)],
            "ArchiveContact has no parameter named zzzzzzzzzz. Its parameters: contact_id",
        ),
        (
            "ArchiveContact",
            vec![named("contact_id", 1), named("contact_id", 2)],
            "ArchiveContact: contact_id is given twice",
        ),
        (
            "TagContact",
            vec![named("contact_id", 1), pos(2)],
            "TagContact: positional arguments must come before named ones (name => value)",
        ),
    ];
    for (name, args, message) in cases {
        let got = arrange(proc(name), args).unwrap_err().to_string();
        assert_eq!(got, message);
    }
}

fn text(s: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(s.to_string()))
}

#[test]
fn values_are_converted_to_the_parameter_types() {
    let p = proc("SnoozeConversation");
    let args = bind_values(
        p,
        &[
            ScalarValue::Int64(Some(1001)),
            text("991267460"),
            text("2026-03-01T09:00:00Z"),
        ],
    )
    .unwrap();
    assert_eq!(args.get("conversation_id"), Some(&json!("1001")));
    assert_eq!(args.get("snoozed_until"), Some(&json!(1_772_355_600)));
    for (given, seconds) in [
        (text("2026-03-01"), 1_772_323_200),
        (text("2026-03-01 09:00:00"), 1_772_355_600),
        (text("2026-03-01T10:00:00+01:00"), 1_772_355_600),
        (ScalarValue::Int64(Some(1_772_355_600)), 1_772_355_600),
        (
            ScalarValue::TimestampNanosecond(Some(1_772_355_600_000_000_000), None),
            1_772_355_600,
        ),
    ] {
        let args = bind_values(p, &[text("1"), text("2"), given.clone()]).unwrap();
        assert_eq!(
            args.get("snoozed_until"),
            Some(&json!(seconds)),
            "{given:?}"
        );
    }
    let p = proc("SetAdminAway");
    let args = bind_values(
        p,
        &[
            text("1"),
            text("TRUE"),
            ScalarValue::Null,
            ScalarValue::Int64(Some(-3)),
        ],
    )
    .unwrap();
    assert_eq!(args.get("away_mode_enabled"), Some(&json!(true)));
    assert_eq!(
        args.get("away_mode_reassign"),
        Some(&json!(false)),
        "default"
    );
    assert_eq!(args.get("away_status_reason_id"), Some(&json!(-3)));
}

#[test]
fn enums_match_case_insensitively_and_are_sent_as_declared() {
    let p = proc("AdminReplyToConversation");
    let args = bind_values(
        p,
        &[text("1"), text("NOTE"), text("2"), text("hi")]
            .into_iter()
            .chain(std::iter::repeat_n(ScalarValue::Null, p.params.len() - 4))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(args.get("message_type"), Some(&json!("note")));
    let e = bind_values(
        p,
        &[text("1"), text("reply"), text("2"), text("hi")]
            .into_iter()
            .chain(std::iter::repeat_n(ScalarValue::Null, p.params.len() - 4))
            .collect::<Vec<_>>(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "AdminReplyToConversation: message_type must be one of comment, note, quick_reply; got 'reply'"
    );
}

#[test]
fn bad_values_are_named_with_what_was_given() {
    let cases: Vec<(&str, Vec<ScalarValue>, &str)> = vec![
        (
            "ArchiveContact",
            vec![ScalarValue::Utf8(None)],
            "ArchiveContact: contact_id must not be NULL (Intercom id of the contact.)",
        ),
        (
            "ArchiveContact",
            vec![ScalarValue::Boolean(Some(true))],
            "ArchiveContact: contact_id expects text, got a boolean (true)",
        ),
        (
            "SetAdminAway",
            vec![
                text("1"),
                text("maybe"),
                ScalarValue::Null,
                ScalarValue::Null,
            ],
            "SetAdminAway: away_mode_enabled expects a boolean, got text ('maybe')",
        ),
        (
            "UpdateConversation",
            vec![text("1"), ScalarValue::Null, text("{bad")],
            "UpdateConversation: custom_attributes expects JSON text, got text that is not JSON (key must be a string at line 1 column 2): '{bad'",
        ),
        (
            "UpdateConversation",
            vec![text("1"), ScalarValue::Null, ScalarValue::Null],
            "UpdateConversation: give title or custom_attributes (or both)",
        ),
        (
            "SubmitEvent",
            vec![
                text("signed-up"),
                ScalarValue::Int64(Some(1)),
                ScalarValue::Null,
                ScalarValue::Null,
                ScalarValue::Null,
                ScalarValue::Null,
            ],
            "SubmitEvent: give the contact as id, user_id or email",
        ),
        (
            "ReplyToTicket",
            vec![
                text("1"),
                text("note"),
                ScalarValue::Null,
                text("x"),
                text("c"),
            ],
            "ReplyToTicket: contacts can only reply with message_type comment",
        ),
    ];
    for (name, values, message) in cases {
        let got = bind_values(proc(name), &values).unwrap_err().to_string();
        assert_eq!(got, message, "{name}");
    }
}

#[test]
fn times_parse_in_the_usual_spellings() {
    assert_eq!(parse_time("1700000000"), Some(1_700_000_000));
    assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000));
    assert_eq!(parse_time("2023-11-14T22:13"), Some(1_699_999_980));
    assert_eq!(parse_time("yesterday"), None);
}
