//! Result printing for the REPL and for `intercom-sql -c` / `-f`: Arrow record batches rendered
//! as an aligned table, CSV or JSON lines. It owns output formatting only and never plans SQL.
//!
//! CSV and JSON print batch by batch as they arrive, so memory stays flat for large results;
//! the table format collects all batches first, because column widths depend on every row.
//! Scripts (`-c`, `-f`) show a result only once its statement succeeded (see [`run_script`]).
//! Timestamps render as ISO-8601 (`2024-01-31T09:30:00Z`) in all three formats.

use std::fmt;
use std::io::{self, Seek, Write};
use std::str::FromStr;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::LineDelimitedWriter;
use datafusion::arrow::json::writer::WriterBuilder as JsonWriterBuilder;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::FormatOptions;
use datafusion::arrow::util::pretty::pretty_format_batches_with_options;
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use futures::{StreamExt, TryStreamExt};

use crate::error::Error;

mod csv_rows;
use crate::session::Engine;

/// `1234567` → `1,234,567`: counts in progress lines and reports.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How query results are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table with a header, like psql or datafusion-cli.
    #[default]
    Table,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// JSON lines: one JSON object per row, one row per line; SQL NULL is written as `null`.
    Json,
    /// One block per row, one line per column (`column | value`), like psql's `\x`: for rows
    /// too wide for a table.
    Expanded,
    /// A table, or the expanded form when the table is wider than the terminal (the shell's
    /// `\x auto`).
    #[value(skip)]
    AutoExpanded,
}

impl Format {
    /// All formats, in the order help texts list them.
    pub const ALL: [Format; 4] = [Format::Table, Format::Csv, Format::Json, Format::Expanded];

    /// The lower-case name accepted by [`FromStr`] and `\format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Expanded => "expanded",
            Format::AutoExpanded => "table (expanded when wider than the terminal)",
        }
    }

    /// Whether results are collected and laid out at the end (a table, expanded or not).
    pub(crate) fn laid_out(self) -> bool {
        matches!(
            self,
            Format::Table | Format::Expanded | Format::AutoExpanded
        )
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown format name; its message lists the valid ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format '{}'; use table, csv, json or expanded",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `table`, `csv` or `json`, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Format::ALL
            .into_iter()
            .find(|format| format.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownFormat(wanted.to_string()))
    }
}

/// Prints the result of one statement, batch by batch.
///
/// Call [`ResultPrinter::write_batch`] for each batch as it arrives, then
/// [`ResultPrinter::finish`]. CSV and JSON write (and flush) each batch immediately; the table
/// format keeps the batches and writes the whole table in `finish`.
#[derive(Debug)]
pub struct ResultPrinter {
    format: Format,
    schema: SchemaRef,
    rows: usize,
    header_written: bool,
    pending: Vec<RecordBatch>,
    /// The CSV text of a batch as it is written, kept from batch to batch (no regrowing).
    text: Vec<u8>,
}

impl ResultPrinter {
    /// A printer for a result with this schema (the schema gives the header of empty results).
    pub fn new(format: Format, schema: SchemaRef) -> Self {
        Self {
            format,
            schema,
            rows: 0,
            header_written: false,
            pending: Vec::new(),
            text: Vec::new(),
        }
    }

    /// Rows seen so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Prints (or, for the table format, keeps) one batch.
    pub fn write_batch(&mut self, batch: RecordBatch, out: &mut impl Write) -> Result<(), Error> {
        self.rows += batch.num_rows();
        match self.format {
            Format::Table | Format::Expanded | Format::AutoExpanded => {
                if batch.num_rows() > 0 {
                    self.pending.push(batch);
                }
                Ok(())
            }
            Format::Csv => {
                // An empty batch is written too when it is the first: it prints the header.
                if batch.num_rows() == 0 && self.header_written {
                    return Ok(());
                }
                self.write_csv(&batch, &mut *out)?;
                out.flush().map_err(io_error)
            }
            Format::Json => {
                if batch.num_rows() == 0 {
                    return Ok(());
                }
                write_json_lines(&batch, &mut *out)?;
                out.flush().map_err(io_error)
            }
        }
    }

    /// Writes what is still pending (the whole table, or a CSV header for an empty result) and
    /// returns the number of rows printed.
    pub fn finish(mut self, out: &mut impl Write) -> Result<usize, Error> {
        // Statements without columns (SET, CREATE VIEW, …) print nothing.
        if self.schema.fields().is_empty() {
            return Ok(self.rows);
        }
        match self.format {
            Format::Table | Format::Expanded | Format::AutoExpanded => {
                let batches = if self.pending.is_empty() {
                    vec![RecordBatch::new_empty(self.schema.clone())]
                } else {
                    std::mem::take(&mut self.pending)
                };
                let table = match self.format {
                    Format::Expanded => None,
                    _ => Some(
                        pretty_format_batches_with_options(&batches, &format_options())
                            .map_err(arrow_error)?
                            .to_string(),
                    ),
                };
                let too_wide = |t: &str| {
                    t.lines().map(|l| l.chars().count()).max().unwrap_or(0) > terminal_width()
                };
                match table {
                    Some(table) if self.format == Format::Table || !too_wide(&table) => {
                        writeln!(out, "{table}").map_err(io_error)?;
                    }
                    _ => write_expanded(&batches, out)?,
                }
            }
            Format::Csv => {
                if !self.header_written {
                    let empty = RecordBatch::new_empty(self.schema.clone());
                    self.write_csv(&empty, &mut *out)?;
                }
            }
            Format::Json => {}
        }
        out.flush().map_err(io_error)?;
        Ok(self.rows)
    }

    fn write_csv(&mut self, batch: &RecordBatch, out: &mut impl Write) -> Result<(), Error> {
        csv_rows::write_csv(batch, !self.header_written, &mut self.text, out)
            .map_err(arrow_error)?;
        self.header_written = true;
        Ok(())
    }
}

/// Prints a result stream as its batches arrive and returns the number of rows.
///
/// Dropping the returned future stops reading the stream (and so the scan behind it).
pub async fn print_stream(
    mut stream: SendableRecordBatchStream,
    format: Format,
    out: &mut (impl Write + Send),
) -> Result<usize, Error> {
    let mut printer = ResultPrinter::new(format, stream.schema());
    while let Some(batch) = stream.next().await {
        printer.write_batch(batch?, out)?;
    }
    printer.finish(out)
}

/// Prints batches that are already in memory (e.g. the output of `\dt`) and returns the row count.
pub fn print_batches(
    schema: SchemaRef,
    batches: &[RecordBatch],
    format: Format,
    out: &mut impl Write,
) -> Result<usize, Error> {
    let mut printer = ResultPrinter::new(format, schema);
    for batch in batches {
        printer.write_batch(batch.clone(), out)?;
    }
    printer.finish(out)
}

/// Renders in-memory batches to a string; convenient for tests and small outputs.
pub fn format_batches(
    schema: SchemaRef,
    batches: &[RecordBatch],
    format: Format,
) -> Result<String, Error> {
    let mut out = Vec::new();
    print_batches(schema, batches, format, &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// psql's answer to INSERT/UPDATE/DELETE (`UPDATE 3`, `INSERT 0 2`): the plan's command tag
/// with DataFusion's one-row `count`; `None` for anything else.
pub fn command_tag(command: Option<&str>, batches: &[RecordBatch]) -> Option<String> {
    let prefix = dml_tag_prefix(command)?;
    let batch = batches.iter().find(|b| b.num_rows() > 0)?;
    if batch.num_columns() != 1 || batch.schema().field(0).name() != "count" {
        return None;
    }
    let counts = batch
        .column(0)
        .as_any()
        .downcast_ref::<datafusion::arrow::array::UInt64Array>()?;
    Some(format!("{prefix} {}", counts.value(0)))
}

/// Prints the result of a statement whose plan answered with `command` (see
/// [`Engine::execute_statement`]): `UPDATE 3` for INSERT/UPDATE/DELETE in table format, the
/// rows otherwise. Returns the number of rows printed.
pub async fn print_statement_result(
    command: Option<&str>,
    stream: SendableRecordBatchStream,
    format: Format,
    out: &mut (impl Write + Send),
) -> Result<usize, Error> {
    if !format.laid_out() || dml_tag_prefix(command).is_none() {
        return print_stream(stream, format, out).await;
    }
    let schema = stream.schema();
    let batches: Vec<RecordBatch> = stream.try_collect().await?;
    match command_tag(command, &batches) {
        Some(tag) => {
            writeln!(out, "{tag}").map_err(|e| Error::Io {
                context: "writing the result".into(),
                source: e,
            })?;
            Ok(0)
        }
        None => {
            print_batches(schema, &batches, format, out)?;
            Ok(batches.iter().map(RecordBatch::num_rows).sum())
        }
    }
}

/// The start of psql's tag for a write: `INSERT 0`, `UPDATE`, `DELETE`.
fn dml_tag_prefix(command: Option<&str>) -> Option<&'static str> {
    match command? {
        "INSERT" => Some("INSERT 0"),
        "UPDATE" => Some("UPDATE"),
        "DELETE" => Some("DELETE"),
        _ => None,
    }
}

/// Runs a script (`-c` or `-f`): splits it into statements, runs them in order and prints each
/// result to `out`. Stops at the first error and returns it.
///
/// A statement's result is printed only once the statement has succeeded, as psql does: a
/// scan failing half-way prints none of its rows, so `-c … > out.csv` never leaves a file that
/// looks complete but is not. CSV and JSON go to an anonymous temporary file first (memory
/// stays flat) and are copied to `out` at the end; the table format collects its batches
/// anyway.
///
/// If `out` is a closed pipe (`intercom-sql -c … | head`), printing stops quietly with `Ok`:
/// nobody is reading any more.
pub async fn run_script(
    engine: &Engine,
    sql: &str,
    format: Format,
    out: &mut (impl Write + Send),
) -> Result<(), Error> {
    let mut out = PipeWatcher::new(out);
    for statement in Engine::split_statements(sql)? {
        let executed = engine.execute_statement(&statement).await?;
        let (command, stream) = (executed.command, executed.stream);
        let printed = match format {
            Format::Table | Format::Expanded | Format::AutoExpanded => {
                print_statement_result(command, stream, format, &mut out)
                    .await
                    .map(drop)
            }
            Format::Csv | Format::Json => {
                let mut spool = Spool::new()?;
                print_statement_result(command, stream, format, &mut spool.writer).await?;
                out.copy_from(spool)
            }
        };
        match printed {
            Ok(()) => {}
            Err(_) if out.is_broken() => return Ok(()),
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Bytes the spool gathers before writing them to its file. Larger writes (CSV's, up to
/// [`csv_rows::CHUNK`] each) go to the file as they are, not copied into the buffer first.
const SPOOL_BUFFER: usize = 64 << 10;

/// A statement's output held in an anonymous temporary file until the statement succeeds.
/// The file has no name, so it disappears when dropped, whatever happens.
struct Spool {
    writer: io::BufWriter<std::fs::File>,
}

impl Spool {
    fn new() -> Result<Self, Error> {
        let file = tempfile::tempfile().map_err(|source| Error::Io {
            context:
                "creating a temporary file for the result (set TMPDIR to a writable directory)"
                    .into(),
            source,
        })?;
        // Large writes: a result of a hundred megabytes is a hundred writes, not ten thousand.
        Ok(Self {
            writer: io::BufWriter::with_capacity(SPOOL_BUFFER, file),
        })
    }

    /// The file holding everything written so far, read from its start.
    fn into_file(self) -> Result<std::fs::File, Error> {
        let spool_error = |source| Error::Io {
            context: "reading back the result's temporary file".into(),
            source,
        };
        let mut file = self
            .writer
            .into_inner()
            .map_err(|e| spool_error(e.into_error()))?;
        file.seek(io::SeekFrom::Start(0)).map_err(spool_error)?;
        Ok(file)
    }
}

/// Remembers whether the reader of `out` went away, because the CSV writer turns I/O errors
/// into text and the kind is lost on the way up.
struct PipeWatcher<W> {
    inner: W,
    broken: bool,
}

impl<W: Write> PipeWatcher<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            broken: false,
        }
    }

    fn is_broken(&self) -> bool {
        self.broken
    }

    /// Copies everything `spool` holds to the output, and flushes it: by the kernel
    /// (`copy_file_range`, `sendfile` or `splice`, as `io::copy` chooses) when the output is
    /// standard output on a file or a pipe, so a hundred megabytes of CSV are not read into
    /// this process and written out again after the statement ends.
    fn copy_from(&mut self, spool: Spool) -> Result<(), Error> {
        let mut file = spool.into_file()?;
        // A failed read of the temporary file is reported as a failed write: only a write can
        // be a closed pipe, which is all that is told apart.
        let copied = io::copy(&mut file, &mut self.inner);
        self.note(copied).map_err(io_error)?;
        let flushed = self.inner.flush();
        self.note(flushed).map_err(io_error)
    }

    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(error) = &result
            && error.kind() == io::ErrorKind::BrokenPipe
        {
            self.broken = true;
        }
        result
    }
}

impl<W: Write> Write for PipeWatcher<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}

/// Format options shared by the table output: ISO-8601 timestamps (Arrow's default) and
/// cell errors shown in place instead of failing the whole table.
/// The terminal's width in columns: `COLUMNS` when the shell exports it, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|&c: &usize| c > 0)
        .unwrap_or(100)
}

/// Rows as psql's expanded display writes them: a `-[ RECORD n ]-` line, then one
/// `column | value` line per column, names padded to the longest.
fn write_expanded(batches: &[RecordBatch], out: &mut impl Write) -> Result<(), Error> {
    let Some(first) = batches.first() else {
        return Ok(());
    };
    let schema = first.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let options = format_options();
    let mut record = 0;
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| datafusion::arrow::util::display::ArrayFormatter::try_new(c, &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(arrow_error)?;
        for row in 0..batch.num_rows() {
            record += 1;
            let title = format!("-[ RECORD {record} ]");
            let rule = "-".repeat((width + 3).saturating_sub(title.chars().count()).max(1));
            writeln!(out, "{title}{rule}").map_err(io_error)?;
            for (name, formatter) in names.iter().zip(&formatters) {
                let value = formatter.value(row).to_string();
                writeln!(out, "{name:<width$} | {value}").map_err(io_error)?;
            }
        }
    }
    if record == 0 {
        writeln!(out, "(0 rows)").map_err(io_error)?;
    }
    Ok(())
}

fn format_options() -> FormatOptions<'static> {
    FormatOptions::new().with_display_error(true)
}

fn write_json_lines(batch: &RecordBatch, out: &mut impl Write) -> Result<(), Error> {
    // Explicit nulls keep every object's keys the same, which is easier to consume with jq.
    let mut writer: LineDelimitedWriter<_> = JsonWriterBuilder::new()
        .with_explicit_nulls(true)
        .build(out);
    writer.write(batch).map_err(arrow_error)?;
    writer.finish().map_err(arrow_error)
}

fn arrow_error(error: ArrowError) -> Error {
    Error::from(DataFusionError::ArrowError(Box::new(error), None))
}

fn io_error(source: io::Error) -> Error {
    Error::Io {
        context: "writing output".to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    use super::*;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("visits", DataType::Int64, true),
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]))
    }

    fn batch(ids: &[&str], visits: &[Option<i64>], created: &[Option<i64>]) -> RecordBatch {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(ids.to_vec())),
            Arc::new(Int64Array::from(visits.to_vec())),
            Arc::new(
                TimestampMicrosecondArray::from(
                    created
                        .iter()
                        .map(|t| t.map(|s| s * 1_000_000))
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
        ];
        RecordBatch::try_new(schema(), columns).unwrap()
    }

    fn two_batches() -> Vec<RecordBatch> {
        vec![
            batch(&["a1"], &[Some(3)], &[Some(1_700_000_000)]),
            batch(&["b,2"], &[None], &[None]),
        ]
    }

    #[test]
    fn expanded_display_writes_a_block_per_row_across_batches() {
        let text = format_batches(schema(), &two_batches(), Format::Expanded).unwrap();
        assert_eq!(
            text,
            "-[ RECORD 1 ]-\nid         | a1\nvisits     | 3\ncreated_at | 2023-11-14T22:13:20Z\n\
             -[ RECORD 2 ]-\nid         | b,2\nvisits     | \ncreated_at | \n"
        );
        // Narrow enough for the terminal: a table; `auto` expands only wider ones.
        let auto = format_batches(schema(), &two_batches(), Format::AutoExpanded).unwrap();
        assert_eq!(
            auto,
            format_batches(schema(), &two_batches(), Format::Table).unwrap()
        );
        assert_eq!(
            format_batches(schema(), &[], Format::Expanded).unwrap(),
            "(0 rows)\n"
        );
    }

    #[test]
    fn parses_format_names_ignoring_case() {
        assert_eq!("table".parse::<Format>(), Ok(Format::Table));
        assert_eq!("CSV".parse::<Format>(), Ok(Format::Csv));
        assert_eq!(" Json ".parse::<Format>(), Ok(Format::Json));
        let error = "xml".parse::<Format>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown format 'xml'; use table, csv, json or expanded"
        );
        for format in Format::ALL {
            assert_eq!(format.to_string().parse::<Format>(), Ok(format));
        }
    }

    #[test]
    fn prints_an_aligned_table_with_iso_timestamps() {
        let text = format_batches(schema(), &two_batches(), Format::Table).unwrap();
        let expected = "\
+-----+--------+----------------------+
| id  | visits | created_at           |
+-----+--------+----------------------+
| a1  | 3      | 2023-11-14T22:13:20Z |
| b,2 |        |                      |
+-----+--------+----------------------+
";
        assert_eq!(text, expected);
    }

    #[test]
    fn prints_the_header_of_an_empty_table() {
        let text = format_batches(schema(), &[], Format::Table).unwrap();
        assert_eq!(
            text,
            "+----+--------+------------+\n| id | visits | created_at |\n+----+--------+------------+\n+----+--------+------------+\n"
        );
    }

    #[test]
    fn prints_csv_with_one_header_across_batches() {
        let text = format_batches(schema(), &two_batches(), Format::Csv).unwrap();
        assert_eq!(
            text,
            "id,visits,created_at\na1,3,2023-11-14T22:13:20Z\n\"b,2\",,\n"
        );
    }

    #[test]
    fn prints_a_csv_header_for_an_empty_result() {
        let empty = RecordBatch::new_empty(schema());
        assert_eq!(
            format_batches(schema(), &[], Format::Csv).unwrap(),
            "id,visits,created_at\n"
        );
        assert_eq!(
            format_batches(schema(), &[empty.clone(), empty], Format::Csv).unwrap(),
            "id,visits,created_at\n"
        );
    }

    #[test]
    fn prints_json_lines_with_explicit_nulls() {
        let text = format_batches(schema(), &two_batches(), Format::Json).unwrap();
        assert_eq!(
            text,
            "{\"id\":\"a1\",\"visits\":3,\"created_at\":\"2023-11-14T22:13:20Z\"}\n\
             {\"id\":\"b,2\",\"visits\":null,\"created_at\":null}\n"
        );
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        assert_eq!(format_batches(schema(), &[], Format::Json).unwrap(), "");
    }

    #[test]
    fn prints_nothing_for_statements_without_columns() {
        let no_columns = Arc::new(Schema::empty());
        for format in Format::ALL {
            assert_eq!(format_batches(no_columns.clone(), &[], format).unwrap(), "");
        }
    }

    /// Counts writes and flushes, to prove CSV and JSON output leaves before the last batch.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        flushed_len: Vec<usize>,
    }

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushed_len.push(self.bytes.len());
            Ok(())
        }
    }

    #[test]
    fn streams_csv_and_json_batch_by_batch_but_collects_the_table() {
        for format in [Format::Csv, Format::Json] {
            let mut out = Recorder::default();
            let mut printer = ResultPrinter::new(format, schema());
            let [first, second] = <[RecordBatch; 2]>::try_from(two_batches()).unwrap();
            printer.write_batch(first, &mut out).unwrap();
            let after_first = out.bytes.len();
            assert!(after_first > 0, "{format}: first batch not printed");
            assert_eq!(
                out.flushed_len.last(),
                Some(&after_first),
                "{format}: not flushed"
            );
            printer.write_batch(second, &mut out).unwrap();
            assert!(out.bytes.len() > after_first);
            assert_eq!(printer.finish(&mut out).unwrap(), 2);
        }
        let mut out = Recorder::default();
        let mut printer = ResultPrinter::new(Format::Table, schema());
        for batch in two_batches() {
            printer.write_batch(batch, &mut out).unwrap();
        }
        assert!(out.bytes.is_empty());
        assert_eq!(printer.finish(&mut out).unwrap(), 2);
        assert!(!out.bytes.is_empty());
    }

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_spool_is_copied_whole_and_notices_a_closed_pipe() {
        let mut spool = Spool::new().unwrap();
        print_batches(schema(), &two_batches(), Format::Csv, &mut spool.writer).unwrap();
        let mut out = PipeWatcher::new(Vec::new());
        out.copy_from(spool).unwrap();
        assert_eq!(
            String::from_utf8(out.inner).unwrap(),
            format_batches(schema(), &two_batches(), Format::Csv).unwrap()
        );

        let mut spool = Spool::new().unwrap();
        print_batches(schema(), &two_batches(), Format::Json, &mut spool.writer).unwrap();
        let mut out = PipeWatcher::new(ClosedPipe);
        assert!(out.copy_from(spool).is_err());
        assert!(out.is_broken());
    }

    #[test]
    fn pipe_watcher_notices_a_closed_pipe_behind_csv_errors() {
        let mut out = PipeWatcher::new(ClosedPipe);
        let result = print_batches(schema(), &two_batches(), Format::Csv, &mut out);
        assert!(result.is_err());
        assert!(out.is_broken());
    }
}
