//! RESP reply parsing straight into [`Value`], from a connection's read buffer.
//!
//! Why not the `redis` crate's parser: its synchronous `Parser` (a `combine` decoder)
//! zero-fills an 8 KiB buffer on every reply; measured with callgrind that was 7 300 of the
//! ~11 600 instructions of a whole shardis GET, and it dominated split commands (an MGET of
//! 100 keys over 100 cluster slots is 100 replies). This parser works on bytes already in
//! the connection's buffer, allocates only the values themselves, and is bounded: nesting
//! depth, bulk length and declared element counts are limited, so a malformed or hostile
//! reply is a protocol error, never a crash or an unbounded allocation (RELIABILITY.md,
//! "Bad input").

use crate::reply::Value;

/// Deepest nesting accepted (the `redis` crate allows 100; Redis itself never nests deeper
/// than a few levels).
pub(crate) const MAX_DEPTH: usize = 128;
/// Longest bulk string accepted: Redis' `proto-max-bulk-len` default (512 MiB).
pub(crate) const MAX_BULK: usize = 512 * 1024 * 1024;
/// Elements reserved up front, whatever an array header claims (it grows as elements come).
const MAX_PREALLOC: usize = 1024;

/// Why a reply cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProtocolError(pub String);

/// A reply, or an error reply.
pub(crate) type Reply = Result<Value, String>;

/// The outcome of [`parse`].
#[derive(Debug, PartialEq)]
pub(crate) enum Parsed {
    /// A whole reply and the bytes it used.
    Done(Reply, usize),
    /// Incomplete: at least this many more bytes are needed before parsing again can
    /// succeed (so a big reply arriving in many reads is not re-parsed after every read).
    Need(usize),
}

/// Parse one reply from the start of `buf`.
pub(crate) fn parse(buf: &[u8]) -> Result<Parsed, ProtocolError> {
    let mut p = Parser {
        buf,
        pos: 0,
        need: 1,
    };
    match p.value(0)? {
        Some(v) => Ok(Parsed::Done(v, p.pos)),
        None => Ok(Parsed::Need(p.need.max(1))),
    }
}

/// The smallest encoding of one element (`_\r\n`, `+\r\n`): a lower bound per missing
/// element (an overestimate would leave a valid reply unparsed until the deadline).
const MIN_ELEMENT: usize = 3;

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    /// When incomplete: a lower bound of the missing bytes.
    need: usize,
}

fn bad(what: impl Into<String>) -> ProtocolError {
    ProtocolError(what.into())
}

impl Parser<'_> {
    /// The next CRLF-terminated line (without the CRLF), or None if incomplete.
    fn line(&mut self) -> Result<Option<&[u8]>, ProtocolError> {
        let rest = &self.buf[self.pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            if rest.len() > 64 * 1024 {
                return Err(bad("line longer than 64 KiB without a newline"));
            }
            return Ok(None);
        };
        if nl == 0 || rest[nl - 1] != b'\r' {
            return Err(bad("line not terminated by CRLF"));
        }
        self.pos += nl + 1;
        Ok(Some(&rest[..nl - 1]))
    }

    fn integer(line: &[u8]) -> Result<i64, ProtocolError> {
        let invalid = || {
            bad(format!(
                "invalid integer {:?}",
                String::from_utf8_lossy(line)
            ))
        };
        let (negative, digits) = match line.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, line),
        };
        if digits.is_empty() || digits.len() > 19 {
            return Err(invalid());
        }
        let mut n: i64 = 0;
        for &d in digits {
            if !d.is_ascii_digit() {
                return Err(invalid());
            }
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(i64::from(d - b'0')))
                .ok_or_else(invalid)?;
        }
        Ok(if negative { -n } else { n })
    }

    fn length(line: &[u8], what: &str) -> Result<Option<usize>, ProtocolError> {
        match Parser::integer(line)? {
            -1 => Ok(None),
            n if n < -1 => Err(bad(format!("invalid {what} length {n}"))),
            n => Ok(Some(n as usize)),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Option<Reply>, ProtocolError> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("reply nested deeper than {MAX_DEPTH}")));
        }
        let Some(&kind) = self.buf.get(self.pos) else {
            return Ok(None);
        };
        // Judge the type byte before waiting for its line: a hostile or confused server that
        // sends garbage without a newline gets a protocol error now, not after the deadline.
        match kind {
            // A RESP3 push frame is out-of-band data (pub/sub messages, client tracking
            // invalidations), never the answer to a request: taking it as an array would
            // hand the caller someone else's data (G4). Pub/sub will read push frames on its
            // own connections, with its own entry point; a request connection rejects them.
            b'>' => return Err(bad("unsolicited push frame where a reply was expected")),
            b'+' | b'-' | b':' | b'$' | b'=' | b'*' | b'~' | b'%' | b'_' | b'#' | b',' | b'(' => {}
            other => return Err(bad(format!("unknown reply type byte 0x{other:02x}"))),
        }
        self.pos += 1;
        let Some(line) = self.line()? else {
            return Ok(None);
        };
        Ok(Some(match kind {
            b'+' if line == b"OK" => Ok(Value::Okay),
            b'+' => Ok(Value::Status(String::from_utf8_lossy(line).into_owned())),
            b'-' => Err(String::from_utf8_lossy(line).into_owned()),
            b':' => Ok(Value::Int(Parser::integer(line)?)),
            b'$' | b'=' => match Parser::length(line, "bulk")? {
                None => Ok(Value::Nil),
                Some(n) if n > MAX_BULK => {
                    return Err(bad(format!("bulk string of {n} bytes is too large")));
                }
                Some(n) => {
                    let start = self.pos;
                    let end = start + n;
                    if self.buf.len() < end + 2 {
                        self.need = end + 2 - self.buf.len();
                        return Ok(None);
                    }
                    if &self.buf[end..end + 2] != b"\r\n" {
                        return Err(bad("bulk string not terminated by CRLF"));
                    }
                    self.pos = end + 2;
                    Ok(Value::Bulk(self.buf[start..end].to_vec()))
                }
            },
            b'*' | b'~' => match Parser::length(line, "array")? {
                None => Ok(Value::Nil),
                Some(n) => {
                    let mut items = Vec::with_capacity(n.min(MAX_PREALLOC));
                    for k in 0..n {
                        match self.value(depth + 1)? {
                            None => {
                                self.need = self
                                    .need
                                    .saturating_add((n - k - 1).saturating_mul(MIN_ELEMENT));
                                return Ok(None);
                            }
                            Some(Ok(v)) => items.push(v),
                            Some(Err(e)) => items.push(Value::Error(e)),
                        }
                    }
                    Ok(Value::Array(items))
                }
            },
            b'%' => match Parser::length(line, "map")? {
                None => Ok(Value::Nil),
                Some(n) => {
                    let mut entries = Vec::with_capacity(n.min(MAX_PREALLOC));
                    for _ in 0..n {
                        let Some(k) = self.value(depth + 1)? else {
                            return Ok(None);
                        };
                        let Some(v) = self.value(depth + 1)? else {
                            return Ok(None);
                        };
                        entries.push((
                            k.unwrap_or_else(Value::Error),
                            v.unwrap_or_else(Value::Error),
                        ));
                    }
                    Ok(Value::Map(entries))
                }
            },
            b'_' => Ok(Value::Nil),
            b'#' => match line {
                b"t" => Ok(Value::Boolean(true)),
                b"f" => Ok(Value::Boolean(false)),
                _ => return Err(bad("invalid boolean")),
            },
            b',' => std::str::from_utf8(line)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .map(|d| Ok(Value::Double(d)))
                .ok_or_else(|| bad("invalid double"))?,
            b'(' => Ok(Value::Bulk(line.to_vec())),
            other => return Err(bad(format!("unknown reply type byte 0x{other:02x}"))),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Reply {
        match parse(bytes).unwrap() {
            Parsed::Done(r, n) => {
                assert_eq!(n, bytes.len(), "consumed everything");
                r
            }
            Parsed::Need(n) => panic!("incomplete, need {n}"),
        }
    }

    #[test]
    fn parses_every_resp2_type() {
        assert_eq!(one(b"+OK\r\n"), Ok(Value::Okay));
        assert_eq!(one(b"+PONG\r\n"), Ok(Value::Status("PONG".into())));
        assert_eq!(one(b"-ERR bad\r\n"), Err("ERR bad".into()));
        assert_eq!(one(b":-42\r\n"), Ok(Value::Int(-42)));
        assert_eq!(one(b":9223372036854775807\r\n"), Ok(Value::Int(i64::MAX)));
        assert_eq!(one(b":0\r\n"), Ok(Value::Int(0)));
        assert_eq!(one(b"$3\r\na\0b\r\n"), Ok(Value::Bulk(b"a\0b".to_vec())));
        assert_eq!(one(b"$0\r\n\r\n"), Ok(Value::Bulk(vec![])));
        assert_eq!(one(b"$-1\r\n"), Ok(Value::Nil));
        assert_eq!(one(b"*-1\r\n"), Ok(Value::Nil));
        assert_eq!(
            one(b"*3\r\n:1\r\n*1\r\n$1\r\nx\r\n-ERR in array\r\n"),
            Ok(Value::Array(vec![
                Value::Int(1),
                Value::Array(vec!["x".into()]),
                Value::Error("ERR in array".into())
            ]))
        );
    }

    #[test]
    fn parses_resp3_types() {
        assert_eq!(one(b",1.5\r\n"), Ok(Value::Double(1.5)));
        assert_eq!(one(b"#t\r\n"), Ok(Value::Boolean(true)));
        assert_eq!(one(b"_\r\n"), Ok(Value::Nil));
        assert_eq!(
            one(b"%1\r\n+a\r\n:1\r\n"),
            Ok(Value::Map(vec![(Value::Status("a".into()), Value::Int(1))]))
        );
    }

    #[test]
    fn every_chunking_gives_the_same_result() {
        let whole: &[u8] = b"*4\r\n$5\r\nhello\r\n:7\r\n*2\r\n+OK\r\n$-1\r\n-WRONGTYPE x\r\n";
        let expected = one(whole);
        for cut in 0..whole.len() {
            match parse(&whole[..cut]).unwrap() {
                Parsed::Need(n) => assert!(cut + n <= whole.len(), "need {n} at {cut} overshoots"),
                Parsed::Done(..) => panic!("complete at {cut}"),
            }
        }
        assert_eq!(parse(whole).unwrap(), Parsed::Done(expected, whole.len()));
        // Two replies back to back: the first consumes only its own bytes.
        let two = [whole, b":1\r\n"].concat();
        let Parsed::Done(_, n) = parse(&two).unwrap() else {
            panic!()
        };
        assert_eq!(&two[n..], b":1\r\n");
    }

    #[test]
    fn malformed_replies_are_protocol_errors() {
        let nested = b"*1\r\n".repeat(MAX_DEPTH + 2);
        for bad in [
            &nested[..],
            b"$9223372036854775807\r\n",
            b"$-2\r\n",
            b":x\r\n",
            b":\r\n",
            b":-\r\n",
            b":9223372036854775808\r\n",
            b":1a\r\n",
            b"+OK\n",
            b"$3\r\nabcXY",
            b"?what\r\n",
            b"*-5\r\n",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn huge_declared_counts_do_not_allocate_up_front() {
        // Claims 4 billion elements but has one: incomplete, and no giant allocation.
        match parse(b"*4294967295\r\n:1\r\n").unwrap() {
            Parsed::Need(n) => assert!(n > 1_000_000_000),
            other => panic!("{other:?}"),
        }
        // A bulk's missing bytes are known exactly.
        assert_eq!(parse(b"$10\r\nabc").unwrap(), Parsed::Need(9));
    }

    fn error_of(bytes: &[u8]) -> String {
        match parse(bytes) {
            Err(ProtocolError(why)) => why,
            Ok(other) => panic!("{:?} parsed as {other:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn push_frames_are_refused_on_a_request_connection() {
        let push = b">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n";
        assert!(error_of(push).contains("unsolicited push frame"));
        // Refused from its first byte (no waiting for the rest), and when followed by the
        // real reply: the push must not be taken for the reply.
        assert!(error_of(b">").contains("unsolicited push frame"));
        assert!(error_of(&[&push[..], b"+OK\r\n"].concat()).contains("unsolicited push frame"));
        // Nested in a reply it is just as wrong.
        assert!(error_of(b"*2\r\n:1\r\n>1\r\n:2\r\n").contains("unsolicited push frame"));
    }

    #[test]
    fn unknown_type_bytes_are_refused_before_a_newline_arrives() {
        for garbage in [
            &b"hello\r\n"[..],
            b"h",
            b"\x00\xff\x13\x80",
            b"\r\n",
            b" +OK\r\n",
        ] {
            assert!(
                error_of(garbage).contains("unknown reply type byte"),
                "{garbage:?}"
            );
        }
        // A known type byte whose line never ends is refused once it is absurdly long.
        let mut long = b"+".to_vec();
        long.resize(64 * 1024 + 2, b'x');
        assert!(error_of(&long).contains("64 KiB"));
    }

    #[test]
    fn nesting_limit_is_exact() {
        let nested = |levels: usize| [b"*1\r\n".repeat(levels), b":1\r\n".to_vec()].concat();
        let deepest = nested(MAX_DEPTH);
        assert!(matches!(one(&deepest), Ok(Value::Array(_))));
        assert!(error_of(&nested(MAX_DEPTH + 1)).contains("nested deeper"));
        assert!(error_of(&nested(1100)).contains("nested deeper"));
        // Refused as soon as the limit is crossed, whatever follows.
        assert!(error_of(&b"*1\r\n".repeat(MAX_DEPTH + 1)).contains("nested deeper"));
        assert!(error_of(&b"%1\r\n".repeat(MAX_DEPTH + 1)).contains("nested deeper"));
    }

    #[test]
    fn bulk_lengths_are_bounded_without_allocating_the_announced_size() {
        assert!(error_of(b"$2147483647\r\n").contains("too large"));
        assert!(error_of(format!("${}\r\n", MAX_BULK + 1).as_bytes()).contains("too large"));
        assert!(error_of(format!("={}\r\n", MAX_BULK + 1).as_bytes()).contains("too large"));
        // The largest accepted bulk only waits for its bytes.
        assert_eq!(
            parse(format!("${MAX_BULK}\r\nabc").as_bytes()).unwrap(),
            Parsed::Need(MAX_BULK - 3 + 2)
        );
    }

    #[test]
    fn negative_lengths_other_than_minus_one_are_refused() {
        for bad in [
            &b"*-5\r\n"[..],
            b"*-2\r\n",
            b"~-3\r\n",
            b"%-2\r\n",
            b"$-2\r\n",
            b"=-7\r\n",
            b"*-9223372036854775807\r\n",
        ] {
            assert!(error_of(bad).contains("length"), "{bad:?}");
        }
        assert_eq!(one(b"%-1\r\n"), Ok(Value::Nil));
        assert_eq!(one(b"~-1\r\n"), Ok(Value::Nil));
    }
}
