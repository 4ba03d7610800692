//! A snapshot directory as a schema of a session (`snapshot.contacts`), next to the live
//! tables. The directory is looked at again on every query, so a sync running meanwhile
//! (another process) shows its tables as each is put in place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::{SchemaProvider, TableProvider};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;

use super::state::{STATE_FILE, SnapshotState};
use crate::error::Error;

/// The name of the schema a snapshot is attached as.
pub const SCHEMA: &str = "snapshot";

/// Attaches the snapshot in `dir` to `ctx` as the schema `snapshot` of the session's default
/// catalog: `SELECT … FROM snapshot.contacts c JOIN conversations …`. Reads only the state
/// file (synchronously), so it suits a server's per-session setup.
pub fn attach(ctx: &SessionContext, dir: &Path) -> Result<(), Error> {
    let dir = check_dir(dir)?;
    let catalog_name = ctx
        .state_ref()
        .read()
        .config()
        .options()
        .catalog
        .default_catalog
        .clone();
    let catalog = ctx.catalog(&catalog_name).ok_or_else(|| {
        Error::Config(format!(
            "the session has no catalog {catalog_name} to attach to"
        ))
    })?;
    catalog.register_schema(SCHEMA, Arc::new(SnapshotSchema { dir }))?;
    Ok(())
}

/// `dir` made absolute, once it is known to hold a snapshot.
pub fn check_dir(dir: &Path) -> Result<PathBuf, Error> {
    let missing = || {
        Error::Config(format!(
            "{} holds no snapshot: write one with intercom-sql sync --to {}",
            dir.display(),
            dir.display()
        ))
    };
    let absolute = std::fs::canonicalize(dir).map_err(|_| missing())?;
    if !absolute.is_dir() {
        return Err(Error::Config(format!(
            "{} is not a directory: --snapshot takes the directory intercom-sql sync --to wrote",
            dir.display()
        )));
    }
    match SnapshotState::load(&absolute)? {
        Some(_) => Ok(absolute),
        None => Err(missing()),
    }
}

/// The tables of a snapshot directory, per its state file.
#[derive(Debug)]
pub struct SnapshotSchema {
    dir: PathBuf,
}

impl SnapshotSchema {
    fn state(&self) -> Option<SnapshotState> {
        SnapshotState::load(&self.dir).ok().flatten()
    }

    fn file_of(&self, name: &str) -> Option<PathBuf> {
        let state = self.state()?;
        let table = state.tables.get(name)?;
        let path = self.dir.join(&table.file);
        path.is_file().then_some(path)
    }
}

#[async_trait::async_trait]
impl SchemaProvider for SnapshotSchema {
    fn table_names(&self) -> Vec<String> {
        self.state()
            .map(|state| {
                state
                    .tables
                    .iter()
                    .filter(|(_, t)| self.dir.join(&t.file).is_file())
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let Some(path) = self.file_of(name) else {
            return Ok(None);
        };
        let schema = super::files::file_schema(&path)
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .ok_or_else(|| {
                DataFusionError::Execution(format!(
                    "{} disappeared; is a sync replacing it? ({} in {})",
                    path.display(),
                    STATE_FILE,
                    self.dir.display()
                ))
            })?;
        let url = ListingTableUrl::parse(path.to_string_lossy())?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(schema);
        Ok(Some(Arc::new(ListingTable::try_new(config)?)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.file_of(name).is_some()
    }
}
