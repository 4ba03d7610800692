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

use crate::client::padded_chunks;

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
    buffer: &mut Vec<u8>,
    out: &mut impl Write,
) -> Result<(), ArrowError> {
    buffer.clear();
    if header {
        let fields = batch.schema_ref().fields();
        write_record(buffer, fields.len(), |buffer, i| {
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
        write_record(buffer, columns.len(), |buffer, i| {
            write_value(buffer, &mut scratch, &columns[i], row)
        })?;
        if buffer.len() >= CHUNK {
            out.write_all(buffer)?;
            buffer.clear();
        }
    }
    out.write_all(buffer)?;
    Ok(())
}

/// Bytes of CSV text gathered before they are written: a batch's, mostly, in one write.
pub const CHUNK: usize = 1 << 20;

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

/// One value of a column as a field. Inlined into the row's loop: a call per value was a
/// fifth of its instructions.
#[inline(always)]
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
            buffer.extend_from_slice(itoa::Buffer::new().format(a.value(row)).as_bytes());
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
#[inline(never)]
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
#[inline(never)]
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
    let (lanes, last) = padded_chunks::<LANE>(field);
    if lanes.iter().chain(&last).all(|lane| specials(lane) == 0) {
        buffer.extend_from_slice(field);
        return;
    }
    let start = buffer.len();
    // Room for the worst case (every byte a quote) and a lane's stores past the end; the
    // opening quote is the fill's.
    buffer.resize(start + 2 * field.len() + 2 + LANE, b'"');
    let out = &mut buffer[start..];
    let at = doubled(out, lanes, last.as_ref(), field.len() % LANE);
    out[at] = b'"';
    buffer.truncate(start + at + 1);
}

/// Writes a field's `lanes`, then the first `rest` bytes of `last`, into `out` from `out[1]`,
/// each quote twice; where the next byte goes. A JSON column's text has a quote every few
/// bytes (the quoted fields are over half the bytes of `SELECT * FROM contacts`): a byte at a
/// time, each cost 12 instructions.
fn doubled(out: &mut [u8], lanes: &[[u8; LANE]], last: Option<&[u8; LANE]>, rest: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if has_ssse3() {
        // SAFETY: the CPU has SSSE3 and POPCNT, as just checked.
        return unsafe { doubled_ssse3(out, lanes, last, rest) };
    }
    let mut at = 1;
    for lane in lanes {
        at = double_quotes(out, at, lane, LANE);
    }
    if let Some(last) = last {
        at = double_quotes(out, at, last, rest);
    }
    at
}

/// Whether the CPU has what [`double_quotes_ssse3`] is compiled for: SSSE3's byte shuffle
/// and POPCNT (every x86-64 CPU since 2008 has both).
#[cfg(target_arch = "x86_64")]
fn has_ssse3() -> bool {
    std::arch::is_x86_feature_detected!("ssse3") && std::arch::is_x86_feature_detected!("popcnt")
}

/// [`doubled`]'s loop compiled for SSSE3, each lane by [`double_quotes_ssse3`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3,popcnt")]
fn doubled_ssse3(
    out: &mut [u8],
    lanes: &[[u8; LANE]],
    last: Option<&[u8; LANE]>,
    rest: usize,
) -> usize {
    let mut at = 1;
    for lane in lanes {
        at = double_quotes_ssse3(out, at, lane, LANE);
    }
    if let Some(last) = last {
        at = double_quotes_ssse3(out, at, last, rest);
    }
    at
}

/// Bytes compared at a time when writing a field.
const LANE: usize = 16;

/// Writes the first `len` bytes of `lane` at `out[at..]`, each quote twice; where the next
/// byte goes. Stores a lane's width from `at`: `out` has room for them.
fn double_quotes(out: &mut [u8], mut at: usize, lane: &[u8; LANE], len: usize) -> usize {
    let mut window = [0u8; 2 * LANE];
    window[..LANE].copy_from_slice(lane);
    let mut quotes = u32::from(quotes(lane)) & ((1 << len) - 1);
    let mut from = 0;
    while quotes != 0 {
        let quote = quotes.trailing_zeros() as usize;
        quotes &= quotes - 1;
        out[at..at + LANE].copy_from_slice(&window[from..from + LANE]);
        at += quote + 1 - from;
        out[at] = b'"';
        at += 1;
        from = quote + 1;
    }
    out[at..at + LANE].copy_from_slice(&window[from..from + LANE]);
    at + len - from
}

/// [`double_quotes`] by SSSE3's byte shuffle: each half of the lane spread into 16 bytes by
/// the shuffle that [`SPREADS`] holds for its quotes, which writes a quote twice; whatever
/// the number of quotes, a few instructions a half.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3,popcnt")]
fn double_quotes_ssse3(out: &mut [u8], at: usize, lane: &[u8; LANE], len: usize) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_loadu_si128, _mm_set1_epi8, _mm_shuffle_epi8, _mm_storeu_si128,
    };
    let quotes = quotes(lane) & ((1u32 << len) - 1) as u16;
    let [low, high] = quotes.to_le_bytes();
    // SAFETY: each load reads 16 bytes (a lane, a row of the table); each store writes the 16
    // bytes of a slice of `out` that long (which has room for them: see `write_field`).
    unsafe {
        let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
        let spread = _mm_loadu_si128(SPREADS[usize::from(low)].as_ptr().cast::<__m128i>());
        let target = out[at..at + LANE].as_mut_ptr().cast::<__m128i>();
        _mm_storeu_si128(target, _mm_shuffle_epi8(bytes, spread));
        if len <= LANE / 2 {
            return at + len + low.count_ones() as usize;
        }
        let at = at + LANE / 2 + low.count_ones() as usize;
        // The high half's bytes are 8 further on (an unused slot, 0x80, stays one).
        let spread = _mm_loadu_si128(SPREADS[usize::from(high)].as_ptr().cast::<__m128i>());
        let spread = _mm_add_epi8(spread, _mm_set1_epi8(LANE as i8 / 2));
        let target = out[at..at + LANE].as_mut_ptr().cast::<__m128i>();
        _mm_storeu_si128(target, _mm_shuffle_epi8(bytes, spread));
        at + len - LANE / 2 + high.count_ones() as usize
    }
}

/// For each mask of quotes among 8 bytes, the shuffle that spreads them into 16 with every
/// quote twice: the index of the byte each output byte is, 0x80 (a zero) past the last.
#[cfg(target_arch = "x86_64")]
static SPREADS: [[u8; LANE]; 256] = spreads();

#[cfg(target_arch = "x86_64")]
const fn spreads() -> [[u8; LANE]; 256] {
    let mut table = [[0x80u8; LANE]; 256];
    let mut mask = 0;
    while mask < 256 {
        let (mut byte, mut to) = (0, 0);
        while byte < LANE / 2 {
            table[mask][to] = byte as u8;
            to += 1;
            if mask >> byte & 1 == 1 {
                table[mask][to] = byte as u8;
                to += 1;
            }
            byte += 1;
        }
        mask += 1;
    }
    table
}

/// One bit per byte of `lane` that is a quote.
fn quotes(lane: &[u8; LANE]) -> u16 {
    equal(lane, b"\"")
}

/// One bit per byte of `lane` that makes a field quoted: a comma, a quote or a line break.
fn specials(lane: &[u8; LANE]) -> u16 {
    equal(lane, b",\"\n\r")
}

/// One bit per byte of `lane` equal to one of `bytes`: SSE2's compares.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn equal(lane: &[u8; LANE], bytes: &[u8]) -> u16 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };
    // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the lane's 16 bytes.
    unsafe {
        let lane = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
        let mut equal = _mm_setzero_si128();
        for &b in bytes {
            equal = _mm_or_si128(equal, _mm_cmpeq_epi8(lane, _mm_set1_epi8(b as i8)));
        }
        _mm_movemask_epi8(equal) as u16
    }
}

/// One bit per byte of `lane` equal to one of `bytes`, a byte at a time.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn equal_bytewise(lane: &[u8; LANE], bytes: &[u8]) -> u16 {
    (0..LANE).fold(0, |mask, i| mask | u16::from(bytes.contains(&lane[i])) << i)
}

#[cfg(not(target_arch = "x86_64"))]
fn equal(lane: &[u8; LANE], bytes: &[u8]) -> u16 {
    equal_bytewise(lane, bytes)
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
    // Written in place into a text of the right shape, and added to the buffer at once.
    let mut text = *b"0000-00-00T00:00:00";
    for (at, n) in [
        (0, year / 100),
        (2, year % 100),
        (5, month),
        (8, day),
        (11, second / 3600),
        (14, second / 60 % 60),
        (17, second % 60),
    ] {
        text[at] = b'0' + (n / 10) as u8;
        text[at + 1] = b'0' + (n % 10) as u8;
    }
    buffer.extend_from_slice(&text);
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
        write_csv(batch, header, &mut Vec::new(), &mut out).unwrap();
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
    fn fields_are_quoted_and_their_quotes_doubled_at_every_length_and_position() {
        // Fields of 0 to 80 bytes (lanes whole and cut) drawn from an alphabet dense in the
        // bytes that matter, against the rule written a byte at a time.
        let by_rule = |field: &[u8]| {
            if !field.iter().any(|b| b",\"\n\r".contains(b)) {
                return field.to_vec();
            }
            let mut out = vec![b'"'];
            for &b in field {
                out.extend_from_slice(if b == b'"' {
                    b"\"\""
                } else {
                    std::slice::from_ref(&b)
                });
            }
            out.push(b'"');
            out
        };
        let mut rng = fastrand::Rng::with_seed(16);
        let alphabet = b"\"\",\n\rab {}:\xc3\xa9";
        for len in 0..=80 {
            for _ in 0..50 {
                let field: Vec<u8> = (0..len)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect();
                let mut buffer = b"before,".to_vec();
                write_field(&mut buffer, &field);
                assert_eq!(buffer[7..], by_rule(&field), "{field:?}");
                assert_eq!(&buffer[..7], b"before,");
            }
        }
        let quotes = [b'"'; 40];
        let mut buffer = Vec::new();
        write_field(&mut buffer, &quotes);
        assert_eq!(buffer, [b'"'; 82]);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn quotes_are_doubled_alike_by_the_shuffle_and_by_the_lane_loop() {
        if !has_ssse3() {
            return;
        }
        // Every pattern of quotes in each half of a lane, at every length the last lane has.
        for pattern in 0..=u16::MAX {
            let lane: [u8; LANE] = std::array::from_fn(|i| {
                if pattern >> i & 1 == 1 {
                    b'"'
                } else {
                    b'a' + i as u8
                }
            });
            for len in (1..=LANE).filter(|len| pattern % 97 == 0 || *len == LANE) {
                let (mut shuffled, mut looped) = ([0u8; 3 * LANE + 2], [0u8; 3 * LANE + 2]);
                // SAFETY: the CPU has SSSE3 and POPCNT, as just checked.
                let end = unsafe { double_quotes_ssse3(&mut shuffled, 1, &lane, len) };
                assert_eq!(
                    end,
                    double_quotes(&mut looped, 1, &lane, len),
                    "{pattern:#x} {len}"
                );
                assert_eq!(shuffled[..end], looped[..end], "{pattern:#x} {len}");
            }
        }
    }

    #[test]
    fn lanes_are_compared_alike_with_and_without_vector_instructions() {
        let every: Vec<u8> = (0..=255).collect();
        for lane in every.as_chunks::<LANE>().0 {
            for bytes in [&b"\""[..], b",\"\n\r"] {
                assert_eq!(equal(lane, bytes), equal_bytewise(lane, bytes));
            }
        }
        assert_eq!(specials(b"a,b\"c\nd\re       "), 0b1010_1010);
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
