//! TLS on the caller's thread (rustls over a blocking `TcpStream`): the handshake within the
//! connect time limit, and errors that say what went wrong — unknown CA, name mismatch,
//! expired certificate, a plaintext server on a TLS port, a client certificate the server
//! refused — and name the node. Never a silent fall-back to plaintext.
//!
//! One [`TlsConnector`] per core keeps a TLS session cache per node (nodes often share a name:
//! one IP with several ports, or one `tls.server_name`, and a ticket is only good at the node
//! that issued it), so a reconnect resumes instead of paying a full handshake. The caches
//! belong to one process: a forked child starts with empty ones and never takes a lock a
//! parent thread may have held at `fork()`.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use parking_lot::Mutex;

use rustls::pki_types::ServerName;
use rustls::{AlertDescription, CertificateError, ClientConnection, HandshakeKind};

use crate::config::TlsConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::process;

/// TLS 1.3 tickets (and a TLS 1.2 session) kept per node: a few, as several connections to
/// one node reconnect at once after a failure.
const SESSIONS_PER_NODE: usize = 8;

/// A TLS connection over a blocking socket.
pub(crate) type TlsStream = rustls::StreamOwned<ClientConnection, TcpStream>;

/// Starts TLS connections with one configuration (and one session cache).
pub(crate) struct TlsConnector {
    /// The verified settings every node's client is cloned from.
    base: Arc<rustls::ClientConfig>,
    server_name: Option<ServerName<'static>>,
    /// This process' clients, one per node address (each with its own session cache).
    per_node: ArcSwap<ProcessClients>,
}

/// The per-node clients of one process generation.
struct ProcessClients {
    generation: u64,
    by_node: Mutex<HashMap<String, Arc<rustls::ClientConfig>>>,
}

impl ProcessClients {
    fn new() -> ProcessClients {
        ProcessClients {
            generation: process::generation(),
            by_node: Mutex::new(HashMap::new()),
        }
    }
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// A connector for `tls` (with a session cache of its own).
    pub(crate) fn new(tls: &TlsConfig) -> Result<TlsConnector> {
        Ok(TlsConnector {
            base: crate::config::tls_client_config(tls)?,
            server_name: tls.server_name.clone(),
            per_node: ArcSwap::from_pointee(ProcessClients::new()),
        })
    }

    /// The client (and so the session cache) for `node`, in this process.
    fn client_for(&self, node: &str) -> Arc<rustls::ClientConfig> {
        let mut clients = self.per_node.load_full();
        if clients.generation != process::generation() {
            // A forked child: the parent's caches (and their locks) are left alone.
            let fresh = Arc::new(ProcessClients::new());
            let previous = self.per_node.compare_and_swap(&clients, fresh);
            if Arc::ptr_eq(&previous, &clients) {
                std::mem::forget(previous);
            }
            clients = self.per_node.load_full();
        }
        let mut by_node = clients.by_node.lock();
        by_node
            .entry(node.to_owned())
            .or_insert_with(|| {
                let mut config = (*self.base).clone();
                config.resumption =
                    rustls::client::Resumption::in_memory_sessions(SESSIONS_PER_NODE);
                Arc::new(config)
            })
            .clone()
    }

    /// Run the TLS handshake on `sock` within `limit`. `host` is the node's host (the name
    /// verified and sent as SNI unless `tls.server_name` says otherwise). Returns the stream
    /// and whether the session was resumed.
    pub(crate) fn handshake(
        &self,
        mut sock: TcpStream,
        host: &str,
        node: &str,
        limit: Duration,
        timeout_kind: ErrorKind,
    ) -> Result<(TlsStream, bool)> {
        let name = match &self.server_name {
            Some(name) => name.clone(),
            None => ServerName::try_from(host.to_owned()).map_err(|_| {
                Error::new(
                    ErrorKind::Connect,
                    format!("TLS: {host:?} is not a name a certificate can be checked against"),
                )
                .with_node(node)
            })?,
        };
        let fail = |what: String, kind: ErrorKind| {
            Error::new(kind, format!("TLS handshake failed: {what}")).with_node(node)
        };
        let setup = |e: io::Error| fail(format!("socket set-up: {e}"), ErrorKind::Connect);
        sock.set_read_timeout(Some(limit)).map_err(setup)?;
        sock.set_write_timeout(Some(limit)).map_err(setup)?;
        let mut conn = ClientConnection::new(self.client_for(node), name.clone())
            .map_err(|e| fail(e.to_string(), ErrorKind::Connect))?;
        let mut wire = Recording {
            sock: &mut sock,
            first: Vec::new(),
        };
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut wire) {
                let (what, kind) = describe_handshake_error(&e, &wire.first, &name);
                let kind = if kind == ErrorKind::Timeout {
                    timeout_kind
                } else {
                    kind
                };
                return Err(fail(what, kind));
            }
        }
        let resumed = conn.handshake_kind() == Some(HandshakeKind::Resumed);
        Ok((rustls::StreamOwned::new(conn, sock), resumed))
    }
}

/// The socket, keeping the first bytes the server sent (to tell a plaintext server apart).
struct Recording<'a> {
    sock: &'a mut TcpStream,
    first: Vec<u8>,
}

impl Read for Recording<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.sock.read(buf)?;
        if self.first.len() < 8 {
            let take = n.min(8 - self.first.len());
            self.first.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

impl Write for Recording<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

/// What a failed handshake means, in words a user can act on, and its error kind.
fn describe_handshake_error(
    e: &io::Error,
    first: &[u8],
    name: &ServerName<'_>,
) -> (String, ErrorKind) {
    if matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        let hint = if first.is_empty() {
            " (a plaintext server on a TLS port waits like this: is TLS on at the server?)"
        } else {
            ""
        };
        return (
            format!("no answer within the connect timeout{hint}"),
            ErrorKind::Timeout,
        );
    }
    if looks_like_plaintext_redis(first) {
        return (
            "the server answered in plaintext: it is not a TLS port (use redis:// or \
             tls.enabled = false for a plaintext server)"
                .to_owned(),
            ErrorKind::Connect,
        );
    }
    if let Some(tls) = rustls_error(e) {
        return (describe(tls, &name.to_str()), ErrorKind::Connect);
    }
    if e.kind() == io::ErrorKind::UnexpectedEof || first.is_empty() {
        return (
            format!("the server closed the connection during the handshake ({e})"),
            ErrorKind::Connect,
        );
    }
    (e.to_string(), ErrorKind::Connect)
}

/// A RESP reply (`-ERR …`, `+…`) where a TLS record was expected.
fn looks_like_plaintext_redis(first: &[u8]) -> bool {
    matches!(first.first(), Some(b'-' | b'+' | b'$' | b'*' | b':'))
}

/// The rustls error inside an I/O error, if any.
pub(crate) fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A rustls error in words, for a connection to `name`.
pub(crate) fn describe(e: &rustls::Error, name: &str) -> String {
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => {
                "unknown CA: the server's certificate is not signed by a trusted authority \
                 (tls.ca_file, or the platform's roots)"
                    .to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "name mismatch: the server's certificate is not valid for {name} (set \
                     tls.server_name to a name it holds)"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "expired certificate: the server's certificate is no longer valid".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate not yet valid (is the clock right?)".to_owned()
            }
            other => format!("invalid server certificate: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => match alert {
            AlertDescription::CertificateRequired => {
                "the server requires a client certificate (set tls.cert_file and tls.key_file)"
                    .to_owned()
            }
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateExpired
            | AlertDescription::AccessDenied => {
                format!("the server refused the client certificate (alert {alert:?})")
            }
            AlertDescription::ProtocolVersion | AlertDescription::HandshakeFailure => {
                format!("no TLS version or cipher in common with the server (alert {alert:?})")
            }
            other => format!("the server sent TLS alert {other:?}"),
        },
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            format!("the server did not speak TLS ({e})")
        }
        other => other.to_string(),
    }
}

/// Does the server at `addr` speak TLS? One new connection, a ClientHello, and a look at the
/// first bytes back (a TLS handshake record starts `0x16 0x03`), within `limit`. Asked only
/// after a plaintext connection was dropped before its first reply.
pub(crate) fn speaks_tls(addr: SocketAddr, limit: Duration) -> bool {
    let Some(config) = crate::config::tls_probe_config() else {
        return false;
    };
    let Ok(mut sock) = TcpStream::connect_timeout(&addr, limit) else {
        return false;
    };
    if sock.set_read_timeout(Some(limit)).is_err() || sock.set_write_timeout(Some(limit)).is_err() {
        return false;
    }
    let Ok(mut conn) = ClientConnection::new(config, ServerName::IpAddress(addr.ip().into()))
    else {
        return false;
    };
    let mut hello = Vec::new();
    if conn.write_tls(&mut hello).is_err() || sock.write_all(&hello).is_err() {
        return false;
    }
    let mut head = [0u8; 2];
    sock.read_exact(&mut head).is_ok() && head == [0x16, 0x03]
}

/// Connection-level failure text for an I/O error on an established TLS connection (a
/// TLS 1.3 server refuses a client certificate only after the client's handshake ended, so
/// the refusal arrives with the first reply).
pub(crate) fn describe_io(e: &io::Error, host: &str) -> Option<String> {
    Some(format!("TLS: {}", describe(rustls_error(e)?, host)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_failure() {
        let name = "127.0.0.1";
        let unknown = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        assert!(describe(&unknown, name).starts_with("unknown CA"));
        let expired = rustls::Error::InvalidCertificate(CertificateError::Expired);
        assert!(describe(&expired, name).starts_with("expired certificate"));
        let mismatch = rustls::Error::InvalidCertificate(CertificateError::NotValidForName);
        assert!(describe(&mismatch, name).contains("not valid for 127.0.0.1"));
        let required = rustls::Error::AlertReceived(AlertDescription::CertificateRequired);
        assert!(describe(&required, name).contains("requires a client certificate"));
        assert!(looks_like_plaintext_redis(b"-ERR unknown"));
        assert!(!looks_like_plaintext_redis(&[0x16, 0x03, 0x03]));
    }
}
