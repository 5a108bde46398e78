//! Fuzz target `cluster_slots`: see `shardis_fuzz::cluster_slots` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::cluster_slots(input));
