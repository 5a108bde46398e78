//! Argument shapes shared by several phpredis methods (options arrays, scores, cursors), so
//! each method in `api.rs` stays one line of naming and reply shaping.

use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{PhpRef, Zval};
use shardis::{Cmd, Value};

use crate::args::{expect_array, int_arg, push_flat, push_keys, push_scalar, type_name};
use crate::errors::{type_error, value_error};
use crate::reply::{self, Shape};
use crate::session::Session;

/// `set($key, $value, $options)`: `$options` is a TTL in seconds (int) or phpredis' array
/// (`['nx', 'ex' => 10]`, `'xx'`, `'px'`, `'exat'`, `'pxat'`, `'keepttl'`, `'get'`).
pub(crate) fn set(
    key: &Zval,
    value: &Zval,
    options: Option<&Zval>,
) -> Result<(Cmd, Shape), PhpException> {
    let mut cmd = Cmd::new("SET");
    push_scalar(&mut cmd, key, "key")?;
    push_scalar(&mut cmd, value, "value")?;
    let mut shape = Shape::Bool;
    let Some(opts) = options.map(Zval::dereference).filter(|o| !o.is_null()) else {
        return Ok((cmd, shape));
    };
    if let Some(arr) = opts.array() {
        for (name, v) in crate::args::options(arr) {
            match name.as_str() {
                "NX" | "XX" | "KEEPTTL" => {
                    cmd.arg(&name);
                }
                "GET" => {
                    cmd.arg("GET");
                    shape = Shape::StrOrFalse;
                }
                "EX" | "PX" | "EXAT" | "PXAT" => {
                    let what = format!("set() option '{}'", name.to_lowercase());
                    let n = int_arg(v, &what)?;
                    if n <= 0 {
                        return Err(value_error(format!("{what} must be greater than 0")));
                    }
                    cmd.arg(&name).arg(n.to_string());
                }
                other => {
                    return Err(value_error(format!(
                        "set(): unknown option '{}'",
                        other.to_lowercase()
                    )));
                }
            }
        }
    } else {
        // phpredis: a TTL in whole seconds; 0 means none. A fraction would silently become
        // "no expiry" if truncated, so it is refused (use ['px' => milliseconds]).
        if let Some(f) = opts.double()
            && f.fract() != 0.0
        {
            return Err(value_error(format!(
                "set() timeout must be whole seconds, {f} given (use ['px' => milliseconds])"
            )));
        }
        let secs = int_arg(opts, "set() timeout")?;
        if secs < 0 {
            return Err(value_error(format!(
                "set() timeout must not be negative, {secs} given"
            )));
        }
        if secs > 0 {
            cmd.arg("EX").arg(secs.to_string());
        }
    }
    Ok((cmd, shape))
}

/// A command taking `key, member, member…` (or `key, [members]`).
pub(crate) fn key_and_values(
    name: &str,
    key: &Zval,
    first: &Zval,
    rest: &[&Zval],
) -> Result<Cmd, PhpException> {
    let mut cmd = Cmd::new(name);
    push_scalar(&mut cmd, key, "key")?;
    push_keys(&mut cmd, first, rest)?;
    Ok(cmd)
}

/// `hSet($key, $field, $value)` or `hSet($key, [$field => $value, …])`.
pub(crate) fn hset(key: &Zval, field: &Zval, value: Option<&Zval>) -> Result<Cmd, PhpException> {
    let mut cmd = Cmd::new("HSET");
    push_scalar(&mut cmd, key, "key")?;
    match value {
        Some(v) => {
            push_scalar(&mut cmd, field, "field")?;
            push_scalar(&mut cmd, v, "value")?;
        }
        None => {
            crate::args::push_pairs(&mut cmd, field, "hSet() fields")?;
        }
    }
    Ok(cmd)
}

/// `blPop($keys, $timeout)` / `blPop($key1, $key2, …, $timeout)`.
pub(crate) fn blocking_pop(name: &str, first: &Zval, rest: &[&Zval]) -> Result<Cmd, PhpException> {
    let mut cmd = Cmd::new(name);
    match rest.split_last() {
        Some((timeout, keys)) => {
            push_flat(&mut cmd, first, "key")?;
            for k in keys {
                push_scalar(&mut cmd, k, "key")?;
            }
            push_scalar(&mut cmd, timeout, "timeout")?;
        }
        None => {
            return Err(value_error(format!(
                "{}(): a timeout is required",
                name.to_lowercase()
            )));
        }
    }
    Ok(cmd)
}

/// `zAdd($key, [$options,] $score, $member, …)`; options `['nx', 'xx', 'gt', 'lt', 'ch', 'incr']`.
pub(crate) fn zadd(key: &Zval, first: &Zval, rest: &[&Zval]) -> Result<(Cmd, Shape), PhpException> {
    let mut cmd = Cmd::new("ZADD");
    push_scalar(&mut cmd, key, "key")?;
    let mut shape = Shape::Raw;
    let pairs: Vec<&Zval> = match first.dereference().array() {
        Some(opts) => {
            for (name, _) in crate::args::options(opts) {
                match name.as_str() {
                    "NX" | "XX" | "GT" | "LT" | "CH" => {
                        cmd.arg(&name);
                    }
                    "INCR" => {
                        cmd.arg("INCR");
                        shape = Shape::Float;
                    }
                    other => {
                        return Err(value_error(format!(
                            "zAdd(): unknown option '{}'",
                            other.to_lowercase()
                        )));
                    }
                }
            }
            rest.to_vec()
        }
        None => std::iter::once(first).chain(rest.iter().copied()).collect(),
    };
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(value_error("zAdd(): expects score, member pairs"));
    }
    for (i, z) in pairs.iter().enumerate() {
        push_scalar(&mut cmd, z, if i % 2 == 0 { "score" } else { "member" })?;
    }
    Ok((cmd, shape))
}

/// Do the options ask for scores? `true`, or `['withscores' => true]`.
fn withscores(options: Option<&Zval>) -> Result<bool, PhpException> {
    let Some(o) = options.map(Zval::dereference) else {
        return Ok(false);
    };
    if let Some(arr) = o.array() {
        return Ok(crate::args::options(arr)
            .into_iter()
            .any(|(name, v)| name == "WITHSCORES" && v.coerce_to_bool()));
    }
    match o.get_type() {
        DataType::True | DataType::False | DataType::Null | DataType::Long => {
            Ok(o.coerce_to_bool())
        }
        _ => Err(type_error(format!(
            "withscores must be of type bool|array, {} given",
            type_name(o)
        ))),
    }
}

/// `zRange($key, $start, $end, $options)`: `$options` is `true` (withscores) or an array with
/// `'withscores'`, `'limit' => [$offset, $count]`, and for ZRANGE phpredis 6's `'byscore'`,
/// `'bylex'`, `'rev'`. The by-score commands take `'withscores'` and `'limit'`. Any other
/// option is refused rather than ignored.
pub(crate) fn zrange(
    name: &str,
    key: &Zval,
    a: &Zval,
    b: &Zval,
    options: Option<&Zval>,
) -> Result<(Cmd, Shape), PhpException> {
    let mut cmd = Cmd::new(name);
    push_scalar(&mut cmd, key, "key")?;
    push_scalar(&mut cmd, a, "start")?;
    push_scalar(&mut cmd, b, "end")?;
    let scores = withscores(options)?;
    if let Some(arr) = options.map(Zval::dereference).and_then(Zval::array) {
        let flags: &[&str] = if name == "ZRANGE" {
            &["BYSCORE", "BYLEX", "REV"]
        } else {
            &[]
        };
        for (opt, v) in crate::args::options(arr) {
            match opt.as_str() {
                "WITHSCORES" => {}
                "LIMIT" => {
                    let limit = expect_array(v, "option 'limit'")?;
                    let (Some(off), Some(count)) = (limit.get_index(0), limit.get_index(1)) else {
                        return Err(value_error("option 'limit' must be [offset, count]"));
                    };
                    cmd.arg("LIMIT");
                    cmd.arg(int_arg(off, "limit offset")?.to_string());
                    cmd.arg(int_arg(count, "limit count")?.to_string());
                }
                f if flags.contains(&f) => {
                    cmd.arg(f);
                }
                other => {
                    return Err(value_error(format!(
                        "{}(): unknown option '{}'",
                        name.to_lowercase(),
                        other.to_lowercase()
                    )));
                }
            }
        }
    }
    if scores {
        cmd.arg("WITHSCORES");
    }
    Ok((cmd, if scores { Shape::Scores } else { Shape::Raw }))
}

/// `zInterStore($dst, $keys, $weights = null, $aggregate = null)` (and `zUnionStore`).
pub(crate) fn zstore(
    name: &str,
    dst: &Zval,
    keys: &Zval,
    weights: Option<&Zval>,
    aggregate: Option<&Zval>,
) -> Result<Cmd, PhpException> {
    let mut cmd = Cmd::new(name);
    push_scalar(&mut cmd, dst, "destination")?;
    let keys = crate::args::values(expect_array(keys, "keys")?);
    cmd.arg(keys.len().to_string());
    for k in &keys {
        push_scalar(&mut cmd, k, "key")?;
    }
    if let Some(w) = weights.filter(|w| !w.is_null()) {
        let w = crate::args::values(expect_array(w, "weights")?);
        if w.len() != keys.len() {
            return Err(value_error(format!(
                "{}(): {} weights for {} keys",
                name.to_lowercase(),
                w.len(),
                keys.len()
            )));
        }
        cmd.arg("WEIGHTS");
        for x in w {
            push_scalar(&mut cmd, x, "weight")?;
        }
    }
    if let Some(a) = aggregate.filter(|a| !a.is_null()) {
        cmd.arg("AGGREGATE");
        push_scalar(&mut cmd, a, "aggregate")?;
    }
    Ok(cmd)
}

/// `eval($script, $args = [], $numKeys = 0)` (and `evalSha`): the first `$numKeys` of
/// `$args` are keys.
pub(crate) fn eval(
    name: &str,
    script: &Zval,
    args: Option<&Zval>,
    num_keys: Option<&Zval>,
) -> Result<Cmd, PhpException> {
    let mut cmd = Cmd::new(name);
    push_scalar(&mut cmd, script, "script")?;
    let args = match args.map(Zval::dereference).filter(|a| !a.is_null()) {
        Some(a) => Some(expect_array(a, "eval() $args")?),
        None => None,
    };
    let n = num_keys
        .map(|n| int_arg(n, "eval() $numKeys"))
        .transpose()?
        .unwrap_or(0);
    let len = args.map_or(0, |a| a.len());
    if n < 0 || usize::try_from(n).unwrap_or(usize::MAX) > len {
        return Err(value_error(format!(
            "{}(): $numKeys ({n}) must be between 0 and the number of arguments ({len})",
            name.to_lowercase()
        )));
    }
    cmd.arg(n.to_string());
    if let Some(args) = args {
        for v in crate::args::values(args) {
            push_scalar(&mut cmd, v, "eval() argument")?;
        }
    }
    Ok(cmd)
}

/// `__call($name, $args)`: a command from any method name; array arguments are spread (a
/// list as its values, an associative array as `key value` pairs).
pub(crate) fn generic(name: &str, args: &Zval) -> Result<Cmd, PhpException> {
    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
        return Err(value_error(format!("not a command name: {name:?}")));
    }
    let mut cmd = Cmd::new(name.to_ascii_uppercase());
    let args = expect_array(args, "arguments")?;
    for a in crate::args::values(args) {
        match a.dereference().array() {
            Some(arr) if crate::args::is_list(arr) => push_flat(&mut cmd, a, "argument")?,
            Some(_) => {
                crate::args::push_pairs(&mut cmd, a, "argument")?;
            }
            None => push_scalar(&mut cmd, a, "argument")?,
        }
    }
    Ok(cmd)
}

/// phpredis' `scan(&$it, …)` family. `$it === null` starts; the cursor is written back;
/// when the iteration has ended (`$it === 0`) the call returns `false`. Empty batches are
/// skipped (phpredis' `SCAN_RETRY`), so both `while ($keys = …)` and
/// `while (($keys = …) !== false)` loops see every key.
pub(crate) fn scan(
    session: &mut Session,
    mut iterator: PhpRef<'_>,
    prefix: Cmd,
    pattern: Option<&Zval>,
    count: Option<&Zval>,
    shape: &Shape,
) -> Result<Zval, PhpException> {
    let mut cursor: Vec<u8> = {
        let it = iterator.dereference();
        match it.get_type() {
            DataType::Null | DataType::Undef => b"0".to_vec(),
            DataType::Long if it.long() == Some(0) => return Ok(reply::bool_zval(false)),
            DataType::Long => it.long().unwrap_or_default().to_string().into_bytes(),
            DataType::String if it.str() == Some("0") => return Ok(reply::bool_zval(false)),
            DataType::String => it
                .zend_str()
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default(),
            _ => {
                return Err(type_error(format!(
                    "the scan iterator must be null, int or string, {} given",
                    type_name(it)
                )));
            }
        }
    };
    if prefix.get(0) == Some(b"SCAN".as_slice()) {
        refuse_node_argument(session, pattern, "scan")?;
    }
    // A sparse MATCH over a large keyspace can need many rounds. They go on until a batch
    // has keys or the iteration ends (phpredis' SCAN_RETRY: an early empty batch would end
    // `while ($keys = …)` loops silently), unless the request ran out of time: then the
    // empty batch returns and the engine stops the script right after.
    loop {
        let mut cmd = prefix.clone();
        cmd.arg(&cursor);
        if let Some(p) = pattern.filter(|p| !p.is_null()) {
            cmd.arg("MATCH");
            push_scalar(&mut cmd, p, "pattern")?;
        }
        if let Some(c) = count.filter(|c| !c.is_null()) {
            let n = int_arg(c, "count")?;
            if n > 0 {
                cmd.arg("COUNT").arg(n.to_string());
            }
        }
        let reply = session.execute(&cmd)?;
        let mut parts = reply.into_array().unwrap_or_default().into_iter();
        let (Some(next), Some(batch)) = (parts.next(), parts.next()) else {
            return Err(crate::errors::internal("SCAN: unexpected reply".to_owned()));
        };
        cursor = next.as_bytes().unwrap_or(b"0").to_vec();
        let done = cursor == b"0";
        let empty = batch.as_array().is_none_or(<[Value]>::is_empty);
        if done || !empty || crate::engine::request_timed_out() {
            let text = String::from_utf8_lossy(&cursor);
            match text.parse::<i64>() {
                Ok(n) => iterator.set_long(n),
                Err(_) => iterator.set_zend_string(ext_php_rs::types::ZendStr::new(&cursor, false)),
            }
            return reply::shape(batch, shape);
        }
    }
}

/// phpredis' `RedisCluster` takes a node (`"host:port"` or `[host, port]`) as the first
/// argument of `scan`, `info`, `ping`…, to run on that node only; shardis runs them on every
/// shard. A node where shardis expects a pattern, section or message would silently mean
/// something else: refuse it.
pub(crate) fn refuse_node_argument(
    session: &Session,
    arg: Option<&Zval>,
    method: &str,
) -> Result<(), PhpException> {
    let Some(p) = arg.map(Zval::dereference) else {
        return Ok(());
    };
    let is_node = p.is_array()
        || p.str()
            .is_some_and(|s| session.core.nodes().iter().any(|n| n == s));
    if is_node {
        return Err(value_error(format!(
            "{method}(): got a node; shardis runs {method} on every shard and takes no node \
             argument (phpredis' RedisCluster form)"
        )));
    }
    Ok(())
}
