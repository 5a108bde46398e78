//! The boundary: panics stop here, and C arguments become Rust values.

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use shardis_core::Cmd;

use crate::result::{fail, shardis_result};

/// Run an exported function's body; a panic becomes `SHARDIS_PANIC`.
pub(crate) fn guard(body: impl FnOnce() -> shardis_result) -> shardis_result {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        // `fail` cannot panic; even so, nothing may unwind out of here.
        catch_unwind(|| {
            fail(
                shardis_result::SHARDIS_PANIC,
                "a panic inside shardis was stopped at the C boundary (please report it)",
            )
        })
        .unwrap_or(shardis_result::SHARDIS_PANIC)
    })
}

/// Run an accessor's body; a panic returns `fallback`.
pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string that outlives the call.
pub(crate) unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, shardis_result> {
    if p.is_null() {
        return Err(fail(
            shardis_result::SHARDIS_NULL_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| {
        fail(
            shardis_result::SHARDIS_INVALID_ARGUMENT,
            format!("{what} is not UTF-8 text"),
        )
    })
}

/// A command from hiredis-style `argc`/`argv`/`argvlen` (binary-safe; `argvlen` NULL means
/// every argument is a NUL-terminated string).
///
/// # Safety
/// `argv` must hold `argc` pointers, each to `argvlen[i]` readable bytes (or a
/// NUL-terminated string when `argvlen` is NULL); `argvlen` NULL or `argc` long.
pub(crate) unsafe fn command(
    argc: usize,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> Result<Cmd, shardis_result> {
    if argv.is_null() {
        return Err(fail(shardis_result::SHARDIS_NULL_ARGUMENT, "argv is NULL"));
    }
    if argc == 0 {
        return Err(fail(
            shardis_result::SHARDIS_INVALID_ARGUMENT,
            "argc is 0: a command needs at least its name",
        ));
    }
    let mut cmd = Cmd::default();
    for i in 0..argc {
        // SAFETY: `argv` holds `argc` pointers.
        let p = unsafe { *argv.add(i) };
        if p.is_null() {
            return Err(fail(
                shardis_result::SHARDIS_NULL_ARGUMENT,
                format!("argv[{i}] is NULL"),
            ));
        }
        let bytes = if argvlen.is_null() {
            // SAFETY: NUL-terminated when no lengths are given.
            unsafe { CStr::from_ptr(p) }.to_bytes()
        } else {
            // SAFETY: `argvlen` holds `argc` lengths.
            let len = unsafe { *argvlen.add(i) };
            if len > isize::MAX as usize {
                return Err(fail(
                    shardis_result::SHARDIS_INVALID_ARGUMENT,
                    format!("argvlen[{i}] is larger than any object can be"),
                ));
            }
            // SAFETY: `p` points to `len` readable bytes per the contract.
            unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
        };
        cmd.arg(bytes);
    }
    Ok(cmd)
}

/// Store `value` through an output pointer.
///
/// # Safety
/// `out` must be non-NULL and writable (checked by the caller).
pub(crate) unsafe fn write<T>(out: *mut T, value: T) {
    // SAFETY: per the contract.
    unsafe { out.write(value) };
}
