//! The engine: builds the DataFusion `SessionContext`, registers the Intercom tables, and runs SQL.
//! The REPL, the CLI, the PostgreSQL server, the tests and the examples all go through here.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt;

use crate::client::IntercomClient;
use crate::config::Config;
use crate::error::Error;
use crate::provider::IntercomTable;
use crate::settings::IntercomOptions;
use crate::tables;

/// A table as the user sees it: for `\dt`, `\d` and tab completion.
#[derive(Clone, Debug)]
pub struct TableInfo {
    /// SQL name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Arrow schema of the table.
    pub schema: SchemaRef,
    /// Per-column descriptions, in schema order.
    pub column_descriptions: Vec<String>,
}

/// Registers every Intercom table into `ctx` (default catalog and schema) and returns the
/// client the tables share, whose counters tell how many requests were made.
///
/// This is the one call an analytics application needs to embed intercom-sql.
pub fn register_intercom(
    ctx: &SessionContext,
    config: Config,
) -> Result<Arc<IntercomClient>, Error> {
    let client = Arc::new(IntercomClient::new(config)?);
    {
        // `SET intercom.pushdown = off` and friends need the settings registered.
        let state = ctx.state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        if options.extensions.get::<IntercomOptions>().is_none() {
            options.extensions.insert(IntercomOptions::default());
        }
    }
    for def in tables::all() {
        let name = def.name.clone();
        ctx.register_table(
            name.as_str(),
            Arc::new(IntercomTable::new(def, client.clone())),
        )?;
    }
    Ok(client)
}

/// A ready-to-use SQL session over one Intercom workspace.
pub struct Engine {
    ctx: SessionContext,
    client: Arc<IntercomClient>,
}

impl Engine {
    /// Builds a session with the Intercom tables registered. Makes no request.
    pub fn connect(config: Config) -> Result<Self, Error> {
        let session_config = SessionConfig::new()
            .with_information_schema(true)
            .with_default_catalog_and_schema("intercom", "public");
        let mut ctx = SessionContext::new_with_config(session_config);
        // json_get_str(custom_attributes, 'plan_tier'), `->>` and friends, for the JSON columns.
        datafusion_functions_json::register_all(&mut ctx)?;
        let client = register_intercom(&ctx, config)?;
        Ok(Self { ctx, client })
    }

    /// The DataFusion context, for callers that want to register more tables or run DataFrames.
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The shared Intercom client (request counters live here).
    pub fn client(&self) -> &Arc<IntercomClient> {
        &self.client
    }

    /// Runs one SQL statement and returns its rows as a stream: batches arrive as Intercom pages do.
    /// Dropping the stream stops the scan; no further API calls are made.
    pub async fn execute_stream(&self, sql: &str) -> Result<SendableRecordBatchStream, Error> {
        let df = self.ctx.sql(sql).await?;
        Ok(df.execute_stream().await?)
    }

    /// Runs one SQL statement and collects every row.
    pub async fn execute(&self, sql: &str) -> Result<Vec<RecordBatch>, Error> {
        let stream = self.execute_stream(sql).await?;
        Ok(stream.try_collect().await?)
    }

    /// Splits a script into statements (on `;`, respecting quotes and comments).
    pub fn split_statements(sql: &str) -> Result<Vec<String>, Error> {
        crate::session::split(sql)
    }

    /// The Intercom tables, sorted by name.
    pub fn tables(&self) -> Vec<TableInfo> {
        tables::all()
            .into_iter()
            .map(|def| TableInfo {
                name: def.name.clone(),
                description: def.description.clone(),
                schema: def.schema(),
                column_descriptions: def.columns.iter().map(|c| c.description.clone()).collect(),
            })
            .collect()
    }
}

/// Statement splitting with DataFusion's SQL tokenizer, so `;` inside strings or comments is kept.
fn split(sql: &str) -> Result<Vec<String>, Error> {
    use datafusion::sql::sqlparser::dialect::GenericDialect;
    use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| Error::Sql(e.to_string()))?;
    let mut statements = Vec::new();
    let mut current = String::new();
    // Whether `current` holds anything but whitespace and comments.
    let mut substantive = false;
    for token in tokens {
        match token {
            Token::SemiColon => {
                if substantive {
                    statements.push(current.trim().to_string());
                }
                current.clear();
                substantive = false;
            }
            Token::Whitespace(_) => current.push_str(&token.to_string()),
            other => {
                substantive = true;
                current.push_str(&other.to_string());
            }
        }
    }
    if substantive {
        statements.push(current.trim().to_string());
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_on_semicolons_outside_strings_and_skips_empty_statements() {
        let got = split("SELECT 'a;b'; -- only a comment\n; SELECT 2;;").unwrap();
        assert_eq!(
            got,
            vec!["SELECT 'a;b'".to_string(), "SELECT 2".to_string()]
        );
    }
}
