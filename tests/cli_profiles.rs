//! `fauxkey profiles`, `init --profile`, `attestation-root` and `metadata`, run as real
//! processes. The end-to-end test hands the root the binary exports to webauthn-rs 0.6 as its
//! only trust anchor and has it verify a registration the binary made.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationCaListBuilder, AttestationConveyancePreference, COSEAlgorithm,
    RegisterPublicKeyCredential, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

const ORIGIN: &str = "https://example.com";
const YUBIKEY_AAGUID: &str = "2fc0579f-8113-47ea-b116-bb5a8db9202a";

static N: AtomicU64 = AtomicU64::new(0);

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!(
        "fauxkey-cli-profiles-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    // Private, as a vault's directory should be (fauxkey warns about a wider one).
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    Dir(d)
}

/// `fauxkey --vault VAULT args…` with a clean environment and a passphrase.
fn fauxkey(vault: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::cargo_bin("fauxkey").unwrap();
    for v in [
        "FAUXKEY_VAULT",
        "FAUXKEY_PASSPHRASE_FILE",
        "FAUXKEY_NEW_PASSPHRASE",
        "FAUXKEY_NEW_PASSPHRASE_FILE",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("FAUXKEY_PASSPHRASE", "pass")
        .arg("--vault")
        .arg(vault)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}; stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn init(vault: &Path, profile: &str) {
    ok(&fauxkey(
        vault,
        &["init", "--profile", profile, "--insecure-fast-kdf"],
    ));
}

#[test]
fn profiles_lists_every_builtin_with_sources() {
    let d = dir("list");
    let vault = d.0.join("none.fxk");
    let json: Value = serde_json::from_str(&ok(&fauxkey(&vault, &["profiles", "--json"]))).unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "fauxkey",
            "icloud-keychain",
            "icloud-keychain-unsynced",
            "google-password-manager",
            "windows-hello",
            "1password",
            "bitwarden",
            "dashlane",
            "keepassxc",
            "yubikey-5",
            "u2f-key",
            "android",
            "apple-touch-id"
        ]
    );
    let bitwarden = &json[6];
    assert_eq!(bitwarden["aaguid"], "d548826e-79b4-db40-a3d8-11116f7e8349");
    assert_eq!(bitwarden["counter"], "always 0");
    assert_eq!(bitwarden["credentialId"], "16 bytes of a v4 UUID");
    for p in json.as_array().unwrap() {
        assert!(!p["sources"].as_array().unwrap().is_empty(), "{p}");
    }
    let table = ok(&fauxkey(&vault, &["profiles"]));
    assert!(table.contains("yubikey-5                2fc0579f-8113-47ea-b116-bb5a8db9202a packed x5c   0/0       +1       cross-platform"), "{table}");
    assert!(table.contains("icloud-keychain-unsynced fbfc3007-154e-4ecc-8c0b-6e020557d7bd none         0/0→1/1   0 "), "{table}");
    // Listing needs no vault and makes none.
    assert!(!vault.exists());
}

#[test]
fn unknown_profiles_are_usage_errors_and_leave_no_vault() {
    let d = dir("unknown");
    let vault = d.0.join("v.fxk");
    let out = fauxkey(&vault, &["init", "--profile", "lastpass"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown profile \"lastpass\"; available profiles: fauxkey, icloud-keychain"),
        "{err}"
    );
    assert!(!vault.exists());
    let out = fauxkey(&vault, &["metadata", "--profile", "lastpass"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_exported_root_is_the_trust_anchor_for_the_binarys_registrations() {
    let d = dir("root");
    let vault = d.0.join("yk.fxk");
    init(&vault, "yubikey-5");
    // A security key: the client reports no platform authenticator.
    let caps: Value =
        serde_json::from_str(&ok(&fauxkey(&vault, &["capabilities", "--json"]))).unwrap();
    assert_eq!(caps["passkeyPlatformAuthenticator"], false);
    assert_eq!(caps["userVerifyingPlatformAuthenticator"], false);
    let pem = ok(&fauxkey(&vault, &["attestation-root", "--pem"]));
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
    // Same root in every form, every time.
    let b64 = ok(&fauxkey(&vault, &["attestation-root"]));
    let metadata: Value = serde_json::from_str(&ok(&fauxkey(
        &vault,
        &["metadata", "--profile", "yubikey-5"],
    )))
    .unwrap();
    assert_eq!(metadata["attestationRootCertificates"][0], b64.trim());
    assert_eq!(metadata["aaguid"], YUBIKEY_AAGUID);
    assert_eq!(ok(&fauxkey(&vault, &["attestation-root", "--pem"])), pem);
    // Per format (RP libraries file trust anchors by fmt): the one root, and stderr says so.
    for fmt in ["packed", "tpm", "fido-u2f", "android-key", "apple"] {
        let out = fauxkey(&vault, &["attestation-root", "--pem", "--format", fmt]);
        assert_eq!(ok(&out), pem, "{fmt}");
        let note = String::from_utf8_lossy(&out.stderr);
        assert!(
            note.contains(&format!(
                "trust anchor for fmt {fmt}: the vault's test root"
            )) && note.contains("(packed, tpm, fido-u2f, android-key, apple)"),
            "{note}"
        );
    }
    for (fmt, says) in [
        ("none", "a `none` attestation carries no certificate chain"),
        (
            "android-safetynet",
            "fauxkey issues no attestation chains for fmt \"android-safetynet\"",
        ),
    ] {
        let out = fauxkey(&vault, &["attestation-root", "--format", fmt]);
        assert_eq!(out.status.code(), Some(2), "{fmt}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(says)
                && err.contains("formats with a root: packed, tpm, fido-u2f, android-key, apple"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }

    // Another vault has another root.
    let other = d.0.join("other.fxk");
    init(&other, "yubikey-5");
    let other_pem = ok(&fauxkey(&other, &["attestation-root", "--pem"]));
    assert_ne!(other_pem, pem);

    // webauthn-rs asks for direct attestation; the binary registers.
    let core = WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        "example.com",
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(60),
        None,
        None,
    );
    let builder = core
        .new_challenge_register_builder(b"alice", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .attestation(AttestationConveyancePreference::Direct);
    let (ccr, state) = core.generate_challenge_register(builder).unwrap();
    let options = d.0.join("options.json");
    std::fs::write(&options, serde_json::to_string(&ccr).unwrap()).unwrap();
    let response = ok(&fauxkey(
        &vault,
        &[
            "create",
            "--origin",
            ORIGIN,
            "--options",
            options.to_str().unwrap(),
        ],
    ));
    let reg: RegisterPublicKeyCredential = serde_json::from_str(&response).unwrap();
    let json: Value = serde_json::from_str(&response).unwrap();
    assert_eq!(json["authenticatorAttachment"], "cross-platform");

    let trust = |root_pem: &str| {
        let mut b = AttestationCaListBuilder::new();
        b.insert_device_pem(
            root_pem.as_bytes(),
            uuid::Uuid::parse_str(YUBIKEY_AAGUID).unwrap(),
            "YubiKey 5 (fauxkey)".into(),
            Default::default(),
        )
        .unwrap();
        b.build()
    };
    core.register_credential(&reg, &state, Some(&trust(&pem)))
        .expect("trusted through the exported root");
    let err = core
        .register_credential(&reg, &state, Some(&trust(&other_pem)))
        .expect_err("another vault's root must not verify it");
    assert!(
        matches!(err, WebauthnError::AttestationChainNotTrusted(_)),
        "{err:?}"
    );
}

#[test]
fn vaults_without_a_ca_get_one_on_first_export_and_keep_it() {
    let d = dir("lazy");
    let vault = d.0.join("v.fxk");
    // `create` on a missing vault makes one with no attestation CA in it.
    let out = Command::cargo_bin("fauxkey")
        .unwrap()
        .env("FAUXKEY_PASSPHRASE", "pass")
        .env_remove("FAUXKEY_PASSPHRASE_FILE")
        .arg("--vault")
        .arg(&vault)
        .args(["create", "--rp-id", "example.com", "--user", "alice"])
        .output()
        .unwrap();
    // The default KDF makes this slow-ish but real; only success matters here.
    ok(&out);
    let first = fauxkey(&vault, &["attestation-root"]);
    assert!(String::from_utf8_lossy(&first.stderr).contains("created a test attestation CA"));
    let second = fauxkey(&vault, &["attestation-root"]);
    assert_eq!(ok(&first), ok(&second));
    assert!(second.stderr.is_empty());
}

#[test]
fn metadata_of_a_none_profile_needs_no_vault() {
    let d = dir("meta");
    let vault = d.0.join("absent.fxk");
    let statement: Value = serde_json::from_str(&ok(&fauxkey(
        &vault,
        &["metadata", "--profile", "bitwarden"],
    )))
    .unwrap();
    assert_eq!(statement["aaguid"], "d548826e-79b4-db40-a3d8-11116f7e8349");
    assert_eq!(statement["attestationTypes"], serde_json::json!(["none"]));
    assert_eq!(statement["protocolFamily"], "fido2");
    assert!(!vault.exists());
    // A profile that attests with a certificate needs the vault's root.
    let out = fauxkey(&vault, &["metadata", "--profile", "yubikey-5"]);
    assert_eq!(out.status.code(), Some(3), "no vault");
}

#[test]
fn custom_profile_files_shape_the_vault_and_bad_ones_are_explained() {
    let d = dir("custom");
    let file = d.0.join("acme.json");
    std::fs::write(
        &file,
        r#"{"name": "acme-pass", "base": "bitwarden", "aaguid": "00112233-4455-6677-8899-aabbccddeeff",
            "authenticatorAttachment": "cross-platform"}"#,
    )
    .unwrap();
    let vault = d.0.join("v.fxk");
    init(&vault, file.to_str().unwrap());
    let info: Value = serde_json::from_str(&ok(&fauxkey(&vault, &["info", "--json"]))).unwrap();
    assert_eq!(info["aaguid"], "00112233-4455-6677-8899-aabbccddeeff");
    assert_eq!(
        info["extensions"],
        serde_json::json!([]),
        "bitwarden's, kept"
    );
    let reg: Value = serde_json::from_str(&ok(&fauxkey(
        &vault,
        &["create", "--rp-id", "example.com", "--user", "bob"],
    )))
    .unwrap();
    assert_eq!(reg["authenticatorAttachment"], "cross-platform");

    let bad = d.0.join("bad.json");
    std::fs::write(&bad, r#"{"name": "x", "counter": "sometimes"}"#).unwrap();
    let vault2 = d.0.join("v2.fxk");
    let out = fauxkey(&vault2, &["init", "--profile", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`counter` \"sometimes\": use per-credential or always-zero"),
        "{err}"
    );
    assert!(!vault2.exists());
    let out = fauxkey(&vault2, &["init", "--profile", "/nonexistent/p.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read profile file"));
}

#[test]
fn the_android_metadata_states_android_key_its_algorithms_and_the_vaults_root() {
    let d = dir("android");
    let vault = d.0.join("android.fxk");
    init(&vault, "android");
    let b64 = ok(&fauxkey(&vault, &["attestation-root"]));
    let metadata: Value =
        serde_json::from_str(&ok(&fauxkey(&vault, &["metadata", "--profile", "android"]))).unwrap();
    assert_eq!(metadata["aaguid"], "b93fd961-f2e6-462f-b122-82002247de78");
    assert_eq!(
        metadata["attestationTypes"],
        serde_json::json!(["basic_full"])
    );
    assert_eq!(
        metadata["authenticationAlgorithms"],
        serde_json::json!(["secp256r1_ecdsa_sha256_raw", "rsassa_pkcsv15_sha256_raw"])
    );
    assert_eq!(metadata["attestationRootCertificates"][0], b64.trim());
    let table = ok(&fauxkey(&vault, &["profiles"]));
    assert!(
        table.contains("android                  b93fd961-f2e6-462f-b122-82002247de78 android-key"),
        "{table}"
    );
}
