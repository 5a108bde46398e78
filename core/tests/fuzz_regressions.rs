//! Replays the fuzz targets' seeds (`fuzz/seeds/<target>/`) and the inputs that once made a
//! target fail (`fuzz/regressions/<target>/`) through the same oracles, decoded exactly as
//! the targets decode them (`fuzz/src/lib.rs`, included here), on the stable toolchain.
//! Any panic fails the test, naming the files; the panic messages are in its output.
#![allow(clippy::unwrap_used, clippy::panic)]

#[path = "../../fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};

/// The fuzz project: `fuzz/` at the repository root.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("fuzz")
}

/// Runs every input of `target`; fails naming the files that panicked.
fn replay(target: &str) {
    let run = targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|&(_, run)| run)
        .unwrap();
    let fuzz = fuzz_dir();
    let mut inputs: Vec<PathBuf> = Vec::new();
    for folder in ["seeds", "regressions"] {
        // A target without regressions has no folder there.
        let Ok(entries) = std::fs::read_dir(fuzz.join(folder).join(target)) else {
            continue;
        };
        inputs.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
    }
    assert!(!inputs.is_empty(), "no seeds for fuzz target {target}");
    inputs.sort();
    let failed: Vec<String> = inputs
        .iter()
        .filter(|path| {
            let input = std::fs::read(path).unwrap();
            std::panic::catch_unwind(|| run(&input)).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "fuzz target {target}: {} of {} inputs panicked: {failed:#?}",
        failed.len(),
        inputs.len()
    );
}

#[test]
fn resp() {
    replay("resp");
}

#[test]
fn cluster_shards() {
    replay("cluster_shards");
}

#[test]
fn cluster_slots() {
    replay("cluster_slots");
}

#[test]
fn redirect() {
    replay("redirect");
}

#[test]
fn config_text() {
    replay("config_text");
}

#[test]
fn command_keys() {
    replay("command_keys");
}

#[test]
fn every_target_is_replayed() {
    let names: Vec<&str> = targets::TARGETS.iter().map(|(name, _)| *name).collect();
    let mut binaries: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_owned()))
        .collect();
    binaries.sort();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(binaries, sorted, "fuzz/fuzz_targets/ and TARGETS differ");
}

#[test]
fn prefix_routes() {
    replay("prefix_routes");
}

#[test]
fn envoy_yaml() {
    replay("envoy_yaml");
}
