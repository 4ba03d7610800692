//! The response cache of one workspace: answers to reads, keyed by the exact request (method,
//! path, query, body), kept while a session's `intercom.cache_ttl` says they are fresh enough
//! (off by default: nothing is stored or served). A write sent through the client forgets the
//! cached reads of the object types its path names (`POST /contacts/{id}/tags` forgets
//! everything under `/contacts` and `/tags`), and a read that was in flight across a write is
//! not stored. Bounded in bytes: the oldest answers go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// Bytes of answers one workspace's cache holds at most.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

#[derive(Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Keys in the order they were stored (some may since be gone or stored again).
    order: VecDeque<(String, u64)>,
    bytes: usize,
    /// Bumped by every write: what was sent before it may be stale.
    generation: u64,
    stored: u64,
}

struct Entry {
    body: Bytes,
    stored_at: Instant,
    /// The object types the request's path names.
    kinds: Vec<String>,
    /// Which store this is (an older one's place in `order` is stale).
    serial: u64,
}

/// One workspace's cached answers.
pub struct ResponseCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

impl Default for ResponseCache {
    fn default() -> Self {
        Self::with_capacity(MAX_BYTES)
    }
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (entries, bytes) = self.size();
        write!(f, "ResponseCache({entries} answers, {bytes} bytes)")
    }
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` of answers.
    pub fn with_capacity(max_bytes: usize) -> Self {
        Self {
            inner: Mutex::default(),
            max_bytes,
        }
    }

    /// The answer to `key` if it was stored less than `max_age` ago.
    pub fn get(&self, key: &str, max_age: Duration) -> Option<Bytes> {
        let inner = self.inner.lock().ok()?;
        let entry = inner.entries.get(key)?;
        (entry.stored_at.elapsed() < max_age).then(|| entry.body.clone())
    }

    /// Where writes stand now: pass it back to [`ResponseCache::put`] with the answer.
    pub fn generation(&self) -> u64 {
        self.inner.lock().map(|i| i.generation).unwrap_or(u64::MAX)
    }

    /// Stores the answer to `key` (a read of `path`), unless a write was sent since
    /// `generation` was read or the answer would take more than an eighth of the cache.
    pub fn put(&self, key: String, path: &str, body: Bytes, generation: u64) {
        if body.len() > self.max_bytes / 8 {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.generation != generation {
            return;
        }
        inner.stored += 1;
        let serial = inner.stored;
        inner.bytes += body.len();
        let entry = Entry {
            body,
            stored_at: Instant::now(),
            kinds: kinds(path),
            serial,
        };
        if let Some(old) = inner.entries.insert(key.clone(), entry) {
            inner.bytes -= old.body.len();
        }
        inner.order.push_back((key, serial));
        while inner.bytes > self.max_bytes {
            let Some((oldest, serial)) = inner.order.pop_front() else {
                break;
            };
            if inner
                .entries
                .get(&oldest)
                .is_some_and(|e| e.serial == serial)
                && let Some(gone) = inner.entries.remove(&oldest)
            {
                inner.bytes -= gone.body.len();
            }
        }
    }

    /// Forgets one answer (a body found cut short).
    pub fn forget(&self, key: &str) {
        if let Ok(mut inner) = self.inner.lock()
            && let Some(gone) = inner.entries.remove(key)
        {
            inner.bytes -= gone.body.len();
        }
    }

    /// A write to `path` was sent: forgets the answers about the object types it names.
    pub fn wrote(&self, path: &str) {
        let written = kinds(path);
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.generation += 1;
        let stale: Vec<String> = inner
            .entries
            .iter()
            .filter(|(_, e)| e.kinds.iter().any(|k| written.contains(k)))
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            if let Some(gone) = inner.entries.remove(&key) {
                inner.bytes -= gone.body.len();
            }
        }
        if inner.entries.is_empty() {
            inner.order.clear();
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.generation += 1;
            inner.entries.clear();
            inner.order.clear();
            inner.bytes = 0;
        }
    }

    /// Answers held and their bytes.
    pub fn size(&self) -> (usize, usize) {
        self.inner
            .lock()
            .map(|i| (i.entries.len(), i.bytes))
            .unwrap_or((0, 0))
    }
}

/// The object types a path names: its segments that are words, not ids or `{…}`
/// (`/contacts/5f…/tags` → `contacts`, `tags`; `/conversations/search` → `conversations`,
/// `search`).
fn kinds(path: &str) -> Vec<String> {
    path.split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Duration = Duration::from_secs(60);

    #[test]
    fn answers_are_served_while_fresh_and_forgotten_by_writes_to_their_types() {
        let cache = ResponseCache::default();
        let g = cache.generation();
        cache.put("GET /contacts".into(), "/contacts", Bytes::from("a"), g);
        cache.put("GET /tags".into(), "/tags", Bytes::from("b"), g);
        assert_eq!(cache.get("GET /contacts", FRESH), Some(Bytes::from("a")));
        assert_eq!(cache.get("GET /contacts", Duration::ZERO), None, "too old");
        cache.wrote("/contacts/5f00aa/archive");
        assert_eq!(cache.get("GET /contacts", FRESH), None);
        assert_eq!(cache.get("GET /tags", FRESH), Some(Bytes::from("b")));
        // A read sent before a write is not stored after it.
        let before = cache.generation();
        cache.wrote("/tags");
        cache.put("GET /tags".into(), "/tags", Bytes::from("old"), before);
        assert_eq!(cache.get("GET /tags", FRESH), None);
    }

    #[test]
    fn the_oldest_answers_go_when_the_cache_is_full() {
        let cache = ResponseCache::with_capacity(80);
        let g = cache.generation();
        for i in 0..10 {
            cache.put(
                format!("GET /tags?page={i}"),
                "/tags",
                Bytes::from(vec![b'x'; 10]),
                g,
            );
        }
        assert_eq!(cache.size(), (8, 80));
        assert_eq!(cache.get("GET /tags?page=0", FRESH), None);
        assert!(cache.get("GET /tags?page=9", FRESH).is_some());
        // One answer larger than an eighth of the cache is not kept.
        cache.put("GET /big".into(), "/big", Bytes::from(vec![b'x'; 11]), g);
        assert_eq!(cache.get("GET /big", FRESH), None);
    }

    #[test]
    fn paths_name_their_object_types() {
        assert_eq!(kinds("/contacts/5f00aa/tags"), ["contacts", "tags"]);
        assert_eq!(kinds("/conversations/search"), ["conversations", "search"]);
        assert_eq!(
            kinds("/contacts/{id}/companies?page=2"),
            ["contacts", "companies"]
        );
    }
}
