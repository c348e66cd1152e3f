//! Fault injection through `fauxkey serve`'s control plane, judged by webauthn-rs: for every
//! fault, the RP library accepts the ceremony without it and rejects it, for the reason the
//! fault names, when the fault is switched on over HTTP. The verdicts are the library's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{rp, start, Http, ORIGIN};
use fauxkey::faults::Fault;
use serde_json::{json, Value};
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, COSEAlgorithm, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

/// An authenticator with packed self attestation, so registrations carry a signature too.
fn packed_authenticator(http: &Http, seed: u64) -> String {
    let (status, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"attestation": "packed", "seed": seed}),
    );
    assert_eq!(status, 201, "{created}");
    created["authenticatorId"].as_str().unwrap().to_owned()
}

/// A registration over HTTP (UV required, direct attestation); `Err` is webauthn-rs's verdict.
fn register(core: &WebauthnCore, http: &Http, id: &str) -> Result<Credential, String> {
    let builder = core
        .new_challenge_register_builder(b"user-1", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .user_verification_policy(UserVerificationPolicy::Required)
        .attestation(AttestationConveyancePreference::Direct);
    let (options, state) = core.generate_challenge_register(builder).unwrap();
    let (status, response) = http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": options, "authenticatorId": id}),
    );
    assert_eq!(
        status, 200,
        "a faulty response is still a response: {response}"
    );
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    core.register_credential(&reg, &state, None)
        .map_err(|e| format!("{e:?}"))
}

/// A login over HTTP (UV required); on success the RP's stored counter moves on.
fn login(core: &WebauthnCore, http: &Http, id: &str, cred: &mut Credential) -> Result<u32, String> {
    let builder = core
        .new_challenge_authenticate_builder(
            vec![cred.clone()],
            Some(UserVerificationPolicy::Required),
        )
        .unwrap();
    let (options, state) = core.generate_challenge_authenticate(builder).unwrap();
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options, "authenticatorId": id}),
    );
    assert_eq!(
        status, 200,
        "a faulty response is still a response: {response}"
    );
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    let result = core
        .authenticate_credential(&pkc, &state)
        .map_err(|e| format!("{e:?}"))?;
    cred.counter = result.counter();
    Ok(result.counter())
}

fn inject(http: &Http, fault: &str, count: u32, id: &str) {
    let (status, body) = http.post(
        "/_fauxkey/faults",
        &json!({"fault": fault, "count": count, "authenticatorId": id}),
    );
    assert_eq!(status, 204, "{body}");
}

fn pending(http: &Http) -> Value {
    let (status, list) = http.get("/_fauxkey/faults");
    assert_eq!(status, 200);
    list
}

/// webauthn-rs's error for each fault: the rejection happens for the fault's own reason.
fn expected_login_error(fault: Fault) -> &'static str {
    match fault {
        Fault::BadSignature => "AuthenticationFailure",
        Fault::UpCleared => "UserNotPresent",
        Fault::UvCleared => "UserNotVerified",
        Fault::CounterBackwards => "CredentialPossibleCompromise",
        Fault::WrongRpIdHash => "InvalidRPIDHash",
        // The fault clears BE on a credential registered with BE set: webauthn-rs first sees
        // that BE changed. (`bs_without_be_on_a_credential_registered_without_be` below shows
        // its check of BS-without-BE itself.)
        Fault::BsWithoutBe => "CredentialBackupEligibilityInconsistent",
        Fault::WrongType => "InvalidClientDataType",
        Fault::WrongChallenge => "MismatchedChallenge",
        Fault::WrongOrigin => "InvalidRPOrigin",
    }
}

fn expected_registration_error(fault: Fault) -> &'static str {
    match fault {
        Fault::BadSignature => "AttestationStatementSigInvalid",
        // webauthn-rs's name for "BS set without BE" (core.rs: "indicates it is backed up, but
        // has not declared valid backup eligibility").
        Fault::BsWithoutBe => "CredentialMayNotBeHardwareBound",
        other => expected_login_error(other),
    }
}

fn login_fault(fault: Fault, seed: u64) {
    let (_server, http) = start(seed);
    let core = rp();
    let id = packed_authenticator(&http, seed);
    let mut cred = register(&core, &http, &id).unwrap();
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(1));
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(2));

    inject(&http, fault.name(), 1, &id);
    assert_eq!(
        pending(&http),
        json!([{"fault": fault.name(), "remaining": 1, "authenticatorId": id, "description": fault.description()}])
    );
    let verdict = login(&core, &http, &id, &mut cred);
    assert_eq!(
        verdict,
        Err(expected_login_error(fault).to_owned()),
        "{fault}"
    );
    assert_eq!(pending(&http), json!([]), "{fault} was used up");
    // Without the fault the same flow is accepted (the faulty response used counter 3).
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(4), "{fault}");
}

fn registration_fault(fault: Fault, seed: u64) {
    let (_server, http) = start(seed);
    let core = rp();
    let id = packed_authenticator(&http, seed);
    inject(&http, fault.name(), 1, &id);
    let verdict = register(&core, &http, &id).map(|_| ());
    assert_eq!(
        verdict,
        Err(expected_registration_error(fault).to_owned()),
        "{fault}"
    );
    assert_eq!(pending(&http), json!([]));
    register(&core, &http, &id).unwrap();
}

macro_rules! fault_tests {
    ($($login:ident, $registration:ident, $fault:expr, $seed:expr;)*) => {
        $(
            #[test]
            fn $login() {
                login_fault($fault, $seed);
            }

            #[test]
            fn $registration() {
                registration_fault($fault, $seed + 1000);
            }
        )*
    };
}

fault_tests! {
    login_bad_signature, registration_bad_signature, Fault::BadSignature, 1;
    login_up_cleared, registration_up_cleared, Fault::UpCleared, 2;
    login_uv_cleared, registration_uv_cleared, Fault::UvCleared, 3;
    login_wrong_rp_id_hash, registration_wrong_rp_id_hash, Fault::WrongRpIdHash, 5;
    login_bs_without_be, registration_bs_without_be, Fault::BsWithoutBe, 6;
    login_wrong_type, registration_wrong_type, Fault::WrongType, 7;
    login_wrong_challenge, registration_wrong_challenge, Fault::WrongChallenge, 8;
    login_wrong_origin, registration_wrong_origin, Fault::WrongOrigin, 9;
}

#[test]
fn login_counter_backwards() {
    login_fault(Fault::CounterBackwards, 4);
}

#[test]
fn counter_backwards_waits_for_a_login() {
    // A registration has no previous counter: the fault stays queued through it and is used by
    // the next login. Right after registration "previous - 1" saturates at 0, and a zero
    // counter means "no counter" to RPs (WebAuthn §6.1.1), so webauthn-rs accepts that one:
    // an RP test should inject counter-backwards after at least one clean login.
    let (_server, http) = start(40);
    let core = rp();
    let id = packed_authenticator(&http, 40);
    inject(&http, "counter-backwards", 1, &id);
    let mut cred = register(&core, &http, &id).unwrap();
    assert_eq!(pending(&http)[0]["remaining"], 1);
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(0));
    assert_eq!(pending(&http), json!([]));
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(2));
}

#[test]
fn bs_without_be_on_a_credential_registered_without_be() {
    let (_server, http) = start(45);
    let core = rp();
    let (_, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"backupEligible": false, "backupState": false, "attestation": "packed"}),
    );
    let id = created["authenticatorId"].as_str().unwrap().to_owned();
    let mut cred = register(&core, &http, &id).unwrap();
    assert!(!cred.backup_eligible);
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(1));
    inject(&http, "bs-without-be", 1, &id);
    assert_eq!(
        login(&core, &http, &id, &mut cred),
        Err("CredentialMayNotBeHardwareBound".to_owned())
    );
    assert_eq!(login(&core, &http, &id, &mut cred), Ok(3));
}

#[test]
fn every_fault_has_a_test_here() {
    // The tests above cover these; a fault added to fauxkey without a test here fails this.
    let covered = [
        Fault::BadSignature,
        Fault::UpCleared,
        Fault::UvCleared,
        Fault::CounterBackwards,
        Fault::WrongRpIdHash,
        Fault::BsWithoutBe,
        Fault::WrongType,
        Fault::WrongChallenge,
        Fault::WrongOrigin,
    ];
    assert_eq!(covered, Fault::ALL);
}

#[test]
fn faults_are_per_authenticator_count_down_and_clear() {
    let (_server, http) = start(50);
    let core = rp();
    let a = packed_authenticator(&http, 51);
    let b = packed_authenticator(&http, 52);
    let mut cred_a = register(&core, &http, &a).unwrap();
    let mut cred_b = register(&core, &http, &b).unwrap();
    inject(&http, "wrong-origin", 2, &a);
    // b is untouched by a's fault.
    assert_eq!(login(&core, &http, &b, &mut cred_b), Ok(1));
    assert!(login(&core, &http, &a, &mut cred_a).is_err());
    assert_eq!(pending(&http)[0]["remaining"], 1);
    assert!(login(&core, &http, &a, &mut cred_a).is_err());
    assert_eq!(login(&core, &http, &a, &mut cred_a), Ok(3));

    // Several at once, then DELETE clears them.
    inject(&http, "bad-signature", 5, &a);
    inject(&http, "up-cleared", 5, &b);
    assert_eq!(pending(&http).as_array().unwrap().len(), 2);
    let (status, only_b) = http.get(&format!("/_fauxkey/faults?authenticatorId={b}"));
    assert_eq!(status, 200);
    assert_eq!(only_b.as_array().unwrap().len(), 1);
    assert_eq!(
        http.delete(&format!("/_fauxkey/faults?authenticatorId={b}"))
            .0,
        204
    );
    assert_eq!(pending(&http)[0]["authenticatorId"], a.as_str());
    assert_eq!(http.delete("/_fauxkey/faults").0, 204);
    assert_eq!(pending(&http), json!([]));
    assert_eq!(login(&core, &http, &a, &mut cred_a), Ok(4));

    // Reset clears them too (the default authenticator's).
    let (status, _) = http.post("/_fauxkey/faults", &json!({"fault": "wrong-type"}));
    assert_eq!(status, 204);
    assert_eq!(pending(&http)[0]["authenticatorId"], "default");
    assert_eq!(pending(&http)[0]["remaining"], 1);
    assert_eq!(http.post_raw("/_fauxkey/reset", "").0, 204);
    assert_eq!(pending(&http), json!([]));
}

#[test]
fn bad_fault_requests_are_refused() {
    let (_server, http) = start(60);
    let (status, body) = http.post("/_fauxkey/faults", &json!({"fault": "bogus"}));
    assert_eq!(status, 400);
    assert_eq!(body["name"], "TypeError");
    let message = body["message"].as_str().unwrap();
    for f in Fault::ALL {
        assert!(message.contains(f.name()), "{message} lists {f}");
    }
    let (status, body) = http.post(
        "/_fauxkey/faults",
        &json!({"fault": "bad-signature", "count": 0}),
    );
    assert_eq!((status, body["name"].as_str()), (400, Some("TypeError")));
    let (status, body) = http.post(
        "/_fauxkey/faults",
        &json!({"fault": "bad-signature", "count": -1}),
    );
    assert_eq!((status, body["name"].as_str()), (400, Some("TypeError")));
    let (status, body) = http.post(
        "/_fauxkey/faults",
        &json!({"fault": "bad-signature", "authenticatorId": "nope"}),
    );
    assert_eq!(
        (status, body["name"].as_str()),
        (404, Some("NotFoundError"))
    );
    assert_eq!(http.delete("/_fauxkey/faults?authenticatorId=nope").0, 404);
    assert_eq!(pending(&http), json!([]));
}
