//! The committed header is what cbindgen generates from the current sources.

#[test]
fn header_is_current() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/shardis.h"))
        .expect("build.rs wrote shardis.h into OUT_DIR");
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/shardis.h"))
            .expect("bindings-c/include/shardis.h exists");
    assert!(
        generated == committed,
        "bindings-c/include/shardis.h is stale: copy {}/shardis.h over it and commit",
        env!("OUT_DIR")
    );
}
