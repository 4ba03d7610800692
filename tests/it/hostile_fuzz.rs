//! A seeded fuzzer against `serve`: generated SQL over the simple query protocol, and generated
//! frontend frames over raw sockets, both at once against one in-process server over the
//! emulator. Whatever arrives, the server must answer with a result or an error carrying a
//! five-character SQLSTATE, never `XX000` (what a panic becomes), never hang, and go on serving
//! new connections (checked every [`ALIVE_EVERY`] cases and at the end).
//!
//! - SQL: queries over the Intercom tables (joins, WHERE, GROUP BY, windows, set operations,
//!   CTEs, subqueries, casts, function calls with odd and huge arguments), chains of every
//!   shape up to and past the statement limits, token soup, valid statements cut and spliced,
//!   SET/SHOW, CALL, DML, cursors, PREPARE, EXPLAIN, catalog queries. Client and server are both
//!   read-only, so nothing is written (DML and procedures are refused, which is checked too).
//! - Frames: every frontend message type with random fields, driver-like Parse/Bind/Execute
//!   sequences, pipelines, mutated messages (cut, extended, flipped, lying lengths, wrong type
//!   bytes, NULs, text that is not UTF-8), garbage, and mutated startup packets. Each case is
//!   followed by Sync, ROLLBACK and a marker query that must be answered, unless the server
//!   ended the connection with a FATAL 08P01/54000.
//!
//! The fuzzers found bugs in the server and its dependencies; the `FUZZ_*` constants below
//! describe each one and keep the generators clear of it (flip one to fuzz it again), and
//! [`ALLOWED_INTERNAL_ERRORS`] lists the DataFusion internal errors accepted on absurd input.
//!
//! A few thousand inputs run by default. More, or other ones, on demand:
//!
//! ```text
//! INTERCOM_SQL_FUZZ_CASES=x10 INTERCOM_SQL_FUZZ_SEED=12345 \
//!     cargo test --test it hostile_fuzz -- --nocapture
//! ```
//!
//! `INTERCOM_SQL_FUZZ_CASES` is `xN` or `Nx` (the default counts times N), `N` (N inputs for
//! each fuzzer) or `S,F` (S statements, F frame cases); `INTERCOM_SQL_FUZZ_SEED` is a number,
//! decimal or `0x` hex. Both are printed at the start, and a failure names its case, its input
//! and the variables that replay it (inputs are generated from the seed alone, whatever the
//! server answers).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use fastrand::Rng;
use intercom_sql::emulator::EmulatorConfig;
use intercom_sql::server::{self, RunningServer, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::common::frames::{cstr, frame, startup};
use crate::common::{TestEnv, start_with};

/// The seed when `INTERCOM_SQL_FUZZ_SEED` is not set.
const DEFAULT_SEED: u64 = 0x1A7E_2C0F_F22D;
/// Statements the SQL fuzzer runs by default.
const DEFAULT_SQL_CASES: usize = 2_000;
/// Cases the frame fuzzer sends by default.
const DEFAULT_FRAME_CASES: usize = 3_000;
/// How long one statement may take before it is cancelled (and counted).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the server may stay silent while a frame case waits for an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A fresh connection must answer `SELECT 1` after this many cases.
const ALIVE_EVERY: usize = 100;
/// Statements that may time out (then be cancelled), in percent of all.
const MAX_TIMEOUT_PERCENT: usize = 2;
/// Characters of a failing input shown in the assertion message.
const SHOWN_CHARS: usize = 300;

// ---- known bugs ----
//
// Bugs this fuzzer found, one constant each. `false` is the passing configuration: the
// generators stay clear of the inputs that trigger the bug (and where other inputs can still
// reach it, its exact error is counted as that known bug, not a failure). Set one to `true` to
// fuzz that bug again, once fixed.

/// Statements whose cost doubles (or worse) with each level of nesting, from about 20 levels
/// (a few hundred bytes of SQL keep a query thread busy for hours): nested function calls,
/// `ROW(`, `CASE (` and `CAST(CASE (` cost sqlparser's PostgreSQL dialect that much to parse
/// (no cancel is read meanwhile), and so does `ARRAY[` nested past the parser's recursion limit
/// (47 levels or more, however many: never refused); nested scalar, `IN` and `EXISTS` subqueries
/// cost DataFusion's planner that much (a cancel answers the client, the planning goes on).
/// `false` keeps these chains [`SHALLOW_NESTING`] deep or less, or deep enough to be refused
/// (54001).
const FUZZ_EXPONENTIAL_NESTING: bool = false;

/// Statements within the limits whose cost grows with the square or the cube of their size:
/// `SELECT 1, 2, …` (10,000 columns: 5 s in a debug build; the node limit allows 100,000),
/// `WITH w0 AS (…), w1 AS (… FROM w0), …` (2,000: 9 s), a chain of joins (400: 24 s). `false`
/// keeps them to [`SMALL_LISTS`] items.
const FUZZ_SUPERLINEAR_LISTS: bool = false;

/// How many columns, CTEs or joins the chains of [`FUZZ_SUPERLINEAR_LISTS`] have while it is
/// `false` (at most).
const SMALL_LISTS: usize = 100;

/// Results the wire encoder (arrow-pg) cannot send fail with `ERROR XX000`: types it has no
/// PostgreSQL type for, such as nested arrays (`ARRAY[ARRAY[1]]`), maps, `json_get`'s union,
/// Decimal256 and Float16 (`Unsupported … Datatype …`), and timestamps whose time zone does not
/// parse (`SELECT from_unixtime(1, 'x')`, or `now()` after `SET datafusion.execution.time_zone =
/// 'x'`: `Parser error: Invalid timezone …`). `false` leaves the producers of such types out of
/// the generators, and counts that error as this known bug (not a failure) when other inputs
/// reach it anyway.
const FUZZ_UNSUPPORTED_RESULT_TYPES: bool = false;

/// Errors DataFusion wraps as `External` come back as `ERROR XX000 External error: …`: an
/// invalid regular expression after `~`, `~*`, `!~` or in `regexp_like`/`regexp_replace`
/// (`SELECT 'a' ~ '['`: `regex parse error`; PostgreSQL says 2201B, the other regex functions
/// give 22000). (A value that does not parse for a `datafusion.*` setting was the other case;
/// it is 22023 now.) `false` keeps the generated regular expressions valid, and counts that
/// error as this known bug when other inputs (random text) reach it.
const FUZZ_EXTERNAL_ERRORS: bool = false;

/// Fixed for the simple protocol, on as a regression check: the RowDescription now comes from
/// the physical plan. Before: a CASE or UNION whose first branch is an integer or a float and a
/// later one `numeric` (`SELECT 1 UNION SELECT 2::numeric`) failed with "ERROR XX000 cannot convert between the Rust
/// type `rust_decimal::decimal::Decimal` and the Postgres type `int8`": the RowDescription comes
/// from the unoptimized plan's schema, the rows from the optimized plan. `false` generates no
/// `numeric`/`decimal` casts, and counts that error as this known bug when other inputs reach
/// it anyway.
const FUZZ_NUMERIC_IN_LATER_BRANCHES: bool = true;

/// `DECLARE … CURSOR FOR` and `FETCH` go through datafusion-postgres' cursor hook, which
/// reports every planning or execution error as `ERROR XX000` (`DECLARE c CURSOR FOR SELECT 1
/// LIMIT -1`), and which skips the server's policy: `DECLARE c CURSOR FOR INSERT …; FETCH ALL
/// FROM c` writes through a server whose only guard is `ServerOptions::read_only` (here the
/// client's read-only setting stops it, as XX000). `false` declares cursors over valid queries
/// only, and counts XX000 from statements that declare or fetch as this known bug.
const FUZZ_CURSOR_ERRORS: bool = false;

/// Fixed, on as a regression check: sessions run with top-k aggregation off, and it cannot be
/// set over the wire. Before: `GROUP BY` or `DISTINCT` with `ORDER BY` and a `LIMIT` of `n` ran DataFusion's top-k
/// aggregation, which allocates room for `n` groups up front: `SELECT DISTINCT x FROM (VALUES
/// (1)) t(x) ORDER BY x LIMIT 100000000` aborts the whole process ("memory allocation of
/// 32000000000 bytes failed": no error, no panic to catch), and a LIMIT from 2^62 on panics
/// ("attempt to multiply with overflow", in a debug build). `false` generates no LIMIT or
/// OFFSET past 1000 (a mutation may still make one).
const FUZZ_HUGE_TOP_K_LIMITS: bool = true;

/// Fixed, on as a regression check: our capped `lpad`/`rpad` refuse a negative length with an
/// error. Before: `lpad`/`rpad` with a negative length panicked ("capacity overflow") when their arguments are
/// columns or the fill is NULL: `SELECT lpad('x', -1, NULL)`, `SELECT rpad(s, -5) FROM (VALUES
/// ('a')) t(s)` (DataFusion's `lpad_impl` sizes its buffer from the lengths; the query is
/// answered `XX000 … the query panicked`). `false` gives them lengths of 0 or more.
const FUZZ_NEGATIVE_PAD_LENGTHS: bool = true;

/// `PREPARE name AS <query>` evaluates constant calls before their arguments are coerced to the
/// types the function takes, and panics where a SELECT of the same query runs: `PREPARE p AS
/// SELECT make_date(2020, 1, 1)` ("primitive array"), `PREPARE q AS SELECT ascii('2') << 1`
/// (`Option::unwrap()` on `None`), answered `XX000 … the query panicked` (the library does the
/// same). `false` prepares a few fixed statements only.
const FUZZ_PREPARED_QUERIES: bool = false;

/// `to_char(<timestamp>, <format column>)` panics on an empty batch: `SELECT to_char(now(), a.s)
/// FROM (VALUES ('YYYY', 1.0)) a(s, m) WHERE 59 IN (SELECT n FROM (VALUES (1)) b(n) WHERE 3.1 <>
/// a.m)` ("Trying to access an element at index 0 from a StringArray of length 0"; answered
/// `XX000 … the query panicked`). `false` gives `to_char` literal formats.
const FUZZ_TO_CHAR_FORMAT_COLUMNS: bool = false;

/// Parameters whose decoding panics, which ends the connection with `FATAL XX000 internal
/// error`: a binary `interval` shorter than 16 bytes (pg_interval's `FromSql` reads past the
/// value), and an integer parameter (declared `int2`/`int4`/`int8`) where the statement wants a
/// timestamp, past ±9.2e9 (arrow-pg multiplies it to nanoseconds unchecked: a panic in a debug
/// build, a wrong timestamp in a release build): `Parse("SELECT $1::timestamp", [int8])`, `Bind`
/// text `9223372036854775807`. `false` sends no `interval` parameters and declares no integer
/// types for statements that take a timestamp.
const FUZZ_PARAMETER_DECODING_PANICS: bool = false;

/// The OID of `interval` (see [`FUZZ_PARAMETER_DECODING_PANICS`]).
const INTERVAL_OID: u32 = 1186;

/// The OIDs of `int2`, `int4` and `int8` (see [`FUZZ_PARAMETER_DECODING_PANICS`]).
const INTEGER_OIDS: &[u32] = &[20, 21, 23];

/// DataFusion plans some ordinary queries whose physical schema disagrees with the logical one
/// on nullability, and refuses them with `ERROR XX000 Internal error: Physical input schema
/// should be the same as the one converted from logical input schema`: `SELECT DISTINCT (a <=
/// b) IS TRUE FROM (VALUES ('a', NULL)) t(a, b) OFFSET 1`. The generators cannot tell such
/// queries apart; `false` counts that error as this known bug.
const FUZZ_SCHEMA_MISMATCH: bool = false;

/// How deep the chains of [`FUZZ_EXPONENTIAL_NESTING`] go while it is `false`.
const SHALLOW_NESTING: usize = 10;

/// `ERROR XX000` messages accepted from the fuzzers: internal errors DataFusion raises on absurd
/// input, each by the start of its message, a phrase it must also contain, and why. A panic
/// (`… the query panicked …`) never is, and no FATAL is.
const ALLOWED_INTERNAL_ERRORS: &[(&str, &str, &str)] = &[
    (
        "Internal error: array_resize: failed to convert size to usize.",
        "array_resize",
        "array_resize(make_array(1, 2), -1000000000): no check for a negative size",
    ),
    (
        "Internal error: Function '",
        "' failed to match any signature",
        "a LEFT JOIN b ON regexp_like(1, 'x'): a type error raised as internal in a join condition",
    ),
    (
        "Internal error: Failed to coerce types ",
        " in BETWEEN expression",
        "54 BETWEEN 64 AND CAST(0.5 AS bool): a type error raised as internal",
    ),
];

/// SQLSTATEs of a FATAL error once logged in: a malformed frame, a frame past the size limit.
const FATAL_CODES: &[&str] = &["08P01", "54000"];
/// SQLSTATEs of a FATAL error answering a startup packet: also an unsupported protocol version
/// and a missing user name.
const STARTUP_FATAL_CODES: &[&str] = &["08P01", "54000", "0A000", "28000"];

// ---- the plan: seed and counts ----

#[derive(Clone, Copy, Debug)]
struct Plan {
    seed: u64,
    sql_cases: usize,
    frame_cases: usize,
}

impl Plan {
    fn from_env() -> Self {
        let seed = match std::env::var("INTERCOM_SQL_FUZZ_SEED") {
            Ok(text) => parse_seed(&text)
                .unwrap_or_else(|| panic!("INTERCOM_SQL_FUZZ_SEED={text}: not a number")),
            Err(_) => DEFAULT_SEED,
        };
        let (sql_cases, frame_cases) = match std::env::var("INTERCOM_SQL_FUZZ_CASES") {
            Ok(text) => parse_cases(&text).unwrap_or_else(|| {
                panic!("INTERCOM_SQL_FUZZ_CASES={text}: expected xN, Nx, N or S,F")
            }),
            Err(_) => (DEFAULT_SQL_CASES, DEFAULT_FRAME_CASES),
        };
        Self {
            seed,
            sql_cases,
            frame_cases,
        }
    }

    /// The environment that replays this run.
    fn replay(&self) -> String {
        format!(
            "INTERCOM_SQL_FUZZ_SEED={:#x} INTERCOM_SQL_FUZZ_CASES={},{}",
            self.seed, self.sql_cases, self.frame_cases
        )
    }
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn parse_cases(text: &str) -> Option<(usize, usize)> {
    let text = text.trim();
    if let Some(times) = text.strip_prefix('x').or_else(|| text.strip_suffix('x')) {
        let times: usize = times.trim().parse().ok()?;
        return Some((DEFAULT_SQL_CASES * times, DEFAULT_FRAME_CASES * times));
    }
    if let Some((sql, frames)) = text.split_once(',') {
        return Some((sql.trim().parse().ok()?, frames.trim().parse().ok()?));
    }
    let n = text.parse().ok()?;
    Some((n, n))
}

/// At most [`SHOWN_CHARS`] characters of `input`, and its length.
fn shown(input: &str) -> String {
    let mut out: String = input.chars().take(SHOWN_CHARS).collect();
    if out.len() < input.len() {
        out.push('…');
    }
    format!("{out:?} ({} bytes)", input.len())
}

/// At most [`SHOWN_CHARS`] bytes of `bytes`, escaped.
fn shown_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for b in bytes.iter().take(SHOWN_CHARS) {
        match b {
            b' '..=b'~' if *b != b'\\' => out.push(char::from(*b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    if bytes.len() > SHOWN_CHARS {
        out.push('…');
    }
    format!("b\"{out}\" ({} bytes)", bytes.len())
}

// ---- the server ----

struct Served {
    _env: TestEnv,
    server: RunningServer,
}

/// A small read-only workspace behind a read-only server, with a small memory budget.
async fn serve() -> Served {
    let env = start_with(
        EmulatorConfig {
            contacts: 30,
            companies: 10,
            conversations: 10,
            tickets: 5,
            ..EmulatorConfig::default()
        },
        |config| {
            config.read_only = true;
            config.limits.max_query_memory = 64 << 20;
            config.limits.max_memory = 256 << 20;
        },
    )
    .await;
    let mut options = ServerOptions::new("127.0.0.1:0");
    options.read_only = true;
    let server = server::start(env.engine.session_factory(), options)
        .await
        .expect("server starts");
    Served { _env: env, server }
}

impl Served {
    async fn connect(&self) -> Result<Client, String> {
        let addr = self.server.local_addr();
        let url = format!(
            "host={} port={} user=fuzz dbname=intercom",
            addr.ip(),
            addr.port()
        );
        match tokio::time::timeout(READ_TIMEOUT, tokio_postgres::connect(&url, NoTls)).await {
            Ok(Ok((client, connection))) => {
                tokio::spawn(connection);
                Ok(client)
            }
            Ok(Err(e)) => Err(format!("cannot connect: {e}")),
            Err(_) => Err(format!("cannot connect within {READ_TIMEOUT:?}")),
        }
    }

    /// A fresh connection answers `SELECT 1`.
    async fn assert_alive(&self, after: &str, plan: &Plan) {
        let client = self
            .connect()
            .await
            .unwrap_or_else(|e| panic!("after {after}: {e}; replay: {}", plan.replay()));
        let answer = tokio::time::timeout(READ_TIMEOUT, client.simple_query("SELECT 1")).await;
        let value = match answer {
            Ok(Ok(messages)) => first_value(&messages),
            Ok(Err(e)) => panic!(
                "after {after}: SELECT 1 failed: {e}; replay: {}",
                plan.replay()
            ),
            Err(_) => panic!(
                "after {after}: SELECT 1 took over {READ_TIMEOUT:?}; replay: {}",
                plan.replay()
            ),
        };
        assert_eq!(
            value.as_deref(),
            Some("1"),
            "after {after}; replay: {}",
            plan.replay()
        );
    }
}

fn first_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    })
}

// ---- the test ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_fuzz_of_sql_and_frames_gets_sqlstates_and_never_hangs_or_panics() {
    let plan = Plan::from_env();
    eprintln!(
        "hostile_fuzz: seed {:#x}, {} SQL statements, {} frame cases (replay: {})",
        plan.seed,
        plan.sql_cases,
        plan.frame_cases,
        plan.replay()
    );
    let served = serve().await;
    let started = Instant::now();
    // Both at once, against the same server: their inputs depend on the seed alone.
    let (sql, frames) = tokio::join!(fuzz_sql(&served, &plan), fuzz_frames(&served, &plan));
    served.assert_alive("both fuzzers", &plan).await;
    eprintln!(
        "{sql}{frames}hostile_fuzz: done in {:.1?}",
        started.elapsed()
    );
}

// ---- the SQL fuzzer ----

/// One generated statement (or script).
struct SqlCase {
    kind: &'static str,
    sql: String,
    /// Settings may have changed: the next case gets a new connection.
    reconnect: bool,
}

#[track_caller]
fn sql_failure(plan: &Plan, n: usize, case: &SqlCase, why: &str) -> ! {
    panic!(
        "SQL case {n} ({}): {why}\ninput: {}{}\nreplay: {}",
        case.kind,
        shown(&case.sql),
        saved(&format!("sql-{n}.sql"), case.sql.as_bytes()),
        plan.replay()
    )
}

/// Writes a failing input whole to the temporary directory: where, for the failure message.
fn saved(name: &str, input: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("hostile_fuzz-{}-{name}", std::process::id()));
    match std::fs::write(&path, input) {
        Ok(()) => format!("\nwhole input: {}", path.display()),
        Err(_) => String::new(),
    }
}

/// What an error must be: a server error, not FATAL, with a well-formed SQLSTATE other than
/// XX000 (but for [`ALLOWED_INTERNAL_ERRORS`]). The SQLSTATE, or why it is a failure.
fn judge_sql_error(sql: &str, error: &tokio_postgres::Error) -> Result<String, String> {
    let Some(db) = error.as_db_error() else {
        return Err(format!("not a server error: {error}"));
    };
    let code = db.code().code();
    if code.len() != 5
        || !code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(format!("malformed SQLSTATE {code:?}: {}", db.message()));
    }
    if db.severity() != "ERROR" {
        return Err(format!("{} {code}: {}", db.severity(), db.message()));
    }
    if code == "XX000" {
        let message = db.message();
        if message.contains("panicked") {
            return Err(format!("XX000: {message}"));
        }
        if let Some(bug) = known_bug(message) {
            return Ok(format!("XX000 ({bug})"));
        }
        let upper = sql.to_uppercase();
        if !FUZZ_CURSOR_ERRORS && (upper.contains("DECLARE") || upper.contains("FETCH")) {
            return Ok("XX000 (known bug: cursor)".to_string());
        }
        let allowed = ALLOWED_INTERNAL_ERRORS
            .iter()
            .any(|(prefix, phrase, _)| message.starts_with(prefix) && message.contains(phrase));
        if !allowed {
            return Err(format!("XX000: {message}"));
        }
        eprintln!("hostile_fuzz: allowed XX000: {message}");
    }
    Ok(code.to_string())
}

/// The known bug an `XX000` message is, while its flag is off (see
/// [`FUZZ_UNSUPPORTED_RESULT_TYPES`], [`FUZZ_EXTERNAL_ERRORS`],
/// [`FUZZ_NUMERIC_IN_LATER_BRANCHES`], [`FUZZ_SCHEMA_MISMATCH`]).
fn known_bug(message: &str) -> Option<&'static str> {
    let unsupported = message.starts_with("Unsupported Datatype ")
        || message.starts_with("Unsupported List Datatype ")
        || message.starts_with("Parser error: Invalid timezone ");
    if unsupported && !FUZZ_UNSUPPORTED_RESULT_TYPES {
        return Some("known bug: unsupported result type");
    }
    if message.starts_with("External error: ") && !FUZZ_EXTERNAL_ERRORS {
        return Some("known bug: external error");
    }
    if message.starts_with("Internal error: Physical input schema should be the same as the one")
        && !FUZZ_SCHEMA_MISMATCH
    {
        return Some("known bug: schema mismatch");
    }
    if message.starts_with("cannot convert between the Rust type ")
        && !FUZZ_NUMERIC_IN_LATER_BRANCHES
    {
        return Some("known bug: rows unlike the RowDescription");
    }
    None
}

/// A new connection after case `n`.
async fn reconnect(served: &Served, plan: &Plan, n: usize, case: &SqlCase) -> Client {
    match served.connect().await {
        Ok(client) => client,
        Err(e) => sql_failure(plan, n, case, &format!("no new connection after it: {e}")),
    }
}

async fn fuzz_sql(served: &Served, plan: &Plan) -> String {
    let mut generator = SqlGen::new(plan.seed);
    let mut client = served.connect().await.expect("connects");
    let mut kinds: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut timeouts = Vec::new();
    let mut slowest: Vec<(Duration, usize, String)> = Vec::new();
    let started = Instant::now();
    for n in 0..plan.sql_cases {
        let case = generator.case();
        let began = Instant::now();
        let answer = tokio::time::timeout(STATEMENT_TIMEOUT, client.simple_query(&case.sql)).await;
        let took = began.elapsed();
        slowest.push((took, n, format!("{} {}", case.kind, shown(&case.sql))));
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        slowest.truncate(5);
        let tally = kinds.entry(case.kind).or_default();
        match answer {
            Ok(Ok(_)) => tally.0 += 1,
            Ok(Err(e)) => {
                tally.1 += 1;
                match judge_sql_error(&case.sql, &e) {
                    Ok(code) => {
                        // A transaction a case began has failed: the next case starts afresh.
                        if code == "25P01" {
                            client = reconnect(served, plan, n, &case).await;
                        }
                        *codes.entry(code).or_default() += 1;
                    }
                    Err(why) => sql_failure(plan, n, &case, &why),
                }
            }
            Err(_) => {
                eprintln!(
                    "hostile_fuzz: SQL case {n} ({}) timed out after {STATEMENT_TIMEOUT:?}: {}",
                    case.kind,
                    shown(&case.sql)
                );
                timeouts.push(n);
                // Cancelled, the connection must come back.
                let _ = client.cancel_token().cancel_query(NoTls).await;
                let after =
                    tokio::time::timeout(STATEMENT_TIMEOUT, client.simple_query("SELECT 1")).await;
                if !matches!(after, Ok(Ok(_))) {
                    sql_failure(
                        plan,
                        n,
                        &case,
                        "timed out, and the connection did not answer SELECT 1 after a cancel",
                    );
                }
                client = reconnect(served, plan, n, &case).await;
            }
        }
        if case.reconnect {
            client = reconnect(served, plan, n, &case).await;
        }
        if (n + 1) % ALIVE_EVERY == 0 {
            served.assert_alive(&format!("SQL case {n}"), plan).await;
        }
    }
    served.assert_alive("the last SQL case", plan).await;
    assert!(
        timeouts.len() * 100 <= plan.sql_cases * MAX_TIMEOUT_PERCENT,
        "{} of {} statements timed out (cases {timeouts:?}); replay: {}",
        timeouts.len(),
        plan.sql_cases,
        plan.replay()
    );
    let mut summary = format!(
        "hostile_fuzz: {} SQL statements in {:.1?}, {} timed out\n",
        plan.sql_cases,
        started.elapsed(),
        timeouts.len()
    );
    for (kind, (ok, failed)) in &kinds {
        let _ = writeln!(summary, "  {kind:>9}: {ok} ran, {failed} refused");
    }
    let _ = writeln!(summary, "  SQLSTATEs: {codes:?}");
    for (took, n, sql) in &slowest {
        let _ = writeln!(summary, "  slow: case {n} took {took:.1?}: {sql}");
    }
    summary
}

// ---- the SQL generator ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Text,
    Int,
    Float,
    Bool,
    Time,
}

use Ty::{Bool, Float, Int, Text, Time};

const TYPES: [Ty; 5] = [Text, Int, Float, Bool, Time];

/// A table and the columns the generator uses (quoted where needed).
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Ty)],
}

const TABLES: &[Table] = &[
    Table {
        name: "contacts",
        columns: &[
            ("id", Text),
            ("email", Text),
            ("name", Text),
            ("role", Text),
            ("owner_id", Int),
            ("has_hard_bounced", Bool),
            ("created_at", Time),
            ("last_seen_at", Time),
            ("location_country", Text),
            ("\"custom_attributes.seats\"", Int),
            ("\"custom_attributes.mrr\"", Float),
            ("tags", Text),
        ],
    },
    Table {
        name: "companies",
        columns: &[
            ("id", Text),
            ("company_id", Text),
            ("name", Text),
            ("size", Int),
            ("monthly_spend", Float),
            ("session_count", Int),
            ("industry", Text),
            ("created_at", Time),
            ("\"custom_attributes.enterprise\"", Bool),
        ],
    },
    Table {
        name: "conversations",
        columns: &[
            ("id", Text),
            ("title", Text),
            ("state", Text),
            ("open", Bool),
            ("read", Bool),
            ("priority", Text),
            ("created_at", Time),
            ("admin_assignee_id", Int),
            ("source_type", Text),
        ],
    },
    Table {
        name: "conversation_parts",
        columns: &[
            ("conversation_id", Text),
            ("id", Text),
            ("part_type", Text),
            ("body", Text),
            ("created_at", Time),
            ("author_type", Text),
            ("redacted", Bool),
        ],
    },
    Table {
        name: "tags",
        columns: &[("id", Text), ("name", Text)],
    },
    Table {
        name: "contact_tags",
        columns: &[
            ("contact_id", Text),
            ("tag_id", Text),
            ("tag_name", Text),
            ("applied_at", Time),
        ],
    },
    Table {
        name: "contact_companies",
        columns: &[
            ("contact_id", Text),
            ("company_id", Text),
            ("name", Text),
            ("size", Int),
        ],
    },
    Table {
        name: "admins",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("email", Text),
            ("away_mode_enabled", Bool),
            ("job_title", Text),
        ],
    },
    Table {
        name: "teams",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("assignment_limit", Int),
            ("distribution_method", Text),
        ],
    },
    Table {
        name: "tickets",
        columns: &[
            ("id", Text),
            ("ticket_id", Text),
            ("title", Text),
            ("open", Bool),
            ("created_at", Time),
            ("category", Text),
            ("ticket_state_category", Text),
        ],
    },
    Table {
        name: "segments",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("count", Int),
            ("person_type", Text),
        ],
    },
    Table {
        name: "notes",
        columns: &[
            ("contact_id", Text),
            ("id", Text),
            ("body", Text),
            ("admin_id", Text),
            ("created_at", Time),
        ],
    },
    Table {
        name: "data_attributes",
        columns: &[
            ("id", Text),
            ("model", Text),
            ("name", Text),
            ("data_type", Text),
            ("custom", Bool),
        ],
    },
    Table {
        name: "ticket_types",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("category", Text),
            ("archived", Bool),
        ],
    },
];

/// Columns in reach of an expression: qualified name and type.
type Scope = Vec<(String, Ty)>;

const TEXTS: &[&str] = &[
    "",
    "a",
    "abc",
    "O'Brien",
    "é",
    "∑x",
    "😀",
    "user1@example.com",
    "%",
    "\\",
    "NULL",
    " ",
    "contacts",
    "1",
    "-1",
    "2024-01-01",
    "2024-13-45",
    "{\"a\":1}",
    "[1,2]",
    "user",
    "lead",
    "true",
    "YYYY-MM-DD HH24:MI",
    "0x1F",
    "a,b,c",
    "\t\n",
    "pg_catalog.pg_class",
    "datafusion.execution.batch_size",
];

const INTS: &[&str] = &[
    "0",
    "2147483647",
    "-2147483648",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775807",
    "3000000000",
    "1000000000000000",
    "65536",
    "255",
];

const FLOATS: &[&str] = &[
    "0.0",
    "0.5",
    "-1.5",
    "3.14159",
    "1e308",
    "-1e308",
    "1e-308",
    "1.0e10",
    "'NaN'::double precision",
    "'Infinity'::float8",
    "'-Infinity'::float8",
    "2.5e-3",
];

const TIMES: &[&str] = &[
    "TIMESTAMP '2024-01-01 00:00:00'",
    "TIMESTAMP '1970-01-01 00:00:00'",
    "now()",
    "to_timestamp(0)",
    "'2020-02-29T12:00:00Z'::timestamptz",
    "current_timestamp",
    "DATE '2024-02-29'::timestamp",
];

/// LIKE patterns.
/// Timestamps DataFusion's nanosecond timestamps cannot hold.
const EXTREME_TIMES: &[&str] = &[
    "TIMESTAMP '9999-12-31 23:59:59'",
    "TIMESTAMP '0001-01-01 00:00:00'",
];

const PATTERNS: &[&str] = &[
    "'%'",
    "'a%'",
    "'%@%'",
    "'_'",
    "'\\'",
    "'['",
    "'('",
    "'.*'",
    "''",
    "'%é%'",
    "'%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b'",
    "'\\%'",
];

/// Regular expressions.
const REGEXES: &[&str] = &[
    "'.*'",
    "'(a+)+$'",
    "'^[a-z]+$'",
    "'\\d+'",
    "'(?i)abc'",
    "'a{1000}'",
    "''",
    "'%'",
    "'é|😀'",
    "'^$'",
    "'[[:alpha:]]+'",
];

/// Regular expressions that do not compile (see [`FUZZ_EXTERNAL_ERRORS`]).
const INVALID_REGEXES: &[&str] = &["'['", "'('", "'(((('", "'[z-a]'", "'*'", "'\\'", "'(?z)'"];

const UNITS: &[&str] = &[
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "week",
    "quarter",
    "epoch",
    "dow",
    "doy",
    "millennium",
    "nanosecond",
    "nosuchunit",
    "",
];

const JSONS: &[&str] = &[
    "{\"a\": 1, \"b\": [1, 2, {\"c\": null}]}",
    "[]",
    "null",
    "{",
    "\"x\"",
    "{\"a\": {\"a\": {\"a\": 1}}}",
    "[1, 2, 3]",
    "{\"a\": 1e999}",
    "{\"é\": \"😀\"}",
    "{\"a\": \"\\ud800\"}",
];

/// Cast targets, right and wrong.
const CAST_TYPES: &[&str] = &[
    "int",
    "integer",
    "smallint",
    "bigint",
    "int2",
    "int4",
    "int8",
    "real",
    "float4",
    "float8",
    "double precision",
    "numeric",
    "decimal(10,2)",
    "decimal(38,0)",
    "decimal(76,10)",
    "text",
    "varchar",
    "varchar(3)",
    "char(2)",
    "boolean",
    "bool",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "timestamp with time zone",
    "interval",
    "bytea",
    "json",
    "jsonb",
    "uuid",
    "regclass",
    "regtype",
    "regproc",
    "oid",
    "int[]",
    "text[]",
    "name",
    "money",
    "xml",
    "point",
    "nosuchtype",
];

/// Cast targets whose results the wire encoder cannot send (see
/// [`FUZZ_UNSUPPORTED_RESULT_TYPES`]).
const UNSUPPORTED_RESULT_CASTS: &[&str] = &["decimal(76,10)"];

/// Cast targets of type `numeric` (see [`FUZZ_NUMERIC_IN_LATER_BRANCHES`]).
const NUMERIC_CASTS: &[&str] = &[
    "numeric",
    "decimal(10,2)",
    "decimal(38,0)",
    "decimal(76,10)",
];

/// Functions whose results the wire encoder cannot send (see [`FUZZ_UNSUPPORTED_RESULT_TYPES`]).
const UNSUPPORTED_RESULT_FUNCTIONS: &[&str] = &["json_get", "map"];

/// Functions that panic on a negative length (see [`FUZZ_NEGATIVE_PAD_LENGTHS`]).
const PAD_FUNCTIONS: &[&str] = &["lpad", "rpad"];

/// Functions by result type; holes: {T} text, {I} integer, {F} float, {B} boolean, {D}
/// timestamp, {X} any type, {N} a small (sometimes huge) count, {S} a size from tiny to absurd,
/// {P} a LIKE pattern, {R} a regular expression, {U} a date unit, {J} JSON text, {W} a window,
/// {Z} a pad length and {L} a pad length from tiny to absurd (negative ones only with
/// [`FUZZ_NEGATIVE_PAD_LENGTHS`]), {O} a `to_char` format (see
/// [`FUZZ_TO_CHAR_FORMAT_COLUMNS`]).
const INT_FUNCTIONS: &[&str] = &[
    "length({T})",
    "char_length({T})",
    "octet_length({T})",
    "bit_length({T})",
    "strpos({T}, {T})",
    "ascii({T})",
    "abs({I})",
    "{I} + {I}",
    "{I} - {I}",
    "{I} * {I}",
    "{I} / {I}",
    "{I} % {I}",
    "-({I})",
    "greatest({I}, {I})",
    "least({I}, {I}, {I})",
    "gcd({I}, {I})",
    "lcm({I}, {I})",
    "factorial({N})",
    "cardinality(range({N}, {N}))",
    "array_length(make_array({I}, {I}), 1)",
    "date_part('{U}', {D})::bigint",
    "extract(year FROM {D})::bigint",
    "{I} << {N}",
    "{I} & {I}",
    "floor({F})::bigint",
    "round({F})::bigint",
    "({F})::bigint",
    "({T})::bigint",
    "levenshtein({T}, {T})",
    "find_in_set({T}, {T})",
    "array_position(make_array({I}, {I}), {I})",
    "nvl({I}, {I})",
    "json_length({J})",
    "json_get_int({J}, {T})",
];

const FLOAT_FUNCTIONS: &[&str] = &[
    "{F} + {F}",
    "{F} * {F}",
    "{F} / {F}",
    "sqrt({F})",
    "ln({F})",
    "log10({F})",
    "log({F}, {F})",
    "exp({F})",
    "power({F}, {F})",
    "pi()",
    "round({F}, {N})",
    "trunc({F}, {N})",
    "sin({F})",
    "atan2({F}, {F})",
    "degrees({F})",
    "cbrt({F})",
    "({I})::double precision",
    "{I} / 3.0",
    "random()",
    "({T})::float8",
    "nanvl({F}, {F})",
    "cot({F})",
    "signum({F})",
];

const TEXT_FUNCTIONS: &[&str] = &[
    "{T} || {T}",
    "upper({T})",
    "lower({T})",
    "initcap({T})",
    "reverse({T})",
    "trim({T})",
    "btrim({T}, {T})",
    "ltrim({T})",
    "substr({T}, {I}, {I})",
    "substring({T} FROM {I} FOR {I})",
    "left({T}, {I})",
    "right({T}, {I})",
    "concat({T}, {I}, {F})",
    "concat_ws({T}, {T}, {T})",
    "repeat({T}, {N})",
    "lpad({T}, {Z}, {T})",
    "rpad({T}, {Z})",
    "replace({T}, {T}, {T})",
    "regexp_replace({T}, {R}, {T}, 'g')",
    "split_part({T}, {T}, {I})",
    "md5({T})",
    "to_hex({I})",
    "chr({I})",
    "translate({T}, {T}, {T})",
    "({I})::text",
    "({F})::text",
    "({D})::text",
    "to_char({D}, {O})",
    "array_to_string(range(0, {N}), {T})",
    "version()",
    "current_user",
    "current_schema()",
    "current_database()",
    "json_get_str({J}, {T})",
    "uuid()",
    "encode(({T})::bytea, 'hex')",
    "overlay({T} placing {T} from {I})",
    "arrow_typeof({X})",
    "pg_get_userbyid({I})",
    "format_type({I}, {I})",
    "substr_index({T}, {T}, {I})",
    "(regexp_match({T}, {R}))::text",
    "(string_to_array({T}, {T}))::text",
];

const BOOL_FUNCTIONS: &[&str] = &[
    "{T} LIKE {P}",
    "{T} ILIKE {P}",
    "{T} NOT LIKE {P}",
    "{T} ~ {R}",
    "{T} ~* {R}",
    "{T} !~ {R}",
    "starts_with({T}, {T})",
    "ends_with({T}, {T})",
    "regexp_like({T}, {R})",
    "{I} BETWEEN {I} AND {I}",
    "{T} IS NULL",
    "{I} IS NOT NULL",
    "({B}) IS TRUE",
    "{B} IS DISTINCT FROM {B}",
    "NOT ({B})",
    "({B}) AND ({B})",
    "({B}) OR ({B})",
    "{I} IN ({I}, {I}, {I})",
    "{T} IN ({T}, {T})",
    "{T} NOT IN ({T}, {T})",
    "isnan({F})",
    "{D} < now()",
    "array_has(make_array({I}, {I}), {I})",
    "has_table_privilege({T}, 'SELECT')",
    "json_contains({J}, {T})",
];

const TIME_FUNCTIONS: &[&str] = &[
    "date_trunc('{U}', {D})",
    "{D} + INTERVAL '{N} days'",
    "{D} - INTERVAL '{N} hours'",
    "to_timestamp({I})",
    "to_timestamp({T})",
    "to_timestamp_seconds({I})",
    "now()",
    "date_bin(INTERVAL '{N} minutes', {D}, TIMESTAMP '2000-01-01')",
    "({T})::timestamp",
    "make_date({I}, {N}, {N})::timestamp",
    "from_unixtime({I})",
    "coalesce({D}, now())",
];

const INT_AGGREGATES: &[&str] = &[
    "count(*)",
    "count({X})",
    "count(DISTINCT {X})",
    "sum({I})",
    "min({I})",
    "max({I})",
    "approx_distinct({X})",
];
const FLOAT_AGGREGATES: &[&str] = &[
    "avg({I})",
    "avg({F})",
    "sum({F})",
    "stddev({F})",
    "median({F})",
    "var_pop({I})",
    "corr({F}, {F})",
    "approx_percentile_cont({F}, 0.5)",
];
const TEXT_AGGREGATES: &[&str] = &["min({T})", "max({T})", "string_agg({T}, {T})"];
const BOOL_AGGREGATES: &[&str] = &["bool_and({B})", "bool_or({B})", "count(*) > {N}"];
const TIME_AGGREGATES: &[&str] = &["min({D})", "max({D})"];

const INT_WINDOWS: &[&str] = &[
    "row_number() OVER ({W})",
    "rank() OVER ({W})",
    "dense_rank() OVER ({W})",
    "ntile({N}) OVER ({W})",
    "count(*) OVER ({W})",
    "sum({I}) OVER ({W})",
    "lag({I}, {N}) OVER ({W})",
    "lead({I}, {N}, {I}) OVER ({W})",
];
const FLOAT_WINDOWS: &[&str] = &[
    "percent_rank() OVER ({W})",
    "cume_dist() OVER ({W})",
    "avg({F}) OVER ({W})",
];
const TEXT_WINDOWS: &[&str] = &[
    "first_value({T}) OVER ({W})",
    "last_value({T}) OVER ({W})",
    "nth_value({T}, {N}) OVER ({W})",
    "lag({T}) OVER ({W})",
];
const BOOL_WINDOWS: &[&str] = &["bool_or({B}) OVER ({W})"];
const TIME_WINDOWS: &[&str] = &["max({D}) OVER ({W})", "lag({D}) OVER ({W})"];

const WINDOW_SPECS: &[&str] = &[
    "",
    "ORDER BY {X}",
    "PARTITION BY {X} ORDER BY {X} DESC",
    "ORDER BY {X} ROWS BETWEEN {N} PRECEDING AND CURRENT ROW",
    "ORDER BY {I} RANGE BETWEEN {N} PRECEDING AND {N} FOLLOWING",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
];

/// One call whose result size follows a number of the query's choosing, and how to keep the
/// answer short: 0 as is, 1 `length(…)`, 2 `cardinality(…)`.
const SIZED_CALLS: &[(u8, &str)] = &[
    (1, "repeat({T}, {S})"),
    (1, "repeat('ab', {S})"),
    (1, "lpad({T}, {L})"),
    (1, "lpad('x', {L}, {T})"),
    (1, "rpad({T}, {L}, 'é')"),
    (2, "range({S})"),
    (2, "range({S}, {S})"),
    (2, "range({S}, {S}, {S})"),
    (2, "generate_series({S}, {S})"),
    (2, "array_repeat({X}, {S})"),
    (2, "array_resize(make_array(1, 2), {S})"),
    (2, "array_resize(make_array(1), {S}, {I})"),
    (1, "replace(repeat('ab', {N}), 'a', repeat('x', {S}))"),
    (
        1,
        "regexp_replace(repeat('a', {N}), 'a', repeat('b', {S}), 'g')",
    ),
    (1, "substr({T}, {S}, {S})"),
    (1, "left({T}, {S})"),
    (1, "split_part({T}, ',', {S})"),
    (0, "to_timestamp({S})"),
    (0, "chr({S})"),
    (0, "factorial({S})"),
    (0, "power(2, {S})"),
    (0, "({S})::int"),
    (0, "({S})::smallint"),
    (0, "{S} * {S}"),
    (0, "abs({S})"),
    (0, "-({S})"),
    (0, "make_date({S}, {S}, {S})"),
    (
        0,
        "date_bin(INTERVAL '{S} seconds', now(), TIMESTAMP '2000-01-01')",
    ),
    (1, "to_char(now(), repeat('YYYY', {N}))"),
    (2, "array_slice(range({N}), {S}, {S})"),
    (0, "array_element(range({N}), {S})"),
    (2, "string_to_array(repeat('a,', {N}), ',')"),
    (0, "round(1.5, {S})"),
    (0, "trunc(1.5, {S})"),
    (1, "overlay('abc' placing 'x' from {S} for {S})"),
    (0, "to_hex({S})"),
    (0, "gcd({S}, {S})"),
    (0, "lcm({S}, {S})"),
    (0, "{S} % 0"),
    (0, "{S} / 0"),
    (0, "log({S}, {S})"),
    (0, "({S})::numeric / 7"),
];

/// Table functions, always under a small LIMIT.
const TABLE_FUNCTIONS: &[&str] = &[
    "generate_series({S}, {S})",
    "generate_series({S}, {S}, {S})",
    "range({S})",
    "range({S}, {S}, {S})",
    "unnest(range({S}))",
    "unnest(make_array({X}, {X}))",
    "generate_series(TIMESTAMP '2000-01-01', TIMESTAMP '2001-01-01', INTERVAL '{S} seconds')",
];

/// Function names called with whatever arguments.
const ANY_FUNCTIONS: &[&str] = &[
    "abs",
    "acos",
    "array_append",
    "array_concat",
    "array_distinct",
    "array_has",
    "array_join",
    "array_length",
    "array_remove",
    "array_reverse",
    "array_slice",
    "array_sort",
    "arrow_cast",
    "arrow_typeof",
    "ascii",
    "btrim",
    "cardinality",
    "ceil",
    "chr",
    "coalesce",
    "concat",
    "concat_ws",
    "current_date",
    "date_bin",
    "date_part",
    "date_trunc",
    "decode",
    "digest",
    "encode",
    "ends_with",
    "exp",
    "factorial",
    "flatten",
    "from_unixtime",
    "get_field",
    "greatest",
    "initcap",
    "json_get",
    "json_get_str",
    "json_as_text",
    "json_length",
    "left",
    "levenshtein",
    "lpad",
    "make_array",
    "make_date",
    "map",
    "md5",
    "named_struct",
    "nullif",
    "nvl2",
    "overlay",
    "pg_get_userbyid",
    "format_type",
    "pg_typeof",
    "power",
    "range",
    "regexp_count",
    "regexp_like",
    "regexp_replace",
    "repeat",
    "replace",
    "round",
    "rpad",
    "sha512",
    "split_part",
    "sqrt",
    "string_to_array",
    "struct",
    "substr",
    "to_char",
    "to_date",
    "to_timestamp",
    "to_timestamp_micros",
    "translate",
    "unnest",
    "upper",
    "version",
    "current_setting",
    "set_config",
    "has_table_privilege",
    "obj_description",
    "col_description",
    "pg_get_expr",
    "pg_backend_pid",
    "pg_get_constraintdef",
    "array_agg",
    "count",
    "sum",
    "nosuch_function",
    "ArchiveContact",
    "archive_contact",
];

/// The procedures, as `procedures` lists them.
const PROCEDURES: &[&str] = &[
    "ArchiveContact",
    "UnarchiveContact",
    "TagContact",
    "UntagContact",
    "CreateContactNote",
    "AdminReplyToConversation",
    "AssignConversation",
    "CloseConversation",
    "SnoozeConversation",
    "SetAdminAway",
    "MergeContacts",
    "CreateTicket",
    "UpdateTicket",
    "DeleteConversation",
    "SubmitEvent",
    "CreateDataAttribute",
    "intercom_api",
];

const SNAKE_PROCEDURES: &[&str] = &[
    "archive_contact",
    "tag_contact",
    "create_ticket",
    "set_admin_away",
    "intercom_api",
    "reply_to_ticket",
    "merge_contacts",
    "nosuch_procedure",
];

const ARGUMENT_NAMES: &[&str] = &[
    "contact_id",
    "id",
    "body",
    "admin_id",
    "method",
    "path",
    "message_type",
    "x",
    "\"Odd Name\"",
];

const SETTING_NAMES: &[&str] = &[
    "search_path",
    "statement_timeout",
    "application_name",
    "DateStyle",
    "TimeZone",
    "client_encoding",
    "extra_float_digits",
    "standard_conforming_strings",
    "intervalstyle",
    "bytea_output",
    "transaction_isolation",
    "datafusion.execution.batch_size",
    "datafusion.execution.target_partitions",
    "datafusion.execution.time_zone",
    "datafusion.explain.format",
    "datafusion.optimizer.max_passes",
    "datafusion.optimizer.skip_failed_rules",
    "datafusion.optimizer.prefer_hash_join",
    "datafusion.sql_parser.dialect",
    "datafusion.sql_parser.enable_ident_normalization",
    "datafusion.runtime.memory_limit",
    "datafusion.execution.sort_spill_reservation_bytes",
    "datafusion.sql_parser.recursion_limit",
    "datafusion.catalog.default_catalog",
    "datafusion.nosuch",
    "datafusion",
    "intercom.page_size",
    "intercom.nosuch",
    "\"a b\"",
    "a.b.c.d",
    "ALL",
];

const SETTING_VALUES: &[&str] = &[
    "1",
    "0",
    "-1",
    "9223372036854775807",
    "99999999999999999999",
    "'100G'",
    "'UTC'",
    "'Europe/Paris'",
    "'nowhere'",
    "true",
    "off",
    "DEFAULT",
    "'postgres'",
    "'mysql'",
    "'tree'",
    "'ISO, MDY'",
    "'utf8'",
    "'LATIN1'",
    "public",
    "'a', 'b'",
    "1.5",
    "''",
];

const SETTING_FORMS: &[&str] = &[
    "SET {n} = {v}",
    "SET {n} TO {v}",
    "SET SESSION {n} = {v}",
    "SET LOCAL {n} = {v}",
    "SHOW {n}",
    "RESET {n}",
    "RESET ALL",
    "SET TIME ZONE {v}",
    "SHOW ALL",
    "SET",
    "SHOW",
    "SET {n}",
    "SET {n} =",
];

const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "JOIN",
    "ON",
    "UNION",
    "ALL",
    "WITH",
    "AS",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "AND",
    "OR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "EXISTS",
    "BETWEEN",
    "LIKE",
    "CAST",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "CALL",
    "SHOW",
    "EXPLAIN",
    "ANALYZE",
    "CREATE",
    "TABLE",
    "VIEW",
    "DROP",
    "COPY",
    "TO",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "OVER",
    "PARTITION",
    "WINDOW",
    "LATERAL",
    "UNNEST",
    "ARRAY",
    "INTERVAL",
    "TIMESTAMP",
    "DATE",
    "DISTINCT",
    "HAVING",
    "RECURSIVE",
    "contacts",
    "companies",
    "tags",
    "conversations",
    "id",
    "email",
    "name",
    "*",
    ",",
    "(",
    ")",
    "((",
    "))",
    "[",
    "]",
    ".",
    ";",
    "::",
    ":",
    "=",
    "<>",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "/",
    "%",
    "||",
    "->",
    "->>",
    "#>",
    "@>",
    "~",
    "!~",
    "^",
    "&",
    "|",
    "$1",
    "$0",
    "$99999999999",
    "?",
    "@",
    "'a'",
    "''",
    "'unterminated",
    "\"ident\"",
    "\"",
    "E'\\x'",
    "$$dollar$$",
    "$$",
    "0",
    "1",
    "-1",
    "1e999",
    "9223372036854775808",
    "0x1F",
    "1.5",
    ".5",
    "5.",
    "--comment\n",
    "/*",
    "*/",
    "\n",
    "\t",
    "é",
    "∑",
    "😀",
    "regclass",
    "repeat",
    "range",
    "lpad",
    "generate_series",
    "count",
    "now",
    "abs",
    "regexp_replace",
    "'x'::regclass",
    "true",
    "false",
];

/// Characters a byte-level mutation puts in (never NUL: the client cannot send it).
const ODD_CHARS: &[char] = &[
    '(', ')', '\'', '"', ',', ';', ' ', '0', '9', 'é', '😀', '\\', '$', ':', '[', ']', '-', '*',
    '/', '\n', '\t', 'a', 'Z', '_', '.', '\u{301}', '\u{200B}', '\u{FEFF}', '∑', '中',
];

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.usize(..items.len())]
}

fn chance(rng: &mut Rng, percent: u32) -> bool {
    rng.u32(..100) < percent
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn join_n(term: &str, separator: &str, n: usize) -> String {
    vec![term; n].join(separator)
}

fn join_map(n: usize, separator: &str, term: impl Fn(usize) -> String) -> String {
    (0..n).map(term).collect::<Vec<_>>().join(separator)
}

struct SqlGen {
    rng: Rng,
}

impl SqlGen {
    fn new(seed: u64) -> Self {
        Self {
            rng: Rng::with_seed(seed),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        pick(&mut self.rng, items)
    }

    fn chance(&mut self, percent: u32) -> bool {
        chance(&mut self.rng, percent)
    }

    fn any_ty(&mut self) -> Ty {
        self.pick(&TYPES)
    }

    fn case(&mut self) -> SqlCase {
        let (kind, sql, reconnect) = match self.rng.u32(..100) {
            0..=27 => ("query", self.query(3), false),
            28..=35 => ("function", self.function_call(), false),
            36..=45 => ("chain", self.chain(), false),
            46..=52 => ("soup", self.soup(), false),
            53..=65 => ("mutated", self.mutated(), false),
            66..=71 => ("setting", self.setting(), true),
            72..=77 => ("call", self.call(), false),
            78..=83 => ("dml", self.dml(), false),
            84..=95 => ("misc", self.misc(), false),
            _ => ("script", self.script(), true),
        };
        SqlCase {
            kind,
            sql,
            reconnect,
        }
    }

    // -- values --

    fn literal(&mut self, ty: Ty) -> String {
        if self.chance(4) {
            return "NULL".into();
        }
        match ty {
            Int if self.chance(70) => self.rng.i64(-5..100).to_string(),
            Int => self.pick(INTS).into(),
            Float if self.chance(30) => format!("{:.3}", self.rng.f64() * 1000.0 - 500.0),
            Float => self.pick(FLOATS).into(),
            Text => self.text_literal(),
            Bool => self
                .pick(&["true", "false", "NULL::boolean", "'t'::boolean"])
                .into(),
            Time if self.chance(10) => self.pick(EXTREME_TIMES).into(),
            Time => self.pick(TIMES).into(),
        }
    }

    fn text_literal(&mut self) -> String {
        let text = match self.rng.u32(..10) {
            0..=5 => self.pick(TEXTS).to_string(),
            6 => "x".repeat(self.rng.usize(1..300)),
            7 => (0..self.rng.usize(1..12))
                .map(|_| self.pick(ODD_CHARS))
                .collect(),
            8 => format!("user{}@example.com", self.rng.u32(..40)),
            _ => self.pick(JSONS).to_string(),
        };
        quote(&text)
    }

    /// A count: mostly small, sometimes negative or huge.
    fn small(&mut self) -> String {
        match self.rng.u32(..100) {
            0..=89 => self.rng.i64(0..20).to_string(),
            90..=97 => self.pick(&["-1", "100", "1000"]).into(),
            _ => self
                .pick(&["2147483647", "3000000000", "9223372036854775807"])
                .into(),
        }
    }

    /// A size from nothing to absurd.
    fn size(&mut self) -> String {
        self.pick(&[
            "0",
            "1",
            "10",
            "1000",
            "1000000",
            "10000000",
            "100000000",
            "2147483647",
            "3000000000",
            "1000000000000",
            "9223372036854775807",
            "-1",
            "-1000000000",
            "-9223372036854775807",
        ])
        .into()
    }

    fn json(&mut self) -> String {
        quote(self.pick(JSONS))
    }

    // -- expressions --

    /// Fills the holes of `template` (see [`INT_FUNCTIONS`]).
    fn fill(&mut self, template: &str, scope: &Scope, depth: u32) -> String {
        let mut out = String::new();
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            if c != '{' {
                out.push(c);
                continue;
            }
            let hole = chars.next().expect("a hole");
            assert_eq!(chars.next(), Some('}'), "{template}");
            let piece = match hole {
                'T' => self.expr(Text, scope, depth),
                'I' => self.expr(Int, scope, depth),
                'F' => self.expr(Float, scope, depth),
                'B' => self.pred(scope, depth),
                'D' => self.expr(Time, scope, depth),
                'X' => {
                    let ty = self.any_ty();
                    self.expr(ty, scope, depth)
                }
                'N' => self.small(),
                'S' => self.size(),
                'O' if FUZZ_TO_CHAR_FORMAT_COLUMNS => self.expr(Text, scope, depth),
                'O' => {
                    quote(self.pick(&["YYYY-MM-DD", "HH24:MI:SS", "", "Mon DD YYYY", "%Y", "x"]))
                }
                'Z' | 'L' => loop {
                    let length = if hole == 'Z' {
                        self.small()
                    } else {
                        self.size()
                    };
                    if FUZZ_NEGATIVE_PAD_LENGTHS || !length.starts_with('-') {
                        break length;
                    }
                },
                'P' => self.pick(PATTERNS).into(),
                'R' if FUZZ_EXTERNAL_ERRORS && self.chance(30) => self.pick(INVALID_REGEXES).into(),
                'R' => self.pick(REGEXES).into(),
                'U' => self.pick(UNITS).into(),
                'J' => {
                    if self.chance(70) {
                        self.json()
                    } else {
                        self.expr(Text, scope, depth)
                    }
                }
                'W' => {
                    let spec = self.pick(WINDOW_SPECS);
                    self.fill(spec, scope, 0)
                }
                other => panic!("unknown hole {other} in {template}"),
            };
            out.push_str(&piece);
        }
        out
    }

    fn leaf(&mut self, ty: Ty, scope: &Scope) -> String {
        let columns: Vec<&String> = scope
            .iter()
            .filter(|(_, t)| *t == ty)
            .map(|(name, _)| name)
            .collect();
        if !columns.is_empty() && self.chance(65) {
            return columns[self.rng.usize(..columns.len())].clone();
        }
        self.literal(ty)
    }

    fn expr(&mut self, ty: Ty, scope: &Scope, depth: u32) -> String {
        if ty == Bool && self.chance(70) {
            return self.pred(scope, depth);
        }
        if depth == 0 || self.chance(35) {
            return self.leaf(ty, scope);
        }
        let d = depth - 1;
        match self.rng.u32(..20) {
            0 => format!("({})", self.expr(ty, scope, d)),
            1 => {
                let from = self.any_ty();
                let target = self.cast_target(ty);
                format!("CAST({} AS {target})", self.expr(from, scope, d))
            }
            2 => {
                let from = self.any_ty();
                let target = self.cast_target(ty);
                format!("({})::{target}", self.expr(from, scope, d))
            }
            3 => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                self.pred(scope, d),
                self.expr(ty, scope, d),
                self.expr(ty, scope, d)
            ),
            4 => format!(
                "coalesce({}, {})",
                self.expr(ty, scope, d),
                self.expr(ty, scope, d)
            ),
            5 => format!(
                "nullif({}, {})",
                self.expr(ty, scope, d),
                self.expr(ty, scope, d)
            ),
            6 | 7 if d > 0 => self.scalar_subquery(ty, scope, d),
            _ => {
                let functions = match ty {
                    Int => INT_FUNCTIONS,
                    Float => FLOAT_FUNCTIONS,
                    Text => TEXT_FUNCTIONS,
                    Bool => BOOL_FUNCTIONS,
                    Time => TIME_FUNCTIONS,
                };
                let template = self.pick(functions);
                self.fill(template, scope, d)
            }
        }
    }

    fn cast_target(&mut self, ty: Ty) -> &'static str {
        if self.chance(15) {
            return self.any_cast_type();
        }
        match ty {
            Int => self.pick(&["bigint", "int", "integer", "int8", "smallint"]),
            Float if FUZZ_NUMERIC_IN_LATER_BRANCHES => {
                self.pick(&["double precision", "float8", "real", "numeric"])
            }
            Float => self.pick(&["double precision", "float8", "real"]),
            Text => self.pick(&["text", "varchar", "char(3)"]),
            Bool => self.pick(&["boolean", "bool"]),
            Time => self.pick(&["timestamp", "timestamptz"]),
        }
    }

    /// Any cast target (Decimal256 only with [`FUZZ_UNSUPPORTED_RESULT_TYPES`]).
    fn any_cast_type(&mut self) -> &'static str {
        loop {
            let target = self.pick(CAST_TYPES);
            let unsupported = UNSUPPORTED_RESULT_CASTS.contains(&target);
            let numeric = NUMERIC_CASTS.contains(&target);
            if (FUZZ_UNSUPPORTED_RESULT_TYPES || !unsupported)
                && (FUZZ_NUMERIC_IN_LATER_BRANCHES || !numeric)
            {
                return target;
            }
        }
    }

    fn pred(&mut self, scope: &Scope, depth: u32) -> String {
        let op = self.pick(&[
            "=",
            "<>",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "IS DISTINCT FROM",
            "IS NOT DISTINCT FROM",
        ]);
        if depth == 0 || self.chance(30) {
            let ty = self.any_ty();
            if ty == Bool {
                return self.leaf(Bool, scope);
            }
            return format!("{} {op} {}", self.leaf(ty, scope), self.leaf(ty, scope));
        }
        let d = depth - 1;
        match self.rng.u32(..12) {
            0..=2 => {
                let ty = self.pick(&[Text, Int, Float, Time]);
                format!(
                    "{} {op} {}",
                    self.expr(ty, scope, d),
                    self.expr(ty, scope, d)
                )
            }
            3 => format!("({}) AND ({})", self.pred(scope, d), self.pred(scope, d)),
            4 => format!("({}) OR ({})", self.pred(scope, d), self.pred(scope, d)),
            5 => format!("NOT ({})", self.pred(scope, d)),
            6 if d > 0 => {
                let ty = self.pick(&[Text, Int]);
                let column = self.column_subquery(ty, scope, d);
                let not = if self.chance(30) { "NOT " } else { "" };
                format!("{} {not}IN ({column})", self.expr(ty, scope, d))
            }
            7 if d > 0 => {
                let not = if self.chance(30) { "NOT " } else { "" };
                format!("{not}EXISTS ({})", self.select(d, None, scope).sql)
            }
            _ => {
                let template = self.pick(BOOL_FUNCTIONS);
                self.fill(template, scope, d)
            }
        }
    }

    /// A table with a column of `ty`, and that column.
    fn table_with(&mut self, ty: Ty) -> (&'static Table, &'static str) {
        loop {
            let table = &TABLES[self.rng.usize(..TABLES.len())];
            let columns: Vec<&str> = table
                .columns
                .iter()
                .filter(|(_, t)| *t == ty)
                .map(|(c, _)| *c)
                .collect();
            if !columns.is_empty() {
                let column = columns[self.rng.usize(..columns.len())];
                return (table, column);
            }
        }
    }

    /// A subquery of one value of `ty`, sometimes correlated with `outer`, sometimes of more
    /// than one row.
    fn scalar_subquery(&mut self, ty: Ty, outer: &Scope, depth: u32) -> String {
        let (table, column) = self.table_with(ty);
        let alias = format!("s{depth}");
        let mut scope: Scope = outer.clone();
        scope.extend(
            table
                .columns
                .iter()
                .map(|(c, t)| (format!("{alias}.{c}"), *t)),
        );
        let name = table.name;
        match self.rng.u32(..6) {
            0 => {
                let aggregate = self.pick(&["max", "min"]);
                format!("(SELECT {aggregate}({alias}.{column}) FROM {name} {alias})")
            }
            1 => format!("(SELECT {alias}.{column} FROM {name} {alias} LIMIT 1)"),
            2 => format!(
                "(SELECT {alias}.{column} FROM {name} {alias} WHERE {} LIMIT 1)",
                self.pred(&scope, depth.min(1))
            ),
            3 => format!(
                "(SELECT max({alias}.{column}) FROM {name} {alias} WHERE {})",
                self.pred(&scope, depth.min(1))
            ),
            4 => format!("(SELECT {alias}.{column} FROM {name} {alias})"),
            _ => format!(
                "(SELECT {} FROM {name} {alias} ORDER BY 1 LIMIT 1)",
                self.expr(ty, &scope, depth.min(1))
            ),
        }
    }

    /// A subquery of one column of `ty`.
    fn column_subquery(&mut self, ty: Ty, outer: &Scope, depth: u32) -> String {
        let (table, column) = self.table_with(ty);
        let alias = format!("i{depth}");
        let mut scope: Scope = outer.clone();
        scope.extend(
            table
                .columns
                .iter()
                .map(|(c, t)| (format!("{alias}.{c}"), *t)),
        );
        let name = table.name;
        if self.chance(50) {
            format!(
                "SELECT {alias}.{column} FROM {name} {alias} WHERE {}",
                self.pred(&scope, depth.min(1))
            )
        } else {
            format!("SELECT {alias}.{column} FROM {name} {alias}")
        }
    }

    // -- queries --

    /// One FROM item named `alias`; its columns join `scope`.
    fn table_expression(&mut self, alias: &str, depth: u32, scope: &mut Scope) -> String {
        match self.rng.u32(..100) {
            0..=69 => {
                let table = &TABLES[self.rng.usize(..TABLES.len())];
                scope.extend(
                    table
                        .columns
                        .iter()
                        .map(|(c, t)| (format!("{alias}.{c}"), *t)),
                );
                format!("{} {alias}", table.name)
            }
            70..=79 if depth > 0 => {
                let inner = self.select(depth - 1, None, &Scope::new());
                for (i, ty) in inner.types.iter().flatten().enumerate() {
                    scope.push((format!("{alias}.c{i}"), *ty));
                }
                let limit = if self.chance(30) {
                    format!(" LIMIT {}", self.small())
                } else {
                    String::new()
                };
                format!("({}{limit}) {alias}", inner.sql)
            }
            80..=87 => {
                scope.push((format!("{alias}.n"), Int));
                format!(
                    "generate_series({}, {}) {alias}(n)",
                    self.rng.i64(-5..5),
                    self.rng.i64(0..100)
                )
            }
            88..=94 => {
                scope.push((format!("{alias}.n"), Int));
                scope.push((format!("{alias}.s"), Text));
                scope.push((format!("{alias}.b"), Bool));
                format!(
                    "(VALUES (1, {}, true), (2, NULL, false), ({}, 'x', NULL)) {alias}(n, s, b)",
                    self.literal(Text),
                    self.literal(Int)
                )
            }
            _ => {
                scope.push((format!("{alias}.relname"), Text));
                format!("pg_catalog.pg_class {alias}")
            }
        }
    }

    fn join_condition(&mut self, left: &[(String, Ty)], right: &[(String, Ty)]) -> String {
        let pairs: Vec<(String, String)> = left
            .iter()
            .flat_map(|(l, lt)| {
                right
                    .iter()
                    .filter(move |(_, rt)| rt == lt)
                    .map(move |(r, _)| (l.clone(), r.clone()))
            })
            .collect();
        if !pairs.is_empty() && self.chance(80) {
            let (l, r) = pairs[self.rng.usize(..pairs.len())].clone();
            return format!("{l} = {r}");
        }
        let scope: Scope = left.iter().chain(right).cloned().collect();
        self.pred(&scope, 1)
    }

    /// One SELECT over `outer` (for correlation); `want` fixes its column types.
    fn select(&mut self, depth: u32, want: Option<&[Ty]>, outer: &Scope) -> Select {
        let mut scope: Scope = outer.clone();
        let mut from = String::new();
        let tables = if self.chance(8) {
            0
        } else {
            self.pick(&[1, 1, 1, 1, 1, 1, 2, 2, 2, 3])
        };
        for i in 0..tables {
            let alias = format!("t{depth}{i}");
            let before = scope.len();
            let item = self.table_expression(&alias, depth, &mut scope);
            if i == 0 {
                from = format!(" FROM {item}");
                continue;
            }
            let join = self.pick(&[
                "JOIN",
                "LEFT JOIN",
                "RIGHT JOIN",
                "FULL JOIN",
                "CROSS JOIN",
                "INNER JOIN",
                "LEFT OUTER JOIN",
            ]);
            if join == "CROSS JOIN" {
                let _ = write!(from, " CROSS JOIN {item}");
            } else {
                let (left, right) = scope.split_at(before);
                let (left, right) = (left.to_vec(), right.to_vec());
                let condition = self.join_condition(&left, &right);
                let _ = write!(from, " {join} {item} ON {condition}");
            }
        }
        let grouped = tables > 0 && want.is_none() && self.chance(22);
        let star = !grouped && want.is_none() && tables == 1 && self.chance(15);
        let width = want.map_or_else(|| self.rng.usize(1..5), <[Ty]>::len);
        let keys = if grouped { self.rng.usize(0..3) } else { 0 };
        let mut items = Vec::new();
        let mut types = Vec::new();
        let mut key_exprs = Vec::new();
        for k in 0..width {
            let ty = want.map_or_else(|| self.any_ty(), |w| w[k]);
            let item = if grouped && k >= keys {
                self.aggregate(ty, &scope)
            } else if !grouped && tables > 0 && self.chance(8) {
                self.window(ty, &scope)
            } else {
                self.expr(ty, &scope, 2)
            };
            if grouped && k < keys {
                key_exprs.push(item.clone());
            }
            items.push(format!("{item} AS c{k}"));
            types.push(ty);
        }
        let distinct = if self.chance(8) { "DISTINCT " } else { "" };
        let list = if star {
            "*".to_string()
        } else {
            items.join(", ")
        };
        let mut sql = format!("SELECT {distinct}{list}{from}");
        if self.chance(55) {
            let _ = write!(sql, " WHERE {}", self.pred(&scope, 2));
        }
        if grouped && !key_exprs.is_empty() {
            let by = if self.chance(50) {
                join_map(key_exprs.len(), ", ", |i| (i + 1).to_string())
            } else {
                key_exprs.join(", ")
            };
            let _ = write!(sql, " GROUP BY {by}");
        }
        if grouped && self.chance(30) {
            let having = self.aggregate(Bool, &scope);
            let _ = write!(sql, " HAVING {having}");
        }
        Select {
            sql,
            types: (!star).then_some(types),
            // Every table has two columns at least.
            width: if star { 2 } else { width },
            big: tables > 1,
        }
    }

    fn aggregate(&mut self, ty: Ty, scope: &Scope) -> String {
        let templates = match ty {
            Int => INT_AGGREGATES,
            Float => FLOAT_AGGREGATES,
            Text => TEXT_AGGREGATES,
            Bool => BOOL_AGGREGATES,
            Time => TIME_AGGREGATES,
        };
        let template = self.pick(templates);
        self.fill(template, scope, 1)
    }

    fn window(&mut self, ty: Ty, scope: &Scope) -> String {
        let templates = match ty {
            Int => INT_WINDOWS,
            Float => FLOAT_WINDOWS,
            Text => TEXT_WINDOWS,
            Bool => BOOL_WINDOWS,
            Time => TIME_WINDOWS,
        };
        let template = self.pick(templates);
        self.fill(template, scope, 1)
    }

    /// A whole query: a SELECT, a set operation or a CTE, with ORDER BY and LIMIT.
    fn query(&mut self, depth: u32) -> String {
        let none = Scope::new();
        let (mut sql, width, big) = match self.rng.u32(..100) {
            0..=69 => {
                let s = self.select(depth, None, &none);
                (s.sql, s.width, s.big)
            }
            70..=82 => {
                let types: Vec<Ty> = (0..self.rng.usize(1..4)).map(|_| self.any_ty()).collect();
                let mut other = types.clone();
                if self.chance(10) {
                    other.push(Int);
                }
                let a = self.select(depth.saturating_sub(1), Some(&types), &none);
                let b = self.select(depth.saturating_sub(1), Some(&other), &none);
                let op = self.pick(&[
                    "UNION",
                    "UNION ALL",
                    "INTERSECT",
                    "EXCEPT",
                    "INTERSECT ALL",
                    "EXCEPT ALL",
                ]);
                let sql = if self.chance(50) {
                    format!("({}) {op} ({})", a.sql, b.sql)
                } else {
                    format!("{} {op} {}", a.sql, b.sql)
                };
                (sql, types.len(), a.big || b.big)
            }
            83..=92 => {
                let types: Vec<Ty> = (0..self.rng.usize(1..4)).map(|_| self.any_ty()).collect();
                let inner = self.select(depth.saturating_sub(1), Some(&types), &none);
                let scope: Scope = types
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (format!("w.c{i}"), *t))
                    .collect();
                let width = self.rng.usize(1..4);
                let mut list = Vec::new();
                for _ in 0..width {
                    let ty = self.any_ty();
                    list.push(self.expr(ty, &scope, 2));
                }
                let mut sql = format!(
                    "WITH w AS ({}) SELECT {} FROM w",
                    inner.sql,
                    list.join(", ")
                );
                if self.chance(50) {
                    let _ = write!(sql, " WHERE {}", self.pred(&scope, 2));
                }
                (sql, width, inner.big)
            }
            _ => {
                let bound = self.pick(&[0, 1, 10, 100, 1000, 5000]);
                (
                    format!(
                        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {bound}) SELECT count(*), max(n) FROM r"
                    ),
                    2,
                    false,
                )
            }
        };
        if self.chance(40) {
            let mut terms = Vec::new();
            for _ in 0..self.rng.usize(1..3) {
                // Sometimes one past the last column.
                let position = if self.chance(95) {
                    self.rng.usize(1..=width)
                } else {
                    width + 1
                };
                let direction =
                    self.pick(&["", " ASC", " DESC", " DESC NULLS LAST", " NULLS FIRST"]);
                terms.push(format!("{position}{direction}"));
            }
            let _ = write!(sql, " ORDER BY {}", terms.join(", "));
        }
        if big || self.chance(35) {
            let limit = if big {
                self.rng.u32(0..200).to_string()
            } else if FUZZ_HUGE_TOP_K_LIMITS && self.chance(20) {
                self.pick(&["100000000", "2147483647", "9223372036854775807"])
                    .to_string()
            } else {
                self.pick(&["0", "1", "5", "10", "100", "1000", "-1", "ALL", "NULL"])
                    .to_string()
            };
            let _ = write!(sql, " LIMIT {limit}");
        }
        if self.chance(10) {
            let offset = if FUZZ_HUGE_TOP_K_LIMITS && self.chance(20) {
                "9223372036854775807"
            } else {
                self.pick(&["0", "1", "3", "1000", "-1"])
            };
            let _ = write!(sql, " OFFSET {offset}");
        }
        sql
    }

    // -- the other kinds of case --

    /// A function call with sizes from tiny to absurd, a call with random arguments, or a
    /// table function.
    fn function_call(&mut self) -> String {
        let none = Scope::new();
        match self.rng.u32(..4) {
            0 | 1 => {
                let (wrap, template) = self.pick(SIZED_CALLS);
                let call = self.fill(template, &none, 1);
                match wrap {
                    1 if self.chance(80) => format!("SELECT length({call})"),
                    2 if self.chance(80) => format!("SELECT cardinality({call})"),
                    _ => format!("SELECT {call}"),
                }
            }
            2 => {
                let name = loop {
                    let name = self.pick(ANY_FUNCTIONS);
                    let unsupported = UNSUPPORTED_RESULT_FUNCTIONS.contains(&name);
                    let pad = PAD_FUNCTIONS.contains(&name);
                    if (FUZZ_UNSUPPORTED_RESULT_TYPES || !unsupported)
                        && (FUZZ_NEGATIVE_PAD_LENGTHS || !pad)
                    {
                        break name;
                    }
                };
                let mut list = Vec::new();
                for _ in 0..self.rng.usize(0..5) {
                    let argument = match self.rng.u32(..4) {
                        0 => self.size(),
                        1 => quote(self.pick(SETTING_NAMES)),
                        _ => {
                            let ty = self.any_ty();
                            self.expr(ty, &none, 1)
                        }
                    };
                    list.push(argument);
                }
                format!("SELECT {name}({})", list.join(", "))
            }
            _ => {
                let template = self.pick(TABLE_FUNCTIONS);
                let function = self.fill(template, &none, 1);
                let limit = self.pick(&[0, 1, 3, 100, 1000]);
                format!("SELECT * FROM {function} LIMIT {limit}")
            }
        }
    }

    /// How long a chain is: around the parser's recursion limit (50), around the depth limit
    /// (1,000), and past the node (100,000) and text (1 MiB) limits.
    fn chain_len(&mut self) -> usize {
        match self.rng.u32(..100) {
            0..=39 => self.rng.usize(1..70),
            40..=69 => self.rng.usize(70..1_200),
            70..=89 => self.rng.usize(1_200..20_000),
            _ => self.rng.usize(20_000..300_000),
        }
    }

    /// `n`, unless [`FUZZ_EXPONENTIAL_NESTING`] is off and `n` levels of a shape that is
    /// shallow below `safe` and refused from `refused` on would take too long: then a shallow
    /// depth.
    fn nesting(&self, n: usize, safe: usize, refused: Option<usize>) -> usize {
        if FUZZ_EXPONENTIAL_NESTING || n <= safe || refused.is_some_and(|r| n >= r) {
            n
        } else {
            1 + n % safe
        }
    }

    fn chain(&mut self) -> String {
        let n = self.chain_len();
        // Function calls are refused from 50 levels on, subqueries from 25 (54001).
        let calls = self.nesting(n, SHALLOW_NESTING, Some(60));
        let subqueries = self.nesting(n, SHALLOW_NESTING, Some(30));
        let lists = if FUZZ_SUPERLINEAR_LISTS {
            n
        } else {
            n.min(SMALL_LISTS)
        };
        match self.rng.u32(..29) {
            0 => format!("SELECT {}", join_n("1", " + ", n)),
            1 => format!("SELECT {}", join_n("'a'", " || ", n)),
            2 => format!(
                "SELECT count(*) FROM contacts WHERE {}",
                join_map(n, " OR ", |i| format!("email = 'user{i}@example.com'"))
            ),
            3 => format!(
                "SELECT count(*) FROM tags WHERE {}",
                join_map(n, " AND ", |i| format!("id <> '{i}'"))
            ),
            4 => join_map(n, " UNION ", |i| format!("SELECT {i}")),
            5 => join_map(n, " UNION ALL ", |i| format!("SELECT {i} AS x")),
            6 => format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n)),
            7 => format!(
                "SELECT {}1{}",
                "(SELECT ".repeat(subqueries),
                ")".repeat(subqueries)
            ),
            8 => format!(
                "SELECT * FROM {}(SELECT 1 AS x) t{}",
                "(SELECT * FROM ".repeat(n),
                ") t".repeat(n)
            ),
            9 => format!("SELECT {}1{}", "abs(".repeat(calls), ")".repeat(calls)),
            10 => format!("SELECT {}'a'{}", "upper(".repeat(calls), ")".repeat(calls)),
            11 => format!("SELECT {}true", "NOT ".repeat(n)),
            12 => format!("SELECT {}1", "- ".repeat(n)),
            13 => format!("SELECT 1{}", "::bigint".repeat(n)),
            14 => format!(
                "SELECT {}1{}",
                "CASE WHEN true THEN ".repeat(n),
                " END".repeat(n)
            ),
            15 => format!("SELECT 1 IN ({})", join_map(n, ",", |i| i.to_string())),
            16 => format!("SELECT {}", join_map(lists, ", ", |i| i.to_string())),
            17 => {
                let n = self.nesting(n, SHALLOW_NESTING, None);
                if FUZZ_UNSUPPORTED_RESULT_TYPES {
                    format!("SELECT {}1{}", "ARRAY[".repeat(n), "]".repeat(n))
                } else {
                    format!(
                        "SELECT cardinality({}1{})",
                        "ARRAY[".repeat(n),
                        "]".repeat(n)
                    )
                }
            }
            18 => format!(
                "WITH w0 AS (SELECT 1 AS x){} SELECT x FROM w{}",
                (1..lists)
                    .map(|i| format!(", w{i} AS (SELECT x + 1 AS x FROM w{})", i - 1))
                    .collect::<String>(),
                lists.saturating_sub(1)
            ),
            19 => format!(
                "SELECT {}({}, 'a')",
                if FUZZ_UNSUPPORTED_RESULT_TYPES {
                    "json_get"
                } else {
                    "json_get_str"
                },
                quote(&format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n)))
            ),
            20 => format!("SELECT length('{}')", "x".repeat(n * 8)),
            21 => format!(
                "SELECT count(*) FROM (VALUES (1)) t0(x){}",
                (1..lists)
                    .map(|i| format!(" JOIN (VALUES (1)) t{i}(x) ON t{}.x = t{i}.x", i - 1))
                    .collect::<String>()
            ),
            22 => format!("SELECT coalesce({}, 1)", join_n("NULL", ", ", n)),
            23 => format!("SELECT 1 WHERE {}true{}", "(".repeat(n), ")".repeat(n)),
            24 => format!(
                "SELECT 1 WHERE 1 IN {}(SELECT 1){}",
                "(SELECT 1 WHERE 1 IN ".repeat(subqueries),
                ")".repeat(subqueries)
            ),
            25 => format!(
                "SELECT {}1{}",
                "EXISTS(SELECT ".repeat(subqueries),
                ")".repeat(subqueries)
            ),
            26 => format!("SELECT {}1{}", "ROW(".repeat(calls), ")".repeat(calls)),
            27 => {
                let n = self.nesting(n, 4, None);
                format!("SELECT {}1{}", "CAST(CASE (".repeat(n), ")".repeat(3 * n))
            }
            _ => {
                let n = self.nesting(n, 6, None);
                format!("SELECT {}1{}", "CASE (".repeat(n), ")".repeat(n))
            }
        }
    }

    fn soup(&mut self) -> String {
        let mut out = String::new();
        for _ in 0..self.rng.usize(1..40) {
            out.push_str(self.pick(TOKENS));
            if self.chance(80) {
                out.push(' ');
            }
        }
        out
    }

    /// A valid statement, cut, spliced and sprinkled with odd characters.
    fn mutated(&mut self) -> String {
        let base = match self.rng.u32(..6) {
            0..=2 => self.query(2),
            3 => self.dml(),
            4 => self.call(),
            _ => self.misc(),
        };
        let mut chars: Vec<char> = base.chars().collect();
        for _ in 0..self.rng.usize(1..4) {
            let len = chars.len();
            let at = self.rng.usize(..=len);
            let end = (at + self.rng.usize(..20)).min(len);
            match self.rng.u32(..7) {
                0 => chars.truncate(at),
                1 => {
                    chars.drain(at..end);
                }
                2 => {
                    let copy: Vec<char> = chars[at..end].to_vec();
                    let to = self.rng.usize(..=len);
                    chars.splice(to..to, copy);
                }
                3 => {
                    let token: Vec<char> = format!(" {} ", self.pick(TOKENS)).chars().collect();
                    chars.splice(at..at, token);
                }
                4 if at < len => chars[at] = self.pick(ODD_CHARS),
                5 => chars.insert(at, self.pick(ODD_CHARS)),
                _ if len > 1 => {
                    let other = self.rng.usize(..len);
                    chars.swap(at.min(len - 1), other);
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    }

    fn setting(&mut self) -> String {
        let form = self.pick(SETTING_FORMS);
        let name = if self.chance(80) {
            self.pick(SETTING_NAMES).to_string()
        } else {
            let mut name: String = (0..self.rng.usize(1..12))
                .map(|_| self.rng.lowercase())
                .collect();
            if self.chance(50) {
                name = format!("{}.{name}", self.pick(&["datafusion", "intercom", "x"]));
            }
            name
        };
        let value = if self.chance(80) {
            self.pick(SETTING_VALUES).to_string()
        } else {
            self.text_literal()
        };
        let statement = form.replace("{n}", &name).replace("{v}", &value);
        if self.chance(30) {
            format!("{statement}; {}", self.query(2))
        } else {
            statement
        }
    }

    fn call(&mut self) -> String {
        let name = match self.rng.u32(..10) {
            0..=5 => {
                let name = self.pick(PROCEDURES);
                match self.rng.u32(..4) {
                    0 => name.to_lowercase(),
                    1 => format!("\"{name}\""),
                    2 => format!("public.{name}"),
                    _ => name.to_string(),
                }
            }
            6 | 7 => self.pick(SNAKE_PROCEDURES).to_string(),
            _ => (0..self.rng.usize(1..16))
                .map(|_| self.rng.alphanumeric())
                .collect(),
        };
        let mut arguments = Vec::new();
        for _ in 0..self.rng.usize(0..6) {
            let value = match self.rng.u32(..10) {
                0..=3 => self.text_literal(),
                4 => {
                    let ty = self.any_ty();
                    self.literal(ty)
                }
                5 => "NULL".to_string(),
                6 => quote(&"x".repeat(self.rng.usize(1..100_000))),
                7 => "(SELECT id FROM contacts LIMIT 1)".to_string(),
                8 => self.json(),
                _ => {
                    let ty = self.any_ty();
                    self.expr(ty, &Scope::new(), 2)
                }
            };
            if self.chance(20) {
                arguments.push(format!("{} => {value}", self.pick(ARGUMENT_NAMES)));
            } else {
                arguments.push(value);
            }
        }
        let arguments = arguments.join(", ");
        let snake = self.pick(SNAKE_PROCEDURES);
        match self.rng.u32(..10) {
            0..=6 => format!("CALL {name}({arguments})"),
            7 => format!("SELECT {snake}({arguments})"),
            8 => format!("SELECT * FROM {snake}({arguments})"),
            _ => format!("EXPLAIN CALL {name}({arguments})"),
        }
    }

    fn dml(&mut self) -> String {
        let contacts = &TABLES[0];
        let scope: Scope = contacts
            .columns
            .iter()
            .map(|(c, t)| ((*c).to_string(), *t))
            .collect();
        match self.rng.u32(..10) {
            0 | 1 => format!(
                "INSERT INTO contacts (email, name, role) VALUES ({}, {}, {})",
                self.text_literal(),
                self.expr(Text, &Scope::new(), 2),
                quote(self.pick(&["user", "lead", "admin", ""]))
            ),
            2 => "INSERT INTO contacts SELECT * FROM contacts LIMIT 1".to_string(),
            3 => format!("INSERT INTO tags (name) VALUES ({})", self.text_literal()),
            4 | 5 => format!(
                "UPDATE contacts SET name = {} WHERE {}",
                self.expr(Text, &scope, 2),
                self.pred(&scope, 2)
            ),
            6 => format!("UPDATE companies SET size = {}", self.literal(Int)),
            7 => format!("DELETE FROM contacts WHERE {}", self.pred(&scope, 2)),
            8 => self
                .pick(&[
                    "DELETE FROM tags",
                    "INSERT INTO nosuch VALUES (1)",
                    "UPDATE contacts SET nosuch = 1",
                    "INSERT INTO contacts (email) VALUES (1, 2)",
                    "DELETE FROM contacts RETURNING *",
                    "INSERT INTO contacts (email) VALUES ('a@b.c') ON CONFLICT DO NOTHING",
                    "MERGE INTO contacts USING tags ON true WHEN MATCHED THEN DELETE",
                    "TRUNCATE contacts",
                ])
                .to_string(),
            _ => format!(
                "INSERT INTO contacts (email, owner_id) SELECT email, {} FROM contacts WHERE {}",
                self.literal(Int),
                self.pred(&scope, 1)
            ),
        }
    }

    fn misc(&mut self) -> String {
        let none = Scope::new();
        let n = self.rng.u32(..4);
        match self.rng.u32(..16) {
            0 => format!("EXPLAIN {}", self.query(2)),
            1 => format!("EXPLAIN ANALYZE {}", self.query(1)),
            2 => format!("EXPLAIN VERBOSE {}", self.query(1)),
            3 => match self.rng.u32(..5) {
                0 => format!("PREPARE p{n} (int, text) AS SELECT $1 + 1, $2 || 'x'"),
                1 if FUZZ_PREPARED_QUERIES => format!("PREPARE p{n} AS {}", self.query(1)),
                1 => {
                    let query = self.pick(&[
                        "SELECT * FROM tags WHERE id = $1",
                        "SELECT count(*) FROM contacts",
                        "SELECT $1::text || 'x'",
                        "SELECT email FROM contacts WHERE owner_id = $1 LIMIT 3",
                    ]);
                    format!("PREPARE p{n} AS {query}")
                }
                2 => format!(
                    "EXECUTE p{n}({}, {})",
                    self.literal(Int),
                    self.text_literal()
                ),
                3 => format!("DEALLOCATE p{n}"),
                _ => "DEALLOCATE ALL".to_string(),
            },
            4 => self
                .pick(&[
                    "BEGIN",
                    "COMMIT",
                    "ROLLBACK",
                    "START TRANSACTION",
                    "BEGIN ISOLATION LEVEL SERIALIZABLE",
                    "SAVEPOINT s1",
                    "RELEASE SAVEPOINT s1",
                    "ROLLBACK TO SAVEPOINT s1",
                    "END",
                    "ABORT",
                    "COMMIT AND CHAIN",
                    "BEGIN READ ONLY",
                ])
                .to_string(),
            5 => self
                .pick(&["DISCARD ALL", "DISCARD PLANS", "DISCARD TEMP", "DISCARD"])
                .to_string(),
            6 => match self.rng.u32(..14) {
                0 => format!("CREATE TEMP VIEW v{n} AS {}", self.query(1)),
                1 => format!("CREATE VIEW v{n} AS SELECT * FROM tags"),
                2 => format!("CREATE TABLE m{n} AS VALUES (1, 'a'), (2, 'b')"),
                3 => format!("CREATE TABLE m{n} (a int, b text)"),
                4 => format!("INSERT INTO m{n} VALUES (1, 'x')"),
                5 => format!("DROP TABLE IF EXISTS m{n}"),
                6 => format!("DROP VIEW v{n}"),
                7 => "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/nonexistent/fuzz.csv'"
                    .to_string(),
                8 => format!("SELECT * FROM m{n}"),
                9 => format!("SELECT * FROM v{n}"),
                10 => "CREATE SCHEMA s".to_string(),
                11 => "CREATE INDEX i ON contacts (email)".to_string(),
                12 => "ALTER TABLE contacts ADD COLUMN x int".to_string(),
                _ => self
                    .pick(&[
                        "VACUUM",
                        "ANALYZE contacts",
                        "LISTEN x",
                        "NOTIFY x",
                        "GRANT SELECT ON contacts TO u",
                        "CREATE USER u",
                        "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql",
                        "LOCK TABLE contacts",
                    ])
                    .to_string(),
            },
            7 => self
                .pick(&[
                    "COPY contacts TO '/nonexistent/fuzz.csv'",
                    "COPY (SELECT 1) TO '/nonexistent/fuzz.csv'",
                    "COPY tags TO '/nonexistent/fuzz.parquet' STORED AS PARQUET",
                    "COPY tags FROM '/nonexistent/fuzz.csv'",
                ])
                .to_string(),
            8 => match self.rng.u32(..4) {
                0 if FUZZ_CURSOR_ERRORS => {
                    let query = if self.chance(20) {
                        self.dml()
                    } else {
                        self.query(1)
                    };
                    format!("DECLARE c{n} CURSOR FOR {query}")
                }
                0 => {
                    let query = self.pick(&[
                        "SELECT 1",
                        "SELECT * FROM tags",
                        "SELECT id, email FROM contacts ORDER BY id",
                        "SELECT * FROM generate_series(1, 10)",
                    ]);
                    format!("DECLARE c{n} CURSOR FOR {query}")
                }
                1 => format!("FETCH {} FROM c{n}", self.small()),
                2 => format!("FETCH ALL c{n}"),
                _ => format!("CLOSE c{n}"),
            },
            9 => {
                let statement = self.pick(&[
                    "SHOW TABLES",
                    "SHOW COLUMNS FROM contacts",
                    "DESCRIBE contacts",
                    "SELECT * FROM information_schema.tables",
                    "SELECT * FROM pg_catalog.pg_class LIMIT 5",
                    "SELECT * FROM pg_catalog.pg_type LIMIT 5",
                    "SELECT * FROM pg_catalog.pg_attribute WHERE attrelid = 'contacts'::regclass",
                    "SELECT * FROM procedures",
                    "SELECT * FROM procedure_parameters LIMIT 20",
                    "SELECT * FROM information_schema.columns WHERE table_name = {T}",
                    "SELECT * FROM pg_catalog.pg_namespace",
                    "SELECT * FROM pg_catalog.pg_proc LIMIT 3",
                    "SELECT * FROM pg_catalog.pg_settings",
                    "SELECT * FROM information_schema.df_settings",
                ]);
                self.fill(statement, &none, 1)
            }
            10 => {
                let statement = self.pick(&[
                    "SELECT {X}::{C}",
                    "SELECT ({T})::regclass",
                    "SELECT 'contacts'::regclass",
                    "SELECT ({I})::regclass",
                    "SELECT 'pg_catalog.pg_class'::regclass::oid",
                    "SELECT oid::regclass FROM pg_catalog.pg_class LIMIT 3",
                    "SELECT ({T})::regtype",
                    "SELECT pg_typeof({X})",
                    "SELECT CAST({X} AS {C})",
                    "SELECT ({X})::{C}::{C}",
                    "SELECT 'nope'::regclass",
                    "SELECT * FROM contacts WHERE id = ({T})::regclass::text",
                ]);
                let mut out = String::new();
                for (i, part) in statement.split("{C}").enumerate() {
                    if i > 0 {
                        out.push_str(self.any_cast_type());
                    }
                    out.push_str(part);
                }
                self.fill(&out, &none, 1)
            }
            11 => self
                .pick(&[
                    "",
                    " ",
                    ";",
                    ";;",
                    "--c",
                    "/* c */",
                    "/* unterminated",
                    "SELECT 1 -- trailing",
                    "\n",
                    "SELECT 1;;SELECT 2",
                ])
                .to_string(),
            12 => {
                let statement = self.pick(&[
                    "VALUES ({X}, {X}), ({X}, {X})",
                    "TABLE tags",
                    "SELECT * FROM (VALUES (1)) v(x) NATURAL JOIN (VALUES (1)) w(x)",
                    "VALUES ()",
                    "SELECT * FROM (VALUES (1, 2)) v(x)",
                ]);
                self.fill(statement, &none, 1)
            }
            13 => {
                let statement = self.pick(&[
                    "SELECT * FROM contacts c, LATERAL (SELECT c.id) l LIMIT 5",
                    "SELECT unnest(make_array({X}, {X}))",
                    "SELECT * FROM unnest(ARRAY[1, 2, 3]) WITH ORDINALITY",
                    "SELECT * FROM tags t, unnest(string_to_array(t.name, ' ')) u(w) LIMIT 5",
                    "SELECT {I} FROM contacts GROUP BY ROLLUP (role, location_country) LIMIT 5",
                    "SELECT role, count(*) FROM contacts GROUP BY GROUPING SETS ((role), ()) LIMIT 5",
                ]);
                self.fill(statement, &none, 1)
            }
            14 => {
                let statement = self.pick(&[
                    "SELECT pg_catalog.pg_get_userbyid({I})",
                    "SELECT current_setting({T})",
                    "SELECT set_config({T}, {T}, false)",
                    "SELECT set_config('datafusion.execution.batch_size', '1', false)",
                    "SELECT has_table_privilege({T}, {T})",
                    "SELECT pg_catalog.format_type({I}, {I})",
                    "SELECT version()",
                    "SELECT pg_backend_pid()",
                    "SELECT current_schemas(true)",
                    "SELECT pg_catalog.pg_table_is_visible({I})",
                    "SELECT obj_description({I}, {T})",
                ]);
                self.fill(statement, &none, 1)
            }
            _ => {
                let bound = self.pick(&[0, 1, 10, 100, 1000, 5000]);
                format!(
                    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {bound}) SELECT count(*) FROM r"
                )
            }
        }
    }

    /// A few statements in one Query message.
    fn script(&mut self) -> String {
        let mut statements = Vec::new();
        for _ in 0..self.rng.usize(2..5) {
            let statement = match self.rng.u32(..4) {
                0 => self.query(2),
                1 => self.misc(),
                2 => self.setting(),
                _ => self.dml(),
            };
            statements.push(statement);
        }
        statements.join("; ")
    }
}

/// A generated SELECT.
struct Select {
    sql: String,
    /// Column types; `None` for `SELECT *`.
    types: Option<Vec<Ty>>,
    width: usize,
    /// Joins several tables: the caller keeps the answer short.
    big: bool,
}

// ---- the frame fuzzer ----

/// One generated case: bytes sent in one write.
struct FrameCase {
    /// The frames' types and mutations, for the failure message.
    label: String,
    bytes: Vec<u8>,
    /// Every byte belongs to a whole message with a true length: Sync and a marker query
    /// can follow and must be answered.
    framed: bool,
    /// Every message is well formed: the connection must survive.
    sound: bool,
    /// A well-formed Terminate is among them: the server may close without a word.
    terminates: bool,
    /// Sent in place of the startup packet.
    startup: bool,
    /// SSL/GSSENC requests in front: each is answered with a single `N`.
    refusals: usize,
}

impl FrameCase {
    fn new(startup: bool) -> Self {
        Self {
            label: String::new(),
            bytes: Vec::new(),
            framed: !startup,
            sound: true,
            terminates: false,
            startup,
            refusals: 0,
        }
    }
}

/// Frame types a client sends after startup.
const FRONTEND_TAGS: &[u8] = b"QPBEDCHSXdcfp";

/// Statement texts for Query and Parse.
const FRAME_QUERIES: &[&str] = &[
    "SELECT 1",
    "SELECT $1",
    "SELECT * FROM tags",
    "SELECT count(*) FROM contacts",
    "SELECT * FROM generate_series(1, 50)",
    "SELECT repeat('x', 10000)",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SELECT 1; SELECT 2",
    "",
    " ",
    ";",
    "SHOW ALL",
    "SET application_name = 'fuzz'",
    "DECLARE c1 CURSOR FOR SELECT 1",
    "FETCH ALL c1",
    "PREPARE q1 AS SELECT $1::int",
    "EXECUTE q1(1)",
    "DEALLOCATE ALL",
    "DISCARD ALL",
    "SELECT 'é∑😀'",
    "SELECT nosuch",
    "SELEC 1",
    "SELECT 1/0",
    "COPY tags TO STDOUT",
    "COPY tags FROM STDIN",
    "INSERT INTO tags (name) VALUES ($1)",
    "CALL ArchiveContact($1)",
    "SELECT $1::regclass",
    "EXPLAIN SELECT 1",
    "SELECT boom()",
];

/// Statements with parameters for the extended protocol, and how many they take.
const PARAMETER_QUERIES: &[(&str, usize)] = &[
    ("SELECT 1", 0),
    ("SELECT $1", 1),
    ("SELECT $1::int4 + 1", 1),
    ("SELECT $1::text || 'x'", 1),
    ("SELECT $1::int8, $2::text", 2),
    ("SELECT $1::float8 * 2", 1),
    ("SELECT $1::bool", 1),
    ("SELECT $1::timestamp", 1),
    ("SELECT $1::timestamptz", 1),
    ("SELECT $1::date", 1),
    ("SELECT $1::time", 1),
    ("SELECT $1::interval", 1),
    ("SELECT $1::numeric", 1),
    ("SELECT $1::bytea", 1),
    ("SELECT $1::json", 1),
    ("SELECT $1::int2", 1),
    ("SELECT $1::float4", 1),
    ("SELECT $1::uuid", 1),
    ("SELECT $1::oid", 1),
    ("SELECT $1::int4[]", 1),
    ("SELECT $1::regclass", 1),
    ("SELECT pg_typeof($1)", 1),
    ("SELECT * FROM tags WHERE id = $1", 1),
    ("SELECT id, email FROM contacts LIMIT $1", 1),
    ("SELECT * FROM generate_series(1, least($1::int, 100))", 1),
    ("SELECT count(*) FROM contacts WHERE email = $1", 1),
    ("SELECT $2", 2),
    ("SELECT $1, $1", 1),
    ("INSERT INTO tags (name) VALUES ($1)", 1),
    ("CALL ArchiveContact($1)", 1),
    ("SELECT repeat('ab', $1::int)", 1),
    ("SELECT * FROM contacts WHERE created_at > $1", 1),
    ("BEGIN", 0),
    ("COMMIT", 0),
];

/// Type OIDs for Parse: common ones, arrays, and nonsense.
const OIDS: &[u32] = &[
    0, 16, 17, 20, 21, 23, 25, 114, 700, 701, 1043, 1082, 1083, 1114, 1184, 1186, 1700, 2950, 3802,
    1007, 1009, 2205, 705, 4294967295,
];

/// Parameter texts.
const PARAMETER_TEXTS: &[&str] = &[
    "0",
    "1",
    "42",
    "-1",
    "2147483647",
    "99999999999",
    "1e400",
    "abc",
    "",
    "t",
    "2024-01-01",
    "2024-01-01 12:00:00+02",
    "1 day",
    "{1,2}",
    "{\"a\": 1}",
    "\\x00ff",
    "contacts",
    "NaN",
    "00000000-0000-0000-0000-000000000000",
    "é😀",
];

const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xf0\x9f",
    b"\x80",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
];

struct FrameGen {
    rng: Rng,
}

impl FrameGen {
    fn new(seed: u64) -> Self {
        Self {
            rng: Rng::with_seed(seed ^ 0x9E37_79B9_7F4A_7C15),
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        pick(&mut self.rng, items)
    }

    fn chance(&mut self, percent: u32) -> bool {
        chance(&mut self.rng, percent)
    }

    fn random_bytes(&mut self, max: usize) -> Vec<u8> {
        let mut bytes = vec![0; self.rng.usize(..=max)];
        self.rng.fill(&mut bytes);
        bytes
    }

    fn case(&mut self) -> FrameCase {
        match self.rng.u32(..100) {
            0..=5 => self.startup_case(),
            6..=10 => self.garbage_case(),
            11..=40 => self.extended_case(),
            _ => self.pipeline_case(),
        }
    }

    // -- fields --

    /// A statement or portal name, and whether it is UTF-8.
    fn name(&mut self) -> (Vec<u8>, bool) {
        match self.rng.u32(..100) {
            0..=39 => (Vec::new(), true),
            40..=69 => (self.pick(&["s1", "s2", "p1", "c1", "q1"]).into(), true),
            70..=84 => (
                (0..self.rng.usize(1..10))
                    .map(|_| self.rng.alphanumeric() as u8)
                    .collect(),
                true,
            ),
            85..=89 => ("é∑".into(), true),
            90..=94 => ("n".repeat(self.rng.usize(1..2_000)).into(), true),
            _ => {
                let mut name = b"s".to_vec();
                name.extend(self.pick(INVALID_UTF8));
                (name, false)
            }
        }
    }

    /// Statement text without NUL: mostly real statements, some not UTF-8.
    fn query_text(&mut self) -> Vec<u8> {
        match self.rng.u32(..100) {
            0..=59 => self.pick(FRAME_QUERIES).into(),
            60..=69 => (0..self.rng.usize(0..40))
                .map(|_| self.rng.u8(0x20..0x7f))
                .collect(),
            70..=79 => {
                let text: String = (0..self.rng.usize(1..20))
                    .map(|_| self.pick(ODD_CHARS))
                    .collect();
                text.into_bytes()
            }
            80..=92 => {
                let mut text = self.pick(FRAME_QUERIES).as_bytes().to_vec();
                let at = self.rng.usize(..=text.len());
                let bad = self.pick(INVALID_UTF8);
                text.splice(at..at, bad.iter().copied());
                text
            }
            _ => format!(
                "SELECT length('{}')",
                "x".repeat(self.rng.usize(1..200_000))
            )
            .into_bytes(),
        }
    }

    fn parse_body(&mut self, name: &[u8], query: &[u8], types: &[u32]) -> Vec<u8> {
        let mut body = cstr(name);
        body.extend(cstr(query));
        body.extend((types.len() as i16).to_be_bytes());
        for oid in types {
            body.extend(oid.to_be_bytes());
        }
        body
    }

    fn parameter_types(&mut self, count: usize) -> Vec<u32> {
        let count = match self.rng.u32(..10) {
            0..=5 => count,
            6 | 7 => self.rng.usize(0..4),
            8 => 0,
            _ => self.rng.usize(4..200),
        };
        (0..count)
            .map(|_| {
                loop {
                    let oid = if self.chance(90) {
                        self.pick(OIDS)
                    } else {
                        self.rng.u32(..)
                    };
                    if FUZZ_PARAMETER_DECODING_PANICS || oid != INTERVAL_OID {
                        break oid;
                    }
                }
            })
            .collect()
    }

    fn parameter(&mut self) -> Option<Vec<u8>> {
        match self.rng.u32(..10) {
            0 => None,
            1..=4 => Some(self.pick(PARAMETER_TEXTS).into()),
            5 => Some(
                self.pick(&[1i32, 0, -1, i32::MAX, i32::MIN])
                    .to_be_bytes()
                    .to_vec(),
            ),
            6 => Some(self.pick(&[1i64, -1, i64::MAX]).to_be_bytes().to_vec()),
            7 => {
                let mut bytes = vec![0; self.pick(&[0, 1, 2, 3, 5, 7, 8, 16, 200])];
                self.rng.fill(&mut bytes);
                Some(bytes)
            }
            8 => Some(1.5f64.to_be_bytes().to_vec()),
            _ => {
                let mut text = b"1".to_vec();
                text.extend(self.pick(INVALID_UTF8));
                Some(text)
            }
        }
    }

    fn format_code(&mut self) -> i16 {
        if self.chance(90) {
            self.pick(&[0, 1])
        } else {
            self.pick(&[2, -1, i16::MAX, i16::MIN])
        }
    }

    /// A Bind of `statement` to `portal` with `parameters` values (or some other count), and
    /// whether it is well formed.
    fn bind_body(&mut self, portal: &[u8], statement: &[u8], parameters: usize) -> (Vec<u8>, bool) {
        let parameters = match self.rng.u32(..10) {
            0..=6 => parameters,
            7 | 8 => self.rng.usize(0..4),
            _ => self.pick(&[10, 100, 1000]),
        };
        let formats: Vec<i16> = match self.rng.u32(..6) {
            0 | 1 => Vec::new(),
            2 => vec![self.format_code()],
            3 | 4 => (0..parameters).map(|_| self.format_code()).collect(),
            _ => (0..self.rng.usize(0..5))
                .map(|_| self.format_code())
                .collect(),
        };
        let results: Vec<i16> = match self.rng.u32(..6) {
            0..=2 => Vec::new(),
            3 | 4 => vec![self.format_code()],
            _ => (0..self.rng.usize(0..5))
                .map(|_| self.format_code())
                .collect(),
        };
        let mut body = cstr(portal);
        body.extend(cstr(statement));
        body.extend((formats.len() as i16).to_be_bytes());
        for f in &formats {
            body.extend(f.to_be_bytes());
        }
        body.extend((parameters as i16).to_be_bytes());
        for _ in 0..parameters {
            match self.parameter() {
                Some(bytes) => {
                    body.extend((bytes.len() as i32).to_be_bytes());
                    body.extend(bytes);
                }
                None => body.extend((-1i32).to_be_bytes()),
            }
        }
        body.extend((results.len() as i16).to_be_bytes());
        for r in &results {
            body.extend(r.to_be_bytes());
        }
        let sound = formats.len() <= 1 || formats.len() == parameters;
        (body, sound)
    }

    fn execute_body(&mut self, portal: &[u8]) -> Vec<u8> {
        let mut body = cstr(portal);
        let rows = if self.chance(80) {
            self.pick(&[0, 0, 1, 2, -1, i32::MAX, i32::MIN])
        } else {
            self.rng.i32(..)
        };
        body.extend(rows.to_be_bytes());
        body
    }

    fn target_body(&mut self, target: u8, name: &[u8]) -> Vec<u8> {
        let mut body = vec![target];
        body.extend(cstr(name));
        body
    }

    /// A message of type `tag` with random fields, and whether it is well formed.
    fn body(&mut self, tag: u8) -> (Vec<u8>, bool) {
        match tag {
            b'Q' => (cstr(&self.query_text()), true),
            b'P' => {
                let (name, _) = self.name();
                let query = self.query_text();
                let count = self.rng.usize(0..3);
                let types = self.parameter_types(count);
                (self.parse_body(&name, &query, &types), true)
            }
            b'B' => {
                let (portal, portal_ok) = self.name();
                let (statement, statement_ok) = self.name();
                let count = self.rng.usize(0..3);
                let (body, sound) = self.bind_body(&portal, &statement, count);
                (body, sound && portal_ok && statement_ok)
            }
            b'E' => {
                let (portal, ok) = self.name();
                (self.execute_body(&portal), ok)
            }
            b'D' | b'C' => {
                let (name, ok) = self.name();
                let target = if self.chance(95) {
                    self.pick(b"SP")
                } else {
                    self.rng.u8(..)
                };
                let ok = ok && matches!(target, b'S' | b'P');
                (self.target_body(target, &name), ok)
            }
            b'f' => {
                let reason: String = (0..self.rng.usize(0..20))
                    .map(|_| self.pick(ODD_CHARS))
                    .collect();
                (cstr(reason.as_bytes()), true)
            }
            b'd' | b'p' => (self.random_bytes(64), true),
            _ => (Vec::new(), true),
        }
    }

    /// Appends a message to `case`, mutated `mutate` percent of the time.
    fn push(&mut self, case: &mut FrameCase, tag: u8, body: Vec<u8>, sound: bool, mutate: u32) {
        let mut tag = tag;
        let mut body = body;
        let mut sound = sound;
        let mut length = None;
        let mut cut = None;
        let mut note = "";
        if self.chance(mutate) {
            sound = false;
            match self.rng.u32(..8) {
                0 => {
                    body.truncate(self.rng.usize(..=body.len()));
                    note = "/short";
                }
                1 => {
                    let extra = self.random_bytes(16);
                    body.extend(extra);
                    note = "/long";
                }
                2 if !body.is_empty() => {
                    for _ in 0..self.rng.usize(1..4) {
                        let at = self.rng.usize(..body.len());
                        body[at] = self.rng.u8(..);
                    }
                    note = "/flipped";
                }
                3 => {
                    tag = self.rng.u8(..);
                    note = "/tag";
                }
                4 => {
                    let actual = body.len() as i32 + 4;
                    length = Some(self.pick(&[
                        -1,
                        i32::MIN,
                        0,
                        1,
                        3,
                        actual - 1,
                        actual + 1,
                        actual + 1000,
                        10_001,
                        1 << 20,
                        (64 << 20) + 1,
                        i32::MAX,
                    ]));
                    note = "/length";
                }
                5 => {
                    cut = Some(self.rng.usize(..body.len() + 5));
                    note = "/cut";
                }
                6 => {
                    body = self.random_bytes(32);
                    note = "/random";
                }
                _ => {
                    let at = self.rng.usize(..=body.len());
                    body.insert(at, 0);
                    note = "/nul";
                }
            }
        }
        let mut frame = vec![tag];
        frame.extend(length.unwrap_or(body.len() as i32 + 4).to_be_bytes());
        frame.extend(&body);
        if let Some(at) = cut {
            frame.truncate(at);
        }
        if length.is_some() || cut.is_some() {
            case.framed = false;
        }
        if tag == b'X' && body.is_empty() && length.is_none() && cut.is_none() {
            case.terminates = true;
        }
        case.sound &= sound;
        case.bytes.extend(frame);
        let shown = if tag.is_ascii_graphic() {
            char::from(tag).to_string()
        } else {
            format!("\\x{tag:02x}")
        };
        let _ = write!(case.label, "{shown}{note} ");
    }

    /// Random messages of every type.
    fn pipeline_case(&mut self) -> FrameCase {
        let mut case = FrameCase::new(false);
        let count = if self.chance(85) {
            self.rng.usize(1..=5)
        } else {
            self.rng.usize(6..=30)
        };
        for _ in 0..count {
            let mut tag = self.pick(FRONTEND_TAGS);
            if tag == b'X' && self.chance(70) {
                tag = b'S';
            }
            let (body, sound) = self.body(tag);
            self.push(&mut case, tag, body, sound, 30);
        }
        case
    }

    /// Parse, Bind, Describe, Execute, Close, Sync of one statement, as a driver sends them.
    fn extended_case(&mut self) -> FrameCase {
        let mut case = FrameCase::new(false);
        let (query, count) = loop {
            let (query, count) = self.pick(PARAMETER_QUERIES);
            if FUZZ_PARAMETER_DECODING_PANICS || !query.contains("interval") {
                break (query, count);
            }
        };
        let statement = self.pick(&["", "s1", "s2"]).as_bytes();
        let portal = self.pick(&["", "p1"]).as_bytes();
        let mutate = if self.chance(50) { 0 } else { 15 };
        let mut types = self.parameter_types(count);
        if !FUZZ_PARAMETER_DECODING_PANICS && (query.contains("timestamp") || query.contains("_at"))
        {
            types.retain(|oid| !INTEGER_OIDS.contains(oid));
        }
        let body = self.parse_body(statement, query.as_bytes(), &types);
        self.push(&mut case, b'P', body, true, mutate);
        if self.chance(30) {
            let body = self.target_body(b'S', statement);
            self.push(&mut case, b'D', body, true, mutate);
        }
        let (body, sound) = self.bind_body(portal, statement, count);
        self.push(&mut case, b'B', body, sound, mutate);
        if self.chance(40) {
            let body = self.target_body(b'P', portal);
            self.push(&mut case, b'D', body, true, mutate);
        }
        for _ in 0..self.pick(&[1, 1, 1, 2, 3]) {
            let body = self.execute_body(portal);
            self.push(&mut case, b'E', body, true, mutate);
            if self.chance(20) {
                self.push(&mut case, b'H', Vec::new(), true, mutate);
            }
        }
        if self.chance(30) {
            let (target, name) = if self.chance(50) {
                (b'P', portal)
            } else {
                (b'S', statement)
            };
            let body = self.target_body(target, name);
            self.push(&mut case, b'C', body, true, mutate);
        }
        if self.chance(80) {
            self.push(&mut case, b'S', Vec::new(), true, mutate);
        }
        case
    }

    /// Bytes that are no message at all, sometimes after a good one.
    fn garbage_case(&mut self) -> FrameCase {
        let mut case = FrameCase::new(false);
        if self.chance(30) {
            let (body, sound) = self.body(b'Q');
            self.push(&mut case, b'Q', body, sound, 0);
        }
        let garbage = self.random_bytes(300);
        case.bytes.extend(&garbage);
        case.framed = false;
        case.sound = false;
        case.label.push_str("garbage");
        case
    }

    /// A startup packet (or SSL/GSSENC requests, a cancel request), mutated or not.
    fn startup_case(&mut self) -> FrameCase {
        let mut case = FrameCase::new(true);
        let requests: &[i32] = self.pick(&[
            &[][..],
            &[],
            &[],
            &[80_877_103],
            &[80_877_104],
            &[80_877_103, 80_877_104],
            &[80_877_104, 80_877_103],
        ]);
        for code in requests {
            case.bytes.extend(8i32.to_be_bytes());
            case.bytes.extend(code.to_be_bytes());
            case.refusals += 1;
            case.label.push_str("encryption-request ");
        }
        let code: i32 = match self.rng.u32(..12) {
            0..=5 => 196_608,
            6 => 196_610,
            7 => 196_609,
            8 => 131_072,
            9 => 80_877_102,
            10 => self.pick(&[0, -1, 65_536, 196_607]),
            _ => self.rng.i32(..),
        };
        let mut body = code.to_be_bytes().to_vec();
        if code == 80_877_102 {
            let extra = self.random_bytes(300);
            body.extend(extra);
            case.label.push_str("cancel ");
        } else {
            let mut parameters: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            if self.chance(85) {
                let user: Vec<u8> = match self.rng.u32(..6) {
                    0 => Vec::new(),
                    1 => "é😀".into(),
                    2 => {
                        let mut user = b"u".to_vec();
                        user.extend(self.pick(INVALID_UTF8));
                        user
                    }
                    _ => b"fuzz".to_vec(),
                };
                parameters.push((b"user".to_vec(), user));
            }
            for _ in 0..self.rng.usize(0..4) {
                let (key, value) = self.pick(&[
                    ("database", "intercom"),
                    ("database", "nosuch"),
                    ("application_name", "fuzz"),
                    ("options", "-c search_path=x"),
                    ("client_encoding", "LATIN1"),
                    ("replication", "database"),
                    ("_pq_.nosuch", "1"),
                    ("", "empty key"),
                    ("DateStyle", "ISO"),
                ]);
                parameters.push((key.into(), value.into()));
            }
            for (key, value) in &parameters {
                body.extend(cstr(key));
                body.extend(cstr(value));
            }
            body.push(0);
            let _ = write!(case.label, "startup {code:#x} ");
        }
        let mut packet = (body.len() as i32 + 4).to_be_bytes().to_vec();
        packet.extend(&body);
        if self.chance(50) {
            match self.rng.u32(..5) {
                0 => {
                    // No terminator.
                    packet.pop();
                    let length = packet.len() as i32;
                    packet[..4].copy_from_slice(&length.to_be_bytes());
                    case.label.push_str("/unterminated ");
                }
                1 => {
                    let length = self.pick(&[-1, 0, 4, 7, 8, 9, 10_001, 1 << 20, i32::MAX]);
                    packet[..4].copy_from_slice(&length.to_be_bytes());
                    case.label.push_str("/length ");
                }
                2 => {
                    packet.truncate(self.rng.usize(..packet.len()));
                    case.label.push_str("/cut ");
                }
                3 => {
                    let extra = self.random_bytes(20);
                    packet.extend(extra);
                    let length = packet.len() as i32;
                    packet[..4].copy_from_slice(&length.to_be_bytes());
                    case.label.push_str("/long ");
                }
                _ => {
                    let at = self.rng.usize(4..packet.len());
                    packet[at] = self.rng.u8(..);
                    case.label.push_str("/flipped ");
                }
            }
        }
        case.bytes.extend(packet);
        if self.chance(30) {
            case.bytes.extend(frame(b'Q', b"SELECT 1\0"));
            case.label.push('Q');
        }
        case
    }
}

// ---- running frame cases ----

/// What reading the next backend message gave.
enum Got {
    Message(u8, Vec<u8>),
    /// The end of the stream.
    Closed,
    /// A reset: the server closed with our bytes unread, and what it sent last may be lost.
    Reset,
    /// Nothing within [`READ_TIMEOUT`].
    Silent,
    /// A length no backend message has.
    Garbled(i32),
}

async fn recv(stream: &mut TcpStream) -> Got {
    let read = async {
        let ended = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Got::Closed,
            _ => Got::Reset,
        };
        let mut head = [0u8; 5];
        if let Err(e) = stream.read_exact(&mut head).await {
            return ended(e);
        }
        let length = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        if !(4..=1 << 28).contains(&length) {
            return Got::Garbled(length);
        }
        let mut body = vec![0; length as usize - 4];
        if let Err(e) = stream.read_exact(&mut body).await {
            return ended(e);
        }
        Got::Message(head[0], body)
    };
    tokio::time::timeout(READ_TIMEOUT, read)
        .await
        .unwrap_or(Got::Silent)
}

/// The severity, SQLSTATE and message of an ErrorResponse body.
fn error_fields(body: &[u8]) -> (String, String, String) {
    let (mut severity, mut code, mut message) = (String::new(), String::new(), String::new());
    for field in body.split(|b| *b == 0).filter(|f| !f.is_empty()) {
        let text = String::from_utf8_lossy(&field[1..]).into_owned();
        match field[0] {
            b'S' => severity = text,
            b'C' => code = text,
            b'M' => message = text,
            _ => {}
        }
    }
    (severity, code, message)
}

/// A raw connection, logged in.
async fn open_raw(served: &Served) -> Result<TcpStream, String> {
    let mut stream = TcpStream::connect(served.server.local_addr())
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    stream
        .write_all(&startup(&[("user", "fuzz"), ("database", "intercom")]))
        .await
        .map_err(|e| format!("cannot send the startup packet: {e}"))?;
    loop {
        match recv(&mut stream).await {
            Got::Message(b'Z', _) => return Ok(stream),
            Got::Message(b'E', body) => {
                return Err(format!("login refused: {:?}", error_fields(&body)));
            }
            Got::Message(..) => {}
            Got::Closed | Got::Reset => return Err("closed during login".into()),
            Got::Silent => return Err("no ReadyForQuery within 10 s of logging in".into()),
            Got::Garbled(length) => return Err(format!("message of length {length} at login")),
        }
    }
}

/// How a frame case ended.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ending {
    /// The marker query after it was answered: the session goes on.
    Answered,
    /// FATAL with this SQLSTATE, then the end of the stream.
    Fatal(String),
    /// The stream ended without a FATAL (after a Terminate, or after our end of the stream).
    Closed,
    /// The connection was reset (the server closed with our bytes unread).
    Reset,
}

/// What was seen while reading the answers of one case.
#[derive(Default)]
struct Seen {
    tags: String,
    errors: Vec<String>,
    fatal: Option<String>,
    marker: bool,
}

/// Runs one case: on `reuse` if there is a connection there, else on a new one. Leaves the
/// connection in `reuse` when the session goes on.
async fn run_frame_case(
    served: &Served,
    reuse: &mut Option<TcpStream>,
    case: &FrameCase,
    marker: &str,
    errors: &mut BTreeMap<String, usize>,
) -> Result<Ending, String> {
    let mut stream = if case.startup {
        TcpStream::connect(served.server.local_addr())
            .await
            .map_err(|e| format!("cannot connect: {e}"))?
    } else {
        match reuse.take() {
            Some(stream) => stream,
            None => open_raw(served).await?,
        }
    };
    let mut bytes = case.bytes.clone();
    // Sync ends an extended-protocol error, ROLLBACK a transaction the case began (after an
    // error in one, PostgreSQL refuses everything else), and then the marker must be answered.
    let follow_up = || {
        let mut bytes = frame(b'S', b"");
        bytes.extend(frame(b'Q', b"ROLLBACK\0"));
        bytes.extend(frame(b'Q', &cstr(format!("SELECT '{marker}'").as_bytes())));
        bytes
    };
    let framed = case.framed && !case.startup;
    if framed {
        bytes.extend(follow_up());
    }
    // The server may have closed already: what it said is read below.
    let _ = stream.write_all(&bytes).await;
    if !framed {
        // Our end of the stream: whatever the server waits for, it sees the end of it.
        let _ = stream.shutdown().await;
    }
    for _ in 0..case.refusals {
        let mut answer = [0u8; 1];
        match tokio::time::timeout(READ_TIMEOUT, stream.read_exact(&mut answer)).await {
            Ok(Ok(_)) if answer[0] == b'N' => {}
            Ok(Ok(_)) => return Err(format!("encryption request answered {:?}", answer[0])),
            Ok(Err(e)) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                return Ok(Ending::Reset);
            }
            Ok(Err(e)) => return Err(format!("encryption request not answered: {e}")),
            Err(_) => return Err("encryption request not answered within 10 s".into()),
        }
    }
    let allowed_fatal = if case.startup {
        STARTUP_FATAL_CODES
    } else {
        FATAL_CODES
    };
    let mut seen = Seen::default();
    let mut copies = 0;
    let mut reset = false;
    loop {
        let (tag, body) = match recv(&mut stream).await {
            Got::Message(tag, body) => (tag, body),
            Got::Closed => break,
            Got::Reset => {
                reset = true;
                break;
            }
            Got::Silent => {
                return Err(format!(
                    "no answer within {READ_TIMEOUT:?}; received so far: {}",
                    seen.tags
                ));
            }
            Got::Garbled(length) => {
                return Err(format!(
                    "a backend message of length {length}; received so far: {}",
                    seen.tags
                ));
            }
        };
        seen.tags.push(char::from(tag));
        if let Some(fatal) = &seen.fatal {
            return Err(format!(
                "message '{}' after FATAL {fatal}; received: {}",
                char::from(tag),
                seen.tags
            ));
        }
        match tag {
            b'E' => {
                let (severity, code, message) = error_fields(&body);
                if code.len() != 5
                    || !code
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                {
                    return Err(format!(
                        "error without a SQLSTATE: {severity} {code:?} {message}"
                    ));
                }
                if code == "XX000" && (severity != "ERROR" || known_bug(&message).is_none()) {
                    return Err(format!("{severity} XX000: {message}"));
                }
                let _ = write!(seen.tags, "({severity} {code} {message:.120})");
                match severity.as_str() {
                    "ERROR" => {
                        *errors.entry(code.clone()).or_default() += 1;
                        seen.errors.push(code);
                    }
                    "FATAL" if allowed_fatal.contains(&code.as_str()) => {
                        if case.sound && !case.startup {
                            return Err(format!(
                                "well-formed messages got FATAL {code}: {message}"
                            ));
                        }
                        seen.fatal = Some(code);
                    }
                    _ => return Err(format!("{severity} {code}: {message}")),
                }
            }
            // CopyInResponse: end the copy, then ask again.
            b'G' if framed && copies < 3 => {
                copies += 1;
                let mut bytes = frame(b'f', b"fuzz\0");
                bytes.extend(follow_up());
                let _ = stream.write_all(&bytes).await;
            }
            b'D' if framed && body.windows(marker.len()).any(|w| w == marker.as_bytes()) => {
                seen.marker = true;
            }
            b'Z' if framed && seen.marker => {
                *reuse = Some(stream);
                return Ok(Ending::Answered);
            }
            _ => {}
        }
    }
    if let Some(code) = seen.fatal {
        return Ok(Ending::Fatal(code));
    }
    if reset {
        // Sound messages must not end the session, whatever else was lost.
        if case.sound && !case.terminates && !case.startup {
            return Err(format!(
                "well-formed messages got the connection reset; received: {}",
                seen.tags
            ));
        }
        return Ok(Ending::Reset);
    }
    // A clean end: a FATAL sent before it would have arrived.
    if framed && !case.terminates {
        return Err(format!(
            "the connection closed without a FATAL error; received: {}",
            seen.tags
        ));
    }
    Ok(Ending::Closed)
}

async fn fuzz_frames(served: &Served, plan: &Plan) -> String {
    let mut generator = FrameGen::new(plan.seed);
    let mut reuse = None;
    let mut endings: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let started = Instant::now();
    for n in 0..plan.frame_cases {
        let case = generator.case();
        let marker = format!("fuzz-end-{n}");
        match run_frame_case(served, &mut reuse, &case, &marker, &mut errors).await {
            Ok(ending) => {
                let name = match ending {
                    Ending::Answered => "answered".to_string(),
                    Ending::Fatal(code) => format!("FATAL {code}"),
                    Ending::Closed => "closed".to_string(),
                    Ending::Reset => "reset".to_string(),
                };
                *endings.entry(name).or_default() += 1;
            }
            Err(why) => panic!(
                "frame case {n} [{}]: {why}\nbytes: {}{}\nreplay: {}",
                case.label.trim(),
                shown_bytes(&case.bytes),
                saved(&format!("frames-{n}.bin"), &case.bytes),
                plan.replay()
            ),
        }
        if (n + 1) % ALIVE_EVERY == 0 {
            served.assert_alive(&format!("frame case {n}"), plan).await;
        }
    }
    served.assert_alive("the last frame case", plan).await;
    format!(
        "hostile_fuzz: {} frame cases in {:.1?}\n  endings: {endings:?}\n  ERROR SQLSTATEs: {errors:?}\n",
        plan.frame_cases,
        started.elapsed()
    )
}
