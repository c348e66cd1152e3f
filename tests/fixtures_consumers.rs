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

/// Checks a consumer's summary against the manifest.
fn judge(output: std::process::Output, corpus: &fixtures::Corpus, library_prefix: &str) {
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
    // py_webauthn 3.0.1 does not know the FIDO Alliance's test TPM vendor (id:FFFFF1D0) the
    // `tpm` AIK names, so windows-hello attests packed x5c in its corpus.
    let profiles = fauxkey::profiles::builtin()
        .into_iter()
        .map(|mut p| {
            if p.config.attestation == fauxkey::authenticator::AttestationMode::Tpm {
                p.config.attestation = fauxkey::authenticator::AttestationMode::Packed;
            }
            p
        })
        .collect();
    let (dir, corpus) = corpus_dir("python", &algorithms, profiles);
    let output = Command::new(python)
        .arg(repo().join("examples/fixtures/verify_corpus.py"))
        .arg(dir.join("corpus"))
        .output()
        .unwrap();
    judge(output, &corpus, "py_webauthn ");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn simplewebauthn_reaches_the_manifest_verdict_on_every_case() {
    let Some(modules) = node_modules() else {
        return;
    };
    let (dir, corpus) = corpus_dir("node", &Algorithm::ALL, fauxkey::profiles::builtin());
    // windows-hello's direct registrations are `tpm` (RS256 → RSA pubArea, ES256 → ECC).
    let tpm = corpus
        .manifest()
        .cases
        .iter()
        .filter(|c| c.fmt.as_deref() == Some("tpm") && c.verdict == Verdict::Accept)
        .count();
    assert!(tpm >= 2, "golden tpm cases: {tpm}");
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
    judge(output, &corpus, "@simplewebauthn/server ");
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
