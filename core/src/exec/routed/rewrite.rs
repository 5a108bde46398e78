//! Which route(s) a command's keys take, and the command as a backend receives it: keys
//! rewritten by `remove_prefix` / `key_formatter`, or one part per route for a split
//! command. Pure; no I/O.

use std::borrow::Cow;

use super::Routed;
use crate::command::Cmd;
use crate::command::keys::for_each_key;
use crate::command::table::CommandSpec;
use crate::config::routing::{Mirror, Route};
use crate::error::{Error, ErrorKind, Result};
use crate::router::prefix::RouteId;

/// Where a command's keys go.
pub(super) enum Placement<'r> {
    /// No keys.
    Keyless,
    /// Every key takes this route.
    One(RouteId, &'r Route),
    /// Keys take different routes: the argument positions of two keys on different routes.
    Many(usize, usize),
}

/// The route(s) of `cmd`'s keys. A key no route takes is an error naming it.
pub(super) fn placement<'r>(r: &'r Routed, spec: &CommandSpec, cmd: &Cmd) -> Result<Placement<'r>> {
    let mut first: Option<(usize, RouteId)> = None;
    let mut other: Option<usize> = None;
    let mut missing: Option<usize> = None;
    for_each_key(spec, cmd, |pos| {
        let id = r.table.lookup(cmd.get(pos).unwrap_or_default());
        if id == RouteId::None {
            missing.get_or_insert(pos);
            return;
        }
        match first {
            None => first = Some((pos, id)),
            Some((_, f)) if f != id => {
                other.get_or_insert(pos);
            }
            Some(_) => {}
        }
    })?;
    if let Some(pos) = missing {
        return Err(super::no_route(cmd.get(pos).unwrap_or_default()));
    }
    Ok(match (first, other) {
        (None, _) => Placement::Keyless,
        (Some((a, _)), Some(b)) => Placement::Many(a, b),
        (Some((_, id)), None) => match r.route(id) {
            Some(route) => Placement::One(id, route),
            None => Placement::Keyless,
        },
    })
}

/// `cmd` as `route`'s backend receives it (borrowed when the route keeps keys as they are).
pub(super) fn rewrite<'c>(spec: &CommandSpec, cmd: &'c Cmd, route: &Route) -> Result<Cow<'c, Cmd>> {
    if route.keeps_keys() {
        return Ok(Cow::Borrowed(cmd));
    }
    let mut is_key = vec![false; cmd.len()];
    for_each_key(spec, cmd, |pos| is_key[pos] = true)?;
    let mut out = Cmd::default();
    let mut buf = Vec::new();
    for (i, arg) in cmd.args().enumerate() {
        if is_key[i] {
            buf.clear();
            route.stored_key(arg, &mut buf);
            out.arg(&buf);
        } else {
            out.arg(arg);
        }
    }
    Ok(Cow::Owned(out))
}

/// One part of a split command: the name, then for each key ordinal in `ordinals` its
/// `step` arguments, the key rewritten for `route` (as it is without one).
pub(super) fn part(
    cmd: &Cmd,
    step: usize,
    positions: &[usize],
    ordinals: &[usize],
    route: Option<&Route>,
) -> Cmd {
    let mut out = Cmd::new(cmd.get(0).unwrap_or_default());
    let mut buf = Vec::new();
    for &o in ordinals {
        let pos = positions[o];
        let key = cmd.get(pos).unwrap_or_default();
        match route {
            Some(route) => {
                buf.clear();
                route.stored_key(key, &mut buf);
                out.arg(&buf);
            }
            None => {
                out.arg(key);
            }
        }
        for i in 1..step {
            out.arg(cmd.get(pos + i).unwrap_or_default());
        }
    }
    out
}

/// Does `mirror` take a copy of `key` (as the backends store it)? A hash of the key
/// decides, so a key is always or never mirrored at a given fraction (Envoy draws at random
/// per request).
#[inline]
pub(super) fn mirrors_key(mirror: &Mirror, key: &[u8]) -> bool {
    let per_million = mirror.fraction.per_million();
    if per_million >= 1_000_000 {
        return true;
    }
    if per_million == 0 {
        return false;
    }
    (xxhash_rust::xxh64::xxh64(key, MIRROR_SEED) % 1_000_000) < u64::from(per_million)
}

/// Seed of the mirror-fraction hash ("shardis-mirror").
const MIRROR_SEED: u64 = 0x7368_6172_6469_736d;

/// The error for keys of one command (or transaction) on different routes' backends.
pub(super) fn cross_route(
    r: &Routed,
    spec: &CommandSpec,
    cmd: &Cmd,
    a: usize,
    b: usize,
    what: &str,
) -> Error {
    let key = |i: usize| cmd.get(i).unwrap_or_default();
    let describe = |i: usize| {
        let k = key(i);
        let route = match r.table.lookup(k) {
            RouteId::Prefix(n) => format!(
                "route {:?}",
                String::from_utf8_lossy(&r.routing.routes[n as usize].prefix)
            ),
            _ => "the catch-all route".to_owned(),
        };
        format!("'{}' on {route}", String::from_utf8_lossy(k))
    };
    Error::new(
        ErrorKind::CrossShard,
        format!(
            "keys of '{}' are in different routes ({}, {}); {what} cannot span routes; nothing was sent",
            spec.name,
            describe(a),
            describe(b)
        ),
    )
}

/// A transaction's pinned backend and a command's: the same, or a cross-route error.
pub(crate) fn cross_backend(r: &Routed, pinned: usize, backend: usize, name: &str) -> Error {
    Error::new(
        ErrorKind::CrossShard,
        format!(
            "transaction is on backend '{}' but '{name}' has keys on backend '{}'; a transaction cannot span routes; nothing was sent",
            r.backend_name(pinned),
            r.backend_name(backend)
        ),
    )
}
