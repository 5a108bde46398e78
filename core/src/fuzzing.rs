//! Entry points for the fuzz targets (`fuzz/`) and for the regression tests that replay
//! their findings (`core/tests/fuzz_regressions.rs`). Not a stable API: hidden from the
//! docs, and each function is an *oracle* — it runs one parser of the crate on arbitrary
//! input and panics when an invariant breaks (a crash the fuzzer then reports). Invalid
//! input must give an error, never a panic, an endless loop or an allocation of a size the
//! input merely announces.

use crate::command::Cmd;
use crate::reply::Value;

/// The RESP reply parser on `data`: parsed whole, then fed in the chunks that `cuts` marks
/// (each byte of `cuts` is the length of the next chunk, 0 read as 1; the rest comes in one
/// piece), the way a connection receives it. Both must give the same replies; a valid
/// stream must never announce more missing bytes than are still to come. Returns the
/// number of whole replies parsed.
pub fn resp(data: &[u8], cuts: &[u8]) -> usize {
    let whole = parse_stream(data, &[]);
    let chunked = parse_stream(data, cuts);
    // The same replies, in any chunking. After them, the same error — or, for a malformed
    // stream, still waiting: an incomplete reply waits for the bytes a success would need,
    // so garbage inside it may only be seen later (on a connection: at the deadline, and
    // the connection is dropped either way). A valid stream never waits for bytes that
    // will not come.
    assert_eq!(whole.0, chunked.0, "chunking changed the replies");
    assert!(
        chunked.1 == whole.1 || (whole.1.is_some() && chunked.1.is_none()),
        "chunking changed the error: {:?} vs {:?}",
        whole.1,
        chunked.1
    );
    whole.0.len()
}

/// Replies parsed from a stream, and the error (if any) that stopped it.
type Stream = (Vec<std::result::Result<Value, String>>, Option<String>);

fn parse_stream(data: &[u8], cuts: &[u8]) -> Stream {
    use crate::conn::resp::{Parsed, parse};
    let mut replies = Vec::new();
    let mut received = 0usize;
    let mut start = 0usize;
    let mut need = 0usize;
    let mut chunk = cuts.iter();
    loop {
        let buffered = received - start;
        if buffered > 0 && buffered >= need {
            match parse(&data[start..received]) {
                Ok(Parsed::Done(reply, used)) => {
                    assert!(
                        used > 0 && used <= buffered,
                        "consumed {used} of {buffered}"
                    );
                    replies.push(reply);
                    start += used;
                    need = 0;
                    continue;
                }
                Ok(Parsed::Need(more)) => {
                    assert!(more > 0, "incomplete but needs nothing");
                    need = buffered + more;
                }
                Err(e) => return (replies, Some(e.0)),
            }
        }
        if received == data.len() {
            return (replies, None);
        }
        let step = chunk
            .next()
            .map_or(data.len() - received, |&c| usize::from(c.max(1)));
        received = (received + step).min(data.len());
    }
}

/// `CLUSTER SHARDS` (`slots == false`) or `CLUSTER SLOTS` reply parsing, on the first reply
/// RESP-decoded from `data`: every accepted shard has slots below 16384 and non-empty
/// addresses. Returns the number of shards (0 when the reply was refused).
pub fn cluster_topology(data: &[u8], slots: bool) -> usize {
    let Some(value) = first_value(data) else {
        return 0;
    };
    crate::topology::cluster::fuzz_check_view(&value, slots, "10.0.0.1")
}

/// A server error reply as the engine classifies it (`MOVED 12 host:port`, `ASK …`,
/// `TRYAGAIN …`): a redirect the engine would follow has a slot below 16384, a port in
/// 1..=65535 and a host that is an IP address or a DNS name. Returns whether it would be
/// followed.
pub fn redirect(message: &str) -> bool {
    crate::error::fuzz_check_redirect(message, "10.0.0.1")
}

/// Configuration parsing from any of its text forms (TOML, JSON, URL): errors are
/// configuration errors; accepted configurations render and re-parse.
pub fn config(text: &str) {
    for parsed in [
        crate::Config::from_toml_str(text),
        crate::Config::from_json_str(text),
        crate::Config::from_url(text),
        crate::Config::parse_any(text),
    ] {
        match parsed {
            Ok(c) => {
                let _ = format!("{c:?}");
            }
            Err(e) => assert_eq!(e.kind(), crate::ErrorKind::Config, "{e:?}"),
        }
    }
}

/// Key extraction and routing through the command table for an argv: key positions are
/// inside the argv, and the plan for a 3-node ring and for a cluster slot map never panics.
/// Returns the number of keys found (0 when the command was refused).
pub fn command_keys(argv: &[Vec<u8>]) -> usize {
    let cmd = Cmd::from_args(argv.iter());
    crate::router::plan::fuzz_check(&cmd)
}

fn first_value(data: &[u8]) -> Option<Value> {
    match crate::conn::resp::parse(data) {
        Ok(crate::conn::resp::Parsed::Done(Ok(v), _)) => Some(v),
        _ => None,
    }
}

/// Prefix routes: `prefixes` (as routes, deduplicated after case folding) and `keys`
/// through the trie, against a plain longest-prefix scan of the prefixes. Returns how many
/// keys matched a route.
pub fn prefix_routes(prefixes: &[String], keys: &[Vec<u8>], case_insensitive: bool) -> usize {
    use crate::router::prefix::{PrefixTable, RouteId};
    let mut spec = crate::config::ConfigSpec::default();
    let mut backends = std::collections::BTreeMap::new();
    backends.insert(
        "b".to_owned(),
        crate::config::ConfigSpec {
            mode: Some(crate::config::Mode::Jump),
            nodes: vec!["127.0.0.1:1".into()],
            ..Default::default()
        },
    );
    spec.backends = Some(backends);
    spec.routes_case_insensitive = Some(case_insensitive);
    let mut seen = std::collections::HashSet::new();
    for p in prefixes {
        let folded = if case_insensitive {
            p.to_ascii_lowercase()
        } else {
            p.clone()
        };
        if p.is_empty() || !seen.insert(folded) {
            continue;
        }
        spec.routes.push(crate::config::RouteSpec {
            prefix: Some(p.clone()),
            backend: Some("b".into()),
            ..Default::default()
        });
    }
    if spec.routes.is_empty() {
        return 0;
    }
    let Ok(config) = crate::Config::from_spec(spec) else {
        return 0;
    };
    let Some(routing) = config.routing() else {
        return 0;
    };
    let table = PrefixTable::new(routing);
    let fold = |b: &[u8]| -> Vec<u8> {
        if case_insensitive {
            b.to_ascii_lowercase()
        } else {
            b.to_vec()
        }
    };
    let mut matched = 0;
    for key in keys {
        let k = fold(key);
        let expected = routing
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| k.starts_with(&fold(&r.prefix)))
            .max_by_key(|(_, r)| r.prefix.len())
            .map(|(i, _)| i);
        let got = match table.lookup(key) {
            RouteId::Prefix(i) => Some(i as usize),
            RouteId::CatchAll | RouteId::None => None,
        };
        assert_eq!(
            got,
            expected,
            "route of {key:?} among {:?}",
            routing.routes.iter().map(|r| &r.prefix).collect::<Vec<_>>()
        );
        matched += usize::from(got.is_some());
    }
    matched
}

/// The Envoy bootstrap importer on arbitrary text: an error or a spec, never a panic; a
/// spec that validates prints as TOML that reads back to the same configuration. Returns
/// whether the text imported to a valid configuration.
pub fn envoy_yaml(text: &str) -> bool {
    let Ok(imported) = crate::config::envoy::import(text, None) else {
        return false;
    };
    let Ok(config) = imported.to_config() else {
        return false;
    };
    let toml = imported.spec.to_toml();
    assert!(
        toml.is_ok(),
        "a valid imported spec does not print as TOML: {toml:?}"
    );
    let toml = toml.unwrap_or_default();
    let back = crate::Config::from_toml_str(&toml);
    assert!(
        back.is_ok(),
        "printed TOML does not read back: {back:?}\n{toml}"
    );
    assert!(
        back.as_ref().ok() == Some(&config),
        "printed TOML reads back to another config:\n{toml}"
    );
    true
}
