//! sqllogictest goldens: every `.slt` file under `tests/slt/` runs against a fresh built-in
//! emulator (the seeded demo workspace) and engine, with the `sqllogictest` crate DataFusion
//! itself uses. A change in the requests a query sends or in its results shows up as a diff of
//! a text file.
//!
//! - `tests/slt/explain/<table>.slt`: the requests of each table's typical predicates (id,
//!   parent key, each searchable column, LIMIT, a join). For `EXPLAIN`, the runner keeps only
//!   the scans of the physical plan (`IntercomScanExec: table=… request: …`), one row each,
//!   so the goldens hold the requests and not DataFusion's plan shape.
//! - `tests/slt/results/*.slt`: results over the demo workspace.
//!
//! Rewrite the expected output after an intended change with
//! `INTERCOM_SQL_SLT_UPDATE=1 cargo test --test it slt`, then review the diff.

use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::DataType;
use sqllogictest::{
    AsyncDB, DBOutput, DefaultColumnType, Runner, default_column_validator, default_normalizer,
    default_validator,
};

use crate::common::{TestEnv, start, strings};

/// The engine as the sqllogictest runner sees it.
struct Golden {
    env: TestEnv,
}

/// A statement's one-line error, as the `.slt` files match it.
#[derive(Debug)]
struct GoldenError(String);

impl std::fmt::Display for GoldenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoldenError {}

#[async_trait::async_trait]
impl AsyncDB for Golden {
    type Error = GoldenError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, GoldenError> {
        let executed = self
            .env
            .engine
            .execute_statement(sql)
            .await
            .map_err(|e| GoldenError(e.user_message()))?;
        let schema = executed.stream.schema();
        let batches: Vec<_> = futures::TryStreamExt::try_collect(executed.stream)
            .await
            .map_err(|e| GoldenError(e.to_string()))?;
        if let Some(command) = executed.command {
            let count = strings(&batches)
                .first()
                .and_then(|row| row.first()?.parse().ok())
                .unwrap_or(0);
            return Ok(match command {
                "INSERT" | "UPDATE" | "DELETE" => DBOutput::StatementComplete(count),
                _ => DBOutput::StatementComplete(0),
            });
        }
        let rows = strings(&batches);
        if is_explain(sql) {
            return Ok(DBOutput::Rows {
                types: vec![DefaultColumnType::Text],
                rows: scan_lines(&rows),
            });
        }
        let types = schema
            .fields()
            .iter()
            .map(|f| column_type(f.data_type()))
            .collect();
        let rows = rows
            .into_iter()
            .map(|row| row.into_iter().map(|v| cell(&v)).collect())
            .collect();
        Ok(DBOutput::Rows { types, rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "intercom-sql"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await;
    }
}

fn is_explain(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split_whitespace()
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    words.first().is_some_and(|w| w == "EXPLAIN") && words.get(1).is_none_or(|w| w != "ANALYZE")
}

/// The scans of an `EXPLAIN` result (plan_type, plan), one row each (see
/// [`crate::common::scan_blocks`]), in plan order.
fn scan_lines(rows: &[Vec<String>]) -> Vec<Vec<String>> {
    rows.iter()
        .filter(|row| row.first().is_some_and(|t| t == "physical_plan"))
        .filter_map(|row| row.get(1))
        .flat_map(|plan| crate::common::scan_blocks(plan))
        .map(|scan| vec![scan])
        .collect()
}

fn column_type(data_type: &DataType) -> DefaultColumnType {
    if data_type.is_integer() {
        DefaultColumnType::Integer
    } else if data_type.is_floating() || matches!(data_type, DataType::Decimal128(..)) {
        DefaultColumnType::FloatingPoint
    } else {
        DefaultColumnType::Text
    }
}

/// One value as a `.slt` cell: the empty string is `(empty)`, as sqllogictest writes it.
fn cell(value: &str) -> String {
    if value.is_empty() {
        "(empty)".to_string()
    } else {
        value.to_string()
    }
}

/// Every `.slt` file under `dir`, sorted.
fn slt_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "slt") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[tokio::test]
async fn sqllogictest_goldens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let files = slt_files(&root);
    assert!(
        files.len() >= 20,
        "expected the goldens under {}",
        root.display()
    );
    let update = std::env::var_os("INTERCOM_SQL_SLT_UPDATE").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = Runner::new(|| async {
            let env = start().await;
            // EXPLAIN's lines unwrapped: one golden row per scan, whatever its length.
            env.rows("SET intercom.explain_width = 0").await;
            Ok(Golden { env })
        });
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        if update {
            if let Err(e) = runner
                .update_test_file(
                    file,
                    " ",
                    default_validator,
                    default_normalizer,
                    default_column_validator,
                )
                .await
            {
                failures.push(format!("{name}: {e}"));
            }
        } else if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{name}: {}", e.display(false)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} .slt files differ (rewrite with INTERCOM_SQL_SLT_UPDATE=1 and review the diff):\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
