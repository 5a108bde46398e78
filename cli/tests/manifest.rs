//! The library stays lean (issue 10): the CLI's dependencies (`clap`) live in this crate, not
//! in `shardis`, and every dependency `shardis` declares is used by its sources.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn core_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core")
}

fn core_manifest() -> toml::Table {
    let path = core_dir().join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn core_dependencies() -> Vec<String> {
    match core_manifest().get("dependencies") {
        Some(toml::Value::Table(deps)) => deps.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn sources(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn the_library_neither_depends_on_clap_nor_builds_the_cli() {
    let manifest = core_manifest();
    assert!(
        !core_dependencies().iter().any(|d| d == "clap"),
        "clap belongs to shardis-cli"
    );
    assert!(
        manifest.get("bin").is_none(),
        "the `shardis` binary is built by shardis-cli"
    );
    assert!(!core_dir().join("src/bin").exists());
}

#[test]
fn every_library_dependency_is_used() {
    let mut text = String::new();
    sources(&core_dir().join("src"), &mut text);
    let deps = core_dependencies();
    assert!(deps.iter().any(|d| d == "serde"), "{deps:?}");
    let unused: Vec<&String> = deps
        .iter()
        .filter(|dep| {
            // A package's library name: `-` becomes `_` (`arc-swap` → `arc_swap`), or is
            // dropped (`md-5` → `md5`).
            let names = [dep.replace('-', "_"), dep.replace('-', "")];
            !names.iter().any(|n| text.contains(&format!("{n}::")))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "declared by core/Cargo.toml, unused in core/src: {unused:?}"
    );
}
