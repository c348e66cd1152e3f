//! fauxkey against its peers, in one process: passkey-rs 0.6 (1Password; its RustCrypto and
//! aws-lc-rs backends) and the raw cryptography (p256 0.14, aws-lc-rs 1). Not part of fauxkey's
//! build or CI: a crate of its own (see Cargo.toml here and docs/performance.md).
//!
//! `cd benches/peers && cargo bench` (`FAUXKEY_PEERS_REPS`, default 15, and
//! `FAUXKEY_PEERS_SECS`, default 1: each repetition runs every contender for that long, one
//! after another, so a ratio within one repetition is same-run; the table gives the median of
//! the per-repetition ratios, and the median rates). `FAUXKEY_PEERS_ONLY=SUBSTRING[,…]` runs
//! only the contenders whose name contains one of them (to profile one), with the ratios
//! between those.
//!
//! Targets (benchmarks, not tests): getAssertion ≥ 1.5 × passkey-rs with the same backend;
//! `Client::get` ≥ 0.9 × getAssertion; makeCredential (`none`) ≥ 1.0 × passkey-rs.

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

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

type Op = Box<dyn FnMut()>;

fn passkey_rs<C: passkey_crypto::CryptoBackend + 'static>(
    ops: &mut Vec<(String, Op)>,
    rt: &std::rc::Rc<tokio::runtime::Runtime>,
    name: &str,
    backend: impl Fn() -> C,
) {
    let mut a = passkey_authenticator::Authenticator::new(
        Aaguid::new_empty(),
        None::<passkey_types::Passkey>,
        Approve,
        backend(),
    );
    let r = rt.clone();
    // One slot: each registration replaces the last, as fauxkey's replaces the same account.
    ops.push((
        format!("make_credential_none/passkey-rs-{name}"),
        Box::new(move || {
            black_box(r.block_on(a.make_credential(pk_mc_request(0))).unwrap());
        }),
    ));
    let mut a = passkey_authenticator::Authenticator::new(
        Aaguid::new_empty(),
        None::<passkey_types::Passkey>,
        Approve,
        backend(),
    );
    rt.block_on(a.make_credential(pk_mc_request(0))).unwrap();
    let r = rt.clone();
    ops.push((
        format!("get_assertion/passkey-rs-{name}"),
        Box::new(move || {
            black_box(r.block_on(a.get_assertion(pk_ga_request())).unwrap());
        }),
    ));
}

fn fauxkey_ops(ops: &mut Vec<(String, Op)>, name: &str, signer: Signer) {
    let mut a = fauxkey(signer.clone());
    ops.push((
        format!("make_credential_none/fauxkey-{name}"),
        Box::new(move || {
            black_box(a.make_credential(mc_request(0)).unwrap());
        }),
    ));
    let mut a = fauxkey(signer.clone());
    let id = credential_id(&a.make_credential(mc_request(0)).unwrap().auth_data);
    ops.push((
        format!("get_assertion/fauxkey-{name}"),
        Box::new(move || {
            black_box(a.get_assertion(ga_request(&id)).unwrap());
        }),
    ));
    // The client: WebAuthn JSON in, JSON out (origin check, clientDataJSON, CTAP, toJSON).
    let create = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "rp": {"id": RP, "name": "Example"},
        "user": {"id": "dXNlcg", "name": "wendy", "displayName": "Wendy"},
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "required"},
        "attestation": "none"
    })
    .to_string();
    let mut client = fauxkey::Client::new(fauxkey(signer.clone()));
    let c = create.clone();
    ops.push((
        format!("client_create/fauxkey-{name}"),
        Box::new(move || {
            black_box(client.create(ORIGIN, &c).unwrap().to_json());
        }),
    ));
    let get = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "rpId": RP,
        "userVerification": "required"
    })
    .to_string();
    // A client with exactly one credential, so discovery has one to choose.
    let mut client = fauxkey::Client::new(fauxkey(signer.clone()));
    client.create(ORIGIN, &create).unwrap();
    ops.push((
        format!("client_get/fauxkey-{name}"),
        Box::new(move || {
            black_box(client.get(ORIGIN, &get).unwrap().to_json());
        }),
    ));
    // The getAssertion row's own request (allow list of one, UV) through the client.
    let mut client = fauxkey::Client::new(fauxkey(signer.clone()));
    let made: serde_json::Value =
        serde_json::to_value(client.create(ORIGIN, &create).unwrap()).unwrap();
    let get_allow = serde_json::json!({
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "rpId": RP,
        "allowCredentials": [{"type": "public-key", "id": made["rawId"]}],
        "userVerification": "required"
    })
    .to_string();
    let get_allow_serde = get_allow.clone();
    ops.push((
        format!("client_get_allow/fauxkey-{name}"),
        Box::new(move || {
            black_box(client.get(ORIGIN, &get_allow).unwrap().to_json());
        }),
    ));
    // The same, written by serde_json from the response struct instead of `to_json`: the price
    // of its byte-by-byte escape loop and growing buffer (same text; tests/properties.rs). The
    // seeded authenticator makes the same credential id, so the allow list names it here too.
    let mut client = fauxkey::Client::new(fauxkey(signer));
    client.create(ORIGIN, &create).unwrap();
    ops.push((
        format!("client_get_allow_serde/fauxkey-{name}"),
        Box::new(move || {
            black_box(
                serde_json::to_string(&client.get(ORIGIN, &get_allow_serde).unwrap()).unwrap(),
            );
        }),
    ));
}

fn raw(ops: &mut Vec<(String, Op)>) {
    let mut rng = seeded_rng(3);
    ops.push((
        "raw/p256-0.14-keygen".into(),
        Box::new(move || {
            let k = p256::ecdsa::SigningKey::generate_from_rng(rng.as_mut());
            black_box(k.verifying_key().to_sec1_point(false));
        }),
    ));
    let k = p256::ecdsa::SigningKey::generate_from_rng(seeded_rng(4).as_mut());
    ops.push((
        "raw/p256-0.14-sign".into(),
        Box::new(move || {
            use p256::ecdsa::signature::Signer as _;
            let sig: p256::ecdsa::Signature = k.sign(black_box(&SIGNED));
            black_box(sig.to_der());
        }),
    ));
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
    ops.push((
        "raw/aws-lc-rs-keygen".into(),
        Box::new(|| {
            let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
            black_box(k.public_key().as_ref().len());
        }),
    ));
    let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let sys = aws_lc_rs::rand::SystemRandom::new();
    ops.push((
        "raw/aws-lc-rs-sign".into(),
        Box::new(move || {
            black_box(k.sign(&sys, black_box(&SIGNED)).unwrap());
        }),
    ));
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `op` for `secs`: operations per second.
fn rate(op: &mut Op, secs: Duration) -> f64 {
    op();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < secs {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let reps: usize = env_or("FAUXKEY_PEERS_REPS", 15);
    let secs = Duration::from_secs_f64(env_or("FAUXKEY_PEERS_SECS", 1.0));
    let rt = std::rc::Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
    );
    let mut ops: Vec<(String, Op)> = Vec::new();
    raw(&mut ops);
    fauxkey_ops(&mut ops, "rfc6979", backend::deterministic());
    passkey_rs(&mut ops, &rt, "rustcrypto", || {
        passkey_crypto::rust_crypto::RustCryptoBackend
    });
    fauxkey_ops(&mut ops, "fast", backend::fast());
    passkey_rs(&mut ops, &rt, "aws-lc-rs", || {
        passkey_crypto::aws_lc_rs::AwsLcRsBackend
    });
    // FAUXKEY_PEERS_ONLY=SUBSTRING[,SUBSTRING…] runs only the contenders whose name contains
    // one of them (to profile one, e.g. under `perf record`), and the ratios between those.
    let only = std::env::var("FAUXKEY_PEERS_ONLY").ok();
    if let Some(only) = &only {
        ops.retain(|(name, _)| only.split(',').any(|o| name.contains(o)));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "fauxkey peers: {reps} interleaved repetitions of {secs:?} per contender, {cores} cores"
    );
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); ops.len()];
    for _ in 0..reps {
        for (i, (_, op)) in ops.iter_mut().enumerate() {
            rates[i].push(rate(op, secs));
        }
    }
    let index = |id: &str| ops.iter().position(|(n, _)| n == id);
    println!();
    println!("| contender | median ops/s |");
    println!("|---|---:|");
    for (i, (name, _)) in ops.iter().enumerate() {
        println!("| {name} | {:.0} |", median(rates[i].clone()));
    }
    // (row, numerator, denominator, target)
    let rows: &[(&str, &str, &str, Option<f64>)] = &[
        (
            "getAssertion, RustCrypto: fauxkey ÷ passkey-rs",
            "get_assertion/fauxkey-rfc6979",
            "get_assertion/passkey-rs-rustcrypto",
            Some(1.5),
        ),
        (
            "getAssertion, aws-lc-rs: fauxkey ÷ passkey-rs",
            "get_assertion/fauxkey-fast",
            "get_assertion/passkey-rs-aws-lc-rs",
            Some(1.5),
        ),
        (
            "makeCredential none, RustCrypto: fauxkey ÷ passkey-rs",
            "make_credential_none/fauxkey-rfc6979",
            "make_credential_none/passkey-rs-rustcrypto",
            Some(1.0),
        ),
        (
            "makeCredential none, aws-lc-rs: fauxkey ÷ passkey-rs",
            "make_credential_none/fauxkey-fast",
            "make_credential_none/passkey-rs-aws-lc-rs",
            Some(1.0),
        ),
        (
            "Client::get, discoverable (RFC 6979) ÷ getAssertion",
            "client_get/fauxkey-rfc6979",
            "get_assertion/fauxkey-rfc6979",
            Some(0.9),
        ),
        (
            "Client::get, discoverable (fast) ÷ getAssertion",
            "client_get/fauxkey-fast",
            "get_assertion/fauxkey-fast",
            Some(0.9),
        ),
        (
            "Client::get, allow list (RFC 6979) ÷ getAssertion (the same request)",
            "client_get_allow/fauxkey-rfc6979",
            "get_assertion/fauxkey-rfc6979",
            Some(0.9),
        ),
        (
            "Client::get, allow list (fast) ÷ getAssertion (the same request)",
            "client_get_allow/fauxkey-fast",
            "get_assertion/fauxkey-fast",
            Some(0.9),
        ),
        (
            "Client::get, allow list, serde_json::to_string (RFC 6979) ÷ getAssertion",
            "client_get_allow_serde/fauxkey-rfc6979",
            "get_assertion/fauxkey-rfc6979",
            None,
        ),
        (
            "Client::get, allow list, serde_json::to_string (fast) ÷ getAssertion",
            "client_get_allow_serde/fauxkey-fast",
            "get_assertion/fauxkey-fast",
            None,
        ),
        (
            "Client::get (RFC 6979) ÷ passkey-rs getAssertion (RustCrypto)",
            "client_get/fauxkey-rfc6979",
            "get_assertion/passkey-rs-rustcrypto",
            None,
        ),
        (
            "Client::get (fast) ÷ passkey-rs getAssertion (aws-lc-rs)",
            "client_get/fauxkey-fast",
            "get_assertion/passkey-rs-aws-lc-rs",
            None,
        ),
        (
            "Client::create (RFC 6979) ÷ makeCredential",
            "client_create/fauxkey-rfc6979",
            "make_credential_none/fauxkey-rfc6979",
            None,
        ),
        (
            "Client::create (fast) ÷ makeCredential",
            "client_create/fauxkey-fast",
            "make_credential_none/fauxkey-fast",
            None,
        ),
        (
            "getAssertion (RFC 6979) ÷ raw p256 0.14 sign",
            "get_assertion/fauxkey-rfc6979",
            "raw/p256-0.14-sign",
            None,
        ),
        (
            "getAssertion (fast) ÷ raw aws-lc-rs sign",
            "get_assertion/fauxkey-fast",
            "raw/aws-lc-rs-sign",
            None,
        ),
        (
            "makeCredential none (RFC 6979) ÷ raw p256 0.14 keygen",
            "make_credential_none/fauxkey-rfc6979",
            "raw/p256-0.14-keygen",
            None,
        ),
        (
            "makeCredential none (fast) ÷ raw aws-lc-rs keygen",
            "make_credential_none/fauxkey-fast",
            "raw/aws-lc-rs-keygen",
            None,
        ),
    ];
    println!();
    println!("| same-run ratio (rate ÷ rate, median of {reps} repetitions) | ratio | target |");
    println!("|---|---:|---|");
    for (label, num, den, target) in rows {
        // With FAUXKEY_PEERS_ONLY, the rows whose two contenders both ran.
        let (Some(a), Some(b)) = (index(num), index(den)) else {
            continue;
        };
        let (a, b) = (&rates[a], &rates[b]);
        let ratio = median(a.iter().zip(b).map(|(x, y)| x / y).collect());
        let verdict = target.map_or(String::new(), |t| {
            format!("≥ {t} {}", if ratio >= t { "met" } else { "MISSED" })
        });
        println!("| {label} | {ratio:.2} | {verdict} |");
    }
}
