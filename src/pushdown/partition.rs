//! Windows of a creation-time field that split one search into disjoint searches, so a whole
//! table (or a large WHERE clause) is read concurrently. Pure: the windows, their queries and
//! how a window splits; `crate::provider::partition` sends them.
//!
//! A window is `[lo, hi)` of the table's [`PartitionKey`] (`created_at`), either end open.
//! Each window's search is the scan's own query ANDed with the window's bounds, so the WHERE
//! clause stays inside every window. Windows never overlap and leave no gap:
//! - compared **by day** (contacts, docs/intercom-notes.md, "Search: dates"), the lower bound
//!   `lo` is sent as `= lo OR > lo` (from the start of `lo`'s day) and the upper bound `hi` as
//!   `< hi` (before the start of `hi`'s day): two neighbours meet at the same day boundary
//!   whatever the workspace's time zone, so each object is in exactly one window;
//! - compared **by second** with `<`/`>` that may be inclusive (conversations, tickets), the
//!   bounds are sent as `> lo - 1` and `< hi`, which hold every object of `[lo, hi)` and at
//!   most the two boundary seconds more; the scan keeps only the objects inside
//!   ([`Window::holds`]).

use serde_json::{Value, json};

use crate::tables::{Compared, PartitionKey};

/// Most items Intercom accepts in one AND/OR group (docs/intercom-notes.md, "Search: query
/// shape").
const MAX_GROUP_ITEMS: usize = super::MAX_GROUP_ITEMS;
/// Most levels of nested groups.
const MAX_DEPTH: usize = 2;
/// Most windows one window splits into at once.
const MAX_SPLIT: u64 = 64;
const DAY: i64 = 86_400;

/// A window `[lo, hi)` of the partition field (epoch seconds); `None` is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// First second inside, if bounded below.
    pub lo: Option<i64>,
    /// First second past the window, if bounded above.
    pub hi: Option<i64>,
}

impl Window {
    /// Every object.
    pub const ALL: Window = Window { lo: None, hi: None };

    /// Whether an object created at `at` belongs to this window, when the scan must check it
    /// itself (by-second bounds, see the module doc). `None` (no timestamp) belongs only to
    /// the unbounded window, as no bounded search returns it.
    pub fn holds(&self, at: Option<i64>) -> bool {
        match at {
            Some(at) => self.lo.is_none_or(|lo| at >= lo) && self.hi.is_none_or(|hi| at < hi),
            None => *self == Window::ALL,
        }
    }

    /// Whether the scan must check [`Window::holds`] on what this window's search returns.
    pub fn checked(&self, key: &PartitionKey) -> bool {
        key.compared == Compared::BySecond && *self != Window::ALL
    }
}

/// The search of `window` for the scan's query `base` (`null`: every object), or `None` when
/// the combined query would exceed Intercom's limits on groups.
pub fn window_query(base: &Value, key: &PartitionKey, window: Window) -> Option<Value> {
    let filter = |op: &str, value: i64| json!({"field": key.field, "operator": op, "value": value});
    let mut bounds = Vec::new();
    if let Some(lo) = window.lo {
        bounds.push(match key.compared {
            Compared::ByDay => {
                json!({"operator": "OR", "value": [filter("=", lo), filter(">", lo)]})
            }
            Compared::BySecond => filter(">", lo.saturating_sub(1)),
        });
    }
    if let Some(hi) = window.hi {
        bounds.push(filter("<", hi));
    }
    let mut items = match base {
        Value::Null => Vec::new(),
        Value::Object(group) if group.get("operator").and_then(Value::as_str) == Some("AND") => {
            group.get("value")?.as_array()?.clone()
        }
        other => vec![other.clone()],
    };
    items.extend(bounds);
    let query = match items.len() {
        // Every object has a creation time after the epoch: the usual catch-all search.
        0 => filter(">", 0),
        1 => items.pop()?,
        _ => json!({"operator": "AND", "value": items}),
    };
    fits(&query, 0).then_some(query)
}

/// Whether the scan's query `base` is every object: none, or the catch-all search a table
/// with no listing reads itself with (`created_at > 0`, as [`window_query`] writes it).
pub fn is_whole(base: &Value, key: &PartitionKey) -> bool {
    base.is_null() || window_query(&Value::Null, key, Window::ALL).as_ref() == Some(base)
}

/// Whether every group of `query` (at `depth`) is within Intercom's limits.
fn fits(query: &Value, depth: usize) -> bool {
    match query.get("value") {
        Some(Value::Array(items)) if query.get("field").is_none() => {
            depth < MAX_DEPTH
                && items.len() <= MAX_GROUP_ITEMS
                && items.iter().all(|item| fits(item, depth + 1))
        }
        _ => true,
    }
}

/// Whether the scan's query `base` can be split into windows at all.
pub fn can_split(base: &Value, key: &PartitionKey) -> bool {
    window_query(
        base,
        key,
        Window {
            lo: Some(DAY),
            hi: Some(2 * DAY),
        },
    )
    .is_some()
}

/// A search (or a whole table) of more pages than this is split into windows; smaller ones are
/// read page after page, which costs no request more than the windows would (a whole read
/// that sent its first windows with its first page reads them instead, in windows of a page).
pub const SPLIT_PAGES: u64 = 6;
/// Most windows a read of a large table holds open at once, each with a page in memory
/// waiting for the decoder: what keeps a whole read's memory flat (docs/performance.md,
/// "Memory"). A table that fits in the requests in flight is read in windows of one page, all
/// at once (see [`windows_at_once`]).
pub const SCAN_WINDOWS: usize = 64;
/// A window (other than the whole table) of at most this many pages is paged rather than
/// split: its second page costs one more round trip, as the split's windows would, without
/// dropping the page already read.
pub const PAGED_PAGES: u64 = 2;
/// Windows of at most [`PAGED_PAGES`] pages cut by count are sized for this fraction of the
/// target (numerator, denominator), so that a window holding more than its share, the objects
/// not being spread evenly, still fits in its pages rather than splitting again (a round trip
/// more). Larger windows are not: more of them than requests in flight would read in two
/// waves, and one page more in a long window costs less than a wave.
const HEADROOM: (u64, u64) = (2, 3);

/// How many objects one window should hold when `in_flight` requests may be sent at once. A
/// table of at most [`SPLIT_PAGES`] pages is not split at all (the whole of it); one of at
/// most `in_flight` pages is read in windows of a page, so that once its windows are known
/// they are read in one round; a larger one in [`SCAN_WINDOWS`] windows (fewer if fewer
/// requests may be in flight), so that windows of unequal size keep every slot busy to the
/// end, in whole pages (a window's last page is usually short: windows a little over a page
/// would waste requests).
pub fn target_size(total: u64, per_page: u64, in_flight: usize) -> u64 {
    let per_page = per_page.max(1);
    if total <= SPLIT_PAGES * per_page {
        return total.max(1);
    }
    let in_flight = in_flight.max(1) as u64;
    if total.div_ceil(per_page) <= in_flight {
        return per_page;
    }
    let windows = in_flight.min(SCAN_WINDOWS as u64);
    total.div_ceil(windows).div_ceil(per_page) * per_page
}

/// How many windows a read whose windows hold `target` objects reads at once: all of them
/// (up to the requests in flight) when they are of a page, as the table is then small;
/// otherwise at most [`SCAN_WINDOWS`].
pub fn windows_at_once(target: u64, per_page: u64, in_flight: usize) -> usize {
    let in_flight = in_flight.max(1);
    if target <= per_page.max(1) {
        in_flight
    } else {
        in_flight.min(SCAN_WINDOWS)
    }
}

/// The windows of a whole read that knows nothing of where its objects are: of growing width
/// back from the last day before `now`, so that whatever the span of the data, a few windows
/// hold it and the next split sizes them by count; open at both ends. Each is twice as wide as
/// the next or, when `fine`, 17/12 as wide (about 30 windows, so that the next split is finer
/// and fewer rounds of requests are needed, for tables of a page or two per window).
pub fn first_windows(now: i64, fine: bool) -> Vec<Window> {
    let (grow, by) = if fine { (17, 12) } else { (2, 1) };
    let mut edges = vec![now - DAY];
    while let Some(&last) = edges.last() {
        let next = now - (now - last) * grow / by;
        if next <= 0 {
            break;
        }
        edges.push(next);
    }
    between(None, &edges, None)
}

/// The windows `window` splits into when its search reports `total` objects and windows
/// should hold at most `target` (pages of `per_page`); `None` to read it as it is (small
/// enough, at most [`PAGED_PAGES`] pages, or too narrow to split). `now` (epoch seconds)
/// places the first split of an unbounded window ([`first_windows`], fine for a table of a
/// page or two per window).
pub fn split(
    window: Window,
    total: u64,
    target: u64,
    per_page: u64,
    key: &PartitionKey,
    now: i64,
) -> Option<Vec<Window>> {
    let paged = if window == Window::ALL {
        target
    } else {
        target.max(PAGED_PAGES * per_page)
    };
    if total <= paged {
        return None;
    }
    // Windows of a page or two: a table small for the requests in flight, read in few rounds
    // when its first windows are fine and cut with headroom.
    let small = target <= PAGED_PAGES * per_page;
    let share = if small {
        (target * HEADROOM.0 / HEADROOM.1).max(1)
    } else {
        target
    };
    let narrowest = match key.compared {
        Compared::ByDay => DAY,
        Compared::BySecond => 1,
    };
    match (window.lo, window.hi) {
        (None, None) => Some(first_windows(now, small)),
        // Open below: what is before the epoch stays one window; split the rest.
        (None, Some(hi)) if hi > 0 => {
            let mut windows = vec![Window {
                lo: None,
                hi: Some(0),
            }];
            windows.extend(even(0, hi, total, share, narrowest)?);
            Some(windows)
        }
        // Open above: split up to a day past now; later objects stay one window.
        (Some(lo), None) if lo < now + DAY => {
            let mut windows = even(lo, now + DAY, total, share, narrowest)?;
            windows.push(Window {
                lo: Some(now + DAY),
                hi: None,
            });
            Some(windows)
        }
        (Some(lo), Some(hi)) => even(lo, hi, total, share, narrowest),
        _ => None,
    }
}

/// One window of a whole read: the objects its search reported, and, when it was read over
/// several pages, the creation time of each object it held (so that the next read can cut it
/// where its objects are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadWindow {
    pub window: Window,
    pub total: u64,
    /// Sorted or not; empty when not recorded.
    pub created: Vec<i64>,
}

/// The windows a whole read ended with, as the next read of the same search should start:
/// in order, each that held more than seven eighths of `target` cut where its recorded
/// objects say (room for what is created before the next read), then neighbours merged while
/// together they hold at most that many. `None` unless they cover the whole field, from open
/// to open without a gap or an overlap (a read that stopped early or failed), or when one
/// window would hold it all.
pub fn kept_windows(mut read: Vec<ReadWindow>, target: u64) -> Option<Vec<Window>> {
    read.sort_by_key(|r| r.window.lo);
    let covers = read.first()?.window.lo.is_none()
        && read.last()?.window.hi.is_none()
        && read
            .windows(2)
            .all(|pair| pair[0].window.hi == pair[1].window.lo);
    if !covers {
        return None;
    }
    let limit = (target - target / 8).max(1);
    let mut merged: Vec<(Window, u64)> = Vec::with_capacity(read.len());
    for ReadWindow {
        window,
        total,
        mut created,
    } in read
    {
        for (part, count) in cut(window, total, &mut created, limit) {
            match merged.last_mut() {
                Some((last, held)) if *held + count <= limit => {
                    last.hi = part.hi;
                    *held += count;
                }
                _ => merged.push((part, count)),
            }
        }
    }
    (merged.len() > 1).then(|| merged.into_iter().map(|(w, _)| w).collect())
}

/// `window` cut into parts of at most `limit` of the objects created at `created` (each part
/// with the objects it holds), or left whole (with `total`) when it holds no more or nothing
/// was recorded. Objects created in the same second stay in one part.
fn cut(window: Window, total: u64, created: &mut [i64], limit: u64) -> Vec<(Window, u64)> {
    if total <= limit || created.is_empty() {
        return vec![(window, total)];
    }
    created.sort_unstable();
    let limit = limit as usize;
    let mut parts = Vec::new();
    let (mut lo, mut from) = (window.lo, 0usize);
    while let Some(&edge) = created.get(from + limit) {
        // Cut before the first object created in the second of the next part's first one.
        let mut start = created.partition_point(|&c| c < edge);
        if start <= from {
            // A part that is one tied second: it ends after that second, however many share it.
            start = created.partition_point(|&c| c <= edge);
        }
        let Some(&edge) = created.get(start) else {
            break;
        };
        parts.push((Window { lo, hi: Some(edge) }, (start - from) as u64));
        lo = Some(edge);
        from = start;
    }
    parts.push((Window { lo, hi: window.hi }, (created.len() - from) as u64));
    parts
}

/// `[lo, hi)` cut into equal windows of about `share` objects each (assuming they are spread
/// evenly), none narrower than `narrowest` seconds.
fn even(lo: i64, hi: i64, total: u64, share: u64, narrowest: i64) -> Option<Vec<Window>> {
    let width = hi.checked_sub(lo)?;
    let parts = total
        .div_ceil(share.max(1))
        .min(MAX_SPLIT)
        .min((width / narrowest).max(0) as u64);
    if parts < 2 {
        return None;
    }
    let edges: Vec<i64> = (1..parts)
        .map(|i| lo + (i128::from(width) * i as i128 / parts as i128) as i64)
        .collect();
    Some(between(Some(lo), &edges, Some(hi)))
}

/// The windows between consecutive edges (`edges` ascending or descending), from `lo` to `hi`.
fn between(lo: Option<i64>, edges: &[i64], hi: Option<i64>) -> Vec<Window> {
    let mut sorted = edges.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut windows = Vec::with_capacity(sorted.len() + 1);
    let mut from = lo;
    for edge in sorted {
        windows.push(Window {
            lo: from,
            hi: Some(edge),
        });
        from = Some(edge);
    }
    windows.push(Window { lo: from, hi });
    windows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(compared: Compared) -> PartitionKey {
        PartitionKey {
            field: "created_at".into(),
            compared,
        }
    }

    #[test]
    fn window_queries_keep_the_scans_query_and_add_the_bounds() {
        let by_day = key(Compared::ByDay);
        let w = Window {
            lo: Some(100),
            hi: Some(200),
        };
        let role = json!({"field": "role", "operator": "=", "value": "lead"});
        assert_eq!(
            window_query(&role, &by_day, w).unwrap(),
            json!({"operator": "AND", "value": [
                role,
                {"operator": "OR", "value": [
                    {"field": "created_at", "operator": "=", "value": 100},
                    {"field": "created_at", "operator": ">", "value": 100}]},
                {"field": "created_at", "operator": "<", "value": 200}]})
        );
        let by_second = key(Compared::BySecond);
        assert_eq!(
            window_query(
                &Value::Null,
                &by_second,
                Window {
                    lo: Some(100),
                    hi: None
                }
            )
            .unwrap(),
            json!({"field": "created_at", "operator": ">", "value": 99})
        );
        assert_eq!(
            window_query(&Value::Null, &by_second, Window::ALL).unwrap(),
            json!({"field": "created_at", "operator": ">", "value": 0})
        );
        // An AND query gains the bounds as siblings; one nested too deep cannot be split.
        let and = json!({"operator": "AND", "value": [role, role]});
        let q = window_query(&and, &by_second, w).unwrap();
        assert_eq!(q["value"].as_array().unwrap().len(), 4);
        let deep = json!({"operator": "OR", "value": [and, role]});
        assert!(window_query(&deep, &by_second, w).is_none());
        assert!(!can_split(&deep, &by_second));
        let full = json!({"operator": "AND", "value": vec![role.clone(); 14]});
        assert!(!can_split(&full, &by_day));
    }

    #[test]
    fn kept_windows_merge_neighbours_and_need_the_whole_field() {
        let w = |lo: Option<i64>, hi: Option<i64>| Window { lo, hi };
        let r = |window: Window, total: u64| ReadWindow {
            window,
            total,
            created: Vec::new(),
        };
        let read = vec![
            r(w(Some(20), Some(30)), 100),
            r(w(None, Some(10)), 10),
            r(w(Some(10), Some(20)), 20),
            r(w(Some(30), Some(40)), 30),
            r(w(Some(40), None), 0),
        ];
        // Sorted, then merged up to 7/8 of 150 (131): 10 + 20 + 100 = 130 fits, + 30 does not.
        assert_eq!(
            kept_windows(read.clone(), 150),
            Some(vec![w(None, Some(30)), w(Some(30), None)])
        );
        // A gap, an overlap, a missing open end: not kept.
        let mut gap = read.clone();
        gap.remove(2);
        assert_eq!(kept_windows(gap, 150), None);
        let mut overlap = read.clone();
        overlap.push(r(w(Some(15), Some(25)), 1));
        assert_eq!(kept_windows(overlap, 150), None);
        let mut bounded = read.clone();
        bounded.remove(1);
        assert_eq!(kept_windows(bounded, 150), None);
        assert_eq!(kept_windows(Vec::new(), 150), None);
        // Everything in one window: nothing to gain.
        assert_eq!(kept_windows(read, 10_000), None);
    }

    #[test]
    fn windows_read_over_several_pages_are_cut_where_their_objects_are() {
        let w = |lo: Option<i64>, hi: Option<i64>| Window { lo, hi };
        // 10 objects in [100, 200) and a target of 3 (3 - 3/8 = 3 a part): cut before the
        // 4th, 7th and 10th object; the three created at 150 stay in one part.
        let created = vec![190, 101, 150, 150, 150, 120, 160, 170, 180, 110];
        let read = vec![
            ReadWindow {
                window: w(None, Some(100)),
                total: 0,
                created: Vec::new(),
            },
            ReadWindow {
                window: w(Some(100), Some(200)),
                total: 10,
                created,
            },
            ReadWindow {
                window: w(Some(200), None),
                total: 0,
                created: Vec::new(),
            },
        ];
        let kept = kept_windows(read, 3).unwrap();
        // Sorted: 101 110 120 | 150 150 150 | 160 170 180 | 190
        assert_eq!(
            kept,
            vec![
                w(None, Some(150)),
                w(Some(150), Some(160)),
                w(Some(160), Some(190)),
                w(Some(190), None),
            ]
        );
        // Every object in exactly one part, none holding more than the limit but for ties.
        let all = [101, 110, 120, 150, 150, 150, 160, 170, 180, 190];
        for part in &kept {
            let held = all.iter().filter(|&&c| part.holds(Some(c))).count();
            assert!(held <= 3, "{part:?} holds {held}");
        }
        assert_eq!(
            all.iter()
                .map(|&c| kept.iter().filter(|p| p.holds(Some(c))).count())
                .sum::<usize>(),
            all.len()
        );
        // Ties longer than the limit: one part for the tied second.
        let mut tied = vec![5; 7];
        assert_eq!(
            cut(w(Some(0), Some(10)), 7, &mut tied, 3),
            vec![(w(Some(0), Some(10)), 7)]
        );
    }

    #[test]
    fn splits_cover_the_window_exactly_once() {
        let now = 1_700_000_000;
        let by_second = key(Compared::BySecond);
        // Small enough: read as is.
        assert_eq!(split(Window::ALL, 600, 600, 150, &by_second, now), None);
        assert_eq!(target_size(900, 150, 48), 900);
        // Whole pages, at least one.
        assert_eq!(target_size(100_000, 150, 48), 2_100);
        assert_eq!(target_size(2_000, 150, 48), 150);
        assert_eq!(target_size(10_000, 150, 64), 300);
        assert_eq!(target_size(5_000, 150, 64), 150);
        // Unbounded: doubling windows back from now, contiguous, open at both ends.
        let first = split(Window::ALL, 100_000, 2_000, 150, &by_second, now).unwrap();
        assert_eq!(first[0].lo, None);
        assert_eq!(first.last().unwrap().hi, None);
        for pair in first.windows(2) {
            assert_eq!(pair[0].hi, pair[1].lo);
        }
        // Bounded: by count, about `target` each, contiguous from lo to hi.
        let w = Window {
            lo: Some(1_000),
            hi: Some(101_000),
        };
        let parts = split(w, 10_000, 2_000, 150, &by_second, now).unwrap();
        assert_eq!(parts.len(), 5);
        assert_eq!((parts[0].lo, parts[4].hi), (w.lo, w.hi));
        // Windows of a page or two are cut at two thirds of their share.
        assert_eq!(
            split(w, 1_000, 150, 150, &by_second, now).unwrap().len(),
            10
        );
        for pair in parts.windows(2) {
            assert_eq!(pair[0].hi, pair[1].lo);
        }
        // By day, never narrower than a day: a two-day window splits in two at most.
        let two_days = Window {
            lo: Some(0),
            hi: Some(2 * DAY),
        };
        assert_eq!(
            split(two_days, 10_000, 100, 50, &key(Compared::ByDay), now)
                .unwrap()
                .len(),
            2
        );
        let one_day = Window {
            lo: Some(0),
            hi: Some(DAY),
        };
        assert_eq!(
            split(one_day, 10_000, 100, 50, &key(Compared::ByDay), now),
            None
        );
        // A window of two pages is paged, not split; the whole table is split past its target.
        assert_eq!(split(w, 300, 150, 150, &by_second, now), None);
        assert!(split(w, 301, 150, 150, &by_second, now).is_some());
        assert!(split(Window::ALL, 300, 150, 150, &by_second, now).is_some());
        // Every second belongs to exactly one window.
        for at in [999, 1_000, 20_999, 21_000, 100_999, 101_000] {
            let holders = parts.iter().filter(|p| p.holds(Some(at))).count();
            assert_eq!(holders, usize::from(w.holds(Some(at))), "{at}");
        }
    }
}
