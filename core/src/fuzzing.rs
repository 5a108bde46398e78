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
