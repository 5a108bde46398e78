//! Real `redis-server` processes on free 127.0.0.1 ports, plaintext or TLS.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use redis::Value;

use crate::ports::free_port;
use crate::process::{Guarded, TempDir, wait_until};
use crate::tls::{TlsClient, TlsFiles};

/// Extra settings for a server.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `requirepass` for the default user.
    pub password: Option<String>,
    /// An ACL user `(name, password)` with all permissions.
    pub acl_user: Option<(String, String)>,
    /// Extra `--name value` arguments.
    pub extra: Vec<(String, String)>,
    /// Serve TLS only (no plaintext port): [`RedisServer::port`] is the TLS port, and the
    /// harness's own connections use TLS.
    pub tls: Option<TlsServer>,
    /// An ACL user `(name, password, rules)`: `on >password` then the space-separated
    /// `rules` (e.g. `~lim:* &* +@read`), given as a `--user` argument so that it exists
    /// from the start, on every node and after every restart.
    pub limited_user: Option<(String, String, String)>,
}

/// Which certificate a TLS server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ServerCert {
    /// `server.pem`: from the test CA, for 127.0.0.1 and localhost.
    #[default]
    Valid,
    /// `expired.pem`: from the test CA, expired.
    Expired,
    /// `wrong-name.pem`: from the test CA, for `wrong.example` only.
    WrongName,
    /// `other-server.pem`: from an unrelated CA.
    OtherCa,
}

/// TLS settings of a server: `--port 0 --tls-port <port>`, the certificate it presents,
/// `tls-ca-cert-file ca.pem`, `tls-auth-clients yes|no`, `tls-replication yes` (and
/// `tls-cluster yes` for cluster nodes); for its own outgoing links (replication, cluster
/// bus, MIGRATE) a node presents `client.pem`.
#[derive(Debug, Clone)]
pub struct TlsServer {
    /// The PKI.
    pub files: Arc<TlsFiles>,
    /// The certificate presented.
    pub cert: ServerCert,
    /// `tls-auth-clients yes`: clients must present a certificate from the test CA.
    pub auth_clients: bool,
}

impl TlsServer {
    /// `server.pem`, no client certificates required.
    pub fn new(files: Arc<TlsFiles>) -> TlsServer {
        TlsServer {
            files,
            cert: ServerCert::Valid,
            auth_clients: false,
        }
    }

    /// [`TlsServer::new`] over the process's shared PKI ([`TlsFiles::shared`]).
    pub fn shared() -> TlsServer {
        TlsServer::new(TlsFiles::shared())
    }

    /// Require client certificates (mutual TLS).
    pub fn mutual(mut self) -> TlsServer {
        self.auth_clients = true;
        self
    }

    /// Present `cert` instead.
    pub fn presenting(mut self, cert: ServerCert) -> TlsServer {
        self.cert = cert;
        self
    }

    /// The certificate and key files presented.
    pub fn cert_and_key(&self) -> (PathBuf, PathBuf) {
        let f = &self.files;
        match self.cert {
            ServerCert::Valid => (f.server_cert(), f.server_key()),
            ServerCert::Expired => (f.expired_cert(), f.expired_key()),
            ServerCert::WrongName => (f.wrong_name_cert(), f.wrong_name_key()),
            ServerCert::OtherCa => (f.other_server_cert(), f.other_server_key()),
        }
    }

    /// How a well-configured client reaches this server: trusting the CA that issued its
    /// certificate, presenting `client.pem` when client certificates are required. It
    /// verifies the server fully, so it fails on `Expired` and `WrongName`.
    pub fn client(&self) -> TlsClient {
        let f = &self.files;
        let ca = match self.cert {
            ServerCert::OtherCa => f.other_ca(),
            _ => f.ca(),
        };
        let client = TlsClient::trusting(&ca);
        if self.auth_clients {
            client.with_identity(&f.client_cert(), &f.client_key())
        } else {
            client
        }
    }

    /// The harness's own (admin) client: [`TlsServer::client`], not verifying the
    /// deliberately bad certificates.
    fn admin(&self) -> TlsClient {
        let mut client = self.client();
        client.insecure = matches!(self.cert, ServerCert::Expired | ServerCert::WrongName);
        client
    }

    fn args(&self, port: u16, cluster: bool) -> Vec<std::ffi::OsString> {
        let (cert, key) = self.cert_and_key();
        let f = &self.files;
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        let mut pair = |k: &str, v: std::ffi::OsString| {
            args.push(k.into());
            args.push(v);
        };
        pair("--port", "0".into());
        pair("--tls-port", port.to_string().into());
        pair("--tls-cert-file", cert.into());
        pair("--tls-key-file", key.into());
        pair("--tls-ca-cert-file", f.ca().into());
        pair("--tls-client-cert-file", f.client_cert().into());
        pair("--tls-client-key-file", f.client_key().into());
        pair("--tls-auth-clients", yes_no(self.auth_clients).into());
        pair("--tls-replication", "yes".into());
        // Start a full sync at once instead of waiting 5 s (7.0's default) for more
        // replicas to share it: a 3+3 TLS cluster is up in about 2 s instead of 6 s.
        pair("--repl-diskless-sync-delay", "0".into());
        if cluster {
            pair("--tls-cluster", "yes".into());
        }
        args
    }
}

/// One `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    process: Guarded,
    port: u16,
    /// Cluster bus port, for cluster nodes.
    bus_port: Option<u16>,
    options: ServerOptions,
    dir: TempDir,
}

fn redis_server_binary() -> String {
    std::env::var("SHARDIS_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_string())
}

impl RedisServer {
    /// Start a standalone server.
    pub fn start() -> RedisServer {
        RedisServer::start_with(ServerOptions::default())
    }

    /// Start a standalone server with options.
    pub fn start_with(options: ServerOptions) -> RedisServer {
        RedisServer::start_inner(options, false)
    }

    /// Start a cluster-enabled node (no slots yet; see `Cluster`).
    pub fn start_cluster_node(options: ServerOptions) -> RedisServer {
        RedisServer::start_inner(options, true)
    }

    fn start_inner(options: ServerOptions, cluster: bool) -> RedisServer {
        let dir = TempDir::new("redis");
        let mut last_error = String::new();
        // A port can be taken between "free" and bind: try a few.
        for _ in 0..5 {
            let port = free_port();
            let bus_port = cluster.then(free_port);
            match spawn(port, bus_port, &options, &dir) {
                Ok(mut process) => {
                    if wait_ready(&mut process, port, &options) {
                        return RedisServer {
                            process,
                            port,
                            bus_port,
                            options,
                            dir,
                        };
                    }
                    process.kill();
                    last_error = log_tail(&dir);
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// The whole server log so far (every start of this server appends to it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("redis.log")).unwrap_or_default()
    }

    /// Last lines of the server log (for failure messages).
    pub fn log_tail(&self) -> String {
        log_tail(&self.dir)
    }

    /// The port (the TLS port for a TLS server).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:port`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The cluster bus port (cluster nodes only).
    pub fn bus_port(&self) -> u16 {
        self.bus_port.unwrap_or(0)
    }

    /// Is the process running?
    pub fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    /// The options it was started with.
    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// Its TLS settings (TLS servers only).
    pub fn tls(&self) -> Option<&TlsServer> {
        self.options.tls.as_ref()
    }

    /// Run one command, returning errors instead of panicking (short timeouts).
    pub fn try_cmd(&self, args: &[&str]) -> Result<Value, String> {
        let mut con = admin_client(self.port, &self.options)
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(500)))
            .map_err(|e| e.to_string())?;
        con.set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c.query(&mut con).map_err(|e| e.to_string())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A direct `redis` crate connection (as the admin / the test's observer; over TLS to
    /// a TLS server).
    pub fn connection(&self) -> redis::Connection {
        let client =
            admin_client(self.port, &self.options).unwrap_or_else(|e| panic!("client: {e}"));
        client
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// `DEBUG SLEEP seconds` from another thread and connection: the server stalls.
    pub fn debug_sleep_in_background(&self, seconds: f64) -> std::thread::JoinHandle<()> {
        let mut con = self.connection();
        std::thread::spawn(move || {
            let _: () = redis::cmd("DEBUG")
                .arg("SLEEP")
                .arg(seconds)
                .query(&mut con)
                .unwrap_or_else(|e| panic!("DEBUG SLEEP: {e}"));
        })
    }

    /// Run one command directly on this server.
    pub fn cmd(&self, args: &[&str]) -> Value {
        let mut con = self.connection();
        let mut c = redis::cmd(args[0]);
        for a in &args[1..] {
            c.arg(*a);
        }
        c.query(&mut con)
            .unwrap_or_else(|e| panic!("{args:?} on {}: {e}", self.addr()))
    }

    /// All keys on this server (KEYS *), sorted.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut con = self.connection();
        let mut keys: Vec<Vec<u8>> = redis::cmd("KEYS")
            .arg("*")
            .query(&mut con)
            .unwrap_or_else(|e| panic!("KEYS on {}: {e}", self.addr()));
        keys.sort();
        keys
    }

    /// A counter from `INFO stats` (e.g. `total_connections_received`).
    pub fn info_stat(&self, name: &str) -> i64 {
        let info = self.cmd(&["INFO", "stats"]);
        let text = match info {
            Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::VerbatimString { text, .. } => text,
            other => panic!("INFO: {other:?}"),
        };
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in INFO stats"))
    }

    /// SIGKILL the server.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// Start again on the same port (after [`RedisServer::kill`]).
    pub fn restart(&mut self) {
        self.process.kill();
        let ok = wait_until(Duration::from_secs(10), || {
            match spawn(self.port, self.bus_port, &self.options, &self.dir) {
                Ok(p) => {
                    self.process = p;
                    true
                }
                Err(_) => false,
            }
        });
        assert!(ok, "could not respawn redis-server on {}", self.port);
        let ready = wait_ready(&mut self.process, self.port, &self.options);
        assert!(ready, "restart: {}", self.log_tail());
    }

    /// Graceful stop: SIGTERM (the server flushes its AOF / writes its RDB if configured and
    /// exits), SIGKILL after `grace`. Start it again with [`RedisServer::restart`].
    pub fn shutdown(&mut self, grace: Duration) {
        self.process.terminate(grace);
    }

    /// One `INFO section` as text, or why not (down, loading…).
    pub fn try_info(&self, section: &str) -> Result<String, String> {
        match self.try_cmd(&["INFO", section])? {
            Value::BulkString(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Value::VerbatimString { text, .. } => Ok(text),
            other => Err(format!("INFO {section}: {other:?}")),
        }
    }

    /// One `name:value` field of `INFO section`, if the server answers and has it.
    pub fn info_field(&self, section: &str, name: &str) -> Option<String> {
        let text = self.try_info(section).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.trim().to_string())
    }

    /// Stop (SIGSTOP) / continue (SIGCONT) the process.
    pub fn pause(&self, paused: bool) {
        self.process
            .signal(if paused { libc::SIGSTOP } else { libc::SIGCONT });
    }
}

fn wait_ready(process: &mut Guarded, port: u16, options: &ServerOptions) -> bool {
    let mut exited = false;
    let ready = wait_until(Duration::from_secs(10), || {
        exited = !process.is_running();
        exited
            || match options.tls {
                None => ping(port, options.password.as_deref()),
                Some(_) => tls_ping(port, options),
            }
    });
    ready && !exited
}

/// The harness's client for a server: the password if any, no CLIENT SETINFO, TLS for a
/// TLS server.
fn admin_client(port: u16, options: &ServerOptions) -> redis::RedisResult<redis::Client> {
    let mut info = redis::RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(p) = &options.password {
        info = info.set_password(p);
    }
    match &options.tls {
        None => redis::Client::open(crate::connection_info(port).set_redis_settings(info)),
        Some(tls) => tls.admin().client(port, info),
    }
}

/// PING over the admin TLS connection (AUTH first with a password).
fn tls_ping(port: u16, options: &ServerOptions) -> bool {
    let Ok(mut con) = admin_client(port, options)
        .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(500)))
    else {
        return false;
    };
    if con
        .set_read_timeout(Some(Duration::from_millis(500)))
        .is_err()
    {
        return false;
    }
    redis::cmd("PING").query::<String>(&mut con).is_ok()
}

fn log_tail(dir: &TempDir) -> String {
    let log = std::fs::read_to_string(dir.path().join("redis.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().rev().take(10).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

fn spawn(
    port: u16,
    bus_port: Option<u16>,
    options: &ServerOptions,
    dir: &TempDir,
) -> std::io::Result<Guarded> {
    let mut cmd = Command::new(redis_server_binary());
    let d = dir.path();
    match &options.tls {
        None => cmd.arg("--port").arg(port.to_string()),
        Some(tls) => cmd.args(tls.args(port, bus_port.is_some())),
    };
    cmd.args([
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ])
    .args(["--enable-debug-command", "yes", "--protected-mode", "no"])
    .arg("--dir")
    .arg(d)
    .arg("--logfile")
    .arg(d.join("redis.log"))
    .arg("--dbfilename")
    .arg(format!("dump-{port}.rdb"));
    if let Some(p) = &options.password {
        cmd.args(["--requirepass", p]);
    }
    if let Some((user, pass)) = &options.acl_user {
        // Separate arguments: redis-server joins them into one `user …` config line.
        cmd.arg("--user")
            .arg(user)
            .args(["on", &format!(">{pass}"), "~*", "&*", "+@all"]);
    }
    if let Some((user, pass, rules)) = &options.limited_user {
        cmd.arg("--user")
            .arg(user)
            .args(["on", &format!(">{pass}")])
            .args(rules.split_whitespace());
    }
    if let Some(bus) = bus_port {
        cmd.args([
            "--cluster-enabled",
            "yes",
            "--cluster-port",
            &bus.to_string(),
        ])
        .arg("--cluster-config-file")
        .arg(d.join(format!("nodes-{port}.conf")))
        .args([
            "--cluster-node-timeout",
            &crate::cluster::NODE_TIMEOUT_MS.to_string(),
        ]);
    }
    for (k, v) in &options.extra {
        cmd.arg(format!("--{k}")).arg(v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Guarded::spawn(cmd)
}

fn ping(port: u16, password: Option<&str>) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut req = Vec::new();
    if let Some(p) = password {
        req.extend_from_slice(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{p}\r\n", p.len()).as_bytes());
    }
    req.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
    if s.write_all(&req).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(5).any(|w| w == b"+PONG") {
            return true;
        }
        if got.starts_with(b"-") {
            return false;
        }
    }
    false
}

/// Several standalone servers (a shard set for ring_hash, maglev, ketama…).
#[derive(Debug)]
pub struct StandaloneSet {
    /// The servers, in start order.
    pub servers: Vec<RedisServer>,
}

impl StandaloneSet {
    /// Start `n` servers.
    pub fn start(n: usize) -> StandaloneSet {
        StandaloneSet::start_with(n, ServerOptions::default())
    }

    /// Start `n` servers with the same options.
    pub fn start_with(n: usize, options: ServerOptions) -> StandaloneSet {
        StandaloneSet {
            servers: (0..n)
                .map(|_| RedisServer::start_with(options.clone()))
                .collect(),
        }
    }

    /// `127.0.0.1:port` of each server.
    pub fn addrs(&self) -> Vec<String> {
        self.servers.iter().map(RedisServer::addr).collect()
    }

    /// Flush every server.
    pub fn flush_all(&self) {
        for s in &self.servers {
            s.cmd(&["FLUSHALL"]);
        }
    }
}
