//! The WebAuthn client layer through its public JSON interface: `Client::create`, `Client::get`
//! and `Client::capabilities`. Errors are checked by their DOMException name and by what the
//! message names; successes by the exact shape and bytes of the response JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ciborium::value::Value;
use p256::pkcs8::DecodePublicKey as _;
use serde_json::{json, Value as Json};

use fauxkey::authenticator::AttestationMode;
use fauxkey::b64url;
use fauxkey::client::json::{AuthenticationResponseJson, RegistrationResponseJson};
use fauxkey::client::ClientError;
use fauxkey::env::{seeded_rng, FixedClock, Presence, SimulatedUser};
use fauxkey::store::{CredentialStore as _, MemoryStore};
use fauxkey::{Authenticator, Client, Config};

const ORIGIN: &str = "https://example.com";

/// A reproducible client: seeded authenticator and client RNGs, a fixed clock.
fn client_with(config: Config) -> Client {
    let authenticator = Authenticator::new(config, MemoryStore::new())
        .with_rng(seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000));
    Client::new(authenticator).with_rng(seeded_rng(2))
}

fn client() -> Client {
    client_with(Config::default())
}

/// Creation options that succeed from `ORIGIN`.
fn create_options() -> Json {
    json!({
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": b64url::encode(b"user-1"), "name": "alice", "displayName": "Alice"},
        "challenge": b64url::encode(b"registration challenge"),
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    })
}

fn get_options(allow: &[&str]) -> Json {
    json!({
        "challenge": b64url::encode(b"authentication challenge"),
        "rpId": "example.com",
        "allowCredentials": allow.iter().map(|id| json!({"type": "public-key", "id": id})).collect::<Vec<_>>(),
    })
}

fn create(client: &mut Client, options: &Json) -> Result<RegistrationResponseJson, ClientError> {
    client.create(ORIGIN, &options.to_string())
}

fn get(client: &mut Client, options: &Json) -> Result<AuthenticationResponseJson, ClientError> {
    client.get(ORIGIN, &options.to_string())
}

#[track_caller]
fn expect_err<T: std::fmt::Debug>(
    result: Result<T, ClientError>,
    name: &str,
    mentions: &[&str],
) -> ClientError {
    let err = result.expect_err(&format!("expected {name}"));
    assert_eq!(err.name(), name, "wrong DOMException: {err}");
    for m in mentions {
        assert!(
            err.message().contains(m),
            "message {:?} does not mention {m:?}",
            err.message()
        );
    }
    err
}

/// `options` with `path` (dot-separated object keys) set to `value`, or removed when `None`.
fn with(mut options: Json, path: &str, value: Option<Json>) -> Json {
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().unwrap();
    let mut target = &mut options;
    for k in keys {
        target = target
            .get_mut(k)
            .unwrap_or_else(|| panic!("no {k} in options"));
    }
    let obj = target.as_object_mut().unwrap();
    match value {
        Some(v) => {
            obj.insert(last.to_owned(), v);
        }
        None => {
            obj.remove(last);
        }
    }
    options
}

fn attestation_fmt(response: &RegistrationResponseJson) -> String {
    let bytes = b64url::decode(&response.response.attestation_object).unwrap();
    let Value::Map(m) = fauxkey::cbor::decode(&bytes).unwrap() else {
        panic!("attestationObject is not a map")
    };
    m.iter()
        .find_map(|(k, v)| match (k, v) {
            (Value::Text(k), Value::Text(v)) if k == "fmt" => Some(v.clone()),
            _ => None,
        })
        .expect("fmt")
}

// ---------------------------------------------------------------------------------------------
// Malformed options
// ---------------------------------------------------------------------------------------------

#[test]
fn options_that_are_not_json_are_a_type_error() {
    expect_err(client().create(ORIGIN, "{not json"), "TypeError", &["JSON"]);
    expect_err(client().get(ORIGIN, "[1, 2"), "TypeError", &["JSON"]);
}

#[test]
fn missing_user_display_name_is_a_type_error_naming_the_member() {
    let options = with(create_options(), "user.displayName", None);
    expect_err(
        create(&mut client(), &options),
        "TypeError",
        &["user.displayName"],
    );
}

#[test]
fn wrongly_typed_member_is_a_type_error_naming_the_member() {
    let options = with(create_options(), "user.name", Some(json!(42)));
    expect_err(create(&mut client(), &options), "TypeError", &["user.name"]);
}

#[test]
fn challenge_in_standard_base64_is_an_encoding_error() {
    let options = with(create_options(), "challenge", Some(json!("ab+/")));
    expect_err(
        create(&mut client(), &options),
        "EncodingError",
        &["challenge"],
    );
    let options = with(get_options(&[]), "challenge", Some(json!("ab+/")));
    expect_err(
        get(&mut client(), &options),
        "EncodingError",
        &["challenge"],
    );
}

#[test]
fn padded_challenge_is_an_encoding_error() {
    let options = with(create_options(), "challenge", Some(json!("YQ==")));
    expect_err(
        create(&mut client(), &options),
        "EncodingError",
        &["challenge"],
    );
}

#[test]
fn empty_user_id_is_a_type_error() {
    let options = with(create_options(), "user.id", Some(json!("")));
    expect_err(create(&mut client(), &options), "TypeError", &["user.id"]);
}

#[test]
fn user_id_of_65_bytes_is_a_type_error_and_64_is_fine() {
    let options = with(
        create_options(),
        "user.id",
        Some(json!(b64url::encode(&[7u8; 65]))),
    );
    expect_err(
        create(&mut client(), &options),
        "TypeError",
        &["user.id", "65"],
    );
    let options = with(
        create_options(),
        "user.id",
        Some(json!(b64url::encode(&[7u8; 64]))),
    );
    create(&mut client(), &options).expect("a 64-byte user.id is allowed");
}

#[test]
fn bad_exclude_credentials_id_is_an_encoding_error_naming_the_index() {
    let options = with(
        create_options(),
        "excludeCredentials",
        Some(json!([{"type": "public-key", "id": "not base64url!"}])),
    );
    expect_err(
        create(&mut client(), &options),
        "EncodingError",
        &["excludeCredentials[0].id"],
    );
}

#[test]
fn bad_allow_credentials_id_is_an_encoding_error_naming_the_index() {
    let options = get_options(&["AAAA", "AA=="]);
    expect_err(
        get(&mut client(), &options),
        "EncodingError",
        &["allowCredentials[1].id"],
    );
}

// ---------------------------------------------------------------------------------------------
// Accepted forms and algorithm negotiation
// ---------------------------------------------------------------------------------------------

#[test]
fn bare_and_wrapped_options_are_both_accepted() {
    let bare = create(&mut client(), &create_options()).expect("bare options");
    let wrapped =
        create(&mut client(), &json!({"publicKey": create_options()})).expect("wrapped options");
    assert_eq!(
        bare, wrapped,
        "same seeds, same options: same response either way"
    );

    let mut c = client();
    let id = create(&mut c, &create_options()).unwrap().id;
    get(&mut c, &get_options(&[&id])).expect("bare request options");
    get(&mut c, &json!({"publicKey": get_options(&[&id])})).expect("wrapped request options");
}

#[test]
fn only_rs256_is_not_supported() {
    let options = with(
        create_options(),
        "pubKeyCredParams",
        Some(json!([{"type": "public-key", "alg": -257}])),
    );
    expect_err(
        create(&mut client(), &options),
        "NotSupportedError",
        &["pubKeyCredParams"],
    );
}

#[test]
fn empty_pub_key_cred_params_defaults_to_es256() {
    let options = with(create_options(), "pubKeyCredParams", Some(json!([])));
    let response = create(&mut client(), &options).expect("defaults apply");
    assert_eq!(response.response.public_key_algorithm, -7);
}

#[test]
fn only_unknown_credential_types_is_not_supported() {
    let options = with(
        create_options(),
        "pubKeyCredParams",
        Some(json!([{"type": "password", "alg": -7}])),
    );
    expect_err(
        create(&mut client(), &options),
        "NotSupportedError",
        &["public-key"],
    );
}

#[test]
fn eddsa_is_chosen_when_preferred() {
    let options = with(
        create_options(),
        "pubKeyCredParams",
        Some(json!([{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}])),
    );
    assert_eq!(
        create(&mut client(), &options)
            .unwrap()
            .response
            .public_key_algorithm,
        -8
    );
}

// ---------------------------------------------------------------------------------------------
// Authenticator selection, exclusion, attestation
// ---------------------------------------------------------------------------------------------

#[test]
fn excluded_existing_credential_is_invalid_state() {
    let mut c = client();
    let id = create(&mut c, &create_options()).unwrap().id;
    let options = with(
        create_options(),
        "excludeCredentials",
        Some(json!([{"type": "public-key", "id": id}])),
    );
    expect_err(
        create(&mut c, &options),
        "InvalidStateError",
        &["excludeCredentials"],
    );
    // An unknown id in the list is no obstacle.
    let options = with(
        create_options(),
        "excludeCredentials",
        Some(json!([{"type": "public-key", "id": b64url::encode(&[9u8; 32])}])),
    );
    create(&mut c, &options).expect("unknown excluded id");
}

#[test]
fn cross_platform_attachment_on_a_platform_client_is_not_allowed() {
    let options = with(
        create_options(),
        "authenticatorSelection",
        Some(json!({"authenticatorAttachment": "cross-platform"})),
    );
    expect_err(
        create(&mut client(), &options),
        "NotAllowedError",
        &["cross-platform"],
    );
    let options = with(
        create_options(),
        "authenticatorSelection",
        Some(json!({"authenticatorAttachment": "platform"})),
    );
    let response = create(&mut client(), &options).expect("platform matches");
    assert_eq!(
        response.authenticator_attachment.as_deref(),
        Some("platform")
    );
}

fn create_with_resident_key(c: &mut Client, resident_key: &str) -> RegistrationResponseJson {
    let options = with(
        with(
            create_options(),
            "authenticatorSelection",
            Some(json!({"residentKey": resident_key})),
        ),
        "extensions",
        Some(json!({"credProps": true})),
    );
    create(c, &options).unwrap_or_else(|e| panic!("residentKey {resident_key}: {e}"))
}

#[test]
fn resident_key_preference_is_reported_by_cred_props() {
    for (resident_key, rk) in [
        ("required", true),
        ("preferred", true),
        ("discouraged", false),
    ] {
        let response = create_with_resident_key(&mut client(), resident_key);
        let props = response
            .client_extension_results
            .cred_props
            .expect("credProps output");
        assert_eq!(props.rk, rk, "residentKey {resident_key}");
    }
}

#[test]
fn discoverable_credential_is_found_without_an_allow_list() {
    let mut c = client();
    let created = create_with_resident_key(&mut c, "required");
    let response = get(&mut c, &get_options(&[])).expect("discoverable login");
    assert_eq!(response.id, created.id);
    assert_eq!(
        response.response.user_handle.as_deref(),
        Some(b64url::encode(b"user-1").as_str())
    );
}

#[test]
fn non_discoverable_credential_is_not_found_without_an_allow_list() {
    let mut c = client();
    let created = create_with_resident_key(&mut c, "discouraged");
    expect_err(
        get(&mut c, &get_options(&[])),
        "NotAllowedError",
        &["example.com"],
    );
    // With its id it is found.
    let response = get(&mut c, &get_options(&[&created.id])).expect("with allowCredentials");
    assert_eq!(response.id, created.id);
    assert_eq!(response.response.user_handle, None);
}

#[test]
fn attestation_none_is_none_even_when_the_authenticator_prefers_packed() {
    let config = Config {
        attestation: AttestationMode::PackedSelf,
        ..Config::default()
    };
    let response = create(&mut client_with(config.clone()), &create_options()).unwrap();
    assert_eq!(
        attestation_fmt(&response),
        "none",
        "absent conveyance means none"
    );
    let options = with(create_options(), "attestation", Some(json!("none")));
    assert_eq!(
        attestation_fmt(&create(&mut client_with(config), &options).unwrap()),
        "none"
    );
}

#[test]
fn attestation_direct_returns_packed_self_attestation() {
    let config = Config {
        attestation: AttestationMode::PackedSelf,
        ..Config::default()
    };
    let options = with(create_options(), "attestation", Some(json!("direct")));
    let response = create(&mut client_with(config), &options).unwrap();
    assert_eq!(attestation_fmt(&response), "packed");
    // Asking for the packed format by name gets it from a default authenticator too.
    let options = with(options, "attestationFormats", Some(json!(["packed"])));
    assert_eq!(
        attestation_fmt(&create(&mut client(), &options).unwrap()),
        "packed"
    );
}

// ---------------------------------------------------------------------------------------------
// Origins and RP IDs
// ---------------------------------------------------------------------------------------------

#[test]
fn rp_id_unrelated_to_the_origin_is_a_security_error() {
    let options = with(create_options(), "rp.id", Some(json!("evil.example")));
    expect_err(
        create(&mut client(), &options),
        "SecurityError",
        &["evil.example"],
    );
    let options = with(get_options(&[]), "rpId", Some(json!("evil.example")));
    expect_err(
        get(&mut client(), &options),
        "SecurityError",
        &["evil.example"],
    );
}

#[test]
fn one_client_checks_each_origin_and_rp_id_it_is_given_anew() {
    // The client remembers the last RP ID it accepted; the next origin or RP ID is checked on
    // its own all the same.
    let mut c = client();
    let created = create(&mut c, &create_options()).expect("create");
    let options = get_options(&[&created.id]).to_string();
    c.get(ORIGIN, &options).expect("example.com");
    expect_err(
        c.get("https://evilexample.com", &options),
        "SecurityError",
        &["example.com", "evilexample.com"],
    );
    expect_err(
        c.get("https://example.com.evil.test", &options),
        "SecurityError",
        &["example.com"],
    );
    let other = with(get_options(&[&created.id]), "rpId", Some(json!("com")));
    expect_err(c.get(ORIGIN, &other.to_string()), "SecurityError", &["com"]);
    c.get(ORIGIN, &options).expect("example.com again");
    c.get("https://login.example.com", &options)
        .expect("a subdomain may claim its registrable suffix");
    expect_err(
        c.get("https://evilexample.com", &options),
        "SecurityError",
        &["evilexample.com"],
    );
}

#[test]
fn http_localhost_may_use_rp_id_localhost() {
    let mut c = client();
    let options = with(create_options(), "rp.id", Some(json!("localhost")));
    let created = c
        .create("http://localhost:8080", &options.to_string())
        .expect("localhost create");
    let client_data = b64url::decode(&created.response.client_data_json).unwrap();
    assert!(String::from_utf8(client_data)
        .unwrap()
        .contains(r#""origin":"http://localhost:8080""#));
    let options = with(
        get_options(&[&created.id]),
        "rpId",
        Some(json!("localhost")),
    );
    c.get("http://localhost:8080", &options.to_string())
        .expect("localhost get");
}

#[test]
fn http_elsewhere_is_a_security_error() {
    expect_err(
        client().create("http://example.com", &create_options().to_string()),
        "SecurityError",
        &["http"],
    );
}

#[test]
fn opaque_origin_is_not_allowed() {
    expect_err(
        client().create("null", &create_options().to_string()),
        "NotAllowedError",
        &["null"],
    );
    expect_err(
        client().get("null", &get_options(&[]).to_string()),
        "NotAllowedError",
        &["null"],
    );
}

#[test]
fn rp_id_defaults_to_the_origin_host() {
    let mut c = client();
    let options = with(create_options(), "rp.id", None);
    let created = create(&mut c, &options).expect("no rp.id");
    let auth_data = b64url::decode(&created.response.authenticator_data).unwrap();
    use sha2::Digest as _;
    assert_eq!(
        &auth_data[..32],
        sha2::Sha256::digest(b"example.com").as_slice()
    );
}

// ---------------------------------------------------------------------------------------------
// Response bytes and shape
// ---------------------------------------------------------------------------------------------

#[test]
fn client_data_json_is_byte_exact() {
    let challenge = [0xfbu8, 0xff, 0x00, 0x01, 0x02];
    let options = with(
        create_options(),
        "challenge",
        Some(json!(b64url::encode(&challenge))),
    );
    let mut c = client();
    let created = create(&mut c, &options).unwrap();
    assert_eq!(
        b64url::decode(&created.response.client_data_json).unwrap(),
        br#"{"type":"webauthn.create","challenge":"-_8AAQI","origin":"https://example.com","crossOrigin":false}"#
    );
    let options = with(
        get_options(&[&created.id]),
        "challenge",
        Some(json!("-_8AAQI")),
    );
    let got = get(&mut c, &options).unwrap();
    assert_eq!(
        b64url::decode(&got.response.client_data_json).unwrap(),
        br#"{"type":"webauthn.get","challenge":"-_8AAQI","origin":"https://example.com","crossOrigin":false}"#
    );
}

#[test]
fn origin_is_serialized_as_its_ascii_origin() {
    let created = client()
        .create(
            "https://Example.COM:443/login?next=1#x",
            &create_options().to_string(),
        )
        .unwrap();
    let client_data =
        String::from_utf8(b64url::decode(&created.response.client_data_json).unwrap()).unwrap();
    assert!(
        client_data.contains(r#""origin":"https://example.com","#),
        "{client_data}"
    );
}

fn keys(v: &Json) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn assert_no_padding(v: &Json) {
    let text = v.to_string();
    assert!(!text.contains('='), "base64url padding in {text}");
}

#[test]
fn registration_response_json_has_the_l3_shape() {
    let created = create(&mut client(), &create_options()).unwrap();
    let v = serde_json::to_value(&created).unwrap();
    assert_eq!(
        keys(&v),
        [
            "authenticatorAttachment",
            "clientExtensionResults",
            "id",
            "rawId",
            "response",
            "type"
        ]
    );
    assert_eq!(
        keys(&v["response"]),
        [
            "attestationObject",
            "authenticatorData",
            "clientDataJSON",
            "publicKey",
            "publicKeyAlgorithm",
            "transports"
        ]
    );
    assert_eq!(v["type"], "public-key");
    assert_eq!(v["authenticatorAttachment"], "platform");
    assert_eq!(v["id"], v["rawId"]);
    assert_eq!(v["clientExtensionResults"], json!({}));
    assert_eq!(v["response"]["transports"], json!(["internal"]));
    assert_eq!(v["response"]["publicKeyAlgorithm"], -7);
    assert_no_padding(&v);

    // The id is the credential id inside authenticatorData.
    let id = b64url::decode(&created.id).unwrap();
    let auth_data = b64url::decode(&created.response.authenticator_data).unwrap();
    let parsed = fauxkey::ctap2::auth_data::AuthenticatorData::parse(&auth_data).unwrap();
    let attested = parsed.attested.expect("attested credential data");
    assert_eq!(attested.credential_id, id);

    // publicKey is a DER SubjectPublicKeyInfo for the same key as the COSE key.
    let spki = b64url::decode(created.response.public_key.as_deref().expect("publicKey")).unwrap();
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).expect("SPKI parses");
    let cose = fauxkey::crypto::keys::PublicKey::from_cose(
        &fauxkey::cbor::decode(&attested.public_key_cose).unwrap(),
    )
    .unwrap();
    assert_eq!(cose, fauxkey::crypto::keys::PublicKey::Es256(key));
}

#[test]
fn authentication_response_json_has_the_l3_shape_and_verifies() {
    let mut c = client();
    let created = create_with_resident_key(&mut c, "required");
    let got = get(&mut c, &get_options(&[&created.id])).unwrap();
    let v = serde_json::to_value(&got).unwrap();
    assert_eq!(
        keys(&v),
        [
            "authenticatorAttachment",
            "clientExtensionResults",
            "id",
            "rawId",
            "response",
            "type"
        ]
    );
    assert_eq!(
        keys(&v["response"]),
        [
            "authenticatorData",
            "clientDataJSON",
            "signature",
            "userHandle"
        ]
    );
    assert_eq!(v["type"], "public-key");
    assert_eq!(v["id"], v["rawId"]);
    assert_eq!(v["id"], created.id.as_str());
    assert_no_padding(&v);

    let spki = b64url::decode(created.response.public_key.as_deref().unwrap()).unwrap();
    let key = p256::ecdsa::VerifyingKey::from_public_key_der(&spki).unwrap();
    let auth_data = b64url::decode(&got.response.authenticator_data).unwrap();
    let client_data = b64url::decode(&got.response.client_data_json).unwrap();
    use sha2::Digest as _;
    let message = [
        auth_data.as_slice(),
        sha2::Sha256::digest(&client_data).as_slice(),
    ]
    .concat();
    let sig = b64url::decode(&got.response.signature).unwrap();
    assert!(fauxkey::crypto::keys::PublicKey::Es256(key).verify(&message, &sig));
}

// ---------------------------------------------------------------------------------------------
// prf
// ---------------------------------------------------------------------------------------------

fn prf_get(c: &mut Client, id: &str, first: &[u8]) -> Result<Vec<u8>, ClientError> {
    let options = with(
        get_options(&[id]),
        "extensions",
        Some(json!({"prf": {"eval": {"first": b64url::encode(first)}}})),
    );
    let got = get(c, &options)?;
    let prf = got.client_extension_results.prf.expect("prf output");
    assert_eq!(prf.enabled, None, "enabled is a create() output only");
    let results = prf.results.expect("prf results");
    assert_eq!(results.second, None);
    Ok(b64url::decode(&results.first).unwrap())
}

#[test]
fn prf_is_enabled_at_creation_and_deterministic_per_input() {
    let mut c = client();
    let options = with(create_options(), "extensions", Some(json!({"prf": {}})));
    let created = create(&mut c, &options).unwrap();
    assert_eq!(
        created
            .client_extension_results
            .prf
            .as_ref()
            .and_then(|p| p.enabled),
        Some(true)
    );

    let a1 = prf_get(&mut c, &created.id, b"input X").unwrap();
    let a2 = prf_get(&mut c, &created.id, b"input X").unwrap();
    let b = prf_get(&mut c, &created.id, b"input Y").unwrap();
    assert_eq!(a1.len(), 32);
    assert_eq!(a1, a2, "same input, same credential: same output");
    assert_ne!(a1, b, "different input: different output");
}

#[test]
fn prf_without_hmac_secret_gives_no_results() {
    let mut c = client();
    let created = create(&mut c, &create_options()).unwrap();
    assert_eq!(created.client_extension_results.prf, None);
    let options = with(
        get_options(&[&created.id]),
        "extensions",
        Some(json!({"prf": {"eval": {"first": b64url::encode(b"x")}}})),
    );
    let got = get(&mut c, &options).unwrap();
    assert_eq!(
        got.client_extension_results.prf.and_then(|p| p.results),
        None
    );
}

#[test]
fn prf_eval_by_credential_picks_the_credentials_own_input() {
    let mut c = client();
    let options = with(create_options(), "extensions", Some(json!({"prf": {}})));
    let created = create(&mut c, &options).unwrap();
    let plain = prf_get(&mut c, &created.id, b"per-credential").unwrap();
    let options = with(
        get_options(&[&created.id]),
        "extensions",
        Some(json!({"prf": {
            "eval": {"first": b64url::encode(b"fallback")},
            "evalByCredential": {created.id.clone(): {"first": b64url::encode(b"per-credential")}},
        }})),
    );
    let got = get(&mut c, &options).unwrap();
    let first = got
        .client_extension_results
        .prf
        .unwrap()
        .results
        .unwrap()
        .first;
    assert_eq!(b64url::decode(&first).unwrap(), plain);
}

#[test]
fn prf_eval_by_credential_without_allow_credentials_is_not_supported() {
    let mut c = client();
    let options = with(create_options(), "extensions", Some(json!({"prf": {}})));
    let created = create(&mut c, &options).unwrap();
    let options = with(
        get_options(&[]),
        "extensions",
        Some(
            json!({"prf": {"evalByCredential": {created.id.clone(): {"first": b64url::encode(b"x")}}}}),
        ),
    );
    expect_err(
        get(&mut c, &options),
        "NotSupportedError",
        &["evalByCredential", "allowCredentials"],
    );
}

#[test]
fn prf_eval_by_credential_key_outside_the_allow_list_is_a_syntax_error() {
    let mut c = client();
    let options = with(create_options(), "extensions", Some(json!({"prf": {}})));
    let created = create(&mut c, &options).unwrap();
    let stranger = b64url::encode(&[5u8; 32]);
    let options = with(
        get_options(&[&created.id]),
        "extensions",
        Some(
            json!({"prf": {"evalByCredential": {stranger.clone(): {"first": b64url::encode(b"x")}}}}),
        ),
    );
    expect_err(
        get(&mut c, &options),
        "SyntaxError",
        &["evalByCredential", &stranger],
    );
}

#[test]
fn prf_eval_by_credential_in_create_is_not_supported() {
    let options = with(
        create_options(),
        "extensions",
        Some(json!({"prf": {"evalByCredential": {"AAAA": {"first": "AAAA"}}}})),
    );
    expect_err(
        create(&mut client(), &options),
        "NotSupportedError",
        &["evalByCredential"],
    );
}

// ---------------------------------------------------------------------------------------------
// The user, and missing credentials
// ---------------------------------------------------------------------------------------------

fn denying_user() -> SimulatedUser {
    SimulatedUser {
        presence: Presence::Deny,
        ..SimulatedUser::default()
    }
}

#[test]
fn denied_user_presence_is_not_allowed_in_create() {
    let mut c = client();
    c.authenticator_mut().set_user(denying_user());
    expect_err(
        create(&mut c, &create_options()),
        "NotAllowedError",
        &["denied"],
    );
    assert!(c.authenticator().store().is_empty(), "nothing was stored");
}

#[test]
fn denied_user_presence_is_not_allowed_in_get() {
    let mut c = client();
    let created = create(&mut c, &create_options()).unwrap();
    c.authenticator_mut().set_user(denying_user());
    expect_err(
        get(&mut c, &get_options(&[&created.id])),
        "NotAllowedError",
        &["denied"],
    );
}

#[test]
fn get_without_any_credential_is_not_allowed() {
    expect_err(
        get(&mut client(), &get_options(&[])),
        "NotAllowedError",
        &["example.com"],
    );
    expect_err(
        get(&mut client(), &get_options(&[&b64url::encode(&[1u8; 32])])),
        "NotAllowedError",
        &[],
    );
}

#[test]
fn credentials_are_scoped_to_their_rp_id() {
    let mut c = client();
    let created = create(&mut c, &create_options()).unwrap();
    let options = with(get_options(&[&created.id]), "rpId", None);
    c.get("https://login.example.com", &options.to_string())
        .expect_err("host login.example.com means rpId login.example.com");
    let options = with(
        get_options(&[&created.id]),
        "rpId",
        Some(json!("example.com")),
    );
    c.get("https://login.example.com", &options.to_string())
        .expect("a subdomain may use its parent as rpId");
}

// ---------------------------------------------------------------------------------------------
// Capabilities and determinism
// ---------------------------------------------------------------------------------------------

#[test]
fn capabilities_are_sorted_and_honest() {
    let caps = client().capabilities();
    let names: Vec<&String> = caps.keys().collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let json = serde_json::to_string(&caps).unwrap();
    let order: Vec<usize> = caps
        .keys()
        .map(|k| json.find(&format!("\"{k}\"")).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "serialized in sorted order: {json}"
    );
    assert_eq!(caps.get("extension:prf"), Some(&true));
    // credProtect is reported under its input members' names, as Chromium and Firefox do.
    assert_eq!(
        caps.get("extension:credentialProtectionPolicy"),
        Some(&true)
    );
    assert_eq!(
        caps.get("extension:enforceCredentialProtectionPolicy"),
        Some(&true)
    );
    assert_eq!(caps.get("extension:credProtect"), None);
    // A platform client with no profile offers autofill and upgrades (conditional mediation).
    assert_eq!(caps.get("conditionalGet"), Some(&true));
    assert_eq!(caps.get("conditionalCreate"), Some(&true));
    assert_eq!(caps.get("userVerifyingPlatformAuthenticator"), Some(&true));
}

#[test]
fn same_seeds_and_clock_give_byte_identical_responses() {
    let run = || {
        let mut c = client();
        let options = with(
            with(
                create_options(),
                "extensions",
                Some(json!({"prf": {}, "credProps": true})),
            ),
            "authenticatorSelection",
            Some(json!({"residentKey": "required"})),
        );
        let created = create(&mut c, &options).unwrap();
        let got = get(
            &mut c,
            &with(
                get_options(&[]),
                "extensions",
                Some(json!({"prf": {"eval": {"first": "AQID"}}})),
            ),
        )
        .unwrap();
        (
            serde_json::to_string(&created).unwrap(),
            serde_json::to_string(&got).unwrap(),
        )
    };
    let (create_a, get_a) = run();
    let (create_b, get_b) = run();
    assert_eq!(create_a, create_b);
    assert_eq!(get_a, get_b);
    // And a different seed gives a different credential.
    let mut other = Client::new(
        Authenticator::new(Config::default(), MemoryStore::new())
            .with_rng(seeded_rng(99))
            .with_clock(FixedClock::at(1_700_000_000_000)),
    )
    .with_rng(seeded_rng(2));
    assert_ne!(
        serde_json::to_string(&create(&mut other, &create_options()).unwrap()).unwrap(),
        create_a
    );
}

// ---------------------------------------------------------------- conditional mediation

use fauxkey::client::conditional::{ConditionalError, ConditionalId, ConditionalSupport};

const NOW: u64 = 1_700_000_000_000;

/// A client whose conditional requests time out on `clock`.
fn conditional_client(clock: &FixedClock) -> Client {
    let authenticator = Authenticator::new(Config::default(), MemoryStore::new())
        .with_rng(seeded_rng(1))
        .with_clock(clock.clone());
    Client::new(authenticator)
        .with_rng(seeded_rng(2))
        .with_conditional_clock(clock.clone())
}

/// Registers a discoverable passkey for `name`; returns its id.
fn register_user(c: &mut Client, name: &str) -> String {
    let options = with(
        with(
            with(create_options(), "user.name", Some(json!(name))),
            "user.id",
            Some(json!(b64url::encode(name.as_bytes()))),
        ),
        "authenticatorSelection",
        Some(json!({"residentKey": "required"})),
    );
    create(c, &options).unwrap().id
}

fn conditional_get(c: &mut Client, options: &Json) -> ConditionalId {
    c.get_conditional(ORIGIN, &options.to_string()).unwrap()
}

#[test]
fn a_conditional_get_waits_for_the_user_to_pick_a_passkey() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    let alice = register_user(&mut c, "alice");
    clock.advance(1);
    let bob = register_user(&mut c, "bob");
    let id = conditional_get(&mut c, &get_options(&[]));
    // Pending: listed, with both passkeys offered (newest first), and nothing signed yet.
    let listed = c.conditional_requests();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].rp_id, "example.com");
    assert_eq!(listed[0].origin, ORIGIN);
    let offered: Vec<&str> = listed[0]
        .offers
        .iter()
        .map(|o| o.credential_id.as_str())
        .collect();
    assert_eq!(offered, [bob.as_str(), alice.as_str()]);
    assert_eq!(listed[0].offers[1].user_name.as_deref(), Some("alice"));
    assert_eq!(c.conditional_poll(id), Ok(None));
    // The user clicks alice's passkey: the assertion is hers, with her user handle, UP set.
    let response = c.conditional_pick(id, 1).unwrap().unwrap();
    assert_eq!(response.id, alice);
    assert_eq!(
        response.response.user_handle.as_deref(),
        Some(b64url::encode(b"alice").as_str())
    );
    let auth_data = b64url::decode(&response.response.authenticator_data).unwrap();
    assert_eq!(auth_data[32] & 0x01, 0x01, "UP: the click is the presence");
    let client_data: Json =
        serde_json::from_slice(&b64url::decode(&response.response.client_data_json).unwrap())
            .unwrap();
    assert_eq!(client_data["type"], "webauthn.get");
    // It has ended: gone from the list, and a second pick names it unknown.
    assert!(c.conditional_requests().is_empty());
    assert_eq!(
        c.conditional_pick(id, 0).unwrap_err(),
        ConditionalError::Unknown(id)
    );
}

#[test]
fn dismissing_keeps_the_request_pending_until_a_pick() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    let alice = register_user(&mut c, "alice");
    let id = conditional_get(&mut c, &get_options(&[]));
    c.conditional_dismiss(id).unwrap();
    c.conditional_dismiss(id).unwrap();
    assert_eq!(c.conditional_poll(id), Ok(None));
    assert_eq!(c.conditional_requests()[0].dismissed, 2);
    // A bad index is the test's mistake: the request stays pending.
    assert_eq!(
        c.conditional_pick(id, 5).unwrap_err(),
        ConditionalError::NoSuchOffer {
            id,
            index: 5,
            offered: 1
        }
    );
    assert_eq!(c.conditional_pick(id, 0).unwrap().unwrap().id, alice);
}

#[test]
fn an_aborted_conditional_get_is_an_abort_error_and_ends() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    register_user(&mut c, "alice");
    let id = conditional_get(&mut c, &get_options(&[]));
    let err = c.conditional_abort(id).unwrap();
    assert_eq!(err.name(), "AbortError");
    assert!(c.conditional_requests().is_empty());
    assert_eq!(
        c.conditional_dismiss(id).unwrap_err(),
        ConditionalError::Unknown(id)
    );
}

#[test]
fn a_conditional_get_times_out_on_the_injected_clock_or_when_told() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    register_user(&mut c, "alice");
    let timed = conditional_get(
        &mut c,
        &with(get_options(&[]), "timeout", Some(json!(60_000))),
    );
    let endless = conditional_get(&mut c, &get_options(&[]));
    clock.advance(59_999);
    assert_eq!(c.conditional_poll(timed), Ok(None));
    clock.advance(1);
    // The deadline passed: reported once as NotAllowedError, then unknown.
    assert_eq!(c.conditional_requests().len(), 1, "only the endless one");
    let ended = c.conditional_poll(timed).unwrap().unwrap();
    assert_eq!(ended.name(), "NotAllowedError");
    assert!(ended.message().contains("timed out"), "{ended}");
    assert_eq!(
        c.conditional_poll(timed),
        Err(ConditionalError::Unknown(timed))
    );
    // Without a timeout it waits for ever (L3), until the test ends it.
    clock.advance(10 * 60 * 60 * 1000);
    assert_eq!(c.conditional_poll(endless), Ok(None));
    assert_eq!(
        c.conditional_time_out(endless).unwrap().name(),
        "NotAllowedError"
    );
    assert!(c.conditional_requests().is_empty());
    // A pick after the deadline reports the timeout, not a login.
    let late = conditional_get(
        &mut c,
        &with(get_options(&[]), "timeout", Some(json!(1_000))),
    );
    clock.advance(1_000);
    assert_eq!(
        c.conditional_pick(late, 0).unwrap_err(),
        ConditionalError::TimedOut(late)
    );
}

#[test]
fn allow_credentials_narrow_what_autofill_offers() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    let alice = register_user(&mut c, "alice");
    register_user(&mut c, "bob");
    let id = conditional_get(&mut c, &get_options(&[&alice]));
    let offers = c.conditional_offers(id).unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].credential_id, alice);
    assert_eq!(c.conditional_pick(id, 0).unwrap().unwrap().id, alice);
}

#[test]
fn conditional_requests_are_capped() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    let max = fauxkey::client::conditional::MAX_PENDING;
    let ids: Vec<ConditionalId> = (0..max)
        .map(|_| conditional_get(&mut c, &get_options(&[])))
        .collect();
    expect_err(
        c.get_conditional(ORIGIN, &get_options(&[]).to_string()),
        "QuotaExceededError",
        &["64 conditional requests are already pending"],
    );
    c.conditional_abort(ids[0]).unwrap();
    conditional_get(&mut c, &get_options(&[]));
}

#[test]
fn conditional_get_is_checked_like_get() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    expect_err(
        c.get_conditional(
            ORIGIN,
            &with(get_options(&[]), "rpId", Some(json!("other.com"))).to_string(),
        ),
        "SecurityError",
        &[],
    );
    expect_err(
        c.get_conditional(
            ORIGIN,
            &with(get_options(&[]), "challenge", Some(json!("***"))).to_string(),
        ),
        "EncodingError",
        &["challenge"],
    );
    // From a cross-origin frame: NotAllowedError (L3 §5.1.4.1).
    let framed = fauxkey::client::CallerOrigin::parse(ORIGIN)
        .unwrap()
        .with_top_origin("https://top.example")
        .unwrap();
    let options = fauxkey::client::parse_request_options(&get_options(&[]).to_string()).unwrap();
    expect_err(
        c.get_conditional_with(&framed, &options),
        "NotAllowedError",
        &["cross-origin"],
    );
    assert!(c.conditional_requests().is_empty());
}

#[test]
fn a_security_key_client_offers_no_conditional_mediation() {
    let mut c = client().with_attachment(fauxkey::client::Attachment::CrossPlatform);
    let caps = c.capabilities();
    assert_eq!(caps.get("conditionalGet"), Some(&false));
    assert_eq!(caps.get("conditionalCreate"), Some(&false));
    expect_err(
        c.get_conditional(ORIGIN, &get_options(&[]).to_string()),
        "TypeError",
        &["conditionalGet is false"],
    );
    // The profile decides: yubikey-5 neither, windows-hello autofill only.
    let caps_of = |name: &str| {
        let profile = fauxkey::profiles::find(name).unwrap();
        profile
            .client(profile.authenticator(MemoryStore::new()))
            .capabilities()
    };
    assert_eq!(caps_of("yubikey-5").get("conditionalGet"), Some(&false));
    assert_eq!(caps_of("bitwarden").get("conditionalGet"), Some(&true));
    assert_eq!(caps_of("bitwarden").get("conditionalCreate"), Some(&true));
    assert_eq!(caps_of("windows-hello").get("conditionalGet"), Some(&true));
    assert_eq!(
        caps_of("windows-hello").get("conditionalCreate"),
        Some(&false)
    );
    let explicit = client().with_conditional_mediation(ConditionalSupport {
        get: false,
        create: true,
    });
    assert_eq!(explicit.capabilities().get("conditionalGet"), Some(&false));
}

#[test]
fn conditional_create_upgrades_after_a_password_sign_in_without_presence() {
    let clock = FixedClock::at(NOW);
    // A user who would refuse a prompt: the upgrade asks for none.
    let mut c = conditional_client(&clock);
    c.authenticator_mut().set_user(SimulatedUser {
        presence: Presence::Deny,
        ..SimulatedUser::default()
    });
    let options = create_options().to_string();
    expect_err(
        c.create_conditional(ORIGIN, &options),
        "NotAllowedError",
        &["no recent password sign-in", "alice"],
    );
    // A sign-in as someone else, or on another RP, does not count.
    c.note_password_sign_in("example.com", "bob");
    c.note_password_sign_in("other.com", "alice");
    expect_err(
        c.create_conditional(ORIGIN, &options),
        "NotAllowedError",
        &[],
    );
    c.note_password_sign_in("example.com", "alice");
    assert!(c.has_password_sign_in("example.com", "alice"));
    let made = c.create_conditional(ORIGIN, &options).unwrap();
    let auth_data = b64url::decode(&made.response.authenticator_data).unwrap();
    assert_eq!(auth_data[32] & 0x01, 0, "UP=0: no user presence");
    assert_eq!(auth_data[32] & 0x04, 0, "UV=0: no user verification");
    assert_eq!(auth_data[32] & 0x40, 0x40, "AT: a credential was made");
    assert_eq!(c.authenticator().store().len(), 1);
    // The sign-in is used up.
    assert!(!c.has_password_sign_in("example.com", "alice"));
    expect_err(
        c.create_conditional(ORIGIN, &options),
        "NotAllowedError",
        &[],
    );
    // userVerification "required" cannot be met without UI: ConstraintError.
    c.note_password_sign_in("example.com", "alice");
    expect_err(
        c.create_conditional(
            ORIGIN,
            &with(
                create_options(),
                "authenticatorSelection",
                Some(json!({"userVerification": "required"})),
            )
            .to_string(),
        ),
        "ConstraintError",
        &["required"],
    );
}

#[test]
fn conditional_create_reveals_no_excluded_credential() {
    let clock = FixedClock::at(NOW);
    let mut c = conditional_client(&clock);
    let id = register_user(&mut c, "alice");
    c.note_password_sign_in("example.com", "alice");
    let options = with(
        create_options(),
        "excludeCredentials",
        Some(json!([{"type": "public-key", "id": id}])),
    );
    expect_err(
        c.create_conditional(ORIGIN, &options.to_string()),
        "NotAllowedError",
        &["not offered"],
    );
}

#[test]
fn hints_take_precedence_over_a_contradicting_attachment_and_never_refuse_alone() {
    let selection = |attachment: Option<&str>, hints: &[&str]| {
        let mut o = create_options();
        if let Some(a) = attachment {
            o["authenticatorSelection"] = json!({"authenticatorAttachment": a});
        }
        o["hints"] = json!(hints);
        o
    };
    // A platform client (Chrome with a passkey provider).
    let mut c = client();
    // Only "security-key", no attachment: the user leaves the security-key sheet for this
    // device's passkeys, as in Chrome.
    assert!(create(&mut c, &selection(None, &["security-key"])).is_ok());
    // Hint and attachment agree on a roaming key: the attachment filter stands.
    expect_err(
        create(
            &mut c,
            &selection(Some("cross-platform"), &["security-key"]),
        ),
        "NotAllowedError",
        &["cross-platform"],
    );
    // They disagree: the hint wins (L3 §5.8.7), the filter is lifted.
    assert!(create(
        &mut c,
        &selection(Some("cross-platform"), &["client-device"])
    )
    .is_ok());
    // Unknown hints are ignored.
    expect_err(
        create(&mut c, &selection(Some("cross-platform"), &["telepathy"])),
        "NotAllowedError",
        &[],
    );
    // A security key asked for "platform" but hinted "security-key": the hint wins.
    let mut key = client().with_attachment(fauxkey::client::Attachment::CrossPlatform);
    assert!(create(&mut key, &selection(Some("platform"), &["security-key"])).is_ok());
    expect_err(
        create(&mut key, &selection(Some("platform"), &["client-device"])),
        "NotAllowedError",
        &["platform"],
    );
}
