//! Interoperability with an independent relying-party library: webauthn-rs.
//!
//! Every test runs the real round trip: webauthn-rs generates the options, they go to
//! [`fauxkey::Client`] as JSON (the `{"publicKey": …}` wrapper webauthn-rs serialises), our
//! response goes back as JSON into webauthn-rs's own wire types, and webauthn-rs verifies it.
//! Nothing here checks a signature itself: the verdict is always the library's.
//!
//! webauthn-rs-core 0.6 cannot verify Ed25519, so the same suite runs three times:
//! 0.6.2 with ES256, 0.5.4 (OpenSSL backend) with EdDSA, and 0.5.4 with ES256.

#![allow(clippy::unwrap_used)]

use fauxkey::authenticator::{AttestationMode, CounterPolicy};
use fauxkey::client::ClientError;
use fauxkey::env::{seeded_rng, FixedClock, SimulatedUser, Verification};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::{b64url, Authenticator, Client, Config};

const RP_ID: &str = "example.com";
const ORIGIN: &str = "https://example.com";
const NOW_MS: u64 = 1_700_000_000_000;

/// A fully deterministic browser + authenticator.
fn client_with(config: Config, user: SimulatedUser, seed: u64) -> Client {
    let authenticator = Authenticator::new(config, MemoryStore::new())
        .with_rng(seeded_rng(seed))
        .with_clock(FixedClock::at(NOW_MS))
        .with_user(user);
    Client::new(authenticator).with_rng(seeded_rng(seed ^ 0x5eed))
}

fn default_client(seed: u64) -> Client {
    client_with(Config::default(), SimulatedUser::default(), seed)
}

fn not_capable_user() -> SimulatedUser {
    SimulatedUser {
        verification: Verification::NotCapable,
        ..SimulatedUser::default()
    }
}

/// Replaces one byte of the challenge inside base64url clientDataJSON, leaving every other byte
/// of the JSON exactly as the client wrote it.
fn tamper_challenge(client_data_b64: &str) -> String {
    let bytes = b64url::decode(client_data_b64).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let challenge = parsed["challenge"].as_str().unwrap().to_owned();
    let mut raw = b64url::decode(&challenge).unwrap();
    raw[0] ^= 0x01;
    let tampered = text.replacen(&challenge, &b64url::encode(&raw), 1);
    assert_ne!(tampered, text);
    b64url::encode(tampered.as_bytes())
}

/// Flips one bit of a byte well inside the signature (inside `s` for DER ECDSA, inside `S` for
/// Ed25519), so that it stays well-formed but no longer verifies.
fn tamper_signature(signature_b64: &str) -> String {
    let mut sig = b64url::decode(signature_b64).unwrap();
    let i = sig.len() - 5;
    sig[i] ^= 0x01;
    b64url::encode(&sig)
}

/// Flips one bit inside `attStmt.sig` of a base64url `packed` attestation object.
fn tamper_attestation_signature(attestation_object_b64: &str) -> String {
    use ciborium::value::Value;
    fn member<'a>(map: &'a mut [(Value, Value)], name: &str) -> &'a mut Value {
        &mut map
            .iter_mut()
            .find(|(k, _)| k.as_text() == Some(name))
            .unwrap()
            .1
    }
    let mut object =
        fauxkey::cbor::decode(&b64url::decode(attestation_object_b64).unwrap()).unwrap();
    let Value::Map(entries) = &mut object else {
        panic!("attestation object is not a map")
    };
    assert_eq!(member(entries, "fmt").as_text(), Some("packed"));
    let Value::Map(statement) = member(entries, "attStmt") else {
        panic!("attStmt is not a map")
    };
    let Value::Bytes(sig) = member(statement, "sig") else {
        panic!("attStmt.sig is not bytes")
    };
    let i = sig.len() - 5;
    sig[i] ^= 0x01;
    b64url::encode(&fauxkey::cbor::encode(&object))
}

fn expect_dom_error<T: std::fmt::Debug>(result: Result<T, ClientError>, name: &str) -> ClientError {
    let err = result.expect_err("the client should have refused");
    assert_eq!(err.name(), name, "wrong DOMException: {err}");
    err
}

/// The whole suite, instantiated once per (webauthn-rs version, algorithm).
macro_rules! interop_suite {
    ($module:ident, $core:ident, $alg:ident, $cose_id:expr) => {
        mod $module {
            use std::collections::HashMap;
            use std::time::Duration;

            use wrs::error::WebauthnError;
            use wrs::proto::{
                AttestationConveyancePreference, AttestationFormat, AuthenticationResult,
                AuthenticationState, COSEAlgorithm, Credential, ParsedAttestationData,
                PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState,
                UserVerificationPolicy,
            };
            use wrs::WebauthnCore;
            use $core as wrs;

            use super::*;

            const ALG: COSEAlgorithm = COSEAlgorithm::$alg;

            fn rp() -> WebauthnCore {
                WebauthnCore::new_unsafe_experts_only(
                    "Example RP",
                    RP_ID,
                    vec![url::Url::parse(ORIGIN).unwrap()],
                    Duration::from_secs(60),
                    None,
                    None,
                )
            }

            struct Reg<'a> {
                user_id: &'a [u8],
                name: &'a str,
                uv: UserVerificationPolicy,
                rk: bool,
                attestation: AttestationConveyancePreference,
            }

            impl Default for Reg<'_> {
                fn default() -> Self {
                    Self {
                        user_id: b"alice-user-handle",
                        name: "alice",
                        uv: UserVerificationPolicy::Preferred,
                        rk: false,
                        attestation: AttestationConveyancePreference::None,
                    }
                }
            }

            /// webauthn-rs's creation options, as the JSON a server would send.
            fn start_reg(core: &WebauthnCore, r: &Reg) -> (String, RegistrationState) {
                let builder = core
                    .new_challenge_register_builder(
                        r.user_id,
                        r.name,
                        &format!("{} (display)", r.name),
                    )
                    .unwrap()
                    .credential_algorithms(vec![ALG])
                    .user_verification_policy(r.uv)
                    .require_resident_key(r.rk)
                    .attestation(r.attestation.clone());
                let (ccr, state) = core.generate_challenge_register(builder).unwrap();
                (serde_json::to_string(&ccr).unwrap(), state)
            }

            fn finish_reg(
                core: &WebauthnCore,
                response_json: &str,
                state: &RegistrationState,
            ) -> Result<Credential, WebauthnError> {
                let reg: RegisterPublicKeyCredential = serde_json::from_str(response_json)
                    .unwrap_or_else(|e| {
                        panic!("webauthn-rs cannot parse our response: {e}\n{response_json}")
                    });
                core.register_credential(&reg, state, None)
            }

            /// Options → our client → webauthn-rs; panics unless the library accepts.
            fn register(core: &WebauthnCore, client: &mut Client, r: &Reg) -> Credential {
                let (options, state) = start_reg(core, r);
                let response = client.create(ORIGIN, &options).unwrap();
                assert_eq!(response.response.public_key_algorithm, $cose_id);
                let cred = finish_reg(core, &serde_json::to_string(&response).unwrap(), &state)
                    .unwrap_or_else(|e| panic!("webauthn-rs rejected our registration: {e:?}"));
                // The library's own reading of the credential key.
                assert_eq!(cred.cred.type_, ALG);
                cred
            }

            fn start_auth(
                core: &WebauthnCore,
                creds: Vec<Credential>,
                uv: UserVerificationPolicy,
            ) -> (String, AuthenticationState) {
                let builder = core
                    .new_challenge_authenticate_builder(creds, Some(uv))
                    .unwrap();
                let (rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
                (serde_json::to_string(&rcr).unwrap(), state)
            }

            fn parse_auth(response_json: &str) -> PublicKeyCredential {
                serde_json::from_str(response_json).unwrap_or_else(|e| {
                    panic!("webauthn-rs cannot parse our response: {e}\n{response_json}")
                })
            }

            fn finish_auth(
                core: &WebauthnCore,
                response_json: &str,
                state: &AuthenticationState,
            ) -> Result<AuthenticationResult, WebauthnError> {
                core.authenticate_credential(&parse_auth(response_json), state)
            }

            /// A login with an allow list; panics unless webauthn-rs accepts.
            fn login(
                core: &WebauthnCore,
                client: &mut Client,
                cred: &Credential,
                uv: UserVerificationPolicy,
            ) -> AuthenticationResult {
                let (options, state) = start_auth(core, vec![cred.clone()], uv);
                let response = client.get(ORIGIN, &options).unwrap();
                finish_auth(core, &serde_json::to_string(&response).unwrap(), &state)
                    .unwrap_or_else(|e| panic!("webauthn-rs rejected our assertion: {e:?}"))
            }

            /// A discoverable login, done the way webauthn-rs documents it: empty allow list,
            /// then the RP looks the user up by the returned user handle and hands webauthn-rs
            /// that user's credentials.
            fn discoverable_login(
                core: &WebauthnCore,
                client: &mut Client,
                accounts: &HashMap<Vec<u8>, Vec<Credential>>,
                uv: UserVerificationPolicy,
            ) -> Result<(AuthenticationResult, Vec<u8>), WebauthnError> {
                let (options, mut state) = start_auth(core, Vec::new(), uv);
                let sent: serde_json::Value = serde_json::from_str(&options).unwrap();
                assert_eq!(sent["publicKey"]["allowCredentials"], serde_json::json!([]));
                let response = client.get(ORIGIN, &options).unwrap();
                let pkc = parse_auth(&serde_json::to_string(&response).unwrap());
                let user_handle = pkc
                    .get_user_unique_id()
                    .expect("discoverable login without userHandle")
                    .to_vec();
                state.set_allowed_credentials(
                    accounts.get(&user_handle).cloned().unwrap_or_default(),
                );
                core.authenticate_credential(&pkc, &state)
                    .map(|r| (r, user_handle))
            }

            // ------------------------------------------------------------------ 1. round trips

            #[test]
            fn discoverable_registration_and_discoverable_login() {
                let core = rp();
                let mut client = default_client(1);
                let reg = Reg {
                    rk: true,
                    uv: UserVerificationPolicy::Required,
                    ..Reg::default()
                };
                let cred = register(&core, &mut client, &reg);
                assert!(cred.user_verified);

                let accounts = HashMap::from([(reg.user_id.to_vec(), vec![cred.clone()])]);
                let (result, user_handle) = discoverable_login(
                    &core,
                    &mut client,
                    &accounts,
                    UserVerificationPolicy::Required,
                )
                .unwrap();
                assert_eq!(user_handle, reg.user_id);
                assert_eq!(result.cred_id(), &cred.cred_id);
                assert!(result.user_verified());
            }

            #[test]
            fn non_discoverable_registration_and_allow_list_login() {
                let core = rp();
                let mut client = default_client(2);
                let cred = register(
                    &core,
                    &mut client,
                    &Reg {
                        rk: false,
                        ..Reg::default()
                    },
                );
                let result = login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                assert_eq!(result.cred_id(), &cred.cred_id);

                // The credential really is server-side only: a discoverable login finds nothing.
                let (options, _state) =
                    start_auth(&core, Vec::new(), UserVerificationPolicy::Preferred);
                expect_dom_error(client.get(ORIGIN, &options), "NotAllowedError");
            }

            #[test]
            fn login_with_someone_elses_credential_is_rejected_by_the_library() {
                // Proves webauthn-rs binds the assertion to the stored key: the response is
                // checked against a credential from a different authenticator.
                let core = rp();
                let mut ours = default_client(3);
                let mut other = default_client(4);
                let cred = register(&core, &mut ours, &Reg::default());
                let other_cred = register(&core, &mut other, &Reg::default());
                let (options, mut state) =
                    start_auth(&core, vec![cred.clone()], UserVerificationPolicy::Preferred);
                let json = serde_json::to_string(&ours.get(ORIGIN, &options).unwrap()).unwrap();
                state.set_allowed_credentials(vec![other_cred]);
                assert!(finish_auth(&core, &json, &state).is_err());
                state.set_allowed_credentials(vec![cred]);
                finish_auth(&core, &json, &state).unwrap();
            }

            // ------------------------------------------------------------------ 2. user verification

            #[test]
            fn uv_required_and_preferred_with_a_verifying_user() {
                let core = rp();
                for uv in [
                    UserVerificationPolicy::Required,
                    UserVerificationPolicy::Preferred,
                ] {
                    let mut client = default_client(10);
                    let cred = register(
                        &core,
                        &mut client,
                        &Reg {
                            uv,
                            ..Reg::default()
                        },
                    );
                    assert!(cred.user_verified, "{uv:?}: registration not verified");
                    let result = login(&core, &mut client, &cred, uv);
                    assert!(result.user_verified(), "{uv:?}: assertion not verified");
                }
            }

            #[test]
            fn uv_required_without_uv_capability_is_not_allowed() {
                let core = rp();
                let mut client = client_with(Config::default(), not_capable_user(), 11);
                let (options, _state) = start_reg(
                    &core,
                    &Reg {
                        uv: UserVerificationPolicy::Required,
                        ..Reg::default()
                    },
                );
                expect_dom_error(client.create(ORIGIN, &options), "NotAllowedError");
                assert_eq!(client.authenticator().store().len(), 0);

                // Same for get(): the user loses UV after registering.
                let mut client = default_client(12);
                let cred = register(&core, &mut client, &Reg::default());
                client.authenticator_mut().set_user(not_capable_user());
                let (options, _state) =
                    start_auth(&core, vec![cred], UserVerificationPolicy::Required);
                expect_dom_error(client.get(ORIGIN, &options), "NotAllowedError");
            }

            #[test]
            fn uv_preferred_without_uv_capability_verifies_unverified() {
                let core = rp();
                let mut client = client_with(Config::default(), not_capable_user(), 13);
                let cred = register(
                    &core,
                    &mut client,
                    &Reg {
                        uv: UserVerificationPolicy::Preferred,
                        ..Reg::default()
                    },
                );
                assert!(!cred.user_verified);
                let result = login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                assert!(!result.user_verified());
            }

            // ------------------------------------------------------------------ 3. counters

            #[test]
            fn per_credential_counter_strictly_increases() {
                let core = rp();
                let mut client = default_client(20);
                let mut cred = register(&core, &mut client, &Reg::default());
                assert_eq!(cred.counter, 0);
                for expected in 1..=3 {
                    let result =
                        login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                    assert_eq!(result.counter(), expected);
                    assert!(result.needs_update());
                    // What an RP persists after each login.
                    cred.counter = result.counter();
                }

                // A replayed-looking (non-increasing) counter is what webauthn-rs rejects: hand it
                // a stored counter above the authenticator's.
                cred.counter = 10;
                let (options, state) =
                    start_auth(&core, vec![cred], UserVerificationPolicy::Preferred);
                let json = serde_json::to_string(&client.get(ORIGIN, &options).unwrap()).unwrap();
                assert!(matches!(
                    finish_auth(&core, &json, &state),
                    Err(WebauthnError::CredentialPossibleCompromise)
                ));
            }

            #[test]
            fn always_zero_counter_is_accepted() {
                let core = rp();
                let config = Config {
                    counter: CounterPolicy::AlwaysZero,
                    ..Config::default()
                };
                let mut client = client_with(config, SimulatedUser::default(), 21);
                let cred = register(&core, &mut client, &Reg::default());
                assert_eq!(cred.counter, 0);
                for _ in 0..3 {
                    let result =
                        login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                    assert_eq!(result.counter(), 0);
                }
            }

            // ------------------------------------------------------------------ 4. attestation

            #[test]
            fn packed_self_attestation_with_direct_conveyance() {
                let core = rp();
                let config = Config {
                    attestation: AttestationMode::PackedSelf,
                    ..Config::default()
                };
                let mut client = client_with(config, SimulatedUser::default(), 30);
                let cred = register(
                    &core,
                    &mut client,
                    &Reg {
                        attestation: AttestationConveyancePreference::Direct,
                        ..Reg::default()
                    },
                );
                assert!(
                    matches!(cred.attestation_format, AttestationFormat::Packed),
                    "{:?}",
                    cred.attestation_format
                );
                assert!(
                    matches!(cred.attestation.data, ParsedAttestationData::Self_),
                    "{:?}",
                    cred.attestation.data
                );
                // The self-attested key is the one later assertions are checked against.
                login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
            }

            #[test]
            fn tampered_packed_self_attestation_signature_is_rejected() {
                // Proves the library really verifies the self-attestation signature.
                let core = rp();
                let config = Config {
                    attestation: AttestationMode::PackedSelf,
                    ..Config::default()
                };
                let mut client = client_with(config, SimulatedUser::default(), 31);
                let (options, state) = start_reg(
                    &core,
                    &Reg {
                        attestation: AttestationConveyancePreference::Direct,
                        ..Reg::default()
                    },
                );
                let response = client.create(ORIGIN, &options).unwrap();
                let mut tampered = response.clone();
                tampered.response.attestation_object =
                    tamper_attestation_signature(&response.response.attestation_object);
                let err = finish_reg(&core, &serde_json::to_string(&tampered).unwrap(), &state)
                    .unwrap_err();
                assert!(
                    matches!(err, WebauthnError::AttestationStatementSigInvalid),
                    "{err:?}"
                );
                finish_reg(&core, &serde_json::to_string(&response).unwrap(), &state).unwrap();
            }

            #[test]
            fn no_conveyance_gives_fmt_none_even_from_a_self_attesting_authenticator() {
                let core = rp();
                let config = Config {
                    attestation: AttestationMode::PackedSelf,
                    ..Config::default()
                };
                let mut client = client_with(config, SimulatedUser::default(), 32);
                let cred = register(
                    &core,
                    &mut client,
                    &Reg {
                        attestation: AttestationConveyancePreference::None,
                        ..Reg::default()
                    },
                );
                assert!(
                    matches!(cred.attestation_format, AttestationFormat::None),
                    "{:?}",
                    cred.attestation_format
                );
                assert!(
                    matches!(cred.attestation.data, ParsedAttestationData::None),
                    "{:?}",
                    cred.attestation.data
                );
            }

            // ------------------------------------------------------------------ 5. BE / BS

            #[test]
            fn backup_flags_default_to_eligible_and_backed_up() {
                let core = rp();
                let mut client = default_client(40);
                let cred = register(&core, &mut client, &Reg::default());
                assert!(cred.backup_eligible && cred.backup_state);
                let result = login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                assert!(result.backup_eligible());
                assert!(result.backup_state());
            }

            #[test]
            fn backup_flags_off_when_not_eligible() {
                let core = rp();
                let config = Config {
                    backup_eligible: false,
                    ..Config::default()
                };
                let mut client = client_with(config, SimulatedUser::default(), 41);
                let cred = register(&core, &mut client, &Reg::default());
                assert!(!cred.backup_eligible && !cred.backup_state);
                let result = login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                assert!(!result.backup_eligible());
                assert!(!result.backup_state());
            }

            #[test]
            fn backup_eligible_but_not_backed_up() {
                let core = rp();
                let config = Config {
                    backup_eligible: true,
                    backup_state: false,
                    ..Config::default()
                };
                let mut client = client_with(config, SimulatedUser::default(), 42);
                let cred = register(&core, &mut client, &Reg::default());
                let result = login(&core, &mut client, &cred, UserVerificationPolicy::Preferred);
                assert!(result.backup_eligible());
                assert!(!result.backup_state());
            }

            // ------------------------------------------------------------------ 6. negatives

            #[test]
            fn tampered_assertion_signature_is_rejected() {
                let core = rp();
                let mut client = default_client(50);
                let cred = register(&core, &mut client, &Reg::default());
                let (options, state) =
                    start_auth(&core, vec![cred], UserVerificationPolicy::Preferred);
                let response = client.get(ORIGIN, &options).unwrap();
                let mut tampered = response.clone();
                tampered.response.signature = tamper_signature(&response.response.signature);
                let err = finish_auth(&core, &serde_json::to_string(&tampered).unwrap(), &state)
                    .unwrap_err();
                assert!(
                    matches!(err, WebauthnError::AuthenticationFailure),
                    "{err:?}"
                );
                // The untouched response still verifies: the one byte was the whole difference.
                finish_auth(&core, &serde_json::to_string(&response).unwrap(), &state).unwrap();
            }

            #[test]
            fn tampered_assertion_challenge_is_rejected() {
                let core = rp();
                let mut client = default_client(51);
                let cred = register(&core, &mut client, &Reg::default());
                let (options, state) =
                    start_auth(&core, vec![cred], UserVerificationPolicy::Preferred);
                let response = client.get(ORIGIN, &options).unwrap();
                let mut tampered = response.clone();
                tampered.response.client_data_json =
                    tamper_challenge(&response.response.client_data_json);
                let err = finish_auth(&core, &serde_json::to_string(&tampered).unwrap(), &state)
                    .unwrap_err();
                assert!(matches!(err, WebauthnError::MismatchedChallenge), "{err:?}");
                finish_auth(&core, &serde_json::to_string(&response).unwrap(), &state).unwrap();
            }

            #[test]
            fn tampered_registration_challenge_is_rejected() {
                let core = rp();
                let mut client = default_client(52);
                let (options, state) = start_reg(&core, &Reg::default());
                let response = client.create(ORIGIN, &options).unwrap();
                let mut tampered = response.clone();
                tampered.response.client_data_json =
                    tamper_challenge(&response.response.client_data_json);
                let err = finish_reg(&core, &serde_json::to_string(&tampered).unwrap(), &state)
                    .unwrap_err();
                assert!(matches!(err, WebauthnError::MismatchedChallenge), "{err:?}");
                finish_reg(&core, &serde_json::to_string(&response).unwrap(), &state).unwrap();
            }

            #[test]
            fn wrong_origin_is_a_security_error_before_any_rp_check() {
                let core = rp();
                let mut client = default_client(53);
                let (options, _state) = start_reg(&core, &Reg::default());
                expect_dom_error(
                    client.create("https://evil.example", &options),
                    "SecurityError",
                );
                assert_eq!(
                    client.authenticator().store().len(),
                    0,
                    "the authenticator was reached"
                );

                let cred = register(&core, &mut client, &Reg::default());
                let (options, _state) =
                    start_auth(&core, vec![cred], UserVerificationPolicy::Preferred);
                expect_dom_error(
                    client.get("https://evil.example", &options),
                    "SecurityError",
                );
            }

            // ------------------------------------------------------------------ 7. account choice

            #[test]
            fn two_passkeys_for_one_rp_user_picks_bob() {
                let core = rp();
                let mut client = default_client(60);
                let alice = Reg {
                    user_id: b"alice-user-handle",
                    name: "alice",
                    rk: true,
                    ..Reg::default()
                };
                let bob = Reg {
                    user_id: b"bob-user-handle",
                    name: "bob",
                    rk: true,
                    ..Reg::default()
                };
                let alice_cred = register(&core, &mut client, &alice);
                let bob_cred = register(&core, &mut client, &bob);
                assert_ne!(alice_cred.cred_id, bob_cred.cred_id);
                let accounts = HashMap::from([
                    (alice.user_id.to_vec(), vec![alice_cred.clone()]),
                    (bob.user_id.to_vec(), vec![bob_cred.clone()]),
                ]);

                for (who, reg, cred) in [("bob", &bob, &bob_cred), ("alice", &alice, &alice_cred)] {
                    client.authenticator_mut().set_user(SimulatedUser {
                        account: Some(who.into()),
                        ..SimulatedUser::default()
                    });
                    let (result, user_handle) = discoverable_login(
                        &core,
                        &mut client,
                        &accounts,
                        UserVerificationPolicy::Preferred,
                    )
                    .unwrap_or_else(|e| panic!("{who}: {e:?}"));
                    assert_eq!(user_handle, reg.user_id, "{who}");
                    assert_eq!(result.cred_id(), &cred.cred_id, "{who}");
                }

                // Bob's assertion checked against Alice's credential: the library says no.
                client.authenticator_mut().set_user(SimulatedUser {
                    account: Some("bob".into()),
                    ..SimulatedUser::default()
                });
                let (options, mut state) =
                    start_auth(&core, Vec::new(), UserVerificationPolicy::Preferred);
                let pkc = parse_auth(
                    &serde_json::to_string(&client.get(ORIGIN, &options).unwrap()).unwrap(),
                );
                assert_eq!(pkc.get_user_unique_id(), Some(bob.user_id));
                state.set_allowed_credentials(vec![alice_cred]);
                assert!(core.authenticate_credential(&pkc, &state).is_err());
            }
        }
    };
}

interop_suite!(v06_es256, webauthn_rs_core, ES256, -7);
interop_suite!(v05_eddsa, webauthn_rs_core_05, EDDSA, -8);
interop_suite!(v05_es256, webauthn_rs_core_05, ES256, -7);

/// ES384, ES512 and RS256 credentials (issue 18) through webauthn-rs: registration with
/// `none` and with packed self and packed basic (x5c, trusted through our test root)
/// attestation, allow-list and discoverable logins, and a tampered assertion signature the
/// library rejects. Each RS256 registration costs an RSA-2048 key generation, so this suite
/// registers few credentials. Neither webauthn-rs verifies a P-521 signature (0.6's ES512 check
/// returns false; 0.5.4 verifies only ES256, RS256 and EdDSA), so for ES512 webauthn-rs proves
/// the COSE_Key (it reads it as an ES512 key under packed basic attestation, which it verifies
/// with the ES256 attestation key); 0.5.4 (OpenSSL) verifies RS256 a second time.
macro_rules! new_algorithms {
    ($module:ident, $core:ident, [$(($alg:ident, $wrs:ident)),*], $basic_alg:ident, $basic_wrs:ident) => {
mod $module {
    use std::time::Duration;

    use fauxkey::attestation::AttestationCa;
    use fauxkey::crypto::keys::Algorithm;
    use $core::error::WebauthnError;
    use $core::proto::{
        AttestationCaListBuilder, AttestationConveyancePreference, AttestationFormat,
        COSEAlgorithm, Credential, ParsedAttestationData, PublicKeyCredential,
        RegisterPublicKeyCredential, UserVerificationPolicy,
    };
    use $core::WebauthnCore;

    use super::*;

    const CASES: &[(Algorithm, COSEAlgorithm)] = &[$((Algorithm::$alg, COSEAlgorithm::$wrs)),*];

    fn rp() -> WebauthnCore {
        WebauthnCore::new_unsafe_experts_only(
            "Example RP",
            RP_ID,
            vec![url::Url::parse(ORIGIN).unwrap()],
            Duration::from_secs(60),
            None,
            None,
        )
    }

    fn client(mode: AttestationMode, seed: u64) -> (Client, Option<String>) {
        let mut config = Config {
            algorithms: Algorithm::ALL.to_vec(),
            attestation: mode,
            ..Config::default()
        };
        let mut root = None;
        if mode == AttestationMode::Packed {
            let ca = AttestationCa::generate(&mut seeded_rng(seed)).unwrap();
            config.attestation_cert = Some(
                ca.issue(
                    config.aaguid,
                    "fauxkey",
                    "interop",
                    &mut seeded_rng(seed + 1),
                )
                .unwrap(),
            );
            root = Some(ca.root_pem().unwrap());
        }
        (client_with(config, SimulatedUser::default(), seed), root)
    }

    fn register(
        core: &WebauthnCore,
        client: &mut Client,
        alg: COSEAlgorithm,
        cose_id: i64,
        attestation: AttestationConveyancePreference,
        root: Option<&str>,
    ) -> Credential {
        let builder = core
            .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
            .unwrap()
            .credential_algorithms(vec![alg])
            .user_verification_policy(UserVerificationPolicy::Preferred)
            .require_resident_key(true)
            .attestation(attestation);
        let (ccr, state) = core.generate_challenge_register(builder).unwrap();
        let response = client
            .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
            .unwrap();
        assert_eq!(response.response.public_key_algorithm, cose_id);
        let reg: RegisterPublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        let trust = root.map(|pem| {
            let mut b = AttestationCaListBuilder::new();
            b.insert_device_pem(
                pem.as_bytes(),
                fauxkey::FAUXKEY_AAGUID,
                "fauxkey".into(),
                Default::default(),
            )
            .unwrap();
            b.build()
        });
        let cred = core
            .register_credential(&reg, &state, trust.as_ref())
            .unwrap_or_else(|e| panic!("webauthn-rs rejected our {alg:?} registration: {e:?}"));
        assert_eq!(cred.cred.type_, alg);
        cred
    }

    fn login(
        core: &WebauthnCore,
        client: &mut Client,
        allow: Vec<Credential>,
        tamper: bool,
    ) -> Result<(), WebauthnError> {
        let discoverable = allow.is_empty();
        let builder = core
            .new_challenge_authenticate_builder(
                allow.clone(),
                Some(UserVerificationPolicy::Preferred),
            )
            .unwrap();
        let (rcr, mut state) = core.generate_challenge_authenticate(builder).unwrap();
        let mut response = client
            .get(ORIGIN, &serde_json::to_string(&rcr).unwrap())
            .unwrap();
        if tamper {
            response.response.signature = tamper_signature(&response.response.signature);
        }
        let pkc: PublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        if discoverable {
            state.set_allowed_credentials(allow);
        }
        core.authenticate_credential(&pkc, &state).map(|_| ())
    }

    #[test]
    fn registrations_and_logins_verify_for_every_new_algorithm() {
        let core = rp();
        for (i, &(alg, wrs_alg)) in CASES.iter().enumerate() {
            let seed = 1800 + 10 * i as u64;
            // `none`, then an allow-list login and a tampered one.
            let (mut c, _) = client(AttestationMode::None, seed);
            let cred = register(
                &core,
                &mut c,
                wrs_alg,
                alg.cose_id(),
                AttestationConveyancePreference::None,
                None,
            );
            login(&core, &mut c, vec![cred.clone()], false)
                .unwrap_or_else(|e| panic!("{alg:?} login: {e:?}"));
            assert!(
                login(&core, &mut c, vec![cred.clone()], true).is_err(),
                "{alg:?}: a tampered signature was accepted"
            );
            // A discoverable login, the credential handed over after the fact.
            let builder = core
                .new_challenge_authenticate_builder(
                    Vec::new(),
                    Some(UserVerificationPolicy::Preferred),
                )
                .unwrap();
            let (rcr, mut state) = core.generate_challenge_authenticate(builder).unwrap();
            let response = c
                .get(ORIGIN, &serde_json::to_string(&rcr).unwrap())
                .unwrap();
            let pkc: PublicKeyCredential =
                serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
            state.set_allowed_credentials(vec![cred]);
            core.authenticate_credential(&pkc, &state)
                .unwrap_or_else(|e| panic!("{alg:?} discoverable login: {e:?}"));

            // Packed self attestation: signed by the new credential key itself.
            let (mut c, _) = client(AttestationMode::PackedSelf, seed + 3);
            let cred = register(
                &core,
                &mut c,
                wrs_alg,
                alg.cose_id(),
                AttestationConveyancePreference::Direct,
                None,
            );
            assert!(matches!(cred.attestation_format, AttestationFormat::Packed));
            assert!(
                matches!(cred.attestation.data, ParsedAttestationData::Self_),
                "{alg:?}: {:?}",
                cred.attestation.data
            );
        }
    }

    #[test]
    fn packed_basic_attestation_over_a_new_algorithm_chains_to_our_root() {
        let core = rp();
        // The credential key is a new algorithm; the attestation key (x5c) is the CA's ES256 leaf.
        let (mut c, root) = client(AttestationMode::Packed, 1850);
        let root = root.unwrap();
        let cred = register(
            &core,
            &mut c,
            COSEAlgorithm::$basic_wrs,
            Algorithm::$basic_alg.cose_id(),
            AttestationConveyancePreference::Direct,
            Some(&root),
        );
        assert!(
            matches!(cred.attestation.data, ParsedAttestationData::Basic(_)),
            "{:?}",
            cred.attestation.data
        );
    }

    /// `android-key` (the `android` profile's attestation): webauthn-rs checks the leaf key is
    /// the credential key, `sig`, and the KeyDescription (challenge, no allApplications, origin
    /// and purpose). Its AAGUID gate needs an AAGUID extension android-key leaves do not carry,
    /// so the chain to our root is checked with its `verify_attestation_ca_chain` (0.6 only:
    /// `android_key_chain_is_trusted_through_our_root_only`).
    #[test]
    fn android_key_attestation_verifies() {
        let core = rp();
        // ES256 only: webauthn-rs reads an android-key leaf's key as EC only (an RSA leaf gives
        // COSEKeyInvalidType); the RS256 android-key cases are proven by py_webauthn and
        // SimpleWebAuthn (tests/fixtures_consumers.rs).
        for (i, (alg, wrs_alg)) in [(Algorithm::Es256, COSEAlgorithm::ES256)]
            .into_iter()
            .enumerate()
        {
            let seed = 1870 + 10 * i as u64;
            let ca = AttestationCa::generate(&mut seeded_rng(seed)).unwrap();
            let profile = fauxkey::profiles::find("android")
                .unwrap()
                .with_attestation(&ca, &mut seeded_rng(seed + 1))
                .unwrap();
            let mut c = client_with(profile.config.clone(), SimulatedUser::default(), seed + 2);
            let cred = register(
                &core,
                &mut c,
                wrs_alg,
                alg.cose_id(),
                AttestationConveyancePreference::Direct,
                None,
            );
            assert!(matches!(cred.attestation_format, AttestationFormat::AndroidKey));
            let ParsedAttestationData::Basic(chain) = &cred.attestation.data else {
                panic!("{alg:?}: {:?}", cred.attestation.data)
            };
            assert_eq!(chain.len(), 3, "[leaf, intermediate, root]");
            login(&core, &mut c, vec![cred.clone()], false)
                .unwrap_or_else(|e| panic!("{alg:?} login: {e:?}"));
        }
    }
}
    };
}

new_algorithms!(
    v06_new_algorithms,
    webauthn_rs_core,
    [(Es384, ES384), (Rs256, RS256)],
    Rs256,
    RS256
);
new_algorithms!(
    v05_new_algorithms,
    webauthn_rs_core_05,
    [(Rs256, RS256)],
    Es512,
    ES512
);

/// The `android` profile's android-key chain is trusted through the vault's root, and not
/// through another vault's (webauthn-rs 0.6's `verify_attestation_ca_chain`).
#[test]
fn android_key_chain_is_trusted_through_our_root_only() {
    use fauxkey::attestation::AttestationCa;
    use webauthn_rs_core::attestation::verify_attestation_ca_chain;
    use webauthn_rs_core::proto::{
        AttestationCaListBuilder, AttestationConveyancePreference, COSEAlgorithm,
        RegisterPublicKeyCredential, UserVerificationPolicy,
    };
    let core = webauthn_rs_core::WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        RP_ID,
        vec![url::Url::parse(ORIGIN).unwrap()],
        std::time::Duration::from_secs(60),
        None,
        None,
    );
    let ca = AttestationCa::generate(&mut seeded_rng(1900)).unwrap();
    let profile = fauxkey::profiles::find("android")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(1901))
        .unwrap();
    let mut c = client_with(profile.config.clone(), SimulatedUser::default(), 1902);
    let builder = core
        .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .attestation(AttestationConveyancePreference::Direct);
    let (ccr, state) = core.generate_challenge_register(builder).unwrap();
    let response = c
        .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
        .unwrap();
    let reg: RegisterPublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    let cred = core.register_credential(&reg, &state, None).unwrap();
    let trust = |root: &AttestationCa| {
        let mut b = AttestationCaListBuilder::new();
        b.insert_device_pem(
            root.root_pem().unwrap().as_bytes(),
            fauxkey::attestation::android_key::ANDROID_KEY_AAGUID,
            "android".into(),
            Default::default(),
        )
        .unwrap();
        b.build()
    };
    let ours = trust(&ca);
    let found =
        verify_attestation_ca_chain(&cred.attestation.data, &ours, std::time::SystemTime::now())
            .unwrap_or_else(|e| panic!("the chain does not reach our root: {e:?}"));
    assert!(found.is_some());
    let other = AttestationCa::generate(&mut seeded_rng(1903)).unwrap();
    assert!(
        verify_attestation_ca_chain(
            &cred.attestation.data,
            &trust(&other),
            std::time::SystemTime::now()
        )
        .is_err(),
        "trusted through a root that did not issue it"
    );
}
/// `apple` anonymous attestation (WebAuthn L3 §8.8) from the `apple-touch-id` profile, judged
/// by webauthn-rs with the vault's test root as the trust anchor (where Apple's WebAuthn root
/// would go): the nonce, the leaf key = credential key and the chain
/// `[leaf, Apple-style intermediate] → root` are its checks.
macro_rules! apple_anonymous {
    ($module:ident, $core:ident) => {
        mod $module {
            use std::time::Duration;

            use fauxkey::attestation::AttestationCa;
            use $core::proto::{
                AttestationCaList, AttestationConveyancePreference, AttestationFormat,
                COSEAlgorithm, ParsedAttestationData, RegisterPublicKeyCredential,
                UserVerificationPolicy,
            };
            use $core::WebauthnCore;

            use super::*;

            fn rp() -> WebauthnCore {
                WebauthnCore::new_unsafe_experts_only(
                    "Example RP",
                    RP_ID,
                    vec![url::Url::parse(ORIGIN).unwrap()],
                    Duration::from_secs(60),
                    None,
                    None,
                )
            }

            /// Registers with `direct` through the apple-touch-id profile (CA from `seed`)
            /// and hands webauthn-rs `anchor` as its only trusted root.
            fn register(
                seed: u64,
                anchor: &AttestationCa,
            ) -> Result<$core::proto::Credential, $core::error::WebauthnError> {
                let ca = AttestationCa::generate(&mut seeded_rng(seed)).unwrap();
                let profile = fauxkey::profiles::find("apple-touch-id")
                    .unwrap()
                    .with_attestation(&ca, &mut seeded_rng(seed + 1))
                    .unwrap();
                let mut client = client_with(profile.config, SimulatedUser::default(), seed);
                let core = rp();
                let builder = core
                    .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
                    .unwrap()
                    .credential_algorithms(vec![COSEAlgorithm::ES256])
                    .user_verification_policy(UserVerificationPolicy::Preferred)
                    .attestation(AttestationConveyancePreference::Direct);
                let (ccr, state) = core.generate_challenge_register(builder).unwrap();
                let response = client
                    .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
                    .unwrap();
                let reg: RegisterPublicKeyCredential =
                    serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
                // A blanket CA (every AAGUID), as webauthn-rs trusts Apple's own root: the
                // profile's AAGUID is all zeroes, as Safari's was (S36).
                let trust =
                    AttestationCaList::try_from(anchor.root_pem().unwrap().as_bytes()).unwrap();
                core.register_credential(&reg, &state, Some(&trust))
            }

            #[test]
            fn apple_anonymous_attestation_chains_to_our_root() {
                let ca = AttestationCa::generate(&mut seeded_rng(2100)).unwrap();
                let cred = register(2100, &ca)
                    .unwrap_or_else(|e| panic!("webauthn-rs rejected our apple statement: {e:?}"));
                assert!(matches!(
                    cred.attestation_format,
                    AttestationFormat::AppleAnonymous
                ));
                match &cred.attestation.data {
                    ParsedAttestationData::AnonCa(chain) => {
                        assert_eq!(chain.len(), 2, "[leaf, intermediate]")
                    }
                    other => panic!("not AnonCa: {other:?}"),
                }
            }

            #[test]
            fn apple_anonymous_attestation_under_another_root_is_refused() {
                let other = AttestationCa::generate(&mut seeded_rng(2200)).unwrap();
                assert!(
                    register(2100, &other).is_err(),
                    "a chain to another vault's root was trusted"
                );
            }
        }
    };
}

apple_anonymous!(v06_apple, webauthn_rs_core);
apple_anonymous!(v05_apple, webauthn_rs_core_05);
