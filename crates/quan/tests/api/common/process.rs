//! `quan serve` as a real process, for multi-process and crash tests.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ADMIN;

pub struct Server {
    pub url: String,
    child: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts `quan serve` on `database_url` and waits until it answers `/healthz`.
    pub async fn start(database_url: &str) -> Server {
        Self::start_with(database_url, &[]).await
    }

    /// [`Server::start`] with more environment variables.
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_quan"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                database_url,
            ])
            .env("QUAN_ADMIN_KEY", ADMIN)
            .env("QUAN_TIME_ZONE", super::ZONE)
            // The tests' webhook receivers listen on this host.
            .env("QUAN_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn quan serve");
        let server = Server {
            url: format!("http://127.0.0.1:{port}"),
            child,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{}/healthz", server.url)).send().await {
                if r.status().is_success() {
                    return server;
                }
            }
            assert!(Instant::now() < deadline, "quan serve did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, as a crash or an OOM kill would.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
