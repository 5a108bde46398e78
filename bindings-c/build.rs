//! Generates shardis.h into OUT_DIR with cbindgen (the committed include/shardis.h must match;
//! see tests/header.rs).

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config =
        cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml")).unwrap_or_default();
    match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(bindings) => {
            bindings.write_to_file(format!("{out}/shardis.h"));
        }
        Err(e) => println!("cargo:warning=cbindgen could not generate shardis.h: {e}"),
    }
}
