//! Which listener is imported: the one whose filter chain holds the `redis_proxy` network
//! filter (by `@type`, or by its well-known name). Everything else about the listener (its
//! address, socket options, other network filters, downstream TLS) belongs to the proxy
//! process and is listed as ignored.

use super::Ctx;
use super::tree::Node;
use crate::error::Result;

/// The `redis_proxy` filter's well-known name.
pub(super) const REDIS_PROXY_FILTER: &str = "envoy.filters.network.redis_proxy";
/// The `redis_proxy` filter's config type.
pub(super) const REDIS_PROXY_TYPE: &str =
    "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy";

/// Listener fields that belong to the proxy process.
const LISTENER_IGNORED: &[&str] = &[
    "address",
    "additional_addresses",
    "stat_prefix",
    "stats_matcher",
    "filter_chain_matcher",
    "use_original_dst",
    "per_connection_buffer_limit_bytes",
    "per_connection_buffer_high_watermark_timeout",
    "metadata",
    "deprecated_v1",
    "drain_type",
    "listener_filters",
    "listener_filters_timeout",
    "continue_on_listener_filters_timeout",
    "transparent",
    "freebind",
    "socket_options",
    "tcp_fast_open_queue_length",
    "traffic_direction",
    "udp_listener_config",
    "api_listener",
    "connection_balance_config",
    "reuse_port",
    "enable_reuse_port",
    "access_log",
    "tcp_backlog_size",
    "max_connections_to_accept_per_socket_event",
    "bind_to_port",
    "internal_listener",
    "enable_mptcp",
    "ignore_global_conn_limit",
    "bypass_overload_manager",
    "tcp_keepalive",
];

/// Filter chain fields that describe the downstream connection.
const CHAIN_IGNORED: &[&str] = &[
    "filter_chain_match",
    "use_proxy_proto",
    "metadata",
    "transport_socket",
    "transport_socket_connect_timeout",
    "name",
];

const IN_PROCESS: &str = "ignored: the listener's own setting (shardis has no listener: the application calls it in-process)";

/// True when `filter` (one entry of a chain's `filters`) is a `redis_proxy`.
fn is_redis_proxy(filter: &Node<'_>) -> bool {
    let Ok(fields) = filter.fields() else {
        return false;
    };
    let named = fields
        .peek("name")
        .and_then(|n| n.str().ok())
        .is_some_and(|n| n == REDIS_PROXY_FILTER);
    let typed = fields
        .peek("typed_config")
        .and_then(|t| t.any(REDIS_PROXY_TYPE).ok())
        .is_some_and(|(ty, _)| ty == REDIS_PROXY_TYPE);
    named || typed
}

/// The filter chains of a listener: `filter_chains[]` and `default_filter_chain`.
fn chains<'a>(listener: &Node<'a>) -> Vec<Node<'a>> {
    let Ok(fields) = listener.fields() else {
        return Vec::new();
    };
    let mut out = fields
        .peek("filter_chains")
        .and_then(|c| c.items().ok())
        .unwrap_or_default();
    out.extend(fields.peek("default_filter_chain").cloned());
    out
}

/// The `redis_proxy` filters of a listener, in order.
fn redis_filters<'a>(listener: &Node<'a>) -> Vec<Node<'a>> {
    chains(listener)
        .iter()
        .filter_map(|chain| chain.fields().ok()?.peek("filters")?.items().ok())
        .flatten()
        .filter(is_redis_proxy)
        .collect()
}

fn name_of(listener: &Node<'_>) -> String {
    listener
        .fields()
        .ok()
        .and_then(|f| f.peek("name").and_then(|n| n.str().ok()).map(str::to_owned))
        .unwrap_or_default()
}

/// Pick the listener (by `wanted` name, or the only one with a `redis_proxy`), check it,
/// and return its `redis_proxy` filter's `typed_config`.
pub(super) fn choose<'a>(
    statics: &Node<'a>,
    listeners: &[Node<'a>],
    wanted: Option<&str>,
    ctx: &mut Ctx,
) -> Result<Node<'a>> {
    let redis: Vec<(usize, String)> = listeners
        .iter()
        .enumerate()
        .filter(|(_, l)| !redis_filters(l).is_empty())
        .map(|(i, l)| (i, name_of(l)))
        .collect();
    let names = || {
        redis
            .iter()
            .map(|(i, n)| {
                if n.is_empty() {
                    format!("listeners[{i}] (no name)")
                } else {
                    format!("{n:?}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let index = match wanted {
        Some(w) => {
            let Some(i) = listeners.iter().position(|l| name_of(l) == w) else {
                return Err(statics.error(format!(
                    "no listener named {w:?}; listeners with a {REDIS_PROXY_FILTER} filter: {}",
                    if redis.is_empty() {
                        "none".to_owned()
                    } else {
                        names()
                    }
                )));
            };
            if !redis.iter().any(|(j, _)| *j == i) {
                return Err(listeners[i]
                    .error(format!("listener {w:?} has no {REDIS_PROXY_FILTER} filter")));
            }
            i
        }
        None => match redis.as_slice() {
            [] => {
                return Err(statics.error(format!(
                    "no listener in static_resources.listeners has a {REDIS_PROXY_FILTER} filter"
                )));
            }
            [(i, _)] => *i,
            _ => {
                return Err(statics.error(format!(
                    "{} listeners have a {REDIS_PROXY_FILTER} filter: {}; name the one to import (`--listener NAME`)",
                    redis.len(),
                    names()
                )));
            }
        },
    };
    for (i, l) in listeners.iter().enumerate() {
        if i != index {
            ctx.warn(
                l,
                format!("ignored: listener {:?} is not the imported one", name_of(l)),
            );
        }
    }
    listener(&listeners[index], ctx)
}

/// Walk the chosen listener strictly and return its one `redis_proxy` `typed_config`.
fn listener<'a>(node: &Node<'a>, ctx: &mut Ctx) -> Result<Node<'a>> {
    let mut fields = node.fields()?;
    fields.take("name");
    fields.ignore(ctx, LISTENER_IGNORED, IN_PROCESS);
    let mut found = Vec::new();
    if let Some(chains) = fields.take("filter_chains") {
        for chain in chains.items()? {
            found.extend(chain_filters(&chain, ctx)?);
        }
    }
    if let Some(chain) = fields.take("default_filter_chain") {
        found.extend(chain_filters(&chain, ctx)?);
    }
    fields.finish()?;
    match found.len() {
        1 => Ok(found.remove(0)),
        _ => Err(node.error(format!(
            "{} {REDIS_PROXY_FILTER} filters ({}): the filter chain Envoy uses depends on the connection; import one listener with one redis_proxy",
            found.len(),
            found.iter().map(|f| f.path().to_owned()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// A filter chain's `redis_proxy` `typed_config`s; other filters are listed as ignored.
fn chain_filters<'a>(chain: &Node<'a>, ctx: &mut Ctx) -> Result<Vec<Node<'a>>> {
    let mut fields = chain.fields()?;
    fields.ignore(ctx, CHAIN_IGNORED, IN_PROCESS);
    let filters = fields.take("filters");
    fields.finish()?;
    let mut out = Vec::new();
    for filter in filters.map(|f| f.items()).transpose()?.unwrap_or_default() {
        if !is_redis_proxy(&filter) {
            ctx.warn(
                &filter,
                "ignored: a network filter other than redis_proxy (it acts on the proxy's connections)",
            );
            continue;
        }
        let mut f = filter.fields()?;
        f.take("name");
        f.refuse(
            &["config_discovery"],
            "not supported: the redis_proxy config must be inline (typed_config), not discovered",
        )?;
        let typed = f
            .take("typed_config")
            .ok_or_else(|| filter.error("the redis_proxy filter has no typed_config"))?;
        f.finish()?;
        out.push(typed);
    }
    Ok(out)
}
