//! How long a blocking command may legitimately wait on the server (`BLPOP k 5`,
//! `XREAD BLOCK 2000 …`, `WAIT 1 100`): the call's deadline is stretched by that much, so a
//! blocking timeout longer than `timeout` is not cut short — which for a popping command would
//! leave an element popped on the server with nobody to receive it. A zero (block forever)
//! or unreadable timeout stretches nothing: the call's `timeout` still bounds it.

use std::time::Duration;

use super::Cmd;
use super::table::{CommandSpec, flag};

/// The longest legitimate server-side wait of `cmd` (zero for nearly every command: one
/// flag test on the hot path).
#[inline]
pub(crate) fn server_wait(spec: &CommandSpec, cmd: &Cmd) -> Duration {
    // WAIT / WAITAOF are not flagged `blocking` by the server, but do wait.
    if !spec.has(flag::BLOCKING) && !spec.name.starts_with("wait") {
        return Duration::ZERO;
    }
    blocking_wait(spec, cmd)
}

#[cold]
fn blocking_wait(spec: &CommandSpec, cmd: &Cmd) -> Duration {
    let last = cmd.len().saturating_sub(1);
    let wait = match spec.name {
        // … key [key …] timeout (seconds, may be fractional)
        "blpop" | "brpop" | "brpoplpush" | "blmove" | "bzpopmin" | "bzpopmax" => {
            seconds(cmd.get(last))
        }
        // timeout numkeys key [key …] …
        "blmpop" | "bzmpop" => seconds(cmd.get(1)),
        // … BLOCK milliseconds …
        "xread" | "xreadgroup" => (1..cmd.len())
            .find(|&i| cmd.get(i).is_some_and(|a| a.eq_ignore_ascii_case(b"BLOCK")))
            .and_then(|i| millis(cmd.get(i + 1))),
        // WAIT numreplicas timeout / WAITAOF numlocal numreplicas timeout (milliseconds)
        "wait" | "waitaof" => millis(cmd.get(last)),
        _ => None,
    };
    wait.unwrap_or(Duration::ZERO)
}

fn seconds(arg: Option<&[u8]>) -> Option<Duration> {
    let s: f64 = std::str::from_utf8(arg?).ok()?.parse().ok()?;
    (s.is_finite() && s > 0.0).then(|| Duration::from_secs_f64(s.min(86_400.0)))
}

fn millis(arg: Option<&[u8]>) -> Option<Duration> {
    let ms: u64 = std::str::from_utf8(arg?).ok()?.parse().ok()?;
    (ms > 0).then(|| Duration::from_millis(ms.min(86_400_000)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::table::lookup;

    fn wait(args: &[&str]) -> Duration {
        let cmd = Cmd::from_args(args);
        server_wait(lookup(args[0].as_bytes()).expect("known command"), &cmd)
    }

    #[test]
    fn blocking_timeouts_are_read_where_each_command_keeps_them() {
        assert_eq!(
            wait(&["BLPOP", "a", "b", "2.5"]),
            Duration::from_millis(2500)
        );
        assert_eq!(
            wait(&["BLMOVE", "a", "b", "LEFT", "RIGHT", "3"]),
            Duration::from_secs(3)
        );
        assert_eq!(
            wait(&["BZMPOP", "1.5", "1", "z", "MIN"]),
            Duration::from_millis(1500)
        );
        assert_eq!(
            wait(&["XREAD", "COUNT", "1", "BLOCK", "700", "STREAMS", "s", "$"]),
            Duration::from_millis(700)
        );
        assert_eq!(wait(&["WAIT", "1", "250"]), Duration::from_millis(250));
    }

    #[test]
    fn forever_unreadable_and_non_blocking_commands_stretch_nothing() {
        assert_eq!(wait(&["BLPOP", "a", "0"]), Duration::ZERO);
        assert_eq!(wait(&["BLPOP", "a", "soon"]), Duration::ZERO);
        assert_eq!(wait(&["XREAD", "STREAMS", "s", "0"]), Duration::ZERO);
        assert_eq!(wait(&["GET", "5"]), Duration::ZERO);
    }
}
