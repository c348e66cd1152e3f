//! Any bytes into the CTAP1/U2F APDU parser and `Authenticator::process_u2f`: never a panic,
//! every answer ends in one of the status words U2F defines, and a success parses back.
#![no_main]

use fauxkey::authenticator::U2fMode;
use fauxkey::ctap1::{self, Command, StatusWord};
use fauxkey::env::{self, FixedClock};
use fauxkey::store::MemoryStore;
use fauxkey::{Authenticator, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = Config {
        u2f: U2fMode::Also,
        ..Config::default()
    };
    let mut a = Authenticator::new(config, MemoryStore::new())
        .with_rng(env::seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000));
    // Several APDUs in one input, split at 0xFF 0xFF, so a registration can be used by a
    // following authenticate.
    for message in data.split(|b| *b == 0xFF).filter(|m| !m.is_empty()) {
        let parsed = Command::decode(message);
        if let Ok(apdu) = ctap1::Apdu::parse(message) {
            if !apdu.data.is_empty() && apdu.data.len() < 65_535 {
                assert_eq!(ctap1::Apdu::parse(&apdu.to_extended_bytes()).map(|a| a.data), Ok(apdu.data));
            }
        }
        let out = a.process_u2f(message);
        let (body, sw) = ctap1::split_response(&out).expect("a status word");
        let sw = StatusWord::from_u16(sw).expect("a U2F status word");
        if let Err(expected) = parsed {
            assert_eq!(sw, expected);
        }
        if sw == StatusWord::NoError {
            match parsed {
                Ok(Command::Register(_)) => {
                    ctap1::RegisterResponse::parse(body).expect("a registration parses");
                }
                Ok(Command::Authenticate(_)) => {
                    ctap1::AuthenticateResponse::parse(body).expect("an assertion parses");
                }
                _ => assert_eq!(body, b"U2F_V2"),
            }
        }
    }
});
