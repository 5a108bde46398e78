//! Fuzz target `command_keys`: see `shardis_fuzz::command_keys` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::command_keys(input));
