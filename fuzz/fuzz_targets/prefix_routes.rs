//! Fuzz target `prefix_routes`: see `shardis_fuzz::prefix_routes` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::prefix_routes(input));
