//! [`ConfigSpec`] → TOML text that [`crate::Config::from_toml_str`] reads back to the same
//! configuration (used to print an imported Envoy config). Unset keys are left out; nodes
//! without weight or name are written as `"host:port"` strings.

use super::spec::ConfigSpec;
use crate::error::{Error, ErrorKind, Result};

impl ConfigSpec {
    /// The spec as TOML. The text holds passwords as the spec does.
    pub fn to_toml(&self) -> Result<String> {
        let value = toml::Value::try_from(self).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot write the config as TOML: {e}"),
            )
        })?;
        let toml::Value::Table(mut table) = value else {
            return Err(Error::new(
                ErrorKind::Config,
                "cannot write the config as TOML: not a table",
            ));
        };
        tidy(&mut table);
        toml::to_string(&table).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("cannot write the config as TOML: {e}"),
            )
        })
    }
}

/// Drop empty `nodes` lists and write plain nodes as strings, here and in every backend.
fn tidy(table: &mut toml::Table) {
    if let Some(toml::Value::Array(nodes)) = table.get_mut("nodes") {
        if nodes.is_empty() {
            table.remove("nodes");
        } else {
            for node in nodes.iter_mut() {
                let plain = match node {
                    toml::Value::Table(t) if t.len() == 1 => t.get("addr").cloned(),
                    _ => None,
                };
                if let Some(addr) = plain {
                    *node = addr;
                }
            }
        }
    }
    if let Some(toml::Value::Table(backends)) = table.get_mut("backends") {
        for (_, backend) in backends.iter_mut() {
            if let toml::Value::Table(b) = backend {
                tidy(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::config::{Config, ConfigSpec};

    fn round_trip(toml_text: &str) -> String {
        let spec: ConfigSpec = toml::from_str(toml_text).unwrap();
        let out = spec.to_toml().unwrap();
        let again: ConfigSpec = toml::from_str(&out).unwrap();
        assert_eq!(again, spec, "{out}");
        assert_eq!(
            Config::from_toml_str(&out).unwrap(),
            Config::from_toml_str(toml_text).unwrap(),
            "{out}"
        );
        out
    }

    #[test]
    fn one_shard_set_prints_only_what_is_set() {
        let out = round_trip(
            "mode = \"ring_hash\"\nnodes = [\"127.0.0.1:7001\", { addr = \"127.0.0.1:7002\", weight = 2 }]\nhash_tags = true\n[ring_hash]\nmin_ring_size = 2048\n",
        );
        assert!(
            out.contains("nodes = [\"127.0.0.1:7001\", { addr = \"127.0.0.1:7002\", weight = 2 }]"),
            "{out}"
        );
        assert!(!out.contains("max_ring_size"), "{out}");
        assert!(!out.contains("timeout"), "{out}");
        assert!(out.contains("[ring_hash]\nmin_ring_size = 2048"), "{out}");
    }

    #[test]
    fn backends_routes_mirrors_and_faults_read_back_the_same() {
        let out = round_trip(
            r#"
routes_case_insensitive = true
[backends.users]
mode = "ring_hash"
nodes = [{ addr = "10.0.0.1:6379", name = "a" }, "10.0.0.2:6379"]
timeout = "0.5s"
[backends.users.auth]
username = "app"
password = "pw"
[backends."odd.name"]
mode = "cluster"
nodes = ["10.0.1.1:7000"]
[backends."odd.name".refresh]
interval = "10s"
[backends.shadow]
mode = "maglev"
nodes = ["10.0.2.1:6379"]
[backends.shadow.tls]
server_name = "redis.internal"
[[routes]]
prefix = "user:"
backend = "users"
read_backend = "odd.name"
[[routes.mirror]]
backend = "shadow"
fraction = 1.2345
exclude_read_commands = true
[catch_all]
backend = "users"
key_formatter = "x-%KEY%"
[[faults]]
type = "delay"
fraction = 5
delay = "250ms"
commands = ["GET"]
"#,
        );
        assert!(out.contains("[backends.\"odd.name\".refresh]"), "{out}");
        assert!(out.contains("fraction = 1.2345"), "{out}");
        assert!(!out.contains("nodes = []"), "{out}");
    }
}
