//! Fuzz target `envoy_yaml`: see `shardis_fuzz::envoy_yaml` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::envoy_yaml(input));
