//! How a backend places keys: `lb_policy` RING_HASH / MAGLEV with `ring_hash_lb_config` /
//! `maglev_lb_config`, the typed `load_balancing_policy` (RingHash, Maglev,
//! ClusterProvided), or a Redis Cluster (`cluster_type` `envoy.clusters.redis` with its
//! `RedisClusterConfig` → `[refresh]`). Policies that place no key (ROUND_ROBIN, Envoy's
//! default, LEAST_REQUEST, RANDOM) and hashing options that move keys (host names, bounded
//! load, locality weights) are errors.

use super::Ctx;
use super::tree::{Fields, Node};
use crate::config::spec::{HashFunction, MaglevSpec, RefreshSpec, RingHashSpec};
use crate::error::Result;

/// The type of an `envoy.clusters.redis` cluster's config.
const REDIS_CLUSTER_TYPE: &str = "envoy.extensions.clusters.redis.v3.RedisClusterConfig";
const RING_HASH_TYPE: &str = "envoy.extensions.load_balancing_policies.ring_hash.v3.RingHash";
const MAGLEV_TYPE: &str = "envoy.extensions.load_balancing_policies.maglev.v3.Maglev";
const CLUSTER_PROVIDED_TYPE: &str =
    "envoy.extensions.load_balancing_policies.cluster_provided.v3.ClusterProvided";

/// `Cluster.LbPolicy` by number (4 is reserved).
const LB_POLICIES: &[&str] = &[
    "ROUND_ROBIN",
    "LEAST_REQUEST",
    "RING_HASH",
    "RANDOM",
    "(reserved)",
    "MAGLEV",
    "CLUSTER_PROVIDED",
    "LOAD_BALANCING_POLICY_CONFIG",
];

/// How a backend places keys.
pub(super) enum Placement<'a> {
    Ring(Option<Node<'a>>, Option<RingHashSpec>),
    Maglev(Option<Node<'a>>, Option<MaglevSpec>),
    Cluster(Option<RefreshSpec>),
}

/// The placement: `cluster_type`, `load_balancing_policy` or `lb_policy` (+ its config).
pub(super) fn convert<'a>(
    f: &mut Fields<'a>,
    node: &Node<'a>,
    key: &str,
    ctx: &mut Ctx,
) -> Result<Placement<'a>> {
    let lb_policy = f.take("lb_policy");
    let policy_name = lb_policy
        .as_ref()
        .map(|p| p.enum_value(LB_POLICIES))
        .transpose()?;
    let typed = f.take("load_balancing_policy");
    let ring = f.take("ring_hash_lb_config");
    let maglev = f.take("maglev_lb_config");
    let cluster_type = f.take("cluster_type");

    let placement = match (&typed, policy_name) {
        (Some(t), None | Some("LOAD_BALANCING_POLICY_CONFIG")) => typed_policy(t, key, ctx)?,
        (Some(t), Some(p)) => {
            return Err(t.error(format!(
                "give either lb_policy ({p}) or load_balancing_policy, not both"
            )));
        }
        (None, Some("RING_HASH")) => Placement::Ring(None, None),
        (None, Some("MAGLEV")) => Placement::Maglev(None, None),
        (None, Some("CLUSTER_PROVIDED")) => Placement::Cluster(None),
        (None, p) => {
            let p = p.unwrap_or("ROUND_ROBIN");
            let at = lb_policy.as_ref().unwrap_or(node);
            return Err(at.error(format!(
                "not supported: lb_policy {p}{} sends each command to any host; shardis needs a key-placing policy (RING_HASH, MAGLEV, or a Redis Cluster: cluster_type envoy.clusters.redis with CLUSTER_PROVIDED)",
                if lb_policy.is_none() { " (Envoy's default)" } else { "" }
            )));
        }
    };
    let placement = match (placement, ring, maglev) {
        (Placement::Ring(at, spec), Some(r), None) if at.is_none() && spec.is_none() => {
            Placement::Ring(Some(r.clone()), Some(ring_hash_lb_config(&r, key, ctx)?))
        }
        (Placement::Maglev(at, spec), None, Some(m)) if at.is_none() && spec.is_none() => {
            Placement::Maglev(Some(m.clone()), Some(maglev_lb_config(&m, key, ctx)?))
        }
        (p, None, None) => p,
        (_, Some(stray), _) | (_, None, Some(stray)) => {
            return Err(stray.error("does not apply to this cluster's load balancing policy"));
        }
    };
    match (placement, cluster_type) {
        (Placement::Cluster(_), Some(ct)) => redis_cluster(&ct, key, ctx),
        (Placement::Cluster(_), None) => Err(node.error(
            "CLUSTER_PROVIDED without cluster_type envoy.clusters.redis: no cluster provides a load balancer",
        )),
        (_, Some(ct)) => Err(ct.error(
            "a Redis Cluster (cluster_type) needs lb_policy CLUSTER_PROVIDED",
        )),
        (p, None) => Ok(p),
    }
}

/// `load_balancing_policy.policies`: Envoy uses the first; the others are fallbacks.
fn typed_policy<'a>(node: &Node<'a>, key: &str, ctx: &mut Ctx) -> Result<Placement<'a>> {
    let mut f = node.fields()?;
    let policies = f
        .take("policies")
        .map(|p| p.items())
        .transpose()?
        .unwrap_or_default();
    f.finish()?;
    let Some(first) = policies.first() else {
        return Err(node.error("no policies"));
    };
    for later in &policies[1..] {
        ctx.warn(
            later,
            "ignored: Envoy uses the first policy it knows (the first one)",
        );
    }
    let mut p = first.fields()?;
    let ext = p
        .take("typed_extension_config")
        .ok_or_else(|| first.error("missing typed_extension_config"))?;
    p.finish()?;
    let mut e = ext.fields()?;
    e.take("name");
    let config = e
        .take("typed_config")
        .ok_or_else(|| ext.error("missing typed_config"))?;
    e.finish()?;
    let (ty, mut c) = config.any("")?;
    let placement = match ty.as_str() {
        RING_HASH_TYPE => {
            let spec = ring_fields(&mut c, key, true, ctx)?;
            consistent_hashing(&mut c, ctx)?;
            Placement::Ring(Some(config.clone()), Some(spec))
        }
        MAGLEV_TYPE => {
            let table_size = match c.take("table_size") {
                Some(n) => {
                    ctx.origin(format!("{key}.maglev.table_size"), &n);
                    Some(n.u64()?)
                }
                None => None,
            };
            consistent_hashing(&mut c, ctx)?;
            Placement::Maglev(Some(config.clone()), Some(MaglevSpec { table_size }))
        }
        CLUSTER_PROVIDED_TYPE => Placement::Cluster(None),
        other => {
            return Err(config.error(format!(
                "not supported: load balancing policy {other} (shardis places keys with RingHash, Maglev or a Redis Cluster)"
            )));
        }
    };
    c.finish()?;
    Ok(placement)
}

/// The fields the typed policies share about hashing.
fn consistent_hashing(c: &mut Fields<'_>, ctx: &mut Ctx) -> Result<()> {
    if let Some(on) = c.take("use_hostname_for_hashing")
        && on.bool()?
    {
        return Err(on.error(HOSTNAME));
    }
    c.refuse(&["hash_balance_factor"], BOUNDED)?;
    c.refuse(&["locality_weighted_lb_config"], LOCALITY)?;
    if let Some(ch) = c.take("consistent_hashing_lb_config") {
        let mut f = ch.fields()?;
        if let Some(on) = f.take("use_hostname_for_hashing")
            && on.bool()?
        {
            return Err(on.error(HOSTNAME));
        }
        f.refuse(&["hash_balance_factor"], BOUNDED)?;
        f.ignore(
            ctx,
            &["hash_policy"],
            "ignored: hash policies of HTTP routes",
        );
        f.finish()?;
    }
    Ok(())
}

const HOSTNAME: &str = "not supported: hashing endpoint host names (shardis hashes `address:port`, or the envoy.lb hash_key)";
const BOUNDED: &str = "not supported: bounded-load hashing moves keys off loaded hosts";
const LOCALITY: &str = "not supported: locality-weighted placement";

/// `RingHashLbConfig` (classic) → `[ring_hash]`.
fn ring_hash_lb_config(node: &Node<'_>, key: &str, ctx: &mut Ctx) -> Result<RingHashSpec> {
    let mut f = node.fields()?;
    let spec = ring_fields(&mut f, key, false, ctx)?;
    f.finish()?;
    Ok(spec)
}

/// The ring sizes and host hash, shared by the classic and the `typed` ring hash configs.
fn ring_fields(f: &mut Fields<'_>, key: &str, typed: bool, ctx: &mut Ctx) -> Result<RingHashSpec> {
    let mut spec = RingHashSpec::default();
    if let Some(n) = f.take("minimum_ring_size") {
        ctx.origin(format!("{key}.ring_hash.min_ring_size"), &n);
        spec.min_ring_size = Some(n.u64()?);
    }
    if let Some(n) = f.take("maximum_ring_size") {
        ctx.origin(format!("{key}.ring_hash.max_ring_size"), &n);
        spec.max_ring_size = Some(n.u64()?);
    }
    if let Some(h) = f.take("hash_function") {
        // The classic enum numbers XX_HASH 0; the typed one has DEFAULT_HASH (xx) first.
        let names: &[&str] = if typed {
            &["DEFAULT_HASH", "XX_HASH", "MURMUR_HASH_2"]
        } else {
            &["XX_HASH", "MURMUR_HASH_2"]
        };
        spec.hash_function = Some(match h.enum_value(names)? {
            "MURMUR_HASH_2" => HashFunction::MurmurHash2,
            _ => HashFunction::XxHash,
        });
    }
    Ok(spec)
}

/// `MaglevLbConfig` → `[maglev]`.
fn maglev_lb_config(node: &Node<'_>, key: &str, ctx: &mut Ctx) -> Result<MaglevSpec> {
    let mut f = node.fields()?;
    let table_size = match f.take("table_size") {
        Some(n) => {
            ctx.origin(format!("{key}.maglev.table_size"), &n);
            Some(n.u64()?)
        }
        None => None,
    };
    f.finish()?;
    Ok(MaglevSpec { table_size })
}

/// `common_lb_config`: only the hashing options matter.
pub(super) fn common_lb_config(node: &Node<'_>, ctx: &mut Ctx) -> Result<()> {
    let mut f = node.fields()?;
    f.refuse(&["locality_weighted_lb_config"], LOCALITY)?;
    if let Some(ch) = f.take("consistent_hashing_lb_config") {
        let mut c = ch.fields()?;
        if let Some(on) = c.take("use_hostname_for_hashing")
            && on.bool()?
        {
            return Err(on.error(HOSTNAME));
        }
        c.refuse(&["hash_balance_factor"], BOUNDED)?;
        c.finish()?;
    }
    f.ignore(
        ctx,
        &[
            "healthy_panic_threshold",
            "zone_aware_lb_config",
            "update_merge_window",
            "ignore_new_hosts_until_first_hc",
            "close_connections_on_host_set_change",
            "override_host_status",
        ],
        "ignored: applies to unhealthy hosts or zones; shardis has neither (every listed host is used)",
    );
    f.finish()
}

/// `cluster_type` `envoy.clusters.redis` → cluster mode and `[refresh]`.
fn redis_cluster<'a>(node: &Node<'a>, key: &str, ctx: &mut Ctx) -> Result<Placement<'a>> {
    let mut f = node.fields()?;
    let name = f
        .take("name")
        .ok_or_else(|| node.error("missing name"))?
        .str()?;
    let typed = f.take("typed_config");
    f.finish()?;
    if name != "envoy.clusters.redis" {
        return Err(node.error(format!(
            "not supported: cluster type {name:?} (only envoy.clusters.redis)"
        )));
    }
    let Some(typed) = typed else {
        return Ok(Placement::Cluster(None));
    };
    let (ty, mut c) = typed.any(REDIS_CLUSTER_TYPE)?;
    if ty != REDIS_CLUSTER_TYPE {
        return Err(typed.error(format!("\"@type\" {ty:?} is not {REDIS_CLUSTER_TYPE}")));
    }
    let mut refresh = RefreshSpec::default();
    if let Some(r) = c.take("cluster_refresh_rate") {
        ctx.origin(format!("{key}.refresh.interval"), &r);
        refresh.interval = Some(r.duration()?);
    }
    for (field, slot) in [
        ("redirect_refresh_threshold", &mut refresh.on_redirects),
        ("failure_refresh_threshold", &mut refresh.on_failures),
    ] {
        let Some(n) = c.take(field) else { continue };
        match n.u32()? {
            0 => ctx.warn(
                &n,
                "0 turns this refresh off in Envoy; shardis has no off: its default (refresh after 1) is kept",
            ),
            v => *slot = Some(v),
        }
    }
    c.ignore(
        ctx,
        &[
            "cluster_refresh_timeout",
            "redirect_refresh_interval",
            "host_degraded_refresh_threshold",
            "enable_zone_discovery",
        ],
        "ignored: shardis refreshes with its connect timeout, after redirects and failures as set",
    );
    c.finish()?;
    let any = refresh != RefreshSpec::default();
    Ok(Placement::Cluster(any.then_some(refresh)))
}
