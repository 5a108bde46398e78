//! `prefixes.yaml`: "user:" and the longer "user:admin:" (remove_prefix), "cache:"
//! (remove_prefix + key_formatter "{%KEY%}"), a catch-all with key_formatter "pre-%KEY%";
//! weighted RING_HASH (XX_HASH; MURMUR_HASH_2 with hash_key names and a 2048 ring) and
//! weighted MAGLEV; hash tags on.

use crate::{Outcome, Topology, differential, every_server_used, fixture, script};

/// Each route, a key that is a prefix of a longer route's prefix ("user:adm"), a prefix in
/// another case ("Cache:" is not "cache:"), and keys no route takes.
const PREFIXES: &[&str] = &[
    "user:",
    "user:admin:",
    "user:adm",
    "cache:",
    "Cache:",
    "plain:",
    "",
];

#[test]
fn prefix_routes_remove_prefix_key_formatter_and_catch_all_place_and_name_keys_as_envoy() {
    let t = Topology::start(&[("users", 3), ("admins", 2), ("main", 3)], None);
    let script = script::script(PREFIXES);
    let check = |o: &Outcome| {
        every_server_used(o, &["users", "admins", "main"])?;
        let has = |set: &str, key: &[u8]| {
            if o.snapshot.union_of(set).contains_key(key) {
                Ok(())
            } else {
                Err(format!("{}: {set} lacks {}", o.who, crate::show(key)))
            }
        };
        // As Envoy names them: the longest prefix wins; remove_prefix, then key_formatter;
        // the catch-all's key_formatter applies too.
        has("users", b"user:k1")?;
        has("users", b"user:admk1")?;
        has("admins", b"k1")?;
        has("admins", b"{k1}")?;
        has("admins", b"{{t1}a}")?;
        has("main", b"pre-k1")?;
        has("main", b"pre-Cache:k1")?;
        has("main", b"pre-plain:{t1}a")
    };
    let (envoy, _) = differential(&t, &fixture("prefixes.yaml"), &script, &[], &check);
    assert!(envoy.snapshot.total() > 100, "{}", envoy.snapshot.total());
}
