//! Several commands through the routes. Commands that take one route are batched per
//! backend and sent as that backend's pipeline; a command that needs more than one backend
//! (split across routes, whole keyspace) first flushes the batches before it, so commands
//! on the same keys keep their order. Delay faults hold the batch's replies once, for the
//! longest delay drawn.

use std::time::Duration;

use super::Routed;
use super::command::{check_args, fault_error, mirror, routed};
use super::fault::Injected;
use super::rewrite::{self, Placement};
use crate::command::Cmd;
use crate::error::{Error, ErrorKind, Result};
use crate::exec::pipeline::execute_all;
use crate::reply::Value;
use crate::router::plan;

/// Run `cmds`; the replies come back in submission order.
pub(crate) fn execute_all_routed(r: &Routed, cmds: &[Cmd]) -> Vec<Result<Value>> {
    let start = std::time::Instant::now();
    let mut out: Vec<Option<Result<Value>>> = (0..cmds.len()).map(|_| None).collect();
    let mut batches = Batches {
        per_backend: vec![(Vec::new(), Vec::new()); r.cores.len()],
        order: Vec::new(),
    };
    let mut delay = Duration::ZERO;
    for (i, cmd) in cmds.iter().enumerate() {
        let spec = match plan::resolve(cmd) {
            Ok(s) => s,
            Err(e) => {
                out[i] = Some(Err(e));
                continue;
            }
        };
        match r.inject_fault(spec) {
            Some(Injected::Error(d)) => {
                delay = delay.max(d);
                out[i] = Some(Err(fault_error()));
                continue;
            }
            Some(Injected::Delay(d)) => delay = delay.max(d),
            None => {}
        }
        let one = check_args(spec, cmd).and_then(|()| match rewrite::placement(r, spec, cmd)? {
            Placement::One(_, route) => {
                let sent = rewrite::rewrite(spec, cmd, route)?;
                mirror(r, spec, &sent, route)?;
                Ok(Some((Routed::backend_for(route, spec), sent.into_owned())))
            }
            _ => Ok(None),
        });
        match one {
            Err(e) => out[i] = Some(Err(e)),
            Ok(Some((b, sent))) => {
                if batches.per_backend[b].1.is_empty() {
                    batches.order.push(b);
                }
                batches.per_backend[b].0.push(i);
                batches.per_backend[b].1.push(sent);
            }
            Ok(None) => {
                flush(r, &mut batches, &mut out, &mut delay);
                out[i] = Some(routed(r, spec, cmd));
            }
        }
    }
    flush(r, &mut batches, &mut out, &mut delay);
    let elapsed = start.elapsed();
    cmds.iter()
        .zip(out)
        .map(|(cmd, o)| {
            let reply = o.unwrap_or_else(|| Err(Error::new(ErrorKind::Protocol, "missing reply")));
            r.stats.call(
                plan::resolve(cmd).ok(),
                elapsed,
                reply.as_ref().err().map(Error::kind),
            );
            reply
        })
        .collect()
}

/// Commands waiting per backend (their indexes and the commands as sent), and the order in
/// which the backends got their first one.
struct Batches {
    per_backend: Vec<(Vec<usize>, Vec<Cmd>)>,
    order: Vec<usize>,
}

/// Send every waiting batch, backends in the order they were first used (a SET to the
/// route's backend goes before a GET queued after it to its read backend).
fn flush(
    r: &Routed,
    batches: &mut Batches,
    out: &mut [Option<Result<Value>>],
    delay: &mut Duration,
) {
    for b in batches.order.drain(..) {
        let (indexes, cmds) = &mut batches.per_backend[b];
        for (i, reply) in indexes.drain(..).zip(execute_all(&r.cores[b], cmds)) {
            out[i] = Some(reply);
        }
        cmds.clear();
    }
    // Faults hold the replies (as Envoy's delay faults do), once for the whole batch.
    if !delay.is_zero() {
        std::thread::sleep(*delay);
        *delay = Duration::ZERO;
    }
}
