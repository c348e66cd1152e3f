//! The HTTP door to import/export: `GET …/export` (token and `--allow-key-export`) and
//! `POST …/import` (token; a clash is 409 and imports nothing), and a passkey moved from one
//! server to another through a CXF file logs in; webauthn-rs verifies.

#![allow(clippy::unwrap_used)]

mod common;

use common::{rp, start, start_config, Http, ORIGIN};
use fauxkey::server::{AuthenticatorOptions, ServerConfig, ServerStore};
use fauxkey::store::MemoryStore;
use serde_json::{json, Value};
use webauthn_rs_core::proto::{
    PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
};

#[test]
fn a_passkey_moves_between_servers_through_an_exported_cxf_file() {
    let core = rp();
    let (_a, from) = start(1);
    let builder = core
        .new_challenge_register_builder(b"alice", "alice", "Alice")
        .unwrap()
        .require_resident_key(true);
    let (ccr, reg_state) = core.generate_challenge_register(builder).unwrap();
    let (status, response) = from.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": serde_json::to_value(&ccr).unwrap()}),
    );
    assert_eq!(status, 200, "{response}");
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    let cred = core.register_credential(&reg, &reg_state, None).unwrap();

    let (status, export) = from.get("/_fauxkey/authenticators/default/export?format=cxf");
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["count"], 1);
    assert!(export["losses"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["field"] == "backup-flags"));
    let file = export["file"].as_str().unwrap();

    let (_b, to) = start(2);
    let (status, report) = to.post_raw("/_fauxkey/authenticators/default/import", file);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["format"], "cxf");
    assert_eq!(report["added"][0], json!(reg.id));
    // Again: the credential exists, 409, nothing changes.
    let (status, err) = to.post_raw("/_fauxkey/authenticators/default/import", file);
    assert_eq!(
        (status, err["name"].as_str()),
        (409, Some("InvalidStateError")),
        "{err}"
    );
    let (status, _) = to.post_raw(
        "/_fauxkey/authenticators/default/import?format=cxf&replace=true",
        file,
    );
    assert_eq!(status, 200);

    let builder = core
        .new_challenge_authenticate_builder(
            vec![cred.clone()],
            Some(UserVerificationPolicy::Preferred),
        )
        .unwrap();
    let (rcr, auth_state) = core.generate_challenge_authenticate(builder).unwrap();
    let (status, assertion) = to.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": serde_json::to_value(&rcr).unwrap()}),
    );
    assert_eq!(status, 200, "{assertion}");
    let pkc: PublicKeyCredential = serde_json::from_value(assertion).unwrap();
    let result = core.authenticate_credential(&pkc, &auth_state).unwrap();
    assert_eq!(result.cred_id(), &cred.cred_id);
}

#[test]
fn export_needs_key_export_and_import_refuses_bad_files() {
    let (_s, http) = start_config(ServerConfig::new(
        AuthenticatorOptions::default(),
        ServerStore::Memory(MemoryStore::new()),
    ));
    let (status, err) = http.get("/_fauxkey/authenticators/default/export?format=cxf");
    assert_eq!(
        (status, err["name"].as_str()),
        (403, Some("NotAllowedError")),
        "{err}"
    );
    // Without the token: 401 before anything else.
    let anonymous = Http {
        base: http.base.clone(),
        agent: ureq::AgentBuilder::new().build(),
        token: None,
    };
    let (status, _) = anonymous.post_raw("/_fauxkey/authenticators/default/import", "[]");
    assert_eq!(status, 401);
    // A truncated file: 400 SyntaxError naming the place; an unknown format: TypeError.
    let (status, err) = http.post_raw(
        "/_fauxkey/authenticators/default/import?format=webdriver",
        "[{\"credentialId\": \"AAAA",
    );
    assert_eq!(status, 400, "{err}");
    assert!(err["message"].as_str().unwrap().contains("line 1"), "{err}");
    let (status, err) = http.post_raw(
        "/_fauxkey/authenticators/default/import?format=lastpass",
        "[]",
    );
    assert_eq!(
        (status, err["name"].as_str()),
        (400, Some("TypeError")),
        "{err}"
    );
    let (_, list): (u16, Value) = http.get("/_fauxkey/authenticators");
    assert_eq!(list[0]["credentials"], 0);
}
