//! Any bytes as authenticatorClientPIN (0x06), authenticatorConfig (0x0D) and credential
//! management on its preview code (0x41), against a key with a PIN set and no built-in UV: never
//! a panic, always a status byte first, canonical CBOR after a success, and the PIN state stays
//! within its bounds (at most 8 retries, a minimum PIN length of at least 4, the PIN kept unless
//! a setPIN/changePIN succeeded).
#![no_main]

use fauxkey::env::{self, FixedClock, Presence, SimulatedUser, Verification};
use fauxkey::store::{CredentialStore, DeviceState, MemoryStore};
use fauxkey::{Authenticator, Config};
use libfuzzer_sys::fuzz_target;

const COMMANDS: [u8; 5] = [0x06, 0x0D, 0x41, 0x01, 0x02];

fuzz_target!(|data: &[u8]| {
    let mut store = MemoryStore::new();
    let mut state = DeviceState::default();
    state.set_pin("1234");
    let _ = store.set_device_state(state);
    let user = SimulatedUser {
        presence: Presence::Approve,
        verification: Verification::NotCapable,
        account: None,
    };
    let mut a = Authenticator::new(Config::default(), store)
        .with_rng(env::seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000))
        .with_user(user);
    // Several requests split at 0xFF; the first byte of each picks the command.
    for chunk in data.split(|b| *b == 0xFF).filter(|m| !m.is_empty()) {
        let mut message = vec![COMMANDS[usize::from(chunk[0]) % COMMANDS.len()]];
        message.extend_from_slice(&chunk[1..]);
        let before = a.store().device_state();
        let out = a.process(&message);
        assert!(!out.is_empty());
        if out[0] == 0 && out.len() > 1 {
            let v = fauxkey::cbor::decode(&out[1..]).expect("responses are canonical CBOR");
            assert_eq!(fauxkey::cbor::encode(&v), out[1..]);
        }
        let after = a.store().device_state();
        assert!(after.pin_retries <= 8);
        assert!(after.min_pin_length >= before.min_pin_length || message[0] == 0x07);
        if out[0] != 0 || message[0] != 0x06 {
            assert_eq!(after.pin_hash, before.pin_hash, "the PIN changed on a refusal");
        }
    }
});
