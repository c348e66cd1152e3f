//! The README's Python and Node fixture consumers, run for real: `examples/fixtures/
//! verify_corpus.py` (py_webauthn) and `verify_corpus.mjs` (SimpleWebAuthn) check every case of a
//! generated corpus and must reach the manifest's verdict on each, accepting a broken case only
//! where the manifest names that library in `not_caught_by`.
//!
//! Tools come from `.ci/setup-fixtures.sh` (`.ci/venv`, `.ci/node`), or from `FAUXKEY_PYTHON`
//! and `FAUXKEY_NODE_MODULES`. Without them each test prints SKIPPED and passes, unless
//! `FAUXKEY_REQUIRE_E2E=1`, which makes a missing tool a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fauxkey::crypto::keys::Algorithm;
use fauxkey::fixtures::{self, FixtureOptions, Verdict};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `None` after printing SKIPPED, or a panic when end-to-end tools are required.
fn missing(what: &str) -> Option<PathBuf> {
    let message = format!("SKIPPED: {what}; run .ci/setup-fixtures.sh");
    if std::env::var("FAUXKEY_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{message} (FAUXKEY_REQUIRE_E2E=1)");
    }
    // Straight to the stderr handle (libtest captures `eprintln!`): visible in `cargo test`.
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{message}\n"));
    None
}

fn python() -> Option<PathBuf> {
    let python = std::env::var_os("FAUXKEY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".ci/venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import webauthn"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(python)
    } else {
        missing(&format!(
            "{} cannot import webauthn (py_webauthn)",
            python.display()
        ))
    }
}

fn node_modules() -> Option<PathBuf> {
    let modules = std::env::var_os("FAUXKEY_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".ci/node/node_modules"));
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return missing("no `node` on PATH");
    }
    if modules
        .join("@simplewebauthn/server/package.json")
        .is_file()
    {
        Some(modules)
    } else {
        missing(&format!(
            "no @simplewebauthn/server in {}",
            modules.display()
        ))
    }
}

/// A corpus of every built-in profile with every broken case, on disk in a fresh directory,
/// for the credential `algorithms`.
fn corpus_dir(
    name: &str,
    algorithms: &[Algorithm],
    profiles: Vec<fauxkey::profiles::Profile>,
) -> (PathBuf, fixtures::Corpus) {
    let dir = std::env::temp_dir().join(format!(
        "fauxkey-fixtures-consumer-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    // Every built-in profile; fauxkey's own creates every algorithm (ES384, ES512 and RS256
    // credentials get golden and broken cases, judged by the consumer).
    let corpus = fixtures::generate(&FixtureOptions {
        seed: 21,
        negative: true,
        profiles,
        algorithms: algorithms.to_vec(),
        ..FixtureOptions::default()
    })
    .unwrap();
    corpus.write_to(&dir.join("corpus")).unwrap();
    (dir, corpus)
}

/// The format-specific broken cases (tpm, x5c) and the start of py_webauthn 3.0.1's refusal
/// for each (its error and, after "cause:", the exception behind it): a rejection for another
/// reason would prove nothing about the case.
const PY_WEBAUTHN_REASONS: &[(&str, &str)] = &[
    ("tpm-wrong-magic", "InvalidRegistrationResponse: CertInfo magic \""),
    (
        "tpm-wrong-extra-data",
        "InvalidRegistrationResponse: PubArea extra data did not match hash of auth data and client data (TPM)",
    ),
    // ECC: "Unique … was not same as public key [x,y]"; RSA: "PubArea unique … was not same
    // as public key modulus".
    ("tpm-pub-area-mismatch", "was not same as public key"),
    (
        "tpm-aik-without-eku",
        "InvalidRegistrationResponse: Certificate missing extension <ObjectIdentifier(oid=2.5.29.37, name=extendedKeyUsage)> (TPM)",
    ),
    (
        "tpm-aik-without-san",
        "InvalidRegistrationResponse: Certificate missing extension <ObjectIdentifier(oid=2.5.29.17, name=subjectAltName)> (TPM)",
    ),
    (
        "tpm-aik-subject-not-empty",
        "InvalidRegistrationResponse: Certificate Subject \"<Name(CN=fauxkey Test AIK,O=fauxkey,C=ZZ)>\" was not empty (TPM)",
    ),
    ("x5c-expired", "(cause: X509StoreContextError: certificate has expired)"),
    (
        "x5c-not-yet-valid",
        "(cause: X509StoreContextError: certificate is not yet valid",
    ),
    // x5c-wrong-aaguid: accepted (listed in the manifest's not_caught_by).
    (
        "android-key-challenge-mismatch",
        "attestationChallenge field was not the same as the hash of clientDataJSON",
    ),
    (
        "android-key-all-applications",
        "allApplications field was present in teeEnforced",
    ),
];

/// The same for @simplewebauthn/server 14.0.3.
const SIMPLEWEBAUTHN_REASONS: &[(&str, &str)] = &[
    (
        "tpm-wrong-magic",
        "Error: Unexpected magic value \"4283712326\", expected \"0xff544347\" (TPM)",
    ),
    (
        "tpm-wrong-extra-data",
        "Error: CertInfo extra data did not equal hashed attestation (TPM)",
    ),
    // ECC: "… is not same as public key x and y (TPM|ECC)"; RSA: "… credentialPublicKey (TPM|RSA)".
    (
        "tpm-pub-area-mismatch",
        "Error: PubArea unique is not same as ",
    ),
    (
        "tpm-aik-without-eku",
        "Error: Certificate did not contain ExtendedKeyUsage extension (TPM)",
    ),
    (
        "tpm-aik-without-san",
        "Error: Certificate did not contain subjectAltName extension (TPM)",
    ),
    (
        "tpm-aik-subject-not-empty",
        "Error: Certificate subject was not empty (TPM)",
    ),
    (
        "x5c-expired",
        "Error: Certificate not good after \"Tue Dec 31 2024 23:59:59 GMT",
    ),
    (
        "x5c-not-yet-valid",
        "Error: Certificate not good before \"Fri Jan 01 2049 00:00:00 GMT",
    ),
    (
        "x5c-wrong-aaguid",
        "Error: Certificate extension id-fido-gen-ce-aaguid (1.3.6.1.4.1.45724.1.1.4) value of \"",
    ),
    (
        "android-key-challenge-mismatch",
        "Attestation challenge was not equal to client data hash",
    ),
    (
        "android-key-all-applications",
        "teeEnforced contained \"allApplications [600]\"",
    ),
];

/// The corpus holds every tpm fault on tpm (windows-hello), every x5c fault on both packed
/// (yubikey-5) and tpm, and every android-key fault on android-key (android).
fn assert_format_faults_present(corpus: &fixtures::Corpus) {
    let cases = &corpus.manifest().cases;
    for (broken, _) in SIMPLEWEBAUTHN_REASONS {
        for fmt in ["tpm", "packed", "android-key"] {
            let own = if broken.starts_with("tpm-") {
                fmt == "tpm"
            } else if broken.starts_with("android-key-") {
                fmt == "android-key"
            } else {
                fmt != "android-key"
            };
            if !own {
                continue;
            }
            assert!(
                cases
                    .iter()
                    .any(|c| c.broken.as_deref() == Some(broken) && c.fmt.as_deref() == Some(fmt)),
                "no {broken} case with fmt {fmt}"
            );
        }
    }
}

/// Checks a consumer's summary against the manifest; a rejected case whose `broken` is in
/// `reasons` must be refused with an error containing the listed text.
fn judge(
    output: std::process::Output,
    corpus: &fixtures::Corpus,
    library_prefix: &str,
    reasons: &[(&str, &str)],
) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON summary ({e}); stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let library = summary["library"].as_str().unwrap();
    assert!(library.starts_with(library_prefix), "{library}");
    assert_eq!(
        summary["mismatches"],
        serde_json::json!([]),
        "{library}: {summary:#}"
    );
    assert!(output.status.success(), "{library}: {summary:#}");
    let cases = &corpus.manifest().cases;
    assert_eq!(summary["checked"], cases.len(), "{library}");
    let golden = cases
        .iter()
        .filter(|c| c.verdict == Verdict::Accept)
        .count();
    assert_eq!(summary["accepted"], golden, "{library}");
    // Exactly the cases the manifest says this library lets through were let through.
    let gaps: Vec<&str> = cases
        .iter()
        .filter(|c| c.not_caught_by.iter().any(|l| l == library))
        .map(|c| c.id.as_str())
        .collect();
    let accepted: Vec<&str> = summary["accepted_known_gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(accepted, gaps, "{library}");
    assert_eq!(
        summary["rejected"],
        cases.len() - golden - gaps.len(),
        "{library}"
    );
    // Each format-specific broken case was refused for its own reason.
    let mut matched = 0;
    for case in cases.iter().filter(|c| c.verdict == Verdict::Reject) {
        let Some((_, want)) = reasons
            .iter()
            .find(|(b, _)| case.broken.as_deref() == Some(*b))
        else {
            continue;
        };
        if gaps.contains(&case.id.as_str()) {
            continue;
        }
        let error = summary["rejections"][&case.id]
            .as_str()
            .unwrap_or_else(|| panic!("{library}: no rejection recorded for {}", case.id));
        assert!(
            error.contains(want),
            "{library} rejected {} for another reason than {:?} (want {want:?}): {error}",
            case.id,
            case.broken
        );
        matched += 1;
    }
    assert!(
        matched >= reasons.len(),
        "{library}: {matched} reasons matched"
    );
    for id in &gaps {
        let case = cases.iter().find(|c| c.id == *id).unwrap();
        eprintln!(
            "{library} accepts {id}; the manifest says checked_by: {} ({})",
            case.checked_by.as_deref().unwrap_or("?"),
            case.check.as_deref().unwrap_or("?")
        );
    }
}

#[test]
fn py_webauthn_reaches_the_manifest_verdict_on_every_case() {
    let Some(python) = python() else { return };
    // py_webauthn 3.0.1 has no ES384 (COSE -35 is not in its COSEAlgorithmIdentifier).
    let algorithms: Vec<Algorithm> = Algorithm::ALL
        .into_iter()
        .filter(|a| *a != Algorithm::Es384)
        .collect();
    // verify_corpus.py registers the FIDO Alliance's test TPM vendor (id:FFFFF1D0) the `tpm`
    // AIK names, which py_webauthn 3.0.1's TCG list lacks, so windows-hello's tpm is checked too.
    let (dir, corpus) = corpus_dir("python", &algorithms, fauxkey::profiles::builtin());
    assert_format_faults_present(&corpus);
    let output = Command::new(python)
        .arg(repo().join("examples/fixtures/verify_corpus.py"))
        .arg(dir.join("corpus"))
        .output()
        .unwrap();
    judge(output, &corpus, "py_webauthn ", PY_WEBAUTHN_REASONS);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simplewebauthn_reaches_the_manifest_verdict_on_every_case() {
    let Some(modules) = node_modules() else {
        return;
    };
    // SimpleWebAuthn 14.0.3 compares an android-key leaf's key with the COSE key as an EC point
    // only (convertCOSEtoPKCS reads x and y), so it cannot verify an RS256 android-key
    // credential: the android profile makes ES256 ones here (py_webauthn checks RS256 too).
    let profiles = fauxkey::profiles::builtin()
        .into_iter()
        .map(|mut p| {
            if p.config.attestation == fauxkey::authenticator::AttestationMode::AndroidKey {
                p.config.algorithms = vec![Algorithm::Es256];
            }
            p
        })
        .collect();
    let (dir, corpus) = corpus_dir("node", &Algorithm::ALL, profiles);
    // windows-hello's direct registrations are `tpm` (RS256 → RSA pubArea, ES256 → ECC).
    let tpm = corpus
        .manifest()
        .cases
        .iter()
        .filter(|c| c.fmt.as_deref() == Some("tpm") && c.verdict == Verdict::Accept)
        .count();
    assert!(tpm >= 2, "golden tpm cases: {tpm}");
    assert_format_faults_present(&corpus);
    let android = corpus
        .manifest()
        .cases
        .iter()
        .filter(|c| c.fmt.as_deref() == Some("android-key"))
        .count();
    // The golden ES256 registration and its broken variants (the two android-key ones among them).
    assert!(android >= 3, "android-key cases: {android}");
    // apple-touch-id's direct registration is `apple`, verified against the corpus root set
    // where Apple's root goes; its broken twin re-issues the leaf over a wrong nonce.
    let cases = &corpus.manifest().cases;
    assert!(
        cases
            .iter()
            .any(|c| c.fmt.as_deref() == Some("apple") && c.verdict == Verdict::Accept),
        "no golden apple case"
    );
    assert!(
        cases
            .iter()
            .any(|c| c.id.ends_with(".registration.apple-nonce-mismatch")
                && c.verdict == Verdict::Reject
                && c.not_caught_by.is_empty()),
        "no apple-nonce-mismatch case every library rejects"
    );
    // ES modules resolve packages from the script's own directory upwards.
    let script = dir.join("verify_corpus.mjs");
    std::fs::copy(repo().join("examples/fixtures/verify_corpus.mjs"), &script).unwrap();
    link_dir(&modules, &dir.join("node_modules"));
    let output = Command::new("node")
        .arg(&script)
        .arg(dir.join("corpus"))
        .output()
        .unwrap();
    judge(
        output,
        &corpus,
        "@simplewebauthn/server ",
        SIMPLEWEBAUTHN_REASONS,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
fn link_dir(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(not(unix))]
fn link_dir(target: &Path, link: &Path) {
    std::os::windows::fs::symlink_dir(target, link).unwrap();
}
