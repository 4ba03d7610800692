//! `intercom-sql serve`: the Intercom tables behind the PostgreSQL wire protocol, on
//! datafusion-postgres (pgwire) — for psql, DBeaver, JDBC/ODBC drivers and BI tools.
//!
//! Every connection gets its own DataFusion session (settings, temporary tables, prepared
//! statements) over one shared Intercom client, so all connections draw on one API budget.
//! [`start`] binds, checks the security settings (fails closed) and returns the bound address;
//! tests and embedders run it in-process on `127.0.0.1:0`.
//!
//! - `auth`: SCRAM-SHA-256 and the TLS requirement; `tls`: certificate loading;
//! - `handler`: the per-connection query handlers; `policy`: what statements may do;
//! - `guard`: cancel requests and panics; `errors`: SQLSTATEs (the mapping table is there).

mod auth;
mod catalog;
mod compat;
mod errors;
mod execute;
mod executor;
mod guard;
mod handler;
mod policy;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use datafusion_postgres::pgwire::tokio::process_socket;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use auth::Credentials;
pub use errors::{client_sqlstate, sqlstate};
pub use handler::RECURSION_LIMIT;

use crate::error::Error;
use crate::session::SessionFactory;

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
    /// Refuse INSERT/UPDATE/DELETE (procedures refuse through the client's `read_only`).
    pub read_only: bool,
    /// Runs on every new session after the Intercom tables are registered.
    pub session_setup: Option<SessionSetup>,
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
            .finish()
    }
}

/// A server accepting connections in the background; dropping it stops accepting.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<()>,
}

impl RunningServer {
    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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

/// Checks the options, binds and starts accepting connections on the current Tokio runtime.
///
/// Refuses to start (with a one-line error) when: a non-loopback address is given without
/// credentials, the password is empty, or the TLS certificate/key cannot be used.
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
    let read_only = options.read_only || factory.client().config().read_only;
    let shared = Arc::new(handler::Shared {
        factory,
        policy: policy::Policy {
            allow_files: options.allow_files,
            read_only,
        },
        cancels: Arc::new(guard::CancelRegistry::default()),
        scram: options
            .credentials
            .as_ref()
            .map(|c| Arc::new(auth::ScramSource::new(c))),
        tls_required: acceptor.is_some(),
        session_setup: options.session_setup.clone(),
    });
    let (shutdown, mut stopped) = oneshot::channel();
    let handle = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = &mut stopped => break,
            };
            match accepted {
                Ok((socket, _peer)) => {
                    let connection = handler::Connection::new(shared.clone());
                    let acceptor = acceptor.clone();
                    // A connection's failure (even a panic outside our guards) ends that
                    // connection's task only.
                    tokio::spawn(async move {
                        let _ = process_socket(socket, acceptor, connection).await;
                    });
                }
                // Transient (e.g. too many open files): back off briefly.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    });
    Ok(RunningServer {
        local_addr,
        shutdown: Some(shutdown),
        handle,
    })
}
