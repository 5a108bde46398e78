//! Replies: an owned tree handed to C; nested elements are borrowed views into it.

use std::ffi::c_char;

use shardis_core::Value;

use crate::ffi::guard_or;

/// A reply (cbindgen: declared opaque in the header). `#[repr(transparent)]` over the core's
/// value, so an element inside an array is itself a `shardis_reply` view.
#[repr(transparent)]
pub struct shardis_reply(pub(crate) Value);

/// What a reply holds.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum shardis_reply_kind {
    /// A null reply (missing key, timed-out blocking pop…).
    SHARDIS_REPLY_NIL = 0,
    /// An integer (`shardis_reply_integer`).
    SHARDIS_REPLY_INTEGER = 1,
    /// A bulk string, binary-safe (`shardis_reply_string`).
    SHARDIS_REPLY_STRING = 2,
    /// A status such as `OK` or `PONG` (`shardis_reply_string`).
    SHARDIS_REPLY_STATUS = 3,
    /// An array (`shardis_reply_array_len`, `shardis_reply_array_element`).
    SHARDIS_REPLY_ARRAY = 4,
    /// A map as alternating keys and values (the array accessors; per-node replies).
    SHARDIS_REPLY_MAP = 5,
    /// A double (`shardis_reply_double`).
    SHARDIS_REPLY_DOUBLE = 6,
    /// A boolean (`shardis_reply_integer`: 0 or 1).
    SHARDIS_REPLY_BOOLEAN = 7,
    /// An error inside an array: a failed pipeline entry or EXEC element
    /// (`shardis_reply_string` has its text).
    SHARDIS_REPLY_ERROR = 8,
    /// A kind this version of the header does not know (from a newer library).
    SHARDIS_REPLY_UNKNOWN = 9,
}

impl shardis_reply {
    /// A reply to hand to C (freed by `shardis_reply_free`).
    pub(crate) fn boxed(v: Value) -> *mut shardis_reply {
        Box::into_raw(Box::new(shardis_reply(v)))
    }

    fn view(v: &Value) -> *const shardis_reply {
        std::ptr::from_ref(v).cast()
    }
}

/// Borrow the reply behind `r` (NULL → None).
///
/// # Safety
/// `r` must be NULL or a live reply.
unsafe fn get<'a>(r: *const shardis_reply) -> Option<&'a Value> {
    // SAFETY: per the contract.
    unsafe { r.as_ref() }.map(|r| &r.0)
}

/// The reply's type (`SHARDIS_REPLY_NIL` for NULL).
///
/// # Safety
/// `reply` must be NULL or a live reply (owned, or an element of a live one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_type(reply: *const shardis_reply) -> shardis_reply_kind {
    guard_or(shardis_reply_kind::SHARDIS_REPLY_NIL, || {
        // SAFETY: per the contract.
        match unsafe { get(reply) } {
            Some(Value::Int(_)) => shardis_reply_kind::SHARDIS_REPLY_INTEGER,
            Some(Value::Bulk(_)) => shardis_reply_kind::SHARDIS_REPLY_STRING,
            Some(Value::Okay | Value::Status(_)) => shardis_reply_kind::SHARDIS_REPLY_STATUS,
            Some(Value::Array(_)) => shardis_reply_kind::SHARDIS_REPLY_ARRAY,
            Some(Value::Map(_)) => shardis_reply_kind::SHARDIS_REPLY_MAP,
            Some(Value::Double(_)) => shardis_reply_kind::SHARDIS_REPLY_DOUBLE,
            Some(Value::Boolean(_)) => shardis_reply_kind::SHARDIS_REPLY_BOOLEAN,
            Some(Value::Error(_)) => shardis_reply_kind::SHARDIS_REPLY_ERROR,
            Some(Value::Nil) | None => shardis_reply_kind::SHARDIS_REPLY_NIL,
            Some(_) => shardis_reply_kind::SHARDIS_REPLY_UNKNOWN,
        }
    })
}

/// An INTEGER's value (BOOLEAN: 0 or 1); 0 for other types.
///
/// # Safety
/// As `shardis_reply_type`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_integer(reply: *const shardis_reply) -> i64 {
    guard_or(0, || {
        // SAFETY: per the contract.
        match unsafe { get(reply) } {
            Some(Value::Int(i)) => *i,
            Some(Value::Boolean(b)) => i64::from(*b),
            _ => 0,
        }
    })
}

/// A DOUBLE's value (an INTEGER converted); 0.0 for other types.
///
/// # Safety
/// As `shardis_reply_type`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_double(reply: *const shardis_reply) -> f64 {
    guard_or(0.0, || {
        // SAFETY: per the contract.
        match unsafe { get(reply) } {
            Some(Value::Double(d)) => *d,
            Some(Value::Int(i)) => *i as f64,
            _ => 0.0,
        }
    })
}

/// The bytes of a STRING, STATUS or ERROR reply, and their count in `*len` (the bytes are
/// not NUL-terminated and may contain NUL); NULL (and `*len` = 0) for other types. The
/// pointer lives as long as the reply.
///
/// # Safety
/// As `shardis_reply_type`; `len` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_string(
    reply: *const shardis_reply,
    len: *mut usize,
) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: per the contract.
        let bytes: Option<&[u8]> = match unsafe { get(reply) } {
            Some(Value::Bulk(b)) => Some(b),
            Some(Value::Okay) => Some(b"OK"),
            Some(Value::Status(s) | Value::Error(s)) => Some(s.as_bytes()),
            _ => None,
        };
        if !len.is_null() {
            // SAFETY: writable per the contract.
            unsafe { *len = bytes.map_or(0, <[u8]>::len) };
        }
        bytes.map_or(std::ptr::null(), |b| b.as_ptr().cast())
    })
}

/// The number of elements of an ARRAY (a MAP counts keys and values); 0 for other types.
///
/// # Safety
/// As `shardis_reply_type`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_array_len(reply: *const shardis_reply) -> usize {
    guard_or(0, || {
        // SAFETY: per the contract.
        match unsafe { get(reply) } {
            Some(Value::Array(items)) => items.len(),
            Some(Value::Map(pairs)) => pairs.len() * 2,
            _ => 0,
        }
    })
}

/// Element `index` of an ARRAY or MAP (keys at even, values at odd positions), borrowed:
/// valid while the owning reply lives, never freed on its own. NULL when out of range or not
/// an array.
///
/// # Safety
/// As `shardis_reply_type`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_array_element(
    reply: *const shardis_reply,
    index: usize,
) -> *const shardis_reply {
    guard_or(std::ptr::null(), || {
        // SAFETY: per the contract.
        let element = match unsafe { get(reply) } {
            Some(Value::Array(items)) => items.get(index),
            Some(Value::Map(pairs)) => pairs
                .get(index / 2)
                .map(|(k, v)| if index.is_multiple_of(2) { k } else { v }),
            _ => None,
        };
        element.map_or(std::ptr::null(), shardis_reply::view)
    })
}

/// Free a reply returned by `shardis_command_argv` or `shardis_pipeline_exec` (NULL: no-op).
/// Never free an element obtained from `shardis_reply_array_element`.
///
/// # Safety
/// `reply` must be NULL or an owned reply not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn shardis_reply_free(reply: *mut shardis_reply) {
    guard_or((), || {
        if !reply.is_null() {
            // SAFETY: an owned reply from Box::into_raw, freed once per the contract.
            drop(unsafe { Box::from_raw(reply) });
        }
    });
}
