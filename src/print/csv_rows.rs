//! CSV of record batches, byte for byte as arrow's CSV writer writes it (the same quoting and
//! the same text for every type), but written straight into one buffer per batch: text,
//! integers, booleans and UTC timestamps without a formatter call per value, every other type
//! through arrow's own display. `SELECT * FROM contacts` printed as CSV spent 29% of the CLI's
//! time in arrow's writer (docs/performance.md).

use std::io::Write;

use chrono::{Datelike, NaiveDate};

use datafusion::arrow::array::{
    Array, AsArray, BooleanArray, Int64Array, StringArray, StringViewArray,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

/// One column, read the fastest way its type allows.
enum Column<'a> {
    Text(&'a StringArray),
    View(&'a StringViewArray),
    Int(&'a Int64Array),
    Bool(&'a BooleanArray),
    /// Microseconds in UTC, printed as arrow prints them (`2024-01-31T09:30:00Z`, a fraction
    /// only when there is one).
    Utc(&'a TimestampMicrosecondArray),
    /// Any other type: arrow's display of it (a NULL is empty).
    Other(ArrayFormatter<'a>),
}

impl<'a> Column<'a> {
    fn new(array: &'a dyn Array, options: &FormatOptions<'a>) -> Result<Self, ArrowError> {
        Ok(match array.data_type() {
            DataType::Utf8 => Column::Text(array.as_string::<i32>()),
            DataType::Utf8View => Column::View(array.as_string_view()),
            DataType::Int64 => Column::Int(array.as_primitive()),
            DataType::Boolean => Column::Bool(array.as_boolean()),
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
                if matches!(tz.as_ref(), "UTC" | "+00:00") =>
            {
                Column::Utc(array.as_primitive())
            }
            t if t.is_nested() => {
                return Err(ArrowError::CsvError(format!(
                    "Nested type {t} is not supported in CSV"
                )));
            }
            _ => Column::Other(ArrayFormatter::try_new(array, options)?),
        })
    }
}

/// Writes `batch` as CSV rows (after a header of its column names when `header`): fields
/// quoted only when they hold a comma, a quote or a line break, quotes doubled, NULL empty,
/// a row that would be an empty line written as `""` — as arrow's writer does.
pub fn write_csv(
    batch: &RecordBatch,
    header: bool,
    out: &mut impl Write,
) -> Result<(), ArrowError> {
    let mut buffer = Vec::with_capacity(1 << 16);
    if header {
        let fields = batch.schema_ref().fields();
        write_record(&mut buffer, fields.len(), |buffer, i| {
            write_field(buffer, fields[i].name().as_bytes());
            Ok(())
        })?;
    }
    let options = FormatOptions::default().with_null("");
    let columns = batch
        .columns()
        .iter()
        .map(|a| Column::new(a.as_ref(), &options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut scratch = String::new();
    for row in 0..batch.num_rows() {
        write_record(&mut buffer, columns.len(), |buffer, i| {
            write_value(buffer, &mut scratch, &columns[i], row)
        })?;
        if buffer.len() >= 1 << 16 {
            out.write_all(&buffer)?;
            buffer.clear();
        }
    }
    out.write_all(&buffer)?;
    Ok(())
}

/// One record of `fields` fields, each written by `field`, separated by commas; a record
/// that would be an empty line is `""`, so that it is not read as no record.
fn write_record(
    buffer: &mut Vec<u8>,
    fields: usize,
    mut field: impl FnMut(&mut Vec<u8>, usize) -> Result<(), ArrowError>,
) -> Result<(), ArrowError> {
    let start = buffer.len();
    for i in 0..fields {
        if i > 0 {
            buffer.push(b',');
        }
        field(buffer, i)?;
    }
    if buffer.len() == start {
        buffer.extend_from_slice(b"\"\"");
    }
    buffer.push(b'\n');
    Ok(())
}

fn write_value(
    buffer: &mut Vec<u8>,
    scratch: &mut String,
    column: &Column,
    row: usize,
) -> Result<(), ArrowError> {
    match column {
        Column::Text(a) if a.is_valid(row) => write_field(buffer, a.value(row).as_bytes()),
        Column::View(a) if a.is_valid(row) => write_field(buffer, a.value(row).as_bytes()),
        Column::Int(a) if a.is_valid(row) => {
            let _ = write!(buffer, "{}", a.value(row));
        }
        Column::Bool(a) if a.is_valid(row) => {
            buffer.extend_from_slice(if a.value(row) { b"true" } else { b"false" });
        }
        Column::Utc(a) if a.is_valid(row) => write_utc(buffer, scratch, a, row)?,
        Column::Other(formatter) => write_display(buffer, scratch, formatter, row)?,
        // NULL: an empty field.
        _ => {}
    }
    Ok(())
}

/// A UTC timestamp: written here in the years 0001–9999, by arrow's display outside them.
fn write_utc(
    buffer: &mut Vec<u8>,
    scratch: &mut String,
    array: &TimestampMicrosecondArray,
    row: usize,
) -> Result<(), ArrowError> {
    if !write_utc_micros(buffer, array.value(row)) {
        let formatter = ArrayFormatter::try_new(array, &FormatOptions::default())?;
        write_display(buffer, scratch, &formatter, row)?;
    }
    Ok(())
}

/// Arrow's display of value `row` of `formatter` as one field (`scratch` holds the text).
fn write_display(
    buffer: &mut Vec<u8>,
    scratch: &mut String,
    formatter: &ArrayFormatter,
    row: usize,
) -> Result<(), ArrowError> {
    use std::fmt::Write as _;
    scratch.clear();
    write!(scratch, "{}", formatter.value(row))
        .map_err(|e| ArrowError::CsvError(format!("Error processing row {}: {e}", row + 1)))?;
    write_field(buffer, scratch.as_bytes());
    Ok(())
}

/// One field, quoted when it holds a comma, a quote or a line break.
fn write_field(buffer: &mut Vec<u8>, field: &[u8]) {
    if !field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        buffer.extend_from_slice(field);
        return;
    }
    // Quotes doubled in one pass, without a branch, into room for the worst case (every byte
    // a quote) filled with quotes: a quote is written and the next byte skipped, left a quote.
    // A JSON column's text has a quote every few bytes: a search call per quote cost more.
    let start = buffer.len();
    buffer.resize(start + 2 * field.len() + 2, b'"');
    let out = &mut buffer[start..];
    let mut at = 1;
    for &b in field {
        out[at] = b;
        at += 1 + usize::from(b == b'"');
    }
    // The closing quote is at `at`.
    buffer.truncate(start + at + 1);
}

/// Writes Unix microseconds as RFC 3339 in UTC (`1970-01-01T00:00:00Z`, `.123Z` or
/// `.123456Z` when there is a fraction), as arrow does; `false` (nothing written) outside
/// the years 0001–9999.
fn write_utc_micros(buffer: &mut Vec<u8>, micros: i64) -> bool {
    const DAY: i64 = 86_400;
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let (days, second) = (seconds.div_euclid(DAY), seconds.rem_euclid(DAY));
    let Some((year, month, day)) = date_of(days).filter(|(year, ..)| (1..=9999).contains(year))
    else {
        return false;
    };
    let two = |buffer: &mut Vec<u8>, n: i64| {
        buffer.push(b'0' + (n / 10) as u8);
        buffer.push(b'0' + (n % 10) as u8);
    };
    two(buffer, year / 100);
    two(buffer, year % 100);
    buffer.push(b'-');
    two(buffer, month);
    buffer.push(b'-');
    two(buffer, day);
    buffer.push(b'T');
    two(buffer, second / 3600);
    buffer.push(b':');
    two(buffer, second / 60 % 60);
    buffer.push(b':');
    two(buffer, second % 60);
    if fraction != 0 {
        let (digits, value) = if fraction % 1000 == 0 {
            (3, fraction / 1000)
        } else {
            (6, fraction)
        };
        let _ = write!(buffer, ".{value:0digits$}");
    }
    buffer.push(b'Z');
    true
}

/// Year, month and day of a count of days since 1970-01-01 (the proleptic Gregorian
/// calendar); `None` past what a date holds.
fn date_of(days: i64) -> Option<(i64, i64, i64)> {
    // 1970-01-01 is day 719,163 of the common era (0001-01-01 is day 1).
    let days = i32::try_from(days.checked_add(719_163)?).ok()?;
    let date = NaiveDate::from_num_days_from_ce_opt(days)?;
    Some((date.year().into(), date.month().into(), date.day().into()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, TimestampMillisecondArray};
    use datafusion::arrow::csv::WriterBuilder;
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    /// What arrow's own CSV writer writes for `batch`.
    fn arrow_csv(batch: &RecordBatch, header: bool) -> String {
        let mut out = Vec::new();
        WriterBuilder::new()
            .with_header(header)
            .build(&mut out)
            .write(batch)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    fn ours(batch: &RecordBatch, header: bool) -> String {
        let mut out = Vec::new();
        write_csv(batch, header, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, a)| Field::new(*name, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    #[test]
    fn writes_what_arrows_writer_writes() {
        let texts = vec![
            Some("plain"),
            Some(""),
            None,
            Some("a,b"),
            Some(r#"say "hi""#),
            Some(r#"""#),
            Some(r#""""#),
            Some(r#"ends with ""#),
            Some(r#""starts, and "" doubled"#),
            Some("two\nlines"),
            Some("carriage\rreturn"),
            Some(r#"{"a":[1,"x"]}"#),
            Some("ünïcödé ✓"),
            Some(" spaced "),
            Some("\"\""),
            Some("#hash"),
        ];
        let n = texts.len();
        // Every few years from 0001 to 9999 and past it, fractions of every width, negatives.
        let micros: Vec<Option<i64>> = (0..n as i64)
            .map(|i| match i {
                2 => None,
                3 => Some(-62_135_596_800_000_000), // 0001-01-01
                4 => Some(253_402_300_799_999_999), // 9999-12-31T23:59:59.999999
                5 => Some(253_402_300_800_000_000), // 10000-01-01
                6 => Some(-62_135_596_800_000_001), // before 0001
                7 => Some(951_782_400_123_000),     // 2000-02-29, milliseconds
                8 => Some(-1),
                _ => Some(1_700_000_000_000_000 + i * 86_400_123_457),
            })
            .collect();
        let b = batch(vec![
            (
                "text",
                Arc::new(StringArray::from(texts.clone())) as ArrayRef,
            ),
            ("view", Arc::new(StringViewArray::from(texts))),
            (
                "int",
                Arc::new(Int64Array::from(
                    (0..n as i64)
                        .map(|i| (i != 2).then_some(i64::MIN + i * 7_777_777_777_777_777))
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "bool",
                Arc::new(BooleanArray::from(
                    (0..n)
                        .map(|i| (i % 3 != 2).then_some(i % 2 == 0))
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "utc",
                Arc::new(TimestampMicrosecondArray::from(micros.clone()).with_timezone("UTC")),
            ),
            (
                "offset",
                Arc::new(TimestampMicrosecondArray::from(micros.clone()).with_timezone("+00:00")),
            ),
            (
                "paris",
                Arc::new(
                    TimestampMicrosecondArray::from(micros.clone()).with_timezone("Europe/Paris"),
                ),
            ),
            ("naive", Arc::new(TimestampMicrosecondArray::from(micros))),
            (
                "millis",
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(1_500); n]).with_timezone("UTC"),
                ),
            ),
            (
                "float",
                Arc::new(Float64Array::from(
                    (0..n)
                        .map(|i| (i != 2).then_some(i as f64 * 1.1e10 - 3.5))
                        .collect::<Vec<_>>(),
                )),
            ),
        ]);
        for header in [true, false] {
            assert_eq!(ours(&b, header), arrow_csv(&b, header));
        }
        // A one-column row with an empty or NULL value is `""`, not an empty line.
        let one = batch(vec![(
            "only",
            Arc::new(StringArray::from(vec![Some(""), None, Some("x")])) as ArrayRef,
        )]);
        assert_eq!(ours(&one, true), arrow_csv(&one, true));
        assert_eq!(ours(&one, true), "only\n\"\"\n\"\"\nx\n");
        let empty = batch(vec![(
            "a,b",
            Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef,
        )]);
        assert_eq!(ours(&empty, true), arrow_csv(&empty, true));
    }

    #[test]
    fn days_become_dates() {
        assert_eq!(date_of(0), Some((1970, 1, 1)));
        assert_eq!(date_of(-1), Some((1969, 12, 31)));
        assert_eq!(date_of(11_016), Some((2000, 2, 29)));
        assert_eq!(date_of(-719_162), Some((1, 1, 1)));
        assert_eq!(date_of(i64::MAX), None);
    }
}
