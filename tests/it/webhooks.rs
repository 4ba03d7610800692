//! Intercom webhooks into SQL (`ServerOptions::webhooks`, `serve --webhook-listen`): signed
//! deliveries are stored once and listed in `webhook_events`, bad ones refused; `LISTEN`ing
//! clients (tokio-postgres, psql, psycopg) receive each as a notification; the emulator's own
//! webhooks reach the server after a write, with Intercom's retries; a notification makes the
//! cache forget its object type.

use std::time::Duration;

use futures::StreamExt;
use intercom_sql::emulator::WebhookTarget;
use intercom_sql::server::{RunningServer, ServerOptions};
use intercom_sql::webhooks::{WebhookOptions, signature};
use serde_json::{Value, json};
use tokio_postgres::{AsyncMessage, Client, NoTls};

use crate::common::{TestEnv, start};

const SECRET: &str = "test-client-secret";

struct Hooked {
    env: TestEnv,
    server: RunningServer,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

async fn serve_in(env: TestEnv, dir: tempfile::TempDir) -> Hooked {
    serve_with(env, dir, |_| {}).await
}

async fn serve_with(
    env: TestEnv,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut WebhookOptions),
) -> Hooked {
    let mut webhooks = WebhookOptions {
        max_body_bytes: 64 << 10,
        ..WebhookOptions::new("127.0.0.1:0", SECRET, dir.path().to_path_buf())
    };
    tweak(&mut webhooks);
    let server = intercom_sql::server::start(
        env.engine.session_factory(),
        ServerOptions {
            webhooks: Some(webhooks),
            ..ServerOptions::new("127.0.0.1:0")
        },
    )
    .await
    .expect("server starts");
    Hooked {
        env,
        server,
        dir,
        http: reqwest::Client::new(),
    }
}

async fn serve() -> Hooked {
    serve_in(start().await, tempfile::tempdir().unwrap()).await
}

fn notification(id: &str, topic: &str, item: Value) -> Value {
    json!({
        "type": "notification_event", "app_id": "app-1", "id": id, "topic": topic,
        "created_at": 1_700_000_000, "delivery_attempts": 1, "first_sent_at": 1_700_000_000,
        "delivered_at": 0, "links": {}, "self": null,
        "data": {"type": "notification_event_data", "item": item},
    })
}

impl Hooked {
    fn webhook_url(&self) -> String {
        format!("http://{}/intercom", self.server.webhook_addr().unwrap())
    }

    /// Posts `body` with `signature` (None: no header); the status.
    async fn post(&self, body: &[u8], signature: Option<String>) -> u16 {
        let mut request = self.http.post(self.webhook_url()).body(body.to_vec());
        if let Some(s) = signature {
            request = request.header("X-Hub-Signature", s);
        }
        request.send().await.unwrap().status().as_u16()
    }

    async fn deliver(&self, n: &Value) -> u16 {
        let body = n.to_string();
        let signed = signature::sign(SECRET.as_bytes(), body.as_bytes());
        self.post(body.as_bytes(), Some(signed)).await
    }

    /// A client connection and the notifications it receives.
    async fn listener(
        &self,
    ) -> (
        Client,
        tokio::sync::mpsc::UnboundedReceiver<(String, Value)>,
    ) {
        let url = format!(
            "host=127.0.0.1 port={} user=u dbname=intercom",
            self.server.local_addr().port()
        );
        let (client, mut connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(n) = message {
                    let payload = serde_json::from_str(n.payload()).unwrap_or(Value::Null);
                    let _ = tx.send((n.channel().to_string(), payload));
                }
            }
        });
        (client, rx)
    }

    /// Runs a client's notification check (`tests/clients/`): `command` and HOST PORT USER
    /// PASSWORD DATABASE WEBHOOK_URL, the secret in the environment; it must pass.
    async fn run_notify_check(&self, what: &str, mut command: tokio::process::Command) {
        let addr = self.server.local_addr();
        command
            .args([
                addr.ip().to_string(),
                addr.port().to_string(),
                "u".into(),
                "p".into(),
                "intercom".into(),
                self.webhook_url(),
            ])
            .env("INTERCOM_CLIENT_SECRET", SECRET);
        let printed = crate::clients::run(what, &mut command).await;
        assert!(
            printed.contains("notify_check: all checks passed"),
            "{what}: {printed}"
        );
    }

    async fn rows(&self, client: &Client, sql: &str) -> Vec<Vec<String>> {
        client
            .simple_query(sql)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                    (0..r.len())
                        .map(|i| r.get(i).unwrap_or("NULL").to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Value)>) -> (String, Value) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a notification within 10 s")
        .expect("the connection is open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_are_stored_once_listed_and_kept() {
    let hooked = serve().await;
    let (client, _) = hooked.listener().await;
    let first = notification(
        "notif_1",
        "contact.user.created",
        json!({"type": "contact", "id": "6500aa"}),
    );
    assert_eq!(hooked.deliver(&first).await, 200);
    // Intercom delivers again (a retry after a timeout): acknowledged, stored once.
    let mut retry = first.clone();
    retry["delivery_attempts"] = json!(2);
    assert_eq!(hooked.deliver(&retry).await, 200);
    let second = notification(
        "notif_2",
        "conversation.admin.closed",
        json!({"type": "conversation", "id": 77}),
    );
    assert_eq!(hooked.deliver(&second).await, 200);

    // Refused, and not stored: no signature, a wrong one, a signature over another body, a
    // body that is no notification, a body past the limit.
    let body = notification("notif_bad", "contact.deleted", json!({})).to_string();
    assert_eq!(hooked.post(body.as_bytes(), None).await, 401);
    let wrong = signature::sign(b"not-the-secret", body.as_bytes());
    assert_eq!(hooked.post(body.as_bytes(), Some(wrong)).await, 401);
    let other = signature::sign(SECRET.as_bytes(), b"{}");
    assert_eq!(hooked.post(body.as_bytes(), Some(other)).await, 401);
    assert_eq!(
        hooked.post(body.as_bytes(), Some("sha1=zz".into())).await,
        401
    );
    for malformed in [
        &b"{\"type\":\"notification_event\"}"[..],
        b"not json",
        b"[]",
    ] {
        let signed = signature::sign(SECRET.as_bytes(), malformed);
        assert_eq!(hooked.post(malformed, Some(signed)).await, 400);
    }
    let huge = notification(
        "notif_huge",
        "contact.deleted",
        json!({"x": "y".repeat(70_000)}),
    );
    assert_eq!(hooked.deliver(&huge).await, 413);
    // Without a signature header, the body is not even read: 401 however large it is, and
    // the connection is closed after the answer (its unread bytes cannot become a request).
    let refused_and_closed = |request: reqwest::RequestBuilder, status: u16| async move {
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status);
        assert_eq!(
            answer.headers().get("connection").map(|v| v.as_bytes()),
            Some(&b"close"[..])
        );
    };
    let url = hooked.webhook_url();
    refused_and_closed(hooked.http.post(&url).body(vec![b'x'; 200_000]), 401).await;
    // Another method with a body: refused, the connection closed for the same reason.
    refused_and_closed(hooked.http.put(&url).body(vec![b'x'; 1_000]), 405).await;
    // Intercom checks the endpoint with a HEAD request before saving it.
    let head = hooked.http.head(hooked.webhook_url()).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);

    let listed = "SELECT id, topic, app_id, item_type, item_id, delivery_attempts, deliveries, \
                  created_at FROM webhook_events ORDER BY id";
    let expected = vec![
        vec![
            "notif_1",
            "contact.user.created",
            "app-1",
            "contact",
            "6500aa",
            "2",
            "2",
            "2023-11-14 22:13:20.000000+00",
        ],
        vec![
            "notif_2",
            "conversation.admin.closed",
            "app-1",
            "conversation",
            "77",
            "1",
            "1",
            "2023-11-14 22:13:20.000000+00",
        ],
    ];
    let rows = hooked.rows(&client, listed).await;
    assert_eq!(rows, expected);
    // Filtered by topic and time; the payload is the notification as sent.
    let filtered = hooked
        .rows(
            &client,
            "SELECT json_get_str(payload, 'data', 'item', 'type') FROM webhook_events \
             WHERE topic = 'conversation.admin.closed' AND created_at >= TIMESTAMP '2023-11-14 22:13:20' \
             AND received_at > now() - INTERVAL '1 hour'",
        )
        .await;
    assert_eq!(filtered, vec![vec!["conversation".to_string()]]);

    // On disk: a new server over the same directory lists the same notifications.
    let Hooked {
        env, server, dir, ..
    } = hooked;
    drop(client);
    server.stop().await;
    let again = serve_in(env, dir).await;
    let (client, _) = again.listener().await;
    assert_eq!(again.rows(&client, listed).await, expected);
    assert!(
        again
            .dir
            .path()
            .join(intercom_sql::webhooks::FILE_NAME)
            .is_file()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_connections_are_notified_of_their_channels() {
    let hooked = serve().await;
    let (all, mut to_all) = hooked.listener().await;
    let (contacts, mut to_contacts) = hooked.listener().await;
    let (_idle, mut to_idle) = hooked.listener().await;
    all.batch_execute("LISTEN intercom_events").await.unwrap();
    contacts
        .batch_execute("LISTEN contact; LISTEN \"contact.user.created\"")
        .await
        .unwrap();
    let created = notification(
        "n1",
        "contact.user.created",
        json!({"type": "contact", "id": "c1"}),
    );
    assert_eq!(hooked.deliver(&created).await, 200);
    let (channel, payload) = next(&mut to_all).await;
    assert_eq!(channel, "intercom_events");
    assert_eq!(
        payload,
        json!({"id": "n1", "topic": "contact.user.created", "item_type": "contact",
               "item_id": "c1", "created_at": 1_700_000_000})
    );
    let mut channels = vec![
        next(&mut to_contacts).await.0,
        next(&mut to_contacts).await.0,
    ];
    channels.sort();
    assert_eq!(channels, ["contact", "contact.user.created"]);

    // A topic the second connection does not listen to; then UNLISTEN.
    let closed = notification(
        "n2",
        "conversation.admin.closed",
        json!({"type": "conversation", "id": "9"}),
    );
    assert_eq!(hooked.deliver(&closed).await, 200);
    assert_eq!(next(&mut to_all).await.1["id"], "n2");
    all.batch_execute("UNLISTEN *").await.unwrap();
    contacts.batch_execute("UNLISTEN contact").await.unwrap();
    let again = notification(
        "n3",
        "contact.user.created",
        json!({"type": "contact", "id": "c2"}),
    );
    assert_eq!(hooked.deliver(&again).await, 200);
    let (channel, payload) = next(&mut to_contacts).await;
    assert_eq!(
        (channel.as_str(), &payload["id"]),
        ("contact.user.created", &json!("n3"))
    );
    // Channel names are PostgreSQL identifiers: at most 63 bytes.
    let long = format!("LISTEN \"{}\"", "x".repeat(64));
    let error = contacts.batch_execute(&long).await.unwrap_err();
    assert_eq!(error.as_db_error().unwrap().code().code(), "54000");
    // A duplicate is not announced again.
    assert_eq!(hooked.deliver(&again).await, 200);
    // Statements still answer on a connection that receives notifications.
    assert_eq!(
        hooked
            .rows(&contacts, "SELECT count(*) FROM webhook_events")
            .await,
        vec![vec!["3"]]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(to_all.try_recv().is_err(), "nothing after UNLISTEN *");
    assert!(to_contacts.try_recv().is_err(), "no second n3");
    assert!(
        to_idle.try_recv().is_err(),
        "a connection that never listened"
    );
}

/// A server without webhooks says why LISTEN cannot work.
#[tokio::test]
async fn listen_without_webhooks_is_refused_with_the_option_to_set() {
    let (_env, server) = crate::common::start_server().await;
    let url = format!(
        "host=127.0.0.1 port={} user=u dbname=intercom",
        server.local_addr().port()
    );
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
    tokio::spawn(connection);
    let error = client
        .batch_execute("LISTEN intercom_events")
        .await
        .unwrap_err();
    let db = error.as_db_error().unwrap();
    assert_eq!(db.code().code(), "0A000");
    assert!(
        db.message().contains("--webhook-listen"),
        "{}",
        db.message()
    );
}

/// The emulator notifies the server of a write sent through the server (DML), and of a change
/// another app makes, which also makes the cache forget the contacts it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulators_webhooks_reach_the_server_and_refresh_the_cache() {
    let hooked = serve().await;
    let emulator = &hooked.env.emulator;
    emulator
        .state
        .send_webhooks_to(Some(WebhookTarget::new(hooked.webhook_url(), SECRET)));
    let (client, mut notified) = hooked.listener().await;
    client
        .batch_execute("LISTEN intercom_events")
        .await
        .unwrap();
    let contact = crate::common::snapshot_ids(&hooked.env, "contacts")[3].clone();

    let update = format!("UPDATE contacts SET name = 'Renamed by SQL' WHERE id = '{contact}'");
    client.batch_execute(&update).await.unwrap();
    let (_, payload) = next(&mut notified).await;
    assert!(
        payload["topic"] == "contact.user.updated" || payload["topic"] == "contact.lead.updated",
        "{payload}"
    );
    assert_eq!(payload["item_id"], json!(contact));
    let stored = hooked
        .rows(
            &client,
            &format!(
                "SELECT json_get_str(payload, 'data', 'item', 'name'), delivery_attempts \
                 FROM webhook_events WHERE item_id = '{contact}'"
            ),
        )
        .await;
    assert_eq!(stored, vec![vec!["Renamed by SQL", "1"]]);

    // Cached contacts, then another app renames the contact straight at the API: the webhook
    // makes the cache forget contacts, so the next read asks Intercom and sees the new name.
    client
        .batch_execute("SET intercom.cache_ttl = '10 min'")
        .await
        .unwrap();
    let read = format!("SELECT name FROM contacts WHERE id = '{contact}'");
    assert_eq!(
        hooked.rows(&client, &read).await,
        vec![vec!["Renamed by SQL"]]
    );
    emulator.state.clear_requests();
    assert_eq!(
        hooked.rows(&client, &read).await,
        vec![vec!["Renamed by SQL"]]
    );
    assert_eq!(emulator.state.request_count(), 0, "answered from the cache");
    let answer = hooked
        .http
        .put(format!("{}/contacts/{contact}", emulator.base_url))
        .bearer_auth(intercom_sql::emulator::EmulatorConfig::default().token)
        .json(&json!({"name": "Renamed elsewhere"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let (_, payload) = next(&mut notified).await;
    assert_eq!(payload["item_id"], json!(contact));
    emulator.state.clear_requests();
    assert_eq!(
        hooked.rows(&client, &read).await,
        vec![vec!["Renamed elsewhere"]]
    );
    assert!(
        emulator.state.request_count() > 0,
        "the cache forgot the contacts"
    );
    let deliveries = emulator.state.webhook_deliveries();
    assert!(
        deliveries.iter().all(|d| d.status == 200 && d.attempt == 1),
        "{deliveries:?}"
    );
}

/// Deliveries the endpoint refuses are retried, as Intercom does (once, after a delay).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_are_retried_once() {
    let hooked = serve().await;
    let emulator = &hooked.env.emulator;
    emulator.state.send_webhooks_to(Some(WebhookTarget {
        retry_delay: Duration::from_millis(200),
        ..WebhookTarget::new(hooked.webhook_url(), "a-wrong-secret")
    }));
    let env = &hooked.env;
    env.rows("INSERT INTO tags (name) VALUES ('hooked')").await;
    let contact = crate::common::snapshot_ids(env, "contacts")[0].clone();
    env.rows(&format!("CALL ArchiveContact('{contact}')")).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let deliveries = loop {
        let d = emulator.state.webhook_deliveries();
        if d.len() >= 2 || tokio::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Creating a tag has no topic; archiving a contact does: two attempts, both refused.
    let seen: Vec<_> = deliveries
        .iter()
        .map(|d| (d.topic.as_str(), d.attempt, d.status))
        .collect();
    assert_eq!(
        seen,
        [("contact.archived", 1, 401), ("contact.archived", 2, 401)]
    );
    assert_eq!(
        deliveries[0].id, deliveries[1].id,
        "a retry is the same notification"
    );
    let (client, _) = hooked.listener().await;
    assert_eq!(
        hooked
            .rows(&client, "SELECT count(*) FROM webhook_events")
            .await,
        vec![vec!["0"]]
    );
}

/// psql prints a notification received while it runs a script, as PostgreSQL's would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_receives_notifications() {
    let Some(psql) = crate::clients::client_program("psql", Some("psql".into())) else {
        return;
    };
    let hooked = serve().await;
    let body = notification(
        "notif_psql",
        "ticket.created",
        json!({"type": "ticket", "id": "31"}),
    )
    .to_string();
    let signed = signature::sign(SECRET.as_bytes(), body.as_bytes());
    let post = format!(
        "python3 -c \"import sys,urllib.request as u; r=u.Request(sys.argv[1], data=sys.argv[2].encode(), headers={{'X-Hub-Signature': sys.argv[3]}}); print('posted', u.urlopen(r).status)\" '{}' '{}' '{}'",
        hooked.webhook_url(),
        body,
        signed
    );
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        script.path(),
        format!("LISTEN intercom_events;\n\\! {post}\n\\! sleep 0.5\nSELECT 1 AS one;\n"),
    )
    .unwrap();
    let printed = crate::clients::run(
        "psql",
        tokio::process::Command::new(psql)
            .args(["-X", "-h", "127.0.0.1", "-p"])
            .arg(hooked.server.local_addr().port().to_string())
            .args(["-U", "u", "-d", "intercom", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(script.path())
            .env("PGCONNECT_TIMEOUT", "10"),
    )
    .await;
    assert!(printed.contains("posted 200"), "{printed}");
    assert!(
        printed.contains("Asynchronous notification \"intercom_events\" with payload \"{\"created_at\":1700000000,\"id\":\"notif_psql\""),
        "{printed}"
    );
}

/// psycopg 3's `notifies()` receives them (tests/clients/python/notify_check.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_receives_notifications() {
    let Some(python) = crate::clients::client_python() else {
        return;
    };
    let mut command = tokio::process::Command::new(python);
    command.arg(crate::clients::repo().join("tests/clients/python/notify_check.py"));
    serve()
        .await
        .run_notify_check("notify_check.py", command)
        .await;
}

/// pgjdbc's `PGConnection.getNotifications(timeout)` receives them
/// (tests/clients/jdbc/NotifyCheck.java).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgjdbc_receives_notifications() {
    let Some(compiled) = crate::clients::compile_java("NotifyCheck").await else {
        return;
    };
    let mut command = tokio::process::Command::new("java");
    command
        .arg("-cp")
        .arg(&compiled.classpath)
        .arg("NotifyCheck");
    serve().await.run_notify_check("NotifyCheck", command).await;
}

/// `serve --webhook-listen` as a process: every delivery answered 200 is on disk when the
/// process is killed (SIGKILL, no shutdown) right after; the secret is never printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_answered_200_survive_a_killed_server() {
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (pg_port, hook_port) = (free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let secret = "kill-test-secret-3f9a";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"))
        .args(["serve", "--listen", &format!("127.0.0.1:{pg_port}")])
        .args(["--webhook-listen", &format!("127.0.0.1:{hook_port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("INTERCOM_ACCESS_TOKEN")
        .env("INTERCOM_CLIENT_SECRET", secret)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{hook_port}/");
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while http.head(&url).send().await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the endpoint never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..20 {
        let body = notification(
            &format!("notif_k{i:02}"),
            "contact.deleted",
            json!({"type": "contact", "id": i}),
        )
        .to_string();
        let status = http
            .post(&url)
            .header(
                "X-Hub-Signature",
                signature::sign(secret.as_bytes(), body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 200);
    }
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!printed.contains(secret), "{printed}");
    let store =
        intercom_sql::webhooks::Store::open(dir.path(), Duration::from_secs(86_400)).unwrap();
    let mut ids = Vec::new();
    store
        .read(&intercom_sql::webhooks::Filter::default(), 100, |rows| {
            ids.extend(rows.into_iter().map(|r| r.notification.id));
            true
        })
        .unwrap();
    let expected: Vec<String> = (0..20).map(|i| format!("notif_k{i:02}")).collect();
    assert_eq!(ids, expected);
}

/// Connections that send nothing cannot hold the endpoint: more than it serves at once are
/// opened and left idle; each is closed when its time is up, and a delivery still gets through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_hold_the_endpoint() {
    use tokio::io::AsyncReadExt;
    let hooked = serve_with(start().await, tempfile::tempdir().unwrap(), |o| {
        o.connection_timeout = Duration::from_secs(1);
    })
    .await;
    let addr = hooked.server.webhook_addr().unwrap();
    let mut idle = Vec::new();
    for _ in 0..intercom_sql::webhooks::MAX_CONNECTIONS + 44 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    // A fresh connection for the delivery (no pooled one), queued behind the idle ones.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let body = notification(
        "notif_after_idle",
        "contact.deleted",
        json!({"type": "contact", "id": "1"}),
    )
    .to_string();
    let answer = tokio::time::timeout(
        Duration::from_secs(20),
        http.post(hooked.webhook_url())
            .header(
                "X-Hub-Signature",
                signature::sign(SECRET.as_bytes(), body.as_bytes()),
            )
            .body(body)
            .send(),
    )
    .await
    .expect("the delivery was answered while idle connections were open")
    .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    // Every idle connection was closed by the server.
    let mut buf = [0u8; 16];
    for mut stream in idle {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("the server closes an idle connection");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
}

/// Whatever a client sends the endpoint (random methods, headers, signatures, bodies, raw
/// bytes that are no HTTP at all) it answers 4xx or closes, stores nothing unsigned, and goes
/// on serving signed deliveries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_never_stop_the_endpoint() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let hooked = serve().await;
    let addr = hooked.server.webhook_addr().unwrap();
    let mut rng = fastrand::Rng::with_seed(17);
    let mut answered = 0;
    for round in 0..120 {
        let method = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"][rng.usize(..5)];
        let len = [0, 1, 100, 5_000, 70_000][rng.usize(..5)];
        let body: Vec<u8> = (0..len).map(|_| rng.u8(..)).collect();
        let signature = match rng.usize(..4) {
            0 => None,
            1 => Some("sha1=".to_string() + &"0".repeat(40)),
            2 => Some(format!("sha1={}", "g".repeat(40))),
            _ => Some(signature::sign(b"wrong", &body)),
        };
        let mut request = hooked
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/{round}", hooked.webhook_url()),
            )
            .body(body);
        if let Some(s) = signature {
            request = request.header("X-Hub-Signature", s);
        }
        // A request refused before its body is read may see the connection close while it
        // is still sending: that is an answer too.
        if let Ok(answer) = request.send().await {
            let status = answer.status().as_u16();
            assert!(
                (400..500).contains(&status),
                "{method} {len} bytes: {status}"
            );
            answered += 1;
        }
    }
    assert!(
        answered >= 100,
        "only {answered} of 120 requests were answered"
    );
    // Raw bytes that are no HTTP request: the connection is answered 400 or closed.
    for garbage in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GET /",
    ] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(garbage).await.unwrap();
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let _ =
            tokio::time::timeout(Duration::from_secs(35), stream.read_to_end(&mut answer)).await;
    }
    // Still serving, and nothing was stored.
    let (client, _) = hooked.listener().await;
    let n = notification(
        "notif_after_hostile",
        "contact.deleted",
        json!({"type": "contact", "id": "1"}),
    );
    assert_eq!(hooked.deliver(&n).await, 200);
    assert_eq!(
        hooked.rows(&client, "SELECT id FROM webhook_events").await,
        vec![vec!["notif_after_hostile"]]
    );
}
