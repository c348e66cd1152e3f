//! fauxkey's MDS3-style metadata statements checked by python-fido2 (`fido2.mds3`), an
//! independent library: every profile's statement parses as its `MetadataStatement`, and its
//! `MdsAttestationVerifier` trusts a packed x5c registration through the statement's
//! `attestationRootCertificates`, and only through the right root.
//!
//! Needs python-fido2: `.ci/setup-mds.sh` installs it to /opt/fauxkey-mds-venv; set
//! `FAUXKEY_MDS_PYTHON` to use another interpreter. Without it the test prints SKIPPED, unless
//! `FAUXKEY_REQUIRE_E2E=1`, when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fauxkey::attestation::{metadata, AttestationCa};
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::profiles;
use fauxkey::store::MemoryStore;
use serde_json::Value;

const DEFAULT_PYTHON: &str = "/opt/fauxkey-mds-venv/bin/python";

fn python() -> Option<PathBuf> {
    let candidate = std::env::var_os("FAUXKEY_MDS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PYTHON));
    let works = Command::new(&candidate)
        .args(["-c", "import fido2.mds3"])
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return Some(candidate);
    }
    let why = format!(
        "python-fido2 not found at {} (FAUXKEY_MDS_PYTHON)",
        candidate.display()
    );
    if std::env::var("FAUXKEY_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{why}; run .ci/setup-mds.sh");
    }
    // Straight to the stderr handle (libtest captures `eprintln!`): visible in `cargo test`.
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("SKIPPED: {why}; run .ci/setup-mds.sh\n"),
    );
    None
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/mds_verify.py")
}

fn run(python: &Path, args: &[&Path]) -> Value {
    let out = Command::new(python)
        .arg(script())
        .args(args.iter().map(|p| p.as_os_str()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-fido2 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(dir: &Path, name: &str, value: &impl serde::Serialize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

#[test]
fn python_fido2_parses_statements_and_trusts_attestations_through_their_roots() {
    let Some(python) = python() else { return };
    let dir = Dir(std::env::temp_dir().join(format!("fauxkey-mds-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let ca = AttestationCa::generate(&mut seeded_rng(21)).unwrap();
    let other = AttestationCa::generate(&mut seeded_rng(22)).unwrap();

    // Every profile's statement is a valid MetadataStatement to python-fido2.
    for profile in profiles::builtin() {
        let u2f_only = profile.config.u2f == fauxkey::authenticator::U2fMode::Only;
        // A U2F statement names its attestation certificate, so it needs one.
        let profile = if u2f_only {
            profile.with_attestation(&ca, &mut seeded_rng(22)).unwrap()
        } else {
            profile
        };
        let statement = metadata::statement(&profile, Some(&ca)).unwrap();
        let path = write(&dir.0, &format!("{}.json", profile.name), &statement);
        let parsed = run(&python, &[Path::new("parse"), &path]);
        if u2f_only {
            assert_eq!(
                parsed["aaguid"],
                serde_json::Value::Null,
                "{}",
                profile.name
            );
            assert_eq!(
                parsed["keys"], statement["attestationCertificateKeyIdentifiers"],
                "{}",
                profile.name
            );
            assert_eq!(parsed["keys"].as_array().map(Vec::len), Some(1));
            continue;
        }
        // apple-touch-id's AAGUID is all zeroes (as Safari's was): python-fido2 reads it as
        // its falsy `Aaguid.NONE`, which the script prints as null.
        let want = if profile.config.aaguid.is_nil() {
            serde_json::Value::Null
        } else {
            profile.config.aaguid.hyphenated().to_string().into()
        };
        assert_eq!(parsed["aaguid"], want, "{}", profile.name);
        if profile.name == "apple-touch-id" {
            assert_eq!(statement["attestationTypes"], serde_json::json!(["anonca"]));
            assert_eq!(
                statement["attestationRootCertificates"]
                    .as_array()
                    .map(Vec::len),
                Some(1),
                "the vault's root stands where Apple's WebAuthn root goes"
            );
        }
    }

    // A u2f-key (fido-u2f) registration is found by its certificate's key identifier.
    let u2f = profiles::find("u2f-key")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(25))
        .unwrap();
    let authenticator = u2f
        .authenticator(MemoryStore::new())
        .with_rng(seeded_rng(26))
        .with_clock(FixedClock::at(1_700_000_000_000));
    let mut client = u2f.client(authenticator);
    let options = r#"{"rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "dXNlcg", "name": "u", "displayName": "U"}, "challenge": "Y2hhbGxlbmdl",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}], "attestation": "direct"}"#;
    let registration = client.create("https://example.com", options).unwrap();
    let reg_path = write(&dir.0, "u2f-registration.json", &registration);
    let statement = write(
        &dir.0,
        "u2f-right.json",
        &metadata::statement(&u2f, Some(&ca)).unwrap(),
    );
    let verdict = run(&python, &[Path::new("verify"), &statement, &reg_path]);
    assert_eq!(verdict["trusted"], true, "{verdict}");

    // A yubikey-5 registration with direct attestation, made under `ca`.
    let profile = profiles::find("yubikey-5")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(23))
        .unwrap();
    let authenticator = profile
        .authenticator(MemoryStore::new())
        .with_rng(seeded_rng(24))
        .with_clock(FixedClock::at(1_700_000_000_000));
    let mut client = profile.client(authenticator);
    let options = r#"{"rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "dXNlcg", "name": "u", "displayName": "U"}, "challenge": "Y2hhbGxlbmdl",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}], "attestation": "direct"}"#;
    let registration = client.create("https://example.com", options).unwrap();
    let reg_path = write(&dir.0, "registration.json", &registration);

    let right = write(
        &dir.0,
        "right.json",
        &metadata::statement(&profile, Some(&ca)).unwrap(),
    );
    let verdict = run(&python, &[Path::new("verify"), &right, &reg_path]);
    assert_eq!(verdict["trusted"], true, "{verdict}");
    assert_eq!(
        verdict["description"],
        "YubiKey 5 NFC security key, firmware 5.2–5.4 (emulated by fauxkey)"
    );

    let wrong = write(
        &dir.0,
        "wrong.json",
        &metadata::statement(&profile, Some(&other)).unwrap(),
    );
    let verdict = run(&python, &[Path::new("verify"), &wrong, &reg_path]);
    assert_eq!(
        verdict["trusted"], false,
        "another root must not verify: {verdict}"
    );
}
