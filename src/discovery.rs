//! What a workspace adds to the fixed tables: its custom attributes, discovered with
//! `GET /data_attributes` and registered as typed columns (see [`crate::tables::custom`]),
//! and the SQL spelling `custom_attributes.<name>` for them.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use datafusion::arrow::datatypes::Field;
use datafusion::common::{Column, Result as DfResult, TableReference};
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::prelude::SessionContext;

use serde_json::{Value, json};

use crate::client::{ApiRequest, IntercomClient};
use crate::config::AccessToken;
use crate::error::Error;
use crate::provider::IntercomTable;
use crate::tables::{self, TableDef, custom};

/// Fetches the custom attributes of the tables `wanted` picks among those that have them
/// (contacts, companies, conversations) and re-registers those tables in `ctx` with a typed
/// column per attribute. Returns the new definitions.
///
/// One request per model. A failure leaves every table as it was and is returned, so the
/// caller can decide whether the JSON `custom_attributes` column is enough.
pub async fn discover_custom_attributes(
    ctx: &SessionContext,
    client: &Arc<IntercomClient>,
    wanted: impl Fn(&TableDef) -> bool,
    cache: Option<&SchemaCache>,
) -> Result<Vec<TableDef>, Error> {
    let requests = tables::all()
        .iter()
        .filter(|def| wanted(def))
        .filter_map(|def| Some((def, def.custom_attributes?)))
        .map(|(def, model)| async move {
            let body = match cache.and_then(|c| c.get(model.model)) {
                Some(body) => body,
                None => {
                    let request =
                        ApiRequest::get("/data_attributes").with_query("model", model.model);
                    let body = client.send(&request).await?;
                    if let Some(cache) = cache {
                        cache.put(model.model, &body);
                    }
                    body
                }
            };
            let attributes = custom::parse(&body);
            Ok::<_, Error>(Some(
                def.clone()
                    .with_custom_attributes(&attributes, model.searchable),
            ))
        });
    let defs: Vec<TableDef> = futures::future::try_join_all(requests)
        .await?
        .into_iter()
        .flatten()
        .collect();
    register(ctx, client, &defs)?;
    Ok(defs)
}

/// Registers `defs` in `ctx`, each in place of the table of its name (the fixed table a
/// workspace extended, or a table of its own).
pub(crate) fn register(
    ctx: &SessionContext,
    client: &Arc<IntercomClient>,
    defs: &[TableDef],
) -> Result<(), Error> {
    for def in defs {
        let name = def.name.as_str();
        ctx.deregister_table(name)?;
        ctx.register_table(
            name,
            Arc::new(IntercomTable::new(def.clone(), client.clone())),
        )?;
    }
    Ok(())
}

/// Fetches the workspace's ticket types (`GET /ticket_types`, one request, or the `cache`'s
/// answer) and registers one table per type in `ctx` (see [`tables::typed_tickets`]).
/// Returns their definitions.
pub async fn discover_ticket_types(
    ctx: &SessionContext,
    client: &Arc<IntercomClient>,
    cache: Option<&SchemaCache>,
) -> Result<Vec<TableDef>, Error> {
    const KEY: &str = "ticket_types";
    let body = match cache.and_then(|c| c.get(KEY)) {
        Some(body) => body,
        None => {
            let body = client.send(&ApiRequest::get("/ticket_types")).await?;
            if let Some(cache) = cache {
                cache.put(KEY, &body);
            }
            body
        }
    };
    let defs = tables::typed_tickets::from_ticket_types(&body);
    register(ctx, client, &defs)?;
    Ok(defs)
}

/// The `GET /data_attributes` answers of one workspace kept on disk between runs, so that a
/// one-off `-c` lookup does not list the attributes again (`--schema-ttl`, `--refresh-schema`).
/// One file per API root and token, named by a hash of both: it holds attribute names and
/// types, never the token. A file that cannot be read or written is ignored: the attributes
/// are then asked for as if it were not there.
#[derive(Clone, Debug)]
pub struct SchemaCache {
    path: PathBuf,
    ttl: Duration,
    refresh: bool,
}

impl SchemaCache {
    /// The cache of the workspace at `base_url` reached with `token`, under `dir`: answers
    /// younger than `ttl` are used; with `refresh`, none is, and new ones replace them.
    pub fn new(
        dir: &Path,
        base_url: &str,
        token: &AccessToken,
        ttl: Duration,
        refresh: bool,
    ) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (base_url, token.expose()).hash(&mut hasher);
        Self {
            path: dir.join(format!("schema-{:016x}.json", hasher.finish())),
            ttl,
            refresh,
        }
    }

    /// The file it reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn read(&self) -> Value {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_else(|| json!({}))
    }

    /// The kept answer for `model`, if it is younger than the TTL.
    fn get(&self, model: &str) -> Option<Value> {
        if self.refresh {
            return None;
        }
        let file = self.read();
        let entry = file.get(model)?;
        let saved = entry.get("saved_at")?.as_u64()?;
        (Self::now().saturating_sub(saved) < self.ttl.as_secs())
            .then(|| entry.get("answer").cloned())
            .flatten()
    }

    /// Keeps `answer` for `model` (written to a new file, then renamed over the old one).
    fn put(&self, model: &str, answer: &Value) {
        let mut file = self.read();
        if !file.is_object() {
            file = json!({});
        }
        file[model] = json!({"saved_at": Self::now(), "answer": answer});
        let Some(dir) = self.path.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        if let Ok(temp) = tempfile::NamedTempFile::new_in(dir)
            && serde_json::to_writer(&temp, &file).is_ok()
        {
            let _ = temp.persist(&self.path);
        }
    }
}

/// Plans `custom_attributes.plan_tier` (and `c.custom_attributes.plan_tier`) as the column
/// `"custom_attributes.plan_tier"`, the way Intercom names the field. It must come before
/// DataFusion's own planner, which would read the dot as a struct field access.
#[derive(Debug)]
pub struct CustomAttributePlanner;

impl ExprPlanner for CustomAttributePlanner {
    fn plan_compound_identifier(
        &self,
        field: &Field,
        qualifier: Option<&TableReference>,
        nested_names: &[String],
    ) -> DfResult<PlannerResult<Vec<Expr>>> {
        match nested_names {
            [name] if field.name() == custom::PREFIX => {
                let column = format!("{}.{name}", custom::PREFIX);
                Ok(PlannerResult::Planned(Expr::Column(Column::new(
                    qualifier.cloned(),
                    column,
                ))))
            }
            _ => Ok(PlannerResult::Original(Vec::new())),
        }
    }
}
