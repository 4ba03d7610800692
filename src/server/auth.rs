//! Who may connect: SCRAM-SHA-256 with one configured user and password, or anyone (loopback
//! only, enforced at startup); and, with TLS configured, only over TLS.
//!
//! A login as a user that does not exist goes through the same SCRAM exchange as a wrong
//! password (as in PostgreSQL: a made-up verifier, with a salt that is the same on every
//! attempt for that name), and both end with the same `FATAL 28P01 password authentication
//! failed for user "<name>"`: neither the flow, the timing nor the text tells which users
//! exist.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::noop::NoopStartupHandler;
use datafusion_postgres::pgwire::api::auth::sasl::SASLAuthStartupHandler;
use datafusion_postgres::pgwire::api::auth::sasl::scram::{
    SCRAM_ITERATIONS, ScramAuth, gen_salted_password,
};
use datafusion_postgres::pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use datafusion_postgres::pgwire::api::{ClientInfo, METADATA_USER};
use datafusion_postgres::pgwire::error::{PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::Sink;

use super::errors::fatal_error;

/// The one user the server accepts, and its password.
#[derive(Clone)]
pub struct Credentials {
    /// User name clients log in as.
    pub user: String,
    /// Password (never shown by `Debug`).
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The SCRAM verifier of the configured user: salted once at startup, the password itself is
/// not kept. Other user names get a made-up verifier no password matches.
pub struct ScramSource {
    user: String,
    salt: Vec<u8>,
    salted_password: Vec<u8>,
    /// Secret the made-up salts are derived from (per server start).
    mock_secret: Vec<u8>,
    /// The made-up salted password: random, so no client proof can match it.
    mock_salted_password: Vec<u8>,
}

impl ScramSource {
    /// Salts `credentials`' password with a fresh salt.
    pub fn new(credentials: &Credentials) -> Self {
        let salt = random_bytes(16);
        let salted_password = gen_salted_password(&credentials.password, &salt, SCRAM_ITERATIONS);
        Self {
            user: credentials.user.clone(),
            salt,
            salted_password,
            mock_secret: random_bytes(32),
            mock_salted_password: random_bytes(32),
        }
    }

    /// The salt shown to a user that does not exist: derived from the name and a secret, so
    /// it is the same on every attempt, like a real user's (PostgreSQL's `scram_mock_salt`).
    fn mock_salt(&self, user: &str) -> Vec<u8> {
        // One PBKDF2-HMAC-SHA-256 round keyed by the name: a hash of the name and the secret.
        let mut salt = gen_salted_password(user, &self.mock_secret, 1);
        salt.truncate(16);
        salt
    }
}

/// `n` random bytes.
fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|_| fastrand::u8(..)).collect()
}

impl fmt::Debug for ScramSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramSource")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl AuthSource for ScramSource {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        match login.user() {
            Some(user) if user == self.user => Ok(Password::new(
                Some(self.salt.clone()),
                self.salted_password.clone(),
            )),
            // The exchange goes on as for a wrong password, and fails at the same step.
            other => Ok(Password::new(
                Some(self.mock_salt(other.unwrap_or_default())),
                self.mock_salted_password.clone(),
            )),
        }
    }
}

/// No authentication (only allowed on loopback addresses).
pub struct TrustStartup;

impl NoopStartupHandler for TrustStartup {}

/// The per-connection startup handler: refuses plaintext when TLS is required, then trusts
/// or runs SCRAM. One per connection, because the SCRAM exchange keeps state.
pub struct StartupGate {
    tls_required: bool,
    scram: Option<SASLAuthStartupHandler<DefaultServerParameterProvider>>,
    /// The database names served (one per workspace); `None`: any name.
    databases: Option<Vec<String>>,
    /// The database the startup packet named, for the session to pick its workspace.
    database: Arc<std::sync::Mutex<Option<String>>>,
}

impl StartupGate {
    /// A gate for one connection; `scram` is `None` for no authentication.
    pub fn new(
        tls_required: bool,
        scram: Option<Arc<ScramSource>>,
        databases: Option<Vec<String>>,
        database: Arc<std::sync::Mutex<Option<String>>>,
    ) -> Self {
        let scram = scram.map(|source| {
            SASLAuthStartupHandler::new(Arc::new(DefaultServerParameterProvider::default()))
                .with_scram(ScramAuth::new(source))
        });
        Self {
            tls_required,
            scram,
            databases,
            database,
        }
    }
}

#[async_trait]
impl StartupHandler for StartupGate {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if self.tls_required
            && !client.is_secure()
            && matches!(message, PgWireFrontendMessage::Startup(_))
        {
            return Err(fatal_error(
                "28000",
                "this server requires TLS (sslmode=require); plaintext connections are refused",
            ));
        }
        if let PgWireFrontendMessage::Startup(startup) = &message {
            // libpq's default database is the user's name.
            let named = startup
                .parameters
                .get("database")
                .or_else(|| startup.parameters.get(METADATA_USER))
                .cloned()
                .unwrap_or_default();
            if let Some(served) = &self.databases
                && !served.contains(&named)
            {
                // Before login: the workspaces' names are not told.
                return Err(fatal_error(
                    "3D000",
                    format!("database \"{named}\" does not exist"),
                ));
            }
            if let Ok(mut database) = self.database.lock() {
                *database = Some(named);
            }
        }
        let result = match &self.scram {
            Some(scram) => scram.on_startup(client, message).await,
            None => TrustStartup.on_startup(client, message).await,
        };
        result.map_err(|e| match e {
            // pgwire names the user of the SCRAM message (empty from libpq and most drivers);
            // PostgreSQL names the one of the startup packet.
            PgWireError::InvalidPassword(_) => {
                let user = client
                    .metadata()
                    .get(METADATA_USER)
                    .map_or("", String::as_str);
                fatal_error(
                    "28P01",
                    format!("password authentication failed for user \"{user}\""),
                )
            }
            other => other,
        })
    }
}
