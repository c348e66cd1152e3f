//! Provider profiles and the attestation lab, proven by webauthn-rs 0.6 (an RP library nobody
//! here wrote): for every built-in profile a registration and two logins it accepts, with the
//! AAGUID, flags, counter and credential-id shape read back from the response bytes; packed x5c
//! attestation verified with the exported test root as the trust anchor, and rejected without it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fauxkey::attestation::AttestationCa;
use fauxkey::authenticator::{AttestationMode, CounterPolicy, CredentialIdFormat};
use fauxkey::client::json::RegistrationResponseJson;
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::profiles::{self, Profile};
use fauxkey::store::MemoryStore;
use fauxkey::{b64url, Client};
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationCaList, AttestationCaListBuilder, AttestationConveyancePreference,
    AttestationFormat, COSEAlgorithm, Credential, ParsedAttestationData, PublicKeyCredential,
    RegisterPublicKeyCredential, RegistrationState, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

const RP_ID: &str = "example.com";
const ORIGIN: &str = "https://example.com";

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

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

fn test_ca(seed: u64) -> AttestationCa {
    AttestationCa::generate(&mut seeded_rng(seed)).unwrap()
}

/// A deterministic browser + authenticator emulating `profile`, attesting under `ca`.
fn client_for(profile: &Profile, ca: &AttestationCa, seed: u64) -> Client {
    let profile = profile
        .clone()
        .with_attestation(ca, &mut seeded_rng(seed + 100))
        .unwrap();
    let authenticator = profile
        .authenticator(MemoryStore::new())
        .with_rng(seeded_rng(seed))
        .with_clock(FixedClock::at(1_700_000_000_000));
    profile.client(authenticator).with_rng(seeded_rng(seed + 1))
}

fn start_reg(
    core: &WebauthnCore,
    attestation: AttestationConveyancePreference,
) -> (String, RegistrationState) {
    start_reg_rk(core, attestation, true)
}

/// `start_reg` with the discoverable requirement given (a U2F-only key has no discoverable
/// credentials).
fn start_reg_rk(
    core: &WebauthnCore,
    attestation: AttestationConveyancePreference,
    rk: bool,
) -> (String, RegistrationState) {
    let builder = core
        .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        // Discouraged, so that only providers that always verify set UV.
        .user_verification_policy(UserVerificationPolicy::Discouraged_DO_NOT_USE)
        .require_resident_key(rk)
        .attestation(attestation);
    let (ccr, state) = core.generate_challenge_register(builder).unwrap();
    (serde_json::to_string(&ccr).unwrap(), state)
}

fn finish_reg(
    core: &WebauthnCore,
    response: &RegistrationResponseJson,
    state: &RegistrationState,
    cas: Option<&AttestationCaList>,
) -> Result<Credential, WebauthnError> {
    let json = serde_json::to_string(response).unwrap();
    let reg: RegisterPublicKeyCredential = serde_json::from_str(&json).unwrap();
    core.register_credential(&reg, state, cas)
}

/// `(flags, signCount)` of authenticatorData.
fn flags_and_counter(auth_data: &[u8]) -> (u8, u32) {
    (
        auth_data[32],
        u32::from_be_bytes(auth_data[33..37].try_into().unwrap()),
    )
}

fn attestation_fmt(response: &RegistrationResponseJson) -> String {
    let object =
        fauxkey::cbor::decode(&b64url::decode(&response.response.attestation_object).unwrap())
            .unwrap();
    let ciborium::value::Value::Map(entries) = object else {
        panic!("attestation object is not a map")
    };
    entries
        .iter()
        .find(|(k, _)| k.as_text() == Some("fmt"))
        .and_then(|(_, v)| v.as_text())
        .unwrap()
        .to_owned()
}

/// Flags at login; at registration a provider that has not synced yet reports BE=BS=0.
fn expected_flags(profile: &Profile, registration: bool) -> u8 {
    let c = &profile.config;
    let mut f = UP;
    if c.always_uv {
        f |= UV;
    }
    let synced = !(registration && c.unsynced_at_creation);
    if c.backup_eligible && synced {
        f |= BE;
    }
    if c.backup_eligible && c.backup_state && synced {
        f |= BS;
    }
    f
}

#[test]
fn every_profile_registers_and_logs_in_as_its_provider_does() {
    let core = rp();
    let ca = test_ca(1);
    let all = profiles::builtin();
    assert!(all.len() >= 9, "fauxkey plus at least eight providers");
    for (i, profile) in all.iter().enumerate() {
        let name = &profile.name;
        let c = &profile.config;
        let mut client = client_for(profile, &ca, 10 * i as u64);

        // Registration, attestation "none" (webauthn-rs's default for passkeys); discoverable
        // where the profile can store one.
        let (options, state) = start_reg_rk(
            &core,
            AttestationConveyancePreference::None,
            c.resident_keys,
        );
        let reg = client.create(ORIGIN, &options).unwrap();
        let cred = finish_reg(&core, &reg, &state, None)
            .unwrap_or_else(|e| panic!("{name}: webauthn-rs rejected the registration: {e:?}"));
        let auth_data = b64url::decode(&reg.response.authenticator_data).unwrap();
        let (flags, counter) = flags_and_counter(&auth_data);
        assert_eq!(
            flags,
            expected_flags(profile, true) | AT,
            "{name}: registration flags"
        );
        assert_eq!(counter, 0, "{name}: registration counter");
        let aaguid = &auth_data[37..53];
        if profile.zero_aaguid_for_none {
            assert_eq!(
                aaguid, [0; 16],
                "{name}: the client zeroes the AAGUID for none"
            );
        } else {
            assert_eq!(aaguid, c.aaguid.as_bytes(), "{name}: AAGUID");
        }
        assert_eq!(
            attestation_fmt(&reg),
            "none",
            "{name}: fmt under attestation none"
        );
        // Credential id length and shape, from the attested credential data.
        let id_len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
        let id = &auth_data[55..55 + id_len];
        assert_eq!(
            b64url::encode(id),
            reg.raw_id,
            "{name}: id in authData = rawId"
        );
        match c.credential_id_format {
            CredentialIdFormat::Random => {
                assert_eq!(id_len, c.credential_id_length, "{name}: id length")
            }
            CredentialIdFormat::UuidBytes => {
                assert_eq!(id_len, 16, "{name}");
                assert_eq!(uuid::Uuid::from_slice(id).unwrap().get_version_num(), 4);
            }
            CredentialIdFormat::UuidText => {
                assert_eq!(id_len, 36, "{name}");
                let text = std::str::from_utf8(id).unwrap();
                assert_eq!(uuid::Uuid::parse_str(text).unwrap().get_version_num(), 4);
            }
        }
        let mut transports = c.transports.clone();
        transports.sort();
        assert_eq!(reg.response.transports, transports, "{name}: transports");
        assert_eq!(
            reg.authenticator_attachment.as_deref(),
            Some(profile.attachment.as_str()),
            "{name}: attachment"
        );
        // webauthn-rs's own reading agrees.
        let synced = !c.unsynced_at_creation;
        assert_eq!(
            cred.backup_eligible,
            c.backup_eligible && synced,
            "{name}: BE per webauthn-rs"
        );
        assert_eq!(
            cred.backup_state,
            c.backup_eligible && c.backup_state && synced,
            "{name}: BS per webauthn-rs"
        );
        assert_eq!(
            cred.user_verified, c.always_uv,
            "{name}: UV per webauthn-rs"
        );
        assert_eq!(cred.counter, 0);

        // Two logins with an allow list: the counter moves only for counting providers.
        let mut stored = cred.clone();
        if c.unsynced_at_creation {
            // What an RP that tolerates the pre-sync flip does (S23's fix): take BE/BS from
            // the login. The strict behaviours are tested on their own below.
            stored.backup_eligible = c.backup_eligible;
            stored.backup_state = c.backup_eligible && c.backup_state;
        }
        for n in 1..=2u32 {
            let builder = core
                .new_challenge_authenticate_builder(
                    vec![stored.clone()],
                    Some(UserVerificationPolicy::Discouraged_DO_NOT_USE),
                )
                .unwrap();
            let (rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
            let response = client
                .get(ORIGIN, &serde_json::to_string(&rcr).unwrap())
                .unwrap();
            let pkc: PublicKeyCredential =
                serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
            let result = core
                .authenticate_credential(&pkc, &state)
                .unwrap_or_else(|e| panic!("{name}: webauthn-rs rejected login {n}: {e:?}"));
            let auth_data = b64url::decode(&response.response.authenticator_data).unwrap();
            let (flags, counter) = flags_and_counter(&auth_data);
            assert_eq!(
                flags,
                expected_flags(profile, false),
                "{name}: login {n} flags"
            );
            let expected = match c.counter {
                CounterPolicy::PerCredential => n,
                CounterPolicy::AlwaysZero => 0,
            };
            assert_eq!(counter, expected, "{name}: login {n} counter");
            assert_eq!(
                result.counter(),
                expected,
                "{name}: counter per webauthn-rs"
            );
            assert_eq!(result.backup_state(), c.backup_eligible && c.backup_state);
            assert_eq!(result.user_verified(), c.always_uv, "{name}: login UV");
            // What an RP stores after a login: the new counter.
            stored.counter = result.counter();
            stored.backup_eligible = result.backup_eligible();
            stored.backup_state = result.backup_state();
        }
    }
}

#[test]
fn an_unsynced_icloud_passkey_flips_be_and_a_strict_rp_rejects_the_login() {
    let core = rp();
    let ca = test_ca(1);
    let profile = profiles::find("icloud-keychain-unsynced").unwrap();
    let mut client = client_for(&profile, &ca, 90);
    let (options, state) = start_reg(&core, AttestationConveyancePreference::None);
    let reg = client.create(ORIGIN, &options).unwrap();
    let cred = finish_reg(&core, &reg, &state, None).unwrap();
    assert!(!cred.backup_eligible && !cred.backup_state);
    let login = |client: &mut Client, stored: &Credential, allow_upgrade: bool| {
        let builder = core
            .new_challenge_authenticate_builder(vec![stored.clone()], None)
            .unwrap()
            .allow_backup_eligible_upgrade(allow_upgrade);
        let (rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
        let response = client
            .get(ORIGIN, &serde_json::to_string(&rcr).unwrap())
            .unwrap();
        let auth_data = b64url::decode(&response.response.authenticator_data).unwrap();
        assert_eq!(
            auth_data[32] & (BE | BS),
            BE | BS,
            "the login reports BE=BS=1"
        );
        let pkc: PublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        core.authenticate_credential(&pkc, &state)
    };
    // webauthn-rs by default: BE may never change.
    let err = login(&mut client, &cred, false).expect_err("BE changed after registration");
    assert!(
        matches!(err, WebauthnError::CredentialBackupEligibilityInconsistent),
        "{err:?}"
    );
    // Even allowing the BE upgrade, webauthn-rs 0.6 refuses BS=1 against the stored BE=0.
    let err = login(&mut client, &cred, true).expect_err("BS=1 with stored BE=0");
    assert!(
        matches!(err, WebauthnError::CredentialMayNotBeHardwareBound),
        "{err:?}"
    );
    // An RP that takes the flags from the login (S23's fix) accepts it.
    let mut updated = cred.clone();
    updated.backup_eligible = true;
    updated.backup_state = true;
    assert!(login(&mut client, &updated, false)
        .unwrap()
        .backup_eligible());
}

#[test]
fn extensions_follow_the_profile() {
    let ca = test_ca(1);
    for (i, profile) in profiles::builtin().iter().enumerate() {
        let mut client = client_for(profile, &ca, 500 + i as u64);
        let options = r#"{"rp": {"id": "example.com", "name": "Example"},
            "user": {"id": "dXNlcg", "name": "u", "displayName": "U"},
            "challenge": "Y2hhbGxlbmdl", "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "extensions": {"prf": {}, "credProps": true,
                           "credentialProtectionPolicy": "userVerificationRequired"}}"#;
        let reg = client.create(ORIGIN, options).unwrap();
        let results = &reg.client_extension_results;
        let hmac = profile.config.supports_extension("hmac-secret");
        assert_eq!(
            results.prf.as_ref().and_then(|p| p.enabled),
            Some(hmac),
            "{}: prf.enabled",
            profile.name
        );
        assert!(
            results.cred_props.is_some(),
            "{}: credProps is the client's",
            profile.name
        );
        let auth_data = fauxkey::ctap2::auth_data::AuthenticatorData::parse(
            &b64url::decode(&reg.response.authenticator_data).unwrap(),
        )
        .unwrap();
        let ext_text = format!("{:?}", auth_data.extensions);
        assert_eq!(
            ext_text.contains("credProtect"),
            profile.config.supports_extension("credProtect"),
            "{}: credProtect output {ext_text}",
            profile.name
        );
    }
}

fn ca_list(root_der: &[u8], aaguid: uuid::Uuid) -> AttestationCaList {
    let mut builder = AttestationCaListBuilder::new();
    builder
        .insert_device_der(root_der, aaguid, "test device".into(), Default::default())
        .unwrap();
    builder.build()
}

#[test]
fn packed_x5c_is_trusted_only_through_the_test_root() {
    let core = rp();
    let ca = test_ca(7);
    let other = test_ca(8);
    // windows-hello attests `tpm`, which webauthn-rs cannot verify (SimpleWebAuthn does, in
    // tests/fixtures_consumers.rs).
    {
        let name = "yubikey-5";
        let profile = profiles::find(name).unwrap();
        assert_eq!(profile.config.attestation, AttestationMode::Packed);
        let aaguid = profile.config.aaguid;
        let mut client = client_for(&profile, &ca, 40);
        let (options, state) = start_reg(&core, AttestationConveyancePreference::Direct);
        let reg = client.create(ORIGIN, &options).unwrap();
        assert_eq!(attestation_fmt(&reg), "packed");
        let auth_data = b64url::decode(&reg.response.authenticator_data).unwrap();
        assert_eq!(
            &auth_data[37..53],
            aaguid.as_bytes(),
            "{name}: direct keeps the AAGUID"
        );

        // Trusted with our root (and this AAGUID registered under it).
        let cred = finish_reg(&core, &reg, &state, Some(&ca_list(ca.root_der(), aaguid)))
            .unwrap_or_else(|e| panic!("{name}: not trusted with the right root: {e:?}"));
        assert_eq!(cred.attestation_format, AttestationFormat::Packed);
        match &cred.attestation.data {
            ParsedAttestationData::Basic(chain) => assert_eq!(chain.len(), 1),
            other => panic!("{name}: expected basic attestation, got {other:?}"),
        }
        // Rejected when the RP trusts another root only.
        let err = finish_reg(
            &core,
            &reg,
            &state,
            Some(&ca_list(other.root_der(), aaguid)),
        )
        .expect_err("another root must not verify");
        assert!(
            matches!(err, WebauthnError::AttestationChainNotTrusted(_)),
            "{name}: {err:?}"
        );
        // Rejected when the root is right but the RP's allow list names another model.
        let err = finish_reg(
            &core,
            &reg,
            &state,
            Some(&ca_list(ca.root_der(), fauxkey::FAUXKEY_AAGUID)),
        )
        .expect_err("an AAGUID the RP does not allow");
        assert!(
            matches!(err, WebauthnError::AttestationUntrustedAaguid),
            "{err:?}"
        );
    }
}

#[test]
fn none_conveyance_strips_the_certificate_and_windows_zeroes_the_aaguid() {
    let core = rp();
    let ca = test_ca(7);
    for (name, zeroed) in [("yubikey-5", false), ("windows-hello", true)] {
        let profile = profiles::find(name).unwrap();
        let mut client = client_for(&profile, &ca, 60);
        let (options, state) = start_reg(&core, AttestationConveyancePreference::None);
        let reg = client.create(ORIGIN, &options).unwrap();
        assert_eq!(attestation_fmt(&reg), "none", "{name}");
        let auth_data = b64url::decode(&reg.response.authenticator_data).unwrap();
        let expected: [u8; 16] = if zeroed {
            [0; 16]
        } else {
            *profile.config.aaguid.as_bytes()
        };
        assert_eq!(auth_data[37..53], expected, "{name}");
        finish_reg(&core, &reg, &state, None).unwrap();
    }
}

#[test]
fn indirect_and_enterprise_pass_the_statement_through() {
    let ca = test_ca(7);
    let profile = profiles::find("windows-hello").unwrap();
    for conveyance in ["indirect", "enterprise"] {
        let mut client = client_for(&profile, &ca, 80);
        let options = format!(
            r#"{{"rp": {{"id": "example.com", "name": "Example"}},
            "user": {{"id": "dXNlcg", "name": "u", "displayName": "U"}}, "challenge": "Y2hhbGxlbmdl",
            "pubKeyCredParams": [{{"type": "public-key", "alg": -7}}], "attestation": "{conveyance}"}}"#
        );
        let reg = client.create(ORIGIN, &options).unwrap();
        assert_eq!(attestation_fmt(&reg), "tpm", "{conveyance}");
        let auth_data = b64url::decode(&reg.response.authenticator_data).unwrap();
        assert_eq!(
            &auth_data[37..53],
            profile.config.aaguid.as_bytes(),
            "{conveyance}: the AAGUID is not zeroed"
        );
    }
}

#[test]
fn providers_that_never_attest_answer_none_even_to_direct() {
    let core = rp();
    let ca = test_ca(7);
    let profile = profiles::find("icloud-keychain").unwrap();
    let mut client = client_for(&profile, &ca, 70);
    let (options, state) = start_reg(&core, AttestationConveyancePreference::Direct);
    // attestationFormats naming packed changes nothing for a provider that never attests.
    let mut options: serde_json::Value = serde_json::from_str(&options).unwrap();
    options["publicKey"]["attestationFormats"] = serde_json::json!(["packed"]);
    let reg = client.create(ORIGIN, &options.to_string()).unwrap();
    assert_eq!(attestation_fmt(&reg), "none");
    let auth_data = b64url::decode(&reg.response.authenticator_data).unwrap();
    assert_eq!(&auth_data[37..53], profile.config.aaguid.as_bytes());
    finish_reg(&core, &reg, &state, None).unwrap();
}
