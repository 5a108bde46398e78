//! `load_assignment` → `nodes`: each `lb_endpoints[].endpoint.address.socket_address` in
//! configuration order (the order Envoy builds its ring in), with `load_balancing_weight`
//! as the weight and the `envoy.lb` metadata `hash_key` as the node's hash identity.

use super::Ctx;
use super::tree::Node;
use crate::config::spec::NodeSpec;
use crate::error::Result;

const IGNORED: &str = "ignored: no effect on where keys go";

/// Convert a `ClusterLoadAssignment`. `cluster_mode`: the endpoints are Redis Cluster
/// seeds (weights and hash keys mean nothing). `dns`: a STRICT_DNS / LOGICAL_DNS cluster.
pub(super) fn convert(
    node: &Node<'_>,
    key: &str,
    cluster_mode: bool,
    dns: bool,
    ctx: &mut Ctx,
) -> Result<Vec<NodeSpec>> {
    let mut f = node.fields()?;
    f.take("cluster_name");
    f.refuse(
        &["named_endpoints"],
        "not supported: named endpoints (list them in endpoints)",
    )?;
    f.ignore(
        ctx,
        &["policy"],
        "ignored: overprovisioning and drop policy apply to unhealthy hosts",
    );
    let localities = f
        .take("endpoints")
        .map(|e| e.items())
        .transpose()?
        .unwrap_or_default();
    f.finish()?;
    let mut nodes = Vec::new();
    for locality in &localities {
        let mut l = locality.fields()?;
        if let Some(p) = l.take("priority")
            && p.u32()? != 0
        {
            return Err(p.error(
                "not supported: a priority other than 0 (Envoy uses these hosts only when priority 0 is unhealthy)",
            ));
        }
        l.refuse(
            &["load_balancer_endpoints", "leds_cluster_locality_config"],
            "not supported: list the hosts in lb_endpoints",
        )?;
        l.ignore(
            ctx,
            &["locality", "metadata", "load_balancing_weight", "proximity"],
            IGNORED,
        );
        let hosts = l
            .take("lb_endpoints")
            .map(|e| e.items())
            .transpose()?
            .unwrap_or_default();
        l.finish()?;
        for host in &hosts {
            ctx.origin(format!("{key}.nodes[{}]", nodes.len()), host);
            nodes.push(lb_endpoint(host, cluster_mode, dns, ctx)?);
        }
    }
    if nodes.is_empty() {
        return Err(node.error("no endpoints (lb_endpoints) in this cluster"));
    }
    Ok(nodes)
}

/// One `LbEndpoint`.
fn lb_endpoint(host: &Node<'_>, cluster_mode: bool, dns: bool, ctx: &mut Ctx) -> Result<NodeSpec> {
    let mut f = host.fields()?;
    f.refuse(
        &["endpoint_name"],
        "not supported: a named endpoint (give its endpoint inline)",
    )?;
    if let Some(h) = f.take("health_status") {
        let status = h.enum_value(&[
            "UNKNOWN",
            "HEALTHY",
            "UNHEALTHY",
            "DRAINING",
            "TIMEOUT",
            "DEGRADED",
        ])?;
        if !matches!(status, "UNKNOWN" | "HEALTHY") {
            return Err(h.error(format!(
                "not supported: health_status {status} (Envoy leaves this host out; shardis uses every listed host: remove it)"
            )));
        }
    }
    let weight = f
        .take("load_balancing_weight")
        .map(|w| w.u32())
        .transpose()?;
    let name = match f.take("metadata") {
        Some(m) => hash_key(&m, ctx)?,
        None => None,
    };
    let endpoint = f
        .take("endpoint")
        .ok_or_else(|| host.error("missing endpoint"))?;
    f.finish()?;
    let mut e = endpoint.fields()?;
    let address = e
        .take("address")
        .ok_or_else(|| endpoint.error("missing address"))?;
    e.ignore(
        ctx,
        &[
            "health_check_config",
            "hostname",
            "additional_addresses",
            "observability_name",
        ],
        IGNORED,
    );
    e.finish()?;
    let (addr, is_ip) = socket_address(&address, ctx)?;
    if cluster_mode && (weight.is_some() || name.is_some()) {
        ctx.warn(
            host,
            "ignored: weight and hash_key of a Redis Cluster seed (the cluster's slots place keys)",
        );
        return Ok(NodeSpec::from(addr.as_str()));
    }
    if dns && !is_ip && !cluster_mode && name.is_none() {
        ctx.warn(
            &address,
            format!(
                "Envoy hashes the address this name resolves to (ip:port); shardis hashes {addr:?} as written, so keys land on other hosts than under Envoy unless you write the IP address or an envoy.lb hash_key"
            ),
        );
    }
    Ok(NodeSpec { addr, weight, name })
}

/// `metadata.filter_metadata["envoy.lb"].hash_key`; other metadata is ignored.
fn hash_key(node: &Node<'_>, ctx: &mut Ctx) -> Result<Option<String>> {
    let mut f = node.fields()?;
    f.ignore(ctx, &["typed_filter_metadata"], IGNORED);
    let filter = f.take("filter_metadata");
    f.finish()?;
    let mut key = None;
    for (namespace, value) in filter.map(|n| n.entries()).transpose()?.unwrap_or_default() {
        if namespace != "envoy.lb" {
            ctx.warn(&value, IGNORED);
            continue;
        }
        for (k, v) in value.entries()? {
            if k == "hash_key" {
                key = Some(v.str()?.to_owned());
            } else {
                ctx.warn(&v, "ignored: only hash_key of envoy.lb changes placement");
            }
        }
    }
    Ok(key)
}

/// `Address` → `host:port` (IPv6 in brackets, as Envoy writes the host's identity), and
/// whether the host is an IP address.
fn socket_address(node: &Node<'_>, ctx: &mut Ctx) -> Result<(String, bool)> {
    let mut a = node.fields()?;
    a.refuse(
        &["pipe", "envoy_internal_address"],
        "not supported: shardis connects over TCP (give a socket_address)",
    )?;
    let sock = a
        .take("socket_address")
        .ok_or_else(|| node.error("missing socket_address"))?;
    a.finish()?;
    let mut s = sock.fields()?;
    if let Some(p) = s.take("protocol")
        && p.enum_value(&["TCP", "UDP"])? == "UDP"
    {
        return Err(p.error("not supported: Redis runs over TCP"));
    }
    s.refuse(
        &["named_port", "resolver_name"],
        "not supported: give the port as port_value and a plain address",
    )?;
    s.ignore(
        ctx,
        &["ipv4_compat", "network_namespace_filepath"],
        "ignored: socket option of the proxy",
    );
    let host = s
        .take("address")
        .ok_or_else(|| sock.error("missing address"))?;
    let port = s
        .take("port_value")
        .ok_or_else(|| sock.error("missing port_value"))?;
    s.finish()?;
    let port_number = port.u32()?;
    if port_number == 0 || port_number > 65535 {
        return Err(port.error(format!("{port_number} is not a port")));
    }
    let text = host.str()?;
    let ip = text.parse::<std::net::IpAddr>().ok();
    let addr = match ip {
        Some(std::net::IpAddr::V6(_)) => format!("[{text}]:{port_number}"),
        _ => format!("{text}:{port_number}"),
    };
    Ok((addr, ip.is_some()))
}
