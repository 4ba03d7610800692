//! The `intercom-sql` command: parses flags and hands over to the library (REPL, one-shot
//! `-c`/`-f` runs, or the standalone emulator). No logic of its own beyond choosing a mode.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use intercom_sql::discovery::SchemaCache;
use intercom_sql::emulator::WebhookTarget;
use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::limits::{self, Limits};
use intercom_sql::print::{self, Format};
use intercom_sql::process;
use intercom_sql::profiles::{self, Profile, Profiles};
use intercom_sql::repl::{self, ReplOptions};
use intercom_sql::server::{self, Credentials, ServerOptions, TlsFiles};
use intercom_sql::snapshot::{self, SyncOptions};
use intercom_sql::webhooks::{self, WebhookOptions};
use intercom_sql::{AccessToken, Config, Engine, Error, Region};

/// Query and operate an Intercom workspace with SQL.
///
/// With no access token, opens a demo workspace served by the built-in Intercom emulator.
#[derive(Parser, Debug)]
#[command(name = "intercom-sql", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Run these SQL statements (separated by `;`) and exit.
    #[arg(
        short = 'c',
        long = "command",
        value_name = "SQL",
        conflicts_with = "file"
    )]
    command: Option<String>,
    /// Run the SQL statements in this file and exit.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    file: Option<PathBuf>,
    /// Output format (default: the profile's, else table).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// After -c/-f, print API requests, retries, wall time and peak memory to stderr.
    #[arg(long)]
    stats: bool,
    /// Attach the snapshot in this directory (written by `intercom-sql sync --to DIR`) as the
    /// schema `snapshot`, next to the live tables: the shell, -c/-f and serve.
    #[arg(long, value_name = "DIR", global = true)]
    snapshot: Option<PathBuf>,
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Args, Debug)]
struct ConnectionArgs {
    /// Intercom access token (prefer the environment variable: flags show up in `ps`).
    #[arg(long, env = "INTERCOM_ACCESS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Data-hosting region of the workspace.
    #[arg(long, value_enum, default_value = "us")]
    region: Region,
    /// Connect to the workspace this profile of the configuration file names (its token,
    /// region, read-only, format): docs/profiles.md. Given more than once, each workspace is
    /// a catalog named after its profile (`eu.public.contacts`); the first is the default.
    #[arg(
        long,
        value_name = "NAME",
        env = "INTERCOM_SQL_PROFILE",
        value_delimiter = ','
    )]
    profile: Vec<String>,
    /// The configuration file of the profiles (default: ~/.config/intercom-sql/config.toml).
    #[arg(long, value_name = "PATH", env = "INTERCOM_SQL_CONFIG")]
    config: Option<PathBuf>,
    /// API root, overriding --region (e.g. an emulator at http://127.0.0.1:8080).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Intercom-Version header.
    #[arg(long, default_value = intercom_sql::config::DEFAULT_API_VERSION)]
    api_version: String,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
    /// Refuse every procedure (CALL …) and write: only reads are sent to Intercom.
    #[arg(long)]
    read_only: bool,
    /// Most requests in flight to Intercom at once, shared by every query and session of the
    /// process. Default 128.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_concurrency: Option<u32>,
    /// Most requests a second to Intercom (default: as many as its X-RateLimit headers allow).
    #[arg(long, value_name = "N", value_parser = parse_rps)]
    max_rps: Option<f64>,
    /// The workspace's custom object types (comma-separated identifiers, e.g. Order,Subscription):
    /// a table each (order_objects). Intercom cannot list them. The demo workspace's are its own.
    #[arg(
        long,
        value_name = "TYPES",
        env = "INTERCOM_CUSTOM_OBJECT_TYPES",
        value_delimiter = ','
    )]
    custom_object_types: Vec<String>,
    /// How long a -c/-f script reuses the custom attributes it discovered (kept on disk, per
    /// workspace), in seconds; 0 keeps nothing. Applies to Intercom's own API roots, and to any
    /// other when INTERCOM_SQL_CACHE_DIR names where to keep them.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    schema_ttl: u64,
    /// Ask Intercom for the custom attributes again instead of reusing kept ones.
    #[arg(long)]
    refresh_schema: bool,
    /// Answer repeated reads from a cache of Intercom's answers up to this old, in every
    /// session until it sets its own `intercom.cache_ttl` ('5min', '30s', 300; default off).
    #[arg(long, value_name = "DURATION", value_parser = parse_cache_ttl)]
    cache_ttl: Option<Duration>,
    /// Memory one query may hold (sorts, joins, aggregates), e.g. 512MiB; past it the query
    /// fails (SQLSTATE 53200). Default: a quarter of --max-memory, at most 2 GiB.
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_bytes)]
    max_query_memory: Option<usize>,
    /// Memory all queries of the process may hold at once, e.g. 8GiB. Default: half of this
    /// machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = limits::parse_bytes)]
    max_memory: Option<usize>,
}

impl ConnectionArgs {
    /// Takes the flags given before the subcommand (`intercom-sql --token … serve`) where
    /// none was given after it.
    fn take_unset_from(&mut self, top: &ConnectionArgs) {
        self.token = self.token.take().or_else(|| top.token.clone());
        self.base_url = self.base_url.take().or_else(|| top.base_url.clone());
        self.read_only |= top.read_only;
        self.max_memory = self.max_memory.or(top.max_memory);
        self.max_query_memory = self.max_query_memory.or(top.max_query_memory);
        self.max_concurrency = self.max_concurrency.or(top.max_concurrency);
        self.max_rps = self.max_rps.or(top.max_rps);
        self.cache_ttl = self.cache_ttl.or(top.cache_ttl);
        if self.profile.is_empty() {
            self.profile = top.profile.clone();
        }
        self.config = self.config.take().or_else(|| top.config.clone());
        if self.custom_object_types.is_empty() {
            self.custom_object_types = top.custom_object_types.clone();
        }
    }
}

#[derive(Subcommand, Debug)]
enum Mode {
    /// Open the interactive SQL shell (the default).
    Repl,
    /// Run the Intercom emulator alone, for any Intercom client to use.
    Emulator(EmulatorArgs),
    /// Serve the tables over the PostgreSQL wire protocol (psql, JDBC, BI tools).
    Serve(ServeArgs),
    /// Store an access token, read from standard input, in the OS keyring under NAME: a
    /// profile's `token_keyring = "NAME"` reads it (docs/profiles.md).
    StoreToken {
        /// The entry's name.
        name: String,
    },
    /// List the configuration file's profiles: region, token's admin and workspace (`GET
    /// /me`), remaining rate budget (docs/profiles.md).
    Workspaces,
    /// Copy tables into a directory of Parquet files, then keep it up to date reading only
    /// what changed (docs/snapshots.md).
    Sync(SyncArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Address to listen on. A non-loopback address requires --user and a password.
    #[arg(long, default_value = "127.0.0.1:5433")]
    listen: String,
    /// Require SCRAM-SHA-256 login as this user (password from INTERCOM_SQL_PASSWORD).
    #[arg(long, env = "INTERCOM_SQL_USER")]
    user: Option<String>,
    /// Serve TLS only with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Let clients read and write files on this machine (COPY … TO, CREATE EXTERNAL TABLE).
    #[arg(long)]
    allow_files: bool,
    /// Connections served at once; one more is refused (SQLSTATE 53300).
    #[arg(long, value_name = "N", default_value_t = server::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Seconds a connection has to finish TLS, its startup and its login before it is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = server::DEFAULT_AUTH_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    auth_timeout: u64,
    /// The longest message a client may send (a query, a Bind with its parameters, a COPY
    /// chunk), e.g. 64MiB; a longer one ends the connection (SQLSTATE 54000).
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = limits::parse_bytes)]
    max_message_bytes: usize,
    /// Receive Intercom's webhook notifications on this address (e.g. 127.0.0.1:8090): kept
    /// in webhook_events, sent to LISTENing clients. Signatures are checked with the app's
    /// client secret from INTERCOM_CLIENT_SECRET. Off by default.
    #[arg(long, value_name = "ADDR")]
    webhook_listen: Option<String>,
    /// Where received notifications are kept (default: the platform's data directory,
    /// ~/.local/share/intercom-sql on Linux).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// How long received notifications are kept ('7d', '12h', '30min').
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_retention)]
    webhook_retention: Duration,
    /// The largest webhook body accepted (a larger one is answered 413).
    #[arg(long, value_name = "SIZE", default_value = "4MiB", value_parser = limits::parse_bytes)]
    webhook_max_body: usize,
}

#[derive(Args, Debug)]
struct EmulatorArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Seed of the generated workspace (same seed, same data).
    #[arg(long, default_value_t = EmulatorConfig::default().seed)]
    seed: u64,
    /// Number of contacts.
    #[arg(long, default_value_t = EmulatorConfig::default().contacts)]
    contacts: usize,
    /// Number of companies.
    #[arg(long, default_value_t = EmulatorConfig::default().companies)]
    companies: usize,
    /// Number of conversations.
    #[arg(long, default_value_t = EmulatorConfig::default().conversations)]
    conversations: usize,
    /// Number of tickets.
    #[arg(long, default_value_t = EmulatorConfig::default().tickets)]
    tickets: usize,
    /// Time from each API request's arrival to its answer, in milliseconds (the emulator's own
    /// work included, as it is in a latency measured against Intercom).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Up to this many milliseconds more latency, drawn at random for each response.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Requests allowed per window before answering 429 (default: unlimited; Intercom allows a
    /// private app 1,666 per 10 seconds).
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Length of a rate-limit window, in seconds.
    #[arg(long, default_value_t = EmulatorConfig::default().rate_window_secs,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    rate_window_secs: u64,
    /// Workspace time zone (IANA name).
    #[arg(long, default_value = "UTC")]
    timezone: String,
    /// Bearer token the emulator accepts.
    #[arg(long, default_value_t = EmulatorConfig::default().token)]
    token: String,
    /// Send a webhook notification to this URL for each change, signed with the client
    /// secret in INTERCOM_CLIENT_SECRET.
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    /// The workspace's region as `GET /me` names it (US, Europe, Australia).
    #[arg(long, value_name = "NAME", default_value = "US")]
    region_name: String,
    /// Seconds before a failed webhook delivery is retried (Intercom: 60; one retry).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    webhook_retry_secs: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Queries plan and run on the query runtime; the server's connections parse and
        // rewrite statements (within the depth limit) here, on stacks as large.
        .thread_stack_size(limits::runtime::QUERY_STACK_BYTES)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {}", e.user_message());
            ExitCode::FAILURE
        }
    };
    // A cancelled query's operators stop at their next yield; a CPU-bound one may take a
    // while to get there, and the user asked to leave now.
    runtime.shutdown_background();
    code
}

async fn run(mut cli: Cli) -> Result<(), Error> {
    match cli.mode.take() {
        Some(Mode::Emulator(args)) => return run_emulator(args).await,
        Some(Mode::Sync(args)) => return run_sync(&cli.connection, args, &cli.snapshot).await,
        Some(Mode::Serve(args)) => return run_server(&cli.connection, args, cli.snapshot).await,
        Some(Mode::Workspaces) => return list_workspaces(&cli.connection).await,
        Some(Mode::StoreToken { name }) => return store_token(&name),
        Some(Mode::Repl) | None => {}
    }
    // Keeps the demo emulator alive for as long as the session runs.
    let (config, _demo, banner) = connection_config(&cli.connection).await?;
    let engine = Engine::connect_as(config, &primary_catalog(&cli.connection))?;
    let _attached = attach_profiles(&cli.connection, &engine).await?;
    // Long waits (an export job's) say where they stand, on a terminal only.
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        engine.report_progress_to(std::sync::Arc::new(|line: &str| eprintln!("{line}")));
    }
    let script = match (&cli.command, &cli.file) {
        (Some(sql), _) => Some(sql.clone()),
        (None, Some(path)) => Some(std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("cannot read {}", path.display()),
            source,
        })?),
        (None, None) => None,
    };
    // A script needs the custom attributes of the tables it names; the shell, of every table.
    let discovered = match &script {
        Some(sql) => {
            let cache = schema_cache(&cli.connection, engine.client().config());
            engine
                .discover_custom_attributes_for(sql, cache.as_ref())
                .await
        }
        None => engine.discover_custom_attributes().await,
    };
    if let Err(e) = discovered {
        refuse_wrong_region(&cli.connection, &engine, &e).await?;
        eprintln!(
            "Warning: custom attributes are only in the JSON custom_attributes column: {}",
            e.user_message()
        );
    }
    if let Some(dir) = &cli.snapshot {
        snapshot::attach(engine.context(), dir)?;
    }
    match script {
        Some(sql) => {
            let started = std::time::Instant::now();
            let mut stdout = script_output()?;
            let format = output_format(&cli)?;
            let result = print::run_script(&engine, &sql, format, &mut stdout).await;
            if cli.stats {
                let stats = engine.client().stats();
                eprintln!(
                    "stats: requests={} retries={} rate_limit_waits={} throttled={} wall_ms={} peak_memory={}",
                    stats.requests,
                    stats.retries,
                    stats.rate_limit_waits,
                    stats.throttled,
                    started.elapsed().as_millis(),
                    process::peak_memory_bytes()
                        .map(process::mib)
                        .unwrap_or_else(|| "unknown".into())
                );
            }
            result
        }
        None => {
            repl::run(
                &engine,
                ReplOptions {
                    banner,
                    history_path: None,
                    format: output_format(&cli)?,
                },
            )
            .await
        }
    }
}

/// The configuration to use, the demo emulator if one was started, and the REPL banner.
async fn connection_config(
    args: &ConnectionArgs,
) -> Result<(Config, Option<emulator::RunningEmulator>, String), Error> {
    let version = env!("CARGO_PKG_VERSION");
    let token = args
        .token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let profile = match args.profile.first() {
        Some(name) if token.is_some() || args.base_url.is_some() => {
            return Err(Error::Config(format!(
                "--profile {name} and --token/--base-url both name a workspace: give one"
            )));
        }
        Some(name) => Some(name.clone()),
        None if token.is_none() && args.base_url.is_none() => {
            // No token: the file's default profile, if there is one, else the demo.
            match config_file(args, false)? {
                Some(path) => Profiles::load(&path)?.default_profile().map(str::to_string),
                None => None,
            }
        }
        None => None,
    };
    let (mut config, demo, banner) = match (token, &args.base_url) {
        _ if profile.is_some() => {
            let name = profile.unwrap_or_default();
            let path = config_file(args, true)?.unwrap_or_default();
            let mut profiles = Profiles::load(&path)?;
            let resolved = profiles.resolve(&name).await?;
            report_detected(&name, &resolved, &path);
            let banner = format!(
                "intercom-sql {version} connected to profile '{name}' ({}). Type \\? for help, \\q to quit.",
                resolved.config.base_url
            );
            let mut config = resolved.config;
            // Flags add to the profile: --read-only makes any profile read-only, and
            // --api-version applies where the profile names none.
            config.read_only |= args.read_only;
            if resolved.profile.api_version.is_none() {
                config.api_version = args.api_version.clone();
            }
            (config, None, banner)
        }
        (Some(token), base_url) => {
            let base = base_url
                .clone()
                .unwrap_or_else(|| args.region.base_url().to_string());
            let banner = format!(
                "intercom-sql {version} connected to {base}. Type \\? for help, \\q to quit."
            );
            let mut config = Config::new(base, AccessToken::new(token));
            config.api_version = args.api_version.clone();
            (config, None, banner)
        }
        (None, Some(_)) => {
            return Err(Error::Config(
                "no access token: set INTERCOM_ACCESS_TOKEN or pass --token (omit --base-url to open the demo workspace)".into(),
            ));
        }
        (None, None) => {
            let demo = emulator::spawn(EmulatorConfig::default(), "127.0.0.1:0")
                .await
                .map_err(|source| Error::Io {
                    context: "cannot start the demo workspace".into(),
                    source,
                })?;
            let token = AccessToken::new(EmulatorConfig::default().token);
            let mut config = Config::new(demo.base_url.clone(), token);
            config.api_version = args.api_version.clone();
            let banner = format!(
                "intercom-sql {version} -- DEMO workspace: no INTERCOM_ACCESS_TOKEN is set, so this session runs on the \
                 built-in Intercom emulator with generated sample data (nothing here is real).\n\
                 Set INTERCOM_ACCESS_TOKEN to query your own workspace. Type \\? for help, \\dt for tables, \\q to quit."
            );
            (config, Some(demo), banner)
        }
    };
    config.timeout = Duration::from_secs(args.timeout_secs.max(1));
    config.read_only |= args.read_only;
    if let Some(n) = args.max_concurrency {
        config.concurrency = n as usize;
    }
    config.max_rps = args.max_rps;
    config.cache_ttl = args.cache_ttl.unwrap_or_default();
    config.limits = memory_limits(args)?;
    config.custom_object_types = match (&demo, args.custom_object_types.is_empty()) {
        (Some(_), true) => emulator::CUSTOM_OBJECT_TYPES
            .iter()
            .map(|t| t.to_string())
            .collect(),
        _ => args.custom_object_types.clone(),
    };
    Ok((config, demo, banner))
}

/// The configuration file of the profiles: `--config`/`INTERCOM_SQL_CONFIG`, else the default
/// path when it exists. `needed`: a profile was named, so no file is an error.
fn config_file(args: &ConnectionArgs, needed: bool) -> Result<Option<PathBuf>, Error> {
    if let Some(path) = &args.config {
        return Ok(Some(path.clone()));
    }
    match profiles::default_path() {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) if needed => Err(Error::Config(format!(
            "--profile needs a configuration file: none at {} (or give --config PATH; docs/profiles.md shows one)",
            path.display()
        ))),
        None if needed => Err(Error::Config(
            "--profile needs a configuration file: give --config PATH".into(),
        )),
        _ => Ok(None),
    }
}

/// A token refused (401) by the workspace's host that another region's host accepts: the
/// error says which region to use, instead of every query failing with "unauthorized".
async fn refuse_wrong_region(
    args: &ConnectionArgs,
    engine: &Engine,
    e: &Error,
) -> Result<(), Error> {
    if e.client_error().and_then(|c| c.status()) != Some(401) {
        return Ok(());
    }
    let hosts = config_file(args, false)
        .ok()
        .flatten()
        .and_then(|path| Profiles::load(&path).ok())
        .map(|p| p.hosts().clone())
        .unwrap_or_else(profiles::intercom_hosts);
    match profiles::wrong_region_hint(engine.client().config(), &hosts).await {
        Some(hint) => Err(Error::Config(hint)),
        None => Ok(()),
    }
}

/// `intercom-sql store-token NAME`: the token on standard input, into the OS keyring. Not
/// from a terminal: typed there it would be shown (and kept in no history only if piped).
fn store_token(name: &str) -> Result<(), Error> {
    use std::io::{IsTerminal, Read};
    if std::io::stdin().is_terminal() {
        return Err(Error::Config(format!(
            "pipe the token in, so it is neither shown nor kept in your shell's history: \
             pbpaste | intercom-sql store-token {name}  (or: intercom-sql store-token {name} < token.txt)"
        )));
    }
    let mut token = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut token)
        .map_err(|source| Error::Io {
            context: "cannot read the token from standard input".into(),
            source,
        })?;
    let token = token.lines().next().unwrap_or_default();
    profiles::store_in_keyring(name, token)?;
    eprintln!(
        "stored in the OS keyring as '{name}': use it with token_keyring = \"{name}\" in a profile"
    );
    Ok(())
}

/// `intercom-sql workspaces`: each profile, and what its token reaches.
async fn list_workspaces(args: &ConnectionArgs) -> Result<(), Error> {
    let path = config_file(args, true)?.unwrap_or_default();
    let mut profiles = Profiles::load(&path)?;
    let rows = profiles.survey().await;
    let header = [
        "profile",
        "region",
        "api",
        "token from",
        "admin",
        "workspace",
        "rate budget",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|w| {
            let mut row = vec![
                format!(
                    "{}{}",
                    w.profile,
                    if w.read_only { " (read-only)" } else { "" }
                ),
                w.region.clone(),
                w.base_url.clone(),
                w.token_from.clone(),
            ];
            match &w.error {
                Some(e) => row.extend([format!("error: {e}"), String::new(), String::new()]),
                None => row.extend([w.admin.clone(), w.app.clone(), w.rate_budget.clone()]),
            }
            row
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: Vec<&str>| {
        row.iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_string()
    };
    println!("{}", line(header.to_vec()));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    );
    for row in &cells {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
    println!("({} profiles in {})", rows.len(), path.display());
    Ok(())
}

/// Says where a profile's region was found (once: it is then written in the file).
fn report_detected(name: &str, resolved: &profiles::Resolved, path: &std::path::Path) {
    if let Some(detected) = &resolved.detected {
        let key = profiles::region_key(detected.region);
        match &detected.saved {
            Ok(()) => eprintln!(
                "profile '{name}': the workspace is in {} (region {key}); saved in {}",
                detected.name,
                path.display()
            ),
            Err(why) => eprintln!(
                "profile '{name}': the workspace is in {} (region {key}); not saved in {}: {why}",
                detected.name,
                path.display()
            ),
        }
    }
}

/// The catalog of the first workspace: `intercom`, or its profile's name when several
/// profiles are attached.
fn primary_catalog(args: &ConnectionArgs) -> String {
    match args.profile.as_slice() {
        [first, _, ..] => first.clone(),
        _ => intercom_sql::session::DEFAULT_CATALOG.to_string(),
    }
}

/// The profiles after the first, each connected and attached to `engine` as a catalog named
/// after it. The engines returned keep their workspaces' clients alive.
async fn attach_profiles(args: &ConnectionArgs, engine: &Engine) -> Result<Vec<Engine>, Error> {
    let mut attached = Vec::new();
    if args.profile.len() < 2 {
        return Ok(attached);
    }
    let path = config_file(args, true)?.unwrap_or_default();
    let mut profiles = Profiles::load(&path)?;
    for name in &args.profile[1..] {
        if attached.iter().any(|e: &Engine| e.catalog() == name) || name == &args.profile[0] {
            return Err(Error::Config(format!("profile '{name}' is given twice")));
        }
        let resolved = profiles.resolve(name).await?;
        report_detected(name, &resolved, &path);
        let mut config = resolved.config;
        config.read_only |= args.read_only;
        config.timeout = Duration::from_secs(args.timeout_secs.max(1));
        config.limits = memory_limits(args)?;
        let other = Engine::connect_as(config, name)?;
        if let Err(e) = other.discover_custom_attributes().await {
            refuse_wrong_region(args, &other, &e).await?;
            eprintln!(
                "Warning: {name}: custom attributes are only in the JSON custom_attributes column: {}",
                e.user_message()
            );
        }
        engine.attach(name, &other)?;
        attached.push(other);
    }
    Ok(attached)
}

/// The profile in use, if any (named, or the file's default when no token is given).
fn active_profile(args: &ConnectionArgs) -> Option<Profile> {
    if args.token.as_deref().is_some_and(|t| !t.trim().is_empty()) || args.base_url.is_some() {
        return None;
    }
    let path = config_file(args, false).ok()??;
    let profiles = Profiles::load(&path).ok()?;
    let name = args
        .profile
        .first()
        .cloned()
        .or_else(|| profiles.default_profile().map(str::to_string))?;
    profiles.get(&name).ok().cloned()
}

/// Where a script's results go: on Unix, standard output as a file of its own (a duplicate of
/// its descriptor, unbuffered: results are written in large pieces), so that `io::copy` hands
/// a spooled CSV or JSON result to the kernel (`copy_file_range`, `sendfile` or `splice`)
/// instead of reading it back and writing it out; elsewhere, standard output.
#[cfg(unix)]
fn script_output() -> Result<std::fs::File, Error> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|source| Error::Io {
            context: "opening standard output".into(),
            source,
        })?;
    Ok(std::fs::File::from(fd))
}

#[cfg(not(unix))]
fn script_output() -> Result<std::io::Stdout, Error> {
    Ok(std::io::stdout())
}

/// `--format`, else the profile's, else a table.
fn output_format(cli: &Cli) -> Result<Format, Error> {
    if let Some(format) = cli.format {
        return Ok(format);
    }
    let named = active_profile(&cli.connection).and_then(|p| p.format);
    match named {
        Some(name) => <Format as clap::ValueEnum>::from_str(&name, true)
            .map_err(|_| Error::Config(format!("unknown format '{name}' in the profile"))),
        None => Ok(Format::Table),
    }
}

/// Where a script keeps the custom attributes it discovered (see `SchemaCache`): for
/// Intercom's own API roots under the user's cache directory, for any other root only when
/// `INTERCOM_SQL_CACHE_DIR` says where (an emulator's workspace changes with each start).
fn schema_cache(args: &ConnectionArgs, config: &Config) -> Option<SchemaCache> {
    if args.schema_ttl == 0 || args.token.is_none() {
        return None;
    }
    let dir = match std::env::var_os("INTERCOM_SQL_CACHE_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => {
            let intercom = profiles::intercom_hosts()
                .values()
                .any(|host| *host == config.base_url);
            if !intercom {
                return None;
            }
            dirs::cache_dir()?.join("intercom-sql").join("schema")
        }
    };
    Some(SchemaCache::new(
        &dir,
        &config.base_url,
        &config.token,
        Duration::from_secs(args.schema_ttl),
        args.refresh_schema,
    ))
}

/// `--max-rps`: a positive number of requests a second.
fn parse_cache_ttl(text: &str) -> Result<Duration, String> {
    intercom_sql::settings::parse_duration("cache_ttl", text).map_err(|e| {
        e.to_string()
            .replace("Invalid or Unsupported Configuration: ", "")
    })
}

fn parse_retention(text: &str) -> Result<Duration, String> {
    let days = text
        .trim()
        .strip_suffix('d')
        .and_then(|d| d.trim().parse::<u64>().ok());
    let retention = match days {
        Some(days) => Duration::from_secs(days.saturating_mul(86_400)),
        None => parse_cache_ttl(text)?,
    };
    if retention.is_zero() {
        return Err("the retention must be longer than 0".into());
    }
    Ok(retention)
}

/// A retention as people say it: "7 days", "12h", "90s".
fn humantime_days(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s => format!("{s}s"),
    }
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn parse_rps(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 => Ok(n),
        _ => Err(format!(
            "'{text}' is not a positive number of requests a second"
        )),
    }
}

/// This machine's default limits with the memory flags applied.
fn memory_limits(args: &ConnectionArgs) -> Result<Limits, Error> {
    let mut limits = Limits::for_this_machine();
    if let Some(max_memory) = args.max_memory {
        limits.max_memory = max_memory;
        limits.max_query_memory = limits.max_query_memory.min(max_memory);
    }
    if let Some(max_query_memory) = args.max_query_memory {
        if max_query_memory > limits.max_memory {
            return Err(Error::Config(format!(
                "--max-query-memory ({}) is larger than --max-memory ({})",
                limits::human_bytes(max_query_memory),
                limits::human_bytes(limits.max_memory)
            )));
        }
        limits.max_query_memory = max_query_memory;
    }
    Ok(limits)
}

async fn run_emulator(args: EmulatorArgs) -> Result<(), Error> {
    let config = EmulatorConfig {
        seed: args.seed,
        contacts: args.contacts,
        companies: args.companies,
        conversations: args.conversations,
        tickets: args.tickets,
        token: args.token,
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        rate_limit_per_window: args.rate_limit,
        rate_window_secs: args.rate_window_secs,
        timezone: args.timezone,
        region: args.region_name,
        webhooks: match args.webhook_url {
            Some(url) => {
                let secret = std::env::var(webhooks::SECRET_VARIABLE).map_err(|_| {
                    Error::Config(format!(
                        "--webhook-url needs the client secret to sign with: set {}",
                        webhooks::SECRET_VARIABLE
                    ))
                })?;
                Some(WebhookTarget {
                    retry_delay: Duration::from_secs(args.webhook_retry_secs),
                    ..WebhookTarget::new(url, secret)
                })
            }
            None => None,
        },
        ..EmulatorConfig::default()
    };
    eprintln!(
        "intercom-sql emulator listening on http://{} (admin: /__emulator/requests)",
        args.listen
    );
    emulator::serve(config, &args.listen)
        .await
        .map_err(|source| Error::Io {
            context: format!("emulator on {}", args.listen),
            source,
        })
}

async fn run_server(
    top: &ConnectionArgs,
    mut args: ServeArgs,
    snapshot: Option<PathBuf>,
) -> Result<(), Error> {
    // Connection flags may come before or after `serve`; those after it win.
    args.connection.take_unset_from(top);
    // The password is read from the environment only, so it never shows up in `ps`.
    let password = std::env::var("INTERCOM_SQL_PASSWORD").ok();
    let credentials = match (args.user.clone(), password) {
        (Some(user), Some(password)) => Some(Credentials { user, password }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Error::Config(
                "--user needs a password: set INTERCOM_SQL_PASSWORD".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(Error::Config(
                "INTERCOM_SQL_PASSWORD is set but no --user (or INTERCOM_SQL_USER) is given".into(),
            ));
        }
    };
    // `_demo` keeps the demo emulator alive while the server runs.
    let (config, _demo, _banner) = connection_config(&args.connection).await?;
    let demo = _demo.is_some();
    let engine = Engine::connect_as(config, &primary_catalog(&args.connection))?;
    if let Err(e) = engine.discover_custom_attributes().await {
        refuse_wrong_region(&args.connection, &engine, &e).await?;
        eprintln!(
            "Warning: custom attributes are only in the JSON custom_attributes column: {}",
            e.user_message()
        );
    }
    // Several profiles: each workspace is a database of the server, seeing the others as
    // catalogs.
    let attached = attach_profiles(&args.connection, &engine).await?;
    for (i, one) in attached.iter().enumerate() {
        one.attach(engine.catalog(), &engine)?;
        for (j, other) in attached.iter().enumerate() {
            if i != j {
                one.attach(other.catalog(), other)?;
            }
        }
    }
    let workspaces: Vec<(String, intercom_sql::session::SessionFactory)> = attached
        .iter()
        .map(|e| (e.catalog().to_string(), e.session_factory()))
        .collect();
    let user = credentials.as_ref().map(|c| c.user.clone());
    let webhook_options = match args.webhook_listen.clone() {
        Some(listen) => {
            let data_dir = match args
                .data_dir
                .clone()
                .or_else(WebhookOptions::default_data_dir)
            {
                Some(dir) => dir,
                None => {
                    return Err(Error::Config(
                        "no data directory for webhooks on this platform: pass --data-dir".into(),
                    ));
                }
            };
            let secret = match (std::env::var(webhooks::SECRET_VARIABLE), &_demo) {
                (Ok(secret), _) if !secret.is_empty() => secret,
                // The demo workspace signs with a secret of its own.
                (_, Some(_)) => format!("demo-{:016x}", fastrand_u64()),
                _ => {
                    return Err(Error::Config(format!(
                        "--webhook-listen needs the Intercom app's client secret to check signatures: set {}",
                        webhooks::SECRET_VARIABLE
                    )));
                }
            };
            Some(WebhookOptions {
                retention: args.webhook_retention,
                max_body_bytes: args.webhook_max_body,
                ..WebhookOptions::new(listen, secret, data_dir)
            })
        }
        None => None,
    };
    let options = ServerOptions {
        workspaces,
        webhooks: webhook_options.clone(),
        credentials,
        tls: match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        },
        allow_files: args.allow_files,
        read_only: args.connection.read_only,
        max_connections: args.max_connections,
        auth_timeout: Duration::from_secs(args.auth_timeout),
        max_message_bytes: args.max_message_bytes,
        ..ServerOptions::new(args.listen.clone())
    };
    let options = with_snapshot(options, snapshot)?;
    let tls = options.tls.is_some();
    let server = server::start(engine.session_factory(), options).await?;
    if let (Some(addr), Some(webhooks)) = (server.webhook_addr(), &webhook_options) {
        if let Some(demo) = &_demo {
            // The demo workspace notifies this server of its own changes.
            demo.state.send_webhooks_to(Some(WebhookTarget::new(
                format!("http://{addr}/"),
                webhooks.secret.clone(),
            )));
        }
        eprintln!(
            "receiving Intercom webhooks on http://{addr}/ (kept in {} for {}; LISTEN intercom_events)",
            webhooks.data_dir.join(webhooks::FILE_NAME).display(),
            humantime_days(webhooks.retention)
        );
    }
    eprintln!(
        "intercom-sql {} serving {} on postgres://{}{}/intercom{}{}",
        env!("CARGO_PKG_VERSION"),
        if demo {
            "the DEMO workspace (built-in emulator)"
        } else {
            "Intercom"
        },
        user.map(|u| format!("{u}@")).unwrap_or_default(),
        server.local_addr(),
        if tls { " (TLS only)" } else { "" },
        if args.connection.read_only {
            " read-only"
        } else {
            ""
        },
    );
    eprintln!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await.map_err(|source| Error::Io {
        context: "waiting for Ctrl-C".into(),
        source,
    })?;
    server.stop().await;
    Ok(())
}

/// `intercom-sql sync`: brings a snapshot directory up to date (docs/snapshots.md).
#[derive(Args, Debug)]
struct SyncArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// The snapshot directory (created if missing): a Parquet file per table, and snapshot.json.
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
    /// Tables to sync (default: every top-level table Intercom can list whole).
    #[arg(value_name = "TABLE")]
    tables: Vec<String>,
    /// Read every table whole now, which also drops the rows deleted from Intercom.
    #[arg(long)]
    full: bool,
    /// Read a table whole again when its last whole read is older than this ('24h', '7d');
    /// 'off': only when Intercom counts fewer rows than the snapshot holds.
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_span)]
    full_every: Duration,
    /// How far before the last sync's start an incremental read starts: Intercom's search
    /// trails writes by up to a minute.
    #[arg(long, value_name = "DURATION", default_value = "10min", value_parser = parse_span)]
    lag_margin: Duration,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

/// `--full-every`, `--lag-margin`: '10min', '24h', '7d', seconds, or 'off'.
fn parse_span(text: &str) -> Result<Duration, String> {
    intercom_sql::settings::parse_duration("span", text).map_err(|_| {
        format!("'{text}' is not a duration such as '10min', '24h', '7d' or 300 (seconds)")
    })
}

async fn run_sync(
    top: &ConnectionArgs,
    mut args: SyncArgs,
    attach: &Option<PathBuf>,
) -> Result<(), Error> {
    if attach.is_some() {
        return Err(Error::Config(
            "--snapshot attaches a snapshot to the shell or serve; sync writes the one --to names"
                .into(),
        ));
    }
    // Connection flags may come before or after `sync`; those after it win.
    args.connection.take_unset_from(top);
    let (config, _demo, _banner) = connection_config(&args.connection).await?;
    let engine = Engine::connect(config)?;
    let tables = match args.tables.is_empty() {
        true => snapshot::default_tables(),
        false => args.tables.clone(),
    };
    let cache = schema_cache(&args.connection, engine.client().config());
    if let Err(e) = engine
        .discover_custom_attributes_for(&tables.join(" "), cache.as_ref())
        .await
    {
        eprintln!(
            "Warning: custom attributes are only in the JSON custom_attributes column: {}",
            e.user_message()
        );
    }
    let options = SyncOptions {
        lag_margin: args.lag_margin,
        full_every: args.full_every,
        full: args.full,
        progress: (!args.quiet).then(sync_progress),
    };
    let report = tokio::select! {
        report = snapshot::sync(&engine, &args.to, &tables, &options) => report?,
        _ = tokio::signal::ctrl_c() => {
            return Err(Error::Config(format!(
                "interrupted: the tables already synced are kept; run the same command to sync the others into {}",
                args.to.display()
            )));
        }
    };
    if !args.quiet {
        eprintln!(
            "synced {} of {} tables into {}: {} requests, {:.1} s",
            report.synced.len(),
            report.synced.len() + report.failed.len(),
            args.to.display(),
            report.requests,
            report.wall.as_secs_f64()
        );
    }
    match report.failed.as_slice() {
        [] => Ok(()),
        failed => Err(Error::Config(format!(
            "{} failed ({}): they are as they were; run the same command again to retry them",
            failed
                .iter()
                .map(|(table, _)| table.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            failed[0].1
        ))),
    }
}

/// Progress of a sync on stderr: on a terminal, the table being read on one line rewritten
/// in place; everywhere, a line per table once it is synced or has failed.
fn sync_progress() -> snapshot::ProgressSink {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let last = std::sync::Mutex::new(std::time::Instant::now());
    std::sync::Arc::new(move |progress: &snapshot::Progress<'_>| match progress {
        snapshot::Progress::Reading {
            table,
            read,
            rows,
            requests,
        } if terminal => {
            let Ok(mut last) = last.lock() else { return };
            if *rows > 0 && last.elapsed() < Duration::from_millis(250) {
                return;
            }
            *last = std::time::Instant::now();
            eprint!("\r\x1b[K{table}: reading {read}: {rows} rows, {requests} requests");
        }
        snapshot::Progress::Reading { .. } => {}
        snapshot::Progress::Synced(done) => {
            eprintln!(
                "{}{}",
                if terminal { "\r\x1b[K" } else { "" },
                done.summary()
            );
        }
        snapshot::Progress::Failed { table, message } => {
            eprintln!(
                "{}{table}: failed, left as it was: {message}",
                if terminal { "\r\x1b[K" } else { "" }
            );
        }
    })
}

/// `options` with the snapshot in `dir` attached to every session (after any setup already
/// there).
fn with_snapshot(options: ServerOptions, dir: Option<PathBuf>) -> Result<ServerOptions, Error> {
    let Some(dir) = dir else {
        return Ok(options);
    };
    let dir = snapshot::check_dir(&dir)?;
    let before = options.session_setup.clone();
    let setup: server::SessionSetup = std::sync::Arc::new(move |ctx| {
        if let Some(before) = &before {
            before(ctx)?;
        }
        snapshot::attach(ctx, &dir)
    });
    Ok(ServerOptions {
        session_setup: Some(setup),
        ..options
    })
}
