//! pinUvAuthToken (clientPIN 0x06), authenticatorCredentialManagement (0x0A),
//! authenticatorSelection (0x0B) and authenticatorReset (0x07) at the `process(&[u8])` byte
//! boundary: every refusal is asserted as its exact status byte, every success by what it did to
//! the store and the event log, over the in-memory store and over the encrypted vault.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ctap_support;

use ciborium::value::Value;
use fauxkey::cbor::{self, decode};
use fauxkey::crypto::pin_protocol::{hmac_sha256, KeyAgreementKey, PinProtocol, SharedSecret};
use fauxkey::env::{self, FixedClock, Presence, SimulatedUser, Verification};
use fauxkey::store::{Change, CredentialStore, EventKind, MemoryStore};
use fauxkey::vault::{KdfParams, Passphrase, Vault};
use fauxkey::{Authenticator, Config};
use sha2::{Digest, Sha256};

use ctap_support::{bstr, imap, int, msg, txt};

const T0: u64 = 1_700_000_000_000;
const CM: i64 = 0x04;
const MC: i64 = 0x01;
const GA: i64 = 0x02;

struct Rig<S: CredentialStore> {
    a: Authenticator<S>,
    platform: KeyAgreementKey,
    clock: FixedClock,
}

fn rig(user: SimulatedUser) -> Rig<MemoryStore> {
    Rig::over(MemoryStore::new(), user)
}

impl<S: CredentialStore> Rig<S> {
    fn over(store: S, user: SimulatedUser) -> Self {
        let mut rng = env::seeded_rng(77);
        let clock = FixedClock::at(T0);
        Self {
            a: Authenticator::new(Config::default(), store)
                .with_rng(env::seeded_rng(5))
                .with_clock(clock.clone())
                .with_user(user),
            platform: KeyAgreementKey::generate(rng.as_mut()),
            clock,
        }
    }

    fn call(&mut self, m: &[u8]) -> Vec<u8> {
        self.a.process(m)
    }

    fn status(&mut self, m: &[u8], code: u8, what: &str) {
        let r = self.call(m);
        assert_eq!(r, vec![code], "{what}: got {}", hex::encode(&r));
    }

    fn ok_map(&mut self, m: &[u8], what: &str) -> Vec<(Value, Value)> {
        let r = self.call(m);
        assert_eq!(r.first(), Some(&0), "{what}: got {}", hex::encode(&r));
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
        self.platform
            .shared_secret(protocol, &get(&m, 1).clone())
            .unwrap()
    }

    fn token_request(&self, protocol: i64, permissions: i64, rp: Option<&str>) -> Vec<u8> {
        let mut e = vec![
            (1, int(protocol)),
            (2, int(6)),
            (3, self.platform.public_cose()),
            (9, int(permissions)),
        ];
        if let Some(rp) = rp {
            e.push((0x0A, txt(rp)));
        }
        msg(0x06, &imap(e))
    }

    /// A token for `permissions` (and `rp`), decrypted.
    fn token(&mut self, protocol: PinProtocol, permissions: i64, rp: Option<&str>) -> Token {
        let secret = self.secret(protocol);
        let m = self.ok_map(
            &self.token_request(protocol.number(), permissions, rp),
            "token",
        );
        let enc = match get(&m, 2) {
            Value::Bytes(b) => b.clone(),
            other => panic!("{other:?}"),
        };
        let token = secret.decrypt(&enc).unwrap().to_vec();
        assert_eq!(token.len(), 32);
        Token { protocol, token }
    }

    fn make(&mut self, rp: &str, user: &[u8], name: &str, rk: bool) -> Vec<u8> {
        let v = imap(vec![
            (1, bstr(&[0x11; 32])),
            (2, cbor::map([("id", txt(rp)), ("name", txt("RP"))])),
            (
                3,
                cbor::map([
                    ("id", bstr(user)),
                    ("name", txt(name)),
                    ("displayName", txt(name)),
                ]),
            ),
            (
                4,
                Value::Array(vec![cbor::map([
                    ("alg", int(-7)),
                    ("type", txt("public-key")),
                ])]),
            ),
            (7, cbor::map([("rk", Value::Bool(rk))])),
        ]);
        let m = self.ok_map(&msg(0x01, &v), "makeCredential");
        let auth_data = match get(&m, 2) {
            Value::Bytes(b) => b.clone(),
            other => panic!("{other:?}"),
        };
        let len = usize::from(u16::from_be_bytes([auth_data[53], auth_data[54]]));
        auth_data[55..55 + len].to_vec()
    }

    /// A credential management request, authenticated with `token` unless it is None.
    fn cm(&mut self, token: Option<&Token>, sub: i64, params: Option<Value>) -> Vec<u8> {
        let mut e = vec![(1, int(sub))];
        if let Some(p) = &params {
            e.push((2, p.clone()));
        }
        if let Some(t) = token {
            let mut m = vec![sub as u8];
            if let Some(p) = &params {
                m.extend(cbor::encode(p));
            }
            e.push((3, int(t.protocol.number())));
            e.push((4, bstr(&t.auth(&m))));
        }
        msg(0x0A, &imap(e))
    }
}

struct Token {
    protocol: PinProtocol,
    token: Vec<u8>,
}

impl Token {
    fn auth(&self, m: &[u8]) -> Vec<u8> {
        let mac = hmac_sha256(&self.token, m);
        match self.protocol {
            PinProtocol::One => mac[..16].to_vec(),
            PinProtocol::Two => mac.to_vec(),
        }
    }
}

fn get(m: &[(Value, Value)], key: i64) -> &Value {
    m.iter()
        .find(|(k, _)| *k == int(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no key {key} in {m:?}"))
}

fn has(m: &[(Value, Value)], key: i64) -> bool {
    m.iter().any(|(k, _)| *k == int(key))
}

fn rp_hash(rp: &str) -> Vec<u8> {
    Sha256::digest(rp.as_bytes()).to_vec()
}

fn cred_param(id: &[u8]) -> (i64, Value) {
    (
        2,
        cbor::map([("id", bstr(id)), ("type", txt("public-key"))]),
    )
}

fn user(u: Presence, v: Verification) -> SimulatedUser {
    SimulatedUser {
        presence: u,
        verification: v,
        account: None,
    }
}

#[test]
fn token_request_errors() {
    let mut r = rig(SimulatedUser::default());
    let ka = r.platform.public_cose();
    type Case = (&'static str, Vec<(i64, Value)>, u8);
    let cases: Vec<Case> = vec![
        ("no protocol", vec![(3, ka.clone()), (9, int(CM))], 0x14),
        ("no keyAgreement", vec![(1, int(2)), (9, int(CM))], 0x14),
        ("no permissions", vec![(1, int(2)), (3, ka.clone())], 0x14),
        (
            "protocol 3",
            vec![(1, int(3)), (3, ka.clone()), (9, int(CM))],
            0x02,
        ),
        (
            "permissions 0",
            vec![(1, int(2)), (3, ka.clone()), (9, int(0))],
            0x02,
        ),
        (
            "permissions 256",
            vec![(1, int(2)), (3, ka.clone()), (9, int(256))],
            0x02,
        ),
        (
            "be permission",
            vec![(1, int(2)), (3, ka.clone()), (9, int(0x08))],
            0x40,
        ),
        (
            "lbw permission",
            vec![(1, int(2)), (3, ka.clone()), (9, int(0x14))],
            0x40,
        ),
        (
            "mc without rpId",
            vec![(1, int(2)), (3, ka.clone()), (9, int(MC))],
            0x14,
        ),
        (
            "ga without rpId",
            vec![(1, int(2)), (3, ka.clone()), (9, int(GA | CM))],
            0x14,
        ),
        (
            "keyAgreement not P-256",
            vec![
                (1, int(2)),
                (
                    3,
                    imap(vec![(1, int(1)), (-1, int(6)), (-2, bstr(&[1; 32]))]),
                ),
                (9, int(CM)),
            ],
            0x02,
        ),
        (
            "keyAgreement not a map",
            vec![(1, int(2)), (3, bstr(&[4; 65])), (9, int(CM))],
            0x11,
        ),
        (
            "rpId not text",
            vec![
                (1, int(2)),
                (3, ka.clone()),
                (9, int(CM)),
                (0x0A, bstr(b"x")),
            ],
            0x11,
        ),
    ];
    for (what, mut e, code) in cases {
        e.push((2, int(6)));
        r.status(&msg(0x06, &imap(e)), code, what);
    }
    // Without built-in UV there is no token; failing UV is UV_INVALID.
    let mut no_uv = rig(user(Presence::Approve, Verification::NotCapable));
    let m = no_uv.token_request(2, CM, None);
    no_uv.status(&m, 0x30, "no built-in UV");
    let mut fail = rig(user(Presence::Approve, Verification::Fail));
    let m = fail.token_request(2, CM, None);
    fail.status(&m, 0x3F, "UV fails");
}

#[test]
fn token_authorises_make_credential_and_get_assertion() {
    let mut r = rig(SimulatedUser::default());
    let t = r.token(PinProtocol::Two, MC | GA, Some("example.com"));
    let cdh = [0x11; 32];
    let mc = |param: Vec<u8>, proto: i64, rp: &str| {
        msg(
            0x01,
            &imap(vec![
                (1, bstr(&cdh)),
                (2, cbor::map([("id", txt(rp))])),
                (3, cbor::map([("id", bstr(b"u"))])),
                (
                    4,
                    Value::Array(vec![cbor::map([
                        ("alg", int(-7)),
                        ("type", txt("public-key")),
                    ])]),
                ),
                (7, cbor::map([("rk", Value::Bool(true))])),
                (8, bstr(&param)),
                (9, int(proto)),
            ]),
        )
    };
    // The right MAC: UV is set without the uv option.
    let m = r.ok_map(&mc(t.auth(&cdh), 2, "example.com"), "MC with token");
    let auth_data = match get(&m, 2) {
        Value::Bytes(b) => b.clone(),
        _ => panic!(),
    };
    assert_eq!(auth_data[32] & 0x05, 0x05, "UP and UV");
    // Wrong MAC, wrong protocol, wrong RP: PIN_AUTH_INVALID.
    r.status(&mc(vec![0; 32], 2, "example.com"), 0x33, "forged MAC");
    r.status(
        &mc(t.auth(&cdh)[..16].to_vec(), 1, "example.com"),
        0x33,
        "protocol 1 MAC for a protocol 2 token",
    );
    r.status(&mc(t.auth(&cdh), 2, "other.example"), 0x33, "another RP");
    assert_eq!(r.a.store().len(), 1);
    // The token that made a credential has lost mc and ga (only lbw survives, CTAP 2.1
    // §6.1.2): the same MAC is refused now.
    r.status(&mc(t.auth(&cdh), 2, "example.com"), 0x33, "token after use");
    // getAssertion with a fresh token.
    let t = r.token(PinProtocol::Two, MC | GA, Some("example.com"));
    let ga = msg(
        0x02,
        &imap(vec![
            (1, txt("example.com")),
            (2, bstr(&cdh)),
            (6, bstr(&t.auth(&cdh))),
            (7, int(2)),
        ]),
    );
    let m = r.ok_map(&ga, "GA with token");
    match get(&m, 2) {
        Value::Bytes(b) => assert_eq!(b[32] & 0x05, 0x05),
        _ => panic!(),
    }
    // A cm-only token does not authorise makeCredential; an unbound ga token binds to its RP.
    let cm_only = r.token(PinProtocol::Two, CM, None);
    r.status(
        &mc(cm_only.auth(&cdh), 2, "example.com"),
        0x33,
        "cm token for MC",
    );
    let t1 = r.token(PinProtocol::One, MC, Some("example.com"));
    r.ok_map(&mc(t1.auth(&cdh), 1, "example.com"), "protocol 1 token");
    // A new token replaces the old one.
    r.status(
        &mc(t.auth(&cdh), 2, "example.com"),
        0x33,
        "superseded token",
    );
}

#[test]
fn credential_management_errors() {
    let mut r = rig(SimulatedUser::default());
    let id = r.make("a.example", b"ua", "alice", true);
    let t = r.token(PinProtocol::Two, CM, None);
    let m = r.cm(Some(&t), 0x08, None);
    r.status(&m, 0x3E, "subcommand 8");
    let m = r.cm(None, 0x01, None);
    r.status(&m, 0x36, "metadata without pinUvAuthParam");
    let m = msg(0x0A, &imap(vec![(1, int(1)), (4, bstr(&t.auth(&[1])))]));
    r.status(&m, 0x14, "no protocol");
    let m = msg(
        0x0A,
        &imap(vec![(1, int(1)), (3, int(3)), (4, bstr(&t.auth(&[1])))]),
    );
    r.status(&m, 0x02, "protocol 3");
    let m = msg(
        0x0A,
        &imap(vec![(1, int(1)), (3, int(2)), (4, bstr(&[0; 32]))]),
    );
    r.status(&m, 0x33, "forged MAC");
    let m = msg(
        0x0A,
        &imap(vec![(1, int(2)), (3, int(2)), (4, bstr(&t.auth(&[1])))]),
    );
    r.status(&m, 0x33, "MAC over another subcommand");
    let m = r.cm(Some(&t), 0x04, None);
    r.status(&m, 0x14, "enumerateCredentials without params");
    let m = r.cm(Some(&t), 0x04, Some(imap(vec![])));
    r.status(&m, 0x14, "enumerateCredentials without rpIDHash");
    let m = r.cm(Some(&t), 0x04, Some(imap(vec![(1, txt("a.example"))])));
    r.status(&m, 0x11, "rpIDHash as text");
    let m = msg(0x0A, &imap(vec![(1, int(4)), (2, Value::Array(vec![]))]));
    r.status(&m, 0x11, "params an array");
    let m = msg(0x0A, &imap(vec![(1, txt("x"))]));
    r.status(&m, 0x11, "subcommand as text");
    let m = msg(0x0A, &imap(vec![(2, imap(vec![]))]));
    r.status(&m, 0x14, "no subcommand");
    let m = r.cm(
        Some(&t),
        0x04,
        Some(imap(vec![(1, bstr(&rp_hash("b.example")))])),
    );
    r.status(&m, 0x2E, "no credentials for the RP");
    let m = r.cm(None, 0x03, None);
    r.status(&m, 0x30, "next RP without begin");
    let m = r.cm(None, 0x05, None);
    r.status(&m, 0x30, "next credential without begin");
    let m = r.cm(Some(&t), 0x06, Some(imap(vec![cred_param(b"nope")])));
    r.status(&m, 0x2E, "delete an unknown credential");
    let m = r.cm(Some(&t), 0x06, Some(imap(vec![])));
    r.status(&m, 0x14, "delete without credentialID");
    let m = r.cm(Some(&t), 0x07, Some(imap(vec![cred_param(&id)])));
    r.status(&m, 0x14, "update without user");
    let other_user = cbor::map([("id", bstr(b"someone-else")), ("name", txt("x"))]);
    let m = r.cm(
        Some(&t),
        0x07,
        Some(imap(vec![cred_param(&id), (3, other_user)])),
    );
    r.status(&m, 0x02, "update changing the user handle");
    // A token without cm, or bound to an RP, cannot list everything.
    let ga = r.token(PinProtocol::Two, GA, Some("a.example"));
    let m = r.cm(Some(&ga), 0x01, None);
    r.status(&m, 0x33, "ga token for metadata");
    let bound = r.token(PinProtocol::Two, CM, Some("b.example"));
    let m = r.cm(Some(&bound), 0x02, None);
    r.status(&m, 0x33, "rp-bound token for enumerateRPs");
    let m = r.cm(Some(&bound), 0x06, Some(imap(vec![cred_param(&id)])));
    r.status(&m, 0x33, "rp-bound token deleting another RP's credential");
    assert_eq!(r.a.store().len(), 1, "nothing was deleted");
    assert!(r.a.events().is_empty(), "refusals log nothing");
}

#[test]
fn enumerate_update_delete_and_events() {
    let mut r = rig(SimulatedUser::default());
    let a1 = r.make("a.example", b"u1", "alice", true);
    let a2 = r.make("a.example", b"u2", "bob", true);
    let _b = r.make("b.example", b"u3", "carol", true);
    let _nd = r.make("c.example", b"u4", "dave", false); // not discoverable: not managed
    let t = r.token(PinProtocol::Two, CM, None);

    let m = r.cm(Some(&t), 0x01, None);
    let meta = r.ok_map(&m, "metadata");
    assert_eq!(get(&meta, 1), &int(3));
    assert_eq!(
        get(&meta, 2),
        &int(i64::from(u32::MAX)),
        "the memory store has no limit"
    );

    let m = r.cm(Some(&t), 0x02, None);
    let first = r.ok_map(&m, "enumerateRPsBegin");
    assert_eq!(
        get(&first, 3),
        &cbor::map([("id", txt("a.example")), ("name", txt("RP"))])
    );
    assert_eq!(get(&first, 4), &bstr(&rp_hash("a.example")));
    assert_eq!(get(&first, 5), &int(2));
    let m = r.cm(None, 0x03, None);
    let second = r.ok_map(&m, "enumerateRPsGetNextRP");
    assert_eq!(get(&second, 4), &bstr(&rp_hash("b.example")));
    assert!(!has(&second, 5), "totalRPs only in the first response");
    let m = r.cm(None, 0x03, None);
    r.status(&m, 0x30, "no third RP");
    // Another command in between ends an enumeration.
    let m = r.cm(Some(&t), 0x02, None);
    r.ok_map(&m, "enumerateRPsBegin again");
    r.ok_map(&[0x04], "getInfo");
    let m = r.cm(None, 0x03, None);
    r.status(&m, 0x30, "next RP after another command");

    let params = imap(vec![(1, bstr(&rp_hash("a.example")))]);
    let m = r.cm(Some(&t), 0x04, Some(params.clone()));
    let c1 = r.ok_map(&m, "enumerateCredentialsBegin");
    assert_eq!(get(&c1, 9), &int(2));
    assert_eq!(
        get(&c1, 7),
        &cbor::map([("id", bstr(&a1)), ("type", txt("public-key"))])
    );
    assert_eq!(
        get(&c1, 6),
        &cbor::map([
            ("id", bstr(b"u1")),
            ("name", txt("alice")),
            ("displayName", txt("alice"))
        ])
    );
    assert_eq!(get(&c1, 0x0A), &int(1));
    match get(&c1, 8) {
        Value::Map(k) => assert_eq!(get(k, 3), &int(-7)),
        other => panic!("{other:?}"),
    }
    let m = r.cm(None, 0x05, None);
    let c2 = r.ok_map(&m, "next credential");
    assert_eq!(
        get(&c2, 7),
        &cbor::map([("id", bstr(&a2)), ("type", txt("public-key"))])
    );
    assert!(!has(&c2, 9));

    // Update bob, then delete alice: both logged as credentialManagement events.
    let new_user = cbor::map([
        ("id", bstr(b"u2")),
        ("name", txt("robert")),
        ("displayName", txt("Robert")),
    ]);
    let m = r.cm(
        Some(&t),
        0x07,
        Some(imap(vec![cred_param(&a2), (3, new_user)])),
    );
    assert_eq!(r.call(&m), vec![0x00]);
    assert_eq!(
        r.a.store().get(&a2).unwrap().user_name.as_deref(),
        Some("robert")
    );
    let m = r.cm(Some(&t), 0x06, Some(imap(vec![cred_param(&a1)])));
    assert_eq!(r.call(&m), vec![0x00]);
    assert!(r.a.store().get(&a1).is_none());
    let events = r.a.events();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.kind == EventKind::CredentialManagement));
    assert_eq!(events[0].rp_id, "a.example");
    assert!(matches!(&events[0].changes[..], [Change::Rename { name, .. }] if name == "robert"));
    assert_eq!(events[1].changes, vec![Change::Remove { id: a1.clone() }]);
    assert_eq!(events[1].user_id.as_deref(), Some(&b"u1"[..]));
    // A credential deleted during an enumeration is skipped.
    let m = r.cm(Some(&t), 0x04, Some(params));
    let only = r.ok_map(&m, "after delete");
    assert_eq!(get(&only, 9), &int(1));
    let m = r.cm(Some(&t), 0x01, None);
    assert_eq!(get(&r.ok_map(&m, "metadata"), 1), &int(2));
    // With a store limit, the remaining count is real.
    let mut limited = Rig::over(
        MemoryStore::with_capacity_limit(5),
        SimulatedUser::default(),
    );
    limited.make("a.example", b"u1", "alice", true);
    let t = limited.token(PinProtocol::One, CM, None);
    let m = limited.cm(Some(&t), 0x01, None);
    assert_eq!(get(&limited.ok_map(&m, "metadata"), 2), &int(4));
}

#[test]
fn selection_and_reset() {
    let mut r = rig(SimulatedUser::default());
    assert_eq!(r.call(&[0x0B]), vec![0x00]);
    let id = r.make("a.example", b"u1", "alice", true);
    r.make("b.example", b"u2", "bob", false);
    let t = r.token(PinProtocol::Two, CM, None);
    r.a.set_user(user(Presence::Deny, Verification::Succeed));
    assert_eq!(r.call(&[0x0B]), vec![0x27]);
    assert_eq!(r.call(&[0x07]), vec![0x27]);
    assert_eq!(r.a.store().len(), 2, "a refused reset deletes nothing");
    r.a.set_user(SimulatedUser::default());
    assert_eq!(r.call(&[0x07]), vec![0x00]);
    assert_eq!(r.a.store().len(), 0);
    let events = r.a.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Reset);
    assert_eq!(events[0].changes.len(), 2);
    assert!(events[0].changes.contains(&Change::Remove { id }));
    // The old token died with the reset.
    let m = r.cm(Some(&t), 0x01, None);
    r.status(&m, 0x33, "token from before the reset");
}

#[test]
fn credential_management_over_the_vault_persists() {
    let dir = std::env::temp_dir().join(format!("fauxkey-credman-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.fxk");
    let pass = Passphrase::new("correct horse").unwrap();
    let vault = Vault::create(&path, &pass, KdfParams::INSECURE_FAST, Config::default()).unwrap();
    let mut r = Rig::over(vault, SimulatedUser::default());
    let a = r.make("a.example", b"u1", "alice", true);
    let b = r.make("a.example", b"u2", "bob", true);
    let t = r.token(PinProtocol::Two, CM, None);
    let m = r.cm(Some(&t), 0x06, Some(imap(vec![cred_param(&a)])));
    assert_eq!(r.call(&m), vec![0x00]);
    drop(r);
    let reopened = Vault::open(&path, &pass).unwrap();
    assert!(reopened.get(&a).is_none());
    assert!(reopened.get(&b).is_some());
    let events = reopened.events();
    assert_eq!(events.last().unwrap().kind, EventKind::CredentialManagement);
    let mut r = Rig::over(reopened, SimulatedUser::default());
    assert_eq!(r.call(&[0x07]), vec![0x00]);
    drop(r);
    let reopened = Vault::open(&path, &pass).unwrap();
    assert_eq!(reopened.len(), 0);
    assert_eq!(reopened.events().last().unwrap().kind, EventKind::Reset);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_new_command_input() {
    let mut r = rig(SimulatedUser::default());
    let id = r.make("a.example", b"u1", "alice", true);
    let t = r.token(PinProtocol::Two, CM, None);
    let valid = r.cm(
        Some(&t),
        0x07,
        Some(imap(vec![
            cred_param(&id),
            (3, cbor::map([("id", bstr(b"u1")), ("name", txt("al"))])),
        ])),
    );
    // Every truncation of a valid request is malformed CBOR, and changes nothing.
    for n in 1..valid.len() {
        r.status(
            &valid[..n],
            0x12,
            &format!("credMgmt truncated to {n} bytes"),
        );
    }
    let token_request = r.token_request(2, CM, Some("a.example"));
    for n in 1..token_request.len() {
        r.status(
            &token_request[..n],
            0x12,
            &format!("token request truncated to {n} bytes"),
        );
    }
    // Invalid UTF-8 in the user's name, and in the token's rpId.
    let bad_name = valid
        .windows(3)
        .position(|w| w == [0x62, b'a', b'l'])
        .unwrap();
    let mut m = valid.clone();
    m[bad_name + 1] = 0xC3;
    r.status(&m, 0x12, "invalid UTF-8 in user.name");
    let at = token_request
        .windows(9)
        .position(|w| w == b"a.example")
        .unwrap();
    let mut m = token_request.clone();
    m[at] = 0xFF;
    r.status(&m, 0x12, "invalid UTF-8 in rpId");
    // Non-canonical: keys out of order, a long-form integer, a duplicate key.
    r.status(
        &[0x0A, 0xa2, 0x03, 0x02, 0x01, 0x01],
        0x12,
        "keys 3 before 1",
    );
    r.status(&[0x0A, 0xa1, 0x18, 0x01, 0x01], 0x12, "key 1 as 18 01");
    r.status(&[0x0A, 0xa2, 0x01, 0x01, 0x01, 0x02], 0x12, "key 1 twice");
    // Over-deep nesting inside subCommandParams.
    let mut deep = Value::Array(vec![]);
    for _ in 0..40 {
        deep = Value::Array(vec![deep]);
    }
    let mut m = vec![0x0A, 0xa2, 0x01, 0x04, 0x02, 0xa1, 0x01];
    m.extend(cbor::encode(&deep));
    r.status(&m, 0x12, "40 nested arrays");
    // Wrong types for the user entity and the credential descriptor.
    let m = r.cm(
        Some(&t),
        0x07,
        Some(imap(vec![cred_param(&id), (3, txt("alice"))])),
    );
    r.status(&m, 0x11, "user as text");
    let m = r.cm(Some(&t), 0x06, Some(imap(vec![(2, bstr(&id))])));
    r.status(&m, 0x11, "credentialID as bytes, not a descriptor");
    let m = r.cm(
        Some(&t),
        0x06,
        Some(imap(vec![(2, cbor::map([("type", txt("public-key"))]))])),
    );
    r.status(&m, 0x14, "descriptor without id");
    let m = msg(0x0A, &imap(vec![(1, int(1)), (3, int(2)), (4, txt("mac"))]));
    r.status(&m, 0x11, "pinUvAuthParam as text");
    // None of it touched the credential or the log.
    assert_eq!(
        r.a.store().get(&id).unwrap().user_name.as_deref(),
        Some("alice")
    );
    assert!(r.a.events().is_empty());
    // And the valid request still works.
    assert_eq!(r.call(&valid), vec![0x00]);
    assert_eq!(
        r.a.store().get(&id).unwrap().user_name.as_deref(),
        Some("al")
    );
}

#[test]
fn tokens_expire_after_ten_minutes() {
    let mut r = rig(SimulatedUser::default());
    r.make("a.example", b"u1", "alice", true);
    let t = r.token(PinProtocol::Two, CM, None);
    // Used within the initial usage limit (30 s), it lives on to ten minutes.
    let m = r.cm(Some(&t), 0x01, None);
    r.ok_map(&m, "metadata with a new token");
    r.clock.advance(10 * 60 * 1000 - 1);
    let m = r.cm(Some(&t), 0x01, None);
    r.ok_map(&m, "metadata just before the token expires");
    r.clock.advance(1);
    let m = r.cm(Some(&t), 0x01, None);
    r.status(&m, 0x33, "metadata with an expired token");
    // A new token works again.
    let t = r.token(PinProtocol::Two, CM, None);
    let m = r.cm(Some(&t), 0x01, None);
    r.ok_map(&m, "metadata with a fresh token");
    // One never used within 30 s of being issued is gone.
    let t = r.token(PinProtocol::Two, CM, None);
    r.clock.advance(30_000);
    let m = r.cm(Some(&t), 0x01, None);
    r.status(&m, 0x33, "metadata with a token unused for 30 s");
}
