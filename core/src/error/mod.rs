//! Errors: one [`Error`] type with a [`ErrorKind`] that bindings map once onto
//! their exception trees / result codes. Server error replies carry a typed
//! [`ServerCode`], classified once where the reply is parsed (`code`); the one failure
//! decision (`exec::decide`) works from kinds and codes, never by parsing messages.

mod code;

use std::fmt;

pub use code::{RedirectTarget, ServerCode};
pub(crate) use code::{fuzz_check_redirect, is_dns_name};

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration is invalid. The message names the key and the problem.
    Config,
    /// The keys of one command (or transaction) live on different nodes; nothing was sent.
    CrossShard,
    /// The command cannot be routed by shardis (connection-state or pub/sub commands).
    Unsupported,
    /// The arguments cannot be routed (wrong arity, bad `numkeys`, bad cursor); nothing was sent.
    InvalidArgument,
    /// No connection could be made (refused, unreachable, connect timeout); nothing was sent.
    Connect,
    /// The server rejected the handshake (`AUTH`, `SELECT`); nothing else was sent.
    Auth,
    /// The connection failed after the request may have been sent (reset, EOF).
    Io,
    /// The call's deadline passed.
    Timeout,
    /// A write failed after it may have reached the server: it may or may not have been
    /// executed. It is not retried automatically. [`Error::cause`] tells why (I/O or timeout).
    Indeterminate,
    /// The server sent something that is not valid RESP.
    Protocol,
    /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`). See [`Error::code`].
    Server,
}

impl ErrorKind {
    /// A short, stable, lower-case name (`"cross_shard"`), used in stats and CLI output.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Config => "config",
            ErrorKind::CrossShard => "cross_shard",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Connect => "connect",
            ErrorKind::Auth => "auth",
            ErrorKind::Io => "io",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Indeterminate => "indeterminate",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Server => "server",
        }
    }

    /// True when the request cannot have reached a server (safe to retry anything).
    pub fn nothing_sent(self) -> bool {
        matches!(
            self,
            ErrorKind::Config
                | ErrorKind::CrossShard
                | ErrorKind::Unsupported
                | ErrorKind::InvalidArgument
                | ErrorKind::Connect
                | ErrorKind::Auth
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A shardis error: a kind, a human message, and where known the node involved.
///
/// Messages never contain passwords (configuration errors name keys, not values,
/// for secrets).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    node: Option<String>,
    cause: Option<ErrorKind>,
    /// Boxed: errors are rare, and a small `Error` keeps `Result<Value>` small on the hot
    /// path.
    code: Option<Box<ServerCode>>,
}

/// `Result` with shardis' [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            node: None,
            cause: None,
            code: None,
        }
    }

    /// An error reply from the server at `node` (host `answering_host`), classified once:
    /// a [`ServerCode`] for error replies, or a protocol error naming the node for a
    /// redirect that cannot be followed.
    pub(crate) fn from_reply(message: String, answering_host: &str, node: &str) -> Self {
        match code::classify(&message, answering_host) {
            Ok(code) => Error {
                kind: ErrorKind::Server,
                message,
                node: Some(node.to_owned()),
                cause: None,
                code: Some(Box::new(code)),
            },
            Err(why) => Error::new(
                ErrorKind::Protocol,
                format!("cannot follow redirect: {why}"),
            )
            .with_node(node),
        }
    }

    /// Attach the node (`host:port`) the error relates to.
    pub fn with_node(mut self, node: impl Into<String>) -> Self {
        self.node = Some(node.into());
        self
    }

    /// A configuration error naming `key`.
    pub fn config(key: &str, problem: impl fmt::Display) -> Self {
        if key.is_empty() {
            Error::new(ErrorKind::Config, format!("invalid config: {problem}"))
        } else {
            Error::new(
                ErrorKind::Config,
                format!("invalid config: {key}: {problem}"),
            )
        }
    }

    /// The same error (kind, code, node) with `context` after its message, so the
    /// message still starts with the server's code (`"MOVED 3 h:1 (gave up: too many
    /// redirects)"`).
    pub(crate) fn with_context(mut self, context: &str) -> Self {
        self.message = format!("{} ({context})", self.message);
        self
    }

    /// Turn an I/O or timeout failure of a write into an indeterminate error.
    pub(crate) fn into_indeterminate(self) -> Self {
        let cause = self.kind;
        Error {
            kind: ErrorKind::Indeterminate,
            message: format!(
                "write may or may not have been executed ({}): {}",
                cause.as_str(),
                self.message
            ),
            node: self.node,
            cause: Some(cause),
            code: None,
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the node.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The node (`host:port`) involved, if any.
    pub fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    /// For [`ErrorKind::Indeterminate`]: what happened ([`ErrorKind::Io`] or [`ErrorKind::Timeout`]).
    pub fn cause(&self) -> Option<ErrorKind> {
        self.cause
    }

    /// True for timeouts, including an indeterminate write that timed out.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout || self.cause == Some(ErrorKind::Timeout)
    }

    /// For an error reply from a server: its typed code (redirects with their target).
    pub fn server_code(&self) -> Option<&ServerCode> {
        self.code.as_deref()
    }

    /// For [`ErrorKind::Server`]: the error code, the first word of the reply (`"WRONGTYPE"`).
    pub fn code(&self) -> Option<&str> {
        if self.kind != ErrorKind::Server {
            return None;
        }
        self.message.split_whitespace().next()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(node) => write!(f, "{} (node {node})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {self})", self.kind)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_error_code_is_first_word() {
        let e = Error::new(ErrorKind::Server, "WRONGTYPE Operation against a key");
        assert_eq!(e.code(), Some("WRONGTYPE"));
        assert_eq!(Error::new(ErrorKind::Io, "x").code(), None);
    }

    #[test]
    fn replies_are_classified_once_and_bad_redirects_are_protocol_errors() {
        let moved = Error::from_reply("MOVED 5 :7001".into(), "10.0.0.1", "10.0.0.1:7000");
        assert_eq!(moved.kind(), ErrorKind::Server);
        assert_eq!(
            moved.server_code(),
            Some(&ServerCode::Moved(RedirectTarget {
                slot: 5,
                addr: "10.0.0.1:7001".into()
            }))
        );
        let bad = Error::from_reply("MOVED 1 127.0:3333".into(), "h", "h:1");
        assert_eq!(bad.kind(), ErrorKind::Protocol);
        assert_eq!(bad.node(), Some("h:1"));
        assert!(bad.message().contains("127.0:3333"), "{bad}");
        assert_eq!(bad.server_code(), None);
    }

    #[test]
    fn indeterminate_keeps_cause_and_node() {
        let e = Error::new(ErrorKind::Timeout, "read timed out")
            .with_node("127.0.0.1:1")
            .into_indeterminate();
        assert_eq!(e.kind(), ErrorKind::Indeterminate);
        assert_eq!(e.cause(), Some(ErrorKind::Timeout));
        assert!(e.is_timeout());
        assert_eq!(e.node(), Some("127.0.0.1:1"));
        assert!(e.to_string().contains("127.0.0.1:1"));
    }
}
