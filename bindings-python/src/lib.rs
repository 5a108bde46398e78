//! `shardis._native`: the Rust core exposed to Python. Thin by design (ARCHITECTURE §8):
//! arguments become a `Cmd`, the core runs it with the GIL released, the reply becomes
//! Python objects, and errors map once onto `shardis.exceptions`. The redis-py-compatible
//! surface (`shardis.Client`) is Python code over this module.

mod client;
mod convert;
mod errors;
mod transaction;

use pyo3::prelude::*;

/// The native module. Importing it creates nothing (no threads, sockets or clients).
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::NativeClient>()?;
    m.add_class::<transaction::NativeTransaction>()?;
    m.add("VERSION", shardis::VERSION)?;
    m.add_function(wrap_pyfunction!(client::registry_entries, m)?)?;
    Ok(())
}
