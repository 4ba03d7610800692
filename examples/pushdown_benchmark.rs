//! Benchmark: a fixed set of queries against an emulator with 100,000 contacts and 50 ms of
//! latency per request, with pushdown on and off. Prints requests, rows transferred and wall time.
//!
//! `cargo run --release --example pushdown_benchmark -- [contacts] [latency_ms]`
//! Figures go in docs/performance.md; nothing here asserts on time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::physical_plan::{ExecutionPlan, collect};
use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::{AccessToken, Config, Engine};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let contacts: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(100_000);
    let latency_ms: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(50);
    let config = EmulatorConfig {
        contacts,
        latency: Duration::from_millis(latency_ms),
        ..EmulatorConfig::default()
    };
    let demo = emulator::spawn(config.clone(), "127.0.0.1:0").await?;
    let contact = demo
        .state
        .snapshot("contacts")
        .into_iter()
        .nth(contacts / 2)
        .ok_or("no contacts")?;
    let conversation = demo
        .state
        .snapshot("conversations")
        .into_iter()
        .next()
        .ok_or("no conversations")?;
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let queries = [
        format!(
            "SELECT id FROM contacts WHERE email = '{}'",
            text(&contact, "email")
        ),
        format!(
            "SELECT email FROM contacts WHERE id = '{}'",
            text(&contact, "id")
        ),
        "SELECT count(*) FROM contacts WHERE location_country = 'Germany' AND role = 'lead'"
            .to_string(),
        "SELECT count(*) FROM contacts WHERE created_at > TIMESTAMP '2025-06-01T00:00:00Z'"
            .to_string(),
        "SELECT id, email FROM contacts LIMIT 10".to_string(),
        format!(
            "SELECT count(*) FROM conversation_parts WHERE conversation_id = '{}'",
            text(&conversation, "id")
        ),
        "SELECT count(*) FROM contacts WHERE custom_attributes.plan_tier = 'enterprise' \
         AND custom_attributes.seats > 100"
            .to_string(),
        format!(
            "SELECT t.tag_name FROM contacts c JOIN contact_tags t ON t.contact_id = c.id \
             WHERE c.email = '{}'",
            text(&contact, "email")
        ),
        "SELECT count(*) FROM tags t JOIN tag_companies c ON c.tag_id = t.id WHERE t.name = 'VIP'"
            .to_string(),
    ];
    println!("{contacts} contacts, {latency_ms} ms latency per request");
    println!(
        "{:<9} {:>9} {:>15} {:>10} {:>7}  query",
        "pushdown", "requests", "rows fetched", "wall ms", "rows"
    );
    for query in &queries {
        for pushdown in ["on", "off"] {
            // Without pushdown a join walks every contact's tags: one request per contact.
            if pushdown == "off" && query.contains("contact_tags") && contacts > 10_000 {
                println!(
                    "{pushdown:<9} {:>9} {:>15} {:>10} {:>7}  (skipped: walks every contact's tags)",
                    format!(">{contacts}"),
                    "-",
                    "-",
                    "-"
                );
                continue;
            }
            let engine = Engine::connect(Config::new(
                demo.base_url.clone(),
                AccessToken::new(config.token.clone()),
            ))?;
            engine.discover_custom_attributes().await?;
            let setup = engine.client().stats().requests;
            engine
                .execute(&format!("SET intercom.pushdown = {pushdown}"))
                .await?;
            let started = Instant::now();
            let plan = engine
                .context()
                .sql(query)
                .await?
                .create_physical_plan()
                .await?;
            let batches = collect(plan.clone(), engine.context().task_ctx()).await?;
            let wall = started.elapsed();
            let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
            println!(
                "{pushdown:<9} {:>9} {:>15} {:>10} {:>7}  {query}",
                engine.client().stats().requests - setup,
                rows_fetched(&plan),
                wall.as_millis(),
                rows
            );
        }
    }
    Ok(())
}

/// Rows Intercom sent, summed over the plan's scans (their `rows_fetched` metric).
fn rows_fetched(plan: &Arc<dyn ExecutionPlan>) -> usize {
    let own = plan
        .metrics()
        .and_then(|m| m.sum_by_name("rows_fetched"))
        .map(|v| v.as_usize())
        .unwrap_or(0);
    own + plan.children().into_iter().map(rows_fetched).sum::<usize>()
}
