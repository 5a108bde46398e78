//! Import an Envoy bootstrap (the YAML an Envoy `redis_proxy` sidecar runs with) as a
//! shardis [`ConfigSpec`]: the `redis_proxy` listener's prefix routes, mirrors, read
//! policy and faults become `[[routes]]`, `[catch_all]` and `[[faults]]`; each Envoy
//! cluster those use becomes a `[backends.NAME]` with its placement (RING_HASH, MAGLEV or
//! a Redis Cluster), endpoints, timeouts, upstream AUTH and TLS.
//!
//! What changes where keys go and cannot be expressed is an error naming the YAML path;
//! what has no effect on an in-process client (admin, listener address, stats, access logs,
//! health checks, downstream AUTH, batching) is dropped and listed in
//! [`EnvoyImport::warnings`]. A field the importer does not know is an error.
//!
//! Where Envoy's defaults differ from shardis' (`connect_timeout` 5s vs 1s, Redis Cluster
//! refresh thresholds), only values written in the file are imported: the import keeps
//! shardis' defaults for the rest.

mod cluster;
mod endpoints;
mod listener;
mod placement;
mod proxy;
mod routes;
mod tree;
mod upstream;

use std::collections::BTreeMap;

use saphyr::{LoadableYamlNode, MarkedYaml};

use super::{Config, ConfigSpec};
use crate::error::{Error, ErrorKind, Result};
use tree::Node;

/// The outcome of an import: the configuration, and what was dropped or changed on the way.
#[derive(Debug, Clone)]
pub struct EnvoyImport {
    /// The shardis configuration: one backend per Envoy cluster the listener uses, its
    /// routes and faults. Not yet validated: see [`EnvoyImport::to_config`].
    pub spec: ConfigSpec,
    /// One line per ignored or approximated field: `path (line N): what and why`.
    pub warnings: Vec<String>,
    /// Where each key of `spec` came from.
    origins: Vec<Origin>,
}

impl EnvoyImport {
    /// Validate the imported spec. A shardis validation error is reported at the YAML
    /// path it came from (`static_resources.clusters[0].maglev_lb_config.table_size …`).
    /// Like [`Config::from_spec`], this reads `password_file`s and checks TLS files.
    pub fn to_config(&self) -> Result<Config> {
        Config::from_spec(self.spec.clone()).map_err(|e| self.locate(e))
    }

    /// Rewrite a config error keyed by a shardis key (`routes[1].backend: …`) to name the
    /// YAML path that produced that key.
    fn locate(&self, e: Error) -> Error {
        if e.kind() != ErrorKind::Config {
            return e;
        }
        let message = e.message();
        let rest = message.strip_prefix("invalid config: ").unwrap_or(message);
        let best = self
            .origins
            .iter()
            .filter(|o| {
                rest.strip_prefix(o.key.as_str())
                    .is_some_and(|after| after.starts_with([':', '.', '[']))
            })
            .max_by_key(|o| o.key.len());
        match best {
            Some(o) => {
                let after = &rest[o.key.len()..];
                let (sub, problem) = after.split_once(": ").unwrap_or(("", after));
                tree::error_at(
                    &o.path,
                    o.line,
                    format!("{problem}; shardis `{}{sub}`", o.key),
                )
            }
            None => e,
        }
    }
}

/// A key of the imported spec and the YAML node it came from.
#[derive(Debug, Clone)]
struct Origin {
    key: String,
    path: String,
    line: usize,
}

/// The importer's state: warnings and the origin of each shardis key.
struct Ctx {
    warnings: Vec<String>,
    origins: Vec<Origin>,
}

impl Ctx {
    /// Note a field that was ignored or approximated.
    fn warn(&mut self, node: &Node<'_>, why: impl std::fmt::Display) {
        self.warnings
            .push(format!("{} (line {}): {why}", node.path(), node.line()));
    }

    /// Record that shardis key `key` comes from `node`.
    fn origin(&mut self, key: impl Into<String>, node: &Node<'_>) {
        self.origins.push(Origin {
            key: key.into(),
            path: node.path().to_owned(),
            line: node.line(),
        });
    }
}

/// Import the `redis_proxy` listener of an Envoy bootstrap. `listener` picks a listener by
/// `name` when several have a `redis_proxy` filter.
pub fn import(yaml_text: &str, listener: Option<&str>) -> Result<EnvoyImport> {
    let docs = MarkedYaml::load_from_str(yaml_text)
        .map_err(|e| Error::config("", format!("Envoy YAML: {e}")))?;
    let root = match docs.as_slice() {
        [doc] => doc,
        [] => return Err(Error::config("", "Envoy YAML: the document is empty")),
        _ => {
            return Err(Error::config(
                "",
                "Envoy YAML: several documents (---); give one bootstrap",
            ));
        }
    };
    let mut ctx = Ctx {
        warnings: Vec::new(),
        origins: Vec::new(),
    };
    let spec = bootstrap(Node::root(root), listener, &mut ctx)?;
    Ok(EnvoyImport {
        spec,
        warnings: ctx.warnings,
        origins: ctx.origins,
    })
}

/// Bootstrap fields that do not concern where keys go.
const BOOTSTRAP_IGNORED: &[&str] = &[
    "node",
    "node_context_params",
    "dynamic_resources",
    "cluster_manager",
    "hds_config",
    "flags_path",
    "stats_sinks",
    "deferred_stat_options",
    "stats_config",
    "stats_flush_interval",
    "stats_flush_on_admin",
    "stats_eviction_interval",
    "watchdog",
    "watchdogs",
    "tracing",
    "layered_runtime",
    "admin",
    "overload_manager",
    "enable_dispatcher_stats",
    "header_prefix",
    "stats_server_version_override",
    "use_tcp_for_dns_lookups",
    "dns_resolution_config",
    "typed_dns_resolver_config",
    "bootstrap_extensions",
    "fatal_actions",
    "config_sources",
    "default_config_source",
    "default_socket_interface",
    "certificate_provider_instances",
    "inline_headers",
    "perf_tracing_file_path",
    "default_regex_engine",
    "xds_delegate_extension",
    "xds_config_tracker_extension",
    "listener_manager",
    "application_log_config",
    "grpc_async_client_manager_config",
    "memory_allocator_manager",
    "enable_worker_cpu_affinity",
];

fn bootstrap(root: Node<'_>, wanted: Option<&str>, ctx: &mut Ctx) -> Result<ConfigSpec> {
    let mut top = root.fields()?;
    top.ignore(
        ctx,
        BOOTSTRAP_IGNORED,
        "ignored: Envoy process setting, not routing",
    );
    let statics = top.take("static_resources").ok_or_else(|| {
        root.error("no static_resources: the redis_proxy listener and its clusters must be static (dynamic resources cannot be imported)")
    })?;
    top.finish()?;

    let mut statics = statics.fields()?;
    let listeners = match statics.take("listeners") {
        Some(l) => l.items()?,
        None => Vec::new(),
    };
    let clusters = match statics.take("clusters") {
        Some(c) => c.items()?,
        None => Vec::new(),
    };
    statics.ignore(
        ctx,
        &["secrets"],
        "ignored: SDS secrets (TLS files are read from each cluster's tls context)",
    );
    let statics_node = statics.node().clone();
    statics.finish()?;

    let filter = listener::choose(&statics_node, &listeners, wanted, ctx)?;
    let proxy = proxy::convert(&filter, ctx)?;
    let by_name = cluster::index(&clusters)?;

    let mut backends = BTreeMap::new();
    for (name, reference) in &proxy.clusters {
        let Some(node) = by_name.get(name.as_str()) else {
            return Err(reference.error(format!(
                "no cluster named {name:?} in static_resources.clusters{}",
                known(by_name.keys())
            )));
        };
        ctx.origin(format!("backends.{name}"), node);
        let spec = cluster::convert(node, name, &proxy.settings, ctx)?;
        backends.insert(name.clone(), spec);
    }
    for (name, node) in &by_name {
        if !backends.contains_key(*name) {
            ctx.warn(
                node,
                format!("ignored: cluster {name:?} is not used by the redis_proxy listener"),
            );
        }
    }

    Ok(ConfigSpec {
        backends: Some(backends),
        routes: proxy.routes,
        catch_all: proxy.catch_all,
        routes_case_insensitive: proxy.case_insensitive.then_some(true),
        faults: proxy.faults,
        ..ConfigSpec::default()
    })
}

/// ` (known: a, b)`, or nothing when there are none.
fn known<'n>(names: impl Iterator<Item = &'n &'n str>) -> String {
    let names: Vec<&str> = names.copied().collect();
    if names.is_empty() {
        String::new()
    } else {
        format!(" (clusters: {})", names.join(", "))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
