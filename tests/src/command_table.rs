//! Generator of `core/src/command/table_data.rs` from a live server's `COMMAND` and
//! `COMMAND DOCS`. The route of each command is derived here, once, from the server's own
//! flags, key specs and request/response policy tips, plus the few overrides listed in
//! [`OVERRIDES`] (each with its reason). `gen-command-table` writes the file; the test
//! `command_table_matches_server` renders it again from the running server and compares.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use redis::Value;

/// Commands whose route is not what the server's tips alone would give, and why.
pub const OVERRIDES: &[(&str, &str, &str)] = &[
    // (command, route, reason)
    (
        "msetnx",
        "Route::Keyed",
        "all-or-nothing: splitting it per node would break atomicity",
    ),
    ("scan", "Route::Scan", "one cursor walks every node"),
    (
        "randomkey",
        "Route::RandomKey",
        "a random node, retried on others while empty",
    ),
    (
        "wait",
        "Route::AnyNode",
        "WAIT counts acknowledgements of one connection's writes: fanned out over pooled \
         connections it means nothing; run it with Transaction::query on the connection that \
         wrote",
    ),
];

/// Connection-state commands: they would change (or depend on) one pooled connection.
const CONNECTION_STATE: &[(&str, &str)] = &[
    (
        "auth",
        "credentials come from the config ([auth]) and are sent on every connection",
    ),
    ("hello", "shardis speaks RESP2 on its own connections"),
    (
        "select",
        "the database comes from the config (db) and is selected on every connection",
    ),
    ("quit", "connections are owned by shardis"),
    ("reset", "connections are owned by shardis"),
    (
        "multi",
        "use the transaction API (Client::transaction / pipeline(transaction=True))",
    ),
    (
        "exec",
        "use the transaction API (Client::transaction / pipeline(transaction=True))",
    ),
    (
        "discard",
        "use the transaction API (Client::transaction / pipeline(transaction=True))",
    ),
    ("watch", "use the transaction API (Transaction::watch)"),
    ("unwatch", "use the transaction API (Transaction::unwatch)"),
    ("monitor", "MONITOR takes over a connection; use redis-cli"),
    ("sync", "replication protocol"),
    ("psync", "replication protocol"),
    ("replconf", "replication protocol"),
    ("readonly", "replica reads are a config setting (read_from)"),
    (
        "readwrite",
        "replica reads are a config setting (read_from)",
    ),
    ("asking", "redirects are handled by shardis"),
    ("client|reply", "would desynchronise a pooled connection"),
    (
        "client|tracking",
        "client-side caching is not supported yet",
    ),
    ("client|caching", "client-side caching is not supported yet"),
    (
        "client|setname",
        "connection names are not supported on pooled connections",
    ),
    ("client|no-evict", "would change one pooled connection only"),
    ("client|no-touch", "would change one pooled connection only"),
    (
        "subscribe",
        "pub/sub needs a dedicated connection and is not supported yet",
    ),
    (
        "psubscribe",
        "pub/sub needs a dedicated connection and is not supported yet",
    ),
    (
        "ssubscribe",
        "pub/sub needs a dedicated connection and is not supported yet",
    ),
    (
        "unsubscribe",
        "pub/sub needs a dedicated connection and is not supported yet",
    ),
    (
        "punsubscribe",
        "pub/sub needs a dedicated connection and is not supported yet",
    ),
    (
        "sunsubscribe",
        "pub/sub needs a dedicated connection and is not supported yet",
    ),
];

/// Flag names the generator knows (must match `shardis::command::table::flag::NAMES`).
fn flag_const(name: &str) -> Option<&'static str> {
    Some(match name {
        "write" => "WRITE",
        "readonly" => "READONLY",
        "denyoom" => "DENYOOM",
        "admin" => "ADMIN",
        "pubsub" => "PUBSUB",
        "noscript" => "NOSCRIPT",
        "blocking" => "BLOCKING",
        "loading" => "LOADING",
        "stale" => "STALE",
        "skip_monitor" => "SKIP_MONITOR",
        "skip_slowlog" => "SKIP_SLOWLOG",
        "fast" => "FAST",
        "no_auth" => "NO_AUTH",
        "may_replicate" => "MAY_REPLICATE",
        "no_mandatory_keys" => "NO_MANDATORY_KEYS",
        "movablekeys" => "MOVABLEKEYS",
        "no_multi" => "NO_MULTI",
        "allow_busy" => "ALLOW_BUSY",
        "no_async_loading" => "NO_ASYNC_LOADING",
        "module" => "MODULE",
        "sentinel" => "SENTINEL",
        "only_sentinel" => "ONLY_SENTINEL",
        "asking" => "ASKING",
        _ => return None,
    })
}

fn key_flag_const(name: &str) -> Option<&'static str> {
    Some(match name {
        "RO" => "RO",
        "RW" => "RW",
        "OW" => "OW",
        "RM" => "RM",
        "access" => "ACCESS",
        "update" => "UPDATE",
        "insert" => "INSERT",
        "delete" => "DELETE",
        "not_key" => "NOT_KEY",
        "incomplete" => "INCOMPLETE",
        "variable_flags" => "VARIABLE_FLAGS",
        _ => return None,
    })
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::BulkString(b) => Ok(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Ok(s.clone()),
        Value::Okay => Ok("OK".into()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!("expected an integer, got {other:?}")),
    }
}

fn array(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::Array(a) | Value::Set(a) => Ok(a),
        Value::Nil => Ok(&[]),
        other => Err(format!("expected an array, got {other:?}")),
    }
}

/// A flat `[k1, v1, k2, v2…]` array (or a RESP3 map) as pairs.
fn pairs(v: &Value) -> Result<Vec<(String, &Value)>, String> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| Ok((text(k)?, v))).collect(),
        _ => array(v)?
            .chunks(2)
            .map(|c| match c {
                [k, v] => Ok((text(k)?, v)),
                _ => Err("odd-length map".to_string()),
            })
            .collect(),
    }
}

fn field<'a>(v: &'a Value, name: &str) -> Result<Option<&'a Value>, String> {
    Ok(pairs(v)?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v))
}

struct Row {
    name: String,
    arity: i64,
    flags: Vec<String>,
    tips: Vec<String>,
    key_specs: Vec<String>,
    key_steps: Vec<i64>,
    group: String,
    subcommands: bool,
}

fn key_spec(spec: &Value) -> Result<(String, i64), String> {
    let flags: Vec<String> = match field(spec, "flags")? {
        Some(f) => array(f)?.iter().map(text).collect::<Result<_, _>>()?,
        None => vec![],
    };
    let flag_expr = render_flags(&flags, key_flag_const, "key_flag")?;
    let begin = field(spec, "begin_search")?.ok_or("key spec without begin_search")?;
    let begin_type = text(field(begin, "type")?.ok_or("begin_search without type")?)?;
    let begin_spec = field(begin, "spec")?;
    let get = |s: Option<&Value>, name: &str| -> Result<i64, String> {
        let s = s.ok_or_else(|| format!("missing spec for {name}"))?;
        int(field(s, name)?.ok_or_else(|| format!("missing {name}"))?)
    };
    let begin_expr = match begin_type.as_str() {
        "index" => format!("BeginSearch::Index({})", get(begin_spec, "index")?),
        "keyword" => {
            let s = begin_spec.ok_or("keyword without spec")?;
            let kw = text(field(s, "keyword")?.ok_or("missing keyword")?)?;
            format!(
                "BeginSearch::Keyword {{ keyword: {kw:?}, start_from: {} }}",
                get(begin_spec, "startfrom")?
            )
        }
        _ => "BeginSearch::Unknown".to_string(),
    };
    let find = field(spec, "find_keys")?.ok_or("key spec without find_keys")?;
    let find_type = text(field(find, "type")?.ok_or("find_keys without type")?)?;
    let find_spec = field(find, "spec")?;
    let (find_expr, step) = match find_type.as_str() {
        "range" => {
            let step = get(find_spec, "keystep")?;
            (
                format!(
                    "FindKeys::Range {{ last_key: {}, key_step: {step}, limit: {} }}",
                    get(find_spec, "lastkey")?,
                    get(find_spec, "limit")?
                ),
                step,
            )
        }
        "keynum" => {
            let step = get(find_spec, "keystep")?;
            (
                format!(
                    "FindKeys::Keynum {{ keynum_idx: {}, first_key: {}, key_step: {step} }}",
                    get(find_spec, "keynumidx")?,
                    get(find_spec, "firstkey")?
                ),
                step,
            )
        }
        _ => ("FindKeys::Unknown".to_string(), 1),
    };
    Ok((
        format!("KeySpec {{ begin: {begin_expr}, find: {find_expr}, flags: {flag_expr} }}"),
        step,
    ))
}

fn render_flags(
    names: &[String],
    map: fn(&str) -> Option<&'static str>,
    module: &str,
) -> Result<String, String> {
    let mut parts = Vec::new();
    for n in names {
        let c = map(n).ok_or_else(|| format!("unknown flag {n:?}: add it to the table types"))?;
        parts.push(format!("{module}::{c}"));
    }
    Ok(if parts.is_empty() {
        "0".into()
    } else {
        parts.join(" | ")
    })
}

fn collect(
    entry: &Value,
    docs: &BTreeMap<String, String>,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let e = array(entry)?;
    if e.len() < 10 {
        return Err(format!(
            "COMMAND entry with {} fields; need Redis 7+",
            e.len()
        ));
    }
    let name = text(&e[0])?.to_ascii_lowercase();
    let flags: Vec<String> = array(&e[2])?.iter().map(text).collect::<Result<_, _>>()?;
    let tips: Vec<String> = array(&e[7])?.iter().map(text).collect::<Result<_, _>>()?;
    let mut key_specs = Vec::new();
    let mut key_steps = Vec::new();
    for spec in array(&e[8])? {
        let (s, step) = key_spec(spec)?;
        key_specs.push(s);
        key_steps.push(step);
    }
    let subs = array(&e[9])?;
    let group = docs
        .get(&name)
        .cloned()
        .or_else(|| name.split('|').next().and_then(|p| docs.get(p).cloned()))
        .unwrap_or_default();
    rows.push(Row {
        name,
        arity: int(&e[1])?,
        flags,
        tips,
        key_specs,
        key_steps,
        group,
        subcommands: !subs.is_empty(),
    });
    for sub in subs {
        collect(sub, docs, rows)?;
    }
    Ok(())
}

fn merge_of(tips: &[String], default: &str) -> &'static str {
    let policy = tips.iter().find_map(|t| t.strip_prefix("response_policy:"));
    match policy {
        Some("agg_sum") => "Merge::Sum",
        Some("agg_min") => "Merge::Min",
        Some("agg_max") => "Merge::Max",
        Some("agg_logical_and") => "Merge::LogicalAnd",
        Some("agg_logical_or") => "Merge::LogicalOr",
        Some("all_succeeded") => "Merge::AllSucceeded",
        Some("one_succeeded") => "Merge::OneSucceeded",
        Some(_) => "Merge::PerNode",
        None if default == "ordered" => "Merge::Ordered",
        None => "Merge::Concat",
    }
}

fn route_of(row: &Row) -> String {
    if let Some((_, route, _)) = OVERRIDES.iter().find(|(n, _, _)| *n == row.name) {
        return (*route).to_string();
    }
    if let Some((_, why)) = CONNECTION_STATE.iter().find(|(n, _)| *n == row.name) {
        return format!("Route::Unsupported({why:?})");
    }
    let request = row
        .tips
        .iter()
        .find_map(|t| t.strip_prefix("request_policy:"));
    match request {
        Some("multi_shard") => {
            let step = row.key_steps.first().copied().unwrap_or(1);
            format!(
                "Route::Split {{ step: {step}, merge: {} }}",
                merge_of(&row.tips, "ordered")
            )
        }
        Some("all_shards") => format!("Route::AllShards({})", merge_of(&row.tips, "concat")),
        Some("all_nodes") => format!("Route::AllNodes({})", merge_of(&row.tips, "concat")),
        _ if !row.key_specs.is_empty() => "Route::Keyed".to_string(),
        _ => "Route::AnyNode".to_string(),
    }
}

/// Render the table file from `COMMAND` and `COMMAND DOCS` replies.
pub fn render(
    command: &Value,
    command_docs: &Value,
    server_version: &str,
) -> Result<String, String> {
    let mut docs = BTreeMap::new();
    for (name, doc) in pairs(command_docs)? {
        let group = field(doc, "group")?
            .map(text)
            .transpose()?
            .unwrap_or_default();
        docs.insert(name.to_ascii_lowercase(), group.clone());
        if let Some(subs) = field(doc, "subcommands")? {
            for (sub, sdoc) in pairs(subs)? {
                let g = field(sdoc, "group")?
                    .map(text)
                    .transpose()?
                    .unwrap_or(group.clone());
                docs.insert(sub.to_ascii_lowercase(), g);
            }
        }
    }
    let mut rows = Vec::new();
    for entry in array(command)? {
        collect(entry, &docs, &mut rows)?;
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "//! GENERATED by `cargo run -p shardis-tests --bin gen-command-table` from redis-server\n\
         //! {server_version} (`COMMAND`, `COMMAND DOCS`). Do not edit: change the generator\n\
         //! (`tests/src/command_table.rs`) and regenerate. {} commands and subcommands.\n",
        rows.len()
    );
    out.push_str("use super::spec::key_flag;\nuse super::spec::flag;\n");
    out.push_str(
        "use super::spec::{BeginSearch, CommandSpec, FindKeys, KeySpec, Merge, Route};\n\n",
    );
    out.push_str("/// Every command and subcommand, sorted by name.\n");
    out.push_str("#[rustfmt::skip]\npub(super) static COMMANDS: &[CommandSpec] = &[\n");
    for row in &rows {
        let flags = render_flags(&row.flags, flag_const, "flag")?;
        let _ = writeln!(
            out,
            "    CommandSpec {{ name: {:?}, arity: {}, flags: {flags}, group: {:?}, route: {}, subcommands: {}, key_specs: &[{}] }},",
            row.name,
            row.arity,
            row.group,
            route_of(row),
            row.subcommands,
            row.key_specs.join(", ")
        );
    }
    out.push_str("];\n");
    rustfmt(&out)
}

/// Format like `cargo fmt` does, so the committed file is stable under it.
fn rustfmt(source: &str) -> Result<String, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt stdin")?
        .write_all(source.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

/// Query a live server and render the table.
pub fn fetch_and_render(con: &mut redis::Connection) -> Result<String, String> {
    let command: Value = redis::cmd("COMMAND")
        .query(con)
        .map_err(|e| e.to_string())?;
    let docs: Value = redis::cmd("COMMAND")
        .arg("DOCS")
        .query(con)
        .map_err(|e| e.to_string())?;
    let info: Value = redis::cmd("INFO")
        .arg("server")
        .query(con)
        .map_err(|e| e.to_string())?;
    let info = text(&info)?;
    let version = info
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("unknown")
        .trim()
        .to_string();
    render(&command, &docs, &version)
}

/// Path of the generated file, from this crate's manifest dir.
pub fn table_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("core/src/command/table_data.rs")
}
