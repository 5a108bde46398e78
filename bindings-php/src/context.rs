//! phpredis' TLS arguments of `RedisCluster`: `tls://` (or `ssl://`) seeds and the `$context`
//! array of PHP's `ssl` stream context options, turned into the config schema's `tls` section.
//! Two shapes are taken: the options themselves (`['cafile' => …, 'verify_peer' => …]`, what
//! phpredis' `RedisCluster` reads: it sets every entry as an `ssl` option), and the options
//! under `stream` (`['stream' => ['cafile' => …]]`, what phpredis' `Redis::connect` reads).
//!
//! | option | `tls` | notes |
//! |---|---|---|
//! | `cafile` | `ca_file` | without it, the platform's roots (as PHP's `openssl.cafile` default) |
//! | `local_cert` | `cert_file` | also `key_file` when `local_pk` is absent (PHP reads the key from the same PEM then) |
//! | `local_pk` | `key_file` | needs `local_cert` |
//! | `peer_name` | `server_name` | the name every node's certificate is checked against |
//! | `verify_peer => false` | `insecure_skip_verify = true` | nothing is verified (shows in stats and phpinfo) |
//! | `verify_peer_name => false` | — | with `verify_peer => false`: already implied. Alone: refused, see below |
//! | `SNI_enabled => true`, `allow_self_signed => false`, `disable_compression` | — | what rustls does anyway |
//!
//! `verify_peer_name => false` alone asks to check the certificate chain but not the name.
//! rustls (webpki) verifies both together and shardis has no chain-only verifier, so that
//! request is refused with a [`ConfigException`](crate::errors) that names the two ways
//! that exist: `peer_name` (check against a name the certificate does hold) or
//! `verify_peer => false` (check nothing). Mapping it silently to either would make the
//! connection stricter or far weaker than asked.
//!
//! Every other option (`passphrase`, `ciphers`, `capath`, `crypto_method`,
//! `peer_fingerprint`, `verify_depth`, …), and any key next to `stream`, raise a
//! `ConfigException` naming the key: an option that would be ignored could leave a
//! connection less protected than its author believes. As in phpredis, a `$context` array
//! (even an empty one) means TLS, with plain `host:port` seeds too (see `config.rs`).

use ext_php_rs::exception::PhpException;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::Zval;
use serde_json::{Map, Value as Json};

use crate::args::{Key, entries, type_name};
use crate::errors::{to_exception, type_error};

/// A `ConfigException` naming `key`.
pub(crate) fn config_error(key: &str, problem: impl std::fmt::Display) -> PhpException {
    to_exception(&shardis::Error::config(key, problem))
}

fn key_text(k: &Key) -> String {
    String::from_utf8_lossy(&k.bytes()).into_owned()
}

/// A string option (a path or a name).
fn text(z: &Zval, key: &str) -> Result<String, PhpException> {
    let z = z.dereference();
    z.str().map(str::to_owned).ok_or_else(|| {
        type_error(format!(
            "Shardis\\Cluster::__construct(): {key} must be of type string, {} given",
            type_name(z)
        ))
    })
}

/// A boolean option: PHP's stream contexts take any truthy value; bools and ints here.
fn flag(z: &Zval, key: &str) -> Result<bool, PhpException> {
    let z = z.dereference();
    match z.get_type() {
        DataType::True => Ok(true),
        DataType::False => Ok(false),
        DataType::Long => Ok(z.long().unwrap_or_default() != 0),
        _ => z.bool().ok_or_else(|| {
            type_error(format!(
                "Shardis\\Cluster::__construct(): {key} must be of type bool, {} given",
                type_name(z)
            ))
        }),
    }
}

/// Why an unsupported `stream` option is refused, and what to do instead.
fn unsupported_advice(option: &str) -> &'static str {
    match option {
        "passphrase" => {
            "no encrypted private keys: decrypt the key (openssl pkey -in key.pem -out \
             plain.pem) and keep the file readable only by PHP"
        }
        "capath" => {
            "no directory of CA certificates: concatenate them into one PEM file and give it \
             as 'cafile'"
        }
        "ciphers" | "crypto_method" | "security_level" => {
            "shardis uses rustls' safe defaults (TLS 1.2 and 1.3, modern AEAD ciphers only); \
             they cannot be changed"
        }
        "peer_fingerprint" => "no certificate pinning: trust the node's CA with 'cafile' instead",
        "verify_depth" => "the chain length is not limited (rustls checks the whole chain)",
        "SNI_server_name" => "use 'peer_name' (it is also sent as SNI)",
        "capture_peer_cert" | "capture_peer_cert_chain" | "capture_session_meta" => {
            "there is no PHP stream to capture it on"
        }
        _ => "not a TLS option shardis knows",
    }
}

/// The `tls` section (without `enabled`) for `$context`; empty when it sets nothing.
pub(crate) fn tls_from_context(context: Option<&Zval>) -> Result<Map<String, Json>, PhpException> {
    let mut tls = Map::new();
    let Some(context) = context.map(Zval::dereference).filter(|c| !c.is_null()) else {
        return Ok(tls);
    };
    let context = context.array().ok_or_else(|| {
        type_error(format!(
            "Shardis\\Cluster::__construct(): $context must be of type ?array, {} given",
            type_name(context)
        ))
    })?;
    let nested = entries(context)
        .into_iter()
        .any(|(k, _)| key_text(&k) == "stream");
    if !nested {
        ssl_options(context, "$context", &mut tls)?;
        return Ok(tls);
    }
    for (k, v) in entries(context) {
        let wrapper = key_text(&k);
        if wrapper != "stream" {
            return Err(config_error(
                &format!("$context['{wrapper}']"),
                "not supported next to 'stream' (phpredis reads TLS options from \
                 $context['stream'], or RedisCluster's from $context itself)",
            ));
        }
        let v = v.dereference();
        let stream = v.array().ok_or_else(|| {
            type_error(format!(
                "Shardis\\Cluster::__construct(): $context['stream'] must be of type array, {} \
                 given",
                type_name(v)
            ))
        })?;
        ssl_options(stream, "$context['stream']", &mut tls)?;
    }
    Ok(tls)
}

/// Read PHP `ssl` stream-context options (named `{prefix}['option']` in errors) into `tls`.
fn ssl_options(
    options: &ext_php_rs::types::ZendHashTable,
    prefix: &str,
    tls: &mut Map<String, Json>,
) -> Result<(), PhpException> {
    {
        let mut verify_peer = true;
        let mut verify_peer_name = true;
        let mut local_pk = None;
        for (k, v) in entries(options) {
            let option = key_text(&k);
            let key = format!("{prefix}['{option}']");
            match option.as_str() {
                "cafile" => {
                    tls.insert("ca_file".into(), Json::String(text(v, &key)?));
                }
                "local_cert" => {
                    tls.insert("cert_file".into(), Json::String(text(v, &key)?));
                }
                "local_pk" => local_pk = Some(text(v, &key)?),
                "peer_name" => {
                    tls.insert("server_name".into(), Json::String(text(v, &key)?));
                }
                "verify_peer" => verify_peer = flag(v, &key)?,
                "verify_peer_name" => verify_peer_name = flag(v, &key)?,
                // What rustls does anyway: accepted, changes nothing.
                "disable_compression" => {
                    flag(v, &key)?;
                }
                "SNI_enabled" | "allow_self_signed" => {
                    let wanted = flag(v, &key)?;
                    let default = option == "SNI_enabled";
                    if wanted != default {
                        let why = if default {
                            "SNI cannot be turned off (rustls sends the node's name, or \
                             'peer_name')"
                        } else {
                            "self-signed certificates are accepted only through 'cafile' (or \
                             'verify_peer' => false, which checks nothing)"
                        };
                        return Err(config_error(&key, format!("not supported: {why}")));
                    }
                }
                other => {
                    return Err(config_error(
                        &key,
                        format!("not supported: {}", unsupported_advice(other)),
                    ));
                }
            }
        }
        match (tls.get("cert_file").cloned(), local_pk) {
            (Some(_), Some(pk)) => {
                tls.insert("key_file".into(), Json::String(pk));
            }
            // PHP's local_cert may hold the certificate and its key in one PEM file.
            (Some(cert), None) => {
                tls.insert("key_file".into(), cert);
            }
            (None, Some(_)) => {
                return Err(config_error(
                    &format!("{prefix}['local_cert']"),
                    "missing ('local_pk' needs its certificate)",
                ));
            }
            (None, None) => {}
        }
        if !verify_peer {
            tls.insert("insecure_skip_verify".into(), Json::Bool(true));
        } else if !verify_peer_name {
            return Err(config_error(
                &format!("{prefix}['verify_peer_name']"),
                "false is not supported on its own: the certificate's name is checked with its \
                 chain. Set 'peer_name' to a name the certificate holds, or 'verify_peer' => \
                 false to check nothing (insecure)",
            ));
        }
    }
    Ok(())
}

/// A config error about a `tls.*` key that `$context` set, completed with the context's own
/// name for it (`tls.key_file` is `$context`'s `local_pk`).
pub(crate) fn name_context_key(e: shardis::Error) -> shardis::Error {
    const NAMES: [(&str, &str); 4] = [
        ("tls.ca_file", "$context's 'cafile'"),
        ("tls.cert_file", "$context's 'local_cert'"),
        (
            "tls.key_file",
            "$context's 'local_pk' (or 'local_cert' when there is no 'local_pk')",
        ),
        ("tls.server_name", "$context's 'peer_name'"),
    ];
    if e.kind() != shardis::ErrorKind::Config {
        return e;
    }
    let message = e.to_string();
    match NAMES.iter().find(|(key, _)| message.contains(key)) {
        Some((key, option)) => shardis::Error::new(
            shardis::ErrorKind::Config,
            format!("{message} ({key} is {option})"),
        ),
        None => e,
    }
}

/// How a seed asks to connect.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Plain,
    Tls,
}

/// `tls://host:port` / `ssl://host:port` (TLS), `tcp://host:port` or `host:port` (plain):
/// the transport and the address.
pub(crate) fn split_seed(seed: &str) -> Result<(Transport, &str), PhpException> {
    let Some((scheme, addr)) = seed.split_once("://") else {
        return Ok((Transport::Plain, seed));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "tls" | "ssl" => Ok((Transport::Tls, addr)),
        "tcp" => Ok((Transport::Plain, addr)),
        other => Err(config_error(
            "$seeds",
            format!(
                "{seed:?}: transport {other}:// is not supported (use host:port, tcp://host:port \
                 or tls://host:port)"
            ),
        )),
    }
}
