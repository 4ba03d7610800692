//! What the benchmarks share: the emulator in its own process (the release `intercom-sql`
//! binary beside the example), Intercom's rate-limit window, and waiting for a fresh one.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub type Failure = Box<dyn std::error::Error>;

/// The emulator's token.
pub const TOKEN: &str = "demo-token";
/// A private app's budget: 10,000 calls a minute, enforced per 10-second window.
pub const WINDOW_LIMIT: u32 = 1_666;
pub const WINDOW_SECS: u64 = 10;

/// The emulator, in its own process; killed when dropped.
pub struct Emulator {
    child: Child,
    pub base_url: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `intercom-sql` binary of the example's own build profile.
pub fn binary() -> Result<std::path::PathBuf, Failure> {
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .and_then(|p| p.parent())
        .ok_or("no target directory")?
        .join("intercom-sql");
    if !binary.exists() {
        return Err(format!(
            "{} is not built: cargo build --release --bin intercom-sql",
            binary.display()
        )
        .into());
    }
    Ok(binary)
}

/// Starts `intercom-sql emulator --listen 127.0.0.1:<free port> ARGS…` and waits until it
/// answers (the port is bound before the workspace is seeded).
pub async fn start_emulator(args: &[String]) -> Result<Emulator, Failure> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(binary()?)
        .args(["emulator", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stderr(Stdio::null())
        .spawn()?;
    let emulator = Emulator {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let answer = reqwest::get(format!("{}/__emulator/stats", emulator.base_url)).await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return Ok(emulator);
        }
        if Instant::now() > deadline {
            return Err("the emulator did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Sleeps until the next rate-limit window starts (windows are aligned to epoch seconds).
pub async fn fresh_window() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let next = (now.as_secs() / WINDOW_SECS + 1) * WINDOW_SECS;
    let wait = Duration::from_secs(next) - now + Duration::from_millis(20);
    tokio::time::sleep(wait).await;
}
