//! Throughput of the virtual authenticator against the raw cryptography it cannot avoid.
//!
//! `cargo bench --bench authenticator` runs every benchmark in one process (so ratios compare
//! like with like), then reads criterion's saved estimates and prints a markdown table:
//! makeCredential is compared with raw key generation, getAssertion with a raw signature.
//! Targets: makeCredential(none) ≥ 0.9 × raw keygen rate, getAssertion ≥ 0.9 × raw sign rate.

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion};
use ed25519_dalek::Signer as _;
use fauxkey::authenticator::{Authenticator, Config};
use fauxkey::cbor;
use fauxkey::crypto::keys::{Algorithm, PrivateKey};
use fauxkey::ctap2::make_credential::{CredentialParameters, Extensions, RpEntity};
use fauxkey::ctap2::{get_assertion, make_credential, CredentialDescriptor, Options, UserEntity};
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::store::MemoryStore;
use p256::elliptic_curve::Generate as _;
use rand_core::CryptoRng;

/// The clientDataHash every request carries.
const CDH: [u8; 32] = [0x5a; 32];
/// The RP the makeCredential benchmarks register with (one RP, many users: the store grows, and
/// so does that RP's share of it).
const MC_RP: &str = "example.com";
/// The RP whose one discoverable credential the discoverable getAssertion uses.
const SOLO_RP: &str = "solo.example";
/// How many credentials the getAssertion store holds besides the solo one.
const PRELOAD: usize = 1_000;

fn authenticator(seed: u64) -> Authenticator {
    Authenticator::new(Config::default(), MemoryStore::new())
        .with_rng(seeded_rng(seed))
        .with_clock(FixedClock::at(1_700_000_000_000))
}

fn user(n: u64) -> UserEntity {
    let mut id = vec![0u8; 32];
    id[..8].copy_from_slice(&n.to_be_bytes());
    UserEntity {
        id,
        name: Some(format!("user{n}@example.com")),
        display_name: Some(format!("User {n}")),
    }
}

fn mc_request(rp: &str, n: u64, alg: Algorithm) -> make_credential::Request {
    make_credential::Request {
        client_data_hash: CDH.to_vec(),
        rp: RpEntity {
            id: rp.to_owned(),
            name: Some("Example".into()),
        },
        user: user(n),
        pub_key_cred_params: vec![CredentialParameters {
            type_: "public-key".into(),
            alg: alg.cose_id(),
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
    }
}

fn ga_request(rp: &str, allow: Option<&[u8]>) -> get_assertion::Request {
    get_assertion::Request {
        rp_id: rp.to_owned(),
        client_data_hash: CDH.to_vec(),
        allow_list: allow
            .map(|id| vec![CredentialDescriptor::public_key(id.to_vec())])
            .unwrap_or_default(),
        hmac_secret: None,
        extensions: Default::default(),
        options: Options {
            rk: None,
            up: None,
            uv: Some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    }
}

/// `command byte ‖ canonical CBOR`, what a CTAP transport hands to `process`.
fn message(command: u8, params: &ciborium::value::Value) -> Vec<u8> {
    let mut m = vec![command];
    m.extend_from_slice(&cbor::encode(params));
    m
}

/// The credential id inside makeCredential authenticatorData (after rpIdHash, flags, counter,
/// AAGUID and the 2-byte length).
fn credential_id(auth_data: &[u8]) -> Vec<u8> {
    let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    auth_data[55..55 + len].to_vec()
}

/// An authenticator holding `PRELOAD` credentials spread over 100 RPs (all of `alg`), plus one
/// discoverable credential for `SOLO_RP`. Returns it with the id of a credential in the middle.
fn preloaded(alg: Algorithm) -> (Authenticator, Vec<u8>) {
    let mut a = authenticator(2);
    let mut middle = Vec::new();
    for n in 0..PRELOAD as u64 {
        let rp = format!("rp{}.example", n % 100);
        let r = a.make_credential(mc_request(&rp, n, alg)).unwrap();
        if n == PRELOAD as u64 / 2 {
            middle = credential_id(&r.auth_data);
        }
    }
    a.make_credential(mc_request(SOLO_RP, u64::MAX, alg))
        .unwrap();
    (a, middle)
}

/// authenticatorData (37 bytes) ‖ clientDataHash (32 bytes): what an assertion signs.
const SIGNED: [u8; 69] = [0x33; 69];

/// Baseline: a fresh key pair and its encoded public key, the least makeCredential must do.
fn raw_keygen(c: &mut Criterion, alg: Algorithm) {
    let mut g = c.benchmark_group("raw");
    let mut rng = seeded_rng(1);
    if alg == Algorithm::Es256 {
        // fauxkey's own ES256 key generation (the same scalar draw, the public key from its
        // affine-table fixed-base multiplication, src/crypto/p256_base.rs), encoded as
        // makeCredential encodes it.
        let mut rng = seeded_rng(1);
        g.bench_function("fauxkey_es256_keygen", |b| {
            b.iter(|| {
                let k = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
                black_box(k.public_key().cose_bytes());
                k
            })
        });
    }
    match alg {
        Algorithm::Es256 => g.bench_function("p256_keygen", |b| {
            b.iter(|| {
                // As src/crypto/keys.rs does it: through `&mut dyn CryptoRng`.
                let r: &mut dyn CryptoRng = rng.as_mut();
                let k = p256::ecdsa::SigningKey::generate_from_rng(r);
                black_box(k.verifying_key().to_sec1_point(false));
                k
            })
        }),
        _ => g.bench_function("ed25519_keygen", |b| {
            b.iter(|| {
                let r: &mut dyn CryptoRng = rng.as_mut();
                let k = ed25519_dalek::SigningKey::generate(r);
                black_box(k.verifying_key().to_bytes());
                k
            })
        }),
    };
    g.finish();
}

/// Baseline: one signature over 69 bytes (DER-encoded for ECDSA), the least getAssertion must do.
fn raw_sign(c: &mut Criterion, alg: Algorithm) {
    let mut g = c.benchmark_group("raw");
    match alg {
        Algorithm::Es256 => {
            let k = p256::ecdsa::SigningKey::generate_from_rng(fauxkey::env::os_rng().as_mut());
            g.bench_function("p256_sign", |b| {
                b.iter(|| {
                    let sig: p256::ecdsa::Signature = k.sign(black_box(&SIGNED));
                    sig.to_der()
                })
            })
        }
        _ => {
            let k = ed25519_dalek::SigningKey::generate(fauxkey::env::os_rng().as_mut());
            g.bench_function("ed25519_sign", |b| {
                b.iter(|| k.sign(black_box(&SIGNED)).to_bytes())
            })
        }
    };
    g.finish();
}

fn make_credential_benches(c: &mut Criterion, alg: Algorithm, suffix: &str) {
    let mut g = c.benchmark_group("authenticator");
    // Sub-step: every user on a new RP, so step 17's scan of the RP's credentials (looking for
    // one with the same user handle) always finds the RP empty.
    let mut a = authenticator(5);
    let mut n = 0u64;
    g.bench_function(format!("make_credential_none_{suffix}_distinct_rps"), |b| {
        b.iter_batched(
            || {
                n += 1;
                mc_request(&format!("rp{n}.example"), n, alg)
            },
            |req| a.make_credential(req).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // Typed: every iteration registers a new user of one RP, so the store grows as it would.
    let mut a = authenticator(3);
    let mut n = 0u64;
    g.bench_function(format!("make_credential_none_{suffix}"), |b| {
        b.iter_batched(
            || {
                n += 1;
                mc_request(MC_RP, n, alg)
            },
            |req| a.make_credential(req).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // Bytes: decode, run, encode the reply.
    let mut a = authenticator(4);
    let mut n = 0u64;
    g.bench_function(format!("make_credential_none_{suffix}_bytes"), |b| {
        b.iter_batched(
            || {
                n += 1;
                message(0x01, &mc_request(MC_RP, n, alg).to_cbor())
            },
            |m| {
                let out = a.process(&m);
                assert_eq!(out[0], 0, "makeCredential failed");
                out
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn get_assertion_benches(c: &mut Criterion, alg: Algorithm, suffix: &str) {
    let mut g = c.benchmark_group("authenticator");
    let (mut a, id) = preloaded(alg);
    // The middle credential's RP: credential n belongs to rp{n % 100}.
    let rp = format!("rp{}.example", (PRELOAD / 2) % 100);
    g.bench_function(format!("get_assertion_{suffix}"), |b| {
        b.iter_batched(
            || ga_request(&rp, Some(&id)),
            |req| a.get_assertion(req).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let m = message(0x02, &ga_request(&rp, Some(&id)).to_cbor());
    g.bench_function(format!("get_assertion_{suffix}_bytes"), |b| {
        b.iter(|| {
            let out = a.process(black_box(&m));
            assert_eq!(out[0], 0, "getAssertion failed");
            out
        })
    });
    g.bench_function(format!("get_assertion_{suffix}_discoverable"), |b| {
        b.iter_batched(
            || ga_request(SOLO_RP, None),
            |req| a.get_assertion(req).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// Each baseline runs right before what is compared with it, so that load from other processes
/// drifts as little as possible between the two.
fn es256(c: &mut Criterion) {
    raw_keygen(c, Algorithm::Es256);
    make_credential_benches(c, Algorithm::Es256, "es256");
    raw_sign(c, Algorithm::Es256);
    get_assertion_benches(c, Algorithm::Es256, "es256");
}

fn eddsa(c: &mut Criterion) {
    raw_keygen(c, Algorithm::EdDsa);
    make_credential_benches(c, Algorithm::EdDsa, "eddsa");
    raw_sign(c, Algorithm::EdDsa);
    get_assertion_benches(c, Algorithm::EdDsa, "eddsa");
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&criterion_home())
}

/// The one group (a private module, so the `pub fn` the macro writes needs no docs).
mod group {
    use super::{config, eddsa, es256};
    criterion::criterion_group! {
        name = benches;
        config = config();
        targets = es256, eddsa
    }
}

/// Where criterion writes (the same rule it uses, but with the target directory taken from this
/// executable's location, `<target>/release/deps/authenticator-…`, rather than `cargo metadata`).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Mean ns per iteration from `<home>/<id>/new/estimates.json`, and whether this run wrote it.
fn mean_ns(home: &Path, id: &str, started: SystemTime) -> Option<(f64, bool)> {
    let path = home.join(id).join("new").join("estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let ns = json["mean"]["point_estimate"].as_f64()?;
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started);
    Some((ns, fresh))
}

fn print_table(home: &Path, started: SystemTime) {
    // (operation, baseline it is compared with, target ratio if any)
    let rows: [(&str, &str, Option<f64>); 17] = [
        ("raw/p256_keygen", "raw/p256_keygen", None),
        ("raw/fauxkey_es256_keygen", "raw/p256_keygen", None),
        (
            "authenticator/make_credential_none_es256",
            "raw/p256_keygen",
            Some(0.9),
        ),
        (
            "authenticator/make_credential_none_es256_bytes",
            "raw/p256_keygen",
            None,
        ),
        (
            "authenticator/make_credential_none_es256_distinct_rps",
            "raw/p256_keygen",
            None,
        ),
        ("raw/p256_sign", "raw/p256_sign", None),
        (
            "authenticator/get_assertion_es256",
            "raw/p256_sign",
            Some(0.9),
        ),
        (
            "authenticator/get_assertion_es256_bytes",
            "raw/p256_sign",
            None,
        ),
        (
            "authenticator/get_assertion_es256_discoverable",
            "raw/p256_sign",
            None,
        ),
        ("raw/ed25519_keygen", "raw/ed25519_keygen", None),
        (
            "authenticator/make_credential_none_eddsa",
            "raw/ed25519_keygen",
            Some(0.9),
        ),
        (
            "authenticator/make_credential_none_eddsa_bytes",
            "raw/ed25519_keygen",
            None,
        ),
        (
            "authenticator/make_credential_none_eddsa_distinct_rps",
            "raw/ed25519_keygen",
            None,
        ),
        ("raw/ed25519_sign", "raw/ed25519_sign", None),
        (
            "authenticator/get_assertion_eddsa",
            "raw/ed25519_sign",
            Some(0.9),
        ),
        (
            "authenticator/get_assertion_eddsa_bytes",
            "raw/ed25519_sign",
            None,
        ),
        (
            "authenticator/get_assertion_eddsa_discoverable",
            "raw/ed25519_sign",
            None,
        ),
    ];
    println!();
    println!(
        "Mean time per operation (criterion estimates in {}):",
        home.display()
    );
    println!();
    println!("| operation | ns/op | ops/s | ratio vs baseline |");
    println!("|---|---:|---:|---|");
    let mut verdicts = Vec::new();
    for (id, base, target) in rows {
        let Some((ns, fresh)) = mean_ns(home, id, started) else {
            println!("| {id} | not run | | |");
            continue;
        };
        let stale = if fresh {
            ""
        } else {
            " (stale: not run this time)"
        };
        let ratio = match mean_ns(home, base, started) {
            Some((_, _)) if base == id => "1.00 (baseline)".to_owned(),
            Some((base_ns, _)) => {
                // Rate ratio: (1/ns) / (1/base_ns).
                let r = base_ns / ns;
                if let Some(t) = target {
                    let met = if r >= t { "met" } else { "MISSED" };
                    verdicts.push(format!("{id}: {r:.2} × {base} rate (target ≥ {t}) — {met}"));
                }
                format!("{r:.2} × {base}")
            }
            None => "baseline not run".to_owned(),
        };
        println!("| {id}{stale} | {ns:.0} | {:.0} | {ratio} |", 1e9 / ns);
    }
    println!();
    for v in verdicts {
        println!("{v}");
    }
}

fn main() {
    let started = SystemTime::now();
    group::benches();
    // What `criterion_main!` does after the groups.
    config().configure_from_args().final_summary();
    print_table(&criterion_home(), started);
}
