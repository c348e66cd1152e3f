//! authenticatorLargeBlobs (0x0C) and the extensions around it — largeBlobKey, credBlob,
//! minPinLength, hmac-secret-mc — at the `process(&[u8])` byte boundary: a malformed-input
//! table with the exact CTAP status bytes, fragmented writes authorised by an `lbw` token, the
//! checksum, the extension outputs, and the array across a vault reopen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ctap_support;

use ciborium::value::Value;
use fauxkey::cbor::decode;
use fauxkey::crypto::pin_protocol::{hmac_sha256, KeyAgreementKey, PinProtocol, SharedSecret};
use fauxkey::ctap2::auth_data::AuthenticatorData;
use fauxkey::ctap2::large_blobs::{auth_message, initial_array, serialize};
use fauxkey::env::{self, FixedClock, Presence, SimulatedUser, Verification};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::vault::{KdfParams, Passphrase, Vault};
use fauxkey::{Authenticator, Config};
use sha2::{Digest, Sha256};

use ctap_support::{bstr, imap, int, msg, txt};

const T0: u64 = 1_700_000_000_000;
const PIN_ONLY: SimulatedUser = SimulatedUser {
    presence: Presence::Approve,
    verification: Verification::NotCapable,
    account: None,
};

// Status bytes (CTAP 2.1 §8.2).
const OK: u8 = 0x00;
const INVALID_COMMAND: u8 = 0x01;
const INVALID_PARAMETER: u8 = 0x02;
const INVALID_LENGTH: u8 = 0x03;
const INVALID_SEQ: u8 = 0x04;
const UNEXPECTED_TYPE: u8 = 0x11;
const INVALID_CBOR: u8 = 0x12;
const MISSING_PARAMETER: u8 = 0x14;
const LARGE_BLOB_STORAGE_FULL: u8 = 0x18;
const INVALID_OPTION: u8 = 0x2C;
const PIN_AUTH_INVALID: u8 = 0x33;
const PUAT_REQUIRED: u8 = 0x36;
const INTEGRITY_FAILURE: u8 = 0x3C;
const UNAUTHORIZED_PERMISSION: u8 = 0x40;

const LBW: i64 = 0x10;
const MC: i64 = 0x01;
/// maxMsgSize (7609) − 64.
const MAX_FRAGMENT: usize = 7545;

fn ext_config() -> Config {
    Config {
        extensions: [
            "credProtect",
            "hmac-secret",
            "hmac-secret-mc",
            "largeBlobKey",
            "credBlob",
            "minPinLength",
        ]
        .map(String::from)
        .to_vec(),
        ..Config::default()
    }
}

fn get(m: &[(Value, Value)], k: i64) -> Option<Value> {
    m.iter()
        .find(|(key, _)| *key == int(k))
        .map(|(_, v)| v.clone())
}

fn text(m: &[(Value, Value)], k: &str) -> Option<Value> {
    m.iter()
        .find(|(key, _)| *key == txt(k))
        .map(|(_, v)| v.clone())
}

fn bytes(v: Option<Value>) -> Vec<u8> {
    match v {
        Some(Value::Bytes(b)) => b,
        other => panic!("not bytes: {other:?}"),
    }
}

struct Rig<S: CredentialStore> {
    a: Authenticator<S>,
    platform: KeyAgreementKey,
    rng: env::Rng,
}

impl Rig<MemoryStore> {
    fn new(user: SimulatedUser, config: Config) -> Self {
        Self::over(MemoryStore::new(), user, config)
    }
}

impl<S: CredentialStore> Rig<S> {
    fn over(store: S, user: SimulatedUser, config: Config) -> Self {
        let mut rng = env::seeded_rng(16);
        Self {
            a: Authenticator::new(config, store)
                .with_rng(env::seeded_rng(61))
                .with_clock(FixedClock::at(T0))
                .with_user(user),
            platform: KeyAgreementKey::generate(rng.as_mut()),
            rng,
        }
    }

    fn status(&mut self, m: &[u8], code: u8, what: &str) {
        let r = self.a.process(m);
        assert_eq!(r, vec![code], "{what}: got {}", hex::encode(&r));
    }

    fn ok_map(&mut self, m: &[u8], what: &str) -> Vec<(Value, Value)> {
        let r = self.a.process(m);
        assert_eq!(r.first(), Some(&OK), "{what}: got {}", hex::encode(&r));
        match decode(&r[1..]).unwrap() {
            Value::Map(m) => m,
            other => panic!("{what}: {other:?}"),
        }
    }

    fn secret(&mut self) -> SharedSecret {
        let m = self.ok_map(
            &msg(0x06, &imap(vec![(1, int(2)), (2, int(2))])),
            "getKeyAgreement",
        );
        self.platform
            .shared_secret(PinProtocol::Two, &get(&m, 1).unwrap())
            .unwrap()
    }

    fn set_pin(&mut self, pin: &str) {
        let s = self.secret();
        let mut padded = pin.as_bytes().to_vec();
        padded.resize(64, 0);
        let enc = s.encrypt(self.rng.as_mut(), &padded).unwrap();
        let auth = s.authenticate(&enc);
        let m = msg(
            0x06,
            &imap(vec![
                (1, int(2)),
                (2, int(3)),
                (3, self.platform.public_cose()),
                (4, bstr(&auth)),
                (5, bstr(&enc)),
            ]),
        );
        assert_eq!(self.a.process(&m), vec![OK], "setPIN");
    }

    /// getPinUvAuthTokenUsingPinWithPermissions: the raw answer, and the token on success.
    fn pin_token_raw(&mut self, pin: &str, permissions: i64, rp: Option<&str>) -> Vec<u8> {
        let s = self.secret();
        let hash = Sha256::digest(pin.as_bytes())[..16].to_vec();
        let hash_enc = s.encrypt(self.rng.as_mut(), &hash).unwrap();
        let mut e = vec![
            (1, int(2)),
            (2, int(9)),
            (3, self.platform.public_cose()),
            (6, bstr(&hash_enc)),
            (9, int(permissions)),
        ];
        if let Some(rp) = rp {
            e.push((0x0A, txt(rp)));
        }
        let r = self.a.process(&msg(0x06, &imap(e)));
        if r[0] != OK {
            return r;
        }
        let Value::Map(m) = decode(&r[1..]).unwrap() else {
            panic!("token answer not a map")
        };
        s.decrypt(&bytes(get(&m, 2))).unwrap().to_vec()
    }

    fn pin_token(&mut self, pin: &str, permissions: i64, rp: Option<&str>) -> Vec<u8> {
        let t = self.pin_token_raw(pin, permissions, rp);
        assert_eq!(t.len(), 32, "token: {}", hex::encode(&t));
        t
    }

    fn read(&mut self, offset: i64, get_len: i64) -> Vec<u8> {
        let m = self.ok_map(
            &msg(0x0C, &imap(vec![(1, int(get_len)), (3, int(offset))])),
            "largeBlobs get",
        );
        bytes(get(&m, 1))
    }

    fn read_all(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let chunk = self.read(out.len() as i64, 1000);
            out.extend_from_slice(&chunk);
            if chunk.len() < 1000 {
                return out;
            }
        }
    }

    /// One `set` fragment; with `token`, authorised by it (protocol 2).
    fn set_msg(
        &self,
        fragment: &[u8],
        offset: u32,
        length: Option<usize>,
        token: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut e = vec![(2, bstr(fragment)), (3, int(offset.into()))];
        if let Some(l) = length {
            e.push((4, int(l as i64)));
        }
        if let Some(t) = token {
            e.push((5, bstr(&hmac_sha256(t, &auth_message(offset, fragment)))));
            e.push((6, int(2)));
        }
        msg(0x0C, &imap(e))
    }

    /// Writes `serialized` in fragments of `chunk` bytes.
    fn write(&mut self, serialized: &[u8], chunk: usize, token: Option<&[u8]>) -> u8 {
        let mut last = OK;
        for (i, fragment) in serialized.chunks(chunk).enumerate() {
            let offset = (i * chunk) as u32;
            let length = (i == 0).then_some(serialized.len());
            let m = self.set_msg(fragment, offset, length, token);
            let r = self.a.process(&m);
            assert_eq!(r.len(), 1, "a set answers no body");
            last = r[0];
            if last != OK {
                return last;
            }
        }
        last
    }

    fn make(&mut self, rk: bool, extensions: Value, token: Option<&[u8]>) -> Vec<u8> {
        let cdh = [7u8; 32];
        let mut e = vec![
            (1, bstr(&cdh)),
            (2, ctap_map(&[("id", txt("example.com"))])),
            (3, ctap_map(&[("id", bstr(b"user-1")), ("name", txt("u"))])),
            (
                4,
                Value::Array(vec![ctap_map(&[
                    ("alg", int(-7)),
                    ("type", txt("public-key")),
                ])]),
            ),
            (6, extensions),
            (7, ctap_map(&[("rk", Value::Bool(rk))])),
        ];
        if let Some(t) = token {
            e.push((8, bstr(&hmac_sha256(t, &cdh))));
            e.push((9, int(2)));
        }
        self.a.process(&msg(0x01, &imap(e)))
    }

    fn assert_get(&mut self, extensions: Value) -> Vec<(Value, Value)> {
        let m = msg(
            0x02,
            &imap(vec![
                (1, txt("example.com")),
                (2, bstr(&[9u8; 32])),
                (4, extensions),
            ]),
        );
        self.ok_map(&m, "getAssertion")
    }
}

fn ctap_map(e: &[(&str, Value)]) -> Value {
    fauxkey::cbor::map(e.iter().map(|(k, v)| (*k, v.clone())))
}

fn auth_data_extensions(response: &[(Value, Value)], key: i64) -> Vec<(Value, Value)> {
    let auth = AuthenticatorData::parse(&bytes(get(response, key))).unwrap();
    match auth.extensions {
        Some(Value::Map(m)) => m,
        None => Vec::new(),
        other => panic!("extensions: {other:?}"),
    }
}

/// A serialized array holding one opaque entry map, as a platform would write it.
fn array_with(payload: &[u8]) -> Vec<u8> {
    let entry = fauxkey::cbor::map([
        (1, bstr(payload)),
        (2, bstr(&[0u8; 12])),
        (3, int(payload.len() as i64)),
    ]);
    serialize(&fauxkey::cbor::encode(&Value::Array(vec![entry])))
}

#[test]
fn get_info_announces_large_blobs_and_the_extensions() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let info = r.ok_map(&[0x04], "getInfo");
    let Some(Value::Array(ext)) = get(&info, 2) else {
        panic!("no extensions")
    };
    for name in ["credBlob", "hmac-secret-mc", "largeBlobKey", "minPinLength"] {
        assert!(ext.contains(&txt(name)), "{name} in {ext:?}");
    }
    let Some(Value::Map(options)) = get(&info, 4) else {
        panic!("no options")
    };
    assert!(options.contains(&(txt("largeBlobs"), Value::Bool(true))));
    assert_eq!(
        get(&info, 0x0B),
        Some(int(4096)),
        "maxSerializedLargeBlobArray"
    );
    assert_eq!(get(&info, 0x0F), Some(int(32)), "maxCredBlobLength");
    let Some(Value::Array(versions)) = get(&info, 1) else {
        panic!("no versions")
    };
    assert!(!versions.contains(&txt("FIDO_2_2")) && !versions.contains(&txt("FIDO_2_3")));

    // Without largeBlobKey in the config: no option, no limit, no command.
    let mut plain = Rig::new(PIN_ONLY, Config::default());
    let info = plain.ok_map(&[0x04], "getInfo");
    let Some(Value::Map(options)) = get(&info, 4) else {
        panic!("no options")
    };
    assert!(!options.iter().any(|(k, _)| *k == txt("largeBlobs")));
    assert_eq!(get(&info, 0x0B), None);
    assert_eq!(get(&info, 0x0F), None);
    plain.status(
        &msg(0x0C, &imap(vec![(1, int(10)), (3, int(0))])),
        INVALID_COMMAND,
        "largeBlobs on a device without them",
    );
    // …and the lbw permission is not granted there.
    plain.set_pin("1234");
    assert_eq!(
        plain.pin_token_raw("1234", LBW, None),
        vec![UNAUTHORIZED_PERMISSION]
    );
}

#[test]
fn a_fresh_array_is_the_empty_one_and_reads_in_fragments() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    assert_eq!(r.read(0, 1000), initial_array());
    assert_eq!(
        hex::encode(initial_array()),
        "8076be8b528d0075f7aae98d6fa57a6d3c"
    );
    assert_eq!(r.read(5, 3), initial_array()[5..8]);
    assert_eq!(r.read(17, 10), Vec::<u8>::new(), "offset at the end");
    assert_eq!(r.read(0, 0), Vec::<u8>::new());
}

#[test]
fn an_unprotected_authenticator_takes_a_write_in_fragments() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let array = array_with(&[0x5a; 300]);
    assert_eq!(r.write(&array, 100, None), OK);
    assert_eq!(r.read_all(), array);
    // A second write replaces it; writing the initial array brings it back.
    assert_eq!(r.write(&initial_array(), 17, None), OK);
    assert_eq!(r.read_all(), initial_array());
}

#[test]
fn with_a_pin_a_write_needs_a_token_holding_lbw() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    r.set_pin("1234");
    let array = array_with(b"secret entry");
    assert_eq!(r.write(&array, 20, None), PUAT_REQUIRED);
    // A token with mc only does not do.
    let mc = r.pin_token("1234", MC, Some("example.com"));
    assert_eq!(r.write(&array, 20, Some(&mc)), PIN_AUTH_INVALID);
    // lbw needs no RP ID.
    let lbw = r.pin_token("1234", LBW, None);
    assert_eq!(r.write(&array, 20, Some(&lbw)), OK);
    assert_eq!(r.read_all(), array);
    // A pinUvAuthParam over another offset does not verify.
    let wrong = hmac_sha256(&lbw, &auth_message(1, &array[..20]));
    let m = msg(
        0x0C,
        &imap(vec![
            (2, bstr(&array[..20])),
            (3, int(0)),
            (4, int(array.len() as i64)),
            (5, bstr(&wrong)),
            (6, int(2)),
        ]),
    );
    r.status(
        &m,
        PIN_AUTH_INVALID,
        "param over offset 1 sent with offset 0",
    );
    // Reads need no token.
    assert_eq!(r.read(0, 5), array[..5]);
}

#[test]
fn an_lbw_token_survives_a_registration_that_drops_the_others() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    r.set_pin("1234");
    let token = r.pin_token("1234", MC | LBW, Some("example.com"));
    let made = r.make(true, ctap_map(&[]), Some(&token));
    assert_eq!(made[0], OK, "{}", hex::encode(&made));
    // mc is gone (CTAP 2.1 §6.1.2 step 14), lbw stays.
    assert_eq!(
        r.make(true, ctap_map(&[]), Some(&token)),
        vec![PIN_AUTH_INVALID]
    );
    assert_eq!(r.write(&array_with(b"after"), 64, Some(&token)), OK);
}

#[test]
fn a_wrong_checksum_is_an_integrity_failure_and_changes_nothing() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let mut array = array_with(b"entry");
    let last = array.len() - 1;
    array[last] ^= 1;
    assert_eq!(r.write(&array, 10, None), INTEGRITY_FAILURE);
    assert_eq!(r.read_all(), initial_array());
    // The failed write is over: a continuation is out of sequence.
    let m = r.set_msg(&[0; 5], 10, None, None);
    r.status(&m, INVALID_SEQ, "continuing a failed write");
}

/// Every malformed authenticatorLargeBlobs request, with its exact status byte.
#[test]
fn malformed_large_blobs_requests() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let lb = |e: Vec<(i64, Value)>| msg(0x0C, &imap(e));
    let cases: Vec<(&str, Vec<u8>, u8)> = vec![
        ("no parameters at all", vec![0x0C], INVALID_CBOR),
        ("not a map", msg(0x0C, &int(1)), UNEXPECTED_TYPE),
        ("truncated CBOR", vec![0x0C, 0xA1, 0x01], INVALID_CBOR),
        ("no offset", lb(vec![(1, int(10))]), INVALID_PARAMETER),
        (
            "neither get nor set",
            lb(vec![(3, int(0))]),
            INVALID_PARAMETER,
        ),
        (
            "both get and set",
            lb(vec![(1, int(10)), (2, bstr(b"x")), (3, int(0))]),
            INVALID_PARAMETER,
        ),
        (
            "get with length",
            lb(vec![(1, int(10)), (3, int(0)), (4, int(17))]),
            INVALID_PARAMETER,
        ),
        (
            "get with pinUvAuthParam",
            lb(vec![(1, int(10)), (3, int(0)), (5, bstr(&[0; 32]))]),
            INVALID_PARAMETER,
        ),
        (
            "get with pinUvAuthProtocol",
            lb(vec![(1, int(10)), (3, int(0)), (6, int(2))]),
            INVALID_PARAMETER,
        ),
        (
            "get over maxFragmentLength",
            lb(vec![(1, int(MAX_FRAGMENT as i64 + 1)), (3, int(0))]),
            INVALID_LENGTH,
        ),
        (
            "get past the end of the array",
            lb(vec![(1, int(1)), (3, int(18))]),
            INVALID_PARAMETER,
        ),
        (
            "get as text",
            lb(vec![(1, txt("10")), (3, int(0))]),
            UNEXPECTED_TYPE,
        ),
        (
            "negative offset",
            lb(vec![(1, int(1)), (3, int(-1))]),
            UNEXPECTED_TYPE,
        ),
        (
            "set as text",
            lb(vec![(2, txt("x")), (3, int(0)), (4, int(17))]),
            UNEXPECTED_TYPE,
        ),
        (
            "set over maxFragmentLength",
            lb(vec![
                (2, bstr(&vec![0; MAX_FRAGMENT + 1])),
                (3, int(0)),
                (4, int(17)),
            ]),
            INVALID_LENGTH,
        ),
        (
            "first set without length",
            lb(vec![(2, bstr(b"x")), (3, int(0))]),
            INVALID_PARAMETER,
        ),
        (
            "length over maxSerializedLargeBlobArray",
            lb(vec![(2, bstr(b"x")), (3, int(0)), (4, int(4097))]),
            LARGE_BLOB_STORAGE_FULL,
        ),
        (
            "length under 17",
            lb(vec![(2, bstr(b"x")), (3, int(0)), (4, int(16))]),
            INVALID_PARAMETER,
        ),
        (
            "a later fragment with length",
            lb(vec![(2, bstr(b"x")), (3, int(1)), (4, int(17))]),
            INVALID_PARAMETER,
        ),
        (
            "a later fragment with no write started",
            lb(vec![(2, bstr(b"x")), (3, int(1))]),
            INVALID_SEQ,
        ),
        (
            "pinUvAuthParam as text",
            lb(vec![(1, int(1)), (3, int(0)), (5, txt("x"))]),
            UNEXPECTED_TYPE,
        ),
    ];
    for (what, m, code) in cases {
        r.status(&m, code, what);
    }
    // Sequencing within one write.
    r.status(
        &lb(vec![(2, bstr(&[0; 10])), (3, int(0)), (4, int(20))]),
        OK,
        "first fragment",
    );
    r.status(
        &lb(vec![(2, bstr(&[0; 5])), (3, int(5))]),
        INVALID_SEQ,
        "a gap",
    );
    r.status(
        &lb(vec![
            (2, bstr(&[0; 5])),
            (3, int(0)),
            (4, int(20)),
            (9, int(0)),
        ]),
        OK,
        "offset 0 restarts the write (unknown keys ignored)",
    );
    r.status(
        &lb(vec![(2, bstr(&[0; 16])), (3, int(5))]),
        INVALID_PARAMETER,
        "past the announced length",
    );
    // With a PIN: the protocol is checked.
    r.set_pin("1234");
    r.status(
        &lb(vec![
            (2, bstr(&[0; 17])),
            (3, int(0)),
            (4, int(17)),
            (5, bstr(&[0; 32])),
        ]),
        MISSING_PARAMETER,
        "pinUvAuthParam without protocol",
    );
    r.status(
        &lb(vec![
            (2, bstr(&[0; 17])),
            (3, int(0)),
            (4, int(17)),
            (5, bstr(&[0; 32])),
            (6, int(3)),
        ]),
        INVALID_PARAMETER,
        "unknown protocol",
    );
    r.status(
        &lb(vec![
            (2, bstr(&[0; 17])),
            (3, int(0)),
            (4, int(17)),
            (5, bstr(&[0; 32])),
            (6, int(2)),
        ]),
        PIN_AUTH_INVALID,
        "no token issued",
    );
}

#[test]
fn large_blob_key_is_kept_with_a_discoverable_credential() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let yes = ctap_map(&[("largeBlobKey", Value::Bool(true))]);
    assert_eq!(
        r.make(false, yes.clone(), None),
        vec![INVALID_OPTION],
        "no rk"
    );
    assert_eq!(
        r.make(
            true,
            ctap_map(&[("largeBlobKey", Value::Bool(false))]),
            None
        ),
        vec![INVALID_OPTION],
        "false"
    );
    assert_eq!(
        r.make(true, ctap_map(&[("largeBlobKey", int(1))]), None),
        vec![UNEXPECTED_TYPE],
        "not a bool"
    );
    let made = r.make(true, yes.clone(), None);
    assert_eq!(made[0], OK);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    let key = bytes(get(&m, 5));
    assert_eq!(key.len(), 32);
    assert!(
        auth_data_extensions(&m, 2).is_empty(),
        "largeBlobKey has no authenticatorData output"
    );
    let got = r.assert_get(yes);
    assert_eq!(bytes(get(&got, 7)), key);
    let got = r.assert_get(ctap_map(&[]));
    assert_eq!(get(&got, 7), None, "only when asked");
    r.status(
        &msg(
            0x02,
            &imap(vec![
                (1, txt("example.com")),
                (2, bstr(&[9u8; 32])),
                (4, ctap_map(&[("largeBlobKey", Value::Bool(false))])),
            ]),
        ),
        INVALID_OPTION,
        "getAssertion largeBlobKey false",
    );
    // A device without large blobs ignores the input.
    let mut plain = Rig::new(PIN_ONLY, Config::default());
    let made = plain.make(
        false,
        ctap_map(&[("largeBlobKey", Value::Bool(true))]),
        None,
    );
    assert_eq!(made[0], OK);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    assert_eq!(get(&m, 5), None);
}

#[test]
fn cred_blob_is_stored_when_it_fits_and_returned_on_request() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let made = r.make(true, ctap_map(&[("credBlob", bstr(&[1; 33]))]), None);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    assert_eq!(
        text(&auth_data_extensions(&m, 2), "credBlob"),
        Some(Value::Bool(false)),
        "33 bytes do not fit"
    );
    let got = r.assert_get(ctap_map(&[("credBlob", Value::Bool(true))]));
    assert_eq!(
        text(&auth_data_extensions(&got, 2), "credBlob"),
        Some(bstr(&[])),
        "nothing stored: an empty byte string"
    );
    let made = r.make(true, ctap_map(&[("credBlob", bstr(&[2; 32]))]), None);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    assert_eq!(
        text(&auth_data_extensions(&m, 2), "credBlob"),
        Some(Value::Bool(true))
    );
    let got = r.assert_get(ctap_map(&[("credBlob", Value::Bool(true))]));
    assert_eq!(
        text(&auth_data_extensions(&got, 2), "credBlob"),
        Some(bstr(&[2; 32]))
    );
    let got = r.assert_get(ctap_map(&[]));
    assert!(auth_data_extensions(&got, 2).is_empty(), "only when asked");
    assert_eq!(
        r.make(true, ctap_map(&[("credBlob", Value::Bool(true))]), None),
        vec![UNEXPECTED_TYPE],
        "credBlob at makeCredential is bytes"
    );
}

#[test]
fn min_pin_length_is_reported_only_to_listed_rps() {
    let mut r = Rig::new(PIN_ONLY, ext_config());
    let ask = ctap_map(&[("minPinLength", Value::Bool(true))]);
    let made = r.make(true, ask.clone(), None);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    assert_eq!(text(&auth_data_extensions(&m, 2), "minPinLength"), None);
    // setMinPINLength (no PIN yet: unprotected) with example.com on the list.
    r.status(
        &msg(
            0x0D,
            &imap(vec![
                (1, int(3)),
                (
                    2,
                    imap(vec![
                        (1, int(6)),
                        (2, Value::Array(vec![txt("example.com")])),
                    ]),
                ),
            ]),
        ),
        OK,
        "setMinPINLength",
    );
    let made = r.make(true, ask, None);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    assert_eq!(
        text(&auth_data_extensions(&m, 2), "minPinLength"),
        Some(int(6))
    );
}

#[test]
fn hmac_secret_mc_evaluates_the_salts_at_registration() {
    let mut r = Rig::new(SimulatedUser::default(), ext_config());
    let salt = [0x33u8; 32];
    let s = r.secret();
    let input = |r: &mut Rig<MemoryStore>, s: &SharedSecret| {
        let enc = s.encrypt(r.rng.as_mut(), &salt).unwrap();
        imap(vec![
            (1, r.platform.public_cose()),
            (2, bstr(&enc)),
            (3, bstr(&s.authenticate(&enc))),
            (4, int(2)),
        ])
    };
    // Without hmac-secret: true, hmac-secret-mc is ignored.
    let alone = input(&mut r, &s);
    let made = r.make(true, ctap_map(&[("hmac-secret-mc", alone)]), None);
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    assert!(auth_data_extensions(&m, 2).is_empty());
    // A bad saltAuth fails before anything is made.
    let mut bad = input(&mut r, &s);
    if let Value::Map(e) = &mut bad {
        e[2].1 = bstr(&[0; 32]);
    }
    assert_eq!(
        r.make(
            true,
            ctap_map(&[("hmac-secret", Value::Bool(true)), ("hmac-secret-mc", bad)]),
            None
        ),
        vec![PIN_AUTH_INVALID]
    );
    let good = input(&mut r, &s);
    let made = r.make(
        true,
        ctap_map(&[("hmac-secret", Value::Bool(true)), ("hmac-secret-mc", good)]),
        None,
    );
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    let ext = auth_data_extensions(&m, 2);
    assert_eq!(text(&ext, "hmac-secret"), Some(Value::Bool(true)));
    let at_creation = s.decrypt(&bytes(text(&ext, "hmac-secret-mc"))).unwrap();
    assert_eq!(at_creation.len(), 32);
    // getAssertion's hmac-secret with the same salt (no UV either time) gives the same output.
    let ga_input = input(&mut r, &s);
    let got = r.assert_get(ctap_map(&[("hmac-secret", ga_input)]));
    let later = s
        .decrypt(&bytes(text(&auth_data_extensions(&got, 2), "hmac-secret")))
        .unwrap();
    assert_eq!(at_creation.as_slice(), later.as_slice());
}

#[test]
fn the_array_and_keys_survive_reopening_the_vault() {
    let dir = std::env::temp_dir().join(format!("fauxkey-ctap-ext-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vault.fxk");
    let pass = Passphrase::new("correct horse").unwrap();
    let vault = Vault::create(&path, &pass, KdfParams::INSECURE_FAST, ext_config()).unwrap();
    let mut r = Rig::over(vault, PIN_ONLY, ext_config());
    let array = array_with(&[0x42; 500]);
    assert_eq!(r.write(&array, 200, None), OK);
    let made = r.make(
        true,
        ctap_map(&[
            ("largeBlobKey", Value::Bool(true)),
            ("credBlob", bstr(b"blob")),
        ]),
        None,
    );
    let Value::Map(m) = decode(&made[1..]).unwrap() else {
        panic!()
    };
    let key = bytes(get(&m, 5));
    drop(r);
    let vault = Vault::open(&path, &pass).unwrap();
    assert_eq!(vault.device_state().large_blob_array, Some(array.clone()));
    let mut r = Rig::over(vault, PIN_ONLY, ext_config());
    assert_eq!(r.read_all(), array);
    let got = r.assert_get(ctap_map(&[
        ("largeBlobKey", Value::Bool(true)),
        ("credBlob", Value::Bool(true)),
    ]));
    assert_eq!(bytes(get(&got, 7)), key);
    assert_eq!(
        text(&auth_data_extensions(&got, 2), "credBlob"),
        Some(bstr(b"blob"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// The WebAuthn client in front of it: largeBlob, credBlob/getCredBlob, prf at create.
// ---------------------------------------------------------------------------------------------

mod client {
    use super::*;
    use fauxkey::b64url;
    use fauxkey::client::ClientError;
    use fauxkey::Client;
    use serde_json::{json, Value as Json};

    const ORIGIN: &str = "https://example.com";

    fn client_with(config: Config, user: SimulatedUser) -> Client {
        let a = Authenticator::new(config, MemoryStore::new())
            .with_rng(env::seeded_rng(3))
            .with_clock(FixedClock::at(T0))
            .with_user(user);
        Client::new(a).with_rng(env::seeded_rng(4))
    }

    fn create_options(extensions: Json) -> String {
        json!({
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": b64url::encode(b"user-1"), "name": "alice", "displayName": "Alice"},
            "challenge": b64url::encode(b"registration challenge"),
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"residentKey": "required"},
            "extensions": extensions,
        })
        .to_string()
    }

    fn get_options(allow: &[&str], extensions: Json) -> String {
        json!({
            "challenge": b64url::encode(b"authentication challenge"),
            "rpId": "example.com",
            "allowCredentials": allow.iter().map(|id| json!({"type": "public-key", "id": id})).collect::<Vec<_>>(),
            "extensions": extensions,
        })
        .to_string()
    }

    fn results(v: &impl serde::Serialize) -> Json {
        serde_json::to_value(v).unwrap()["clientExtensionResults"].clone()
    }

    fn large_blob_round_trip(user: SimulatedUser, pin: Option<&str>) {
        let mut c = client_with(ext_config(), user);
        if let Some(pin) = pin {
            c.set_pin(None, pin).unwrap();
        }
        let reg = c
            .create(
                ORIGIN,
                &create_options(json!({"largeBlob": {"support": "required"}})),
            )
            .unwrap();
        assert_eq!(results(&reg), json!({"largeBlob": {"supported": true}}));
        let id = reg.id.clone();
        let got = c
            .get(
                ORIGIN,
                &get_options(&[&id], json!({"largeBlob": {"read": true}})),
            )
            .unwrap();
        assert_eq!(
            results(&got),
            json!({"largeBlob": {}}),
            "nothing stored yet"
        );
        let blob = b"the large blob ".repeat(30);
        let got = c
            .get(
                ORIGIN,
                &get_options(
                    &[&id],
                    json!({"largeBlob": {"write": b64url::encode(&blob)}}),
                ),
            )
            .unwrap();
        assert_eq!(results(&got), json!({"largeBlob": {"written": true}}));
        let got = c
            .get(
                ORIGIN,
                &get_options(&[], json!({"largeBlob": {"read": true}})),
            )
            .unwrap();
        assert_eq!(
            results(&got),
            json!({"largeBlob": {"blob": b64url::encode(&blob)}})
        );
        // The entry on the authenticator is compressed: smaller than the blob.
        let array = c.authenticator().large_blob_array();
        assert!(array.len() < blob.len(), "{} bytes", array.len());
    }

    #[test]
    fn large_blob_round_trips_unprotected_with_uv_and_with_a_pin() {
        large_blob_round_trip(PIN_ONLY, None);
        large_blob_round_trip(SimulatedUser::default(), None);
        large_blob_round_trip(PIN_ONLY, Some("1234"));
    }

    #[test]
    fn large_blob_inputs_in_the_wrong_place_are_refused() {
        let mut c = client_with(ext_config(), PIN_ONLY);
        let bad = |c: &mut Client, create: bool, ext: Json| {
            let r = if create {
                c.create(ORIGIN, &create_options(ext)).map(|_| ())
            } else {
                c.get(ORIGIN, &get_options(&[], ext)).map(|_| ())
            };
            r.unwrap_err()
        };
        assert!(matches!(
            bad(&mut c, true, json!({"largeBlob": {"read": true}})),
            ClientError::NotSupported(_)
        ));
        let reg = c.create(ORIGIN, &create_options(json!({}))).unwrap();
        assert!(matches!(
            bad(
                &mut c,
                false,
                json!({"largeBlob": {"support": "preferred"}})
            ),
            ClientError::NotSupported(_)
        ));
        assert!(matches!(
            bad(
                &mut c,
                false,
                json!({"largeBlob": {"read": true, "write": "AAAA"}})
            ),
            ClientError::NotSupported(_)
        ));
        // write names exactly one credential.
        assert!(matches!(
            bad(&mut c, false, json!({"largeBlob": {"write": "AAAA"}})),
            ClientError::NotSupported(_)
        ));
        // A credential made without largeBlob has no key: nothing is written.
        let got = c
            .get(
                ORIGIN,
                &get_options(&[&reg.id], json!({"largeBlob": {"write": "AAAA"}})),
            )
            .unwrap();
        assert_eq!(results(&got), json!({"largeBlob": {"written": false}}));
        // A device without large blobs: "required" fails, "preferred" says unsupported.
        let mut plain = client_with(Config::default(), PIN_ONLY);
        assert!(matches!(
            plain.create(
                ORIGIN,
                &create_options(json!({"largeBlob": {"support": "required"}}))
            ),
            Err(ClientError::NotAllowed(_))
        ));
        let reg = plain
            .create(
                ORIGIN,
                &create_options(json!({"largeBlob": {"support": "preferred"}})),
            )
            .unwrap();
        assert_eq!(results(&reg), json!({"largeBlob": {"supported": false}}));
    }

    #[test]
    fn cred_blob_and_prf_at_create_reach_the_client_results() {
        let mut c = client_with(ext_config(), SimulatedUser::default());
        let salt = b64url::encode(b"salt one");
        let reg = c
            .create(
                ORIGIN,
                &create_options(json!({
                    "credBlob": b64url::encode(b"cred blob"),
                    "prf": {"eval": {"first": salt}},
                    "minPinLength": true,
                })),
            )
            .unwrap();
        let r = results(&reg);
        assert_eq!(r["credBlob"], json!(true));
        assert_eq!(r["prf"]["enabled"], json!(true));
        let at_create = r["prf"]["results"]["first"].as_str().unwrap().to_owned();
        assert_eq!(b64url::decode(&at_create).unwrap().len(), 32);
        let got = c
            .get(
                ORIGIN,
                &get_options(
                    &[&reg.id],
                    json!({"getCredBlob": true, "prf": {"eval": {"first": salt}}}),
                ),
            )
            .unwrap();
        let r = results(&got);
        assert_eq!(r["getCredBlob"], json!(b64url::encode(b"cred blob")));
        assert_eq!(r["prf"]["results"]["first"], json!(at_create));
        // Too long a credBlob is not kept.
        let reg = c
            .create(
                ORIGIN,
                &create_options(json!({"credBlob": b64url::encode(&[0u8; 33])})),
            )
            .unwrap();
        assert_eq!(results(&reg)["credBlob"], json!(false));
    }

    #[test]
    fn capabilities_follow_the_profile() {
        let caps = client_with(ext_config(), PIN_ONLY).capabilities();
        for key in [
            "extension:largeBlob",
            "extension:credBlob",
            "extension:getCredBlob",
            "extension:minPinLength",
        ] {
            assert_eq!(caps.get(key), Some(&true), "{key}");
        }
        let caps = client_with(Config::default(), PIN_ONLY).capabilities();
        assert_eq!(caps.get("extension:largeBlob"), Some(&false));
        assert_eq!(caps.get("extension:credBlob"), Some(&false));
    }
}
