//! What keeps one query from hurting anything else: cancel requests that really stop a
//! running scan, and panics turned into an `XX000` error for that query alone.
//!
//! pgwire only races a cancel request against `do_query`, which for us ends as soon as the
//! result stream exists; rows are pulled later, outside that race. So every connection has
//! its own cancel signal here, raced against planning *and* every row pull. A cancelled
//! stream is dropped at once, and dropping it stops the Intercom scans (no further requests).

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use datafusion_postgres::pgwire::api::cancel::CancelHandler;
use datafusion_postgres::pgwire::error::PgWireResult;
use datafusion_postgres::pgwire::messages::cancel::CancelRequest;
use datafusion_postgres::pgwire::messages::startup::SecretKey;
use futures::{FutureExt, Stream};
use tokio::sync::watch;

use super::errors::{panic_error, user_error};

type ConnectionKey = (i32, Bytes);

/// Every connection's cancel signal, by the (process id, secret key) it was given at startup.
#[derive(Debug, Default)]
pub struct CancelRegistry {
    connections: Mutex<HashMap<ConnectionKey, watch::Sender<u64>>>,
}

impl CancelRegistry {
    /// Signals the connection with this key, if there is one (a wrong key does nothing, as in
    /// PostgreSQL).
    pub fn cancel(&self, pid: i32, secret_key: &SecretKey) {
        let key = (pid, secret_key.to_bytes());
        if let Ok(connections) = self.connections.lock()
            && let Some(signal) = connections.get(&key)
        {
            signal.send_modify(|generation| *generation = generation.wrapping_add(1));
        }
    }
}

/// pgwire's cancel hook: a `CancelRequest` arrives on its own short connection.
#[derive(Debug)]
pub struct RegistryCancelHandler(pub Arc<CancelRegistry>);

#[async_trait]
impl CancelHandler for RegistryCancelHandler {
    async fn on_cancel_request(&self, request: CancelRequest) {
        self.0.cancel(request.pid, &request.secret_key);
    }
}

/// One connection's cancel signal; unregistered when the connection ends.
#[derive(Debug)]
pub struct ConnectionCancel {
    registry: Arc<CancelRegistry>,
    key: Mutex<Option<ConnectionKey>>,
    signal: watch::Sender<u64>,
}

impl ConnectionCancel {
    /// A signal not yet reachable by cancel requests (see [`ConnectionCancel::register`]).
    pub fn new(registry: Arc<CancelRegistry>) -> Self {
        Self {
            registry,
            key: Mutex::new(None),
            signal: watch::channel(0).0,
        }
    }

    /// Makes the signal reachable under the key the client was given at startup. Idempotent.
    pub fn register(&self, pid: i32, secret_key: &SecretKey) {
        let Ok(mut key) = self.key.lock() else {
            return;
        };
        if key.is_some() {
            return;
        }
        let new_key = (pid, secret_key.to_bytes());
        if let Ok(mut connections) = self.registry.connections.lock() {
            connections.insert(new_key.clone(), self.signal.clone());
            *key = Some(new_key);
        }
    }

    /// A watch for cancel requests arriving from now on.
    pub fn watch(&self) -> CancelWatch {
        let mut receiver = self.signal.subscribe();
        receiver.mark_unchanged();
        CancelWatch {
            signal: receiver,
            deadline: None,
        }
    }
}

impl Drop for ConnectionCancel {
    fn drop(&mut self) {
        let key = self.key.lock().ok().and_then(|mut k| k.take());
        if let (Some(key), Ok(mut connections)) = (key, self.registry.connections.lock()) {
            connections.remove(&key);
        }
    }
}

/// Resolves when a cancel request arrives for the query that took it.
#[derive(Clone, Debug)]
pub struct CancelWatch {
    signal: watch::Receiver<u64>,
    /// When the statement times out (the session's `statement_timeout`), if it does.
    deadline: Option<tokio::time::Instant>,
}

/// Why a statement was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// A cancel request.
    Request,
    /// `statement_timeout` passed.
    Timeout,
}

/// The error a cancelled query returns (what PostgreSQL sends for a cancel request).
fn canceled_error(stop: Stop) -> datafusion_postgres::pgwire::error::PgWireError {
    match stop {
        Stop::Request => user_error("57014", "canceling statement due to user request"),
        Stop::Timeout => user_error("57014", "canceling statement due to statement timeout"),
    }
}

impl CancelWatch {
    /// The same watch, also ending `timeout` from now (`SET statement_timeout`; none for 0).
    pub fn with_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.deadline = timeout
            .filter(|t| !t.is_zero())
            .map(|t| tokio::time::Instant::now() + t);
        self
    }

    /// Waits for a cancel request or the deadline (forever, if the connection goes away first
    /// and there is no deadline).
    pub async fn cancelled(mut self) -> Stop {
        let request = async {
            if self.signal.changed().await.is_err() {
                futures::future::pending::<()>().await;
            }
        };
        match self.deadline {
            Some(deadline) => tokio::select! {
                () = request => Stop::Request,
                () = tokio::time::sleep_until(deadline) => Stop::Timeout,
            },
            None => {
                request.await;
                Stop::Request
            }
        }
    }
}

/// Runs `work` (planning, or a DML's execution) so that a panic becomes an `XX000` error
/// and a cancel request a `57014` error; either way `work` is dropped.
pub async fn guarded<T>(
    work: impl Future<Output = PgWireResult<T>>,
    cancel: CancelWatch,
) -> PgWireResult<T> {
    let work = AssertUnwindSafe(work).catch_unwind();
    tokio::select! {
        result = work => result.unwrap_or_else(|payload| Err(panic_error(payload.as_ref()))),
        stop = cancel.cancelled() => Err(canceled_error(stop)),
    }
}

/// A result stream that ends with `57014` on a cancel request and with `XX000` if pulling a
/// row panics. After its first error it drops the inner stream (stopping the scans) and ends.
pub struct GuardedStream<S> {
    inner: Option<Pin<Box<S>>>,
    cancelled: Pin<Box<dyn Future<Output = Stop> + Send>>,
}

impl<S> GuardedStream<S> {
    /// Guards `inner` with this query's cancel watch.
    pub fn new(inner: S, cancel: CancelWatch) -> Self {
        Self {
            inner: Some(Box::pin(inner)),
            cancelled: Box::pin(cancel.cancelled()),
        }
    }
}

impl<S, T> Stream for GuardedStream<S>
where
    S: Stream<Item = PgWireResult<T>>,
{
    type Item = PgWireResult<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Poll::Ready(stop) = this.cancelled.as_mut().poll(cx) {
            this.inner = None;
            return Poll::Ready(Some(Err(canceled_error(stop))));
        }
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_next(cx))) {
            Ok(Poll::Ready(Some(Err(e)))) => {
                this.inner = None;
                Poll::Ready(Some(Err(e)))
            }
            Ok(Poll::Ready(None)) => {
                this.inner = None;
                Poll::Ready(None)
            }
            Ok(other) => other,
            Err(payload) => {
                this.inner = None;
                Poll::Ready(Some(Err(panic_error(payload.as_ref()))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn error_code(e: &datafusion_postgres::pgwire::error::PgWireError) -> String {
        match e {
            datafusion_postgres::pgwire::error::PgWireError::UserError(info) => info.code.clone(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_cancel_ends_the_stream_with_57014_and_drops_it() {
        let registry = Arc::new(CancelRegistry::default());
        let connection = ConnectionCancel::new(registry.clone());
        let key = SecretKey::I32(7);
        connection.register(1, &key);
        let endless = futures::stream::pending::<PgWireResult<u32>>();
        let mut stream = GuardedStream::new(endless, connection.watch());
        registry.cancel(1, &SecretKey::I32(8)); // wrong key: nothing happens
        registry.cancel(1, &key);
        let first = stream.next().await.expect("an item");
        assert_eq!(error_code(&first.unwrap_err()), "57014");
        assert!(stream.next().await.is_none());
        drop(connection);
        assert!(registry.connections.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_statement_timeout_ends_the_stream_with_57014() {
        let registry = Arc::new(CancelRegistry::default());
        let connection = ConnectionCancel::new(registry);
        let endless = futures::stream::pending::<PgWireResult<u32>>();
        let watch = connection
            .watch()
            .with_timeout(Some(std::time::Duration::from_millis(50)));
        let mut stream = GuardedStream::new(endless, watch);
        let first = stream.next().await.expect("an item");
        match first.unwrap_err() {
            datafusion_postgres::pgwire::error::PgWireError::UserError(info) => {
                assert_eq!(info.code, "57014");
                assert!(
                    info.message.contains("statement timeout"),
                    "{}",
                    info.message
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_panicking_stream_becomes_an_internal_error() {
        let registry = Arc::new(CancelRegistry::default());
        let connection = ConnectionCancel::new(registry);
        let boom = futures::stream::poll_fn(|_| -> Poll<Option<PgWireResult<u32>>> {
            panic!("boom in a row")
        });
        let mut stream = GuardedStream::new(boom, connection.watch());
        let first = stream.next().await.expect("an item");
        assert_eq!(error_code(&first.unwrap_err()), "XX000");
        assert!(stream.next().await.is_none());
    }
}
