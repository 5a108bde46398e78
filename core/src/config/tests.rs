//! Config parsing and validation: every bad configuration fails at construction with an
//! error naming the key and the problem, and passwords never show.

use super::*;
use crate::ErrorKind;

const GOOD: &str = r#"
mode = "ring_hash"
nodes = ["127.0.0.1:7001", { addr = "127.0.0.1:7002", weight = 2, name = "s2" }]
hash_tags = true
connect_timeout = "250ms"
timeout = 1500
persistent_id = "main"
[ring_hash]
min_ring_size = 2048
hash_function = "murmur_hash_2"
[auth]
username = "app"
password = "MARKER-PASSWORD-42"
"#;

#[test]
fn parses_a_full_toml_config() {
    let c = Config::from_toml_str(GOOD).unwrap();
    assert_eq!(c.mode(), Mode::RingHash);
    assert_eq!(c.nodes().len(), 2);
    assert_eq!(c.nodes()[1].weight, 2);
    assert_eq!(c.nodes()[1].name.as_deref(), Some("s2"));
    assert_eq!(c.hash_tags(), Some(*b"{}"));
    assert_eq!(c.connect_timeout(), Duration::from_millis(250));
    assert_eq!(c.timeout(), Duration::from_millis(1500));
    assert_eq!(c.ring_hash.min_ring_size, 2048);
    assert_eq!(c.ring_hash.hash_function, HashFunction::MurmurHash2);
    assert_eq!(c.registry_key(), "main");
}

#[test]
fn json_url_and_builder_agree_with_toml() {
    let json =
        r#"{"mode":"maglev","nodes":["127.0.0.1:1","127.0.0.1:2"],"maglev":{"table_size":251}}"#;
    let a = Config::from_json_str(json).unwrap();
    let b = Config::from_url("redis://127.0.0.1:1,127.0.0.1:2?mode=maglev&maglev.table_size=251")
        .unwrap();
    let c = Config::builder()
        .mode(Mode::Maglev)
        .node("127.0.0.1:1")
        .node("127.0.0.1:2")
        .maglev_table_size(251)
        .build()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(a.fingerprint(), c.fingerprint());
}

#[test]
fn defaults_follow_the_proxies() {
    let c = Config::from_toml_str("mode = \"ketama\"\nnodes = [\"127.0.0.1:1\"]").unwrap();
    assert_eq!(
        c.hash_tags(),
        None,
        "twemproxy has no hash_tag unless configured"
    );
    assert_eq!(
        c.key_hash,
        HashFunction::Fnv1a64,
        "twemproxy's default hash"
    );
    assert_eq!(c.timeout(), DEFAULT_TIMEOUT);
    let c = Config::from_toml_str("mode = \"cluster\"\nnodes = [\"127.0.0.1:1\"]").unwrap();
    assert_eq!(
        c.hash_tags(),
        Some(*b"{}"),
        "Redis Cluster always hashes tags"
    );
}

/// (config, key that the error must name, words the problem must contain)
const BAD: &[(&str, &str, &str)] = &[
    ("nodes = [\"127.0.0.1:1\"]", "mode", "missing"),
    (
        "mode = \"consistent\"\nnodes = [\"127.0.0.1:1\"]",
        "mode",
        "unknown variant",
    ),
    (
        "mode = \"ring_hash\"\nnodes = []",
        "nodes",
        "at least one node",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"localhost\"]",
        "nodes[0].addr",
        "host:port",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:70000\"]",
        "nodes[0].addr",
        "out of range",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:x\"]",
        "nodes[0].addr",
        "not a number",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [{ addr = \"h:1\", weight = 0 }]",
        "nodes[0].weight",
        "at least 1",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\", \"h:1\"]",
        "nodes[1].addr",
        "twice",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [{ addr = \"h:1\", name = \"a\" }, { addr = \"h:2\", name = \"a\" }]",
        "nodes[1].name",
        "twice",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [{ addr = \"h:1\", wieght = 2 }]",
        "nodes[0].wieght",
        "unknown field",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\ntimeout = \"soon\"",
        "timeout",
        "not a duration",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\ntimeout = 0",
        "timeout",
        "greater than 0",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\nconnect_timeout = -5",
        "connect_timeout",
        "negative",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\ntmeout = \"1s\"",
        "tmeout",
        "unknown field",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[ring_hash]\nmin_ring_size = 4096\nmax_ring_size = 1024",
        "ring_hash.min_ring_size",
        "larger than",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[ring_hash]\nhash_function = \"md5\"",
        "ring_hash.hash_function",
        "Envoy",
    ),
    (
        "mode = \"maglev\"\nnodes = [\"h:1\"]\n[maglev]\ntable_size = 65536",
        "maglev.table_size",
        "not a prime",
    ),
    (
        "mode = \"ketama\"\nnodes = [\"h:1\"]\n[ketama]\nhash = \"sha1\"",
        "ketama.hash",
        "unknown variant",
    ),
    (
        "mode = \"ketama\"\nnodes = [\"h:1\"]\n[ketama]\nhash = \"xx_hash\"",
        "ketama.hash",
        "twemproxy",
    ),
    (
        "mode = \"jump\"\nnodes = [{ addr = \"h:1\", weight = 3 }]",
        "nodes[0].weight",
        "jump",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\nhash_tags = \"{\"",
        "hash_tags",
        "two delimiter",
    ),
    (
        "mode = \"cluster\"\nnodes = [\"h:1\"]\nhash_tags = false",
        "hash_tags",
        "cluster",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\nread_from = \"replica\"",
        "read_from",
        "replicas",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\nread_from = \"nearest\"",
        "read_from",
        "unknown variant",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\ndb = -1",
        "db",
        "negative",
    ),
    (
        "mode = \"cluster\"\nnodes = [\"h:1\"]\ndb = 2",
        "db",
        "database 0",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[auth]\nusername = \"app\"",
        "auth.password",
        "missing",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[maglev]\ntable_size = 251",
        "maglev",
        "applies to mode maglev",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\npersistent_id = \"\"",
        "persistent_id",
        "printable",
    ),
    (
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\ntcp_keepalive = true",
        "tcp_keepalive",
        "false",
    ),
    (
        "mode = \"ring_hash\"\nnodes = \"h:1\"",
        "nodes",
        "invalid type",
    ),
    ("mode = [", "", "TOML"),
];

#[test]
fn bad_configs_name_the_key_and_the_problem() {
    assert!(BAD.len() >= 10);
    for (text, key, problem) in BAD {
        let err = match Config::from_toml_str(text) {
            Ok(c) => panic!("accepted bad config {text:?}: {c:?}"),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::Config, "{text:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{key}:")) || key.is_empty(),
            "{text:?}: error {msg:?} does not name {key:?}"
        );
        assert!(
            msg.contains(problem),
            "{text:?}: error {msg:?} does not say {problem:?}"
        );
    }
}

#[test]
fn bad_urls_and_json_are_config_errors() {
    for url in [
        "ftp://h:1",
        "redis://",
        "redis://h:1,h:2",
        "redis://h:1/x",
        "redis://h:1?timeout=nope",
        "redis://h:1?nodes=h:2",
        "rediss://h:1?tls.ca_file=/nonexistent/ca.pem",
        "redis://h:1?mode=ring_hash&mode=maglev",
    ] {
        let e = Config::from_url(url).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{url}");
    }
    let e = Config::from_json_str("{\"mode\":\"ring_hash\",\"nodes\":[\"h:1\"],}").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
}

#[test]
fn passwords_never_show() {
    let c = Config::from_toml_str(GOOD).unwrap();
    assert!(!format!("{c:?}").contains("MARKER-PASSWORD-42"));
    let spec = ConfigSpec {
        auth: Some(AuthSpec {
            username: None,
            password: Some("MARKER-PASSWORD-42".into()),
            password_file: None,
        }),
        ..Default::default()
    };
    assert!(!format!("{spec:?}").contains("MARKER-PASSWORD-42"));
    let u = Config::from_url("redis://u:MARKER-PASSWORD-42@h:1").unwrap();
    assert!(!format!("{u:?}").contains("MARKER-PASSWORD-42"));
    // Errors raised while a password is present.
    for bad in [
        "redis://u:MARKER-PASSWORD-42@h:1?timeout=x",
        "redis://u:MARKER-PASSWORD-42@h",
        "redis://u:MARKER-PASSWORD-42@h:1/zz",
    ] {
        let e = Config::from_url(bad).unwrap_err();
        assert!(!e.to_string().contains("MARKER-PASSWORD-42"), "{e}");
        assert!(!format!("{e:?}").contains("MARKER-PASSWORD-42"), "{e:?}");
    }
    let e = Config::from_toml_str("mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[auth]\npassword = 42")
        .unwrap_err();
    assert!(e.to_string().contains("auth.password"), "{e}");
    assert!(!e.to_string().contains("42"), "{e}");
    // A syntax error on the password line must not quote the line.
    let e = Config::from_toml_str("mode = \"ring_hash\"\n[auth]\npassword = \"MARKER-PASSWORD-42")
        .unwrap_err();
    assert!(!e.to_string().contains("MARKER-PASSWORD-42"), "{e}");
    let e = Config::from_json_str("{\"auth\": {\"password\": \"MARKER-PASSWORD-42\"}, \"x\": }")
        .unwrap_err();
    assert!(!e.to_string().contains("MARKER-PASSWORD-42"), "{e}");
}

#[test]
fn fingerprint_differs_when_the_password_differs() {
    let a = Config::from_url("redis://:one@h:1").unwrap();
    let b = Config::from_url("redis://:two@h:1").unwrap();
    assert_ne!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.registry_key(), b.registry_key());
    assert!(!a.registry_key().contains("one"));
}

#[test]
fn parse_any_detects_the_format() {
    assert_eq!(
        Config::parse_any("redis://h:1").unwrap().mode(),
        Mode::RingHash
    );
    assert_eq!(
        Config::parse_any("{\"mode\":\"jump\",\"nodes\":[\"h:1\"]}")
            .unwrap()
            .mode(),
        Mode::Jump
    );
    assert_eq!(
        Config::parse_any("mode = \"modula\"\nnodes = [\"h:1\"]")
            .unwrap()
            .mode(),
        Mode::Modula
    );
}

/// `(username, password)` of a URL config.
fn url_auth(url: &str) -> (Option<String>, String) {
    let c = Config::from_url(url).unwrap();
    let auth = c.auth.unwrap();
    (auth.username, auth.password.expose().to_owned())
}

#[test]
fn url_user_info_is_percent_decoded_and_plus_is_literal() {
    // RFC 3986 user-info has no form-encoding rule: `+` is a `+` (redis-py's `unquote`).
    assert_eq!(url_auth("redis://:pa+ss@h:1").1, "pa+ss");
    assert_eq!(url_auth("redis://:pa%2Bss@h:1").1, "pa+ss");
    assert_eq!(url_auth("redis://:pa%2bss@h:1").1, "pa+ss");
    assert_eq!(url_auth("redis://:p%40ss@h:1").1, "p@ss");
    assert_eq!(url_auth("redis://:pa%20ss@h:1").1, "pa ss");
    assert_eq!(url_auth("redis://:%C3%A9t%C3%A9@h:1").1, "été");
    assert_eq!(url_auth("redis://:a:b@h:1").1, "a:b");
    assert_eq!(
        url_auth("redis://app+ro%3A1:pw@h:1"),
        (Some("app+ro:1".into()), "pw".into())
    );
}

#[test]
fn url_bad_percent_escapes_are_config_errors_naming_the_key() {
    for (url, key) in [
        ("redis://:MARKERPW%zz@h:1", "url.password"),
        ("redis://:MARKERPW%4@h:1", "url.password"),
        ("redis://:MARKERPW%@h:1", "url.password"),
        ("redis://:MARKERPW%+1@h:1", "url.password"),
        ("redis://:MARKERPW%ff@h:1", "url.password"),
        ("redis://MARKERPW%zz:pw@h:1", "url.username"),
        ("redis://h:1?persistent_id=a%zz", "persistent_id"),
        ("redis://h:1?persistent_id=%C3", "persistent_id"),
    ] {
        let e = Config::from_url(url).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{url}");
        let msg = e.to_string();
        assert!(msg.contains(&format!("{key}: ")), "{url}: {msg}");
        assert!(msg.contains("percent-encoding"), "{url}: {msg}");
        assert!(!msg.contains("MARKERPW"), "{url}: {msg}");
    }
}

#[test]
fn url_query_values_are_form_decoded() {
    // Query strings follow form encoding, as redis-py's `parse_qs`: `+` is a space, `%2B` a
    // `+`, escapes are decoded once (`%2520` is `%20`).
    let c = Config::from_url("redis://h:1?persistent_id=a+b%2Bc%2520").unwrap();
    assert_eq!(c.persistent_id(), Some("a b+c%20"));
}

/// A file in the temp dir, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn with(name: &str, contents: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("shardis-{}-{name}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn with_auth(auth: &str) -> Result<Config> {
    Config::from_toml_str(&format!(
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[auth]\n{auth}"
    ))
}

#[test]
fn password_file_is_read_at_construction_and_never_shown() {
    let f = TempFile::with("pw", b"MARKER-FILE-PW-77\n");
    let c = with_auth(&format!(
        "username = \"app\"\npassword_file = {:?}",
        f.path()
    ))
    .unwrap();
    let auth = c.auth.clone().unwrap();
    assert_eq!(
        auth.password.expose(),
        "MARKER-FILE-PW-77",
        "one final newline dropped"
    );
    assert!(!format!("{c:?}").contains("MARKER-FILE-PW-77"));
    let crlf = TempFile::with("pw-crlf", b"MARKER-FILE-PW-77\r\n");
    let c = with_auth(&format!("password_file = {:?}", crlf.path())).unwrap();
    assert_eq!(c.auth.unwrap().password.expose(), "MARKER-FILE-PW-77");

    let e = with_auth("password_file = \"/nonexistent/shardis-pw\"").unwrap_err();
    assert!(e.to_string().contains("auth.password_file"), "{e}");
    assert!(e.to_string().contains("/nonexistent/shardis-pw"), "{e}");
    let e = with_auth(&format!("password = \"x\"\npassword_file = {:?}", f.path())).unwrap_err();
    assert!(e.to_string().contains("not both"), "{e}");
    let empty = TempFile::with("pw-empty", b"\n");
    let e = with_auth(&format!("password_file = {:?}", empty.path())).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let two = TempFile::with("pw-two", b"MARKER-FILE-PW-77\nsecond\n");
    let e = with_auth(&format!("password_file = {:?}", two.path())).unwrap_err();
    assert!(e.to_string().contains("more than one line"), "{e}");
    assert!(!e.to_string().contains("MARKER-FILE-PW-77"), "{e}");
    let e = with_auth("username = \"app\"").unwrap_err();
    assert!(e.to_string().contains("auth.password"), "{e}");
}

fn with_tls(tls: &str) -> Result<Config> {
    Config::from_toml_str(&format!(
        "mode = \"ring_hash\"\nnodes = [\"h:1\"]\n[tls]\n{tls}"
    ))
}

#[test]
fn tls_files_fail_at_construction_naming_the_key() {
    let e = with_tls("ca_file = \"/nonexistent/ca.pem\"").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("tls.ca_file"), "{e}");
    let not_pem = TempFile::with("not-pem", b"MARKER-NOT-A-CERT");
    let e = with_tls(&format!("ca_file = {:?}", not_pem.path())).unwrap_err();
    assert!(e.to_string().contains("tls.ca_file"), "{e}");
    assert!(!e.to_string().contains("MARKER-NOT-A-CERT"), "{e}");
    let e = with_tls("cert_file = \"/x/c.pem\"").unwrap_err();
    assert!(e.to_string().contains("tls.key_file"), "{e}");
    let e = with_tls("key_file = \"/x/k.pem\"").unwrap_err();
    assert!(e.to_string().contains("tls.cert_file"), "{e}");
    let e = with_tls("server_name = \"not a name\"").unwrap_err();
    assert!(e.to_string().contains("tls.server_name"), "{e}");
    let e = with_tls("colour = \"blue\"").unwrap_err();
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn tls_table_turns_tls_on_unless_disabled() {
    let on = with_tls("insecure_skip_verify = true").unwrap();
    assert!(on.tls().is_some_and(|t| t.insecure_skip_verify));
    let off = with_tls("enabled = false").unwrap();
    assert!(off.tls().is_none());
    assert_ne!(on.fingerprint(), off.fingerprint());
}
