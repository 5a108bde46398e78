//! Durations in configuration: `"250ms"`, `"5s"`, `"1.5s"`, `"2m"`, or an integer number of
//! milliseconds. `false` means "off" where a setting can be disabled.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A duration as written in a config, checked by [`DurationSpec::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DurationSpec {
    /// Integer milliseconds (may be negative as written; rejected on resolve).
    Millis(i64),
    /// Text with a unit.
    Text(String),
    /// `true`/`false` (only `false`, meaning "off", is accepted where allowed).
    Switch(bool),
}

impl From<Duration> for DurationSpec {
    fn from(d: Duration) -> Self {
        DurationSpec::Text(format!("{}us", d.as_micros()))
    }
}

impl Serialize for DurationSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            DurationSpec::Millis(v) => s.serialize_i64(*v),
            DurationSpec::Text(t) => s.serialize_str(t),
            DurationSpec::Switch(b) => s.serialize_bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for DurationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"250ms\", \"5s\" or integer milliseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<DurationSpec, E> {
                Ok(DurationSpec::Millis(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<DurationSpec, E> {
                Ok(DurationSpec::Millis(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<DurationSpec, E> {
                Ok(DurationSpec::Text(format!("{v}ms")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<DurationSpec, E> {
                Ok(DurationSpec::Text(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<DurationSpec, E> {
                Ok(DurationSpec::Switch(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The longest duration accepted anywhere (one day): larger values are typos.
const MAX_DURATION: Duration = Duration::from_secs(86_400);

impl DurationSpec {
    /// Resolve to a duration. `None` means "off" (only when `allow_off`). `key` names the
    /// setting in errors.
    pub fn resolve(&self, key: &str, allow_off: bool) -> Result<Option<Duration>> {
        let d = match self {
            DurationSpec::Switch(false) if allow_off => return Ok(None),
            DurationSpec::Switch(_) => {
                let hint = if allow_off {
                    "expected a duration or false"
                } else {
                    "expected a duration such as \"500ms\" or \"2s\""
                };
                return Err(Error::config(key, hint));
            }
            DurationSpec::Millis(ms) if *ms < 0 => {
                return Err(Error::config(key, format!("{ms} is negative")));
            }
            DurationSpec::Millis(ms) => Duration::from_millis(ms.unsigned_abs()),
            DurationSpec::Text(t) => parse_text(t).ok_or_else(|| {
                Error::config(
                    key,
                    format!(
                        "{t:?} is not a duration (use e.g. \"250ms\", \"1.5s\", \"2m\" or integer milliseconds)"
                    ),
                )
            })?,
        };
        if d > MAX_DURATION {
            return Err(Error::config(key, format!("{d:?} is longer than one day")));
        }
        if d.is_zero() && allow_off {
            return Ok(None);
        }
        Ok(Some(d))
    }
}

fn parse_text(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    if num.is_empty() {
        return None;
    }
    let value: f64 = num.parse().ok()?;
    let secs = match unit.trim() {
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    if !secs.is_finite() || secs < 0.0 || secs > MAX_DURATION.as_secs_f64() * 2.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_milliseconds() {
        let r = |s: DurationSpec| s.resolve("timeout", false).ok().flatten();
        assert_eq!(
            r(DurationSpec::Text("250ms".into())),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            r(DurationSpec::Text("1.5s".into())),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            r(DurationSpec::Text("2m".into())),
            Some(Duration::from_secs(120))
        );
        assert_eq!(r(DurationSpec::Millis(40)), Some(Duration::from_millis(40)));
    }

    #[test]
    fn rejects_garbage_with_key_name() {
        let e = DurationSpec::Text("soon".into())
            .resolve("timeout", false)
            .unwrap_err();
        assert!(e.to_string().contains("timeout"), "{e}");
        assert!(DurationSpec::Millis(-1).resolve("x", false).is_err());
        assert!(DurationSpec::Text("5".into()).resolve("x", false).is_err());
        assert!(DurationSpec::Text("3d".into()).resolve("x", false).is_err());
        assert!(DurationSpec::Switch(true).resolve("x", true).is_err());
    }

    #[test]
    fn off_only_where_allowed() {
        assert_eq!(
            DurationSpec::Switch(false).resolve("k", true).ok(),
            Some(None)
        );
        assert!(DurationSpec::Switch(false).resolve("k", false).is_err());
        assert_eq!(DurationSpec::Millis(0).resolve("k", true).ok(), Some(None));
    }
}
