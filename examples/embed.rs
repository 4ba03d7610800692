//! Embedding intercom-sql in an analytics program: register the Intercom tables into your own
//! DataFusion `SessionContext`, then join them with a local CSV file.
//!
//! Runs against the built-in emulator unless `INTERCOM_ACCESS_TOKEN` is set:
//! `cargo run --example embed`

use datafusion::prelude::{CsvReadOptions, SessionContext};
use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::{AccessToken, Config, register_intercom};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Where Intercom is: a real workspace, or a demo emulator started in-process.
    let (config, _demo) = match std::env::var("INTERCOM_ACCESS_TOKEN") {
        Ok(token) => (
            Config::new("https://api.intercom.io", AccessToken::new(token)),
            None,
        ),
        Err(_) => {
            let demo = emulator::spawn(EmulatorConfig::default(), "127.0.0.1:0").await?;
            let config = Config::new(
                demo.base_url.clone(),
                AccessToken::new(EmulatorConfig::default().token),
            );
            (config, Some(demo))
        }
    };

    // 2. Your own context, with your own tables: here a CSV of plan prices.
    let ctx = SessionContext::new();
    let dir = tempfile_dir()?;
    let csv = dir.join("plan_prices.csv");
    std::fs::write(
        &csv,
        "plan_name,monthly_price\nStarter,49\nPro,199\nEnterprise,999\n",
    )?;
    ctx.register_csv(
        "plan_prices",
        csv.to_string_lossy().as_ref(),
        CsvReadOptions::new(),
    )
    .await?;

    // 3. One call adds every Intercom table; the returned client counts the API requests.
    let client = register_intercom(&ctx, config)?;

    // 4. Plain SQL across both worlds.
    let df = ctx
        .sql(
            "SELECT c.plan_name, count(*) AS companies, sum(p.monthly_price) AS list_price_total \
             FROM companies c LEFT JOIN plan_prices p ON p.plan_name = c.plan_name \
             GROUP BY c.plan_name ORDER BY companies DESC",
        )
        .await?;
    df.show().await?;
    println!("Intercom API requests made: {}", client.stats().requests);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// A private scratch directory for the example's CSV file.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("intercom-sql-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
