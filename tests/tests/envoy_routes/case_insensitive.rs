//! `case_insensitive.yaml`: case-insensitive prefixes ("Sess:" with remove_prefix, the
//! longer "SESS:Long:" with key_formatter "s-%KEY%-x", "Tag:" with remove_prefix and
//! "{%KEY%}"), a MAGLEV catch-all with hash_key names, hash tags off.

use crate::{Outcome, Topology, differential, every_server_used, fixture, script};

/// Every route in several cases, a near miss ("Sess:Lon" is not "SESS:Long:"), and keys
/// no route takes. "sess:" and "SESS:" both strip to the same stored names.
const PREFIXES: &[&str] = &[
    "sess:",
    "SESS:",
    "sEsS:",
    "sess:long:",
    "SESS:LONG:",
    "Sess:Lon",
    "tag:",
    "TAG:",
    "other:",
    "",
];

#[test]
fn case_insensitive_prefixes_without_hash_tags_place_and_name_keys_as_envoy() {
    let t = Topology::start(&[("sessions", 2), ("longs", 2), ("main", 3)], None);
    let script = script::script(PREFIXES);
    let check = |o: &Outcome| {
        every_server_used(o, &["sessions", "longs", "main"])?;
        let has = |set: &str, key: &[u8]| {
            if o.snapshot.union_of(set).contains_key(key) {
                Ok(())
            } else {
                Err(format!("{}: {set} lacks {}", o.who, crate::show(key)))
            }
        };
        // The prefix is removed by its length whatever the key's case; the formatter
        // sees the key as written.
        has("sessions", b"k1")?;
        has("sessions", b"Lonk1")?;
        has("sessions", b"{k1}")?;
        has("longs", b"s-sess:long:k1-x")?;
        has("longs", b"s-SESS:LONG:k1-x")?;
        has("main", b"other:k1")?;
        has("main", b"k1")
    };
    differential(&t, &fixture("case_insensitive.yaml"), &script, &[], &check);
}
