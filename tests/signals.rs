//! The WebAuthn Level 3 signal API (§5.1.10–5.1.12): `signalUnknownCredential`,
//! `signalAllAcceptedCredentials` and `signalCurrentUserDetails`, through the library (the
//! emulated browser and the authenticator behind it) and through the `fauxkey` command line.
//!
//! The contract under test:
//! * the client validates as a browser does: base64url decode errors are `TypeError`, checked
//!   before the RP ID; then an RP ID not valid for the caller's origin is `SecurityError`; once
//!   validation passes the call succeeds whatever the authenticator does (the page learns
//!   nothing about which passkeys exist);
//! * the authenticator hides (never deletes) what a signal says is gone, shows again what an
//!   accepted list names, renames a user's passkeys, and touches nothing of other users or RPs;
//! * hidden passkeys are never offered by getAssertion, are listed only with `list --all`, come
//!   back with `restore`, and are purged only once the retention period has run out;
//! * every signal is logged (time, kind, RP ID, user, ids, changes), and the vault keeps hidden
//!   flags, hiding times, names and the log across processes.

#![allow(clippy::unwrap_used, clippy::cloned_ref_to_slice_refs)]

mod cli_support;

use std::process::Output;
use std::time::Duration;

use cli_support::{expect, Env, PASSPHRASE};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use fauxkey::authenticator::DEFAULT_HIDDEN_RETENTION_MS;
use fauxkey::client::json::AuthenticationResponseJson;
use fauxkey::client::signals::{
    AllAcceptedCredentialsOptions, CurrentUserDetailsOptions, UnknownCredentialOptions,
};
use fauxkey::client::{CallerOrigin, ClientError};
use fauxkey::crypto::keys::PublicKey;
use fauxkey::ctap2::auth_data::AuthenticatorData;
use fauxkey::ctap2::{get_assertion as ga, CredentialDescriptor, Options};
use fauxkey::env::{seeded_rng, FixedClock, SimulatedUser};
use fauxkey::store::{
    Change, Credential, CredentialStore, Event, EventKind, MemoryStore, StoreError, MAX_EVENTS,
};
use fauxkey::{b64url, Authenticator, Client, Config};

const ORIGIN: &str = "https://example.com";
const RP: &str = "example.com";
const ORG_ORIGIN: &str = "https://example.org";
const ORG: &str = "example.org";
const EVIL_ORIGIN: &str = "https://evil.example";
const NOW: u64 = 1_700_000_000_000;

// ------------------------------------------------------------------------------ library helpers

fn b64(bytes: &[u8]) -> String {
    b64url::encode(bytes)
}

/// A deterministic browser + in-memory authenticator on a clock the test moves.
fn client_with(config: Config, seed: u64) -> (Client, FixedClock) {
    let clock = FixedClock::at(NOW);
    let authenticator = Authenticator::new(config, MemoryStore::new())
        .with_rng(seeded_rng(seed))
        .with_clock(clock.clone());
    (
        Client::new(authenticator).with_rng(seeded_rng(seed ^ 0x5eed)),
        clock,
    )
}

fn client(seed: u64) -> (Client, FixedClock) {
    client_with(Config::default(), seed)
}

/// Creation options as an RP writes them; `resident_key` is `required` or `discouraged`.
fn creation_json(rp_id: &str, user_id: &[u8], name: &str, resident_key: &str) -> String {
    json!({
        "rp": {"id": rp_id, "name": "Example RP"},
        "user": {"id": b64(user_id), "name": name, "displayName": format!("{name} (display)")},
        "challenge": b64(b"a registration challenge, 32 by"),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": resident_key, "userVerification": "preferred"}
    })
    .to_string()
}

/// Registers a passkey through the client; returns its credential id.
fn register(
    c: &mut Client,
    origin: &str,
    rp_id: &str,
    user_id: &[u8],
    name: &str,
    resident_key: &str,
) -> Vec<u8> {
    let response = c
        .create(origin, &creation_json(rp_id, user_id, name, resident_key))
        .unwrap();
    b64url::decode(&response.id).unwrap()
}

fn request_json(rp_id: &str, allow: &[&[u8]], challenge: &[u8]) -> String {
    let allow: Vec<Value> = allow
        .iter()
        .map(|id| json!({"type": "public-key", "id": b64(id)}))
        .collect();
    json!({
        "challenge": b64(challenge),
        "rpId": rp_id,
        "allowCredentials": allow,
        "userVerification": "preferred"
    })
    .to_string()
}

fn login(
    c: &mut Client,
    origin: &str,
    rp_id: &str,
    allow: &[&[u8]],
) -> Result<AuthenticationResponseJson, ClientError> {
    c.get(
        origin,
        &request_json(rp_id, allow, b"a login challenge, 32 bytes long"),
    )
}

fn expect_dom<T: std::fmt::Debug>(result: Result<T, ClientError>, name: &str) -> ClientError {
    let err = result.expect_err("the client should have refused");
    assert_eq!(err.name(), name, "wrong DOMException: {err}");
    err
}

fn origin(o: &str) -> CallerOrigin {
    CallerOrigin::parse(o).unwrap()
}

fn unknown<S: CredentialStore>(
    c: &mut Client<S>,
    caller: &str,
    rp_id: &str,
    credential_id: &str,
) -> Result<(), ClientError> {
    c.signal_unknown_credential(
        &origin(caller),
        &UnknownCredentialOptions {
            rp_id: rp_id.into(),
            credential_id: credential_id.into(),
        },
    )
}

fn all_accepted<S: CredentialStore>(
    c: &mut Client<S>,
    caller: &str,
    rp_id: &str,
    user_id: &str,
    ids: &[String],
) -> Result<(), ClientError> {
    c.signal_all_accepted_credentials(
        &origin(caller),
        &AllAcceptedCredentialsOptions {
            rp_id: rp_id.into(),
            user_id: user_id.into(),
            all_accepted_credential_ids: ids.to_vec(),
        },
    )
}

fn details<S: CredentialStore>(
    c: &mut Client<S>,
    caller: &str,
    rp_id: &str,
    user_id: &str,
    name: &str,
    display_name: &str,
) -> Result<(), ClientError> {
    c.signal_current_user_details(
        &origin(caller),
        &CurrentUserDetailsOptions {
            rp_id: rp_id.into(),
            user_id: user_id.into(),
            name: name.into(),
            display_name: display_name.into(),
        },
    )
}

fn cred<'a>(c: &'a Client, id: &[u8]) -> &'a Credential {
    c.authenticator()
        .store()
        .get(id)
        .unwrap_or_else(|| panic!("credential {} is not in the store", b64(id)))
}

fn is_hidden(c: &Client, id: &[u8]) -> bool {
    cred(c, id).hidden
}

/// Everything about a credential a signal could change, secret bytes included.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snap {
    id: Vec<u8>,
    rp_id: String,
    user_handle: Vec<u8>,
    name: Option<String>,
    display_name: Option<String>,
    discoverable: bool,
    hidden: bool,
    hidden_at_ms: Option<u64>,
    sign_count: u32,
    secret: Vec<u8>,
}

fn snapshot(store: &impl CredentialStore) -> Vec<Snap> {
    let mut all: Vec<Snap> = store
        .all()
        .map(|c| Snap {
            id: c.id.clone(),
            rp_id: c.rp_id.clone(),
            user_handle: c.user_handle.clone(),
            name: c.user_name.clone(),
            display_name: c.user_display_name.clone(),
            discoverable: c.discoverable,
            hidden: c.hidden,
            hidden_at_ms: c.hidden_at_ms,
            sign_count: c.sign_count,
            secret: c.key.secret_bytes().to_vec(),
        })
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
}

/// getAssertion at the CTAP level, with user verification, so user details come back.
fn ctap_get_with_uv(c: &mut Client, rp_id: &str, allow: &[&[u8]]) -> ga::Response {
    c.authenticator_mut()
        .get_assertion(ga::Request {
            rp_id: rp_id.into(),
            client_data_hash: vec![7; 32],
            allow_list: allow
                .iter()
                .map(|id| CredentialDescriptor::public_key(id.to_vec()))
                .collect(),
            hmac_secret: None,
            extensions: Default::default(),
            options: Options {
                rk: None,
                up: None,
                uv: Some(true),
            },
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        })
        .unwrap()
}

/// The id of the credential an assertion was made with.
fn asserted(r: &AuthenticationResponseJson) -> Vec<u8> {
    b64url::decode(&r.id).unwrap()
}

// -------------------------------------------------------------------------- client validation

#[test]
fn decode_errors_are_type_errors_and_are_checked_before_the_rp_id() {
    let (mut c, _) = client(1);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let before = snapshot(c.authenticator().store());
    let good_id = b64(&x);
    let user = b64(b"user-a");

    // Padding, the standard alphabet, whitespace, an impossible length, a NUL.
    for bad in ["AAAA=", "ab+/", "Zm9v YmFy", "Zm9v\n", "A", "\0"] {
        // Whatever the RP ID (right, wrong origin, a public suffix), the decode error wins.
        for (caller, rp_id) in [(ORIGIN, RP), (EVIL_ORIGIN, RP), (ORIGIN, "com")] {
            let e = expect_dom(unknown(&mut c, caller, rp_id, bad), "TypeError");
            assert!(e.message().contains("credentialId"), "{e}");

            let e = expect_dom(
                all_accepted(&mut c, caller, rp_id, bad, &[good_id.clone()]),
                "TypeError",
            );
            assert!(e.message().contains("userId"), "{e}");
            let e = expect_dom(
                all_accepted(&mut c, caller, rp_id, &user, &[good_id.clone(), bad.into()]),
                "TypeError",
            );
            assert!(e.message().contains("allAcceptedCredentialIds[1]"), "{e}");

            let e = expect_dom(details(&mut c, caller, rp_id, bad, "n", "d"), "TypeError");
            assert!(e.message().contains("userId"), "{e}");
        }
    }

    // Encodings fine, RP ID not valid for the caller's origin: SecurityError.
    for (caller, rp_id) in [
        (EVIL_ORIGIN, RP),               // another site
        (ORIGIN, "com"),                 // a public suffix
        (ORIGIN, "login.example.com"),   // more specific than the origin
        (ORIGIN, "EXAMPLE.com"),         // not in canonical form
        (ORIGIN, "https://example.com"), // an origin, not an RP ID
        ("https://notexample.com", RP),  // a suffix, but not on a label boundary
    ] {
        expect_dom(unknown(&mut c, caller, rp_id, &good_id), "SecurityError");
        expect_dom(
            all_accepted(&mut c, caller, rp_id, &user, &[]),
            "SecurityError",
        );
        expect_dom(
            details(&mut c, caller, rp_id, &user, "mallory", "Mallory"),
            "SecurityError",
        );
    }

    // A refused signal reaches nothing: no change, no event.
    assert_eq!(snapshot(c.authenticator().store()), before);
    assert!(c.authenticator().events().is_empty());

    // A registrable suffix of the origin's host is a valid RP ID: the signal goes through.
    unknown(&mut c, "https://login.example.com", RP, &good_id).unwrap();
    assert!(is_hidden(&c, &x));
    assert_eq!(c.authenticator().events().len(), 1);
}

/// A store whose writes fail, to show the page learns nothing of the authenticator's trouble.
struct BrokenStore(MemoryStore);

impl CredentialStore for BrokenStore {
    fn get(&self, id: &[u8]) -> Option<&Credential> {
        self.0.get(id)
    }
    fn update(
        &mut self,
        _id: &[u8],
        _update: &mut dyn FnMut(&mut Credential),
    ) -> Result<bool, StoreError> {
        Err(StoreError::Io("disk on fire".into()))
    }
    fn ids_for_rp(&self, rp_id: &str) -> Vec<Vec<u8>> {
        self.0.ids_for_rp(rp_id)
    }
    fn insert(&mut self, credential: Credential) -> Result<(), StoreError> {
        self.0.insert(credential)
    }
    fn remove(&mut self, _id: &[u8]) -> Result<Option<Credential>, StoreError> {
        Err(StoreError::Io("disk on fire".into()))
    }
    fn all(&self) -> Box<dyn Iterator<Item = &Credential> + '_> {
        self.0.all()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn events(&self) -> Vec<Event> {
        self.0.events()
    }
    fn apply(&mut self, _: &[Change], _: Event, _: u64) -> Result<(), StoreError> {
        Err(StoreError::Io("disk on fire".into()))
    }
}

#[test]
fn once_validated_a_signal_succeeds_whatever_the_authenticator_does() {
    let (mut c, _) = client(2);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let before = snapshot(c.authenticator().store());

    // An id no authenticator holds, a user nobody knows: success, nothing changes...
    let stranger = b64(&[0xEE; 32]);
    unknown(&mut c, ORIGIN, RP, &stranger).unwrap();
    all_accepted(&mut c, ORIGIN, RP, &b64(b"nobody"), &[stranger.clone()]).unwrap();
    details(&mut c, ORIGIN, RP, &b64(b"nobody"), "nobody", "No Body").unwrap();
    // ...and an existing id named under another RP ID is not that RP's credential.
    unknown(&mut c, ORG_ORIGIN, ORG, &b64(&x)).unwrap();
    all_accepted(&mut c, ORG_ORIGIN, ORG, &b64(b"user-a"), &[]).unwrap();
    details(&mut c, ORG_ORIGIN, ORG, &b64(b"user-a"), "eve", "Eve").unwrap();
    assert_eq!(snapshot(c.authenticator().store()), before);

    // ...but each one is logged, with no changes.
    let events = c.authenticator().events();
    let kinds: Vec<(EventKind, &str)> = events.iter().map(|e| (e.kind, e.rp_id.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (EventKind::UnknownCredential, RP),
            (EventKind::AllAcceptedCredentials, RP),
            (EventKind::CurrentUserDetails, RP),
            (EventKind::UnknownCredential, ORG),
            (EventKind::AllAcceptedCredentials, ORG),
            (EventKind::CurrentUserDetails, ORG),
        ]
    );
    assert!(events.iter().all(|e| e.changes.is_empty()), "{events:?}");

    // An authenticator that fails to store anything: the page still sees success.
    let mut store = BrokenStore(MemoryStore::new());
    for cr in c.authenticator().store().all() {
        store.insert(cr.clone()).unwrap();
    }
    let mut broken = Client::new(Authenticator::new(Config::default(), store));
    unknown(&mut broken, ORIGIN, RP, &b64(&x)).unwrap();
    all_accepted(&mut broken, ORIGIN, RP, &b64(b"user-a"), &[]).unwrap();
    details(&mut broken, ORIGIN, RP, &b64(b"user-a"), "a", "A").unwrap();
    assert!(!broken.authenticator().store().get(&x).unwrap().hidden);
}

#[test]
fn json_entry_points_name_a_missing_or_mistyped_member() {
    let (mut c, _) = client(3);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let user = b64(b"user-a");
    let unknown_full = json!({"rpId": RP, "credentialId": b64(&x)});
    let accepted_full = json!({"rpId": RP, "userId": user, "allAcceptedCredentialIds": [b64(&x)]});
    let details_full =
        json!({"rpId": RP, "userId": user, "name": "alice2", "displayName": "Alice Two"});

    type Entry = fn(&mut Client, &str, &str) -> Result<(), ClientError>;
    let cases: [(Entry, &Value); 3] = [
        (Client::signal_unknown_credential_json, &unknown_full),
        (Client::signal_all_accepted_credentials_json, &accepted_full),
        (Client::signal_current_user_details_json, &details_full),
    ];
    for (entry, full) in cases {
        for member in full.as_object().unwrap().keys() {
            let mut partial = full.clone();
            partial.as_object_mut().unwrap().remove(member);
            let e = expect_dom(entry(&mut c, ORIGIN, &partial.to_string()), "TypeError");
            assert!(
                e.message().contains(&format!("`{member}`")),
                "{member}: {e}"
            );
            // Missing members are found before the origin's RP ID is looked at.
            let e = expect_dom(
                entry(&mut c, EVIL_ORIGIN, &partial.to_string()),
                "TypeError",
            );
            assert!(e.message().contains(member.as_str()), "{member}: {e}");

            let mut mistyped = full.clone();
            mistyped[member] = json!(42);
            let e = expect_dom(entry(&mut c, ORIGIN, &mistyped.to_string()), "TypeError");
            assert!(e.message().contains(member.as_str()), "{member}: {e}");
        }
        expect_dom(entry(&mut c, ORIGIN, "{not json"), "TypeError");
        expect_dom(entry(&mut c, ORIGIN, "[]"), "TypeError");
        expect_dom(
            entry(&mut c, EVIL_ORIGIN, &full.to_string()),
            "SecurityError",
        );
    }
    let mut bad_element = accepted_full.clone();
    bad_element["allAcceptedCredentialIds"] = json!([b64(&x), 7]);
    let e = expect_dom(
        c.signal_all_accepted_credentials_json(ORIGIN, &bad_element.to_string()),
        "TypeError",
    );
    assert!(e.message().contains("allAcceptedCredentialIds"), "{e}");
    let mut bad_b64 = unknown_full.clone();
    bad_b64["credentialId"] = json!("not+base64url=");
    expect_dom(
        c.signal_unknown_credential_json(EVIL_ORIGIN, &bad_b64.to_string()),
        "TypeError",
    );
    assert!(c.authenticator().events().is_empty());
    assert!(!is_hidden(&c, &x));

    // Well-formed JSON does what the typed call does.
    c.signal_current_user_details_json(ORIGIN, &details_full.to_string())
        .unwrap();
    assert_eq!(cred(&c, &x).user_name.as_deref(), Some("alice2"));
    c.signal_unknown_credential_json(ORIGIN, &unknown_full.to_string())
        .unwrap();
    assert!(is_hidden(&c, &x));
    c.signal_all_accepted_credentials_json(ORIGIN, &accepted_full.to_string())
        .unwrap();
    assert!(!is_hidden(&c, &x));
    assert_eq!(c.authenticator().events().len(), 3);
}

// ----------------------------------------------------------------------- signalUnknownCredential

#[test]
fn unknown_credential_hides_that_rps_passkey_and_keeps_its_key() {
    let (mut c, clock) = client(4);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let z = register(&mut c, ORG_ORIGIN, ORG, b"user-a", "alice", "required");
    let secret_before = cred(&c, &x).key.secret_bytes().to_vec();
    login(&mut c, ORIGIN, RP, &[&x]).unwrap();
    login(&mut c, ORIGIN, RP, &[]).unwrap();

    // Named by another RP: not that RP's credential, untouched.
    unknown(&mut c, ORG_ORIGIN, ORG, &b64(&x)).unwrap();
    assert!(!is_hidden(&c, &x));

    clock.advance(5);
    unknown(&mut c, ORIGIN, RP, &b64(&x)).unwrap();
    let hidden = cred(&c, &x);
    assert!(hidden.hidden);
    assert_eq!(hidden.hidden_at_ms, Some(NOW + 5));
    // Hidden, not deleted: the key is still there, byte for byte.
    assert_eq!(hidden.key.secret_bytes().to_vec(), secret_before);
    assert_eq!(c.authenticator().store().len(), 2);
    assert!(!is_hidden(&c, &z));

    // Not offered, with an allow list or without.
    let e = expect_dom(login(&mut c, ORIGIN, RP, &[&x]), "NotAllowedError");
    assert!(e.message().contains(RP), "{e}");
    expect_dom(login(&mut c, ORIGIN, RP, &[]), "NotAllowedError");
    // The other RP's passkey still works.
    assert_eq!(asserted(&login(&mut c, ORG_ORIGIN, ORG, &[]).unwrap()), z);
    // The refused logins did not count as uses.
    assert_eq!(cred(&c, &x).sign_count, 2);

    // Signalling again changes nothing, not even when it was hidden.
    clock.advance(1000);
    unknown(&mut c, ORIGIN, RP, &b64(&x)).unwrap();
    assert_eq!(cred(&c, &x).hidden_at_ms, Some(NOW + 5));
    let events = c.authenticator().events();
    assert_eq!(events.len(), 3);
    assert_eq!(events[1].changes, [Change::Hide { id: x.clone() }]);
    assert!(events[0].changes.is_empty() && events[2].changes.is_empty());
}

// ----------------------------------------------------------------- signalAllAcceptedCredentials

/// The issue's example, with webauthn-rs as the relying party: user A has a non-discoverable
/// passkey X and a discoverable passkey Y; the RP signals [Y], X is hidden and a login with X
/// fails; the RP signals [X, Y], X is back and webauthn-rs accepts a login with it.
#[test]
fn all_accepted_the_issue_example_verified_by_webauthn_rs() {
    use webauthn_rs_core::proto::{
        COSEAlgorithm, PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
    };
    use webauthn_rs_core::WebauthnCore;

    let core = WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        RP,
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(60),
        None,
        None,
    );
    let (mut c, _) = client(5);
    let user_id = b"user-a-handle";
    let register = |c: &mut Client, rk: bool| {
        let builder = core
            .new_challenge_register_builder(user_id, "alice", "Alice A.")
            .unwrap()
            .credential_algorithms(vec![COSEAlgorithm::ES256])
            .user_verification_policy(UserVerificationPolicy::Preferred)
            .require_resident_key(rk);
        let (ccr, state) = core.generate_challenge_register(builder).unwrap();
        let response = c
            .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
            .unwrap();
        let reg: RegisterPublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        core.register_credential(&reg, &state, None)
            .unwrap_or_else(|e| panic!("webauthn-rs rejected the registration: {e:?}"))
    };
    let x = register(&mut c, false);
    let y = register(&mut c, true);
    let raw = |id: &webauthn_rs_core::proto::CredentialID| -> Vec<u8> {
        AsRef::<[u8]>::as_ref(id).to_vec()
    };
    let (x_id, y_id) = (raw(&x.cred_id), raw(&y.cred_id));
    assert!(!cred(&c, &x_id).discoverable);
    assert!(cred(&c, &y_id).discoverable);
    assert_eq!(cred(&c, &x_id).user_handle, user_id);
    assert_eq!(cred(&c, &y_id).user_handle, user_id);

    let login = |c: &mut Client, creds: Vec<webauthn_rs_core::proto::Credential>| {
        let builder = core
            .new_challenge_authenticate_builder(creds, Some(UserVerificationPolicy::Preferred))
            .unwrap();
        let (rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
        let response = c.get(ORIGIN, &serde_json::to_string(&rcr).unwrap())?;
        let pkc: PublicKeyCredential =
            serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
        Ok::<_, ClientError>(
            core.authenticate_credential(&pkc, &state)
                .unwrap_or_else(|e| panic!("webauthn-rs rejected the assertion: {e:?}")),
        )
    };

    // The RP still accepts only Y.
    c.signal_all_accepted_credentials_json(
        ORIGIN,
        &json!({"rpId": RP, "userId": b64(user_id), "allAcceptedCredentialIds": [b64(&y_id)]})
            .to_string(),
    )
    .unwrap();
    assert!(is_hidden(&c, &x_id));
    assert!(!is_hidden(&c, &y_id));
    expect_dom(login(&mut c, vec![x.clone()]), "NotAllowedError");
    // With both allowed, only Y can answer.
    let r = login(&mut c, vec![x.clone(), y.clone()]).unwrap();
    assert_eq!(r.cred_id(), &y.cred_id);

    // The RP accepts both again: X is back, and webauthn-rs verifies a login with it.
    c.signal_all_accepted_credentials_json(
        ORIGIN,
        &json!({
            "rpId": RP,
            "userId": b64(user_id),
            "allAcceptedCredentialIds": [b64(&x_id), b64(&y_id)]
        })
        .to_string(),
    )
    .unwrap();
    assert!(!is_hidden(&c, &x_id));
    assert_eq!(cred(&c, &x_id).hidden_at_ms, None);
    let r = login(&mut c, vec![x.clone()]).unwrap();
    assert_eq!(r.cred_id(), &x.cred_id);
    assert!(r.user_verified());
    let r = login(&mut c, vec![y.clone()]).unwrap();
    assert_eq!(r.cred_id(), &y.cred_id);

    let events = c.authenticator().events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].changes, [Change::Hide { id: x_id.clone() }]);
    assert_eq!(events[0].credential_ids, [y_id.clone()]);
    assert_eq!(events[1].changes, [Change::Unhide { id: x_id.clone() }]);
    assert_eq!(events[1].credential_ids, [x_id, y_id]);
}

#[test]
fn all_accepted_touches_only_that_user_at_that_rp() {
    let (mut c, _) = client(6);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "discouraged");
    let y = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let z = register(&mut c, ORIGIN, RP, b"user-b", "bob", "required");
    let w = register(&mut c, ORG_ORIGIN, ORG, b"user-a", "alice", "required");
    let user_a = b64(b"user-a");
    let others = |c: &Client| {
        snapshot(c.authenticator().store())
            .into_iter()
            .filter(|s| s.id == z || s.id == w)
            .collect::<Vec<_>>()
    };
    let others_before = others(&c);

    // Nothing accepted: both of A's passkeys at example.com are hidden, nobody else's.
    all_accepted(&mut c, ORIGIN, RP, &user_a, &[]).unwrap();
    assert!(is_hidden(&c, &x) && is_hidden(&c, &y));
    assert_eq!(others(&c), others_before);

    // Listing other users' and other RPs' ids changes nothing for them; Y comes back.
    let listed = [b64(&y), b64(&z), b64(&w)];
    all_accepted(&mut c, ORIGIN, RP, &user_a, &listed).unwrap();
    assert!(is_hidden(&c, &x));
    assert!(!is_hidden(&c, &y));
    assert_eq!(others(&c), others_before);

    // B's list never reaches A's passkeys, even when it names them.
    all_accepted(&mut c, ORIGIN, RP, &b64(b"user-b"), &[b64(&x), b64(&z)]).unwrap();
    assert!(is_hidden(&c, &x));
    assert!(!is_hidden(&c, &z));
    // The same user handle at another RP is another account.
    all_accepted(&mut c, ORG_ORIGIN, ORG, &user_a, &[b64(&w)]).unwrap();
    assert!(is_hidden(&c, &x));
    all_accepted(&mut c, ORG_ORIGIN, ORG, &user_a, &[]).unwrap();
    assert!(is_hidden(&c, &w));
    assert!(!is_hidden(&c, &y) && !is_hidden(&c, &z));

    // Ids compare as decoded bytes: one byte off, or a prefix, is a different credential.
    let mut off = x.clone();
    *off.last_mut().unwrap() ^= 1;
    all_accepted(
        &mut c,
        ORIGIN,
        RP,
        &user_a,
        &[b64(&off), b64(&x[..x.len() - 1]), b64(&y)],
    )
    .unwrap();
    assert!(is_hidden(&c, &x));
    all_accepted(&mut c, ORIGIN, RP, &user_a, &[b64(&y), b64(&x)]).unwrap();
    assert!(!is_hidden(&c, &x) && !is_hidden(&c, &y));

    let changes: Vec<Vec<Change>> = c
        .authenticator()
        .events()
        .into_iter()
        .map(|e| e.changes)
        .collect();
    let mut hide_both = vec![
        Change::Hide { id: x.clone() },
        Change::Hide { id: y.clone() },
    ];
    hide_both.sort_by(|a, b| a.id().cmp(b.id()));
    assert_eq!(
        changes,
        [
            hide_both,
            vec![Change::Unhide { id: y.clone() }],
            vec![],
            vec![],
            vec![Change::Hide { id: w }],
            vec![],
            vec![Change::Unhide { id: x }],
        ]
    );
}

#[test]
fn a_discoverable_login_never_returns_a_hidden_passkey_until_it_is_restored() {
    let (mut c, clock) = client(7);
    let alice = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    clock.advance(1);
    let bob = register(&mut c, ORIGIN, RP, b"user-b", "bob", "required");
    // Newest first: bob answers a discoverable login.
    assert_eq!(asserted(&login(&mut c, ORIGIN, RP, &[]).unwrap()), bob);

    unknown(&mut c, ORIGIN, RP, &b64(&bob)).unwrap();
    for _ in 0..3 {
        let r = login(&mut c, ORIGIN, RP, &[]).unwrap();
        assert_eq!(asserted(&r), alice);
        assert_eq!(
            r.response.user_handle.as_deref(),
            Some(b64(b"user-a").as_str())
        );
    }
    // Both hidden: nothing to offer at all.
    all_accepted(&mut c, ORIGIN, RP, &b64(b"user-a"), &[]).unwrap();
    expect_dom(login(&mut c, ORIGIN, RP, &[]), "NotAllowedError");

    // Restored by hand: offered again.
    assert!(c.authenticator_mut().restore(&bob).unwrap());
    assert!(!is_hidden(&c, &bob));
    assert_eq!(cred(&c, &bob).hidden_at_ms, None);
    assert_eq!(asserted(&login(&mut c, ORIGIN, RP, &[]).unwrap()), bob);
    assert_eq!(asserted(&login(&mut c, ORIGIN, RP, &[&bob]).unwrap()), bob);
    assert!(is_hidden(&c, &alice));
    // Restoring something not hidden is harmless; an unknown id is reported.
    assert!(c.authenticator_mut().restore(&bob).unwrap());
    assert!(!c.authenticator_mut().restore(&[0xAB; 32]).unwrap());

    let restores: Vec<Event> = c
        .authenticator()
        .events()
        .into_iter()
        .filter(|e| e.kind == EventKind::Restore)
        .collect();
    assert_eq!(
        restores.len(),
        2,
        "an unknown id logs nothing: {restores:?}"
    );
    assert_eq!(restores[0].rp_id, RP);
    assert_eq!(restores[0].credential_ids, [bob.clone()]);
    assert_eq!(restores[0].changes, [Change::Unhide { id: bob.clone() }]);
    assert!(restores[1].changes.is_empty());
}

// --------------------------------------------------------------------- signalCurrentUserDetails

#[test]
fn current_user_details_renames_every_passkey_of_that_user_at_that_rp() {
    let (mut c, _) = client(8);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "discouraged");
    let y = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let z = register(&mut c, ORIGIN, RP, b"user-b", "bob", "required");
    let w = register(&mut c, ORG_ORIGIN, ORG, b"user-a", "alice", "required");

    details(
        &mut c,
        ORIGIN,
        RP,
        &b64(b"user-a"),
        "alice.new",
        "Alice New",
    )
    .unwrap();
    for id in [&x, &y] {
        assert_eq!(cred(&c, id).user_name.as_deref(), Some("alice.new"));
        assert_eq!(cred(&c, id).user_display_name.as_deref(), Some("Alice New"));
    }
    assert_eq!(cred(&c, &z).user_name.as_deref(), Some("bob"));
    assert_eq!(cred(&c, &w).user_name.as_deref(), Some("alice"));
    assert_eq!(
        cred(&c, &w).user_display_name.as_deref(),
        Some("alice (display)")
    );

    // getAssertion with UV returns the new details (the JSON response carries only userHandle).
    let r = ctap_get_with_uv(&mut c, RP, &[&y]);
    assert_eq!(r.credential.id, y);
    let user = r.user.unwrap();
    assert_eq!(user.id, b"user-a");
    assert_eq!(user.name.as_deref(), Some("alice.new"));
    assert_eq!(user.display_name.as_deref(), Some("Alice New"));
    // And in a discoverable request, where the account chooser shows them.
    c.authenticator_mut().set_user(SimulatedUser {
        account: Some("alice.new".into()),
        ..SimulatedUser::default()
    });
    let r = login(&mut c, ORIGIN, RP, &[]).unwrap();
    assert_eq!(asserted(&r), y);
    let r = ctap_get_with_uv(&mut c, ORG, &[]);
    assert_eq!(r.user.unwrap().name.as_deref(), Some("alice"));

    // The same details again change nothing but are logged; a hidden passkey is renamed too.
    details(
        &mut c,
        ORIGIN,
        RP,
        &b64(b"user-a"),
        "alice.new",
        "Alice New",
    )
    .unwrap();
    unknown(&mut c, ORIGIN, RP, &b64(&x)).unwrap();
    details(
        &mut c,
        ORIGIN,
        RP,
        &b64(b"user-a"),
        "alice.3",
        "Alice Three",
    )
    .unwrap();
    assert_eq!(cred(&c, &x).user_name.as_deref(), Some("alice.3"));
    assert!(is_hidden(&c, &x));

    let events = c.authenticator().events();
    let renames: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == EventKind::CurrentUserDetails)
        .collect();
    assert_eq!(renames.len(), 3);
    let mut expected: Vec<Change> = [&x, &y]
        .into_iter()
        .map(|id| Change::Rename {
            id: id.clone(),
            name: "alice.new".into(),
            display_name: "Alice New".into(),
        })
        .collect();
    expected.sort_by(|a, b| a.id().cmp(b.id()));
    assert_eq!(renames[0].changes, expected);
    assert_eq!(renames[0].user_id.as_deref(), Some(&b"user-a"[..]));
    assert!(renames[0].credential_ids.is_empty());
    assert!(renames[1].changes.is_empty());
    assert_eq!(renames[2].changes.len(), 2);
}

// ------------------------------------------------------------------------------------ retention

#[test]
fn hidden_passkeys_are_purged_only_after_the_retention_period() {
    assert_eq!(DEFAULT_HIDDEN_RETENTION_MS, 30 * 24 * 60 * 60 * 1000);
    assert_eq!(
        Config::default().hidden_retention_ms,
        DEFAULT_HIDDEN_RETENTION_MS
    );
    let (mut c, clock) = client(9);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let y = register(&mut c, ORIGIN, RP, b"user-b", "bob", "required");
    let z = register(&mut c, ORIGIN, RP, b"user-c", "carol", "required");
    let stranger = b64(&[0x55; 32]);

    // X hidden at t; Y hidden at t and shown again 1 ms later; Z never hidden.
    let t = NOW;
    unknown(&mut c, ORIGIN, RP, &b64(&x)).unwrap();
    unknown(&mut c, ORIGIN, RP, &b64(&y)).unwrap();
    clock.advance(1);
    all_accepted(&mut c, ORIGIN, RP, &b64(b"user-b"), &[b64(&y)]).unwrap();
    assert_eq!(cred(&c, &x).hidden_at_ms, Some(t));

    // One millisecond before the period runs out: a new signal purges nothing.
    clock.advance(DEFAULT_HIDDEN_RETENTION_MS - 2);
    unknown(&mut c, ORIGIN, RP, &stranger).unwrap();
    assert!(c.authenticator().store().get(&x).is_some());
    assert!(!c
        .authenticator()
        .events()
        .iter()
        .any(|e| e.kind == EventKind::Purge));
    assert!(c.authenticator_mut().purge_expired().unwrap().is_empty());

    // Past it: the next signal purges X, and only X.
    clock.advance(2);
    let before = c.authenticator().events().len();
    details(&mut c, ORIGIN, RP, &b64(b"user-c"), "carol", "Carol").unwrap();
    assert!(
        c.authenticator().store().get(&x).is_none(),
        "X should be purged"
    );
    assert!(c.authenticator().store().get(&y).is_some());
    assert!(c.authenticator().store().get(&z).is_some());
    let events = c.authenticator().events();
    assert_eq!(events.len(), before + 2);
    let purge = &events[before];
    assert_eq!(purge.kind, EventKind::Purge);
    assert_eq!(purge.time_ms, t + DEFAULT_HIDDEN_RETENTION_MS + 1);
    assert_eq!(purge.changes, [Change::Remove { id: x.clone() }]);
    assert_eq!(events[before + 1].kind, EventKind::CurrentUserDetails);
    expect_dom(login(&mut c, ORIGIN, RP, &[&x]), "NotAllowedError");
    assert!(!c.authenticator_mut().restore(&x).unwrap());

    // Long after, the shown-again and never-hidden passkeys are still there.
    clock.advance(10 * DEFAULT_HIDDEN_RETENTION_MS);
    unknown(&mut c, ORIGIN, RP, &stranger).unwrap();
    assert!(c.authenticator().store().get(&y).is_some());
    assert!(c.authenticator().store().get(&z).is_some());
    assert_eq!(
        c.authenticator()
            .events()
            .iter()
            .filter(|e| e.kind == EventKind::Purge)
            .count(),
        1
    );
}

#[test]
fn the_retention_period_comes_from_the_config_and_restore_stops_the_clock() {
    let config = Config {
        hidden_retention_ms: 1000,
        ..Config::default()
    };
    let (mut c, clock) = client_with(config, 10);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");
    let y = register(&mut c, ORIGIN, RP, b"user-b", "bob", "required");
    unknown(&mut c, ORIGIN, RP, &b64(&x)).unwrap();
    unknown(&mut c, ORIGIN, RP, &b64(&y)).unwrap();
    clock.advance(500);
    assert!(c.authenticator_mut().restore(&y).unwrap());
    // Hidden again later: its retention starts over.
    clock.advance(400);
    unknown(&mut c, ORIGIN, RP, &b64(&y)).unwrap();
    assert_eq!(cred(&c, &y).hidden_at_ms, Some(NOW + 900));
    clock.advance(101);
    let purged = c.authenticator_mut().purge_expired().unwrap();
    assert_eq!(purged, [x.clone()]);
    assert!(c.authenticator().store().get(&y).is_some());
    clock.advance(1000);
    assert_eq!(c.authenticator_mut().purge_expired().unwrap(), [y.clone()]);
    assert!(c.authenticator().store().is_empty());
}

// ------------------------------------------------------------------------------------ event log

#[test]
fn the_event_log_records_every_signal_in_order() {
    let (mut c, clock) = client(11);
    let x = register(&mut c, ORIGIN, RP, b"user-a", "alice", "discouraged");
    let y = register(&mut c, ORIGIN, RP, b"user-a", "alice", "required");

    unknown(&mut c, ORIGIN, RP, &b64(&x)).unwrap();
    clock.advance(10);
    all_accepted(&mut c, ORIGIN, RP, &b64(b"user-a"), &[b64(&x)]).unwrap();
    clock.advance(10);
    details(&mut c, ORIGIN, RP, &b64(b"user-a"), "a2", "A Two").unwrap();
    clock.advance(10);
    c.authenticator_mut().restore(&y).unwrap();

    let events = c.authenticator().events();
    let expected = [
        Event {
            time_ms: NOW,
            kind: EventKind::UnknownCredential,
            rp_id: RP.into(),
            user_id: None,
            credential_ids: vec![x.clone()],
            changes: vec![Change::Hide { id: x.clone() }],
        },
        Event {
            time_ms: NOW + 10,
            kind: EventKind::AllAcceptedCredentials,
            rp_id: RP.into(),
            user_id: Some(b"user-a".to_vec()),
            credential_ids: vec![x.clone()],
            changes: vec![
                Change::Unhide { id: x.clone() },
                Change::Hide { id: y.clone() },
            ],
        },
        Event {
            time_ms: NOW + 20,
            kind: EventKind::CurrentUserDetails,
            rp_id: RP.into(),
            user_id: Some(b"user-a".to_vec()),
            credential_ids: vec![],
            changes: {
                let mut v: Vec<Change> = [&x, &y]
                    .into_iter()
                    .map(|id| Change::Rename {
                        id: id.clone(),
                        name: "a2".into(),
                        display_name: "A Two".into(),
                    })
                    .collect();
                v.sort_by(|a, b| a.id().cmp(b.id()));
                v
            },
        },
        Event {
            time_ms: NOW + 30,
            kind: EventKind::Restore,
            rp_id: RP.into(),
            user_id: None,
            credential_ids: vec![y.clone()],
            changes: vec![Change::Unhide { id: y.clone() }],
        },
    ];
    // The all-accepted changes are in id order; sort ours the same way.
    let mut expected = expected;
    expected[1].changes.sort_by(|a, b| a.id().cmp(b.id()));
    assert_eq!(events, expected);

    // The JSON form `fauxkey events --json` prints.
    let js: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e.to_json()).unwrap())
        .collect();
    let signals: Vec<&str> = js.iter().map(|e| e["signal"].as_str().unwrap()).collect();
    assert_eq!(
        signals,
        [
            "unknownCredential",
            "allAcceptedCredentials",
            "currentUserDetails",
            "restore"
        ]
    );
    assert_eq!(js[0]["time"], "2023-11-14T22:13:20Z");
    assert_eq!(js[0]["timeMs"], NOW);
    assert_eq!(js[0]["rpId"], RP);
    assert!(js[0].get("userId").is_none(), "{}", js[0]);
    assert_eq!(js[0]["credentialIds"], json!([b64(&x)]));
    assert_eq!(
        js[0]["changes"],
        json!([{"credentialId": b64(&x), "change": "hidden"}])
    );
    assert_eq!(js[1]["userId"], b64(b"user-a"));
    let kinds: Vec<&str> = js[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ch| ch["change"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"hidden") && kinds.contains(&"unhidden"),
        "{kinds:?}"
    );
    assert_eq!(js[2]["changes"][0]["change"], "renamed");
    assert_eq!(js[2]["changes"][0]["name"], "a2");
    assert_eq!(js[2]["changes"][0]["displayName"], "A Two");
    assert_eq!(js[3]["changes"][0]["change"], "unhidden");

    // Purges are logged as such.
    clock.advance(DEFAULT_HIDDEN_RETENTION_MS);
    unknown(&mut c, ORIGIN, RP, &b64(&y)).unwrap();
    clock.advance(DEFAULT_HIDDEN_RETENTION_MS);
    c.authenticator_mut().purge_expired().unwrap();
    let last = c.authenticator().events().pop().unwrap();
    assert_eq!(last.kind, EventKind::Purge);
    assert_eq!(last.changes, [Change::Remove { id: y.clone() }]);
    let last = serde_json::to_value(last.to_json()).unwrap();
    assert_eq!(last["signal"], "purge");
    assert_eq!(last["changes"][0]["change"], "removed");
}

#[test]
fn the_event_log_keeps_the_newest_entries() {
    let (mut c, clock) = client(12);
    for i in 0..(MAX_EVENTS as u64 + 5) {
        unknown(&mut c, ORIGIN, RP, &b64(&i.to_be_bytes())).unwrap();
        clock.advance(1);
    }
    let events = c.authenticator().events();
    assert_eq!(events.len(), MAX_EVENTS);
    assert_eq!(events[0].credential_ids, [5u64.to_be_bytes().to_vec()]);
    assert!(events.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
}

#[test]
fn client_capabilities_report_the_signals() {
    let (c, _) = client(13);
    let caps = c.capabilities();
    for key in [
        "signalAllAcceptedCredentials",
        "signalCurrentUserDetails",
        "signalUnknownCredential",
    ] {
        assert_eq!(caps.get(key), Some(&true), "{key}");
    }
}

// ---------------------------------------------------------------------------------- CLI helpers

/// What the signal tests add to the shared CLI harness (`tests/cli_support`).
impl Env {
    /// `create` in quick mode; returns the credential id (base64url).
    fn quick_create_id(&self, rp_id: &str, user: &str) -> String {
        let out = self.run(&["create", "--rp-id", rp_id, "--user", user]);
        let (stdout, _) = expect(&out, 0);
        let v: Value = serde_json::from_str(&stdout).unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    /// `create` in RP mode from options JSON on stdin; returns the RegistrationResponseJSON.
    fn create(&self, options: &str) -> Value {
        let out = self.run_stdin(&["create", "--origin", ORIGIN, "--options", "-"], options);
        let (stdout, _) = expect(&out, 0);
        serde_json::from_str(&stdout).unwrap()
    }

    fn get(&self, options: &str) -> Output {
        self.run_stdin(&["get", "--origin", ORIGIN, "--options", "-"], options)
    }

    fn listed_ids(&self, extra: &[&str]) -> Vec<String> {
        let mut ids: Vec<String> = self
            .list_json(extra)
            .iter()
            .map(|c| c["credentialId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    }

    fn entry(&self, id: &str) -> Value {
        self.list_json(&["--all"])
            .into_iter()
            .find(|c| c["credentialId"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
    }

    fn events_json(&self) -> Vec<Value> {
        let (stdout, _) = expect(&self.run(&["events", "--json"]), 0);
        serde_json::from_str::<Value>(&stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    fn open_vault(&self) -> fauxkey::vault::Vault {
        fauxkey::vault::Vault::open(
            &self.vault,
            &fauxkey::vault::Passphrase::new(PASSPHRASE).unwrap(),
        )
        .unwrap()
    }

    fn signal_unknown(&self, id: &str) -> Output {
        self.run(&[
            "signal",
            "unknown-credential",
            "--origin",
            ORIGIN,
            "--rp-id",
            RP,
            // `=`: a random id may begin with '-' (see the hyphen test below).
            &format!("--credential-id={id}"),
        ])
    }

    fn signal_all_accepted(&self, user_id: &str, ids: &[&str]) -> Output {
        self.run(&[
            "signal",
            "all-accepted",
            "--origin",
            ORIGIN,
            "--rp-id",
            RP,
            &format!("--user-id={user_id}"),
            &format!("--credential-ids={}", ids.join(",")),
        ])
    }

    fn signal_details(&self, user_id: &str, name: &str, display_name: &str) -> Output {
        self.run(&[
            "signal",
            "user-details",
            "--origin",
            ORIGIN,
            "--rp-id",
            RP,
            &format!("--user-id={user_id}"),
            "--name",
            name,
            "--display-name",
            display_name,
        ])
    }

    fn restore(&self, id: &str) -> Output {
        if id.starts_with('-') {
            self.run(&["restore", "--", id])
        } else {
            self.run(&["restore", id])
        }
    }
}

/// Asserts a refusal: exit 1, nothing on stdout, stderr starting with `prefix`.
fn expect_refusal(out: &Output, prefix: &str) -> String {
    let (stdout, stderr) = expect(out, 1);
    assert_eq!(stdout, "", "a failure prints nothing on stdout");
    assert!(
        stderr.starts_with(prefix),
        "stderr should start with {prefix:?}:\n{stderr}"
    );
    stderr
}

fn cli_creation_options(user_id: &[u8], resident_key: &str) -> String {
    json!({
        "rp": {"id": RP, "name": "Example RP"},
        "user": {"id": b64(user_id), "name": "alice", "displayName": "Alice A."},
        "challenge": b64(b"cli registration challenge 32 by"),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": resident_key, "userVerification": "preferred"}
    })
    .to_string()
}

/// The credential public key, read from the registration response's authenticatorData.
fn registered_key(registration: &Value) -> PublicKey {
    let auth_data = b64url::decode(
        registration["response"]["authenticatorData"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let parsed = AuthenticatorData::parse(&auth_data).unwrap();
    let cose = fauxkey::cbor::decode(&parsed.attested.unwrap().public_key_cose).unwrap();
    let key = PublicKey::from_cose(&cose).unwrap();
    assert_eq!(
        b64(&key.spki_der()),
        registration["response"]["publicKey"].as_str().unwrap()
    );
    key
}

/// Checks an AuthenticationResponseJSON as an RP would: client data, RP ID hash, signature.
fn verify_assertion(response: &Value, key: &PublicKey, challenge: &[u8]) {
    let r = &response["response"];
    let client_data = b64url::decode(r["clientDataJSON"].as_str().unwrap()).unwrap();
    let cd: Value = serde_json::from_slice(&client_data).unwrap();
    assert_eq!(cd["type"], "webauthn.get");
    assert_eq!(cd["origin"], ORIGIN);
    assert_eq!(cd["challenge"], b64(challenge));
    let auth_data = b64url::decode(r["authenticatorData"].as_str().unwrap()).unwrap();
    let parsed = AuthenticatorData::parse(&auth_data).unwrap();
    assert_eq!(parsed.rp_id_hash, <[u8; 32]>::from(Sha256::digest(RP)));
    assert!(parsed.flags.has(0x01), "UP");
    let signature = b64url::decode(r["signature"].as_str().unwrap()).unwrap();
    let signed = [auth_data.as_slice(), &Sha256::digest(&client_data)].concat();
    assert!(
        key.verify(&signed, &signature),
        "the signature does not verify"
    );
}

// -------------------------------------------------------------------------------------- the CLI

/// The issue's example end to end through the binary, one process per step.
#[test]
fn cli_all_accepted_the_issue_example() {
    let env = Env::with_vault("example");
    let user_id = b"user-a-handle";
    let x_reg = env.create(&cli_creation_options(user_id, "discouraged"));
    let y_reg = env.create(&cli_creation_options(user_id, "required"));
    let x = x_reg["id"].as_str().unwrap().to_owned();
    let y = y_reg["id"].as_str().unwrap().to_owned();
    let x_key = registered_key(&x_reg);
    assert_eq!(env.entry(&x)["discoverable"], false);
    assert_eq!(env.entry(&y)["discoverable"], true);
    let mut both = vec![x.clone(), y.clone()];
    both.sort();
    assert_eq!(env.listed_ids(&[]), both);

    // The RP accepts only Y.
    let (stdout, stderr) = expect(&env.signal_all_accepted(&b64(user_id), &[&y]), 0);
    assert_eq!(stdout, "", "the page learns nothing");
    assert!(
        stderr.contains(&format!("hidden {}", &x[..12])),
        "the owner sees what changed: {stderr}"
    );
    assert_eq!(env.listed_ids(&[]), [y.clone()]);
    assert_eq!(env.listed_ids(&["--all"]), both);
    assert_eq!(env.entry(&x)["hidden"], true);
    assert_eq!(env.entry(&y)["hidden"], false);
    let (table, _) = expect(&env.run(&["list"]), 0);
    assert!(!table.contains(&x[..12]), "{table}");
    let (table, _) = expect(&env.run(&["list", "--all"]), 0);
    let row = table.lines().find(|l| l.contains(&x[..12])).unwrap();
    assert!(row.contains(" yes "), "{row}");

    // A login allowing X is refused.
    let challenge = b"cli login challenge, 32 bytes ok";
    let allow_x = json!({
        "challenge": b64(challenge),
        "rpId": RP,
        "allowCredentials": [{"type": "public-key", "id": x}],
        "userVerification": "preferred"
    })
    .to_string();
    expect_refusal(&env.get(&allow_x), "fauxkey: NotAllowedError: ");

    // The RP accepts both: X is back and its assertion verifies.
    expect(&env.signal_all_accepted(&b64(user_id), &[&x, &y]), 0);
    assert_eq!(env.listed_ids(&[]), both);
    assert_eq!(env.entry(&x)["hidden"], false);
    let (stdout, stderr) = expect(&env.get(&allow_x), 0);
    assert_eq!(stderr, format!("signed in with passkey {x}\n"));
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], x);
    verify_assertion(&response, &x_key, challenge);

    let events = env.events_json();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["signal"], "allAcceptedCredentials");
    assert_eq!(events[0]["userId"], b64(user_id));
    assert_eq!(events[0]["credentialIds"], json!([y]));
    assert_eq!(
        events[0]["changes"],
        json!([{"credentialId": x, "change": "hidden"}])
    );
    assert_eq!(
        events[1]["changes"],
        json!([{"credentialId": x, "change": "unhidden"}])
    );
}

#[test]
fn cli_a_hidden_passkey_is_not_offered_until_restored() {
    let env = Env::with_vault("restore");
    let alice = env.quick_create_id(RP, "alice");
    let (stdout, _) = expect(&env.signal_unknown(&alice), 0);
    assert_eq!(stdout, "");
    assert!(env.listed_ids(&[]).is_empty());
    assert_eq!(env.entry(&alice)["hidden"], true);
    expect_refusal(
        &env.run(&["get", "--rp-id", RP]),
        "fauxkey: NotAllowedError: ",
    );

    let (stdout, stderr) = expect(&env.restore(&alice), 0);
    assert_eq!(stdout, "");
    assert_eq!(stderr, format!("restored passkey {alice}\n"));
    assert_eq!(env.listed_ids(&[]), [alice.clone()]);
    let (stdout, _) = expect(&env.run(&["get", "--rp-id", RP]), 0);
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], alice);

    // All-accepted with an empty list hides it again; restore by a unique prefix works too.
    let user = env.entry(&alice)["userHandle"].as_str().unwrap().to_owned();
    expect(&env.signal_all_accepted(&user, &[]), 0);
    expect_refusal(
        &env.run(&["get", "--rp-id", RP]),
        "fauxkey: NotAllowedError: ",
    );
    let prefix = &alice[..alice.len() - 3];
    expect(&env.restore(prefix), 0);
    expect(&env.run(&["get", "--rp-id", RP]), 0);

    let signals: Vec<Value> = env
        .events_json()
        .iter()
        .map(|e| e["signal"].clone())
        .collect();
    assert_eq!(
        signals,
        [
            "unknownCredential",
            "restore",
            "allAcceptedCredentials",
            "restore"
        ]
    );
}

#[test]
fn cli_user_details_rename_what_list_and_logins_show() {
    let env = Env::with_vault("details");
    let alice = env.quick_create_id(RP, "alice");
    let bob = env.quick_create_id(RP, "bob");
    let user = env.entry(&alice)["userHandle"].as_str().unwrap().to_owned();

    let (stdout, stderr) = expect(&env.signal_details(&user, "alice.new", "Alice New"), 0);
    assert_eq!(stdout, "");
    assert!(stderr.contains("alice.new"), "{stderr}");
    let a = env.entry(&alice);
    assert_eq!(a["name"], "alice.new");
    assert_eq!(a["displayName"], "Alice New");
    assert_eq!(env.entry(&bob)["name"], "bob");

    // The authenticator's account chooser now knows her by the new name.
    let (stdout, _) = expect(
        &env.run(&["get", "--rp-id", RP, "--account", "alice.new"]),
        0,
    );
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], alice);
    assert_eq!(response["response"]["userHandle"], user);
    expect_refusal(
        &env.run(&["get", "--rp-id", RP, "--account", "alice"]),
        "fauxkey: NotAllowedError: ",
    );
}

#[test]
fn cli_signals_persist_in_the_vault_across_processes() {
    let env = Env::with_vault("persist");
    let user_id = b"user-a-handle";
    let x = env.create(&cli_creation_options(user_id, "discouraged"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let y = env.create(&cli_creation_options(user_id, "required"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = env.quick_create_id(RP, "bob");
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };

    let t0 = now();
    expect(&env.signal_all_accepted(&b64(user_id), &[&y]), 0);
    let t1 = now();
    expect(
        &env.signal_details(&b64(user_id), "alice.new", "Alice New"),
        0,
    );
    expect(&env.signal_unknown(&bob), 0);
    expect(&env.restore(&bob), 0);
    expect(&env.signal_unknown(&b64(&[9; 32])), 0);

    // Another reader: the library opening the file.
    let vault = env.open_vault();
    let get = |id: &str| vault.get(&b64url::decode(id).unwrap()).unwrap();
    assert!(get(&x).hidden);
    let at = get(&x).hidden_at_ms.unwrap();
    assert!((t0..=t1).contains(&at), "{t0} <= {at} <= {t1}");
    assert!(!get(&y).hidden && get(&y).hidden_at_ms.is_none());
    assert!(!get(&bob).hidden && get(&bob).hidden_at_ms.is_none());
    for id in [&x, &y] {
        assert_eq!(get(id).user_name.as_deref(), Some("alice.new"));
        assert_eq!(get(id).user_display_name.as_deref(), Some("Alice New"));
    }
    assert_eq!(get(&bob).user_name.as_deref(), Some("bob"));
    let events = vault.events();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::AllAcceptedCredentials,
            EventKind::CurrentUserDetails,
            EventKind::UnknownCredential,
            EventKind::Restore,
            EventKind::UnknownCredential,
        ]
    );
    let xb = b64url::decode(&x).unwrap();
    let yb = b64url::decode(&y).unwrap();
    let bobb = b64url::decode(&bob).unwrap();
    assert_eq!(events[0].rp_id, RP);
    assert_eq!(events[0].user_id.as_deref(), Some(&user_id[..]));
    assert_eq!(events[0].credential_ids, [yb.clone()]);
    assert_eq!(events[0].changes, [Change::Hide { id: xb.clone() }]);
    assert_eq!(events[0].time_ms, at);
    assert_eq!(events[1].changes.len(), 2);
    assert!(events[1].changes.iter().all(|c| matches!(
        c,
        Change::Rename { name, display_name, .. } if name == "alice.new" && display_name == "Alice New"
    )));
    let mut renamed: Vec<&[u8]> = events[1].changes.iter().map(Change::id).collect();
    renamed.sort();
    let mut xy = [xb.as_slice(), yb.as_slice()];
    xy.sort();
    assert_eq!(renamed, xy);
    assert_eq!(events[2].changes, [Change::Hide { id: bobb.clone() }]);
    assert_eq!(events[3].changes, [Change::Unhide { id: bobb }]);
    assert!(events[4].changes.is_empty());
    assert!(events.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
    drop(vault);

    // Yet another process prints the same log.
    let printed = env.events_json();
    assert_eq!(printed.len(), 5);
    let expected: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e.to_json()).unwrap())
        .collect();
    assert_eq!(printed, expected);
    let signals: Vec<&str> = printed
        .iter()
        .map(|e| e["signal"].as_str().unwrap())
        .collect();
    assert_eq!(
        signals,
        [
            "allAcceptedCredentials",
            "currentUserDetails",
            "unknownCredential",
            "restore",
            "unknownCredential"
        ]
    );
    let (text, _) = expect(&env.run(&["events"]), 0);
    assert_eq!(text.lines().count(), 5, "{text}");
    let (filtered, _) = expect(&env.run(&["events", "--rp-id", ORG, "--json"]), 0);
    assert_eq!(serde_json::from_str::<Value>(&filtered).unwrap(), json!([]));
}

#[test]
fn cli_purges_hidden_passkeys_once_the_vaults_retention_has_run_out() {
    let env = Env::with_vault("purge");
    let alice = env.quick_create_id(RP, "alice");
    let bob = env.quick_create_id(RP, "bob");
    // The retention period is a vault setting; zero makes the next signal purge.
    let mut vault = env.open_vault();
    vault
        .modify(|_, settings| settings.hidden_retention_ms = 0)
        .unwrap();
    drop(vault);

    expect(&env.signal_unknown(&alice), 0);
    assert_eq!(env.entry(&alice)["hidden"], true);
    let (_, stderr) = expect(&env.signal_unknown(&b64(&[9; 32])), 0);
    assert!(
        stderr.contains(&format!("removed {}", &alice[..12])),
        "{stderr}"
    );
    let all = env.listed_ids(&["--all"]);
    assert_eq!(all, [bob.clone()]);
    let events = env.events_json();
    let signals: Vec<&str> = events
        .iter()
        .map(|e| e["signal"].as_str().unwrap())
        .collect();
    assert_eq!(signals, ["unknownCredential", "purge", "unknownCredential"]);
    assert_eq!(
        events[1]["changes"],
        json!([{"credentialId": alice, "change": "removed"}])
    );
    expect_refusal(&env.restore(&alice), "fauxkey: no passkey with id");
    // Bob was never hidden: never purged.
    expect(&env.signal_unknown(&b64(&[9; 32])), 0);
    assert_eq!(env.listed_ids(&[]), [bob]);
}

#[test]
fn cli_refusals_exit_1_and_change_nothing() {
    let env = Env::with_vault("errors");
    let alice = env.quick_create_id(RP, "alice");
    let user = env.entry(&alice)["userHandle"].as_str().unwrap().to_owned();
    let before = env.vault_bytes();

    let signal = |args: &[&str]| {
        let mut all = vec!["signal"];
        all.extend_from_slice(args);
        env.run(&all)
    };
    let bad = "not+base64url=";
    for origin in [ORIGIN, EVIL_ORIGIN] {
        // Decode errors are TypeError, before the origin is looked at.
        let e = expect_refusal(
            &signal(&[
                "unknown-credential",
                "--origin",
                origin,
                "--rp-id",
                RP,
                "--credential-id",
                bad,
            ]),
            "fauxkey: TypeError: ",
        );
        assert!(e.contains("credentialId"), "{e}");
        let e = expect_refusal(
            &signal(&[
                "all-accepted",
                "--origin",
                origin,
                "--rp-id",
                RP,
                "--user-id",
                bad,
                "--credential-ids",
                &alice,
            ]),
            "fauxkey: TypeError: ",
        );
        assert!(e.contains("userId"), "{e}");
        let e = expect_refusal(
            &signal(&[
                "all-accepted",
                "--origin",
                origin,
                "--rp-id",
                RP,
                &format!("--user-id={user}"),
                &format!("--credential-ids={alice},{bad}"),
            ]),
            "fauxkey: TypeError: ",
        );
        assert!(e.contains("allAcceptedCredentialIds[1]"), "{e}");
        expect_refusal(
            &signal(&[
                "user-details",
                "--origin",
                origin,
                "--rp-id",
                RP,
                "--user-id",
                bad,
                "--name",
                "n",
                "--display-name",
                "d",
            ]),
            "fauxkey: TypeError: ",
        );
    }
    // The wrong origin: SecurityError.
    expect_refusal(
        &signal(&[
            "unknown-credential",
            "--origin",
            EVIL_ORIGIN,
            "--rp-id",
            RP,
            &format!("--credential-id={alice}"),
        ]),
        "fauxkey: SecurityError: ",
    );
    expect_refusal(
        &signal(&[
            "all-accepted",
            "--origin",
            EVIL_ORIGIN,
            "--rp-id",
            RP,
            &format!("--user-id={user}"),
            "--credential-ids=",
        ]),
        "fauxkey: SecurityError: ",
    );
    expect_refusal(
        &signal(&[
            "user-details",
            "--origin",
            ORIGIN,
            "--rp-id",
            "com",
            &format!("--user-id={user}"),
            "--name",
            "n",
            "--display-name",
            "d",
        ]),
        "fauxkey: SecurityError: ",
    );
    // restore of an id the vault does not hold.
    expect_refusal(
        &env.run(&["restore", "AAAAAAAAAAAAAAAAAAAAAA"]),
        "fauxkey: no passkey with id \"AAAAAAAAAAAAAAAAAAAAAA\" in the vault",
    );

    // None of that touched the vault: no hiding, no event.
    assert_eq!(env.vault_bytes(), before);
    assert_eq!(env.entry(&alice)["hidden"], false);
    assert!(env.events_json().is_empty());
}

/// Credential ids and user handles are random base64url: one in 64 begins with '-'. The CLI must
/// take such a value after `--credential-id` / `--user-id` as `--credential-ids` already does.
#[test]
fn cli_ids_beginning_with_a_hyphen_are_accepted() {
    let env = Env::with_vault("hyphen");
    let id = b64(&[0xFB; 32]);
    assert!(id.starts_with('-'), "{id}");
    let user = b64(&[0xF8, 1, 2]);
    assert!(user.starts_with('-'), "{user}");
    let out = env.run(&[
        "signal",
        "unknown-credential",
        "--origin",
        ORIGIN,
        "--rp-id",
        RP,
        "--credential-id",
        &id,
    ]);
    expect(&out, 0);
    let out = env.run(&[
        "signal",
        "all-accepted",
        "--origin",
        ORIGIN,
        "--rp-id",
        RP,
        "--user-id",
        &user,
        "--credential-ids",
        &id,
    ]);
    expect(&out, 0);
    let out = env.run(&[
        "signal",
        "user-details",
        "--origin",
        ORIGIN,
        "--rp-id",
        RP,
        "--user-id",
        &user,
        "--name",
        "n",
        "--display-name",
        "d",
    ]);
    expect(&out, 0);
    assert_eq!(env.events_json().len(), 3);
}
