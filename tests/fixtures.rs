//! The fixture generator's proofs: the same seed gives a byte-identical tree (another seed does
//! not), and an independent RP library, webauthn-rs, reaches the manifest's verdict on every
//! case: ES256 cases through webauthn-rs-core 0.6, EdDSA cases through 0.5.4 (0.6 cannot verify
//! Ed25519).
//!
//! Each case is checked the way an RP server would: webauthn-rs's own options builder makes the
//! ceremony state for the manifest's inputs, the state takes the manifest's challenge, the
//! response file is parsed into webauthn-rs's wire types and the library verifies it. A
//! discoverable login looks the account up by `userHandle`, as webauthn-rs documents. Where
//! webauthn-rs accepts a broken case, the test passes only if the manifest names that library in
//! `not_caught_by` (and says which check catches it instead); where it rejects one, the manifest
//! must not name it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use fauxkey::fixtures::{self, CeremonyKind, Corpus, FixtureCase, FixtureOptions, Verdict};
use fauxkey::profiles::Profile;

fn options(seed: u64, negative: bool) -> FixtureOptions {
    FixtureOptions {
        seed,
        negative,
        ..FixtureOptions::default()
    }
}

/// Every file under `dir`, relative path → bytes.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fauxkey-fixtures-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn same_seed_gives_a_byte_identical_tree_on_disk() {
    let a = temp_dir("a");
    let b = temp_dir("b");
    fixtures::generate(&options(7, true))
        .unwrap()
        .write_to(&a)
        .unwrap();
    fixtures::generate(&options(7, true))
        .unwrap()
        .write_to(&b)
        .unwrap();
    let (ta, tb) = (read_tree(&a), read_tree(&b));
    assert!(ta.len() > 50, "only {} files", ta.len());
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(tb[path] == *bytes, "{path} differs between two runs");
    }
    // What is on disk is exactly the in-memory corpus.
    let corpus = fixtures::generate(&options(7, true)).unwrap();
    assert_eq!(&ta, corpus.files());
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn every_builtin_profile_is_deterministic_too() {
    // Includes the profiles with x5c attestation certificates (issued by the seeded test CA).
    let all = || FixtureOptions {
        profiles: fauxkey::profiles::builtin(),
        ..options(8, true)
    };
    let a = fixtures::generate(&all()).unwrap();
    let b = fixtures::generate(&all()).unwrap();
    assert!(a.files() == b.files(), "two runs differ");
    assert!(a
        .manifest()
        .cases
        .iter()
        .any(|c| c.fmt.as_deref() == Some("packed")));
    let other = fixtures::generate(&FixtureOptions { seed: 9, ..all() }).unwrap();
    assert_ne!(
        a.file("attestation-root.pem"),
        other.file("attestation-root.pem")
    );
}

#[test]
fn another_seed_changes_every_response_but_not_the_layout() {
    let a = fixtures::generate(&options(1, true)).unwrap();
    let b = fixtures::generate(&options(2, true)).unwrap();
    assert_eq!(
        a.files().keys().collect::<Vec<_>>(),
        b.files().keys().collect::<Vec<_>>()
    );
    for path in a.files().keys().filter(|p| p.starts_with("cases/")) {
        assert_ne!(
            a.file(path),
            b.file(path),
            "{path} did not change with the seed"
        );
    }
}

#[test]
fn files_are_pretty_json_with_a_trailing_newline_and_no_timestamps() {
    let corpus = fixtures::generate(&options(3, true)).unwrap();
    for (path, bytes) in corpus.files() {
        let text = std::str::from_utf8(bytes).unwrap();
        assert!(text.ends_with('\n'), "{path}");
        if path.ends_with(".json") {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let mut again = serde_json::to_string_pretty(&value).unwrap();
            again.push('\n');
            if path == "manifest.json" {
                assert!(text.starts_with("{\n  \"format\": \"fauxkey-fixtures/1\""));
            }
            // Pretty-printed (no single-line blobs) with two-space indents.
            assert!(text.contains("\n  \""), "{path} is not pretty");
        }
        assert!(
            !text.contains("2026-") && !text.contains("2025-"),
            "{path} has a date"
        );
    }
}

#[test]
fn manifest_indexes_every_case_file_and_nothing_else() {
    let corpus = fixtures::generate(&options(4, true)).unwrap();
    let m = corpus.manifest();
    let parsed: fixtures::Manifest =
        serde_json::from_slice(corpus.file("manifest.json").unwrap()).unwrap();
    assert_eq!(&parsed, m);
    let mut listed: Vec<&str> = vec!["README.md", "attestation-root.pem", "manifest.json"];
    let mut ids = std::collections::BTreeSet::new();
    for case in &m.cases {
        assert!(ids.insert(case.id.clone()), "{} twice", case.id);
        listed.push(&case.files.options);
        listed.push(&case.files.response);
        assert_eq!(
            case.verdict == Verdict::Accept,
            case.broken.is_none(),
            "{}",
            case.id
        );
        assert_eq!(
            case.verdict == Verdict::Accept,
            case.expected.is_some(),
            "{}",
            case.id
        );
        if case.ceremony == CeremonyKind::Authentication {
            assert!(case.inputs.stored_public_key_cose.is_some(), "{}", case.id);
            assert!(case.inputs.stored_counter.is_some(), "{}", case.id);
        }
    }
    listed.sort();
    assert_eq!(
        listed,
        corpus
            .files()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    // Golden cases per profile × alg × attestation; every broken kind of the issue is present.
    let golden = m
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Accept)
        .count();
    assert_eq!(golden, 2 * 2 * 2);
    let broken: std::collections::BTreeSet<&str> =
        m.cases.iter().filter_map(|c| c.broken.as_deref()).collect();
    for name in [
        "wrong-challenge",
        "wrong-origin",
        "wrong-type",
        "wrong-rp-id-hash",
        "bad-signature",
        "up-cleared",
        "uv-cleared",
        "bs-without-be",
        "counter-backwards",
        "missing-user-handle",
        "wrong-user-handle",
        "id-rawid-mismatch",
        "alg-not-offered",
        "truncated-authenticator-data",
        "trailing-bytes",
        "non-canonical-cbor",
        "malformed-cbor",
        "padded-base64url",
    ] {
        assert!(broken.contains(name), "no {name} case");
    }
    let readme = corpus.text("README.md").unwrap();
    assert!(readme.contains(&format!("{} cases", m.cases.len())));
}

#[test]
fn bad_options_are_refused_with_a_clear_error() {
    let err = fixtures::generate(&FixtureOptions {
        origin: "https://other.example".into(),
        ..FixtureOptions::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string().split(": ").next().unwrap(),
        "RP ID \"example.com\" cannot be used from origin \"https://other.example\""
    );
    let err = fixtures::generate(&FixtureOptions {
        profiles: Vec::new(),
        ..FixtureOptions::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid fixture options: no profile selected"
    );
    let err = fixtures::generate(&FixtureOptions {
        users: 0,
        ..FixtureOptions::default()
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "invalid fixture options: users is 0");
}

#[test]
fn write_to_refuses_a_non_empty_directory_and_writes_0644() {
    let dir = temp_dir("nonempty");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), b"mine").unwrap();
    let corpus = fixtures::generate(&options(5, false)).unwrap();
    let err = corpus.write_to(&dir).unwrap_err();
    assert!(
        matches!(err, fixtures::FixtureError::NotEmpty { .. }),
        "{err}"
    );
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"mine");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();

    corpus.write_to(&dir).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join("manifest.json")), 0o644);
        let case = &corpus.manifest().cases[0];
        assert_eq!(mode(&dir.join(&case.files.response)), 0o644);
        assert_eq!(mode(&dir.join("cases")), 0o755);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn several_users_multiply_the_cases() {
    let corpus = fixtures::generate(&FixtureOptions {
        users: 3,
        algorithms: vec![fauxkey::crypto::keys::Algorithm::Es256],
        ..FixtureOptions::default()
    })
    .unwrap();
    let ids: Vec<&str> = corpus
        .manifest()
        .cases
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(ids.len(), 2 * 3 * 2);
    assert!(
        ids.contains(&"fauxkey.es256.none.u2.authentication"),
        "{ids:?}"
    );
}

/// What webauthn-rs concluded about one case.
struct Outcome {
    accepted: bool,
    detail: String,
}

/// Every built-in profile, plus two that cover what the built-in ones may not: a security key
/// (not backup eligible, per-credential counter, no discoverable credentials, packed self
/// attestation) and a synced provider whose counter stays at 0.
fn corpus_for_interop() -> Corpus {
    use fauxkey::authenticator::{AttestationMode, CounterPolicy};
    let base = fauxkey::profiles::builtin()[0].clone();
    let security_key = Profile {
        name: "test-security-key".into(),
        description: "a roaming key".into(),
        config: fauxkey::Config {
            backup_eligible: false,
            backup_state: false,
            resident_keys: false,
            attestation: AttestationMode::PackedSelf,
            account_chooser: false,
            ..base.config.clone()
        },
        attachment: fauxkey::client::Attachment::CrossPlatform,
        ..base.clone()
    };
    let zero_counter = Profile {
        name: "test-zero-counter".into(),
        config: fauxkey::Config {
            counter: CounterPolicy::AlwaysZero,
            ..base.config.clone()
        },
        ..base
    };
    let mut profiles = fauxkey::profiles::builtin();
    profiles.extend([security_key, zero_counter]);
    fixtures::generate(&FixtureOptions {
        profiles,
        ..options(11, true)
    })
    .unwrap()
}

/// The start of webauthn-rs's error (or of the RP's own refusal, for the account lookup) for
/// each broken kind: a rejection for another reason would prove nothing about the case.
fn rejection_reason(ceremony: CeremonyKind, broken: &str) -> Option<&'static [&'static str]> {
    use CeremonyKind::{Authentication as Auth, Registration as Reg};
    Some(match (ceremony, broken) {
        (Reg, "bad-signature") => &["AttestationStatementSigInvalid"],
        // The fido-u2f signature does not verify over the raw point the RP rebuilds.
        (Reg, "u2f-wrong-public-key-encoding") => &["AttestationStatementSigInvalid"],
        // The KeyDescription's challenge is compared with clientDataHash.
        (Reg, "android-key-challenge-mismatch") => &["AttestationCertificateNonceMismatch"],
        // webauthn-rs refuses to parse a KeyDescription with allApplications [600].
        (Reg, "android-key-all-applications") => &["AttestationStatementX5CInvalid"],
        (Reg, "apple-nonce-mismatch") => &["AttestationCertificateNonceMismatch"],
        (Auth, "bad-signature") => &["AuthenticationFailure"],
        // webauthn-rs's check for BS without BE reuses this error.
        (Reg, "bs-without-be") => &["CredentialMayNotBeHardwareBound"],
        // At login, a credential stored with BE = 1 fails the BE comparison first.
        (Auth, "bs-without-be") => &[
            "CredentialBackupEligibilityInconsistent",
            "CredentialMayNotBeHardwareBound",
        ],
        (Auth, "be-changed") => &["CredentialBackupEligibilityInconsistent"],
        (_, broken) => match broken {
            "wrong-challenge" => &["MismatchedChallenge"],
            "wrong-origin" => &["InvalidRPOrigin"],
            "wrong-type" => &["InvalidClientDataType"],
            "wrong-rp-id-hash" => &["InvalidRPIDHash"],
            "up-cleared" => &["UserNotPresent"],
            "uv-cleared" => &["UserNotVerified"],
            "counter-backwards" => &["CredentialPossibleCompromise"],
            "missing-user-handle" => &["no userHandle"],
            "wrong-user-handle" => &["userHandle names no account"],
            "truncated-authenticator-data" => &["ParseNOMFailure"],
            "alg-not-offered" => &["CredentialAlteredAlgFromRequest"],
            "trailing-bytes" | "malformed-cbor" => &["ParseCBORFailure"],
            "x5c-wrong-aaguid" => &["AttestationCertificateAAGUIDMismatch"],
            _ => return None,
        },
    })
}

/// Checks webauthn-rs's outcome on a case against the manifest.
fn judge(
    library: &str,
    case: &FixtureCase,
    outcome: &Outcome,
    tally: &mut BTreeMap<&'static str, usize>,
) {
    let named = case.not_caught_by.iter().any(|l| l == library);
    match (case.verdict, outcome.accepted) {
        (Verdict::Accept, true) => *tally.entry("accepted").or_default() += 1,
        (Verdict::Accept, false) => panic!(
            "{library} rejected golden case {}: {}",
            case.id, outcome.detail
        ),
        (Verdict::Reject, false) => {
            let broken = case.broken.as_deref().unwrap();
            let why = rejection_reason(case.ceremony, broken)
                .unwrap_or_else(|| panic!("no expected webauthn-rs error listed for {broken}"));
            assert!(
                why.iter().any(|w| outcome.detail.starts_with(w)),
                "{library} rejected {} for another reason than {broken}: {}",
                case.id,
                outcome.detail
            );
            assert!(
                !named,
                "the manifest says {library} misses {} but it rejected it: {}",
                case.id, outcome.detail
            );
            *tally.entry("rejected").or_default() += 1;
        }
        (Verdict::Reject, true) => {
            assert!(
                named,
                "{library} accepted broken case {} ({}) and the manifest does not say so",
                case.id, case.reason
            );
            eprintln!(
                "{library} accepts {}; the manifest says checked_by: {} ({})",
                case.id,
                case.checked_by.as_deref().unwrap_or("?"),
                case.check.as_deref().unwrap_or("?")
            );
            *tally
                .entry("accepted by the library, caught elsewhere per manifest")
                .or_default() += 1;
        }
    }
}

/// The interop suite, instantiated per webauthn-rs version and algorithm.
macro_rules! interop {
    ($module:ident, $core:ident, $library:expr, $alg:expr) => {
        mod $module {
            use std::collections::{BTreeMap, HashMap};
            use std::time::Duration;

            use fauxkey::b64url;
            use fauxkey::fixtures::{CeremonyKind, Corpus, FixtureCase, Verdict};
            use wrs::proto::{
                AttestationConveyancePreference, COSEAlgorithm, Credential, PublicKeyCredential,
                RegisterPublicKeyCredential, UserVerificationPolicy,
            };
            use wrs::WebauthnCore;
            use $core as wrs;

            use super::{judge, Outcome};

            const LIBRARY: &str = $library;

            fn rp(case: &FixtureCase) -> WebauthnCore {
                WebauthnCore::new_unsafe_experts_only(
                    "fauxkey fixtures",
                    &case.inputs.rp_id,
                    vec![url::Url::parse(&case.inputs.origin).unwrap()],
                    Duration::from_secs(60),
                    None,
                    None,
                )
            }

            fn policy(case: &FixtureCase) -> UserVerificationPolicy {
                if case.inputs.user_verification_required {
                    UserVerificationPolicy::Required
                } else {
                    UserVerificationPolicy::Preferred
                }
            }

            /// A library state object with the manifest's challenge in place of its own.
            fn with_challenge<T: serde::Serialize + serde::de::DeserializeOwned>(
                state: T,
                challenge: &str,
            ) -> T {
                let mut value = serde_json::to_value(&state).unwrap();
                assert!(
                    value.get("challenge").is_some(),
                    "state has no challenge: {value}"
                );
                value["challenge"] = serde_json::Value::String(challenge.to_owned());
                serde_json::from_value(value).unwrap()
            }

            fn read_json(corpus: &Corpus, path: &str) -> serde_json::Value {
                serde_json::from_slice(corpus.file(path).unwrap()).unwrap()
            }

            /// The RP's registration: webauthn-rs builds the state from the options the case
            /// sent, then verifies the response.
            fn register(corpus: &Corpus, case: &FixtureCase) -> Result<Credential, String> {
                let core = rp(case);
                let options = read_json(corpus, &case.files.options);
                let algs: Vec<COSEAlgorithm> = options["pubKeyCredParams"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        COSEAlgorithm::try_from(i128::from(p["alg"].as_i64().unwrap())).unwrap()
                    })
                    .collect();
                let user_id = b64url::decode(&case.inputs.user_id).unwrap();
                let builder = core
                    .new_challenge_register_builder(&user_id, "user", "User")
                    .unwrap()
                    .credential_algorithms(algs)
                    .user_verification_policy(policy(case))
                    .require_resident_key(case.inputs.discoverable)
                    .attestation(if case.inputs.attestation == "direct" {
                        AttestationConveyancePreference::Direct
                    } else {
                        AttestationConveyancePreference::None
                    });
                let (_ccr, state) = core.generate_challenge_register(builder).unwrap();
                let state = with_challenge(state, &case.inputs.challenge);
                let text = std::str::from_utf8(corpus.file(&case.files.response).unwrap()).unwrap();
                let response: RegisterPublicKeyCredential =
                    serde_json::from_str(text).map_err(|e| format!("JSON: {e}"))?;
                core.register_credential(&response, &state, None)
                    .map_err(|e| format!("{e:?}"))
            }

            /// The RP's login: the credential on file comes from verifying the case's
            /// registration; a discoverable login looks the account up by userHandle.
            fn authenticate(
                corpus: &Corpus,
                case: &FixtureCase,
                on_file: &Credential,
            ) -> Result<wrs::proto::AuthenticationResult, String> {
                let core = rp(case);
                let mut cred = on_file.clone();
                cred.counter = case.inputs.stored_counter.unwrap();
                let text = std::str::from_utf8(corpus.file(&case.files.response).unwrap()).unwrap();
                let response: PublicKeyCredential =
                    serde_json::from_str(text).map_err(|e| format!("JSON: {e}"))?;
                let allowed = if case.inputs.discoverable {
                    Vec::new()
                } else {
                    vec![cred.clone()]
                };
                let builder = core
                    .new_challenge_authenticate_builder(allowed, Some(policy(case)))
                    .unwrap();
                let (_rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
                let mut state = with_challenge(state, &case.inputs.challenge);
                if case.inputs.discoverable {
                    let accounts = HashMap::from([(
                        b64url::decode(&case.inputs.user_id).unwrap(),
                        vec![cred],
                    )]);
                    let handle = response
                        .get_user_unique_id()
                        .ok_or("no userHandle: the RP cannot find the account")?;
                    let creds = accounts
                        .get(handle)
                        .cloned()
                        .ok_or("userHandle names no account the RP knows")?;
                    state.set_allowed_credentials(creds);
                }
                core.authenticate_credential(&response, &state)
                    .map_err(|e| format!("{e:?}"))
            }

            #[test]
            fn every_case_gets_the_manifest_verdict() {
                let corpus = super::corpus_for_interop();
                let cases: Vec<&FixtureCase> = corpus
                    .manifest()
                    .cases
                    .iter()
                    .filter(|c| c.inputs.alg == $alg)
                    .collect();
                assert!(cases.len() > 20, "{} cases", cases.len());
                let mut on_file: BTreeMap<String, Credential> = BTreeMap::new();
                let mut tally = BTreeMap::new();
                // Neither webauthn-rs verifies `tpm` (its extraData hash helper knows no
                // algorithm): windows-hello's direct registrations, and the logins on them,
                // are judged by SimpleWebAuthn in tests/fixtures_consumers.rs instead.
                let mut tpm = std::collections::BTreeSet::new();
                for case in &cases {
                    let on_tpm = case
                        .inputs
                        .registration
                        .as_ref()
                        .is_some_and(|r| tpm.contains(r));
                    if case.fmt.as_deref() == Some("tpm") || on_tpm {
                        tpm.insert(case.id.clone());
                        continue;
                    }
                    let outcome = match case.ceremony {
                        CeremonyKind::Registration => match register(&corpus, case) {
                            Ok(cred) => {
                                if let Some(expected) = &case.expected {
                                    assert_eq!(
                                        b64url::encode(&cred.cred_id),
                                        expected.credential_id,
                                        "{}",
                                        case.id
                                    );
                                    assert_eq!(cred.counter, expected.counter, "{}", case.id);
                                    assert_eq!(
                                        cred.user_verified, expected.flags.uv,
                                        "{}",
                                        case.id
                                    );
                                    assert_eq!(
                                        cred.backup_eligible, expected.flags.be,
                                        "{}",
                                        case.id
                                    );
                                    assert_eq!(cred.backup_state, expected.flags.bs, "{}", case.id);
                                    on_file.insert(case.id.clone(), cred);
                                }
                                Outcome {
                                    accepted: true,
                                    detail: String::new(),
                                }
                            }
                            Err(detail) => Outcome {
                                accepted: false,
                                detail,
                            },
                        },
                        CeremonyKind::Authentication => {
                            let registration = case.inputs.registration.as_deref().unwrap();
                            let cred = on_file.get(registration).unwrap_or_else(|| {
                                panic!("{}: {registration} not verified first", case.id)
                            });
                            match authenticate(&corpus, case, cred) {
                                Ok(result) => {
                                    if let Some(expected) = &case.expected {
                                        assert_eq!(
                                            result.counter(),
                                            expected.counter,
                                            "{}",
                                            case.id
                                        );
                                        assert_eq!(
                                            result.user_verified(),
                                            expected.flags.uv,
                                            "{}",
                                            case.id
                                        );
                                        assert_eq!(
                                            b64url::encode(result.cred_id()),
                                            expected.credential_id,
                                            "{}",
                                            case.id
                                        );
                                    }
                                    Outcome {
                                        accepted: true,
                                        detail: String::new(),
                                    }
                                }
                                Err(detail) => Outcome {
                                    accepted: false,
                                    detail,
                                },
                            }
                        }
                    };
                    judge(LIBRARY, case, &outcome, &mut tally);
                }
                eprintln!("{LIBRARY} on {} {} cases: {tally:?}", cases.len(), $alg);
                // The extra profiles make sure the packed-attestation signature and the
                // zero-counter and non-discoverable paths were all exercised.
                let has = |ceremony, broken: &str| {
                    cases
                        .iter()
                        .any(|c| c.ceremony == ceremony && c.broken.as_deref() == Some(broken))
                };
                assert!(has(CeremonyKind::Registration, "bad-signature"));
                assert!(has(CeremonyKind::Authentication, "counter-backwards"));
                assert!(cases
                    .iter()
                    .any(|c| c.ceremony == CeremonyKind::Authentication
                        && c.verdict == Verdict::Accept
                        && !c.inputs.discoverable));
                assert!(corpus
                    .manifest()
                    .not_applicable
                    .iter()
                    .any(|n| n.broken == "counter-backwards"));
                assert!(tally.get("accepted").copied().unwrap_or(0) >= 4);
                assert!(tally.get("rejected").copied().unwrap_or(0) >= 10);
            }
        }
    };
}

interop!(
    webauthn_rs_06_es256,
    webauthn_rs_core,
    "webauthn-rs-core 0.6",
    "es256"
);
interop!(
    webauthn_rs_054_eddsa,
    webauthn_rs_core_05,
    "webauthn-rs-core 0.5.4",
    "eddsa"
);

#[test]
fn android_key_golden_and_broken_cases_carry_their_verdicts() {
    let corpus = fixtures::generate(&FixtureOptions {
        profiles: vec![fauxkey::profiles::find("android").unwrap()],
        algorithms: vec![
            fauxkey::crypto::keys::Algorithm::Es256,
            fauxkey::crypto::keys::Algorithm::Rs256,
        ],
        negative: true,
        ..FixtureOptions::default()
    })
    .unwrap();
    let m = corpus.manifest();
    let case = |id: &str| {
        m.cases
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no case {id}"))
    };
    for alg in ["es256", "rs256"] {
        let golden = case(&format!("android.{alg}.direct.registration"));
        assert_eq!(golden.verdict, Verdict::Accept);
        assert_eq!(golden.fmt.as_deref(), Some("android-key"), "{alg}");
        for broken in [
            "android-key-challenge-mismatch",
            "android-key-all-applications",
        ] {
            let c = case(&format!("android.{alg}.direct.registration.{broken}"));
            assert_eq!(c.verdict, Verdict::Reject);
            assert_eq!(c.fmt.as_deref(), Some("android-key"));
            assert!(
                c.check.as_deref().unwrap().contains("§8.4.1"),
                "{:?}",
                c.check
            );
            assert!(c.not_caught_by.is_empty(), "every library catches {broken}");
            // The options and the (re-signed) response differ from the golden case's only in
            // the credential certificate, not in clientDataJSON or authenticatorData.
            assert!(corpus.file(&c.files.response).is_some());
        }
        // Under `none` the client sends fmt none: the android-key edits do not apply.
        assert_eq!(
            case(&format!("android.{alg}.none.registration"))
                .fmt
                .as_deref(),
            Some("none")
        );
        assert!(m.not_applicable.iter().any(|n| {
            n.group == format!("android.{alg}.none.registration")
                && n.broken == "android-key-all-applications"
        }));
    }
}
