//! `#[\SensitiveParameter]` (PHP 8.2) on the constructor parameters that carry secrets:
//! `Shardis\Client::__construct($config)` (a password in the array or the URL) and
//! `Shardis\Cluster::__construct(…, $auth, $context)`. An exception's trace then holds a
//! `SensitiveParameterValue` instead of the value, also where `zend.exception_ignore_args`
//! is off (PHP's development setting) — as PHP does for `PDO::__construct`'s password.
//!
//! ext-php-rs registers the classes after the extension's own startup callback, so the
//! attributes are added at the first request start of each process (a PHP-FPM worker, the
//! CLI), once: the C macro `zend_add_parameter_attribute` is `zend_add_attribute` with the
//! parameter's offset + 1.

use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::ffi::{HashTable, zend_function, zend_hash_str_find_ptr_lc, zend_string};
use ext_php_rs::types::ZendStr;

use crate::client::{Client, Cluster};

unsafe extern "C" {
    /// `ZEND_API zend_attribute *zend_add_attribute(HashTable **attributes, zend_string *name,
    /// uint32_t argc, uint32_t flags, uint32_t offset, uint32_t lineno)` (exported by PHP).
    fn zend_add_attribute(
        attributes: *mut *mut HashTable,
        name: *mut zend_string,
        argc: u32,
        flags: u32,
        offset: u32,
        lineno: u32,
    ) -> *mut c_void;
}

/// `ZEND_ATTRIBUTE_PERSISTENT`: the attribute of an internal function lives in persistent
/// memory.
const ZEND_ATTRIBUTE_PERSISTENT: u32 = 1;

static MARKED: AtomicBool = AtomicBool::new(false);

/// Mark the parameters `params` (0-based) of `T::__construct` as sensitive.
fn mark<T: RegisteredClass>(params: &[u32]) {
    let meta = T::get_metadata();
    if !meta.has_ce() {
        return;
    }
    let ce = meta.ce();
    let method = "__construct";
    // SAFETY: the class entry is registered and lives until module shutdown; its function
    // table maps lower-case method names to `zend_function` pointers.
    let func = unsafe {
        zend_hash_str_find_ptr_lc(&raw const ce.function_table, method.as_ptr().cast(), 11)
    }
    .cast::<zend_function>();
    if func.is_null() {
        return;
    }
    let mut name = ZendStr::new("SensitiveParameter", true);
    for &param in params {
        // SAFETY: `func` is the method's live `zend_function`; `common.attributes` is the
        // field every function kind shares. zend_add_attribute copies the name (it takes a
        // reference) and creates the table when there is none. The engine is
        // single-threaded here (NTS, request start) and frees the table with the function.
        unsafe {
            zend_add_attribute(
                &raw mut (*func).common.attributes,
                name.as_mut_ptr(),
                0,
                ZEND_ATTRIBUTE_PERSISTENT,
                param + 1,
                0,
            );
        }
    }
}

/// Request startup: add the attributes once per process.
pub(crate) extern "C" fn request_startup(_ty: i32, _module_number: i32) -> i32 {
    if !MARKED.swap(true, Ordering::AcqRel) {
        // Nothing here may unwind into PHP.
        let _ = std::panic::catch_unwind(|| {
            mark::<Client>(&[0]);
            mark::<Cluster>(&[5, 6]);
        });
    }
    0
}
