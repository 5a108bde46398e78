//! The result codes, their text, and the calling thread's last error detail.

use std::cell::RefCell;
use std::ffi::c_char;

use shardis_core::ErrorKind;

use crate::ffi::guard;

/// What a call did. The numbers are stable (part of the ABI).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum shardis_result {
    /// Success; outputs were written.
    SHARDIS_OK = 0,
    /// A required pointer was NULL.
    SHARDIS_NULL_ARGUMENT = 1,
    /// An argument was unusable (not UTF-8 where text is required, an index out of range…).
    SHARDIS_INVALID_ARGUMENT = 2,
    /// A bug in shardis was caught at the boundary (the call did nothing more).
    SHARDIS_PANIC = 3,
    /// Bad configuration (the detail names the key).
    SHARDIS_CONFIG = 10,
    /// The keys of one command (or transaction) live on different shards.
    SHARDIS_CROSS_SHARD = 11,
    /// A command shardis cannot route (unknown, connection-state or pub/sub).
    SHARDIS_UNSUPPORTED = 12,
    /// A command with wrong arguments (arity), refused before sending.
    SHARDIS_BAD_COMMAND = 13,
    /// No connection could be made.
    SHARDIS_CONNECT = 14,
    /// Authentication failed.
    SHARDIS_AUTH = 15,
    /// The connection broke (nothing was sent, or a read-only command was not retried).
    SHARDIS_IO = 16,
    /// The call's deadline passed.
    SHARDIS_TIMEOUT = 17,
    /// A write may or may not have been applied (the connection failed after sending).
    SHARDIS_INDETERMINATE = 18,
    /// The server sent something that is not RESP.
    SHARDIS_PROTOCOL = 19,
    /// The server answered with an error (`WRONGTYPE …`); the text is the last error.
    SHARDIS_SERVER = 20,
    /// Any other failure.
    SHARDIS_OTHER = 99,
}

impl shardis_result {
    /// The code of a core error kind.
    pub(crate) fn of(kind: ErrorKind) -> shardis_result {
        match kind {
            ErrorKind::Config => shardis_result::SHARDIS_CONFIG,
            ErrorKind::CrossShard => shardis_result::SHARDIS_CROSS_SHARD,
            ErrorKind::Unsupported => shardis_result::SHARDIS_UNSUPPORTED,
            ErrorKind::InvalidArgument => shardis_result::SHARDIS_BAD_COMMAND,
            ErrorKind::Connect => shardis_result::SHARDIS_CONNECT,
            ErrorKind::Auth => shardis_result::SHARDIS_AUTH,
            ErrorKind::Io => shardis_result::SHARDIS_IO,
            ErrorKind::Timeout => shardis_result::SHARDIS_TIMEOUT,
            ErrorKind::Indeterminate => shardis_result::SHARDIS_INDETERMINATE,
            ErrorKind::Protocol => shardis_result::SHARDIS_PROTOCOL,
            ErrorKind::Server => shardis_result::SHARDIS_SERVER,
            _ => shardis_result::SHARDIS_OTHER,
        }
    }

    /// The code for a number coming from C (anything unknown → None).
    fn from_u32(n: u32) -> Option<shardis_result> {
        use shardis_result::*;
        [
            SHARDIS_OK,
            SHARDIS_NULL_ARGUMENT,
            SHARDIS_INVALID_ARGUMENT,
            SHARDIS_PANIC,
            SHARDIS_CONFIG,
            SHARDIS_CROSS_SHARD,
            SHARDIS_UNSUPPORTED,
            SHARDIS_BAD_COMMAND,
            SHARDIS_CONNECT,
            SHARDIS_AUTH,
            SHARDIS_IO,
            SHARDIS_TIMEOUT,
            SHARDIS_INDETERMINATE,
            SHARDIS_PROTOCOL,
            SHARDIS_SERVER,
            SHARDIS_OTHER,
        ]
        .into_iter()
        .find(|&r| r as u32 == n)
    }

    fn text(self) -> &'static [u8] {
        match self {
            shardis_result::SHARDIS_OK => b"ok\0",
            shardis_result::SHARDIS_NULL_ARGUMENT => b"a required pointer was NULL\0",
            shardis_result::SHARDIS_INVALID_ARGUMENT => b"invalid argument\0",
            shardis_result::SHARDIS_PANIC => b"internal error (a bug in shardis)\0",
            shardis_result::SHARDIS_CONFIG => b"invalid configuration\0",
            shardis_result::SHARDIS_CROSS_SHARD => b"keys on different shards\0",
            shardis_result::SHARDIS_UNSUPPORTED => b"command not supported by shardis\0",
            shardis_result::SHARDIS_BAD_COMMAND => b"invalid command arguments\0",
            shardis_result::SHARDIS_CONNECT => b"could not connect\0",
            shardis_result::SHARDIS_AUTH => b"authentication failed\0",
            shardis_result::SHARDIS_IO => b"connection error\0",
            shardis_result::SHARDIS_TIMEOUT => b"timed out\0",
            shardis_result::SHARDIS_INDETERMINATE => b"write outcome unknown\0",
            shardis_result::SHARDIS_PROTOCOL => b"protocol error\0",
            shardis_result::SHARDIS_SERVER => b"error reply from the server\0",
            shardis_result::SHARDIS_OTHER => b"error\0",
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remember `detail` as this thread's last error and return `code`. Never panics: while the
/// thread's locals are being torn down (a call from a thread-exit destructor) the detail is
/// simply not kept.
pub(crate) fn fail(code: shardis_result, detail: impl Into<String>) -> shardis_result {
    let detail = detail.into();
    let _ = LAST_ERROR.try_with(|l| {
        if let Ok(mut slot) = l.try_borrow_mut() {
            *slot = detail;
        }
    });
    code
}

/// Remember a core error and return its code.
pub(crate) fn fail_with(e: &shardis_core::Error) -> shardis_result {
    fail(shardis_result::of(e.kind()), e.to_string())
}

/// A static, NUL-terminated description of a result code (never NULL; any number is
/// accepted: an unknown one gets "unknown result code").
#[unsafe(no_mangle)]
pub extern "C" fn shardis_result_message(result: u32) -> *const c_char {
    let text: &'static [u8] =
        shardis_result::from_u32(result).map_or(b"unknown result code\0", shardis_result::text);
    text.as_ptr().cast()
}

/// Copy the calling thread's last error detail (the failing key, node, server message…)
/// into `buf` (NUL-terminated, truncated to `len - 1` bytes) and its full length into
/// `*out_n`. Either pointer may be NULL to skip that output.
///
/// # Safety
/// `buf` must be NULL or point to `len` writable bytes; `out_n` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_last_error(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> shardis_result {
    guard(|| {
        let _ = LAST_ERROR.try_with(|l| {
            let Ok(detail) = l.try_borrow() else {
                return;
            };
            let bytes = detail.as_bytes();
            if !buf.is_null() && len > 0 {
                let n = bytes.len().min(len - 1);
                // SAFETY: the caller gives `len` writable bytes at `buf`; n + 1 <= len.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            if !out_n.is_null() {
                // SAFETY: a writable pointer per the contract.
                unsafe { *out_n = bytes.len() };
            }
        });
        shardis_result::SHARDIS_OK
    })
}
