//! One Envoy cluster → one shardis backend: its placement (`placement`), its endpoints
//! (`endpoints`), `connect_timeout`, and its AUTH and TLS (`upstream`). The filter's
//! settings (`op_timeout`, hash tags, read policy) are applied here; the cluster's health,
//! DNS and statistics settings are listed as ignored.

use std::collections::BTreeMap;

use super::placement::{self, Placement};
use super::proxy::Settings;
use super::tree::{Fields, Node};
use super::{Ctx, endpoints, upstream};
use crate::config::spec::{ConfigSpec, HashTagsSpec, Mode};
use crate::error::Result;

const HEALTH: &str = "ignored: health checking, outlier detection and circuit breaking belong to the proxy (shardis retries and reports per call)";
const DNS: &str =
    "ignored: DNS settings of the proxy (shardis resolves host names with the system resolver)";
const OTHER: &str = "ignored: no effect on where keys go";

/// The clusters by `name`. A missing or repeated name is an error.
pub(super) fn index<'a>(clusters: &[Node<'a>]) -> Result<BTreeMap<&'a str, Node<'a>>> {
    let mut out: BTreeMap<&'a str, Node<'a>> = BTreeMap::new();
    for c in clusters {
        let fields = c.fields()?;
        let name = fields
            .peek("name")
            .ok_or_else(|| c.error("a cluster without a name"))?
            .str()?;
        if let Some(first) = out.get(name) {
            return Err(c.error(format!(
                "cluster name {name:?} is also used by {}",
                first.path()
            )));
        }
        out.insert(name, c.clone());
    }
    Ok(out)
}

/// Convert the cluster `name` (at `node`) into a backend.
pub(super) fn convert(
    node: &Node<'_>,
    name: &str,
    settings: &Settings<'_>,
    ctx: &mut Ctx,
) -> Result<ConfigSpec> {
    let key = format!("backends.{name}");
    let mut f = node.fields()?;
    f.take("name");
    let dns = discovery(&mut f)?;
    f.refuse(
        &["eds_cluster_config"],
        "not supported: endpoints from EDS (the endpoints must be in load_assignment)",
    )?;
    f.refuse(
        &["lb_subset_config"],
        "not supported: subset load balancing picks hosts by request metadata",
    )?;
    f.refuse(
        &["transport_socket_matches", "transport_socket_matcher"],
        "not supported: a transport socket per endpoint (give one transport_socket)",
    )?;
    f.refuse(
        &[
            "original_dst_lb_config",
            "least_request_lb_config",
            "round_robin_lb_config",
        ],
        "not supported: the config of a load balancer that places no key",
    )?;
    let placement = placement::convert(&mut f, node, &key, ctx)?;
    if let Some(common) = f.take("common_lb_config") {
        placement::common_lb_config(&common, ctx)?;
    }

    let mut spec = ConfigSpec::default();
    if let Some(t) = f.take("connect_timeout") {
        ctx.origin(format!("{key}.connect_timeout"), &t);
        spec.connect_timeout = Some(t.duration()?);
    }
    let (timeout, at) = &settings.timeout;
    ctx.origin(format!("{key}.timeout"), at);
    spec.timeout = Some(timeout.clone());

    let cluster_mode = matches!(placement, Placement::Cluster(_));
    let assignment = f
        .take("load_assignment")
        .ok_or_else(|| node.error("no load_assignment: the cluster has no endpoints"))?;
    ctx.origin(format!("{key}.nodes"), &assignment);
    spec.nodes = endpoints::convert(&assignment, &key, cluster_mode, dns, ctx)?;

    if let Some(t) = f.take("transport_socket") {
        ctx.origin(format!("{key}.tls"), &t);
        spec.tls = upstream::transport_socket(&t, ctx)?;
    }
    if let Some(o) = f.take("typed_extension_protocol_options") {
        ctx.origin(format!("{key}.auth"), &o);
        spec.auth = upstream::protocol_options(&o, ctx)?;
    }
    f.ignore(
        ctx,
        &[
            "health_checks",
            "outlier_detection",
            "circuit_breakers",
            "close_connections_on_host_health_failure",
            "ignore_health_on_host_removal",
        ],
        HEALTH,
    );
    f.ignore(
        ctx,
        &[
            "dns_refresh_rate",
            "dns_jitter",
            "dns_failure_refresh_rate",
            "respect_dns_ttl",
            "dns_lookup_family",
            "dns_resolvers",
            "use_tcp_for_dns_lookups",
            "dns_resolution_config",
            "typed_dns_resolver_config",
        ],
        DNS,
    );
    f.ignore(
        ctx,
        &[
            "alt_stat_name",
            "stats_matcher",
            "per_connection_buffer_limit_bytes",
            "per_connection_buffer_high_watermark_timeout",
            "max_requests_per_connection",
            "upstream_http_protocol_options",
            "common_http_protocol_options",
            "http_protocol_options",
            "http2_protocol_options",
            "wait_for_warm_on_init",
            "cleanup_interval",
            "upstream_bind_config",
            "metadata",
            "protocol_selection",
            "upstream_connection_options",
            "filters",
            "lrs_server",
            "lrs_report_endpoint_metrics",
            "track_timeout_budgets",
            "upstream_config",
            "track_cluster_stats",
            "preconnect_policy",
            "connection_pool_per_downstream_connection",
            "queuing_policies",
        ],
        OTHER,
    );
    f.finish()?;

    match placement {
        Placement::Ring(at, ring) => {
            spec.mode = Some(Mode::RingHash);
            if let Some(at) = at {
                ctx.origin(format!("{key}.ring_hash"), &at);
            }
            spec.ring_hash = ring;
        }
        Placement::Maglev(at, maglev) => {
            spec.mode = Some(Mode::Maglev);
            if let Some(at) = at {
                ctx.origin(format!("{key}.maglev"), &at);
            }
            spec.maglev = maglev;
        }
        Placement::Cluster(refresh) => {
            spec.mode = Some(Mode::Cluster);
            spec.refresh = refresh;
            spec.read_from = settings.read_from;
        }
    }
    if settings.hash_tags && !cluster_mode {
        spec.hash_tags = Some(HashTagsSpec::Enabled(true));
    }
    Ok(spec)
}

/// `type`: true for the DNS types (the address may be a host name).
fn discovery(f: &mut Fields<'_>) -> Result<bool> {
    let Some(t) = f.take("type") else {
        return Ok(false);
    };
    match t.enum_value(&["STATIC", "STRICT_DNS", "LOGICAL_DNS", "EDS", "ORIGINAL_DST"])? {
        "STATIC" => Ok(false),
        "STRICT_DNS" | "LOGICAL_DNS" => Ok(true),
        other => Err(t.error(format!(
            "not supported: type {other} (the endpoints must be listed in load_assignment)"
        ))),
    }
}
