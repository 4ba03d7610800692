//! Benchmark: `intercom-sql sync` (the library's `snapshot::sync`), a first sync against an
//! incremental one, on the same emulator and data. The emulator runs in its own process with
//! 100,000 contacts and 1,000 companies, 50 ms per request and a private app's rate limit
//! (1,666 requests per 10-second window). It prints, for each sync, the requests sent and the
//! wall time per table:
//!
//! 1. the first sync of `contacts` and `companies` (both read whole);
//! 2. after 1% of the contacts changed (an UPDATE through the engine), a re-sync: contacts
//!    through the search on `updated_at`, companies whole (their search has no `updated_at`);
//! 3. after one contact was deleted, a re-sync: the count shows it, contacts are read whole;
//! 4. `--full`: both read whole, as a re-export would.
//!
//! ```sh
//! cargo build --release --examples --bin intercom-sql
//! cargo run --release --example sync_benchmark             # 100,000 contacts (~2 minutes)
//! cargo run --release --example sync_benchmark -- --quick  # 10,000 contacts
//! ```
//!
//! Each sync starts at the beginning of a fresh rate-limit window. Figures go in
//! docs/performance.md; nothing here asserts on time.

mod support;

use std::time::Instant;

use datafusion::arrow::array::{Array, AsArray};
use intercom_sql::snapshot::{self, SyncOptions, SyncReport};
use intercom_sql::{AccessToken, Config, Engine};
use support::{Emulator, Failure, TOKEN, WINDOW_LIMIT, WINDOW_SECS, fresh_window};

const LATENCY_MS: u64 = 50;

async fn start_emulator(contacts: usize, companies: usize) -> Result<Emulator, Failure> {
    let args = [
        "--contacts".to_string(),
        contacts.to_string(),
        "--companies".into(),
        companies.to_string(),
        "--latency-ms".into(),
        LATENCY_MS.to_string(),
        "--rate-limit".into(),
        WINDOW_LIMIT.to_string(),
    ];
    support::start_emulator(&args).await
}

/// Runs one sync from a fresh window and prints a line per table; returns its report.
async fn measured(
    engine: &Engine,
    dir: &std::path::Path,
    step: &str,
    options: &SyncOptions,
) -> Result<SyncReport, Failure> {
    fresh_window().await;
    let tables = ["contacts".to_string(), "companies".to_string()];
    let report = snapshot::sync(engine, dir, &tables, options).await?;
    if let Some((table, message)) = report.failed.first() {
        return Err(format!("{table}: {message}").into());
    }
    for t in &report.synced {
        let reads: Vec<String> = t.reads.iter().map(|r| r.to_string()).collect();
        println!(
            "{:<34} {:<10} {:<52} {:>8} {:>8} {:>8} {:>9.2} s",
            step,
            t.table,
            reads.join(" + "),
            t.rows_read,
            t.rows,
            t.requests,
            t.wall.as_secs_f64()
        );
    }
    println!(
        "{:<34} {:<10} {:<52} {:>8} {:>8} {:>8} {:>9.2} s",
        "",
        "(all)",
        "incl. GET /me",
        "",
        "",
        report.requests,
        report.wall.as_secs_f64()
    );
    Ok(report)
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let quick = std::env::args().any(|a| a == "--quick");
    let contacts = if quick { 10_000 } else { 100_000 };
    let companies = if quick { 100 } else { 1_000 };
    let changed = contacts / 100;
    println!(
        "intercom-sql sync: emulator in its own process, {contacts} contacts, {companies} companies, {LATENCY_MS} ms per request, {WINDOW_LIMIT} requests per {WINDOW_SECS} s."
    );
    let emulator = start_emulator(contacts, companies).await?;
    let engine = Engine::connect(Config::new(
        emulator.base_url.clone(),
        AccessToken::new(TOKEN),
    ))?;
    engine.discover_custom_attributes().await?;
    let dir = tempfile::tempdir()?;
    let options = SyncOptions::default();
    println!(
        "{:<34} {:<10} {:<52} {:>8} {:>8} {:>8} {:>11}",
        "step", "table", "reads", "rows read", "rows", "requests", "wall"
    );
    let first = measured(&engine, dir.path(), "1. first sync", &options).await?;

    // 1% of the contacts change.
    let ids: Vec<String> = engine
        .execute(&format!(
            "SELECT id FROM contacts ORDER BY id LIMIT {changed}"
        ))
        .await?
        .iter()
        .flat_map(|b| {
            let column = b.column(0).as_string::<i32>();
            (0..column.len())
                .map(|i| format!("'{}'", column.value(i)))
                .collect::<Vec<_>>()
        })
        .collect();
    engine
        .execute(&format!("SET intercom.max_write_rows = {}", ids.len()))
        .await?;
    let started = Instant::now();
    engine
        .execute(&format!(
            "UPDATE contacts SET name = 'Changed For The Benchmark' WHERE id IN ({})",
            ids.join(", ")
        ))
        .await?;
    println!(
        "   ({} contacts updated in {:.1} s, not measured)",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let second = measured(
        &engine,
        dir.path(),
        &format!("2. re-sync, {changed} contacts changed"),
        &options,
    )
    .await?;

    engine
        .execute(&format!("DELETE FROM contacts WHERE id = {}", ids[0]))
        .await?;
    let third = measured(
        &engine,
        dir.path(),
        "3. re-sync, 1 contact deleted",
        &options,
    )
    .await?;
    let full = SyncOptions {
        full: true,
        ..SyncOptions::default()
    };
    let fourth = measured(&engine, dir.path(), "4. re-sync --full", &full).await?;

    let contacts_of = |r: &SyncReport| {
        r.synced
            .iter()
            .find(|t| t.table == "contacts")
            .map(|t| (t.requests, t.wall))
            .unwrap_or_default()
    };
    let (first_requests, first_wall) = contacts_of(&first);
    let (second_requests, second_wall) = contacts_of(&second);
    println!(
        "contacts, first sync / re-sync after 1% changed: {:.0}x fewer requests ({first_requests} / {second_requests}), {:.0}x less wall time ({:.2} s / {:.2} s)",
        first_requests as f64 / second_requests.max(1) as f64,
        first_wall.as_secs_f64() / second_wall.as_secs_f64().max(1e-6),
        first_wall.as_secs_f64(),
        second_wall.as_secs_f64()
    );
    println!(
        "whole sync (all tables): first {} requests {:.2} s; 1% changed {} requests {:.2} s; 1 deleted {} requests {:.2} s; --full {} requests {:.2} s",
        first.requests,
        first.wall.as_secs_f64(),
        second.requests,
        second.wall.as_secs_f64(),
        third.requests,
        third.wall.as_secs_f64(),
        fourth.requests,
        fourth.wall.as_secs_f64()
    );
    Ok(())
}
