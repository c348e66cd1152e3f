//! CTAP2 byte-boundary tests: `Authenticator::process` takes `command ‖ canonical CBOR` and
//! returns `status ‖ canonical CBOR`. Every error is asserted as the exact one-byte response,
//! and successful responses are checked byte for byte where they are deterministic.
#![allow(clippy::unwrap_used)]

use ciborium::value::Value;
use fauxkey::authenticator::{AttestationMode, CounterPolicy};
use fauxkey::cbor::{self, decode, encode};
use fauxkey::crypto::keys::{Algorithm, PublicKey};
use fauxkey::crypto::pin_protocol::{KeyAgreementKey, PinProtocol, SharedSecret};
use fauxkey::ctap2::auth_data::{AuthenticatorData, Flags};
use fauxkey::ctap2::{client_pin, get_assertion, get_info, make_credential};
use fauxkey::env::{self, FixedClock, Presence, SimulatedUser, Verification};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::{Authenticator, Config, FAUXKEY_AAGUID};
use sha2::{Digest, Sha256};

// ---- command bytes and status codes (CTAP 2.1 §6, §8.2) ----

const CMD_MC: u8 = 0x01;
const CMD_GA: u8 = 0x02;
const CMD_INFO: u8 = 0x04;
const CMD_PIN: u8 = 0x06;
const CMD_NEXT: u8 = 0x08;

const OK: u8 = 0x00;
const INVALID_COMMAND: u8 = 0x01;
const INVALID_PARAMETER: u8 = 0x02;
const INVALID_LENGTH: u8 = 0x03;
const CBOR_UNEXPECTED_TYPE: u8 = 0x11;
const INVALID_CBOR: u8 = 0x12;
const MISSING_PARAMETER: u8 = 0x14;
const CREDENTIAL_EXCLUDED: u8 = 0x19;
const UNSUPPORTED_ALGORITHM: u8 = 0x26;
const OPERATION_DENIED: u8 = 0x27;
const UNSUPPORTED_OPTION: u8 = 0x2B;
const INVALID_OPTION: u8 = 0x2C;
const NO_CREDENTIALS: u8 = 0x2E;
const NOT_ALLOWED: u8 = 0x30;
const PIN_AUTH_INVALID: u8 = 0x33;
const PIN_NOT_SET: u8 = 0x35;
const REQUEST_TOO_LARGE: u8 = 0x39;
const INVALID_SUBCOMMAND: u8 = 0x3E;

const T0: u64 = 1_700_000_000_000;
const RP: &str = "example.com";
const CDH: [u8; 32] = [0x11; 32];
const GA_CDH: [u8; 32] = [0x22; 32];
const USER_ID: &[u8] = &[1, 2, 3, 4];

// ---- CBOR helpers ----

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

fn txt(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn bstr(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

fn tmap(entries: &[(&str, Value)]) -> Value {
    cbor::map(entries.iter().map(|(k, v)| (*k, v.clone())))
}

fn rp(id: &str) -> Value {
    tmap(&[("id", txt(id)), ("name", txt("Example"))])
}

fn user(id: &[u8]) -> Value {
    tmap(&[
        ("id", bstr(id)),
        ("name", txt("alice")),
        ("displayName", txt("Alice")),
    ])
}

fn algs(ids: &[i64]) -> Value {
    Value::Array(
        ids.iter()
            .map(|a| tmap(&[("alg", int(*a)), ("type", txt("public-key"))]))
            .collect(),
    )
}

fn opts(o: &[(&str, bool)]) -> Value {
    cbor::map(o.iter().map(|(k, v)| (*k, Value::Bool(*v))))
}

fn descs(ids: &[&[u8]]) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| tmap(&[("id", bstr(id)), ("type", txt("public-key"))]))
            .collect(),
    )
}

/// Replaces the single occurrence of `needle` in `hay` (panics unless there is exactly one).
fn replace_once(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let hits: Vec<usize> = (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "needle {} must occur exactly once",
        hex::encode(needle)
    );
    let i = hits[0];
    [&hay[..i], with, &hay[i + needle.len()..]].concat()
}

/// A request parameter map with integer keys; `encode` sorts it canonically.
#[derive(Clone)]
struct Params(Vec<(i64, Value)>);

impl Params {
    fn set(mut self, key: i64, value: Value) -> Self {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
        self
    }

    fn without(mut self, key: i64) -> Self {
        self.0.retain(|(k, _)| *k != key);
        self
    }

    fn value(&self) -> Value {
        cbor::map(self.0.iter().cloned())
    }

    fn msg(&self, command: u8) -> Vec<u8> {
        [vec![command], encode(&self.value())].concat()
    }

    fn mc(&self) -> Vec<u8> {
        self.msg(CMD_MC)
    }

    fn ga(&self) -> Vec<u8> {
        self.msg(CMD_GA)
    }
}

/// A minimal valid makeCredential: ES256, non-discoverable.
fn mc() -> Params {
    Params(vec![
        (1, bstr(&CDH)),
        (2, rp(RP)),
        (3, user(USER_ID)),
        (4, algs(&[-7])),
    ])
}

/// makeCredential for a discoverable credential of `user_id`.
fn mc_rk(user_id: &[u8]) -> Params {
    mc().set(3, user(user_id)).set(7, opts(&[("rk", true)]))
}

/// A minimal valid getAssertion without an allow list.
fn ga() -> Params {
    Params(vec![(1, txt(RP)), (2, bstr(&GA_CDH))])
}

fn ga_allow(ids: &[&[u8]]) -> Params {
    ga().set(3, descs(ids))
}

fn pin_msg(entries: &[(i64, Value)]) -> Vec<u8> {
    [vec![CMD_PIN], encode(&cbor::map(entries.iter().cloned()))].concat()
}

// ---- the authenticator under test ----

struct Rig {
    a: Authenticator,
    clock: FixedClock,
}

struct Made {
    id: Vec<u8>,
    auth_data: AuthenticatorData,
    raw_auth_data: Vec<u8>,
    key: PublicKey,
    response: make_credential::Response,
    raw: Vec<u8>,
}

struct Got {
    response: get_assertion::Response,
    auth_data: AuthenticatorData,
    map: Vec<(Value, Value)>,
    raw: Vec<u8>,
}

fn user_with(presence: Presence, verification: Verification) -> SimulatedUser {
    SimulatedUser {
        presence,
        verification,
        account: None,
    }
}

fn rig() -> Rig {
    Rig::new(Config::default(), SimulatedUser::default(), 1)
}

fn rig_user(u: SimulatedUser) -> Rig {
    Rig::new(Config::default(), u, 1)
}

fn rig_config(c: Config) -> Rig {
    Rig::new(c, SimulatedUser::default(), 1)
}

impl Rig {
    fn new(config: Config, user: SimulatedUser, seed: u64) -> Self {
        let clock = FixedClock::at(T0);
        let a = Authenticator::new(config, MemoryStore::new())
            .with_rng(env::seeded_rng(seed))
            .with_clock(clock.clone())
            .with_user(user);
        Self { a, clock }
    }

    fn call(&mut self, msg: &[u8]) -> Vec<u8> {
        self.a.process(msg)
    }

    /// Asserts the response is exactly the one status byte `code`.
    fn err(&mut self, msg: &[u8], code: u8, what: &str) {
        let r = self.call(msg);
        assert_eq!(
            r,
            vec![code],
            "{what}: expected status 0x{code:02X}, got {}",
            hex::encode(&r)
        );
    }

    /// Asserts success and canonical encoding; returns the response map.
    fn ok(&mut self, msg: &[u8], what: &str) -> (Vec<(Value, Value)>, Vec<u8>) {
        let r = self.call(msg);
        assert!(
            !r.is_empty() && r[0] == OK,
            "{what}: expected success, got {}",
            hex::encode(&r)
        );
        let v = decode(&r[1..])
            .unwrap_or_else(|e| panic!("{what}: response is not canonical CBOR: {e}"));
        assert_eq!(encode(&v), r[1..], "{what}: response must be canonical");
        match v {
            Value::Map(m) => (m, r),
            other => panic!("{what}: response is not a map: {other:?}"),
        }
    }

    fn make(&mut self, p: &Params) -> Made {
        let (m, raw) = self.ok(&p.mc(), "makeCredential");
        let response = make_credential::Response::from_cbor(&m).unwrap();
        let auth_data = AuthenticatorData::parse(&response.auth_data).unwrap();
        let att = auth_data
            .attested
            .clone()
            .expect("AT data in makeCredential");
        let key = PublicKey::from_cose(&decode(&att.public_key_cose).unwrap()).unwrap();
        Made {
            id: att.credential_id,
            raw_auth_data: response.auth_data.clone(),
            auth_data,
            key,
            response,
            raw,
        }
    }

    fn get_msg(&mut self, msg: &[u8], what: &str) -> Got {
        let (map, raw) = self.ok(msg, what);
        let response = get_assertion::Response::from_cbor(&map).unwrap();
        let auth_data = AuthenticatorData::parse(&response.auth_data).unwrap();
        assert!(
            auth_data.attested.is_none(),
            "{what}: no AT in an assertion"
        );
        Got {
            response,
            auth_data,
            map,
            raw,
        }
    }

    fn get(&mut self, p: &Params) -> Got {
        self.get_msg(&p.ga(), "getAssertion")
    }

    fn next(&mut self) -> Got {
        self.get_msg(&[CMD_NEXT], "getNextAssertion")
    }

    fn key_agreement(&mut self) -> Value {
        let (m, _) = self.ok(&pin_msg(&[(1, int(2)), (2, int(2))]), "getKeyAgreement");
        client_pin::KeyAgreementResponse::from_cbor(&m)
            .unwrap()
            .key_agreement
    }
}

fn has_key(m: &[(Value, Value)], key: i64) -> bool {
    m.iter().any(|(k, _)| *k == int(key))
}

// =====================================================================================
// Framing and command errors
// =====================================================================================

#[test]
fn framing_errors_give_exact_status_bytes() {
    let mut r = rig();
    let cases: Vec<(&str, Vec<u8>, u8)> = vec![
        ("empty message", vec![], INVALID_LENGTH),
        ("unknown command 0x55", vec![0x55], INVALID_COMMAND),
        (
            "unknown command 0x55 with a CBOR map",
            vec![0x55, 0xa0],
            INVALID_COMMAND,
        ),
        (
            "unimplemented bioEnrollment 0x09",
            vec![0x09],
            INVALID_COMMAND,
        ),
        ("unimplemented largeBlobs 0x0C", vec![0x0C], INVALID_COMMAND),
        (
            "reset with a trailing byte",
            vec![0x07, 0xa0],
            INVALID_LENGTH,
        ),
        (
            "selection with a trailing byte",
            vec![0x0B, 0x00],
            INVALID_LENGTH,
        ),
        (
            "credentialManagement params null",
            vec![0x0A, 0xf6],
            CBOR_UNEXPECTED_TYPE,
        ),
        ("command 0x00", vec![0x00], INVALID_COMMAND),
        ("command 0xFF", vec![0xFF], INVALID_COMMAND),
        (
            "getInfo with a trailing byte",
            vec![CMD_INFO, 0x00],
            INVALID_LENGTH,
        ),
        (
            "getInfo with an empty map",
            vec![CMD_INFO, 0xa0],
            INVALID_LENGTH,
        ),
        (
            "getNextAssertion with a trailing byte",
            vec![CMD_NEXT, 0xa0],
            INVALID_LENGTH,
        ),
        (
            "makeCredential params an array",
            vec![CMD_MC, 0x80],
            CBOR_UNEXPECTED_TYPE,
        ),
        (
            "makeCredential params an integer",
            vec![CMD_MC, 0x01],
            CBOR_UNEXPECTED_TYPE,
        ),
        (
            "getAssertion params a byte string",
            vec![CMD_GA, 0x41, 0x00],
            CBOR_UNEXPECTED_TYPE,
        ),
        (
            "clientPIN params null",
            vec![CMD_PIN, 0xf6],
            CBOR_UNEXPECTED_TYPE,
        ),
        (
            "getNextAssertion with nothing pending",
            vec![CMD_NEXT],
            NOT_ALLOWED,
        ),
    ];
    for (what, msg, code) in cases {
        r.err(&msg, code, what);
    }
}

#[test]
fn malformed_cbor_is_invalid_cbor() {
    let mut r = rig();
    let valid = mc().mc();

    // Trailing bytes after the parameter map.
    r.err(
        &[valid.as_slice(), &[0x00]].concat(),
        INVALID_CBOR,
        "trailing byte",
    );
    r.err(
        &[valid.as_slice(), &valid[1..]].concat(),
        INVALID_CBOR,
        "two maps",
    );

    // Invalid UTF-8 in rp.id (62 c3 28: a two-byte text string that is not UTF-8).
    let marked = mc().set(2, tmap(&[("id", txt("zz"))])).mc();
    let bad = replace_once(&marked, &[0x62, b'z', b'z'], &[0x62, 0xc3, 0x28]);
    r.err(&bad, INVALID_CBOR, "invalid UTF-8 in rp.id");
    // ... in a map key of the options.
    let marked = mc().set(7, opts(&[("qq", true)])).mc();
    let bad = replace_once(&marked, &[0x62, b'q', b'q'], &[0x62, 0xff, 0xfe]);
    r.err(&bad, INVALID_CBOR, "invalid UTF-8 in an option key");
    // ... in getAssertion's rpId.
    let marked = ga().set(1, txt("zz")).ga();
    let bad = replace_once(&marked, &[0x62, b'z', b'z'], &[0x62, 0xc3, 0x28]);
    r.err(&bad, INVALID_CBOR, "invalid UTF-8 in rpId");

    // Indefinite-length map and byte string.
    r.err(&[CMD_MC, 0xbf, 0xff], INVALID_CBOR, "indefinite map");
    r.err(
        &[CMD_GA, 0xa1, 0x02, 0x5f, 0x41, 0x00, 0xff],
        INVALID_CBOR,
        "indefinite bytes",
    );
    // Reserved additional information.
    r.err(&[CMD_MC, 0xbc], INVALID_CBOR, "reserved additional info");
}

#[test]
fn every_truncation_of_a_valid_request_is_invalid_cbor() {
    for (what, valid) in [
        ("makeCredential", mc().mc()),
        ("getAssertion", ga_allow(&[&[9; 16]]).ga()),
    ] {
        let mut r = rig();
        for cut in 1..valid.len() {
            r.err(
                &valid[..cut],
                INVALID_CBOR,
                &format!("{what} cut to {cut} bytes"),
            );
        }
    }
}

/// Encoded (key, value) pairs of the default makeCredential, in canonical order.
fn mc_pairs() -> Vec<(Vec<u8>, Vec<u8>)> {
    mc().0
        .iter()
        .map(|(k, v)| (encode(&int(*k)), encode(v)))
        .collect()
}

fn raw_map(pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    assert!(pairs.len() < 24);
    let mut out = vec![CMD_MC, 0xa0 | pairs.len() as u8];
    for (k, v) in pairs {
        out.extend_from_slice(k);
        out.extend_from_slice(v);
    }
    out
}

#[test]
fn non_canonical_cbor_is_invalid_cbor() {
    let mut r = rig();
    let canonical = mc_pairs();
    // The hand-built canonical form is accepted, and is what `encode` produces.
    assert_eq!(raw_map(&canonical), mc().mc());
    r.ok(&raw_map(&canonical), "hand-built canonical makeCredential");

    let mut swapped = canonical.clone();
    swapped.swap(0, 1);
    r.err(
        &raw_map(&swapped),
        INVALID_CBOR,
        "top-level keys 2 before 1",
    );

    let mut dup = canonical.clone();
    dup[1].0 = vec![0x01];
    r.err(&raw_map(&dup), INVALID_CBOR, "duplicate key 1");

    let mut long_key = canonical.clone();
    long_key[0].0 = vec![0x18, 0x01];
    r.err(&raw_map(&long_key), INVALID_CBOR, "key 1 as 18 01");

    let mut long_len = canonical.clone();
    long_len[0].1 = [&[0x59, 0x00, 0x20][..], &CDH].concat();
    r.err(
        &raw_map(&long_len),
        INVALID_CBOR,
        "clientDataHash length as 59 0020",
    );

    let mut long_neg = canonical.clone();
    long_neg[3].1 = replace_once(&long_neg[3].1, &[0x26], &[0x38, 0x06]);
    r.err(&raw_map(&long_neg), INVALID_CBOR, "alg -7 as 38 06");

    // Nested map with text keys out of order: rp {"name", "id"}.
    let mut rp_unsorted = canonical.clone();
    rp_unsorted[1].1 = [
        &[0xa2, 0x64][..],
        b"name",
        &[0x61, b'x', 0x62],
        b"id",
        &[0x62, b'a', b'b'],
    ]
    .concat();
    r.err(
        &raw_map(&rp_unsorted),
        INVALID_CBOR,
        "rp keys name before id",
    );
    // ... and the same map sorted is accepted.
    let mut rp_sorted = canonical.clone();
    rp_sorted[1].1 = [
        &[0xa2, 0x62][..],
        b"id",
        &[0x62, b'a', b'b', 0x64],
        b"name",
        &[0x61, b'x'],
    ]
    .concat();
    r.ok(&raw_map(&rp_sorted), "rp keys id before name");
}

/// CTAP2 canonical CBOR (CTAP 2.0 §6 / 2.1 §8 "Message Encoding"): "Tags as defined in
/// Section 2.4 in [RFC7049] MUST NOT be present." A tag anywhere is malformed input.
#[test]
fn cbor_tags_are_invalid_cbor() {
    let mut r = rig();
    let tag = |t: u64, v: Value| Value::Tag(t, Box::new(v));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "tagged clientDataHash",
            mc().set(1, tag(24, bstr(&CDH))).mc(),
        ),
        (
            "tag inside an unknown extension",
            mc().set(6, tmap(&[("fooExt", tag(1, int(0)))])).mc(),
        ),
        (
            "tag inside an unknown option",
            ga_allow(&[&[1; 16]])
                .set(5, tmap(&[("foo", tag(55799, Value::Bool(true)))]))
                .ga(),
        ),
        (
            "self-described CBOR tag around the map",
            [vec![CMD_MC, 0xd9, 0xd9, 0xf7], encode(&mc().value())].concat(),
        ),
    ];
    for (what, msg) in cases {
        r.err(&msg, INVALID_CBOR, what);
    }
    assert_eq!(r.a.store().len(), 0);
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(int(1), |v, _| Value::Array(vec![v]))
}

#[test]
fn nesting_limit_is_exact() {
    // Top map depth 0, extensions map depth 1, arrays from depth 2: 14 arrays put the innermost
    // integer at depth 16 (the limit, accepted), 15 arrays put it at 17.
    let mut r = rig();
    let ok = mc().set(6, tmap(&[("deep", nested(14))])).mc();
    let made = r.make(&mc().set(6, tmap(&[("deep", nested(14))])));
    assert!(
        !made.auth_data.flags.has(Flags::ED),
        "an unknown extension has no output"
    );
    r.ok(&ok, "14 nested arrays in an unknown extension");
    let too_deep = mc().set(6, tmap(&[("deep", nested(15))])).mc();
    r.err(&too_deep, INVALID_CBOR, "15 nested arrays");
    let very_deep = mc().set(6, tmap(&[("deep", nested(200))])).mc();
    r.err(&very_deep, INVALID_CBOR, "200 nested arrays");
}

fn mc_of_len(total: usize) -> Vec<u8> {
    let with_name = |n: usize| {
        mc().set(2, tmap(&[("id", txt(RP)), ("name", txt(&"x".repeat(n)))]))
            .mc()
    };
    let overhead = with_name(1000).len() - 1000;
    let msg = with_name(total - overhead);
    assert_eq!(msg.len(), total);
    msg
}

#[test]
fn message_size_limit_is_7609_bytes() {
    let mut r = rig();
    r.ok(&mc_of_len(7609), "makeCredential of exactly 7609 bytes");
    r.err(
        &mc_of_len(7610),
        REQUEST_TOO_LARGE,
        "makeCredential of 7610 bytes",
    );
    r.err(
        &mc_of_len(9000),
        REQUEST_TOO_LARGE,
        "makeCredential of 9000 bytes",
    );
    // The size is checked before anything else, even the command byte.
    r.err(
        &vec![0x55; 7610],
        REQUEST_TOO_LARGE,
        "7610 bytes of an unknown command",
    );
    r.err(
        &vec![CMD_INFO; 7610],
        REQUEST_TOO_LARGE,
        "7610 bytes of getInfo",
    );
}

// =====================================================================================
// Parameter errors
// =====================================================================================

#[test]
fn missing_parameters_are_missing_parameter() {
    let mut r = rig();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("MC without clientDataHash", mc().without(1).mc()),
        ("MC without rp", mc().without(2).mc()),
        ("MC without user", mc().without(3).mc()),
        ("MC without pubKeyCredParams", mc().without(4).mc()),
        ("MC empty map", vec![CMD_MC, 0xa0]),
        (
            "MC rp without id",
            mc().set(2, tmap(&[("name", txt("x"))])).mc(),
        ),
        (
            "MC user without id",
            mc().set(3, tmap(&[("name", txt("x"))])).mc(),
        ),
        (
            "MC param without alg",
            mc().set(4, Value::Array(vec![tmap(&[("type", txt("public-key"))])]))
                .mc(),
        ),
        (
            "MC excludeList entry without id",
            mc().set(5, Value::Array(vec![tmap(&[("type", txt("public-key"))])]))
                .mc(),
        ),
        ("GA without rpId", ga().without(1).ga()),
        ("GA without clientDataHash", ga().without(2).ga()),
        ("GA empty map", vec![CMD_GA, 0xa0]),
        ("clientPIN without subCommand", pin_msg(&[(1, int(2))])),
        ("clientPIN without protocol", pin_msg(&[(2, int(2))])),
    ];
    for (what, msg) in cases {
        r.err(&msg, MISSING_PARAMETER, what);
    }
}

#[test]
fn wrong_cbor_types_are_unexpected_type() {
    let mut r = rig();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("MC clientDataHash as text", mc().set(1, txt("hash")).mc()),
        ("MC rp as text", mc().set(2, txt(RP)).mc()),
        (
            "MC rp.id as bytes",
            mc().set(2, tmap(&[("id", bstr(RP.as_bytes()))])).mc(),
        ),
        (
            "MC rp.name as int",
            mc().set(2, tmap(&[("id", txt(RP)), ("name", int(1))])).mc(),
        ),
        (
            "MC user.id as text",
            mc().set(3, tmap(&[("id", txt("u"))])).mc(),
        ),
        (
            "MC user.name as bytes",
            mc().set(3, tmap(&[("id", bstr(USER_ID)), ("name", bstr(b"a"))]))
                .mc(),
        ),
        (
            "MC pubKeyCredParams as map",
            mc().set(4, tmap(&[("alg", int(-7))])).mc(),
        ),
        (
            "MC pubKeyCredParams alg as text",
            mc().set(
                4,
                Value::Array(vec![tmap(&[
                    ("alg", txt("-7")),
                    ("type", txt("public-key")),
                ])]),
            )
            .mc(),
        ),
        ("MC excludeList as map", mc().set(5, tmap(&[])).mc()),
        (
            "MC extensions as array",
            mc().set(6, Value::Array(vec![])).mc(),
        ),
        (
            "MC hmac-secret as int",
            mc().set(6, tmap(&[("hmac-secret", int(1))])).mc(),
        ),
        (
            "MC options as array",
            mc().set(7, Value::Array(vec![])).mc(),
        ),
        (
            "MC options.up as int",
            mc().set(7, tmap(&[("up", int(1))])).mc(),
        ),
        (
            "MC options.rk as text",
            mc().set(7, tmap(&[("rk", txt("true"))])).mc(),
        ),
        ("MC pinUvAuthParam as text", mc().set(8, txt("x")).mc()),
        ("GA rpId as bytes", ga().set(1, bstr(RP.as_bytes())).ga()),
        ("GA clientDataHash as text", ga().set(2, txt("hash")).ga()),
        ("GA allowList as map", ga().set(3, tmap(&[])).ga()),
        (
            "GA allowList id as text",
            ga().set(
                3,
                Value::Array(vec![tmap(&[("id", txt("x")), ("type", txt("public-key"))])]),
            )
            .ga(),
        ),
        (
            "GA options.up as int",
            ga().set(5, tmap(&[("up", int(0))])).ga(),
        ),
        (
            "GA options.uv as null",
            ga().set(5, tmap(&[("uv", Value::Null)])).ga(),
        ),
        (
            "clientPIN subCommand as text",
            pin_msg(&[(1, int(2)), (2, txt("2"))]),
        ),
    ];
    for (what, msg) in cases {
        r.err(&msg, CBOR_UNEXPECTED_TYPE, what);
    }
    assert_eq!(
        r.a.store().len(),
        0,
        "no credential was created by a malformed request"
    );
}

#[test]
fn pin_uv_auth_param_without_a_pin() {
    let mut r = rig();
    for (name, p, cmd) in [("MC", mc(), CMD_MC), ("GA", ga(), CMD_GA)] {
        let (param_key, proto_key) = if cmd == CMD_MC { (8, 9) } else { (6, 7) };
        let zero = p
            .clone()
            .set(param_key, bstr(&[]))
            .set(proto_key, int(2))
            .msg(cmd);
        r.err(
            &zero,
            PIN_NOT_SET,
            &format!("{name} zero-length pinUvAuthParam"),
        );
        let zero_no_proto = p.clone().set(param_key, bstr(&[])).msg(cmd);
        r.err(
            &zero_no_proto,
            PIN_NOT_SET,
            &format!("{name} zero-length pinUvAuthParam, no protocol"),
        );
        let no_proto = p.clone().set(param_key, bstr(&[7; 32])).msg(cmd);
        r.err(
            &no_proto,
            MISSING_PARAMETER,
            &format!("{name} pinUvAuthParam without protocol"),
        );
        let proto9 = p
            .clone()
            .set(param_key, bstr(&[7; 32]))
            .set(proto_key, int(9))
            .msg(cmd);
        r.err(
            &proto9,
            INVALID_PARAMETER,
            &format!("{name} pinUvAuthProtocol 9"),
        );
        let proto2 = p
            .clone()
            .set(param_key, bstr(&[7; 32]))
            .set(proto_key, int(2))
            .msg(cmd);
        r.err(
            &proto2,
            PIN_AUTH_INVALID,
            &format!("{name} pinUvAuthParam that cannot verify"),
        );
    }
    // The zero-length form needs a touch: a refusing user gets OPERATION_DENIED.
    let mut denied = rig_user(user_with(Presence::Deny, Verification::Succeed));
    denied.err(
        &mc().set(8, bstr(&[])).set(9, int(2)).mc(),
        OPERATION_DENIED,
        "MC zero-length, denied",
    );
    denied.err(
        &ga().set(6, bstr(&[])).set(7, int(2)).ga(),
        OPERATION_DENIED,
        "GA zero-length, denied",
    );
    assert_eq!(r.a.store().len(), 0);
}

#[test]
fn client_pin_errors_and_key_agreement_bytes() {
    let mut r = rig();
    r.err(
        &pin_msg(&[(1, int(9)), (2, int(2))]),
        INVALID_PARAMETER,
        "clientPIN protocol 9",
    );
    // getPINRetries: 00 {3: 8, 4: false} (no PIN yet, 8 retries, no power cycle needed).
    let (_, raw) = r.ok(&pin_msg(&[(1, int(2)), (2, int(1))]), "getPINRetries");
    assert_eq!(hex::encode(&raw), "00a2030804f4");
    r.err(
        &pin_msg(&[(1, int(2)), (2, int(3))]),
        MISSING_PARAMETER,
        "setPIN without its parameters",
    );
    r.err(
        &pin_msg(&[(1, int(2)), (2, int(8))]),
        INVALID_SUBCOMMAND,
        "subcommand 8",
    );
    let (_, raw) = r.ok(&pin_msg(&[(1, int(2)), (2, int(2))]), "getKeyAgreement");
    // 00 {1: {1: 2, 3: -25, -1: 1, -2: x, -3: y}}
    assert_eq!(raw.len(), 14 + 32 + 3 + 32);
    assert_eq!(hex::encode(&raw[..13]), "00a101a5010203381820012158");
    assert_eq!(raw[13], 0x20);
    assert_eq!(hex::encode(&raw[46..49]), "225820");
    // The key is kept: protocol 1 gets the same point.
    let (_, raw1) = r.ok(
        &pin_msg(&[(1, int(1)), (2, int(2))]),
        "getKeyAgreement protocol 1",
    );
    assert_eq!(raw1, raw);
}

// =====================================================================================
// makeCredential behaviour
// =====================================================================================

#[test]
fn algorithm_selection_follows_rp_order() {
    let mut r = rig();
    r.err(
        &mc().set(4, algs(&[-257])).mc(),
        UNSUPPORTED_ALGORITHM,
        "RS256 only",
    );
    r.err(
        &mc().set(4, algs(&[-257, -35, -36])).mc(),
        UNSUPPORTED_ALGORITHM,
        "RS256, ES384, ES512",
    );
    r.err(
        &mc().set(4, Value::Array(vec![])).mc(),
        UNSUPPORTED_ALGORITHM,
        "empty pubKeyCredParams",
    );
    let wrong_type = Value::Array(vec![tmap(&[("alg", int(-7)), ("type", txt("secret-key"))])]);
    r.err(
        &mc().set(4, wrong_type).mc(),
        UNSUPPORTED_ALGORITHM,
        "ES256 of an unknown type",
    );
    assert_eq!(r.a.store().len(), 0);

    for (list, want) in [
        (vec![-257, -8, -7], -8),
        (vec![-257, -7, -8], -7),
        (vec![-8], -8),
        (vec![-7], -7),
    ] {
        let made = r.make(&mc().set(4, algs(&list)));
        let cose = decode(&made.auth_data.attested.as_ref().unwrap().public_key_cose).unwrap();
        let Value::Map(m) = &cose else {
            panic!("COSE key is a map")
        };
        let alg = m.iter().find(|(k, _)| *k == int(3)).map(|(_, v)| v.clone());
        assert_eq!(alg, Some(int(want)), "list {list:?}");
        let expected_alg = if want == -7 {
            Algorithm::Es256
        } else {
            Algorithm::EdDsa
        };
        assert_eq!(made.key.algorithm(), expected_alg);
    }

    // An authenticator configured for EdDSA only refuses an ES256-only request.
    let mut ed = rig_config(Config {
        algorithms: vec![Algorithm::EdDsa],
        ..Config::default()
    });
    ed.err(
        &mc().set(4, algs(&[-7])).mc(),
        UNSUPPORTED_ALGORITHM,
        "ES256 on an EdDSA-only authenticator",
    );
    let made = ed.make(&mc().set(4, algs(&[-7, -8])));
    assert_eq!(made.key.algorithm(), Algorithm::EdDsa);
}

#[test]
fn make_credential_response_bytes() {
    let mut r = rig();
    let made = r.make(&mc());
    let att = made.auth_data.attested.clone().unwrap();
    assert_eq!(att.credential_id.len(), 32);
    let cose = &att.public_key_cose;
    assert_eq!(cose.len(), 77);
    // The COSE key: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
    assert_eq!(
        hex::encode(&cose[..10]),
        "a50102032620012158 20".replace(' ', "")
    );
    assert_eq!(hex::encode(&cose[42..45]), "225820");
    let expected_auth_data = [
        Sha256::digest(RP.as_bytes()).as_slice(),
        &[0x59], // UP | BE | BS | AT
        &[0, 0, 0, 0],
        FAUXKEY_AAGUID.as_bytes(),
        &[0x00, 0x20],
        &att.credential_id,
        cose,
    ]
    .concat();
    assert_eq!(made.raw_auth_data, expected_auth_data);
    assert_eq!(expected_auth_data.len(), 164);
    let expected = [
        &[0x00, 0xa3, 0x01, 0x64][..],
        b"none",
        &[0x02, 0x58, 0xa4],
        &expected_auth_data,
        &[0x03, 0xa0],
    ]
    .concat();
    assert_eq!(made.raw, expected);
    assert_eq!(made.response.fmt, "none");
    // Non-discoverable, stored under the id with the request's fields.
    let c = r.a.store().get(&made.id).unwrap();
    assert!(!c.discoverable);
    assert_eq!(c.rp_id, RP);
    assert_eq!(c.user_handle, USER_ID);
}

#[test]
fn packed_self_attestation_verifies() {
    for alg in [-7, -8] {
        let mut r = rig_config(Config {
            attestation: AttestationMode::PackedSelf,
            ..Config::default()
        });
        let made = r.make(&mc().set(4, algs(&[alg])));
        assert_eq!(made.response.fmt, "packed");
        let Value::Map(st) = &made.response.att_stmt else {
            panic!("attStmt is a map")
        };
        assert_eq!(st.len(), 2, "self attestation has alg and sig only");
        assert_eq!(st[0], (txt("alg"), int(alg)));
        let Value::Bytes(sig) = &st[1].1 else {
            panic!("sig is bytes")
        };
        assert_eq!(st[1].0, txt("sig"));
        assert!(made
            .key
            .verify(&[made.raw_auth_data.as_slice(), &CDH].concat(), sig));
    }
}

#[test]
fn options_on_make_credential() {
    let mut r = rig();
    r.err(
        &mc().set(7, opts(&[("up", false)])).mc(),
        INVALID_OPTION,
        "MC up=false",
    );
    // Unknown options are ignored, whatever their value.
    let unknown = mc().set(
        7,
        tmap(&[
            ("foo", Value::Bool(true)),
            ("zzzzzz", int(5)),
            ("ep", txt("x")),
        ]),
    );
    let made = r.make(&unknown);
    assert_eq!(made.auth_data.flags.0, 0x59);
    // up=true explicitly is fine.
    r.make(&mc().set(7, opts(&[("up", true)])));
    // Unknown extensions are ignored and produce no output.
    let ext = tmap(&[
        ("fooExt", Value::Bool(true)),
        ("credBlob", bstr(b"blob")),
        ("largeBlobKey", Value::Bool(true)),
    ]);
    let made = r.make(&mc().set(6, ext));
    assert!(!made.auth_data.flags.has(Flags::ED));
    assert!(made.auth_data.extensions.is_none());
    // enterpriseAttestation is not supported.
    r.err(
        &mc().set(10, int(1)).mc(),
        INVALID_PARAMETER,
        "enterpriseAttestation",
    );

    let mut incapable = rig_user(user_with(Presence::Approve, Verification::NotCapable));
    incapable.err(
        &mc().set(7, opts(&[("uv", true)])).mc(),
        INVALID_OPTION,
        "MC uv=true without UV",
    );
    incapable.make(&mc().set(7, opts(&[("uv", false)])));
    let mut failing = rig_user(user_with(Presence::Approve, Verification::Fail));
    failing.err(
        &mc().set(7, opts(&[("uv", true)])).mc(),
        OPERATION_DENIED,
        "MC uv fails",
    );
    let mut denying = rig_user(user_with(Presence::Deny, Verification::Succeed));
    denying.err(&mc().mc(), OPERATION_DENIED, "MC presence denied");
    assert_eq!(failing.a.store().len() + denying.a.store().len(), 0);

    let mut no_rk = rig_config(Config {
        resident_keys: false,
        ..Config::default()
    });
    no_rk.err(
        &mc_rk(USER_ID).mc(),
        UNSUPPORTED_OPTION,
        "rk on an authenticator without resident keys",
    );
}

#[test]
fn exclude_list() {
    let mut r = rig();
    let first = r.make(&mc());
    let other_rp = r.make(&mc().set(2, rp("other.example")));
    r.err(
        &mc().set(5, descs(&[&first.id])).mc(),
        CREDENTIAL_EXCLUDED,
        "excluded",
    );
    r.err(
        &mc().set(5, descs(&[&[0xAA; 32], &first.id])).mc(),
        CREDENTIAL_EXCLUDED,
        "excluded second in list",
    );
    assert_eq!(r.a.store().len(), 2);
    // Unknown ids and other RPs' credentials do not count.
    r.make(&mc().set(5, descs(&[&[0xAA; 32], &other_rp.id])));
    assert_eq!(r.a.store().len(), 3);
    // A hit with a refusing user is OPERATION_DENIED (the gesture is collected first).
    r.a.set_user(user_with(Presence::Deny, Verification::Succeed));
    r.err(
        &mc().set(5, descs(&[&first.id])).mc(),
        OPERATION_DENIED,
        "excluded, presence denied",
    );
}

#[test]
fn discoverable_credential_replaces_same_user() {
    let mut r = rig();
    let old = r.make(&mc_rk(USER_ID));
    let non_rk = r.make(&mc());
    let other_rp = r.make(&mc_rk(USER_ID).set(2, rp("other.example")));
    assert_eq!(r.a.store().len(), 3);
    let new = r.make(&mc_rk(USER_ID));
    assert_ne!(new.id, old.id);
    assert!(
        r.a.store().get(&old.id).is_none(),
        "the old discoverable credential is gone"
    );
    assert!(r.a.store().get(&new.id).is_some());
    assert!(
        r.a.store().get(&non_rk.id).is_some(),
        "a non-discoverable credential is not replaced"
    );
    assert!(
        r.a.store().get(&other_rp.id).is_some(),
        "another RP's credential is not replaced"
    );
    assert_eq!(r.a.store().len(), 3);

    let mut single = rig();
    let a = single.make(&mc_rk(USER_ID));
    let b = single.make(&mc_rk(USER_ID));
    assert_eq!(single.a.store().len(), 1);
    assert!(single.a.store().get(&a.id).is_none());
    let got = single.get(&ga());
    assert_eq!(got.response.credential.id, b.id);
    assert_eq!(got.response.number_of_credentials, None);
    single.err(&ga_allow(&[&a.id]).ga(), NO_CREDENTIALS, "the replaced id");
}

// =====================================================================================
// getAssertion behaviour
// =====================================================================================

#[test]
fn get_assertion_errors() {
    let mut r = rig();
    r.err(&ga().ga(), NO_CREDENTIALS, "empty store");
    r.err(
        &ga_allow(&[&[5; 32]]).ga(),
        NO_CREDENTIALS,
        "unknown id in allow list",
    );
    let made = r.make(&mc_rk(USER_ID));
    r.err(
        &ga().set(5, opts(&[("rk", true)])).ga(),
        UNSUPPORTED_OPTION,
        "GA rk=true",
    );
    r.err(
        &ga().set(5, opts(&[("rk", false)])).ga(),
        UNSUPPORTED_OPTION,
        "GA rk=false",
    );
    r.err(
        &ga().set(1, txt("other.example")).ga(),
        NO_CREDENTIALS,
        "other RP",
    );
    r.err(
        &ga_allow(&[&made.id]).set(1, txt("other.example")).ga(),
        NO_CREDENTIALS,
        "other RP with allow list",
    );
    // Unknown options and extensions are ignored.
    let got = r.get(
        &ga()
            .set(5, tmap(&[("foo", Value::Bool(true))]))
            .set(4, tmap(&[("credBlob", Value::Bool(true))])),
    );
    assert!(!got.auth_data.flags.has(Flags::ED));

    let mut incapable = rig_user(user_with(Presence::Approve, Verification::NotCapable));
    incapable.make(&mc_rk(USER_ID));
    incapable.err(
        &ga().set(5, opts(&[("uv", true)])).ga(),
        INVALID_OPTION,
        "GA uv=true without UV",
    );
    let mut failing = rig();
    failing.make(&mc_rk(USER_ID));
    failing
        .a
        .set_user(user_with(Presence::Approve, Verification::Fail));
    failing.err(
        &ga().set(5, opts(&[("uv", true)])).ga(),
        OPERATION_DENIED,
        "GA uv fails",
    );
    failing
        .a
        .set_user(user_with(Presence::Deny, Verification::Succeed));
    failing.err(&ga().ga(), OPERATION_DENIED, "GA presence denied");
    // No credentials is reported before any gesture.
    failing.err(
        &ga().set(1, txt("other.example")).ga(),
        NO_CREDENTIALS,
        "no credentials, denying user",
    );
    // The counter did not move on refused assertions.
    let c = failing.a.store().all().next().unwrap();
    assert_eq!(c.sign_count, 0);
}

#[test]
fn get_assertion_response_bytes_and_signature() {
    for alg in [-7, -8] {
        let mut r = rig();
        let made = r.make(&mc_rk(USER_ID).set(4, algs(&[alg])));
        let got = r.get(&ga());
        let expected_auth_data = [
            Sha256::digest(RP.as_bytes()).as_slice(),
            &[0x19],
            &[0, 0, 0, 1],
        ]
        .concat();
        assert_eq!(
            got.response.auth_data, expected_auth_data,
            "UP | BE | BS, counter 1"
        );
        let sig = &got.response.signature;
        assert!(made
            .key
            .verify(&[expected_auth_data.as_slice(), &GA_CDH].concat(), sig));
        assert!(!made
            .key
            .verify(&[expected_auth_data.as_slice(), &CDH].concat(), sig));
        let expected = [
            &[0x00, 0xa4, 0x01, 0xa2, 0x62][..],
            b"id",
            &[0x58, 0x20],
            &made.id,
            &[0x64],
            b"type",
            &[0x6a],
            b"public-key",
            &[0x02, 0x58, 0x25],
            &expected_auth_data,
            &[0x03, 0x58, sig.len() as u8],
            sig,
            &[0x04, 0xa1, 0x62],
            b"id",
            &[0x44],
            USER_ID,
        ]
        .concat();
        assert_eq!(got.raw, expected, "alg {alg}");
        if alg == -8 {
            assert_eq!(sig.len(), 64);
        }
    }
}

#[test]
fn non_discoverable_needs_allow_list() {
    let mut r = rig();
    let made = r.make(&mc());
    r.err(
        &ga().ga(),
        NO_CREDENTIALS,
        "non-discoverable without allow list",
    );
    let got = r.get(&ga_allow(&[&[0xAB; 16], &made.id]));
    assert_eq!(got.response.credential.id, made.id);
    assert!(
        got.response.user.is_none(),
        "no user for a non-discoverable credential"
    );
    assert!(!has_key(&got.map, 4));
    assert!(!has_key(&got.map, 5));
    assert!(made.key.verify(
        &[got.response.auth_data.as_slice(), &GA_CDH].concat(),
        &got.response.signature
    ));
}

#[test]
fn three_discoverable_credentials_newest_first() {
    let mut r = rig();
    let mut ids = Vec::new();
    for u in 1..=3u8 {
        ids.push(r.make(&mc_rk(&[u; 8])).id);
        r.clock.advance(1_000);
    }
    let first = r.get(&ga());
    assert_eq!(first.response.credential.id, ids[2]);
    assert_eq!(first.response.number_of_credentials, Some(3));
    assert_eq!(first.response.user.as_ref().unwrap().id, vec![3; 8]);
    let second = r.next();
    assert_eq!(second.response.credential.id, ids[1]);
    assert!(
        !has_key(&second.map, 5),
        "no numberOfCredentials on getNextAssertion"
    );
    let third = r.next();
    assert_eq!(third.response.credential.id, ids[0]);
    assert!(!has_key(&third.map, 5));
    assert_eq!(third.response.user.as_ref().unwrap().id, vec![1; 8]);
    r.err(&[CMD_NEXT], NOT_ALLOWED, "after the last credential");
    // Every assertion is signed over the same clientDataHash.
    for (got, id) in [(&first, &ids[2]), (&second, &ids[1]), (&third, &ids[0])] {
        let c = r.a.store().get(id).unwrap();
        let key = c.key.public_key();
        assert!(key.verify(
            &[got.response.auth_data.as_slice(), &GA_CDH].concat(),
            &got.response.signature
        ));
        assert_eq!(got.auth_data.sign_count, 1);
    }

    // Same creation time: creation order still decides (newest first).
    let mut same = rig();
    let ids: Vec<Vec<u8>> = (1..=3u8).map(|u| same.make(&mc_rk(&[u; 8])).id).collect();
    let order: Vec<Vec<u8>> = [same.get(&ga()), same.next(), same.next()]
        .into_iter()
        .map(|g| g.response.credential.id)
        .collect();
    assert_eq!(order, vec![ids[2].clone(), ids[1].clone(), ids[0].clone()]);

    // With an allow list, numberOfCredentials is absent and nothing is pending.
    let mut allow = rig();
    let ids: Vec<Vec<u8>> = (1..=3u8).map(|u| allow.make(&mc_rk(&[u; 8])).id).collect();
    let got = allow.get(&ga_allow(&[&ids[0], &ids[1], &ids[2]]));
    assert!(!has_key(&got.map, 5));
    assert_eq!(got.response.number_of_credentials, None);
    allow.err(
        &[CMD_NEXT],
        NOT_ALLOWED,
        "getNextAssertion after an allow-list request",
    );

    // A single discoverable credential: no count, nothing pending.
    let mut one = rig();
    one.make(&mc_rk(USER_ID));
    let got = one.get(&ga());
    assert!(!has_key(&got.map, 5));
    one.err(
        &[CMD_NEXT],
        NOT_ALLOWED,
        "getNextAssertion after a single credential",
    );
}

#[test]
fn get_next_assertion_expires_after_30_seconds() {
    let mut r = rig();
    for u in 1..=3u8 {
        r.make(&mc_rk(&[u; 8]));
    }
    r.get(&ga());
    r.clock.advance(30_000);
    r.next(); // exactly 30 s after the previous assertion: still allowed
    r.clock.advance(30_001);
    r.err(
        &[CMD_NEXT],
        NOT_ALLOWED,
        "30.001 s after the previous assertion",
    );
    r.err(&[CMD_NEXT], NOT_ALLOWED, "state discarded after expiry");

    // Another command in between discards the state.
    r.get(&ga());
    r.err(
        &mc().set(7, opts(&[("up", false)])).mc(),
        INVALID_OPTION,
        "failing MC",
    );
    r.err(&[CMD_NEXT], NOT_ALLOWED, "after a makeCredential");
    r.get(&ga());
    r.err(&[0x55], INVALID_COMMAND, "unknown command");
    r.err(&[CMD_NEXT], NOT_ALLOWED, "after an unknown command");
}

#[test]
fn user_details_only_after_uv() {
    let mut r = rig();
    r.make(&mc_rk(USER_ID));
    let got = r.get(&ga());
    assert_eq!(
        got.response.user.clone().unwrap(),
        fauxkey::ctap2::UserEntity {
            id: USER_ID.to_vec(),
            name: None,
            display_name: None
        }
    );
    let got = r.get(&ga().set(5, opts(&[("uv", true)])));
    let u = got.response.user.clone().unwrap();
    assert_eq!(u.id, USER_ID);
    assert_eq!(u.name.as_deref(), Some("alice"));
    assert_eq!(u.display_name.as_deref(), Some("Alice"));
    let user_value = got
        .map
        .iter()
        .find(|(k, _)| *k == int(4))
        .unwrap()
        .1
        .clone();
    assert_eq!(encode(&user_value), encode(&user(USER_ID)));
    let got = r.get(&ga().set(5, opts(&[("uv", false)])));
    assert_eq!(got.response.user.unwrap().name, None);
}

#[test]
fn flags_byte() {
    // (config BE, config BS) → MC flags without UV, GA flags without UV.
    for (be, bs, mc_flags, ga_flags) in [
        (true, true, 0x59, 0x19),
        (true, false, 0x49, 0x09),
        (false, true, 0x41, 0x01),
        (false, false, 0x41, 0x01),
    ] {
        let mut r = rig_config(Config {
            backup_eligible: be,
            backup_state: bs,
            ..Config::default()
        });
        let made = r.make(&mc_rk(USER_ID));
        assert_eq!(made.auth_data.flags.0, mc_flags, "MC be={be} bs={bs}");
        let c = r.a.store().get(&made.id).unwrap();
        assert_eq!((c.backup_eligible, c.backup_state), (be, be && bs));
        let got = r.get(&ga());
        assert_eq!(got.auth_data.flags.0, ga_flags, "GA be={be} bs={bs}");
        let got = r.get(&ga().set(5, opts(&[("uv", true)])));
        assert_eq!(
            got.auth_data.flags.0,
            ga_flags | Flags::UV,
            "GA uv be={be} bs={bs}"
        );
        let got = r.get(&ga().set(5, opts(&[("up", false)])));
        assert_eq!(
            got.auth_data.flags.0,
            ga_flags & !Flags::UP,
            "GA up=false be={be} bs={bs}"
        );
    }
    let mut r = rig();
    let made = r.make(&mc().set(7, opts(&[("uv", true)])));
    assert_eq!(made.auth_data.flags.0, 0x5D, "UP | UV | BE | BS | AT");
    let made = r.make(&mc().set(7, opts(&[("uv", false)])));
    assert_eq!(made.auth_data.flags.0, 0x59, "uv=false: no UV");
    let made = r.make(&mc().set(6, tmap(&[("credProtect", int(1))])));
    assert_eq!(made.auth_data.flags.0, 0xD9, "ED with an extension output");
}

#[test]
fn up_false_on_get_assertion_is_silent() {
    let mut r = rig();
    let made = r.make(&mc_rk(USER_ID));
    r.a.set_user(user_with(Presence::Deny, Verification::Succeed));
    let got = r.get(&ga().set(5, opts(&[("up", false)])));
    assert!(!got.auth_data.flags.has(Flags::UP));
    assert_eq!(got.auth_data.sign_count, 1);
    assert!(made.key.verify(
        &[got.response.auth_data.as_slice(), &GA_CDH].concat(),
        &got.response.signature
    ));
    r.err(&ga().ga(), OPERATION_DENIED, "up defaults to true");
    r.err(
        &ga().set(5, opts(&[("up", true)])).ga(),
        OPERATION_DENIED,
        "up=true",
    );
}

#[test]
fn signature_counter() {
    let mut r = rig();
    let a = r.make(&mc());
    let b = r.make(&mc().set(3, user(&[9])));
    assert_eq!(a.auth_data.sign_count, 0);
    let counts: Vec<u32> = (0..3)
        .map(|_| r.get(&ga_allow(&[&a.id])).auth_data.sign_count)
        .collect();
    assert_eq!(counts, vec![1, 2, 3]);
    assert_eq!(
        r.get(&ga_allow(&[&b.id])).auth_data.sign_count,
        1,
        "counters are per credential"
    );
    assert_eq!(r.get(&ga_allow(&[&a.id])).auth_data.sign_count, 4);
    assert_eq!(r.a.store().get(&a.id).unwrap().last_used_ms, Some(T0));

    let mut zero = rig_config(Config {
        counter: CounterPolicy::AlwaysZero,
        ..Config::default()
    });
    let z = zero.make(&mc());
    assert_eq!(z.auth_data.sign_count, 0);
    for _ in 0..3 {
        let got = zero.get(&ga_allow(&[&z.id]));
        assert_eq!(got.auth_data.sign_count, 0);
        assert_eq!(&got.response.auth_data[33..37], &[0, 0, 0, 0]);
    }
}

#[test]
fn cred_protect() {
    let mut r = rig();
    let l2 = r.make(&mc_rk(&[2]).set(6, tmap(&[("credProtect", int(2))])));
    let ext = l2.auth_data.extensions.clone().unwrap();
    assert_eq!(encode(&ext), encode(&tmap(&[("credProtect", int(2))])));
    assert!(l2
        .raw_auth_data
        .ends_with(&[&[0xa1, 0x6b][..], b"credProtect", &[0x02]].concat()));

    // Level 2: not discoverable without UV, but returned with an allow list or with UV.
    r.err(
        &ga().ga(),
        NO_CREDENTIALS,
        "level 2 without allow list or UV",
    );
    assert_eq!(r.get(&ga_allow(&[&l2.id])).response.credential.id, l2.id);
    assert_eq!(
        r.get(&ga().set(5, opts(&[("uv", true)])))
            .response
            .credential
            .id,
        l2.id
    );
    // A level-2 credential still counts in an exclude list without UV.
    r.err(
        &mc().set(5, descs(&[&l2.id])).mc(),
        CREDENTIAL_EXCLUDED,
        "exclude level 2",
    );

    let mut r = rig();
    let l3 = r.make(&mc_rk(&[3]).set(6, tmap(&[("credProtect", int(3))])));
    r.err(&ga().ga(), NO_CREDENTIALS, "level 3 without UV");
    r.err(
        &ga_allow(&[&l3.id]).ga(),
        NO_CREDENTIALS,
        "level 3 with allow list, without UV",
    );
    assert_eq!(
        r.get(&ga_allow(&[&l3.id]).set(5, opts(&[("uv", true)])))
            .response
            .credential
            .id,
        l3.id
    );
    assert_eq!(
        r.get(&ga().set(5, opts(&[("uv", true)])))
            .response
            .credential
            .id,
        l3.id
    );
    // The exclude list ignores a level-3 credential unless UV was done.
    let created = r.make(&mc().set(5, descs(&[&l3.id])));
    assert_ne!(created.id, l3.id);
    assert_eq!(r.a.store().len(), 2);
    r.err(
        &mc()
            .set(5, descs(&[&l3.id]))
            .set(7, opts(&[("uv", true)]))
            .mc(),
        CREDENTIAL_EXCLUDED,
        "exclude level 3 with UV",
    );

    // A level-1 credential and an unknown level (ignored, no output) behave as unprotected.
    let mut r = rig();
    let l1 = r.make(&mc_rk(&[1]).set(6, tmap(&[("credProtect", int(1))])));
    assert_eq!(
        encode(&l1.auth_data.extensions.unwrap()),
        encode(&tmap(&[("credProtect", int(1))]))
    );
    let unknown = r.make(&mc_rk(&[4]).set(6, tmap(&[("credProtect", int(7))])));
    assert!(unknown.auth_data.extensions.is_none());
    r.clock.advance(1);
    assert_eq!(r.get(&ga()).response.number_of_credentials, Some(2));
}

#[test]
fn hidden_credentials_are_never_returned() {
    let mut r = rig();
    let made = r.make(&mc_rk(USER_ID));
    let changed =
        r.a.store_mut()
            .update(&made.id, &mut |c| c.hidden = true)
            .unwrap();
    assert!(changed);
    r.err(&ga().ga(), NO_CREDENTIALS, "hidden, no allow list");
    r.err(
        &ga_allow(&[&made.id]).ga(),
        NO_CREDENTIALS,
        "hidden, with allow list",
    );
    r.err(
        &ga().set(5, opts(&[("uv", true)])).ga(),
        NO_CREDENTIALS,
        "hidden, with UV",
    );
    r.a.store_mut()
        .update(&made.id, &mut |c| c.hidden = false)
        .unwrap();
    assert_eq!(r.get(&ga()).response.credential.id, made.id);
}

// =====================================================================================
// getInfo
// =====================================================================================

/// getInfo of the default config with a UV-capable user, byte for byte.
const GET_INFO_DEFAULT: &str = concat!(
    "00",
    "ad", // 13 entries
    "01",
    "83",
    "68",
    "4649444f5f325f30",
    "6c",
    "4649444f5f325f315f505245",
    "68",
    "4649444f5f325f31", // versions ["FIDO_2_0", "FIDO_2_1_PRE", "FIDO_2_1"]
    "02",
    "82",
    "6b",
    "6372656450726f74656374",
    "6b",
    "686d61632d736563726574", // extensions
    "03",
    "50",
    "a3177236086144968ac0b5d4308ac6e2", // aaguid
    "04",
    "ab", // 11 options, canonical order
    "62726b",
    "f5", // rk
    "627570",
    "f5", // up
    "627576",
    "f5", // uv
    "64706c6174",
    "f4", // plat
    "68616c776179735576",
    "f4", // alwaysUv
    "68637265644d676d74",
    "f5", // credMgmt
    "69617574686e72436667",
    "f5", // authnrCfg
    "69636c69656e7450696e",
    "f4", // clientPin: supported, not set
    "6e70696e557641757468546f6b656e",
    "f5", // pinUvAuthToken
    "6f7365744d696e50494e4c656e677468",
    "f5", // setMinPINLength
    "7563726564656e7469616c4d676d7450726576696577",
    "f5", // credentialMgmtPreview
    "05",
    "191db9", // maxMsgSize 7609
    "06",
    "82",
    "02",
    "01", // pinUvAuthProtocols [2, 1]
    "07",
    "1840", // maxCredentialCountInList 64
    "08",
    "1840", // maxCredentialIdLength 64
    "09",
    "81",
    "68",
    "696e7465726e616c", // transports ["internal"]
    "0a",
    "82", // algorithms
    "a2",
    "63616c67",
    "26",
    "6474797065",
    "6a7075626c69632d6b6579",
    "a2",
    "63616c67",
    "27",
    "6474797065",
    "6a7075626c69632d6b6579",
    "0c",
    "f4", // forcePINChange false
    "0d",
    "04", // minPINLength 4
    "10",
    "08", // maxRPIDsForSetMinPINLength 8
);

#[test]
fn get_info_bytes_and_fields() {
    let mut r = rig();
    let (m, raw) = r.ok(&[CMD_INFO], "getInfo");
    assert_eq!(hex::encode(&raw), GET_INFO_DEFAULT);
    let info = get_info::Response::from_cbor(&m).unwrap();
    assert_eq!(
        info.versions,
        vec![
            "FIDO_2_0".to_owned(),
            "FIDO_2_1_PRE".to_owned(),
            "FIDO_2_1".to_owned()
        ]
    );
    assert_eq!(info.option("credMgmt"), Some(true));
    assert_eq!(info.option("pinUvAuthToken"), Some(true));
    assert_eq!(
        info.extensions,
        vec!["credProtect".to_owned(), "hmac-secret".to_owned()]
    );
    assert_eq!(info.aaguid, *FAUXKEY_AAGUID.as_bytes());
    assert_eq!(info.algorithms, vec![-7, -8]);
    assert_eq!(info.option("rk"), Some(true));
    assert_eq!(info.option("up"), Some(true));
    assert_eq!(info.option("uv"), Some(true));
    assert_eq!(info.option("plat"), Some(false));
    assert_eq!(
        info.option("clientPin"),
        Some(false),
        "a PIN can be set; none is"
    );
    assert_eq!(info.min_pin_length, Some(4));
    assert_eq!(info.force_pin_change, Some(false));
    assert_eq!(info.max_msg_size, Some(7609));
    assert_eq!(info.pin_uv_auth_protocols, vec![2, 1]);
    assert_eq!(info.transports, vec!["internal".to_owned()]);
    assert_eq!(encode(&decode(&raw[1..]).unwrap()), raw[1..]);

    // Without built-in UV, `uv` is absent; without resident keys, rk is false.
    let mut other = Rig::new(
        Config {
            resident_keys: false,
            algorithms: vec![Algorithm::EdDsa],
            ..Config::default()
        },
        user_with(Presence::Approve, Verification::NotCapable),
        1,
    );
    let (m, _) = other.ok(&[CMD_INFO], "getInfo, no UV");
    let info = get_info::Response::from_cbor(&m).unwrap();
    assert_eq!(info.option("uv"), None);
    assert_eq!(info.option("rk"), Some(false));
    // Without built-in UV a PIN still gives tokens, so credential management and CTAP 2.1 stay.
    assert_eq!(info.option("pinUvAuthToken"), Some(true));
    assert_eq!(info.option("credMgmt"), Some(true));
    assert_eq!(info.option("clientPin"), Some(false));
    assert!(info.versions.contains(&"FIDO_2_1".to_owned()));
    assert_eq!(info.algorithms, vec![-8]);
}

// =====================================================================================
// Determinism
// =====================================================================================

#[test]
fn same_seed_and_clock_give_identical_bytes() {
    let run = |seed: u64| {
        let mut r = Rig::new(Config::default(), SimulatedUser::default(), seed);
        let es = r.make(&mc_rk(USER_ID));
        let ed = r.make(&mc_rk(&[7]).set(4, algs(&[-8])));
        let ga1 = r.get(&ga());
        let ga2 = r.next();
        (es.raw, ed.raw, ga1.raw, ga2.raw, es.id, ed.id)
    };
    let a = run(1);
    let b = run(1);
    assert_eq!(a, b);
    let c = run(2);
    assert_ne!(a.4, c.4, "a different seed gives different credential ids");
    assert_ne!(a.5, c.5);
    assert_ne!(a.0, c.0);
}

// =====================================================================================
// hmac-secret over bytes
// =====================================================================================

struct Platform {
    key: KeyAgreementKey,
    secret: SharedSecret,
    rng: env::Rng,
}

impl Platform {
    fn new(authenticator_key: &Value, protocol: PinProtocol) -> Self {
        let mut rng = env::seeded_rng(77);
        let key = KeyAgreementKey::generate(rng.as_mut());
        let secret = key.shared_secret(protocol, authenticator_key).unwrap();
        Self { key, secret, rng }
    }

    fn ext(&mut self, salts: &[u8]) -> Value {
        let enc = self.secret.encrypt(self.rng.as_mut(), salts).unwrap();
        let auth = self.secret.authenticate(&enc);
        self.ext_with(&enc, &auth)
    }

    fn ext_with(&self, enc: &[u8], auth: &[u8]) -> Value {
        tmap(&[(
            "hmac-secret",
            cbor::map([
                (1, self.key.public_cose()),
                (2, bstr(enc)),
                (3, bstr(auth)),
                (4, int(self.secret.protocol().number())),
            ]),
        )])
    }

    fn output(&self, got: &Got) -> Vec<u8> {
        assert!(got.auth_data.flags.has(Flags::ED));
        let Some(Value::Map(m)) = &got.auth_data.extensions else {
            panic!("extensions map")
        };
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, txt("hmac-secret"));
        let Value::Bytes(enc) = &m[0].1 else {
            panic!("hmac-secret output is bytes")
        };
        self.secret.decrypt(enc).unwrap().to_vec()
    }
}

#[test]
fn hmac_secret() {
    let mut r = rig();
    let made = r.make(&mc_rk(USER_ID).set(6, tmap(&[("hmac-secret", Value::Bool(true))])));
    assert_eq!(
        encode(made.auth_data.extensions.as_ref().unwrap()),
        encode(&tmap(&[("hmac-secret", Value::Bool(true))]))
    );
    assert!(made
        .raw_auth_data
        .ends_with(&[&[0xa1, 0x6b][..], b"hmac-secret", &[0xf5]].concat()));
    let plain = r.make(&mc_rk(&[9]));

    let authenticator_key = r.key_agreement();
    let mut p = Platform::new(&authenticator_key, PinProtocol::Two);
    let salt_a = [0x5a; 32];
    let salt_b = [0xa5; 32];

    let ext = p.ext(&salt_a);
    let got1 = r.get(&ga_allow(&[&made.id]).set(4, ext));
    assert_eq!(got1.auth_data.flags.0, 0x99, "UP | BE | BS | ED");
    let out1 = p.output(&got1);
    assert_eq!(out1.len(), 32);
    assert!(made.key.verify(
        &[got1.response.auth_data.as_slice(), &GA_CDH].concat(),
        &got1.response.signature
    ));

    let ext = p.ext(&salt_a);
    let out2 = p.output(&r.get(&ga_allow(&[&made.id]).set(4, ext)));
    assert_eq!(out1, out2, "same salt, same output");

    let ext = p.ext(&salt_b);
    let out3 = p.output(&r.get(&ga_allow(&[&made.id]).set(4, ext)));
    assert_eq!(out3.len(), 32);
    assert_ne!(out1, out3, "different salt, different output");

    // Two salts give two outputs, each equal to the single-salt output.
    let ext = p.ext(&[salt_a, salt_b].concat());
    let both = p.output(&r.get(&ga_allow(&[&made.id]).set(4, ext)));
    assert_eq!(both, [out1.clone(), out3.clone()].concat());

    // With UV, the other CredRandom is used.
    let ext = p.ext(&salt_a);
    let with_uv = p.output(
        &r.get(
            &ga_allow(&[&made.id])
                .set(4, ext)
                .set(5, opts(&[("uv", true)])),
        ),
    );
    assert_eq!(with_uv.len(), 32);
    assert_ne!(with_uv, out1);

    // A credential made without hmac-secret has no output (and no ED).
    let ext = p.ext(&salt_a);
    let got = r.get(&ga_allow(&[&plain.id]).set(4, ext));
    assert!(!got.auth_data.flags.has(Flags::ED));

    // Protocol 1 agrees on the same output.
    let mut p1 = Platform::new(&authenticator_key, PinProtocol::One);
    let ext = p1.ext(&salt_a);
    assert_eq!(p1.output(&r.get(&ga_allow(&[&made.id]).set(4, ext))), out1);

    // Errors: wrong saltAuth, up=false, a salt of the wrong length.
    let enc = p.secret.encrypt(p.rng.as_mut(), &salt_a).unwrap();
    let mut auth = p.secret.authenticate(&enc);
    auth[0] ^= 1;
    r.err(
        &ga_allow(&[&made.id]).set(4, p.ext_with(&enc, &auth)).ga(),
        PIN_AUTH_INVALID,
        "wrong saltAuth",
    );
    let short_auth = p.secret.authenticate(&enc)[..16].to_vec();
    r.err(
        &ga_allow(&[&made.id])
            .set(4, p.ext_with(&enc, &short_auth))
            .ga(),
        PIN_AUTH_INVALID,
        "truncated saltAuth",
    );
    let ext = p.ext(&salt_a);
    r.err(
        &ga_allow(&[&made.id])
            .set(4, ext)
            .set(5, opts(&[("up", false)]))
            .ga(),
        UNSUPPORTED_OPTION,
        "hmac-secret with up=false",
    );
    let ext = p.ext(&[0x11; 48]);
    r.err(
        &ga_allow(&[&made.id]).set(4, ext).ga(),
        INVALID_LENGTH,
        "48 bytes of salt",
    );
    let counter = r.a.store().get(&made.id).unwrap().sign_count;
    assert_eq!(counter, 6, "refused hmac-secret requests did not sign");
}

#[test]
fn hmac_secret_follows_get_next_assertion() {
    let mut r = rig();
    let hs = tmap(&[("hmac-secret", Value::Bool(true))]);
    r.make(&mc_rk(&[1]).set(6, hs.clone()));
    r.clock.advance(1);
    r.make(&mc_rk(&[2]).set(6, hs));
    let key = r.key_agreement();
    let mut p = Platform::new(&key, PinProtocol::Two);
    let ext = p.ext(&[0x33; 32]);
    let first = r.get(&ga().set(4, ext));
    assert_eq!(first.response.number_of_credentials, Some(2));
    let second = r.next();
    let (o1, o2) = (p.output(&first), p.output(&second));
    assert_eq!((o1.len(), o2.len()), (32, 32));
    assert_ne!(o1, o2, "different credentials, different CredRandom");
}

/// ES384, ES512 and RS256 over CTAP bytes (issue 18): getInfo lists them in the configured
/// order, makeCredential picks the first requested one the authenticator has, its COSE_Key
/// carries the spec's kty/crv, packed self attestation and getAssertion verify with it.
#[test]
fn new_algorithms_over_ctap() {
    let config = Config {
        algorithms: vec![
            Algorithm::Rs256,
            Algorithm::Es256,
            Algorithm::Es384,
            Algorithm::Es512,
        ],
        attestation: AttestationMode::PackedSelf,
        ..Config::default()
    };
    let mut r = rig_config(config.clone());
    let (info, _) = r.ok(&[0x04], "getInfo");
    let listed = info
        .iter()
        .find(|(k, _)| *k == int(10))
        .map(|(_, v)| v.clone())
        .expect("getInfo algorithms (0x0A)");
    assert_eq!(listed, algs(&[-257, -7, -35, -36]));
    // EdDSA is not configured: skipped; the first supported one wins.
    let made = r.make(&mc().set(4, algs(&[-8, -36, -7])));
    assert_eq!(made.key.algorithm(), Algorithm::Es512);

    for (id, kty, crv) in [(-35, 2, Some(2)), (-36, 2, Some(3)), (-257, 3, None)] {
        let mut r = rig_config(config.clone());
        let made = r.make(&mc_rk(USER_ID).set(4, algs(&[id])));
        let cose = decode(&made.auth_data.attested.as_ref().unwrap().public_key_cose).unwrap();
        let Value::Map(m) = &cose else {
            panic!("COSE key is a map")
        };
        let get = |label: i64| m.iter().find(|(k, _)| *k == int(label)).map(|(_, v)| v);
        assert_eq!(get(1), Some(&int(kty)), "{id}: kty");
        assert_eq!(get(3), Some(&int(id)), "{id}: alg");
        if let Some(crv) = crv {
            assert_eq!(get(-1), Some(&int(crv)), "{id}: crv");
        } else {
            assert!(
                matches!(get(-1), Some(Value::Bytes(n)) if n.len() == 256),
                "{id}: n"
            );
            assert_eq!(get(-2), Some(&Value::Bytes(vec![1, 0, 1])), "{id}: e");
        }
        let Value::Map(st) = &made.response.att_stmt else {
            panic!("attStmt is a map")
        };
        assert_eq!(st[0], (txt("alg"), int(id)));
        let Value::Bytes(sig) = &st[1].1 else {
            panic!("sig is bytes")
        };
        assert!(made
            .key
            .verify(&[made.raw_auth_data.as_slice(), &CDH].concat(), sig));
        let got = r.get(&ga());
        assert!(made.key.verify(
            &[got.response.auth_data.as_slice(), &GA_CDH].concat(),
            &got.response.signature
        ));
        assert!(!made.key.verify(
            &[got.response.auth_data.as_slice(), &CDH].concat(),
            &got.response.signature
        ));
    }
}
