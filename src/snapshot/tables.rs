//! Which tables a snapshot can hold, and how each is read: incrementally (by `updated_at`
//! through Intercom's search) or whole.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use crate::error::Error;
use crate::provider::IntercomTable;
use crate::tables::{self, SearchType, Source, TableDef};

/// The column an incremental read filters on.
pub const UPDATED_AT: &str = "updated_at";
/// The primary key rows are merged by.
pub const KEY: &str = "id";

/// A table to sync, as the session declares it (custom attributes included).
#[derive(Clone, Debug)]
pub struct SyncTable {
    /// SQL name.
    pub name: String,
    /// Its columns as the session reads them.
    pub schema: SchemaRef,
    /// Whether only rows changed since the last sync can be asked for: the table's search
    /// filters `updated_at` (contacts, conversations, tickets and the ticket types' tables).
    pub incremental: bool,
    /// Whether rows have an `id` to merge and deduplicate by.
    pub keyed: bool,
}

/// The tables `intercom-sql sync` reads when none are named: every top-level table a list
/// endpoint reads whole in requests proportional to its size. Child tables (one request per
/// parent: `contact_tags`, `conversation_parts`, …) are synced only when named.
pub fn default_tables() -> Vec<String> {
    tables::all()
        .iter()
        .filter(|def| matches!(def.source, Source::List(_)) && readable_whole(def).is_ok())
        .map(|def| def.name.clone())
        .collect()
}

/// Whether `def` can be read without a key (a table Intercom reads only by key cannot be
/// copied).
fn readable_whole(def: &TableDef) -> Result<(), String> {
    let by_key = def.key_required.is_some()
        || match &def.source {
            Source::Lookups | Source::Keyed { .. } => true,
            Source::List(listing) => listing.names_key(),
            Source::Children { .. } => false,
        };
    match by_key {
        true => Err("Intercom reads it only by key, never whole".into()),
        false => Ok(()),
    }
}

/// The tables named, as the session declares them; refuses an unknown name (with the nearest
/// one) or a table Intercom cannot read whole, before anything is read.
pub async fn resolve(ctx: &SessionContext, names: &[String]) -> Result<Vec<SyncTable>, Error> {
    let mut resolved: Vec<SyncTable> = Vec::new();
    for name in names {
        let name = name.trim().to_lowercase();
        if resolved.iter().any(|t| t.name == name) {
            continue;
        }
        let provider = ctx.table_provider(name.as_str()).await.ok();
        let Some(table) = provider
            .as_ref()
            .and_then(|p| p.as_ref().downcast_ref::<IntercomTable>())
        else {
            let suggestion = tables::suggest(&name)
                .map(|t| format!("did you mean {}?", t.name))
                .unwrap_or_else(|| "\\dt in the shell lists the tables".into());
            return Err(Error::Config(format!(
                "no Intercom table '{name}' to sync; {suggestion}"
            )));
        };
        let def = table.def();
        readable_whole(def).map_err(|why| Error::Config(format!("cannot sync {name}: {why}")))?;
        resolved.push(SyncTable {
            name: name.clone(),
            schema: provider
                .as_ref()
                .map(|p| p.schema())
                .unwrap_or_else(|| def.schema()),
            incremental: incremental(def),
            keyed: def.column_named(KEY).is_some(),
        });
    }
    Ok(resolved)
}

/// Whether `def`'s search filters `updated_at` (pushed down as a widened search, the exact
/// predicate re-checked by the scan: see `src/pushdown/`).
fn incremental(def: &TableDef) -> bool {
    def.search.is_some()
        && def.column_named(KEY).is_some()
        && def
            .column_named(UPDATED_AT)
            .is_some_and(|c| c.search == Some(SearchType::Date))
}

/// Whether two schemas have the same columns (names and types, in order); metadata aside.
pub fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields().iter())
            .all(|(x, y)| x.name() == y.name() && x.data_type() == y.data_type())
}
