//! Intercom JSON values ↔ SQL values, by [`ColumnType`]: the one builder from JSON to Arrow
//! ([`ColumnBuilder`], fed raw JSON text: the scans decode pages with it, procedures their
//! results) and the one reading of dates and times ([`parse_time`]).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampSecondBuilder,
};

use super::ColumnType;

/// An Arrow builder for one column, fed with raw JSON value text.
pub enum ColumnBuilder {
    Text(StringBuilder),
    Json(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampSecondBuilder),
}

impl ColumnBuilder {
    pub fn new(kind: ColumnType, rows: usize) -> Self {
        match kind {
            ColumnType::Text => ColumnBuilder::Text(StringBuilder::with_capacity(rows, rows * 16)),
            ColumnType::Json => ColumnBuilder::Json(StringBuilder::with_capacity(rows, rows * 32)),
            ColumnType::Int => ColumnBuilder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Float => ColumnBuilder::Float(Float64Builder::with_capacity(rows)),
            ColumnType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            ColumnType::Timestamp => ColumnBuilder::Timestamp(
                TimestampSecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
        }
    }

    pub fn append_null(&mut self) {
        match self {
            ColumnBuilder::Text(b) | ColumnBuilder::Json(b) => b.append_null(),
            ColumnBuilder::Int(b) => b.append_null(),
            ColumnBuilder::Float(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::Timestamp(b) => b.append_null(),
        }
    }

    /// Appends a plain string (the parent key); only text columns hold one.
    pub fn append_text(&mut self, text: &str) {
        match self {
            ColumnBuilder::Text(b) => b.append_value(text),
            other => other.append_null(),
        }
    }

    /// Appends one value given as JSON text (`"x"`, `12`, `true`, `null`, `{…}`).
    pub fn append_raw(&mut self, raw: &str) {
        let raw = raw.trim();
        match self {
            ColumnBuilder::Text(b) => match raw.as_bytes().first() {
                None | Some(b'n') => b.append_null(),
                Some(b'"') => b.append_value(unquote(raw).as_ref()),
                // Numbers, booleans, and nested values as their JSON text.
                Some(_) => b.append_value(raw),
            },
            ColumnBuilder::Json(b) => match raw.as_bytes().first() {
                None | Some(b'n') => b.append_null(),
                Some(_) => b.append_value(raw),
            },
            ColumnBuilder::Int(b) => b.append_option(scalar_text(raw).and_then(|t| parse_i64(&t))),
            ColumnBuilder::Float(b) => {
                b.append_option(scalar_text(raw).and_then(|t| t.trim().parse().ok()))
            }
            ColumnBuilder::Bool(b) => b.append_option(match scalar_text(raw).as_deref() {
                Some("true") => Some(true),
                Some("false") => Some(false),
                _ => None,
            }),
            ColumnBuilder::Timestamp(b) => {
                b.append_option(scalar_text(raw).and_then(|t| epoch_seconds(&t)))
            }
        }
    }

    pub fn finish(self) -> ArrayRef {
        match self {
            ColumnBuilder::Text(mut b) | ColumnBuilder::Json(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(mut b) => Arc::new(b.finish()),
        }
    }
}

/// The text of a JSON string (unescaped only when it has escapes).
fn unquote(raw: &str) -> Cow<'_, str> {
    let inner = &raw[1..raw.len().saturating_sub(1).max(1)];
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw)
            .map(Cow::Owned)
            .unwrap_or(Cow::Borrowed(inner))
    } else {
        Cow::Borrowed(inner)
    }
}

/// A scalar's text: strings unquoted, numbers and booleans as written; objects, arrays and null
/// have none.
fn scalar_text(raw: &str) -> Option<Cow<'_, str>> {
    match raw.as_bytes().first()? {
        b'"' => Some(unquote(raw)),
        b'{' | b'[' | b'n' => None,
        _ => Some(Cow::Borrowed(raw)),
    }
}

fn parse_i64(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f as i64)
    })
}

/// Unix seconds from an integer, a numeric string or a date/time string (conversation date
/// attributes and a few objects use ISO strings, docs/intercom-notes.md, "Ids and timestamps").
fn epoch_seconds(text: &str) -> Option<i64> {
    parse_i64(text).or_else(|| parse_time(text))
}

/// ISO-8601 / RFC 3339 text (UTC when no offset is given), a plain date, or Unix seconds.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return Some(seconds);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp());
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.timestamp());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp())
}
