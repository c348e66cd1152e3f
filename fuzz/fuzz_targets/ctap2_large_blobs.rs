//! Any bytes as authenticatorLargeBlobs (0x0C), with makeCredential and getAssertion (their
//! largeBlobKey, credBlob, minPinLength and hmac-secret-mc inputs) in between, against an
//! unprotected key with every extension: never a panic, always a status byte first, canonical
//! CBOR after a success, and the committed large-blob array always ends with its own checksum
//! and stays within `maxSerializedLargeBlobArray`.
#![no_main]

use fauxkey::authenticator::MAX_SERIALIZED_LARGE_BLOB_ARRAY;
use fauxkey::ctap2::large_blobs::checksum_valid;
use fauxkey::env::{self, FixedClock, Presence, SimulatedUser, Verification};
use fauxkey::store::MemoryStore;
use fauxkey::{Authenticator, Config};
use libfuzzer_sys::fuzz_target;

const COMMANDS: [u8; 4] = [0x0C, 0x0C, 0x01, 0x02];

fuzz_target!(|data: &[u8]| {
    let config = Config {
        extensions: fauxkey::authenticator::EMULATED_EXTENSIONS
            .map(String::from)
            .to_vec(),
        ..Config::default()
    };
    let user = SimulatedUser {
        presence: Presence::Approve,
        verification: Verification::NotCapable,
        account: None,
    };
    let mut a = Authenticator::new(config, MemoryStore::new())
        .with_rng(env::seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000))
        .with_user(user);
    // Several requests split at 0xFF; the first byte of each picks the command.
    for chunk in data.split(|b| *b == 0xFF).filter(|m| !m.is_empty()) {
        let mut message = vec![COMMANDS[usize::from(chunk[0]) % COMMANDS.len()]];
        message.extend_from_slice(&chunk[1..]);
        let out = a.process(&message);
        assert!(!out.is_empty());
        if out[0] == 0 && out.len() > 1 {
            let v = fauxkey::cbor::decode(&out[1..]).expect("responses are canonical CBOR");
            assert_eq!(fauxkey::cbor::encode(&v), out[1..]);
        }
        let array = a.large_blob_array();
        assert!(checksum_valid(&array), "the committed array has its checksum");
        assert!(array.len() <= MAX_SERIALIZED_LARGE_BLOB_ARRAY);
    }
});
