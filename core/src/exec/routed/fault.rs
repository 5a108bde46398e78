//! Fault injection (Envoy's `faults`): before a command is routed, one random draw picks at
//! most one fault among those that apply to it, their fractions adding up (so `[error 10 %,
//! delay 20 %]` gives 10 % errors and 20 % delays). An error fault answers with Envoy's
//! error text, after its delay if it has one, without sending anything; a delay fault sends
//! the command at once and holds the reply (as Envoy). Fractions keep their decimals
//! (Envoy truncates `TEN_THOUSAND`/`MILLION` fractions to whole percent).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::stats::FaultStats;

use crate::command::table::CommandSpec;
use crate::config::FaultKind;
use crate::config::routing::{Fault, NEVER_FAULTED};

/// The error reply of an error fault, as Envoy's.
pub(crate) const FAULT_ERROR_TEXT: &str = "Fault Injected: Error";

/// Fault counters.
#[derive(Debug, Default)]
pub(crate) struct FaultCounters {
    errors: AtomicU64,
    delays: AtomicU64,
}

/// What to do with one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Wait, then answer with the fault error.
    Error(Duration),
    /// Send, then hold the reply this long.
    Delay(Duration),
}

impl FaultCounters {
    /// The fault for a command of `spec`, given a uniform draw in `0..1_000_000`. As
    /// Envoy: the faults that name the command come first, then those for every command,
    /// each in configuration order, their fractions adding up; commands Envoy answers
    /// itself (PING, ECHO, TIME, QUIT, CLIENT, HELLO, AUTH) are never faulted.
    pub(crate) fn choose(
        &self,
        faults: &[Fault],
        spec: &CommandSpec,
        draw: u32,
    ) -> Option<Injected> {
        let name = spec.name.split('|').next().unwrap_or(spec.name);
        if NEVER_FAULTED.contains(&name) {
            return None;
        }
        let named = faults
            .iter()
            .filter(|f| f.commands.iter().any(|c| c == name));
        let general = faults.iter().filter(|f| f.commands.is_empty());
        let mut cumulative = 0u32;
        for f in named.chain(general) {
            cumulative = cumulative.saturating_add(f.fraction.per_million());
            if draw < cumulative {
                return Some(match f.kind {
                    FaultKind::Error => {
                        self.errors.fetch_add(1, Ordering::Relaxed);
                        Injected::Error(f.delay)
                    }
                    FaultKind::Delay => {
                        self.delays.fetch_add(1, Ordering::Relaxed);
                        Injected::Delay(f.delay)
                    }
                });
            }
        }
        None
    }

    /// The figures.
    pub(crate) fn stats(&self) -> FaultStats {
        FaultStats {
            errors: self.errors.load(Ordering::Relaxed),
            delays: self.delays.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn faults(toml: &str) -> Vec<Fault> {
        let c = Config::from_toml_str(&format!(
            "mode = \"jump\"\nnodes = [\"127.0.0.1:1\"]\n{toml}"
        ))
        .unwrap();
        c.routing().unwrap().faults.clone()
    }

    #[test]
    fn faults_naming_the_command_come_before_general_ones() {
        let f = faults(
            r#"
            [[faults]]
            type = "delay"
            fraction = 100
            delay = "1ms"
            [[faults]]
            type = "error"
            fraction = 100
            commands = ["SET"]
            "#,
        );
        let c = FaultCounters::default();
        let set = crate::command::table::lookup(b"set").unwrap();
        let get = crate::command::table::lookup(b"get").unwrap();
        assert_eq!(
            c.choose(&f, set, 999_999),
            Some(Injected::Error(Duration::ZERO))
        );
        assert_eq!(
            c.choose(&f, get, 0),
            Some(Injected::Delay(Duration::from_millis(1)))
        );
    }

    #[test]
    fn fractions_add_up_in_order_and_commands_filter() {
        let f = faults(
            r#"
            [[faults]]
            type = "error"
            fraction = 10
            commands = ["GET"]
            [[faults]]
            type = "delay"
            fraction = 20
            delay = "5ms"
            "#,
        );
        let c = FaultCounters::default();
        let get = crate::command::table::lookup(b"get").unwrap();
        let set = crate::command::table::lookup(b"set").unwrap();
        assert_eq!(c.choose(&f, get, 0), Some(Injected::Error(Duration::ZERO)));
        assert_eq!(
            c.choose(&f, get, 99_999),
            Some(Injected::Error(Duration::ZERO))
        );
        assert_eq!(
            c.choose(&f, get, 100_000),
            Some(Injected::Delay(Duration::from_millis(5)))
        );
        assert_eq!(
            c.choose(&f, get, 299_999),
            Some(Injected::Delay(Duration::from_millis(5)))
        );
        assert_eq!(c.choose(&f, get, 300_000), None);
        // SET is not in the error fault's list: only the delay applies, from 0.
        assert_eq!(
            c.choose(&f, set, 0),
            Some(Injected::Delay(Duration::from_millis(5)))
        );
        assert_eq!(c.choose(&f, set, 200_000), None);
        assert_eq!(
            c.stats(),
            FaultStats {
                errors: 2,
                delays: 3
            }
        );
    }
}
