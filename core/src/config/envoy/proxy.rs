//! The `redis_proxy` filter's config (`RedisProxy`): connection-pool settings that apply to
//! every backend (`op_timeout`, `enable_hashtagging`, `read_policy`), the prefix routes
//! (`routes`), and the injected faults.

use super::Ctx;
use super::listener::REDIS_PROXY_TYPE;
use super::routes::{self, fraction};
use super::tree::Node;
use crate::config::duration::DurationSpec;
use crate::config::routes_spec::{FaultKind, FaultSpec, Percent, RouteSpec};
use crate::config::spec::ReadFrom;
use crate::error::Result;

/// `ConnPoolSettings` as they apply to each backend.
pub(super) struct Settings<'a> {
    /// `op_timeout` → each backend's `timeout`, and where it is written.
    pub(super) timeout: (DurationSpec, Node<'a>),
    /// `enable_hashtagging` → `hash_tags` of ring_hash / maglev backends.
    pub(super) hash_tags: bool,
    /// `read_policy` → `read_from` of Redis Cluster backends.
    pub(super) read_from: Option<ReadFrom>,
}

/// What the filter's config becomes.
pub(super) struct Proxy<'a> {
    pub(super) settings: Settings<'a>,
    pub(super) routes: Vec<RouteSpec>,
    pub(super) catch_all: Option<RouteSpec>,
    pub(super) case_insensitive: bool,
    pub(super) faults: Vec<FaultSpec>,
    /// Every cluster named by a route, mirror or read policy, with its first mention.
    pub(super) clusters: Vec<(String, Node<'a>)>,
}

const DOWNSTREAM: &str = "ignored: authenticates the proxy's clients; an in-process client has none (the application is the client)";

/// Convert the `redis_proxy` `typed_config`.
pub(super) fn convert<'a>(typed_config: &Node<'a>, ctx: &mut Ctx) -> Result<Proxy<'a>> {
    let (ty, mut fields) = typed_config.any(REDIS_PROXY_TYPE)?;
    if ty != REDIS_PROXY_TYPE {
        return Err(typed_config.error(format!("\"@type\" {ty:?} is not {REDIS_PROXY_TYPE}")));
    }
    fields.ignore(
        ctx,
        &["stat_prefix", "latency_in_micros"],
        "ignored: Envoy statistics (shardis keeps its own: Client::stats)",
    );
    fields.ignore(
        ctx,
        &[
            "downstream_auth_password",
            "downstream_auth_passwords",
            "downstream_auth_username",
            "external_auth_provider",
        ],
        DOWNSTREAM,
    );
    fields.ignore(
        ctx,
        &["protocol_version"],
        "ignored: the RESP version the proxy speaks to its clients (each binding speaks its own)",
    );
    if let Some(custom) = fields.take("custom_commands")
        && !custom.items()?.is_empty()
    {
        return Err(custom.error(
            "not supported: custom commands change which commands are routed; shardis routes the commands of its own command table",
        ));
    }
    let settings_node = fields
        .take("settings")
        .ok_or_else(|| typed_config.error("missing settings (required by Envoy)"))?;
    let settings = settings(&settings_node, ctx)?;
    let prefix_routes = fields.take("prefix_routes").ok_or_else(|| {
        typed_config.error("no prefix_routes: this redis_proxy routes no key to any cluster")
    })?;
    let faults = match fields.take("faults") {
        Some(f) => f
            .items()?
            .iter()
            .enumerate()
            .map(|(i, f)| fault(f, i, ctx))
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    fields.finish()?;
    let r = routes::convert(&prefix_routes, ctx)?;
    Ok(Proxy {
        settings,
        routes: r.routes,
        catch_all: r.catch_all,
        case_insensitive: r.case_insensitive,
        faults,
        clusters: r.clusters,
    })
}

/// `ConnPoolSettings`.
fn settings<'a>(node: &Node<'a>, ctx: &mut Ctx) -> Result<Settings<'a>> {
    let mut f = node.fields()?;
    let timeout = f
        .take("op_timeout")
        .ok_or_else(|| node.error("missing op_timeout (required by Envoy)"))?;
    let hash_tags = f.take("enable_hashtagging").map(|n| n.bool()).transpose()?;
    if let Some(r) = f.take("enable_redirection")
        && !r.bool()?
    {
        ctx.warn(
            &r,
            "ignored: shardis always follows MOVED and ASK redirections (Envoy returns them to the client when this is false)",
        );
    }
    let read_from = match f.take("read_policy") {
        None => None,
        Some(n) => match n.enum_value(&[
            "MASTER",
            "PREFER_MASTER",
            "REPLICA",
            "PREFER_REPLICA",
            "ANY",
            "LOCAL_ZONE_AFFINITY",
            "LOCAL_ZONE_AFFINITY_REPLICAS_AND_PRIMARY",
        ])? {
            "MASTER" => Some(ReadFrom::Primary),
            "PREFER_MASTER" => Some(ReadFrom::PreferPrimary),
            "REPLICA" => Some(ReadFrom::Replica),
            "PREFER_REPLICA" => Some(ReadFrom::PreferReplica),
            "ANY" => Some(ReadFrom::Any),
            other => {
                return Err(n.error(format!(
                    "not supported: {other} (shardis knows no zones; use PREFER_REPLICA or ANY)"
                )));
            }
        },
    };
    f.ignore(
        ctx,
        &[
            "max_buffer_size_before_flush",
            "buffer_flush_timeout",
            "max_upstream_unknown_connections",
            "enable_command_stats",
            "connection_rate_limit",
        ],
        "ignored: batching, connection limits and stats of the proxy; no effect on where keys go",
    );
    f.ignore(
        ctx,
        &["dns_cache_config"],
        "ignored: shardis resolves the host names of redirections itself",
    );
    f.finish()?;
    Ok(Settings {
        timeout: (timeout.duration()?, timeout),
        hash_tags: hash_tags.unwrap_or(false),
        read_from,
    })
}

/// One `RedisFault` (`faults[index]`).
fn fault(node: &Node<'_>, index: usize, ctx: &mut Ctx) -> Result<FaultSpec> {
    let key = format!("faults[{index}]");
    ctx.origin(&key, node);
    let mut f = node.fields()?;
    // DELAY is the enum's zero value: Envoy's default.
    let kind = match f.take("fault_type") {
        None => FaultKind::Delay,
        Some(t) => match t.enum_value(&["DELAY", "ERROR"])? {
            "ERROR" => FaultKind::Error,
            _ => FaultKind::Delay,
        },
    };
    let enabled = f
        .take("fault_enabled")
        .ok_or_else(|| node.error("missing fault_enabled (required by Envoy)"))?;
    let (numerator, denominator) = fraction(&enabled, ctx)?;
    // Envoy turns a fault's fraction into whole percents (numerator * 100 / denominator,
    // integer division): 0.5% is never drawn.
    let whole = u64::from(numerator) * 100 / denominator.parts();
    if whole * denominator.parts() != u64::from(numerator) * 100 {
        ctx.warn(
            &enabled,
            format!(
                "Envoy draws faults in whole percents: {numerator}/{} becomes {whole}%",
                denominator.parts()
            ),
        );
    }
    let percent = if whole > 100 {
        ctx.warn(&enabled, "more than 100%: imported as 100%");
        100
    } else {
        whole
    };
    let delay = match f.take("delay") {
        Some(d) => {
            ctx.origin(format!("{key}.delay"), &d);
            Some(d.duration()?)
        }
        // Envoy's delay fault without a delay waits 0s, yet still takes its share of the
        // draw from the faults listed after it.
        None if kind == FaultKind::Delay => Some(DurationSpec::Text("0s".into())),
        None => None,
    };
    let mut commands = Vec::new();
    if let Some(list) = f.take("commands") {
        for (j, c) in list.items()?.iter().enumerate() {
            ctx.origin(format!("{key}.commands[{j}]"), c);
            commands.push(c.str()?.to_owned());
        }
    }
    f.finish()?;
    Ok(FaultSpec {
        kind,
        fraction: Percent((percent as u32) * 10_000),
        delay,
        commands,
    })
}
