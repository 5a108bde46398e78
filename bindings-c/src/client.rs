//! `shardis_client`: one router (its own connections and topology), shared by any number of
//! threads.

use std::ffi::c_char;

use shardis_core::{Client, Config};

use crate::ffi::{command, guard, text, write};
use crate::reply::shardis_reply;
use crate::result::{fail, fail_with, shardis_result};

/// A shardis client (opaque). Thread-safe: use one from many threads at once.
pub struct shardis_client {
    pub(crate) inner: Client,
}

// The thread-safety promise of the header, checked at compile time.
const _: fn() = || {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<shardis_client>();
};

/// A client from `config`: a URL (`redis+cluster://10.0.0.1:7000`,
/// `redis://h1:6379,h2:6379/?mode=ring_hash`), TOML or JSON text with the config schema's
/// keys, or the path of such a file. Nothing connects until the first command.
///
/// # Safety
/// `config` NULL or NUL-terminated; `out` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_client_new(
    config: *const c_char,
    out: *mut *mut shardis_client,
) -> shardis_result {
    guard(|| {
        // SAFETY: per the contract.
        let config = match unsafe { text(config, "config") } {
            Ok(c) => c,
            Err(code) => return code,
        };
        if out.is_null() {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "out is NULL");
        }
        match Config::parse_any(config).and_then(Client::new) {
            Ok(inner) => {
                let client = Box::into_raw(Box::new(shardis_client { inner }));
                // SAFETY: checked non-NULL above.
                unsafe { write(out, client) };
                shardis_result::SHARDIS_OK
            }
            Err(e) => fail_with(&e),
        }
    })
}

/// Free a client and close its connections (NULL: no-op). No other thread may be using it.
///
/// # Safety
/// `client` NULL or from `shardis_client_new`, not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_client_free(client: *mut shardis_client) {
    guard(|| {
        if !client.is_null() {
            // SAFETY: from Box::into_raw, freed once per the contract.
            drop(unsafe { Box::from_raw(client) });
        }
        shardis_result::SHARDIS_OK
    });
}

/// Borrow the client behind a pointer, or fail with `SHARDIS_NULL_ARGUMENT`.
///
/// # Safety
/// `client` NULL or live.
pub(crate) unsafe fn client_ref<'a>(
    client: *const shardis_client,
) -> Result<&'a Client, shardis_result> {
    // SAFETY: per the contract.
    unsafe { client.as_ref() }
        .map(|c| &c.inner)
        .ok_or_else(|| fail(shardis_result::SHARDIS_NULL_ARGUMENT, "client is NULL"))
}

/// Run one command given hiredis-style (`argv[i]` with `argvlen[i]` bytes; `argvlen` NULL
/// for NUL-terminated strings). On `SHARDIS_OK`, `*out` is a reply to free with
/// `shardis_reply_free`. A server error reply is `SHARDIS_SERVER` (its text in
/// `shardis_last_error`); a write whose outcome is unknown is `SHARDIS_INDETERMINATE`.
///
/// # Safety
/// `client` NULL or live; `argv`/`argvlen` as described, `argc` entries; `out` NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_command_argv(
    client: *const shardis_client,
    argc: usize,
    argv: *const *const c_char,
    argvlen: *const usize,
    out: *mut *mut shardis_reply,
) -> shardis_result {
    guard(|| {
        // SAFETY: per the contract.
        let client = match unsafe { client_ref(client) } {
            Ok(c) => c,
            Err(code) => return code,
        };
        // SAFETY: per the contract.
        let cmd = match unsafe { command(argc, argv, argvlen) } {
            Ok(c) => c,
            Err(code) => return code,
        };
        if out.is_null() {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "out is NULL");
        }
        match client.execute(&cmd) {
            Ok(v) => {
                // SAFETY: checked non-NULL above.
                unsafe { write(out, shardis_reply::boxed(v)) };
                shardis_result::SHARDIS_OK
            }
            Err(e) => fail_with(&e),
        }
    })
}

/// The node (`host:port`) holding `key` (`keylen` bytes, binary-safe), copied into `buf`
/// NUL-terminated (truncated to `len - 1`; `buf` NULL asks only for the length); its full
/// length in `*out_n`.
///
/// # Safety
/// `client` NULL or live; `key` `keylen` readable bytes; `buf` NULL or `len` writable bytes;
/// `out_n` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_client_node_for(
    client: *const shardis_client,
    key: *const c_char,
    keylen: usize,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> shardis_result {
    guard(|| {
        // SAFETY: per the contract.
        let client = match unsafe { client_ref(client) } {
            Ok(c) => c,
            Err(code) => return code,
        };
        if key.is_null() {
            return fail(shardis_result::SHARDIS_NULL_ARGUMENT, "key is NULL");
        }
        if !buf.is_null() && len == 0 {
            return fail(
                shardis_result::SHARDIS_INVALID_ARGUMENT,
                "len is 0: no room for the terminating NUL",
            );
        }
        // SAFETY: `keylen` readable bytes per the contract.
        let key = unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keylen) };
        match client.node_for(key) {
            Ok(node) => {
                if !buf.is_null() {
                    let n = node.len().min(len - 1);
                    // SAFETY: `len` writable bytes; n + 1 <= len.
                    unsafe {
                        std::ptr::copy_nonoverlapping(node.as_ptr(), buf.cast::<u8>(), n);
                        *buf.add(n) = 0;
                    }
                }
                if !out_n.is_null() {
                    // SAFETY: writable per the contract.
                    unsafe { *out_n = node.len() };
                }
                shardis_result::SHARDIS_OK
            }
            Err(e) => fail_with(&e),
        }
    })
}

/// The library version (`"0.1.0"`), static.
#[unsafe(no_mangle)]
pub extern "C" fn shardis_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
