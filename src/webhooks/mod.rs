//! Intercom webhooks into SQL: an HTTP endpoint that receives Intercom's notifications
//! (`serve --webhook-listen ADDR`), checks each delivery's signature, stores it durably, and
//! hands it on (to the cache, which forgets the answers it makes stale, and to `LISTEN`ing
//! PostgreSQL clients). The notifications kept are the table `webhook_events`.
//!
//! A delivery is answered:
//! - `200` once it is on disk (committed and synced) — a first delivery or a duplicate (same
//!   notification id: acknowledged, stored once, its `deliveries` count raised);
//! - `401` when `X-Hub-Signature` is missing or is not the HMAC-SHA1 of the body keyed with
//!   the app's client secret (nothing is stored);
//! - `400` when the body is no `notification_event`; `413` past the body limit;
//! - `503` when it could not be stored (Intercom delivers it again later).
//!
//! `HEAD` and `GET` answer `200`: Intercom checks that an endpoint exists before it saves it.
//!
//! - `signature`: `X-Hub-Signature`; `event`: reading a notification;
//! - `store`: the SQLite database; `table`: the `webhook_events` table over it.

mod event;
mod listener;
pub mod signature;
mod store;
mod table;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use tokio::sync::oneshot;

pub use event::Notification;
pub use listener::MAX_CONNECTIONS;
pub use store::{FILE_NAME, Filter, Row, Store, Stored};
pub use table::{COLUMNS, TABLE_NAME, WebhookEvents};

use crate::error::Error;

/// The environment variable holding the Intercom app's client secret, which signs webhooks.
pub const SECRET_VARIABLE: &str = "INTERCOM_CLIENT_SECRET";

/// The default of [`WebhookOptions::retention`]: 7 days.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// The default of [`WebhookOptions::connection_timeout`].
pub const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// The default of [`WebhookOptions::max_body_bytes`]: 4 MiB (a conversation with its parts).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// How to receive webhooks.
#[derive(Clone)]
pub struct WebhookOptions {
    /// `host:port` to listen on for Intercom's deliveries.
    pub listen: String,
    /// The app's client secret (HMAC key of `X-Hub-Signature`). Never printed.
    pub secret: String,
    /// Where the notification database lives (created if missing).
    pub data_dir: PathBuf,
    /// How long notifications are kept (by the time they were received).
    pub retention: Duration,
    /// The largest body accepted; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// How long a connection may stay open (default 30 s); then it is closed, whatever it
    /// is doing. At most [`listener::MAX_CONNECTIONS`] are served at once.
    pub connection_timeout: Duration,
}

impl WebhookOptions {
    /// Defaults for everything but the address, secret and directory.
    pub fn new(listen: impl Into<String>, secret: impl Into<String>, data_dir: PathBuf) -> Self {
        Self {
            listen: listen.into(),
            secret: secret.into(),
            data_dir,
            retention: DEFAULT_RETENTION,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            connection_timeout: DEFAULT_CONNECTION_TIMEOUT,
        }
    }

    /// The default data directory: the platform's data directory (`~/.local/share/intercom-sql`
    /// on Linux).
    pub fn default_data_dir() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("intercom-sql"))
    }
}

impl std::fmt::Debug for WebhookOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookOptions")
            .field("listen", &self.listen)
            .field("secret", &"<hidden>")
            .field("data_dir", &self.data_dir)
            .field("retention", &self.retention)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("connection_timeout", &self.connection_timeout)
            .finish()
    }
}

/// What to do with each newly stored notification (not with duplicates).
pub type OnNotification = Arc<dyn Fn(&Arc<Notification>) + Send + Sync>;

/// A webhook endpoint receiving in the background; dropping it stops it.
pub struct RunningReceiver {
    local_addr: SocketAddr,
    store: Arc<Store>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl RunningReceiver {
    /// The address deliveries are received on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The notification store (the `webhook_events` table reads it).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

impl std::fmt::Debug for RunningReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningReceiver")
            .field("local_addr", &self.local_addr)
            .field("store", &self.store.path())
            .finish()
    }
}

impl Drop for RunningReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// Bodies read at once (each up to `max_body_bytes`).
pub const BODY_READERS: usize = 16;

#[derive(Clone)]
struct Receiver {
    secret: Arc<[u8]>,
    store: Arc<Store>,
    on_new: OnNotification,
    max_body_bytes: usize,
    body_readers: Arc<tokio::sync::Semaphore>,
}

/// Opens the store, binds and starts receiving on the current Tokio runtime.
pub async fn start(
    options: WebhookOptions,
    on_new: OnNotification,
) -> Result<RunningReceiver, Error> {
    if options.secret.is_empty() {
        return Err(Error::Config(format!(
            "receiving webhooks needs the app's client secret: set {SECRET_VARIABLE}"
        )));
    }
    if options.max_body_bytes < 1024 {
        return Err(Error::Config(
            "--webhook-max-body must be at least 1KiB".into(),
        ));
    }
    let dir = options.data_dir.clone();
    let retention = options.retention;
    let store = tokio::task::spawn_blocking(move || Store::open(&dir, retention))
        .await
        .map_err(|e| Error::Config(format!("cannot open the webhook store: {e}")))??;
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|source| Error::Io {
            context: format!("cannot listen for webhooks on {}", options.listen),
            source,
        })?;
    let local_addr = listener.local_addr()?;
    let receiver = Receiver {
        secret: options.secret.as_bytes().into(),
        store: store.clone(),
        on_new,
        max_body_bytes: options.max_body_bytes,
        body_readers: Arc::new(tokio::sync::Semaphore::new(BODY_READERS)),
    };
    let app = Router::new()
        .route("/", any(receive))
        .route("/{*path}", any(receive))
        .with_state(receiver);
    let (shutdown, stopped) = oneshot::channel::<()>();
    let listener = listener::Limited::new(listener, options.connection_timeout);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(RunningReceiver {
        local_addr,
        store,
        shutdown: Some(shutdown),
    })
}

/// One request to the endpoint. The signature header is checked before the body is read,
/// and at most [`BODY_READERS`] bodies are read at once, so requests without a secret cannot
/// make the endpoint hold more than `BODY_READERS × max_body_bytes`.
async fn receive(State(receiver): State<Receiver>, request: axum::extract::Request) -> Response {
    use axum::http::Method;
    let method = request.method().clone();
    if method == Method::HEAD || method == Method::GET {
        return (StatusCode::OK, "intercom-sql webhook endpoint\n").into_response();
    }
    if method != Method::POST {
        return closing((
            StatusCode::METHOD_NOT_ALLOWED,
            "webhook deliveries are POST requests\n",
        ));
    }
    let header = request.headers().get(signature::HEADER).cloned();
    if let Err(refused) = signature::check_header(header.as_ref().map(|h| h.as_bytes())) {
        return closing((StatusCode::UNAUTHORIZED, format!("{refused}\n")));
    }
    let body = {
        // The semaphore is never closed.
        let _reading = receiver.body_readers.acquire().await.ok();
        match axum::body::to_bytes(request.into_body(), receiver.max_body_bytes).await {
            Ok(body) => body,
            Err(_) => {
                return closing((
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the body is larger than {} bytes (--webhook-max-body), or was cut short\n",
                        receiver.max_body_bytes
                    ),
                ));
            }
        }
    };
    let signature = header.as_ref().map(|h| h.as_bytes());
    if let Err(refused) = signature::verify(&receiver.secret, &body, signature) {
        return (StatusCode::UNAUTHORIZED, format!("{refused}\n")).into_response();
    }
    let notification = match Notification::parse(&body) {
        Ok(n) => Arc::new(n),
        Err(problem) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not an Intercom notification: {problem}\n"),
            )
                .into_response();
        }
    };
    // Stored and handed on in one task that runs to its end even if this request is dropped
    // (the client hung up, the connection's time ran out): a notification on disk is always
    // announced, or a retry (stored as a duplicate) would never be.
    let on_new = receiver.on_new.clone();
    let store = receiver.store.clone();
    let stored = tokio::task::spawn_blocking(move || {
        let stored = store.insert(&notification, store::now_micros());
        if let Ok(Stored::New) = stored {
            on_new(&notification);
        }
        stored
    })
    .await;
    match stored {
        Ok(Ok(_)) => StatusCode::OK.into_response(),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the notification could not be stored\n",
        )
            .into_response(),
    }
}

/// An answer given before the request's body was read to its end: the connection is closed
/// after it (`Connection: close`), so the sender does not reuse a connection whose unread
/// bytes would be taken for its next request, and sees the answer rather than a reset later.
fn closing(answer: impl IntoResponse) -> Response {
    let mut response = answer.into_response();
    response.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    response
}
