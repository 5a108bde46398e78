//! Fuzz target `config_text`: see `shardis_fuzz::config_text` for how the input is decoded.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| shardis_fuzz::config_text(input));
