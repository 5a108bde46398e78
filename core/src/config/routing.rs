//! Several backends behind one client: the checked form of `[backends.*]`, `[[routes]]`,
//! `[catch_all]` and `[[faults]]` (written in `routes_spec`). Each backend is validated as
//! a complete configuration of its own; every name a route uses must exist. A config with
//! one backend and no routes never gets here: it stays exactly the round-1 config.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::routes_spec::{FaultKind, Percent, RouteSpec};
use super::spec::ConfigSpec;
use super::{Config, validate};
use crate::error::{Error, ErrorKind, Result};

/// Commands Envoy answers without routing, so its faults never touch them.
pub const NEVER_FAULTED: [&str; 7] = ["ping", "echo", "time", "quit", "client", "hello", "auth"];

/// The name of the backend made of the top-level nodes.
pub const DEFAULT_BACKEND: &str = "default";

/// Checked backends, routes and faults.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Routing {
    /// Every backend, by index.
    pub backends: Vec<Backend>,
    /// Prefix routes in configuration order.
    pub routes: Vec<Route>,
    /// The route of keys no prefix matches.
    pub catch_all: Option<Route>,
    /// Prefixes match ignoring ASCII case.
    pub case_insensitive: bool,
    /// Injected faults, in configuration order.
    pub faults: Vec<Fault>,
}

/// One named backend: a complete shard set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Backend {
    /// Its name (`default` for the top-level nodes).
    pub name: String,
    /// Its own configuration (mode, nodes, timeouts, TLS, auth).
    pub config: Config,
}

/// One checked route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The key prefix (empty for the catch-all route).
    pub prefix: Vec<u8>,
    /// Strip `prefix` from keys before they are sent.
    pub remove_prefix: bool,
    /// Key rewrite applied after `remove_prefix`.
    pub key_formatter: Option<KeyFormatter>,
    /// Index of the backend in [`Routing::backends`].
    pub backend: usize,
    /// Backend of read-only commands, if not `backend`.
    pub read_backend: Option<usize>,
    /// Mirror backends.
    pub mirrors: Vec<Mirror>,
}

impl Route {
    /// True when keys reach the server unchanged.
    pub fn keeps_keys(&self) -> bool {
        !self.remove_prefix && self.key_formatter.is_none()
    }

    /// The key as the server stores it: `remove_prefix`, then `key_formatter`.
    pub fn stored_key(&self, key: &[u8], out: &mut Vec<u8>) {
        let key = if self.remove_prefix {
            key.get(self.prefix.len()..).unwrap_or_default()
        } else {
            key
        };
        match &self.key_formatter {
            Some(f) => f.apply(key, out),
            None => out.extend_from_slice(key),
        }
    }
}

/// A checked mirror.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mirror {
    /// Index of the backend in [`Routing::backends`].
    pub backend: usize,
    /// Share of keys mirrored.
    pub fraction: Percent,
    /// Read-only commands are not mirrored.
    pub exclude_read_commands: bool,
}

/// A checked fault.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fault {
    /// Error or delay.
    pub kind: FaultKind,
    /// Share of commands affected.
    pub fraction: Percent,
    /// Wait before answering (error) or sending (delay).
    pub delay: Duration,
    /// Lower-case command names; empty means every command.
    pub commands: Vec<String>,
}

/// `key_formatter`: literal bytes and `%KEY%`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyFormatter {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Piece {
    Text(Vec<u8>),
    Key,
}

impl KeyFormatter {
    /// Parse a format with `%KEY%`; any other `%…%` operator is refused.
    pub fn parse(text: &str) -> std::result::Result<KeyFormatter, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            if at > 0 {
                pieces.push(Piece::Text(rest.as_bytes()[..at].to_vec()));
            }
            let after = &rest[at..];
            if let Some(tail) = after.strip_prefix("%KEY%") {
                pieces.push(Piece::Key);
                rest = tail;
            } else {
                let op: String = after.chars().take(24).collect();
                return Err(format!(
                    "only the %KEY% operator is supported (found {op:?}); other Envoy operators describe a downstream connection, which an in-process client does not have"
                ));
            }
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.as_bytes().to_vec()));
        }
        if !pieces.contains(&Piece::Key) {
            return Err("must contain %KEY% (otherwise every key becomes the same key)".into());
        }
        Ok(KeyFormatter { pieces })
    }

    /// Append the formatted `key`.
    pub fn apply(&self, key: &[u8], out: &mut Vec<u8>) {
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.extend_from_slice(t),
                Piece::Key => out.extend_from_slice(key),
            }
        }
    }

    /// The format as written.
    pub fn as_text(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Piece::Key => "%KEY%".to_owned(),
            })
            .collect()
    }
}

/// Keys a backend inherits from the top level when it does not set them.
fn inherit(top: &ConfigSpec, b: &mut ConfigSpec) {
    macro_rules! take {
        ($($f:ident),*) => {$(
            if b.$f.is_none() { b.$f = top.$f.clone(); }
        )*};
    }
    take!(
        connect_timeout,
        timeout,
        tcp_keepalive,
        max_idle_connections,
        retry_writes
    );
}

/// Re-key a backend's config error under `backends.NAME.`.
fn under(prefix: &str, e: Error) -> Error {
    if e.kind() != ErrorKind::Config {
        return e;
    }
    let msg = e.message();
    let rest = msg.strip_prefix("invalid config: ").unwrap_or(msg);
    Error::new(
        ErrorKind::Config,
        format!("invalid config: {prefix}.{rest}"),
    )
}

/// Validate a spec that has backends, routes or faults.
pub(super) fn validate_routed(mut spec: ConfigSpec) -> Result<Config> {
    let backend_specs = spec.backends.take().unwrap_or_default();
    let route_specs = std::mem::take(&mut spec.routes);
    let catch_all_spec = spec.catch_all.take();
    let case_insensitive = spec.routes_case_insensitive.take().unwrap_or(false);
    let fault_specs = std::mem::take(&mut spec.faults);
    let persistent_id = spec.persistent_id.clone();

    let mut backends: Vec<Backend> = Vec::new();
    let has_default = spec.mode.is_some() || !spec.nodes.is_empty();
    if has_default {
        if backend_specs.contains_key(DEFAULT_BACKEND) {
            return Err(Error::config(
                "backends.default",
                "`default` is the backend of the top-level nodes; give this backend another name",
            ));
        }
        backends.push(Backend {
            name: DEFAULT_BACKEND.to_owned(),
            config: validate::validate(spec.clone())?,
        });
    } else {
        check_no_stray_top_level(&spec)?;
    }
    for (name, mut b) in backend_specs {
        let key = format!("backends.{name}");
        if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
            return Err(Error::config(
                &key,
                "a backend name is 1 to 128 printable characters",
            ));
        }
        if b.has_routing() || b.persistent_id.is_some() {
            let which = if b.persistent_id.is_some() {
                "persistent_id"
            } else {
                "backends/routes/catch_all/faults"
            };
            return Err(Error::config(
                &key,
                format!("{which} are set only at the top level"),
            ));
        }
        inherit(&spec, &mut b);
        let config = validate::validate(b).map_err(|e| under(&key, e))?;
        backends.push(Backend { name, config });
    }
    let index: HashMap<String, usize> = backends
        .iter()
        .enumerate()
        .map(|(i, b)| (b.name.clone(), i))
        .collect();

    let mut routes = Vec::with_capacity(route_specs.len());
    let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (i, r) in route_specs.iter().enumerate() {
        let key = format!("routes[{i}]");
        let route = route(r, &key, &index, false)?;
        let folded = if case_insensitive {
            route.prefix.to_ascii_lowercase()
        } else {
            route.prefix.clone()
        };
        if let Some(j) = seen.insert(folded, i) {
            return Err(Error::config(
                &format!("{key}.prefix"),
                format!(
                    "{:?} is also the prefix of routes[{j}]",
                    String::from_utf8_lossy(&route.prefix)
                ),
            ));
        }
        routes.push(route);
    }
    let catch_all = match &catch_all_spec {
        Some(r) => Some(route(r, "catch_all", &index, true)?),
        None if has_default => Some(Route {
            prefix: Vec::new(),
            remove_prefix: false,
            key_formatter: None,
            backend: 0,
            read_backend: None,
            mirrors: Vec::new(),
        }),
        None => None,
    };
    if routes.is_empty() && catch_all.is_none() {
        return Err(Error::config(
            "routes",
            "no route, no catch_all and no top-level nodes: no key could be placed",
        ));
    }
    let faults = fault_specs
        .iter()
        .enumerate()
        .map(|(i, f)| fault(f, &format!("faults[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    check_every_backend_used(&backends, &routes, catch_all.as_ref())?;

    // The client's own settings (call deadline, mode shown in diagnostics) are those of its
    // primary backend: the default one, else the catch-all's, else the first route's.
    let primary = catch_all
        .as_ref()
        .map_or_else(|| routes[0].backend, |c| c.backend);
    let mut config = backends[primary].config.clone();
    config.persistent_id = persistent_id;
    config.routing = Some(Arc::new(Routing {
        backends,
        routes,
        catch_all,
        case_insensitive,
        faults,
    }));
    Ok(config)
}

fn check_no_stray_top_level(spec: &ConfigSpec) -> Result<()> {
    let stray = [
        ("hash_tags", spec.hash_tags.is_some()),
        ("read_from", spec.read_from.is_some()),
        ("db", spec.db.is_some()),
        ("ring_hash", spec.ring_hash.is_some()),
        ("maglev", spec.maglev.is_some()),
        ("ketama", spec.ketama.is_some()),
        ("modula", spec.modula.is_some()),
        ("jump", spec.jump.is_some()),
        ("refresh", spec.refresh.is_some()),
        ("auth", spec.auth.is_some()),
        ("tls", spec.tls.is_some()),
    ];
    match stray.iter().find(|(_, present)| *present) {
        Some((key, _)) => Err(Error::config(
            key,
            "describes the top-level (`default`) backend, which has no nodes; set it in a [backends.NAME] table",
        )),
        None => Ok(()),
    }
}

fn check_every_backend_used(
    backends: &[Backend],
    routes: &[Route],
    catch_all: Option<&Route>,
) -> Result<()> {
    let mut used = vec![false; backends.len()];
    for r in routes.iter().chain(catch_all) {
        used[r.backend] = true;
        if let Some(b) = r.read_backend {
            used[b] = true;
        }
        for m in &r.mirrors {
            used[m.backend] = true;
        }
    }
    match used.iter().position(|u| !u) {
        Some(i) => Err(Error::config(
            &format!("backends.{}", backends[i].name),
            "no route, catch_all, read_backend or mirror uses this backend",
        )),
        None => Ok(()),
    }
}

fn backend_index(
    name: Option<&String>,
    key: &str,
    index: &HashMap<String, usize>,
) -> Result<usize> {
    let name = name.ok_or_else(|| Error::config(key, "missing (the name of a backend)"))?;
    index.get(name).copied().ok_or_else(|| {
        let mut known: Vec<&str> = index.keys().map(String::as_str).collect();
        known.sort_unstable();
        Error::config(
            key,
            format!("no backend named {name:?} (backends: {})", known.join(", ")),
        )
    })
}

fn route(
    r: &RouteSpec,
    key: &str,
    index: &HashMap<String, usize>,
    catch_all: bool,
) -> Result<Route> {
    let prefix = match (&r.prefix, catch_all) {
        (Some(_), true) => {
            return Err(Error::config(
                &format!("{key}.prefix"),
                "the catch-all route has no prefix",
            ));
        }
        (None, false) => return Err(Error::config(&format!("{key}.prefix"), "missing")),
        (Some(p), false) if p.is_empty() => {
            return Err(Error::config(
                &format!("{key}.prefix"),
                "is empty; use [catch_all] for every other key",
            ));
        }
        (Some(p), false) => p.as_bytes().to_vec(),
        (None, true) => Vec::new(),
    };
    if catch_all && r.remove_prefix == Some(true) {
        return Err(Error::config(
            &format!("{key}.remove_prefix"),
            "the catch-all route has no prefix to remove",
        ));
    }
    let backend = backend_index(r.backend.as_ref(), &format!("{key}.backend"), index)?;
    let read_backend = match &r.read_backend {
        None => None,
        Some(n) => {
            let rkey = format!("{key}.read_backend");
            let b = backend_index(Some(n), &rkey, index)?;
            if b == backend {
                return Err(Error::config(
                    &rkey,
                    "is the route's own backend (leave it out)",
                ));
            }
            Some(b)
        }
    };
    let key_formatter = match &r.key_formatter {
        None => None,
        Some(f) => Some(
            KeyFormatter::parse(f)
                .map_err(|why| Error::config(&format!("{key}.key_formatter"), why))?,
        ),
    };
    let mut mirrors = Vec::with_capacity(r.mirror.len());
    for (j, m) in r.mirror.iter().enumerate() {
        let mkey = format!("{key}.mirror[{j}].backend");
        let b = backend_index(Some(&m.backend), &mkey, index)?;
        if b == backend {
            return Err(Error::config(&mkey, "is the route's own backend"));
        }
        if mirrors.iter().any(|m: &Mirror| m.backend == b) {
            return Err(Error::config(&mkey, "is already a mirror of this route"));
        }
        mirrors.push(Mirror {
            backend: b,
            fraction: m.fraction.unwrap_or(Percent::ALL),
            exclude_read_commands: m.exclude_read_commands.unwrap_or(false),
        });
    }
    Ok(Route {
        prefix,
        remove_prefix: r.remove_prefix.unwrap_or(false),
        key_formatter,
        backend,
        read_backend,
        mirrors,
    })
}

fn fault(f: &super::routes_spec::FaultSpec, key: &str) -> Result<Fault> {
    let delay = match &f.delay {
        None if f.kind == FaultKind::Delay => {
            return Err(Error::config(
                &format!("{key}.delay"),
                "missing (a delay fault needs one)",
            ));
        }
        None => Duration::ZERO,
        Some(d) => d
            .resolve(&format!("{key}.delay"), false)?
            .unwrap_or(Duration::ZERO),
    };
    let mut commands = Vec::with_capacity(f.commands.len());
    for (j, c) in f.commands.iter().enumerate() {
        let ckey = format!("{key}.commands[{j}]");
        let name = c.to_ascii_lowercase();
        if name.contains('|') || crate::command::table::lookup(name.as_bytes()).is_none() {
            return Err(Error::config(
                &ckey,
                format!(
                    "unknown command {c:?} (faults name whole commands, as Envoy: \"CONFIG\", not \"CONFIG|GET\")"
                ),
            ));
        }
        if NEVER_FAULTED.contains(&name.as_str()) {
            return Err(Error::config(
                &ckey,
                format!("{c:?} is never faulted (Envoy answers it without routing)"),
            ));
        }
        commands.push(name);
    }
    Ok(Fault {
        kind: f.kind,
        fraction: f.fraction,
        delay,
        commands,
    })
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
