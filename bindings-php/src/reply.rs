//! Core replies → PHP values in phpredis' shapes: a missing value is `false`, `+OK` is
//! `true`, field/value and member/score lists become associative arrays.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpException;
use ext_php_rs::types::{ArrayKey, ZendHashTable, ZendStr, Zval};
use shardis::Value;

/// How a command's reply is shaped for PHP.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// The generic conversion (`rawCommand`, `__call`, `eval`): nil → `false`, `+OK` → `true`.
    Raw,
    /// `true`/`false`: `+OK`, or an integer reply ≠ 0; nil → `false`.
    Bool,
    /// A string or `false` (`get`).
    StrOrFalse,
    /// A float (`incrByFloat`, `zScore`); nil → `false`.
    Float,
    /// `[k, v, k, v]` → `[k => v]` (`hGetAll`).
    Pairs,
    /// `[m, s, m, s]` → `[m => (float) s]` (`zRange(..., true)`).
    Scores,
    /// Values zipped with the requested names (`hMGet`: `[field => value|false]`).
    Zip(Vec<Vec<u8>>),
    /// `TYPE`'s status → the `Client::REDIS_*` constants.
    KeyType,
    /// `INFO`'s text → `[name => value]` (per node when several answered).
    Info,
}

/// A PHP string from bytes (binary-safe).
pub(crate) fn string_zval(bytes: &[u8]) -> Zval {
    let mut z = Zval::new();
    z.set_zend_string(ZendStr::new(bytes, false));
    z
}

/// A PHP bool.
pub(crate) fn bool_zval(b: bool) -> Zval {
    let mut z = Zval::new();
    z.set_bool(b);
    z
}

fn array_zval(ht: ZBox<ZendHashTable>) -> Zval {
    let mut z = Zval::new();
    z.set_hashtable(ht);
    z
}

/// Insert under a key made from reply bytes, as PHP itself would: a canonical decimal
/// (`"42"`, `"-7"`) becomes an integer key, so `$h[42]` finds it.
pub(crate) fn insert_bytes_key(
    ht: &mut ZendHashTable,
    key: &[u8],
    v: Zval,
) -> Result<(), PhpException> {
    let res = match canonical_int(key) {
        Some(i) => ht.insert(ArrayKey::Long(i), v),
        None => {
            let k = ZendStr::new(key, false);
            ht.insert(ArrayKey::ZendString(&k), v)
        }
    };
    res.map_err(|e| crate::errors::internal(format!("building the reply array: {e}")))
}

fn canonical_int(key: &[u8]) -> Option<i64> {
    let digits = key.strip_prefix(b"-").unwrap_or(key);
    let canonical = match digits {
        [b'0'] => key.len() == 1,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    std::str::from_utf8(key).ok()?.parse().ok()
}

fn push(ht: &mut ZendHashTable, v: Zval) -> Result<(), PhpException> {
    ht.push(v)
        .map_err(|e| crate::errors::internal(format!("building the reply array: {e}")))
}

/// The generic conversion.
pub(crate) fn raw(v: Value) -> Result<Zval, PhpException> {
    Ok(match v {
        Value::Nil | Value::Error(_) => bool_zval(false),
        Value::Int(i) => {
            let mut z = Zval::new();
            z.set_long(i);
            z
        }
        Value::Bulk(b) => string_zval(&b),
        Value::Okay => bool_zval(true),
        Value::Status(s) => string_zval(s.as_bytes()),
        Value::Array(items) => {
            let mut ht = ZendHashTable::with_capacity(u32::try_from(items.len()).unwrap_or(0));
            for item in items {
                push(&mut ht, raw(item)?)?;
            }
            array_zval(ht)
        }
        Value::Map(pairs) => {
            let mut ht = ZendHashTable::new();
            for (k, v) in pairs {
                insert_bytes_key(&mut ht, &key_bytes(&k), raw(v)?)?;
            }
            array_zval(ht)
        }
        Value::Double(f) => {
            let mut z = Zval::new();
            z.set_double(f);
            z
        }
        Value::Boolean(b) => bool_zval(b),
        _ => bool_zval(false),
    })
}

fn key_bytes(k: &Value) -> Vec<u8> {
    match k {
        Value::Bulk(b) => b.clone(),
        Value::Status(s) => s.as_bytes().to_vec(),
        Value::Int(i) => i.to_string().into_bytes(),
        other => format!("{other:?}").into_bytes(),
    }
}

fn to_float(v: &Value) -> Option<f64> {
    match v {
        Value::Double(f) => Some(*f),
        Value::Int(i) => Some(*i as f64),
        Value::Bulk(b) => parse_float(b),
        Value::Status(s) => parse_float(s.as_bytes()),
        _ => None,
    }
}

fn parse_float(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    match s {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

fn float_zval(v: &Value) -> Zval {
    match to_float(v) {
        Some(f) => {
            let mut z = Zval::new();
            z.set_double(f);
            z
        }
        None => bool_zval(false),
    }
}

/// `[a, b, c, d]` → `[a => f(b), c => f(d)]`.
fn pairs(
    items: Vec<Value>,
    value: fn(Value) -> Result<Zval, PhpException>,
) -> Result<Zval, PhpException> {
    let mut ht = ZendHashTable::with_capacity(u32::try_from(items.len() / 2).unwrap_or(0));
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        insert_bytes_key(&mut ht, &key_bytes(&k), value(v)?)?;
    }
    Ok(array_zval(ht))
}

fn key_type_code(name: &str) -> i64 {
    match name {
        "string" => 1,
        "set" => 2,
        "list" => 3,
        "zset" => 4,
        "hash" => 5,
        "stream" => 6,
        _ => 0,
    }
}

fn info(text: &[u8]) -> Result<Zval, PhpException> {
    let mut ht = ZendHashTable::new();
    for line in text.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"#") {
            continue;
        }
        if let Some(colon) = line.iter().position(|&c| c == b':') {
            insert_bytes_key(&mut ht, &line[..colon], string_zval(&line[colon + 1..]))?;
        }
    }
    Ok(array_zval(ht))
}

/// Roughly what a reply costs as PHP values (strings and array buckets; an over-estimate).
fn php_size(v: &Value) -> usize {
    match v {
        Value::Bulk(b) => b.len() + 32,
        Value::Status(s) | Value::Error(s) => s.len() + 32,
        Value::Array(items) => 64 + items.iter().map(|i| 32 + php_size(i)).sum::<usize>(),
        Value::Map(pairs) => {
            64 + pairs
                .iter()
                .map(|(k, v)| 32 + php_size(k) + php_size(v))
                .sum::<usize>()
        }
        _ => 16,
    }
}

/// Replies smaller than this are converted without asking the engine about memory.
const LARGE_REPLY: usize = 1 << 20;

/// `memory_limit` in bytes (`None` when unlimited or unreadable).
fn memory_limit() -> Option<usize> {
    let text = crate::engine::ini("memory_limit")?
        .trim()
        .to_ascii_lowercase();
    let (digits, unit) = match text.char_indices().last()? {
        (i, 'k') => (&text[..i], 1 << 10),
        (i, 'm') => (&text[..i], 1 << 20),
        (i, 'g') => (&text[..i], 1 << 30),
        _ => (text.as_str(), 1),
    };
    let n: i64 = digits.trim().parse().ok()?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n > 0)
        .map(|n| n.saturating_mul(unit))
}

/// A reply too large for `memory_limit` is refused before any PHP value is built: running
/// out of memory while building it would be a fatal error that jumps over this code (and the
/// reply's Rust memory would never be freed).
fn check_fits(v: &Value) -> Result<(), PhpException> {
    let size = php_size(v);
    if size < LARGE_REPLY {
        return Ok(());
    }
    let (Some(limit), Some(used)) = (memory_limit(), crate::engine::memory_in_use()) else {
        return Ok(());
    };
    if used.saturating_add(size) > limit {
        return Err(crate::errors::internal(format!(
            "the reply needs about {size} bytes as PHP values, more than memory_limit allows \
             ({limit} bytes, {used} in use); it was read and dropped, nothing else changed"
        )));
    }
    Ok(())
}

/// Shape a reply.
pub(crate) fn shape(v: Value, shape: &Shape) -> Result<Zval, PhpException> {
    check_fits(&v)?;
    match shape {
        Shape::Raw => raw(v),
        Shape::Bool => Ok(bool_zval(match &v {
            Value::Int(i) => *i != 0,
            Value::Nil => false,
            Value::Boolean(b) => *b,
            other => other.is_ok() || matches!(other, Value::Status(_) | Value::Bulk(_)),
        })),
        Shape::StrOrFalse => match v {
            Value::Bulk(_) | Value::Nil => raw(v),
            Value::Status(s) => Ok(string_zval(s.as_bytes())),
            Value::Okay => Ok(string_zval(b"OK")),
            other => raw(other),
        },
        Shape::Float => Ok(float_zval(&v)),
        Shape::Pairs => match v {
            Value::Array(items) => pairs(items, raw),
            other => raw(other),
        },
        Shape::Scores => match v {
            Value::Array(items) => pairs(items, |s| Ok(float_zval(&s))),
            other => raw(other),
        },
        Shape::Zip(names) => match v {
            Value::Array(items) => {
                let mut ht = ZendHashTable::with_capacity(u32::try_from(names.len()).unwrap_or(0));
                for (name, item) in names.iter().zip(items) {
                    insert_bytes_key(&mut ht, name, raw(item)?)?;
                }
                Ok(array_zval(ht))
            }
            other => raw(other),
        },
        Shape::KeyType => {
            let name = v.to_text().unwrap_or_default();
            let mut z = Zval::new();
            z.set_long(key_type_code(&name));
            Ok(z)
        }
        Shape::Info => match v {
            Value::Bulk(text) => info(&text),
            Value::Map(per_node) => {
                let mut ht = ZendHashTable::new();
                for (node, reply) in per_node {
                    let parsed = match reply {
                        Value::Bulk(text) => info(&text)?,
                        other => raw(other)?,
                    };
                    insert_bytes_key(&mut ht, &key_bytes(&node), parsed)?;
                }
                Ok(array_zval(ht))
            }
            other => raw(other),
        },
    }
}
