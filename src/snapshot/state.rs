//! The state file of a snapshot directory (`snapshot.json`): which workspace it holds, and per
//! table what was read when. Rewritten whole, atomically (temporary file, then rename), after
//! each table's Parquet file is in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The state file's name inside the snapshot directory.
pub const STATE_FILE: &str = "snapshot.json";
/// The version of the state file's layout this build writes and reads.
const FORMAT: u32 = 1;

/// What a snapshot directory holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SnapshotState {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// The API root the snapshot was read from.
    pub base_url: String,
    /// The workspace's id (`GET /me`, `app.id_code`), so that one directory never mixes two
    /// workspaces.
    pub workspace: String,
    /// Per table, by SQL name.
    pub tables: BTreeMap<String, TableState>,
}

/// One table of a snapshot.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TableState {
    /// The Parquet file, relative to the directory (`contacts.parquet`).
    pub file: String,
    /// Rows in the file.
    pub rows: u64,
    /// When the read that brought the file up to date started: the next incremental read asks
    /// for rows changed since then, less the lag margin.
    #[serde(with = "rfc3339")]
    pub watermark: DateTime<Utc>,
    /// When the last whole read of the table started (deletions are seen by whole reads).
    #[serde(with = "rfc3339")]
    pub last_full_read: DateTime<Utc>,
}

/// Times in the state file, as RFC 3339 text (`2026-12-05T22:59:53.123456Z`).
mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|e| serde::de::Error::custom(format!("'{text}' is no RFC 3339 time: {e}")))
    }
}

impl SnapshotState {
    /// The state of `dir`, or `None` when it has no state file yet.
    pub fn load(dir: &Path) -> Result<Option<Self>, Error> {
        let path = dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    context: format!("cannot read the snapshot state file {}", path.display()),
                    source,
                });
            }
        };
        let state: SnapshotState = serde_json::from_str(&text).map_err(|e| {
            Error::Config(format!(
                "{} is not a readable snapshot state file ({e}): remove it (and the directory's .parquet files) to sync every table whole again",
                path.display()
            ))
        })?;
        if state.format != FORMAT {
            return Err(Error::Config(format!(
                "{} has layout version {} and this intercom-sql reads version {FORMAT}: sync into a new directory",
                path.display(),
                state.format
            )));
        }
        Ok(Some(state))
    }

    /// A new state for the workspace `workspace` at `base_url`.
    pub fn new(base_url: &str, workspace: &str) -> Self {
        Self {
            format: FORMAT,
            base_url: base_url.to_string(),
            workspace: workspace.to_string(),
            tables: BTreeMap::new(),
        }
    }

    /// Writes the state file atomically: a temporary file in `dir`, flushed, renamed over the
    /// old one. A crash leaves the old state or the new one, never half of one.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Config(format!("cannot encode the snapshot state: {e}")))?;
        let path = dir.join(STATE_FILE);
        let partial = partial_path(dir, STATE_FILE);
        let io = |context: String| move |source| Error::Io { context, source };
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&partial)
                .map_err(io(format!("cannot write {}", partial.display())))?;
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io(format!("cannot write {}", partial.display())))?;
        }
        std::fs::rename(&partial, &path)
            .map_err(io(format!("cannot replace {}", path.display())))?;
        sync_dir(dir);
        Ok(())
    }
}

/// Where a file of `dir` is written before it is renamed into place: a hidden name that
/// attaching the directory ignores, and that the next sync removes if it was left behind.
pub fn partial_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.partial"))
}

/// Flushes the directory entry of a rename (best effort: not every platform can open a
/// directory for this).
pub fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Removes the partial files an interrupted sync left in `dir`.
pub fn remove_partials(dir: &Path) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        context: format!("cannot list {}", dir.display()),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".partial") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// An exclusive lock on a snapshot directory for the duration of a sync (an OS file lock on
/// `DIR/.lock`, released when the process ends however it ends).
#[derive(Debug)]
pub struct DirLock {
    _file: std::fs::File,
}

impl DirLock {
    /// Takes the lock, or says that another sync holds it.
    pub fn take(dir: &Path) -> Result<Self, Error> {
        let path = dir.join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Io {
                context: format!("cannot write in the snapshot directory {}", dir.display()),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Config(format!(
                "another sync is writing to {}: wait for it to finish",
                dir.display()
            ))),
            Err(std::fs::TryLockError::Error(source)) => Err(Error::Io {
                context: format!("cannot lock {}", path.display()),
                source,
            }),
        }
    }
}
