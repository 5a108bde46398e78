//! The two PHP classes: `Shardis\Client` (config array, URL or file) and `Shardis\Cluster`
//! (phpredis' `RedisCluster` constructor). Both hand out the process-wide shared core for
//! their configuration, so request N+1 of a PHP-FPM worker reuses request N's connections
//! and topology.

use ext_php_rs::prelude::*;
use ext_php_rs::types::{PhpRef, ZendClassObject, ZendHashTable, Zval};
use serde_json::Value as Json;
use shardis::Cmd;

use crate::api::redis_api;
use crate::args::{
    command, expect_array, push_flat, push_keys, push_pairs, push_scalar, scalar_bytes,
};
use crate::commands;
use crate::config::{self, ClusterArgs};
use crate::errors::to_exception;
use crate::reply::{Shape, insert_bytes_key, string_zval};
use crate::session::{self, HasSession, Session, run, session_of};

/// A shardis client with phpredis' method names: `new Shardis\Client(['mode' => 'cluster',
/// 'nodes' => ['10.0.0.1:7000']])`, `new Shardis\Client('redis://h1:6379,h2:6379/?mode=ring_hash')`
/// or `new Shardis\Client('/etc/shardis.toml')`.
#[php_class]
#[php(name = "Shardis\\Client")]
pub struct Client {
    session: Session,
}

/// phpredis' `RedisCluster` constructor over shardis:
/// `new Shardis\Cluster(null, ['10.0.0.1:7000'], 1.5, 1.5, true, 'secret')`, over TLS
/// `new Shardis\Cluster(null, ['tls://10.0.0.1:7000'], 1.5, 1.5, true, $auth, ['stream' =>
/// ['cafile' => '/etc/redis/ca.pem']])`.
#[php_class]
#[php(name = "Shardis\\Cluster")]
pub struct Cluster {
    session: Session,
}

impl HasSession for Client {
    fn session(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl HasSession for Cluster {
    fn session(&mut self) -> &mut Session {
        &mut self.session
    }
}

/// The shared core for `config` (the process registry: same persistent id or same config →
/// same connections and topology).
fn shared_session(config: shardis::Config) -> PhpResult<Session> {
    let core = shardis::Client::shared(config).map_err(|e| to_exception(&e))?;
    crate::info::record(core.config());
    Ok(Session::new(core))
}

redis_api!(Client {
    /// `$config`: an array with the config schema's keys, a URL, or a `.toml`/`.json` path.
    pub fn __construct(config: &Zval) -> PhpResult<Self> {
        Ok(Client { session: shared_session(config::from_zval(config)?)? })
    }

    /// `Shardis\Client::fromEnvoy($path, $listener = null)`: a client configured from an
    /// Envoy bootstrap YAML (its `redis_proxy` listener's clusters, prefix routes, mirrors,
    /// read command policy and faults). What shardis cannot do throws
    /// `Shardis\ConfigException` naming the YAML path.
    pub fn from_envoy(path: String, listener: Option<String>) -> PhpResult<Self> {
        let config = shardis::Config::from_envoy_file(&path, listener.as_deref())
            .map_err(|e| to_exception(&e))?;
        Ok(Client { session: shared_session(config)? })
    }
});

redis_api!(Cluster {
    /// phpredis' `RedisCluster($name, $seeds, $timeout, $read_timeout, $persistent, $auth,
    /// $context)`: `tls://host:port` seeds turn TLS on, `$context['stream']` holds its
    /// options (`cafile`, `local_cert`, `local_pk`, `peer_name`, `verify_peer`).
    pub fn __construct(
        name: Option<&Zval>,
        seeds: Option<&Zval>,
        timeout: Option<&Zval>,
        read_timeout: Option<&Zval>,
        persistent: Option<&Zval>,
        auth: Option<&Zval>,
        context: Option<&Zval>,
    ) -> PhpResult<Self> {
        let args =
            ClusterArgs { name, seeds, timeout, read_timeout, persistent, auth, context };
        Ok(Cluster { session: shared_session(config::from_cluster_args(&args)?)? })
    }
});

/// JSON → PHP value (for `stats()`).
fn json_zval(v: &Json) -> PhpResult<Zval> {
    let mut z = Zval::new();
    match v {
        Json::Null => z.set_null(),
        Json::Bool(b) => z.set_bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => z.set_long(i),
            None => z.set_double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => return Ok(string_zval(s.as_bytes())),
        Json::Array(items) => {
            let mut ht = ZendHashTable::with_capacity(u32::try_from(items.len()).unwrap_or(0));
            for item in items {
                ht.push(json_zval(item)?)
                    .map_err(|e| crate::errors::internal(format!("building stats: {e}")))?;
            }
            z.set_hashtable(ht);
        }
        Json::Object(map) => {
            let mut ht = ZendHashTable::new();
            for (k, item) in map {
                insert_bytes_key(&mut ht, k.as_bytes(), json_zval(item)?)?;
            }
            z.set_hashtable(ht);
        }
    }
    Ok(z)
}

/// `stats()` as a PHP array.
pub(crate) fn stats_zval(core: &shardis::Client) -> PhpResult<Zval> {
    let json = serde_json::to_value(core.stats())
        .map_err(|e| crate::errors::internal(format!("stats: {e}")))?;
    json_zval(&json)
}
