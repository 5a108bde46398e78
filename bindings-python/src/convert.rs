//! Python ⇄ core conversions: arguments are encoded as redis-py's `Encoder` does (bytes as
//! they are, `str` as UTF-8, `int` in decimal, `float` by `repr`; anything else — `bool`
//! and `None` included — is a `DataError`); replies become bytes (or `str` with
//! `decode_responses`), int, float, None, list, and dict for per-node replies.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};
use shardis::{Cmd, Value};

use crate::errors;

/// Append one Python argument to `cmd`.
pub(crate) fn push_arg(py: Python<'_>, cmd: &mut Cmd, arg: &Bound<'_, PyAny>) -> PyResult<()> {
    if let Ok(b) = arg.cast::<PyBytes>() {
        cmd.arg(b.as_bytes());
    } else if let Ok(s) = arg.cast::<PyString>() {
        cmd.arg(s.to_cow()?.as_bytes());
    } else if arg.is_instance_of::<PyBool>() {
        return Err(errors::data_error(
            py,
            "Invalid input of type: 'bool'. Convert to a bytes, string, int or float first.".into(),
        ));
    } else if let Ok(i) = arg.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(v) => cmd.arg(v.to_string()),
            Err(_) => cmd.arg(i.str()?.to_cow()?.as_bytes()),
        };
    } else if let Ok(f) = arg.cast::<PyFloat>() {
        cmd.arg(f.repr()?.to_cow()?.as_bytes());
    } else if let Ok(b) = arg.cast::<PyByteArray>() {
        cmd.arg(b.to_vec());
    } else if let Ok(bytes) = arg
        .call_method0("__bytes__")
        .and_then(|b| b.extract::<Vec<u8>>())
    {
        // memoryview and other buffer-like objects
        cmd.arg(bytes);
    } else {
        let type_name = arg.get_type().name()?.to_string();
        return Err(errors::data_error(
            py,
            format!(
                "Invalid input of type: '{type_name}'. Convert to a bytes, string, int or float first."
            ),
        ));
    }
    Ok(())
}

/// Build a `Cmd` from a sequence of arguments.
pub(crate) fn to_cmd(py: Python<'_>, args: &Bound<'_, PyAny>) -> PyResult<Cmd> {
    let mut cmd = Cmd::default();
    for a in args.try_iter()? {
        push_arg(py, &mut cmd, &a?)?;
    }
    if cmd.is_empty() {
        return Err(errors::data_error(py, "empty command".into()));
    }
    Ok(cmd)
}

fn text<'py>(py: Python<'py>, bytes: &[u8], decode: bool) -> PyResult<Bound<'py, PyAny>> {
    if decode {
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(PyString::new(py, s).into_any()),
            Err(_) => Ok(PyBytes::new(py, bytes).call_method1("decode", ("utf-8",))?),
        }
    } else {
        Ok(PyBytes::new(py, bytes).into_any())
    }
}

/// A reply as Python objects.
pub(crate) fn to_py<'py>(py: Python<'py>, v: Value, decode: bool) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Nil => py.None().into_bound(py),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Bulk(b) => text(py, &b, decode)?,
        Value::Okay => text(py, b"OK", decode)?,
        Value::Status(s) => text(py, s.as_bytes(), decode)?,
        Value::Double(d) => PyFloat::new(py, d).into_any(),
        Value::Boolean(b) => PyBool::new(py, b).to_owned().into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item, decode)?)?;
            }
            list.into_any()
        }
        Value::Map(entries) => {
            let dict = PyDict::new(py);
            for (k, val) in entries {
                dict.set_item(to_py(py, k, true)?, to_py(py, val, decode)?)?;
            }
            dict.into_any()
        }
        Value::Error(message) => errors::exception(
            py,
            &shardis::Error::new(shardis::ErrorKind::Server, message),
        )?,
        _ => py.None().into_bound(py),
    })
}
