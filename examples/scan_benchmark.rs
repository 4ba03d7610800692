//! Benchmark: scan N contacts (default 100,000) from the emulator at zero latency and print
//! rows/s, requests, wall time and peak memory — through the library, and through `-c`.
//!
//! `cargo run --release --example scan_benchmark -- [contacts] [query]`
//! (the `-c` half runs the `intercom-sql` binary of the same build: `cargo build --release` first).
//! Figures go in docs/performance.md; nothing here asserts on time.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::process::{mib, peak_memory_bytes};
use intercom_sql::{AccessToken, Config, Engine};

const DEFAULT_QUERY: &str = "SELECT * FROM contacts";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let contacts: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let query = std::env::args()
        .nth(2)
        .unwrap_or_else(|| DEFAULT_QUERY.to_string());
    library(contacts, &query).await?;
    cli(contacts, &query)?;
    Ok(())
}

async fn library(contacts: usize, query: &str) -> Result<(), Box<dyn std::error::Error>> {
    let config = EmulatorConfig {
        contacts,
        ..EmulatorConfig::default()
    };
    let seeding = Instant::now();
    let demo = emulator::spawn(config.clone(), "127.0.0.1:0").await?;
    let seeded_in = seeding.elapsed();
    let baseline = peak_memory_bytes().unwrap_or(0);
    let engine = Engine::connect(Config::new(
        demo.base_url.clone(),
        AccessToken::new(config.token),
    ))?;

    let started = Instant::now();
    let mut stream = engine.execute_stream(query).await?;
    let (mut rows, mut first_batch) = (0usize, None);
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
        first_batch.get_or_insert_with(|| started.elapsed());
    }
    let wall = started.elapsed();
    let stats = engine.client().stats();
    let peak = peak_memory_bytes().unwrap_or(0);
    println!("library: {query}");
    println!(
        "  contacts seeded        {contacts} in {:.2} s",
        seeded_in.as_secs_f64()
    );
    println!("  rows                   {rows}");
    println!(
        "  requests               {} ({} retries)",
        stats.requests, stats.retries
    );
    println!(
        "  wall time              {:.3} s (first batch after {:.1} ms)",
        wall.as_secs_f64(),
        first_batch.unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "  rows/s                 {:.0}",
        rows as f64 / wall.as_secs_f64()
    );
    println!(
        "  peak memory (process)  {} (after seeding: {})",
        mib(peak),
        mib(baseline)
    );
    Ok(())
}

fn cli(contacts: usize, query: &str) -> Result<(), Box<dyn std::error::Error>> {
    // The binary of the same build: examples live in <target>/<profile>/examples/.
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .and_then(|p| p.parent())
        .ok_or("no target directory")?
        .join("intercom-sql");
    if !binary.exists() {
        println!(
            "cli: skipped, {} not built (cargo build --release)",
            binary.display()
        );
        return Ok(());
    }
    let port = free_port()?;
    let mut server = Command::new(&binary)
        .args([
            "emulator",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--contacts",
            &contacts.to_string(),
        ])
        .stderr(Stdio::null())
        .spawn()?;
    let base_url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            server.kill()?;
            return Err("the emulator did not start".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let output = Command::new(&binary)
        .args([
            "--base-url",
            &base_url,
            "--format",
            "csv",
            "--stats",
            "-c",
            query,
        ])
        .env("INTERCOM_ACCESS_TOKEN", EmulatorConfig::default().token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    let wall = started.elapsed();
    server.kill()?;
    server.wait()?;
    let lines = output
        .stdout
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(1);
    println!("cli: intercom-sql --format csv -c \"{query}\" (emulator in its own process)");
    println!("  exit status            {}", output.status);
    println!("  rows printed           {lines}");
    println!(
        "  wall time              {:.3} s (process start to exit)",
        wall.as_secs_f64()
    );
    println!(
        "  rows/s                 {:.0}",
        lines as f64 / wall.as_secs_f64()
    );
    println!("  {}", String::from_utf8_lossy(&output.stderr).trim());
    Ok(())
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}
