//! The exception tree and the one mapping from a core [`shardis::Error`] onto it.
//!
//! ```text
//! \RuntimeException
//! └── Shardis\Exception                  every shardis failure (getCode(): the kind's number)
//!     ├── Shardis\ConnectionException    connect, I/O, authentication, protocol
//!     │   └── Shardis\TimeoutException   the call's deadline passed
//!     ├── Shardis\CrossShardException    keys of one command/transaction on different shards
//!     ├── Shardis\IndeterminateException a write may or may not have been applied
//!     ├── Shardis\ServerException        an error reply from Redis (WRONGTYPE, NOSCRIPT, …)
//!     └── Shardis\ConfigException        bad configuration (names the key)
//! ```
//! Wrong PHP argument types raise `\TypeError`, bad argument values `\ValueError`.
//!
//! The classes are registered with `ClassBuilder` in the module startup (not as Rust-backed
//! objects), so they are ordinary PHP exceptions: constructible from PHP, with file, line and
//! trace.

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::zend::{ClassEntry, ce};
use shardis::ErrorKind;

use std::sync::atomic::{AtomicPtr, Ordering};

/// The classes, in registration order (a parent before its children).
#[derive(Clone, Copy)]
enum Class {
    Base,
    Connection,
    Timeout,
    CrossShard,
    Indeterminate,
    Server,
    Config,
}

/// Name and parent of each class.
const TREE: [(Class, &str, Option<Class>); 7] = [
    (Class::Base, "Shardis\\Exception", None),
    (
        Class::Connection,
        "Shardis\\ConnectionException",
        Some(Class::Base),
    ),
    (
        Class::Timeout,
        "Shardis\\TimeoutException",
        Some(Class::Connection),
    ),
    (
        Class::CrossShard,
        "Shardis\\CrossShardException",
        Some(Class::Base),
    ),
    (
        Class::Indeterminate,
        "Shardis\\IndeterminateException",
        Some(Class::Base),
    ),
    (Class::Server, "Shardis\\ServerException", Some(Class::Base)),
    (Class::Config, "Shardis\\ConfigException", Some(Class::Base)),
];

/// The registered class entries (set once at module startup, read when throwing).
static ENTRIES: [AtomicPtr<ClassEntry>; 7] = [const { AtomicPtr::new(std::ptr::null_mut()) }; 7];
/// The entry the engine registered last (handed over by the registration callback).
static LAST: AtomicPtr<ClassEntry> = AtomicPtr::new(std::ptr::null_mut());

unsafe extern "C" {
    /// SPL's `RuntimeException` (exported by the PHP binary; SPL starts before extensions).
    static spl_ce_RuntimeException: *mut ClassEntry;
}

fn entry(class: Class) -> &'static ClassEntry {
    let ptr = ENTRIES[class as usize].load(Ordering::Acquire);
    // SAFETY: the pointers come from the engine's registration and live as long as the
    // process; null (registration failed) falls back to \Exception.
    unsafe { ptr.as_ref() }.unwrap_or_else(ce::exception)
}

fn runtime_exception() -> &'static ClassEntry {
    // SAFETY: a class entry the engine registered at SPL's startup, before any extension.
    unsafe { spl_ce_RuntimeException.as_ref() }.unwrap_or_else(ce::exception)
}

fn parent_fn(parent: Option<Class>) -> fn() -> &'static ClassEntry {
    match parent {
        None => runtime_exception,
        Some(Class::Base) => || entry(Class::Base),
        Some(_) => || entry(Class::Connection),
    }
}

fn remember(ce: &'static mut ClassEntry, _: ext_php_rs::args::ArgInfoTables) {
    LAST.store(ce, Ordering::Release);
}

/// Register the exception classes (module startup). Returns false when one failed.
pub(crate) fn register() -> bool {
    TREE.into_iter().all(|(class, name, parent)| {
        let parent_name = parent.map_or("RuntimeException", |p| TREE[p as usize].1);
        let ok = ClassBuilder::new(name)
            .extends((parent_fn(parent), parent_name))
            .registration(remember)
            .register()
            .is_ok();
        ENTRIES[class as usize].store(LAST.load(Ordering::Acquire), Ordering::Release);
        ok
    })
}

/// The stable number of an error kind (`getCode()` of the exception).
pub(crate) fn kind_code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Config => 1,
        ErrorKind::CrossShard => 2,
        ErrorKind::Unsupported => 3,
        ErrorKind::InvalidArgument => 4,
        ErrorKind::Connect => 5,
        ErrorKind::Auth => 6,
        ErrorKind::Io => 7,
        ErrorKind::Timeout => 8,
        ErrorKind::Indeterminate => 9,
        ErrorKind::Protocol => 10,
        ErrorKind::Server => 11,
        _ => 0,
    }
}

/// The one mapping from a core error to a PHP exception.
pub(crate) fn to_exception(e: &shardis::Error) -> PhpException {
    let kind = e.kind();
    let class = match kind {
        ErrorKind::Config => entry(Class::Config),
        ErrorKind::CrossShard => entry(Class::CrossShard),
        ErrorKind::InvalidArgument => ce::value_error(),
        ErrorKind::Connect | ErrorKind::Auth | ErrorKind::Io | ErrorKind::Protocol => {
            entry(Class::Connection)
        }
        ErrorKind::Timeout => entry(Class::Timeout),
        ErrorKind::Indeterminate => entry(Class::Indeterminate),
        ErrorKind::Server => entry(Class::Server),
        _ => entry(Class::Base),
    };
    PhpException::new(e.to_string(), kind_code(kind), class)
}

/// `\TypeError` with `message`.
pub(crate) fn type_error(message: impl Into<String>) -> PhpException {
    PhpException::new(message.into(), 0, ce::type_error())
}

/// `\ValueError` with `message`.
pub(crate) fn value_error(message: impl Into<String>) -> PhpException {
    PhpException::new(message.into(), 0, ce::value_error())
}

/// `Shardis\Exception` for misuse of the client's state (exec() without multi(), …).
pub(crate) fn usage_error(message: impl Into<String>) -> PhpException {
    PhpException::new(
        message.into(),
        kind_code(ErrorKind::InvalidArgument),
        entry(Class::Base),
    )
}

/// `Shardis\Exception` for a failure inside the extension itself (building a PHP value).
pub(crate) fn internal(message: impl Into<String>) -> PhpException {
    PhpException::new(message.into(), 0, entry(Class::Base))
}

/// `Shardis\Exception` with the `unsupported` code (3): a phpredis feature shardis lacks.
pub(crate) fn unsupported(message: impl Into<String>) -> PhpException {
    PhpException::new(
        message.into(),
        kind_code(ErrorKind::Unsupported),
        entry(Class::Base),
    )
}
