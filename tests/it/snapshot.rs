//! `intercom-sql sync`: a first sync writes each table as Parquet, an incremental one reads only
//! the rows changed since (through search) and merges them by id, a count tells deletions and a
//! whole read drops them, and a sync stopped half-way (an Intercom failure, a cancelled future)
//! is resumed without losing or duplicating rows. Everything compares the snapshot, attached as
//! the schema `snapshot`, with the live tables row by row.

use std::path::Path;
use std::sync::Arc;

use intercom_sql::emulator::{EmulatorConfig, Fault, FaultRule};
use intercom_sql::snapshot::{self, Progress, Read, SyncOptions, SyncReport, Why};

use crate::common::{TestEnv, start_with};

fn quiet() -> SyncOptions {
    SyncOptions::default()
}

async fn sync(env: &TestEnv, dir: &Path, tables: &[&str], options: &SyncOptions) -> SyncReport {
    let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    snapshot::sync(&env.engine, dir, &tables, options)
        .await
        .unwrap_or_else(|e| panic!("sync: {}", e.user_message()))
}

/// Requests the emulator served while `sync` ran.
async fn sync_counted(
    env: &TestEnv,
    dir: &Path,
    tables: &[&str],
    options: &SyncOptions,
) -> (SyncReport, usize) {
    env.emulator.state.clear_requests();
    let report = sync(env, dir, tables, options).await;
    (report, env.emulator.state.request_count())
}

fn table<'a>(report: &'a SyncReport, name: &str) -> &'a snapshot::TableSync {
    report
        .synced
        .iter()
        .find(|t| t.table == name)
        .unwrap_or_else(|| panic!("{name} not synced: {report:?}"))
}

/// The snapshot's copy of `name` is the live table: the same rows, every column, and one row
/// per id.
async fn assert_same_as_live(env: &TestEnv, name: &str) {
    assert_same_columns_as_live(env, name, "*").await;
}

/// [`assert_same_as_live`] on the columns `columns` selects.
async fn assert_same_columns_as_live(env: &TestEnv, name: &str, columns: &str) {
    let live = env
        .rows(&format!("SELECT {columns} FROM {name} ORDER BY id"))
        .await;
    let copy = env
        .rows(&format!(
            "SELECT {columns} FROM snapshot.{name} ORDER BY id"
        ))
        .await;
    assert!(!live.is_empty(), "{name} has rows");
    assert_eq!(copy.len(), live.len(), "{name}: rows");
    for (row, (c, l)) in copy.iter().zip(&live).enumerate() {
        assert_eq!(c, l, "{name}: row {row} (id {})", l[0]);
    }
    let counts = env
        .rows(&format!(
            "SELECT count(*), count(DISTINCT id) FROM snapshot.{name}"
        ))
        .await;
    assert_eq!(counts[0][0], counts[0][1], "{name}: one row per id");
}

async fn start_env(contacts: usize) -> TestEnv {
    start_with(
        EmulatorConfig {
            contacts,
            ..EmulatorConfig::default()
        },
        |config| config.max_retries = 1,
    )
    .await
}

fn parquet_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet") || n.ends_with(".partial"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_sync_writes_each_table_and_attaches_next_to_the_live_tables() {
    let env = start_env(200).await;
    let dir = tempfile::tempdir().unwrap();
    let report = sync(
        &env,
        dir.path(),
        &["contacts", "companies", "conversations", "tags"],
        &quiet(),
    )
    .await;
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        parquet_files(dir.path()),
        [
            "companies.parquet",
            "contacts.parquet",
            "conversations.parquet",
            "tags.parquet"
        ]
    );
    let contacts = table(&report, "contacts");
    assert_eq!(contacts.reads, [Read::Whole(Why::First)]);
    assert_eq!(
        (contacts.rows, contacts.added, contacts.deleted),
        (200, 200, 0)
    );

    // The state file records each table's rows and when its read started.
    let state = snapshot::SnapshotState::load(dir.path()).unwrap().unwrap();
    assert_eq!(state.tables["contacts"].rows, 200);
    assert_eq!(state.tables["contacts"].file, "contacts.parquet");
    assert_eq!(
        state.tables["contacts"].watermark,
        state.tables["contacts"].last_full_read
    );
    assert!(!state.workspace.is_empty());

    snapshot::attach(env.engine.context(), dir.path()).unwrap();
    for name in ["contacts", "companies", "conversations", "tags"] {
        assert_same_as_live(&env, name).await;
        let live = env.rows(&format!("SELECT count(*) FROM {name}")).await;
        let copy = env
            .rows(&format!("SELECT count(*) FROM snapshot.{name}"))
            .await;
        assert_eq!(copy, live, "{name}: count(*)");
    }
    // The snapshot joins the live tables, and answers as the live contacts would.
    let join = "SELECT c.email, cv.id, cv.state FROM {contacts} c \
                JOIN conversation_contacts cc ON cc.contact_id = c.id \
                JOIN conversations cv ON cv.id = cc.conversation_id ORDER BY cv.id, c.email";
    let from_snapshot = env
        .rows(&join.replace("{contacts}", "snapshot.contacts"))
        .await;
    assert!(from_snapshot.len() >= 50, "{}", from_snapshot.len());
    assert_eq!(
        from_snapshot,
        env.rows(&join.replace("{contacts}", "contacts")).await
    );
    // Custom attributes are columns of the copy too.
    let tiers = env
        .rows(
            "SELECT count(*) FROM snapshot.contacts WHERE \"custom_attributes.plan_tier\" IS NOT NULL",
        )
        .await;
    assert_ne!(tiers[0][0], "0");
    let tables = env
        .rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'snapshot' ORDER BY 1")
        .await;
    assert_eq!(
        tables,
        [["companies"], ["contacts"], ["conversations"], ["tags"]]
    );
}

#[tokio::test]
async fn a_re_sync_reads_only_the_changed_rows_and_a_count_catches_deletions() {
    let env = start_env(3_000).await;
    let dir = tempfile::tempdir().unwrap();
    let (first, first_requests) =
        sync_counted(&env, dir.path(), &["contacts", "companies"], &quiet()).await;
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    snapshot::attach(env.engine.context(), dir.path()).unwrap();

    // The incremental read is a search on updated_at widened to whole days, re-checked
    // exactly by the scan.
    let plan = env
        .plan(
            "EXPLAIN",
            "SELECT * FROM contacts WHERE updated_at >= TIMESTAMP '2026-06-01T12:00:00Z'",
        )
        .await;
    assert!(plan.contains("POST /contacts/search"), "{plan}");
    assert!(
        plan.contains(r#""field":"updated_at","operator":">""#),
        "{plan}"
    );
    assert!(plan.contains("filter: updated_at@"), "{plan}");

    // Change some contacts and add one.
    let ids: Vec<String> = env
        .rows("SELECT id FROM contacts ORDER BY id LIMIT 20")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let list = ids
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    env.rows(&format!(
        "UPDATE contacts SET name = 'Synced Again' WHERE id IN ({list})"
    ))
    .await;
    env.rows(
        "INSERT INTO contacts (role, email, name) VALUES ('lead', 'new@snapshot.test', 'New')",
    )
    .await;

    let (again, again_requests) =
        sync_counted(&env, dir.path(), &["contacts", "companies"], &quiet()).await;
    assert!(again.failed.is_empty(), "{:?}", again.failed);
    let contacts = table(&again, "contacts");
    assert!(
        matches!(contacts.reads.as_slice(), [Read::Changed { .. }]),
        "{contacts:?}"
    );
    assert_eq!(contacts.rows_read, 21);
    assert_eq!(
        (
            contacts.replaced,
            contacts.added,
            contacts.deleted,
            contacts.rows
        ),
        (20, 1, 0, 3_001)
    );
    // The search, and the count that shows nothing was deleted.
    // The search, the lists it completes (a contact's notes, tags and companies beyond the
    // 10 Intercom embeds) and the count that shows nothing was deleted.
    let first_contacts = table(&first, "contacts").requests;
    assert!(
        contacts.requests * 5 <= first_contacts,
        "{contacts:?}: {} requests, first sync {first_contacts}",
        contacts.requests
    );
    assert!(
        again_requests * 3 <= first_requests,
        "re-sync {again_requests} requests, first {first_requests}"
    );
    // Companies have no search on updated_at: read whole again.
    assert_eq!(
        table(&again, "companies").reads,
        [Read::Whole(Why::NotIncremental)]
    );
    let renamed = env
        .rows("SELECT count(*) FROM snapshot.contacts WHERE name = 'Synced Again'")
        .await;
    assert_eq!(renamed, [["20"]]);
    let added = env
        .rows("SELECT name FROM snapshot.contacts WHERE email = 'new@snapshot.test'")
        .await;
    assert_eq!(added, [["New"]]);
    assert_same_as_live(&env, "contacts").await;

    // A deletion: Intercom's count falls below the snapshot's, so the table is read whole and
    // the deleted contact dropped.
    let gone = ids[3].clone();
    env.rows(&format!("DELETE FROM contacts WHERE id = '{gone}'"))
        .await;
    let (third, _) = sync_counted(&env, dir.path(), &["contacts"], &quiet()).await;
    let contacts = table(&third, "contacts");
    assert!(
        matches!(
            contacts.reads.as_slice(),
            [Read::Changed { .. }, Read::Whole(Why::Deletions)]
        ),
        "{contacts:?}"
    );
    assert_eq!((contacts.deleted, contacts.rows), (1, 3_000));
    let found = env
        .rows(&format!(
            "SELECT count(*) FROM snapshot.contacts WHERE id = '{gone}'"
        ))
        .await;
    assert_eq!(found, [["0"]]);
    assert_same_as_live(&env, "contacts").await;

    // A whole read on schedule, and on request.
    let scheduled = SyncOptions {
        full_every: std::time::Duration::from_millis(1),
        ..quiet()
    };
    let fourth = sync(&env, dir.path(), &["contacts"], &scheduled).await;
    assert_eq!(
        table(&fourth, "contacts").reads,
        [Read::Whole(Why::Scheduled)]
    );
    let full = SyncOptions {
        full: true,
        ..quiet()
    };
    let fifth = sync(&env, dir.path(), &["contacts"], &full).await;
    let contacts = table(&fifth, "contacts");
    assert_eq!(contacts.reads, [Read::Whole(Why::Asked)]);
    assert_eq!((contacts.added, contacts.deleted), (0, 0));
    assert_same_as_live(&env, "contacts").await;
}

fn fault(path_prefix: &str, fault: Fault, count: u32) -> FaultRule {
    FaultRule {
        path_prefix: Some(path_prefix.to_string()),
        method: None,
        fault,
        count,
    }
}

#[tokio::test]
async fn an_interrupted_sync_is_resumed_without_losing_or_duplicating_rows() {
    let env = start_env(1_000).await;
    let dir = tempfile::tempdir().unwrap();
    let tables = ["companies", "contacts", "conversations"];

    // A first sync that fails in the middle of contacts (a few pages through, then 500s):
    // the other tables are synced, contacts has no file yet.
    env.emulator.state.inject(fault(
        "/contacts",
        Fault::Slow(std::time::Duration::ZERO),
        3,
    ));
    env.emulator
        .state
        .inject(fault("/contacts", Fault::Status(500), 1_000));
    let broken = sync(&env, dir.path(), &tables, &quiet()).await;
    assert_eq!(broken.failed.len(), 1, "{:?}", broken.failed);
    assert_eq!(broken.failed[0].0, "contacts");
    assert!(broken.failed[0].1.contains("500"), "{}", broken.failed[0].1);
    assert_eq!(broken.synced.len(), 2);
    let state = snapshot::SnapshotState::load(dir.path()).unwrap().unwrap();
    assert!(!state.tables.contains_key("contacts"));
    assert!(!dir.path().join("contacts.parquet").exists());
    env.emulator.state.clear_faults();

    // Resumed: contacts is read, the others only brought up to date.
    let resumed = sync(&env, dir.path(), &tables, &quiet()).await;
    assert!(resumed.failed.is_empty(), "{:?}", resumed.failed);
    assert_eq!(table(&resumed, "contacts").reads, [Read::Whole(Why::First)]);
    assert!(matches!(
        table(&resumed, "conversations").reads.as_slice(),
        [Read::Changed { .. }]
    ));
    snapshot::attach(env.engine.context(), dir.path()).unwrap();
    for name in tables {
        assert_same_as_live(&env, name).await;
    }

    // Contacts change, then a whole re-read fails half-way: the snapshot keeps the
    // previous version, whole and consistent, and its state is unchanged.
    let before = snapshot::SnapshotState::load(dir.path()).unwrap().unwrap();
    let ids: Vec<String> = env
        .rows("SELECT id FROM contacts ORDER BY id")
        .await
        .into_iter()
        .map(|r| format!("'{}'", r[0]))
        .collect();
    env.rows(&format!(
        "UPDATE contacts SET name = 'After The Failure' WHERE id IN ({})",
        ids[..5].join(", ")
    ))
    .await;
    env.rows(&format!("DELETE FROM contacts WHERE id = {}", ids[999]))
        .await;
    env.emulator.state.inject(fault(
        "/contacts",
        Fault::Slow(std::time::Duration::ZERO),
        2,
    ));
    env.emulator
        .state
        .inject(fault("/contacts", Fault::Status(503), 1_000));
    let full = SyncOptions {
        full: true,
        ..quiet()
    };
    let broken = sync(&env, dir.path(), &["contacts"], &full).await;
    assert_eq!(broken.failed.len(), 1, "{:?}", broken.failed);
    let after = snapshot::SnapshotState::load(dir.path()).unwrap().unwrap();
    assert_eq!(after.tables["contacts"], before.tables["contacts"]);
    let old = env
        .rows("SELECT count(*), count(DISTINCT id) FROM snapshot.contacts")
        .await;
    assert_eq!(old, [["1000", "1000"]]);
    let renamed = env
        .rows("SELECT count(*) FROM snapshot.contacts WHERE name = 'After The Failure'")
        .await;
    assert_eq!(renamed, [["0"]]);
    env.emulator.state.clear_faults();

    // Cancelled: the future is dropped once the first table is synced, while the second is
    // being read. The next sync finishes it.
    let first_done = Arc::new(tokio::sync::Notify::new());
    let signal = first_done.clone();
    let cancelling = SyncOptions {
        progress: Some(Arc::new(move |progress: &Progress<'_>| {
            if let Progress::Synced(_) = progress {
                signal.notify_one();
            }
        })),
        ..quiet()
    };
    let order = ["conversations", "contacts", "companies"];
    let names: Vec<String> = order.iter().map(|t| t.to_string()).collect();
    tokio::select! {
        report = snapshot::sync(&env.engine, dir.path(), &names, &cancelling) => {
            panic!("the sync should have been cancelled: {report:?}")
        }
        _ = first_done.notified() => {}
    }
    let last = sync(&env, dir.path(), &order, &quiet()).await;
    assert!(last.failed.is_empty(), "{:?}", last.failed);
    assert_same_as_live(&env, "contacts").await;
    assert_same_as_live(&env, "companies").await;
    // A conversation embeds its company as it is now (its user_count went down with the
    // deleted contact) without its own updated_at moving: an incremental read cannot see
    // that, a whole read (scheduled, or --full) does.
    assert_same_columns_as_live(&env, "conversations", "* EXCLUDE (company)").await;
    let renamed = env
        .rows("SELECT count(*) FROM snapshot.contacts WHERE name = 'After The Failure'")
        .await;
    assert_eq!(renamed, [["5"]]);
    // No partial file is left behind.
    assert_eq!(
        parquet_files(dir.path()),
        [
            "companies.parquet",
            "contacts.parquet",
            "conversations.parquet"
        ]
    );
}

#[tokio::test]
async fn mistakes_are_one_line_errors_naming_what_to_fix() {
    let env = start_env(20).await;
    let dir = tempfile::tempdir().unwrap();
    let error = |tables: &[&str]| {
        let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
        let engine = &env.engine;
        let path = dir.path().to_path_buf();
        async move {
            snapshot::sync(engine, &path, &tables, &quiet())
                .await
                .map(|_| ())
                .unwrap_err()
                .user_message()
        }
    };
    assert_eq!(
        error(&["contacs"]).await,
        "no Intercom table 'contacs' to sync; did you mean contacts?"
    );
    assert!(
        error(&["visitors"])
            .await
            .starts_with("cannot sync visitors: Intercom reads it only by key, never whole"),
    );
    // Nothing was read or written for a refused list.
    assert_eq!(env.emulator.state.request_count(), 0);
    assert!(!dir.path().join(snapshot::STATE_FILE).exists());

    std::fs::write(dir.path().join(snapshot::STATE_FILE), "{not json").unwrap();
    let message = error(&["tags"]).await;
    assert!(
        message.contains("snapshot.json is not a readable snapshot state file")
            && message.ends_with("to sync every table whole again"),
        "{message}"
    );
    let attach = snapshot::attach(env.engine.context(), &dir.path().join("missing"))
        .unwrap_err()
        .user_message();
    assert!(
        attach.contains("missing holds no snapshot: write one with intercom-sql sync --to"),
        "{attach}"
    );

    // Another workspace's snapshot is not merged into.
    std::fs::write(
        dir.path().join(snapshot::STATE_FILE),
        r#"{"format": 1, "base_url": "https://api.intercom.io", "workspace": "other", "tables": {}}"#,
    )
    .unwrap();
    let message = error(&["tags"]).await;
    assert!(
        message.contains("holds a snapshot of workspace other")
            && message.ends_with("sync into another directory"),
        "{message}"
    );
}

/// `intercom-sql ARGS` run to completion: exit code, stdout, stderr.
fn run_cli(args: &[&str]) -> (i32, String, String) {
    crate::common::run_to_end(crate::common::intercom_sql().args(args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_syncs_and_the_shell_and_server_attach_the_snapshot() {
    let env = start_env(300).await;
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().to_string_lossy().into_owned();
    let url = env.emulator.base_url.clone();
    let connection = ["--base-url", url.as_str(), "--token", "demo-token"];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(connection.iter())
            .map(|a| a.to_string())
            .collect()
    };
    let cli = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            run_cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
    };

    let (code, _, stderr) = cli(with(&["sync", "--to", &to, "contacts", "tags"]))
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("contacts: whole (first sync): 300 read, 0 replaced, 300 added"),
        "{stderr}"
    );
    assert!(stderr.contains("synced 2 of 2 tables into"), "{stderr}");
    let (code, _, stderr) = cli(with(&["sync", "--to", &to, "contacts", "--quiet"]))
        .await
        .unwrap();
    assert_eq!((code, stderr.as_str()), (0, ""));

    let (code, _, stderr) = cli(with(&["sync", "--to", &to, "contacs"])).await.unwrap();
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "Error: no Intercom table 'contacs' to sync; did you mean contacts?\n"
    );

    // The shell and -c: the snapshot next to the live tables.
    let join = "SELECT count(*) AS n FROM snapshot.contacts c JOIN contacts l ON l.id = c.id \
                AND l.email IS NOT DISTINCT FROM c.email";
    let (code, stdout, stderr) = cli(with(&["--snapshot", &to, "--format", "csv", "-c", join]))
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "n\n300\n");

    // serve --snapshot: every connection's session has it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let server = crate::common::KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"))
            .env_remove("INTERCOM_ACCESS_TOKEN")
            .args(with(&["serve", "--listen", &listen, "--snapshot", &to]))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("host=127.0.0.1 port={port} user=analyst dbname=intercom");
    let mut client = None;
    for _ in 0..200 {
        if let Ok((c, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            tokio::spawn(connection);
            client = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let client = client.expect("the server listens");
    let rows = client
        .simple_query(
            "SELECT count(*) FROM snapshot.contacts c JOIN tags t ON true WHERE t.name = 'VIP'",
        )
        .await
        .unwrap();
    let count = rows
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
            _ => None,
        })
        .unwrap();
    assert_eq!(count, "300");
    drop(server);

    // A directory without a snapshot is refused before anything starts.
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_string_lossy().into_owned();
    let (code, _, stderr) = cli(with(&["--snapshot", &empty, "-c", "SELECT 1"]))
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        format!(
            "Error: {empty} holds no snapshot: write one with intercom-sql sync --to {empty}\n"
        )
    );
}
