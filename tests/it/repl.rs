//! The REPL as a user drives it: the real binary in a pseudo-terminal, in demo mode (no token,
//! so it opens the in-process emulator), with `HOME` in a temporary directory so the history
//! file goes there.

use std::process::Command;

use rexpect::process::wait::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use tempfile::TempDir;

const PROMPT: &str = "intercom> ";

/// Seconds any single expectation may take (the debug binary is slow to plan cross joins).
const TIMEOUT_MS: u64 = 60_000;

/// Starts `intercom-sql` with no arguments and waits for the first prompt.
fn start_repl() -> (PtySession, TempDir) {
    let home = tempfile::tempdir().expect("temporary HOME");
    let mut command = Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
    command
        .env_remove("INTERCOM_ACCESS_TOKEN")
        .env_remove("INTERCOM_TOKEN")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("COLUMNS", "200");
    let mut repl = spawn_command(command, Some(TIMEOUT_MS)).expect("spawn intercom-sql");
    let banner = repl.exp_string(PROMPT).expect("first prompt");
    assert!(banner.to_lowercase().contains("demo"), "banner: {banner}");
    (repl, home)
}

/// Types one line and presses Enter.
fn type_line(repl: &mut PtySession, line: &str) {
    repl.send(line).expect("send");
    repl.send("\r").expect("send Enter");
    repl.flush().expect("flush");
}

/// Sends `\q` and checks the process exits with status 0.
fn quit(mut repl: PtySession) {
    type_line(&mut repl, "\\q");
    repl.exp_eof().expect("exit after \\q");
    match repl.process().wait().expect("wait for exit") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0, "exit status"),
        other => panic!("intercom-sql did not exit normally: {other:?}"),
    }
}

#[test]
fn repl_lists_describes_queries_and_quits() {
    let (mut repl, home) = start_repl();

    type_line(&mut repl, "\\dt");
    repl.exp_string("contacts").expect("\\dt lists contacts");
    repl.exp_string(PROMPT).expect("prompt after \\dt");

    type_line(&mut repl, "\\d contacts");
    repl.exp_string("email").expect("\\d contacts shows email");
    repl.exp_string(PROMPT).expect("prompt after \\d");

    // A statement over two lines runs once the `;` arrives.
    type_line(&mut repl, "SELECT count(*)");
    type_line(&mut repl, "FROM contacts;");
    repl.exp_regex(r"\| +count\(\*\) +\|")
        .expect("count header");
    repl.exp_regex(r"\| +\d+ +\|").expect("a number");
    repl.exp_string(PROMPT).expect("prompt after the query");

    // A bad query prints one error line and the session goes on.
    type_line(&mut repl, "SELECT nosuchcolumn FROM contacts;");
    let (_, error_line) = repl.exp_regex(r"Error: [^\r\n]+").expect("error line");
    assert!(error_line.contains("nosuchcolumn"), "{error_line}");
    repl.exp_string(PROMPT).expect("prompt after the error");

    // Unknown backslash commands point to \?.
    type_line(&mut repl, "\\nope");
    repl.exp_string("\\?").expect("hint to \\?");
    repl.exp_string(PROMPT)
        .expect("prompt after unknown command");

    type_line(&mut repl, "\\format csv");
    repl.exp_string(PROMPT).expect("prompt after \\format");
    type_line(
        &mut repl,
        "SELECT email FROM contacts ORDER BY email LIMIT 2;",
    );
    repl.exp_regex(r"\r?\nemail\r?\n[^\r\n]+@")
        .expect("CSV header then an email");
    repl.exp_string(PROMPT).expect("prompt after CSV output");
    type_line(&mut repl, "\\format table");
    repl.exp_string(PROMPT)
        .expect("prompt after \\format table");

    // Tab completes a unique prefix in full: the query only runs if `tea` became `teams`.
    repl.send("SELECT count(*) AS completed FROM tea")
        .expect("send");
    repl.send("\t").expect("send Tab");
    type_line(&mut repl, ";");
    repl.exp_regex(r"\| +completed +\|")
        .expect("completed query ran");
    repl.exp_string(PROMPT)
        .expect("prompt after completed query");

    // `conta` is shared by contacts, contact_companies and contact_tags: the first Tab fills
    // in `contact`, the second lists the choices, and typing `s` picks contacts.
    repl.send("SELECT count(*) AS listed FROM conta")
        .expect("send");
    repl.send("\t").expect("send Tab");
    repl.send("\t").expect("send Tab again");
    repl.flush().expect("flush");
    repl.exp_string("contact_tags")
        .expect("second Tab lists the candidates");
    type_line(&mut repl, "s;");
    repl.exp_regex(r"\| +listed +\|")
        .expect("query on contacts ran");
    repl.exp_string(PROMPT)
        .expect("prompt after the listed query");

    quit(repl);
    let history = home.path().join(".local/share/intercom-sql/history");
    let saved = std::fs::read_to_string(&history).expect("history file written");
    assert!(saved.contains("FROM contacts;"), "history: {saved}");
}

#[test]
fn ctrl_c_cancels_a_running_query_and_keeps_the_session() {
    let (mut repl, _home) = start_repl();

    // Each extra copy of contacts multiplies the rows to count; this runs for minutes.
    type_line(
        &mut repl,
        "SELECT count(*) FROM contacts a, contacts b, contacts c, contacts d, \
         contacts e, contacts f, contacts g, contacts h;",
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    repl.send_control('c').expect("send Ctrl-C");
    repl.exp_string("query cancelled").expect("cancel notice");
    repl.exp_string(PROMPT).expect("prompt after cancel");

    // The session still works, and Ctrl-C at the prompt only clears the line.
    repl.send("SELECT 'not run'").expect("send");
    repl.send_control('c').expect("Ctrl-C at the prompt");
    // rustyline drops keys typed ahead of an interrupted line, so wait for the fresh prompt.
    repl.exp_string(PROMPT).expect("fresh prompt after Ctrl-C");
    type_line(&mut repl, "SELECT 40 + 2 AS answer;");
    let (before, _) = repl.exp_regex(r"\| 42 +\|").expect("query after cancel");
    assert!(
        !before.contains("| not run"),
        "Ctrl-C at the prompt ran the line: {before}"
    );
    repl.exp_string(PROMPT).expect("prompt");

    // Ctrl-D at an empty prompt exits cleanly.
    repl.send_control('d').expect("Ctrl-D");
    repl.exp_eof().expect("exit after Ctrl-D");
    match repl.process().wait().expect("wait for exit") {
        WaitStatus::Exited(_, code) => assert_eq!(code, 0, "exit status"),
        other => panic!("intercom-sql did not exit normally: {other:?}"),
    }
}

/// `intercom-sql -c` in demo mode, with HOME in a temporary directory.
fn one_shot(home: &TempDir, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
    command
        .args(args)
        .env_remove("INTERCOM_ACCESS_TOKEN")
        .env_remove("INTERCOM_TOKEN")
        .env("HOME", home.path());
    command
}

#[test]
fn script_runs_statements_in_order_and_stops_at_the_first_error() {
    let home = tempfile::tempdir().expect("temporary HOME");
    let output = one_shot(
        &home,
        &[
            "--format",
            "csv",
            "-c",
            "SELECT 1 AS first; SELECT nosuchcolumn FROM contacts; SELECT 3 AS third",
        ],
    )
    .output()
    .expect("run intercom-sql");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "exit status: {:?}", output.status);
    assert_eq!(stdout, "first\n1\n");
    assert!(stderr.contains("nosuchcolumn"), "stderr: {stderr}");
}

#[test]
fn script_output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;

    let home = tempfile::tempdir().expect("temporary HOME");
    let mut child = one_shot(
        &home,
        &[
            "--format",
            "csv",
            "-c",
            "SELECT a.email, b.email FROM contacts a, contacts b",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn intercom-sql");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut head = [0u8; 64];
    stdout.read_exact(&mut head).expect("first bytes");
    assert!(head.starts_with(b"email,email"));
    drop(stdout); // like `| head -c 64`
    let output = child.wait_with_output().expect("wait for intercom-sql");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "status {:?}, stderr: {stderr}",
        output.status
    );
    assert!(!stderr.contains("Error"), "stderr: {stderr}");
}

/// A long scan shows where it stands on the terminal (items, pages, requests/s, the share of
/// the total Intercom announced), and the line is erased before the result is printed.
#[test]
fn a_long_scan_shows_its_progress_then_its_result() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let config = intercom_sql::emulator::EmulatorConfig {
        latency: std::time::Duration::from_millis(25),
        ..Default::default()
    };
    let token = config.token.clone();
    let contacts = config.contacts;
    let emulator = runtime
        .block_on(intercom_sql::emulator::spawn(config, "127.0.0.1:0"))
        .expect("emulator starts");
    let home = tempfile::tempdir().expect("temporary HOME");
    let mut command = Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
    command
        .args(["--base-url", &emulator.base_url, "--max-concurrency", "2"])
        .env("INTERCOM_ACCESS_TOKEN", &token)
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("COLUMNS", "200");
    let mut repl = spawn_command(command, Some(TIMEOUT_MS)).expect("spawn intercom-sql");
    repl.exp_string(PROMPT).expect("first prompt");
    // One request per contact after the contacts' own pages: several seconds at 25 ms each.
    type_line(&mut repl, "SELECT count(*) AS tagged FROM contact_tags;");
    let (_, progress) = repl
        .exp_regex(r"[\d,]+ items read, [\d,]+ pages, \d+ requests/s, /contacts \d+% of [\d,]+")
        .expect("a progress line");
    assert!(
        progress.ends_with(&format!("of {contacts}")),
        "the share is of the contacts listed first: {progress}"
    );
    // Erased (carriage return, erase to the end of the line), then the result.
    let between = repl.exp_string("| tagged |").expect("the result");
    assert!(between.contains("\r\x1b[K"), "line not erased: {between:?}");
    repl.exp_string(PROMPT).expect("prompt");
    quit(repl);
}
