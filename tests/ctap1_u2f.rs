//! CTAP1/U2F (issue 16) and the `fido-u2f` attestation (issue 18): the APDU table with every
//! status word, a register/authenticate round trip whose signatures are checked with p256 and
//! the attestation certificate, key handles shared with CTAP2, the vault across reopen, the
//! CTAPHID commands and capabilities per U2F mode, and webauthn-rs verifying a `fido-u2f`
//! registration and login that `Client` made against the `u2f-key` profile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fauxkey::attestation::AttestationCa;
use fauxkey::authenticator::U2fMode;
use fauxkey::ctap1::{
    self, AuthenticateRequest, AuthenticateResponse, Control, RegisterRequest, RegisterResponse,
    StatusWord,
};
use fauxkey::ctap2::get_assertion::Request as GaRequest;
use fauxkey::ctap2::{CredentialDescriptor, Options};
use fauxkey::env::{seeded_rng, FixedClock, Presence, SimulatedUser};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::{Authenticator, Client, Config};
use p256::ecdsa::signature::Verifier as _;
use sha2::{Digest, Sha256};
use x509_cert::der::Decode as _;

const NOW_MS: u64 = 1_700_000_000_000;
const ORIGIN: &str = "https://example.com";

fn authenticator(mode: U2fMode, user: SimulatedUser) -> Authenticator<MemoryStore> {
    let config = Config {
        u2f: mode,
        ..Config::default()
    };
    Authenticator::new(config, MemoryStore::new())
        .with_rng(seeded_rng(16))
        .with_clock(FixedClock::at(NOW_MS))
        .with_user(user)
}

fn app(name: &str) -> [u8; 32] {
    Sha256::digest(name.as_bytes()).into()
}

/// Sends an APDU; returns (data, status word).
fn send(a: &mut Authenticator<MemoryStore>, apdu: &[u8]) -> (Vec<u8>, u16) {
    let out = a.process_u2f(apdu);
    let (data, sw) = ctap1::split_response(&out).expect("a status word");
    (data.to_vec(), sw)
}

fn register(a: &mut Authenticator<MemoryStore>, application: [u8; 32]) -> RegisterResponse {
    let req = RegisterRequest {
        challenge: [0x11; 32],
        application,
    };
    let (data, sw) = send(a, &req.to_apdu().to_extended_bytes());
    assert_eq!(sw, 0x9000);
    RegisterResponse::parse(&data).unwrap()
}

fn authenticate_apdu(control: u8, application: [u8; 32], key_handle: &[u8]) -> Vec<u8> {
    let data = [
        &[0x22; 32][..],
        &application,
        &[key_handle.len() as u8],
        key_handle,
    ]
    .concat();
    let mut apdu = vec![0x00, 0x02, control, 0x00, 0x00];
    apdu.extend_from_slice(&(data.len() as u16).to_be_bytes());
    apdu.extend_from_slice(&data);
    apdu.extend_from_slice(&[0, 0]);
    apdu
}

fn verify(public_sec1: &[u8], message: &[u8], der_signature: &[u8]) -> bool {
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_sec1).unwrap();
    let sig = p256::ecdsa::DerSignature::from_bytes(der_signature).unwrap();
    key.verify(message, &sig).is_ok()
}

fn certificate_key(der: &[u8]) -> Vec<u8> {
    let cert = x509_cert::Certificate::from_der(der).unwrap();
    cert.tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes()
        .to_vec()
}

#[test]
fn apdu_table_every_status_word() {
    let mut a = authenticator(U2fMode::Also, SimulatedUser::default());
    let reg = register(&mut a, app("table.example"));
    let kh = reg.key_handle.clone();
    let good = app("table.example");
    let mut short_register = vec![0x00, 0x01, 0x03, 0x00, 64];
    short_register.extend_from_slice(&[0x33; 64]);
    let table: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "version, extended (python-fido2)",
            vec![0, 3, 0, 0, 0, 0, 0, 0, 0],
            0x9000,
        ),
        ("version, case 1", vec![0, 3, 0, 0], 0x9000),
        ("version, short Le", vec![0, 3, 0, 0, 0], 0x9000),
        ("register, short Lc", short_register.clone(), 0x9000),
        ("bad CLA", vec![0x80, 3, 0, 0], 0x6E00),
        (
            "bad CLA before a bad length",
            vec![0x01, 1, 0, 0, 5],
            0x6E00,
        ),
        ("unknown INS", vec![0, 0x40, 0, 0], 0x6D00),
        ("unknown INS 0xC0", vec![0, 0xC0, 0, 0, 0, 0, 0], 0x6D00),
        ("header cut short", vec![0, 3, 0], 0x6700),
        ("empty", vec![], 0x6700),
        (
            "short Lc longer than the data",
            vec![0, 1, 0, 0, 4, 1, 2],
            0x6700,
        ),
        (
            "extended Lc longer than the data",
            vec![0, 1, 0, 0, 0, 0, 9, 1],
            0x6700,
        ),
        (
            "register with 63 bytes",
            {
                let mut v = vec![0, 1, 3, 0, 0, 0, 63];
                v.extend_from_slice(&[0; 63]);
                v
            },
            0x6700,
        ),
        (
            "register with 65 bytes",
            {
                let mut v = vec![0, 1, 3, 0, 65];
                v.extend_from_slice(&[0; 65]);
                v
            },
            0x6700,
        ),
        ("version with data", vec![0, 3, 0, 0, 1, 0], 0x6700),
        (
            "authenticate, 64 bytes",
            {
                let mut v = vec![0, 2, 3, 0, 64];
                v.extend_from_slice(&[0; 64]);
                v
            },
            0x6700,
        ),
        (
            "authenticate, key handle length too long",
            {
                let mut v = authenticate_apdu(0x03, good, &kh);
                let at = 7 + 64;
                v[at] += 1;
                v
            },
            0x6700,
        ),
        (
            "check-only, known handle",
            authenticate_apdu(0x07, good, &kh),
            0x6985,
        ),
        (
            "check-only, unknown handle",
            authenticate_apdu(0x07, good, &[9; 32]),
            0x6A80,
        ),
        (
            "check-only, other application",
            authenticate_apdu(0x07, app("other.example"), &kh),
            0x6A80,
        ),
        (
            "enforce, unknown handle",
            authenticate_apdu(0x03, good, &[9; 32]),
            0x6A80,
        ),
        (
            "dont-enforce, other application",
            authenticate_apdu(0x08, app("x"), &kh),
            0x6A80,
        ),
        (
            "unknown control byte 0x05",
            authenticate_apdu(0x05, good, &kh),
            0x6A80,
        ),
        (
            "enforce, known handle",
            authenticate_apdu(0x03, good, &kh),
            0x9000,
        ),
        (
            "dont-enforce, known handle",
            authenticate_apdu(0x08, good, &kh),
            0x9000,
        ),
    ];
    let mut failures = Vec::new();
    for (name, apdu, want) in &table {
        let (data, sw) = send(&mut a, apdu);
        if sw != *want {
            failures.push(format!("{name}: SW {sw:04X}, want {want:04X}"));
        }
        if sw != 0x9000 && !data.is_empty() {
            failures.push(format!("{name}: an error with data"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(send(&mut a, &[0, 3, 0, 0]).0, b"U2F_V2");

    // The user refuses the touch: conditions not satisfied, for register and authenticate.
    let mut denied = authenticator(
        U2fMode::Only,
        SimulatedUser {
            presence: Presence::Deny,
            ..SimulatedUser::default()
        },
    );
    let (_, sw) = send(&mut denied, &short_register);
    assert_eq!(sw, 0x6985);
    assert!(denied.store().is_empty());

    // Without U2F every instruction is unsupported, and nothing is registered.
    let mut off = authenticator(U2fMode::Off, SimulatedUser::default());
    assert_eq!(send(&mut off, &[0, 3, 0, 0]).1, 0x6D00);
    assert_eq!(send(&mut off, &short_register).1, 0x6D00);
    assert!(off.store().is_empty());
}

#[test]
fn register_and_authenticate_signatures_verify() {
    let mut a = authenticator(U2fMode::Only, SimulatedUser::default());
    let application = app("https://example.com");
    let challenge = [0x11; 32];
    let reg = register(&mut a, application);
    assert_eq!(reg.public_key[0], 0x04);
    // The attestation signature, by the certificate's key.
    let signed =
        RegisterResponse::signed_data(&application, &challenge, &reg.key_handle, &reg.public_key);
    assert!(verify(
        &certificate_key(&reg.certificate),
        &signed,
        &reg.signature
    ));
    assert_eq!(
        signed.len(),
        1 + 32 + 32 + reg.key_handle.len() + 65,
        "0x00 ‖ app ‖ chal ‖ kh ‖ pk"
    );
    // The raw response layout: 0x05 ‖ pk ‖ L ‖ kh ‖ cert ‖ sig.
    let raw = reg.to_bytes();
    assert_eq!(raw[0], 0x05);
    assert_eq!(usize::from(raw[66]), reg.key_handle.len());

    let mut last = 0;
    for (control, up) in [
        (Control::EnforceUserPresence, 1),
        (Control::DontEnforceUserPresence, 0),
    ] {
        let req = AuthenticateRequest {
            control,
            challenge: [0x44; 32],
            application,
            key_handle: reg.key_handle.clone(),
        };
        let (data, sw) = send(&mut a, &req.to_apdu().to_extended_bytes());
        assert_eq!(sw, 0x9000);
        let got = AuthenticateResponse::parse(&data).unwrap();
        assert_eq!(got.user_presence, up);
        assert_eq!(got.counter, last + 1, "the counter increments");
        last = got.counter;
        let signed = AuthenticateResponse::signed_data(&application, up, got.counter, &[0x44; 32]);
        assert!(verify(&reg.public_key, &signed, &got.signature));
        assert!(!verify(
            &reg.public_key,
            &[&signed[..68], &[0]].concat(),
            &got.signature
        ));
    }
    // The credential is stored as a U2F registration: not discoverable, bound by appParam.
    let c = a.store().get(&reg.key_handle).unwrap();
    assert_eq!(c.u2f_app_param, Some(application));
    assert!(!c.discoverable);
    assert_eq!(c.sign_count, 2);
}

#[test]
fn key_handles_work_across_ctap1_and_ctap2() {
    let mut a = authenticator(U2fMode::Also, SimulatedUser::default());
    assert_eq!(a.get_info().versions[0], "U2F_V2");
    let application = app("both.example");
    let reg = register(&mut a, application);
    // CTAP2 getAssertion with rpIdHash = appParam finds the U2F registration.
    let ga = |a: &mut Authenticator<MemoryStore>, rp: &str, id: &[u8]| {
        a.get_assertion(GaRequest {
            rp_id: rp.into(),
            client_data_hash: vec![5; 32],
            allow_list: vec![CredentialDescriptor::public_key(id.to_vec())],
            hmac_secret: None,
            options: Options::default(),
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
            extensions: Default::default(),
        })
    };
    let got = ga(&mut a, "both.example", &reg.key_handle).unwrap();
    assert_eq!(&got.auth_data[..32], application.as_slice());
    let signed = [got.auth_data.as_slice(), &[5; 32]].concat();
    assert!(verify(&reg.public_key, &signed, &got.signature));
    assert!(got.user.is_none());
    assert!(ga(&mut a, "other.example", &reg.key_handle).is_err());

    // A CTAP2 credential answers U2F authenticate for SHA-256(rpId).
    let mut client = Client::new(a);
    let made = client
        .create(
            ORIGIN,
            r#"{"rp":{"id":"example.com","name":"E"},"user":{"id":"dQ","name":"u","displayName":"U"},
               "challenge":"AAAA","pubKeyCredParams":[{"type":"public-key","alg":-7}]}"#,
        )
        .unwrap();
    let id = fauxkey::b64url::decode(&made.id).unwrap();
    let a = client.authenticator_mut();
    let req = AuthenticateRequest {
        control: Control::CheckOnly,
        challenge: [0; 32],
        application: app("example.com"),
        key_handle: id.clone(),
    };
    assert_eq!(
        a.u2f_authenticate(&req),
        Err(StatusWord::ConditionsNotSatisfied)
    );
    let signed = a
        .u2f_authenticate(&AuthenticateRequest {
            control: Control::EnforceUserPresence,
            ..req
        })
        .unwrap();
    let spki = fauxkey::b64url::decode(made.response.public_key.as_deref().unwrap()).unwrap();
    let point = &spki[spki.len() - 65..];
    let message =
        AuthenticateResponse::signed_data(&app("example.com"), 1, signed.counter, &[0; 32]);
    assert!(verify(point, &message, &signed.signature));
}

#[test]
fn u2f_registrations_survive_a_vault_reopen() {
    use fauxkey::vault::{KdfParams, Passphrase, Vault};
    let dir = std::env::temp_dir().join(format!("fauxkey-ctap1-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("u2f.fxk");
    let pass = Passphrase::new("correct horse").unwrap();
    let config = fauxkey::profiles::find("u2f-key").unwrap().config;
    let vault = Vault::create(&path, &pass, KdfParams::INSECURE_FAST, config).unwrap();
    let mut a = vault.into_authenticator();
    let application = app("vault.example");
    let reg = {
        let req = RegisterRequest {
            challenge: [1; 32],
            application,
        };
        let out = a.process_u2f(&req.to_apdu().to_extended_bytes());
        let (data, sw) = ctap1::split_response(&out).unwrap();
        assert_eq!(sw, 0x9000);
        RegisterResponse::parse(data).unwrap()
    };
    drop(a);
    let mut a = Vault::open(&path, &pass).unwrap().into_authenticator();
    assert_eq!(a.config().u2f, U2fMode::Only);
    let got = a
        .u2f_authenticate(&AuthenticateRequest {
            control: Control::EnforceUserPresence,
            challenge: [2; 32],
            application,
            key_handle: reg.key_handle.clone(),
        })
        .unwrap();
    assert_eq!(got.counter, 1);
    let message = AuthenticateResponse::signed_data(&application, 1, 1, &[2; 32]);
    assert!(verify(&reg.public_key, &message, &got.signature));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctaphid_commands_and_capabilities_follow_the_u2f_mode() {
    use fauxkey::ctaphid::device::{Action, Device};
    use fauxkey::ctaphid::reassembler::Reassembler;
    use fauxkey::ctaphid::{cmd, fragment, BROADCAST_CID};
    for (cbor, msg, caps) in [
        (true, false, 0x01 | 0x04 | 0x08),
        (true, true, 0x01 | 0x04),
        (false, true, 0x01),
    ] {
        let mut d = Device::new(Reassembler::new(500), [1, 2, 3]).with_commands(cbor, msg);
        let init = fragment(BROADCAST_CID, cmd::INIT, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let Action::Send(reply) = &d.receive(&init[0], 0)[0] else {
            panic!("no INIT answer")
        };
        assert_eq!(
            reply[0][7 + 16],
            caps,
            "capabilities for cbor={cbor} msg={msg}"
        );
        let cid = u32::from_be_bytes(reply[0][15..19].try_into().unwrap());
        let apdu = [0u8, 3, 0, 0];
        let actions = d.receive(&fragment(cid, cmd::MSG, &apdu)[0], 1);
        if msg {
            assert_eq!(
                actions,
                vec![Action::ExecuteMsg {
                    cid,
                    request: apdu.to_vec()
                }]
            );
            // The answer goes back as CTAPHID_MSG.
            let Action::Send(answer) = &d.finish(cid, &[0x90, 0x00])[0] else {
                panic!("no answer")
            };
            assert_eq!(answer[0][4], 0x80 | cmd::MSG);
        } else {
            assert_eq!(
                actions,
                vec![Action::Send(fragment(cid, cmd::ERROR, &[0x01]))]
            );
        }
        let actions = d.receive(&fragment(cid, cmd::CBOR, &[0x04])[0], 2);
        if cbor {
            assert!(matches!(actions[0], Action::Execute { .. }));
            d.finish(cid, &[0]);
        } else {
            assert_eq!(
                actions,
                vec![Action::Send(fragment(cid, cmd::ERROR, &[0x01]))]
            );
        }
    }
    // A U2F-only authenticator refuses CTAP2 bytes too.
    let mut a = authenticator(U2fMode::Only, SimulatedUser::default());
    assert_eq!(a.process(&[0x04]), vec![0x01]);
    assert!(!a.uv_capable());
}

/// `Client` against the `u2f-key` profile falls back to U2F; webauthn-rs verifies the
/// `fido-u2f` registration (chained to our test root) and the login.
mod webauthn_rs {
    use std::time::Duration;

    use webauthn_rs_core::proto::{
        AttestationCaList, AttestationConveyancePreference, AttestationFormat, COSEAlgorithm,
        ParsedAttestationData, PublicKeyCredential, RegisterPublicKeyCredential,
        UserVerificationPolicy,
    };
    use webauthn_rs_core::WebauthnCore;

    use super::*;

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

    fn u2f_client(seed: u64) -> (Client, AttestationCa) {
        let ca = AttestationCa::generate(&mut seeded_rng(seed)).unwrap();
        let profile = fauxkey::profiles::find("u2f-key")
            .unwrap()
            .with_attestation(&ca, &mut seeded_rng(seed + 1))
            .unwrap();
        let authenticator = profile
            .authenticator(MemoryStore::new())
            .with_rng(seeded_rng(seed + 2))
            .with_clock(FixedClock::at(NOW_MS));
        (
            profile.client(authenticator).with_rng(seeded_rng(seed + 3)),
            ca,
        )
    }

    #[test]
    fn fido_u2f_registration_and_login_verified_by_webauthn_rs() {
        let core = rp();
        let (mut client, ca) = u2f_client(1600);
        let builder = core
            .new_challenge_register_builder(b"u2f-user", "u2f", "U2F")
            .unwrap()
            .credential_algorithms(vec![COSEAlgorithm::ES256])
            .user_verification_policy(UserVerificationPolicy::Discouraged_DO_NOT_USE)
            .require_resident_key(false)
            .attestation(AttestationConveyancePreference::Direct);
        let (ccr, state) = core.generate_challenge_register(builder).unwrap();
        let response = client
            .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
            .unwrap();
        let reg: RegisterPublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        // U2F certificates carry no AAGUID, so the root is trusted for every device under it.
        let trust = AttestationCaList::try_from(ca.root_pem().unwrap().as_bytes()).unwrap();
        let cred = core
            .register_credential(&reg, &state, Some(&trust))
            .unwrap_or_else(|e| panic!("webauthn-rs rejected our fido-u2f registration: {e:?}"));
        assert!(
            matches!(cred.attestation_format, AttestationFormat::FIDOU2F),
            "{:?}",
            cred.attestation_format
        );
        assert!(
            matches!(cred.attestation.data, ParsedAttestationData::Basic(_)),
            "{:?}",
            cred.attestation.data
        );

        for expected_counter in [1u32, 2] {
            let builder = core
                .new_challenge_authenticate_builder(
                    vec![cred.clone()],
                    Some(UserVerificationPolicy::Discouraged_DO_NOT_USE),
                )
                .unwrap();
            let (rcr, auth_state) = core.generate_challenge_authenticate(builder).unwrap();
            let login = client
                .get(ORIGIN, &serde_json::to_string(&rcr).unwrap())
                .unwrap();
            assert_eq!(login.response.user_handle, None);
            let pkc: PublicKeyCredential =
                serde_json::from_str(&serde_json::to_string(&login).unwrap()).unwrap();
            let result = core
                .authenticate_credential(&pkc, &auth_state)
                .unwrap_or_else(|e| panic!("webauthn-rs rejected our U2F login: {e:?}"));
            assert_eq!(result.counter(), expected_counter);
            assert!(!result.user_verified());
        }
    }

    #[test]
    fn what_u2f_cannot_do_is_refused_with_the_browser_s_errors() {
        let (mut client, _) = u2f_client(1610);
        let options = |extra: &str| {
            format!(
                r#"{{"rp":{{"id":"example.com","name":"E"}},"user":{{"id":"dQ","name":"u","displayName":"U"}},
                    "challenge":"AAAA","pubKeyCredParams":[{{"type":"public-key","alg":-7}}]{extra}}}"#
            )
        };
        fn name<T>(r: Result<T, fauxkey::client::ClientError>) -> &'static str {
            match r {
                Ok(_) => "no error",
                Err(e) => e.name(),
            }
        }
        // Discoverable credentials and user verification do not exist in U2F.
        assert_eq!(
            name(client.create(
                ORIGIN,
                &options(r#","authenticatorSelection":{"residentKey":"required"}"#)
            )),
            "NotAllowedError"
        );
        assert_eq!(
            name(client.create(
                ORIGIN,
                &options(r#","authenticatorSelection":{"userVerification":"required"}"#)
            )),
            "NotAllowedError"
        );
        // ES256 only.
        let eddsa = options("").replace("-7", "-8");
        assert_eq!(name(client.create(ORIGIN, &eddsa)), "NotSupportedError");
        // `none` conveyance: fmt none, zero AAGUID.
        let made = client.create(ORIGIN, &options("")).unwrap();
        let object = fauxkey::cbor::decode(
            &fauxkey::b64url::decode(&made.response.attestation_object).unwrap(),
        )
        .unwrap();
        let fmt = object
            .as_map()
            .unwrap()
            .iter()
            .find(|(k, _)| k.as_text() == Some("fmt"))
            .and_then(|(_, v)| v.as_text().map(str::to_owned));
        assert_eq!(fmt.as_deref(), Some("none"));
        let auth_data = fauxkey::b64url::decode(&made.response.authenticator_data).unwrap();
        assert_eq!(&auth_data[37..53], &[0; 16]);
        // The exclude list is checked with check-only authenticate.
        let excluded = options(&format!(
            r#","excludeCredentials":[{{"type":"public-key","id":"{}"}}]"#,
            made.id
        ));
        assert_eq!(name(client.create(ORIGIN, &excluded)), "InvalidStateError");
        // A login needs an allow list.
        assert_eq!(
            name(client.get(ORIGIN, r#"{"challenge":"AAAA","rpId":"example.com"}"#)),
            "NotAllowedError"
        );
        let unknown = r#"{"challenge":"AAAA","rpId":"example.com","allowCredentials":[{"type":"public-key","id":"AAAAAAAA"}]}"#;
        assert_eq!(name(client.get(ORIGIN, unknown)), "NotAllowedError");
    }
}

/// The fixture generator on the `u2f-key` profile: a golden `fido-u2f` registration and the
/// broken `u2f-wrong-public-key-encoding` one, whose signature verifies over the compressed
/// point but not over the raw point RPs rebuild.
#[test]
fn fixtures_have_a_golden_fido_u2f_case_and_the_broken_encoding() {
    use fauxkey::fixtures::{self, FixtureOptions, Verdict};
    let corpus = fixtures::generate(&FixtureOptions {
        seed: 16,
        negative: true,
        profiles: vec![fauxkey::profiles::find("u2f-key").unwrap()],
        algorithms: vec![fauxkey::crypto::keys::Algorithm::Es256],
        ..FixtureOptions::default()
    })
    .unwrap();
    let cases = &corpus.manifest().cases;
    let golden = cases
        .iter()
        .find(|c| c.fmt.as_deref() == Some("fido-u2f") && c.verdict == Verdict::Accept)
        .expect("a golden fido-u2f registration");
    assert_eq!(
        golden.expected.as_ref().unwrap().aaguid.as_deref(),
        Some("00000000-0000-0000-0000-000000000000")
    );
    let broken: Vec<_> = cases
        .iter()
        .filter(|c| c.broken.as_deref() == Some("u2f-wrong-public-key-encoding"))
        .collect();
    assert_eq!(broken.len(), 1, "only the direct (fido-u2f) group has it");
    assert_eq!(broken[0].verdict, Verdict::Reject);
    assert!(corpus
        .manifest()
        .not_applicable
        .iter()
        .any(|n| n.broken == "u2f-wrong-public-key-encoding"));
    // The broken statement: sig does not verify over 0x04 ‖ x ‖ y, but does over 0x02/03 ‖ x.
    let response: serde_json::Value =
        serde_json::from_slice(corpus.file(&broken[0].files.response).unwrap()).unwrap();
    let object = fauxkey::cbor::decode(
        &fauxkey::b64url::decode(response["response"]["attestationObject"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let member = |m: &ciborium::value::Value, k: &str| {
        m.as_map()
            .unwrap()
            .iter()
            .find(|(key, _)| key.as_text() == Some(k))
            .unwrap()
            .1
            .clone()
    };
    let statement = member(&object, "attStmt");
    let sig = member(&statement, "sig").into_bytes().unwrap();
    let x5c = member(&statement, "x5c").into_array().unwrap();
    let cert = x5c[0].as_bytes().unwrap();
    let auth_data = member(&object, "authData").into_bytes().unwrap();
    let parsed = fauxkey::ctap2::auth_data::AuthenticatorData::parse(&auth_data).unwrap();
    let attested = parsed.attested.unwrap();
    let cose = fauxkey::cbor::decode(&attested.public_key_cose).unwrap();
    let public = fauxkey::crypto::keys::PublicKey::from_cose(&cose).unwrap();
    let (x, y) = public.ec_coordinates().unwrap();
    let client_data =
        fauxkey::b64url::decode(response["response"]["clientDataJSON"].as_str().unwrap()).unwrap();
    let signed = |point: &[u8]| {
        [
            &[0u8][..],
            &parsed.rp_id_hash,
            &Sha256::digest(&client_data),
            &attested.credential_id,
            point,
        ]
        .concat()
    };
    let raw = [&[4u8][..], &x, &y].concat();
    let compressed = [&[2 + (y[31] & 1)][..], &x].concat();
    let key = certificate_key(cert);
    assert!(!verify(&key, &signed(&raw), &sig));
    assert!(verify(&key, &signed(&compressed), &sig));
}
