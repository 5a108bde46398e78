//! Node addresses: one normal form (`host:port`, lower-case host, canonical IP text, IPv6
//! in brackets), so a MOVED target and a `CLUSTER SHARDS` entry for the same node are one
//! node.

use parking_lot::Mutex;

use super::target::{NodeId, NodeNames};
use crate::config::validate::split_addr;
use crate::error::{Error, ErrorKind, Result};

/// Normalise `host:port` into (address, host, port).
pub(crate) fn normalize(addr: &str) -> std::result::Result<(String, String, u16), String> {
    let (host, port) = split_addr(addr)?;
    let host = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    };
    let addr = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((addr, host, port))
}

/// A plain, append-only address list: ids are positions. For code that plans without
/// connections (unit tests, fuzzing).
#[derive(Default)]
pub(crate) struct AddrList(Mutex<Vec<String>>);

impl NodeNames for AddrList {
    fn intern(&self, addr: &str) -> Result<NodeId> {
        let (addr, _, _) = normalize(addr)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("bad node address: {e}")))?;
        let mut list = self.0.lock();
        if let Some(i) = list.iter().position(|a| *a == addr) {
            return Ok(i);
        }
        list.push(addr);
        Ok(list.len() - 1)
    }

    fn addr(&self, id: NodeId) -> String {
        self.0
            .lock()
            .get(id)
            .cloned()
            .unwrap_or_else(|| "(gone)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        let names = AddrList::default();
        let a = names.intern("127.0.0.1:7000").unwrap();
        let b = names.intern("LocalHost:7001").unwrap();
        assert_eq!(names.intern("127.0.0.1:7000").unwrap(), a);
        assert_eq!(names.intern("localhost:7001").unwrap(), b);
        assert_eq!(names.addr(b), "localhost:7001");
        let v6 = names.intern("[0:0::1]:7002").unwrap();
        assert_eq!(names.addr(v6), "[::1]:7002");
        assert!(names.intern("nonsense").is_err());
    }
}
