//! Memory cost of passkeys held by an in-memory authenticator.
//!
//! `cargo run --release --example memory [N]` (default 100000) registers N discoverable ES256
//! credentials through `Authenticator::make_credential` (seeded RNG, fixed clock, distinct users
//! spread over 100 RPs), prints the resident set size before and after, and exits with status 1
//! if it grew by more than 100 MiB, so it can serve as a check. One getAssertion at the end shows
//! the store still works.

#![allow(clippy::unwrap_used)]

use std::process::ExitCode;

use fauxkey::authenticator::{Authenticator, Config};
use fauxkey::crypto::keys::Algorithm;
use fauxkey::ctap2::make_credential::{CredentialParameters, Extensions, RpEntity};
use fauxkey::ctap2::{get_assertion, make_credential, Options, UserEntity};
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::store::{CredentialStore, MemoryStore};

/// Page size assumed when converting /proc/self/statm pages to bytes.
const PAGE_SIZE: u64 = 4096;
/// The most the resident set may grow before this check fails.
const LIMIT: u64 = 100 * 1024 * 1024;
/// How many RPs the credentials are spread over.
const RPS: u64 = 100;

/// Resident set size in bytes: the second field of /proc/self/statm (pages) × 4096.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * PAGE_SIZE
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() -> ExitCode {
    let n: u64 = match std::env::args().nth(1) {
        Some(arg) => match arg.parse() {
            Ok(n) => n,
            Err(_) => {
                eprintln!("usage: memory [N]   (N: number of passkeys, default 100000)");
                return ExitCode::from(2);
            }
        },
        None => 100_000,
    };

    let mut authenticator = Authenticator::new(Config::default(), MemoryStore::new())
        .with_rng(seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000));
    let before = rss_bytes();

    let started = std::time::Instant::now();
    for i in 0..n {
        let mut user_id = vec![0u8; 32];
        user_id[..8].copy_from_slice(&i.to_be_bytes());
        let request = make_credential::Request {
            client_data_hash: vec![0x5a; 32],
            rp: RpEntity {
                id: format!("rp{}.example", i % RPS),
                name: Some("Example RP".into()),
            },
            user: UserEntity {
                id: user_id,
                name: Some(format!("user{i}@example.com")),
                display_name: Some(format!("User {i}")),
            },
            pub_key_cred_params: vec![CredentialParameters {
                type_: "public-key".into(),
                alg: Algorithm::Es256.cose_id(),
            }],
            exclude_list: Vec::new(),
            extensions: Extensions::default(),
            options: Options {
                rk: Some(true),
                up: None,
                uv: Some(true),
            },
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
            enterprise_attestation: None,
            attestation_formats_preference: None,
        };
        authenticator.make_credential(request).unwrap();
    }
    let elapsed = started.elapsed();
    let after = rss_bytes();
    let stored = authenticator.store().len() as u64;
    let growth = after.saturating_sub(before);

    // One discoverable getAssertion: rp7.example holds n / 100 passkeys; the newest is offered.
    let assertion = authenticator
        .get_assertion(get_assertion::Request {
            rp_id: "rp7.example".into(),
            client_data_hash: vec![0x5a; 32],
            allow_list: Vec::new(),
            hmac_secret: None,
            extensions: Default::default(),
            options: Options {
                rk: None,
                up: None,
                uv: Some(true),
            },
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        })
        .ok();

    println!("passkeys created:      {n} (ES256, discoverable, {RPS} RPs, 32-byte user ids)");
    println!("passkeys in store:     {stored}");
    println!(
        "makeCredential time:   {:.2} s ({:.0} ops/s)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    println!("RSS (statm pages × {PAGE_SIZE} bytes):");
    println!(
        "  before:              {before} bytes ({:.1} MiB)",
        mib(before)
    );
    println!(
        "  after:               {after} bytes ({:.1} MiB)",
        mib(after)
    );
    println!(
        "  growth:              {growth} bytes ({:.1} MiB)",
        mib(growth)
    );
    if let Some(per) = growth.checked_div(n) {
        println!("  per passkey:         {per} bytes");
    }
    match &assertion {
        Some(a) => println!(
            "getAssertion(rp7.example): ok, {} credentials applicable, {}-byte signature",
            a.number_of_credentials.unwrap_or(1),
            a.signature.len()
        ),
        None if n == 0 => println!("getAssertion(rp7.example): no credentials (N = 0)"),
        None => println!("getAssertion(rp7.example): FAILED"),
    }

    let mut ok = true;
    if stored != n {
        println!("FAIL: {stored} passkeys stored, {n} created");
        ok = false;
    }
    if assertion.is_none() && n > 7 {
        ok = false;
    }
    if growth > LIMIT {
        println!(
            "FAIL: RSS grew {:.1} MiB, over the {:.0} MiB limit",
            mib(growth),
            mib(LIMIT)
        );
        ok = false;
    } else {
        println!(
            "PASS: RSS growth {:.1} MiB ≤ {:.0} MiB limit",
            mib(growth),
            mib(LIMIT)
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
