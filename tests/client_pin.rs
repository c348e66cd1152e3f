//! fauxkey's own WebAuthn client entering the emulated user's PIN, as a browser prompts for it,
//! on an authenticator with a PIN and no built-in UV; webauthn-rs verifies every response.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use fauxkey::env::{seeded_rng, FixedClock, SimulatedUser, Verification};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::{Authenticator, Client, Config};
use webauthn_rs_core::proto::{
    Credential, PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

const RP_ID: &str = "example.com";
const ORIGIN: &str = "https://example.com";
const PIN: &str = "1234";

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

/// A PIN-only key (no built-in UV) whose owner set `PIN`; the user knows `user_pin`.
fn pin_only_client(user_pin: Option<&str>) -> Client {
    let user = SimulatedUser {
        verification: Verification::NotCapable,
        ..SimulatedUser::default()
    };
    let mut authenticator = Authenticator::new(Config::default(), MemoryStore::new())
        .with_rng(seeded_rng(7))
        .with_clock(FixedClock::at(1_700_000_000_000))
        .with_user(user);
    let store = authenticator.store_mut();
    let mut state = store.device_state();
    fauxkey::authenticator::pin::set_pin(&mut state, PIN).unwrap();
    store.set_device_state(state).unwrap();
    Client::new(authenticator)
        .with_rng(seeded_rng(8))
        .with_user_pin(user_pin)
}

fn retries(client: &Client) -> u8 {
    client.authenticator().store().device_state().pin_retries
}

fn register(core: &WebauthnCore, client: &mut Client) -> Result<Credential, String> {
    let builder = core
        .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
        .unwrap()
        .user_verification_policy(UserVerificationPolicy::Required);
    let (ccr, state) = core.generate_challenge_register(builder).unwrap();
    let options = serde_json::to_string(&ccr).unwrap();
    let response = client.create(ORIGIN, &options).map_err(|e| {
        assert_eq!(e.name(), "NotAllowedError", "{e}");
        e.to_string()
    })?;
    let reg: RegisterPublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    Ok(core
        .register_credential(&reg, &state, None)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the registration: {e:?}")))
}

fn login(core: &WebauthnCore, client: &mut Client, cred: &Credential) -> Result<bool, String> {
    let builder = core
        .new_challenge_authenticate_builder(
            vec![cred.clone()],
            Some(UserVerificationPolicy::Required),
        )
        .unwrap();
    let (rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
    let options = serde_json::to_string(&rcr).unwrap();
    let response = client.get(ORIGIN, &options).map_err(|e| {
        assert_eq!(e.name(), "NotAllowedError", "{e}");
        e.to_string()
    })?;
    let pkc: PublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    let result = core
        .authenticate_credential(&pkc, &state)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the login: {e:?}"));
    Ok(result.user_verified())
}

#[test]
fn the_user_enters_the_pin_and_webauthn_rs_sees_uv() {
    let core = rp();
    let mut client = pin_only_client(Some(PIN));
    let cred = register(&core, &mut client).unwrap();
    // webauthn-rs with UV required checks the UV flag at registration; check it at login too.
    assert!(login(&core, &mut client, &cred).unwrap(), "UV flag not set");
    assert!(login(&core, &mut client, &cred).unwrap(), "a second login");
    assert_eq!(retries(&client), 8, "a right PIN keeps every retry");
}

#[test]
fn a_wrong_pin_is_not_allowed_and_spends_a_retry() {
    let core = rp();
    let mut client = pin_only_client(Some(PIN));
    let cred = register(&core, &mut client).unwrap();
    client.set_user_pin(Some("9999"));
    let err = login(&core, &mut client, &cred).unwrap_err();
    assert!(err.contains("PIN"), "{err}");
    assert_eq!(retries(&client), 7);
    let err = register(&core, &mut client).unwrap_err();
    assert!(err.contains("PIN"), "{err}");
    assert_eq!(retries(&client), 6);
    // The right PIN works again and restores the retries.
    client.set_user_pin(Some(PIN));
    assert!(login(&core, &mut client, &cred).unwrap());
    assert_eq!(retries(&client), 8);
}

#[test]
fn a_user_who_knows_no_pin_cancels_without_spending_a_retry() {
    let core = rp();
    let mut client = pin_only_client(None);
    assert!(!client.has_user_pin());
    let err = register(&core, &mut client).unwrap_err();
    assert!(err.contains("PIN"), "{err}");
    assert_eq!(retries(&client), 8);
}

#[test]
fn without_a_pin_a_uv_less_key_is_still_refused_when_uv_is_required() {
    let core = rp();
    let user = SimulatedUser {
        verification: Verification::NotCapable,
        ..SimulatedUser::default()
    };
    let authenticator = Authenticator::new(Config::default(), MemoryStore::new()).with_user(user);
    // The user knows a PIN, but the key has none: there is nothing to verify with.
    let mut client = Client::new(authenticator).with_user_pin(Some(PIN));
    let err = register(&core, &mut client).unwrap_err();
    assert!(err.contains("cannot verify"), "{err}");
}
