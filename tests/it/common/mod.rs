//! Shared test fixtures: an emulator on 127.0.0.1:0 and an engine pointed at it, plus helpers
//! to turn result batches into plain strings for assertions.

pub mod clauses;
pub mod frames;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use intercom_sql::emulator::{self, EmulatorConfig, RunningEmulator};
use intercom_sql::{AccessToken, Config, Engine};

/// The `intercom-sql` binary, with no token from the environment (the demo workspace unless
/// the test gives one).
pub fn intercom_sql() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
    command.env_remove("INTERCOM_ACCESS_TOKEN");
    command
}

/// Runs `command` to completion without input: exit code, stdout, stderr.
pub fn run_to_end(command: &mut std::process::Command) -> (i32, String, String) {
    let out = command
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run intercom-sql");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A process killed when the test ends, however it ends.
pub struct KillOnDrop(pub std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An emulator and an engine connected to it.
pub struct TestEnv {
    pub emulator: RunningEmulator,
    pub engine: Engine,
}

/// The default seeded workspace, default client settings.
pub async fn start() -> TestEnv {
    start_with(EmulatorConfig::default(), |_| {}).await
}

/// The ids of every object of `kind` the emulator holds (see `EmulatorState::snapshot`).
pub fn snapshot_ids(env: &TestEnv, kind: &str) -> Vec<String> {
    env.emulator
        .state
        .snapshot(kind)
        .iter()
        .map(|o| field(o, "id"))
        .collect()
}

/// A workspace from `config`, with the client configuration adjusted by `tweak`.
pub async fn start_with(config: EmulatorConfig, tweak: impl FnOnce(&mut Config)) -> TestEnv {
    let token = config.token.clone();
    let emulator = emulator::spawn(config, "127.0.0.1:0")
        .await
        .expect("emulator starts");
    let mut client_config = Config::new(emulator.base_url.clone(), AccessToken::new(token));
    // Tests exercise retries; keep their waits short.
    client_config.max_retry_wait = std::time::Duration::from_secs(2);
    tweak(&mut client_config);
    let engine = Engine::connect(client_config).expect("engine builds");
    // As the CLI does. With a bad token this fails, and the tests see the error on their query.
    let _ = engine.discover_custom_attributes().await;
    emulator.state.clear_requests();
    TestEnv { emulator, engine }
}

/// A default emulator and engine, and the PostgreSQL server over them on 127.0.0.1:0.
pub async fn start_server() -> (TestEnv, intercom_sql::server::RunningServer) {
    let env = start_with(EmulatorConfig::default(), |_| {}).await;
    let server = intercom_sql::server::start(
        env.engine.session_factory(),
        intercom_sql::server::ServerOptions::new("127.0.0.1:0"),
    )
    .await
    .expect("server starts");
    (env, server)
}

impl TestEnv {
    /// Runs SQL and returns the rows as strings (`NULL` for nulls).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let batches = self
            .engine
            .execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", e.user_message()));
        strings(&batches)
    }

    /// Runs SQL that must fail and returns the user-facing message.
    pub async fn error(&self, sql: &str) -> String {
        match self.engine.execute(sql).await {
            Ok(b) => panic!("{sql} should fail, returned {:?}", strings(&b)),
            Err(e) => e.user_message(),
        }
    }

    /// The plan `explain` (`EXPLAIN` or `EXPLAIN ANALYZE`) prints for `sql`, as one text,
    /// its lines unwrapped (`intercom.explain_width = 0`).
    pub async fn plan(&self, explain: &str, sql: &str) -> String {
        self.rows("SET intercom.explain_width = 0").await;
        self.rows(&format!("{explain} {sql}"))
            .await
            .iter()
            .map(|r| r.join(" "))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// What that plan shows of the (first) scan, on one line (see [`scan_blocks`]).
    pub async fn scan_line(&self, explain: &str, sql: &str) -> String {
        let text = self.plan(explain, sql).await;
        scan_blocks(&text)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{text}"))
    }

    /// Paths (with query strings) of the requests the emulator has served.
    pub fn requests(&self) -> Vec<String> {
        self.emulator
            .state
            .requests()
            .into_iter()
            .map(|r| match r.query {
                Some(q) if !q.is_empty() => format!("{} {}?{}", r.method, r.path, q),
                _ => format!("{} {}", r.method, r.path),
            })
            .collect()
    }
}

/// Every cell of `batches` as display strings.
pub fn strings(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formattable"))
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(row).to_string())
                    .collect(),
            );
        }
    }
    rows
}

/// A JSON field of an emulator object as the text SQL shows (`NULL` when missing or null).
pub fn field(object: &serde_json::Value, dotted: &str) -> String {
    let mut node = object;
    for key in dotted.split('.') {
        match node.get(key) {
            Some(v) => node = v,
            None => return "NULL".into(),
        }
    }
    match node {
        serde_json::Value::Null => "NULL".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Each scan of a plan's text on one line: its node line, then the lines indented under it
/// (its request, what ran, its filter and metrics), joined with single spaces:
/// `IntercomScanExec: table=tags, projection=[id] request: GET /tags (single pages)`.
pub fn scan_blocks(text: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find("IntercomScanExec") else {
            continue;
        };
        let mut block = vec![line[at..].trim_end().to_string()];
        let node = indent(line);
        for next in &lines[i + 1..] {
            if next.trim().is_empty() || indent(next) <= node || next.contains("IntercomScanExec") {
                break;
            }
            block.push(next.trim().to_string());
        }
        blocks.push(block.join(" "));
    }
    blocks
}
