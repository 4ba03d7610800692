//! `intercom-sql serve`: the Intercom tables behind the PostgreSQL wire protocol, on
//! datafusion-postgres (pgwire) — for psql, DBeaver, JDBC/ODBC drivers and BI tools.
//!
//! Every connection gets its own DataFusion session (settings, temporary tables, prepared
//! statements) over one shared Intercom client, so all connections draw on one API budget.
//! [`start`] binds, checks the security settings (fails closed) and returns the bound address;
//! tests and embedders run it in-process on `127.0.0.1:0`.
//!
//! - `auth`: SCRAM-SHA-256 and the TLS requirement; `tls`: certificate loading;
//! - `conn`: the connection loop: every frame checked before pgwire decodes it, message size
//!   and authentication time limits, the answer past `--max-connections`;
//! - `handler`: the per-connection query handlers; `policy`: what statements may do;
//! - `guard`: cancel requests and panics; `errors`: SQLSTATEs (the mapping table is there);
//! - `notify`: `LISTEN`, and webhook notifications delivered to listening connections.

mod auth;
mod catalog;
mod compat;
mod conn;
mod errors;
mod execute;
mod functions;
mod guard;
mod handler;
mod notify;
mod policy;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

pub use auth::Credentials;
pub use conn::{DEFAULT_MAX_MESSAGE_BYTES, PROTOCOL_MAX_MESSAGE_BYTES};
pub use errors::{client_sqlstate, sqlstate};
pub use handler::RECURSION_LIMIT;
pub use notify::ALL_EVENTS;

use crate::error::Error;
use crate::session::SessionFactory;
use crate::webhooks::{self, WebhookOptions};

/// Extra setup for every new session (register tables or functions of the embedder's own).
pub type SessionSetup = Arc<dyn Fn(&SessionContext) -> Result<(), Error> + Send + Sync>;

/// A certificate chain and its private key, PEM files.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The default of [`ServerOptions::max_connections`] (PostgreSQL's `max_connections`).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

/// The default of [`ServerOptions::auth_timeout`] (PostgreSQL's `authentication_timeout`).
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections over `max_connections` being answered `53300` (or having their cancel request
/// served) at once; past this many, further ones are closed without an answer.
const MAX_PENDING_REFUSALS: usize = 64;

/// How long a connection over `max_connections` may take to send its startup packet (or
/// cancel request), at most: refusing it should not hold a slot for long.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run the server.
#[derive(Clone)]
pub struct ServerOptions {
    /// `host:port` to listen on; port 0 picks a free one (see [`RunningServer::local_addr`]).
    pub listen: String,
    /// Require SCRAM-SHA-256 login as this user. Without it only loopback addresses may be used.
    pub credentials: Option<Credentials>,
    /// Serve TLS only: plaintext clients are refused.
    pub tls: Option<TlsFiles>,
    /// Allow statements that read or write the server's files (`COPY … TO`, `CREATE
    /// EXTERNAL TABLE`).
    pub allow_files: bool,
    /// Send no write to Intercom: INSERT/UPDATE/DELETE on Intercom tables and procedures that
    /// write are refused (the sessions' client refuses writes, see `IntercomClient::refuses`).
    pub read_only: bool,
    /// Runs on every new session after the Intercom tables are registered.
    pub session_setup: Option<SessionSetup>,
    /// Connections served at once (default [`DEFAULT_MAX_CONNECTIONS`]); one more is answered
    /// `FATAL 53300 sorry, too many clients already` (its cancel request is still served).
    pub max_connections: usize,
    /// Time a connection has to finish TLS, its startup packet and authentication (default
    /// [`DEFAULT_AUTH_TIMEOUT`]); then it is closed.
    pub auth_timeout: Duration,
    /// The longest message a client may send (Query, Parse, Bind, CopyData), at most
    /// [`PROTOCOL_MAX_MESSAGE_BYTES`] (default [`DEFAULT_MAX_MESSAGE_BYTES`]); a longer one
    /// ends the connection with `FATAL 54000`.
    pub max_message_bytes: usize,
    /// Other workspaces, each served as the database of its name (`psql …/eu`), with the
    /// others as catalogs; `factory`'s workspace answers to its own catalog name and to
    /// `intercom`. Empty: one workspace, any database name.
    pub workspaces: Vec<(String, SessionFactory)>,
    /// Receive Intercom's webhooks: store them (`webhook_events`), forget the cached answers
    /// they make stale, and notify `LISTEN`ing connections. Off by default.
    pub webhooks: Option<WebhookOptions>,
}

impl ServerOptions {
    /// Loopback-only defaults: no authentication, no TLS, no files.
    pub fn new(listen: impl Into<String>) -> Self {
        Self {
            listen: listen.into(),
            credentials: None,
            tls: None,
            allow_files: false,
            read_only: false,
            session_setup: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            auth_timeout: DEFAULT_AUTH_TIMEOUT,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            webhooks: None,
            workspaces: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerOptions")
            .field("listen", &self.listen)
            .field("credentials", &self.credentials)
            .field("tls", &self.tls)
            .field("allow_files", &self.allow_files)
            .field("read_only", &self.read_only)
            .field("session_setup", &self.session_setup.is_some())
            .field("max_connections", &self.max_connections)
            .field("auth_timeout", &self.auth_timeout)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("webhooks", &self.webhooks)
            .field(
                "workspaces",
                &self.workspaces.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A server accepting connections in the background; dropping it stops accepting.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    webhooks: Option<webhooks::RunningReceiver>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<()>,
}

impl RunningServer {
    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address webhook deliveries are received on, when [`ServerOptions::webhooks`] is set.
    pub fn webhook_addr(&self) -> Option<SocketAddr> {
        self.webhooks
            .as_ref()
            .map(webhooks::RunningReceiver::local_addr)
    }

    /// Stops accepting connections (open connections finish on their own).
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = (&mut self.handle).await;
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The limits of `options` are usable.
fn check_limits(options: &ServerOptions) -> Result<(), Error> {
    if options.max_connections == 0 || options.max_connections > Semaphore::MAX_PERMITS {
        return Err(Error::Config(format!(
            "--max-connections must be between 1 and {}",
            Semaphore::MAX_PERMITS
        )));
    }
    if options.auth_timeout.is_zero() {
        return Err(Error::Config(
            "--auth-timeout must be at least 1 second".into(),
        ));
    }
    if !(1024..=PROTOCOL_MAX_MESSAGE_BYTES).contains(&options.max_message_bytes) {
        return Err(Error::Config(format!(
            "--max-message-bytes must be between 1KiB and {PROTOCOL_MAX_MESSAGE_BYTES} bytes (the wire protocol's limit)"
        )));
    }
    Ok(())
}

/// Checks the options, binds and starts accepting connections on the current Tokio runtime.
///
/// Refuses to start (with a one-line error) when: a non-loopback address is given without
/// credentials, the password is empty, the TLS certificate/key cannot be used, or a limit is
/// out of range (no connections, no time to authenticate, messages under 1 KiB or over
/// [`PROTOCOL_MAX_MESSAGE_BYTES`]).
///
/// Queries run on the runtime's worker threads: give them a large stack (the `serve`
/// command uses 32 MiB) so deeply nested plans cannot overflow it.
pub async fn start(
    factory: SessionFactory,
    options: ServerOptions,
) -> Result<RunningServer, Error> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(&options.listen)
        .await
        .map_err(|e| Error::Config(format!("cannot use listen address {}: {e}", options.listen)))?
        .collect();
    if let Some(credentials) = &options.credentials {
        if credentials.user.trim().is_empty() || credentials.password.is_empty() {
            return Err(Error::Config(
                "server authentication needs a user and a non-empty password (--user, INTERCOM_SQL_PASSWORD)".into(),
            ));
        }
    } else if let Some(open) = addresses.iter().find(|a| !a.ip().is_loopback()) {
        return Err(Error::Config(format!(
            "refusing to listen on {open} without authentication: set --user and INTERCOM_SQL_PASSWORD, or listen on 127.0.0.1"
        )));
    }
    check_limits(&options)?;
    let acceptor = match &options.tls {
        Some(files) => Some(tls::acceptor(&files.cert, &files.key)?),
        None => None,
    };
    let listener = TcpListener::bind(addresses.as_slice())
        .await
        .map_err(|source| Error::Io {
            context: format!("cannot listen on {}", options.listen),
            source,
        })?;
    let local_addr = listener.local_addr()?;
    let (receiver, webhook_state) = match options.webhooks.clone() {
        Some(webhook_options) => {
            let mut clients = vec![factory.client().clone()];
            clients.extend(options.workspaces.iter().map(|(_, f)| f.client().clone()));
            let (receiver, state) = start_webhooks(clients, webhook_options).await?;
            (Some(receiver), Some(state))
        }
        None => (None, None),
    };
    // One read-only rule: a read-only server's sessions get a client that refuses writes.
    let factory = if options.read_only {
        factory.read_only()
    } else {
        factory
    };
    let shared = Arc::new(handler::Shared {
        factory,
        policy: policy::Policy {
            allow_files: options.allow_files,
        },
        cancels: Arc::new(guard::CancelRegistry::default()),
        scram: options
            .credentials
            .as_ref()
            .map(|c| Arc::new(auth::ScramSource::new(c))),
        tls_required: acceptor.is_some(),
        session_setup: options.session_setup.clone(),
        webhooks: webhook_state,
        workspaces: options
            .workspaces
            .iter()
            .map(|(name, f)| {
                let f = if options.read_only {
                    f.read_only()
                } else {
                    f.clone()
                };
                (name.clone(), f)
            })
            .collect(),
    });
    let limits = conn::ConnectionLimits {
        auth_timeout: options.auth_timeout,
        max_message_bytes: options.max_message_bytes,
    };
    let refusal_limits = conn::ConnectionLimits {
        auth_timeout: options.auth_timeout.min(REFUSAL_TIMEOUT),
        ..limits
    };
    let slots = Arc::new(Semaphore::new(options.max_connections));
    let refusals = Arc::new(Semaphore::new(MAX_PENDING_REFUSALS));
    let (shutdown, mut stopped) = oneshot::channel();
    let handle = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stopped => break,
            };
            match accepted {
                Ok((socket, _peer)) => {
                    let (permit, admission, limits) = match slots.clone().try_acquire_owned() {
                        Ok(slot) => (slot, conn::Admission::Admitted, limits),
                        Err(_) => match refusals.clone().try_acquire_owned() {
                            Ok(refusal) => (refusal, conn::Admission::Full, refusal_limits),
                            // Too many refusals under way already: close at once.
                            Err(_) => continue,
                        },
                    };
                    let connection = handler::Connection::new(shared.clone());
                    let subscription = connection.subscription();
                    let acceptor = acceptor.clone();
                    // A connection's failure (even a panic outside our guards) ends that
                    // connection's task only; its slot is freed when the task ends.
                    tokio::spawn(async move {
                        conn::serve(
                            socket,
                            acceptor,
                            connection,
                            limits,
                            admission,
                            subscription,
                        )
                        .await;
                        drop(permit);
                    });
                }
                // Transient (e.g. too many open files): back off briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    });
    Ok(RunningServer {
        local_addr,
        webhooks: receiver,
        shutdown: Some(shutdown),
        handle,
    })
}

/// Starts receiving webhooks: each new notification makes the cached answers about its
/// object types stale (in every workspace served: which one a notification is from is not
/// looked up, and forgetting too much only costs requests) and goes to the listening
/// connections.
async fn start_webhooks(
    clients: Vec<Arc<crate::client::IntercomClient>>,
    options: WebhookOptions,
) -> Result<(webhooks::RunningReceiver, handler::WebhookState), Error> {
    let (events, _) = tokio::sync::broadcast::channel(notify::QUEUE);
    let sender = events.clone();
    let on_new: webhooks::OnNotification = Arc::new(move |n| {
        for path in n.stale_paths() {
            for client in &clients {
                client.cache().wrote(&path);
            }
        }
        // No receivers (no connection open) is no error.
        let _ = sender.send(Arc::new(notify::Announcement::from(n.as_ref())));
    });
    let receiver = webhooks::start(options, on_new).await?;
    let state = handler::WebhookState {
        store: receiver.store().clone(),
        events,
    };
    Ok((receiver, state))
}
