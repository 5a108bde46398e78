//! `NativeTransaction`: MULTI/EXEC on one node (one slot in cluster mode), with WATCH and
//! immediate commands on the pinned connection — what redis-py's
//! `pipeline(transaction=True)` needs.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyList;
use shardis::{Transaction, Value};

use crate::convert::{to_cmd, to_py};
use crate::errors::to_pyerr;

/// A transaction in progress.
#[pyclass(module = "shardis._native", frozen)]
pub(crate) struct NativeTransaction {
    inner: Mutex<Option<Transaction>>,
}

impl NativeTransaction {
    pub(crate) fn new(tx: Transaction) -> NativeTransaction {
        NativeTransaction {
            inner: Mutex::new(Some(tx)),
        }
    }

    fn with<T>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Transaction) -> shardis::Result<T> + Send,
    ) -> PyResult<T>
    where
        T: Send,
    {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(tx) = guard.as_mut() else {
            return Err(to_pyerr(
                py,
                &shardis::Error::new(
                    shardis::ErrorKind::InvalidArgument,
                    "the transaction has ended",
                ),
            ));
        };
        py.detach(|| f(tx)).map_err(|e| to_pyerr(py, &e))
    }
}

#[pymethods]
impl NativeTransaction {
    /// `WATCH keys…` on the pinned connection.
    fn watch(&self, py: Python<'_>, keys: &Bound<'_, PyAny>) -> PyResult<()> {
        let cmd = to_cmd(py, keys)?;
        let keys: Vec<Vec<u8>> = cmd.args().map(<[u8]>::to_vec).collect();
        self.with(py, move |tx| tx.watch(&keys))
    }

    /// Run a command now on the pinned connection.
    fn query<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyAny>,
        decode: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cmd = to_cmd(py, args)?;
        let v = self.with(py, move |tx| tx.query(&cmd))?;
        to_py(py, v, decode)
    }

    /// Queue a command for EXEC (checked now).
    fn queue(&self, py: Python<'_>, args: &Bound<'_, PyAny>) -> PyResult<()> {
        let cmd = to_cmd(py, args)?;
        self.with(py, move |tx| tx.queue(cmd).map(|_| ()))
    }

    /// MULTI … EXEC: the list of replies (errors as exception instances), or None when a
    /// watched key changed.
    fn exec<'py>(&self, py: Python<'py>, decode: bool) -> PyResult<Bound<'py, PyAny>> {
        let tx = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(tx) = tx else {
            return Err(to_pyerr(
                py,
                &shardis::Error::new(
                    shardis::ErrorKind::InvalidArgument,
                    "the transaction has ended",
                ),
            ));
        };
        match py.detach(|| tx.exec()) {
            Ok(Value::Nil) => Ok(py.None().into_bound(py)),
            Ok(Value::Array(items)) => {
                let list = PyList::empty(py);
                for item in items {
                    list.append(to_py(py, item, decode)?)?;
                }
                Ok(list.into_any())
            }
            Ok(other) => to_py(py, other, decode),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }

    /// Drop the transaction (a watched connection is closed, not reused).
    fn discard(&self) {
        if let Some(tx) = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take() {
            tx.discard();
        }
    }

    /// The node the transaction is pinned to, if any.
    fn node(&self) -> Option<String> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(Transaction::node)
    }
}
