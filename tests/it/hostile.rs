//! Hostile input against the server, the CLI and the library: statements too deep or too long
//! for the planner, queries past their memory budget, settings that would lift the budgets,
//! and the memory each connection leaves behind. After every case the process must answer
//! `SELECT 1`: nothing a client sends may take it down.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use datafusion::catalog::CatalogProviderList;
use intercom_sql::emulator::EmulatorConfig;
use intercom_sql::limits::{self, Limits};
use intercom_sql::server::{self, RunningServer, ServerOptions};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::common::frames::{frame, startup};
use crate::common::{TestEnv, start_with};

struct Served {
    env: TestEnv,
    server: RunningServer,
}

async fn serve_with(
    limits: impl FnOnce(&mut Limits),
    tweak: impl FnOnce(&mut ServerOptions),
) -> Served {
    let env = start_with(
        EmulatorConfig {
            contacts: 60,
            ..EmulatorConfig::default()
        },
        |config| limits(&mut config.limits),
    )
    .await;
    let mut options = ServerOptions::new("127.0.0.1:0");
    tweak(&mut options);
    let server = server::start(env.engine.session_factory(), options)
        .await
        .expect("server starts");
    Served { env, server }
}

impl Served {
    async fn connect(&self) -> Client {
        let addr = self.server.local_addr();
        let (client, connection) = tokio_postgres::connect(
            &format!(
                "host={} port={} user=u dbname=intercom",
                addr.ip(),
                addr.port()
            ),
            NoTls,
        )
        .await
        .expect("connects");
        tokio::spawn(connection);
        client
    }
}

/// The SQLSTATE and message of a statement that must fail.
async fn refusal(client: &Client, sql: &str) -> (String, String) {
    match client.simple_query(sql).await {
        Ok(rows) => panic!(
            "{} should fail, returned {} messages",
            &sql[..sql.len().min(80)],
            rows.len()
        ),
        Err(e) => {
            let db = e
                .as_db_error()
                .unwrap_or_else(|| panic!("not a server error: {e}"));
            (db.code().code().to_string(), db.message().to_string())
        }
    }
}

/// The first column of the first row.
async fn value(client: &Client, sql: &str) -> String {
    let rows = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("NULL").to_string()),
            _ => None,
        })
        .expect("a row")
}

/// A setting's value, as `SHOW` gives it (one column, named after the setting, as in
/// PostgreSQL).
async fn show(client: &Client, name: &str) -> String {
    let rows = client
        .simple_query(&format!("SHOW {name}"))
        .await
        .expect("SHOW");
    rows.iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => row.get(name).map(str::to_string),
            _ => None,
        })
        .expect("a value")
}

async fn assert_alive(served: &Served, client: &Client) {
    assert_eq!(
        value(client, "SELECT 1").await,
        "1",
        "the connection goes on"
    );
    let fresh = served.connect().await;
    assert_eq!(
        value(&fresh, "SELECT 1").await,
        "1",
        "new connections are served"
    );
}

fn chain(term: &str, separator: &str, n: usize) -> String {
    vec![term; n].join(separator)
}

fn or_chain(n: usize) -> String {
    (0..n)
        .map(|i| format!("email = 'user{i}@example.com'"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_too_deep_fail_with_54001_and_the_server_goes_on() {
    let served = serve_with(|_| {}, |_| {}).await;
    let client = served.connect().await;
    let cases = [
        format!("SELECT {}", chain("1", "+", 40_000)),
        format!("SELECT {}", chain("'a'", "||", 100_000)),
        format!("SELECT count(*) FROM contacts WHERE {}", or_chain(20_000)),
        (0..5_000)
            .map(|i| format!("SELECT {i}"))
            .collect::<Vec<_>>()
            .join(" UNION "),
        format!("SELECT 1{}", "::bigint".repeat(20_000)),
    ];
    for sql in &cases {
        let (code, message) = refusal(&client, sql).await;
        assert_eq!(code, "54001", "{message}");
        assert!(
            message.contains("statement too complex") && message.contains("limit of"),
            "{message}"
        );
        assert_alive(&served, &client).await;
    }
    // Over the text limit: refused before parsing.
    let (code, message) = refusal(
        &client,
        &format!("SELECT count(*) FROM contacts WHERE {}", or_chain(100_000)),
    )
    .await;
    assert_eq!(code, "54000", "{message}");
    assert!(message.contains("statement too long"), "{message}");
    // An IN list of a million values does not fit the text limit either.
    let in_list = format!("SELECT 1 WHERE 1 IN ({})", chain("7", ",", 1_000_000));
    assert_eq!(refusal(&client, &in_list).await.0, "54000");
    assert_alive(&served, &client).await;
    // Just inside the limits, the same shapes run.
    let depth = limits::DEFAULT_MAX_STATEMENT_DEPTH / 2;
    assert_eq!(
        value(&client, &format!("SELECT {}", chain("1", "+", depth))).await,
        depth.to_string()
    );
    let count = value(
        &client,
        &format!(
            "SELECT count(*) FROM contacts WHERE {}",
            or_chain(depth / 2)
        ),
    )
    .await;
    assert!(count.parse::<u64>().is_ok(), "{count}");
    // A UNION chain just under the limit, the shape needing the most stack per level: planned
    // on the query runtime, never on the connection's (here the test's small-stack) threads.
    let near = limits::DEFAULT_MAX_STATEMENT_DEPTH - 10;
    let union = (0..near)
        .map(|i| format!("SELECT {i} AS x"))
        .collect::<Vec<_>>()
        .join(" UNION ");
    let counted = value(&client, &format!("SELECT count(*) FROM ({union}) u")).await;
    assert_eq!(counted, near.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_too_deep_fail_in_the_library_whatever_the_callers_stack() {
    let served = serve_with(|_| {}, |_| {}).await;
    let engine = &served.env.engine;
    // The library plans on its own threads: even a caller on a small stack is safe.
    let handle = tokio::runtime::Handle::current();
    let sql = format!("SELECT {}", chain("1", "+", 40_000));
    let error = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || handle.block_on(async move { engine_error(&sql).await }))
        .expect("thread")
        .join()
        .expect("no overflow in the caller");
    assert!(error.contains("statement too complex"), "{error}");
    let rows = engine.execute("SELECT 41 + 1").await.expect("runs");
    assert_eq!(crate::common::strings(&rows), vec![vec!["42".to_string()]]);

    async fn engine_error(sql: &str) -> String {
        // A fresh engine over the demo-less config would need an emulator; planning alone
        // is what is checked, so a bare engine pointed nowhere serves.
        let engine = intercom_sql::Engine::connect(intercom_sql::Config::new(
            "http://127.0.0.1:9",
            intercom_sql::AccessToken::new("t"),
        ))
        .expect("engine");
        match engine.execute(sql).await {
            Ok(_) => "ran".into(),
            Err(e) => e.user_message(),
        }
    }
}

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
    command.env_remove("INTERCOM_ACCESS_TOKEN");
    command
}

#[test]
fn the_cli_refuses_deep_scripts_without_aborting() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, sql) in [
        ("plus.sql", format!("SELECT {};", chain("1", "+", 100_000))),
        (
            "or.sql",
            format!("SELECT count(*) FROM contacts WHERE {};", or_chain(20_000)),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, sql).expect("script written");
        let out = binary()
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: exits with an error, not a signal: {stderr}"
        );
        assert!(
            stderr.contains("statement too complex") || stderr.contains("statement too long"),
            "{name}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_budgets_refuse_with_53200_and_the_server_goes_on() {
    let served = serve_with(|l| l.max_query_memory = 8 << 20, |_| {}).await;
    let client = served.connect().await;
    // One function call asking for 3 GB.
    let (code, message) = refusal(&client, "SELECT length(repeat('x', 3000000000))").await;
    assert_eq!(code, "53200", "{message}");
    assert!(
        message.contains("repeat") && message.contains("--max-query-memory"),
        "{message}"
    );
    let (code, _) = refusal(&client, "SELECT cardinality(range(1, 10000000000))").await;
    assert_eq!(code, "53200");
    let (code, _) = refusal(&client, "SELECT length(lpad('x', 2000000000))").await;
    assert_eq!(code, "53200");
    // Small calls of the same functions still work.
    assert_eq!(
        value(&client, "SELECT length(repeat('ab', 1000))").await,
        "2000"
    );
    assert_eq!(
        value(&client, "SELECT cardinality(range(1, 1001))").await,
        "1000"
    );
    // A join whose build side needs more than the query's budget.
    let (code, message) = refusal(
        &client,
        "SELECT count(*) FROM generate_series(1, 2000000) a(x) JOIN generate_series(1, 2000000) b(y) ON x = y",
    )
    .await;
    assert_eq!(code, "53200", "{message}");
    assert!(message.contains("--max-query-memory"), "{message}");
    // Top-k aggregation sized its hash table by the LIMIT before reading a row (32 GB for
    // this one) and the failed allocation aborted the process (found by the fuzzer).
    let distinct = "SELECT DISTINCT x FROM (VALUES (1)) t(x) ORDER BY x LIMIT 100000000";
    assert_eq!(value(&client, distinct).await, "1");
    let grouped = "SELECT x FROM (VALUES (1)) t(x) GROUP BY x ORDER BY x LIMIT 1000000000000";
    assert_eq!(value(&client, grouped).await, "1");
    let (code, _) = refusal(
        &client,
        "SET datafusion.optimizer.enable_topk_aggregation = true",
    )
    .await;
    assert_eq!(code, "42501");
    // DataFusion's lpad panicked on a negative length.
    let (code, message) = refusal(&client, "SELECT lpad('x', -1, NULL)").await;
    assert_eq!(code, "22000", "{message}");
    assert_alive(&served, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_cannot_write_past_read_only() {
    let served = serve_with(|_| {}, |options| options.read_only = true).await;
    let client = served.connect().await;
    let (code, message) = refusal(
        &client,
        "DECLARE c CURSOR FOR INSERT INTO tags (name) VALUES ('cursor-bypass')",
    )
    .await;
    assert_eq!(code, "42601", "{message}");
    assert!(
        served.env.requests().iter().all(|r| !r.contains("tags")),
        "{:?}",
        served.env.requests()
    );
    assert_alive(&served, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_lift_the_budgets_are_refused_or_clamped_over_the_wire() {
    let served = serve_with(|_| {}, |_| {}).await;
    let client = served.connect().await;
    for setting in [
        "SET datafusion.runtime.memory_limit = '100G'",
        "SET datafusion.runtime.temp_directory = '/'",
        "SET datafusion.execution.sort_spill_reservation_bytes = 1000000000",
        "SET datafusion.sql_parser.recursion_limit = 100000",
    ] {
        let (code, message) = refusal(&client, setting).await;
        assert_eq!(code, "42501", "{setting}: {message}");
        assert!(message.contains("not allowed over the wire"), "{message}");
    }
    client
        .simple_query("SET datafusion.execution.target_partitions = 100000")
        .await
        .expect("clamped, not refused");
    let partitions: u64 = show(&client, "datafusion.execution.target_partitions")
        .await
        .parse()
        .expect("a number");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    assert_eq!(partitions, 2 * cores);
    client
        .simple_query("SET datafusion.execution.target_partitions = 1")
        .await
        .expect("lowering is fine");
    assert_eq!(
        show(&client, "datafusion.execution.target_partitions").await,
        "1"
    );
    client
        .simple_query("SET datafusion.explain.format = 'tree'")
        .await
        .expect("harmless settings stay settable");
    let (code, message) = refusal(&client, "SHOW").await;
    assert_eq!(code, "42601", "{message}");
    assert_alive(&served, &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_connection_frees_its_session() {
    let catalogs: Arc<Mutex<Vec<Weak<dyn CatalogProviderList>>>> = Arc::default();
    let probe = catalogs.clone();
    let served = serve_with(
        |_| {},
        move |options| {
            options.session_setup = Some(Arc::new(move |ctx| {
                let list = ctx.state_ref().read().catalog_list().clone();
                probe.lock().expect("probe").push(Arc::downgrade(&list));
                Ok(())
            }));
        },
    )
    .await;
    for _ in 0..20 {
        let client = served.connect().await;
        // pg_catalog tables hold the catalog list while they are read.
        value(&client, "SELECT count(*) FROM pg_catalog.pg_class").await;
        value(&client, "SELECT 1").await;
        drop(client);
    }
    let one = served.connect().await;
    value(&one, "SELECT 1").await;
    one.simple_query("DISCARD ALL").await.expect("discard");
    value(&one, "SELECT 1").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let alive = loop {
        let alive = catalogs
            .lock()
            .expect("probe")
            .iter()
            .filter(|w| w.strong_count() > 0)
            .count();
        // The open connection's current session stays; every other is gone.
        if alive <= 1 || Instant::now() > deadline {
            break alive;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(catalogs.lock().expect("probe").len(), 22);
    assert_eq!(alive, 1, "sessions of closed connections are still alive");
}

/// `intercom-sql serve` on a free loopback port (the demo workspace), once it accepts
/// connections, and its connection string.
async fn real_server(flags: &[&str]) -> (crate::common::KillOnDrop, String) {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        listener.local_addr().expect("addr").port()
    };
    let server = crate::common::KillOnDrop(
        binary()
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("server starts"),
    );
    let url = format!("host=127.0.0.1 port={port} user=u dbname=intercom");
    let deadline = Instant::now() + Duration::from_secs(60);
    while tokio_postgres::connect(&url, NoTls).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (server, url)
}

async fn connect_to(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connects");
    tokio::spawn(connection);
    client
}

/// The real server process survives what used to abort it or eat its memory: a statement
/// 40,000 terms long, a 3 GB `repeat`, a `SET` lifting its budgets, and a malformed frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_server_survives_hostile_statements_and_frames() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut server, url) = real_server(&["--max-query-memory", "256MiB"]).await;
    let client = connect_to(&url).await;
    let deep = format!("SELECT {}", chain("1", "+", 40_000));
    assert_eq!(refusal(&client, &deep).await.0, "54001");
    let or = format!("SELECT count(*) FROM contacts WHERE {}", or_chain(20_000));
    assert_eq!(refusal(&client, &or).await.0, "54001");
    let (code, message) = refusal(&client, "SELECT length(repeat('x', 3000000000))").await;
    assert_eq!(code, "53200", "{message}");
    assert!(message.contains("256 MiB"), "{message}");
    let (code, _) = refusal(&client, "SET datafusion.runtime.memory_limit = '1T'").await;
    assert_eq!(code, "42501");

    // A Parse whose parameter-type count is negative, on a raw connection.
    let address = url
        .split_whitespace()
        .find_map(|p| p.strip_prefix("port="))
        .map(|port| format!("127.0.0.1:{port}"))
        .expect("port");
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .expect("raw connection");
    let packet = startup(&[("user", "u"), ("database", "intercom")]);
    socket.write_all(&packet).await.expect("startup sent");
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !seen.windows(6).any(|w| w == [b'Z', 0, 0, 0, 5, b'I']) {
        let n = socket.read(&mut chunk).await.expect("startup answer");
        assert!(n > 0, "closed during startup");
        seen.extend_from_slice(&chunk[..n]);
    }
    let parse = frame(b'P', b"\0SELECT 1\0\xff\xff");
    socket.write_all(&parse).await.expect("parse sent");
    let mut answer = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no answer to a malformed Parse"),
        }
    }
    assert_eq!(
        answer.first(),
        Some(&b'E'),
        "an ErrorResponse, then the close"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("C08P01") && text.contains("FATAL"), "{text}");

    assert_eq!(value(&client, "SELECT 1").await, "1");
    assert_eq!(value(&connect_to(&url).await, "SELECT 1").await, "1");
    assert!(
        server.0.try_wait().expect("status").is_none(),
        "the server process is still running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_connections_leave_the_server_rss_flat() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (server, url) = real_server(&[]).await;
    let cycle = || async {
        let (client, connection) = tokio_postgres::connect(&url, NoTls)
            .await
            .expect("connects");
        let task = tokio::spawn(connection);
        value(&client, "SELECT 1").await;
        drop(client);
        let _ = task.await;
    };
    for _ in 0..10 {
        cycle().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = server.0.id();
    let after_10 = intercom_sql::process::resident_memory_bytes(pid).expect("rss");
    for _ in 10..500 {
        cycle().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_500 = intercom_sql::process::resident_memory_bytes(pid).expect("rss");
    let growth = after_500.saturating_sub(after_10);
    eprintln!(
        "server RSS after 10 connections: {}, after 500: {} (+{})",
        intercom_sql::process::mib(after_10),
        intercom_sql::process::mib(after_500),
        intercom_sql::process::mib(growth)
    );
    assert!(
        growth < 50 << 20,
        "RSS grew by {} over 490 connections",
        intercom_sql::process::mib(growth)
    );
}

/// CPU seconds the process `pid` has used (Linux: `/proc/<pid>/stat`, in clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // The fields after the command name (which may hold spaces) start after its ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// A statement stopped by `statement_timeout` (or a cancel) stops using the CPU: a count over
/// a six-way cross join of in-memory rows, which runs for days, leaves the server idle once
/// the client is told it was cancelled, over the simple and the extended protocol.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_statement_stops_using_the_cpu() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let (server, url) = real_server(&[]).await;
    let pid = server.0.id();
    let client = connect_to(&url).await;
    client
        .batch_execute("SET statement_timeout = 1000")
        .await
        .unwrap();
    let endless = "SELECT count(*) FROM contacts a, contacts b, contacts c, contacts d, \
                   contacts e, contacts f";
    for extended in [false, true] {
        let error = match extended {
            true => client.query(endless, &[]).await.map(|_| ()),
            false => client.simple_query(endless).await.map(|_| ()),
        }
        .expect_err("the statement times out");
        assert_eq!(
            error.code().map(|c| c.code()),
            Some("57014"),
            "extended {extended}: {error}"
        );
        // Give the abort a moment, then measure two seconds: a query still running would
        // take a whole core (2 s of CPU).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = cpu_seconds(pid);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let used = cpu_seconds(pid) - before;
        assert!(
            used < 0.5,
            "extended {extended}: {used:.2} s of CPU in the 2 s after the timeout"
        );
    }
}
