//! `cluster.yaml`: a Redis Cluster backend (3 primaries) behind "rc:", the longer
//! "rc:strip:" (remove_prefix) and "rct:" (key_formatter "{%KEY%}": the slot is then that
//! of the whole key, or of the tag's first part), a standalone RING_HASH catch-all.

use crate::{Outcome, Topology, differential, every_server_used, fixture, script};

const PREFIXES: &[&str] = &["rc:", "rc:strip:", "rct:", "rc", "x:", ""];

#[test]
fn a_redis_cluster_backend_behind_prefix_routes_places_and_names_keys_as_envoy() {
    let t = Topology::start(&[("single", 1)], Some(("rc", 3)));
    let script = script::script(PREFIXES);
    let check = |o: &Outcome| {
        every_server_used(o, &["rc", "single"])?;
        let has = |set: &str, key: &[u8]| {
            if o.snapshot.union_of(set).contains_key(key) {
                Ok(())
            } else {
                Err(format!("{}: {set} lacks {}", o.who, crate::show(key)))
            }
        };
        has("rc", b"rc:k1")?;
        has("rc", b"{t1}a")?;
        has("rc", b"{rct:{t1}a}")?;
        has("single", b"rck1")?;
        has("single", b"x:k1")
    };
    differential(&t, &fixture("cluster.yaml"), &script, &[], &check);
}
