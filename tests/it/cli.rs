//! The command line as scripts use it: `-c`, `-f`, `--format`, exit codes, the demo workspace,
//! connection errors, and the standalone `emulator` command serving any HTTP client.

use std::process::Stdio;
use std::time::{Duration, Instant};

use intercom_sql::emulator::{EmulatorConfig, EmulatorState};

use crate::common::{intercom_sql, run_to_end};

#[test]
fn demo_count_prints_the_seeded_number_of_contacts() {
    let seeded = EmulatorState::new(EmulatorConfig::default())
        .snapshot("contacts")
        .len();
    let (code, stdout, stderr) = run_to_end(intercom_sql().args([
        "--format",
        "csv",
        "-c",
        "SELECT count(*) AS n FROM contacts",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("n\n{seeded}\n"));
}

#[test]
fn writes_print_the_tag_their_plan_answers_with() {
    // The tag comes from the plan, not from the statement's first word: a leading comment or
    // a different case does not hide it, and a SELECT that mentions UPDATE prints rows.
    let (code, stdout, stderr) = run_to_end(intercom_sql().args([
        "-c",
        "/* tidy up */ update tags SET name = 'VIP2' WHERE name = 'VIP'; \
         SELECT 'UPDATE' AS word",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"UPDATE 1"), "{stdout}");
    assert!(stdout.contains("| word   |"), "{stdout}");
}

#[test]
fn file_statements_run_in_order_in_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.sql");
    std::fs::write(
        &path,
        "-- a view made by the first statement is seen by the second\n\
         CREATE VIEW leads AS SELECT * FROM contacts WHERE role = 'lead';\n\
         SELECT count(*) > 0 AS has_leads FROM leads;\n",
    )
    .unwrap();
    let (code, stdout, stderr) =
        run_to_end(intercom_sql().args(["--format", "json", "-f"]).arg(&path));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.trim(), r#"{"has_leads":true}"#);
}

#[test]
fn errors_are_one_line_on_stderr_with_a_nonzero_exit() {
    let (code, stdout, stderr) =
        run_to_end(intercom_sql().args(["-c", "SELECT nope FROM contacts"]));
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("Error: ") && stderr.contains("nope"),
        "{stderr}"
    );

    let (code, _, stderr) = run_to_end(intercom_sql().args(["-c", "SELECT * FROM no_such_table"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("no_such_table"), "{stderr}");

    let (code, _, stderr) =
        run_to_end(intercom_sql().args(["--base-url", "http://127.0.0.1:9", "-c", "SELECT 1"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("no access token"), "{stderr}");
}

#[test]
fn a_wrong_token_against_the_standalone_emulator_says_what_to_fix() {
    let (mut emulator, base_url) =
        standalone_emulator(&["--contacts", "25", "--token", "right-token"]);

    let (code, stdout, stderr) = run_to_end(
        intercom_sql()
            .args([
                "--base-url",
                &base_url,
                "--format",
                "csv",
                "-c",
                "SELECT count(*) AS n FROM contacts",
            ])
            .env("INTERCOM_ACCESS_TOKEN", "right-token"),
    );
    assert_eq!((code, stdout.as_str()), (0, "n\n25\n"), "{stderr}");

    let (code, _, stderr) = run_to_end(
        intercom_sql()
            .args(["--base-url", &base_url, "-c", "SELECT * FROM admins"])
            .env("INTERCOM_ACCESS_TOKEN", "wrong-secret"),
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("401 unauthorized") && stderr.contains("INTERCOM_ACCESS_TOKEN"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-secret"),
        "the token leaked: {stderr}"
    );

    // The admin path shows what was served.
    let log = get_text(&format!("{base_url}/__emulator/requests"));
    emulator.kill().ok();
    emulator.wait().ok();
    assert!(log.contains("/contacts"), "{log}");
}

/// `intercom-sql emulator` with `args` on a free port, once it accepts connections.
fn standalone_emulator(args: &[&str]) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let emulator = intercom_sql()
        .args(["emulator", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "emulator did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (emulator, format!("http://127.0.0.1:{port}"))
}

/// A GET with a throwaway runtime (the tests above are synchronous).
fn get_text(url: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

/// The `requests=` figure of `--stats`.
fn requests_of(stderr: &str) -> u64 {
    stderr
        .split("requests=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {stderr:?}"))
}

#[test]
fn a_script_discovers_the_custom_attributes_of_the_tables_it_names_only() {
    let contacts = EmulatorState::new(EmulatorConfig::default()).snapshot("contacts");
    let email = contacts
        .iter()
        .find_map(|c| c["email"].as_str())
        .expect("a contact with an email");
    // One attribute listing (contacts') and one search.
    let (code, stdout, stderr) = run_to_end(intercom_sql().args([
        "--stats",
        "--format",
        "csv",
        "-c",
        &format!("SELECT id FROM contacts WHERE email = '{email}'"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_eq!(requests_of(&stderr), 2, "{stderr}");
    // Tags have no custom attributes: the listing alone.
    let (code, _, stderr) =
        run_to_end(intercom_sql().args(["--stats", "-c", "SELECT count(*) FROM tags"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(requests_of(&stderr), 1, "{stderr}");
    // The typed columns are there for the tables named, quoted or qualified.
    let (code, stdout, stderr) = run_to_end(intercom_sql().args([
        "--format",
        "csv",
        "-c",
        "SELECT count(*) AS n FROM intercom.public.\"contacts\" \
         WHERE custom_attributes.plan_tier IS NOT NULL",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let n: usize = stdout
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    assert!(n > 0, "{stdout}");
}

#[test]
fn a_script_reuses_the_attributes_it_discovered_until_they_expire() {
    let (mut emulator, base_url) = standalone_emulator(&["--contacts", "40"]);
    let cache = tempfile::tempdir().unwrap();
    let lookup = |extra: &[&str]| {
        let (code, stdout, stderr) = run_to_end(
            intercom_sql()
                .args(["--base-url", &base_url, "--stats", "--format", "csv"])
                .args(extra)
                .args([
                    "-c",
                    "SELECT count(*) FROM contacts WHERE email = 'nobody@example.com'",
                ])
                .env("INTERCOM_ACCESS_TOKEN", "demo-token")
                .env("INTERCOM_SQL_CACHE_DIR", cache.path()),
        );
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, "count(*)\n0\n");
        requests_of(&stderr)
    };
    // The first run lists contacts' attributes and searches; the next only searches.
    assert_eq!(lookup(&[]), 2);
    assert_eq!(lookup(&[]), 1);
    // Asked to, or once the kept answer is older than the TTL, it lists them again.
    assert_eq!(lookup(&["--refresh-schema"]), 2);
    assert_eq!(lookup(&["--schema-ttl", "0"]), 2);
    std::thread::sleep(Duration::from_millis(1_100));
    assert_eq!(lookup(&["--schema-ttl", "1"]), 2);
    // The file holds attributes, never the token.
    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let kept = std::fs::read_to_string(files[0].path()).unwrap();
    assert!(
        kept.contains("plan_tier") && !kept.contains("demo-token"),
        "{kept}"
    );
    emulator.kill().ok();
    emulator.wait().ok();
}

#[test]
fn results_reach_a_file_whole_and_a_closed_pipe_quietly() {
    use std::io::Read;
    // Standard output on a regular file: the spooled result is copied whole (by the kernel's
    // file-to-file copy on Linux).
    let (_, piped, _) =
        run_to_end(intercom_sql().args(["--format", "csv", "-c", "SELECT * FROM contacts"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    let status = intercom_sql()
        .args(["--format", "csv", "-c", "SELECT * FROM contacts"])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&path).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.len() > 100_000, "{} bytes", written.len());
    // The same rows as through a pipe (partitions may end in another order).
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    assert!(
        sorted(&written) == sorted(&piped),
        "the file and the pipe differ"
    );
    // A reader that goes away after a few bytes of a result larger than a pipe holds: no
    // error, a zero exit.
    let mut child = intercom_sql()
        .args(["--format", "csv", "-c", "SELECT * FROM contacts"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    assert_eq!(&first, b"id,workspa");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
