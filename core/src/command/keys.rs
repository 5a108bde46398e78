//! Key extraction: the argument positions of a command's keys, found from the table's
//! Redis 7 key specs the way the server's own `getKeysUsingKeySpecs` finds them, plus
//! `SORT … STORE dest`, whose spec the server leaves "unknown".

use super::Cmd;
use super::table::{BeginSearch, CommandSpec, FindKeys, key_flag};
use crate::error::{Error, ErrorKind, Result};

fn invalid(spec: &CommandSpec, why: &str) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("{why} for '{}' command", spec.name),
    )
}

fn eq_ignore_case(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// Check the arity.
pub fn check_arity(spec: &CommandSpec, cmd: &Cmd) -> Result<()> {
    if spec.arity_ok(cmd.len()) {
        Ok(())
    } else {
        Err(invalid(spec, "wrong number of arguments"))
    }
}

/// Call `f` with the argument index of every key of `cmd`, in argument order per spec.
#[inline]
pub fn for_each_key(spec: &CommandSpec, cmd: &Cmd, mut f: impl FnMut(usize)) -> Result<()> {
    let argc = cmd.len() as i64;
    let mut sort_store_done = false;
    for ks in spec.key_specs {
        let first: i64 = match ks.begin {
            BeginSearch::Index(i) => i64::from(i),
            BeginSearch::Keyword {
                keyword,
                start_from,
            } => match find_keyword(cmd, keyword, i64::from(start_from)) {
                Some(i) => i + 1,
                None => continue,
            },
            BeginSearch::Unknown => {
                if spec.name == "sort" && !sort_store_done {
                    sort_store_key(cmd, &mut f);
                    sort_store_done = true;
                }
                continue;
            }
        };
        if first >= argc {
            continue;
        }
        let (first, last, step) = match ks.find {
            FindKeys::Range {
                last_key,
                key_step,
                limit,
            } => {
                let last = if last_key >= 0 {
                    first + i64::from(last_key)
                } else if limit <= 1 {
                    argc + i64::from(last_key)
                } else {
                    first + ((argc - first) / i64::from(limit) + i64::from(last_key))
                };
                (first, last, i64::from(key_step.max(1)))
            }
            FindKeys::Keynum {
                keynum_idx,
                first_key,
                key_step,
            } => {
                let idx = first + i64::from(keynum_idx);
                let raw = cmd
                    .get(idx as usize)
                    .ok_or_else(|| invalid(spec, "missing numkeys"))?;
                let numkeys: i64 = std::str::from_utf8(raw)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .filter(|n: &i64| *n >= 0)
                    .ok_or_else(|| invalid(spec, "numkeys is not a non-negative integer"))?;
                let start = first + i64::from(first_key);
                let step = i64::from(key_step.max(1));
                if numkeys == 0 {
                    continue;
                }
                // A huge numkeys must not overflow: it is simply more keys than arguments.
                let last = (numkeys - 1)
                    .checked_mul(step)
                    .and_then(|span| span.checked_add(start))
                    .ok_or_else(|| invalid(spec, "wrong number of keys"))?;
                (start, last, step)
            }
            FindKeys::Unknown => continue,
        };
        if last >= argc || last < first {
            if ks.flags & key_flag::INCOMPLETE != 0 && last >= argc {
                let mut i = first;
                while i < argc {
                    f(i as usize);
                    i += step;
                }
                continue;
            }
            if last < first {
                continue;
            }
            return Err(invalid(spec, "wrong number of keys"));
        }
        let mut i = first;
        while i <= last {
            f(i as usize);
            i += step;
        }
    }
    Ok(())
}

fn find_keyword(cmd: &Cmd, keyword: &str, start_from: i64) -> Option<i64> {
    let argc = cmd.len() as i64;
    if start_from >= 0 {
        // The last argument cannot be the keyword: a key must follow it.
        (start_from..argc - 1).find(|&i| {
            cmd.get(i as usize)
                .is_some_and(|a| eq_ignore_case(a, keyword))
        })
    } else {
        let mut i = argc + start_from;
        while i >= 1 {
            if i < argc
                && cmd
                    .get(i as usize)
                    .is_some_and(|a| eq_ignore_case(a, keyword))
            {
                return Some(i);
            }
            i -= 1;
        }
        None
    }
}

/// `SORT key [BY p] [LIMIT o c] [GET p …] [ASC|DESC] [ALPHA] [STORE dest]`: the STORE key.
fn sort_store_key(cmd: &Cmd, f: &mut impl FnMut(usize)) {
    let mut i = 2;
    while let Some(a) = cmd.get(i) {
        if eq_ignore_case(a, "LIMIT") {
            i += 3;
        } else if eq_ignore_case(a, "GET") || eq_ignore_case(a, "BY") {
            i += 2;
        } else if eq_ignore_case(a, "STORE") {
            if cmd.get(i + 1).is_some() {
                f(i + 1);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// Collect key positions into a vector.
pub fn key_positions(spec: &CommandSpec, cmd: &Cmd) -> Result<Vec<usize>> {
    let mut v = Vec::new();
    for_each_key(spec, cmd, |i| v.push(i))?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::table::lookup;

    fn keys(args: &[&str]) -> Vec<String> {
        let cmd = Cmd::from_args(args);
        let spec = lookup(args[0].as_bytes()).unwrap_or_else(|| panic!("{}", args[0]));
        key_positions(spec, &cmd)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .into_iter()
            .map(|i| String::from_utf8_lossy(cmd.get(i).unwrap_or_default()).into_owned())
            .collect()
    }

    #[test]
    fn plain_and_range_keys() {
        assert_eq!(keys(&["GET", "a"]), ["a"]);
        assert_eq!(keys(&["MGET", "a", "b", "c"]), ["a", "b", "c"]);
        assert_eq!(keys(&["MSET", "a", "1", "b", "2"]), ["a", "b"]);
        assert_eq!(keys(&["RENAME", "a", "b"]), ["a", "b"]);
        assert_eq!(keys(&["BLPOP", "a", "b", "0"]), ["a", "b"]);
    }

    #[test]
    fn keynum_and_keyword_keys() {
        assert_eq!(
            keys(&["EVAL", "return 1", "2", "k1", "k2", "arg"]),
            ["k1", "k2"]
        );
        assert!(keys(&["EVAL", "return 1", "0"]).is_empty());
        assert_eq!(
            keys(&["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"]),
            ["d", "a", "b"]
        );
        assert_eq!(
            keys(&["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"]),
            ["s1", "s2"]
        );
        assert_eq!(
            keys(&["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"]),
            ["g", "d"]
        );
    }

    #[test]
    fn sort_store_is_a_key() {
        assert_eq!(
            keys(&["SORT", "l", "BY", "w_*", "LIMIT", "0", "5", "STORE", "dst"]),
            ["l", "dst"]
        );
        assert_eq!(keys(&["SORT", "l", "GET", "store"]), ["l"]);
    }

    #[test]
    fn bad_numkeys_is_an_error_before_sending() {
        let cmd = Cmd::from_args(["EVAL", "s", "x"]);
        let spec = lookup(b"eval").unwrap_or_else(|| panic!("eval"));
        assert_eq!(
            key_positions(spec, &cmd).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let cmd = Cmd::from_args(["EVAL", "s", "3", "a"]);
        assert_eq!(
            key_positions(spec, &cmd).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        // A numkeys whose last key index overflows is the same error, not a wrap-around.
        let cmd = Cmd::from_args(["EVAL", "s", "9223372036854775807", "a"]);
        assert_eq!(
            key_positions(spec, &cmd).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}
