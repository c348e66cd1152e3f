//! authenticatorClientPIN with a real PIN (setPIN, changePIN, getPINRetries, getPinToken,
//! getPinUvAuthTokenUsingPinWithPermissions), authenticatorConfig (0x0D) and credential
//! management under its preview code (0x41), at the `process(&[u8])` byte boundary: every
//! refusal as its exact status byte, the retries and the power-cycle rule, token permissions and
//! expiry on an injected clock, and the PIN state across a vault reopen.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ctap_support;

use ciborium::value::Value;
use fauxkey::cbor::{self, decode};
use fauxkey::crypto::pin_protocol::{hmac_sha256, KeyAgreementKey, PinProtocol, SharedSecret};
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
const UNEXPECTED_TYPE: u8 = 0x11;
const INVALID_CBOR: u8 = 0x12;
const MISSING_PARAMETER: u8 = 0x14;
const NOT_ALLOWED: u8 = 0x30;
const PIN_INVALID: u8 = 0x31;
const PIN_BLOCKED: u8 = 0x32;
const PIN_AUTH_INVALID: u8 = 0x33;
const PIN_AUTH_BLOCKED: u8 = 0x34;
const PIN_NOT_SET: u8 = 0x35;
const PUAT_REQUIRED: u8 = 0x36;
const PIN_POLICY_VIOLATION: u8 = 0x37;
const INVALID_SUBCOMMAND: u8 = 0x3E;
const UNAUTHORIZED_PERMISSION: u8 = 0x40;

fn get(m: &[(Value, Value)], k: i64) -> Value {
    m.iter()
        .find(|(key, _)| *key == int(k))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no key {k}"))
}
fn padded(pin: &str) -> Vec<u8> {
    let mut p = pin.as_bytes().to_vec();
    p.resize(64, 0);
    p
}
fn pin_hash(pin: &str) -> Vec<u8> {
    Sha256::digest(pin.as_bytes())[..16].to_vec()
}

struct Rig<S: CredentialStore> {
    a: Authenticator<S>,
    platform: KeyAgreementKey,
    clock: FixedClock,
    rng: env::Rng,
}

impl<S: CredentialStore> Rig<S> {
    fn over(store: S, user: SimulatedUser, config: Config) -> Self {
        let mut rng = env::seeded_rng(77);
        let clock = FixedClock::at(T0);
        Self {
            a: Authenticator::new(config, store)
                .with_rng(env::seeded_rng(5))
                .with_clock(clock.clone())
                .with_user(user),
            platform: KeyAgreementKey::generate(rng.as_mut()),
            clock,
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

    fn secret(&mut self, protocol: PinProtocol) -> SharedSecret {
        let m = self.ok_map(
            &msg(0x06, &imap(vec![(1, int(protocol.number())), (2, int(2))])),
            "getKeyAgreement",
        );
        self.platform.shared_secret(protocol, &get(&m, 1)).unwrap()
    }

    fn set_pin_msg(&mut self, protocol: PinProtocol, pin: &str) -> Vec<u8> {
        let s = self.secret(protocol);
        let enc = s.encrypt(self.rng.as_mut(), &padded(pin)).unwrap();
        let auth = s.authenticate(&enc);
        msg(
            0x06,
            &imap(vec![
                (1, int(protocol.number())),
                (2, int(3)),
                (3, self.platform.public_cose()),
                (4, bstr(&auth)),
                (5, bstr(&enc)),
            ]),
        )
    }

    fn set_pin(&mut self, protocol: PinProtocol, pin: &str) -> Vec<u8> {
        let m = self.set_pin_msg(protocol, pin);
        self.a.process(&m)
    }

    fn change_pin(&mut self, protocol: PinProtocol, current: &str, new: &str) -> Vec<u8> {
        let s = self.secret(protocol);
        let new_enc = s.encrypt(self.rng.as_mut(), &padded(new)).unwrap();
        let hash_enc = s.encrypt(self.rng.as_mut(), &pin_hash(current)).unwrap();
        let auth = s.authenticate(&[new_enc.as_slice(), &hash_enc].concat());
        self.a.process(&msg(
            0x06,
            &imap(vec![
                (1, int(protocol.number())),
                (2, int(4)),
                (3, self.platform.public_cose()),
                (4, bstr(&auth)),
                (5, bstr(&new_enc)),
                (6, bstr(&hash_enc)),
            ]),
        ))
    }

    /// getPinToken (permissions None) or …UsingPinWithPermissions; the raw answer and the
    /// shared secret it is encrypted with.
    fn pin_token_raw(
        &mut self,
        protocol: PinProtocol,
        pin: &str,
        permissions: Option<i64>,
        rp: Option<&str>,
    ) -> (Vec<u8>, SharedSecret) {
        let s = self.secret(protocol);
        let hash_enc = s.encrypt(self.rng.as_mut(), &pin_hash(pin)).unwrap();
        let mut e = vec![
            (1, int(protocol.number())),
            (2, int(if permissions.is_some() { 9 } else { 5 })),
            (3, self.platform.public_cose()),
            (6, bstr(&hash_enc)),
        ];
        if let Some(p) = permissions {
            e.push((9, int(p)));
        }
        if let Some(rp) = rp {
            e.push((0x0A, txt(rp)));
        }
        (self.a.process(&msg(0x06, &imap(e))), s)
    }

    fn pin_token(
        &mut self,
        protocol: PinProtocol,
        pin: &str,
        permissions: Option<i64>,
        rp: Option<&str>,
    ) -> Vec<u8> {
        let (r, s) = self.pin_token_raw(protocol, pin, permissions, rp);
        assert_eq!(r[0], OK, "token: {}", hex::encode(&r));
        let m = match decode(&r[1..]).unwrap() {
            Value::Map(m) => m,
            other => panic!("{other:?}"),
        };
        let Value::Bytes(enc) = get(&m, 2) else {
            panic!("token not bytes")
        };
        s.decrypt(&enc).unwrap().to_vec()
    }

    fn retries(&mut self) -> (i64, bool) {
        let m = self.ok_map(&msg(0x06, &imap(vec![(2, int(1))])), "getPINRetries");
        let Value::Integer(n) = get(&m, 3) else {
            panic!()
        };
        let Value::Bool(pc) = get(&m, 4) else {
            panic!()
        };
        (i128::from(n) as i64, pc)
    }

    fn make(&mut self, rk: bool, token: Option<(&[u8], PinProtocol)>) -> Vec<u8> {
        let cdh = [0x11; 32];
        let mut e = vec![
            (1, bstr(&cdh)),
            (2, cbor::map([("id", txt("example.com"))])),
            (
                3,
                cbor::map([("id", bstr(b"user")), ("name", txt("alice"))]),
            ),
            (
                4,
                Value::Array(vec![cbor::map([
                    ("alg", int(-7)),
                    ("type", txt("public-key")),
                ])]),
            ),
            (7, cbor::map([("rk", Value::Bool(rk))])),
        ];
        if let Some((t, p)) = token {
            let mac = hmac_sha256(t, &cdh);
            let n = if p == PinProtocol::One { 16 } else { 32 };
            e.push((8, bstr(&mac[..n])));
            e.push((9, int(p.number())));
        }
        self.a.process(&msg(0x01, &imap(e)))
    }

    fn config_msg(&self, sub: i64, params: Option<Value>, token: Option<&[u8]>) -> Vec<u8> {
        let mut e = vec![(1, int(sub))];
        let mut message = vec![0xff; 32];
        message.extend([0x0d, sub as u8]);
        if let Some(p) = &params {
            message.extend(cbor::encode(p));
            e.push((2, p.clone()));
        }
        if let Some(t) = token {
            e.push((3, int(2)));
            e.push((4, bstr(&hmac_sha256(t, &message))));
        }
        msg(0x0D, &imap(e))
    }
}

fn rig(user: SimulatedUser) -> Rig<MemoryStore> {
    Rig::over(MemoryStore::new(), user, Config::default())
}

fn info_options(r: &mut Rig<impl CredentialStore>) -> Vec<(Value, Value)> {
    let m = r.ok_map(&[0x04], "getInfo");
    match get(&m, 4) {
        Value::Map(o) => o,
        _ => panic!(),
    }
}

fn option(o: &[(Value, Value)], name: &str) -> Option<bool> {
    o.iter()
        .find(|(k, _)| *k == txt(name))
        .map(|(_, v)| *v == Value::Bool(true))
}

#[test]
fn set_pin_then_tokens_from_it_in_both_protocols() {
    for protocol in [PinProtocol::One, PinProtocol::Two] {
        let mut r = rig(PIN_ONLY);
        assert_eq!(option(&info_options(&mut r), "clientPin"), Some(false));
        // No PIN yet: a token cannot be had and a zero-length pinUvAuthParam says so.
        let (raw, _) = r.pin_token_raw(protocol, "1234", None, None);
        assert_eq!(raw, vec![PIN_NOT_SET]);
        assert_eq!(r.set_pin(protocol, "1234"), vec![OK]);
        assert_eq!(option(&info_options(&mut r), "clientPin"), Some(true));
        // A second setPIN is refused.
        assert_eq!(r.set_pin(protocol, "5678"), vec![NOT_ALLOWED]);
        assert_eq!(r.retries(), (8, false));
        // With a PIN, every makeCredential needs a token (no makeCredUvNotRqd).
        assert_eq!(r.make(true, None), vec![PUAT_REQUIRED]);
        assert_eq!(r.make(false, None), vec![PUAT_REQUIRED]);
        let token = r.pin_token(protocol, "1234", None, None);
        let made = r.make(true, Some((&token, protocol)));
        assert_eq!(made[0], OK, "{}", hex::encode(&made));
        // The flags byte of authData has UV (0x04) set.
        let Value::Map(m) = decode(&made[1..]).unwrap() else {
            panic!()
        };
        let Value::Bytes(ad) = get(&m, 2) else {
            panic!()
        };
        assert_eq!(ad[32] & 0x04, 0x04, "UV flag");
        // After one makeCredential the token has lost mc (only lbw survives).
        assert_eq!(
            r.make(true, Some((&token, protocol))),
            vec![PIN_AUTH_INVALID]
        );
    }
}

#[test]
fn wrong_pins_count_down_three_in_a_row_need_a_power_cycle_and_eight_block() {
    let mut r = rig(PIN_ONLY);
    assert_eq!(r.set_pin(PinProtocol::Two, "1234"), vec![OK]);
    let two = PinProtocol::Two;
    assert_eq!(
        r.pin_token_raw(two, "0000", None, None).0,
        vec![PIN_INVALID]
    );
    assert_eq!(
        r.pin_token_raw(two, "0000", None, None).0,
        vec![PIN_INVALID]
    );
    assert_eq!(r.retries(), (6, false));
    // The third wrong PIN in a row asks for a power cycle …
    assert_eq!(
        r.pin_token_raw(two, "0000", None, None).0,
        vec![PIN_AUTH_BLOCKED]
    );
    assert_eq!(r.retries(), (5, true));
    // … and until then even the right PIN is refused, without spending a retry.
    assert_eq!(
        r.pin_token_raw(two, "1234", None, None).0,
        vec![PIN_AUTH_BLOCKED]
    );
    assert_eq!(r.retries(), (5, true));
    r.a.power_cycle();
    assert_eq!(r.retries(), (5, false));
    // The right PIN restores all eight.
    r.pin_token(two, "1234", None, None);
    assert_eq!(r.retries(), (8, false));
    // Eight wrong PINs (with power cycles in between) block it for good.
    let mut last = Vec::new();
    for i in 0..8 {
        if i % 3 == 0 {
            r.a.power_cycle();
        }
        last = r.pin_token_raw(two, "9999", None, None).0;
    }
    assert_eq!(last, vec![PIN_BLOCKED]);
    assert_eq!(r.retries().0, 0);
    r.a.power_cycle();
    assert_eq!(
        r.pin_token_raw(two, "1234", None, None).0,
        vec![PIN_BLOCKED]
    );
    assert_eq!(r.change_pin(two, "1234", "5678"), vec![PIN_BLOCKED]);
    // Only a reset helps: it removes the PIN.
    r.status(&[0x07], OK, "reset");
    assert_eq!(r.retries(), (8, false));
    assert_eq!(option(&info_options(&mut r), "clientPin"), Some(false));
}

#[test]
fn change_pin_checks_the_current_pin_and_the_policy() {
    let mut r = rig(PIN_ONLY);
    let one = PinProtocol::One;
    assert_eq!(r.change_pin(one, "1234", "5678"), vec![PIN_NOT_SET]);
    assert_eq!(r.set_pin(one, "123"), vec![PIN_POLICY_VIOLATION], "below 4");
    let long = "x".repeat(64);
    assert_eq!(
        r.set_pin(one, &long),
        vec![PIN_POLICY_VIOLATION],
        "64 bytes"
    );
    // Four code points of two bytes each pass (length counts code points).
    assert_eq!(r.set_pin(one, "ääää"), vec![OK]);
    assert_eq!(r.change_pin(one, "0000", "5678"), vec![PIN_INVALID]);
    assert_eq!(r.retries().0, 7);
    assert_eq!(r.change_pin(one, "ääää", "56"), vec![PIN_POLICY_VIOLATION]);
    // The right current PIN restored the retries even though the new one was refused.
    assert_eq!(r.retries().0, 8);
    let old_token = r.pin_token(one, "ääää", None, None);
    assert_eq!(r.change_pin(one, "ääää", "5678"), vec![OK]);
    // changePIN invalidates every token.
    assert_eq!(
        r.make(true, Some((&old_token, one))),
        vec![PIN_AUTH_INVALID]
    );
    r.pin_token(one, "5678", None, None);
}

#[test]
fn permissions_rp_binding_and_expiry() {
    let mut r = rig(PIN_ONLY);
    let two = PinProtocol::Two;
    assert_eq!(r.set_pin(two, "1234"), vec![OK]);
    // mc without an RP ID, no permission at all, bio enrollment, and getPinToken with
    // permissions are each refused.
    assert_eq!(
        r.pin_token_raw(two, "1234", Some(1), None).0,
        vec![MISSING_PARAMETER]
    );
    assert_eq!(
        r.pin_token_raw(two, "1234", Some(0), None).0,
        vec![INVALID_PARAMETER]
    );
    assert_eq!(
        r.pin_token_raw(two, "1234", Some(0x08), None).0,
        vec![UNAUTHORIZED_PERMISSION]
    );
    // A token bound to another RP does not make a credential here.
    let other = r.pin_token(two, "1234", Some(1), Some("other.example"));
    assert_eq!(r.make(true, Some((&other, two))), vec![PIN_AUTH_INVALID]);
    // A cm-only token cannot make credentials.
    let cm = r.pin_token(two, "1234", Some(4), None);
    assert_eq!(r.make(true, Some((&cm, two))), vec![PIN_AUTH_INVALID]);
    // A token unused for 30 s expires (initial usage time limit).
    let t = r.pin_token(two, "1234", Some(1), Some("example.com"));
    r.clock.advance(30_000);
    assert_eq!(r.make(true, Some((&t, two))), vec![PIN_AUTH_INVALID]);
    // One used within the limit works.
    let t = r.pin_token(two, "1234", Some(3), Some("example.com"));
    r.clock.advance(29_000);
    assert_eq!(r.make(false, Some((&t, two)))[0], OK);
}

#[test]
fn authenticator_config_min_pin_length_force_change_always_uv() {
    let mut r = rig(PIN_ONLY);
    let two = PinProtocol::Two;
    // Without a PIN or built-in UV, config needs no token.
    let m = r.config_msg(0x03, Some(imap(vec![(1, int(6))])), None);
    r.status(&m, OK, "setMinPINLength 6, unprotected");
    let m = r.ok_map(&[0x04], "getInfo");
    assert_eq!(get(&m, 0x0D), int(6));
    assert_eq!(r.set_pin(two, "12345"), vec![PIN_POLICY_VIOLATION]);
    assert_eq!(r.set_pin(two, "123456"), vec![OK]);
    // Now protected: no param → PUAT_REQUIRED; a token without acfg → PIN_AUTH_INVALID.
    let m = r.config_msg(0x02, None, None);
    r.status(&m, PUAT_REQUIRED, "toggleAlwaysUv without a token");
    let ga = r.pin_token(two, "123456", Some(2), Some("example.com"));
    let m = r.config_msg(0x02, None, Some(&ga));
    r.status(&m, PIN_AUTH_INVALID, "toggleAlwaysUv, no acfg");
    let acfg = r.pin_token(two, "123456", Some(0x20), None);
    // The minimum never goes down.
    let m = r.config_msg(0x03, Some(imap(vec![(1, int(4))])), Some(&acfg));
    r.status(&m, PIN_POLICY_VIOLATION, "lower minimum");
    // Raising it above the PIN's length forces a change.
    let m = r.config_msg(
        0x03,
        Some(imap(vec![
            (1, int(8)),
            (2, Value::Array(vec![txt("example.com")])),
        ])),
        Some(&acfg),
    );
    r.status(&m, OK, "setMinPINLength 8");
    let m = r.ok_map(&[0x04], "getInfo");
    assert_eq!(get(&m, 0x0C), Value::Bool(true), "forcePINChange");
    assert_eq!(
        r.pin_token_raw(two, "123456", None, None).0,
        vec![PIN_POLICY_VIOLATION]
    );
    assert_eq!(
        r.change_pin(two, "123456", "123456"),
        vec![PIN_POLICY_VIOLATION]
    );
    assert_eq!(r.change_pin(two, "123456", "12345678"), vec![OK]);
    let m = r.ok_map(&[0x04], "getInfo");
    assert_eq!(get(&m, 0x0C), Value::Bool(false));
    // alwaysUv: every ceremony needs a token.
    let acfg = r.pin_token(two, "12345678", Some(0x20), None);
    let m = r.config_msg(0x02, None, Some(&acfg));
    r.status(&m, OK, "toggleAlwaysUv");
    assert_eq!(option(&info_options(&mut r), "alwaysUv"), Some(true));
    assert_eq!(option(&info_options(&mut r), "makeCredUvNotRqd"), None);
    // getAssertion without a token is refused too (PIN-only: no built-in UV to fall back on).
    let ga = msg(
        0x02,
        &imap(vec![(1, txt("example.com")), (2, bstr(&[0x22; 32]))]),
    );
    r.status(&ga, PUAT_REQUIRED, "alwaysUv getAssertion");
    // Enterprise attestation needs an attestation certificate (the default config has none).
    let m = r.config_msg(0x01, None, Some(&acfg));
    r.status(&m, 0x2B, "enableEnterpriseAttestation unsupported");
}

#[test]
fn credential_management_answers_on_the_preview_code() {
    let mut r = rig(PIN_ONLY);
    let two = PinProtocol::Two;
    assert_eq!(r.set_pin(two, "1234"), vec![OK]);
    let t = r.pin_token(two, "1234", Some(1), Some("example.com"));
    assert_eq!(r.make(true, Some((&t, two)))[0], OK);
    let cm = r.pin_token(two, "1234", Some(4), None);
    let mac = hmac_sha256(&cm, &[0x01]);
    let request = imap(vec![(1, int(1)), (3, int(2)), (4, bstr(&mac))]);
    for code in [0x0A, 0x41] {
        let m = r.ok_map(&msg(code, &request), "getCredsMetadata");
        assert_eq!(get(&m, 1), int(1), "command 0x{code:02x}");
    }
    let o = info_options(&mut r);
    assert_eq!(option(&o, "credMgmt"), Some(true));
    assert_eq!(option(&o, "credentialMgmtPreview"), Some(true));
}

#[test]
fn pin_state_survives_reopening_the_vault() {
    let dir = std::env::temp_dir().join(format!("fauxkey-pin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("vault.fxk");
    let pass = Passphrase::new("correct horse").unwrap();
    let vault = Vault::create(&path, &pass, KdfParams::INSECURE_FAST, Config::default()).unwrap();
    let mut r = Rig::over(vault, PIN_ONLY, Config::default());
    assert_eq!(r.set_pin(PinProtocol::Two, "1234"), vec![OK]);
    assert_eq!(
        r.pin_token_raw(PinProtocol::Two, "0000", None, None).0,
        vec![PIN_INVALID]
    );
    drop(r);
    // A restart is a power cycle: the retries stay spent, the PIN stays set.
    let vault = Vault::open(&path, &pass).unwrap();
    let state = vault.device_state();
    assert_eq!(state.pin_retries, 7);
    assert_eq!(state.pin_hash.map(|h| h.to_vec()), Some(pin_hash("1234")));
    let mut r = Rig::over(vault, PIN_ONLY, Config::default());
    assert_eq!(r.retries(), (7, false));
    r.pin_token(PinProtocol::Two, "1234", None, None);
    assert_eq!(
        Vault::open(&path, &pass)
            .unwrap()
            .device_state()
            .pin_retries,
        8
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Malformed ClientPIN, Config and 0x41 requests, each with its exact status byte.
#[test]
fn malformed_input_table() {
    let mut r = rig(PIN_ONLY);
    let ka = r.platform.public_cose();
    let cases: Vec<(&str, Vec<u8>, u8)> = vec![
        ("clientPIN: not a map", msg(0x06, &int(1)), UNEXPECTED_TYPE),
        (
            "clientPIN: truncated CBOR",
            vec![0x06, 0xa1, 0x02],
            INVALID_CBOR,
        ),
        (
            "clientPIN: no subcommand",
            msg(0x06, &imap(vec![(1, int(2))])),
            MISSING_PARAMETER,
        ),
        (
            "clientPIN: subcommand text",
            msg(0x06, &imap(vec![(2, txt("x"))])),
            UNEXPECTED_TYPE,
        ),
        (
            "clientPIN: unknown subcommand",
            msg(0x06, &imap(vec![(1, int(2)), (2, int(8))])),
            INVALID_SUBCOMMAND,
        ),
        (
            "clientPIN: setPIN without protocol",
            msg(0x06, &imap(vec![(2, int(3))])),
            MISSING_PARAMETER,
        ),
        (
            "clientPIN: protocol 3",
            msg(0x06, &imap(vec![(1, int(3)), (2, int(3))])),
            INVALID_PARAMETER,
        ),
        (
            "clientPIN: setPIN without newPinEnc",
            msg(
                0x06,
                &imap(vec![
                    (1, int(2)),
                    (2, int(3)),
                    (3, ka.clone()),
                    (4, bstr(&[0; 32])),
                ]),
            ),
            MISSING_PARAMETER,
        ),
        (
            "clientPIN: setPIN bad auth",
            msg(
                0x06,
                &imap(vec![
                    (1, int(2)),
                    (2, int(3)),
                    (3, ka.clone()),
                    (4, bstr(&[0; 32])),
                    (5, bstr(&[0; 80])),
                ]),
            ),
            PIN_AUTH_INVALID,
        ),
        (
            "clientPIN: keyAgreement not a map",
            msg(0x06, &imap(vec![(1, int(2)), (2, int(3)), (3, int(1))])),
            UNEXPECTED_TYPE,
        ),
        (
            "clientPIN: keyAgreement not a P-256 key",
            msg(
                0x06,
                &imap(vec![
                    (1, int(2)),
                    (2, int(3)),
                    (3, imap(vec![(1, int(2))])),
                    (4, bstr(&[0; 32])),
                    (5, bstr(&[0; 80])),
                ]),
            ),
            INVALID_PARAMETER,
        ),
        (
            "clientPIN: newPinEnc text",
            msg(0x06, &imap(vec![(1, int(2)), (2, int(3)), (5, txt("x"))])),
            UNEXPECTED_TYPE,
        ),
        (
            "clientPIN: getPinToken, no PIN",
            msg(
                0x06,
                &imap(vec![
                    (1, int(2)),
                    (2, int(5)),
                    (3, ka.clone()),
                    (6, bstr(&[0; 32])),
                ]),
            ),
            PIN_NOT_SET,
        ),
        (
            "clientPIN: getPinToken with permissions",
            msg(
                0x06,
                &imap(vec![
                    (1, int(2)),
                    (2, int(5)),
                    (3, ka.clone()),
                    (6, bstr(&[0; 32])),
                    (9, int(1)),
                ]),
            ),
            INVALID_PARAMETER,
        ),
        (
            "clientPIN: permissions as text",
            msg(0x06, &imap(vec![(2, int(9)), (9, txt("mc"))])),
            UNEXPECTED_TYPE,
        ),
        (
            "clientPIN: getUVRetries, no built-in UV",
            msg(0x06, &imap(vec![(2, int(7))])),
            NOT_ALLOWED,
        ),
        ("config: empty", vec![0x0D], INVALID_CBOR),
        ("config: not a map", msg(0x0D, &int(1)), UNEXPECTED_TYPE),
        (
            "config: no subcommand",
            msg(0x0D, &imap(vec![])),
            MISSING_PARAMETER,
        ),
        (
            "config: unknown subcommand",
            msg(0x0D, &imap(vec![(1, int(0x7f))])),
            INVALID_SUBCOMMAND,
        ),
        (
            "config: params not a map",
            msg(0x0D, &imap(vec![(1, int(3)), (2, int(1))])),
            UNEXPECTED_TYPE,
        ),
        (
            "config: RP IDs not text",
            msg(
                0x0D,
                &imap(vec![
                    (1, int(3)),
                    (2, imap(vec![(2, Value::Array(vec![int(1)]))])),
                ]),
            ),
            UNEXPECTED_TYPE,
        ),
        (
            "config: min length 300",
            msg(
                0x0D,
                &imap(vec![(1, int(3)), (2, imap(vec![(1, int(300))]))]),
            ),
            PIN_POLICY_VIOLATION,
        ),
        (
            "config: force change without a PIN",
            msg(
                0x0D,
                &imap(vec![(1, int(3)), (2, imap(vec![(3, Value::Bool(true))]))]),
            ),
            PIN_NOT_SET,
        ),
        (
            "config: too many RP IDs",
            msg(
                0x0D,
                &imap(vec![
                    (1, int(3)),
                    (
                        2,
                        imap(vec![(
                            2,
                            Value::Array((0..9).map(|i| txt(&format!("rp{i}"))).collect()),
                        )]),
                    ),
                ]),
            ),
            INVALID_PARAMETER,
        ),
        ("0x41: not a map", msg(0x41, &int(1)), UNEXPECTED_TYPE),
        (
            "0x41: no subcommand",
            msg(0x41, &imap(vec![])),
            MISSING_PARAMETER,
        ),
        (
            "0x41: no token",
            msg(0x41, &imap(vec![(1, int(1))])),
            PUAT_REQUIRED,
        ),
        (
            "0x41: unknown subcommand",
            msg(0x41, &imap(vec![(1, int(0x20))])),
            INVALID_SUBCOMMAND,
        ),
        (
            "0x40 (bio preview) is not answered",
            msg(0x40, &imap(vec![])),
            INVALID_COMMAND,
        ),
    ];
    for (what, m, code) in cases {
        r.status(&m, code, what);
    }
}

/// `fauxkey pin set|change|clear|status` writes the PIN the authenticator then checks.
#[test]
fn cli_sets_the_pin_the_authenticator_checks() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let dir = std::env::temp_dir().join(format!("fauxkey-pin-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.fxk");
    let fauxkey = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fauxkey"))
            .arg("--vault")
            .arg(&path)
            .args(args)
            .env("FAUXKEY_PASSPHRASE", "correct horse")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(fauxkey(&["init", "--insecure-fast-kdf"], "").0, 0);
    assert_eq!(fauxkey(&["pin", "set"], "1234\n").0, 0);
    let (code, _, err) = fauxkey(&["pin", "set"], "5678\n");
    assert_eq!(code, 2);
    assert!(err.contains("a PIN is already set"), "{err}");
    let (code, _, err) = fauxkey(&["pin", "change"], "0000\n5678\n");
    assert_eq!(code, 2);
    assert!(err.contains("the current PIN is wrong"), "{err}");
    let (code, _, err) = fauxkey(&["pin", "change"], "1234\n567\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("shorter than the minimum PIN length of 4"),
        "{err}"
    );
    assert_eq!(fauxkey(&["pin", "change"], "1234\n5678\n").0, 0);
    // The authenticator over the vault takes exactly that PIN.
    let pass = Passphrase::new("correct horse").unwrap();
    let mut r = Rig::over(
        Vault::open(&path, &pass).unwrap(),
        PIN_ONLY,
        Config::default(),
    );
    assert_eq!(
        r.pin_token_raw(PinProtocol::Two, "1234", None, None).0,
        vec![PIN_INVALID]
    );
    r.pin_token(PinProtocol::Two, "5678", None, None);
    drop(r);
    let (code, json, _) = fauxkey(&["pin", "status", "--json"], "");
    assert_eq!(code, 0);
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(status["pinSet"], true);
    assert_eq!(
        status["pinRetries"], 8,
        "the right PIN restored the retries"
    );
    assert_eq!(fauxkey(&["pin", "clear"], "").0, 0);
    let (_, json, _) = fauxkey(&["pin", "status", "--json"], "");
    let status: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(status["pinSet"], false);
    let _ = std::fs::remove_dir_all(&dir);
}
