//! `shardis_pipeline`: commands collected, then sent in one batch per node.

use std::ffi::c_char;

use shardis_core::{Client, Cmd, Value};

use crate::client::{client_ref, shardis_client};
use crate::ffi::{command, guard, guard_or, write};
use crate::reply::shardis_reply;
use crate::result::{fail, shardis_result};

/// A pipeline (opaque): owned by one thread at a time; it keeps its client's core alive.
pub struct shardis_pipeline {
    client: Client,
    cmds: Vec<Cmd>,
}

/// An empty pipeline over `client`.
///
/// # Safety
/// `client` NULL or live; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_pipeline_new(
    client: *const shardis_client,
    out: *mut *mut shardis_pipeline,
) -> shardis_result {
    guard(|| {
        // SAFETY: per the contract.
        let client = match unsafe { client_ref(client) } {
            Ok(c) => c.clone(),
            Err(code) => return code,
        };
        if out.is_null() {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "out is NULL");
        }
        let p = Box::into_raw(Box::new(shardis_pipeline {
            client,
            cmds: Vec::new(),
        }));
        // SAFETY: checked non-NULL.
        unsafe { write(out, p) };
        shardis_result::SHARDIS_OK
    })
}

/// Append a command (as `shardis_command_argv` takes it).
///
/// # Safety
/// `pipeline` NULL or live; `argv`/`argvlen` as for `shardis_command_argv`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_pipeline_append_argv(
    pipeline: *mut shardis_pipeline,
    argc: usize,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> shardis_result {
    guard(|| {
        // SAFETY: per the contract.
        let Some(p) = (unsafe { pipeline.as_mut() }) else {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "pipeline is NULL");
        };
        // SAFETY: per the contract.
        match unsafe { command(argc, argv, argvlen) } {
            Ok(cmd) => {
                p.cmds.push(cmd);
                shardis_result::SHARDIS_OK
            }
            Err(code) => code,
        }
    })
}

/// How many commands are queued (0 for NULL).
///
/// # Safety
/// `pipeline` NULL or live.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_pipeline_len(pipeline: *const shardis_pipeline) -> usize {
    // SAFETY: per the contract.
    guard_or(0, || {
        unsafe { pipeline.as_ref() }.map_or(0, |p| p.cmds.len())
    })
}

/// Send the queued commands (one batch per node, in parallel) and empty the pipeline. On
/// `SHARDIS_OK`, `*out` is an ARRAY reply with one element per command, in order: its reply,
/// or an ERROR element (`"server: WRONGTYPE …"`, `"timeout: …"`) for a command that failed.
///
/// # Safety
/// `pipeline` NULL or live; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_pipeline_exec(
    pipeline: *mut shardis_pipeline,
    out: *mut *mut shardis_reply,
) -> shardis_result {
    guard(|| {
        // SAFETY: per the contract.
        let Some(p) = (unsafe { pipeline.as_mut() }) else {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "pipeline is NULL");
        };
        if out.is_null() {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "out is NULL");
        }
        let replies: Vec<Value> = p.client.pipeline(&p.cmds).into_iter().map(entry).collect();
        p.cmds.clear();
        // SAFETY: checked non-NULL.
        unsafe { write(out, shardis_reply::boxed(Value::Array(replies))) };
        shardis_result::SHARDIS_OK
    })
}

/// Free a pipeline (NULL: no-op); queued commands are dropped unsent.
///
/// # Safety
/// `pipeline` NULL or from `shardis_pipeline_new`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_pipeline_free(pipeline: *mut shardis_pipeline) {
    guard(|| {
        if !pipeline.is_null() {
            // SAFETY: from Box::into_raw, freed once per the contract.
            drop(unsafe { Box::from_raw(pipeline) });
        }
        shardis_result::SHARDIS_OK
    });
}

/// A per-command result as a pipeline entry: its value, or an ERROR element whose text starts
/// with the error kind (`timeout: …`).
fn entry(r: shardis_core::Result<Value>) -> Value {
    r.unwrap_or_else(|e| Value::Error(format!("{}: {e}", e.kind())))
}
