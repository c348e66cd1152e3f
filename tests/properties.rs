//! Property tests: no parser of outside input panics (CBOR, CTAP messages, authenticatorData,
//! vault files and payloads, WebAuthn options JSON, origins), and the round trips that the
//! canonical encodings promise hold exactly; the responses' JSON writer gives serde_json's text.

#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;

use ciborium::value::{Integer, Value};
use proptest::prelude::*;
use proptest::sample::Index;

use fauxkey::b64url;
use fauxkey::cbor;
use fauxkey::client::json::{
    AssertionResponseJson, AttestationResponseJson, AuthenticationResponseJson,
    ClientExtensionResultsJson, CredPropsJson, LargeBlobOutputJson, PrfOutputJson, PrfValuesJson,
    RegistrationResponseJson,
};
use fauxkey::client::origin::{validate_rp_id, CallerOrigin, NoRelatedOrigins};
use fauxkey::client::{parse_creation_options, parse_request_options};
use fauxkey::ctap2::auth_data::AuthenticatorData;
use fauxkey::ctap2::make_credential::{self as mc, CredentialParameters, Extensions, RpEntity};
use fauxkey::ctap2::{client_pin, get_assertion as ga, CredentialDescriptor, StatusCode};
use fauxkey::ctap2::{Options, UserEntity};
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::store::{CredentialStore as _, MemoryStore};
use fauxkey::vault::{format, payload, KdfParams, Passphrase, VaultKeys};
use fauxkey::{Authenticator, Client, Config};

// ---------------------------------------------------------------- shared strategies and helpers

/// `n` cases, and no regression files written next to the sources.
fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(n)
    }
}

/// Bytes that make up CBOR heads often, so that random inputs decode further than one byte.
const CBOR_HEADS: &[u8] = &[
    0x00, 0x01, 0x02, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1f, 0x20, 0x21, 0x37, 0x38, 0x39, 0x3b,
    0x40, 0x41, 0x42, 0x58, 0x5f, 0x60, 0x61, 0x62, 0x78, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x98, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xb8, 0xbf, 0xc0, 0xd8, 0xe0, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
    0xfb, 0xff,
];

/// Arbitrary bytes, half of them drawn from CBOR head bytes.
fn cbor_ish_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![any::<u8>(), prop::sample::select(CBOR_HEADS)],
        0..max,
    )
}

/// One CBOR head with its argument bytes (any major type, any additional information), and for
/// byte and text strings of a small length, that many content bytes.
fn cbor_token() -> impl Strategy<Value = Vec<u8>> {
    let info = prop_oneof![
        3 => 0u8..24,
        2 => prop::sample::select(vec![24u8, 25, 26, 27, 28, 31]),
    ];
    (0u8..8, info, prop::collection::vec(any::<u8>(), 8)).prop_map(|(major, info, arg)| {
        let mut out = vec![major << 5 | info];
        let n = match info {
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => 0,
        };
        out.extend_from_slice(&arg[..n]);
        if (major == 2 || major == 3) && info < 8 {
            out.extend(std::iter::repeat_n(b'a', usize::from(info)));
        }
        out
    })
}

/// A run of CBOR tokens: often valid structure, often slightly off.
fn cbor_tokens(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(cbor_token(), 1..max).prop_map(|t| t.concat())
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR the byte at the index with a non-zero mask.
    Flip(Index, u8),
    /// Insert a byte before the index (or at the end).
    Insert(Index, u8),
    /// Remove the byte at the index.
    Delete(Index),
    /// Cut the input at the index.
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<Index>().prop_map(Mutation::Delete),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..6)
}

fn apply(mut data: Vec<u8>, edits: &[Mutation]) -> Vec<u8> {
    for edit in edits {
        match edit {
            Mutation::Insert(i, b) => {
                let at = i.index(data.len() + 1);
                data.insert(at, *b);
            }
            _ if data.is_empty() => {}
            Mutation::Flip(i, m) => {
                let at = i.index(data.len());
                data[at] ^= *m;
            }
            Mutation::Delete(i) => {
                let at = i.index(data.len());
                data.remove(at);
            }
            Mutation::Truncate(i) => {
                let at = i.index(data.len());
                data.truncate(at);
            }
        }
    }
    data
}

/// Integers across every head length, including both ends of CBOR's range.
fn cbor_int() -> impl Strategy<Value = Value> {
    let edge: Vec<i128> = vec![
        0,
        1,
        23,
        24,
        255,
        256,
        65_535,
        65_536,
        u32::MAX as i128,
        u32::MAX as i128 + 1,
        i64::MAX as i128,
        u64::MAX as i128,
        -1,
        -24,
        -25,
        -256,
        -257,
        -65_536,
        -65_537,
        i64::MIN as i128,
        -(u64::MAX as i128),
        -(u64::MAX as i128) - 1,
    ];
    prop_oneof![
        prop::sample::select(edge),
        any::<u64>().prop_map(i128::from),
        any::<i64>().prop_map(i128::from),
        any::<u64>().prop_map(|n| -1 - i128::from(n)),
    ]
    .prop_map(|i| Value::Integer(Integer::try_from(i).unwrap()))
}

fn cbor_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        cbor_int(),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        ".{0,20}".prop_map(Value::Text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn cbor_key() -> impl Strategy<Value = Value> {
    prop_oneof![cbor_int(), "[a-zA-Z0-9é-]{0,12}".prop_map(Value::Text)]
}

/// CBOR values without floats or tags, nested at most four levels, with distinct map keys.
fn cbor_value() -> impl Strategy<Value = Value> {
    cbor_leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((cbor_key(), inner), 0..8).prop_map(|entries| {
                let mut seen = std::collections::HashSet::new();
                Value::Map(
                    entries
                        .into_iter()
                        .filter(|(k, _)| seen.insert(cbor::encode(k)))
                        .collect(),
                )
            }),
        ]
    })
}

// ---------------------------------------------------------------- 1–2. CBOR

fn cbor_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        cbor_ish_bytes(24),
        cbor_ish_bytes(512),
        cbor_tokens(12),
    ]
}

proptest! {
    #![proptest_config(cases(20000))]

    /// The decoder is total, and canonical input has exactly one encoding: whatever decodes
    /// re-encodes to the very same bytes.
    #[test]
    fn cbor_decode_is_total_and_canonical(input in cbor_input()) {
        if let Ok(v) = cbor::decode(&input) {
            prop_assert_eq!(cbor::encode(&v), input);
        }
    }

    /// The prefix decoder is total too, and what it consumed re-encodes exactly.
    #[test]
    fn cbor_decode_prefix_is_total_and_canonical(input in cbor_input()) {
        if let Ok((v, used)) = cbor::decode_prefix(&input) {
            prop_assert!(used <= input.len());
            prop_assert_eq!(cbor::encode(&v), &input[..used]);
        }
    }
}

proptest! {
    #![proptest_config(cases(4000))]

    /// Every float- and tag-free value survives encode → decode → encode unchanged.
    #[test]
    fn cbor_encode_decode_round_trip(v in cbor_value()) {
        let bytes = cbor::encode(&v);
        let decoded = cbor::decode(&bytes);
        prop_assert!(decoded.is_ok(), "{:?} does not decode: {:?}", bytes, decoded);
        prop_assert_eq!(cbor::encode(&decoded.unwrap()), bytes);
    }
}

// ---------------------------------------------------------------- 3. Authenticator::process

const RP: &str = "example.com";

fn mc_request(user: &[u8], alg: i64, rk: bool) -> mc::Request {
    mc::Request {
        client_data_hash: vec![7; 32],
        rp: RpEntity {
            id: RP.into(),
            name: Some("Example".into()),
        },
        user: UserEntity {
            id: user.to_vec(),
            name: Some("alice".into()),
            display_name: Some("Alice".into()),
        },
        pub_key_cred_params: vec![CredentialParameters {
            type_: "public-key".into(),
            alg,
        }],
        exclude_list: vec![],
        extensions: Extensions {
            hmac_secret: Some(true),
            cred_protect: Some(2),
            ..Extensions::default()
        },
        options: Options {
            rk: Some(rk),
            up: None,
            uv: Some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
        enterprise_attestation: None,
        attestation_formats_preference: None,
    }
}

fn message(command: u8, params: &Value) -> Vec<u8> {
    let mut m = vec![command];
    cbor::encode_into(params, &mut m);
    m
}

/// A store holding one discoverable ES256 and one non-discoverable EdDSA credential for
/// example.com, and the id of the first.
fn fixture_store() -> &'static (MemoryStore, Vec<u8>) {
    static STORE: OnceLock<(MemoryStore, Vec<u8>)> = OnceLock::new();
    STORE.get_or_init(|| {
        let mut auth = Authenticator::new(Config::default(), MemoryStore::new())
            .with_rng(seeded_rng(11))
            .with_clock(FixedClock::at(1_700_000_000_000));
        let first = auth
            .make_credential(mc_request(b"user-1", -7, true))
            .unwrap();
        auth.make_credential(mc_request(b"user-2", -8, false))
            .unwrap();
        let data = AuthenticatorData::parse(&first.auth_data).unwrap();
        let id = data.attested.unwrap().credential_id;
        (auth.into_store(), id)
    })
}

fn fixture_authenticator() -> Authenticator {
    Authenticator::new(Config::default(), fixture_store().0.clone())
        .with_rng(seeded_rng(12))
        .with_clock(FixedClock::at(1_700_000_100_000))
}

/// Valid messages of every command that takes parameters.
fn valid_messages() -> &'static Vec<Vec<u8>> {
    static MESSAGES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    MESSAGES.get_or_init(|| {
        let id = fixture_store().1.clone();
        let mut mc_full = mc_request(b"user-3", -7, true);
        mc_full.exclude_list = vec![CredentialDescriptor::public_key(vec![1; 32])];
        mc_full.attestation_formats_preference = Some(vec!["packed".into(), "none".into()]);
        let ga_allow = ga::Request {
            rp_id: RP.into(),
            client_data_hash: vec![9; 32],
            allow_list: vec![CredentialDescriptor::public_key(id)],
            hmac_secret: None,
            extensions: Default::default(),
            options: Options {
                rk: None,
                up: Some(true),
                uv: Some(true),
            },
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        };
        let ga_discoverable = ga::Request {
            allow_list: vec![],
            ..ga_allow.clone()
        };
        let ga_pin = ga::Request {
            pin_uv_auth_param: Some(vec![0; 16]),
            pin_uv_auth_protocol: Some(2),
            ..ga_discoverable.clone()
        };
        let pin = client_pin::Request {
            pin_uv_auth_protocol: Some(2),
            sub_command: client_pin::GET_KEY_AGREEMENT,
            ..Default::default()
        };
        vec![
            message(0x01, &mc_request(b"user-3", -7, true).to_cbor()),
            message(0x01, &mc_full.to_cbor()),
            message(0x02, &ga_allow.to_cbor()),
            message(0x02, &ga_discoverable.to_cbor()),
            message(0x02, &ga_pin.to_cbor()),
            message(0x06, &pin.to_cbor()),
        ]
    })
}

fn known_status_bytes() -> Vec<u8> {
    [
        StatusCode::InvalidCommand,
        StatusCode::InvalidParameter,
        StatusCode::InvalidLength,
        StatusCode::CborUnexpectedType,
        StatusCode::InvalidCbor,
        StatusCode::MissingParameter,
        StatusCode::LimitExceeded,
        StatusCode::CredentialExcluded,
        StatusCode::UnsupportedAlgorithm,
        StatusCode::OperationDenied,
        StatusCode::KeyStoreFull,
        StatusCode::UnsupportedOption,
        StatusCode::InvalidOption,
        StatusCode::KeepaliveCancel,
        StatusCode::NoCredentials,
        StatusCode::NotAllowed,
        StatusCode::PinAuthInvalid,
        StatusCode::PinNotSet,
        StatusCode::RequestTooLarge,
        StatusCode::InvalidSubcommand,
        StatusCode::Other,
    ]
    .iter()
    .map(|s| s.byte())
    .collect()
}

/// A response is a status byte; after 0x00 comes nothing or exactly one canonical CBOR item;
/// after an error status, nothing.
fn check_response(response: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(!response.is_empty(), "empty response");
    let status = response[0];
    if status == 0x00 {
        if response.len() > 1 {
            let body = cbor::decode(&response[1..]);
            prop_assert!(body.is_ok(), "non-canonical response body: {:?}", body);
        }
    } else {
        prop_assert!(
            known_status_bytes().contains(&status),
            "unknown status 0x{:02x}",
            status
        );
        prop_assert_eq!(response.len(), 1, "an error response carries a body");
    }
    Ok(())
}

/// Runs `message`, then getNextAssertion (which uses whatever state the first left behind).
fn process_and_follow(message: &[u8]) -> Result<(), TestCaseError> {
    let mut auth = fixture_authenticator();
    check_response(&auth.process(message))?;
    check_response(&auth.process(&[0x08]))?;
    Ok(())
}

proptest! {
    #![proptest_config(cases(4000))]

    #[test]
    fn process_is_total_on_arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..600)) {
        process_and_follow(&input)?;
    }

    #[test]
    fn process_is_total_on_mutated_valid_requests(
        which in any::<Index>(),
        edits in mutations(),
    ) {
        let messages = valid_messages();
        let base = messages[which.index(messages.len())].clone();
        process_and_follow(&apply(base, &edits))?;
    }
}

proptest! {
    #![proptest_config(cases(8000))]

    #[test]
    fn process_is_total_behind_every_command_byte(
        command in prop::sample::select(vec![0x01u8, 0x02, 0x04, 0x06, 0x08]),
        params in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            cbor_ish_bytes(300),
            cbor_value().prop_map(|v| cbor::encode(&v)),
        ],
    ) {
        let mut input = vec![command];
        input.extend_from_slice(&params);
        process_and_follow(&input)?;
    }
}

#[test]
fn valid_fixture_messages_succeed() {
    // The one with a pinUvAuthParam cannot verify: fauxkey never issues a PIN/UV token.
    let expected = [
        0x00,
        0x00,
        0x00,
        0x00,
        StatusCode::PinAuthInvalid.byte(),
        0x00,
    ];
    let messages = valid_messages();
    assert_eq!(messages.len(), expected.len());
    for (m, status) in messages.iter().zip(expected) {
        let mut auth = fixture_authenticator();
        let response = auth.process(m);
        assert_eq!(response[0], status, "command 0x{:02x}", m[0]);
    }
}

// ---------------------------------------------------------------- 4. authenticatorData

fn real_auth_data() -> &'static Vec<u8> {
    static DATA: OnceLock<Vec<u8>> = OnceLock::new();
    DATA.get_or_init(|| {
        let mut auth = fixture_authenticator();
        auth.make_credential(mc_request(b"user-9", -7, true))
            .unwrap()
            .auth_data
    })
}

/// rpIdHash ‖ flags ‖ counter ‖ a CBOR-ish or structured tail.
fn auth_data_like() -> impl Strategy<Value = Vec<u8>> {
    let tail = prop_oneof![
        1 => cbor_ish_bytes(80),
        1 => cbor_tokens(4),
        2 => cbor_token(),
        2 => (
            prop::option::of((
                any::<[u8; 16]>(),
                prop::collection::vec(any::<u8>(), 0..40),
                cbor_value(),
            )),
            prop::option::of(cbor_value()),
        )
            .prop_map(|(attested, ext)| {
                let mut out = Vec::new();
                if let Some((aaguid, id, key)) = attested {
                    out.extend_from_slice(&aaguid);
                    out.extend_from_slice(&(id.len() as u16).to_be_bytes());
                    out.extend_from_slice(&id);
                    cbor::encode_into(&key, &mut out);
                }
                if let Some(e) = ext {
                    cbor::encode_into(&e, &mut out);
                }
                out
            }),
    ];
    (any::<[u8; 32]>(), any::<u8>(), any::<u32>(), tail).prop_map(|(hash, flags, count, tail)| {
        let mut out = hash.to_vec();
        out.push(flags);
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(&tail);
        out
    })
}

proptest! {
    #![proptest_config(cases(20000))]

    /// Parsing is total and strict: whatever parses serializes back to the same bytes.
    #[test]
    fn auth_data_parse_is_total_and_exact(input in prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        2 => auth_data_like(),
        1 => mutations().prop_map(|edits| apply(real_auth_data().clone(), &edits)),
    ]) {
        if let Ok(data) = AuthenticatorData::parse(&input) {
            prop_assert_eq!(data.to_bytes(), input);
        }
    }
}

// ---------------------------------------------------------------- 5. vault

const PASS: &str = "property test passphrase";

/// (sealed file, plaintext payload) of a vault with two credentials.
fn sealed_vault() -> &'static (Vec<u8>, Vec<u8>) {
    static VAULT: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    VAULT.get_or_init(|| {
        let auth = fixture_authenticator();
        let creds: Vec<_> = auth.store().all().collect();
        assert_eq!(creds.len(), 2);
        let plain = payload::encode(auth.config(), &creds, &auth.store().events()).to_vec();
        let mut rng = seeded_rng(21);
        let pass = Passphrase::new(PASS).unwrap();
        let keys = VaultKeys::generate(&pass, KdfParams::INSECURE_FAST, rng.as_mut()).unwrap();
        let file = format::seal(&keys, &plain, rng.as_mut()).unwrap();
        (file, plain)
    })
}

#[test]
fn sealed_vault_fixture_opens() {
    let (file, plain) = sealed_vault();
    let (_, opened) = format::open(file, &Passphrase::new(PASS).unwrap()).unwrap();
    assert_eq!(opened.as_slice(), plain.as_slice());
    assert_eq!(payload::decode(plain).unwrap().credentials.len(), 2);
}

proptest! {
    #![proptest_config(cases(4000))]

    /// No edit of a sealed file panics the reader, and none is accepted: AES-GCM (and the header
    /// checksum before it) must refuse every file that is not byte-for-byte the sealed one.
    #[test]
    fn vault_open_refuses_every_mutation(edits in mutations()) {
        let (file, _) = sealed_vault();
        let mutated = apply(file.clone(), &edits);
        let pass = Passphrase::new(PASS).unwrap();
        if let Ok((_, plain)) = format::open(&mutated, &pass) {
            prop_assert_eq!(&mutated, file, "a modified vault file was accepted");
            prop_assert!(payload::decode(&plain).is_ok());
        }
    }
}

proptest! {
    #![proptest_config(cases(10000))]

    /// The payload decoder is total, on arbitrary bytes and on edits of a real payload.
    #[test]
    fn payload_decode_is_total(input in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        cbor_ish_bytes(256),
        mutations().prop_map(|edits| apply(sealed_vault().1.clone(), &edits)),
    ]) {
        let _ = payload::decode(&input);
    }
}

// ---------------------------------------------------------------- 6. client JSON

const ORIGIN: &str = "https://example.com";

fn creation_json() -> String {
    serde_json::json!({
        "rp": {"id": RP, "name": "Example"},
        "user": {"id": b64url::encode(b"user-7"), "name": "bob", "displayName": "Bob"},
        "challenge": b64url::encode(b"registration challenge"),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -8}],
        "excludeCredentials": [{"type": "public-key", "id": "AAAA", "transports": ["usb"]}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
        "attestation": "direct",
        "extensions": {"credProps": true, "prf": {"eval": {"first": "AQID"}}}
    })
    .to_string()
}

fn request_json() -> String {
    serde_json::json!({
        "challenge": b64url::encode(b"authentication challenge"),
        "rpId": RP,
        "allowCredentials": [{"type": "public-key", "id": b64url::encode(&fixture_store().1)}],
        "userVerification": "required",
        "extensions": {"prf": {"eval": {"first": "AQID", "second": "BAUG"}}}
    })
    .to_string()
}

fn fixture_client() -> Client {
    Client::new(fixture_authenticator()).with_rng(seeded_rng(13))
}

fn mutated_text(base: String, edits: &[Mutation]) -> String {
    String::from_utf8_lossy(&apply(base.into_bytes(), edits)).into_owned()
}

/// Origin strings: arbitrary text, URL-ish text, and well-formed https origins.
fn origin_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "(https?|ftp|data|file|null)(:|://)[a-zA-Z0-9.:/@\\[\\]%-]{0,30}",
        "https://([a-z]{1,8}\\.){0,3}(com|example|co\\.uk|github\\.io|localhost)(:[0-9]{1,5})?",
        Just(ORIGIN.to_owned()),
    ]
}

#[test]
fn client_fixture_options_succeed() {
    let mut client = fixture_client();
    client.create(ORIGIN, &creation_json()).unwrap();
    client.get(ORIGIN, &request_json()).unwrap();
}

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn options_parsers_are_total(input in prop_oneof![
        ".{0,200}",
        "[{}\\[\\]\":,a-zA-Z0-9 ]{0,200}",
        mutations().prop_map(|e| mutated_text(creation_json(), &e)),
        mutations().prop_map(|e| mutated_text(request_json(), &e)),
    ]) {
        let _ = parse_creation_options(&input);
        let _ = parse_request_options(&input);
    }
}

proptest! {
    #![proptest_config(cases(1500))]

    #[test]
    fn client_create_is_total_on_arbitrary_origins(origin in origin_string()) {
        let mut client = fixture_client();
        let _ = client.create(&origin, &creation_json());
        let _ = client.get(&origin, &request_json());
    }

    #[test]
    fn client_is_total_on_mutated_options(edits in mutations()) {
        let mut client = fixture_client();
        let _ = client.create(ORIGIN, &mutated_text(creation_json(), &edits));
        let _ = client.get(ORIGIN, &mutated_text(request_json(), &edits));
    }
}

// ---------------------------------------------------------------- 7. origins and RP IDs

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z]{1,5}", 1..4).prop_map(|labels| labels.join("."))
}

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn caller_origin_parse_is_total(input in origin_string()) {
        if let Ok(origin) = CallerOrigin::parse(&input) {
            let _ = validate_rp_id(&origin, None, &NoRelatedOrigins);
            let _ = validate_rp_id(&origin, Some(&input), &NoRelatedOrigins);
        }
    }

    /// An RP ID is accepted only when it is the host or a suffix of it on a label boundary.
    #[test]
    fn rp_id_must_be_host_or_label_suffix(
        host in domain(),
        (rp, how) in prop_oneof![
            domain().prop_map(|d| (d, "random")),
            Just((String::new(), "host")),
            Just((String::new(), "suffix")),
            Just((String::new(), "evil")),
        ],
        cut in any::<Index>(),
    ) {
        let labels: Vec<&str> = host.split('.').collect();
        let suffix = labels[cut.index(labels.len())..].join(".");
        let rp = match how {
            "host" => host.clone(),
            "suffix" => suffix,
            "evil" => format!("evil{suffix}"),
            _ => rp,
        };
        let origin = CallerOrigin::parse(&format!("https://{host}")).unwrap();
        if let Ok(chosen) = validate_rp_id(&origin, Some(&rp), &NoRelatedOrigins) {
            prop_assert!(
                host == rp || host.ends_with(&format!(".{rp}")),
                "host {} may not claim rpId {}",
                host,
                rp
            );
            prop_assert_eq!(chosen, rp);
        }
    }
}

// ---------------------------------------------------------------- 8. base64url

proptest! {
    #![proptest_config(cases(5000))]

    #[test]
    fn b64url_round_trips_without_padding(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = b64url::encode(&bytes);
        prop_assert!(!text.contains(['=', '+', '/']), "{}", text);
        prop_assert_eq!(b64url::decode(&text).unwrap(), bytes);
    }
}

// ---------------------------------------------------------------- 9. response JSON writer

/// Text that often needs a JSON escape: quotes, backslashes, every control character, DEL, `/`,
/// and multi-byte characters next to them.
fn json_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[A-Za-z0-9_-]{0,8}",
            1 => Just("\"".to_owned()),
            1 => Just("\\".to_owned()),
            1 => Just("/\u{7f}é\u{2028}😀".to_owned()),
            2 => (0u8..0x20).prop_map(|b| char::from(b).to_string()),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

fn extension_results() -> impl Strategy<Value = ClientExtensionResultsJson> {
    let prf_values = (json_text(), proptest::option::of(json_text()))
        .prop_map(|(first, second)| PrfValuesJson { first, second });
    let prf = (
        proptest::option::of(any::<bool>()),
        proptest::option::of(prf_values),
    )
        .prop_map(|(enabled, results)| PrfOutputJson { enabled, results });
    let large_blob = (
        proptest::option::of(any::<bool>()),
        proptest::option::of(json_text()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(supported, blob, written)| LargeBlobOutputJson {
            supported,
            blob,
            written,
        });
    (
        proptest::option::of(any::<bool>().prop_map(|rk| CredPropsJson { rk })),
        proptest::option::of(prf),
        proptest::option::of(large_blob),
        proptest::option::of(any::<bool>()),
        proptest::option::of(json_text()),
    )
        .prop_map(|(cred_props, prf, large_blob, cred_blob, get_cred_blob)| {
            ClientExtensionResultsJson {
                cred_props,
                prf,
                large_blob,
                cred_blob,
                get_cred_blob,
            }
        })
}

proptest! {
    #![proptest_config(cases(2000))]

    /// `to_json` is serde_json's own text for the same value, byte for byte, whatever the
    /// strings hold and whichever optional members are present.
    #[test]
    fn authentication_response_to_json_is_serde_jsons_text(
        text in prop::collection::vec(json_text(), 8),
        user_handle in proptest::option::of(json_text()),
        attachment in proptest::option::of(json_text()),
        results in extension_results(),
    ) {
        let response = AuthenticationResponseJson {
            id: text[0].clone(),
            raw_id: text[1].clone(),
            response: AssertionResponseJson {
                client_data_json: text[2].clone(),
                authenticator_data: text[3].clone(),
                signature: text[4].clone(),
                user_handle,
            },
            authenticator_attachment: attachment,
            client_extension_results: results,
            type_: text[5].clone(),
        };
        prop_assert_eq!(response.to_json(), serde_json::to_string(&response).unwrap());
    }

    #[test]
    fn registration_response_to_json_is_serde_jsons_text(
        text in prop::collection::vec(json_text(), 8),
        transports in prop::collection::vec(json_text(), 0..4),
        public_key in proptest::option::of(json_text()),
        algorithm in any::<i64>(),
        attachment in proptest::option::of(json_text()),
        results in extension_results(),
    ) {
        let response = RegistrationResponseJson {
            id: text[0].clone(),
            raw_id: text[1].clone(),
            response: AttestationResponseJson {
                client_data_json: text[2].clone(),
                authenticator_data: text[3].clone(),
                transports,
                public_key,
                public_key_algorithm: algorithm,
                attestation_object: text[4].clone(),
            },
            authenticator_attachment: attachment,
            client_extension_results: results,
            type_: text[5].clone(),
        };
        prop_assert_eq!(response.to_json(), serde_json::to_string(&response).unwrap());
    }
}

// ---------------------------------------------------------------- 10. get()'s borrowed options

/// A value for a request option member: the right type or a wrong one, with escapes, nulls,
/// and the allowed credential's id (plain or escaped).
fn option_value() -> impl Strategy<Value = String> {
    let id = b64url::encode(&fixture_store().1);
    let escaped_id = format!("\\u00{:02x}{}", id.as_bytes()[0], &id[1..]);
    prop_oneof![
        Just("\"AAECAwQFBgcICQoLDA0ODw\"".to_owned()),
        Just("\"AAEC\\u0041wQF\"".to_owned()),
        Just(format!("\"{RP}\"")),
        Just("\"required\"".to_owned()),
        Just("\"discouraged\"".to_owned()),
        Just("null".to_owned()),
        Just("5".to_owned()),
        Just("-1".to_owned()),
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("[\"client-device\", \"hybrid\"]".to_owned()),
        Just(format!("[{{\"type\":\"public-key\",\"id\":\"{id}\"}}]")),
        Just(format!(
            "[{{\"type\":\"public-key\",\"id\":\"{escaped_id}\"}}]"
        )),
        Just(format!(
            "[{{\"type\":\"public-key\",\"id\":\"{id}\",\"transports\":[\"usb\"]}}]"
        )),
        Just(format!(
            "[{{\"type\":\"public-key\",\"id\":\"{id}\",\"transports\":7}}]"
        )),
        Just(format!("[{{\"type\":\"other\",\"id\":\"{id}\"}}]")),
        Just("[{\"type\":\"public-key\"}]".to_owned()),
        Just("{\"prf\":{\"eval\":{\"first\":\"AQID\"}}}".to_owned()),
        Just("{\"getCredBlob\":true}".to_owned()),
        Just("{\"largeBlob\":{\"read\":true}}".to_owned()),
        Just("{\"unknownExtension\":{}}".to_owned()),
        Just("{}".to_owned()),
    ]
}

/// A request option member: mostly a value of its own type (right or wrong for the ceremony,
/// plain or escaped), sometimes any value at all.
fn request_member() -> impl Strategy<Value = (String, String)> {
    let id = b64url::encode(&fixture_store().1);
    let list = |values: &[&str]| {
        proptest::sample::select(values.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>())
    };
    let own = prop_oneof![
        list(&["\"AAECAwQFBgcICQoLDA0ODw\"", "\"AAEC\\u0041wQF\"", "\"not base64!\""])
            .prop_map(|v| ("challenge".to_owned(), v)),
        list(&[&format!("\"{RP}\""), "\"other.example\"", "null", "\"\\u0065xample.com\""])
            .prop_map(|v| ("rpId".to_owned(), v)),
        list(&[
            "[]",
            "null",
            &format!("[{{\"type\":\"public-key\",\"id\":\"{id}\"}}]"),
            &format!("[{{\"type\":\"public-key\",\"id\":\"{id}\",\"transports\":[\"usb\"]}}]"),
            &format!("[{{\"type\":\"other\",\"id\":\"{id}\"}}, {{\"type\":\"public-key\",\"id\":\"AQID\"}}]"),
        ])
        .prop_map(|v| ("allowCredentials".to_owned(), v)),
        list(&["\"required\"", "\"preferred\"", "\"discouraged\"", "\"bogus\"", "null"])
            .prop_map(|v| ("userVerification".to_owned(), v)),
        list(&["[]", "null", "[\"hybrid\"]"]).prop_map(|v| ("hints".to_owned(), v)),
        list(&["60000", "0", "null", "-1", "1.5", "1e3"]).prop_map(|v| ("timeout".to_owned(), v)),
        list(&["{}", "{\"getCredBlob\":true}", "{\"prf\":{\"eval\":{\"first\":\"AQID\"}}}"])
            .prop_map(|v| ("extensions".to_owned(), v)),
    ];
    let key = prop_oneof![
        Just("challenge"),
        Just("rpId"),
        Just("allowCredentials"),
        Just("userVerification"),
        Just("hints"),
        Just("timeout"),
        Just("extensions"),
        Just("publicKey"),
        Just("somethingElse"),
        Just("rp\\u0049d"),
    ];
    let any_value = (key, option_value()).prop_map(|(k, v)| (k.to_owned(), v));
    prop_oneof![3 => own, 1 => any_value]
}

proptest! {
    #![proptest_config(cases(1500))]

    /// `get()` parses its options into a borrowed form; whatever the options, it answers what
    /// `get_with()` answers for the same text parsed by `parse_request_options`: the same
    /// response, or the same error.
    #[test]
    fn get_answers_as_get_with_on_parsed_options(
        members in prop::collection::vec(request_member(), 0..7),
        with_challenge in any::<bool>(),
    ) {
        let mut members = members;
        if with_challenge {
            members.insert(0, ("challenge".into(), "\"AAECAwQFBgcICQoLDA0ODw\"".into()));
        }
        let text = format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("\"{k}\":{v}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let direct = fixture_client().get(ORIGIN, &text);
        let origin = CallerOrigin::parse(ORIGIN).unwrap();
        let parsed = parse_request_options(&text)
            .and_then(|options| fixture_client().get_with(&origin, &options));
        match (direct, parsed) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "{}", text),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string(), "{}", text),
            (a, b) => prop_assert!(false, "{}: get {:?}, get_with {:?}", text, a, b),
        }
    }
}
