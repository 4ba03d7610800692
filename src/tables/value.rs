//! Intercom JSON values ↔ SQL values, by [`ColumnType`]: the one builder from JSON to Arrow
//! ([`ColumnBuilder`], fed raw JSON text: the scans decode pages with it, procedures their
//! results), the one conversion from SQL values to Intercom JSON ([`to_json`]: procedure
//! arguments, INSERT/UPDATE values) and the one reading of dates and times ([`parse_time`]).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use datafusion::common::ScalarValue;
use serde_json::Value;

use super::ColumnType;

/// An Arrow builder for one column, fed with raw JSON value text.
pub enum ColumnBuilder {
    Text(StringBuilder),
    Json(StringBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColumnBuilder {
    pub fn new(kind: ColumnType, rows: usize) -> Self {
        Self::with_text_bytes(kind, rows, None)
    }

    /// A builder for `rows` values; a text or JSON column's values are given `bytes` of room
    /// when known (room to spare is asked for as it fills, each time copying what it holds).
    pub fn with_text_bytes(kind: ColumnType, rows: usize, bytes: Option<usize>) -> Self {
        match kind {
            ColumnType::Text => ColumnBuilder::Text(StringBuilder::with_capacity(
                rows,
                bytes.unwrap_or(rows * 16),
            )),
            ColumnType::Json => ColumnBuilder::Json(StringBuilder::with_capacity(
                rows,
                bytes.unwrap_or(rows * 32),
            )),
            ColumnType::Int => ColumnBuilder::Int(Int64Builder::with_capacity(rows)),
            ColumnType::Float => ColumnBuilder::Float(Float64Builder::with_capacity(rows)),
            ColumnType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            ColumnType::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
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
        self.append_json(raw.trim(), true)
    }

    /// [`Self::append_raw`] of a value without surrounding spaces (as serde_json's `RawValue`
    /// holds it). Without `escapes`, a string is known to have none: its text is taken as it
    /// is, not searched for a backslash.
    pub fn append_json(&mut self, raw: &str, escapes: bool) {
        match self {
            ColumnBuilder::Text(b) => match raw.as_bytes().first() {
                None | Some(b'n') => b.append_null(),
                Some(b'"') if !escapes => b.append_value(inner(raw)),
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
                b.append_option(scalar_text(raw).and_then(|t| epoch_micros(&t)))
            }
        }
    }

    /// The bytes of text a text or JSON column holds so far (0 for other types).
    pub fn text_bytes(&self) -> usize {
        match self {
            ColumnBuilder::Text(b) | ColumnBuilder::Json(b) => b.values_slice().len(),
            _ => 0,
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

/// The text between a JSON string's quotes.
fn inner(raw: &str) -> &str {
    &raw[1..raw.len().saturating_sub(1).max(1)]
}

/// The text of a JSON string (unescaped only when it has escapes).
fn unquote(raw: &str) -> Cow<'_, str> {
    let inner = inner(raw);
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
    if let Some(n) = plain_i64(text) {
        return Some(n);
    }
    let text = text.trim();
    text.parse().ok().or_else(|| {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f as i64)
    })
}

/// Unix microseconds from Unix seconds (an integer, a numeric string, a fraction) or a
/// date/time string (conversation date attributes and a few objects use ISO strings,
/// docs/intercom-notes.md, "Ids and timestamps"). Columns keep microseconds, as PostgreSQL's
/// `timestamptz` does, so a fractional-second literal compares exactly.
fn epoch_micros(text: &str) -> Option<i64> {
    if let Some(seconds) = plain_i64(text) {
        return seconds.checked_mul(MICROS);
    }
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds.checked_mul(MICROS);
    }
    if let Ok(seconds) = text.parse::<f64>() {
        let micros = (seconds * MICROS as f64).round();
        return (micros.is_finite() && micros.abs() < i64::MAX as f64).then_some(micros as i64);
    }
    parse_time_micros(text)
}

const MICROS: i64 = 1_000_000;

/// A whole number written as nothing but decimal digits after an optional `-`, at most 18 of
/// them (so it cannot overflow): how Intercom writes every timestamp and numeric id, read
/// without `trim` and `parse`'s general checks (a contact has about ten such values).
fn plain_i64(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes() {
        [b'-', digits @ ..] => (true, digits),
        digits => (false, digits),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n = 0i64;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + i64::from(digit);
    }
    Some(if negative { -n } else { n })
}

/// ISO-8601 / RFC 3339 text (UTC when no offset is given), a plain date, or Unix seconds, as
/// Unix seconds (a fraction of a second is dropped: Intercom takes whole seconds).
pub fn parse_time(text: &str) -> Option<i64> {
    parse_time_micros(text).map(|micros| micros.div_euclid(MICROS))
}

/// [`parse_time`] to the microsecond.
fn parse_time_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<i64>() {
        return seconds.checked_mul(MICROS);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_micros());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_micros());
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.timestamp_micros());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_micros())
}

pub fn expected(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Text => "text",
        ColumnType::Int => "an integer",
        ColumnType::Float => "a number",
        ColumnType::Bool => "a boolean",
        ColumnType::Timestamp => {
            "a timestamp (ISO-8601 text such as '2026-03-01T09:00:00Z', or Unix seconds)"
        }
        ColumnType::Json => "JSON text",
    }
}

/// The one SQL → Intercom JSON conversion: one non-null value as `ty` (timestamps as Unix
/// seconds, JSON text parsed, numeric text accepted for numbers); `Err` describes what was
/// given. Procedure arguments and INSERT/UPDATE values both go through it.
pub fn to_json(ty: ColumnType, value: &ScalarValue) -> Result<Value, String> {
    let text = sql_text(value);
    let integer = scalar_int(value);
    let described = || describe(value);
    match ty {
        ColumnType::Text => match (text, integer) {
            (Some(s), _) => Ok(Value::String(s)),
            (None, Some(i)) => Ok(Value::String(i.to_string())),
            _ => Err(described()),
        },
        ColumnType::Int => match (integer, text) {
            (Some(i), _) => Ok(Value::from(i)),
            (None, Some(s)) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| described()),
            _ => Err(described()),
        },
        ColumnType::Float => match (value, integer, text) {
            (ScalarValue::Float64(Some(f)), _, _) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(described),
            (_, Some(i), _) => Ok(Value::from(i)),
            (_, None, Some(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(described),
            _ => Err(described()),
        },
        ColumnType::Bool => match (value, text, integer) {
            (ScalarValue::Boolean(Some(b)), _, _) => Ok(Value::Bool(*b)),
            (_, Some(s), _) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "yes" | "on" | "1" => Ok(Value::Bool(true)),
                "false" | "f" | "no" | "off" | "0" => Ok(Value::Bool(false)),
                _ => Err(described()),
            },
            (_, None, Some(0)) => Ok(Value::Bool(false)),
            (_, None, Some(1)) => Ok(Value::Bool(true)),
            _ => Err(described()),
        },
        ColumnType::Timestamp => {
            if let Some(seconds) = timestamp_seconds(value) {
                return Ok(Value::from(seconds));
            }
            match (integer, text) {
                (Some(i), _) => Ok(Value::from(i)),
                (None, Some(s)) => parse_time(&s).map(Value::from).ok_or_else(described),
                _ => Err(described()),
            }
        }
        ColumnType::Json => match (text, value) {
            (Some(s), _) => serde_json::from_str::<Value>(&s)
                .map_err(|e| format!("text that is not JSON ({e}): {}", shorten(&s))),
            (None, ScalarValue::Boolean(Some(b))) => Ok(Value::Bool(*b)),
            (None, _) => match (integer, value) {
                (Some(i), _) => Ok(Value::from(i)),
                (None, ScalarValue::Float64(Some(f))) => serde_json::Number::from_f64(*f)
                    .map(Value::Number)
                    .ok_or_else(described),
                _ => Err(described()),
            },
        },
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("'{}…'", s.chars().take(60).collect::<String>())
    } else {
        format!("'{s}'")
    }
}

/// A short description of a value for error messages: `a boolean (true)`.
fn describe(value: &ScalarValue) -> String {
    let kind = match value {
        ScalarValue::Boolean(_) => "a boolean",
        ScalarValue::Utf8(_) | ScalarValue::LargeUtf8(_) | ScalarValue::Utf8View(_) => "text",
        ScalarValue::Float16(_) | ScalarValue::Float32(_) | ScalarValue::Float64(_) => "a number",
        ScalarValue::Decimal128(..) | ScalarValue::Decimal256(..) => "a number",
        ScalarValue::Int8(_)
        | ScalarValue::Int16(_)
        | ScalarValue::Int32(_)
        | ScalarValue::Int64(_)
        | ScalarValue::UInt8(_)
        | ScalarValue::UInt16(_)
        | ScalarValue::UInt32(_)
        | ScalarValue::UInt64(_) => "an integer",
        ScalarValue::TimestampSecond(..)
        | ScalarValue::TimestampMillisecond(..)
        | ScalarValue::TimestampMicrosecond(..)
        | ScalarValue::TimestampNanosecond(..) => "a timestamp",
        _ => "a value",
    };
    let shown = match sql_text(value) {
        Some(s) => shorten(&s),
        None => value.to_string(),
    };
    format!("{kind} ({shown})")
}

fn sql_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        ScalarValue::Dictionary(_, inner) => sql_text(inner),
        _ => None,
    }
}

fn scalar_int(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v),
        ScalarValue::UInt8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt64(Some(v)) => i64::try_from(*v).ok(),
        ScalarValue::Decimal128(Some(v), _, 0) => i64::try_from(*v).ok(),
        ScalarValue::Float64(Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
        ScalarValue::Dictionary(_, inner) => scalar_int(inner),
        _ => None,
    }
}

fn timestamp_seconds(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::TimestampSecond(Some(v), _) => Some(*v),
        ScalarValue::TimestampMillisecond(Some(v), _) => Some(v.div_euclid(1_000)),
        ScalarValue::TimestampMicrosecond(Some(v), _) => Some(v.div_euclid(1_000_000)),
        ScalarValue::TimestampNanosecond(Some(v), _) => Some(v.div_euclid(1_000_000_000)),
        ScalarValue::Date32(Some(days)) => Some(i64::from(*days) * 86_400),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::plain_i64;

    #[test]
    fn plain_digits_read_as_parse_reads_them_and_anything_else_is_left_to_it() {
        for text in [
            "0",
            "7",
            "-7",
            "1700000000",
            "-0",
            "007",
            "999999999999999999",
        ] {
            assert_eq!(plain_i64(text), text.parse().ok(), "{text}");
        }
        // Not plain: `parse` (and what follows it) decides.
        for text in [
            "",
            "-",
            "+5",
            " 5",
            "5 ",
            "1.5",
            "1e3",
            "0x10",
            "--1",
            "١٢",
            "9999999999999999999",
        ] {
            assert_eq!(plain_i64(text), None, "{text}");
        }
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..10_000 {
            let n = rng.i64(-999_999_999_999_999_999..=999_999_999_999_999_999);
            assert_eq!(plain_i64(&n.to_string()), Some(n));
        }
    }
}
