//! The one mapping from core errors to Python exceptions. The classes live in
//! `shardis.exceptions` (Python) so that they can also inherit from redis-py's exceptions:
//! `except redis.exceptions.ConnectionError` catches shardis' too.

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use shardis::{Error, ErrorKind};

/// The `shardis.exceptions` class name for an error.
fn class_name(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::Config => "ConfigError",
        ErrorKind::CrossShard => "CrossShardError",
        ErrorKind::Unsupported => "UnsupportedCommandError",
        ErrorKind::InvalidArgument => "DataError",
        ErrorKind::Connect | ErrorKind::Io => "ConnectionError",
        ErrorKind::Auth => "AuthenticationError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::Indeterminate if e.is_timeout() => "IndeterminateTimeoutError",
        ErrorKind::Indeterminate => "IndeterminateConnectionError",
        ErrorKind::Protocol => "ProtocolError",
        // The server's code picks the class (NOSCRIPT, EXECABORT, …), as redis-py does.
        ErrorKind::Server => "",
        _ => "RedisError",
    }
}

/// Build (not raise) the Python exception instance for `e`.
pub(crate) fn exception<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyAny>> {
    let module = py.import("shardis.exceptions")?;
    let instance = match class_name(e) {
        "" => module.getattr("server_error")?.call1((e.to_string(),))?,
        name => module
            .getattr(name)?
            .call1(PyTuple::new(py, [e.to_string()])?)?,
    };
    instance.setattr("kind", e.kind().as_str())?;
    instance.setattr("node", e.node())?;
    Ok(instance)
}

/// `Error` → `PyErr`.
pub(crate) fn to_pyerr(py: Python<'_>, e: &Error) -> PyErr {
    match exception(py, e) {
        Ok(instance) => PyErr::from_value(instance),
        Err(import_failed) => import_failed,
    }
}

/// A `DataError` for a bad argument (built on the Python side).
pub(crate) fn data_error(py: Python<'_>, message: String) -> PyErr {
    to_pyerr(py, &Error::new(ErrorKind::InvalidArgument, message))
}
