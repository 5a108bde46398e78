//! Client configuration from PHP: an array with the config schema's keys, a URL, a TOML/JSON
//! file path, or phpredis' `RedisCluster` constructor arguments.

use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, Zval};
use serde_json::{Map, Value as Json};
use shardis::Config;

use crate::args::{Key, entries, is_list, type_name, values};
use crate::context::{Transport, config_error, name_context_key, split_seed, tls_from_context};
use crate::errors::{to_exception, type_error, value_error};

/// `new Shardis\Client($config)`: an array, a URL (`redis://…`, `redis+cluster://…`) or the
/// path of a `.toml`/`.json` file.
pub(crate) fn from_zval(config: &Zval) -> Result<Config, PhpException> {
    let config = config.dereference();
    let parsed = if let Some(arr) = config.array() {
        Config::from_json_value(to_json(arr, "config")?)
    } else if let Some(text) = config.str() {
        if text.contains("://") {
            Config::from_url(text)
        } else {
            Config::from_file(text)
        }
    } else {
        return Err(type_error(format!(
            "Shardis\\Client::__construct(): $config must be of type array|string (config \
             array, URL or file path), {} given",
            type_name(config)
        )));
    };
    parsed.map_err(|e| to_exception(&e))
}

/// Duration settings (paths as `to_json` names them).
const DURATION_KEYS: [&str; 4] = [
    "config.timeout",
    "config.connect_timeout",
    "config.tcp_keepalive",
    "config.refresh.interval",
];

/// A PHP array as JSON: a list (keys 0..n in order) becomes a JSON array, anything else an
/// object. Strings must be UTF-8 (config values are text).
fn to_json(arr: &ZendHashTable, path: &str) -> Result<Json, PhpException> {
    if arr.is_empty() {
        // `[]` is both an empty list and an empty map in PHP: leave the key unset.
        return Ok(Json::Null);
    }
    if is_list(arr) {
        let mut out = Vec::with_capacity(arr.len());
        for (i, v) in values(arr).into_iter().enumerate() {
            out.push(value_json(v, &format!("{path}[{i}]"))?);
        }
        return Ok(Json::Array(out));
    }
    let mut out = Map::new();
    for (k, v) in entries(arr) {
        let key = match k {
            Key::Int(i) => i.to_string(),
            Key::Bytes(b) => String::from_utf8(b).map_err(|_| {
                value_error(format!("config key under `{path}`: not valid UTF-8 text"))
            })?,
        };
        let child = format!("{path}.{key}");
        let value = match v.dereference().double() {
            // A float duration is seconds, as in phpredis (`'timeout' => 0.5`); integers
            // stay milliseconds, the config schema's unit.
            Some(secs) if DURATION_KEYS.contains(&child.as_str()) => {
                Json::String(format!("{secs}s"))
            }
            _ => value_json(v, &child)?,
        };
        out.insert(key, value);
    }
    Ok(Json::Object(out))
}

fn value_json(v: &Zval, path: &str) -> Result<Json, PhpException> {
    let v = v.dereference();
    Ok(match v.get_type() {
        DataType::Null | DataType::Undef => Json::Null,
        DataType::True => Json::Bool(true),
        DataType::False => Json::Bool(false),
        DataType::Long => Json::from(v.long().unwrap_or_default()),
        DataType::Double => serde_json::Number::from_f64(v.double().unwrap_or_default())
            .map(Json::Number)
            .ok_or_else(|| value_error(format!("config key `{path}`: not a finite number")))?,
        DataType::String => match v.str() {
            Some(s) => Json::String(s.to_owned()),
            None => {
                return Err(value_error(format!(
                    "config key `{path}`: not valid UTF-8 text"
                )));
            }
        },
        DataType::Array => match v.array() {
            // `'tls' => []` is the schema's empty `[tls]` table: TLS on with the defaults
            // (elsewhere an empty array leaves the key unset, see `to_json`).
            Some(a) if a.is_empty() && path == "config.tls" => Json::Object(Map::new()),
            Some(a) => to_json(a, path)?,
            None => Json::Null,
        },
        _ => {
            return Err(type_error(format!(
                "config key `{path}`: {} is not a config value",
                type_name(v)
            )));
        }
    })
}

/// phpredis' `RedisCluster($name, $seeds, $timeout, $read_timeout, $persistent, $auth,
/// $context)`. `persistent` as a string becomes the persistent id; `true`/`false` are
/// accepted for compatibility: shardis always keeps connections and topology in the process
/// registry (that is its purpose), keyed by `$name` when given. `tls://` seeds and `$context`
/// become the `tls` section (see [`crate::context`]).
pub(crate) struct ClusterArgs<'a> {
    pub name: Option<&'a Zval>,
    pub seeds: Option<&'a Zval>,
    pub timeout: Option<&'a Zval>,
    pub read_timeout: Option<&'a Zval>,
    pub persistent: Option<&'a Zval>,
    pub auth: Option<&'a Zval>,
    pub context: Option<&'a Zval>,
}

fn seconds_to_ms(z: Option<&Zval>, what: &str) -> Result<Option<u64>, PhpException> {
    let Some(z) = z.map(Zval::dereference) else {
        return Ok(None);
    };
    let secs = match z.get_type() {
        DataType::Null | DataType::Undef => return Ok(None),
        DataType::Long => z.long().unwrap_or_default() as f64,
        DataType::Double => z.double().unwrap_or_default(),
        _ => {
            return Err(type_error(format!(
                "Shardis\\Cluster::__construct(): ${what} must be of type float, {} given",
                type_name(z)
            )));
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(value_error(format!(
            "Shardis\\Cluster::__construct(): ${what} must be a non-negative number of seconds"
        )));
    }
    // 0 means "no explicit timeout" in phpredis: keep shardis' default.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok((secs > 0.0).then(|| (secs * 1000.0).ceil().max(1.0) as u64))
}

fn text<'a>(z: &'a Zval, what: &str) -> Result<&'a str, PhpException> {
    z.str().ok_or_else(|| {
        type_error(format!(
            "Shardis\\Cluster::__construct(): {what} must be of type string, {} given",
            type_name(z)
        ))
    })
}

/// phpredis' `$auth`: `'pass'`, `['user', 'pass']`, `['pass']` or `['user' => …, 'pass' =>
/// …]` (null, `''` and `[]`: no AUTH, as in phpredis).
fn auth_json(z: &Zval) -> Result<Option<Json>, PhpException> {
    let z = z.dereference();
    if z.is_null() || z.str() == Some("") || z.array().is_some_and(|a| a.is_empty()) {
        return Ok(None);
    }
    let mut auth = Map::new();
    if let Some(arr) = z.array() {
        // [user, pass], [pass] or ['user' => …, 'pass' => …]
        let (user, pass) = match (arr.get("user"), arr.get("pass"), arr.get("password")) {
            (u, Some(p), _) | (u, None, Some(p)) => (u, Some(p)),
            _ => match arr.len() {
                1 => (None, arr.get_index(0)),
                _ => (arr.get_index(0), arr.get_index(1)),
            },
        };
        if let Some(u) = user.filter(|u| !u.is_null()) {
            auth.insert(
                "username".into(),
                Json::String(text(u, "$auth user")?.to_owned()),
            );
        }
        let pass = pass
            .ok_or_else(|| value_error("Shardis\\Cluster::__construct(): $auth has no password"))?;
        auth.insert(
            "password".into(),
            Json::String(text(pass, "$auth password")?.to_owned()),
        );
    } else {
        auth.insert(
            "password".into(),
            Json::String(text(z, "$auth")?.to_owned()),
        );
    }
    Ok(Some(Json::Object(auth)))
}

/// phpredis' named clusters: `redis.clusters.seeds = "app[]=10.0.0.1:7000&app[]=10.0.0.2:7000"`
/// in php.ini, whether or not phpredis is loaded.
fn seeds_from_ini(name: &str) -> Vec<String> {
    let text = crate::engine::ini("redis.clusters.seeds").unwrap_or_default();
    let wanted = format!("{name}[]");
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| percent_decode(k) == wanted)
        .map(|(_, v)| percent_decode(v))
        .collect()
}

/// `application/x-www-form-urlencoded` decoding (`%3A` → `:`, `+` → space).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The config for `Shardis\Cluster`'s phpredis-style arguments.
pub(crate) fn from_cluster_args(a: &ClusterArgs<'_>) -> Result<Config, PhpException> {
    let mut cfg = Map::new();
    cfg.insert("mode".into(), Json::String("cluster".into()));
    let name = a.name.map(Zval::dereference).and_then(Zval::str);
    let mut seeds = Vec::new();
    match a.seeds.map(Zval::dereference).filter(|s| !s.is_null()) {
        Some(given) => {
            let given = given.array().ok_or_else(|| {
                type_error(format!(
                    "Shardis\\Cluster::__construct(): $seeds must be of type array, {} given",
                    type_name(given)
                ))
            })?;
            for s in values(given) {
                seeds.push(text(s, "each seed")?.to_owned());
            }
        }
        None => {
            seeds = name.map(seeds_from_ini).unwrap_or_default();
            if seeds.is_empty() {
                return Err(value_error(
                    "Shardis\\Cluster::__construct(): $seeds is required (an array of \"host:port\"), \
                     or a $name listed in php.ini's redis.clusters.seeds",
                ));
            }
        }
    }
    // `tls://h:p` seeds turn TLS on (phpredis' way); every seed must agree.
    let mut nodes = Vec::with_capacity(seeds.len());
    let mut transports = Vec::with_capacity(seeds.len());
    for seed in &seeds {
        let (transport, addr) = split_seed(seed)?;
        transports.push((transport, seed.as_str()));
        nodes.push(Json::String(addr.to_owned()));
    }
    let tls_seed = transports.iter().find(|(t, _)| *t == Transport::Tls);
    let plain_seed = transports.iter().find(|(t, _)| *t == Transport::Plain);
    if let (Some((_, tls)), Some((_, plain))) = (tls_seed, plain_seed) {
        return Err(config_error(
            "$seeds",
            format!(
                "{tls:?} is TLS but {plain:?} is not: every node of a cluster speaks the same \
                 (write all seeds as tls://host:port, or none)"
            ),
        ));
    }
    let mut tls = tls_from_context(a.context)?;
    let from_context = !tls.is_empty();
    // phpredis' RedisCluster connects every node with ssl:// as soon as it has a context
    // (its seeds are plain host:port): a $context array means TLS here too.
    let context_given = a
        .context
        .map(Zval::dereference)
        .is_some_and(|c| !c.is_null());
    if tls_seed.is_some() || context_given {
        tls.insert("enabled".into(), Json::Bool(true));
        cfg.insert("tls".into(), Json::Object(tls));
    }
    cfg.insert("nodes".into(), Json::Array(nodes));
    if let Some(ms) = seconds_to_ms(a.timeout, "timeout")? {
        cfg.insert("connect_timeout".into(), Json::from(ms));
    }
    if let Some(ms) = seconds_to_ms(a.read_timeout, "read_timeout")? {
        cfg.insert("timeout".into(), Json::from(ms));
    }
    let persistent = a.persistent.map(Zval::dereference);
    let id = match persistent.and_then(Zval::str) {
        Some(id) if !id.is_empty() => Some(id.to_owned()),
        _ => name.map(str::to_owned),
    };
    if let Some(p) = persistent
        && !(p.is_null() || p.is_bool() || p.is_string())
    {
        return Err(type_error(format!(
            "Shardis\\Cluster::__construct(): $persistent must be of type bool|string, {} given",
            type_name(p)
        )));
    }
    if let Some(id) = id {
        cfg.insert("persistent_id".into(), Json::String(id));
    }
    if let Some(auth) = a.auth.map(auth_json).transpose()?.flatten() {
        cfg.insert("auth".into(), auth);
    }
    Config::from_json_value(Json::Object(cfg)).map_err(|e| {
        let e = if from_context { name_context_key(e) } else { e };
        to_exception(&e)
    })
}
