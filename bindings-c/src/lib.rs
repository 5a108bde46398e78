//! libshardis: the shardis router for C and every language with a C FFI.
//!
//! Conventions (rustls-ffi's): functions are `shardis_<noun>_<verb>`; handles are opaque and
//! come from `_new`, go back through `_free` (`_free(NULL)` does nothing); arguments are
//! handle first, inputs, then outputs; every function that can fail returns a
//! [`shardis_result`] with stable numbers, writes its outputs only on `SHARDIS_OK`, and leaves
//! the detail for `shardis_last_error()` (per thread). NULL where a pointer is required is
//! `SHARDIS_NULL_ARGUMENT`, never a crash; a Rust panic never crosses into C
//! (`SHARDIS_PANIC`).
//!
//! Threads: a `shardis_client` may be used from any number of threads at once (the core's
//! connections are handed to one caller at a time). A `shardis_pipeline` and a
//! `shardis_reply` belong to one thread at a time. Fork: a child process may keep using a
//! client it inherited; it opens its own connections and never touches the parent's.
#![allow(non_camel_case_types)]

mod client;
mod ffi;
mod pipeline;
mod reply;
mod result;

pub use client::shardis_client;
pub use pipeline::shardis_pipeline;
pub use reply::{shardis_reply, shardis_reply_kind};
pub use result::shardis_result;
