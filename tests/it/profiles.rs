//! Several workspaces, any region (`--config`, `--profile`): two emulators stand for two
//! regions' hosts (the file's `[regions]` points at them), one answering `GET /me` as a US
//! workspace, the other as a European one, each accepting only its own token.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use intercom_sql::emulator::{self, EmulatorConfig, RunningEmulator};
use tokio_postgres::NoTls;

struct Regions {
    us: RunningEmulator,
    eu: RunningEmulator,
    dir: tempfile::TempDir,
    config: PathBuf,
}

async fn workspace(token: &str, region: &str, seed: u64, contacts: usize) -> RunningEmulator {
    let config = EmulatorConfig {
        token: token.into(),
        region: region.into(),
        seed,
        contacts,
        ..EmulatorConfig::default()
    };
    emulator::spawn(config, "127.0.0.1:0").await.unwrap()
}

fn write_private(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
}

/// A US workspace of 30 contacts and a European one of 20, and a file naming both without
/// their regions (the EU token in a file only its owner reads).
async fn regions() -> Regions {
    let us = workspace("token-us-1", "US", 1, 30).await;
    let eu = workspace("token-eu-2", "Europe", 2, 20).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("eu.token");
    write_private(&token, "token-eu-2\n", 0o600);
    // Nothing listens on the AU host: detection must not depend on every host answering.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let au = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    // The configuration is a symlink (dotfiles kept elsewhere): detection writes through it.
    let config = dir.path().join("config.toml");
    let real = dir.path().join("dotfiles-config.toml");
    let text = format!(
        "# two brands\n[profiles.us]\ntoken_env = \"PROFILES_TEST_US_TOKEN\"\n\n\
         [profiles.eu]\ntoken_file = \"{}\"  # its region is detected\n\n\
         [regions]\nus = \"{}\"\neu = \"{}\"\nau = \"{au}\"\n",
        token.display(),
        us.base_url,
        eu.base_url
    );
    write_private(&real, &text, 0o644);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&real, &config).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(&real, &config).unwrap();
    Regions {
        us,
        eu,
        dir,
        config,
    }
}

impl Regions {
    fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_intercom-sql"));
        command
            .arg("--config")
            .arg(&self.config)
            .env_remove("INTERCOM_ACCESS_TOKEN")
            .env_remove("INTERCOM_SQL_PROFILE")
            .env("PROFILES_TEST_US_TOKEN", "token-us-1")
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> (Output, String) {
        let out =
            tokio::time::timeout(Duration::from_secs(120), self.command().args(args).output())
                .await
                .expect("finishes")
                .unwrap();
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !printed.contains("token-us-1") && !printed.contains("token-eu-2"),
            "{printed}"
        );
        (out, printed)
    }

    /// Requests each emulator answered other than `GET /me` (region detection asks every
    /// host with every token), and whether all were accepted.
    fn data_requests(emulator: &RunningEmulator) -> Vec<(String, String, u16)> {
        emulator
            .state
            .requests()
            .into_iter()
            .filter(|r| r.path != "/me")
            .map(|r| (r.method, r.path, r.status))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_detect_regions_and_join_workspaces_each_with_its_own_token() {
    let r = regions().await;
    let union = "SELECT 'us' AS ws, count(*) AS n FROM us.public.contacts \
                 UNION ALL SELECT 'eu', count(*) FROM eu.public.contacts ORDER BY ws";
    let (out, printed) = r
        .run(&["--profile", "us,eu", "--format", "csv", "-c", union])
        .await;
    assert!(out.status.success(), "{printed}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.trim(), "ws,n\neu,20\nus,30", "{printed}");
    // Both regions detected once and written into the file, its comments kept.
    assert!(
        printed.contains("profile 'us': the workspace is in US (region us)"),
        "{printed}"
    );
    assert!(
        printed.contains("the workspace is in Europe (region eu)"),
        "{printed}"
    );
    let file = std::fs::read_to_string(&r.config).unwrap();
    assert!(
        file.contains("# two brands") && file.contains("# its region is detected"),
        "{file}"
    );
    assert!(
        file.contains("region = \"us\"") && file.contains("region = \"eu\""),
        "{file}"
    );
    assert!(
        !file.contains("token-eu-2"),
        "the token is never written: {file}"
    );
    #[cfg(unix)]
    assert!(
        std::fs::symlink_metadata(&r.config)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the symlink stays a symlink"
    );
    // Each workspace's requests went to its own host, with its own token (a wrong token
    // would have been answered 401).
    for (emulator, name) in [(&r.us, "us"), (&r.eu, "eu")] {
        let sent = Regions::data_requests(emulator);
        assert!(
            sent.iter().any(|(_, p, _)| p.starts_with("/contacts")),
            "{name}: {sent:?}"
        );
        assert!(sent.iter().all(|(_, _, s)| *s == 200), "{name}: {sent:?}");
    }

    // Detected once: the next run asks no /me.
    r.us.state.clear_requests();
    r.eu.state.clear_requests();
    let join = "SELECT count(*) FROM contacts u JOIN eu.public.contacts e ON e.id <> u.id WHERE u.id = (SELECT min(id) FROM contacts)";
    let (out, printed) = r
        .run(&["--profile", "us,eu", "--format", "csv", "-c", join])
        .await;
    assert!(out.status.success(), "{printed}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "count(*)\n20",
        "{printed}"
    );
    assert!(r.us.state.requests().iter().all(|q| q.path != "/me"));

    // A write names its workspace: the EU contact is renamed in the EU workspace only.
    let eu_contact = crate::common::field(&r.eu.state.snapshot("contacts")[0], "id");
    r.us.state.clear_requests();
    let update =
        format!("UPDATE eu.public.contacts SET name = 'Written in EU' WHERE id = '{eu_contact}'");
    let (out, printed) = r.run(&["--profile", "us,eu", "-c", &update]).await;
    assert!(out.status.success(), "{printed}");
    let renamed = r.eu.state.snapshot("contacts");
    assert_eq!(crate::common::field(&renamed[0], "name"), "Written in EU");
    assert!(
        Regions::data_requests(&r.us)
            .iter()
            .all(|(m, _, _)| m != "PUT" && m != "DELETE"),
        "no write reached the US workspace"
    );
    assert!(
        Regions::data_requests(&r.eu)
            .iter()
            .any(|(m, p, _)| m == "PUT" && p.ends_with(&eu_contact)),
        "the write reached the EU workspace"
    );

    // A procedure named for a catalog acts on that workspace (CALL and the LATERAL form);
    // an unknown one is refused with nothing sent.
    r.us.state.clear_requests();
    r.eu.state.clear_requests();
    let call = format!("CALL eu.ArchiveContact('{eu_contact}')");
    let (out, printed) = r
        .run(&["--profile", "us,eu", "--format", "csv", "-c", &call])
        .await;
    assert!(out.status.success(), "{printed}");
    assert!(printed.contains(&format!("{eu_contact},")), "{printed}");
    let lateral = "SELECT a.archived FROM (SELECT id FROM eu.public.contacts ORDER BY id LIMIT 2) c, \
                   LATERAL eu.unarchive_contact(c.id) a";
    let (out, printed) = r.run(&["--profile", "us,eu", "-c", lateral]).await;
    assert!(out.status.success(), "{printed}");
    let archived: Vec<_> = Regions::data_requests(&r.eu)
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p.contains("archive"))
        .collect();
    assert_eq!(
        archived.len(),
        3,
        "one archive, two unarchives, in the EU workspace: {archived:?}"
    );
    assert!(
        Regions::data_requests(&r.us)
            .iter()
            .all(|(_, p, _)| !p.contains("archive")),
        "nothing archived in the US workspace"
    );
    let (out, printed) = r
        .run(&[
            "--profile",
            "us,eu",
            "-c",
            "CALL nowhere.ArchiveContact('x')",
        ])
        .await;
    assert!(!out.status.success());
    assert!(
        printed.contains("no workspace 'nowhere' in this session"),
        "{printed}"
    );

    // `workspaces` lists both, with their admins and regions as Intercom names them.
    let (out, printed) = r.run(&["workspaces"]).await;
    assert!(out.status.success(), "{printed}");
    let lines: Vec<&str> = printed.lines().collect();
    let eu_line = lines.iter().find(|l| l.starts_with("eu ")).expect(&printed);
    assert!(
        eu_line.contains("Europe") && eu_line.contains(&r.eu.base_url),
        "{eu_line}"
    );
    assert!(
        eu_line.contains("file ") && eu_line.contains("eu.token"),
        "{eu_line}"
    );
    let us_line = lines.iter().find(|l| l.starts_with("us ")).expect(&printed);
    assert!(
        us_line.contains("env PROFILES_TEST_US_TOKEN") && us_line.contains(", US)"),
        "{us_line}"
    );
    assert!(printed.contains("(2 profiles in"), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_token_files_unknown_profiles_and_wrong_regions_are_named() {
    let r = regions().await;
    let token = r.dir.path().join("eu.token");
    write_private(&token, "token-eu-2\n", 0o644);
    let (out, printed) = r.run(&["--profile", "eu", "-c", "SELECT 1"]).await;
    assert!(!out.status.success());
    assert!(
        printed.contains("permissions 0644") && printed.contains("chmod 600"),
        "{printed}"
    );
    write_private(&token, "token-eu-2\n", 0o600);

    let (out, printed) = r.run(&["--profile", "ue", "-c", "SELECT 1"]).await;
    assert!(!out.status.success());
    assert!(printed.contains("no profile 'ue'"), "{printed}");

    // The EU token sent to the US host: the error says which region it belongs to.
    let (out, printed) = r
        .run(&[
            "--base-url",
            &r.us.base_url,
            "--token",
            "token-eu-2",
            "-c",
            "SELECT count(*) FROM contacts",
        ])
        .await;
    assert!(!out.status.success());
    assert!(
        printed.contains("belongs to a workspace in Europe: use --region eu"),
        "{printed}"
    );

    let (out, printed) = r
        .run(&["--profile", "us", "--token", "x", "-c", "SELECT 1"])
        .await;
    assert!(!out.status.success());
    assert!(printed.contains("give one"), "{printed}");
}

/// `serve --profile us,eu`: the database name selects the workspace (`psql …/eu`); the
/// others are catalogs; an unknown database is refused as PostgreSQL refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_name_selects_the_workspace_over_the_wire() {
    let r = regions().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = r
        .command()
        .args([
            "serve",
            "--profile",
            "us,eu",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let connect = |db: &str| {
        let url = format!("host=127.0.0.1 port={port} user=analyst dbname={db}");
        async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
            tokio::spawn(connection);
            Ok::<_, tokio_postgres::Error>(client)
        }
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let eu = loop {
        match connect("eu").await {
            Ok(client) => break client,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the server never answered: {e}"),
        }
    };
    let count = |rows: Vec<tokio_postgres::Row>| rows[0].get::<_, i64>(0);
    assert_eq!(
        count(
            eu.query("SELECT count(*) FROM contacts", &[])
                .await
                .unwrap()
        ),
        20
    );
    assert_eq!(
        count(
            eu.query("SELECT count(*) FROM us.public.contacts", &[])
                .await
                .unwrap()
        ),
        30
    );
    let us = connect("us").await.unwrap();
    assert_eq!(
        count(
            us.query("SELECT count(*) FROM contacts", &[])
                .await
                .unwrap()
        ),
        30
    );
    let default = connect("intercom").await.unwrap();
    assert_eq!(
        count(
            default
                .query("SELECT count(*) FROM contacts", &[])
                .await
                .unwrap()
        ),
        30
    );
    let Err(refused) = connect("nosuch").await else {
        panic!("database nosuch was accepted");
    };
    let db = refused.as_db_error().expect("a server error");
    assert_eq!(db.code().code(), "3D000");
    assert!(
        db.message().contains("\"nosuch\" does not exist"),
        "{}",
        db.message()
    );

    // psql, as an analyst would connect: postgres://…/eu.
    if let Some(psql) = crate::clients::client_program("psql", Some("psql".into())) {
        let out = tokio::process::Command::new(psql)
            .args([
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "analyst",
                "-d",
                "eu",
            ])
            .args(["-c", "SELECT count(*) FROM contacts"])
            .output()
            .await
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "20");
    }
    let _ = server.start_kill();
}

/// `intercom-sql store-token NAME` puts a token in the OS keyring (here Linux's kernel
/// keyring) and a profile's `token_keyring = "NAME"` reads it in another process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_stored_in_the_os_keyring_is_read_by_its_profile() {
    if cfg!(target_os = "linux") && !Path::new("/proc/keys").exists() {
        eprintln!("skipped: this kernel has no keyring (no /proc/keys)");
        return;
    }
    let r = regions().await;
    let entry = format!("intercom-sql-test-{}", std::process::id());
    let mut store = r
        .command()
        .args(["store-token", &entry])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = store.stdin.take().unwrap();
        stdin.write_all(b"token-eu-2\n").await.unwrap();
    }
    let out = store.wait_with_output().await.unwrap();
    let printed = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{printed}");
    assert!(!printed.contains("token-eu-2"), "{printed}");
    let mut file = std::fs::read_to_string(&r.config).unwrap();
    file.push_str(&format!(
        "\n[profiles.kr]\ntoken_keyring = \"{entry}\"\nbase_url = \"{}\"\n\
         [profiles.none]\ntoken_keyring = \"{entry}-missing\"\nbase_url = \"{}\"\n",
        r.eu.base_url, r.eu.base_url
    ));
    write_private(&r.config, &file, 0o644);
    let (out, printed) = r
        .run(&[
            "--profile",
            "kr",
            "--format",
            "csv",
            "-c",
            "SELECT count(*) FROM contacts",
        ])
        .await;
    assert!(out.status.success(), "{printed}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "count(*)\n20");
    let (out, printed) = r.run(&["--profile", "none", "-c", "SELECT 1"]).await;
    assert!(!out.status.success());
    assert!(
        printed.contains("no token") && printed.contains("store-token"),
        "{printed}"
    );
}
