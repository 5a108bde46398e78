//! `mirror.yaml`: "mi:" mirrored at 100 % (exclude_read_commands) to `mirror` and at 0 %
//! to `never`; "ro:" (remove_prefix) reading from `reads`; an ERROR fault on every STRLEN.
//! Envoy's mirror draw is random, so only 0 % and 100 % are comparable.

use crate::script::{self, Command, cmd};
use crate::{Outcome, Topology, differential, every_server_used, fixture};

const PREFIXES: &[&str] = &["mi:", "ro:", "RO:", "c:", ""];

/// The read backend's own keys (as stored: "ro:" is removed).
const SEEDS: &[(&str, &str, &str)] = &[
    ("reads.0", "k1", "seed-k1"),
    ("reads.0", "{t1}a", "seed-t1a"),
    ("reads.0", "m:k1", "seed-mk1"),
];

fn full_script() -> Vec<Command> {
    let mut s = script::script(PREFIXES);
    for p in PREFIXES {
        let k = format!("{p}k1");
        s.push(cmd([b"STRLEN", k.as_bytes()]));
        s.push(cmd([b"GET", k.as_bytes()]));
    }
    s
}

/// The mirror holds exactly the "mi:" keys of `main`; `never` holds nothing; `reads`
/// only its seeds.
fn mirrored(o: &Outcome) -> Result<(), String> {
    every_server_used(o, &["main", "mirror"])?;
    let main: std::collections::BTreeMap<_, _> = o
        .snapshot
        .union_of("main")
        .into_iter()
        .filter(|(k, _)| k.starts_with(b"mi:"))
        .collect();
    let mirror = o.snapshot.union_of("mirror");
    if main.is_empty() || mirror != main {
        return Err(format!(
            "{}: mirror holds {:?}, main's mi: keys are {:?}",
            o.who,
            mirror.keys().map(|k| crate::show(k)).collect::<Vec<_>>(),
            main.keys().map(|k| crate::show(k)).collect::<Vec<_>>()
        ));
    }
    if o.snapshot.union_of("never").len() + o.snapshot.union_of("reads").len() != SEEDS.len() {
        return Err(format!("{}: never/reads were written to", o.who));
    }
    Ok(())
}

#[test]
fn mirrored_writes_reads_from_a_read_backend_and_an_error_fault_match_envoy() {
    let t = Topology::start(
        &[("main", 2), ("mirror", 2), ("never", 1), ("reads", 1)],
        None,
    );
    let script = full_script();
    let (envoy, ours) = differential(&t, &fixture("mirror.yaml"), &script, SEEDS, &mirrored);
    for o in [&envoy, &ours] {
        let who = o.who;
        for read in ["get", "mget", "hgetall", "ttl", "exists", "strlen"] {
            assert_eq!(
                o.calls_on("mirror", read),
                0,
                "{who}: {read} reached the mirror"
            );
        }
        for write in ["set", "incr", "hset", "expire", "eval", "del"] {
            assert!(
                o.calls_on("mirror", write) > 0,
                "{who}: no {write} on the mirror"
            );
        }
        for (label, calls) in &o.calls {
            if label.starts_with("never.") {
                assert!(calls.is_empty(), "{who}: the 0 % mirror received {calls:?}");
            }
        }
        // Reads of "ro:" keys came from `reads`, writes never went there.
        assert!(o.calls_on("reads", "get") > 0, "{who}: no read on reads");
        assert!(
            o.calls_on("reads", "hgetall") > 0,
            "{who}: no read on reads"
        );
        assert_eq!(
            o.calls_on("reads", "set"),
            SEEDS.len() as u64,
            "{who}: writes on reads"
        );
        for write in ["incr", "hset", "expire", "eval", "del"] {
            assert_eq!(o.calls_on("reads", write), 0, "{who}: {write} on reads");
        }
        // The fault: no STRLEN reached any server, each answered Envoy's text.
        let strlen: u64 = o
            .calls
            .values()
            .map(|m| m.get("strlen").copied().unwrap_or(0))
            .sum();
        assert_eq!(strlen, 0, "{who}: a faulted STRLEN was sent");
    }
    let faulted: Vec<_> = script
        .iter()
        .zip(&envoy.replies)
        .filter(|(c, _)| c[0] == b"STRLEN")
        .map(|(_, r)| r.clone())
        .collect();
    assert_eq!(faulted.len(), PREFIXES.len());
    assert!(
        faulted
            .iter()
            .all(|r| *r == crate::Reply::Error("Fault Injected: Error".into())),
        "{faulted:?}"
    );
}
