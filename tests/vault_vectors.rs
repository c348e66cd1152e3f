//! The vault format's test vectors (vault-format/SPEC.md §8): a deterministic generator, a check
//! that the files in `vault-format/vectors/` are exactly what it produces, and a reader test that
//! opens every file and compares the outcome with its `expect:` class.
//!
//! Regenerate with `FAUXKEY_REGENERATE_VECTORS=1 cargo test --test vault_vectors`.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use ciborium::value::Value;
use fauxkey::authenticator::AttestationMode;
use fauxkey::crypto::keys::{Algorithm, PrivateKey};
use fauxkey::env::seeded_rng;
use fauxkey::store::{CredProtect, CredRandom, Credential};
use fauxkey::vault::format::{self, VaultKeys};
use fauxkey::vault::{payload, ErrorClass, KdfParams, Passphrase};
use fauxkey::Config;
use rand_core::Rng as _;
use sha2::{Digest, Sha256};

const REGENERATE: &str = "FAUXKEY_REGENERATE_VECTORS";
const PASS: &str = "correct horse battery staple";
/// 2023-11-14T22:13:20Z: every `created_ms` is an offset from it.
const T0: u64 = 1_700_000_000_000;

const SUCCESS: &str = "success";
const WRONG_PASSPHRASE: &str = "wrong passphrase";
const HEADER_FAILURE: &str = "header failure";
const PAYLOAD_FAILURE: &str = "payload failure";
const UNSUPPORTED: &str = "unsupported";

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vault-format/vectors")
}

/// One vector file.
struct Scenario {
    name: &'static str,
    expect: &'static str,
    passphrase: &'static str,
    comment: &'static str,
    credentials: Option<usize>,
    bytes: Vec<u8>,
}

impl Scenario {
    fn render(&self) -> String {
        assert!(
            !self.comment.contains('\n'),
            "{}: comment spans lines",
            self.name
        );
        let mut out = format!("expect: {}\n", self.expect);
        out += &format!("passphrase: {}\n", self.passphrase);
        out += &format!("comment: {}\n", self.comment);
        if let Some(n) = self.credentials {
            out += &format!("credentials: {n}\n");
        }
        out.push('\n');
        for line in self.bytes.chunks(32) {
            out += &hex::encode(line);
            out.push('\n');
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The generator: everything from fixed seeds.
// ---------------------------------------------------------------------------------------------

fn pass(text: &str) -> Passphrase {
    Passphrase::new(text).unwrap()
}

fn random<const N: usize>(rng: &mut fauxkey::env::Rng) -> [u8; N] {
    let mut b = [0u8; N];
    rng.fill_bytes(&mut b);
    b
}

/// A plain discoverable ES256 credential; callers adjust fields.
fn credential(rng: &mut fauxkey::env::Rng, alg: Algorithm, sequence: u64) -> Credential {
    let id = random::<32>(rng).to_vec();
    let user_handle = random::<16>(rng).to_vec();
    Credential {
        id,
        rp_id: "example.com".into(),
        rp_name: Some("Example".into()),
        user_handle,
        user_name: Some("alice@example.com".into()),
        user_display_name: Some("Alice".into()),
        key: PrivateKey::generate(alg, &mut **rng),
        discoverable: true,
        sign_count: 0,
        backup_eligible: true,
        backup_state: true,
        created_ms: T0 + sequence * 60_000,
        last_used_ms: None,
        hidden: false,
        hidden_at_ms: None,
        cred_protect: CredProtect::UvOptional,
        cred_random: None,
        large_blob_key: None,
        cred_blob: None,
        sequence,
        u2f_app_param: None,
    }
}

/// The three credentials of `success-three-credentials.txt`.
fn three_credentials() -> Vec<Credential> {
    let mut rng = seeded_rng(0x0103);
    let first = Credential {
        sign_count: 7,
        last_used_ms: Some(T0 + 86_400_000),
        ..credential(&mut rng, Algorithm::Es256, 1)
    };
    let mut second = Credential {
        rp_id: "bank.example".into(),
        rp_name: Some("Banque Élysée".into()),
        user_name: Some("zoë".into()),
        user_display_name: Some("Zoë Ünal 日本".into()),
        discoverable: false,
        backup_eligible: false,
        backup_state: false,
        cred_protect: CredProtect::UvOptionalWithCredentialIdList,
        ..credential(&mut rng, Algorithm::EdDsa, 2)
    };
    second.cred_random = Some(CredRandom {
        with_uv: random(&mut rng),
        without_uv: random(&mut rng),
    });
    let third = Credential {
        rp_name: None,
        user_name: Some("łukasz".into()),
        user_display_name: Some("Łukasz 🔑".into()),
        sign_count: 42,
        backup_state: false,
        last_used_ms: Some(T0 + 2 * 86_400_000),
        hidden: true,
        hidden_at_ms: None,
        cred_protect: CredProtect::UvRequired,
        ..credential(&mut rng, Algorithm::Es256, 3)
    };
    // Handed over out of order: the writer sorts by `sequence`.
    vec![third, first, second]
}

fn settings_three() -> Config {
    Config {
        attestation: fauxkey::authenticator::AttestationMode::PackedSelf,
        transports: vec!["hybrid".into(), "internal".into()],
        max_credential_count_in_list: 16,
        ..Config::default()
    }
}

/// Keys and a sealed file from one seed: data key, salt, wrap nonce, then payload nonce.
fn seal_with(seed: u64, passphrase: &str, kdf: KdfParams, plaintext: &[u8]) -> Vec<u8> {
    let mut rng = seeded_rng(seed);
    let keys = VaultKeys::generate(&pass(passphrase), kdf, &mut *rng).unwrap();
    format::seal(&keys, plaintext, &mut *rng).unwrap()
}

fn encode(settings: &Config, credentials: &[Credential]) -> Vec<u8> {
    let refs: Vec<&Credential> = credentials.iter().collect();
    payload::encode(settings, &refs, &[]).to_vec()
}

/// A yubikey-5 vault as `init --profile yubikey-5` makes it: the profile's settings with a
/// packed attestation certificate, the test CA and the client settings; one credential.
fn profile_payload() -> Vec<u8> {
    let ca = fauxkey::attestation::AttestationCa::generate(&mut seeded_rng(0x0600)).unwrap();
    let profile = fauxkey::profiles::find("yubikey-5")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(0x0601))
        .unwrap();
    let extras = payload::Extras {
        client: Some(profile.client_settings()),
        attestation_ca: Some(ca),
        ..payload::Extras::default()
    };
    let mut rng = seeded_rng(0x0602);
    let cred = Credential {
        backup_eligible: false,
        backup_state: false,
        ..credential(&mut rng, Algorithm::Es256, 1)
    };
    payload::encode_with(&profile.config, &extras, &[&cred], &[]).to_vec()
}

/// The payload most failure vectors start from: default settings, one ES256 credential.
fn base_payload() -> Vec<u8> {
    let mut rng = seeded_rng(0x0200);
    encode(
        &Config::default(),
        &[credential(&mut rng, Algorithm::Es256, 1)],
    )
}

/// The valid vault most failure vectors damage.
fn base_vault() -> Vec<u8> {
    seal_with(0x0201, PASS, KdfParams::INSECURE_FAST, &base_payload())
}

/// Recomputes `header_check` after a header edit, so only the edit itself is wrong.
fn fix_checksum(file: &mut [u8]) {
    let check = Sha256::digest(&file[..120]);
    file[120..136].copy_from_slice(&check[..16]);
}

fn edited(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut file = base_vault();
    edit(&mut file);
    file
}

fn header_edit(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    edited(|f| {
        edit(f);
        fix_checksum(f);
    })
}

fn map_entry(map: &mut Value, key: i64) -> &mut Value {
    let Value::Map(entries) = map else {
        panic!("not a map")
    };
    &mut entries
        .iter_mut()
        .find(|(k, _)| *k == Value::Integer(key.into()))
        .unwrap()
        .1
}

/// The base payload with a change made to its CBOR, re-encoded canonically.
fn payload_edit(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut top = fauxkey::cbor::decode(&base_payload()).unwrap();
    edit(&mut top);
    fauxkey::cbor::encode(&top)
}

/// The payload of `success-three-credentials.txt` (written in `sequence` order 1, 2, 3) with its
/// credential array edited.
fn three_payload_edit(edit: impl FnOnce(&mut Vec<Value>)) -> Vec<u8> {
    let mut top = fauxkey::cbor::decode(&encode(&settings_three(), &three_credentials())).unwrap();
    let Value::Array(list) = map_entry(&mut top, 3) else {
        panic!("credentials not an array")
    };
    edit(list);
    fauxkey::cbor::encode(&top)
}

fn first_credential(top: &mut Value) -> &mut Value {
    let Value::Array(list) = map_entry(top, 3) else {
        panic!("credentials not an array")
    };
    &mut list[0]
}

fn scenarios() -> Vec<Scenario> {
    let fast = KdfParams::INSECURE_FAST;
    let s = |name, expect, passphrase, comment, bytes| Scenario {
        name,
        expect,
        passphrase,
        comment,
        credentials: None,
        bytes,
    };
    let success = |name, passphrase, comment, credentials, bytes| Scenario {
        credentials: Some(credentials),
        ..s(name, SUCCESS, passphrase, comment, bytes)
    };
    let three = three_credentials();
    let mut default_rng = seeded_rng(0x0300);
    let one = [Credential {
        rp_id: "login.example.org".into(),
        rp_name: Some("Example Login".into()),
        ..credential(&mut default_rng, Algorithm::EdDsa, 1)
    }];
    let mut all = vec![
        // --- success ---
        success(
            "success-empty.txt",
            PASS,
            "a new vault: default settings, no credentials, insecure-fast KDF",
            0,
            seal_with(
                0x0101,
                PASS,
                fast,
                &encode(&Config::default(), &[]),
            ),
        ),
        success(
            "success-three-credentials.txt",
            "pässwörd ✓ 合言葉",
            "ES256 discoverable; EdDSA non-discoverable with cred_random and credProtect 2, BE clear; hidden ES256 with last_used_ms; non-ASCII names and passphrase (UTF-8, NFC, as is)",
            3,
            seal_with(
                0x0102,
                "pässwörd ✓ 合言葉",
                fast,
                &encode(&settings_three(), &three),
            ),
        ),
        success(
            "success-default-kdf.txt",
            PASS,
            "the default KDF preset (m=65536 KiB, t=3, p=4): about 0.3 s to open; one EdDSA credential",
            1,
            seal_with(
                0x0301,
                PASS,
                KdfParams::DEFAULT,
                &encode(&Config::default(), &one),
            ),
        ),
        success(
            "success-profile-attestation.txt",
            PASS,
            "made with the yubikey-5 profile: settings keys 13 (attestation certificate), 14 (extensions), 26 (U2F too), top-level 5 (attestation CA) and 6 (client settings); one ES256 credential, BE clear",
            1,
            seal_with(0x0603, PASS, fast, &profile_payload()),
        ),
        // --- wrong passphrase ---
        s(
            "wrong-passphrase.txt",
            WRONG_PASSPHRASE,
            "correct horse battery stapler",
            "a valid vault whose passphrase is 'correct horse battery staple'",
            base_vault(),
        ),
        s(
            "wrong-passphrase-altered-wrap-nonce.txt",
            WRONG_PASSPHRASE,
            PASS,
            "wrap_nonce byte 40 flipped and header_check recomputed: the key wrap fails, indistinguishable from a wrong passphrase",
            header_edit(|f| f[40] ^= 0x01),
        ),
        // --- header failures ---
        s(
            "header-failure-bad-magic.txt",
            HEADER_FAILURE,
            PASS,
            "magic byte 0 is 0x09 instead of 0x89 (high bit stripped in transit)",
            edited(|f| f[0] = 0x09),
        ),
        s(
            "header-failure-short-file.txt",
            HEADER_FAILURE,
            PASS,
            "only the first 9 bytes of a vault: too short to hold magic and version",
            edited(|f| f.truncate(9)),
        ),
        s(
            "header-failure-flipped-salt.txt",
            HEADER_FAILURE,
            PASS,
            "salt byte 24 flipped: header_check no longer matches",
            edited(|f| f[24] ^= 0x01),
        ),
        s(
            "header-failure-flipped-checksum.txt",
            HEADER_FAILURE,
            PASS,
            "header_check byte 135 flipped",
            edited(|f| f[135] ^= 0x80),
        ),
        s(
            "header-failure-truncated-header.txt",
            HEADER_FAILURE,
            PASS,
            "the file ends at byte 100, inside the header",
            edited(|f| f.truncate(100)),
        ),
        s(
            "header-failure-reserved-byte.txt",
            HEADER_FAILURE,
            PASS,
            "reserved byte 11 is 0x01, header_check recomputed",
            header_edit(|f| f[11] = 0x01),
        ),
        // --- payload failures ---
        s(
            "payload-failure-flipped-ciphertext.txt",
            PAYLOAD_FAILURE,
            PASS,
            "payload ciphertext byte 136 flipped: the payload tag fails",
            edited(|f| f[136] ^= 0x01),
        ),
        s(
            "payload-failure-flipped-tag.txt",
            PAYLOAD_FAILURE,
            PASS,
            "the last byte of the payload tag flipped",
            edited(|f| *f.last_mut().unwrap() ^= 0x01),
        ),
        s(
            "payload-failure-altered-payload-nonce.txt",
            PAYLOAD_FAILURE,
            PASS,
            "payload_nonce byte 100 flipped and header_check recomputed: the key unwraps, the payload tag fails",
            header_edit(|f| f[100] ^= 0x01),
        ),
        s(
            "payload-failure-truncated.txt",
            PAYLOAD_FAILURE,
            PASS,
            "the last byte is missing: the file is shorter than 136 + payload_len",
            edited(|f| {
                f.pop();
            }),
        ),
        s(
            "payload-failure-trailing-byte.txt",
            PAYLOAD_FAILURE,
            PASS,
            "one 0x00 byte after the payload: the file is longer than 136 + payload_len",
            edited(|f| f.push(0x00)),
        ),
        s(
            "payload-failure-not-cbor.txt",
            PAYLOAD_FAILURE,
            PASS,
            "validly encrypted JSON text; as CBOR its first byte 0x7b announces a text string of 2^61 bytes (do not allocate it)",
            seal_with(
                0x0401,
                PASS,
                fast,
                br#"{"revision":1,"settings":{},"credentials":[]}"#,
            ),
        ),
        s(
            "payload-failure-unknown-credential-key.txt",
            PAYLOAD_FAILURE,
            PASS,
            "validly encrypted canonical CBOR whose credential has an unknown key 40",
            seal_with(
                0x0402,
                PASS,
                fast,
                &payload_edit(|top| {
                    let Value::Map(cred) = first_credential(top) else {
                        panic!("credential not a map")
                    };
                    cred.push((Value::Integer(40.into()), Value::Integer(0.into())));
                }),
            ),
        ),
        s(
            "payload-failure-backup-state-without-eligibility.txt",
            PAYLOAD_FAILURE,
            PASS,
            "validly encrypted payload whose credential has backup_state true and backup_eligible false",
            seal_with(
                0x0403,
                PASS,
                fast,
                &payload_edit(|top| {
                    let cred = first_credential(top);
                    *map_entry(cred, 11) = Value::Bool(false);
                    *map_entry(cred, 12) = Value::Bool(true);
                }),
            ),
        ),
        s(
            "payload-failure-bad-attestation-ca.txt",
            PAYLOAD_FAILURE,
            PASS,
            "validly encrypted payload whose attestation CA (top-level key 5) holds a root certificate that is not DER",
            seal_with(
                0x0404,
                PASS,
                fast,
                &payload_edit(|top| {
                    let Value::Map(entries) = top else {
                        panic!("payload not a map")
                    };
                    entries.push((
                        Value::Integer(5.into()),
                        Value::Map(vec![
                            (Value::Integer(1.into()), Value::Bytes(b"not a certificate".to_vec())),
                            (Value::Integer(2.into()), Value::Bytes(vec![1; 32])),
                        ]),
                    ));
                }),
            ),
        ),
        s(
            "payload-failure-sequence-out-of-order.txt",
            PAYLOAD_FAILURE,
            PASS,
            "validly encrypted payload of three credentials whose first two are swapped: sequence 2 before 1",
            seal_with(
                0x0405,
                PASS,
                fast,
                &three_payload_edit(|list| list.swap(0, 1)),
            ),
        ),
        s(
            "payload-failure-sequence-duplicate.txt",
            PAYLOAD_FAILURE,
            PASS,
            "validly encrypted payload of three credentials whose second has the first's sequence 1",
            seal_with(
                0x0406,
                PASS,
                fast,
                &three_payload_edit(|list| {
                    *map_entry(&mut list[1], 18) = Value::Integer(1.into());
                }),
            ),
        ),
        // --- unsupported ---
        s(
            "unsupported-version-2.txt",
            UNSUPPORTED,
            PASS,
            "version 00 02, header_check recomputed",
            header_edit(|f| f[8..10].copy_from_slice(&[0x00, 0x02])),
        ),
        s(
            "unsupported-kdf-id.txt",
            UNSUPPORTED,
            PASS,
            "kdf id 0x02, header_check recomputed",
            header_edit(|f| f[10] = 0x02),
        ),
        s(
            "unsupported-m-cost-max.txt",
            UNSUPPORTED,
            PASS,
            "m_cost 0xffffffff KiB (4 TiB), header_check recomputed: refused before any derivation",
            header_edit(|f| f[12..16].copy_from_slice(&[0xff; 4])),
        ),
        s(
            "unsupported-parallelism-0.txt",
            UNSUPPORTED,
            PASS,
            "parallelism 0, header_check recomputed",
            header_edit(|f| f[20..24].copy_from_slice(&0u32.to_be_bytes())),
        ),
        s(
            "unsupported-payload-revision-2.txt",
            UNSUPPORTED,
            PASS,
            "validly encrypted payload with revision 2 and otherwise revision-1 content",
            seal_with(
                0x0501,
                PASS,
                fast,
                &payload_edit(|top| *map_entry(top, 1) = Value::Integer(2.into())),
            ),
        ),
    ];
    all.extend(alg_scenarios());
    all.extend(pin_scenarios());
    all.extend(blob_scenarios());
    all.extend(u2f_scenarios());
    all.extend(android_key_scenarios());
    all.extend(apple_scenarios());
    all.extend(compound_scenarios());
    all
}

// ---------------------------------------------------------------------------------------------
// Files.
// ---------------------------------------------------------------------------------------------

/// With `FAUXKEY_REGENERATE_VECTORS=1`, writes the vectors once per test run, before any test
/// reads them; stale `*.txt` files are removed.
fn ensure_regenerated() {
    static DONE: OnceLock<()> = OnceLock::new();
    if std::env::var(REGENERATE).as_deref() != Ok("1") {
        return;
    }
    DONE.get_or_init(|| {
        let dir = vectors_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let all = scenarios();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".txt")
                && !name.starts_with(JOURNAL_PREFIX)
                && !all.iter().any(|s| s.name == name)
            {
                std::fs::remove_file(dir.join(&name)).unwrap();
            }
        }
        for s in &all {
            std::fs::write(dir.join(s.name), s.render()).unwrap();
        }
    });
}

/// Every `*.txt` file in the folder, sorted by name.
fn vector_files() -> Vec<(String, String)> {
    let dir = vectors_dir();
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".txt") && !n.starts_with(JOURNAL_PREFIX))
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).unwrap();
            (n, text)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vectors in {}", dir.display());
    files
}

/// A parsed vector: its `key: value` header and the file bytes.
struct Vector {
    header: BTreeMap<String, String>,
    bytes: Vec<u8>,
}

impl Vector {
    fn get(&self, key: &str) -> Result<&str, String> {
        self.header
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("no `{key}:` line"))
    }
}

fn parse(text: &str) -> Result<Vector, String> {
    let (head, body) = text
        .split_once("\n\n")
        .ok_or("no blank line after the header")?;
    let mut header = BTreeMap::new();
    for line in head.lines() {
        let (k, v) = line
            .split_once(": ")
            .ok_or_else(|| format!("header line without `: `: {line:?}"))?;
        if !["expect", "passphrase", "comment", "credentials"].contains(&k) {
            return Err(format!("unknown header key {k:?}"));
        }
        if header.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(format!("header key {k:?} repeated"));
        }
    }
    if !body.ends_with('\n') {
        return Err("no trailing newline".into());
    }
    let mut bytes = Vec::new();
    for line in body.lines() {
        if line.len() > 64 || line.is_empty() || line.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(format!("bad hex line {line:?}"));
        }
        bytes.extend(hex::decode(line).map_err(|e| format!("bad hex line {line:?}: {e}"))?);
    }
    Ok(Vector { header, bytes })
}

fn class_name(class: ErrorClass) -> &'static str {
    match class {
        ErrorClass::WrongPassphrase => WRONG_PASSPHRASE,
        ErrorClass::HeaderFailure => HEADER_FAILURE,
        ErrorClass::PayloadFailure => PAYLOAD_FAILURE,
        ErrorClass::Unsupported => UNSUPPORTED,
        _ => "other",
    }
}

/// What a reader makes of a vector: `success` and the credential count, or an error class.
fn outcome(v: &Vector) -> Result<(&'static str, Option<usize>), String> {
    let passphrase = Passphrase::new(v.get("passphrase")?).map_err(|e| e.to_string())?;
    let result =
        format::open(&v.bytes, &passphrase).and_then(|(_, plaintext)| payload::decode(&plaintext));
    Ok(match result {
        Ok(state) => (SUCCESS, Some(state.credentials.len())),
        Err(e) => (class_name(e.class()), None),
    })
}

// ---------------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn vectors_match_the_generator() {
    ensure_regenerated();
    let dir = vectors_dir();
    let all = scenarios();
    let mut failures = Vec::new();
    for s in &all {
        match std::fs::read(dir.join(s.name)) {
            Ok(on_disk) if on_disk == s.render().as_bytes() => {}
            Ok(_) => failures.push(format!("{}: differs from the generator", s.name)),
            Err(e) => failures.push(format!("{}: {e}", s.name)),
        }
    }
    let names = std::fs::read_dir(&dir).into_iter().flatten();
    for entry in names {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "README.md"
            && !name.starts_with(JOURNAL_PREFIX)
            && !all.iter().any(|s| s.name == name)
        {
            failures.push(format!("{name}: not produced by the generator"));
        }
    }
    assert!(
        failures.is_empty(),
        "vault-format/vectors/ is out of date (run `{REGENERATE}=1 cargo test --test \
         vault_vectors` after changing the spec or the generator):\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn vectors_open_as_expected() {
    ensure_regenerated();
    let mut failures = Vec::new();
    for (name, text) in vector_files() {
        let v = match parse(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let check = || -> Result<(), String> {
            let expect = v.get("expect")?;
            let count = v
                .header
                .get("credentials")
                .map(|n| n.parse::<usize>().map_err(|e| format!("credentials: {e}")))
                .transpose()?;
            if (expect == SUCCESS) != count.is_some() {
                return Err("`credentials:` belongs on success vectors only".into());
            }
            let got = outcome(&v)?;
            if got != (expect, count) {
                return Err(format!(
                    "expected {expect}{}, got {}{}",
                    count.map_or(String::new(), |n| format!(" with {n} credentials")),
                    got.0,
                    got.1
                        .map_or(String::new(), |n| format!(" with {n} credentials"))
                ));
            }
            Ok(())
        };
        if let Err(e) = check() {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "vectors failed:\n  {}",
        failures.join("\n  ")
    );
}

#[test]
fn success_vectors_round_trip() {
    ensure_regenerated();
    let mut seen = 0;
    for (name, text) in vector_files() {
        let v = parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if v.get("expect") != Ok(SUCCESS) {
            continue;
        }
        seen += 1;
        let passphrase = pass(v.get("passphrase").unwrap());
        let (keys, plaintext) = format::open(&v.bytes, &passphrase).unwrap();
        // write(read(x)) == x for the payload.
        let state = payload::decode(&plaintext).unwrap();
        let refs: Vec<&Credential> = state.credentials.iter().collect();
        let again = payload::encode_with(&state.settings, &state.extras, &refs, &state.events);
        assert!(
            again.as_slice() == plaintext.as_slice(),
            "{name}: encode(decode(payload)) differs from the payload"
        );
        // Re-sealing with the same keys: a new payload nonce, the same header prefix, the same
        // plaintext back, with the keys in hand and with the passphrase.
        let resealed = format::seal(&keys, &again, &mut *seeded_rng(0xFFFF)).unwrap();
        assert_eq!(resealed[..100], v.bytes[..100], "{name}: key wrap changed");
        assert_ne!(resealed, v.bytes, "{name}: payload nonce reused");
        let reopened = format::open_with_keys(&resealed, &keys).unwrap();
        assert!(reopened.as_slice() == plaintext.as_slice(), "{name}");
        let (_, reopened) = format::open(&resealed, &passphrase).unwrap();
        assert!(reopened.as_slice() == plaintext.as_slice(), "{name}");
    }
    let want = scenarios().iter().filter(|s| s.expect == SUCCESS).count();
    assert_eq!(seen, want, "expected {want} success vectors");
}

// ---------------------------------------------------------------------------------------------
// Issue 18: ES384, ES512 and RS256 credentials (SPEC §4.4 keys 7 and 8).
// ---------------------------------------------------------------------------------------------

/// `alg-*.txt`: a vault holding one credential of each new algorithm, and the key-8 encodings
/// a reader must refuse.
fn alg_scenarios() -> Vec<Scenario> {
    let fast = KdfParams::INSECURE_FAST;
    let mut rng = seeded_rng(0x1800);
    let creds = vec![
        credential(&mut rng, Algorithm::Es384, 1),
        credential(&mut rng, Algorithm::Es512, 2),
        credential(&mut rng, Algorithm::Rs256, 3),
    ];
    let settings = Config {
        algorithms: vec![Algorithm::Rs256, Algorithm::Es384, Algorithm::Es512],
        ..Config::default()
    };
    let good = encode(&settings, &creds);
    // Edits of the second (ES512) or third (RS256) credential's key 8.
    let key_edit = |index: usize, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut top = fauxkey::cbor::decode(&good).unwrap();
        let Value::Array(list) = map_entry(&mut top, 3) else {
            panic!("credentials not an array")
        };
        let Value::Bytes(key) = map_entry(&mut list[index], 8) else {
            panic!("private_key not bytes")
        };
        edit(key);
        fauxkey::cbor::encode(&top)
    };
    let scenario = |name, expect, comment, credentials, bytes| Scenario {
        name,
        expect,
        passphrase: PASS,
        comment,
        credentials,
        bytes,
    };
    vec![
        scenario(
            "alg-success-es384-es512-rs256.txt",
            SUCCESS,
            "settings algorithms [-257, -35, -36]; an ES384 (48-byte scalar), an ES512 (66-byte scalar) and an RS256 credential (PKCS#8 DER RSA-2048 key)",
            Some(3),
            seal_with(0x1801, PASS, fast, &good),
        ),
        scenario(
            "alg-payload-failure-es512-scalar-32-bytes.txt",
            PAYLOAD_FAILURE,
            "the ES512 credential's private_key cut to its last 32 bytes",
            None,
            seal_with(0x1802, PASS, fast, &key_edit(1, &|k| {
                let tail = k[k.len() - 32..].to_vec();
                *k = tail;
            })),
        ),
        scenario(
            "alg-payload-failure-rs256-key-not-pkcs8.txt",
            PAYLOAD_FAILURE,
            "the RS256 credential's private_key with its first byte changed (no longer a DER SEQUENCE)",
            None,
            seal_with(0x1803, PASS, fast, &key_edit(2, &|k| k[0] ^= 0x01)),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Journal vectors (SPEC §9, §8): a vault and its `<vault>.journal`, in one file.
// ---------------------------------------------------------------------------------------------

const JOURNAL_PREFIX: &str = "journal-";

/// One `journal-*.txt` vector.
struct JournalScenario {
    name: &'static str,
    expect: &'static str,
    comment: &'static str,
    sign_counts: Option<Vec<u32>>,
    vault: Vec<u8>,
    journal: Vec<u8>,
}

fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(32)
        .map(|line| format!("{}\n", hex::encode(line)))
        .collect()
}

impl JournalScenario {
    fn render(&self) -> String {
        let mut out = format!(
            "expect: {}\npassphrase: {PASS}\ncomment: {}\n",
            self.expect, self.comment
        );
        if let Some(counts) = &self.sign_counts {
            out += &format!("credentials: {}\n", counts.len());
            let list: Vec<String> = counts.iter().map(u32::to_string).collect();
            out += &format!("sign-counts: {}\n", list.join(","));
        }
        out.push('\n');
        out += &hex_lines(&self.vault);
        out += "journal:\n";
        out += &hex_lines(&self.journal);
        out
    }
}

/// The vault of `success-three-credentials.txt`'s payload under the keys of `seed`, its keys,
/// and the rest of the seeded randomness (for record nonces).
fn journal_base(
    seed: u64,
) -> (
    Vec<u8>,
    fauxkey::vault::journal::JournalKey,
    fauxkey::env::Rng,
) {
    let mut rng = seeded_rng(seed);
    let keys = VaultKeys::generate(&pass(PASS), KdfParams::INSECURE_FAST, &mut *rng).unwrap();
    let plaintext = encode(&settings_three(), &three_credentials());
    let vault = format::seal(&keys, &plaintext, &mut *rng).unwrap();
    (
        vault,
        fauxkey::vault::journal::JournalKey::derive(&keys),
        rng,
    )
}

/// A journal bound to `nonce` with records (credential number 0–2, sign count, time).
fn journal_bytes(
    key: &fauxkey::vault::journal::JournalKey,
    rng: &mut fauxkey::env::Rng,
    nonce: &[u8; 12],
    records: &[(usize, u32)],
) -> Vec<u8> {
    use fauxkey::vault::journal;
    let ids: Vec<Vec<u8>> = three_by_sequence().into_iter().map(|c| c.id).collect();
    let head = journal::header(nonce);
    let mut out = head.to_vec();
    for (i, &(which, count)) in records.iter().enumerate() {
        let usage = journal::Usage {
            id: ids[which].clone(),
            sign_count: count,
            last_used_ms: T0 + 90_000_000 + i as u64 * 1_000,
        };
        out.extend(journal::seal_record(key, &head, i as u64, &usage, &mut **rng).unwrap());
    }
    out
}

/// The credentials of `success-three-credentials.txt`, in `sequence` order.
fn three_by_sequence() -> Vec<Credential> {
    let mut all = three_credentials();
    all.sort_by_key(|c| c.sequence);
    all
}

/// Their sign counts, in `sequence` order.
fn three_counts() -> Vec<u32> {
    three_by_sequence().iter().map(|c| c.sign_count).collect()
}

fn journal_scenarios() -> Vec<JournalScenario> {
    let nonce = |vault: &[u8]| format::payload_nonce(vault).unwrap();
    let records = [(0usize, 8u32), (1, 1), (0, 9)];
    let after = {
        let mut c = three_counts();
        c[0] = 9;
        c[1] = 1;
        c
    };
    let (vault, key, mut rng) = journal_base(0x0900);
    let three = journal_bytes(&key, &mut rng, &nonce(&vault), &records);
    let record_len = (three.len() - 22) / 3;

    let mut torn = three.clone();
    torn.truncate(22 + 2 * record_len + record_len / 2);
    let mut after_two = three_counts();
    after_two[0] = 8;
    after_two[1] = 1;

    let mut older_nonce = nonce(&vault);
    older_nonce[0] ^= 0xff;
    let older = journal_bytes(&key, &mut rng, &older_nonce, &records);

    let mut swapped = three[..22].to_vec();
    swapped.extend_from_slice(&three[22 + record_len..22 + 2 * record_len]);
    swapped.extend_from_slice(&three[22..22 + record_len]);
    swapped.extend_from_slice(&three[22 + 2 * record_len..]);

    let mut flipped = three.clone();
    flipped[22 + record_len - 1] ^= 0x01;

    // A record sealed under another vault's data key, bound to this vault's state.
    let (_, other_key, mut other_rng) = journal_base(0x0901);
    let foreign = journal_bytes(&other_key, &mut other_rng, &nonce(&vault), &records[..1]);
    let mut spliced = foreign;
    spliced.extend_from_slice(&three[22 + record_len..]);

    let mut version2 = three.clone();
    version2[9] = 2;

    let j = |name, expect, comment, sign_counts, journal| JournalScenario {
        name,
        expect,
        comment,
        sign_counts,
        vault: vault.clone(),
        journal,
    };
    vec![
        j(
            "journal-success-three-records.txt",
            SUCCESS,
            "the three-credential vault; the journal sets sequence 1 to 8, sequence 2 to 1, sequence 1 to 9",
            Some(after.clone()),
            three,
        ),
        j(
            "journal-success-torn-final-record.txt",
            SUCCESS,
            "the third record cut in half by a crash mid-append: dropped",
            Some(after_two),
            torn,
        ),
        j(
            "journal-success-older-vault.txt",
            SUCCESS,
            "a journal bound to another payload_nonce (an older state, already folded): ignored",
            Some(three_counts()),
            older,
        ),
        j(
            "journal-failure-swapped-records.txt",
            PAYLOAD_FAILURE,
            "records 0 and 1 swapped: each authentic, at the wrong number",
            None,
            swapped,
        ),
        j(
            "journal-failure-flipped-tag.txt",
            PAYLOAD_FAILURE,
            "the last byte of record 0's tag flipped (not the final record)",
            None,
            flipped,
        ),
        j(
            "journal-failure-other-vault.txt",
            PAYLOAD_FAILURE,
            "record 0 sealed under another vault's data key, bound to this vault's nonce",
            None,
            spliced,
        ),
        j(
            "journal-unsupported-version-2.txt",
            UNSUPPORTED,
            "journal version 2",
            None,
            version2,
        ),
    ]
}

/// A parsed journal vector: header, vault bytes, journal bytes.
type JournalVector = (BTreeMap<String, String>, Vec<u8>, Vec<u8>);

/// Parses a journal vector.
fn parse_journal(text: &str) -> Result<JournalVector, String> {
    let (head, body) = text.split_once("\n\n").ok_or("no blank line")?;
    let header: BTreeMap<String, String> = head
        .lines()
        .map(|l| {
            l.split_once(": ")
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("bad header line {l:?}"))
        })
        .collect::<Result<_, _>>()?;
    let (vault, journal) = body.split_once("journal:\n").ok_or("no `journal:` line")?;
    let decode = |hex_text: &str| -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        for line in hex_text.lines() {
            out.extend(hex::decode(line).map_err(|e| format!("{line:?}: {e}"))?);
        }
        Ok(out)
    };
    Ok((header, decode(vault)?, decode(journal)?))
}

#[test]
fn journal_vectors_match_the_generator_and_open_as_expected() {
    let dir = vectors_dir();
    let all = journal_scenarios();
    if std::env::var(REGENERATE).as_deref() == Ok("1") {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.starts_with(JOURNAL_PREFIX) && !all.iter().any(|s| s.name == name) {
                std::fs::remove_file(dir.join(&name)).unwrap();
            }
        }
        for s in &all {
            std::fs::write(dir.join(s.name), s.render()).unwrap();
        }
    }
    let tmp = std::env::temp_dir().join(format!("fauxkey-journal-vectors-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut failures = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.starts_with(JOURNAL_PREFIX) {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        match all.iter().find(|s| s.name == name) {
            Some(s) if s.render() == text => {}
            Some(_) => failures.push(format!("{name}: differs from the generator")),
            None => failures.push(format!("{name}: not produced by the generator")),
        }
        let check = || -> Result<(), String> {
            let (header, vault, journal) = parse_journal(&text)?;
            let expect = header.get("expect").ok_or("no expect")?;
            let path = tmp.join(&name);
            std::fs::write(&path, &vault).unwrap();
            std::fs::write(fauxkey::vault::journal::path(&path), &journal).unwrap();
            let got = fauxkey::vault::Vault::open(&path, &pass(PASS));
            match (expect.as_str(), got) {
                (SUCCESS, Ok(v)) => {
                    use fauxkey::store::CredentialStore as _;
                    let mut counts: Vec<(u64, u32)> =
                        v.all().map(|c| (c.sequence, c.sign_count)).collect();
                    counts.sort();
                    let counts: Vec<String> = counts.iter().map(|(_, n)| n.to_string()).collect();
                    let want = header.get("sign-counts").ok_or("no sign-counts")?;
                    if &counts.join(",") != want {
                        return Err(format!("sign counts {}, expected {want}", counts.join(",")));
                    }
                    Ok(())
                }
                (_, Err(e)) if class_name(e.class()) == expect => Ok(()),
                (_, Err(e)) => Err(format!("expected {expect}, got {e}")),
                (_, Ok(_)) => Err(format!("expected {expect}, it opened")),
            }
        };
        if let Err(e) = check() {
            failures.push(format!("{name}: {e}"));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert_eq!(files, all.len(), "journal vectors missing (regenerate)");
    assert!(
        failures.is_empty(),
        "journal vectors:\n  {}",
        failures.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 16: the PIN and authenticatorConfig state (settings keys 18–25).
// ---------------------------------------------------------------------------------------------

/// The base payload with `entries` appended to its settings map (keys above 17, so still in
/// canonical order).
fn settings_append(entries: Vec<(i64, Value)>) -> Vec<u8> {
    payload_edit(|top| {
        let Value::Map(settings) = map_entry(top, 2) else {
            panic!("settings not a map")
        };
        settings.extend(
            entries
                .into_iter()
                .map(|(k, v)| (Value::Integer(k.into()), v)),
        );
    })
}

fn pin_scenarios() -> Vec<Scenario> {
    let fast = KdfParams::INSECURE_FAST;
    let device = fauxkey::store::DeviceState {
        pin_hash: Some(fauxkey::store::pin_hash(b"1234")),
        pin_code_points: 4,
        pin_retries: 5,
        min_pin_length: 6,
        force_pin_change: true,
        min_pin_length_rp_ids: vec!["example.com".into()],
        enterprise_attestation: false,
        always_uv: true,
        large_blob_array: None,
    };
    let extras = payload::Extras {
        device,
        ..payload::Extras::default()
    };
    let with_pin = payload::encode_with(&Config::default(), &extras, &[], &[]).to_vec();
    let failure = |name, comment, bytes: Vec<u8>| Scenario {
        name,
        expect: PAYLOAD_FAILURE,
        passphrase: PASS,
        comment,
        credentials: None,
        bytes: seal_with(0x1600, PASS, fast, &bytes),
    };
    let hash = Value::Bytes(Sha256::digest(b"1234")[..16].to_vec());
    vec![
        Scenario {
            name: "pin-success-set.txt",
            expect: SUCCESS,
            passphrase: PASS,
            comment: "PIN 1234 kept as LEFT(SHA-256(PIN), 16) (keys 18-19), 5 retries left, \
                      minPINLength 6 for example.com, forcePINChange, alwaysUv",
            credentials: Some(0),
            bytes: seal_with(0x1601, PASS, fast, &with_pin),
        },
        failure(
            "pin-payload-failure-hash-15-bytes.txt",
            "settings key 18 (PIN hash) of 15 bytes",
            settings_append(vec![
                (18, Value::Bytes(vec![0; 15])),
                (19, Value::Integer(4.into())),
            ]),
        ),
        failure(
            "pin-payload-failure-hash-without-length.txt",
            "settings key 18 without key 19",
            settings_append(vec![(18, hash)]),
        ),
        failure(
            "pin-payload-failure-retries-9.txt",
            "settings key 20 (PIN retries) above the maximum of 8",
            settings_append(vec![(20, Value::Integer(9.into()))]),
        ),
        failure(
            "pin-payload-failure-unknown-settings-key-40.txt",
            "settings key 40, not defined",
            settings_append(vec![(40, Value::Bool(true))]),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Issue 16: CTAP1/U2F (settings key 26, credential key 20).
// ---------------------------------------------------------------------------------------------

/// A u2f-key vault as `init --profile u2f-key` makes it, with one credential registered over
/// U2F (no RP ID known, bound by its application parameter).
fn u2f_payload() -> Vec<u8> {
    let ca = fauxkey::attestation::AttestationCa::generate(&mut seeded_rng(0x1700)).unwrap();
    let profile = fauxkey::profiles::find("u2f-key")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(0x1701))
        .unwrap();
    let extras = payload::Extras {
        client: Some(profile.client_settings()),
        attestation_ca: Some(ca),
        ..payload::Extras::default()
    };
    let mut rng = seeded_rng(0x1702);
    let cred = Credential {
        rp_id: String::new(),
        rp_name: None,
        user_handle: Vec::new(),
        user_name: None,
        user_display_name: None,
        discoverable: false,
        backup_eligible: false,
        backup_state: false,
        sign_count: 3,
        u2f_app_param: Some(Sha256::digest(b"https://example.com").into()),
        ..credential(&mut rng, Algorithm::Es256, 1)
    };
    payload::encode_with(&profile.config, &extras, &[&cred], &[]).to_vec()
}

// ---------------------------------------------------------------------------------------------
// Issue 18: apple anonymous attestation (settings key 3 value 6).
// ---------------------------------------------------------------------------------------------

fn apple_payload() -> Vec<u8> {
    let ca = fauxkey::attestation::AttestationCa::generate(&mut seeded_rng(0x1800)).unwrap();
    let profile = fauxkey::profiles::find("apple-touch-id")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(0x1801))
        .unwrap();
    let extras = payload::Extras {
        client: Some(profile.client_settings()),
        attestation_ca: Some(ca),
        ..payload::Extras::default()
    };
    let mut rng = seeded_rng(0x1802);
    let cred = Credential {
        backup_eligible: false,
        backup_state: false,
        ..credential(&mut rng, Algorithm::Es256, 1)
    };
    payload::encode_with(&profile.config, &extras, &[&cred], &[]).to_vec()
}

fn apple_scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "apple-success-touch-id.txt",
        expect: SUCCESS,
        passphrase: PASS,
        comment: "made with the apple-touch-id profile: settings key 3 = 6 (apple), key 13 \
                  holding the Apple-style intermediate CA (its certificate and key), top-level 5 \
                  (attestation CA); one ES256 credential, BE clear",
        credentials: Some(1),
        bytes: seal_with(0x1803, PASS, KdfParams::INSECURE_FAST, &apple_payload()),
    }]
}

// ---------------------------------------------------------------------------------------------
// Issue 18: compound attestation (settings key 3 value 7, members in key 29).
// ---------------------------------------------------------------------------------------------

fn compound_payload(members: &[AttestationMode]) -> Vec<u8> {
    let ca = fauxkey::attestation::AttestationCa::generate(&mut seeded_rng(0x1900)).unwrap();
    let mut profile = fauxkey::profiles::find("fauxkey").unwrap();
    profile.config.attestation = AttestationMode::Compound;
    profile.config.compound_members = vec![AttestationMode::Tpm, AttestationMode::PackedSelf];
    let mut profile = profile
        .with_attestation(&ca, &mut seeded_rng(0x1901))
        .unwrap();
    profile.config.compound_members = members.to_vec();
    let extras = payload::Extras {
        client: Some(profile.client_settings()),
        attestation_ca: Some(ca),
        ..payload::Extras::default()
    };
    let mut rng = seeded_rng(0x1902);
    let cred = credential(&mut rng, Algorithm::Es256, 1);
    payload::encode_with(&profile.config, &extras, &[&cred], &[]).to_vec()
}

fn compound_scenarios() -> Vec<Scenario> {
    let fast = KdfParams::INSECURE_FAST;
    vec![
        Scenario {
            name: "compound-success-tpm-and-packed-self.txt",
            expect: SUCCESS,
            passphrase: PASS,
            comment: "settings key 3 = 7 (compound), key 29 = [4, 1] (tpm, then packed self), \
                      key 13 holding the tpm member's AIK chain, top-level 5 (attestation CA); \
                      one ES256 credential",
            credentials: Some(1),
            bytes: seal_with(
                0x1903,
                PASS,
                fast,
                &compound_payload(&[AttestationMode::Tpm, AttestationMode::PackedSelf]),
            ),
        },
        Scenario {
            name: "compound-payload-failure-packed-x5c-member.txt",
            expect: PAYLOAD_FAILURE,
            passphrase: PASS,
            comment: "as compound-success-tpm-and-packed-self but key 29 = [4, 2]: packed with \
                      x5c (2) is no compound member",
            credentials: None,
            bytes: seal_with(
                0x1904,
                PASS,
                fast,
                &compound_payload(&[AttestationMode::Tpm, AttestationMode::Packed]),
            ),
        },
        Scenario {
            name: "compound-payload-failure-one-member.txt",
            expect: PAYLOAD_FAILURE,
            passphrase: PASS,
            comment: "as compound-success-tpm-and-packed-self but key 29 = [4]: a compound \
                      statement needs at least two members",
            credentials: None,
            bytes: seal_with(
                0x1905,
                PASS,
                fast,
                &compound_payload(&[AttestationMode::Tpm]),
            ),
        },
    ]
}

fn u2f_scenarios() -> Vec<Scenario> {
    let fast = KdfParams::INSECURE_FAST;
    let failure = |name, comment, bytes: Vec<u8>| Scenario {
        name,
        expect: PAYLOAD_FAILURE,
        passphrase: PASS,
        comment,
        credentials: None,
        bytes: seal_with(0x1710, PASS, fast, &bytes),
    };
    vec![
        Scenario {
            name: "u2f-success-only.txt",
            expect: SUCCESS,
            passphrase: PASS,
            comment: "made with the u2f-key profile: settings key 26 = 2 (U2F only), a U2F \
                      attestation certificate (key 13); one credential registered over U2F \
                      with key 20 (application parameter SHA-256(\"https://example.com\")) and \
                      an empty rp_id",
            credentials: Some(1),
            bytes: seal_with(0x1703, PASS, fast, &u2f_payload()),
        },
        failure(
            "u2f-payload-failure-mode-3.txt",
            "settings key 26 (U2F mode) is 3, not 1 or 2",
            settings_append(vec![(26, Value::Integer(3.into()))]),
        ),
        failure(
            "u2f-payload-failure-app-param-31-bytes.txt",
            "credential key 20 (U2F application parameter) of 31 bytes",
            payload_edit(|top| {
                let Value::Map(cred) = first_credential(top) else {
                    panic!("credential not a map")
                };
                cred.push((Value::Integer(20.into()), Value::Bytes(vec![7; 31])));
            }),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Issue 18: android-key attestation (settings key 3 value 5).
// ---------------------------------------------------------------------------------------------

/// An android vault as `init --profile android` makes it: attestation mode 5 and, in key 13,
/// the "Android Keystore" intermediate (its chain `[intermediate, root]` and its key); one
/// device-bound ES256 credential.
fn android_key_payload() -> Vec<u8> {
    let ca = fauxkey::attestation::AttestationCa::generate(&mut seeded_rng(0x1800)).unwrap();
    let profile = fauxkey::profiles::find("android")
        .unwrap()
        .with_attestation(&ca, &mut seeded_rng(0x1801))
        .unwrap();
    let extras = payload::Extras {
        client: Some(profile.client_settings()),
        attestation_ca: Some(ca),
        ..payload::Extras::default()
    };
    let mut rng = seeded_rng(0x1802);
    let cred = Credential {
        backup_eligible: false,
        backup_state: false,
        ..credential(&mut rng, Algorithm::Es256, 1)
    };
    payload::encode_with(&profile.config, &extras, &[&cred], &[]).to_vec()
}

fn android_key_scenarios() -> Vec<Scenario> {
    vec![Scenario {
        name: "android-key-success-profile.txt",
        expect: SUCCESS,
        passphrase: PASS,
        comment: "made with the android profile: settings key 3 = 5 (android-key), key 13 = the \
                  Android Keystore intermediate ([intermediate, root] and its P-256 key); one \
                  ES256 credential, BE clear",
        credentials: Some(1),
        bytes: seal_with(
            0x1803,
            PASS,
            KdfParams::INSECURE_FAST,
            &android_key_payload(),
        ),
    }]
}

// ---------------------------------------------------------------------------------------------
// Issue 16: large blobs and CTAP extension data (settings key 27, credential keys 21–22).
// ---------------------------------------------------------------------------------------------

fn blob_scenarios() -> Vec<Scenario> {
    let fast = KdfParams::INSECURE_FAST;
    // One opaque entry (the authenticator never decrypts entries), then the checksum.
    let entry = fauxkey::cbor::map([
        (1, Value::Bytes(vec![0xc1; 24])),
        (2, Value::Bytes(vec![0x0e; 12])),
        (3, Value::Integer(8.into())),
    ]);
    let array =
        fauxkey::ctap2::large_blobs::serialize(&fauxkey::cbor::encode(&Value::Array(vec![entry])));
    let device = fauxkey::store::DeviceState {
        large_blob_array: Some(array.clone()),
        ..fauxkey::store::DeviceState::default()
    };
    let extras = payload::Extras {
        device,
        ..payload::Extras::default()
    };
    let settings = Config {
        extensions: fauxkey::authenticator::EMULATED_EXTENSIONS
            .map(String::from)
            .to_vec(),
        ..Config::default()
    };
    let mut rng = seeded_rng(0x1610);
    let cred = Credential {
        large_blob_key: Some(fauxkey::store::LargeBlobKey([0x4b; 32])),
        cred_blob: Some(b"credBlob bytes".to_vec()),
        ..credential(&mut rng, Algorithm::Es256, 1)
    };
    let with_blobs = payload::encode_with(&settings, &extras, &[&cred], &[]).to_vec();
    let failure = |name, comment, bytes: Vec<u8>| Scenario {
        name,
        expect: PAYLOAD_FAILURE,
        passphrase: PASS,
        comment,
        credentials: None,
        bytes: seal_with(0x1611, PASS, fast, &bytes),
    };
    let credential_append = |key: i64, value: Value| {
        payload_edit(|top| {
            let Value::Map(c) = first_credential(top) else {
                panic!("credential not a map")
            };
            c.push((Value::Integer(key.into()), value));
        })
    };
    let mut bad_sum = array.clone();
    let last = bad_sum.len() - 1;
    bad_sum[last] ^= 0x01;
    vec![
        Scenario {
            name: "blob-success-array-and-keys.txt",
            expect: SUCCESS,
            passphrase: PASS,
            comment: "every CTAP extension listed (key 14), a large-blob array of one entry \
                      (key 27), one credential with a largeBlobKey (key 21) and a credBlob \
                      (key 22)",
            credentials: Some(1),
            bytes: seal_with(0x1612, PASS, fast, &with_blobs),
        },
        failure(
            "blob-payload-failure-array-checksum.txt",
            "settings key 27 (large-blob array) whose last checksum byte is flipped",
            settings_append(vec![(27, Value::Bytes(bad_sum))]),
        ),
        failure(
            "blob-payload-failure-array-16-bytes.txt",
            "settings key 27 of 16 bytes: shorter than a checksum and one CBOR byte",
            settings_append(vec![(27, Value::Bytes(vec![0; 16]))]),
        ),
        failure(
            "blob-payload-failure-large-blob-key-31-bytes.txt",
            "credential key 21 (large_blob_key) of 31 bytes",
            credential_append(21, Value::Bytes(vec![0x4b; 31])),
        ),
        failure(
            "blob-payload-failure-cred-blob-33-bytes.txt",
            "credential key 22 (cred_blob) of 33 bytes, over maxCredBlobLength",
            credential_append(22, Value::Bytes(vec![0x42; 33])),
        ),
    ]
}
