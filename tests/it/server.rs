//! The PostgreSQL server, in-process on 127.0.0.1:0 over the emulator, driven by
//! tokio-postgres (simple and extended protocol) and, where installed, real psql.

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::Int64Array;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::logical_expr::{Volatility, create_udf};
use intercom_sql::emulator::EmulatorConfig;
use intercom_sql::server::{self, Credentials, RunningServer, ServerOptions, TlsFiles};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::common::{TestEnv, start_with};

/// An emulator, an engine and a server over it.
struct ServerEnv {
    env: TestEnv,
    server: RunningServer,
}

async fn serve(tweak: impl FnOnce(&mut ServerOptions)) -> ServerEnv {
    serve_with(EmulatorConfig::default(), |_| {}, tweak).await
}

async fn serve_with(
    emulator: EmulatorConfig,
    client: impl FnOnce(&mut intercom_sql::Config),
    tweak: impl FnOnce(&mut ServerOptions),
) -> ServerEnv {
    let env = start_with(emulator, client).await;
    let mut options = ServerOptions::new("127.0.0.1:0");
    options.session_setup = Some(Arc::new(register_test_objects));
    tweak(&mut options);
    let server = server::start(env.engine.session_factory(), options)
        .await
        .expect("server starts");
    ServerEnv { env, server }
}

/// A session-local MemTable `scores(n bigint)` with rows 1, 2, 3, and `boom()`, a (buggy)
/// embedder function that panics when it runs.
fn register_test_objects(
    ctx: &datafusion::prelude::SessionContext,
) -> Result<(), intercom_sql::Error> {
    let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
    )
    .map_err(datafusion::error::DataFusionError::from)?;
    ctx.register_table(
        "scores",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    ctx.register_udf(create_udf(
        "boom",
        vec![],
        DataType::Int64,
        Volatility::Volatile,
        Arc::new(|_| panic!("boom() is broken")),
    ));
    Ok(())
}

impl ServerEnv {
    fn url(&self, user: &str) -> String {
        let addr = self.server.local_addr();
        format!(
            "host={} port={} user={user} dbname=intercom",
            addr.ip(),
            addr.port()
        )
    }

    async fn connect(&self) -> Client {
        connect(&self.url("tester")).await.expect("connects")
    }
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The data rows of a simple query, as text.
async fn simple_rows(client: &Client, sql: &str) -> Vec<Vec<String>> {
    client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_string())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

/// The SQLSTATE of a failed statement.
async fn sqlstate(client: &Client, sql: &str) -> String {
    match client.simple_query(sql).await {
        Ok(_) => panic!("{sql} should fail"),
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("{sql}: no SQLSTATE in {e}"))
            .code()
            .to_string(),
    }
}

fn contact_ids(env: &TestEnv) -> Vec<String> {
    let mut ids: Vec<String> = env
        .emulator
        .state
        .snapshot("contacts")
        .iter()
        .map(|c| crate::common::field(c, "id"))
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn simple_query_returns_the_rows_of_the_engine() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let rows = simple_rows(&client, "SELECT id FROM contacts ORDER BY id LIMIT 3").await;
    let expected: Vec<Vec<String>> = contact_ids(&s.env)
        .into_iter()
        .take(3)
        .map(|id| vec![id])
        .collect();
    assert_eq!(rows, expected);
    assert!(
        s.env
            .requests()
            .iter()
            .any(|r| r.starts_with("GET /contacts")),
        "{:?}",
        s.env.requests()
    );
    // Several statements in one query, answered in order.
    let rows = simple_rows(&client, "SELECT 1 AS a; SELECT 'two' AS b").await;
    assert_eq!(rows, vec![vec!["1".to_string()], vec!["two".to_string()]]);
}

#[tokio::test]
async fn extended_queries_bind_typed_parameters_and_reuse_prepared_statements() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let contacts = s.env.emulator.state.snapshot("contacts");
    let with_email: Vec<(String, String)> = contacts
        .iter()
        .filter_map(|c| {
            Some((
                c["id"].as_str()?.to_string(),
                c["email"].as_str()?.to_string(),
            ))
        })
        .take(2)
        .collect();
    let statement = client
        .prepare("SELECT id FROM contacts WHERE email = $1")
        .await
        .expect("prepares");
    assert_eq!(statement.params(), &[tokio_postgres::types::Type::TEXT]);
    for (id, email) in &with_email {
        s.env.emulator.state.clear_requests();
        let rows = client.query(&statement, &[email]).await.expect("runs");
        let got: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        assert_eq!(got, vec![id.clone()]);
        // The parameter reached Intercom as a search, not a full listing.
        assert_eq!(s.env.requests(), vec!["POST /contacts/search".to_string()]);
    }
    // Non-text parameters: bigint arithmetic on the server.
    let row = client
        .query_one("SELECT $1::bigint * 2 AS doubled", &[&21i64])
        .await
        .expect("runs");
    assert_eq!(row.get::<_, i64>(0), 42);
}

#[tokio::test]
async fn call_runs_procedures_over_both_protocols() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let ids = contact_ids(&s.env);
    let (first, second) = (&ids[0], &ids[1]);
    let rows = simple_rows(&client, &format!("CALL ArchiveContact('{first}')")).await;
    assert_eq!(rows[0][0], *first);
    let row = client
        .query_one("CALL ArchiveContact($1)", &[second])
        .await
        .expect("CALL with a parameter");
    assert_eq!(row.get::<_, String>(0), *second);
    // The emulator's state changed: archived contacts leave the list.
    let left = contact_ids(&s.env);
    assert!(!left.contains(first) && !left.contains(second));
    // And the table-function form, with a parameter.
    let row = client
        .query_one("SELECT id, archived FROM unarchive_contact($1)", &[first])
        .await
        .expect("table function with a parameter");
    assert!(!row.get::<_, bool>(1));
    assert!(contact_ids(&s.env).contains(first));
}

#[tokio::test]
async fn settings_are_per_connection_and_discard_all_resets_them() {
    let s = serve(|_| {}).await;
    let a = s.connect().await;
    let b = s.connect().await;
    a.simple_query("SET intercom.max_write_rows = 5")
        .await
        .expect("SET");
    let show = "SHOW intercom.max_write_rows";
    assert_eq!(simple_rows(&a, show).await[0].last().unwrap(), "5");
    assert_eq!(simple_rows(&b, show).await[0].last().unwrap(), "100");
    // A bad value is an error, not silently ignored.
    assert_eq!(
        sqlstate(&a, "SET intercom.pushdown = 'maybe'").await,
        "22023"
    );
    a.simple_query("DISCARD ALL").await.expect("DISCARD ALL");
    assert_eq!(simple_rows(&a, show).await[0].last().unwrap(), "100");
}

#[tokio::test]
async fn session_statements_succeed_like_postgres() {
    let s = serve(|_| {}).await;
    let mut client = s.connect().await;
    for sql in [
        "BEGIN",
        "SELECT 1",
        "COMMIT",
        "BEGIN",
        "ROLLBACK",
        "SET application_name = 'tests'",
        "SET extra_float_digits = 3",
        "SHOW TimeZone",
        "RESET ALL",
        "DISCARD ALL",
        "DEALLOCATE ALL",
    ] {
        client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // SHOW answers what SET set, as PostgreSQL does (a number, the zone by either name).
    for (set, show, want) in [
        ("SET extra_float_digits = 3", "SHOW extra_float_digits", "3"),
        (
            "SET application_name = 'tests'",
            "SHOW application_name",
            "tests",
        ),
        (
            "SET TimeZone = 'Europe/Paris'",
            "SHOW TimeZone",
            "Europe/Paris",
        ),
        ("SET TIME ZONE 'UTC'", "SHOW TIME ZONE", "UTC"),
    ] {
        client
            .simple_query(set)
            .await
            .unwrap_or_else(|e| panic!("{set}: {e}"));
        assert_eq!(simple_rows(&client, show).await, vec![vec![want]], "{show}");
    }
    // The driver's own transaction API (BEGIN/COMMIT over the extended protocol).
    let tx = client.transaction().await.expect("BEGIN");
    tx.query_one("SELECT 1", &[]).await.expect("in transaction");
    tx.commit().await.expect("COMMIT");
    // SQL PREPARE / EXECUTE, and DEALLOCATE really drops the statement.
    client
        .simple_query("PREPARE doubled(BIGINT) AS SELECT $1 * 2")
        .await
        .expect("PREPARE");
    assert_eq!(
        simple_rows(&client, "EXECUTE doubled(21)").await,
        vec![vec!["42"]]
    );
    client
        .simple_query("DEALLOCATE doubled")
        .await
        .expect("DEALLOCATE");
    assert!(client.simple_query("EXECUTE doubled(21)").await.is_err());
}

#[tokio::test]
async fn dml_answers_with_command_tags() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    assert_eq!(
        client
            .execute("INSERT INTO scores VALUES (4), (5)", &[])
            .await
            .expect("INSERT"),
        2
    );
    assert_eq!(
        client
            .execute("UPDATE scores SET n = n * 10 WHERE n > $1", &[&3i64])
            .await
            .expect("UPDATE"),
        2
    );
    assert_eq!(
        client
            .execute("DELETE FROM scores WHERE n >= 10", &[])
            .await
            .expect("DELETE"),
        2
    );
    let rows = simple_rows(&client, "SELECT n FROM scores ORDER BY n").await;
    assert_eq!(rows, vec![vec!["1"], vec!["2"], vec!["3"]]);
    // Another connection has its own (fresh) table.
    let other = s.connect().await;
    other
        .execute("INSERT INTO scores VALUES (9)", &[])
        .await
        .expect("INSERT");
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM scores").await,
        vec![vec!["3"]]
    );
}

#[tokio::test]
async fn psql_sees_the_exact_command_tags_and_the_tables() {
    if !psql_available() {
        return;
    }
    let s = serve(|_| {}).await;
    let addr = s.server.local_addr();
    let stdout = psql_ok(
        psql(addr)
            .args(["-c", "INSERT INTO scores VALUES (7), (8)"])
            .args(["-c", "UPDATE scores SET n = 0 WHERE n > 6"])
            .args(["-c", "DELETE FROM scores WHERE n = 0"])
            .args(["-c", "BEGIN", "-c", "COMMIT", "-c", "DISCARD ALL"])
            .args(["-c", "\\dt"]),
    )
    .await;
    for tag in [
        "INSERT 0 2",
        "UPDATE 2",
        "DELETE 2",
        "BEGIN",
        "COMMIT",
        "DISCARD ALL",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim() == tag),
            "{tag} in:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("contacts") && stdout.contains("conversations"),
        "{stdout}"
    );
}

#[tokio::test]
async fn psqls_browsing_commands_answer_like_postgresql() {
    if !psql_available() {
        return;
    }
    let s = serve(|_| {}).await;
    let addr = s.server.local_addr();
    // Each command alone: ON_ERROR_STOP makes any planning error fail the run.
    let run = |command: &'static str| {
        let mut psql = psql(addr);
        psql.args(["-c", command]);
        psql
    };
    let tables = psql_ok(&mut run("\\dt+")).await;
    assert!(
        tables
            .lines()
            .any(|l| l.contains("| contacts ") && l.contains("0 bytes")),
        "{tables}"
    );
    // Comments are the docs' descriptions, of tables and of columns.
    let contacts = intercom_sql::tables::find("contacts").unwrap();
    assert!(tables.contains(&contacts.description), "{tables}");
    let columns = psql_ok(&mut run("\\d+ contacts")).await;
    let email = contacts.column_named("email").unwrap();
    assert!(
        columns.contains("Table \"public.contacts\"")
            && columns
                .lines()
                .any(|l| l.starts_with(" email ") && l.contains(&email.description)),
        "{columns}"
    );
    let functions = psql_ok(&mut run("\\df+")).await;
    assert!(functions.contains("archivecontact"), "{functions}");
    let definition = psql_ok(&mut run("\\sf archivecontact")).await;
    assert!(
        definition.contains("CREATE OR REPLACE PROCEDURE public.archive_contact(contact_id text)")
            && definition.contains("POST /contacts/{contact_id}/archive"),
        "{definition}"
    );
    let schemas = psql_ok(&mut run("\\dn+")).await;
    assert!(schemas.contains("public"), "{schemas}");
    for command in [
        "\\du",
        "\\dg",
        "\\dT",
        "\\l+",
        "\\db",
        "\\dd",
        "\\dconfig",
        "\\do",
        "\\dx+",
        "\\dy",
        "\\dC",
        "\\dD",
        "\\dL",
        "\\ddp",
        "\\dO",
        "\\dX",
        "\\dF",
        "\\dv+",
    ] {
        psql_ok(&mut run(command)).await;
    }
}

/// Whether psql can run here; a test without it is skipped, or fails when
/// `INTERCOM_SQL_CLIENT_TESTS` says the client programs are installed.
fn psql_available() -> bool {
    if which("psql").is_some() {
        return true;
    }
    assert!(
        std::env::var_os("INTERCOM_SQL_CLIENT_TESTS").is_none(),
        "psql is required when INTERCOM_SQL_CLIENT_TESTS is set"
    );
    eprintln!("SKIPPED: psql is not installed (apt-get install postgresql-client)");
    false
}

/// psql connected to the server at `addr` (user `tester`, database `intercom`), without a
/// psqlrc, stopping at the first error.
fn psql(addr: std::net::SocketAddr) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("psql");
    command
        .args([
            "-X",
            "-h",
            &addr.ip().to_string(),
            "-p",
            &addr.port().to_string(),
        ])
        .args(["-U", "tester", "-d", "intercom", "-v", "ON_ERROR_STOP=1"])
        .env("PGCONNECT_TIMEOUT", "10");
    command
}

/// Runs `command` (a [`psql`]) to its end; its standard output, once it succeeded.
async fn psql_ok(command: &mut tokio::process::Command) -> String {
    let out = command.output().await.expect("psql runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

#[tokio::test]
async fn catalog_introspection_lists_tables_and_columns() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let rows = simple_rows(
        &client,
        "SELECT table_name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name IN ('contacts', 'companies') ORDER BY 1",
    )
    .await;
    assert_eq!(rows, vec![vec!["companies"], vec!["contacts"]]);
    let rows = simple_rows(
        &client,
        "SELECT data_type FROM information_schema.columns \
         WHERE table_name = 'contacts' AND column_name = 'email'",
    )
    .await;
    assert_eq!(rows, vec![vec!["Utf8"]]);
    let rows = simple_rows(
        &client,
        "SELECT c.relname FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relname = 'contacts'",
    )
    .await;
    assert_eq!(rows, vec![vec!["contacts"]]);
}

#[tokio::test]
async fn errors_carry_sqlstates() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    assert_eq!(sqlstate(&client, "SELEC id FROM contacts").await, "42601");
    assert_eq!(sqlstate(&client, "SELECT * FROM contactz").await, "42P01");
    assert_eq!(
        sqlstate(&client, "SELECT nope FROM contacts").await,
        "42703"
    );
    // A wrong column of a catalog table is still a wrong column, not a missing table; a
    // misspelt table function is an undefined function.
    assert_eq!(
        sqlstate(&client, "SELECT nope FROM pg_catalog.pg_class").await,
        "42703"
    );
    assert_eq!(
        sqlstate(&client, "SELECT * FROM archive_contactz('x')").await,
        "42883"
    );
    assert_eq!(
        sqlstate(&client, "CALL ArchiveContact('a', 'b')").await,
        "22023"
    );
    assert_eq!(
        sqlstate(&client, "CALL ArchiveContacts('a')").await,
        "42883"
    );
    // Extended protocol, same codes.
    let e = client
        .prepare("SELECT nope FROM contacts")
        .await
        .expect_err("fails");
    assert_eq!(e.code(), Some(&SqlState::UNDEFINED_COLUMN));
    // Intercom's 404 for an unknown contact.
    assert_eq!(
        sqlstate(&client, "CALL ArchiveContact('no-such-contact')").await,
        "P0002"
    );
    // The connection is still usable after errors.
    assert_eq!(simple_rows(&client, "SELECT 1").await, vec![vec!["1"]]);
}

#[tokio::test]
async fn scram_authentication_accepts_the_password_and_rejects_others() {
    let s = serve(|o| {
        o.credentials = Some(Credentials {
            user: "analyst".into(),
            password: "correct horse".into(),
        });
    })
    .await;
    let good = format!("{} password='correct horse'", s.url("analyst"));
    let client = connect(&good).await.expect("right password");
    assert_eq!(simple_rows(&client, "SELECT 1").await, vec![vec!["1"]]);
    for url in [
        format!("{} password=wrong", s.url("analyst")),
        format!("{} password='correct horse'", s.url("someone_else")),
    ] {
        let e = connect(&url).await.expect_err("refused");
        assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD), "{e}");
    }
}

#[tokio::test]
async fn binding_a_public_address_without_auth_is_refused() {
    let env = crate::common::start().await;
    let error = server::start(
        env.engine.session_factory(),
        ServerOptions::new("0.0.0.0:0"),
    )
    .await
    .expect_err("refused");
    assert!(
        error.user_message().contains("without authentication"),
        "{}",
        error.user_message()
    );
    let mut options = ServerOptions::new("127.0.0.1:0");
    options.credentials = Some(Credentials {
        user: "u".into(),
        password: String::new(),
    });
    assert!(
        server::start(env.engine.session_factory(), options)
            .await
            .is_err()
    );
}

/// A self-signed certificate for localhost/127.0.0.1, written as PEM files.
fn certificate(dir: &std::path::Path, name: &str) -> (TlsFiles, rcgen::CertifiedKey) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("certificate");
    let files = TlsFiles {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&files.cert, generated.cert.pem()).unwrap();
    std::fs::write(&files.key, generated.key_pair.serialize_pem()).unwrap();
    (files, generated)
}

#[tokio::test]
async fn tls_is_required_when_configured_and_bad_files_stop_startup() {
    let dir = tempfile::tempdir().unwrap();
    let (files, generated) = certificate(dir.path(), "server");
    let (other, _) = certificate(dir.path(), "other");

    let env = crate::common::start().await;
    let factory = || env.engine.session_factory();
    // Garbage, a missing file, and a key that does not match: refuse to start.
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    for tls in [
        TlsFiles {
            cert: garbage.clone(),
            key: files.key.clone(),
        },
        TlsFiles {
            cert: dir.path().join("missing.crt"),
            key: files.key.clone(),
        },
        TlsFiles {
            cert: files.cert.clone(),
            key: other.key.clone(),
        },
    ] {
        let mut options = ServerOptions::new("127.0.0.1:0");
        options.tls = Some(tls.clone());
        let error = server::start(factory(), options).await.err();
        assert!(error.is_some(), "{tls:?} should not start");
        assert!(error.unwrap().user_message().starts_with("TLS:"));
    }

    let mut options = ServerOptions::new("127.0.0.1:0");
    options.tls = Some(files);
    let server = server::start(factory(), options).await.expect("TLS server");
    let addr = server.local_addr();
    let url = format!(
        "hostaddr=127.0.0.1 host=localhost port={} user=t dbname=intercom",
        addr.port()
    );
    // Plaintext is refused, never served.
    let e = connect(&format!("{url} sslmode=disable"))
        .await
        .expect_err("refused");
    assert_eq!(
        e.code(),
        Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION),
        "{e}"
    );
    // A client trusting the certificate gets in.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(generated.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
    let (client, connection) = tokio_postgres::connect(&format!("{url} sslmode=require"), tls)
        .await
        .expect("TLS connects");
    tokio::spawn(connection);
    assert_eq!(simple_rows(&client, "SELECT 1").await, vec![vec!["1"]]);
}

#[tokio::test]
async fn read_only_refuses_procedures_and_writes_before_any_request() {
    let s = serve_with(
        EmulatorConfig::default(),
        |c| c.read_only = true,
        |o| o.read_only = true,
    )
    .await;
    let client = s.connect().await;
    let id = contact_ids(&s.env).remove(0);
    s.env.emulator.state.clear_requests();
    assert_eq!(
        sqlstate(&client, &format!("CALL ArchiveContact('{id}')")).await,
        "25006"
    );
    let e = client
        .query("CALL ArchiveContact($1)", &[&id])
        .await
        .expect_err("refused");
    assert_eq!(e.code(), Some(&SqlState::READ_ONLY_SQL_TRANSACTION));
    assert_eq!(
        sqlstate(&client, "DELETE FROM tags WHERE name = 'VIP'").await,
        "25006"
    );
    assert!(s.env.requests().is_empty(), "{:?}", s.env.requests());
    // Reads still work, and a session's own in-memory table is not Intercom: the one read-only
    // rule is about requests that write (IntercomClient::refuses).
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM scores").await,
        vec![vec!["3"]]
    );
    simple_rows(&client, "INSERT INTO scores VALUES (1)").await;
    assert_eq!(
        simple_rows(&client, "SELECT count(*) FROM scores").await,
        vec![vec!["4"]]
    );
}

#[tokio::test]
async fn local_files_are_out_of_reach_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    for sql in [
        format!("COPY (SELECT 1 AS a) TO '{}'", target.display()),
        format!("COPY scores TO '{}'", target.display()),
        "COPY scores FROM '/etc/passwd'".to_string(),
        "CREATE EXTERNAL TABLE pw (line TEXT) STORED AS CSV LOCATION '/etc/passwd'".to_string(),
    ] {
        assert_eq!(sqlstate(&client, &sql).await, "42501", "{sql}");
    }
    assert!(!target.exists());

    let allowed = serve(|o| o.allow_files = true).await;
    let client = allowed.connect().await;
    client
        .simple_query(&format!(
            "COPY (SELECT 1 AS a) TO '{}' STORED AS CSV",
            target.display()
        ))
        .await
        .expect("COPY with --allow-files");
    assert!(target.exists());
}

#[tokio::test]
async fn cancel_stops_the_scan_and_its_requests() {
    let s = serve_with(
        EmulatorConfig {
            latency: Duration::from_millis(150),
            ..EmulatorConfig::default()
        },
        |c| c.page_size = 5,
        |_| {},
    )
    .await;
    let client = s.connect().await;
    let cancel = client.cancel_token();
    let state = s.env.emulator.state.clone();
    let query = tokio::spawn(async move { client.simple_query("SELECT * FROM contacts").await });
    // Wait for the scan to be under way (200 contacts at 5 a page: 40 requests, ~6 s).
    tokio::time::timeout(Duration::from_secs(10), async {
        while state.request_count() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the scan starts");
    cancel.cancel_query(NoTls).await.expect("cancel sent");
    let result = tokio::time::timeout(Duration::from_secs(5), query)
        .await
        .expect("the query ends promptly")
        .expect("task");
    let e = result.expect_err("cancelled");
    assert_eq!(e.code(), Some(&SqlState::QUERY_CANCELED), "{e}");
    // Requests already on the wire when the cancel came (many windows read at once) may
    // still be arriving: let them land, then no new request may follow.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_cancel = state.request_count();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        state.request_count() == after_cancel,
        "requests went on after the cancel: {after_cancel} then {}",
        state.request_count()
    );
    // A whole read takes the 40 pages and the requests that find its windows.
    assert!(
        after_cancel < 40,
        "{after_cancel} requests: the scan was not stopped early"
    );
}

#[tokio::test]
async fn a_panicking_query_fails_alone() {
    let s = serve(|_| {}).await;
    let victim = s.connect().await;
    let bystander = s.connect().await;
    assert_eq!(sqlstate(&victim, "SELECT boom()").await, "XX000");
    let e = victim
        .query("SELECT boom() + $1", &[&1i64])
        .await
        .expect_err("panics");
    assert_eq!(e.code(), Some(&SqlState::INTERNAL_ERROR), "{e}");
    let message = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(message.contains("panicked"), "{message}");
    // Both connections, and new ones, carry on.
    assert_eq!(simple_rows(&victim, "SELECT 1").await, vec![vec!["1"]]);
    assert_eq!(simple_rows(&bystander, "SELECT 2").await, vec![vec!["2"]]);
    let newcomer = s.connect().await;
    assert_eq!(simple_rows(&newcomer, "SELECT 3").await, vec![vec!["3"]]);
}

#[tokio::test]
async fn too_deeply_nested_sql_is_an_error_not_a_crash() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let depth = server::RECURSION_LIMIT * 4;
    let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
    let code = sqlstate(&client, &sql).await;
    assert!(code == "54001" || code == "42601", "{code}");
    assert_eq!(simple_rows(&client, "SELECT 1").await, vec![vec!["1"]]);
}

/// Over the extended protocol, an `Execute` for all rows streams them: the first row reaches the
/// client while most of the listing is still unread (pgwire alone would collect every row
/// before sending the first).
#[tokio::test]
async fn extended_protocol_results_stream() {
    use futures::{StreamExt, pin_mut};
    use tokio_postgres::types::ToSql;
    let config = EmulatorConfig {
        contacts: 6_000,
        ..EmulatorConfig::default()
    };
    let s = serve_with(config, |_| {}, |_| {}).await;
    let client = s.connect().await;
    // Page after page, so that "pages so far" measures streaming alone.
    client
        .simple_query("SET intercom.scan = 'list'")
        .await
        .expect("set");
    s.env.emulator.state.clear_requests();
    let params: Vec<&(dyn ToSql + Sync)> = Vec::new();
    let rows = client
        .query_raw("SELECT id FROM contacts", params)
        .await
        .expect("query starts");
    pin_mut!(rows);
    let first = rows.next().await.expect("a row").expect("no error");
    assert!(!first.get::<_, &str>(0).is_empty());
    let pages_so_far = s.env.requests().len();
    // 6,000 contacts are 40 pages of 150.
    assert!(
        pages_so_far < 20,
        "the first row came after {pages_so_far} of 40 pages"
    );
    let mut count = 1;
    while let Some(row) = rows.next().await {
        row.expect("no error");
        count += 1;
    }
    assert_eq!(count, 6_000);
    assert_eq!(s.env.requests().len(), 40);
}

/// psql's Ctrl-C (SIGINT) sends a cancel request: the scan stops and psql reports the cancel.
#[tokio::test]
async fn psql_ctrl_c_cancels_a_long_scan() {
    if !psql_available() {
        return;
    }
    let s = serve_with(
        EmulatorConfig {
            latency: Duration::from_millis(150),
            ..EmulatorConfig::default()
        },
        |c| c.page_size = 5,
        |_| {},
    )
    .await;
    let addr = s.server.local_addr();
    let child = psql(addr)
        .args(["-c", "SELECT * FROM contacts"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql starts");
    let state = s.env.emulator.state.clone();
    // 200 contacts at 5 a page and 150 ms a page: the whole scan would take ~6 s.
    tokio::time::timeout(Duration::from_secs(10), async {
        while state.request_count() < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the scan starts");
    let pid = child.id().expect("psql is running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
        .await
        .expect("psql ends promptly after Ctrl-C")
        .expect("psql output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "psql should report the cancel");
    assert!(
        stderr.contains("ERROR:") && stderr.contains("cancel"),
        "{stderr}"
    );
    // Requests already on the wire when the cancel came (many windows read at once) may
    // still be arriving: let them land, then no new request may follow.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_cancel = state.request_count();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        state.request_count() == after_cancel,
        "requests went on after the cancel: {after_cancel} then {}",
        state.request_count()
    );
    // A whole read takes the 40 pages and the requests that find its windows.
    assert!(
        after_cancel < 40,
        "{after_cancel} requests: the scan was not stopped early"
    );
}

/// The statements of one simple query run one after another: a statement that fails while its
/// rows are sent stops the script, and the statements after it never run.
#[tokio::test]
async fn a_script_stops_at_the_statement_that_fails_while_running() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let id = s
        .env
        .emulator
        .state
        .snapshot("contacts")
        .into_iter()
        .find(|c| c["role"] == "user")
        .map(|c| c["id"].as_str().unwrap_or_default().to_string())
        .expect("a user");
    let script = format!("SELECT CAST(email AS BIGINT) FROM contacts; CALL ArchiveContact('{id}')");
    client
        .simple_query(&script)
        .await
        .expect_err("the cast fails at run time");
    let archive = s
        .env
        .requests()
        .into_iter()
        .filter(|r| r.contains("/archive"))
        .collect::<Vec<_>>();
    assert!(
        archive.is_empty(),
        "the CALL after the failure ran: {archive:?}"
    );
    assert_eq!(simple_rows(&client, "SELECT 1").await, vec![vec!["1"]]);
}

#[tokio::test]
async fn a_read_only_server_sends_no_write_however_it_is_asked() {
    // Only the server is read-only; the engine's own configuration is not.
    let s = serve(|options| options.read_only = true).await;
    let client = s.connect().await;
    s.env.emulator.state.clear_requests();
    for sql in [
        "UPDATE tags SET name = 'x' WHERE name = 'VIP'",
        "INSERT INTO tags (name) VALUES ('new')",
        "CALL ArchiveContact('6650d1c2e4b0a1f2c3d4e5f6')",
        "SELECT * FROM archive_contact('6650d1c2e4b0a1f2c3d4e5f6')",
        "CALL intercom_api('POST', '/tags', '{\"name\": \"x\"}')",
    ] {
        assert_eq!(sqlstate(&client, sql).await, "25006", "{sql}");
    }
    let writes: Vec<String> = s
        .env
        .requests()
        .into_iter()
        .filter(|r| !r.starts_with("GET ") && !r.ends_with("/search"))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    // Reads, including intercom_api's GET, and the session's own scratch tables still work.
    assert_eq!(
        simple_rows(&client, "SELECT count(*) > 0 FROM tags").await,
        vec![vec!["t"]]
    );
    assert_eq!(
        simple_rows(&client, "SELECT status FROM intercom_api('GET', '/me')").await,
        vec![vec!["200"]]
    );
    simple_rows(&client, "CREATE TABLE scratch AS SELECT 1 AS a").await;
    assert_eq!(
        simple_rows(&client, "SELECT a FROM scratch").await,
        vec![vec!["1"]]
    );
}

/// INSERT … RETURNING over the wire: the new id comes back as a row, with a `$1` parameter
/// through the extended protocol, and psql prints the rows and PostgreSQL's `INSERT 0 1`.
#[tokio::test]
async fn insert_returning_answers_with_rows_over_the_wire() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    let statement = client
        .prepare("INSERT INTO contacts (role, email) VALUES ('lead', $1) RETURNING id, email")
        .await
        .expect("prepares");
    assert_eq!(statement.columns().len(), 2);
    let rows = client
        .query(&statement, &[&"wire.returning@example.com"])
        .await
        .expect("runs");
    assert_eq!(rows.len(), 1);
    let id: String = rows[0].get(0);
    let created = s
        .env
        .emulator
        .state
        .snapshot("contacts")
        .into_iter()
        .find(|c| c["email"] == "wire.returning@example.com")
        .expect("created once");
    assert_eq!(created["id"].as_str(), Some(id.as_str()));
    if !psql_available() {
        return;
    }
    let addr = s.server.local_addr();
    let stdout = psql_ok(psql(addr).args([
        "-c",
        "INSERT INTO tags (name) VALUES ('From psql') RETURNING name",
    ]))
    .await;
    assert!(stdout.contains("From psql"), "{stdout}");
    assert!(stdout.lines().any(|l| l.trim() == "INSERT 0 1"), "{stdout}");
}

#[tokio::test]
async fn statement_timeout_cancels_a_slow_statement_and_the_session_goes_on() {
    let s = serve(|_| {}).await;
    let client = s.connect().await;
    client
        .simple_query("SET statement_timeout = 300")
        .await
        .unwrap();
    // Seconds of work over the in-memory rows of three contacts reads.
    let slow = "SELECT count(*) FROM contacts a, contacts b, contacts c, teams d \
                WHERE a.email || b.email || c.email || d.name LIKE '%zzz%'";
    let started = std::time::Instant::now();
    let error = client.simple_query(slow).await.unwrap_err();
    let db = error.as_db_error().expect("a server error");
    assert_eq!(db.code(), &SqlState::QUERY_CANCELED);
    assert_eq!(db.message(), "canceling statement due to statement timeout");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(simple_rows(&client, "SELECT 1").await, [["1"]]);
    client
        .simple_query("SET statement_timeout = 0")
        .await
        .unwrap();
    assert_eq!(
        simple_rows(&client, "SHOW statement_timeout").await,
        [["0"]]
    );
    // The extended protocol is bounded the same way (last: its work is seen to go on for a
    // moment after the error, which would hold up a next statement; see the notes).
    client
        .simple_query("SET statement_timeout = 300")
        .await
        .unwrap();
    let error = client.query(slow, &[]).await.unwrap_err();
    assert_eq!(error.code(), Some(&SqlState::QUERY_CANCELED));
}
