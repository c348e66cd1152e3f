//! Import/export proven by an independent RP library: webauthn-rs registers a passkey made by
//! one fauxkey, the passkey is exported in each format and imported into a fresh store, and
//! the new fauxkey logs in with it; webauthn-rs verifies the assertion against the public key
//! it stored at registration. ES256 through every format (webauthn-rs 0.6), EdDSA through the
//! formats that carry it (webauthn-rs 0.5.4, the version that verifies Ed25519).

#![allow(clippy::unwrap_used)]

use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::transfer::{self, Format, ImportDefaults};
use fauxkey::{Authenticator, Client, Config};

const RP_ID: &str = "example.com";
const ORIGIN: &str = "https://example.com";

fn client(store: MemoryStore, seed: u64) -> Client {
    Client::new(
        Authenticator::new(Config::default(), store)
            .with_rng(seeded_rng(seed))
            .with_clock(FixedClock::at(1_700_000_000_000)),
    )
    .with_rng(seeded_rng(seed ^ 0x5eed))
}

/// Exports every credential of `from` as `format` and imports them into a fresh client.
fn carried_over(from: &Client, format: Format, seed: u64) -> Client {
    let store = from.authenticator().store();
    let list: Vec<_> = store.all().collect();
    let exported = transfer::export(format, &list).unwrap();
    assert_eq!(exported.count, 1, "{format}: {:?}", exported.losses);
    // The target's profile supplies what the format does not carry (BE/BS above all: an RP
    // refuses a login whose BE differs from registration).
    let defaults = ImportDefaults::for_config(&Config::default(), 1_700_000_000_000);
    let imported = transfer::import(&exported.text, None, &defaults).unwrap();
    assert_eq!(imported.format, format);
    let mut fresh = MemoryStore::new();
    transfer::apply(&mut fresh, imported.credentials, false).unwrap();
    client(fresh, seed)
}

macro_rules! roundtrip_suite {
    ($module:ident, $core:ident, $alg:ident, [$($format:ident),*]) => {
        mod $module {
            use std::time::Duration;

            use wrs::proto::{COSEAlgorithm, PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy};
            use wrs::WebauthnCore;
            use $core as wrs;

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

            fn run(format: Format) {
                let core = rp();
                // 1. Registered by one fauxkey; webauthn-rs keeps the public key.
                let mut original = client(MemoryStore::new(), 1);
                let builder = core
                    .new_challenge_register_builder(b"alice-handle", "alice", "Alice")
                    .unwrap()
                    .credential_algorithms(vec![COSEAlgorithm::$alg])
                    .user_verification_policy(UserVerificationPolicy::Preferred)
                    .require_resident_key(true);
                let (ccr, reg_state) = core.generate_challenge_register(builder).unwrap();
                let response = original.create(ORIGIN, &serde_json::to_string(&ccr).unwrap()).unwrap();
                let reg: RegisterPublicKeyCredential =
                    serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
                let cred = core.register_credential(&reg, &reg_state, None).unwrap();

                // 2. Exported, imported into a fresh store behind a new fauxkey.
                let mut imported = carried_over(&original, format, 2);

                // 3. The new fauxkey logs in; webauthn-rs verifies with the registered key.
                let builder = core
                    .new_challenge_authenticate_builder(vec![cred.clone()], Some(UserVerificationPolicy::Preferred))
                    .unwrap();
                let (rcr, auth_state) = core.generate_challenge_authenticate(builder).unwrap();
                let assertion = imported.get(ORIGIN, &serde_json::to_string(&rcr).unwrap()).unwrap();
                let pkc: PublicKeyCredential =
                    serde_json::from_str(&serde_json::to_string(&assertion).unwrap()).unwrap();
                let result = core
                    .authenticate_credential(&pkc, &auth_state)
                    .unwrap_or_else(|e| panic!("{format}: webauthn-rs rejected the imported passkey: {e:?}"));
                assert_eq!(result.cred_id(), &cred.cred_id);
                assert_eq!(pkc.get_user_unique_id(), Some(&b"alice-handle"[..]));
            }

            $(
                #[test]
                #[allow(non_snake_case)]
                fn $format() {
                    run(Format::$format);
                }
            )*
        }
    };
}

roundtrip_suite!(
    v06_es256,
    webauthn_rs_core,
    ES256,
    [Cxf, Bitwarden, Keepassxc, Webdriver, Playwright]
);
roundtrip_suite!(
    v05_eddsa,
    webauthn_rs_core_05,
    EDDSA,
    [Cxf, Keepassxc, Webdriver, Playwright]
);

/// A CXF file written by hand in the layout of the CXF 1.0 specification's example (header,
/// account, item with scope, a `basic-auth` credential next to the passkey) imports, skipping
/// what is not a passkey, and its passkey signs.
#[test]
fn a_cxf_file_in_the_specification_layout_imports_and_signs() {
    let text = std::fs::read_to_string("tests/data/transfer/cxf-example.json").unwrap();
    let imported = transfer::import(&text, None, &ImportDefaults::default()).unwrap();
    assert_eq!(imported.format, Format::Cxf);
    assert_eq!(imported.credentials.len(), 1, "only the passkey");
    let c = &imported.credentials[0];
    assert_eq!(c.rp_id, "example.com");
    assert_eq!(c.user_name.as_deref(), Some("jane-smith"));
    assert_eq!(c.user_display_name.as_deref(), Some("Jane Smith"));
    assert_eq!(c.sign_count, 0);
    assert_eq!(c.created_ms, 1_706_623_773_000);
    let mut store = MemoryStore::new();
    transfer::apply(&mut store, imported.credentials, false).unwrap();
    let mut browser = client(store, 3);
    let login = browser
        .get(ORIGIN, r#"{"challenge": "Y2hhbGxlbmdlLTE"}"#)
        .unwrap();
    assert_eq!(
        login.response.user_handle.as_deref(),
        Some("dXNlci1oYW5kbGUtamFuZQ")
    );
}
