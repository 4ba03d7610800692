//! Table-driven tests of the search language against the documented semantics
//! (docs/intercom-notes.md, "Search: query shape").

use super::*;
use serde_json::json;

struct Rec(Vec<(&'static str, FieldValue<'static>)>);

impl Searchable for Rec {
    fn field(&self, key: &str) -> FieldValue<'_> {
        self.0
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or(FieldValue::Null)
    }
}

fn s(v: &'static str) -> FieldValue<'static> {
    FieldValue::Str(Cow::Borrowed(v))
}

fn list(v: &[&'static str]) -> FieldValue<'static> {
    FieldValue::List(v.iter().map(|x| Cow::Borrowed(*x)).collect())
}

fn contacts(tz: &str) -> SearchSchema {
    let tz: Tz = tz.parse().unwrap();
    let mut schema = SearchSchema::new(Strictness::Strict, tz)
        .with_field("email", FieldType::String)
        .with_field("name", FieldType::String)
        .with_field("owner_id", FieldType::Integer)
        .with_field("created_at", FieldType::Date)
        .with_field("last_seen_at", FieldType::Date)
        .with_field("has_hard_bounced", FieldType::Boolean)
        .with_field("tag_id", FieldType::Reference)
        .with_field("location.city", FieldType::String)
        .with_field("custom_attributes.mrr", FieldType::Float)
        .with_field("custom_attributes.Account Manager", FieldType::String);
    schema.add_field(
        "custom_attributes.seats",
        FieldType::Integer,
        "custom_attributes.seats",
    );
    schema
}

fn conversations() -> SearchSchema {
    SearchSchema::new(Strictness::Lenient, Tz::UTC)
        .with_field("created_at", FieldType::Date)
        .with_field("state", FieldType::String)
        .with_field("tag_ids", FieldType::StringList)
        .with_field("source.body", FieldType::Tokens)
        .with_field("admin_assignee_id", FieldType::Integer)
        .with_field("open", FieldType::Boolean)
}

fn ada() -> Rec {
    Rec(vec![
        ("email", s("Ada@Example.com")),
        ("name", s("Ada Lovelace")),
        ("owner_id", FieldValue::Int(7)),
        // 2024-03-10 05:30:00 UTC = 2024-03-10 00:30 in New York (EST, UTC-5)
        ("created_at", FieldValue::Int(1_710_048_600)),
        ("has_hard_bounced", FieldValue::Bool(false)),
        ("tag_id", list(&["1", "2"])),
        ("location.city", s("London")),
        ("custom_attributes.mrr", FieldValue::Float(99.5)),
        ("custom_attributes.seats", FieldValue::Int(12)),
        ("custom_attributes.Account Manager", s("Grace")),
    ])
}

fn leaf(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "operator": op, "value": value})
}

#[test]
fn contact_filters_match_as_documented() {
    let schema = contacts("UTC");
    let rec = ada();
    let cases: Vec<(Value, bool)> = vec![
        (leaf("email", "=", json!("ada@example.com")), true),
        (leaf("email", "=", json!("ADA@EXAMPLE.COM")), true),
        (leaf("email", "!=", json!("ada@example.com")), false),
        (
            leaf("email", "IN", json!(["x@y.z", "ada@example.com"])),
            true,
        ),
        (leaf("email", "NIN", json!(["x@y.z"])), true),
        (leaf("email", "~", json!("example")), true),
        (leaf("email", "!~", json!("example")), false),
        (leaf("email", "^", json!("ada@")), true),
        (leaf("email", "$", json!(".com")), true),
        (leaf("email", "$", json!(".org")), false),
        (leaf("owner_id", "=", json!(7)), true),
        (leaf("owner_id", "=", json!("7")), true),
        (leaf("owner_id", ">", json!(6)), true),
        (leaf("owner_id", ">", json!(7)), false),
        (leaf("owner_id", ">=", json!(7)), true),
        (leaf("owner_id", "<=", json!(6)), false),
        (leaf("owner_id", "IN", json!([1, 7])), true),
        (leaf("has_hard_bounced", "=", json!(false)), true),
        (leaf("has_hard_bounced", "!=", json!(false)), false),
        (leaf("has_hard_bounced", "IN", json!([true])), false),
        (leaf("tag_id", "=", json!("2")), true),
        (leaf("tag_id", "=", json!("3")), false),
        (leaf("tag_id", "!=", json!("3")), true),
        (leaf("location.city", "=", json!("london")), true),
        (leaf("custom_attributes.mrr", ">", json!(99)), true),
        (leaf("custom_attributes.mrr", "<", json!("99.6")), true),
        (leaf("custom_attributes.seats", "<", json!(12)), false),
        (
            leaf("custom_attributes.Account Manager", "=", json!("grace")),
            true,
        ),
        (
            json!({"operator": "AND", "value": [
                leaf("email", "~", json!("example")),
                {"operator": "OR", "value": [
                    leaf("owner_id", "=", json!(1)),
                    leaf("location.city", "^", json!("Lon")),
                ]},
            ]}),
            true,
        ),
        (
            json!({"operator": "OR", "value": [
                leaf("owner_id", "=", json!(1)),
                leaf("owner_id", "=", json!(2)),
            ]}),
            false,
        ),
    ];
    for (query, expected) in cases {
        let compiled = compile(&query, &schema).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(compiled.matches(&rec), expected, "{query}");
    }
}

#[test]
fn nulls_follow_section_3_5() {
    let schema = contacts("UTC");
    let rec = ada(); // last_seen_at unset, tag_id set
    let empty = Rec(vec![("tag_id", list(&[]))]);
    let cases: Vec<(&Rec, Value, bool)> = vec![
        (&rec, leaf("last_seen_at", "=", Value::Null), true),
        (&rec, leaf("created_at", "=", Value::Null), false),
        (&rec, leaf("email", "!=", Value::Null), true),
        (&rec, leaf("last_seen_at", "<", json!(2_000_000_000)), false),
        (&rec, leaf("last_seen_at", ">", json!(0)), false),
        (&empty, leaf("email", "!=", json!("x@y.z")), true),
        (&empty, leaf("email", "NIN", json!(["x@y.z"])), true),
        (&empty, leaf("email", "!~", json!("y")), true),
        (&empty, leaf("email", "~", json!("y")), false),
        (&empty, leaf("email", "=", Value::Null), true),
        (&empty, leaf("tag_id", "=", Value::Null), true),
        (&empty, leaf("tag_id", "!=", json!("1")), true),
    ];
    for (rec, query, expected) in cases {
        let compiled = compile(&query, &schema).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(compiled.matches(rec), expected, "{query}");
    }
}

#[test]
fn contact_dates_are_day_granular_in_the_workspace_timezone() {
    // created_at = 2024-03-10 05:30 UTC = 2024-03-10 00:30 EST. Midnight NY = 05:00 UTC.
    let ny = contacts("America/New_York");
    let utc = contacts("UTC");
    let rec = ada();
    let day_start_ny = 1_710_046_800; // 2024-03-10 00:00 EST
    let next_day_ny = 1_710_129_600; // 2024-03-11 00:00 EDT (DST day: 23 hours)
    let cases: Vec<(&SearchSchema, &str, i64, bool)> = vec![
        // any instant on the same NY day matches '='
        (&ny, "=", day_start_ny, true),
        (&ny, "=", next_day_ny - 1, true),
        (&ny, "=", next_day_ny, false),
        (&ny, "=", day_start_ny - 1, false),
        // '>' starts at the next day's midnight: a value earlier the same day does not match
        (&ny, ">", day_start_ny - 1, true),
        (&ny, ">", day_start_ny, false),
        (&ny, ">", 1_710_048_000, false),
        // '<' ends at the start of the value's day
        (&ny, "<", next_day_ny, true),
        (&ny, "<", next_day_ny - 1, false),
        // in UTC the same instant falls on the 10th too, but the boundary moves
        (&utc, "=", 1_710_028_800, true), // 2024-03-10 00:00 UTC
        (&utc, "=", 1_710_028_799, false),
        (&utc, ">", 1_709_999_999, true), // 2024-03-09 15:59:59 UTC
    ];
    for (schema, op, value, expected) in cases {
        let q = leaf("created_at", op, json!(value));
        let compiled = compile(&q, schema).unwrap();
        assert_eq!(compiled.matches(&rec), expected, "{q}");
    }
    assert_eq!(
        day_bounds(1_710_048_600, "America/New_York".parse().unwrap()),
        Some((day_start_ny, next_day_ny))
    );
    // Timestamps sent as strings are accepted (docs/intercom-notes.md, "Search: query shape").
    assert!(compile(&leaf("created_at", "=", json!("1710048600")), &ny).is_ok());
}

#[test]
fn invalid_queries_are_rejected() {
    let schema = contacts("UTC");
    let sixteen: Vec<Value> = (0..16).map(|i| leaf("owner_id", "=", json!(i))).collect();
    let fifteen: Vec<Value> = (0..15).map(|i| leaf("owner_id", "=", json!(i))).collect();
    let three_levels = json!({"operator": "AND", "value": [
        {"operator": "OR", "value": [
            {"operator": "AND", "value": [leaf("owner_id", "=", json!(1))]}
        ]}
    ]});
    let two_levels = json!({"operator": "AND", "value": [
        {"operator": "OR", "value": [leaf("owner_id", "=", json!(1))]}
    ]});
    assert!(compile(&json!({"operator": "OR", "value": fifteen}), &schema).is_ok());
    assert!(compile(&two_levels, &schema).is_ok());
    let bad: Vec<(&str, Value)> = vec![
        ("16 filters", json!({"operator": "OR", "value": sixteen})),
        ("3 levels", three_levels),
        ("unknown field", leaf("favourite_colour", "=", json!("red"))),
        (
            "unknown custom",
            leaf("custom_attributes.nope", "=", json!("x")),
        ),
        ("unknown operator", leaf("email", "LIKE", json!("x"))),
        (
            "lowercase group",
            json!({"operator": "and", "value": [leaf("email", "=", json!("x"))]}),
        ),
        ("empty group", json!({"operator": "AND", "value": []})),
        ("not an object", json!("email = x")),
        ("no value", json!({"field": "email", "operator": "="})),
        ("date >=", leaf("created_at", ">=", json!(1))),
        ("date <=", leaf("created_at", "<=", json!(1))),
        ("date !=", leaf("created_at", "!=", json!(1))),
        ("date != null", leaf("created_at", "!=", Value::Null)),
        ("date IN", leaf("created_at", "IN", json!([1]))),
        ("date NIN", leaf("created_at", "NIN", json!([1]))),
        ("date garbage", leaf("created_at", "=", json!("yesterday"))),
        ("string <", leaf("email", "<", json!("a"))),
        ("string >=", leaf("email", ">=", json!("a"))),
        ("bool ~", leaf("has_hard_bounced", "~", json!("t"))),
        ("bool <", leaf("has_hard_bounced", "<", json!(true))),
        (
            "bool garbage",
            leaf("has_hard_bounced", "=", json!("maybe")),
        ),
        ("int ~", leaf("owner_id", "~", json!("1"))),
        ("int garbage", leaf("owner_id", "=", json!("seven"))),
        ("int object", leaf("owner_id", "=", json!({"a": 1}))),
        ("tag IN", leaf("tag_id", "IN", json!(["1"]))),
        ("tag ~", leaf("tag_id", "~", json!("1"))),
        ("IN scalar", leaf("email", "IN", json!("a@b.c"))),
        ("= array", leaf("email", "=", json!(["a@b.c"]))),
        ("null with ~", leaf("email", "~", Value::Null)),
        ("string bool", leaf("email", "=", json!(true))),
    ];
    for (what, query) in bad {
        assert!(
            compile(&query, &schema).is_err(),
            "{what} should fail: {query}"
        );
    }
}

#[test]
fn conversations_are_lenient_with_tokens_and_lists() {
    let schema = conversations();
    let rec = Rec(vec![
        ("created_at", FieldValue::Int(1000)),
        ("state", s("open")),
        ("tag_ids", list(&["10", "11"])),
        ("source.body", s("<p>I need support, please!</p>")),
        ("admin_assignee_id", FieldValue::Int(5)),
        ("open", FieldValue::Bool(true)),
    ]);
    let cases: Vec<(Value, bool)> = vec![
        (leaf("created_at", ">", json!(1000)), true), // inclusive on conversations
        (leaf("created_at", "<", json!(1000)), true),
        (leaf("created_at", ">", json!(1001)), false),
        (leaf("created_at", ">=", json!(1000)), true),
        (leaf("created_at", "!=", json!(1000)), false),
        (leaf("created_at", "IN", json!([1, 1000])), true),
        (leaf("tag_ids", "=", json!("11")), true),
        (leaf("tag_ids", "!=", json!("11")), false),
        (leaf("tag_ids", "IN", json!(["1", "10"])), true),
        (leaf("tag_ids", "NIN", json!(["1", "10"])), false),
        (leaf("source.body", "=", json!("support")), true),
        (leaf("source.body", "=", json!("SUPPORT")), true),
        (leaf("source.body", "=", json!("need support")), false),
        (leaf("source.body", "=", json!("supp")), false),
        (leaf("source.body", "~", json!("need supp")), true),
        (leaf("source.body", "!=", json!("support")), false),
        (leaf("state", "IN", json!(["closed", "open"])), true),
        (leaf("admin_assignee_id", "=", json!(5)), true),
        (leaf("open", "=", json!("true")), true),
    ];
    for (query, expected) in cases {
        let compiled = compile(&query, &schema).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(compiled.matches(&rec), expected, "{query}");
    }
    for bad in [
        leaf("tag_ids", "~", json!("1")),
        leaf("open", ">", json!(true)),
        leaf("state", "<", json!("b")),
    ] {
        assert!(compile(&bad, &schema).is_err(), "{bad}");
    }
}

#[test]
fn strings_compare_after_full_case_folding() {
    let schema = contacts("UTC");
    let rec = Rec(vec![("name", s("Οδυσσέας Straße ǆ"))]);
    for (query, expected) in [
        // A word-final capital sigma in the needle still matches the σ inside the name.
        (leaf("name", "^", json!("ΟΔΥΣ")), true),
        (leaf("name", "~", json!("STRASSE")), true),
        (leaf("name", "~", json!("ǅ")), true),
        (leaf("name", "!~", json!("Ǆ")), false),
        (leaf("name", "~", json!("ΟΔΥΞ")), false),
    ] {
        let compiled = compile(&query, &schema).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(compiled.matches(&rec), expected, "{query}");
    }
}

#[test]
fn the_int_range_of_a_query_holds_every_record_it_matches() {
    const DAY: i64 = 86_400;
    let by_day = contacts("UTC");
    let by_second = conversations();
    let at =
        |field: &str, op: &str, value: i64| json!({"field": field, "operator": op, "value": value});
    let queries = [
        (&by_second, at("created_at", ">", 5 * DAY)),
        (&by_second, at("created_at", "<", 5 * DAY)),
        (&by_second, at("created_at", ">=", 5 * DAY)),
        (&by_second, at("created_at", "<=", 5 * DAY)),
        (&by_second, at("created_at", "=", 5 * DAY)),
        (&by_second, at("created_at", "!=", 5 * DAY)),
        (
            &by_second,
            json!({"operator": "AND", "value": [at("created_at", ">", 3 * DAY - 1), at("created_at", "<", 6 * DAY), json!({"field": "open", "operator": "=", "value": true})]}),
        ),
        (
            &by_second,
            json!({"operator": "OR", "value": [at("created_at", "<", 2 * DAY), at("created_at", ">", 7 * DAY)]}),
        ),
        (
            &by_second,
            json!({"operator": "OR", "value": [at("created_at", "<", 2 * DAY), at("admin_assignee_id", "=", 1)]}),
        ),
        (
            &by_day,
            json!({"operator": "AND", "value": [
                {"operator": "OR", "value": [at("created_at", "=", 3 * DAY + 7), at("created_at", ">", 3 * DAY + 7)]},
                at("created_at", "<", 6 * DAY + 5)]}),
        ),
        (&by_day, at("created_at", "=", 4 * DAY + 100)),
        (&by_day, at("created_at", ">", 4 * DAY + 100)),
    ];
    let values: Vec<Option<i64>> = (0..9 * DAY)
        .step_by(3_600 * 7)
        .map(Some)
        .chain([
            None,
            Some(-1),
            Some(5 * DAY - 1),
            Some(5 * DAY),
            Some(5 * DAY + 1),
        ])
        .collect();
    // The queries whose range is exact: comparisons of `created_at` alone, making one range.
    let exact = [0, 1, 2, 3, 4, 9, 10, 11];
    for (n, (schema, raw)) in queries.iter().enumerate() {
        let query = compile(raw, schema).unwrap();
        let (lo, hi) = query.int_range("created_at");
        let exact_range = query.exact_int_range("created_at");
        assert_eq!(exact_range.is_some(), exact.contains(&n), "{raw}");
        let mut matched = 0;
        for value in &values {
            let mut fields = vec![("open", FieldValue::Bool(true))];
            if let Some(v) = value {
                fields.push(("created_at", FieldValue::Int(*v)));
            }
            let matches = query.matches(&Rec(fields));
            if let Some((lo, hi)) = exact_range {
                let inside = value
                    .is_some_and(|v| lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v < hi));
                assert_eq!(matches, inside, "{raw}: {value:?} and {lo:?}..{hi:?}");
            }
            if matches {
                matched += 1;
                if lo.is_some() || hi.is_some() {
                    let v = value.expect("a bounded query never matches an unset field");
                    assert!(
                        lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v < hi),
                        "{raw}: {v} outside {lo:?}..{hi:?}"
                    );
                }
            }
        }
        assert!(
            matched > 0,
            "{raw} matched nothing: the test would prove nothing"
        );
    }
    // The bounds are as narrow as the comparisons: conversations' `<`/`>` are inclusive, a
    // contact's date comparison covers whole days.
    let range = |schema, raw: Value| compile(&raw, schema).unwrap().int_range("created_at");
    assert_eq!(
        range(&by_second, queries[6].1.clone()),
        (Some(3 * DAY - 1), Some(6 * DAY + 1))
    );
    assert_eq!(range(&by_second, queries[7].1.clone()), (None, None));
    assert_eq!(
        range(&by_day, queries[9].1.clone()),
        (Some(3 * DAY), Some(6 * DAY))
    );
    assert_eq!(
        range(&by_day, queries[10].1.clone()),
        (Some(4 * DAY), Some(5 * DAY))
    );
    assert_eq!(range(&by_second, queries[5].1.clone()), (None, None));
}
