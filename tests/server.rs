//! `fauxkey serve` over real HTTP: a server started in-process on 127.0.0.1:0, driven by a plain
//! HTTP client (ureq) exactly as an RP's test suite in another language would drive it, with
//! webauthn-rs generating the options and verifying every response.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{rp, start, start_with, Http, ORIGIN};
use fauxkey::server::{AuthenticatorOptions, ServerStore};
use fauxkey::store::MemoryStore;
use serde_json::{json, Value};
use webauthn_rs_core::proto::{
    AuthenticationState, Credential, PublicKeyCredential, RegisterPublicKeyCredential,
    RegistrationState, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

fn start_reg(
    core: &WebauthnCore,
    rk: bool,
    uv: UserVerificationPolicy,
) -> (Value, RegistrationState) {
    let builder = core
        .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
        .unwrap()
        .user_verification_policy(uv)
        .require_resident_key(rk);
    let (ccr, state) = core.generate_challenge_register(builder).unwrap();
    (serde_json::to_value(&ccr).unwrap(), state)
}

fn start_auth(
    core: &WebauthnCore,
    creds: Vec<Credential>,
    uv: UserVerificationPolicy,
) -> (Value, AuthenticationState) {
    let builder = core
        .new_challenge_authenticate_builder(creds, Some(uv))
        .unwrap();
    let (rcr, state) = core.generate_challenge_authenticate(builder).unwrap();
    (serde_json::to_value(&rcr).unwrap(), state)
}

/// Registers through the server; webauthn-rs must accept.
fn register(http: &Http, core: &WebauthnCore, authenticator: Option<&str>, rk: bool) -> Credential {
    let (options, state) = start_reg(core, rk, UserVerificationPolicy::Preferred);
    let mut body = json!({"origin": ORIGIN, "options": options});
    if let Some(id) = authenticator {
        body["authenticatorId"] = json!(id);
    }
    let (status, response) = http.post("/webauthn/create", &body);
    assert_eq!(status, 200, "{response}");
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    core.register_credential(&reg, &state, None)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the registration: {e:?}"))
}

/// Logs in through the server with an allow list; returns webauthn-rs's verdict.
fn login(
    http: &Http,
    core: &WebauthnCore,
    authenticator: Option<&str>,
    cred: &Credential,
) -> Result<webauthn_rs_core::proto::AuthenticationResult, String> {
    let (options, state) = start_auth(core, vec![cred.clone()], UserVerificationPolicy::Preferred);
    let mut body = json!({"origin": ORIGIN, "options": options});
    if let Some(id) = authenticator {
        body["authenticatorId"] = json!(id);
    }
    let (status, response) = http.post("/webauthn/get", &body);
    if status != 200 {
        return Err(format!("{status} {response}"));
    }
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    core.authenticate_credential(&pkc, &state)
        .map_err(|e| format!("{e:?}"))
}

fn assert_error(result: (u16, Value), status: u16, name: &str, message_part: &str) {
    let (got_status, body) = result;
    assert_eq!(got_status, status, "{body}");
    assert_eq!(body["name"], name, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(message_part),
        "{message:?} lacks {message_part:?}"
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        2,
        "only name and message: {body}"
    );
}

// ---------------------------------------------------------------------- round trips

#[test]
fn create_then_get_is_verified_by_webauthn_rs() {
    let (_server, http) = start(1);
    let core = rp();
    let cred = register(&http, &core, None, false);
    for expected in 1..=2 {
        let result = login(&http, &core, None, &cred).unwrap();
        assert_eq!(result.counter(), expected);
    }
}

#[test]
fn discoverable_login_returns_the_user_handle() {
    let (_server, http) = start(2);
    let core = rp();
    let cred = register(&http, &core, None, true);
    let (options, mut state) = start_auth(&core, Vec::new(), UserVerificationPolicy::Required);
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200, "{response}");
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    assert_eq!(pkc.get_user_unique_id(), Some(&b"alice-user-handle"[..]));
    state.set_allowed_credentials(vec![cred]);
    let result = core.authenticate_credential(&pkc, &state).unwrap();
    assert!(result.user_verified());
}

#[test]
fn bare_options_and_top_origin_are_accepted() {
    let (_server, http) = start(3);
    let core = rp();
    let (options, state) = start_reg(&core, false, UserVerificationPolicy::Preferred);
    // The bare options (without webauthn-rs's {"publicKey": …} wrapper), from a top-level page
    // on another site embedding the RP in an iframe.
    let (status, response) = http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "topOrigin": "https://embedder.test", "options": options["publicKey"]}),
    );
    assert_eq!(status, 200, "{response}");
    let client_data =
        fauxkey::b64url::decode(response["response"]["clientDataJSON"].as_str().unwrap()).unwrap();
    let client_data: Value = serde_json::from_slice(&client_data).unwrap();
    assert_eq!(client_data["crossOrigin"], true);
    assert_eq!(client_data["topOrigin"], "https://embedder.test");
    // webauthn-rs refuses cross-origin ceremonies unless the RP allows them: proof that the
    // field reaches it.
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    assert!(core.register_credential(&reg, &state, None).is_err());
}

#[test]
fn capabilities_follow_the_authenticator_options() {
    let (_server, http) = start(4);
    let (status, caps) = http.get("/webauthn/capabilities");
    assert_eq!(status, 200);
    assert_eq!(caps["userVerifyingPlatformAuthenticator"], true);
    assert_eq!(caps["passkeyPlatformAuthenticator"], true);
    assert_eq!(caps["signalUnknownCredential"], true);
    let (status, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"hasUserVerification": false}),
    );
    assert_eq!(status, 201);
    let id = created["authenticatorId"].as_str().unwrap();
    let (_, caps) = http.get(&format!("/webauthn/capabilities?authenticatorId={id}"));
    assert_eq!(caps["userVerifyingPlatformAuthenticator"], false);
    assert_eq!(caps["passkeyPlatformAuthenticator"], false);
    assert_error(
        http.get("/webauthn/capabilities?authenticatorId=nope"),
        404,
        "NotFoundError",
        "no authenticator with id \"nope\"",
    );
}

#[test]
fn a_zero_counter_authenticator_is_accepted_by_webauthn_rs() {
    let (_server, http) = start(5);
    let core = rp();
    let (_, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"counter": "zero", "seed": 9}),
    );
    let id = created["authenticatorId"].as_str().unwrap().to_owned();
    let cred = register(&http, &core, Some(&id), false);
    let result = login(&http, &core, Some(&id), &cred).unwrap();
    assert_eq!(result.counter(), 0);
    // Authenticators are independent: the default one does not hold this credential.
    let err = login(&http, &core, None, &cred).unwrap_err();
    assert!(err.starts_with("403"), "{err}");
}

#[test]
fn the_same_seed_gives_the_same_credential() {
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let (_server, http) = start(77);
            let core = rp();
            let cred = register(&http, &core, None, false);
            fauxkey::b64url::encode(cred.cred_id.as_ref())
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
}

// ---------------------------------------------------------------------- error paths

fn creation(core: &WebauthnCore) -> Value {
    start_reg(core, false, UserVerificationPolicy::Preferred).0
}

#[test]
fn malformed_bodies_are_syntax_and_type_errors() {
    let (_server, http) = start(10);
    let core = rp();
    assert_error(
        http.post_raw("/webauthn/create", "{not json"),
        400,
        "SyntaxError",
        "the request body is not JSON",
    );
    assert_error(
        http.post_raw("/webauthn/get", ""),
        400,
        "SyntaxError",
        "the request body is not JSON",
    );
    assert_error(
        http.post("/webauthn/create", &json!({"options": creation(&core)})),
        400,
        "TypeError",
        "missing field `origin`",
    );
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": "{}"}),
        ),
        400,
        "TypeError",
        "`options` must be a JSON object",
    );
    assert_error(
        http.post("/webauthn/create", &json!({"origin": 7, "options": {}})),
        400,
        "TypeError",
        "member `origin`",
    );
    // The RP's options themselves: the client names the bad member.
    let mut options = creation(&core);
    options["publicKey"]["user"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        400,
        "TypeError",
        "user.name",
    );
    let mut options = creation(&core);
    options["publicKey"]["challenge"] = json!("not+base64url");
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        400,
        "EncodingError",
        "challenge",
    );
    // Nothing was registered by any of these.
    let (_, creds) = http.get("/_fauxkey/authenticators/default/credentials");
    assert_eq!(creds, json!([]));
}

#[test]
fn wrong_origin_and_rp_id_are_security_errors() {
    let (_server, http) = start(11);
    let core = rp();
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": "https://evil.test", "options": creation(&core)}),
        ),
        403,
        "SecurityError",
        "example.com",
    );
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": "http://example.com", "options": creation(&core)}),
        ),
        403,
        "SecurityError",
        "",
    );
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": "https://login.example.com", "options": {"challenge": "Y2g", "rpId": "other.example"}}),
        ),
        403,
        "SecurityError",
        "other.example",
    );
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": "null", "options": {"challenge": "Y2g"}}),
        ),
        403,
        "NotAllowedError",
        "",
    );
}

#[test]
fn unknown_authenticator_routes_and_methods() {
    let (_server, http) = start(12);
    let core = rp();
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": creation(&core), "authenticatorId": "authenticator-9"}),
        ),
        404,
        "NotFoundError",
        "no authenticator with id \"authenticator-9\"",
    );
    assert_error(
        http.get("/webauthn/nothing"),
        404,
        "NotFoundError",
        "no route GET /webauthn/nothing",
    );
    assert_error(
        http.get("/webauthn/create"),
        405,
        "NotSupportedError",
        "does not take GET",
    );
    assert_error(
        http.delete("/_fauxkey/authenticators/nope"),
        404,
        "NotFoundError",
        "\"nope\"",
    );
    assert_error(
        http.delete("/_fauxkey/authenticators/default"),
        409,
        "InvalidStateError",
        "cannot be removed",
    );
}

#[test]
fn no_matching_credential_is_not_allowed_at_once() {
    let (_server, http) = start(13);
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": {"challenge": "Y2hhbGxlbmdl", "timeout": 600000}}),
        ),
        403,
        "NotAllowedError",
        "no passkey for RP ID \"example.com\"",
    );
}

#[test]
fn excluded_and_unsupported_are_invalid_state_and_not_supported() {
    let (_server, http) = start(14);
    let core = rp();
    let cred = register(&http, &core, None, false);
    let mut options = creation(&core);
    options["publicKey"]["excludeCredentials"] =
        json!([{"type": "public-key", "id": fauxkey::b64url::encode(cred.cred_id.as_ref())}]);
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        409,
        "InvalidStateError",
        "excludeCredentials",
    );
    let mut options = creation(&core);
    // RS1 (-65535): an algorithm fauxkey does not implement.
    options["publicKey"]["pubKeyCredParams"] = json!([{"type": "public-key", "alg": -65535}]);
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        422,
        "NotSupportedError",
        "algorithms",
    );
}

#[test]
fn a_refusing_user_is_not_allowed_at_once_and_nothing_is_stored() {
    let (_server, http) = start(15);
    let core = rp();
    let (_, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"isUserConsenting": false}),
    );
    let id = created["authenticatorId"].as_str().unwrap().to_owned();
    let mut options = creation(&core);
    options["publicKey"]["timeout"] = json!(600000);
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options, "authenticatorId": id}),
        ),
        403,
        "NotAllowedError",
        "the user denied the request",
    );
    let (_, creds) = http.get(&format!("/_fauxkey/authenticators/{id}/credentials"));
    assert_eq!(creds, json!([]));
}

#[test]
fn a_user_who_does_not_respond_times_out_after_the_options_timeout() {
    let (_server, http) = start(16);
    let core = rp();
    let (_, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"isUserResponding": false}),
    );
    let id = created["authenticatorId"].as_str().unwrap().to_owned();
    let mut options = creation(&core);
    options["publicKey"]["timeout"] = json!(300);
    let started = Instant::now();
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options, "authenticatorId": id}),
        ),
        403,
        "NotAllowedError",
        "the user did not respond within the timeout (300 ms)",
    );
    // The answer waits for the timeout (a behaviour, not a speed: it must not come early).
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Bad options still fail at once, with their own error.
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": "https://evil.test", "options": {"challenge": "Y2g", "rpId": "example.com", "timeout": 600000}, "authenticatorId": id}),
        ),
        403,
        "SecurityError",
        "",
    );
    let (_, creds) = http.get(&format!("/_fauxkey/authenticators/{id}/credentials"));
    assert_eq!(creds, json!([]));
}

// ---------------------------------------------------------------------- WebDriver-style commands

#[test]
fn credentials_round_trip_as_pkcs8_between_authenticators() {
    let (_server, http) = start(20);
    let core = rp();
    let cred = register(&http, &core, None, true);
    login(&http, &core, None, &cred).unwrap();

    let (status, exported) = http.get("/_fauxkey/authenticators/default/credentials");
    assert_eq!(status, 200);
    let exported = exported.as_array().unwrap().clone();
    assert_eq!(exported.len(), 1);
    let c = &exported[0];
    assert_eq!(
        c["credentialId"],
        fauxkey::b64url::encode(cred.cred_id.as_ref())
    );
    assert_eq!(c["isResidentCredential"], true);
    assert_eq!(c["rpId"], "example.com");
    assert_eq!(
        c["userHandle"],
        fauxkey::b64url::encode(b"alice-user-handle")
    );
    assert_eq!(c["signCount"], 1);
    // An independent PKCS#8 reader understands the exported key.
    use p256::pkcs8::DecodePrivateKey as _;
    p256::ecdsa::SigningKey::from_pkcs8_der(
        &fauxkey::b64url::decode(c["privateKey"].as_str().unwrap()).unwrap(),
    )
    .unwrap();

    // Move it to a second authenticator and log in there: webauthn-rs accepts with the
    // credential it stored at registration.
    let (_, created) = http.post("/_fauxkey/authenticators", &json!({}));
    let id = created["authenticatorId"].as_str().unwrap().to_owned();
    let (status, body) = http.post(&format!("/_fauxkey/authenticators/{id}/credentials"), c);
    assert_eq!(status, 201, "{body}");
    let (status, _) = http.delete(&format!(
        "/_fauxkey/authenticators/default/credentials/{}",
        c["credentialId"].as_str().unwrap()
    ));
    assert_eq!(status, 204);
    assert!(login(&http, &core, None, &cred).is_err());
    let result = login(&http, &core, Some(&id), &cred).unwrap();
    assert_eq!(result.counter(), 2, "the imported signCount carries on");
}

#[test]
fn a_credential_added_from_an_outside_key_signs_logins() {
    use p256::ecdsa::signature::Verifier as _;
    use p256::pkcs8::EncodePrivateKey as _;
    let (_server, http) = start(21);
    // A key made by p256 itself, not by fauxkey.
    let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let credential_id = fauxkey::b64url::encode(&[0xC1; 32]);
    let (status, body) = http.post(
        "/_fauxkey/authenticators/default/credentials",
        &json!({
            "credentialId": credential_id,
            "isResidentCredential": true,
            "rpId": "example.com",
            "privateKey": fauxkey::b64url::encode(der.as_bytes()),
            "userHandle": fauxkey::b64url::encode(b"bob"),
            "signCount": 41
        }),
    );
    assert_eq!(status, 201, "{body}");
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": {"challenge": "Y2hhbGxlbmdlLTE", "rpId": "example.com"}}),
    );
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["id"], credential_id);
    assert_eq!(
        response["response"]["userHandle"],
        fauxkey::b64url::encode(b"bob")
    );
    let auth_data =
        fauxkey::b64url::decode(response["response"]["authenticatorData"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        u32::from_be_bytes(auth_data[33..37].try_into().unwrap()),
        42
    );
    let client_data =
        fauxkey::b64url::decode(response["response"]["clientDataJSON"].as_str().unwrap()).unwrap();
    let signature =
        fauxkey::b64url::decode(response["response"]["signature"].as_str().unwrap()).unwrap();
    use sha2::Digest as _;
    let mut signed = auth_data.clone();
    signed.extend_from_slice(&sha2::Sha256::digest(&client_data));
    let signature = p256::ecdsa::Signature::from_der(&signature).unwrap();
    key.verifying_key().verify(&signed, &signature).unwrap();
}

#[test]
fn adding_bad_credentials_is_refused_and_changes_nothing() {
    let (_server, http) = start(22);
    let good_key = {
        use p256::pkcs8::EncodePrivateKey as _;
        let der = p256::ecdsa::SigningKey::from_slice(&[9u8; 32])
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        fauxkey::b64url::encode(der.as_bytes())
    };
    let id = fauxkey::b64url::encode(&[1; 16]);
    let path = "/_fauxkey/authenticators/default/credentials";
    let base = json!({"credentialId": id, "isResidentCredential": true, "rpId": "example.com", "privateKey": good_key, "userHandle": "dXNlcg"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    assert_error(
        http.post(path, &with("privateKey", json!("AAAA"))),
        400,
        "TypeError",
        "`privateKey` is not a PKCS#8",
    );
    assert_error(
        http.post(path, &with("credentialId", json!("!!"))),
        400,
        "TypeError",
        "`credentialId` is not unpadded base64url",
    );
    assert_error(
        http.post(path, &with("credentialId", json!("AAAA"))),
        400,
        "TypeError",
        "16 to 1023 bytes",
    );
    let mut no_handle = base.clone();
    no_handle.as_object_mut().unwrap().remove("userHandle");
    assert_error(
        http.post(path, &no_handle),
        400,
        "TypeError",
        "`userHandle` is required",
    );
    assert_error(
        http.post(path, &with("rpId", json!(5))),
        400,
        "TypeError",
        "rpId",
    );
    assert_error(
        http.post("/_fauxkey/authenticators/nope/credentials", &base),
        404,
        "NotFoundError",
        "\"nope\"",
    );
    let (_, creds) = http.get(path);
    assert_eq!(creds, json!([]));
    assert_error(
        http.delete(&format!("{path}/{id}")),
        404,
        "NotFoundError",
        "has no credential",
    );
    // And the good one goes in.
    assert_eq!(http.post(path, &base).0, 201);
    assert_eq!(http.delete(path).0, 204);
    assert_eq!(http.get(path).1, json!([]));
}

#[test]
fn unknown_authenticator_options_are_type_errors() {
    let (_server, http) = start(23);
    assert_error(
        http.post(
            "/_fauxkey/authenticators",
            &json!({"hasUserVerfication": false}),
        ),
        400,
        "TypeError",
        "unknown field `hasUserVerfication`",
    );
    assert_error(
        http.post("/_fauxkey/authenticators", &json!({"profile": "nope"})),
        400,
        "TypeError",
        "unknown profile \"nope\"",
    );
    assert_error(
        http.post("/_fauxkey/authenticators", &json!({"counter": "backwards"})),
        400,
        "TypeError",
        "counter",
    );
    let (_, list) = http.get("/_fauxkey/authenticators");
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn set_user_verified_switches_uv_on_and_off() {
    let (_server, http) = start(24);
    let core = rp();
    let cred = register(&http, &core, None, false);
    assert_eq!(
        http.post(
            "/_fauxkey/authenticators/default/uv",
            &json!({"isUserVerified": false})
        )
        .0,
        204
    );
    let (options, _) = start_auth(&core, vec![cred.clone()], UserVerificationPolicy::Required);
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        403,
        "NotAllowedError",
        "",
    );
    let (_, list) = http.get("/_fauxkey/authenticators");
    assert_eq!(list[0]["isUserVerified"], false);
    assert_eq!(
        http.post(
            "/_fauxkey/authenticators/default/uv",
            &json!({"isUserVerified": true})
        )
        .0,
        204
    );
    let (options, state) = start_auth(&core, vec![cred], UserVerificationPolicy::Required);
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200);
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    assert!(core
        .authenticate_credential(&pkc, &state)
        .unwrap()
        .user_verified());
    assert_error(
        http.post(
            "/_fauxkey/authenticators/default/uv",
            &json!({"isUserVerified": "yes"}),
        ),
        400,
        "TypeError",
        "isUserVerified",
    );
}

#[test]
fn set_user_consenting_refuses_then_consents_again() {
    let (_server, http) = start(25);
    let core = rp();
    let cred = register(&http, &core, None, false);
    let uv = "/_fauxkey/authenticators/default/uv";
    assert_eq!(http.post(uv, &json!({"isUserConsenting": false})).0, 204);
    let (options, _) = start_auth(&core, vec![cred.clone()], UserVerificationPolicy::Preferred);
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        403,
        "NotAllowedError",
        "",
    );
    let (_, list) = http.get("/_fauxkey/authenticators");
    assert_eq!(list[0]["isUserConsenting"], false);
    // Only consent changes: user verification stays as it was.
    assert_eq!(list[0]["isUserVerified"], true);
    assert_eq!(http.post(uv, &json!({"isUserConsenting": true})).0, 204);
    let (options, state) = start_auth(&core, vec![cred], UserVerificationPolicy::Preferred);
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200, "{response}");
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    assert!(core.authenticate_credential(&pkc, &state).is_ok());
    assert_error(
        http.post(uv, &json!({})),
        400,
        "TypeError",
        "isUserConsenting",
    );
}

// ---------------------------------------------------------------------- signals, events, reset

#[test]
fn signals_hide_passkeys_and_are_logged() {
    let (_server, http) = start(30);
    let core = rp();
    let cred = register(&http, &core, None, true);
    let id = fauxkey::b64url::encode(cred.cred_id.as_ref());
    let status = http
        .post(
            "/webauthn/signal/unknown-credential",
            &json!({"origin": ORIGIN, "options": {"rpId": "example.com", "credentialId": id}}),
        )
        .0;
    assert_eq!(status, 204);
    // Hidden: a discoverable login finds nothing.
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": {"challenge": "Y2g"}}),
        ),
        403,
        "NotAllowedError",
        "",
    );
    let user = fauxkey::b64url::encode(b"alice-user-handle");
    assert_eq!(
        http.post(
            "/webauthn/signal/all-accepted",
            &json!({"origin": ORIGIN, "options": {"rpId": "example.com", "userId": user, "allAcceptedCredentialIds": [id]}}),
        )
        .0,
        204
    );
    assert_eq!(
        http.post(
            "/webauthn/signal/user-details",
            &json!({"origin": ORIGIN, "options": {"rpId": "example.com", "userId": user, "name": "alice2", "displayName": "Alice Two"}}),
        )
        .0,
        204
    );
    let (status, events) = http.get("/_fauxkey/events");
    assert_eq!(status, 200);
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["signal"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "unknownCredential",
            "allAcceptedCredentials",
            "currentUserDetails"
        ]
    );
    assert_eq!(events[0]["authenticatorId"], "default");
    assert_eq!(events[0]["changes"][0]["change"], "hidden");
    assert_eq!(events[1]["changes"][0]["change"], "unhidden");
    assert_eq!(events[2]["changes"][0]["name"], "alice2");
    // Shown again: the login works and webauthn-rs accepts it.
    login(&http, &core, None, &cred).unwrap();
    // Signal errors are a browser's.
    assert_error(
        http.post(
            "/webauthn/signal/unknown-credential",
            &json!({"origin": "https://evil.test", "options": {"rpId": "example.com", "credentialId": id}}),
        ),
        403,
        "SecurityError",
        "",
    );
    assert_error(
        http.post(
            "/webauthn/signal/unknown-credential",
            &json!({"origin": ORIGIN, "options": {"rpId": "example.com", "credentialId": "a+b"}}),
        ),
        400,
        "TypeError",
        "credentialId",
    );
    assert_error(
        http.post(
            "/webauthn/signal/user-details",
            &json!({"origin": ORIGIN, "options": {"rpId": "example.com", "userId": user}}),
        ),
        400,
        "TypeError",
        "name",
    );
    let (_, only) = http.get("/_fauxkey/events?authenticatorId=default");
    assert_eq!(only.as_array().unwrap().len(), 3);
    assert_error(
        http.get("/_fauxkey/events?authenticatorId=x"),
        404,
        "NotFoundError",
        "\"x\"",
    );
}

#[test]
fn reset_empties_the_default_authenticator_and_removes_the_others() {
    let (_server, http) = start(31);
    let core = rp();
    let cred = register(&http, &core, None, true);
    http.post("/_fauxkey/authenticators", &json!({}));
    http.post(
        "/_fauxkey/authenticators/default/uv",
        &json!({"isUserVerified": false}),
    );
    http.post(
        "/webauthn/signal/unknown-credential",
        &json!({"origin": ORIGIN, "options": {"rpId": "example.com", "credentialId": "AAAAAAAAAAAAAAAAAAAAAA"}}),
    );
    assert_eq!(http.post_raw("/_fauxkey/reset", "").0, 204);
    let (_, list) = http.get("/_fauxkey/authenticators");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["credentials"], 0);
    assert_eq!(list[0]["isUserVerified"], true);
    assert_eq!(http.get("/_fauxkey/events").1, json!([]));
    assert!(login(&http, &core, None, &cred).is_err());
    // Same seed after reset: the first credential id repeats.
    let again = register(&http, &core, None, true);
    assert_eq!(again.cred_id, cred.cred_id);
    // Ids of added authenticators start over.
    let (_, created) = http.post("/_fauxkey/authenticators", &json!({}));
    assert_eq!(created["authenticatorId"], "authenticator-1");
}

// ---------------------------------------------------------------------- CORS, health, shim

#[test]
fn health_and_shim() {
    let (server, http) = start(41);
    let (status, health) = http.get("/_fauxkey/health");
    assert_eq!(status, 200);
    assert_eq!(
        health,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    let response = http.request("GET", "/shim.js").call().unwrap();
    assert!(response.content_type().contains("javascript"));
    let text = response.into_string().unwrap();
    assert!(!text.contains("__FAUXKEY_BASE_URL__"));
    assert!(
        text.contains(server.base_url()),
        "the shim knows where the server is"
    );
}

#[test]
fn a_vault_backed_server_keeps_passkeys_across_restarts() {
    let dir = common::temp_dir("vault-restart");
    let path = dir.join("server.fxk");
    let passphrase = fauxkey::vault::Passphrase::new("correct horse").unwrap();
    fauxkey::vault::Vault::create(
        &path,
        &passphrase,
        fauxkey::vault::KdfParams::INSECURE_FAST,
        fauxkey::profiles::find("fauxkey").unwrap().config,
    )
    .unwrap();
    let core = rp();
    let open = || {
        ServerStore::Vault(Box::new(
            fauxkey::vault::Vault::open(&path, &passphrase).unwrap(),
        ))
    };
    let cred = {
        let (server, http) = start_with(AuthenticatorOptions::default(), open());
        let cred = register(&http, &core, None, true);
        login(&http, &core, None, &cred).unwrap();
        // Reset leaves a vault alone.
        assert_eq!(http.post_raw("/_fauxkey/reset", "").0, 204);
        server.stop();
        cred
    };
    let (_server, http) = start_with(AuthenticatorOptions::default(), open());
    let (_, list) = http.get("/_fauxkey/authenticators");
    assert_eq!(list[0]["vault"], true);
    assert_eq!(list[0]["credentials"], 1);
    let result = login(&http, &core, None, &cred).unwrap();
    assert_eq!(result.counter(), 2, "the counter was saved too");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_in_memory_server_forgets_on_restart() {
    let core = rp();
    let (server, http) = start_with(
        AuthenticatorOptions::default(),
        ServerStore::Memory(MemoryStore::new()),
    );
    let cred = register(&http, &core, None, true);
    server.stop();
    let (_server, http) = start(50);
    assert!(login(&http, &core, None, &cred).is_err());
}

#[test]
fn profiles_apply_per_authenticator_with_the_servers_attestation_ca() {
    use webauthn_rs_core::proto::{AttestationConveyancePreference, ParsedAttestationData};
    let (_server, http) = start(60);
    let core = rp();
    let (status, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"profile": "yubikey-5", "seed": 61}),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["authenticatorId"].as_str().unwrap();
    let builder = core
        .new_challenge_register_builder(b"dave", "dave", "Dave")
        .unwrap()
        .attestation(AttestationConveyancePreference::Direct);
    let (options, state) = core.generate_challenge_register(builder).unwrap();
    let (status, response) = http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": options, "authenticatorId": id}),
    );
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["authenticatorAttachment"], "cross-platform");
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    let cred = core.register_credential(&reg, &state, None).unwrap();
    // webauthn-rs verified a packed statement with a certificate chain (not self attestation).
    assert!(
        matches!(cred.attestation.data, ParsedAttestationData::Basic(ref chain) if !chain.is_empty()),
        "{:?}",
        cred.attestation.data
    );
    // The root an RP test suite would trust.
    let (status, root) = http.get("/_fauxkey/attestation-root");
    assert_eq!(status, 200);
    assert!(root["pem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert!(!root["der"].as_str().unwrap().is_empty());
    // The default authenticator is still the fauxkey profile.
    let (_, list) = http.get("/_fauxkey/authenticators");
    let profile_of = |wanted: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| a["authenticatorId"] == wanted)
            .map(|a| a["profile"].clone())
    };
    assert_eq!(profile_of("default"), Some(json!("fauxkey")));
    assert_eq!(profile_of(id), Some(json!("yubikey-5")));
}

// ---------------------------------------------------------------------- HTTP hygiene

/// Sends `requests` back to back on one keep-alive connection and returns each status line.
fn statuses_on_one_connection(
    base: &str,
    token: &str,
    requests: &[(&str, &str, &str)],
) -> Vec<String> {
    use std::io::{BufRead, BufReader, Read, Write};
    let addr = base.trim_start_matches("http://");
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut statuses = Vec::new();
    for (method, path, body) in requests {
        // Headers first, the body a moment later, as Python's http.client sends them: the
        // server must not answer (and drop the connection) before the body has arrived.
        write!(
            writer,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        writer.write_all(body.as_bytes()).unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut skip = vec![0; length];
        reader.read_exact(&mut skip).unwrap();
        statuses.push(status.trim_end().to_owned());
    }
    statuses
}

#[test]
fn a_body_the_route_does_not_read_leaves_the_keep_alive_connection_usable() {
    // Reset takes no body; a client that sends one anyway (Python's requests with json={})
    // must still get its next request answered on the same connection.
    let (_server, http) = start(41);
    let statuses = statuses_on_one_connection(
        &http.base,
        http.token.as_deref().unwrap(),
        &[
            ("POST", "/_fauxkey/reset", "{\"everything\": true}"),
            ("GET", "/_fauxkey/health", ""),
            ("DELETE", "/_fauxkey/faults", "{}"),
            ("GET", "/webauthn/capabilities", ""),
        ],
    );
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 204 No Content",
            "HTTP/1.1 200 OK",
            "HTTP/1.1 204 No Content",
            "HTTP/1.1 200 OK"
        ]
    );
}

#[test]
fn an_oversized_body_is_refused_with_a_json_error() {
    let (_server, http) = start(42);
    let body = format!(
        "{{\"origin\": \"https://example.com\", \"pad\": \"{}\"}}",
        "x".repeat(3 << 20)
    );
    let (status, error) = http.post_raw("/webauthn/create", &body);
    assert_eq!(status, 413);
    assert_eq!(error["name"], "TypeError");
    assert!(
        error["message"].as_str().unwrap().contains("2097152 bytes"),
        "{error}"
    );
    // The shim is not cached (its base URL changes from run to run).
    let response = http.request("GET", "/shim.js").call().unwrap();
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

#[test]
fn the_control_plane_sets_changes_and_clears_the_pin() {
    let (_server, http) = start(31);
    let pin = "/_fauxkey/authenticators/default/pin";
    let (status, body) = http.get(pin);
    assert_eq!(status, 200);
    assert_eq!(body["pinSet"], false);
    assert_eq!(body["pinRetries"], 8);
    assert_eq!(http.post(pin, &json!({"pin": "1234"})).0, 204);
    let (status, _) = http.post(pin, &json!({"pin": "5678"}));
    assert_ne!(
        status, 204,
        "a second set without the current PIN is refused"
    );
    let (status, _) = http.post(pin, &json!({"pin": "5678", "currentPin": "0000"}));
    assert_ne!(status, 204, "a wrong current PIN is refused");
    let (status, _) = http.post(pin, &json!({"pin": "56", "currentPin": "1234"}));
    assert_ne!(status, 204, "a 2-character PIN is refused");
    assert_eq!(
        http.post(pin, &json!({"pin": "5678", "currentPin": "1234"}))
            .0,
        204
    );
    assert_eq!(http.get(pin).1["pinSet"], true);
    assert_eq!(
        http.post("/_fauxkey/authenticators/default/power-cycle", &json!({}))
            .0,
        204
    );
    assert_eq!(http.delete(pin).0, 204);
    assert_eq!(http.get(pin).1["pinSet"], false);
    assert_eq!(http.get("/_fauxkey/authenticators/nope/pin").0, 404);
}

#[test]
fn the_emulated_user_enters_the_pin_set_through_the_control_plane() {
    let (_server, http) = start_with(
        AuthenticatorOptions {
            seed: Some(32),
            has_user_verification: false,
            ..AuthenticatorOptions::default()
        },
        ServerStore::Memory(MemoryStore::new()),
    );
    let core = rp();
    let pin = "/_fauxkey/authenticators/default/pin";
    assert_eq!(http.post(pin, &json!({"pin": "1234"})).0, 204);
    // UV required from a key with no built-in UV: the client enters the PIN.
    let (options, state) = start_reg(&core, false, UserVerificationPolicy::Required);
    let (status, response) = http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200, "{response}");
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    let cred = core
        .register_credential(&reg, &state, None)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the registration: {e:?}"));
    let (options, state) = start_auth(&core, vec![cred], UserVerificationPolicy::Required);
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200, "{response}");
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    assert!(core
        .authenticate_credential(&pkc, &state)
        .unwrap()
        .user_verified());
    assert_eq!(http.get(pin).1["pinRetries"], 8);
    // Once the PIN is cleared, the key has nothing to verify with.
    assert_eq!(http.delete(pin).0, 204);
    let (options, _) = start_reg(&core, false, UserVerificationPolicy::Required);
    assert_error(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options}),
        ),
        403,
        "NotAllowedError",
        "cannot verify",
    );
}

// ---------------------------------------------------------------- conditional mediation

/// Registers a discoverable passkey for `name` with plain options JSON; returns its id.
fn register_discoverable(http: &Http, name: &str, authenticator: Option<&str>) -> String {
    let mut body = json!({"origin": ORIGIN, "options": {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": fauxkey::b64url::encode(name.as_bytes()), "name": name, "displayName": name},
        "challenge": "Y2hhbGxlbmdl",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required"},
    }});
    if let Some(id) = authenticator {
        body["authenticatorId"] = json!(id);
    }
    let (status, made) = http.post("/webauthn/create", &body);
    assert_eq!(status, 200, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

/// Starts a conditional get; returns its id.
fn conditional_get(http: &Http, options: Value) -> String {
    let (status, started) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options, "mediation": "conditional"}),
    );
    assert_eq!(status, 202, "{started}");
    started["pending"].as_str().unwrap().to_owned()
}

fn discoverable_options() -> Value {
    json!({"challenge": "Y2hhbGxlbmdl", "rpId": "example.com"})
}

fn poll(http: &Http, id: &str) -> (u16, Value) {
    http.post(&format!("/webauthn/conditional/{id}?waitMs=0"), &json!({}))
}

#[test]
fn a_conditional_get_stays_pending_until_the_test_picks_and_webauthn_rs_verifies() {
    let (_server, http) = start(40);
    let core = rp();
    let cred = register(&http, &core, None, true);
    let (options, state) = start_auth(&core, vec![cred], UserVerificationPolicy::Preferred);
    let id = conditional_get(&http, options["publicKey"].clone());
    // Pending: the page's poll answers 204, the control plane lists it with its one offer.
    assert_eq!(poll(&http, &id), (204, Value::Null));
    let (status, listed) = http.get("/_fauxkey/conditional");
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["authenticatorId"], "default");
    assert_eq!(listed[0]["rpId"], "example.com");
    assert_eq!(listed[0]["offers"].as_array().unwrap().len(), 1);
    // Dismissed: still pending.
    assert_eq!(
        http.post(&format!("/_fauxkey/conditional/{id}/dismiss"), &json!({}))
            .0,
        204
    );
    assert_eq!(poll(&http, &id).0, 204);
    assert_eq!(http.get("/_fauxkey/conditional").1[0]["dismissed"], 1);
    // A bad pick leaves it pending.
    assert_error(
        http.post(
            &format!("/_fauxkey/conditional/{id}/pick"),
            &json!({"index": 3}),
        ),
        404,
        "NotFoundError",
        "there is no offer 3",
    );
    assert_error(
        http.post(
            &format!("/_fauxkey/conditional/{id}/pick"),
            &json!({"nope": 3}),
        ),
        400,
        "TypeError",
        "nope",
    );
    // Picked: the control plane and the page get the same response, and the RP verifies it.
    let (status, picked) = http.post(
        &format!("/_fauxkey/conditional/{id}/pick"),
        &json!({"index": 0}),
    );
    assert_eq!(status, 200, "{picked}");
    let (status, got) = poll(&http, &id);
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, picked);
    let pkc: PublicKeyCredential = serde_json::from_value(got).unwrap();
    core.authenticate_credential(&pkc, &state).unwrap();
    // Collected: gone.
    assert_error(
        poll(&http, &id),
        404,
        "NotFoundError",
        "no conditional request",
    );
    assert_eq!(http.get("/_fauxkey/conditional").1, json!([]));
}

#[test]
fn a_conditional_get_waits_in_a_bounded_long_poll() {
    let (_server, http) = start(41);
    register_discoverable(&http, "alice", None);
    let id = conditional_get(&http, discoverable_options());
    // The page's long poll is woken by the pick made while it waits.
    let waiter = {
        let base = http.base.clone();
        let token = http.token.clone().unwrap();
        let id = id.clone();
        std::thread::spawn(move || {
            Http::new(&base, &token).post(
                &format!("/webauthn/conditional/{id}?waitMs=20000"),
                &json!({}),
            )
        })
    };
    // Pick only once the page is waiting would be a timing guess; a pick before the wait is
    // collected by the same call, so either order gives the page its response.
    let (status, picked) = http.post(
        &format!("/_fauxkey/conditional/{id}/pick"),
        &json!({"index": 0}),
    );
    assert_eq!(status, 200, "{picked}");
    let (status, got) = waiter.join().unwrap();
    assert_eq!((status, &got), (200, &picked));
    assert_eq!(
        got["response"]["userHandle"],
        fauxkey::b64url::encode(b"alice")
    );
}

#[test]
fn conditional_gets_end_by_abort_cancel_and_timeout() {
    let (_server, http) = start(42);
    register_discoverable(&http, "alice", None);
    // The test aborts for the page: AbortError.
    let id = conditional_get(&http, discoverable_options());
    assert_eq!(
        http.post(&format!("/_fauxkey/conditional/{id}/abort"), &json!({}))
            .0,
        204
    );
    assert_error(poll(&http, &id), 410, "AbortError", "aborted");
    // The test times it out: NotAllowedError.
    let id = conditional_get(&http, discoverable_options());
    assert_eq!(
        http.post(&format!("/_fauxkey/conditional/{id}/timeout"), &json!({}))
            .0,
        204
    );
    assert_error(poll(&http, &id), 403, "NotAllowedError", "timed out");
    // An ended request takes no more actions.
    let id = conditional_get(&http, discoverable_options());
    http.post(&format!("/_fauxkey/conditional/{id}/timeout"), &json!({}));
    assert_error(
        http.post(
            &format!("/_fauxkey/conditional/{id}/pick"),
            &json!({"index": 0}),
        ),
        409,
        "InvalidStateError",
        "already ended",
    );
    assert_error(poll(&http, &id), 403, "NotAllowedError", "timed out");
    // The page cancels (its AbortSignal): gone at once.
    let id = conditional_get(&http, discoverable_options());
    assert_eq!(
        http.post(&format!("/webauthn/conditional/{id}/cancel"), &json!({}))
            .0,
        204
    );
    assert_eq!(http.get("/_fauxkey/conditional").1, json!([]));
    assert_error(
        http.post(
            &format!("/_fauxkey/conditional/{id}/pick"),
            &json!({"index": 0}),
        ),
        404,
        "NotFoundError",
        "no conditional request",
    );
    // The options' timeout ends it on the server's clock: the long poll reports it.
    let id = conditional_get(
        &http,
        json!({"challenge": "Y2hhbGxlbmdl", "rpId": "example.com", "timeout": 100}),
    );
    let (status, ended) = http.post(
        &format!("/webauthn/conditional/{id}?waitMs=20000"),
        &json!({}),
    );
    assert_eq!(status, 403, "{ended}");
    assert_eq!(ended["name"], "NotAllowedError");
}

#[test]
fn pending_conditional_requests_are_capped() {
    let (_server, http) = start(43);
    let max = fauxkey::server::conditional::MAX_PENDING;
    let ids: Vec<String> = (0..max)
        .map(|_| conditional_get(&http, discoverable_options()))
        .collect();
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": discoverable_options(), "mediation": "conditional"}),
        ),
        429,
        "QuotaExceededError",
        "64 conditional requests",
    );
    http.post(
        &format!("/_fauxkey/conditional/{}/abort", ids[0]),
        &json!({}),
    );
    // An ended one counts until its page collects the outcome.
    assert_eq!(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": discoverable_options(), "mediation": "conditional"}),
        )
        .0,
        429
    );
    assert_error(poll(&http, &ids[0]), 410, "AbortError", "");
    conditional_get(&http, discoverable_options());
    // Reset forgets them all.
    assert_eq!(http.post("/_fauxkey/reset", &json!({})).0, 204);
    assert_eq!(http.get("/_fauxkey/conditional").1, json!([]));
}

#[test]
fn conditional_requests_follow_the_access_model() {
    use fauxkey::server::ServerConfig;
    const PAGE: &str = "http://localhost:3000";
    const OTHER: &str = "http://localhost:4000";
    let (_server, http) = common::start_config(ServerConfig {
        allowed_origins: vec![PAGE.to_owned(), OTHER.to_owned()],
        ..ServerConfig::new(
            AuthenticatorOptions {
                seed: Some(44),
                ..AuthenticatorOptions::default()
            },
            ServerStore::Memory(MemoryStore::new()),
        )
    });
    let anon = |origin: &str, method: &str, path: &str, body: &Value| {
        let r = ureq::AgentBuilder::new()
            .build()
            .request(method, &format!("{}{path}", http.base))
            .set("origin", origin);
        let r = match method {
            "GET" => r.call(),
            _ => r
                .set("content-type", "application/json")
                .send_string(&body.to_string()),
        };
        let r = match r {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        let status = r.status();
        let text = r.into_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    };
    // The page starts one for its own origin, without the token.
    let (status, started) = anon(
        PAGE,
        "POST",
        "/webauthn/get",
        &json!({"origin": PAGE, "options": {"challenge": "Y2hhbGxlbmdl"}, "mediation": "conditional"}),
    );
    assert_eq!(status, 202, "{started}");
    let id = started["pending"].as_str().unwrap();
    // It may poll it; another allowed page may not, nor cancel it.
    assert_eq!(
        anon(
            PAGE,
            "POST",
            &format!("/webauthn/conditional/{id}?waitMs=0"),
            &json!({})
        )
        .0,
        204
    );
    for path in [
        format!("/webauthn/conditional/{id}?waitMs=0"),
        format!("/webauthn/conditional/{id}/cancel"),
    ] {
        let (status, refused) = anon(OTHER, "POST", &path, &json!({}));
        assert_eq!(status, 403, "{refused}");
        assert_eq!(refused["name"], "SecurityError");
    }
    // The control plane needs the token, whoever asks.
    for (method, path) in [
        ("GET", "/_fauxkey/conditional".to_owned()),
        ("POST", format!("/_fauxkey/conditional/{id}/pick")),
        ("POST", format!("/_fauxkey/conditional/{id}/abort")),
        (
            "POST",
            "/_fauxkey/authenticators/default/password-sign-in".to_owned(),
        ),
    ] {
        let (status, refused) = anon(PAGE, method, &path, &json!({"index": 0}));
        assert_eq!(status, 401, "{method} {path}: {refused}");
    }
    // Still pending after all that.
    assert_eq!(http.get("/_fauxkey/conditional").1[0]["id"], id);
}

#[test]
fn conditional_create_needs_a_password_sign_in_and_makes_the_passkey_without_presence() {
    let (_server, http) = start(45);
    let create_body = json!({"origin": ORIGIN, "mediation": "conditional", "options": {
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "YWxpY2U", "name": "alice", "displayName": "Alice"},
        "challenge": "Y2hhbGxlbmdl",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    }});
    assert_error(
        http.post("/webauthn/create", &create_body),
        403,
        "NotAllowedError",
        "no recent password sign-in",
    );
    assert_error(
        http.post(
            "/_fauxkey/authenticators/default/password-sign-in",
            &json!({"rpId": "example.com"}),
        ),
        400,
        "TypeError",
        "userName",
    );
    assert_error(
        http.post(
            "/_fauxkey/authenticators/nope/password-sign-in",
            &json!({"rpId": "example.com", "userName": "alice"}),
        ),
        404,
        "NotFoundError",
        "nope",
    );
    assert_eq!(
        http.post(
            "/_fauxkey/authenticators/default/password-sign-in",
            &json!({"rpId": "example.com", "userName": "alice"}),
        )
        .0,
        204
    );
    let (status, made) = http.post("/webauthn/create", &create_body);
    assert_eq!(status, 200, "{made}");
    let auth_data =
        fauxkey::b64url::decode(made["response"]["authenticatorData"].as_str().unwrap()).unwrap();
    assert_eq!(auth_data[32] & 0x01, 0, "UP=0");
    // The same request without mediation is a normal ceremony.
    let mut modal = create_body.clone();
    modal.as_object_mut().unwrap().remove("mediation");
    let (status, made) = http.post("/webauthn/create", &modal);
    assert_eq!(status, 200, "{made}");
    let auth_data =
        fauxkey::b64url::decode(made["response"]["authenticatorData"].as_str().unwrap()).unwrap();
    assert_eq!(auth_data[32] & 0x01, 1, "UP=1");
}

#[test]
fn a_security_key_profile_offers_no_conditional_mediation() {
    let (_server, http) = start(46);
    let (_, added) = http.post("/_fauxkey/authenticators", &json!({"profile": "yubikey-5"}));
    let key = added["authenticatorId"].as_str().unwrap();
    let (_, caps) = http.get(&format!("/webauthn/capabilities?authenticatorId={key}"));
    assert_eq!(caps["conditionalGet"], false);
    assert_eq!(caps["conditionalCreate"], false);
    let (_, caps) = http.get("/webauthn/capabilities");
    assert_eq!(caps["conditionalGet"], true);
    assert_error(
        http.post(
            "/webauthn/get",
            &json!({"origin": ORIGIN, "options": discoverable_options(), "mediation": "conditional", "authenticatorId": key}),
        ),
        400,
        "TypeError",
        "conditionalGet is false",
    );
}
