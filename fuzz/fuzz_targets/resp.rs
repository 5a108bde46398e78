//! Fuzz target `resp`: see `shardis_fuzz::resp` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::resp(input));
