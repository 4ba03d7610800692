//! The `intercom-sql` command: parses flags and hands over to the library (REPL, one-shot
//! `-c`/`-f` runs, or the standalone emulator). No logic of its own beyond choosing a mode.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use intercom_sql::discovery::SchemaCache;
use intercom_sql::emulator::{self, EmulatorConfig};
use intercom_sql::limits::{self, Limits};
use intercom_sql::print::{self, Format};
use intercom_sql::process;
use intercom_sql::repl::{self, ReplOptions};
use intercom_sql::server::{self, Credentials, ServerOptions, TlsFiles};
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
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// After -c/-f, print API requests, retries, wall time and peak memory to stderr.
    #[arg(long)]
    stats: bool,
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
    /// process. Default 64.
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

#[derive(Subcommand, Debug)]
enum Mode {
    /// Open the interactive SQL shell (the default).
    Repl,
    /// Run the Intercom emulator alone, for any Intercom client to use.
    Emulator(EmulatorArgs),
    /// Serve the tables over the PostgreSQL wire protocol (psql, JDBC, BI tools).
    Serve(ServeArgs),
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
    /// Latency added to every response, in milliseconds.
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
        Some(Mode::Serve(args)) => return run_server(&cli.connection, args).await,
        Some(Mode::Repl) | None => {}
    }
    // Keeps the demo emulator alive for as long as the session runs.
    let (config, _demo, banner) = connection_config(&cli.connection).await?;
    let engine = Engine::connect(config)?;
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
        eprintln!(
            "Warning: custom attributes are only in the JSON custom_attributes column: {}",
            e.user_message()
        );
    }
    match script {
        Some(sql) => {
            let started = std::time::Instant::now();
            let mut stdout = std::io::stdout();
            let result = print::run_script(&engine, &sql, cli.format, &mut stdout).await;
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
                    format: cli.format,
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
    let (mut config, demo, banner) = match (token, &args.base_url) {
        (Some(token), base_url) => {
            let base = base_url
                .clone()
                .unwrap_or_else(|| args.region.base_url().to_string());
            let banner = format!(
                "intercom-sql {version} connected to {base}. Type \\? for help, \\q to quit."
            );
            (Config::new(base, AccessToken::new(token)), None, banner)
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
            let config = Config::new(demo.base_url.clone(), token);
            let banner = format!(
                "intercom-sql {version} -- DEMO workspace: no INTERCOM_ACCESS_TOKEN is set, so this session runs on the \
                 built-in Intercom emulator with generated sample data (nothing here is real).\n\
                 Set INTERCOM_ACCESS_TOKEN to query your own workspace. Type \\? for help, \\dt for tables, \\q to quit."
            );
            (config, Some(demo), banner)
        }
    };
    config.api_version = args.api_version.clone();
    config.timeout = Duration::from_secs(args.timeout_secs.max(1));
    config.read_only = args.read_only;
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
            let intercom = [Region::Us, Region::Eu, Region::Au]
                .iter()
                .any(|r| r.base_url() == config.base_url);
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

async fn run_server(top: &ConnectionArgs, mut args: ServeArgs) -> Result<(), Error> {
    // Connection flags may come before or after `serve`; those after it win.
    let connection = &mut args.connection;
    connection.token = connection.token.take().or_else(|| top.token.clone());
    connection.base_url = connection.base_url.take().or_else(|| top.base_url.clone());
    connection.read_only |= top.read_only;
    connection.max_memory = connection.max_memory.or(top.max_memory);
    connection.max_query_memory = connection.max_query_memory.or(top.max_query_memory);
    connection.max_concurrency = connection.max_concurrency.or(top.max_concurrency);
    connection.max_rps = connection.max_rps.or(top.max_rps);
    connection.cache_ttl = connection.cache_ttl.or(top.cache_ttl);
    if connection.custom_object_types.is_empty() {
        connection.custom_object_types = top.custom_object_types.clone();
    }
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
    let engine = Engine::connect(config)?;
    if let Err(e) = engine.discover_custom_attributes().await {
        eprintln!(
            "Warning: custom attributes are only in the JSON custom_attributes column: {}",
            e.user_message()
        );
    }
    let user = credentials.as_ref().map(|c| c.user.clone());
    let options = ServerOptions {
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
    let tls = options.tls.is_some();
    let server = server::start(engine.session_factory(), options).await?;
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
