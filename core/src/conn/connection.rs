//! One blocking connection to one node, driven by the calling thread (ARCHITECTURE §4):
//! `TCP_NODELAY`, keepalive, connect timeout, AUTH + SELECT on every (re)connect, and
//! socket timeouts that follow the call's deadline. Replies are parsed by `resp` from the
//! connection's own read buffer.
//!
//! Any failure after bytes were written poisons the connection: the caller drops it, so a
//! late reply can never be read by the next request (G4).

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::resp::{self, Parsed, ProtocolError};
use super::stream::Stream;
use super::tls::{self, TlsConnector};
use crate::command::write_command;
use crate::config::{Auth, Config};
use crate::error::{Error, ErrorKind, Result};
use crate::reply::Value;

/// A socket timeout is only changed when it differs from the remaining time by more than
/// this: the steady state (one command per call) then costs no `setsockopt`.
const TIMEOUT_SLACK: Duration = Duration::from_millis(1);

/// Connections idle longer than this are probed (a non-blocking `MSG_PEEK`, no network
/// round trip) before reuse, so a server restart between calls is noticed before a write is
/// sent into a dead socket.
const PROBE_IDLE_AFTER: Duration = Duration::from_millis(10);

/// The longest a TLS probe of a node that dropped a new plaintext connection may take (a
/// TLS port answers a ClientHello at once; a plaintext one never does).
const TLS_PROBE_LIMIT: Duration = Duration::from_millis(500);

/// Write and read buffers up to this size are kept for the next call.
const MAX_KEPT_BUFFER: usize = 64 * 1024;
/// Initial read buffer, and the minimum a full buffer grows by.
const READ_CHUNK: usize = 16 * 1024;

/// What every connection needs from the config.
#[derive(Debug, Clone)]
pub(crate) struct ConnSettings {
    pub connect_timeout: Duration,
    pub keepalive: Option<Duration>,
    pub auth: Option<Auth>,
    pub db: i64,
    /// Send `READONLY` (cluster mode with a read policy that uses replicas; harmless on a
    /// primary, so every connection gets it and a node's role may change freely).
    pub readonly: bool,
    /// TLS to every node (one connector, so one session cache, per core).
    pub tls: Option<Arc<TlsConnector>>,
}

impl ConnSettings {
    pub(crate) fn from_config(c: &Config) -> Result<ConnSettings> {
        let tls = match c.tls() {
            Some(t) => Some(Arc::new(TlsConnector::new(t)?)),
            None => None,
        };
        Ok(ConnSettings {
            connect_timeout: c.connect_timeout,
            keepalive: c.tcp_keepalive,
            auth: c.auth.clone(),
            db: c.db,
            readonly: c.mode == crate::config::Mode::Cluster
                && c.read_from != crate::config::ReadFrom::Primary,
            tls,
        })
    }
}

/// A reply or a server error reply (the connection is fine either way).
pub(crate) type Reply = Result<Value>;

/// A live connection.
pub(crate) struct Conn {
    stream: Stream,
    /// For TLS connections: whether the handshake resumed an earlier session.
    tls_resumed: Option<bool>,
    /// A reply was read on this connection (a new plaintext connection reset before its
    /// first reply is most likely a TLS port).
    answered: bool,
    /// The node's socket address (to probe it for TLS).
    peer: Option<SocketAddr>,
    /// Read buffer: bytes `rstart..rend` are received and not yet parsed. Zeroed once when
    /// (re)allocated, never per reply.
    rbuf: Vec<u8>,
    rstart: usize,
    rend: usize,
    read_timeout: Duration,
    write_timeout: Duration,
    /// When the connection was last checked in (decides whether it is probed before reuse).
    last_used: Instant,
    /// A clock reading the caller took just before handing the connection a request: the
    /// next deadline computation uses it instead of reading the clock again (consumed once).
    clock_hint: Option<Instant>,
    node: String,
    /// The node's host (an empty host in a redirect means this one).
    host: String,
    wbuf: Vec<u8>,
}

fn io_kind(e: &io::Error) -> ErrorKind {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ErrorKind::Timeout,
        _ => ErrorKind::Io,
    }
}

impl Conn {
    /// Connect to `host:port` within `deadline`, then authenticate and select the database.
    pub(crate) fn connect(
        node: &str,
        host: &str,
        port: u16,
        settings: &ConnSettings,
        deadline: Instant,
    ) -> Result<Conn> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| {
                Error::new(ErrorKind::Connect, format!("cannot resolve {host}: {e}"))
                    .with_node(node)
            })?
            .collect();
        let mut last = Error::new(ErrorKind::Connect, format!("{host} resolved to no address"))
            .with_node(node);
        for addr in addrs {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(
                    Error::new(ErrorKind::Timeout, "deadline passed while connecting")
                        .with_node(node),
                );
            }
            let limit = settings.connect_timeout.min(remaining);
            let by_deadline = limit < settings.connect_timeout;
            match TcpStream::connect_timeout(&addr, limit) {
                Ok(stream) => return Conn::setup(stream, node, host, settings, deadline),
                Err(e) => {
                    let by_deadline = by_deadline && io_kind(&e) == ErrorKind::Timeout;
                    let kind = if by_deadline {
                        ErrorKind::Timeout
                    } else {
                        ErrorKind::Connect
                    };
                    last = Error::new(kind, format!("connect to {addr}: {e}")).with_node(node);
                }
            }
        }
        Err(last)
    }

    fn setup(
        stream: TcpStream,
        node: &str,
        host: &str,
        settings: &ConnSettings,
        deadline: Instant,
    ) -> Result<Conn> {
        let fail = |e: io::Error| {
            Error::new(ErrorKind::Connect, format!("socket setup: {e}")).with_node(node)
        };
        stream.set_nodelay(true).map_err(fail)?;
        if let Some(idle) = settings.keepalive {
            let ka = socket2::TcpKeepalive::new()
                .with_time(idle)
                .with_interval(Duration::from_secs(idle.as_secs().clamp(1, 10)))
                .with_retries(3);
            socket2::SockRef::from(&stream)
                .set_tcp_keepalive(&ka)
                .map_err(fail)?;
        }
        let stream_peer = stream.peer_addr().ok();
        let (stream, tls_resumed) = match &settings.tls {
            None => (Stream::Plain(stream), None),
            Some(tls) => {
                let remaining = deadline.saturating_duration_since(Instant::now());
                let limit = settings.connect_timeout.min(remaining);
                if limit.is_zero() {
                    return Err(
                        Error::new(ErrorKind::Timeout, "deadline passed while connecting")
                            .with_node(node),
                    );
                }
                let timeout_kind = if limit < settings.connect_timeout {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Connect
                };
                let (tls_stream, resumed) =
                    tls.handshake(stream, host, node, limit, timeout_kind)?;
                (Stream::Tls(Box::new(tls_stream)), Some(resumed))
            }
        };
        let mut conn = Conn {
            stream,
            tls_resumed,
            answered: false,
            peer: stream_peer,
            rbuf: vec![0; READ_CHUNK],
            rstart: 0,
            rend: 0,
            read_timeout: Duration::ZERO,
            write_timeout: Duration::ZERO,
            last_used: Instant::now(),
            clock_hint: None,
            node: node.to_owned(),
            host: host.to_owned(),
            wbuf: Vec::with_capacity(256),
        };
        conn.handshake(settings, deadline)?;
        Ok(conn)
    }

    fn handshake(&mut self, settings: &ConnSettings, deadline: Instant) -> Result<()> {
        let mut buf = Vec::new();
        let mut steps: Vec<&str> = Vec::new();
        if let Some(auth) = &settings.auth {
            match &auth.username {
                Some(user) => write_command(
                    &mut buf,
                    &[b"AUTH", user.as_bytes(), auth.password.expose().as_bytes()],
                ),
                None => write_command(&mut buf, &[b"AUTH", auth.password.expose().as_bytes()]),
            }
            steps.push("authentication failed");
        }
        if settings.db != 0 {
            write_command(&mut buf, &[b"SELECT", settings.db.to_string().as_bytes()]);
            steps.push("SELECT failed");
        }
        if settings.readonly {
            write_command(&mut buf, &[b"READONLY"]);
            steps.push("READONLY failed");
        }
        if steps.is_empty() && self.stream.is_tls() {
            // A TLS 1.3 server judges the client certificate after the client's handshake
            // ended: one round trip makes a refusal a connect error, not the first reply.
            write_command(&mut buf, &[b"PING"]);
            steps.push("PING failed");
        }
        if steps.is_empty() {
            return Ok(());
        }
        let node = self.node.clone();
        let as_connect = |e: Error| {
            if e.kind() == ErrorKind::Timeout {
                e
            } else {
                Error::new(ErrorKind::Connect, format!("handshake: {}", e.message()))
                    .with_node(&node)
            }
        };
        self.send(&buf, deadline).map_err(as_connect)?;
        for what in steps {
            let reply = self.recv(deadline).map_err(as_connect)?;
            if let Err(e) = reply {
                // The server's message (WRONGPASS …) never contains the password.
                return Err(
                    Error::new(ErrorKind::Auth, format!("{what}: {}", e.message()))
                        .with_node(&self.node),
                );
            }
        }
        Ok(())
    }

    /// Is this a TLS connection?
    pub(crate) fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// For a TLS connection, whether its handshake resumed an earlier session.
    pub(crate) fn tls_resumed(&self) -> Option<bool> {
        self.tls_resumed
    }

    /// Let the next deadline computation use `now` (taken by the caller moments ago, with
    /// nothing blocking since) instead of reading the clock.
    #[inline]
    pub(crate) fn use_clock(&mut self, now: Instant) {
        self.clock_hint = Some(now);
    }

    /// Record that the connection was used at `now` (on checkin).
    #[inline]
    pub(crate) fn mark_used(&mut self, now: Instant) {
        self.last_used = now;
    }

    fn remaining(&mut self, deadline: Instant) -> Result<Duration> {
        let now = self.clock_hint.take().unwrap_or_else(Instant::now);
        let rem = deadline.saturating_duration_since(now);
        if rem.is_zero() {
            return Err(
                Error::new(ErrorKind::Timeout, "call deadline passed").with_node(&self.node)
            );
        }
        Ok(rem)
    }

    fn needs_update(current: Duration, wanted: Duration) -> bool {
        current.is_zero() || current > wanted + TIMEOUT_SLACK || current + TIMEOUT_SLACK < wanted
    }

    /// Write a whole request buffer within the deadline.
    pub(crate) fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<()> {
        let rem = self.remaining(deadline)?;
        if Conn::needs_update(self.write_timeout, rem) {
            self.stream.set_write_timeout(rem).map_err(|e| {
                Error::new(ErrorKind::Io, format!("set timeout: {e}")).with_node(&self.node)
            })?;
            self.write_timeout = rem;
        }
        self.stream.write_all(bytes).map_err(|e| {
            let kind = io_kind(&e);
            let msg = tls::describe_io(&e, &self.host).unwrap_or_else(|| format!("write: {e}"));
            Error::new(kind, msg).with_node(&self.node)
        })
    }

    /// Read one reply within the deadline. `Err` means the connection is broken (drop it);
    /// `Ok(Err(_))` is a server error reply.
    pub(crate) fn recv(&mut self, deadline: Instant) -> Result<Reply> {
        let mut need = 0;
        loop {
            let buffered = self.rend - self.rstart;
            if buffered > 0 && buffered >= need {
                match resp::parse(&self.rbuf[self.rstart..self.rend]) {
                    Ok(Parsed::Done(reply, used)) => {
                        self.answered = true;
                        self.rstart += used;
                        if self.rstart == self.rend {
                            self.reset_buffer();
                        }
                        // Error replies are classified here, once (typed code, or a
                        // protocol error for a redirect that cannot be followed).
                        return Ok(
                            reply.map_err(|msg| Error::from_reply(msg, &self.host, &self.node))
                        );
                    }
                    Ok(Parsed::Need(more)) => need = buffered + more,
                    Err(ProtocolError(why)) => {
                        return Err(Error::new(
                            ErrorKind::Protocol,
                            format!("invalid reply: {why}"),
                        )
                        .with_node(&self.node));
                    }
                }
            }
            self.fill(deadline)?;
        }
    }

    /// Read more bytes into the buffer (compacting or growing it first if it is full).
    fn fill(&mut self, deadline: Instant) -> Result<()> {
        let rem = self.remaining(deadline);
        if let Ok(rem) = rem
            && Conn::needs_update(self.read_timeout, rem)
        {
            self.stream.set_read_timeout(rem).map_err(|e| {
                Error::new(ErrorKind::Io, format!("set timeout: {e}")).with_node(&self.node)
            })?;
            self.read_timeout = rem;
        }
        if self.rend == self.rbuf.len() {
            if self.rstart > 0 {
                self.rbuf.copy_within(self.rstart..self.rend, 0);
                self.rend -= self.rstart;
                self.rstart = 0;
            } else {
                // Grown buffers double, so a large reply is read (and parsed) in few steps.
                let bigger = (self.rbuf.len() * 2).max(READ_CHUNK);
                self.rbuf.resize(bigger, 0);
            }
        }
        let read = match rem {
            Ok(_) => self.stream.read(&mut self.rbuf[self.rend..]),
            // Out of time: still take what already arrived, without waiting (a node read
            // after another one used up the deadline may have answered long ago).
            Err(late) => match self.stream.read_waiting_none(&mut self.rbuf[self.rend..]) {
                Ok(0) | Err(_) => return Err(late),
                Ok(n) => Ok(n),
            },
        };
        match read {
            // Closed in the middle of a reply: the server sent something incomplete.
            Ok(0) if self.rend > self.rstart => Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "reply cut off after {} bytes (connection closed by the server)",
                    self.rend - self.rstart
                ),
            )
            .with_node(&self.node)),
            Ok(0) => Err(self.tls_port_error(deadline).unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Io,
                    format!("connection closed by the server{}", self.plaintext_hint()),
                )
                .with_node(&self.node)
            })),
            Ok(n) => {
                self.rend += n;
                Ok(())
            }
            // A signal (PHP's max_execution_time timer, SIGCHLD, …) interrupted the wait:
            // nothing was lost; the caller's loop reads again within the same deadline.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                Err(self.tls_port_error(deadline).unwrap_or_else(|| {
                    Error::new(ErrorKind::Io, format!("read: {e}{}", self.plaintext_hint()))
                        .with_node(&self.node)
                }))
            }
            Err(e) => {
                let kind = io_kind(&e);
                let msg = if kind == ErrorKind::Timeout {
                    "timed out waiting for the reply".to_owned()
                } else if let Some(tls) = tls::describe_io(&e, &self.host) {
                    tls
                } else {
                    format!("read: {e}{}", self.plaintext_hint())
                };
                Err(Error::new(kind, msg).with_node(&self.node))
            }
        }
    }

    /// A new plaintext connection the server dropped before any reply: if the node answers a
    /// TLS ClientHello, it is a TLS port — a connect error, and certainly not executed (a
    /// TLS port cannot run a plaintext command).
    fn tls_port_error(&self, deadline: Instant) -> Option<Error> {
        if self.unanswered_plaintext() {
            let limit = deadline
                .saturating_duration_since(Instant::now())
                .min(TLS_PROBE_LIMIT);
            let peer = self.peer?;
            if !limit.is_zero() && tls::speaks_tls(peer, limit) {
                return Some(
                    Error::new(
                        ErrorKind::Connect,
                        "the server expects TLS: it dropped a plaintext request unprocessed and \
                         answers a TLS handshake (use rediss:// or [tls])",
                    )
                    .with_node(&self.node),
                );
            }
        }
        None
    }

    /// A plaintext connection that has received nothing yet: no reply, no byte.
    fn unanswered_plaintext(&self) -> bool {
        !self.answered && !self.stream.is_tls() && self.rend == self.rstart
    }

    /// Words for a plaintext connection the server dropped before any reply: what a TLS-only
    /// port does with a plaintext request.
    fn plaintext_hint(&self) -> &'static str {
        if !self.unanswered_plaintext() {
            ""
        } else {
            " before any reply on a new plaintext connection: if the server expects TLS, use \
             rediss:// or [tls]"
        }
    }

    /// Everything consumed: start from the beginning (and give back a big buffer).
    fn reset_buffer(&mut self) {
        self.rstart = 0;
        self.rend = 0;
        if self.rbuf.len() > MAX_KEPT_BUFFER {
            self.rbuf.truncate(READ_CHUNK);
            self.rbuf.shrink_to_fit();
        }
    }

    /// Build a request in this connection's reusable buffer and send it.
    pub(crate) fn send_built(
        &mut self,
        build: impl FnOnce(&mut Vec<u8>),
        deadline: Instant,
    ) -> Result<()> {
        let mut buf = std::mem::take(&mut self.wbuf);
        buf.clear();
        build(&mut buf);
        let sent = self.send(&buf, deadline);
        if buf.capacity() <= MAX_KEPT_BUFFER {
            self.wbuf = buf;
        }
        sent
    }

    /// Is this idle connection still usable? Probes with a non-blocking peek when it has been
    /// idle for a while: EOF, an error or unexpected bytes mean it must be dropped.
    pub(crate) fn is_reusable(&mut self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_used) < PROBE_IDLE_AFTER
            || self.stream.is_idle_clean()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_slack_avoids_needless_setsockopt() {
        let full = Duration::from_secs(1);
        assert!(!Conn::needs_update(full, full - Duration::from_micros(50)));
        assert!(Conn::needs_update(full, Duration::from_millis(300)));
        assert!(Conn::needs_update(Duration::ZERO, full));
    }
}
