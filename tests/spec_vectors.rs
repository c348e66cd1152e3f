//! WebAuthn Level 3 §16 test vectors, reproduced byte for byte through fauxkey's own code paths.
//!
//! The vector files live in `tests/data/webauthn-l3-vectors/` (`name: value` lines, hex bytes; see
//! the README there). Registration goes through the real `authenticatorMakeCredential` with a
//! scripted RNG that hands the authenticator exactly the vector's private key and credential id;
//! authentication goes through the real `authenticatorGetAssertion` over a stored credential;
//! the PRF vectors go through fauxkey's PIN/UV protocol code and its `hmac-secret` extension.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::collections::VecDeque;

use ciborium::value::Value;
use hmac::{Hmac, Mac};
use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};

use fauxkey::attestation::android_key::{
    AuthorizationList, KeyDescription, LeafTemplate, SecurityLevel,
};
use fauxkey::attestation::AttestationCert;
use fauxkey::authenticator::{AttestationMode, CounterPolicy};
use fauxkey::client::prf::prf_salt;
use fauxkey::crypto::keys::{Algorithm, PrivateKey, PublicKey};
use fauxkey::crypto::pin_protocol::{hmac_sha256, KeyAgreementKey, PinProtocol, SharedSecret};
use fauxkey::ctap2::auth_data::{AttestedCredentialData, AuthenticatorData, Flags};
use fauxkey::ctap2::get_assertion::{self as ga, HmacSecretInput};
use fauxkey::ctap2::make_credential::{self as mc, CredentialParameters, RpEntity};
use fauxkey::ctap2::{client_pin, CredentialDescriptor, Options, UserEntity};
use fauxkey::env::{SimulatedUser, Verification};
use fauxkey::store::{CredProtect, CredRandom, Credential, CredentialStore, MemoryStore};
use fauxkey::{cbor, Authenticator, Config};

// ---------------------------------------------------------------------------------------------
// Vector files
// ---------------------------------------------------------------------------------------------

/// One vector file: `name: value` lines; `#` comments and blank lines skipped.
struct Vectors {
    file: &'static str,
    values: HashMap<String, String>,
}

impl Vectors {
    fn load(file: &'static str) -> Self {
        let path = format!(
            "{}/tests/data/webauthn-l3-vectors/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
        let mut values = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("{file}: not a `name: value` line: {line:?}"));
            let previous = values.insert(name.trim().to_owned(), value.trim().to_owned());
            assert!(
                previous.is_none(),
                "{file}: `{}` appears twice",
                name.trim()
            );
        }
        Self { file, values }
    }

    fn text(&self, name: &str) -> &str {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("{}: no `{name}`", self.file))
    }

    fn bytes(&self, name: &str) -> Vec<u8> {
        hex::decode(self.text(name))
            .unwrap_or_else(|e| panic!("{}: `{name}` is not hex: {e}", self.file))
    }

    fn array<const N: usize>(&self, name: &str) -> [u8; N] {
        let b = self.bytes(name);
        b.as_slice()
            .try_into()
            .unwrap_or_else(|_| panic!("{}: `{name}` is {} bytes, not {N}", self.file, b.len()))
    }
}

#[test]
fn parser_reads_names_values_and_skips_comments() {
    let v = Vectors::load("none-es256.txt");
    assert_eq!(v.text("rp_id"), "example.org");
    assert_eq!(
        v.text("origin"),
        "https://example.org",
        "only the first ':' separates name and value"
    );
    assert_eq!(v.bytes("flags"), [0x59]);
    assert_eq!(v.bytes("credential_id").len(), 32);
}

// ---------------------------------------------------------------------------------------------
// A scripted RNG: yields exactly the given bytes, in order, and panics if asked for more.
// ---------------------------------------------------------------------------------------------

struct ScriptedRng {
    name: &'static str,
    bytes: VecDeque<u8>,
}

impl ScriptedRng {
    fn new(name: &'static str, chunks: &[&[u8]]) -> Self {
        Self {
            name,
            bytes: chunks.concat().into(),
        }
    }

    fn boxed(name: &'static str, chunks: &[&[u8]]) -> fauxkey::env::Rng {
        Box::new(Self::new(name, chunks))
    }
}

impl TryRng for ScriptedRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Self::Error> {
        assert!(
            dest.len() <= self.bytes.len(),
            "scripted RNG `{}` asked for {} bytes but only {} remain: fauxkey drew more randomness than expected",
            self.name,
            dest.len(),
            self.bytes.len()
        );
        for b in dest.iter_mut() {
            *b = self.bytes.pop_front().unwrap();
        }
        Ok(())
    }
}

impl TryCryptoRng for ScriptedRng {}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn sha256(b: &[u8]) -> Vec<u8> {
    Sha256::digest(b).to_vec()
}

fn text_entry<'a>(v: &'a Value, key: &str) -> &'a Value {
    let Value::Map(m) = v else {
        panic!("not a CBOR map: {v:?}")
    };
    m.iter()
        .find_map(|(k, v)| matches!(k, Value::Text(t) if t == key).then_some(v))
        .unwrap_or_else(|| panic!("no `{key}` in {v:?}"))
}

/// The `authData` bytes inside an attestationObject (the spec gives them only there).
fn auth_data_in(attestation_object: &[u8]) -> Vec<u8> {
    let decoded =
        cbor::decode(attestation_object).expect("vector attestationObject is canonical CBOR");
    match text_entry(&decoded, "authData") {
        Value::Bytes(b) => b.clone(),
        other => panic!("authData is not a byte string: {other:?}"),
    }
}

fn vector_config(v: &Vectors, attestation: AttestationMode) -> Config {
    Config {
        aaguid: uuid::Uuid::from_bytes(v.array("aaguid")),
        credential_id_length: v.bytes("credential_id").len(),
        backup_eligible: true,
        backup_state: true,
        counter: CounterPolicy::AlwaysZero,
        attestation,
        ..Config::default()
    }
}

fn make_credential_request(v: &Vectors, uv: bool) -> mc::Request {
    mc::Request {
        client_data_hash: sha256(&v.bytes("client_data_json")),
        rp: RpEntity {
            id: v.text("rp_id").to_owned(),
            name: Some("Example".into()),
        },
        // The spec gives no user; the user entity does not enter authData.
        user: UserEntity {
            id: vec![0x01],
            name: Some("user".into()),
            display_name: Some("User".into()),
        },
        pub_key_cred_params: vec![CredentialParameters {
            type_: "public-key".into(),
            alg: -7,
        }],
        exclude_list: vec![],
        extensions: mc::Extensions::default(),
        options: Options {
            rk: None,
            up: None,
            uv: uv.then_some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
        enterprise_attestation: None,
        attestation_formats_preference: None,
    }
}

/// An authenticator whose only randomness is the vector's key, then the vector's credential id
/// (the order makeCredential draws them in; p256's `SigningKey::random` fills 32 bytes and reads
/// them as a big-endian scalar, accepted when below n).
fn vector_authenticator(v: &Vectors, attestation: AttestationMode) -> Authenticator {
    Authenticator::new(vector_config(v, attestation), MemoryStore::new()).with_rng(
        ScriptedRng::boxed(
            "makeCredential",
            &[
                &v.bytes("credential_private_key"),
                &v.bytes("credential_id"),
            ],
        ),
    )
}

fn vector_credential(v: &Vectors, backup_state: bool) -> Credential {
    Credential {
        id: v.bytes("credential_id"),
        rp_id: v.text("rp_id").to_owned(),
        rp_name: None,
        user_handle: vec![0x01],
        user_name: None,
        user_display_name: None,
        key: PrivateKey::from_secret_bytes(Algorithm::Es256, &v.bytes("credential_private_key"))
            .unwrap(),
        discoverable: false,
        sign_count: 0,
        backup_eligible: true,
        backup_state,
        created_ms: 0,
        last_used_ms: None,
        hidden: false,
        hidden_at_ms: None,
        cred_protect: CredProtect::UvOptional,
        cred_random: None,
        large_blob_key: None,
        cred_blob: None,
        sequence: 1,
        u2f_app_param: None,
    }
}

fn get_assertion_request(v: &Vectors, uv: bool) -> ga::Request {
    ga::Request {
        rp_id: v.text("rp_id").to_owned(),
        client_data_hash: sha256(&v.bytes("auth_client_data_json")),
        allow_list: vec![CredentialDescriptor::public_key(v.bytes("credential_id"))],
        hmac_secret: None,
        extensions: Default::default(),
        options: Options {
            rk: None,
            up: None,
            uv: uv.then_some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    }
}

fn vector_public_key(v: &Vectors) -> PublicKey {
    let cose = cbor::decode(&v.bytes("credential_public_key_cose")).unwrap();
    PublicKey::from_cose(&cose).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Sanity of the vectors themselves (so a failure below points at fauxkey, not at the data)
// ---------------------------------------------------------------------------------------------

#[test]
fn vector_files_are_self_consistent() {
    for (file, flags, auth_flags) in [
        ("none-es256.txt", 0x59, 0x19),
        ("packed-self-es256.txt", 0x5d, 0x09),
        ("android-key-es256.txt", 0x5d, 0x09),
    ] {
        let v = Vectors::load(file);
        let auth_data = auth_data_in(&v.bytes("attestation_object"));
        assert_eq!(auth_data.len(), 164, "{file}");
        assert_eq!(
            &auth_data[..32],
            sha256(v.text("rp_id").as_bytes()),
            "{file}: rpIdHash"
        );
        assert_eq!(auth_data[32], flags, "{file}: registration flags");
        assert_eq!(v.bytes("flags"), [flags], "{file}");
        let auth = v.bytes("auth_authenticator_data");
        assert_eq!(auth.len(), 37, "{file}");
        assert_eq!(auth[32], auth_flags, "{file}: authentication flags");
        // fauxkey's COSE encoding of the vector's private key is the vector's COSE key.
        let key =
            PrivateKey::from_secret_bytes(Algorithm::Es256, &v.bytes("credential_private_key"))
                .unwrap();
        assert_eq!(
            key.public_key().cose_bytes(),
            v.bytes("credential_public_key_cose"),
            "{file}: COSE key"
        );
        assert_eq!(key.public_key(), vector_public_key(&v), "{file}");
    }
}

// ---------------------------------------------------------------------------------------------
// none.ES256
// ---------------------------------------------------------------------------------------------

#[test]
fn none_es256_registration_is_byte_exact() {
    let v = Vectors::load("none-es256.txt");
    let expected_object = v.bytes("attestation_object");
    let expected_auth_data = auth_data_in(&expected_object);

    let mut authenticator = vector_authenticator(&v, AttestationMode::None);
    // Flags 0x59 carry no UV: the request does not ask for it.
    let response = authenticator
        .make_credential(make_credential_request(&v, false))
        .expect("makeCredential");

    assert_eq!(response.fmt, "none");
    assert_eq!(
        hex::encode(&response.auth_data),
        hex::encode(&expected_auth_data),
        "authenticatorData"
    );
    assert_eq!(
        hex::encode(response.attestation_object()),
        hex::encode(&expected_object),
        "attestationObject"
    );

    // The parsed form agrees field by field.
    let parsed = AuthenticatorData::parse(&response.auth_data).unwrap();
    assert_eq!(parsed.flags, Flags(0x59));
    assert_eq!(parsed.sign_count, 0);
    assert_eq!(
        parsed.attested,
        Some(AttestedCredentialData {
            aaguid: v.array("aaguid"),
            credential_id: v.bytes("credential_id"),
            public_key_cose: v.bytes("credential_public_key_cose"),
        })
    );
    // The credential was stored under the vector's id with the vector's key.
    let stored = authenticator
        .store()
        .get(&v.bytes("credential_id"))
        .expect("stored");
    assert_eq!(
        stored.key.secret_bytes().as_slice(),
        v.bytes("credential_private_key").as_slice()
    );
}

#[test]
fn none_es256_registration_composed_from_parts_is_byte_exact() {
    // The same result without the RNG: authenticatorData and the attestationObject assembled from
    // fauxkey's types.
    let v = Vectors::load("none-es256.txt");
    let key = PrivateKey::from_secret_bytes(Algorithm::Es256, &v.bytes("credential_private_key"))
        .unwrap();
    let auth_data = AuthenticatorData {
        rp_id_hash: Sha256::digest(v.text("rp_id").as_bytes()).into(),
        flags: Flags(Flags::UP | Flags::BE | Flags::BS),
        sign_count: 0,
        attested: Some(AttestedCredentialData {
            aaguid: v.array("aaguid"),
            credential_id: v.bytes("credential_id"),
            public_key_cose: key.public_key().cose_bytes(),
        }),
        extensions: None,
    }
    .to_bytes();
    let response = mc::Response {
        fmt: "none".into(),
        auth_data,
        att_stmt: cbor::map(Vec::<(&str, Value)>::new()),
        large_blob_key: None,
    };
    assert_eq!(
        hex::encode(response.attestation_object()),
        v.text("attestation_object")
    );
}

#[test]
fn none_es256_authentication_is_byte_exact() {
    let v = Vectors::load("none-es256.txt");
    let mut authenticator =
        Authenticator::new(vector_config(&v, AttestationMode::None), MemoryStore::new())
            .with_rng(ScriptedRng::boxed("getAssertion", &[]));
    // Flags 0x19: UP | BE | BS, no UV.
    authenticator
        .store_mut()
        .insert(vector_credential(&v, true))
        .unwrap();
    let response = authenticator
        .get_assertion(get_assertion_request(&v, false))
        .expect("getAssertion");

    assert_eq!(response.credential.id, v.bytes("credential_id"));
    assert_eq!(
        hex::encode(&response.auth_data),
        v.text("auth_authenticator_data"),
        "authenticatorData"
    );
    let message = [
        response.auth_data.as_slice(),
        &sha256(&v.bytes("auth_client_data_json")),
    ]
    .concat();
    assert!(
        vector_public_key(&v).verify(&message, &response.signature),
        "signature verifies"
    );
    // RFC 6979, and P-256 signatures are not low-S normalised: this one has s > n/2.
    assert_eq!(
        hex::encode(&response.signature),
        v.text("auth_signature"),
        "signature (RFC 6979, high S)"
    );
}

#[test]
fn none_es256_register_then_authenticate_through_the_same_authenticator() {
    // The credential made from the scripted RNG is the vector's credential: the assertion that
    // follows reproduces the vector's authentication too.
    let v = Vectors::load("none-es256.txt");
    let mut authenticator = vector_authenticator(&v, AttestationMode::None);
    authenticator
        .make_credential(make_credential_request(&v, false))
        .expect("makeCredential");
    let response = authenticator
        .get_assertion(get_assertion_request(&v, false))
        .expect("getAssertion");
    assert_eq!(
        hex::encode(&response.auth_data),
        v.text("auth_authenticator_data")
    );
    assert_eq!(hex::encode(&response.signature), v.text("auth_signature"));
}

// ---------------------------------------------------------------------------------------------
// packed-self.ES256
// ---------------------------------------------------------------------------------------------

#[test]
fn packed_self_es256_registration_is_byte_exact() {
    let v = Vectors::load("packed-self-es256.txt");
    let expected_object = v.bytes("attestation_object");

    let mut authenticator =
        vector_authenticator(&v, AttestationMode::PackedSelf).with_user(SimulatedUser {
            verification: Verification::Succeed,
            ..SimulatedUser::default()
        });
    // Flags 0x5d carry UV: the request asks for it.
    let response = authenticator
        .make_credential(make_credential_request(&v, true))
        .expect("makeCredential");

    assert_eq!(response.fmt, "packed");
    assert_eq!(
        hex::encode(&response.auth_data),
        hex::encode(auth_data_in(&expected_object)),
        "authenticatorData"
    );
    match text_entry(&response.att_stmt, "sig") {
        Value::Bytes(sig) => assert_eq!(
            hex::encode(sig),
            v.text("attestation_signature"),
            "attStmt.sig"
        ),
        other => panic!("sig is not bytes: {other:?}"),
    }
    assert_eq!(
        text_entry(&response.att_stmt, "alg"),
        &Value::Integer((-7).into())
    );
    assert_eq!(
        hex::encode(response.attestation_object()),
        hex::encode(&expected_object),
        "attestationObject"
    );
}

#[test]
fn packed_self_es256_authentication_is_byte_exact() {
    let v = Vectors::load("packed-self-es256.txt");
    let mut authenticator = Authenticator::new(
        vector_config(&v, AttestationMode::PackedSelf),
        MemoryStore::new(),
    )
    .with_rng(ScriptedRng::boxed("getAssertion", &[]));
    // Flags 0x09: UP | BE, neither UV nor BS.
    authenticator
        .store_mut()
        .insert(vector_credential(&v, false))
        .unwrap();
    let response = authenticator
        .get_assertion(get_assertion_request(&v, false))
        .expect("getAssertion");

    assert_eq!(
        hex::encode(&response.auth_data),
        v.text("auth_authenticator_data"),
        "authenticatorData"
    );
    let message = [
        response.auth_data.as_slice(),
        &sha256(&v.bytes("auth_client_data_json")),
    ]
    .concat();
    assert!(
        vector_public_key(&v).verify(&message, &response.signature),
        "signature verifies"
    );
    assert_eq!(
        hex::encode(&response.signature),
        v.text("auth_signature"),
        "signature (RFC 6979)"
    );
}

// ---------------------------------------------------------------------------------------------
// android-key.ES256 (spec id sctn-test-vectors-android-key-es256)
// ---------------------------------------------------------------------------------------------

/// The spec's attestation CA as the `android-key` issuer, stamping leaves the way the spec's
/// script does: its subject, a KeyDescription {300, Software, 0, Software, challenge, '', {}, {}},
/// and `x5c = [leaf]` (the CA is the trust anchor, not sent). The certificate encoding (names,
/// extensions, the KeyDescription's DER) is fauxkey's own code; only these values are the spec's.
fn spec_android_issuer(v: &Vectors) -> AttestationCert {
    AttestationCert::from_parts(
        vec![v.bytes("attestation_ca_cert")],
        &v.bytes("attestation_ca_key"),
    )
    .unwrap()
    .with_android_leaf(LeafTemplate {
        // RFC 4514 order: the last RDN first, so the DER reads CN, O, OU, C as the spec's does.
        subject: "C=AA,OU=Authenticator Attestation,O=W3C,CN=WebAuthn test vectors".into(),
        description: Some(KeyDescription {
            attestation_version: 300,
            attestation_security_level: SecurityLevel::Software,
            keymint_version: 0,
            keymint_security_level: SecurityLevel::Software,
            attestation_challenge: Vec::new(),
            unique_id: Vec::new(),
            software_enforced: AuthorizationList::default(),
            tee_enforced: AuthorizationList::default(),
        }),
        send_chain: false,
    })
}

#[test]
fn android_key_es256_registration_is_byte_exact() {
    let v = Vectors::load("android-key-es256.txt");
    let expected_object = v.bytes("attestation_object");
    let config = Config {
        attestation_cert: Some(spec_android_issuer(&v)),
        // Flags 0x5d: UV, BE and BS set.
        ..vector_config(&v, AttestationMode::AndroidKey)
    };
    // makeCredential draws the credential key, the credential id, then the leaf's serial.
    let mut authenticator =
        Authenticator::new(config, MemoryStore::new()).with_rng(ScriptedRng::boxed(
            "makeCredential",
            &[
                &v.bytes("credential_private_key"),
                &v.bytes("credential_id"),
                &v.bytes("attestation_cert_serial_number"),
            ],
        ));
    let response = authenticator
        .make_credential(make_credential_request(&v, true))
        .expect("makeCredential");
    assert_eq!(response.fmt, "android-key");
    assert_eq!(
        hex::encode(&response.auth_data),
        hex::encode(auth_data_in(&expected_object)),
        "authenticatorData"
    );
    let Value::Array(x5c) = text_entry(&response.att_stmt, "x5c") else {
        panic!("x5c is not an array")
    };
    assert_eq!(x5c.len(), 1, "the CA is not sent");
    assert_eq!(
        hex::encode(x5c[0].as_bytes().unwrap()),
        v.text("attestation_certificate"),
        "the credential certificate"
    );
    assert_eq!(
        hex::encode(text_entry(&response.att_stmt, "sig").as_bytes().unwrap()),
        v.text("attestation_signature"),
        "sig (RFC 6979, by the credential key)"
    );
    assert_eq!(
        hex::encode(response.attestation_object()),
        hex::encode(&expected_object),
        "attestationObject"
    );
    // The certificate's KeyDescription carries clientDataHash as its challenge.
    let description =
        fauxkey::attestation::android_key::key_description_of(x5c[0].as_bytes().unwrap()).unwrap();
    assert_eq!(
        fauxkey::attestation::android_key::challenge_of(&description).unwrap(),
        sha256(&v.bytes("client_data_json"))
    );
}

#[test]
fn android_key_es256_authentication_is_byte_exact() {
    let v = Vectors::load("android-key-es256.txt");
    let mut authenticator = Authenticator::new(
        vector_config(&v, AttestationMode::AndroidKey),
        MemoryStore::new(),
    )
    .with_rng(ScriptedRng::boxed("getAssertion", &[]));
    // Flags 0x09: UP | BE; the registration set BE, so BS follows the vector's draw (clear).
    authenticator
        .store_mut()
        .insert(vector_credential(&v, false))
        .unwrap();
    let response = authenticator
        .get_assertion(get_assertion_request(&v, false))
        .expect("getAssertion");
    assert_eq!(
        hex::encode(&response.auth_data),
        v.text("auth_authenticator_data"),
        "authenticatorData"
    );
    assert_eq!(
        hex::encode(&response.signature),
        v.text("auth_signature"),
        "signature (RFC 6979)"
    );
}

// ---------------------------------------------------------------------------------------------
// prf / hmac-secret
// ---------------------------------------------------------------------------------------------

fn cose_p256(x: &[u8], y: &[u8]) -> Value {
    cbor::map([
        (1, Value::Integer(2.into())),
        (3, Value::Integer((-25).into())),
        (-1, Value::Integer(1.into())),
        (-2, Value::Bytes(x.to_vec())),
        (-3, Value::Bytes(y.to_vec())),
    ])
}

fn hmac_vec(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Z, the ECDH x-coordinate, from the platform private key and the authenticator public key.
fn vector_z(v: &Vectors) -> [u8; 32] {
    let sk = p256::SecretKey::from_slice(&v.bytes("platform_key_agreement_private_key")).unwrap();
    let coord = |name| p256::FieldBytes::try_from(v.bytes(name).as_slice()).unwrap();
    let point = p256::Sec1Point::from_affine_coordinates(
        &coord("authenticator_key_agreement_public_key_x"),
        &coord("authenticator_key_agreement_public_key_y"),
        false,
    );
    let pk = p256::PublicKey::from_sec1_bytes(point.as_bytes()).unwrap();
    let z = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
    z.raw_secret_bytes().as_slice().try_into().unwrap()
}

#[test]
fn prf_salts_match_the_vectors() {
    let v = Vectors::load("prf.txt");
    for case in ["pp2_single", "pp2_two", "pp1_single"] {
        assert_eq!(
            hex::encode(prf_salt(&v.bytes(&format!("{case}_prf_eval_first")))),
            v.text(&format!("{case}_salt1")),
            "{case}: salt1"
        );
    }
    assert_eq!(
        hex::encode(prf_salt(&v.bytes("pp2_two_prf_eval_second"))),
        v.text("pp2_two_salt2")
    );
    assert_eq!(
        v.bytes("prf_eval_first"),
        [v.bytes("seed"), vec![0x02]].concat()
    );
}

#[test]
fn prf_outputs_are_hmac_of_cred_random() {
    let v = Vectors::load("prf.txt");
    let cred_random = v.bytes("authenticator_cred_random");
    for (salt, output) in [
        ("pp2_single_salt1", "pp2_single_output1"),
        ("pp2_two_salt1", "pp2_two_output1"),
        ("pp2_two_salt2", "pp2_two_output2"),
        ("pp1_single_salt1", "pp1_single_output1"),
    ] {
        assert_eq!(
            hex::encode(hmac_sha256(&cred_random, &v.bytes(salt))),
            v.text(output),
            "{output}"
        );
    }
}

#[test]
fn key_agreement_reproduces_both_shared_secrets() {
    let v = Vectors::load("prf.txt");
    let z = vector_z(&v);
    let platform_public = cose_p256(
        &v.bytes("platform_key_agreement_public_key_x"),
        &v.bytes("platform_key_agreement_public_key_y"),
    );
    let authenticator_public = cose_p256(
        &v.bytes("authenticator_key_agreement_public_key_x"),
        &v.bytes("authenticator_key_agreement_public_key_y"),
    );
    // fauxkey's KeyAgreementKey, generated from the vector's private keys, gives the vector's
    // public keys and agrees on the same secret from both sides.
    let platform = KeyAgreementKey::generate(&mut ScriptedRng::new(
        "platform key",
        &[&v.bytes("platform_key_agreement_private_key")],
    ));
    let authenticator = KeyAgreementKey::generate(&mut ScriptedRng::new(
        "authenticator key",
        &[&v.bytes("authenticator_key_agreement_private_key")],
    ));
    assert_eq!(platform.public_cose(), platform_public);
    assert_eq!(authenticator.public_cose(), authenticator_public);

    let message = b"any message";
    for (protocol, case) in [
        (PinProtocol::Two, "pp2_single"),
        (PinProtocol::Two, "pp2_two"),
        (PinProtocol::One, "pp1_single"),
    ] {
        let shared = v.bytes(&format!("{case}_shared_secret"));
        // PP2: hmac key ‖ aes key; PP1: one key for both.
        let hmac_key = &shared[..32];
        let expected_mac = match protocol {
            PinProtocol::One => hmac_vec(hmac_key, message)[..16].to_vec(),
            PinProtocol::Two => hmac_vec(hmac_key, message),
        };
        let derived = SharedSecret::derive(protocol, &z);
        assert_eq!(
            hex::encode(derived.authenticate(message)),
            hex::encode(&expected_mac),
            "{case}: derive(Z)"
        );
        let p = platform
            .shared_secret(protocol, &authenticator_public)
            .unwrap();
        let a = authenticator
            .shared_secret(protocol, &platform_public)
            .unwrap();
        assert_eq!(
            p.authenticate(message),
            expected_mac,
            "{case}: platform side"
        );
        assert_eq!(
            a.authenticate(message),
            expected_mac,
            "{case}: authenticator side"
        );
    }
}

/// The encrypt/decrypt/authenticate steps of one PRF case, on `SharedSecret::derive(Z)`.
fn check_pin_protocol_case(v: &Vectors, case: &str, protocol: PinProtocol) {
    let z = vector_z(v);
    let secret = SharedSecret::derive(protocol, &z);
    let mut salts = v.bytes(&format!("{case}_salt1"));
    let mut outputs = v.bytes(&format!("{case}_output1"));
    if let Some(s2) = v.values.get(&format!("{case}_salt2")) {
        salts.extend(hex::decode(s2).unwrap());
        outputs.extend(v.bytes(&format!("{case}_output2")));
    }
    let salt_enc = v.bytes(&format!("{case}_salt_enc"));
    let output_enc = v.bytes(&format!("{case}_output_enc"));

    // Decrypt what the platform and authenticator sent.
    assert_eq!(
        hex::encode(secret.decrypt(&salt_enc).unwrap().as_slice()),
        hex::encode(&salts),
        "{case}: salt_enc"
    );
    assert_eq!(
        hex::encode(secret.decrypt(&output_enc).unwrap().as_slice()),
        hex::encode(&outputs),
        "{case}: output_enc"
    );

    // Encrypt with the spec's IVs (PP2 draws its IV from the RNG; PP1 draws nothing).
    let (iv_salt, iv_output) = match protocol {
        PinProtocol::Two => (
            v.bytes(&format!("{case}_iv_salt")),
            v.bytes(&format!("{case}_iv_output")),
        ),
        PinProtocol::One => (vec![], vec![]),
    };
    let mut rng = ScriptedRng::new("salt IV", &[&iv_salt]);
    assert_eq!(
        hex::encode(secret.encrypt(&mut rng, &salts).unwrap()),
        hex::encode(&salt_enc),
        "{case}: encrypt salts"
    );
    let mut rng = ScriptedRng::new("output IV", &[&iv_output]);
    assert_eq!(
        hex::encode(secret.encrypt(&mut rng, &outputs).unwrap()),
        hex::encode(&output_enc),
        "{case}: encrypt outputs"
    );

    // saltAuth = authenticate(sharedSecret, saltEnc), checked against the vector's HMAC key.
    let shared = v.bytes(&format!("{case}_shared_secret"));
    let mac = hmac_vec(&shared[..32], &salt_enc);
    let expected_auth = match protocol {
        PinProtocol::One => mac[..16].to_vec(),
        PinProtocol::Two => mac,
    };
    assert_eq!(
        secret.authenticate(&salt_enc),
        expected_auth,
        "{case}: saltAuth"
    );
    assert!(secret.verify(&salt_enc, &expected_auth));
    if protocol == PinProtocol::One {
        // PP1: AES key = HMAC key = SHA-256(Z).
        assert_eq!(sha256(&z), shared, "{case}: SHA-256(Z)");
    }
}

#[test]
fn pin_protocol_two_single_input_is_byte_exact() {
    check_pin_protocol_case(&Vectors::load("prf.txt"), "pp2_single", PinProtocol::Two);
}

#[test]
fn pin_protocol_two_two_inputs_is_byte_exact() {
    check_pin_protocol_case(&Vectors::load("prf.txt"), "pp2_two", PinProtocol::Two);
}

#[test]
fn pin_protocol_one_single_input_is_byte_exact() {
    check_pin_protocol_case(&Vectors::load("prf.txt"), "pp1_single", PinProtocol::One);
}

/// Runs the authenticator's real getAssertion with the vector's hmac-secret input and returns
/// the encrypted output from authenticatorData's extensions.
fn authenticator_hmac_secret_output(v: &Vectors, case: &str, protocol: PinProtocol) -> Vec<u8> {
    let iv_output = match protocol {
        PinProtocol::Two => v.bytes(&format!("{case}_iv_output")),
        PinProtocol::One => vec![],
    };
    // The authenticator's randomness: its key agreement key, then the output IV.
    let mut authenticator =
        Authenticator::new(Config::default(), MemoryStore::new()).with_rng(ScriptedRng::boxed(
            "authenticator",
            &[
                &v.bytes("authenticator_key_agreement_private_key"),
                &iv_output,
            ],
        ));
    let cred_random: [u8; 32] = v.array("authenticator_cred_random");
    let credential = Credential {
        id: vec![0x42; 32],
        rp_id: "example.org".into(),
        rp_name: None,
        user_handle: vec![1],
        user_name: None,
        user_display_name: None,
        key: PrivateKey::from_secret_bytes(Algorithm::Es256, &[0x11; 32]).unwrap(),
        discoverable: false,
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_ms: 0,
        last_used_ms: None,
        hidden: false,
        hidden_at_ms: None,
        cred_protect: CredProtect::UvOptional,
        cred_random: Some(CredRandom {
            with_uv: cred_random,
            without_uv: cred_random,
        }),
        large_blob_key: None,
        cred_blob: None,
        sequence: 1,
        u2f_app_param: None,
    };
    authenticator.store_mut().insert(credential).unwrap();

    let key_agreement = authenticator
        .client_pin(client_pin::Request {
            pin_uv_auth_protocol: Some(protocol.number()),
            sub_command: client_pin::GET_KEY_AGREEMENT,
            ..Default::default()
        })
        .unwrap()
        .into_key_agreement()
        .unwrap();
    assert_eq!(
        key_agreement,
        cose_p256(
            &v.bytes("authenticator_key_agreement_public_key_x"),
            &v.bytes("authenticator_key_agreement_public_key_y"),
        ),
        "getKeyAgreement returns the vector's authenticator public key"
    );
    let salt_enc = v.bytes(&format!("{case}_salt_enc"));
    let salt_auth = SharedSecret::derive(protocol, &vector_z(v)).authenticate(&salt_enc);
    let response = authenticator
        .get_assertion(ga::Request {
            rp_id: "example.org".into(),
            client_data_hash: vec![0; 32],
            allow_list: vec![CredentialDescriptor::public_key(vec![0x42; 32])],
            hmac_secret: Some(HmacSecretInput {
                key_agreement: cose_p256(
                    &v.bytes("platform_key_agreement_public_key_x"),
                    &v.bytes("platform_key_agreement_public_key_y"),
                ),
                salt_enc,
                salt_auth,
                pin_uv_auth_protocol: protocol.number(),
            }),
            extensions: Default::default(),
            options: Options::default(),
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        })
        .expect("getAssertion with hmac-secret");
    let parsed = AuthenticatorData::parse(&response.auth_data).unwrap();
    assert!(parsed.flags.has(Flags::ED), "{case}: ED set");
    match text_entry(
        parsed.extensions.as_ref().expect("extensions"),
        "hmac-secret",
    ) {
        Value::Bytes(b) => b.clone(),
        other => panic!("hmac-secret output is not bytes: {other:?}"),
    }
}

#[test]
fn authenticator_hmac_secret_output_is_byte_exact() {
    let v = Vectors::load("prf.txt");
    for (case, protocol) in [
        ("pp2_single", PinProtocol::Two),
        ("pp2_two", PinProtocol::Two),
        ("pp1_single", PinProtocol::One),
    ] {
        let output = authenticator_hmac_secret_output(&v, case, protocol);
        assert_eq!(
            hex::encode(output),
            v.text(&format!("{case}_output_enc")),
            "{case}: output_enc"
        );
    }
}

#[test]
fn client_prf_results_match_the_vectors_end_to_end() {
    // The WebAuthn client's prf extension: platform key and salt IV from the client's RNG,
    // authenticator key and output IV from the authenticator's. The results are output1/output2.
    let v = Vectors::load("prf.txt");
    let cred_random: [u8; 32] = v.array("authenticator_cred_random");
    let authenticator =
        Authenticator::new(Config::default(), MemoryStore::new()).with_rng(ScriptedRng::boxed(
            "authenticator",
            &[
                &v.bytes("authenticator_key_agreement_private_key"),
                &v.bytes("pp2_two_iv_output"),
            ],
        ));
    let mut client = fauxkey::Client::new(authenticator).with_rng(ScriptedRng::boxed(
        "client",
        &[
            &v.bytes("platform_key_agreement_private_key"),
            &v.bytes("pp2_two_iv_salt"),
        ],
    ));
    let id = vec![0x42; 32];
    client
        .authenticator_mut()
        .store_mut()
        .insert(Credential {
            id: id.clone(),
            rp_id: "example.org".into(),
            rp_name: None,
            user_handle: vec![1],
            user_name: None,
            user_display_name: None,
            key: PrivateKey::from_secret_bytes(Algorithm::Es256, &[0x11; 32]).unwrap(),
            discoverable: false,
            sign_count: 0,
            backup_eligible: false,
            backup_state: false,
            created_ms: 0,
            last_used_ms: None,
            hidden: false,
            hidden_at_ms: None,
            cred_protect: CredProtect::UvOptional,
            cred_random: Some(CredRandom {
                with_uv: cred_random,
                without_uv: cred_random,
            }),
            large_blob_key: None,
            cred_blob: None,
            sequence: 1,
            u2f_app_param: None,
        })
        .unwrap();
    let b64 = fauxkey::b64url::encode;
    let options = serde_json::json!({
        "challenge": b64(b"challenge"),
        "allowCredentials": [{"type": "public-key", "id": b64(&id)}],
        "extensions": {"prf": {"eval": {
            "first": b64(&v.bytes("pp2_two_prf_eval_first")),
            "second": b64(&v.bytes("pp2_two_prf_eval_second")),
        }}},
    });
    let response = client
        .get("https://example.org", &options.to_string())
        .expect("get with prf");
    let results = response
        .client_extension_results
        .prf
        .expect("prf output")
        .results
        .expect("prf results");
    assert_eq!(
        hex::encode(fauxkey::b64url::decode(&results.first).unwrap()),
        v.text("pp2_two_prf_results_first")
    );
    assert_eq!(
        hex::encode(fauxkey::b64url::decode(results.second.as_deref().expect("second")).unwrap()),
        v.text("pp2_two_prf_results_second")
    );
}

// ---------------------------------------------------------------------------------------------
// apple.ES256 (#sctn-test-vectors-apple-es256): Apple anonymous attestation
// ---------------------------------------------------------------------------------------------

/// The apple.ES256 registration through the real makeCredential path: the spec's attestation
/// CA (its root certificate and key) stands where the vault's Apple-style intermediate goes;
/// the scripted RNG hands out the credential key, the credential id and the leaf's serial
/// number; fauxkey's own leaf builder (subject from the issuer's, validity the issuer's, the
/// nonce extension) must give the spec script's certificate byte for byte.
#[test]
fn apple_es256_registration_is_byte_exact() {
    let v = Vectors::load("apple-es256.txt");
    let expected_object = v.bytes("attestation_object");
    let issuer = fauxkey::attestation::AttestationCert::from_parts(
        vec![v.bytes("attestation_ca_cert")],
        &v.bytes("attestation_ca_key"),
    )
    .expect("the spec's CA");
    let config = Config {
        // 0x2a & 0x1c: BE without BS.
        backup_state: false,
        attestation_cert: Some(issuer),
        ..vector_config(&v, AttestationMode::Apple)
    };
    let mut authenticator =
        Authenticator::new(config, MemoryStore::new()).with_rng(ScriptedRng::boxed(
            "makeCredential",
            &[
                &v.bytes("credential_private_key"),
                &v.bytes("credential_id"),
                &v.bytes("attestation_cert_serial_number"),
            ],
        ));
    let response = authenticator
        .make_credential(make_credential_request(&v, false))
        .expect("makeCredential");
    assert_eq!(response.fmt, "apple");
    assert_eq!(
        hex::encode(&response.auth_data),
        hex::encode(auth_data_in(&expected_object)),
        "authenticatorData"
    );
    let decoded = cbor::decode(&expected_object).expect("CBOR");
    let want_leaf = match text_entry(text_entry(&decoded, "attStmt"), "x5c") {
        Value::Array(certs) => match &certs[..] {
            [Value::Bytes(leaf)] => leaf.clone(),
            other => panic!("x5c: {other:?}"),
        },
        other => panic!("x5c: {other:?}"),
    };
    match text_entry(&response.att_stmt, "x5c") {
        Value::Array(certs) => {
            assert_eq!(certs.len(), 1, "a self-signed issuer is not sent");
            assert_eq!(
                hex::encode(certs[0].as_bytes().expect("bytes")),
                hex::encode(&want_leaf),
                "leaf certificate"
            );
        }
        other => panic!("x5c: {other:?}"),
    }
    assert_eq!(
        fauxkey::attestation::apple::nonce_in(&want_leaf),
        Some(sha256(
            &[
                response.auth_data.clone(),
                sha256(&v.bytes("client_data_json"))
            ]
            .concat()
        )),
        "the spec's nonce is SHA-256(authData ‖ clientDataHash)"
    );
    assert_eq!(
        hex::encode(response.attestation_object()),
        hex::encode(&expected_object),
        "attestationObject"
    );
}

#[test]
fn apple_es256_authentication_is_byte_exact() {
    let v = Vectors::load("apple-es256.txt");
    let mut authenticator = Authenticator::new(
        vector_config(&v, AttestationMode::Apple),
        MemoryStore::new(),
    )
    .with_rng(ScriptedRng::boxed("getAssertion", &[]));
    // Flags 0x09: UP | BE, neither UV nor BS.
    authenticator
        .store_mut()
        .insert(vector_credential(&v, false))
        .unwrap();
    let response = authenticator
        .get_assertion(get_assertion_request(&v, false))
        .expect("getAssertion");
    assert_eq!(
        hex::encode(&response.auth_data),
        v.text("auth_authenticator_data"),
        "authenticatorData"
    );
    assert_eq!(
        hex::encode(&response.signature),
        v.text("auth_signature"),
        "signature (RFC 6979)"
    );
}
