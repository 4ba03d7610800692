//! Real PostgreSQL clients against the server, in-process on 127.0.0.1:0 over the emulator:
//! the programs of `tests/clients/` (psql, JDBC, psycopg / SQLAlchemy / pandas), and a replay
//! of the catalog and session statements those clients sent to a real PostgreSQL
//! (`tests/fixtures/client_traffic/`).
//!
//! A missing client is skipped with a note on stderr, unless `INTERCOM_SQL_CLIENT_TESTS=1`
//! (CI, after `tests/clients/install.sh`), where it fails.

use std::collections::{BTreeSet, HashMap};
use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use bytes::BytesMut;
use futures::TryStreamExt;
use intercom_sql::emulator::EmulatorConfig;
use intercom_sql::server::RunningServer;
use tokio_postgres::types::{Format, IsNull, Kind, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls};

use crate::common::{TestEnv, start_with};

/// The user, database and password the client programs use by default. The server runs
/// without authentication (loopback), so the password is sent and not checked.
const USER: &str = "intercom";
const DATABASE: &str = "intercom";
const PASSWORD: &str = "intercom-secret";

struct ClientEnv {
    _env: TestEnv,
    server: RunningServer,
}

async fn serve() -> ClientEnv {
    let (env, server) = crate::common::start_server().await;
    ClientEnv { _env: env, server }
}

impl ClientEnv {
    fn host(&self) -> String {
        self.server.local_addr().ip().to_string()
    }

    fn port(&self) -> String {
        self.server.local_addr().port().to_string()
    }

    /// HOST PORT USER PASSWORD DATABASE, the arguments every client program takes.
    fn args(&self) -> Vec<String> {
        vec![
            self.host(),
            self.port(),
            USER.into(),
            PASSWORD.into(),
            DATABASE.into(),
        ]
    }

    async fn connect(&self) -> Client {
        let url = format!(
            "host={} port={} user={USER} dbname={DATABASE}",
            self.host(),
            self.port()
        );
        let (client, connection) = tokio_postgres::connect(&url, NoTls)
            .await
            .expect("connects");
        tokio::spawn(connection);
        client
    }
}

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `Some(program)` when installed; `None` (after a note) when not and not in CI.
pub(crate) fn client_program(client: &str, program: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(program) = program.filter(|p| which(p).is_some()) {
        return Some(program);
    }
    if std::env::var("INTERCOM_SQL_CLIENT_TESTS").as_deref() == Ok("1") {
        panic!(
            "{client} not installed, and INTERCOM_SQL_CLIENT_TESTS=1 (run tests/clients/install.sh)"
        );
    }
    eprintln!("skipped: {client} not installed (run tests/clients/install.sh)");
    None
}

/// The program's path if it exists (absolute) or is found on PATH.
fn which(program: &Path) -> Option<PathBuf> {
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Runs a client program; panics with everything it printed unless it exits 0.
/// The virtualenv's python with psycopg, SQLAlchemy and pandas (`tests/clients/install.sh`,
/// or `INTERCOM_SQL_CLIENT_PYTHON`), when installed.
pub(crate) fn client_python() -> Option<PathBuf> {
    let python = std::env::var_os("INTERCOM_SQL_CLIENT_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/intercom-sql/client-venv/bin/python"))
        });
    client_program("python with psycopg, SQLAlchemy, pandas", python)
}

/// A class of `tests/clients/jdbc/` compiled against the PostgreSQL JDBC driver, and the
/// classpath to run it with.
pub(crate) struct CompiledJava {
    _classes: tempfile::TempDir,
    pub classpath: String,
}

/// Compiles `tests/clients/jdbc/<class>.java` (`None` when the JDK or the driver is missing,
/// outside CI).
pub(crate) async fn compile_java(class: &str) -> Option<CompiledJava> {
    let jar = std::env::var_os("INTERCOM_SQL_JDBC_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/usr/share/java/postgresql.jar".into());
    let javac = client_program("javac (JDK)", Some("javac".into()))?;
    let jar = client_program("the PostgreSQL JDBC driver", Some(jar))?;
    let classes = tempfile::tempdir().expect("temp dir");
    run(
        &format!("javac {class}.java"),
        tokio::process::Command::new(javac)
            .arg("-d")
            .arg(classes.path())
            .arg("-cp")
            .arg(&jar)
            .arg(repo().join(format!("tests/clients/jdbc/{class}.java"))),
    )
    .await;
    let classpath = format!("{}:{}", classes.path().display(), jar.display());
    Some(CompiledJava {
        _classes: classes,
        classpath,
    })
}

pub(crate) async fn run(what: &str, command: &mut tokio::process::Command) -> String {
    let out = tokio::time::timeout(std::time::Duration::from_secs(180), command.output())
        .await
        .unwrap_or_else(|_| panic!("{what} timed out"))
        .unwrap_or_else(|e| panic!("{what} did not start: {e}"));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{printed}",
        out.status
    );
    printed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_session_script_passes() {
    let Some(psql) = client_program("psql", Some("psql".into())) else {
        return;
    };
    let env = serve().await;
    let printed = run(
        "tests/clients/psql_session.sh",
        tokio::process::Command::new("bash")
            .arg(repo().join("tests/clients/psql_session.sh"))
            .args(env.args())
            .env("PSQL", psql),
    )
    .await;
    assert!(
        printed.contains("psql_session: all checks passed"),
        "{printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jdbc_client_check_passes() {
    let Some(compiled) = compile_java("ClientCheck").await else {
        return;
    };
    let env = serve().await;
    let printed = run(
        "java ClientCheck",
        tokio::process::Command::new("java")
            .arg("-cp")
            .arg(&compiled.classpath)
            .arg("ClientCheck")
            .args(env.args()),
    )
    .await;
    // The last checks ran: the {call} escape, then a cancel and the connection after it.
    for check in [
        "ok: ArchiveContact returns archived = true",
        "ok: Statement.cancel() stops the running query (SQLSTATE 57014",
        "ok: the connection is usable after the cancel",
    ] {
        assert!(printed.contains(check), "{check} missing:\n{printed}");
    }
    eprintln!(
        "{}",
        printed
            .lines()
            .filter(|l| l.contains("cancel"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_check_passes() {
    let Some(python) = client_python() else {
        return;
    };
    let env = serve().await;
    for only in ["psycopg", "sqlalchemy", "pandas"] {
        run(
            &format!("client_check.py --only {only}"),
            tokio::process::Command::new(&python)
                .arg(repo().join("tests/clients/python/client_check.py"))
                .args(["--only", only])
                .args(env.args()),
        )
        .await;
    }
}

/// pgbouncer (Debian's 1.18, `tests/clients/postgres.sh`) in front of the server, in transaction
/// mode with 2 server connections for 8 clients, then in session mode with one: transactions
/// from many clients interleave on shared connections and each gets its own answers (simple
/// protocol, and the extended protocol's unnamed statements, which transaction pooling
/// allows); ROLLBACK ends a transaction; the `DISCARD ALL` pgbouncer sends between session
/// clients resets what the previous client SET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_pools_connections_in_transaction_and_session_mode() {
    let program = std::env::var_os("INTERCOM_SQL_PGBOUNCER")
        .map(PathBuf::from)
        .unwrap_or_else(|| "pgbouncer".into());
    let Some(pgbouncer) = client_program("pgbouncer", Some(program)) else {
        return;
    };
    let env = serve().await;
    let ours = env.connect().await;
    let contacts: Vec<(String, String)> = ours
        .query(
            "SELECT id, email FROM contacts WHERE email IS NOT NULL ORDER BY id LIMIT 8",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(contacts.len(), 8);

    let port = env.server.local_addr().port();
    let transaction = Pooler::start(&pgbouncer, port, ("transaction", 2, ""));
    let clients = futures::future::join_all(contacts.iter().map(|(id, email)| {
        let url = transaction.url();
        let (id, email) = (id.clone(), email.clone());
        async move {
            let client = connect_retrying(&url).await;
            for round in 0..5 {
                let answers = client
                    .simple_query(&format!(
                        "BEGIN; SELECT email FROM contacts WHERE id = '{id}'; COMMIT"
                    ))
                    .await
                    .unwrap_or_else(|e| panic!("round {round} for {id}: {e}"));
                let got: Vec<&str> = answers
                    .iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0),
                        _ => None,
                    })
                    .collect();
                assert_eq!(got, vec![email.as_str()], "{id}, round {round}");
                let row = client
                    .query_typed(
                        "SELECT email FROM contacts WHERE id = $1",
                        &[(&id, Type::TEXT)],
                    )
                    .await
                    .unwrap_or_else(|e| panic!("extended, round {round} for {id}: {e}"));
                assert_eq!(row[0].get::<_, String>(0), email, "{id}, round {round}");
            }
            client
                .batch_execute("BEGIN; SELECT 1; ROLLBACK")
                .await
                .unwrap();
            client.simple_query("SELECT 1").await.unwrap();
        }
    }));
    tokio::time::timeout(std::time::Duration::from_secs(120), clients)
        .await
        .expect("clients through pgbouncer finish");
    drop(transaction);

    // Session mode, one server connection: without a reset query the second client inherits
    // the first one's SET (so the connection is shared); with DISCARD ALL it does not.
    for (reset, want) in [("", "off"), ("DISCARD ALL", "on")] {
        let port = env.server.local_addr().port();
        let session = Pooler::start(&pgbouncer, port, ("session", 1, reset));
        let first = connect_retrying(&session.url()).await;
        first
            .batch_execute("SET intercom.pushdown = off")
            .await
            .unwrap();
        drop(first);
        let second = connect_retrying(&session.url()).await;
        let shown = second.simple_query("SHOW intercom.pushdown").await.unwrap();
        let value = shown.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        assert_eq!(
            value.as_deref(),
            Some(want),
            "server_reset_query = '{reset}'"
        );
    }
}

/// A pgbouncer process in front of our server, killed when dropped.
struct Pooler {
    port: u16,
    _dir: tempfile::TempDir,
    _process: tokio::process::Child,
}

impl Pooler {
    /// `(pool_mode, default_pool_size, server_reset_query)`.
    fn start(
        program: &Path,
        server_port: u16,
        (mode, pool_size, reset): (&str, usize, &str),
    ) -> Pooler {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.path().join("pgbouncer.ini");
        std::fs::write(
            &config,
            format!(
                "[databases]\n\
                 {DATABASE} = host=127.0.0.1 port={server_port} dbname={DATABASE} user={USER}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = any\n\
                 pool_mode = {mode}\n\
                 default_pool_size = {pool_size}\n\
                 max_client_conn = 100\n\
                 server_reset_query = {reset}\n\
                 ignore_startup_parameters = extra_float_digits\n\
                 logfile = {}\n",
                dir.path().join("pgbouncer.log").display()
            ),
        )
        .unwrap();
        // pgbouncer will not run as root: as root it takes the `postgres` user's identity,
        // which must be able to write its log.
        let mut command = tokio::process::Command::new(program);
        if is_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
            command.args(["-u", "postgres"]);
        }
        let process = command
            .arg(&config)
            .kill_on_drop(true)
            .spawn()
            .expect("pgbouncer starts");
        Pooler {
            port,
            _dir: dir,
            _process: process,
        }
    }

    fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user={USER} dbname={DATABASE}",
            self.port
        )
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// Connects once the pooler listens (it starts in the background).
async fn connect_retrying(url: &str) -> Client {
    for _ in 0..100 {
        if let Ok((client, connection)) = tokio_postgres::connect(url, NoTls).await {
            tokio::spawn(connection);
            return client;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("cannot connect through pgbouncer at {url}");
}

/// The demo workspace the official SDKs are run against, and a seeded visitor's `user_id`.
async fn sdk_workspace() -> (crate::common::TestEnv, String) {
    let env = start_with(EmulatorConfig::default(), |_| {}).await;
    let visitor = env.emulator.state.snapshot("visitors")[0]["user_id"]
        .as_str()
        .expect("a seeded visitor")
        .to_string();
    (env, visitor)
}

/// Intercom's official Python SDK (python-intercom 5.x, installed with the Python clients)
/// against the emulator: the routes of `/me`, the activity log, away reasons, data events,
/// visitors, handling events, a segment, the whole company scroll, `POST /companies/list`, a
/// queued ticket and its job answer as the SDK expects (tests/clients/sdk/python_sdk_check.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_sdk_reads_the_emulator() {
    let python = std::env::var_os("INTERCOM_SQL_CLIENT_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/intercom-sql/client-venv/bin/python"))
        });
    let Some(python) = client_program("python with python-intercom", python) else {
        return;
    };
    let (env, visitor) = sdk_workspace().await;
    run(
        "python_sdk_check.py",
        tokio::process::Command::new(&python)
            .arg(repo().join("tests/clients/sdk/python_sdk_check.py"))
            .arg(&env.emulator.base_url)
            .arg(EmulatorConfig::default().token)
            .arg(&visitor),
    )
    .await;
}

/// Intercom's official Node SDK (intercom-client 7.x, pinned by tests/clients/sdk/node's lock
/// file and installed by tests/clients/install.sh) against the emulator: the same routes, each
/// through the SDK's own call (tests/clients/sdk/node/check.js).
#[tokio::test]
async fn official_node_sdk_reads_the_emulator() {
    let sdk = std::env::var_os("INTERCOM_SQL_NODE_SDK")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/intercom-sql/node-sdk/node_modules"))
        })
        .filter(|dir| dir.join("intercom-client").is_dir());
    let node = sdk.as_ref().map(|_| PathBuf::from("node"));
    let Some(node) = client_program("node with intercom-client", node) else {
        return;
    };
    let (env, visitor) = sdk_workspace().await;
    let printed = run(
        "node check.js",
        tokio::process::Command::new(&node)
            .arg(repo().join("tests/clients/sdk/node/check.js"))
            .arg(&env.emulator.base_url)
            .arg(EmulatorConfig::default().token)
            .arg(&visitor)
            .env("NODE_PATH", sdk.expect("checked above")),
    )
    .await;
    // Every check printed, none failed (the script also exits 1 on a failure).
    let passed = printed.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(passed, 15, "{printed}");
}

/// Captured statements known not to work yet, as `(fixture, seq, why)`. The replay asserts
/// this list exactly: a fix must remove its entry, a new failure must be explained here.
const KNOWN_FAILURES: &[(&str, u64, &str)] = &[];

/// A parameter as captured: its bytes, sent in the captured format whatever the type.
#[derive(Debug)]
struct RawParam {
    value: Option<Vec<u8>>,
    binary: bool,
}

impl ToSql for RawParam {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match &self.value {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        if self.binary {
            Format::Binary
        } else {
            Format::Text
        }
    }

    to_sql_checked!();
}

fn declared_type(name: &str) -> Option<Type> {
    Some(match name {
        "int2" => Type::INT2,
        "int4" => Type::INT4,
        "int8" => Type::INT8,
        "bool" => Type::BOOL,
        "text" => Type::TEXT,
        "varchar" => Type::VARCHAR,
        "timestamptz" => Type::TIMESTAMPTZ,
        _ => return None,
    })
}

/// OID 0 in a Parse message: "the server infers this parameter's type".
fn unspecified() -> Type {
    Type::new("unspecified".into(), 0, Kind::Pseudo, "pg_catalog".into())
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// `old` OID → our server's OID for the same relation (`SELECT 'name'::regclass::oid`).
async fn our_oids(client: &Client, captured: &serde_json::Value) -> HashMap<String, i64> {
    let mut oids = HashMap::new();
    let Some(map) = captured.get("oids").and_then(|o| o.as_object()) else {
        return oids;
    };
    for (old, name) in map {
        let name = name.as_str().expect("relation name");
        let sql = format!("SELECT '{name}'::regclass::oid");
        let rows = client.simple_query(&sql).await.expect("regclass");
        let oid = rows.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse().ok(),
            _ => None,
        });
        oids.insert(old.clone(), oid.expect("an oid"));
    }
    oids
}

/// Runs one captured statement; the error message if it failed.
async fn replay(client: &Client, statement: &serde_json::Value) -> Option<String> {
    let mut sql = statement["sql"].as_str().expect("sql").to_string();
    let oids = our_oids(client, statement).await;
    for (old, new) in &oids {
        sql = sql.replace(old.as_str(), &new.to_string());
    }
    if statement["protocol"] == "simple" {
        return client
            .simple_query(&sql)
            .await
            .err()
            .map(|e| format!("{e:?}"));
    }
    // The types as the client declared them in Parse; OID 0 for an unspecified one, which
    // the server infers (as psycopg sends them).
    let types: Vec<Type> = statement["param_types"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| declared_type(t.as_str().unwrap_or_default()).unwrap_or_else(unspecified))
                .collect()
        })
        .unwrap_or_default();
    let prepared = match client.prepare_typed(&sql, &types).await {
        Ok(prepared) => prepared,
        Err(e) => return Some(format!("prepare: {e:?}")),
    };
    let params: Vec<RawParam> = statement["params"]
        .as_array()
        .map(|params| {
            params
                .iter()
                .map(|p| match p {
                    serde_json::Value::Null => RawParam {
                        value: None,
                        binary: false,
                    },
                    serde_json::Value::Object(o) => {
                        let mut bytes = hex(o["binary_hex"].as_str().expect("hex"));
                        // A relation's OID bound as binary int2 (SQLAlchemy): ours instead.
                        if bytes.len() == 2 {
                            let value = i64::from(i16::from_be_bytes([bytes[0], bytes[1]]));
                            if let Some(new) = oids.get(&value.to_string())
                                && let Ok(new) = i16::try_from(*new)
                            {
                                bytes = new.to_be_bytes().to_vec();
                            }
                        }
                        RawParam {
                            value: Some(bytes),
                            binary: true,
                        }
                    }
                    other => {
                        let text = other
                            .as_str()
                            .map_or_else(|| other.to_string(), str::to_string);
                        let text = oids.get(&text).map_or(text, |new| new.to_string());
                        RawParam {
                            value: Some(text.into_bytes()),
                            binary: false,
                        }
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    if params.len() != prepared.params().len() {
        return Some(format!(
            "prepare: server expects {} parameters, the capture has {}",
            prepared.params().len(),
            params.len()
        ));
    }
    // Read every row: an error while executing arrives with the rows, not with the call.
    match client.query_raw(&prepared, refs).await {
        Ok(rows) => rows
            .try_collect::<Vec<_>>()
            .await
            .err()
            .map(|e| format!("execute: {e:?}")),
        Err(e) => Some(format!("execute: {e:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_catalog_and_session_statements_run() {
    let env = serve().await;
    let dir = repo().join("tests/fixtures/client_traffic");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "psql, jdbc, psycopg, sqlalchemy, pandas");
    let mut failed: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut report = String::new();
    let mut replayed = 0;
    for file in files {
        let fixture: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        // One connection per client, as captured.
        let client = env.connect().await;
        for statement in fixture["statements"].as_array().expect("statements") {
            let kind = statement["kind"].as_str().unwrap_or_default();
            if kind != "catalog" && kind != "session" {
                continue;
            }
            replayed += 1;
            let seq = statement["seq"].as_u64().expect("seq");
            if let Some(error) = replay(&client, statement).await {
                report.push_str(&format!("{name}#{seq}: {error}\n"));
                failed.insert((name.clone(), seq));
                // A failed statement aborts the client's transaction: end it, as clients do.
                let _ = client.simple_query("ROLLBACK").await;
            }
        }
    }
    let known: BTreeSet<(String, u64)> = KNOWN_FAILURES
        .iter()
        .map(|(name, seq, _)| (name.to_string(), *seq))
        .collect();
    assert!(replayed >= 90, "replayed only {replayed} statements");
    assert_eq!(
        failed, known,
        "captured statements that fail differ from KNOWN_FAILURES:\n{report}"
    );
}
