//! Fuzz target `redirect`: see `shardis_fuzz::redirect` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::redirect(input));
