//! One command through the routes: faults first (as Envoy), then the keys' route decides
//! the backend; keys on several routes split per route (split commands) or fail before
//! anything is sent (everything else); keyless whole-keyspace commands visit every backend
//! that holds keys, and SCAN walks them one after the other with one cursor.

use std::time::{Duration, Instant};

use super::Routed;
use super::fault::{FAULT_ERROR_TEXT, Injected};
use super::rewrite::{self, Placement};
use crate::command::Cmd;
use crate::command::keys::{check_arity, key_positions};
use crate::command::table::{CommandSpec, Merge, Route as TableRoute, flag};
use crate::error::{Error, ErrorKind, Result};
use crate::exec::command::execute_one;
use crate::reply::Value;
use crate::reply::merge::{Part, merge};
use crate::router::plan;
use crate::router::prefix::RouteId;
use crate::router::scan_cursor;

/// Run one command and record it in the client's stats.
pub(crate) fn execute(r: &Routed, cmd: &Cmd) -> Result<Value> {
    let start = Instant::now();
    let spec = plan::resolve(cmd);
    let known = spec.as_ref().ok().copied();
    let result = match spec {
        Err(e) => Err(e),
        Ok(spec) => match r.inject_fault(spec) {
            Some(Injected::Error(d)) => {
                wait(d);
                Err(fault_error())
            }
            Some(Injected::Delay(d)) => {
                let reply = routed(r, spec, cmd);
                wait(d);
                reply
            }
            None => routed(r, spec, cmd),
        },
    };
    r.stats.call(
        known,
        start.elapsed(),
        result.as_ref().err().map(Error::kind),
    );
    result
}

fn wait(d: Duration) {
    if !d.is_zero() {
        std::thread::sleep(d);
    }
}

/// The reply of an error fault: an error reply, as Envoy sends it.
pub(super) fn fault_error() -> Error {
    Error::from_reply(FAULT_ERROR_TEXT.to_owned(), "", "fault injection")
}

impl Routed {
    /// The fault for one command of `spec`, if one is drawn.
    pub(super) fn inject_fault(&self, spec: &CommandSpec) -> Option<Injected> {
        if self.routing.faults.is_empty() {
            return None;
        }
        let draw = (self.next_random() % 1_000_000) as u32;
        self.faults.choose(&self.routing.faults, spec, draw)
    }
}

/// The arity, and for split commands whole key groups (`MSET k v k` would otherwise split
/// into a part whose value is missing); nothing is sent when they are wrong.
pub(super) fn check_args(spec: &CommandSpec, cmd: &Cmd) -> Result<()> {
    check_arity(spec, cmd)?;
    if let TableRoute::Split { step, .. } = spec.route
        && step > 1
        && !(cmd.len() - 1).is_multiple_of(usize::from(step))
    {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("wrong number of arguments for '{}' command", spec.name),
        ));
    }
    Ok(())
}

/// Route, send, merge (no fault step).
pub(super) fn routed(r: &Routed, spec: &'static CommandSpec, cmd: &Cmd) -> Result<Value> {
    check_args(spec, cmd)?;
    match rewrite::placement(r, spec, cmd)? {
        Placement::One(_, route) => {
            let sent = rewrite::rewrite(spec, cmd, route)?;
            mirror(r, spec, &sent, route)?;
            execute_one(&r.cores[Routed::backend_for(route, spec)], &sent)
        }
        Placement::Many(a, b) => match spec.route {
            TableRoute::Split { step, merge } => {
                split(r, spec, cmd, usize::from(step.max(1)), merge)
            }
            _ => Err(rewrite::cross_route(r, spec, cmd, a, b, "this command")),
        },
        Placement::Keyless => keyless(r, spec, cmd),
    }
}

/// Queue mirror copies of `sent` (a command as `route`'s backend received it). A key's
/// hash decides whether it is mirrored at a fraction: split commands mirror the keys that
/// are, other multi-key commands follow their first key.
pub(crate) fn mirror(
    r: &Routed,
    spec: &'static CommandSpec,
    sent: &Cmd,
    route: &crate::config::routing::Route,
) -> Result<()> {
    // A blocking command would hold the one mirror thread (and every copy behind it) for
    // its timeout; an unroutable one is refused anyway.
    if route.mirrors.is_empty()
        || spec.has(flag::BLOCKING)
        || matches!(spec.route, TableRoute::Unsupported(_))
    {
        return Ok(());
    }
    for m in &route.mirrors {
        if m.exclude_read_commands && spec.is_readonly() {
            continue;
        }
        if m.fraction.per_million() >= 1_000_000 {
            r.mirrors.send(m.backend, sent.clone());
            continue;
        }
        let positions = key_positions(spec, sent)?;
        let hits: Vec<usize> = (0..positions.len())
            .filter(|&o| rewrite::mirrors_key(m, sent.get(positions[o]).unwrap_or_default()))
            .collect();
        match spec.route {
            _ if hits.is_empty() => {}
            TableRoute::Split { step, .. } if hits.len() < positions.len() => {
                let step = usize::from(step.max(1));
                r.mirrors.send(
                    m.backend,
                    rewrite::part(sent, step, &positions, &hits, None),
                );
            }
            _ if hits[0] == 0 || hits.len() == positions.len() => {
                r.mirrors.send(m.backend, sent.clone());
            }
            _ => {}
        }
    }
    Ok(())
}

/// A split command whose keys take several routes: one part per route, merged in key order.
fn split(
    r: &Routed,
    spec: &'static CommandSpec,
    cmd: &Cmd,
    step: usize,
    rule: Merge,
) -> Result<Value> {
    let positions = key_positions(spec, cmd)?;
    let mut groups: Vec<(RouteId, Vec<usize>)> = Vec::new();
    for (ordinal, &pos) in positions.iter().enumerate() {
        let id = r.table.lookup(cmd.get(pos).unwrap_or_default());
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, ords)) => ords.push(ordinal),
            None => groups.push((id, vec![ordinal])),
        }
    }
    let mut replies = Vec::with_capacity(groups.len());
    for (id, ordinals) in &groups {
        let route = r.route(*id).ok_or_else(|| super::no_route(b""))?;
        let sub = rewrite::part(cmd, step, &positions, ordinals, Some(route));
        mirror(r, spec, &sub, route)?;
        replies.push(execute_one(
            &r.cores[Routed::backend_for(route, spec)],
            &sub,
        ));
    }
    let parts = groups
        .iter()
        .zip(replies)
        .map(|((_, ordinals), reply)| Part {
            node: "",
            key_ordinals: ordinals,
            reply,
        })
        .collect();
    merge(rule, positions.len(), parts)
}

/// A command without keys: whole-keyspace commands visit every backend that holds keys;
/// SCAN walks them in turn; RANDOMKEY asks them from a random one; the rest (PING, EVAL
/// with no keys, …) go to the primary backend.
fn keyless(r: &Routed, spec: &'static CommandSpec, cmd: &Cmd) -> Result<Value> {
    // Scripts and functions are needed wherever EVALSHA/FCALL may run: read backends and
    // mirrors too.
    let everywhere = r.cores.len() > 1
        && matches!(
            spec.route,
            TableRoute::AllShards(_) | TableRoute::AllNodes(_)
        )
        && (spec.name.starts_with("script|") || spec.name.starts_with("function|"));
    if r.keyspace.len() <= 1 && !everywhere {
        let b = r.keyspace.first().copied().unwrap_or(r.primary);
        return execute_one(&r.cores[b], cmd);
    }
    match spec.route {
        TableRoute::AllShards(rule) | TableRoute::AllNodes(rule) => {
            let all: Vec<usize> = (0..r.cores.len()).collect();
            let targets = if everywhere { &all } else { &r.keyspace };
            let replies: Vec<(usize, Result<Value>)> = targets
                .iter()
                .map(|&b| (b, execute_one(&r.cores[b], cmd)))
                .collect();
            if rule == Merge::PerNode {
                return per_node(r, replies);
            }
            let parts = replies
                .into_iter()
                .map(|(b, reply)| Part {
                    node: r.backend_name(b),
                    key_ordinals: &[],
                    reply,
                })
                .collect();
            merge(rule, 0, parts)
        }
        TableRoute::Scan => scan(r, cmd),
        TableRoute::RandomKey => {
            let n = r.keyspace.len();
            let first = (r.next_random() % n as u64) as usize;
            for i in 0..n {
                let b = r.keyspace[(first + i) % n];
                let v = execute_one(&r.cores[b], cmd)?;
                if v != Value::Nil {
                    return Ok(v);
                }
            }
            Ok(Value::Nil)
        }
        _ => execute_one(r.primary_core(), cmd),
    }
}

/// Per-node replies of several backends: one map `node → reply` over all of them (a
/// one-node backend answers with its node's reply itself).
fn per_node(r: &Routed, replies: Vec<(usize, Result<Value>)>) -> Result<Value> {
    let mut all = Vec::new();
    for (b, reply) in replies {
        match reply? {
            Value::Map(entries) => all.extend(entries),
            one => {
                let node = r.cores[b]
                    .nodes
                    .all()
                    .first()
                    .map_or_else(|| r.backend_name(b).to_owned(), |n| n.addr.clone());
                all.push((Value::Bulk(node.into_bytes()), one));
            }
        }
    }
    Ok(Value::Map(all))
}

/// SCAN over the keyspace backends with one cursor (`backend cursor × count + index`,
/// as nodes within a backend).
fn scan(r: &Routed, cmd: &Cmd) -> Result<Value> {
    let n = r.keyspace.len();
    let (index, inner) = scan_cursor::decode(cmd.get(1).unwrap_or(b"0"), n)?;
    let inner = inner.to_string();
    let sub = Cmd::from_args(
        cmd.args()
            .enumerate()
            .map(|(i, a)| if i == 1 { inner.as_bytes() } else { a }),
    );
    let reply = execute_one(&r.cores[r.keyspace[index]], &sub)?;
    let Value::Array(mut items) = reply else {
        return Err(Error::new(
            ErrorKind::Protocol,
            "SCAN reply is not an array",
        ));
    };
    let next: u64 = items
        .first()
        .and_then(Value::as_bytes)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::new(ErrorKind::Protocol, "SCAN reply without a cursor"))?;
    let cursor = scan_cursor::encode(index, next, n)?;
    if let Some(first) = items.first_mut() {
        *first = Value::Bulk(cursor.to_string().into_bytes());
    }
    Ok(Value::Array(items))
}
