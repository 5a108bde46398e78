//! Parsing topology replies: `CLUSTER SHARDS` (Redis 7+), `CLUSTER SLOTS` (older servers)
//! and `CLUSTER INFO`'s `cluster_current_epoch`, into a server-independent [`View`].

use crate::error::{Error, ErrorKind, Result, is_dns_name};
use crate::reply::Value;

/// One shard as a node reported it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ShardView {
    /// Inclusive slot ranges.
    pub ranges: Vec<(u16, u16)>,
    /// `host:port` of the primary.
    pub primary: String,
    /// `host:port` of replicas that are not failed (a `loading` one answers `-LOADING`,
    /// which moves the read elsewhere; Redis 7.0 also says `loading` for a replica that has
    /// not replicated anything yet).
    pub replicas: Vec<String>,
}

/// A whole topology as one node reported it, in a canonical order (comparable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct View {
    pub shards: Vec<ShardView>,
}

fn bad(what: &str) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("unexpected topology reply: {what}"),
    )
}

fn text(v: &Value) -> Option<String> {
    v.to_text()
}

fn pairs(v: &Value) -> Option<Vec<(String, &Value)>> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| Some((text(k)?, v))).collect(),
        Value::Array(a) if a.len() % 2 == 0 => {
            a.chunks(2).map(|c| Some((text(&c[0])?, &c[1]))).collect()
        }
        _ => None,
    }
}

fn field<'a>(p: &'a [(String, &'a Value)], name: &str) -> Option<&'a Value> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

fn slot(v: &Value) -> Result<u16> {
    v.as_int()
        .and_then(|i| u16::try_from(i).ok())
        .filter(|s| *s < 16384)
        .ok_or_else(|| bad("slot out of range"))
}

/// The address a node should be reached at: its endpoint (the server's preferred endpoint
/// type), else its IP; `?`/empty endpoints fall back to the IP or the answering node's host.
fn endpoint(
    endpoint: Option<String>,
    ip: Option<String>,
    port: i64,
    fallback_host: &str,
) -> Result<String> {
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| bad("port"))?;
    let host = [endpoint, ip]
        .into_iter()
        .flatten()
        .find(|h| !h.is_empty() && h != "?")
        .unwrap_or_else(|| fallback_host.to_owned());
    // Only an IP address or a DNS name is an address to connect to (a reply naming
    // `1r7/0.0.1` or `h,x` is refused whole; the previous snapshot keeps serving).
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(ip)) => Ok(format!("[{ip}]:{port}")),
        Ok(std::net::IpAddr::V4(ip)) => Ok(format!("{ip}:{port}")),
        Err(_) if is_dns_name(&host) => Ok(format!("{}:{port}", host.to_ascii_lowercase())),
        Err(_) => Err(bad("node host is neither an IP address nor a DNS name")),
    }
}

fn canonical(mut shards: Vec<ShardView>) -> View {
    for s in &mut shards {
        s.ranges.sort_unstable();
        s.replicas.sort();
    }
    shards.retain(|s| !s.ranges.is_empty());
    shards.sort();
    View { shards }
}

/// Parse a `CLUSTER SHARDS` reply. `host` is the answering node's host (for `?` endpoints);
/// `tls` picks each node's `tls-port` over its `port` (a node lists the ports it has: a
/// TLS-only node has no `port`).
pub(crate) fn parse_shards(reply: &Value, host: &str, tls: bool) -> Result<View> {
    let list = reply
        .as_array()
        .ok_or_else(|| bad("CLUSTER SHARDS is not an array"))?;
    let mut shards = Vec::new();
    for shard in list {
        let p = pairs(shard).ok_or_else(|| bad("shard is not a map"))?;
        let slots = field(&p, "slots")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("shard without slots"))?;
        if slots.len() % 2 != 0 {
            return Err(bad("odd slot list"));
        }
        let ranges = slots
            .chunks(2)
            .map(|c| Ok((slot(&c[0])?, slot(&c[1])?)))
            .collect::<Result<Vec<_>>>()?;
        let nodes = field(&p, "nodes")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("shard without nodes"))?;
        let mut primary = None;
        let mut failed_primary = None;
        let mut replicas = Vec::new();
        for n in nodes {
            let np = pairs(n).ok_or_else(|| bad("node is not a map"))?;
            let (first, second) = if tls {
                ("tls-port", "port")
            } else {
                ("port", "tls-port")
            };
            let port = field(&np, first)
                .or_else(|| field(&np, second))
                .and_then(Value::as_int)
                .ok_or_else(|| bad("node without port"))?;
            let addr = endpoint(
                field(&np, "endpoint").and_then(text),
                field(&np, "ip").and_then(text),
                port,
                host,
            )?;
            let role = field(&np, "role").and_then(text).unwrap_or_default();
            let health = field(&np, "health")
                .and_then(text)
                .unwrap_or_else(|| "online".into());
            // Redis 7.0 says "fail", later versions "failed". A failed old primary stays in
            // its shard's list with role "master" after its replica took over.
            let failed = health == "fail" || health == "failed";
            match role.as_str() {
                "master" if !failed && primary.is_none() => primary = Some(addr),
                "master" if failed && failed_primary.is_none() => failed_primary = Some(addr),
                "replica" if !failed => replicas.push(addr),
                _ => {}
            }
        }
        // A shard whose primary failed and has no successor yet keeps it as its primary:
        // its replicas still serve reads, and writes retry until a later refresh finds the
        // promoted replica (leaving the slots uncovered made every read wait for that).
        if let Some(primary) = primary.or(failed_primary) {
            shards.push(ShardView {
                ranges,
                primary,
                replicas,
            });
        }
    }
    Ok(canonical(shards))
}

/// Parse a `CLUSTER SLOTS` reply.
pub(crate) fn parse_slots(reply: &Value, host: &str) -> Result<View> {
    let list = reply
        .as_array()
        .ok_or_else(|| bad("CLUSTER SLOTS is not an array"))?;
    let mut shards: Vec<ShardView> = Vec::new();
    for entry in list {
        let e = entry
            .as_array()
            .ok_or_else(|| bad("slot range is not an array"))?;
        if e.len() < 3 {
            return Err(bad("slot range without a primary"));
        }
        let range = (slot(&e[0])?, slot(&e[1])?);
        let node = |v: &Value| -> Result<String> {
            let n = v.as_array().ok_or_else(|| bad("node is not an array"))?;
            let ip = n.first().and_then(text);
            let port = n
                .get(1)
                .and_then(Value::as_int)
                .ok_or_else(|| bad("node without port"))?;
            endpoint(ip, None, port, host)
        };
        let primary = node(&e[2])?;
        let replicas = e[3..].iter().map(node).collect::<Result<Vec<_>>>()?;
        match shards.iter_mut().find(|s| s.primary == primary) {
            Some(s) => s.ranges.push(range),
            None => shards.push(ShardView {
                ranges: vec![range],
                primary,
                replicas,
            }),
        }
    }
    Ok(canonical(shards))
}

/// `cluster_current_epoch` from a `CLUSTER INFO` reply (0 if absent).
pub(crate) fn current_epoch(info: &Value) -> u64 {
    info.to_text()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("cluster_current_epoch:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Value {
        Value::Bulk(s.as_bytes().to_vec())
    }

    fn node(port: i64, role: &str, health: &str) -> Value {
        Value::Array(vec![
            b("id"),
            b("x"),
            b("port"),
            Value::Int(port),
            b("ip"),
            b("127.0.0.1"),
            b("endpoint"),
            b("127.0.0.1"),
            b("role"),
            b(role),
            b("health"),
            b(health),
        ])
    }

    #[test]
    fn shards_reply_becomes_a_view() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                b("slots"),
                Value::Array(vec![Value::Int(5461), Value::Int(10922)]),
                b("nodes"),
                Value::Array(vec![
                    node(7001, "master", "online"),
                    node(7004, "replica", "online"),
                    node(7005, "replica", "fail"),
                ]),
            ]),
            Value::Array(vec![
                b("slots"),
                Value::Array(vec![
                    Value::Int(0),
                    Value::Int(5460),
                    Value::Int(10923),
                    Value::Int(16383),
                ]),
                b("nodes"),
                Value::Array(vec![
                    node(7000, "master", "online"),
                    node(7009, "master", "fail"),
                ]),
            ]),
        ]);
        let v = parse_shards(&reply, "127.0.0.1", false).unwrap();
        assert_eq!(v.shards.len(), 2);
        assert_eq!(v.shards[0].primary, "127.0.0.1:7000");
        assert_eq!(v.shards[0].ranges, vec![(0, 5460), (10923, 16383)]);
        assert_eq!(
            v.shards[1].replicas,
            vec!["127.0.0.1:7004".to_string()],
            "failed replicas are skipped"
        );
    }

    #[test]
    fn tls_clients_take_the_tls_port_and_tls_only_nodes_have_no_port() {
        let with_ports = |ports: &[(&str, i64)]| {
            let mut fields = vec![b("ip"), b("127.0.0.1"), b("role"), b("master")];
            for (name, port) in ports {
                fields.extend([b(name), Value::Int(*port)]);
            }
            Value::Array(vec![Value::Array(vec![
                b("slots"),
                Value::Array(vec![Value::Int(0), Value::Int(16383)]),
                b("nodes"),
                Value::Array(vec![Value::Array(fields)]),
            ])])
        };
        let both = with_ports(&[("port", 7000), ("tls-port", 8000)]);
        let primary = |r: &Value, tls| parse_shards(r, "h", tls).unwrap().shards[0].primary.clone();
        assert_eq!(primary(&both, false), "127.0.0.1:7000");
        assert_eq!(primary(&both, true), "127.0.0.1:8000");
        let tls_only = with_ports(&[("tls-port", 8000)]);
        assert_eq!(primary(&tls_only, true), "127.0.0.1:8000");
        assert_eq!(
            primary(&tls_only, false),
            "127.0.0.1:8000",
            "the only port there is"
        );
        assert!(parse_shards(&with_ports(&[]), "h", true).is_err());
    }

    #[test]
    fn a_shard_whose_primary_failed_keeps_it_and_its_replicas_until_a_promotion() {
        let reply = Value::Array(vec![Value::Array(vec![
            b("slots"),
            Value::Array(vec![Value::Int(0), Value::Int(16383)]),
            b("nodes"),
            Value::Array(vec![
                node(7000, "master", "fail"),
                node(7003, "replica", "online"),
            ]),
        ])]);
        let v = parse_shards(&reply, "127.0.0.1", false).unwrap();
        assert_eq!(v.shards.len(), 1, "the slots stay covered");
        assert_eq!(v.shards[0].primary, "127.0.0.1:7000");
        assert_eq!(v.shards[0].replicas, vec!["127.0.0.1:7003".to_string()]);
    }

    #[test]
    fn slots_reply_becomes_the_same_view() {
        let n = |port: i64| Value::Array(vec![b("127.0.0.1"), Value::Int(port), b("id")]);
        let reply = Value::Array(vec![
            Value::Array(vec![Value::Int(0), Value::Int(5460), n(7000)]),
            Value::Array(vec![Value::Int(5461), Value::Int(10922), n(7001), n(7004)]),
            Value::Array(vec![Value::Int(10923), Value::Int(16383), n(7000)]),
        ]);
        let v = parse_slots(&reply, "127.0.0.1").unwrap();
        assert_eq!(v.shards[0].ranges, vec![(0, 5460), (10923, 16383)]);
        assert_eq!(v.shards[1].replicas, vec!["127.0.0.1:7004".to_string()]);
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(parse_slots(&Value::Int(1), "h").is_err());
        let bad_slot = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(99999),
            Value::Array(vec![b("h"), Value::Int(1)]),
        ])]);
        assert!(parse_slots(&bad_slot, "h").is_err());
        let bad_port = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(1),
            Value::Array(vec![b("h"), Value::Int(100000)]),
        ])]);
        assert!(parse_slots(&bad_port, "h").is_err());
    }

    #[test]
    fn unknown_endpoint_uses_the_answering_host() {
        let n = Value::Array(vec![b("?"), Value::Int(7000)]);
        let reply = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(16383),
            n,
        ])]);
        assert_eq!(
            parse_slots(&reply, "10.0.0.9").unwrap().shards[0].primary,
            "10.0.0.9:7000"
        );
    }

    #[test]
    fn unusable_node_hosts_refuse_the_reply() {
        for host in [
            "1r7/0.0.1",
            "127.0,0.1",
            "1 7.0.0.1",
            ",27.0.0.1",
            "[::1",
            "127.0",
        ] {
            let reply = Value::Array(vec![Value::Array(vec![
                Value::Int(0),
                Value::Int(16383),
                Value::Array(vec![b(host), Value::Int(7000)]),
            ])]);
            assert!(parse_slots(&reply, "h").is_err(), "{host}");
        }
        let v6 = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(16383),
            Value::Array(vec![b("0:0::1"), Value::Int(7000)]),
        ])]);
        assert_eq!(
            parse_slots(&v6, "h").unwrap().shards[0].primary,
            "[::1]:7000"
        );
    }

    #[test]
    fn epoch_from_info() {
        assert_eq!(
            current_epoch(&b("cluster_state:ok\r\ncluster_current_epoch:17\r\n")),
            17
        );
    }
}
