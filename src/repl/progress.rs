//! The progress line of a long statement in the shell: items read, pages, requests per second
//! and, where Intercom announced a total, how far along the listing that announced it is. On stderr, on a terminal only (the
//! shell decides), after the first second, redrawn in place, and erased before the statement's
//! first output: never part of what is printed or piped.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use crate::client::IntercomClient;
use crate::print::thousands;

/// How long a statement runs before its progress shows, and how often it is redrawn.
const FIRST_AFTER: Duration = Duration::from_secs(1);
const EVERY: Duration = Duration::from_millis(250);

/// One statement's progress line.
pub struct ProgressLine {
    client: Arc<IntercomClient>,
    started: Instant,
    requests_before: u64,
    state: Mutex<Drawn>,
}

#[derive(Default)]
struct Drawn {
    shown: bool,
    finished: bool,
}

impl ProgressLine {
    /// Starts counting `client`'s pages for a new statement.
    pub fn start(client: &Arc<IntercomClient>) -> Arc<Self> {
        client.scan_progress().restart();
        Arc::new(Self {
            client: client.clone(),
            started: Instant::now(),
            requests_before: client.stats().requests,
            state: Mutex::default(),
        })
    }

    /// Draws the line now and then until [`ProgressLine::finish`]; never returns (select it
    /// against the statement).
    pub async fn run(self: Arc<Self>) {
        tokio::time::sleep(FIRST_AFTER).await;
        loop {
            self.draw();
            tokio::time::sleep(EVERY).await;
        }
    }

    fn draw(&self) {
        let Ok(mut drawn) = self.state.lock() else {
            return;
        };
        let (pages, items, expected) = self.client.scan_progress().read();
        if drawn.finished || pages == 0 {
            return;
        }
        let requests = self
            .client
            .stats()
            .requests
            .saturating_sub(self.requests_before);
        let expected = expected
            .as_ref()
            .map(|(path, read, total)| (path.as_str(), *read, *total));
        let text = line(items, pages, requests, self.started.elapsed(), expected);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}\x1b[K");
        let _ = err.flush();
        drawn.shown = true;
    }

    /// Erases the line (if drawn) and draws no more.
    pub fn finish(&self) {
        let Ok(mut drawn) = self.state.lock() else {
            return;
        };
        if !drawn.finished && drawn.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
        drawn.finished = true;
    }

    /// `stream`, finishing the line when its first batch (or its end) arrives: what prints
    /// the result prints it after that.
    pub fn around(
        self: &Arc<Self>,
        stream: SendableRecordBatchStream,
    ) -> SendableRecordBatchStream {
        let schema = stream.schema();
        let (first, last) = (self.clone(), self.clone());
        let stream = stream
            .inspect(move |_| first.finish())
            .chain(futures::stream::poll_fn(move |_| {
                last.finish();
                std::task::Poll::Ready(None)
            }));
        Box::pin(RecordBatchStreamAdapter::new(schema, stream))
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `12,300 items read, 82 pages, 41 requests/s, /contacts/search 61% of 20,000`; `expected`
/// is (path, items read, total) of the listing that announced a total (in a fan-out, the
/// parents' listing).
fn line(
    items: u64,
    pages: u64,
    requests: u64,
    elapsed: Duration,
    expected: Option<(&str, u64, u64)>,
) -> String {
    let rate = requests as f64 / elapsed.as_secs_f64().max(0.001);
    let mut text = format!(
        "{} items read, {} {}, {rate:.0} requests/s",
        thousands(items),
        thousands(pages),
        if pages == 1 { "page" } else { "pages" },
    );
    if let Some((path, read, total)) = expected.filter(|(_, read, total)| read <= total) {
        let percent = (read * 100 / total).min(99);
        text.push_str(&format!(", {path} {percent}% of {}", thousands(total)));
    }
    text.push_str(" (Ctrl-C stops)");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_far_a_scan_is() {
        let second = Duration::from_secs(2);
        let search = "/contacts/search";
        assert_eq!(
            line(12_300, 82, 82, second, Some((search, 12_300, 20_000))),
            "12,300 items read, 82 pages, 41 requests/s, /contacts/search 61% of 20,000 \
             (Ctrl-C stops)"
        );
        // No total announced, or a total the scan has outgrown: no percentage.
        assert_eq!(
            line(150, 1, 1, second, None),
            "150 items read, 1 page, 0 requests/s (Ctrl-C stops)"
        );
        assert!(!line(500, 4, 4, second, Some((search, 500, 300))).contains('%'));
        // A fan-out: the parents' listing is what announced a total.
        let fan_out = line(900, 30, 30, second, Some(("/contacts", 150, 600)));
        assert!(fan_out.contains(", /contacts 25% of 600 "), "{fan_out}");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
