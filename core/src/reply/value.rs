//! [`Value`]: a reply as shardis returns it to bindings (RESP2 shapes plus what RESP3
//! servers may send).

use std::fmt;

/// A Redis reply.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// Null bulk string / null array.
    Nil,
    /// Integer reply.
    Int(i64),
    /// Bulk string (binary safe).
    Bulk(Vec<u8>),
    /// The simple string `+OK`, the most common reply (kept apart so it costs no
    /// allocation).
    Okay,
    /// Any other simple string (`+PONG`, `+QUEUED`, …).
    Status(String),
    /// Array reply.
    Array(Vec<Value>),
    /// Map (RESP3, and shardis' per-node replies `node → reply`).
    Map(Vec<(Value, Value)>),
    /// Double (RESP3).
    Double(f64),
    /// Boolean (RESP3).
    Boolean(bool),
    /// An error nested inside an array (`EXEC` results). Top-level errors are `Err`.
    Error(String),
}

impl Value {
    /// True for `+OK`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Value::Okay) || matches!(self, Value::Status(s) if s == "OK")
    }

    /// The bytes of a bulk or simple string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) => Some(b),
            Value::Okay => Some(b"OK"),
            Value::Status(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// An integer, also from a numeric string.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            Value::Status(s) => s.parse().ok(),
            Value::Boolean(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Take the elements of an array.
    pub fn into_array(self) -> Option<Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Lossy text of a string value (for display).
    pub fn to_text(&self) -> Option<String> {
        self.as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Bulk(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Value::Okay => f.write_str("+OK"),
            Value::Status(s) => write!(f, "+{s}"),
            Value::Array(a) => f.debug_list().entries(a).finish(),
            Value::Map(m) => f
                .debug_map()
                .entries(m.iter().map(|(k, v)| (k, v)))
                .finish(),
            Value::Double(d) => write!(f, "{d}"),
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Error(e) => write!(f, "-{e}"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Bulk(s.as_bytes().to_vec())
    }
}
