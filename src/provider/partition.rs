//! Sends a [`ScanPlan::Partitioned`](crate::pushdown::ScanPlan) read: windows of the table's
//! creation time (see `crate::pushdown::partition`), each searched and paged on its own,
//! concurrently: all at once when they are of a page (a small table), otherwise
//! `SCAN_WINDOWS` at a time.
//!
//! Every window starts with its first page, whose `total_count` decides its fate: small enough,
//! and its pages are read on; too large, and the page is dropped and the window split into
//! narrower ones (by count, assuming the objects spread evenly; a window that still holds too
//! many splits again). The first window is the whole search: a search of a few pages costs no
//! more requests than reading it page by page.
//!
//! A whole read of a table that has no listing to learn its size from (tickets, or any table
//! under `SET intercom.scan = 'partitioned'`) sends the whole search's first page together
//! with the first windows' (`first_windows`), when the requests in flight allow them all at
//! once: a table of one page is that page (about 30 requests more, once), and a larger one is
//! read from the windows, a round of requests sooner than when its size comes first.
//!
//! A read that covers the whole table leaves its windows with the client
//! (`IntercomClient::keep_shape`), merged so that each holds about a window's share; the next
//! whole read of the same search within [`KEPT_FOR`] starts from them, reading in its first
//! round what a first read learns in three (its size, where its objects are, its rows). Those
//! windows cover the whole field, so a table that changed since is still read whole: a window
//! that grew splits as any other.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::stream::{self, BoxStream, SelectAll, StreamExt};
use serde_json::Value;

use super::convert::{RawRows, page_rows};
use crate::client::pagination::pages;
use crate::client::{
    ClientError, IntercomClient, KeptShape, ListRequest, Page, PageStyle, RequestCounters,
};
use crate::pushdown::partition::{
    PAGED_PAGES, ReadWindow, SPLIT_PAGES, Window, first_windows, is_whole, kept_windows, split,
    target_size, window_query, windows_at_once,
};
use crate::tables::PartitionKey;

/// What reading one window produced.
enum Event {
    /// Rows of a window (already kept to the window, see [`Window::holds`]).
    Rows(RawRows),
    /// The window was too large: read these instead.
    Split(Vec<Window>),
}

/// What every window's read shares.
struct Shared {
    client: Arc<IntercomClient>,
    search: ListRequest,
    base: Value,
    key: PartitionKey,
    counters: Arc<RequestCounters>,
    /// Objects a window should hold; set from the first window's `total_count`.
    target: AtomicU64,
    now: i64,
    /// Windows read (not split), for EXPLAIN ANALYZE.
    windows: Arc<WindowCounts>,
    /// Most requests in flight (the client's budget).
    in_flight: usize,
    per_page: u64,
    /// Each window read (not split), the objects its search reported and, for a small window
    /// read over several pages, their creation times; kept when the read ends (see [`keep`]).
    read: Mutex<Vec<(Window, u64, Option<Created>)>>,
    /// What the client keeps this search's shape under.
    shape_key: String,
}

/// The creation times of a window's objects, gathered as its pages are read.
type Created = Arc<Mutex<Vec<i64>>>;

/// The pages of one window's search after those already read.
type Pages = BoxStream<'static, Result<Page, ClientError>>;

impl Shared {
    /// Windows to read at once now ([`windows_at_once`] of the target known so far).
    fn windows_at_once(&self) -> usize {
        windows_at_once(
            self.target.load(Ordering::Relaxed),
            self.per_page,
            self.in_flight,
        )
    }

    /// The search of `window` and its pages, or why it cannot be sent.
    fn pages_of(&self, window: Window) -> Result<Pages, ClientError> {
        let Some(query) = window_query(&self.base, &self.key, window) else {
            // The plan checked that the query splits (`can_split`), and every window has the
            // same bounds or fewer; should one still not fit, the read fails rather than
            // skip it.
            return Err(ClientError::Config(format!(
                "the search of {} cannot be split into {} windows within Intercom's query \
                 limits; SET intercom.scan = 'list' reads it page after page",
                self.search.path, self.key.field
            )));
        };
        let mut request = self.search.clone();
        request.style = PageStyle::Search { query };
        request.counters = Some(self.counters.clone());
        Ok(pages(self.client.clone(), request))
    }
}

/// Windows of a partitioned read, for EXPLAIN ANALYZE.
#[derive(Debug, Default)]
pub struct WindowCounts {
    /// Windows read (not split).
    pub read: AtomicU64,
    /// Windows the read started from because an earlier whole read left them ([`KEPT_FOR`]).
    pub kept: AtomicU64,
}

/// How long the windows of a whole read are where the next read of the same search starts.
pub const KEPT_FOR: Duration = Duration::from_secs(30 * 60);

/// The rows of `search` (whose query is kept in every window), read in windows of `key`,
/// with at most `in_flight` requests at once. With `list_first`, the read starts on that
/// listing and stays on it unless its first page shows more than [`SPLIT_PAGES`] pages.
/// `windows` counts the windows read.
pub fn partitioned(
    client: Arc<IntercomClient>,
    search: ListRequest,
    key: PartitionKey,
    list_first: Option<ListRequest>,
    in_flight: usize,
    counters: Arc<RequestCounters>,
    windows: Arc<WindowCounts>,
) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
    // Every object: no query, so that a window's search is its bounds alone.
    let base = match &search.style {
        PageStyle::Search { query } if !is_whole(query, &key) => query.clone(),
        _ => Value::Null,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let per_page = u64::from(search.per_page.unwrap_or(150));
    let shape_key = format!("{} {} {} {per_page}", search.path, key.field, base);
    // A table of one page is read from its listing when it has one (no search lag), whatever
    // a partitioned read of it kept.
    let kept = client
        .kept_shape(&shape_key, KEPT_FOR)
        .filter(|kept| kept.windows.len() > 1 || list_first.is_none());
    let shared = Arc::new(Shared {
        client,
        search,
        base,
        key,
        counters,
        target: AtomicU64::new(0),
        now,
        windows,
        in_flight: in_flight.max(1),
        per_page,
        read: Mutex::new(Vec::new()),
        shape_key,
    });
    if let Some(kept) = kept {
        shared.target.store(kept.target, Ordering::Relaxed);
        shared
            .windows
            .kept
            .store(kept.windows.len() as u64, Ordering::Relaxed);
        let windows = kept.windows.into_iter().map(|(lo, hi)| Window { lo, hi });
        return read_windows(shared, windows.collect(), Vec::new());
    }
    let Some(mut list) = list_first else {
        let first = first_windows(now, true);
        if shared.base.is_null() && first.len() < shared.in_flight {
            return probed(shared, first);
        }
        return read_windows(shared, VecDeque::from([Window::ALL]), Vec::new());
    };
    list.counters = Some(shared.counters.clone());
    let mut list_pages = pages(shared.client.clone(), list.clone());
    let first = async move {
        let page = match list_pages.next().await {
            None => return stream::empty().boxed(),
            Some(Err(e)) => return stream::iter([Err(e)]).boxed(),
            Some(Ok(page)) => page,
        };
        let total = page.total_count.unwrap_or(0);
        if page.more && total > SPLIT_PAGES * per_page {
            // A large table: this page is dropped, and the windows read everything.
            let target = target_size(total, per_page, shared.in_flight);
            shared.target.store(target, Ordering::Relaxed);
            let windows = split(
                Window::ALL,
                total,
                target,
                per_page,
                &shared.key,
                shared.now,
            )
            .unwrap_or_else(|| vec![Window::ALL]);
            return read_windows(shared, windows.into(), Vec::new());
        }
        page_rows(stream::iter([Ok(page)]).chain(list_pages).boxed())
    };
    stream::once(first).flatten().boxed()
}

/// A whole read with no listing: the whole search's first page and the first windows' in one
/// round (see the module doc). A table of one page is that page, the windows' answers dropped
/// (and the next read of it starts from the whole search alone, see [`keep_whole`]);
/// otherwise the whole search's page is dropped and the windows, which cover the table, are
/// read on or split as their first pages say (in windows of a page when the table has at
/// most [`SPLIT_PAGES`] pages, or as [`target_size`] says).
fn probed(
    shared: Arc<Shared>,
    windows: Vec<Window>,
) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
    let round = async move {
        let probes = windows
            .into_iter()
            .map(|window| first_page(&shared, window));
        let answers = futures::future::try_join(
            first_page(&shared, Window::ALL),
            futures::future::try_join_all(probes),
        );
        let (whole, probes) = match answers.await {
            Ok((Some(whole), probes)) => (whole, probes),
            Ok((None, _)) => return stream::empty().boxed(),
            Err(e) => return stream::iter([Err(e)]).boxed(),
        };
        let (_, page, _) = whole;
        let total = page.total_count.unwrap_or(0);
        if !page.more {
            shared.windows.read.fetch_add(1, Ordering::Relaxed);
            keep_whole(&shared, total);
            return stream::iter([Ok(vec![rows(&shared, Window::ALL, page, None)])]).boxed();
        }
        let target = if total <= SPLIT_PAGES * shared.per_page {
            shared.per_page
        } else {
            target_size(total, shared.per_page, shared.in_flight)
        };
        shared.target.store(target, Ordering::Relaxed);
        let running = probes
            .into_iter()
            .flatten()
            .map(|(window, page, rest)| after_first(shared.clone(), window, page, rest))
            .collect();
        read_windows(shared, VecDeque::new(), running)
    };
    stream::once(round).flatten().boxed()
}

/// The first page of `window`'s search, with the stream of the pages after it.
async fn first_page(
    shared: &Shared,
    window: Window,
) -> Result<Option<(Window, Page, Pages)>, ClientError> {
    let mut pages = shared.pages_of(window)?;
    Ok(match pages.next().await.transpose()? {
        Some(page) => Some((window, page, pages)),
        None => None,
    })
}

/// Reads the windows of `queue` and the reads already `running`, and the windows they split
/// into, concurrently.
fn read_windows(
    shared: Arc<Shared>,
    queue: VecDeque<Window>,
    running: Vec<BoxStream<'static, Result<Event, ClientError>>>,
) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
    let (limit, ended) = (shared.clone(), shared.clone());
    drive(
        queue,
        running,
        move || limit.windows_at_once(),
        move |window| read_window(shared.clone(), window),
        move || keep(&ended),
    )
}

/// Leaves with the client that the whole search of a table of one page is read in one
/// request: the next read sends it alone, not the first windows with it.
fn keep_whole(shared: &Shared, total: u64) {
    let shape = KeptShape {
        windows: vec![(None, None)],
        target: total.max(1),
        at: Instant::now(),
    };
    shared.client.keep_shape(shared.shape_key.clone(), shape);
}

/// Leaves the windows of a read that covered the whole search with the client, for the next.
fn keep(shared: &Shared) {
    let read: Vec<ReadWindow> =
        std::mem::take(&mut *shared.read.lock().unwrap_or_else(PoisonError::into_inner))
            .into_iter()
            .map(|(window, total, created)| ReadWindow {
                window,
                total,
                created: created.map_or_else(Vec::new, |c| {
                    std::mem::take(&mut *c.lock().unwrap_or_else(PoisonError::into_inner))
                }),
            })
            .collect();
    let target = shared.target.load(Ordering::Relaxed);
    // A table of one page, read whole in one request.
    let one_page = match read.as_slice() {
        [only] if only.window == Window::ALL && only.total <= shared.per_page => Some(only.total),
        _ => None,
    };
    match kept_windows(read, target) {
        Some(windows) => {
            let shape = KeptShape {
                windows: windows.into_iter().map(|w| (w.lo, w.hi)).collect(),
                target,
                at: Instant::now(),
            };
            shared.client.keep_shape(shared.shape_key.clone(), shape);
        }
        None => match one_page {
            Some(total) => keep_whole(shared, total),
            // Nothing better than a first read's windows: what was kept (the whole search
            // alone, for a table that has since grown) is forgotten, so that the next read
            // learns anew.
            None => shared.client.forget_shape(&shared.shape_key),
        },
    }
}

/// Runs `read` on the windows of `queue` and those they split into (and on those the reads
/// already `running` split into), starting one only while fewer than `limit()` run (the reads
/// already `running` may be more), passing on their rows as they come; `ended` runs once every window was read (not after an error, nor when the reader
/// stops early).
fn drive(
    queue: VecDeque<Window>,
    running: Vec<BoxStream<'static, Result<Event, ClientError>>>,
    limit: impl Fn() -> usize + Send + 'static,
    read: impl Fn(Window) -> BoxStream<'static, Result<Event, ClientError>> + Send + 'static,
    ended: impl FnOnce() + Send + 'static,
) -> BoxStream<'static, Result<Vec<RawRows>, ClientError>> {
    let running: SelectAll<_> = running.into_iter().collect();
    let state = (read, limit, queue, running, Some(ended));
    stream::unfold(Some(state), move |state| async move {
        let (read, limit, mut queue, mut running, mut ended) = state?;
        loop {
            while running.len() < limit()
                && let Some(window) = queue.pop_front()
            {
                running.push(read(window));
            }
            match running.next().await {
                // Every running window ended (some without a row to yield): start the next
                // ones, or end when none is left.
                None if queue.is_empty() => {
                    if let Some(ended) = ended.take() {
                        ended();
                    }
                    return None;
                }
                None => {}
                Some(Ok(Event::Split(windows))) => queue.extend(windows),
                // A window with nothing in it (or nothing left after the boundary check).
                Some(Ok(Event::Rows(rows))) if rows.is_empty() => {}
                Some(Ok(Event::Rows(rows))) => {
                    return Some((Ok(vec![rows]), Some((read, limit, queue, running, ended))));
                }
                // The first error ends the read; the other windows are dropped unsent.
                Some(Err(e)) => return Some((Err(e), None)),
            }
        }
    })
    .boxed()
}

/// One window's read: its first page decides whether it splits; otherwise its pages, in order.
fn read_window(
    shared: Arc<Shared>,
    window: Window,
) -> BoxStream<'static, Result<Event, ClientError>> {
    let mut pages = match shared.pages_of(window) {
        Ok(pages) => pages,
        Err(e) => return stream::iter([Err(e)]).boxed(),
    };
    let first = async move {
        let page = match pages.next().await {
            None => return stream::empty().boxed(),
            Some(Err(e)) => return stream::iter([Err(e)]).boxed(),
            Some(Ok(page)) => page,
        };
        if window == Window::ALL {
            let total = page.total_count.unwrap_or(0);
            let target = target_size(total, shared.per_page, shared.in_flight);
            shared.target.store(target, Ordering::Relaxed);
        }
        after_first(shared, window, page, pages)
    };
    stream::once(first).flatten().boxed()
}

/// The rest of `window`'s read once its first `page` came: split when it holds too many
/// objects, otherwise the page's rows and those of the pages after it (`rest`).
fn after_first(
    shared: Arc<Shared>,
    window: Window,
    page: Page,
    rest: Pages,
) -> BoxStream<'static, Result<Event, ClientError>> {
    let per_page = shared.per_page;
    let total = page.total_count.unwrap_or(0);
    let target = shared.target.load(Ordering::Relaxed);
    if page.more
        && let Some(windows) = split(window, total, target, per_page, &shared.key, shared.now)
    {
        return stream::iter([Ok(Event::Split(windows))]).boxed();
    }
    shared.windows.read.fetch_add(1, Ordering::Relaxed);
    // A small window read over several pages: where its objects are is kept, so that the
    // next read can cut it into windows of a page (checked windows read each object's
    // creation time anyway).
    let created = (page.more && window.checked(&shared.key) && total <= PAGED_PAGES * per_page)
        .then(Created::default);
    shared
        .read
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((window, total, created.clone()));
    let first = Ok(Event::Rows(rows(&shared, window, page, created.as_deref())));
    let rest = rest.map(move |page| {
        page.map(|page| Event::Rows(rows(&shared, window, page, created.as_deref())))
    });
    stream::iter([first]).chain(rest).boxed()
}

/// A page's rows that belong to `window` (their creation times added to `created`, if given).
fn rows(shared: &Shared, window: Window, page: Page, created: Option<&Mutex<Vec<i64>>>) -> RawRows {
    let mut recorded = created.map(|c| c.lock().unwrap_or_else(PoisonError::into_inner));
    let checked = window.checked(&shared.key);
    let mut rows = RawRows::from_page(page, None);
    if checked {
        rows.retain(|raw| {
            let at = seconds_at(raw, &shared.key.field);
            let holds = window.holds(at);
            if holds && let (Some(recorded), Some(at)) = (recorded.as_mut(), at) {
                recorded.push(at);
            }
            holds
        });
    }
    rows
}

/// The integer at `field` of one item's JSON object, read without building the object.
fn seconds_at(raw: &str, field: &str) -> Option<i64> {
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

    /// A map key, answered as whether it is the field.
    struct KeyIs<'a>(&'a str);
    impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
        type Value = bool;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_str(self)
        }
    }
    impl Visitor<'_> for KeyIs<'_> {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a key")
        }
        fn visit_str<E>(self, key: &str) -> Result<bool, E> {
            Ok(key == self.0)
        }
    }
    /// An object, answered as its field's integer.
    struct FieldOf<'a>(&'a str);
    impl<'de> Visitor<'de> for FieldOf<'_> {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<i64>, A::Error> {
            let mut found = None;
            while let Some(is_field) = map.next_key_seed(KeyIs(self.0))? {
                if is_field {
                    found = map.next_value::<Option<i64>>()?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let mut json = serde_json::Deserializer::from_str(raw);
    json.deserialize_map(FieldOf(field)).ok()?
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows that end at once, empty or not, never end the read while windows are left:
    /// every window of the queue is read, and every row passed on.
    #[tokio::test]
    async fn every_window_is_read_whatever_order_they_end_in() {
        use std::sync::Mutex;
        for concurrency in [1, 2, 3, 6] {
            let read_ones = Arc::new(Mutex::new(Vec::new()));
            let seen = read_ones.clone();
            let windows: VecDeque<Window> = (0..20)
                .map(|i| Window {
                    lo: Some(i),
                    hi: Some(i + 1),
                })
                .collect();
            let ended = Arc::new(AtomicU64::new(0));
            let ends = ended.clone();
            let rows = drive(
                windows,
                Vec::new(),
                move || concurrency,
                move |window| {
                    seen.lock().unwrap().push(window.lo);
                    // Every third window has a row; the others are empty.
                    let body = if window.lo.unwrap_or(0) % 3 == 0 {
                        "{}"
                    } else {
                        ""
                    };
                    let ranges = (!body.is_empty()).then_some(0..2).into_iter().collect();
                    let rows = RawRows::new(bytes::Bytes::from(body), ranges, None).unwrap();
                    stream::iter([Ok(Event::Rows(rows))]).boxed()
                },
                move || {
                    ends.fetch_add(1, Ordering::Relaxed);
                },
            )
            .collect::<Vec<_>>()
            .await;
            assert_eq!(ended.load(Ordering::Relaxed), 1, "ended once, at the end");
            assert_eq!(
                read_ones.lock().unwrap().len(),
                20,
                "concurrency {concurrency}"
            );
            assert_eq!(rows.len(), 7, "concurrency {concurrency}");
        }
    }

    #[test]
    fn reads_one_field_of_an_item() {
        let raw = r#"{"id":"1","nested":{"created_at":5},"created_at":1700000000,"x":[1,2]}"#;
        assert_eq!(seconds_at(raw, "created_at"), Some(1_700_000_000));
        assert_eq!(seconds_at(r#"{"created_at":null}"#, "created_at"), None);
        assert_eq!(seconds_at(r#"{"id":"1"}"#, "created_at"), None);
        assert_eq!(seconds_at("[1]", "created_at"), None);
    }
}
