//! The written form of several backends (ARCHITECTURE §7, Envoy's vocabulary): named
//! `[backends.NAME]` shard sets, `[[routes]]` by key prefix, a `[catch_all]` route, request
//! mirrors, a read backend per route, and `[[faults]]`. `routing` checks them.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::duration::DurationSpec;

/// A share of commands, written as a percentage (`0`–`100`, fractions allowed: `0.5`).
/// Kept as parts per million so it hashes and compares exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Percent(pub u32);

impl Percent {
    /// 100 %.
    pub const ALL: Percent = Percent(1_000_000);

    /// Parts per million.
    pub fn per_million(self) -> u32 {
        self.0
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(10_000) {
            s.serialize_u32(self.0 / 10_000)
        } else {
            s.serialize_f64(f64::from(self.0) / 10_000.0)
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a percentage from 0 to 100")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                if !(0.0..=100.0).contains(&v) {
                    return Err(E::custom(format!("{v} is not a percentage from 0 to 100")));
                }
                Ok(Percent((v * 10_000.0).round() as u32))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// One mirror of a route (Envoy's `request_mirror_policy`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorSpec {
    /// The backend that receives copies.
    pub backend: String,
    /// Share of keys mirrored (default 100). Chosen by a hash of the key, so a key is
    /// always or never mirrored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<Percent>,
    /// Do not mirror read-only commands (default false, as Envoy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_read_commands: Option<bool>,
}

/// One `[[routes]]` entry, or the `[catch_all]` route (which has no `prefix`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Keys starting with this go here (longest prefix wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Strip the prefix before the key is sent (and hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_prefix: Option<bool>,
    /// The backend (a `[backends.NAME]`, or `default` for the top-level nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Rewrite each key: `%KEY%` stands for the key (after `remove_prefix`), e.g. `{%KEY%}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_formatter: Option<String>,
    /// Read-only commands go to this backend instead (Envoy's `read_command_policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_backend: Option<String>,
    /// Backends that also receive the route's commands, fire-and-forget.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirror: Vec<MirrorSpec>,
}

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with an error instead of sending the command.
    Error,
    /// Wait, then send the command.
    Delay,
}

/// One `[[faults]]` entry (Envoy's `faults`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// `error` or `delay`.
    #[serde(rename = "type")]
    pub kind: FaultKind,
    /// Share of commands affected (drawn at random per command, as Envoy).
    pub fraction: Percent,
    /// How long a delay fault waits (an error fault may wait too, as in Envoy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<DurationSpec>,
    /// Only these commands (default: every command).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
}
