//! What the extension asks the PHP engine itself: php.ini values, memory in use, and whether
//! the request's time limit has expired.

use ext_php_rs::convert::IntoZvalDyn;
use ext_php_rs::types::{ZendCallable, Zval};

/// Call a PHP function by name (`None` when it is missing or fails).
fn call(function: &str, args: Vec<&dyn IntoZvalDyn>) -> Option<Zval> {
    ZendCallable::try_from_name(function)
        .ok()?
        .try_call(args)
        .ok()
}

/// A php.ini setting: `ini_get()` (sees runtime changes, knows only registered settings),
/// else `get_cfg_var()` (php.ini as read, any name — e.g. phpredis' settings without phpredis).
pub(crate) fn ini(name: &str) -> Option<String> {
    let read = |function| call(function, vec![&name])?.str().map(str::to_owned);
    read("ini_get").or_else(|| read("get_cfg_var"))
}

/// `memory_get_usage()` in bytes.
pub(crate) fn memory_in_use() -> Option<usize> {
    usize::try_from(call("memory_get_usage", vec![])?.long()?).ok()
}

/// Has `max_execution_time` expired for this request (the engine aborts at its next check)?
pub(crate) fn request_timed_out() -> bool {
    let globals = ext_php_rs::zend::ExecutorGlobals::get();
    // SAFETY: a plain bool the engine's timer signal handler sets; read it as such.
    unsafe { std::ptr::read_volatile(&raw const globals.timed_out.value) }
}
