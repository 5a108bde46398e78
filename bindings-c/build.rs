//! Generates shardis.h into OUT_DIR with cbindgen (the committed include/shardis.h must match;
//! see tests/header.rs), and gives libshardis.so its SONAME.

use std::process::exit;

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // Programs record libshardis.so.0: an incompatible ABI gets a new major number.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libshardis.so.0");
    // A broken config or a failed generation must fail the build: a stale header left in
    // OUT_DIR would otherwise pass the header check.
    let config = match cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bindings-c/cbindgen.toml: {e}");
            exit(1);
        }
    };
    match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(bindings) => {
            bindings.write_to_file(format!("{out}/shardis.h"));
        }
        Err(e) => {
            eprintln!("cbindgen could not generate shardis.h: {e}");
            exit(1);
        }
    }
}
