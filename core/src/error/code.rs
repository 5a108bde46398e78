//! Server error replies, classified once where the reply is parsed (ARCHITECTURE §6): the
//! first word of `-MOVED 3999 10.0.0.2:6379`, `-TRYAGAIN …`, `-LOADING …` becomes a
//! [`ServerCode`] on the [`Error`](super::Error), so nothing later re-parses message text.
//! A redirect that cannot be followed — slot out of range, a host that is neither an IP
//! address nor a DNS name, a missing or out-of-range port — is a protocol error naming the
//! node, never followed. Pure; one test per row.

use std::net::IpAddr;

/// Where a MOVED or ASK reply sends a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectTarget {
    /// The hash slot (below 16384).
    pub slot: u16,
    /// `host:port` of the node to ask (IPv6 in brackets; an empty host in the reply is the
    /// answering node's host).
    pub addr: String,
}

/// The typed code of a server error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerCode {
    /// `MOVED slot host:port`: the slot lives elsewhere for good.
    Moved(RedirectTarget),
    /// `ASK slot host:port`: the slot is being migrated; ask there once, after `ASKING`.
    Ask(RedirectTarget),
    /// `TRYAGAIN`: a multi-key command during a slot migration; not executed.
    TryAgain,
    /// `CLUSTERDOWN`: the cluster cannot serve the slot now; not executed.
    ClusterDown,
    /// `MASTERDOWN`: a replica lost its primary link (`replica-serve-stale-data no`); not
    /// executed.
    MasterDown,
    /// `LOADING`: the node is loading its dataset; not executed.
    Loading,
    /// `READONLY`: a write reached a replica; not executed.
    ReadOnly,
    /// `BUSY`: a script is running; not executed (the caller decides, e.g. SCRIPT KILL).
    Busy,
    /// `NOSCRIPT`: EVALSHA of an unknown script; the caller falls back to EVAL.
    NoScript,
    /// Any other error reply (`ERR`, `WRONGTYPE`, `NOAUTH`, …): the command's answer.
    Other,
}

impl ServerCode {
    /// True when the server did not execute the command and says to retry it.
    pub fn not_executed(&self) -> bool {
        !matches!(
            self,
            ServerCode::Busy | ServerCode::NoScript | ServerCode::Other
        )
    }
}

/// Classify the text of an error reply (without the leading `-`). `answering_host` fills an
/// empty redirect host. `Err` is why a redirect cannot be followed.
pub(crate) fn classify(message: &str, answering_host: &str) -> Result<ServerCode, String> {
    let (code, rest) = message.split_once(' ').unwrap_or((message, ""));
    Ok(match code {
        "MOVED" => ServerCode::Moved(redirect_target(rest, answering_host)?),
        "ASK" => ServerCode::Ask(redirect_target(rest, answering_host)?),
        "TRYAGAIN" => ServerCode::TryAgain,
        "CLUSTERDOWN" => ServerCode::ClusterDown,
        "MASTERDOWN" => ServerCode::MasterDown,
        "LOADING" => ServerCode::Loading,
        "READONLY" => ServerCode::ReadOnly,
        "BUSY" => ServerCode::Busy,
        "NOSCRIPT" => ServerCode::NoScript,
        _ => ServerCode::Other,
    })
}

/// Parse `slot host:port` of a redirect.
fn redirect_target(rest: &str, answering_host: &str) -> Result<RedirectTarget, String> {
    let mut parts = rest.split_whitespace();
    let slot: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .filter(|s| *s < 16384)
        .ok_or_else(|| format!("bad slot in redirect {rest:?}"))?;
    let addr = parts
        .next()
        .ok_or_else(|| format!("no address in redirect {rest:?}"))?;
    if parts.next().is_some() {
        return Err(format!("trailing text in redirect {rest:?}"));
    }
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("no port in redirect {rest:?}"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("bad port in redirect {rest:?}"))?;
    let bracketed = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    let host = match bracketed.unwrap_or(host) {
        "" | "?" => answering_host,
        h => h,
    };
    let addr = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        Ok(IpAddr::V4(ip)) => format!("{ip}:{port}"),
        Err(_) if bracketed.is_none() && is_dns_name(host) => {
            format!("{}:{port}", host.to_ascii_lowercase())
        }
        Err(_) => return Err(format!("bad host in redirect {rest:?}")),
    };
    Ok(RedirectTarget { slot, addr })
}

/// A DNS host name (RFC 1123): dot-separated labels of letters, digits and hyphens, 1–63
/// characters, not starting or ending with a hyphen; the last label is not all digits (so
/// `127.0`, which the C resolver would read as 127.0.0.0, is not a name).
pub(crate) fn is_dns_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let last_numeric = host
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    labels_ok && !last_numeric
}

/// Fuzz oracle for redirect parsing (see `crate::fuzzing::redirect`): a redirect that would
/// be followed has a slot in range and a `host:port` whose host is an IP address or a DNS
/// name and whose port is in 1..=65535.
pub(crate) fn fuzz_check_redirect(message: &str, answering_host: &str) -> bool {
    match classify(message, answering_host) {
        Ok(ServerCode::Moved(t) | ServerCode::Ask(t)) => {
            assert!(t.slot < 16384, "slot {}", t.slot);
            let (host, port) = t.addr.rsplit_once(':').unwrap_or_default();
            assert!(
                port.parse::<u16>().is_ok_and(|p| p > 0),
                "port in {:?}",
                t.addr
            );
            let ip = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host)
                .parse::<IpAddr>()
                .is_ok();
            assert!(ip || is_dns_name(host), "host in {:?}", t.addr);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(slot: u16, addr: &str) -> RedirectTarget {
        RedirectTarget {
            slot,
            addr: addr.into(),
        }
    }

    #[test]
    fn moved_names_its_slot_and_node() {
        assert_eq!(
            classify("MOVED 3999 127.0.0.1:6381", "h"),
            Ok(ServerCode::Moved(target(3999, "127.0.0.1:6381")))
        );
    }

    #[test]
    fn moved_with_empty_host_means_the_answering_host() {
        assert_eq!(
            classify("MOVED 1 :7000", "10.1.1.1"),
            Ok(ServerCode::Moved(target(1, "10.1.1.1:7000")))
        );
    }

    #[test]
    fn ask_to_ipv6_and_dns_names_is_normalised() {
        assert_eq!(
            classify("ASK 12 [0:0::1]:7000", "h"),
            Ok(ServerCode::Ask(target(12, "[::1]:7000")))
        );
        assert_eq!(
            classify("MOVED 12 Redis-2.Internal:7000", "h"),
            Ok(ServerCode::Moved(target(12, "redis-2.internal:7000")))
        );
    }

    #[test]
    fn malformed_redirects_are_refused() {
        for bad in [
            "MOVED 1111",
            "MOVED 1 127.0:3333",
            "MOVED 1 127.0.0.1",
            "MOVED 1 127.0:3333:x",
            "MOVED 1 127.0.0.1:100000",
            "MOVED 1 h:0",
            "MOVED 1 h:",
            "MOVED 99999 h:1",
            "MOVED -1 h:1",
            "MOVED 1 ho st:1",
            "MOVED 1 h_x:1",
            "MOVED 1 -h:1",
            "MOVED 1 [not-ip]:1",
            "MOVED 1 10.0.0.1:1 extra",
            "ASK x h:1",
            "ASK 16384 h:1",
        ] {
            assert!(classify(bad, "h").is_err(), "{bad}");
        }
    }

    #[test]
    fn not_executed_replies_have_their_own_codes() {
        let code = |m| classify(m, "h").unwrap();
        assert_eq!(code("TRYAGAIN Multiple keys request"), ServerCode::TryAgain);
        assert_eq!(
            code("CLUSTERDOWN The cluster is down"),
            ServerCode::ClusterDown
        );
        assert_eq!(
            code("MASTERDOWN Link with MASTER is down"),
            ServerCode::MasterDown
        );
        assert_eq!(code("LOADING Redis is loading"), ServerCode::Loading);
        assert_eq!(code("READONLY You can't write"), ServerCode::ReadOnly);
        for c in [
            ServerCode::TryAgain,
            ServerCode::ClusterDown,
            ServerCode::MasterDown,
            ServerCode::Loading,
            ServerCode::ReadOnly,
        ] {
            assert!(c.not_executed(), "{c:?}");
        }
    }

    #[test]
    fn answers_keep_their_codes_and_are_not_retried() {
        let code = |m| classify(m, "h").unwrap();
        assert_eq!(
            code("BUSY Redis is busy running a script"),
            ServerCode::Busy
        );
        assert_eq!(code("NOSCRIPT No matching script"), ServerCode::NoScript);
        assert_eq!(code("ERR unknown command"), ServerCode::Other);
        assert_eq!(code("WRONGTYPE Operation"), ServerCode::Other);
        assert_eq!(code("MOVEDX 1 h:1"), ServerCode::Other);
        assert!(!ServerCode::Busy.not_executed());
        assert!(!ServerCode::Other.not_executed());
    }

    #[test]
    fn dns_names_follow_rfc_1123() {
        for ok in [
            "localhost",
            "a.b-c.example",
            "redis-0.redis.svc.cluster.local.",
        ] {
            assert!(is_dns_name(ok), "{ok}");
        }
        for bad in ["", "127.0", "1.2.3", "a..b", "-a", "a-", "a_b", "a b"] {
            assert!(!is_dns_name(bad), "{bad}");
        }
    }
}
