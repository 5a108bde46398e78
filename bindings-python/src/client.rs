//! `NativeClient`: one shardis core. Every call releases the GIL for the whole network
//! round trip (`py.detach`), so threads run their calls in parallel.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use shardis::{Client, Cmd, Config};

use crate::convert::{push_arg, to_cmd, to_py};
use crate::errors::to_pyerr;
use crate::transaction::NativeTransaction;

/// A shardis client (the core of `shardis.Client`).
#[pyclass(module = "shardis._native", frozen)]
pub(crate) struct NativeClient {
    pub(crate) inner: Client,
}

fn build(py: Python<'_>, config: shardis::Result<Config>, shared: bool) -> PyResult<NativeClient> {
    let config = config.map_err(|e| to_pyerr(py, &e))?;
    let client = if shared {
        Client::shared(config)
    } else {
        Client::new(config)
    };
    client
        .map(|inner| NativeClient { inner })
        .map_err(|e| to_pyerr(py, &e))
}

#[pymethods]
impl NativeClient {
    /// A client from the config schema as JSON text.
    #[staticmethod]
    #[pyo3(signature = (config_json, shared=false))]
    fn from_json(py: Python<'_>, config_json: &str, shared: bool) -> PyResult<NativeClient> {
        build(py, Config::from_json_str(config_json), shared)
    }

    /// A client from a URL (`redis://…`, `redis+cluster://…`).
    #[staticmethod]
    #[pyo3(signature = (url, shared=false))]
    fn from_url(py: Python<'_>, url: &str, shared: bool) -> PyResult<NativeClient> {
        build(py, Config::from_url(url), shared)
    }

    /// A client from a `.toml` or `.json` file.
    #[staticmethod]
    #[pyo3(signature = (path, shared=false))]
    fn from_file(py: Python<'_>, path: &str, shared: bool) -> PyResult<NativeClient> {
        build(py, Config::from_file(path), shared)
    }

    /// A client configured from an Envoy bootstrap YAML (its `redis_proxy` listener: the
    /// clusters, prefix routes, mirrors, read policy and faults).
    #[staticmethod]
    #[pyo3(signature = (path, listener=None, shared=false))]
    fn from_envoy(
        py: Python<'_>,
        path: &str,
        listener: Option<&str>,
        shared: bool,
    ) -> PyResult<NativeClient> {
        build(py, Config::from_envoy_file(path, listener), shared)
    }

    /// Run one command given as a sequence of arguments.
    fn execute<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyAny>,
        decode: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cmd = to_cmd(py, args)?;
        let client = &self.inner;
        let result = py.detach(|| client.execute(&cmd));
        match result {
            Ok(v) => to_py(py, v, decode),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }

    /// `GET key` without building an argument tuple (the hottest call).
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        decode: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut cmd = Cmd::new("GET");
        push_arg(py, &mut cmd, key)?;
        let client = &self.inner;
        match py.detach(|| client.execute(&cmd)) {
            Ok(v) => to_py(py, v, decode),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }

    /// `SET key value` without options: `True` on `+OK` (redis-py's shape).
    fn set(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let mut cmd = Cmd::new("SET");
        push_arg(py, &mut cmd, key)?;
        push_arg(py, &mut cmd, value)?;
        let client = &self.inner;
        match py.detach(|| client.execute(&cmd)) {
            Ok(v) => Ok(v.is_ok()),
            Err(e) => Err(to_pyerr(py, &e)),
        }
    }

    /// Run a non-transactional pipeline. Returns one entry per command: the reply, or an
    /// exception instance (not raised).
    fn pipeline<'py>(
        &self,
        py: Python<'py>,
        commands: &Bound<'py, PyList>,
        decode: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let cmds: Vec<Cmd> = commands
            .iter()
            .map(|c| to_cmd(py, &c))
            .collect::<PyResult<_>>()?;
        let client = &self.inner;
        let results = py.detach(|| client.pipeline(&cmds));
        let out = PyList::empty(py);
        for r in results {
            match r {
                Ok(v) => out.append(to_py(py, v, decode)?)?,
                Err(e) => out.append(crate::errors::exception(py, &e)?)?,
            }
        }
        Ok(out)
    }

    /// Start a MULTI/EXEC transaction.
    fn transaction(&self) -> NativeTransaction {
        NativeTransaction::new(self.inner.transaction())
    }

    /// The node (`host:port`) holding `key` (the primary of its slot in cluster mode).
    fn node_for(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<String> {
        let mut cmd = Cmd::default();
        push_arg(py, &mut cmd, key)?;
        let key = cmd.get(0).unwrap_or_default().to_vec();
        let client = &self.inner;
        py.detach(|| client.node_for(&key))
            .map_err(|e| to_pyerr(py, &e))
    }

    /// Known nodes.
    fn nodes(&self) -> Vec<String> {
        self.inner.nodes()
    }

    /// Stats as JSON text.
    fn stats_json(&self) -> String {
        serde_json::to_string(&self.inner.stats()).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Do both share one core?
    fn same_core(&self, other: &NativeClient) -> bool {
        self.inner.same_core(&other.inner)
    }

    /// Cluster mode: refresh the topology now.
    fn refresh_topology(&self, py: Python<'_>) -> PyResult<bool> {
        let client = &self.inner;
        py.detach(|| client.refresh_topology())
            .map_err(|e| to_pyerr(py, &e))
    }

    /// The call deadline in seconds.
    fn timeout(&self) -> f64 {
        self.inner.timeout().as_secs_f64()
    }

    /// The mode name.
    fn mode(&self) -> &'static str {
        self.inner.config().mode().as_str()
    }

    fn __repr__(&self) -> String {
        format!(
            "<shardis._native.NativeClient mode={} nodes={:?}>",
            self.mode(),
            self.inner.nodes()
        )
    }
}

/// The process registry: `(key, handles)` per shared core.
#[pyfunction]
pub(crate) fn registry_entries<'py>(py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for (k, n) in shardis::registry::entries() {
        list.append(PyTuple::new(
            py,
            [
                k.into_pyobject(py)?.into_any(),
                n.into_pyobject(py)?.into_any(),
            ],
        )?)?;
    }
    Ok(list)
}
