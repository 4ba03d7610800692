//! Benchmark: stream a large result over the PostgreSQL wire protocol and through the library,
//! side by side. Prints rows, wall time and rows/s for each, their ratio (the wire overhead),
//! and the server process's memory while it streams.
//!
//! The emulator runs in this process with no latency. The library path runs here too; the
//! server is the `intercom-sql serve` binary built beside this example, in its own process, so
//! its memory is read from `/proc/<pid>/status` alone.
//!
//! `cargo build --release --bin intercom-sql --example server_benchmark`
//! `target/release/examples/server_benchmark [contacts]` (default 100,000).
//! Figures go in docs/performance.md; nothing here asserts on time.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, pin_mut};
use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::process::mib;
use intercom_sql::{AccessToken, Config, Engine};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

const QUERY: &str = "SELECT id, email, name, role, created_at, location_country FROM contacts";

/// A field of `/proc/<pid>/status` in bytes (`VmRSS`, `VmHWM`), on Linux.
fn memory_of(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn show(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "n/a".to_string(), mib)
}

/// Stops the server process when the benchmark ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let contacts: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let config = EmulatorConfig {
        contacts,
        ..EmulatorConfig::default()
    };
    let token = config.token.clone();
    let demo = emulator::spawn(config, "127.0.0.1:0").await?;
    println!("{contacts} contacts; query: {QUERY}");

    // Library: batches straight from an engine in this process.
    let engine = Engine::connect(Config::new(
        demo.base_url.clone(),
        AccessToken::new(token.clone()),
    ))?;
    engine.discover_custom_attributes().await?;
    let started = Instant::now();
    let mut stream = engine.execute_stream(QUERY).await?;
    let mut library_rows = 0usize;
    while let Some(batch) = stream.try_next().await? {
        library_rows += batch.num_rows();
    }
    let library_time = started.elapsed();
    println!(
        "library : {library_rows} rows in {:.2} s = {:.0} rows/s",
        library_time.as_secs_f64(),
        library_rows as f64 / library_time.as_secs_f64()
    );

    // Wire: the `intercom-sql serve` binary next to this example, on the same emulator.
    let binary = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .map(|dir| dir.join("intercom-sql"))
        .ok_or("cannot locate the intercom-sql binary")?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(&binary)
        .args(["--base-url", &demo.base_url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("INTERCOM_ACCESS_TOKEN", &token)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e} (build it first)", binary.display()))?;
    let server = Server(child);
    let pid = server.0.id();
    let connect = format!("host=127.0.0.1 port={port} user=intercom dbname=intercom");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (client, connection) = loop {
        match tokio_postgres::connect(&connect, NoTls).await {
            Ok(pair) => break pair,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => return Err(e.into()),
        }
    };
    tokio::spawn(connection);
    client.simple_query("SELECT 1").await?;
    let before = memory_of(pid, "VmRSS:");
    let started = Instant::now();
    let params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    let rows = client.query_raw(QUERY, params).await?;
    pin_mut!(rows);
    let mut wire_rows = 0usize;
    let mut max_rss = 0u64;
    while let Some(row) = rows.next().await {
        let row = row?;
        let _: Option<&str> = row.get(0);
        wire_rows += 1;
        if wire_rows.is_multiple_of(5_000) {
            max_rss = max_rss.max(memory_of(pid, "VmRSS:").unwrap_or(0));
        }
    }
    let wire_time = started.elapsed();
    println!(
        "wire    : {wire_rows} rows in {:.2} s = {:.0} rows/s",
        wire_time.as_secs_f64(),
        wire_rows as f64 / wire_time.as_secs_f64()
    );
    println!(
        "server process: rss before the query {}, max while streaming {}, peak (VmHWM) {}",
        show(before),
        mib(max_rss),
        show(memory_of(pid, "VmHWM:"))
    );
    println!(
        "wire / library time: {:.2}x",
        wire_time.as_secs_f64() / library_time.as_secs_f64()
    );
    drop(server);
    if wire_rows != library_rows {
        return Err(format!("row counts differ: wire {wire_rows}, library {library_rows}").into());
    }
    Ok(())
}
