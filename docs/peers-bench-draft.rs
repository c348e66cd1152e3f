//! fauxkey against its peers, in one process: passkey-rs 0.6 (1Password; its RustCrypto and
//! aws-lc-rs backends) and the raw cryptography (p256 0.14, aws-lc-rs). Every group holds the
//! contenders side by side, so criterion measures them in the same run on the same machine;
//! at the end the same-run ratios are printed as a markdown table (rate ÷ rate, > 1 = fauxkey
//! faster).
//!
//! `cargo bench --bench peers --features aws-lc-rs -- --warm-up-time 1 --measurement-time 3`
//! (without the feature, fauxkey's fast backend rows are the RFC 6979 backend again).
//!
//! Targets (benchmarks, not tests): getAssertion ≥ 1.5 × passkey-rs with the same backend;
//! `Client::get` ≥ 0.9 × getAssertion; makeCredential (`none`) ≥ 1.0 × passkey-rs.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use fauxkey::authenticator::{Authenticator, Config};
use fauxkey::crypto::backend::{self, Signer};
use fauxkey::crypto::keys::Algorithm;
use fauxkey::ctap2::make_credential::{CredentialParameters, Extensions, RpEntity};
use fauxkey::ctap2::{get_assertion, make_credential, CredentialDescriptor, Options, UserEntity};
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::store::MemoryStore;
use p256::elliptic_curve::Generate as _;
use passkey_types::ctap2::{self as pk2, Aaguid};
use passkey_types::webauthn as pkw;

const CDH: [u8; 32] = [0x5a; 32];
const RP: &str = "example.com";
const ORIGIN: &str = "https://example.com";
/// authenticatorData (37 bytes) ‖ clientDataHash (32 bytes): what an assertion signs.
const SIGNED: [u8; 69] = [0x33; 69];

// --- fauxkey -----------------------------------------------------------------------------

fn fauxkey(signer: Signer) -> Authenticator {
    let mut config = Config::default();
    config.attestation = fauxkey::authenticator::AttestationMode::None;
    Authenticator::new(config, MemoryStore::new())
        .with_rng(seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000))
        .with_signer(signer)
}

fn mc_request(n: u64) -> make_credential::Request {
    let mut id = vec![0u8; 16];
    id[..8].copy_from_slice(&n.to_be_bytes());
    make_credential::Request {
        client_data_hash: CDH.to_vec(),
        rp: RpEntity {
            id: RP.to_owned(),
            name: Some("Example".into()),
        },
        user: UserEntity {
            id,
            name: Some("wendy".into()),
            display_name: Some("Wendy".into()),
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
    }
}

fn ga_request(id: &[u8]) -> get_assertion::Request {
    get_assertion::Request {
        rp_id: RP.to_owned(),
        client_data_hash: CDH.to_vec(),
        allow_list: vec![CredentialDescriptor::public_key(id.to_vec())],
        hmac_secret: None,
        options: Options {
            rk: None,
            up: None,
            uv: Some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    }
}

fn credential_id(auth_data: &[u8]) -> Vec<u8> {
    let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
    auth_data[55..55 + len].to_vec()
}

// --- passkey-rs ----------------------------------------------------------------------------

/// A user who is present and verified, without prompts (passkey-rs's mock counts calls).
struct Approve;

#[async_trait::async_trait]
impl passkey_authenticator::UserValidationMethod for Approve {
    type PasskeyItem = passkey_types::Passkey;

    async fn check_user<'a>(
        &self,
        _hint: passkey_authenticator::UiHint<'a, Self::PasskeyItem>,
        presence: bool,
        verification: bool,
    ) -> Result<passkey_authenticator::UserCheck, pk2::Ctap2Error> {
        Ok(passkey_authenticator::UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

fn pk_mc_request(n: u64) -> pk2::make_credential::Request {
    let mut id = vec![0u8; 16];
    id[..8].copy_from_slice(&n.to_be_bytes());
    pk2::make_credential::Request {
        client_data_hash: CDH.to_vec().into(),
        rp: pk2::make_credential::PublicKeyCredentialRpEntity {
            id: RP.into(),
            name: Some("Example".into()),
        },
        user: pkw::PublicKeyCredentialUserEntity {
            id: id.into(),
            display_name: "Wendy".into(),
            name: "wendy".into(),
        },
        pub_key_cred_params: vec![pkw::PublicKeyCredentialParameters {
            ty: pkw::PublicKeyCredentialType::PublicKey,
            alg: coset::iana::Algorithm::ES256,
        }],
        exclude_list: None,
        extensions: None,
        options: pk2::make_credential::Options {
            rk: true,
            up: true,
            uv: true,
        },
        pin_auth: None,
        pin_protocol: None,
    }
}

fn pk_ga_request() -> pk2::get_assertion::Request {
    pk2::get_assertion::Request {
        rp_id: RP.into(),
        client_data_hash: CDH.to_vec().into(),
        allow_list: None,
        extensions: None,
        pin_auth: None,
        pin_protocol: None,
        options: pk2::get_assertion::Options { up: true, uv: true },
    }
}

fn passkey_rs<C: passkey_crypto::CryptoBackend>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    backend: C,
) {
    let mut a = passkey_authenticator::Authenticator::new(
        Aaguid::new_empty(),
        None::<passkey_types::Passkey>,
        Approve,
        backend,
    );
    let mut n = 0u64;
    c.bench_function(&format!("make_credential_none/passkey-rs-{name}"), |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(a.make_credential(pk_mc_request(n))).unwrap()
        })
    });
    // The last credential stays in the one-slot store; assert with it.
    c.bench_function(&format!("get_assertion/passkey-rs-{name}"), |b| {
        b.iter(|| rt.block_on(a.get_assertion(pk_ga_request())).unwrap())
    });
}

fn fauxkey_benches(c: &mut Criterion, name: &str, signer: Signer) {
    let mut a = fauxkey(signer.clone());
    let mut n = 0u64;
    c.bench_function(&format!("make_credential_none/fauxkey-{name}"), |b| {
        b.iter(|| {
            n += 1;
            a.make_credential(mc_request(n)).unwrap()
        })
    });
    let mut a = fauxkey(signer.clone());
    let id = credential_id(&a.make_credential(mc_request(0)).unwrap().auth_data);
    c.bench_function(&format!("get_assertion/fauxkey-{name}"), |b| {
        b.iter(|| a.get_assertion(ga_request(&id)).unwrap())
    });
    // The client: WebAuthn JSON in, JSON out (origin check, clientDataJSON, CTAP, toJSON).
    let mut client = fauxkey::Client::new(fauxkey(signer.clone()));
    let create = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "rp": {"id": RP, "name": "Example"},
        "user": {"id": "dXNlcg", "name": "wendy", "displayName": "Wendy"},
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
        "attestation": "none"
    })
    .to_string();
    c.bench_function(&format!("client_create/fauxkey-{name}"), |b| {
        b.iter(|| serde_json::to_string(&client.create(ORIGIN, &create).unwrap()).unwrap())
    });
    let get = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "rpId": RP,
        "userVerification": "required"
    })
    .to_string();
    // A fresh client with exactly one credential, so discovery has one to choose.
    let mut client = fauxkey::Client::new(fauxkey(signer));
    client.create(ORIGIN, &create).unwrap();
    c.bench_function(&format!("client_get/fauxkey-{name}"), |b| {
        b.iter(|| serde_json::to_string(&client.get(ORIGIN, &get).unwrap()).unwrap())
    });
}

fn raw(c: &mut Criterion) {
    let mut rng = seeded_rng(3);
    c.bench_function("raw/p256-0.14-keygen", |b| {
        b.iter(|| {
            let k = p256::ecdsa::SigningKey::generate_from_rng(rng.as_mut());
            black_box(k.verifying_key().to_sec1_point(false));
            k
        })
    });
    let k = p256::ecdsa::SigningKey::generate_from_rng(rng.as_mut());
    c.bench_function("raw/p256-0.14-sign", |b| {
        b.iter(|| {
            use p256::ecdsa::signature::Signer as _;
            let sig: p256::ecdsa::Signature = k.sign(black_box(&SIGNED));
            sig.to_der()
        })
    });
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
    let sys = aws_lc_rs::rand::SystemRandom::new();
    c.bench_function("raw/aws-lc-rs-keygen", |b| {
        b.iter(|| {
            let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
            black_box(k.public_key().as_ref().len());
            k
        })
    });
    let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    c.bench_function("raw/aws-lc-rs-sign", |b| {
        b.iter(|| k.sign(&sys, black_box(&SIGNED)).unwrap())
    });
}

fn peers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Interleaved: each operation's contenders run one after another in this one process.
    raw(c);
    fauxkey_benches(c, "rfc6979", backend::deterministic());
    passkey_rs(c, &rt, "rustcrypto", passkey_crypto::rust_crypto::RustCryptoBackend);
    fauxkey_benches(c, "fast", backend::fast());
    passkey_rs(c, &rt, "aws-lc-rs", passkey_crypto::aws_lc_rs::AwsLcRsBackend);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&criterion_home())
}

mod group {
    use super::{config, peers};
    criterion::criterion_group! {
        name = benches;
        config = config();
        targets = peers
    }
}

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

fn mean_ns(home: &Path, id: &str, started: SystemTime) -> Option<f64> {
    let path = home.join(id).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    fresh.then(|| json["mean"]["point_estimate"].as_f64())?
}

fn print_table(home: &Path, started: SystemTime) {
    // (row, numerator id, denominator id, target)
    let rows: &[(&str, &str, &str, Option<f64>)] = &[
        ("getAssertion, RustCrypto: fauxkey ÷ passkey-rs", "get_assertion/fauxkey-rfc6979", "get_assertion/passkey-rs-rustcrypto", Some(1.5)),
        ("getAssertion, aws-lc-rs: fauxkey ÷ passkey-rs", "get_assertion/fauxkey-fast", "get_assertion/passkey-rs-aws-lc-rs", Some(1.5)),
        ("getAssertion (RFC 6979) ÷ raw p256 0.14 sign", "get_assertion/fauxkey-rfc6979", "raw/p256-0.14-sign", None),
        ("getAssertion (fast) ÷ raw aws-lc-rs sign", "get_assertion/fauxkey-fast", "raw/aws-lc-rs-sign", None),
        ("makeCredential none, RustCrypto: fauxkey ÷ passkey-rs", "make_credential_none/fauxkey-rfc6979", "make_credential_none/passkey-rs-rustcrypto", Some(1.0)),
        ("makeCredential none, aws-lc-rs: fauxkey ÷ passkey-rs", "make_credential_none/fauxkey-fast", "make_credential_none/passkey-rs-aws-lc-rs", Some(1.0)),
        ("makeCredential none ÷ raw p256 0.14 keygen", "make_credential_none/fauxkey-rfc6979", "raw/p256-0.14-keygen", None),
        ("Client::get (RFC 6979) ÷ getAssertion", "client_get/fauxkey-rfc6979", "get_assertion/fauxkey-rfc6979", Some(0.9)),
        ("Client::get (fast) ÷ getAssertion", "client_get/fauxkey-fast", "get_assertion/fauxkey-fast", Some(0.9)),
        ("Client::create (RFC 6979) ÷ makeCredential", "client_create/fauxkey-rfc6979", "make_credential_none/fauxkey-rfc6979", None),
    ];
    println!("\n| same-run ratio (rate ÷ rate) | ratio | rate (ops/s) | target |");
    println!("|---|---:|---:|---|");
    for (label, num, den, target) in rows {
        let (Some(a), Some(b)) = (mean_ns(home, num, started), mean_ns(home, den, started)) else {
            println!("| {label} | (not measured in this run) | | |");
            continue;
        };
        let ratio = b / a;
        let verdict = target.map_or(String::new(), |t| {
            format!("≥ {t} {}", if ratio >= t { "met" } else { "MISSED" })
        });
        println!("| {label} | {ratio:.2} | {:.0} | {verdict} |", 1e9 / a);
    }
}

fn main() {
    let started = SystemTime::now();
    group::benches();
    Criterion::default()
        .output_directory(&criterion_home())
        .final_summary();
    print_table(&criterion_home(), started);
}
