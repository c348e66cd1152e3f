//! Fault injection, judged by an independent RP library: for every fault, webauthn-rs accepts the
//! same ceremony without it and rejects it with it. The verdict is always the library's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fauxkey::authenticator::AttestationMode;
use fauxkey::client::client_data::Ceremony;
use fauxkey::env::{seeded_rng, FixedClock, SimulatedUser};
use fauxkey::faults::Fault;
use fauxkey::store::MemoryStore;
use fauxkey::{b64url, Authenticator, Client, Config};
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, COSEAlgorithm, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

const ORIGIN: &str = "https://example.com";

fn rp() -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        "example.com",
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(60),
        None,
        None,
    )
}

fn client(config: Config, seed: u64) -> Client {
    let authenticator = Authenticator::new(config, MemoryStore::new())
        .with_rng(seeded_rng(seed))
        .with_clock(FixedClock::at(1_700_000_000_000))
        .with_user(SimulatedUser::default());
    Client::new(authenticator).with_rng(seeded_rng(!seed))
}

/// One registration through webauthn-rs (UV required, packed self attestation requested so the
/// attestation statement carries a signature); `Err` is the library's rejection.
fn register(core: &WebauthnCore, client: &mut Client) -> Result<Credential, String> {
    let builder = core
        .new_challenge_register_builder(b"user-1", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .user_verification_policy(UserVerificationPolicy::Required)
        .attestation(AttestationConveyancePreference::Direct);
    let (options, state) = core.generate_challenge_register(builder).unwrap();
    let response = client
        .create(ORIGIN, &serde_json::to_string(&options).unwrap())
        .unwrap();
    let json = serde_json::to_string(&response).unwrap();
    let reg: RegisterPublicKeyCredential = serde_json::from_str(&json).unwrap();
    core.register_credential(&reg, &state, None)
        .map_err(|e| format!("{e:?}"))
}

/// One login (UV required) through webauthn-rs; on success the stored credential's counter is
/// updated as an RP would.
fn login(core: &WebauthnCore, client: &mut Client, cred: &mut Credential) -> Result<u32, String> {
    let builder = core
        .new_challenge_authenticate_builder(
            vec![cred.clone()],
            Some(UserVerificationPolicy::Required),
        )
        .unwrap();
    let (options, state) = core.generate_challenge_authenticate(builder).unwrap();
    let response = client
        .get(ORIGIN, &serde_json::to_string(&options).unwrap())
        .unwrap();
    let pkc: PublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    let result = core
        .authenticate_credential(&pkc, &state)
        .map_err(|e| format!("{e:?}"))?;
    cred.counter = result.counter();
    Ok(result.counter())
}

fn packed_config() -> Config {
    Config {
        attestation: AttestationMode::PackedSelf,
        ..Config::default()
    }
}

#[test]
fn every_login_fault_is_rejected_and_the_next_clean_login_is_accepted() {
    let core = rp();
    for (i, fault) in Fault::ALL.into_iter().enumerate() {
        assert!(fault.applies_to(Ceremony::Get));
        let mut c = client(packed_config(), 100 + i as u64);
        let mut cred = register(&core, &mut c).unwrap();
        assert_eq!(login(&core, &mut c, &mut cred), Ok(1));
        assert_eq!(login(&core, &mut c, &mut cred), Ok(2));

        c.inject_fault(fault, 1);
        assert_eq!(c.pending_faults(), vec![(fault, 1)]);
        let verdict = login(&core, &mut c, &mut cred);
        assert!(
            verdict.is_err(),
            "{fault}: webauthn-rs accepted {verdict:?}"
        );
        assert!(c.pending_faults().is_empty(), "{fault} was not used up");

        // The fault was the only reason: the next login is accepted, and the counter has kept
        // moving inside the authenticator (3 was used by the faulty response).
        assert_eq!(login(&core, &mut c, &mut cred), Ok(4), "{fault}");
    }
}

#[test]
fn every_registration_fault_is_rejected_and_the_next_clean_one_accepted() {
    let core = rp();
    for (i, fault) in Fault::ALL.into_iter().enumerate() {
        let mut c = client(packed_config(), 200 + i as u64);
        c.inject_fault(fault, 1);
        if !fault.applies_to(Ceremony::Create) {
            // Waits for a login: the registration is clean and the fault stays queued.
            register(&core, &mut c).unwrap();
            assert_eq!(c.pending_faults(), vec![(fault, 1)], "{fault}");
            continue;
        }
        let verdict = register(&core, &mut c);
        assert!(
            verdict.is_err(),
            "{fault}: webauthn-rs accepted {verdict:?}"
        );
        register(&core, &mut c).unwrap();
    }
}

#[test]
fn faults_count_down_over_several_responses_and_combine() {
    let core = rp();
    let mut c = client(Config::default(), 300);
    let mut cred = register(&core, &mut c).unwrap();
    c.inject_fault(Fault::WrongOrigin, 2);
    c.inject_fault(Fault::UpCleared, 1);
    assert!(login(&core, &mut c, &mut cred).is_err());
    assert_eq!(c.pending_faults(), vec![(Fault::WrongOrigin, 1)]);
    assert!(login(&core, &mut c, &mut cred).is_err());
    assert!(c.pending_faults().is_empty());
    login(&core, &mut c, &mut cred).unwrap();

    c.inject_fault(Fault::BadSignature, 5);
    c.clear_faults();
    login(&core, &mut c, &mut cred).unwrap();
}

#[test]
fn each_fault_changes_exactly_what_it_names() {
    // Byte-level check, independent of any verifier: compare a faulty login with a clean one
    // from an identical twin authenticator (same seed, same state).
    let options = r#"{"challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZQ", "rpId": "example.com",
        "userVerification": "required"}"#;
    let create = r#"{"rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
        "challenge": "Y2hhbGxlbmdlLTE", "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "required"}}"#;
    for fault in Fault::ALL {
        let mut clean = client(Config::default(), 7);
        let mut faulty = client(Config::default(), 7);
        for c in [&mut clean, &mut faulty] {
            c.create(ORIGIN, create).unwrap();
            c.get(ORIGIN, options).unwrap();
        }
        faulty.inject_fault(fault, 1);
        let a = clean.get(ORIGIN, options).unwrap().response;
        let b = faulty.get(ORIGIN, options).unwrap().response;
        let (ad_a, ad_b) = (
            b64url::decode(&a.authenticator_data).unwrap(),
            b64url::decode(&b.authenticator_data).unwrap(),
        );
        let cd_a: serde_json::Value =
            serde_json::from_slice(&b64url::decode(&a.client_data_json).unwrap()).unwrap();
        let cd_b: serde_json::Value =
            serde_json::from_slice(&b64url::decode(&b.client_data_json).unwrap()).unwrap();
        let changed_cd: Vec<&str> = ["type", "challenge", "origin", "crossOrigin"]
            .into_iter()
            .filter(|k| cd_a[*k] != cd_b[*k])
            .collect();
        let hash_changed = ad_a[..32] != ad_b[..32];
        let flags = (ad_a[32], ad_b[32]);
        let counters = (
            u32::from_be_bytes(ad_a[33..37].try_into().unwrap()),
            u32::from_be_bytes(ad_b[33..37].try_into().unwrap()),
        );
        match fault {
            Fault::BadSignature => {
                assert_eq!((ad_a.clone(), cd_a.clone()), (ad_b.clone(), cd_b.clone()));
                assert_ne!(a.signature, b.signature);
            }
            Fault::UpCleared => assert_eq!(flags, (0x1d, 0x1c)),
            Fault::UvCleared => assert_eq!(flags, (0x1d, 0x19)),
            Fault::BsWithoutBe => assert_eq!(flags, (0x1d, 0x15)),
            Fault::CounterBackwards => assert_eq!(counters, (2, 0)),
            Fault::WrongRpIdHash => assert!(hash_changed),
            Fault::WrongType => assert_eq!(cd_b["type"], "webauthn.create"),
            Fault::WrongChallenge => assert_eq!(changed_cd, ["challenge"]),
            Fault::WrongOrigin => assert_eq!(cd_b["origin"], "https://evilexample.com"),
        }
        let only_cd = matches!(
            fault,
            Fault::WrongType | Fault::WrongChallenge | Fault::WrongOrigin
        );
        assert_eq!(only_cd, !changed_cd.is_empty(), "{fault}");
        assert_eq!(
            fault == Fault::WrongRpIdHash,
            hash_changed,
            "{fault} and rpIdHash"
        );
        assert_eq!(
            fault == Fault::CounterBackwards,
            counters.0 != counters.1,
            "{fault} and counter"
        );
    }
}

/// `bad-signature` armed before a registration whose attestation is `none` (nothing signed) is
/// not used up by it: the response is clean and the fault waits for the next response it changes,
/// here the login, which webauthn-rs then rejects.
#[test]
fn bad_signature_is_kept_past_a_none_attestation_for_the_next_signed_response() {
    let core = rp();
    let config = Config {
        attestation: AttestationMode::None,
        ..Config::default()
    };
    let mut client = client(config, 31);
    client.inject_fault(Fault::BadSignature, 1);
    let mut cred = register(&core, &mut client).expect("a none attestation has nothing to break");
    assert_eq!(
        client.pending_faults(),
        vec![(Fault::BadSignature, 1)],
        "not used up by a response it did not change"
    );
    assert!(
        login(&core, &mut client, &mut cred).is_err(),
        "the login carries the broken signature"
    );
    assert!(client.pending_faults().is_empty());
    assert!(login(&core, &mut client, &mut cred).is_ok());
}
