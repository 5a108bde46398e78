//! Fuzz target `cluster_shards`: see `shardis_fuzz::cluster_shards` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::cluster_shards(input));
