//! The interactive REPL: reads a statement or a backslash command with rustyline, runs it
//! through the [`Engine`], prints the result, and handles Ctrl-C (cancel the query) and Ctrl-D
//! (quit). It only calls the engine and the printer; it knows nothing of Intercom.
//!
//! Multi-line input is edited as one buffer: Enter runs it once it ends with `;` (see
//! [`helper::is_complete`]), otherwise it starts a new line. The whole statement is one history
//! entry, so arrow-up brings back a multi-line query in one piece.

pub mod command;
pub mod helper;
mod progress;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use rustyline::Editor;
use rustyline::config::{CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;

use crate::error::Error;
use crate::print::{Format, print_batches, print_statement_result};
use crate::session::Engine;
use command::{Command, Expanded};
use helper::ReplHelper;

/// The prompt shown when the REPL waits for a new statement or command.
pub const PROMPT: &str = "intercom> ";

/// How many statements the history file keeps.
const HISTORY_SIZE: usize = 1000;

/// Settings of one REPL session.
#[derive(Clone, Debug, Default)]
pub struct ReplOptions {
    /// Printed once at start, e.g. which workspace is open (the demo says "demo"). When empty,
    /// a line pointing to `\?` and `\q` is printed instead.
    pub banner: String,
    /// Where history is kept; `None` means [`default_history_path`]. If no path can be found,
    /// history lives in memory only.
    pub history_path: Option<PathBuf>,
    /// Initial output format; `\format` changes it.
    pub format: Format,
}

/// The default history file: `intercom-sql/history` in the user's data directory
/// (`~/.local/share/intercom-sql/history` on Linux), or `None` if the platform has none.
pub fn default_history_path() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("intercom-sql").join("history"))
}

/// Runs the REPL until `\q` or Ctrl-D. Query errors are printed and the session continues;
/// only a broken terminal ends it with an error.
pub async fn run(engine: &Engine, options: ReplOptions) -> Result<(), Error> {
    let tables = engine.tables();
    let history_path = options.history_path.clone().or_else(default_history_path);
    let mut input = LineReader::new(ReplHelper::new(&tables), history_path)?;
    let mut session = Session {
        engine,
        format: options.format,
        timing: false,
        expanded: Expanded::Off,
    };
    // Only after the editor exists; see the function.
    watch_ctrl_c_from_now_on();
    if options.banner.is_empty() {
        println!("Type \\? for help, \\q to quit.");
    } else {
        println!("{}", options.banner);
    }
    loop {
        match input.read(PROMPT).await? {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                input.remember(&line);
                match session.handle(&line).await {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Quit) => break,
                    Err(message) => eprintln!("Error: {message}"),
                }
            }
            // Ctrl-C at the prompt: rustyline has already dropped the line; start afresh.
            Err(ReadlineError::Interrupted) => {}
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(readline_error(error)),
        }
    }
    input.save();
    Ok(())
}

/// Installs tokio's SIGINT handler for the rest of the process, so a Ctrl-C that arrives
/// between reading a line and starting its query cannot kill the REPL. (At the prompt the
/// terminal is in raw mode and Ctrl-C is a key, not a signal.) Each query then listens with
/// its own `ctrl_c()`, which only sees signals sent after it started.
///
/// Call it after the rustyline editor exists: without rustyline's `signal-hook` feature, the
/// editor installs its own SIGINT handler when created and would replace tokio's, whereas
/// tokio's handler calls the one it finds installed.
fn watch_ctrl_c_from_now_on() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Err(error) = signal(SignalKind::interrupt()) {
            eprintln!(
                "Warning: Ctrl-C may end intercom-sql instead of cancelling a query: {error}"
            );
            return;
        }
        // Tokio delivers a signal when some runtime's driver reads it, and the main runtime's
        // workers may all be busy in a long CPU-bound operator. This thread's own small runtime
        // reads signals as they come and wakes every listener, busy workers or not.
        let pump = std::thread::Builder::new().name("ctrl-c".into()).spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async { while tokio::signal::ctrl_c().await.is_ok() {} });
            }
        });
        if let Err(error) = pump {
            eprintln!("Warning: Ctrl-C may be slow to cancel a busy query: {error}");
        }
    }
}

/// What the loop does after one input.
enum Flow {
    Continue,
    Quit,
}

/// How a statement ended, when it did not fail.
enum Outcome {
    Done,
    Cancelled,
}

/// Completes at the next Ctrl-C. If the signal cannot be watched (a warning was printed at
/// start), it never completes, so the query runs on instead of being cancelled at once.
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The REPL's mutable settings and the engine it runs SQL on.
struct Session<'e> {
    engine: &'e Engine,
    format: Format,
    timing: bool,
    expanded: Expanded,
}

impl Session<'_> {
    /// Runs one input (SQL or a backslash command). An `Err` is the one-line message to show.
    async fn handle(&mut self, input: &str) -> Result<Flow, String> {
        if input.trim_start().starts_with('\\') {
            let command: Command = input
                .parse()
                .map_err(|e: command::CommandError| e.to_string())?;
            return self
                .run_command(command)
                .await
                .map_err(|e| e.user_message());
        }
        let statements = Engine::split_statements(input).map_err(|e| e.user_message())?;
        for statement in statements {
            if let Outcome::Cancelled = self.run_sql(&statement).await? {
                // The statements after a cancelled one do not run either.
                eprintln!("\nquery cancelled");
                break;
            }
        }
        Ok(Flow::Continue)
    }

    /// Runs one statement; Ctrl-C drops the stream, which stops the scan and its API calls.
    async fn run_sql(&self, sql: &str) -> Result<Outcome, String> {
        let started = Instant::now();
        // A long statement's progress, on a terminal's stderr, erased before its output.
        let progress = self
            .show_progress()
            .then(|| progress::ProgressLine::start(self.engine.client()));
        let query = async {
            let executed = self.engine.execute_statement(sql).await?;
            let stream = match &progress {
                Some(line) => line.around(executed.stream),
                None => executed.stream,
            };
            let stdout = &mut io::stdout();
            print_statement_result(executed.command, stream, self.shown(), stdout).await
        };
        let drawing = async {
            match &progress {
                Some(line) => line.clone().run().await,
                None => std::future::pending().await,
            }
        };
        let rows = tokio::select! {
            result = query => {
                if let Some(line) = &progress {
                    line.finish();
                }
                result.map_err(|e| e.user_message())?
            }
            () = drawing => unreachable!("the progress line draws until the statement ends"),
            () = ctrl_c() => {
                if let Some(line) = &progress {
                    line.finish();
                }
                let _ = io::stdout().flush();
                return Ok(Outcome::Cancelled);
            }
        };
        if self.timing {
            println!("{}", timing_line(rows, started.elapsed()));
        }
        Ok(Outcome::Done)
    }

    /// Whether statements show their progress: stderr is a terminal, and the output is laid
    /// out once the statement is done (a table) or goes elsewhere (stdout redirected), so the
    /// line never mixes with rows being printed.
    fn show_progress(&self) -> bool {
        use std::io::IsTerminal;
        io::stderr().is_terminal() && (self.shown().laid_out() || !io::stdout().is_terminal())
    }

    async fn run_command(&mut self, command: Command) -> Result<Flow, Error> {
        let mut out = io::stdout();
        match command {
            Command::Quit => return Ok(Flow::Quit),
            Command::Help => print!("{}", command::help_text()),
            Command::ListTables | Command::Describe(None) => {
                let (schema, batch) = tables_batch(self.engine)?;
                print_batches(schema, &[batch], self.format, &mut out)?;
            }
            Command::Describe(Some(table)) => {
                let (schema, batch) = self.describe(&table).await?;
                print_batches(schema, &[batch], self.format, &mut out)?;
            }
            Command::Procedures(None) => {
                let (schema, batch) = procedures_batch(self.engine)?;
                print_batches(schema, &[batch], self.format, &mut out)?;
            }
            Command::Procedures(Some(name)) => {
                let (schema, batch) = self.describe_procedure(&name)?;
                print_batches(schema, &[batch], self.format, &mut out)?;
            }
            Command::Timing(setting) => {
                self.timing = setting.unwrap_or(!self.timing);
                println!("Timing is {}.", if self.timing { "on" } else { "off" });
            }
            Command::Expanded(setting) => {
                self.expanded = setting.unwrap_or(match self.expanded {
                    Expanded::Off => Expanded::On,
                    Expanded::On | Expanded::Auto => Expanded::Off,
                });
                println!(
                    "Expanded display is {}.",
                    match self.expanded {
                        Expanded::Off => "off",
                        Expanded::On => "on",
                        Expanded::Auto => "used automatically",
                    }
                );
            }
            Command::ClearCache => {
                let cache = self.engine.client().cache();
                let (answers, bytes) = cache.size();
                cache.clear();
                println!(
                    "Forgot {answers} cached answers ({} KiB).",
                    bytes.div_ceil(1024)
                );
            }
            Command::Format(None) => println!("Output format is {}.", self.format),
            Command::Format(Some(format)) => {
                self.format = format;
                println!("Output format is {format}.");
            }
        }
        Ok(Flow::Continue)
    }

    /// Columns of an Intercom table with their descriptions; other tables the session knows
    /// (views, `information_schema.*`) are described by their schema alone.
    async fn describe(&self, table: &str) -> Result<(SchemaRef, RecordBatch), Error> {
        let known = self.engine.tables().into_iter().find(|t| t.name == table);
        let (schema, descriptions, description) = match known {
            Some(info) => (
                info.schema,
                info.column_descriptions,
                Some(info.description),
            ),
            None => {
                let provider = self
                    .engine
                    .context()
                    .table_provider(table)
                    .await
                    .map_err(|_| {
                        Error::Config(format!("no table named '{table}'; \\dt lists the tables"))
                    })?;
                (provider.schema(), Vec::new(), None)
            }
        };
        if let Some(description) = description.filter(|_| self.format.laid_out()) {
            println!("{table}: {description}");
        }
        let fields = schema.fields();
        let columns: Vec<(&str, Vec<String>)> = vec![
            ("column", fields.iter().map(|f| f.name().clone()).collect()),
            (
                "type",
                fields.iter().map(|f| f.data_type().to_string()).collect(),
            ),
            (
                "nullable",
                fields
                    .iter()
                    .map(|f| if f.is_nullable() { "yes" } else { "no" }.to_string())
                    .collect(),
            ),
            (
                "description",
                (0..fields.len())
                    .map(|i| descriptions.get(i).cloned().unwrap_or_default())
                    .collect(),
            ),
        ];
        string_batch(columns)
    }
}

impl Session<'_> {
    /// The format a query's result is printed in: the table format as `\x` says.
    fn shown(&self) -> Format {
        match (self.format, self.expanded) {
            (Format::Table, Expanded::On) => Format::Expanded,
            (Format::Table, Expanded::Auto) => Format::AutoExpanded,
            (format, _) => format,
        }
    }

    /// `\procs name`: a procedure's parameters, after its signature, endpoint and example.
    fn describe_procedure(&self, name: &str) -> Result<(SchemaRef, RecordBatch), Error> {
        let procedure = self.engine.procedure(name)?;
        if self.format.laid_out() {
            println!("{}", procedure.signature());
            println!("{}", procedure.description);
            println!("Endpoint: {}", procedure.endpoint());
            println!("Example: {}", procedure.example);
        }
        let params = &procedure.params;
        string_batch(vec![
            (
                "parameter",
                params.iter().map(|p| p.name.to_string()).collect(),
            ),
            (
                "type",
                params.iter().map(|p| p.ty.sql_name().to_string()).collect(),
            ),
            (
                "required",
                params
                    .iter()
                    .map(|p| {
                        if p.required {
                            "yes".to_string()
                        } else {
                            format!("no (default {})", p.default_sql())
                        }
                    })
                    .collect(),
            ),
            (
                "description",
                params
                    .iter()
                    .map(|p| {
                        if p.allowed.is_empty() {
                            p.doc.to_string()
                        } else {
                            format!("{} One of: {}.", p.doc, p.allowed.join(", "))
                        }
                    })
                    .collect(),
            ),
        ])
    }
}

/// `\procs`: every procedure with its signature and description.
fn procedures_batch(engine: &Engine) -> Result<(SchemaRef, RecordBatch), Error> {
    let procedures = engine.procedures();
    string_batch(vec![
        (
            "signature",
            procedures.iter().map(|p| p.signature()).collect(),
        ),
        (
            "description",
            procedures
                .iter()
                .map(|p| p.description.to_string())
                .collect(),
        ),
    ])
}

/// `\dt`: every Intercom table with its description.
fn tables_batch(engine: &Engine) -> Result<(SchemaRef, RecordBatch), Error> {
    let tables = engine.tables();
    string_batch(vec![
        ("table", tables.iter().map(|t| t.name.clone()).collect()),
        (
            "description",
            tables.iter().map(|t| t.description.clone()).collect(),
        ),
    ])
}

/// A batch of non-null text columns, for the REPL's own listings.
fn string_batch(columns: Vec<(&str, Vec<String>)>) -> Result<(SchemaRef, RecordBatch), Error> {
    let schema: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, false))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .into_iter()
        .map(|(_, values)| Arc::new(StringArray::from(values)) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| Error::from(DataFusionError::ArrowError(Box::new(e), None)))?;
    Ok((schema, batch))
}

/// The line `\timing` adds after each statement, e.g. `3 rows in 0.042 s`.
fn timing_line(rows: usize, elapsed: Duration) -> String {
    let noun = if rows == 1 { "row" } else { "rows" };
    format!("{rows} {noun} in {:.3} s", elapsed.as_secs_f64())
}

/// The rustyline editor plus its history file.
///
/// `readline` blocks, so each call runs on tokio's blocking pool: the editor moves there and
/// back, and the runtime's workers stay free (this works on any runtime flavour).
struct LineReader {
    /// Always `Some` except while a read is in flight on the blocking pool.
    editor: Option<Editor<ReplHelper, FileHistory>>,
    history_path: Option<PathBuf>,
    warned_about_history: bool,
}

impl LineReader {
    fn new(helper: ReplHelper, history_path: Option<PathBuf>) -> Result<Self, Error> {
        let config = Config::builder()
            .max_history_size(HISTORY_SIZE)
            .map_err(readline_error)?
            .history_ignore_space(true)
            .auto_add_history(false)
            .completion_type(CompletionType::List)
            .build();
        let mut editor = Editor::with_config(config).map_err(readline_error)?;
        editor.set_helper(Some(helper));
        let history_path =
            history_path.and_then(|path| match prepare_history(&mut editor, &path) {
                Ok(()) => Some(path),
                Err(error) => {
                    eprintln!(
                        "Warning: history disabled, cannot use {}: {error}",
                        path.display()
                    );
                    None
                }
            });
        Ok(Self {
            editor: Some(editor),
            history_path,
            warned_about_history: false,
        })
    }

    /// Reads one complete input. The outer error is a failure to run the read at all; the
    /// inner one is rustyline's answer (Ctrl-C, Ctrl-D, terminal trouble).
    async fn read(&mut self, prompt: &str) -> Result<Result<String, ReadlineError>, Error> {
        let Some(mut editor) = self.editor.take() else {
            return Err(internal("the line editor is already reading"));
        };
        let prompt = prompt.to_string();
        let (editor, line) = tokio::task::spawn_blocking(move || {
            let line = editor.readline(&prompt);
            (editor, line)
        })
        .await
        .map_err(|error| internal(&format!("the line editor stopped: {error}")))?;
        self.editor = Some(editor);
        Ok(line)
    }

    /// Adds an input to the history and appends it to the history file right away, so a
    /// crash or a kill loses nothing. A failure to write is reported once, as a warning.
    fn remember(&mut self, line: &str) {
        let Some(editor) = self.editor.as_mut() else {
            return;
        };
        if editor.add_history_entry(line).is_err() {
            return;
        }
        self.save();
    }

    fn save(&mut self) {
        let (Some(editor), Some(path)) = (self.editor.as_mut(), self.history_path.as_ref()) else {
            return;
        };
        if let Err(error) = editor.append_history(path)
            && !self.warned_about_history
        {
            self.warned_about_history = true;
            eprintln!(
                "Warning: cannot save history to {}: {error}",
                path.display()
            );
        }
    }
}

/// Creates the history file's directory and loads earlier history if there is any.
fn prepare_history(
    editor: &mut Editor<ReplHelper, FileHistory>,
    path: &Path,
) -> Result<(), ReadlineError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    if path.exists() {
        editor.load_history(path)?;
    }
    Ok(())
}

fn readline_error(error: ReadlineError) -> Error {
    let source = match error {
        ReadlineError::Io(source) => source,
        other => io::Error::other(other.to_string()),
    };
    Error::Io {
        context: "terminal input".to_string(),
        source,
    }
}

/// A bug of ours, worded as the style guide asks.
fn internal(what: &str) -> Error {
    Error::Config(format!("internal error: {what}; please report it"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_line_names_rows_and_seconds() {
        assert_eq!(
            timing_line(1, Duration::from_millis(42)),
            "1 row in 0.042 s"
        );
        assert_eq!(timing_line(0, Duration::from_secs(2)), "0 rows in 2.000 s");
    }

    #[test]
    fn string_batch_builds_listings() {
        let (schema, batch) = string_batch(vec![
            ("a", vec!["x".into(), "y".into()]),
            ("b", vec!["1".into(), "2".into()]),
        ])
        .unwrap();
        assert_eq!(schema.fields().len(), 2);
        assert_eq!(batch.num_rows(), 2);
        let text = crate::print::format_batches(schema, &[batch], Format::Csv).unwrap();
        assert_eq!(text, "a,b\nx,1\ny,2\n");
    }

    #[test]
    fn default_history_lives_in_the_data_dir() {
        if let Some(path) = default_history_path() {
            assert!(path.ends_with("intercom-sql/history"));
        }
    }
}
