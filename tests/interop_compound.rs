//! `compound` attestation (WebAuthn L3 §8.9, issue 18). No RP library verifies a compound
//! statement, so each registration is checked twice: its structure here (an array of at least
//! two `{fmt, attStmt}` maps, distinct formats, none compound), then every member is cut out
//! into a standalone attestation object (its `fmt` and `attStmt` with the same `authData`) and
//! webauthn-rs 0.6 judges that member on its own, our test root as its trust anchor. The
//! member's signature or nonce is over the same authData ‖ clientDataHash, so a member that
//! verifies alone is a complete statement.

#![allow(clippy::unwrap_used)]

mod common;

use ciborium::value::Value;
use fauxkey::attestation::AttestationCa;
use fauxkey::authenticator::AttestationMode;
use fauxkey::env::{seeded_rng, FixedClock, SimulatedUser};
use fauxkey::store::MemoryStore;
use fauxkey::{b64url, Authenticator, Client, Config};
use sha2::{Digest, Sha256};
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationCaList, AttestationConveyancePreference, AttestationFormat, COSEAlgorithm,
    Credential, ParsedAttestationData, RegisterPublicKeyCredential, RegistrationState,
    UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

use common::{rp, ORIGIN, RP_ID};

const NOW_MS: u64 = 1_700_000_000_000;

/// A compound-attesting client with `members`; the certificate its tpm or apple member needs
/// comes from the profile path ([`fauxkey::profiles::Profile::with_attestation`]) under `ca`.
fn client(members: &[AttestationMode], ca: &AttestationCa, seed: u64) -> Client {
    let mut profile = fauxkey::profiles::find("fauxkey").unwrap();
    profile.config = Config {
        attestation: AttestationMode::Compound,
        compound_members: members.to_vec(),
        algorithms: fauxkey::crypto::keys::Algorithm::ALL.to_vec(),
        ..Config::default()
    };
    let profile = profile
        .with_attestation(ca, &mut seeded_rng(seed + 1))
        .unwrap();
    assert!(profile.config.attestation_cert.is_some());
    let authenticator = Authenticator::new(profile.config, MemoryStore::new())
        .with_rng(seeded_rng(seed))
        .with_clock(FixedClock::at(NOW_MS))
        .with_user(SimulatedUser::default());
    Client::new(authenticator).with_rng(seeded_rng(seed ^ 0x5eed))
}

/// Registers through webauthn-rs's options with `direct`: the response as webauthn-rs's wire
/// type and the state to finish it with.
fn create(
    core: &WebauthnCore,
    client: &mut Client,
    alg: COSEAlgorithm,
) -> (RegisterPublicKeyCredential, RegistrationState) {
    let builder = core
        .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![alg])
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .attestation(AttestationConveyancePreference::Direct);
    let (ccr, state) = core.generate_challenge_register(builder).unwrap();
    let response = client
        .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
        .unwrap();
    let reg: RegisterPublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    (reg, state)
}

fn field<'a>(map: &'a Value, name: &str) -> &'a Value {
    let Value::Map(entries) = map else {
        panic!("not a map: {map:?}")
    };
    &entries
        .iter()
        .find(|(k, _)| k.as_text() == Some(name))
        .unwrap_or_else(|| panic!("no {name:?}"))
        .1
}

/// Checks the compound structure and returns `(authData, [(fmt, attStmt)])`.
fn members(reg: &RegisterPublicKeyCredential) -> (Value, Vec<(String, Value)>) {
    let object = fauxkey::cbor::decode(reg.response.attestation_object.as_ref()).unwrap();
    assert_eq!(field(&object, "fmt").as_text(), Some("compound"));
    let Value::Array(list) = field(&object, "attStmt") else {
        panic!("a compound attStmt is an array")
    };
    assert!(list.len() >= 2, "at least two members: {}", list.len());
    let mut out: Vec<(String, Value)> = Vec::new();
    for member in list {
        let Value::Map(entries) = member else {
            panic!("a member is a map")
        };
        assert_eq!(entries.len(), 2, "a member is exactly {{fmt, attStmt}}");
        let fmt = field(member, "fmt").as_text().unwrap().to_owned();
        assert_ne!(fmt, "compound", "no member is itself compound");
        assert_ne!(fmt, "none", "no member is none");
        assert!(
            out.iter().all(|(f, _)| *f != fmt),
            "formats are distinct: {fmt} twice"
        );
        let stmt = field(member, "attStmt").clone();
        assert!(matches!(stmt, Value::Map(_)), "a member's attStmt is a map");
        out.push((fmt, stmt));
    }
    (field(&object, "authData").clone(), out)
}

/// `reg` with its attestation object replaced by the standalone `fmt`/`stmt` over `auth_data`.
fn standalone(
    reg: &RegisterPublicKeyCredential,
    auth_data: &Value,
    fmt: &str,
    stmt: &Value,
) -> RegisterPublicKeyCredential {
    let object = fauxkey::cbor::map([
        ("fmt", Value::Text(fmt.into())),
        ("attStmt", stmt.clone()),
        ("authData", auth_data.clone()),
    ]);
    let mut json = serde_json::to_value(reg).unwrap();
    json["response"]["attestationObject"] =
        serde_json::Value::String(b64url::encode(&fauxkey::cbor::encode(&object)));
    serde_json::from_value(json).unwrap()
}

fn verify(
    core: &WebauthnCore,
    reg: &RegisterPublicKeyCredential,
    state: &RegistrationState,
    ca: &AttestationCa,
) -> Result<Credential, WebauthnError> {
    // A blanket CA (every AAGUID): the root signs the tpm AIK chain and the apple intermediate.
    // Self attestation has no chain, and webauthn-rs refuses it when a CA list is required, so
    // a packed (self) member is judged without one (its signature is still checked).
    let object = fauxkey::cbor::decode(reg.response.attestation_object.as_ref()).unwrap();
    if field(&object, "fmt").as_text() == Some("packed") {
        return core.register_credential(reg, state, None);
    }
    let trust = AttestationCaList::try_from(ca.root_pem().unwrap().as_bytes()).unwrap();
    core.register_credential(reg, state, Some(&trust))
}

/// Flips one bit of `stmt.sig` (a packed or tpm member).
fn tamper_sig(stmt: &Value) -> Value {
    let mut stmt = stmt.clone();
    let Value::Map(entries) = &mut stmt else {
        unreachable!()
    };
    for (k, v) in entries.iter_mut() {
        if let (Some("sig"), Value::Bytes(sig)) = (k.as_text(), v) {
            let i = sig.len() - 5;
            sig[i] ^= 1;
        }
    }
    stmt
}

#[test]
fn packed_self_and_tpm_members_each_verify_on_their_own() {
    let ca = AttestationCa::generate(&mut seeded_rng(1900)).unwrap();
    let mut c = client(
        &[AttestationMode::PackedSelf, AttestationMode::Tpm],
        &ca,
        1901,
    );
    let core = rp();
    let (reg, state) = create(&core, &mut c, COSEAlgorithm::ES256);
    assert!(
        verify(&core, &reg, &state, &ca).is_err(),
        "webauthn-rs does not know compound"
    );
    let (auth_data, list) = members(&reg);
    let fmts: Vec<&str> = list.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fmts, ["packed", "tpm"]);
    // The packed (self) member: webauthn-rs's verdict, and a flipped bit is refused.
    let (fmt, stmt) = &list[0];
    let cred = verify(&core, &standalone(&reg, &auth_data, fmt, stmt), &state, &ca)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the packed member: {e:?}"));
    assert!(matches!(cred.attestation_format, AttestationFormat::Packed));
    assert!(matches!(
        cred.attestation.data,
        ParsedAttestationData::Self_
    ));
    let bad = standalone(&reg, &auth_data, fmt, &tamper_sig(stmt));
    assert!(verify(&core, &bad, &state, &ca).is_err());
    // The tpm member: webauthn-rs 0.5.4 and 0.6.2 verify no `tpm` statement at all (their
    // `only_hash_from_type` refuses every algorithm, COSEKeyInvalidType), so it is checked
    // here against WebAuthn L3 §8.3.
    let Value::Bytes(auth_data_bytes) = &auth_data else {
        panic!("authData is bytes")
    };
    let client_data_json: &[u8] = reg.response.client_data_json.as_ref();
    let client_data_hash: [u8; 32] = Sha256::digest(client_data_json).into();
    check_tpm_member(&list[1].1, auth_data_bytes, &client_data_hash).unwrap();
    assert!(check_tpm_member(&tamper_sig(&list[1].1), auth_data_bytes, &client_data_hash).is_err());
    let mut other_hash = client_data_hash;
    other_hash[0] ^= 1;
    assert!(check_tpm_member(&list[1].1, auth_data_bytes, &other_hash).is_err());
}

/// WebAuthn L3 §8.3.2 for a `tpm` statement with an ES256 AIK: `sig` verifies over `certInfo`
/// with the key of `x5c[0]`, `certInfo` is a TPM_ST_ATTEST_CERTIFY whose extraData is
/// SHA-256(authData ‖ clientDataHash) and whose attested name is SHA-256 of `pubArea`
/// (nameAlg SHA-256), and `alg` is -7.
fn check_tpm_member(stmt: &Value, auth_data: &[u8], client_data_hash: &[u8]) -> Result<(), String> {
    use p256::ecdsa::signature::Verifier;
    use x509_cert::der::Decode;
    let bytes = |name: &str| match field(stmt, name) {
        Value::Bytes(b) => b.clone(),
        other => panic!("{name} is not bytes: {other:?}"),
    };
    assert_eq!(field(stmt, "ver").as_text(), Some("2.0"));
    assert_eq!(field(stmt, "alg"), &Value::Integer((-7).into()));
    let (cert_info, pub_area, sig) = (bytes("certInfo"), bytes("pubArea"), bytes("sig"));
    let Value::Array(x5c) = field(stmt, "x5c") else {
        panic!("x5c is an array")
    };
    let Value::Bytes(aik) = &x5c[0] else {
        panic!("x5c[0] is bytes")
    };
    let aik = x509_cert::Certificate::from_der(aik).map_err(|e| e.to_string())?;
    let spki = aik.tbs_certificate().subject_public_key_info();
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
        .map_err(|e| e.to_string())?;
    let signature = p256::ecdsa::Signature::from_der(&sig).map_err(|e| e.to_string())?;
    key.verify(&cert_info, &signature)
        .map_err(|e| format!("sig: {e}"))?;
    // TPMS_ATTEST: magic, type, qualifiedSigner (TPM2B), extraData (TPM2B), clockInfo (17),
    // firmwareVersion (8), attested.name (TPM2B), attested.qualifiedName (TPM2B).
    if cert_info[..4] != [0xff, 0x54, 0x43, 0x47] || cert_info[4..6] != [0x80, 0x17] {
        return Err("certInfo is not TPM_GENERATED_VALUE / TPM_ST_ATTEST_CERTIFY".into());
    }
    let mut at = 6;
    let tpm2b = |at: &mut usize| {
        let n = usize::from(u16::from_be_bytes([cert_info[*at], cert_info[*at + 1]]));
        let v = cert_info[*at + 2..*at + 2 + n].to_vec();
        *at += 2 + n;
        v
    };
    let _signer = tpm2b(&mut at);
    let extra = tpm2b(&mut at);
    let signed = [auth_data, client_data_hash].concat();
    if extra != Sha256::digest(&signed).to_vec() {
        return Err("extraData is not SHA-256(authData ‖ clientDataHash)".into());
    }
    at += 17 + 8;
    let name = tpm2b(&mut at);
    let expected = [&[0x00, 0x0b][..], &Sha256::digest(&pub_area)].concat();
    if name != expected {
        return Err("attested name is not SHA-256(pubArea)".into());
    }
    Ok(())
}

#[test]
fn the_default_members_packed_self_and_apple_verify_for_es256_and_es384() {
    let ca = AttestationCa::generate(&mut seeded_rng(1910)).unwrap();
    let core = rp();
    // webauthn-rs reads no RSA key from a certificate, so an RS256 apple leaf is beyond it.
    for (i, alg) in [COSEAlgorithm::ES256, COSEAlgorithm::ES384]
        .into_iter()
        .enumerate()
    {
        let mut c = client(
            &fauxkey::authenticator::DEFAULT_COMPOUND_MEMBERS,
            &ca,
            1911 + 10 * i as u64,
        );
        let (reg, state) = create(&core, &mut c, alg);
        let (auth_data, list) = members(&reg);
        let fmts: Vec<&str> = list.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fmts, ["packed", "apple"]);
        for (fmt, stmt) in &list {
            let cred = verify(&core, &standalone(&reg, &auth_data, fmt, stmt), &state, &ca)
                .unwrap_or_else(|e| panic!("webauthn-rs rejected the {alg:?} {fmt} member: {e:?}"));
            if fmt == "apple" {
                assert!(matches!(
                    cred.attestation_format,
                    AttestationFormat::AppleAnonymous
                ));
            }
        }
        // Under another vault's root the apple member is refused.
        let other = AttestationCa::generate(&mut seeded_rng(1999)).unwrap();
        let (fmt, stmt) = &list[1];
        assert!(verify(
            &core,
            &standalone(&reg, &auth_data, fmt, stmt),
            &state,
            &other
        )
        .is_err());
    }
}

#[test]
fn an_eddsa_credential_with_a_tpm_member_falls_back_to_packed_self_alone() {
    // tpm cannot describe an Ed25519 key; its packed-self fallback repeats the other member's
    // fmt and is dropped, leaving one statement, sent on its own (a compound needs two).
    let ca = AttestationCa::generate(&mut seeded_rng(1920)).unwrap();
    let mut c = client(
        &[AttestationMode::PackedSelf, AttestationMode::Tpm],
        &ca,
        1921,
    );
    let core = rp();
    let (reg, _) = create(&core, &mut c, COSEAlgorithm::EDDSA);
    let object = fauxkey::cbor::decode(reg.response.attestation_object.as_ref()).unwrap();
    assert_eq!(field(&object, "fmt").as_text(), Some("packed"));
}

#[test]
fn an_attestation_formats_preference_naming_compound_or_packed_picks_it() {
    let ca = AttestationCa::generate(&mut seeded_rng(1930)).unwrap();
    for (formats, expected) in [(["packed"], "packed"), (["compound"], "compound")] {
        let mut c = client(&fauxkey::authenticator::DEFAULT_COMPOUND_MEMBERS, &ca, 1931);
        let options = serde_json::json!({"publicKey": {
            "rp": {"id": RP_ID, "name": "Example"},
            "user": {"id": "YWxpY2U", "name": "alice", "displayName": "Alice"},
            "challenge": "AAAAAAAAAAAAAAAAAAAAAA",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "attestation": "direct",
            "attestationFormats": formats,
        }});
        let response = c.create(ORIGIN, &options.to_string()).unwrap();
        let object =
            fauxkey::cbor::decode(&b64url::decode(&response.response.attestation_object).unwrap())
                .unwrap();
        assert_eq!(
            field(&object, "fmt").as_text(),
            Some(expected),
            "{formats:?}"
        );
    }
}

/// `None` after printing SKIPPED (a panic under `FAUXKEY_REQUIRE_E2E=1`) when py_webauthn is
/// not at `FAUXKEY_PYTHON` or `.ci/venv/bin/python`.
fn python() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("FAUXKEY_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/python")
        });
    let ok = std::process::Command::new(&python)
        .args(["-c", "import webauthn"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let message = format!(
        "SKIPPED: {} cannot import webauthn (py_webauthn); run .ci/setup-fixtures.sh",
        python.display()
    );
    if std::env::var("FAUXKEY_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{message} (FAUXKEY_REQUIRE_E2E=1)");
    }
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{message}\n"));
    None
}

/// Verifies each registration JSON in `cases` with py_webauthn; one line per case, `ok` or the
/// exception.
const PY_VERIFY: &str = r#"
import json, sys
from webauthn import verify_registration_response
from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.structs import AttestationFormat
job = json.load(sys.stdin)
root = job["root_pem"].encode()
trusted = {AttestationFormat.PACKED: [root], AttestationFormat.APPLE: [root]}
for case in job["cases"]:
    try:
        verify_registration_response(
            credential=case,
            expected_challenge=base64url_to_bytes(job["challenge"]),
            expected_rp_id=job["rp_id"],
            expected_origin=job["origin"],
            pem_root_certs_bytes_by_fmt=trusted,
        )
        print("ok")
    except Exception as e:
        print(f"{type(e).__name__}: {e}".replace("\n", " "))
"#;

#[test]
fn py_webauthn_verifies_the_packed_and_apple_members_on_their_own() {
    let Some(python) = python() else { return };
    let ca = AttestationCa::generate(&mut seeded_rng(1940)).unwrap();
    let mut c = client(&fauxkey::authenticator::DEFAULT_COMPOUND_MEMBERS, &ca, 1941);
    let challenge = "Y29tcG91bmQtY2hhbGxlbmdlLTAx";
    let options = serde_json::json!({"publicKey": {
        "rp": {"id": RP_ID, "name": "Example"},
        "user": {"id": "YWxpY2U", "name": "alice", "displayName": "Alice"},
        "challenge": challenge,
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "attestation": "direct",
    }});
    let response = c.create(ORIGIN, &options.to_string()).unwrap();
    let json = serde_json::to_value(&response).unwrap();
    let object =
        fauxkey::cbor::decode(&b64url::decode(&response.response.attestation_object).unwrap())
            .unwrap();
    let auth_data = field(&object, "authData").clone();
    let Value::Array(list) = field(&object, "attStmt") else {
        panic!("compound attStmt is an array")
    };
    let mut cases = Vec::new();
    let mut names = Vec::new();
    for member in list {
        let fmt = field(member, "fmt").as_text().unwrap().to_owned();
        let stmt = field(member, "attStmt");
        for (label, stmt) in [("", stmt.clone()), (" tampered", tamper_sig(stmt))] {
            if label.is_empty() || fmt == "packed" {
                let standalone = fauxkey::cbor::map([
                    ("fmt", Value::Text(fmt.clone())),
                    ("attStmt", stmt),
                    ("authData", auth_data.clone()),
                ]);
                let mut case = json.clone();
                case["response"]["attestationObject"] =
                    serde_json::Value::String(b64url::encode(&fauxkey::cbor::encode(&standalone)));
                cases.push(case);
                names.push(format!("{fmt}{label}"));
            }
        }
    }
    let job = serde_json::json!({
        "challenge": challenge, "rp_id": RP_ID, "origin": ORIGIN,
        "root_pem": ca.root_pem().unwrap(), "cases": cases,
    });
    let mut child = std::process::Command::new(python)
        .args(["-c", PY_VERIFY])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), job.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<&str> = stdout.lines().collect();
    assert_eq!(names, ["packed", "packed tampered", "apple"]);
    assert_eq!(verdicts.len(), 3, "{stdout}");
    assert_eq!(verdicts[0], "ok", "py_webauthn on the packed member");
    assert_ne!(
        verdicts[1], "ok",
        "py_webauthn accepted a tampered packed member"
    );
    assert_eq!(verdicts[2], "ok", "py_webauthn on the apple member");
}

#[test]
fn the_bad_signature_fault_breaks_every_signed_member() {
    use fauxkey::faults::{Fault, FaultSet};
    let ca = AttestationCa::generate(&mut seeded_rng(1950)).unwrap();
    let mut c = client(
        &[AttestationMode::PackedSelf, AttestationMode::Tpm],
        &ca,
        1951,
    );
    let mut faults = FaultSet::EMPTY;
    faults.insert(Fault::BadSignature);
    c.authenticator_mut().set_faults(faults);
    let core = rp();
    let (reg, state) = create(&core, &mut c, COSEAlgorithm::ES256);
    let (auth_data, list) = members(&reg);
    // Both members carry a `sig`; both are broken, each on its own.
    let (fmt, stmt) = &list[0];
    assert!(verify(&core, &standalone(&reg, &auth_data, fmt, stmt), &state, &ca).is_err());
    let Value::Bytes(auth_data_bytes) = &auth_data else {
        panic!("authData is bytes")
    };
    let client_data_json: &[u8] = reg.response.client_data_json.as_ref();
    let client_data_hash: [u8; 32] = Sha256::digest(client_data_json).into();
    let err = check_tpm_member(&list[1].1, auth_data_bytes, &client_data_hash).unwrap_err();
    assert!(err.starts_with("sig"), "{err}");
}
