//! Config URLs: `redis://[user:pass@]h:p[,h2:p2…][/db][?key=value&section.key=value]` and
//! `redis+cluster://…`. Several hosts do not fit a standard URL parser, so this small
//! parser does the job; errors never echo the user-info part (it holds the password).

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::spec::ConfigSpec;
use crate::error::{Error, Result};

/// Keys whose values stay strings even when they look like numbers.
const STRING_KEYS: &[&str] = &["persistent_id", "hash_tags"];

pub(super) fn looks_like_url(text: &str) -> bool {
    [
        "redis://",
        "redis+cluster://",
        "rediss://",
        "rediss+cluster://",
        "valkey://",
        "valkey+cluster://",
        "valkeys://",
        "valkeys+cluster://",
    ]
    .iter()
    // Bytes, not a `str` slice: the text may have a multi-byte character at that index.
    .any(|s| {
        text.as_bytes()
            .get(..s.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(s.as_bytes()))
    })
}

pub(super) fn parse(url: &str) -> Result<ConfigSpec> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Error::config(
            "url",
            "expected scheme://hosts (e.g. redis://127.0.0.1:6379)",
        )
    })?;
    let scheme = scheme.to_ascii_lowercase();
    let (cluster, tls) = match scheme.as_str() {
        "redis" | "valkey" => (false, false),
        "redis+cluster" | "valkey+cluster" => (true, false),
        "rediss" | "valkeys" => (false, true),
        "rediss+cluster" | "valkeys+cluster" => (true, true),
        other => {
            return Err(Error::config(
                "url",
                format!(
                    "unknown scheme {other:?} (use redis://, rediss://, redis+cluster:// or \
                     rediss+cluster://)"
                ),
            ));
        }
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, p),
        None => (before_query, ""),
    };
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };

    let mut obj = Map::new();
    if cluster {
        obj.insert("mode".into(), Value::String("cluster".into()));
    }
    let nodes: Vec<Value> = hosts
        .split(',')
        .filter(|h| !h.is_empty())
        .map(|h| Value::String(h.to_owned()))
        .collect();
    if nodes.is_empty() {
        return Err(Error::config("url", "no host:port given"));
    }
    let node_count = nodes.len();
    obj.insert("nodes".into(), Value::Array(nodes));

    if let Some(info) = userinfo {
        let (user, pass) = match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        };
        let mut auth = Map::new();
        let user = decode(user)
            .map_err(|_| Error::config("url.username", "not valid percent-encoding (UTF-8)"))?;
        if !user.is_empty() {
            auth.insert("username".into(), Value::String(user));
        }
        if let Some(p) = pass {
            let p = decode(p)
                .map_err(|_| Error::config("url.password", "not valid percent-encoding (UTF-8)"))?;
            auth.insert("password".into(), Value::String(p));
        }
        obj.insert("auth".into(), Value::Object(auth));
    }

    let db_path = path.trim_matches('/');
    if !db_path.is_empty() {
        let db: i64 = db_path.parse().map_err(|_| {
            Error::config(
                "db",
                format!("URL path {db_path:?} is not a database number"),
            )
        })?;
        obj.insert("db".into(), Value::from(db));
    }

    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode_query(k).map_err(|_| {
            Error::config(
                "url",
                format!("query key {k:?} is not valid percent-encoding"),
            )
        })?;
        let raw = decode_query(v)
            .map_err(|_| Error::config(&key, "value is not valid percent-encoding"))?;
        if key == "nodes" || key == "auth" || key.starts_with("auth.") {
            return Err(Error::config(
                &key,
                "give hosts and credentials in the URL itself",
            ));
        }
        let value = typed(&key, raw);
        match key.split_once('.') {
            Some((section, field)) => {
                let entry = obj
                    .entry(section.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                match entry {
                    Value::Object(m) => {
                        m.insert(field.to_owned(), value);
                    }
                    _ => return Err(Error::config(&key, format!("{section} is not a section"))),
                }
            }
            None => {
                if obj.insert(key.clone(), value).is_some() {
                    return Err(Error::config(&key, "given twice"));
                }
            }
        }
    }
    match (tls, obj.get_mut("tls")) {
        (true, None) => {
            obj.insert("tls".into(), serde_json::json!({ "enabled": true }));
        }
        (true, Some(Value::Object(section))) => {
            if section.get("enabled") == Some(&Value::Bool(false)) {
                return Err(Error::config(
                    "tls.enabled",
                    format!("{scheme}:// is TLS; use redis:// for plaintext"),
                ));
            }
            section.insert("enabled".into(), Value::Bool(true));
        }
        (false, Some(_)) => {
            return Err(Error::config(
                "tls",
                format!("{scheme}:// is plaintext; use rediss:// (or valkeys://) for TLS"),
            ));
        }
        _ => {}
    }
    if !obj.contains_key("mode") && node_count == 1 {
        // One node: every placement is the same; ring_hash keeps Envoy's semantics.
        obj.insert("mode".into(), Value::String("ring_hash".into()));
    }

    serde_path_to_error::deserialize(Value::Object(obj)).map_err(|e| {
        let path = e.path().to_string();
        super::keyed_error(path, e.into_inner().to_string())
    })
}

fn typed(key: &str, raw: String) -> Value {
    if STRING_KEYS.contains(&key) && raw != "true" && raw != "false" {
        return Value::String(raw);
    }
    if raw == "true" || raw == "false" {
        return Value::Bool(raw == "true");
    }
    if let Ok(i) = raw.parse::<i64>() {
        return Value::from(i);
    }
    Value::String(raw)
}

/// Percent-decodes the user name or the password (RFC 3986 §2.1), as redis-py's `from_url`
/// does with `unquote`: `%40` is `@`, `%2B` is `+`, and a `+` is a plain `+` (user-info has
/// no form-encoding rule, so `redis://:pa+ss@h` authenticates as `pa+ss`). Stricter than
/// `unquote`, which keeps a malformed escape as is: a `%` not followed by two hex digits, or
/// bytes that are not UTF-8, are an error.
fn decode(s: &str) -> std::result::Result<String, ()> {
    let well_formed = s.split('%').skip(1).all(|escape| {
        escape
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return Err(());
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| ())
}

/// Decodes a query key or value. Query strings follow the form-encoding convention that
/// redis-py's `from_url` reads with `parse_qs`: `+` is a space (`%2B` is a literal `+`), then
/// percent-escapes are decoded once, with [`decode`]'s rules.
fn decode_query(s: &str) -> std::result::Result<String, ()> {
    decode(&s.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_auth_db_and_sections() {
        let spec = parse("redis://app:s%40cret@127.0.0.1:7001,127.0.0.1:7002/2?mode=maglev&timeout=250ms&maglev.table_size=251")
            .unwrap();
        assert_eq!(spec.nodes.len(), 2);
        assert_eq!(spec.db, Some(2));
        let auth = spec.auth.unwrap();
        assert_eq!(auth.username.as_deref(), Some("app"));
        assert_eq!(auth.password.as_deref(), Some("s@cret"));
        assert_eq!(spec.maglev.unwrap().table_size, Some(251));
    }

    #[test]
    fn errors_do_not_echo_the_password() {
        let e = parse("redis://u:MARKERPW%zz@h:1").unwrap_err();
        assert!(!e.to_string().contains("MARKERPW"), "{e}");
        let e = parse("ftp://u:MARKERPW@h:1").unwrap_err();
        assert!(!e.to_string().contains("MARKERPW"), "{e}");
    }

    #[test]
    fn tls_schemes_turn_tls_on_and_plain_ones_refuse_tls_keys() {
        for url in [
            "rediss://127.0.0.1:7000?tls.server_name=redis.internal",
            "valkeys://127.0.0.1:7000",
            "rediss+cluster://127.0.0.1:7000",
            "valkeys+cluster://127.0.0.1:7000",
        ] {
            let tls = parse(url).unwrap().tls.unwrap();
            assert_eq!(tls.enabled, Some(true), "{url}");
        }
        let spec = parse("rediss+cluster://127.0.0.1:7000?tls.server_name=r.example").unwrap();
        assert_eq!(spec.mode, Some(super::super::Mode::Cluster));
        assert_eq!(spec.tls.unwrap().server_name.as_deref(), Some("r.example"));
        assert_eq!(parse("redis://127.0.0.1:7000").unwrap().tls, None);
        let e = parse("redis://127.0.0.1:7000?tls.ca_file=/x").unwrap_err();
        assert!(e.to_string().contains("rediss://"), "{e}");
        let e = parse("rediss://127.0.0.1:7000?tls.enabled=false").unwrap_err();
        assert!(e.to_string().contains("tls.enabled"), "{e}");
    }

    #[test]
    fn cluster_scheme_sets_mode() {
        let spec = parse("redis+cluster://127.0.0.1:7000").unwrap();
        assert_eq!(spec.mode, Some(super::super::Mode::Cluster));
    }
}
