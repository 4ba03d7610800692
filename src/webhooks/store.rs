//! The notifications received, on disk: one SQLite database (`webhooks.sqlite` in the data
//! directory), written in WAL mode with `synchronous = FULL`, so a notification is on disk
//! when [`Store::insert`] returns, before the delivery is answered 200.
//!
//! Writes go through one connection behind a mutex (they are small); each read of the table
//! opens its own connection, which WAL lets run beside the writes.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::event::Notification;
use crate::error::Error;

/// The database's file name inside the data directory.
pub const FILE_NAME: &str = "webhooks.sqlite";

/// How long a write waits for a reader's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every this many inserts, notifications past the retention are deleted.
const PRUNE_EVERY: u64 = 256;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhook_events (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    app_id TEXT,
    created_at INTEGER,
    delivery_attempts INTEGER,
    first_sent_at INTEGER,
    item_type TEXT,
    item_id TEXT,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS webhook_events_received_at ON webhook_events (received_at);
CREATE INDEX IF NOT EXISTS webhook_events_topic ON webhook_events (topic, created_at);
";

/// What storing a delivery did.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    /// The first delivery of this notification: stored.
    New,
    /// A notification already stored: its delivery count went up, nothing else changed.
    Duplicate,
}

/// One stored notification, as the table shows it.
#[derive(Debug, Clone)]
pub struct Row {
    pub notification: Notification,
    /// When it was first received (Unix microseconds).
    pub received_at: i64,
    /// How many deliveries of it were received.
    pub deliveries: i64,
}

/// Which rows a read wants (pushed down from WHERE; the engine re-checks them).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub topic: Option<String>,
    /// `created_at >= this` (Unix seconds).
    pub created_from: Option<i64>,
    /// `created_at <= this` (Unix seconds).
    pub created_to: Option<i64>,
    pub limit: Option<usize>,
}

/// The notification database.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    retention: Duration,
    inserts: std::sync::atomic::AtomicU64,
}

impl Store {
    /// Opens (or creates) the database in `dir`, creating the directory, and deletes what is
    /// past `retention`.
    pub fn open(dir: &Path, retention: Duration) -> Result<Self, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            context: format!("cannot create the data directory {}", dir.display()),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let failed = |e: rusqlite::Error| {
            Error::Config(format!(
                "cannot open the webhook store {}: {e}",
                path.display()
            ))
        };
        let writer = Connection::open(&path).map_err(failed)?;
        private(dir, &path)?;
        writer.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        writer
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(failed)?;
        writer.execute_batch(SCHEMA).map_err(failed)?;
        let store = Self {
            path,
            writer: Mutex::new(writer),
            retention,
            inserts: Default::default(),
        };
        store.prune()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a delivery durably (committed and synced) unless its notification is stored
    /// already; `received_at` in Unix microseconds.
    pub fn insert(&self, n: &Notification, received_at: i64) -> Result<Stored, Error> {
        let stored = {
            let writer = self
                .writer
                .lock()
                .map_err(|_| Error::Config("the webhook store's lock was poisoned".into()))?;
            let added = writer
                .execute(
                    "INSERT OR IGNORE INTO webhook_events (id, topic, app_id, created_at,
                        delivery_attempts, first_sent_at, item_type, item_id, payload, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        n.id,
                        n.topic,
                        n.app_id,
                        n.created_at,
                        n.delivery_attempts,
                        n.first_sent_at,
                        n.item_type,
                        n.item_id,
                        n.payload,
                        received_at
                    ],
                )
                .map_err(write_failed)?;
            if added == 1 {
                Stored::New
            } else {
                writer
                    .execute(
                        "UPDATE webhook_events SET deliveries = deliveries + 1,
                            delivery_attempts = max(coalesce(delivery_attempts, 0), coalesce(?2, 0))
                         WHERE id = ?1",
                        params![n.id, n.delivery_attempts],
                    )
                    .map_err(write_failed)?;
                Stored::Duplicate
            }
        };
        let count = self
            .inserts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if count % PRUNE_EVERY == PRUNE_EVERY - 1 {
            // Best effort: the notification is stored; a failed clean-up is tried again later.
            let _ = self.prune();
        }
        Ok(stored)
    }

    /// Deletes the notifications received longer ago than the retention.
    pub fn prune(&self) -> Result<usize, Error> {
        let cutoff = now_micros().saturating_sub(self.retention.as_micros() as i64);
        let writer = self
            .writer
            .lock()
            .map_err(|_| Error::Config("the webhook store's lock was poisoned".into()))?;
        writer
            .execute(
                "DELETE FROM webhook_events WHERE received_at < ?1",
                params![cutoff],
            )
            .map_err(write_failed)
    }

    /// Reads the stored notifications `filter` selects, oldest first, handing them to `each`
    /// in batches of at most `batch` rows; `each` returns false to stop.
    pub fn read(
        &self,
        filter: &Filter,
        batch: usize,
        mut each: impl FnMut(Vec<Row>) -> bool,
    ) -> Result<(), Error> {
        let failed = |e: rusqlite::Error| Error::Config(format!("cannot read webhook_events: {e}"));
        let reader = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(failed)?;
        reader.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
        let mut sql = String::from(
            "SELECT id, topic, app_id, created_at, delivery_attempts, first_sent_at, item_type,
                    item_id, payload, received_at, deliveries
             FROM webhook_events WHERE received_at >= ?1",
        );
        let cutoff = now_micros().saturating_sub(self.retention.as_micros() as i64);
        let mut values: Vec<rusqlite::types::Value> = vec![cutoff.into()];
        if let Some(topic) = &filter.topic {
            values.push(topic.clone().into());
            sql.push_str(&format!(" AND topic = ?{}", values.len()));
        }
        if let Some(from) = filter.created_from {
            values.push(from.into());
            sql.push_str(&format!(" AND created_at >= ?{}", values.len()));
        }
        if let Some(to) = filter.created_to {
            values.push(to.into());
            sql.push_str(&format!(" AND created_at <= ?{}", values.len()));
        }
        sql.push_str(" ORDER BY received_at, id");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {limit}"));
        }
        let mut statement = reader.prepare(&sql).map_err(failed)?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(values))
            .map_err(failed)?;
        let mut chunk = Vec::with_capacity(batch);
        while let Some(row) = rows.next().map_err(failed)? {
            chunk.push(Row {
                notification: Notification {
                    id: row.get(0).map_err(failed)?,
                    topic: row.get(1).map_err(failed)?,
                    app_id: row.get(2).map_err(failed)?,
                    created_at: row.get(3).map_err(failed)?,
                    delivery_attempts: row.get(4).map_err(failed)?,
                    first_sent_at: row.get(5).map_err(failed)?,
                    item_type: row.get(6).map_err(failed)?,
                    item_id: row.get(7).map_err(failed)?,
                    payload: row.get(8).map_err(failed)?,
                },
                received_at: row.get(9).map_err(failed)?,
                deliveries: row.get(10).map_err(failed)?,
            });
            if chunk.len() == batch
                && !each(std::mem::replace(&mut chunk, Vec::with_capacity(batch)))
            {
                return Ok(());
            }
        }
        if !chunk.is_empty() {
            each(chunk);
        }
        Ok(())
    }
}

/// The notifications hold customers' data: the database is readable by its owner only (its
/// directory too, when it is ours), as PostgreSQL keeps its data directory.
#[cfg(unix)]
fn private(dir: &Path, file: &Path) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
            Error::Io {
                context: format!("cannot make {} private", path.display()),
                source,
            }
        })
    };
    set(file, 0o600)?;
    if dir.file_name().is_some_and(|n| n == "intercom-sql") {
        set(dir, 0o700)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private(_dir: &Path, _file: &Path) -> Result<(), Error> {
    Ok(())
}

fn write_failed(e: rusqlite::Error) -> Error {
    Error::Config(format!("cannot store the webhook notification: {e}"))
}

/// Now, in Unix microseconds.
pub fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notification(id: &str, topic: &str, created_at: i64) -> Notification {
        Notification {
            id: id.into(),
            topic: topic.into(),
            app_id: Some("app".into()),
            created_at: Some(created_at),
            delivery_attempts: Some(1),
            first_sent_at: None,
            item_type: Some("contact".into()),
            item_id: Some("c1".into()),
            payload: "{}".into(),
        }
    }

    fn all(store: &Store, filter: &Filter) -> Vec<Row> {
        let mut out = Vec::new();
        store
            .read(filter, 2, |rows| {
                out.extend(rows);
                true
            })
            .unwrap();
        out
    }

    #[test]
    fn deliveries_are_stored_once_filtered_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let week = Duration::from_secs(7 * 86_400);
        {
            let store = Store::open(dir.path(), week).unwrap();
            let now = now_micros();
            let a = notification("n1", "contact.user.created", 100);
            assert_eq!(store.insert(&a, now).unwrap(), Stored::New);
            let mut again = a.clone();
            again.delivery_attempts = Some(2);
            assert_eq!(store.insert(&again, now).unwrap(), Stored::Duplicate);
            store
                .insert(&notification("n2", "contact.deleted", 200), now)
                .unwrap();
            store
                .insert(&notification("n3", "contact.deleted", 300), now)
                .unwrap();
            // Received long ago: past the retention, pruned and never read.
            store
                .insert(
                    &notification("old", "contact.deleted", 50),
                    now - 8 * 86_400_000_000,
                )
                .unwrap();
        }
        let store = Store::open(dir.path(), week).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let rows = all(&store, &Filter::default());
        let ids: Vec<_> = rows.iter().map(|r| r.notification.id.as_str()).collect();
        assert_eq!(ids, ["n1", "n2", "n3"]);
        assert_eq!(rows[0].deliveries, 2);
        assert_eq!(rows[0].notification.delivery_attempts, Some(2));
        let deleted = Filter {
            topic: Some("contact.deleted".into()),
            created_from: Some(250),
            ..Filter::default()
        };
        let ids: Vec<_> = all(&store, &deleted)
            .into_iter()
            .map(|r| r.notification.id)
            .collect();
        assert_eq!(ids, ["n3"]);
    }
}
