//! libFuzzer entry: one session of the host harness per input (see
//! `../harness.rs`). Run through `tests/fuzz/run.sh`.

#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::run_one(data));
