//! Opt-in faults and the connection plumbing that makes `Fault::Drop` real.
//!
//! [`KillableListener`] wraps a `TcpListener`; every accepted connection carries a
//! [`ConnHandle`] (exposed to handlers as axum `ConnectInfo`). Killing the handle makes every
//! later read/write on that socket fail, so hyper aborts the connection before writing a byte
//! of the response and the client sees a connection error, not an HTTP status.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::{Fault, FaultRule};

/// Per-connection switch shared between the socket wrapper and request handlers.
#[derive(Clone, Debug, Default)]
pub struct ConnHandle {
    killed: Arc<AtomicBool>,
}

impl ConnHandle {
    /// Makes the connection fail on its next read or write.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
    }
}

impl Connected<IncomingStream<'_, KillableListener>> for ConnHandle {
    fn connect_info(stream: IncomingStream<'_, KillableListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A TCP listener whose connections can be killed from a handler (sets `TCP_NODELAY`, too).
pub struct KillableListener(pub TcpListener);

impl Listener for KillableListener {
    type Io = KillableStream;
    type Addr = ConnHandle;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, _peer)) => {
                    // Small JSON pages must not wait for Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let handle = ConnHandle::default();
                    let io = KillableStream {
                        inner: stream,
                        killed: handle.killed.clone(),
                    };
                    return (io, handle);
                }
                // Accept errors (e.g. too many open files) are transient; back off briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr().map(|_| ConnHandle::default())
    }
}

/// A `TcpStream` that fails all I/O once its [`ConnHandle`] is killed.
pub struct KillableStream {
    inner: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    fn dead(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

fn aborted() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "emulator fault: drop")
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.dead() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.dead() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.dead() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.dead() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Takes the first rule matching a request and consumes one of its uses.
///
/// `CursorLoop` rules only match requests that carry a cursor (there is nothing to repeat on
/// a first page), so they are not used up by first pages.
pub fn take_matching(
    rules: &mut Vec<FaultRule>,
    method: &str,
    path: &str,
    has_cursor: bool,
) -> Option<Fault> {
    let position = rules.iter().position(|r| {
        r.count > 0
            && r.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && r.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
            && (has_cursor || !matches!(r.fault, Fault::CursorLoop))
    })?;
    let rule = &mut rules[position];
    rule.count -= 1;
    let fault = rule.fault.clone();
    if rule.count == 0 {
        rules.remove(position);
    }
    Some(fault)
}

/// The error.list (status, code, message) a `Fault::Status` answers with.
pub fn status_error(status: u16) -> (u16, &'static str, &'static str) {
    match status {
        400 => (400, "bad_request", "Bad request"),
        401 => (401, "unauthorized", "Access Token Invalid"),
        403 => (403, "api_plan_restricted", "Active subscription needed."),
        404 => (404, "not_found", "Resource Not Found"),
        408 | 504 => (status, "request_timeout", "The request timed out"),
        409 => (409, "conflict", "Conflicting data"),
        422 => (422, "unprocessable_entity", "Unprocessable entity"),
        429 => (429, "rate_limit_exceeded", "Rate limit exceeded"),
        502 => (502, "server_error", "Bad gateway"),
        503 => (503, "service_unavailable", "Service unavailable"),
        s if s >= 500 => (s, "server_error", "Server error"),
        s => (s, "client_error", "Client error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: Option<&str>, method: Option<&str>, fault: Fault, count: u32) -> FaultRule {
        FaultRule {
            path_prefix: prefix.map(str::to_string),
            method: method.map(str::to_string),
            fault,
            count,
        }
    }

    #[test]
    fn rules_apply_to_the_next_count_matching_requests() {
        let mut rules = vec![
            rule(Some("/contacts"), Some("GET"), Fault::Status(500), 2),
            rule(None, None, Fault::CursorLoop, 1),
        ];
        assert!(take_matching(&mut rules, "POST", "/contacts/search", false).is_none());
        assert!(matches!(
            take_matching(&mut rules, "get", "/contacts", false),
            Some(Fault::Status(500))
        ));
        assert!(take_matching(&mut rules, "GET", "/contacts", false).is_some());
        assert!(take_matching(&mut rules, "GET", "/contacts", false).is_none());
        assert!(matches!(
            take_matching(&mut rules, "GET", "/contacts", true),
            Some(Fault::CursorLoop)
        ));
        assert!(rules.is_empty());
    }
}
