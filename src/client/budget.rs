//! One request budget per Intercom app in the process: every scan, lookup, procedure and
//! session that talks to the same API root with the same token draws from it
//! (docs/intercom-notes.md, "Errors and rate limits").
//!
//! Three limits apply before a request is sent:
//! - **in flight**: at most `concurrency` requests at once (`--max-concurrency`);
//! - **the window**: Intercom answers every request with `X-RateLimit-Limit`, `-Remaining` and
//!   `-Reset` (epoch seconds). The budget keeps the last window it heard of, counts its own
//!   requests against it, and holds new requests once it is spent until the window resets, so
//!   a scan slows down before Intercom answers 429 rather than after. The headers, not the
//!   documented limit, are the truth: other apps may share the workspace's budget;
//! - **pace**: at most `max_rps` requests a second, when set (`--max-rps`).
//!
//! A 429 still happens when someone else spends the window; the retry policy then waits for
//! the reset it names ([`super::retry`]) and the budget holds everyone else until then too.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::Config;

/// Requests kept back from a window's remainder, for the requests still in flight when the
/// count was taken.
const RESERVE: i64 = 1;
/// Slack after a window's reset before sending again (the reset is in whole seconds, and two
/// clocks are involved).
const RESET_SLACK: Duration = Duration::from_millis(50);

/// What the budget knows of the current rate-limit window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WindowState {
    /// `X-RateLimit-Limit` of the window.
    pub limit: Option<u64>,
    /// Requests left in the window, as counted here (the server's count less what was sent
    /// since).
    pub remaining: Option<i64>,
    /// `X-RateLimit-Reset`: epoch second the window ends.
    pub reset: u64,
}

impl WindowState {
    /// Takes one request from the window at `now` (epoch seconds), or says how long to wait.
    fn take(&mut self, now: f64) -> Result<(), Duration> {
        if now >= self.reset as f64 {
            // The window we knew of is over; the next answer tells us about the new one.
            self.remaining = None;
            return Ok(());
        }
        match &mut self.remaining {
            Some(left) if *left <= RESERVE => {
                Err(Duration::from_secs_f64(self.reset as f64 - now) + RESET_SLACK)
            }
            Some(left) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Learns from one answer's headers. `in_flight` requests were sent and not yet answered:
    /// when a new window starts, the server may not have counted them yet.
    fn observe(&mut self, limit: Option<u64>, remaining: u64, reset: u64, in_flight: usize) {
        let remaining = i64::try_from(remaining).unwrap_or(i64::MAX);
        if reset > self.reset {
            self.reset = reset;
            self.limit = limit;
            self.remaining = Some(remaining - in_flight as i64);
        } else if reset == self.reset {
            self.remaining = Some(self.remaining.map_or(remaining, |r| r.min(remaining)));
            self.limit = limit.or(self.limit);
        }
        // An answer about an older window says nothing about this one.
    }
}

/// Every live budget, by API root and a hash of the token.
type Registry = HashMap<(String, u64), Weak<Budget>>;

/// The shared budget of one app (API root and token).
#[derive(Debug)]
pub struct Budget {
    slots: Arc<Semaphore>,
    concurrency: usize,
    window: Mutex<WindowState>,
    interval: Option<Duration>,
    next_slot: Mutex<Option<Instant>>,
}

/// Permission to send one request; the in-flight slot is returned when it is dropped.
#[derive(Debug)]
pub struct Admission {
    _slot: Option<OwnedSemaphorePermit>,
    /// How long the request waited for the window or the pace (not for a slot).
    pub waited: Duration,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Budget {
    /// A budget of `concurrency` requests in flight and at most `max_rps` a second.
    pub fn new(concurrency: usize, max_rps: Option<f64>) -> Self {
        let concurrency = concurrency.max(1);
        Self {
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            window: Mutex::new(WindowState::default()),
            interval: max_rps
                .filter(|r| r.is_finite() && *r > 0.0)
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next_slot: Mutex::new(None),
        }
    }

    /// The budget every client of this process shares for `config`'s API root and token; the
    /// first client to ask sets its limits.
    pub fn shared(config: &Config) -> Arc<Self> {
        static BUDGETS: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);
        // The token is kept as a hash: the registry must not hold a copy of the secret.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        config.token.expose().hash(&mut hasher);
        let key = (config.base_url.clone(), hasher.finish());
        let mut budgets = lock(&BUDGETS);
        budgets.retain(|_, budget| budget.strong_count() > 0);
        if let Some(budget) = budgets.get(&key).and_then(Weak::upgrade) {
            return budget;
        }
        let budget = Arc::new(Budget::new(config.concurrency, config.max_rps));
        budgets.insert(key, Arc::downgrade(&budget));
        budget
    }

    /// Most requests in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Most requests a second, when paced.
    pub fn max_rps(&self) -> Option<f64> {
        self.interval.map(|i| 1.0 / i.as_secs_f64())
    }

    /// What the budget knows of the current window.
    pub fn window(&self) -> WindowState {
        *lock(&self.window)
    }

    /// Waits until one more request may be sent: a free slot, room in the window, its turn in
    /// the pace.
    pub async fn admit(&self) -> Admission {
        // The semaphore is never closed, so acquiring cannot fail; were it to, the request
        // would go without a slot rather than not at all.
        let slot = self.slots.clone().acquire_owned().await.ok();
        let mut waited = Duration::ZERO;
        loop {
            let taken = lock(&self.window).take(now_epoch());
            match taken {
                Ok(()) => break,
                Err(wait) => {
                    // Spread the waiters over a few milliseconds so they do not all arrive at
                    // once when the window opens.
                    let wait = wait + Duration::from_millis(fastrand::u64(0..20));
                    waited += wait;
                    tokio::time::sleep(wait).await;
                }
            }
        }
        if let Some(interval) = self.interval {
            let at = {
                let mut next = lock(&self.next_slot);
                let now = Instant::now();
                let at = next.map_or(now, |n| n.max(now));
                *next = Some(at + interval);
                at
            };
            let now = Instant::now();
            if at > now {
                waited += at - now;
                tokio::time::sleep_until(at).await;
            }
        }
        Admission {
            _slot: slot,
            waited,
        }
    }

    /// Learns from an answer's `X-RateLimit-*` headers (sent with every answer, 429s included).
    pub fn observe(&self, limit: Option<u64>, remaining: Option<u64>, reset: Option<u64>) {
        let (Some(remaining), Some(reset)) = (remaining, reset) else {
            return;
        };
        // This request still holds its slot.
        let in_flight = self
            .concurrency
            .saturating_sub(self.slots.available_permits())
            .saturating_sub(1);
        lock(&self.window).observe(limit, remaining, reset, in_flight);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spent_window_holds_requests_until_its_reset() {
        let mut w = WindowState::default();
        // Nothing known yet: requests go.
        assert_eq!(w.take(100.0), Ok(()));
        w.observe(Some(10), 3, 110, 0);
        assert_eq!(w.take(101.0), Ok(()));
        assert_eq!(w.take(101.0), Ok(()));
        // One left is the reserve: hold until 110 (+ slack).
        let wait = w.take(101.5).unwrap_err();
        assert_eq!(wait, Duration::from_secs_f64(8.5) + RESET_SLACK);
        // Past the reset the window is unknown again.
        assert_eq!(w.take(110.0), Ok(()));
        assert_eq!(w.remaining, None);
    }

    #[test]
    fn headers_only_ever_lower_the_count_within_a_window() {
        let mut w = WindowState::default();
        w.observe(Some(100), 50, 200, 4);
        // A new window: what the server said, less what is still in flight.
        assert_eq!(w.remaining, Some(46));
        // A later answer from the same window with more left (sent before others) is ignored.
        w.observe(Some(100), 60, 200, 0);
        assert_eq!(w.remaining, Some(46));
        // Someone else spent the budget: the lower count wins.
        w.observe(Some(100), 10, 200, 0);
        assert_eq!(w.remaining, Some(10));
        // An answer about an older window changes nothing.
        w.observe(Some(100), 0, 190, 0);
        assert_eq!((w.remaining, w.reset), (Some(10), 200));
    }

    #[tokio::test]
    async fn the_pace_spaces_requests() {
        let budget = Budget::new(4, Some(50.0));
        let start = Instant::now();
        let mut waited = Duration::ZERO;
        for _ in 0..5 {
            waited += budget.admit().await.waited;
        }
        // Five requests at 50 a second: the fifth goes no sooner than 80 ms after the first
        // (a lower bound: a slow machine only adds to it).
        assert!(
            start.elapsed() >= Duration::from_millis(80),
            "{:?}",
            start.elapsed()
        );
        assert!(waited >= Duration::from_millis(70), "{waited:?}");
    }

    #[tokio::test]
    async fn slots_bound_the_requests_in_flight() {
        let budget = Budget::new(2, None);
        let a = budget.admit().await;
        let _b = budget.admit().await;
        let third = tokio::time::timeout(Duration::from_millis(50), budget.admit()).await;
        assert!(
            third.is_err(),
            "a third request went while two were in flight"
        );
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(5), budget.admit()).await;
        assert!(third.is_ok());
    }

    #[test]
    fn clients_of_one_app_share_a_budget() {
        use crate::config::AccessToken;
        let a = Config::new("http://127.0.0.1:9", AccessToken::new("t1"));
        let b = Config::new("http://127.0.0.1:9", AccessToken::new("t2"));
        let first = Budget::shared(&a);
        assert!(Arc::ptr_eq(&first, &Budget::shared(&a)));
        assert!(!Arc::ptr_eq(&first, &Budget::shared(&b)));
    }
}
