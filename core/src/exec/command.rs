//! One command: the hot path. A command that goes to one target runs as a single job
//! without a pipeline's bookkeeping; anything split or fanned out takes the pipeline path.

use std::time::Instant;

use super::engine::{Job, Request, Start, run_jobs};
use super::keyspace::layout;
use super::pipeline::execute_all;
use super::refresh;
use crate::command::{Cmd, blocking};
use crate::core::Core;
use crate::error::{Error, ErrorKind, Result};
use crate::reply::Value;
use crate::router::plan::{self, Plan};

/// Run one command: the common case, without a pipeline's bookkeeping when it goes to
/// one target.
pub(crate) fn execute_one(core: &Core, cmd: &Cmd) -> Result<Value> {
    let start = Instant::now();
    let spec = match plan::resolve(cmd) {
        Ok(s) => s,
        Err(e) => {
            let r = Err(e);
            core.record(None, start, &r);
            return r;
        }
    };
    let deadline = start + core.config.timeout + blocking::server_wait(spec, cmd);
    let (snapshot, now) = match core.topology.cluster() {
        Some(_) => match refresh::snapshot_at(core, Some(start), deadline) {
            Ok((s, refreshed)) => (Some(s), if refreshed { None } else { Some(start) }),
            Err(e) => {
                let r = Err(e);
                core.record(Some(spec), start, &r);
                return r;
            }
        },
        None => (None, Some(start)),
    };
    let result = match plan::plan(spec, cmd, &layout(core, snapshot.as_deref())) {
        Ok(Plan::Single(target)) => {
            let job = Job {
                target,
                readonly: spec.is_readonly(),
                request: Request::Cmd(cmd),
            };
            run_jobs(
                core,
                std::slice::from_ref(&job),
                Start { now, snapshot },
                deadline,
            )
            .pop()
            .unwrap_or_else(|| Err(Error::new(ErrorKind::Protocol, "missing reply")))
        }
        // Split, fan-out, SCAN, RANDOMKEY: the general path (it records the stats).
        Ok(_) => {
            return execute_all(core, std::slice::from_ref(cmd))
                .pop()
                .unwrap_or_else(|| Err(Error::new(ErrorKind::Protocol, "missing reply")));
        }
        Err(e) => Err(e),
    };
    core.record(Some(spec), start, &result);
    result
}
