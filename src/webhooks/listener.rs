//! The endpoint's connections, bounded: at most [`MAX_CONNECTIONS`] at once (more wait to be
//! accepted), and each closed once it has been open [`WebhookOptions::connection_timeout`],
//! whatever it is doing, so connections that send nothing (or a byte a minute) cannot hold
//! the endpoint. A delivery is one small request: Intercom's take well under a second.
//!
//! [`WebhookOptions::connection_timeout`]: super::WebhookOptions::connection_timeout

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 256;

/// A listener whose connections are counted and timed.
pub struct Limited {
    inner: TcpListener,
    slots: Arc<Semaphore>,
    lifetime: Duration,
}

impl Limited {
    pub fn new(inner: TcpListener, lifetime: Duration) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
            lifetime,
        }
    }
}

impl axum::serve::Listener for Limited {
    type Io = Timed;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed.
        let slot = self.slots.clone().acquire_owned().await.ok();
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let timed = Timed {
                        stream,
                        _slot: slot,
                        deadline: Box::pin(tokio::time::sleep(self.lifetime)),
                    };
                    return (timed, addr);
                }
                // Transient (too many open files): back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that fails every read and write once its time is up (its slot is freed when
/// it is dropped).
pub struct Timed {
    stream: TcpStream,
    _slot: Option<OwnedSemaphorePermit>,
    deadline: Pin<Box<Sleep>>,
}

impl Timed {
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "webhook connection open too long")
}

impl AsyncRead for Timed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            return Poll::Ready(Err(timed_out()));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
