//! Registers a passkey with fauxkey and logs in with it, both verified by webauthn-rs, an
//! independent relying-party library: the whole round trip an RP test suite needs.
//!
//! ```text
//! cargo run --release --example register_and_login
//! ```

use std::time::Duration;

use url::Url;
use webauthn_rs_core::proto::{
    PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let origin = "https://example.com";
    // The relying party: webauthn-rs, configured as a server for example.com would be.
    let rp = WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        "example.com",
        vec![Url::parse(origin)?],
        Duration::from_secs(60),
        None,
        None,
    );
    // The browser and its passkey provider: fauxkey, in memory.
    let mut browser = fauxkey::Client::in_memory();

    // 1. Registration: the RP's options go in, RegistrationResponseJSON comes out.
    let builder = rp
        .new_challenge_register_builder(b"user-1234", "alice", "Alice Example")?
        .user_verification_policy(UserVerificationPolicy::Required)
        .require_resident_key(true);
    let (creation_options, registration_state) = rp.generate_challenge_register(builder)?;
    let registration = browser.create(origin, &serde_json::to_string(&creation_options)?)?;
    let registration_json = serde_json::to_string_pretty(&registration)?;
    eprintln!("RegistrationResponseJSON from fauxkey:\n{registration_json}\n");
    let parsed: RegisterPublicKeyCredential = serde_json::from_str(&registration_json)?;
    let mut credential = rp.register_credential(&parsed, &registration_state, None)?;
    println!(
        "registered: credential {} verified by webauthn-rs",
        registration.id
    );

    // 2. Login, twice: a discoverable login (no allow list), checked by webauthn-rs each time.
    for round in 1..=2 {
        let builder =
            rp.new_challenge_authenticate_builder(vec![], Some(UserVerificationPolicy::Required))?;
        let (request_options, mut auth_state) = rp.generate_challenge_authenticate(builder)?;
        let assertion = browser.get(origin, &serde_json::to_string(&request_options)?)?;
        let parsed: PublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&assertion)?)?;
        auth_state.set_allowed_credentials(vec![credential.clone()]);
        let result = rp.authenticate_credential(&parsed, &auth_state)?;
        credential.counter = result.counter();
        println!(
            "login {round}: verified by webauthn-rs (user handle {}, counter {}, UV {}, BE {}, BS {})",
            assertion.response.user_handle.as_deref().unwrap_or("-"),
            result.counter(),
            result.user_verified(),
            result.backup_eligible(),
            result.backup_state(),
        );
    }
    Ok(())
}
