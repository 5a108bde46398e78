//! What an error reply means for routing (ARCHITECTURE §6): MOVED and ASK redirects, and the
//! "not executed, try again" replies of a cluster in motion. Pure; one test per row.

use crate::error::{Error, ErrorKind};

/// The routing meaning of a server error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redirect {
    /// The slot lives elsewhere for good: update the topology, retry there.
    Moved { slot: u16, addr: String },
    /// The slot is being migrated: retry once there after `ASKING`, no topology change.
    Ask { slot: u16, addr: String },
    /// Not executed; retry the same target after a backoff (TRYAGAIN).
    TryAgain,
    /// Not executed; the topology is changing: refresh, back off, retry (CLUSTERDOWN,
    /// MASTERDOWN).
    ClusterDown,
    /// Not executed; the node is loading its dataset: back off, reads may go elsewhere.
    Loading,
    /// A write reached a replica: the topology is stale; refresh and retry.
    ReadOnly,
    /// An ordinary error reply: the command's answer.
    None,
    /// A MOVED/ASK that cannot be followed (malformed, port out of range): an error.
    Malformed(String),
}

/// Parse `slot host:port` (host may be empty: the node that answered).
fn target(rest: &str, answering_host: &str) -> Result<(u16, String), String> {
    let mut parts = rest.split_whitespace();
    let slot: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| *s < 16384)
        .ok_or_else(|| format!("bad slot in redirect {rest:?}"))?;
    let addr = parts
        .next()
        .ok_or_else(|| format!("no address in redirect {rest:?}"))?;
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("bad address in redirect {rest:?}"))?;
    let port: u32 = port
        .parse()
        .map_err(|_| format!("bad port in redirect {rest:?}"))?;
    if port == 0 || port > 65535 {
        return Err(format!("port out of range in redirect {rest:?}"));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() || host == "?" {
        answering_host
    } else {
        host
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("bad host in redirect {rest:?}"));
    }
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((slot, addr))
}

/// Classify a server error reply.
pub(crate) fn classify(e: &Error, answering_host: &str) -> Redirect {
    if e.kind() != ErrorKind::Server {
        return Redirect::None;
    }
    let msg = e.message();
    let (code, rest) = msg.split_once(' ').unwrap_or((msg, ""));
    match code {
        "MOVED" => match target(rest, answering_host) {
            Ok((slot, addr)) => Redirect::Moved { slot, addr },
            Err(why) => Redirect::Malformed(why),
        },
        "ASK" => match target(rest, answering_host) {
            Ok((slot, addr)) => Redirect::Ask { slot, addr },
            Err(why) => Redirect::Malformed(why),
        },
        "TRYAGAIN" => Redirect::TryAgain,
        "CLUSTERDOWN" | "MASTERDOWN" => Redirect::ClusterDown,
        "LOADING" => Redirect::Loading,
        "READONLY" => Redirect::ReadOnly,
        _ => Redirect::None,
    }
}

/// Fuzz oracle for redirect parsing (see `crate::fuzzing::redirect`): a redirect that would
/// be followed has a slot in range and a well-formed `host:port`.
pub(crate) fn fuzz_check(message: &str, answering_host: &str) -> bool {
    match classify(&Error::new(ErrorKind::Server, message), answering_host) {
        Redirect::Moved { slot, addr } | Redirect::Ask { slot, addr } => {
            assert!(slot < 16384, "slot {slot}");
            let (host, port) = addr.rsplit_once(':').unwrap_or_default();
            assert!(!host.is_empty(), "empty host in {addr:?}");
            assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "port in {addr:?}");
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(msg: &str) -> Error {
        Error::new(ErrorKind::Server, msg)
    }

    #[test]
    fn should_follow_moved_to_its_target() {
        assert_eq!(
            classify(&server("MOVED 3999 127.0.0.1:6381"), "h"),
            Redirect::Moved {
                slot: 3999,
                addr: "127.0.0.1:6381".into()
            }
        );
    }

    #[test]
    fn should_follow_moved_with_empty_host_to_the_answering_host() {
        assert_eq!(
            classify(&server("MOVED 1 :7000"), "10.1.1.1"),
            Redirect::Moved {
                slot: 1,
                addr: "10.1.1.1:7000".into()
            }
        );
    }

    #[test]
    fn should_follow_ask_without_topology_change() {
        assert_eq!(
            classify(&server("ASK 12 [::1]:7000"), "h"),
            Redirect::Ask {
                slot: 12,
                addr: "[::1]:7000".into()
            }
        );
    }

    #[test]
    fn should_not_follow_malformed_redirects() {
        for bad in [
            "MOVED 1111",
            "MOVED 1 127.0:3333:x",
            "MOVED 1 127.0.0.1:100000",
            "MOVED 99999 h:1",
            "ASK x h:1",
            "MOVED 1 h:0",
        ] {
            assert!(
                matches!(classify(&server(bad), "h"), Redirect::Malformed(_)),
                "{bad}"
            );
        }
    }

    #[test]
    fn should_retry_not_executed_replies() {
        assert_eq!(
            classify(
                &server("TRYAGAIN Multiple keys request during rehashing of slot"),
                "h"
            ),
            Redirect::TryAgain
        );
        assert_eq!(
            classify(&server("CLUSTERDOWN The cluster is down"), "h"),
            Redirect::ClusterDown
        );
        assert_eq!(
            classify(&server("MASTERDOWN Link with MASTER is down"), "h"),
            Redirect::ClusterDown
        );
        assert_eq!(
            classify(
                &server("LOADING Redis is loading the dataset in memory"),
                "h"
            ),
            Redirect::Loading
        );
        assert_eq!(
            classify(
                &server("READONLY You can't write against a read only replica."),
                "h"
            ),
            Redirect::ReadOnly
        );
    }

    #[test]
    fn should_pass_plain_errors_through_once() {
        assert_eq!(
            classify(&server("ERR unknown command"), "h"),
            Redirect::None
        );
        assert_eq!(
            classify(&server("WRONGTYPE Operation"), "h"),
            Redirect::None
        );
        assert_eq!(
            classify(&Error::new(ErrorKind::Io, "MOVED 1 h:1"), "h"),
            Redirect::None
        );
    }
}
