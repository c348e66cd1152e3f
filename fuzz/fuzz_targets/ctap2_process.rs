//! Any bytes into `Authenticator::process`: never a panic, always a status byte first, and a
//! success is followed by exactly one canonical CBOR item (or nothing).
#![no_main]

use fauxkey::env::{self, FixedClock};
use fauxkey::store::MemoryStore;
use fauxkey::{Authenticator, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut a = Authenticator::new(Config::default(), MemoryStore::new())
        .with_rng(env::seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000));
    // Several requests in one input, split at 0xFF 0xFF, so state (pending assertions, tokens,
    // enumerations) carries from one to the next.
    for message in data.split(|b| *b == 0xFF).filter(|m| !m.is_empty()) {
        let out = a.process(message);
        assert!(!out.is_empty());
        if out[0] == 0 && out.len() > 1 {
            let v = fauxkey::cbor::decode(&out[1..]).expect("responses are canonical CBOR");
            assert_eq!(fauxkey::cbor::encode(&v), out[1..]);
        }
    }
});
