//! Benchmark: whole-table reads against an emulator in its own process that enforces Intercom's
//! rate limit (a private app's 10,000 calls a minute: 1,666 per 10-second window), at 0, 50 and
//! 200 ms per request. For each read it prints requests, 429s, wall time, rows/s, peak memory
//! and the **bound** — max(requests ÷ allowed rate, requests × latency ÷ concurrency) — with the
//! ratio of the wall time to it; each table is read twice, the second read (`again`) starting
//! from the windows the first ended with. Then zero-latency throughput (library and `-c … --format csv`),
//! peak memory for 100,000 and 1,000,000 contacts, and the requests of point queries.
//!
//! ```sh
//! cargo build --release --examples --bin intercom-sql
//! cargo run --release --example scan_benchmark             # everything (~6 minutes)
//! cargo run --release --example scan_benchmark -- --quick  # 10× smaller, no 1,000,000 run
//! cargo run --release --example scan_benchmark -- --memory # only the peak memory runs
//! cargo run --release --example scan_benchmark -- --throughput # only zero latency, 3 times
//! ```
//!
//! Each measured read starts at the beginning of a fresh rate-limit window (the benchmark
//! waits for it), so one read does not pay for the previous one's requests. Figures go in
//! docs/performance.md; nothing here asserts on time.

mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use intercom_sql::process::{mib, peak_memory_bytes, reset_peak_memory};
use intercom_sql::{AccessToken, Config, Engine};
use std::process::{Command, Stdio};
use support::{Emulator, Failure, TOKEN, WINDOW_LIMIT, WINDOW_SECS, binary, fresh_window};

#[derive(Clone, Copy)]
struct Sizes {
    contacts: usize,
    conversations: usize,
    tickets: usize,
    companies: usize,
}

async fn start_emulator(
    sizes: &Sizes,
    latency_ms: u64,
    limit: Option<u32>,
) -> Result<Emulator, Failure> {
    let mut args = vec![
        "--contacts".to_string(),
        sizes.contacts.to_string(),
        "--conversations".into(),
        sizes.conversations.to_string(),
        "--tickets".into(),
        sizes.tickets.to_string(),
        "--companies".into(),
        sizes.companies.to_string(),
        "--latency-ms".into(),
        latency_ms.to_string(),
    ];
    if let Some(limit) = limit {
        args.extend(["--rate-limit".into(), limit.to_string()]);
    }
    support::start_emulator(&args).await
}

/// 429s the emulator has answered so far.
async fn refused(emulator: &Emulator) -> Result<u64, Failure> {
    let stats: serde_json::Value = reqwest::get(format!("{}/__emulator/stats", emulator.base_url))
        .await?
        .json()
        .await?;
    Ok(stats["rate_limited"].as_u64().unwrap_or(0))
}

struct Measured {
    rows: usize,
    requests: u64,
    throttled: u64,
    refused: u64,
    wall: Duration,
    peak: u64,
}

async fn measure(engine: &Engine, emulator: &Emulator, sql: &str) -> Result<Measured, Failure> {
    let before = engine.client().stats();
    let refused_before = refused(emulator).await?;
    reset_peak_memory();
    let started = Instant::now();
    let mut stream = engine.execute_stream(sql).await?;
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        rows += batch?.num_rows();
    }
    let wall = started.elapsed();
    let after = engine.client().stats();
    Ok(Measured {
        rows,
        requests: after.requests - before.requests,
        throttled: after.throttled - before.throttled,
        refused: refused(emulator).await? - refused_before,
        wall,
        peak: peak_memory_bytes().unwrap_or(0),
    })
}

fn engine(emulator: &Emulator) -> Result<Engine, Failure> {
    Ok(Engine::connect(Config::new(
        emulator.base_url.clone(),
        AccessToken::new(TOKEN),
    ))?)
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--memory") {
        return memory_at_a_million().await;
    }
    let scale = if quick { 10 } else { 1 };
    let only_throughput = std::env::args().any(|a| a == "--throughput");
    let sizes = Sizes {
        contacts: 100_000 / scale,
        conversations: 10_000 / scale,
        tickets: 5_000 / scale,
        // Under the 10,000 that Intercom's paged company list reaches (about 9,900 get a
        // contact, and only those are listed): pages read concurrently. Past it, the scroll
        // is measured on its own (`scroll_read`).
        companies: 11_000 / scale,
    };
    if only_throughput {
        // Three runs in a row: the spread between them is the machine's noise.
        let emulator = start_emulator(&sizes, 0, Some(WINDOW_LIMIT)).await?;
        for _ in 0..3 {
            throughput(&emulator, sizes.contacts).await?;
        }
        return Ok(());
    }
    let rate = f64::from(WINDOW_LIMIT) / WINDOW_SECS as f64;
    println!(
        "Whole-table reads, library, emulator in its own process allowing {WINDOW_LIMIT} requests per {WINDOW_SECS} s ({rate:.1}/s)."
    );
    println!(
        "bound = max(requests / {rate:.1} per s, requests x latency / concurrency); ratio = wall / bound (goal <= 1.2)."
    );
    println!(
        "{:>7} {:<40} {:>9} {:>8} {:>5} {:>5} {:>8} {:>9} {:>8} {:>6} {:>10}",
        "latency",
        "query",
        "rows",
        "requests",
        "429s",
        "waits",
        "wall s",
        "rows/s",
        "bound s",
        "ratio",
        "peak RSS"
    );
    for latency_ms in [0u64, 50, 200] {
        let emulator = start_emulator(&sizes, latency_ms, Some(WINDOW_LIMIT)).await?;
        let engine = engine(&emulator)?;
        let concurrency = engine.client().budget().concurrency() as f64;
        for table in ["contacts", "conversations", "tickets", "companies"] {
            let sql = format!("SELECT * FROM {table}");
            // The first read of the table, then the same read again: it starts from the
            // windows the first ended with (kept by the engine's client).
            for label in [sql.clone(), format!("{sql} (again)")] {
                fresh_window().await;
                let m = measure(&engine, &emulator, &sql).await?;
                let requests = m.requests as f64;
                let bound = (requests / rate).max(requests * latency_ms as f64 / 1e3 / concurrency);
                print_row(latency_ms, &label, &m, bound);
            }
        }
        if latency_ms == 50 {
            point_queries(&engine, &emulator).await?;
            scroll_read(&sizes, latency_ms).await?;
        }
        if latency_ms == 0 {
            throughput(&emulator, sizes.contacts).await?;
        }
    }
    if !quick {
        // In a process of its own: what the reads above left to the allocator is not counted.
        let status = Command::new(std::env::current_exe()?)
            .arg("--memory")
            .status()?;
        if !status.success() {
            return Err(format!("the memory runs failed: {status}").into());
        }
    }
    Ok(())
}

/// Zero latency: library and CLI rows/s for every contact.
async fn throughput(emulator: &Emulator, contacts: usize) -> Result<(), Failure> {
    println!(
        "\nZero latency, {contacts} contacts, first reads (goals: library >= 150k rows/s, CLI CSV >= 100k rows/s):"
    );
    for sql in ["SELECT * FROM contacts", "SELECT id FROM contacts"] {
        fresh_window().await;
        // A new engine: nothing kept from the reads before, as for the CLI's processes.
        let m = measure(&engine(emulator)?, emulator, sql).await?;
        let per_second = m.rows as f64 / m.wall.as_secs_f64();
        println!(
            "  library {:<28} {:>7} rows {:>5} requests {:>6.2} s {:>8.0} rows/s ({:.2}x the goal) peak {}",
            sql,
            m.rows,
            m.requests,
            m.wall.as_secs_f64(),
            per_second,
            per_second / 150_000.0,
            mib(m.peak)
        );
    }
    for sql in ["SELECT * FROM contacts", "SELECT id FROM contacts"] {
        fresh_window().await;
        // Into a file, as `-c … > out.csv` writes it: a pipe read by this process would
        // measure this process's copying too, on the same two cores.
        let csv = tempfile::tempfile()?;
        let started = Instant::now();
        let output = Command::new(binary()?)
            .args([
                "--base-url",
                &emulator.base_url,
                "--format",
                "csv",
                "--stats",
                "-c",
                sql,
            ])
            .env("INTERCOM_ACCESS_TOKEN", TOKEN)
            .stdout(Stdio::from(csv.try_clone()?))
            .stderr(Stdio::piped())
            .output()?;
        let wall = started.elapsed();
        let lines = newlines(csv)?.saturating_sub(1);
        let per_second = lines as f64 / wall.as_secs_f64();
        println!(
            "  cli csv {:<28} {:>7} rows {:>6.2} s {:>8.0} rows/s ({:.2}x the goal; process start to exit) {}",
            sql,
            lines,
            wall.as_secs_f64(),
            per_second,
            per_second / 100_000.0,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The lines of `file`, read from its start.
fn newlines(mut file: std::fs::File) -> Result<usize, Failure> {
    use std::io::{Read, Seek};
    file.seek(std::io::SeekFrom::Start(0))?;
    let (mut buffer, mut lines) = (vec![0u8; 1 << 20], 0);
    loop {
        match file.read(&mut buffer)? {
            0 => return Ok(lines),
            n => lines += buffer[..n].iter().filter(|&&b| b == b'\n').count(),
        }
    }
}

/// Queries that must stay one request each, through the library and the CLI.
/// Companies past the paged list's 10,000 are read from the company scroll: one page after
/// another (one scroll per app at a time), so the bound is requests x latency.
async fn scroll_read(sizes: &Sizes, latency_ms: u64) -> Result<(), Failure> {
    let sizes = Sizes {
        companies: 20_000 * sizes.contacts / 100_000,
        ..*sizes
    };
    let emulator = start_emulator(&sizes, latency_ms, Some(WINDOW_LIMIT)).await?;
    let engine = engine(&emulator)?;
    fresh_window().await;
    let sql = "SELECT * FROM companies";
    let m = measure(&engine, &emulator, sql).await?;
    let bound = m.requests as f64 * latency_ms as f64 / 1e3;
    println!(
        "\nCompanies past the list's 10,000, read from the scroll (sequential: bound = requests x latency):"
    );
    print_row(latency_ms, sql, &m, bound);
    Ok(())
}

/// One row of the whole-table reads' table.
fn print_row(latency_ms: u64, sql: &str, m: &Measured, bound: f64) {
    println!(
        "{:>5}ms {:<40} {:>9} {:>8} {:>5} {:>5} {:>8.2} {:>9.0} {:>8.2} {:>6.2} {:>10}",
        latency_ms,
        sql,
        m.rows,
        m.requests,
        m.refused,
        m.throttled,
        m.wall.as_secs_f64(),
        m.rows as f64 / m.wall.as_secs_f64(),
        bound,
        m.wall.as_secs_f64() / bound,
        mib(m.peak)
    );
}

async fn point_queries(engine: &Engine, emulator: &Emulator) -> Result<(), Failure> {
    let sample = engine
        .execute("SELECT id, email FROM contacts WHERE email IS NOT NULL LIMIT 1")
        .await?;
    let batch = sample.first().ok_or("no contact")?;
    let text = |i: usize| -> Result<String, Failure> {
        let column = batch
            .column(i)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::StringArray>()
            .ok_or("not text")?;
        Ok(column.value(0).to_string())
    };
    let (id, email) = (text(0)?, text(1)?);
    // The first contact carries 12 tags, companies and notes: with `intercom.complete_lists`
    // on, `SELECT *` completes each of its three cut lists (one request each).
    println!(
        "\nPoint queries at 50 ms (goal: 1 request each; + 1 per cut list completed, this contact has 3):"
    );
    for complete in ["on", "off"] {
        engine
            .execute(&format!("SET intercom.complete_lists = {complete}"))
            .await?;
        for sql in [
            format!("SELECT * FROM contacts WHERE id = '{id}'"),
            "SELECT * FROM contacts LIMIT 10".to_string(),
            format!("SELECT * FROM contacts WHERE email = '{email}'"),
        ] {
            let m = measure(engine, emulator, &sql).await?;
            println!(
                "  library complete_lists={complete:<3} {:<70} {:>2} rows {:>2} requests {:>6.0} ms",
                sql,
                m.rows,
                m.requests,
                m.wall.as_secs_f64() * 1e3
            );
        }
    }
    engine.execute("SET intercom.complete_lists = on").await?;
    let sql = format!("SELECT * FROM contacts WHERE email = '{email}'");
    let output = Command::new(binary()?)
        .args(["--base-url", &emulator.base_url, "--stats", "-c", &sql])
        .env("INTERCOM_ACCESS_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    println!(
        "  cli     {:<70} {}",
        sql,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// Peak memory of the library reading every contact, for 100,000 and 1,000,000 contacts
/// (goal: flat in the row count, at most 150 MiB).
async fn memory_at_a_million() -> Result<(), Failure> {
    println!(
        "\nPeak memory of SELECT * FROM contacts, zero latency, no rate limit (goal: <= 150 MiB, flat):"
    );
    for contacts in [100_000, 1_000_000] {
        let sizes = Sizes {
            contacts,
            conversations: 10,
            tickets: 10,
            companies: 10,
        };
        let emulator = start_emulator(&sizes, 0, None).await?;
        let engine = engine(&emulator)?;
        let m = measure(&engine, &emulator, "SELECT * FROM contacts").await?;
        println!(
            "  {:>9} contacts: {:>9} rows {:>6} requests {:>7.2} s {:>8.0} rows/s peak {} ({:.2}x the goal)",
            contacts,
            m.rows,
            m.requests,
            m.wall.as_secs_f64(),
            m.rows as f64 / m.wall.as_secs_f64(),
            mib(m.peak),
            m.peak as f64 / (150.0 * 1024.0 * 1024.0)
        );
    }
    Ok(())
}
