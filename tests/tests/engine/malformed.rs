//! Malformed and hostile replies, end to end through a scripted fake node on the real
//! connection path (issue 10, point 6): a reply no real server sends — a 2 GiB bulk header,
//! nesting past the limit, a negative length, garbage, an unsolicited RESP3 push frame, a
//! reply cut off by EOF — must give its call a typed error naming the node (a write:
//! indeterminate, caused by the protocol error), drop the connection, leave the next call
//! working on a fresh connection, never allocate the size a header announces, and never
//! panic. Through a pipeline, the replies before the bad one are kept and every later entry
//! fails in order.
//!
//! Memory is measured two ways: the largest single allocation made by the calling thread
//! (the client parses replies on the thread that calls it), through a counting global
//! allocator that this module installs for the `engine` test binary, and the growth of the
//! process' peak resident set (`VmHWM`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use shardis::{Client, Cmd, Config, Error, ErrorKind, Mode, Value};
use shardis_tests::fake::{Answer, FakeServer};

/// The system allocator, noting the largest size each thread asks for.
struct Tracking;

thread_local! {
    /// Largest allocation (or reallocation target) of this thread since the last reset.
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: no-op while the thread is being torn down.
    let _ = LARGEST.try_with(|l| {
        if size > l.get() {
            l.set(size);
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; noting a size touches
// only a const-initialised thread-local `Cell` (no allocation, no destructor).
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed through.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout` (every allocation is).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: as for `dealloc`; the caller's contract for `realloc` is passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// Far below any size a hostile header announces here (2 GiB, 512 MiB), far above what a
/// call of these tests needs (the read buffer holds at most a few hundred KiB).
const MEMORY_BOUND: u64 = 64 * 1024 * 1024;

/// The process' peak resident set size, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("VmHWM in /proc/self/status")
}

/// Runs `f` on this thread and fails unless it stayed far below the announced sizes: no
/// single allocation of this thread and no growth of the process' peak RSS reach
/// [`MEMORY_BOUND`].
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    LARGEST.with(|l| l.set(0));
    let rss_before = peak_rss();
    let out = f();
    let largest = LARGEST.with(Cell::get) as u64;
    let grown = peak_rss().saturating_sub(rss_before);
    assert!(
        largest < MEMORY_BOUND,
        "{what}: allocated {largest} bytes in one piece"
    );
    assert!(
        grown < MEMORY_BOUND,
        "{what}: peak RSS grew by {grown} bytes"
    );
    out
}

/// One kind of bad reply.
struct Case {
    name: &'static str,
    /// What the fake sends instead of the reply.
    reply: fn() -> Vec<u8>,
    /// Close the connection after sending it.
    close: bool,
    /// A fragment the error message must contain.
    says: &'static str,
}

fn huge_bulk() -> Vec<u8> {
    // 2 GiB - 1 announced, three bytes of it sent; the connection stays open.
    b"$2147483647\r\nabc".to_vec()
}

fn deep_nesting() -> Vec<u8> {
    [b"*1\r\n".repeat(1100), b":1\r\n".to_vec()].concat()
}

fn negative_array() -> Vec<u8> {
    b"*-5\r\n".to_vec()
}

fn garbage_text() -> Vec<u8> {
    b"hello\r\n".to_vec()
}

/// `n` pseudo-random bytes (a fixed LCG: the same bytes every run).
fn noise(n: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect()
}

fn random_binary() -> Vec<u8> {
    let mut bytes = noise(512);
    // The first byte decides how a parser reads the rest: make it one that is no RESP type
    // (binary behind a valid type byte is `endless_line`).
    bytes[0] = 0xc3;
    bytes
}

fn endless_line() -> Vec<u8> {
    // A valid type byte, then 80 KB of binary without a newline: the status line never ends.
    let mut bytes = vec![b'+'];
    bytes.extend(noise(80_000).into_iter().filter(|&b| b != b'\n'));
    bytes
}

fn push_frame() -> Vec<u8> {
    // A pub/sub message pushed where the reply belongs, then the reply itself.
    b">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$5\r\nhello\r\n+OK\r\n".to_vec()
}

fn cut_reply() -> Vec<u8> {
    b"$10\r\nabc".to_vec()
}

fn cut_max_bulk() -> Vec<u8> {
    // The largest bulk the parser accepts (512 MiB): it waits for the bytes, which never
    // come — the server closes after three of them.
    b"$536870912\r\nabc".to_vec()
}

const HUGE_BULK: Case = Case {
    name: "2 GiB bulk header",
    reply: huge_bulk,
    close: false,
    says: "too large",
};
const DEEP_NESTING: Case = Case {
    name: "1100 nested arrays",
    reply: deep_nesting,
    close: false,
    says: "nested deeper",
};
const NEGATIVE_ARRAY: Case = Case {
    name: "array length -5",
    reply: negative_array,
    close: false,
    says: "length -5",
};
const GARBAGE_TEXT: Case = Case {
    name: "garbage text",
    reply: garbage_text,
    close: false,
    says: "unknown reply type byte 0x68",
};
const RANDOM_BINARY: Case = Case {
    name: "random binary",
    reply: random_binary,
    close: false,
    says: "unknown reply type byte 0xc3",
};
const ENDLESS_LINE: Case = Case {
    name: "status line without end",
    reply: endless_line,
    close: false,
    says: "64 KiB",
};
const PUSH_FRAME: Case = Case {
    name: "unsolicited push frame",
    reply: push_frame,
    close: false,
    says: "unsolicited push frame",
};
const CUT_REPLY: Case = Case {
    name: "reply cut off",
    reply: cut_reply,
    close: true,
    says: "cut off",
};
const CUT_MAX_BULK: Case = Case {
    name: "512 MiB bulk cut off",
    reply: cut_max_bulk,
    close: true,
    says: "cut off",
};

/// `v:<key>`: what the fake's GET answers for a good key.
fn value_of(key: &str) -> Value {
    Value::Bulk(format!("v:{key}").into_bytes())
}

/// A node that answers requests on keys starting with `bad` with `case`, and every other
/// request normally: GET `k` → `v:k`, INCR → 7, anything else → OK.
fn fake_node(case: &'static Case) -> FakeServer {
    FakeServer::start_answering(move |_| {
        Arc::new(move |cmd: &[Vec<u8>]| {
            let key = cmd.get(1).map(Vec::as_slice).unwrap_or_default();
            if key.starts_with(b"bad") {
                let bytes = (case.reply)();
                return if case.close {
                    Answer::ReplyAndClose(bytes)
                } else {
                    Answer::Reply(bytes)
                };
            }
            Answer::Reply(match cmd[0].to_ascii_uppercase().as_slice() {
                b"GET" => {
                    let v = [b"v:", key].concat();
                    [format!("${}\r\n", v.len()).as_bytes(), &v, b"\r\n"].concat()
                }
                b"INCR" => b":7\r\n".to_vec(),
                _ => b"+OK\r\n".to_vec(),
            })
        })
    })
}

fn client_of(fake: &FakeServer) -> Client {
    // Generous: every case must fail at once; waiting for the deadline would end in a
    // Timeout, which the kind assertions report.
    let config = Config::builder()
        .mode(Mode::RingHash)
        .node(&fake.addr())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    Client::new(config).unwrap()
}

/// The client's connects to the fake so far.
fn connects(c: &Client, fake: &FakeServer) -> u64 {
    c.stats().nodes.get(&fake.addr()).map_or(0, |n| n.connects)
}

/// The connection the fake received its last request on.
fn last_connection(fake: &FakeServer) -> usize {
    fake.requests_by_connection()
        .last()
        .map(|(conn, _)| *conn)
        .expect("a request")
}

/// How many requests on `key` the fake received.
fn sent(fake: &FakeServer, key: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.get(1).is_some_and(|k| k == key.as_bytes()))
        .count()
}

/// `e` is the protocol error of `case` from the fake node (`write`: wrapped as indeterminate).
fn assert_protocol_error(case: &Case, fake: &FakeServer, e: &Error, write: bool) {
    if write {
        assert_eq!(e.kind(), ErrorKind::Indeterminate, "{}: {e}", case.name);
        assert_eq!(e.cause(), Some(ErrorKind::Protocol), "{}: {e}", case.name);
    } else {
        assert_eq!(e.kind(), ErrorKind::Protocol, "{}: {e}", case.name);
    }
    assert_eq!(e.node(), Some(fake.addr().as_str()), "{}: {e}", case.name);
    assert!(e.message().contains(case.says), "{}: {e}", case.name);
}

/// The whole single-call story of one case: a read and a write each get the typed error,
/// were sent once, cost their connection, and the next call succeeds on a new one; memory
/// stays bounded throughout.
fn bad_reply_fails_its_call_and_only_its_connection(case: &'static Case) {
    let fake = fake_node(case);
    let c = client_of(&fake);
    // A pooled connection, as in steady state.
    assert_eq!(c.query(["GET", "good:1"]).unwrap(), value_of("good:1"));
    let warm = last_connection(&fake);
    let connects_before = connects(&c, &fake);

    // A read gets a protocol error and is not retried.
    let e = bounded(case.name, || c.query(["GET", "bad:read"])).unwrap_err();
    assert_protocol_error(case, &fake, &e, false);
    assert_eq!(sent(&fake, "bad:read"), 1, "{}: read repeated", case.name);
    assert_eq!(
        last_connection(&fake),
        warm,
        "{}: the bad reply came on the pooled connection",
        case.name
    );
    // The connection was dropped: the next call succeeds on a new one.
    assert_eq!(c.query(["GET", "good:2"]).unwrap(), value_of("good:2"));
    let second = last_connection(&fake);
    assert_ne!(second, warm, "{}: connection reused", case.name);
    assert_eq!(fake.connections(), 2, "{}", case.name);
    assert_eq!(connects(&c, &fake), connects_before + 1, "{}", case.name);

    // A write: it reached the server, so the protocol error makes it indeterminate.
    let e = bounded(case.name, || c.query(["SET", "bad:write", "v"])).unwrap_err();
    assert_protocol_error(case, &fake, &e, true);
    assert_eq!(sent(&fake, "bad:write"), 1, "{}: write repeated", case.name);
    assert_eq!(last_connection(&fake), second, "{}", case.name);
    assert_eq!(c.query(["SET", "good:3", "v"]).unwrap(), Value::Okay);
    assert_ne!(
        last_connection(&fake),
        second,
        "{}: connection reused",
        case.name
    );
    assert_eq!(fake.connections(), 3, "{}", case.name);
    assert_eq!(connects(&c, &fake), connects_before + 2, "{}", case.name);
}

/// Through a pipeline on one node: the entries before the bad reply keep their replies, the
/// bad one and every later one fail in order (reads: protocol; writes: indeterminate),
/// nothing is sent twice, and the next call succeeds on a new connection.
fn pipeline_keeps_earlier_replies_and_fails_the_rest(case: &'static Case) {
    let fake = fake_node(case);
    let c = client_of(&fake);
    assert_eq!(
        c.query(["GET", "good:warm"]).unwrap(),
        value_of("good:warm")
    );
    let warm = last_connection(&fake);
    let cmds = [
        Cmd::from_args(["SET", "good:a", "1"]),
        Cmd::from_args(["GET", "good:a"]),
        Cmd::from_args(["INCR", "good:n"]),
        Cmd::from_args(["GET", "bad:p"]),
        Cmd::from_args(["GET", "good:b"]),
        Cmd::from_args(["SET", "good:c", "1"]),
        Cmd::from_args(["INCR", "good:m"]),
    ];
    let replies = bounded(case.name, || c.pipeline(&cmds));
    assert_eq!(replies.len(), cmds.len(), "{}", case.name);
    assert_eq!(replies[0], Ok(Value::Okay), "{}", case.name);
    assert_eq!(replies[1], Ok(value_of("good:a")), "{}", case.name);
    assert_eq!(replies[2], Ok(Value::Int(7)), "{}", case.name);
    for (i, write) in [(3, false), (4, false), (5, true), (6, true)] {
        let e = match &replies[i] {
            Err(e) => e,
            Ok(v) => panic!("{}: entry {i} got {v:?}", case.name),
        };
        assert_protocol_error(case, &fake, e, write);
    }
    // Everything went out once, in one batch on the pooled connection; nothing retried.
    let log = fake.requests_by_connection();
    assert!(log.iter().all(|(conn, _)| *conn == warm), "{}", case.name);
    assert_eq!(sent(&fake, "good:a"), 2, "{}", case.name);
    assert_eq!(sent(&fake, "good:n"), 1, "{}", case.name);
    assert_eq!(sent(&fake, "bad:p"), 1, "{}", case.name);
    // After a close the fake discards what follows unanswered: at most once each.
    for key in ["good:b", "good:c", "good:m"] {
        assert!(sent(&fake, key) <= 1, "{}: {key}", case.name);
    }
    // The connection was dropped; the next call succeeds on a new one.
    assert_eq!(
        c.query(["GET", "good:after"]).unwrap(),
        value_of("good:after")
    );
    assert_ne!(
        last_connection(&fake),
        warm,
        "{}: connection reused",
        case.name
    );
    assert_eq!(fake.connections(), 2, "{}", case.name);
}

#[test]
fn a_2_gib_bulk_header_is_a_protocol_error_and_is_never_allocated() {
    bad_reply_fails_its_call_and_only_its_connection(&HUGE_BULK);
}

#[test]
fn nesting_1100_deep_is_a_protocol_error() {
    bad_reply_fails_its_call_and_only_its_connection(&DEEP_NESTING);
}

#[test]
fn a_negative_array_length_is_a_protocol_error() {
    bad_reply_fails_its_call_and_only_its_connection(&NEGATIVE_ARRAY);
}

#[test]
fn garbage_text_is_a_protocol_error() {
    bad_reply_fails_its_call_and_only_its_connection(&GARBAGE_TEXT);
}

#[test]
fn random_binary_is_a_protocol_error() {
    bad_reply_fails_its_call_and_only_its_connection(&RANDOM_BINARY);
}

#[test]
fn a_status_line_that_never_ends_is_a_protocol_error() {
    bad_reply_fails_its_call_and_only_its_connection(&ENDLESS_LINE);
}

#[test]
fn an_unsolicited_push_frame_is_a_protocol_error_not_a_reply() {
    bad_reply_fails_its_call_and_only_its_connection(&PUSH_FRAME);
}

#[test]
fn a_reply_cut_off_by_eof_is_a_protocol_error() {
    bad_reply_fails_its_call_and_only_its_connection(&CUT_REPLY);
}

#[test]
fn a_512_mib_bulk_cut_off_by_eof_is_a_protocol_error_and_is_never_allocated() {
    bad_reply_fails_its_call_and_only_its_connection(&CUT_MAX_BULK);
}

#[test]
fn pipeline_keeps_replies_before_a_malformed_one_and_fails_the_rest_in_order() {
    for case in [
        &HUGE_BULK,
        &DEEP_NESTING,
        &NEGATIVE_ARRAY,
        &GARBAGE_TEXT,
        &RANDOM_BINARY,
        &ENDLESS_LINE,
        &PUSH_FRAME,
    ] {
        pipeline_keeps_earlier_replies_and_fails_the_rest(case);
    }
}

#[test]
fn pipeline_keeps_replies_before_a_cut_off_one_and_fails_the_rest_in_order() {
    for case in [&CUT_REPLY, &CUT_MAX_BULK] {
        pipeline_keeps_earlier_replies_and_fails_the_rest(case);
    }
}
