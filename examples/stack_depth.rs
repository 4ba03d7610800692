//! Measures how deep a statement can nest before planning and running it overflows a query
//! thread's stack: the measurement behind `limits::DEFAULT_MAX_STATEMENT_DEPTH`.
//!
//! For each statement shape that parses into a deep tree (`1+1+…`, `'a'||'a'||…`, an `OR`
//! chain on contacts, an `AND` chain, a `UNION` chain, a cast chain), it runs the statement at
//! doubling depths from half the default limit, with the limits switched off, through both
//! roads: the library (`Engine::execute`, the shell's and `-c`'s road) and the PostgreSQL
//! server. Each try runs in a child process, since an overflow aborts the process, and stops
//! at the first depth that overflows or takes longer than `--timeout` seconds (planning time
//! grows with the square of the depth, so time, not only the stack, bounds a useful limit).
//!
//! ```sh
//! cargo run --example stack_depth                 # debug build: the worst case
//! cargo run --release --example stack_depth       # release frames are smaller
//! cargo run --example stack_depth -- --shape or_contacts --road server --max 40000
//! ```

use std::process::{Command, Stdio};
use std::time::Instant;

use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::limits::{self, Limits};
use intercom_sql::server::{self, ServerOptions};
use intercom_sql::{AccessToken, Config, Engine};

const SHAPES: &[&str] = &[
    "arith",
    "concat",
    "or_contacts",
    "and_chain",
    "union",
    "cast",
];
const ROADS: &[&str] = &["engine", "server"];

fn statement(shape: &str, depth: usize) -> String {
    let n = depth.max(1);
    match shape {
        "arith" => format!("SELECT {}", vec!["1"; n + 1].join("+")),
        "concat" => format!("SELECT {}", vec!["'a'"; n + 1].join("||")),
        "or_contacts" => format!(
            "SELECT count(*) FROM contacts WHERE {}",
            (0..=n)
                .map(|i| format!("email = 'user{i}@example.com'"))
                .collect::<Vec<_>>()
                .join(" OR ")
        ),
        "and_chain" => format!(
            "SELECT count(*) FROM (VALUES (1), (2)) AS t(a) WHERE {}",
            (0..=n)
                .map(|i| format!("a <> {}", i + 10))
                .collect::<Vec<_>>()
                .join(" AND ")
        ),
        "union" => (0..=n)
            .map(|i| format!("SELECT {i} AS x"))
            .collect::<Vec<_>>()
            .join(" UNION "),
        "cast" => format!("SELECT 1{}", "::bigint".repeat(n)),
        other => panic!("unknown shape {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    if args.iter().any(|a| a == "--child") {
        let shape = flag("--shape").expect("--shape");
        let road = flag("--road").expect("--road");
        let depth: usize = flag("--depth")
            .and_then(|d| d.parse().ok())
            .expect("--depth");
        std::process::exit(child(&shape, &road, depth));
    }
    let shapes: Vec<String> = flag("--shape").map_or_else(
        || SHAPES.iter().map(|s| s.to_string()).collect(),
        |s| vec![s],
    );
    let roads: Vec<String> = flag("--road").map_or_else(
        || ROADS.iter().map(|s| s.to_string()).collect(),
        |s| vec![s],
    );
    let max: usize = flag("--max").and_then(|m| m.parse().ok()).unwrap_or(64_000);
    let timeout: u64 = flag("--timeout").and_then(|m| m.parse().ok()).unwrap_or(60);
    let limit = limits::DEFAULT_MAX_STATEMENT_DEPTH;
    println!(
        "query thread stack: {} MiB; default depth limit: {limit}; build: {}; a try may take {timeout} s",
        limits::runtime::QUERY_STACK_BYTES >> 20,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!("| shape | road | depth | outcome | seconds |");
    println!("|---|---|---:|---|---:|");
    let mut worst = usize::MAX;
    for shape in &shapes {
        for road in &roads {
            let mut depth = limit / 2;
            let mut deepest = 0;
            while depth <= max {
                let (outcome, seconds) = try_depth(shape, road, depth, timeout);
                println!("| {shape} | {road} | {depth} | {outcome} | {seconds:.1} |");
                if outcome != "ran" {
                    break;
                }
                deepest = depth;
                depth *= 2;
            }
            worst = worst.min(deepest);
        }
    }
    println!(
        "shallowest depth that ran for every shape: {worst} ({:.1}× the limit of {limit})",
        worst as f64 / limit as f64
    );
}

/// Runs one statement in a child process: "ran", "overflowed" (the process aborted) or
/// "timed out", and the seconds it took.
fn try_depth(shape: &str, road: &str, depth: usize, timeout: u64) -> (&'static str, f64) {
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(["--child", "--shape", shape, "--road", road, "--depth"])
        .arg(depth.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("child runs");
    loop {
        if let Some(status) = child.try_wait().expect("child status") {
            let outcome = if status.success() {
                "ran"
            } else {
                "overflowed"
            };
            return (outcome, started.elapsed().as_secs_f64());
        }
        if started.elapsed().as_secs() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            return ("timed out", started.elapsed().as_secs_f64());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Runs one statement with the depth limits off; exit code 0 when it ran (or failed with an
/// ordinary error), an abort when the stack overflowed.
fn child(shape: &str, road: &str, depth: usize) -> i32 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(limits::runtime::QUERY_STACK_BYTES)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let demo = emulator::spawn(
            EmulatorConfig {
                contacts: 200,
                ..EmulatorConfig::default()
            },
            "127.0.0.1:0",
        )
        .await
        .expect("emulator");
        let mut config = Config::new(
            demo.base_url.clone(),
            AccessToken::new(EmulatorConfig::default().token),
        );
        config.limits = Limits {
            max_statement_depth: usize::MAX,
            max_statement_nodes: usize::MAX,
            max_statement_bytes: usize::MAX,
            ..Limits::for_this_machine()
        };
        let engine = Engine::connect(config).expect("engine");
        let sql = statement(shape, depth);
        match road {
            "engine" => {
                let result = engine.execute(&sql).await;
                eprintln!(
                    "{:?}",
                    result.map(|b| b.len()).map_err(|e| e.user_message())
                );
            }
            _ => {
                let server =
                    server::start(engine.session_factory(), ServerOptions::new("127.0.0.1:0"))
                        .await
                        .expect("server");
                let addr = server.local_addr();
                let (client, connection) = tokio_postgres::connect(
                    &format!(
                        "host={} port={} user=u dbname=intercom",
                        addr.ip(),
                        addr.port()
                    ),
                    tokio_postgres::NoTls,
                )
                .await
                .expect("connects");
                tokio::spawn(connection);
                let result = client.simple_query(&sql).await;
                eprintln!("{:?}", result.map(|r| r.len()));
                // The connection must still answer: the server is alive.
                if client.simple_query("SELECT 1").await.is_err() {
                    return 2;
                }
            }
        }
        0
    })
}
