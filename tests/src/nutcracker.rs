//! The real twemproxy (Debian's `nutcracker` 0.5.0) in front of real servers.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::ports::free_port;
use crate::process::{Guarded, TempDir, wait_until};

/// One `servers:` line: `host:port:weight [name]`.
#[derive(Debug, Clone)]
pub struct TwemServer {
    /// `127.0.0.1:port`.
    pub addr: String,
    /// Weight.
    pub weight: u32,
    /// Optional server name.
    pub name: Option<String>,
}

/// A running nutcracker pool.
#[derive(Debug)]
pub struct Nutcracker {
    process: Guarded,
    port: u16,
    _dir: TempDir,
}

impl Nutcracker {
    /// Start a pool with `distribution`, `hash` and optional `hash_tag`.
    pub fn start(
        distribution: &str,
        hash: &str,
        hash_tag: Option<&str>,
        servers: &[TwemServer],
    ) -> Nutcracker {
        let dir = TempDir::new("nutcracker");
        let port = free_port();
        let stats = free_port();
        let mut conf = format!(
            "pool:\n  listen: 127.0.0.1:{port}\n  hash: {hash}\n  distribution: {distribution}\n  redis: true\n  auto_eject_hosts: false\n  timeout: 5000\n"
        );
        if let Some(tag) = hash_tag {
            conf.push_str(&format!("  hash_tag: \"{tag}\"\n"));
        }
        conf.push_str("  servers:\n");
        for s in servers {
            match &s.name {
                Some(n) => conf.push_str(&format!("   - {}:{} {n}\n", s.addr, s.weight)),
                None => conf.push_str(&format!("   - {}:{}\n", s.addr, s.weight)),
            }
        }
        let path = dir.path().join("nutcracker.yml");
        std::fs::write(&path, conf).unwrap_or_else(|e| panic!("write nutcracker conf: {e}"));
        let log = dir.path().join("nutcracker.log");
        let mut cmd = Command::new("nutcracker");
        cmd.arg("-c")
            .arg(&path)
            .args(["-s", &stats.to_string(), "-a", "127.0.0.1", "-v", "5"])
            .arg("-o")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut process = Guarded::spawn(cmd)
            .unwrap_or_else(|e| panic!("cannot run nutcracker (apt-get install nutcracker): {e}"));
        let up = wait_until(Duration::from_secs(10), || {
            process.is_running() && std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        if !up {
            panic!(
                "nutcracker did not start:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        Nutcracker {
            process,
            port,
            _dir: dir,
        }
    }

    /// A `redis` crate connection to the proxy (no CLIENT SETINFO: twemproxy rejects it).
    pub fn connection(&self) -> redis::Connection {
        crate::plain_connection(self.port, "nutcracker")
    }

    /// Stop it.
    pub fn stop(mut self) {
        self.process.terminate(Duration::from_secs(2));
    }
}
