//! Hostile bytes on the wire against `serve`: malformed frames, text that is not UTF-8,
//! oversized messages, odd `Execute` row limits, too many connections, clients that never
//! finish logging in, and probes for which users exist. Each case speaks the protocol by hand
//! over a raw socket; after each one the server must still answer a fresh `SELECT 1`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use intercom_sql::emulator::EmulatorConfig;
use intercom_sql::server::{self, Credentials, RunningServer, ServerOptions, TlsFiles};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::common::frames::{cstr, frame, startup};
use crate::common::{TestEnv, start_with};

/// An emulator, an engine and a server over it.
struct Served {
    _env: TestEnv,
    server: RunningServer,
}

async fn serve(tweak: impl FnOnce(&mut ServerOptions)) -> Served {
    serve_with(EmulatorConfig::default(), |_| {}, tweak).await
}

async fn serve_with(
    emulator: EmulatorConfig,
    client: impl FnOnce(&mut intercom_sql::Config),
    tweak: impl FnOnce(&mut ServerOptions),
) -> Served {
    let env = start_with(emulator, client).await;
    let mut options = ServerOptions::new("127.0.0.1:0");
    tweak(&mut options);
    let server = server::start(env.engine.session_factory(), options)
        .await
        .expect("server starts");
    Served { _env: env, server }
}

/// The configured login of the servers with authentication.
fn analyst() -> Credentials {
    Credentials {
        user: "analyst".into(),
        password: "correct horse".into(),
    }
}

impl Served {
    fn url(&self, user: &str) -> String {
        let addr = self.server.local_addr();
        format!(
            "host={} port={} user={user} dbname=intercom",
            addr.ip(),
            addr.port()
        )
    }

    async fn connect(&self) -> Result<Client, tokio_postgres::Error> {
        connect(&self.url("tester")).await
    }

    /// A raw connection, logged in (no authentication), ready for queries.
    async fn wire(&self) -> Wire<TcpStream> {
        let mut wire = Wire::open(&self.server).await;
        wire.send(&startup(&[("user", "tester"), ("database", "intercom")]))
            .await;
        wire.until(b'Z').await;
        wire
    }

    /// A fresh connection still answers `SELECT 1`.
    async fn assert_alive(&self, after: &str) {
        let client = self
            .connect()
            .await
            .unwrap_or_else(|e| panic!("after {after}: cannot connect: {e}"));
        assert_eq!(value(&client, "SELECT 1").await, "1", "after {after}");
    }
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The first column of the first row.
async fn value(client: &Client, sql: &str) -> String {
    let messages = client
        .simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    messages
        .iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or("NULL").to_string()),
            _ => None,
        })
        .expect("a row")
}

// ---- the protocol by hand ----

/// A frame whose length field says `length`, whatever follows.
fn header(tag: u8, length: i32) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(&length.to_be_bytes());
    out
}

fn query(sql: &[u8]) -> Vec<u8> {
    frame(b'Q', &cstr(sql))
}

fn parse(sql: &[u8]) -> Vec<u8> {
    let mut body = cstr(b"");
    body.extend(cstr(sql));
    body.extend(0i16.to_be_bytes());
    frame(b'P', &body)
}

/// A Bind of the unnamed statement to the unnamed portal.
fn bind(formats: &[i16], parameters: &[Option<&[u8]>], results: &[i16]) -> Vec<u8> {
    let mut body = cstr(b"");
    body.extend(cstr(b""));
    body.extend((formats.len() as i16).to_be_bytes());
    for f in formats {
        body.extend(f.to_be_bytes());
    }
    body.extend((parameters.len() as i16).to_be_bytes());
    for p in parameters {
        match p {
            Some(bytes) => {
                body.extend((bytes.len() as i32).to_be_bytes());
                body.extend_from_slice(bytes);
            }
            None => body.extend((-1i32).to_be_bytes()),
        }
    }
    body.extend((results.len() as i16).to_be_bytes());
    for r in results {
        body.extend(r.to_be_bytes());
    }
    frame(b'B', &body)
}

fn execute(max_rows: i32) -> Vec<u8> {
    let mut body = cstr(b"");
    body.extend(max_rows.to_be_bytes());
    frame(b'E', &body)
}

fn sync() -> Vec<u8> {
    frame(b'S', b"")
}

/// A backend message.
#[derive(Debug)]
struct Message {
    tag: u8,
    body: Vec<u8>,
}

/// The fields of an ErrorResponse.
#[derive(Debug)]
struct ServerError {
    severity: String,
    code: String,
    message: String,
}

impl Message {
    fn error(&self) -> ServerError {
        assert_eq!(self.tag, b'E', "not an error: {self:?}");
        let mut error = ServerError {
            severity: String::new(),
            code: String::new(),
            message: String::new(),
        };
        for field in self.body.split(|b| *b == 0).filter(|f| !f.is_empty()) {
            let text = String::from_utf8_lossy(&field[1..]).into_owned();
            match field[0] {
                // 'V' is the untranslated severity; pgwire sends only 'S'.
                b'S' | b'V' => error.severity = text,
                b'C' => error.code = text,
                b'M' => error.message = text,
                _ => {}
            }
        }
        error
    }
}

/// A raw protocol connection.
struct Wire<S> {
    stream: S,
}

impl Wire<TcpStream> {
    async fn open(server: &RunningServer) -> Self {
        Wire {
            stream: TcpStream::connect(server.local_addr())
                .await
                .expect("connects"),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("sends");
    }

    /// The next message; `None` once the server has closed the connection.
    async fn recv(&mut self) -> Option<Message> {
        let read = async {
            let mut head = [0u8; 5];
            if self.stream.read_exact(&mut head).await.is_err() {
                return None;
            }
            let length = i32::from_be_bytes([head[1], head[2], head[3], head[4]]);
            let mut body = vec![0; length as usize - 4];
            self.stream.read_exact(&mut body).await.ok()?;
            Some(Message { tag: head[0], body })
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the server answers within 10 s")
    }

    /// Messages up to and including the first one tagged `tag`.
    async fn until(&mut self, tag: u8) -> Vec<Message> {
        let mut messages = Vec::new();
        loop {
            let message = self
                .recv()
                .await
                .unwrap_or_else(|| panic!("closed before '{}': {messages:?}", char::from(tag)));
            let done = message.tag == tag;
            messages.push(message);
            if done {
                return messages;
            }
        }
    }

    /// The next ErrorResponse.
    async fn error(&mut self) -> ServerError {
        self.until(b'E').await.pop().expect("an error").error()
    }

    /// The server closes the connection (after at most a few more messages).
    async fn closed(&mut self) {
        for _ in 0..10 {
            match self.recv().await {
                None => return,
                Some(m) => assert!(
                    !matches!(m.tag, b'D' | b'C' | b'Z'),
                    "served after a fatal error: {m:?}"
                ),
            }
        }
        panic!("the connection stays open");
    }

    /// Runs `sql` over the simple protocol and returns the first column of the first row.
    async fn value(&mut self, sql: &str) -> String {
        self.send(&query(sql.as_bytes())).await;
        let messages = self.until(b'Z').await;
        let row = messages
            .iter()
            .find(|m| m.tag == b'D')
            .unwrap_or_else(|| panic!("{sql}: no row in {messages:?}"));
        // Column count (2), then the first column's length (4) and bytes.
        let length = i32::from_be_bytes([row.body[2], row.body[3], row.body[4], row.body[5]]);
        String::from_utf8_lossy(&row.body[6..6 + length as usize]).into_owned()
    }
}

// ---- malformed frames ----

#[tokio::test]
async fn malformed_frames_get_a_fatal_08p01_and_a_clean_close() {
    let s = serve(|_| {}).await;
    let mut parse_negative_count = cstr(b"");
    parse_negative_count.extend(cstr(b"SELECT 1"));
    parse_negative_count.extend((-1i16).to_be_bytes());
    let mut bind_claims_a_gigabyte = cstr(b"");
    bind_claims_a_gigabyte.extend(cstr(b""));
    bind_claims_a_gigabyte.extend(0i16.to_be_bytes());
    bind_claims_a_gigabyte.extend(1i16.to_be_bytes());
    bind_claims_a_gigabyte.extend((1i32 << 30).to_be_bytes());
    bind_claims_a_gigabyte.extend(b"abc");
    bind_claims_a_gigabyte.extend(0i16.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "Parse with a negative type count",
            frame(b'P', &parse_negative_count),
        ),
        (
            "Bind claiming 2^30 bytes",
            frame(b'B', &bind_claims_a_gigabyte),
        ),
        ("Close with an empty body", frame(b'C', b"")),
        ("Describe with an empty body", frame(b'D', b"")),
        ("Describe of a bad target", frame(b'D', b"X\0")),
        ("Execute with a short body", frame(b'E', b"\0\0")),
        ("CopyData with length 2", header(b'd', 2)),
        ("PasswordMessage with length 0", header(b'p', 0)),
        ("Query with a negative length", header(b'Q', -1)),
        (
            "Query with bytes after its text",
            frame(b'Q', b"SELECT 1\0junk"),
        ),
        ("Sync with a body", frame(b'S', b"x")),
        ("an unknown message type", frame(b'F', b"")),
        (
            "Bind with 3 formats for 2 parameters",
            bind(&[0, 0, 0], &[Some(b"1"), Some(b"2")], &[]),
        ),
    ];
    for (case, bytes) in cases {
        let mut wire = s.wire().await;
        wire.send(&bytes).await;
        let e = wire.error().await;
        assert_eq!(
            (e.severity.as_str(), e.code.as_str()),
            ("FATAL", "08P01"),
            "{case}: {e:?}"
        );
        if case.starts_with("Bind with 3") {
            assert_eq!(
                e.message,
                "invalid message format: bind message has 3 parameter formats but 2 parameters"
            );
        }
        wire.closed().await;
        s.assert_alive(case).await;
    }
}

#[tokio::test]
async fn malformed_startup_packets_get_08p01() {
    let s = serve(|_| {}).await;
    let mut no_terminator = startup(&[("user", "tester")]);
    no_terminator.pop();
    let length = no_terminator.len() as i32;
    no_terminator[..4].copy_from_slice(&length.to_be_bytes());
    // A length and a protocol code: the 8 bytes the server looks at first.
    let claimed = |length: i32| [length.to_be_bytes(), 196_608i32.to_be_bytes()].concat();
    for (case, bytes) in [
        ("a startup packet without its terminator", no_terminator),
        ("a startup packet of 4 bytes", claimed(4)),
        ("a startup packet of 1 MiB", claimed(1 << 20)),
    ] {
        let mut wire = Wire::open(&s.server).await;
        wire.send(&bytes).await;
        let e = wire.error().await;
        assert_eq!(
            (e.severity.as_str(), e.code.as_str()),
            ("FATAL", "08P01"),
            "{case}: {e:?}"
        );
        wire.closed().await;
        s.assert_alive(case).await;
    }
}

#[tokio::test]
async fn statement_text_not_in_utf8_is_22021_and_the_session_goes_on() {
    let s = serve(|_| {}).await;
    let mut wire = s.wire().await;
    wire.send(&query(b"SELECT '\xc3\x28'")).await;
    let messages = wire.until(b'Z').await;
    let e = messages[0].error();
    assert_eq!((e.severity.as_str(), e.code.as_str()), ("ERROR", "22021"));
    assert_eq!(
        e.message,
        "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28"
    );
    assert_eq!(wire.value("SELECT 1").await, "1");

    // Parse: the extended protocol's error path, skipping to Sync.
    wire.send(&parse(b"SELECT '\xc3\x28'")).await;
    wire.send(&bind(&[], &[], &[])).await;
    wire.send(&execute(0)).await;
    wire.send(&sync()).await;
    let messages = wire.until(b'Z').await;
    let tags: Vec<u8> = messages.iter().map(|m| m.tag).collect();
    assert_eq!(tags, b"EZ", "{messages:?}");
    assert_eq!(messages[0].error().code, "22021");
    assert_eq!(wire.value("SELECT 2").await, "2");
}

#[tokio::test]
async fn messages_past_the_limit_get_54000() {
    let s = serve(|o| o.max_message_bytes = 1 << 20).await;
    // Refused on the header: the server reads nothing of the claimed megabytes.
    for (case, bytes) in [
        ("a Query claiming 2 MiB", header(b'Q', 2 << 20)),
        ("a Bind claiming 1 GiB", header(b'B', 1 << 30)),
        ("a CopyData claiming i32::MAX", header(b'd', i32::MAX)),
    ] {
        let mut wire = s.wire().await;
        wire.send(&bytes).await;
        let e = wire.error().await;
        assert_eq!(
            (e.severity.as_str(), e.code.as_str()),
            ("FATAL", "54000"),
            "{case}: {e:?}"
        );
        assert!(
            e.message.starts_with("message too long: ")
                && e.message
                    .ends_with("the limit is 1048576 bytes (--max-message-bytes)"),
            "{case}: {}",
            e.message
        );
        wire.closed().await;
        s.assert_alive(case).await;
    }
    // Just under the limit is fine.
    let mut wire = s.wire().await;
    let padding = " ".repeat((1 << 20) - 64);
    assert_eq!(wire.value(&format!("SELECT 7{padding}")).await, "7");
}

#[tokio::test]
async fn a_result_format_count_that_does_not_match_the_columns_is_an_error() {
    let s = serve(|_| {}).await;
    let mut wire = s.wire().await;
    wire.send(&parse(b"SELECT 1 AS a, 2 AS b, 3 AS c")).await;
    wire.send(&bind(&[], &[], &[0, 0])).await;
    wire.send(&frame(b'D', b"P\0")).await;
    wire.send(&execute(0)).await;
    wire.send(&sync()).await;
    let messages = wire.until(b'Z').await;
    let tags: Vec<u8> = messages.iter().map(|m| m.tag).collect();
    assert_eq!(tags, b"1EZ", "{messages:?}");
    let e = messages[1].error();
    assert_eq!(
        (e.severity.as_str(), e.code.as_str()),
        ("ERROR", "08P01"),
        "{e:?}"
    );
    assert_eq!(
        e.message,
        "bind message has 2 result formats but query has 3 columns"
    );
    // One format per column works.
    wire.send(&bind(&[], &[], &[0, 0, 0])).await;
    wire.send(&execute(0)).await;
    wire.send(&sync()).await;
    let tags: Vec<u8> = wire.until(b'Z').await.iter().map(|m| m.tag).collect();
    assert_eq!(tags, b"2DCZ");
    assert_eq!(wire.value("SELECT 1").await, "1");
}

#[tokio::test]
async fn a_bare_show_is_a_syntax_error() {
    let s = serve(|_| {}).await;
    let client = s.connect().await.expect("connects");
    let e = client.simple_query("SHOW").await.expect_err("refused");
    assert_eq!(e.code(), Some(&SqlState::SYNTAX_ERROR), "{e}");
    let e = client.prepare("SHOW").await.expect_err("refused");
    assert_eq!(e.code(), Some(&SqlState::SYNTAX_ERROR), "{e}");
    assert_eq!(value(&client, "SELECT 1").await, "1");
}

// ---- Execute row limits ----

/// Rows and the tags of the messages up to ReadyForQuery.
async fn rows_until_ready(wire: &mut Wire<TcpStream>) -> (usize, Vec<u8>) {
    let messages = wire.until(b'Z').await;
    let rows = messages.iter().filter(|m| m.tag == b'D').count();
    let tags = messages
        .iter()
        .map(|m| m.tag)
        .filter(|t| *t != b'D')
        .collect();
    (rows, tags)
}

#[tokio::test]
async fn execute_with_a_negative_or_huge_row_limit_returns_every_row() {
    let s = serve(|_| {}).await;
    let mut wire = s.wire().await;
    for max_rows in [-1, -7, 0, i32::MAX] {
        wire.send(&parse(b"SELECT * FROM generate_series(1, 100)"))
            .await;
        wire.send(&bind(&[], &[], &[])).await;
        wire.send(&execute(max_rows)).await;
        wire.send(&sync()).await;
        let (rows, tags) = rows_until_ready(&mut wire).await;
        assert_eq!(rows, 100, "max_rows {max_rows}");
        assert_eq!(tags, b"12CZ", "max_rows {max_rows}");
    }
    // A positive limit: that many rows at a time, PortalSuspended in between, streamed.
    wire.send(&parse(b"SELECT * FROM generate_series(1, 100)"))
        .await;
    wire.send(&bind(&[], &[], &[])).await;
    let mut batches = Vec::new();
    for _ in 0..4 {
        wire.send(&execute(30)).await;
        wire.send(&frame(b'H', b"")).await;
        let mut messages = Vec::new();
        loop {
            let m = wire.recv().await.expect("open");
            let end = matches!(m.tag, b's' | b'C');
            messages.push(m);
            if end {
                break;
            }
        }
        let rows = messages.iter().filter(|m| m.tag == b'D').count();
        let last = messages.last().map(|m| m.tag);
        batches.push((rows, last));
    }
    wire.send(&sync()).await;
    wire.until(b'Z').await;
    assert_eq!(
        batches,
        vec![
            (30, Some(b's')),
            (30, Some(b's')),
            (30, Some(b's')),
            (10, Some(b'C')),
        ]
    );
    assert_eq!(wire.value("SELECT 1").await, "1");
}

// ---- connection limits ----

#[tokio::test]
async fn connections_past_the_limit_get_53300_and_the_others_carry_on() {
    let s = serve(|o| o.max_connections = 2).await;
    let first = s.connect().await.expect("first");
    let second = s.connect().await.expect("second");
    let e = s.connect().await.expect_err("the third is refused");
    assert_eq!(e.code(), Some(&SqlState::TOO_MANY_CONNECTIONS), "{e}");
    let db = e.as_db_error().expect("a server error");
    assert_eq!(db.message(), "sorry, too many clients already");
    assert_eq!(value(&first, "SELECT 1").await, "1");
    assert_eq!(value(&second, "SELECT 2").await, "2");
    drop(first);
    // The slot is free once the server has seen the connection go.
    let deadline = Instant::now() + Duration::from_secs(5);
    let third = loop {
        match s.connect().await {
            Ok(client) => break client,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.code(), Some(&SqlState::TOO_MANY_CONNECTIONS), "{e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("no slot freed: {e}"),
        }
    };
    assert_eq!(value(&third, "SELECT 3").await, "3");
    assert_eq!(value(&second, "SELECT 4").await, "4");
}

#[tokio::test]
async fn a_cancel_request_is_served_while_the_server_is_full() {
    let s = serve_with(
        EmulatorConfig {
            latency: Duration::from_millis(150),
            ..EmulatorConfig::default()
        },
        |c| c.page_size = 5,
        |o| o.max_connections = 1,
    )
    .await;
    let client = s.connect().await.expect("connects");
    let cancel = client.cancel_token();
    let scan = tokio::spawn(async move { client.simple_query("SELECT * FROM contacts").await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let e = s.connect().await.expect_err("full");
    assert_eq!(e.code(), Some(&SqlState::TOO_MANY_CONNECTIONS), "{e}");
    cancel.cancel_query(NoTls).await.expect("cancel sent");
    let result = tokio::time::timeout(Duration::from_secs(5), scan)
        .await
        .expect("the scan stops promptly")
        .expect("task");
    let e = result.expect_err("cancelled");
    assert_eq!(e.code(), Some(&SqlState::QUERY_CANCELED), "{e}");
}

// ---- authentication ----

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_auth_timeout() {
    let s = serve(|o| {
        o.auth_timeout = Duration::from_secs(1);
        o.max_connections = 300;
    })
    .await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(s.server.local_addr()).await.unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut byte))
        .await
        .expect("closed within 3 s");
    assert_eq!(read.ok(), Some(0), "closed without a word");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "not before the timeout"
    );

    // 200 half-open connections: silent, a partial header, a partial startup packet.
    let mut sockets = Vec::new();
    for i in 0..200 {
        let mut socket = TcpStream::connect(s.server.local_addr()).await.unwrap();
        match i % 3 {
            0 => {}
            1 => socket.write_all(&[0, 0]).await.unwrap(),
            _ => socket
                .write_all(&startup(&[("user", "x")])[..12])
                .await
                .unwrap(),
        }
        sockets.push(socket);
    }
    let closes = sockets.into_iter().map(|mut socket| async move {
        let mut buffer = [0u8; 64];
        tokio::time::timeout(Duration::from_secs(4), async {
            loop {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await
        .is_ok()
    });
    let closed = futures::future::join_all(closes).await;
    assert_eq!(
        closed.iter().filter(|c| **c).count(),
        200,
        "every one closed"
    );
    s.assert_alive("200 half-open connections").await;
}

/// Starts a SCRAM login as `user` and returns the server-first message.
async fn scram_first(wire: &mut Wire<TcpStream>, user: &str) -> String {
    wire.send(&startup(&[("user", user), ("database", "intercom")]))
        .await;
    let sasl = wire.until(b'R').await.pop().expect("R");
    assert_eq!(&sasl.body[..4], &10i32.to_be_bytes(), "AuthenticationSASL");
    let client_first = b"n,,n=,r=0123456789abcdefghijklmn";
    let mut body = cstr(b"SCRAM-SHA-256");
    body.extend((client_first.len() as i32).to_be_bytes());
    body.extend(client_first);
    wire.send(&frame(b'p', &body)).await;
    let next = wire.recv().await.expect("an answer");
    assert_eq!(next.tag, b'R', "{next:?}");
    assert_eq!(
        &next.body[..4],
        &11i32.to_be_bytes(),
        "AuthenticationSASLContinue"
    );
    String::from_utf8(next.body[4..].to_vec()).expect("text")
}

/// The `key=` attribute of a SCRAM message.
fn attribute<'a>(message: &'a str, key: &str) -> &'a str {
    message
        .split(',')
        .find_map(|a| a.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {message}"))
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_fail_alike() {
    let s = serve(|o| o.credentials = Some(analyst())).await;
    let good = format!("{} password='correct horse'", s.url("analyst"));
    let client = connect(&good).await.expect("right password");
    assert_eq!(value(&client, "SELECT 1").await, "1");
    for (user, password) in [("analyst", "wrong"), ("someone_else", "correct horse")] {
        let url = format!("{} password='{password}'", s.url(user));
        let e = connect(&url).await.expect_err("refused");
        assert_eq!(e.code(), Some(&SqlState::INVALID_PASSWORD), "{e}");
        let db = e.as_db_error().expect("a server error");
        assert_eq!(db.severity(), "FATAL");
        assert_eq!(
            db.message(),
            format!("password authentication failed for user \"{user}\"")
        );
    }
    // Both go through the whole SCRAM exchange; an unknown user's salt is as stable as a
    // real one's, so comparing attempts does not tell them apart.
    let mut salts = Vec::new();
    for user in ["nobody", "nobody", "analyst", "analyst"] {
        let mut wire = Wire::open(&s.server).await;
        let server_first = scram_first(&mut wire, user).await;
        assert_eq!(attribute(&server_first, "i="), "4096");
        salts.push(attribute(&server_first, "s=").to_string());
        let nonce = attribute(&server_first, "r=");
        let proof = "A".repeat(43) + "=";
        let client_final = format!("c=biws,r={nonce},p={proof}");
        // A query right behind the failed login must never run.
        let mut bytes = frame(b'p', client_final.as_bytes());
        bytes.extend(query(b"SELECT 1"));
        wire.send(&bytes).await;
        let e = wire.error().await;
        assert_eq!(
            (e.severity.as_str(), e.code.as_str()),
            ("FATAL", "28P01"),
            "{e:?}"
        );
        assert_eq!(
            e.message,
            format!("password authentication failed for user \"{user}\"")
        );
        wire.closed().await;
    }
    assert_eq!(salts[0], salts[1]);
    assert_eq!(salts[2], salts[3]);
    assert_ne!(salts[0], salts[2]);
    assert_eq!(value(&client, "SELECT 2").await, "2");
}

#[tokio::test]
async fn malformed_sasl_messages_and_stalled_logins_are_refused() {
    let s = serve(|o| {
        o.credentials = Some(analyst());
        o.auth_timeout = Duration::from_secs(1);
    })
    .await;
    for (case, data) in [
        ("claims 1000 bytes, sends 3", {
            let mut body = cstr(b"SCRAM-SHA-256");
            body.extend(1000i32.to_be_bytes());
            body.extend(b"n,,");
            body
        }),
        ("a negative length", {
            let mut body = cstr(b"SCRAM-SHA-256");
            body.extend((-5i32).to_be_bytes());
            body
        }),
        ("no length at all", cstr(b"SCRAM-SHA-256")),
    ] {
        let mut wire = Wire::open(&s.server).await;
        wire.send(&startup(&[("user", "analyst")])).await;
        wire.until(b'R').await;
        wire.send(&frame(b'p', &data)).await;
        let e = wire.error().await;
        assert_eq!(
            (e.severity.as_str(), e.code.as_str()),
            ("FATAL", "08P01"),
            "{case}: {e:?}"
        );
        wire.closed().await;
    }
    // A query instead of the SASL response.
    let mut wire = Wire::open(&s.server).await;
    wire.send(&startup(&[("user", "analyst")])).await;
    wire.until(b'R').await;
    wire.send(&query(b"SELECT 1")).await;
    let e = wire.error().await;
    assert_eq!(
        (e.severity.as_str(), e.code.as_str()),
        ("FATAL", "08P01"),
        "{e:?}"
    );
    wire.closed().await;
    // A login that stalls half-way is told why it is closed.
    let mut wire = Wire::open(&s.server).await;
    let started = Instant::now();
    scram_first(&mut wire, "analyst").await;
    let e = wire.error().await;
    assert_eq!(
        (e.severity.as_str(), e.code.as_str()),
        ("FATAL", "57014"),
        "{e:?}"
    );
    assert_eq!(e.message, "canceling authentication due to timeout");
    assert!(started.elapsed() < Duration::from_secs(3));
    wire.closed().await;
    let good = format!("{} password='correct horse'", s.url("analyst"));
    let client = connect(&good).await.expect("right password");
    assert_eq!(value(&client, "SELECT 1").await, "1");
}

// ---- TLS ----

/// A self-signed certificate for localhost, written as PEM files.
fn certificate(dir: &std::path::Path) -> (TlsFiles, rcgen::CertifiedKey) {
    let generated =
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("certificate");
    let files = TlsFiles {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    };
    std::fs::write(&files.cert, generated.cert.pem()).unwrap();
    std::fs::write(&files.key, generated.key_pair.serialize_pem()).unwrap();
    (files, generated)
}

#[tokio::test]
async fn plaintext_sent_before_the_tls_handshake_is_refused() {
    use datafusion_postgres::pgwire::tokio::tokio_rustls::{TlsConnector, rustls};

    let dir = tempfile::tempdir().unwrap();
    let (files, generated) = certificate(dir.path());
    let s = serve(|o| o.tls = Some(files)).await;
    let mut tcp = TcpStream::connect(s.server.local_addr()).await.unwrap();
    // SSLRequest, and a query injected right behind it in the same write.
    let mut bytes = 8i32.to_be_bytes().to_vec();
    bytes.extend(80_877_103i32.to_be_bytes());
    bytes.extend(startup(&[("user", "tester")]));
    bytes.extend(query(b"SELECT 1"));
    tcp.write_all(&bytes).await.unwrap();
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"S");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(generated.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("handshake");
    let mut wire = Wire { stream: tls };
    let e = wire.error().await;
    assert_eq!(
        (e.severity.as_str(), e.code.as_str()),
        ("FATAL", "08P01"),
        "{e:?}"
    );
    assert_eq!(e.message, "received unencrypted data after SSL request");
    wire.closed().await;
}
