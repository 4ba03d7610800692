//! Incremental snapshots: Intercom tables kept as Parquet files in a directory, brought up to
//! date by reading only what changed (`intercom-sql sync --to DIR`, docs/snapshots.md), and
//! attached to a session as the schema `snapshot` ([`attach`]).
//!
//! Every read goes through the engine's own SQL, so pushdown does the work: a first sync is
//! `SELECT * FROM t`; a later one of a table whose search filters `updated_at` (contacts,
//! conversations, tickets) is `SELECT * FROM t WHERE updated_at >= TIMESTAMP '…'`, which the
//! engine sends as a search widened to whole days and re-checks to the second
//! (docs/intercom-notes.md, "Search: dates"). The time asked from is the last read's start less
//! a margin for the search's lag (docs/intercom-notes.md, "Search lag"). Changed rows replace
//! the snapshot's rows with the same `id`; other tables are read whole each time.
//!
//! Each table's file is written beside it and renamed into place, then the state file is
//! rewritten the same way: a sync stopped anywhere leaves every table as it was before or as
//! it is after, and the next sync redoes the tables that did not finish.

mod attach;
mod files;
mod state;
mod tables;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use futures::StreamExt;

pub use attach::{SCHEMA, SnapshotSchema, attach, check_dir};
pub use state::{STATE_FILE, SnapshotState, TableState};
pub use tables::default_tables;

use crate::error::Error;
use crate::print::thousands;
use crate::session::Engine;
use files::{ParquetOut, Seen};
use tables::SyncTable;

/// How far before the last read's start an incremental read starts: Intercom's search trails
/// writes by seconds to a minute (docs/intercom-notes.md, "Search lag"), and the two clocks may
/// differ a little.
pub const DEFAULT_LAG_MARGIN: Duration = Duration::from_secs(10 * 60);
/// How old a table's last whole read may be before the next sync reads it whole again, which
/// drops the rows deleted from Intercom.
pub const DEFAULT_FULL_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Receives the progress of a sync (see [`Progress`]).
pub type ProgressSink = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// How [`sync`] reads.
#[derive(Clone)]
pub struct SyncOptions {
    /// How far before the last read's start an incremental read starts (default
    /// [`DEFAULT_LAG_MARGIN`]).
    pub lag_margin: Duration,
    /// Read a table whole again when its last whole read is older than this (default
    /// [`DEFAULT_FULL_EVERY`]); zero: only when a count shows rows were deleted.
    pub full_every: Duration,
    /// Read every table whole now.
    pub full: bool,
    /// Where progress goes (nowhere by default).
    pub progress: Option<ProgressSink>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            lag_margin: DEFAULT_LAG_MARGIN,
            full_every: DEFAULT_FULL_EVERY,
            full: false,
            progress: None,
        }
    }
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("lag_margin", &self.lag_margin)
            .field("full_every", &self.full_every)
            .field("full", &self.full)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What a sync is doing.
pub enum Progress<'a> {
    /// A read of `table` is under way: rows received and requests sent so far for the table.
    Reading {
        /// The table.
        table: &'a str,
        /// What is being read.
        read: &'a Read,
        /// Rows received.
        rows: u64,
        /// Requests sent for this table so far.
        requests: u64,
    },
    /// A table is up to date.
    Synced(&'a TableSync),
    /// A table could not be synced; it stays as it was.
    Failed {
        /// The table.
        table: &'a str,
        /// Why, in one line.
        message: &'a str,
    },
}

/// One read of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// Every row, for this reason.
    Whole(Why),
    /// The rows whose `updated_at` is at or after this time.
    Changed {
        /// The first `updated_at` asked for: the last read's start less the lag margin.
        since: DateTime<Utc>,
    },
}

/// Why a table is read whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The snapshot has no file for it yet.
    First,
    /// The caller asked for it ([`SyncOptions::full`]).
    Asked,
    /// Its search cannot filter `updated_at` (or it has none).
    NotIncremental,
    /// Its columns changed since the file was written (a custom attribute added or archived).
    Columns,
    /// Its last whole read is older than [`SyncOptions::full_every`].
    Scheduled,
    /// Intercom counts fewer rows than the snapshot holds: some were deleted.
    Deletions,
}

impl std::fmt::Display for Read {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Read::Changed { since } => write!(
                f,
                "rows changed since {}",
                since.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            Read::Whole(why) => f.write_str(match why {
                Why::First => "whole (first sync)",
                Why::Asked => "whole (--full)",
                Why::NotIncremental => "whole (no search on updated_at)",
                Why::Columns => "whole (its columns changed)",
                Why::Scheduled => "whole (last whole read older than --full-every)",
                Why::Deletions => "whole (Intercom counts fewer rows: deletions)",
            }),
        }
    }
}

/// What a sync did to one table.
#[derive(Clone, Debug)]
pub struct TableSync {
    /// The table.
    pub table: String,
    /// The reads made, in order (an incremental read may be followed by a whole one).
    pub reads: Vec<Read>,
    /// Rows received from Intercom.
    pub rows_read: u64,
    /// Rows in the snapshot's file now.
    pub rows: u64,
    /// Rows of the snapshot replaced by a newer version (incremental reads).
    pub replaced: u64,
    /// Ids new to the snapshot (tables with an `id`).
    pub added: u64,
    /// Ids dropped from the snapshot because Intercom no longer has them (whole reads of
    /// tables with an `id`).
    pub deleted: u64,
    /// Requests sent to Intercom for this table (the client's counter: other queries of the
    /// same process count too).
    pub requests: u64,
    /// Wall time.
    pub wall: Duration,
}

impl TableSync {
    fn new(table: &str) -> Self {
        Self {
            table: table.to_string(),
            reads: Vec::new(),
            rows_read: 0,
            rows: 0,
            replaced: 0,
            added: 0,
            deleted: 0,
            requests: 0,
            wall: Duration::ZERO,
        }
    }

    /// One line: `contacts: rows changed since …: 12 read, 10 replaced, 2 added, 0 deleted;
    /// 1,202 rows; 3 requests; 0.4 s`.
    pub fn summary(&self) -> String {
        let reads: Vec<String> = self.reads.iter().map(|r| r.to_string()).collect();
        format!(
            "{}: {}: {} read, {} replaced, {} added, {} deleted; {} rows; {} requests; {:.1} s",
            self.table,
            reads.join(", then "),
            thousands(self.rows_read),
            thousands(self.replaced),
            thousands(self.added),
            thousands(self.deleted),
            thousands(self.rows),
            thousands(self.requests),
            self.wall.as_secs_f64()
        )
    }
}

/// What [`sync`] did.
#[derive(Clone, Debug, Default)]
pub struct SyncReport {
    /// The tables brought up to date, in the order synced.
    pub synced: Vec<TableSync>,
    /// The tables that failed (table, one-line reason): each stays as it was, and the next
    /// sync reads it again.
    pub failed: Vec<(String, String)>,
    /// Requests sent in all, the workspace check included.
    pub requests: u64,
    /// Wall time.
    pub wall: Duration,
}

/// Brings the snapshot in `dir` up to date with the `tables` of `engine`'s workspace (created,
/// with `dir`, if missing). Unknown tables, and tables Intercom reads only by key, are refused
/// before anything is read. A table that fails is reported in [`SyncReport::failed`] and left
/// as it was; the others go on. Only one sync writes to a directory at a time.
///
/// Custom attributes are columns only once the engine has discovered them
/// ([`Engine::discover_custom_attributes`]); a table whose columns changed is read whole.
pub async fn sync(
    engine: &Engine,
    dir: &Path,
    tables: &[String],
    options: &SyncOptions,
) -> Result<SyncReport, Error> {
    let started = Instant::now();
    let requests_before = engine.client().stats().requests;
    let wanted = tables::resolve(engine.context(), tables).await?;
    if wanted.is_empty() {
        return Err(Error::Config("no table to sync: name at least one".into()));
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        context: format!("cannot create the snapshot directory {}", dir.display()),
        source,
    })?;
    let _lock = state::DirLock::take(dir)?;
    state::remove_partials(dir)?;
    let existing = SnapshotState::load(dir)?;
    let workspace = workspace_of(engine).await?;
    let base_url = engine.client().config().base_url.clone();
    let mut state = match existing {
        Some(state) if !state.workspace.is_empty() && state.workspace != workspace => {
            return Err(Error::Config(format!(
                "{} holds a snapshot of workspace {} ({}), not of this one ({workspace}): sync into another directory",
                dir.display(),
                state.workspace,
                state.base_url
            )));
        }
        Some(mut state) => {
            state.base_url = base_url;
            state.workspace = workspace;
            state
        }
        None => SnapshotState::new(&base_url, &workspace),
    };
    let mut report = SyncReport::default();
    for table in &wanted {
        match sync_table(engine, dir, table, &mut state, options).await {
            Ok(done) => {
                if let Some(sink) = &options.progress {
                    sink(&Progress::Synced(&done));
                }
                report.synced.push(done);
            }
            Err(e) => {
                let message = e.user_message();
                if let Some(sink) = &options.progress {
                    sink(&Progress::Failed {
                        table: &table.name,
                        message: &message,
                    });
                }
                report.failed.push((table.name.clone(), message));
            }
        }
    }
    report.requests = engine.client().stats().requests - requests_before;
    report.wall = started.elapsed();
    Ok(report)
}

/// The workspace's id (`GET /me`: `app.id_code`), or empty when Intercom does not say.
async fn workspace_of(engine: &Engine) -> Result<String, Error> {
    let batches = engine.execute("SELECT app_id_code FROM me").await?;
    Ok(batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .map(|b| {
            let column = b.column(0).as_string::<i32>();
            match column.is_null(0) {
                true => String::new(),
                false => column.value(0).to_string(),
            }
        })
        .unwrap_or_default())
}

/// Brings one table up to date and records it in the state file.
async fn sync_table(
    engine: &Engine,
    dir: &Path,
    table: &SyncTable,
    state: &mut SnapshotState,
    options: &SyncOptions,
) -> Result<TableSync, Error> {
    let started = Instant::now();
    let requests_before = engine.client().stats().requests;
    let file = format!("{}.parquet", table.name);
    let path = dir.join(&file);
    let previous = state.tables.get(&table.name).cloned();
    let on_disk = files::file_schema(&path)?;
    let whole = match (&previous, &on_disk) {
        _ if options.full => Some(Why::Asked),
        (None, _) | (_, None) => Some(Why::First),
        _ if !table.incremental => Some(Why::NotIncremental),
        (_, Some(columns)) if !tables::same_columns(columns, &table.schema) => Some(Why::Columns),
        (Some(previous), _)
            if !options.full_every.is_zero()
                && Utc::now().signed_duration_since(previous.last_full_read)
                    >= chrono::Duration::from_std(options.full_every)
                        .unwrap_or(chrono::Duration::MAX) =>
        {
            Some(Why::Scheduled)
        }
        _ => None,
    };
    let mut done = TableSync::new(&table.name);
    let step = Step {
        engine,
        dir,
        table,
        file: &file,
        options,
        requests_before,
    };
    match (whole, previous) {
        (None, Some(previous)) => {
            let margin =
                chrono::Duration::from_std(options.lag_margin).unwrap_or(chrono::Duration::zero());
            let since = previous.watermark - margin;
            let committed = step.read_changed(since, &previous, &mut done).await?;
            state.tables.insert(table.name.clone(), committed);
            state.save(dir)?;
            // One request: Intercom's total_count. Fewer live rows than the snapshot holds
            // means some were deleted, which only a whole read shows.
            let live = count(engine, &table.name).await?;
            if live < done.rows {
                let committed = step
                    .read_whole(Why::Deletions, &mut done, Some(&previous))
                    .await?;
                state.tables.insert(table.name.clone(), committed);
                state.save(dir)?;
            }
        }
        (why, previous) => {
            let committed = step
                .read_whole(why.unwrap_or(Why::First), &mut done, previous.as_ref())
                .await?;
            state.tables.insert(table.name.clone(), committed);
            state.save(dir)?;
        }
    }
    done.requests = engine.client().stats().requests - requests_before;
    done.wall = started.elapsed();
    Ok(done)
}

/// The live row count of `table` (one request where Intercom reports a total).
async fn count(engine: &Engine, table: &str) -> Result<u64, Error> {
    let batches = engine
        .execute(&format!("SELECT count(*) FROM {}", quoted(table)))
        .await?;
    Ok(batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .and_then(|b| {
            b.column(0)
                .as_primitive_opt::<Int64Type>()
                .map(|c| c.value(0))
        })
        .unwrap_or(0)
        .max(0) as u64)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The reads of one table.
struct Step<'a> {
    engine: &'a Engine,
    dir: &'a Path,
    table: &'a SyncTable,
    file: &'a str,
    options: &'a SyncOptions,
    requests_before: u64,
}

impl Step<'_> {
    fn report(&self, read: &Read, rows: u64) {
        if let Some(sink) = &self.options.progress {
            sink(&Progress::Reading {
                table: &self.table.name,
                read,
                rows,
                requests: self.engine.client().stats().requests - self.requests_before,
            });
        }
    }

    /// Runs `sql` and writes its rows (the first of each id) to the partial file `partial`;
    /// returns the ids written.
    async fn read_into(
        &self,
        sql: &str,
        read: &Read,
        partial: &Path,
        done: &mut TableSync,
    ) -> Result<(Seen, u64), Error> {
        let mut stream = self.engine.execute_stream(sql).await?;
        let mut out = ParquetOut::create(partial, self.table.schema.clone()).await?;
        let mut seen = Seen::default();
        let mut rows_read = 0u64;
        self.report(read, 0);
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows_read += batch.num_rows() as u64;
            let batch = match self.table.keyed {
                true => seen.first_of_each(&batch)?,
                false => batch,
            };
            out.write(&batch).await?;
            self.report(read, rows_read);
        }
        done.rows_read += rows_read;
        let rows = out.finish().await?;
        Ok((seen, rows))
    }

    /// Reads the table whole into a new file; returns its state, to be recorded once the file
    /// is in place (it is when this returns).
    async fn read_whole(
        &self,
        why: Why,
        done: &mut TableSync,
        previous: Option<&TableState>,
    ) -> Result<TableState, Error> {
        let read = Read::Whole(why);
        done.reads.push(read.clone());
        let read_started = Utc::now();
        let partial = state::partial_path(self.dir, self.file);
        let sql = format!("SELECT * FROM {}", quoted(&self.table.name));
        let (seen, rows) = self.read_into(&sql, &read, &partial, done).await?;
        let target = self.dir.join(self.file);
        // Ids that came and went, against the file being replaced.
        if self.table.keyed && previous.is_some() && files::file_schema(&target)?.is_some() {
            let (mut kept, mut deleted) = (0u64, 0u64);
            files::for_each_batch(&target, true, async |batch| {
                let keys = files::keys(&batch)?;
                let keys = keys.as_string::<i32>();
                for i in 0..keys.len() {
                    if keys.is_null(i) {
                        continue;
                    }
                    match seen.ids.contains(keys.value(i)) {
                        true => kept += 1,
                        false => deleted += 1,
                    }
                }
                Ok(())
            })
            .await?;
            done.deleted += deleted;
            done.added += (seen.ids.len() as u64).saturating_sub(kept);
        } else {
            done.added += seen.ids.len() as u64;
        }
        files::put_in_place(&partial, &target)?;
        done.rows = rows;
        Ok(TableState {
            file: self.file.to_string(),
            rows,
            watermark: read_started,
            last_full_read: read_started,
        })
    }

    /// Reads the rows changed since `since` and merges them into the table's file by id;
    /// returns its new state, to be recorded once the file is in place (it is when this
    /// returns).
    async fn read_changed(
        &self,
        since: DateTime<Utc>,
        previous: &TableState,
        done: &mut TableSync,
    ) -> Result<TableState, Error> {
        // Whole seconds, rounded down: a wider read, never a narrower one.
        let since = DateTime::<Utc>::from_timestamp(since.timestamp(), 0).unwrap_or(since);
        let read = Read::Changed { since };
        done.reads.push(read.clone());
        let read_started = Utc::now();
        let changed = state::partial_path(self.dir, &format!("{}.changed", self.file));
        let sql = format!(
            "SELECT * FROM {} WHERE {} >= TIMESTAMP '{}'",
            quoted(&self.table.name),
            tables::UPDATED_AT,
            since.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let (seen, changed_rows) = self.read_into(&sql, &read, &changed, done).await?;
        if changed_rows == 0 {
            let _ = std::fs::remove_file(&changed);
            done.rows = previous.rows;
            return Ok(TableState {
                watermark: read_started,
                ..previous.clone()
            });
        }
        // The new file: the snapshot's rows that did not change, then the changed rows.
        let target = self.dir.join(self.file);
        let merged = state::partial_path(self.dir, self.file);
        let mut out = ParquetOut::create(&merged, self.table.schema.clone()).await?;
        let mut replaced = 0u64;
        files::for_each_batch(&target, false, async |batch| {
            let (kept, dropped) = files::without(&batch, &seen.ids)?;
            replaced += dropped;
            out.write(&kept).await
        })
        .await?;
        files::for_each_batch(&changed, false, async |batch| out.write(&batch).await).await?;
        let rows = out.finish().await?;
        files::put_in_place(&merged, &target)?;
        let _ = std::fs::remove_file(&changed);
        done.replaced += replaced;
        done.added += (seen.ids.len() as u64).saturating_sub(replaced);
        done.rows = rows;
        Ok(TableState {
            file: self.file.to_string(),
            rows,
            watermark: read_started,
            last_full_read: previous.last_full_read,
        })
    }
}
