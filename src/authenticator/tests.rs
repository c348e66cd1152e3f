//! Unit tests of authenticator behaviour that the byte-level tests in `tests/` do not reach.

use super::*;
use crate::ctap2::get_assertion;
use crate::ctap2::make_credential::{CredentialParameters, Extensions, Request, RpEntity};
use crate::ctap2::{Options, UserEntity};

fn register(a: &mut Authenticator, user: &str) -> Vec<u8> {
    let r = a
        .make_credential(Request {
            client_data_hash: vec![1; 32],
            rp: RpEntity {
                id: "example.com".into(),
                name: None,
            },
            user: UserEntity {
                id: user.as_bytes().to_vec(),
                name: Some(user.into()),
                display_name: None,
            },
            pub_key_cred_params: vec![CredentialParameters {
                type_: "public-key".into(),
                alg: -7,
            }],
            exclude_list: vec![],
            extensions: Extensions::default(),
            options: Options {
                rk: Some(true),
                up: None,
                uv: None,
            },
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
            enterprise_attestation: None,
            attestation_formats_preference: None,
        })
        .expect("registers");
    crate::ctap2::auth_data::AuthenticatorData::parse(&r.auth_data)
        .expect("auth data")
        .attested
        .expect("attested")
        .credential_id
}

fn discoverable_request() -> get_assertion::Request {
    get_assertion::Request {
        rp_id: "example.com".into(),
        client_data_hash: vec![2; 32],
        allow_list: vec![],
        hmac_secret: None,
        extensions: Default::default(),
        options: Options::default(),
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    }
}

#[test]
fn account_chooser_signs_only_the_chosen_account() {
    let config = Config {
        account_chooser: true,
        ..Config::default()
    };
    let mut a = Authenticator::new(config, MemoryStore::new())
        .with_rng(env::seeded_rng(5))
        .with_user(SimulatedUser {
            account: Some("alice".into()),
            ..Default::default()
        });
    let alice = register(&mut a, "alice");
    let bob = register(&mut a, "bob");
    let r = a.get_assertion(discoverable_request()).expect("asserts");
    assert_eq!(
        r.credential.id, alice,
        "the user picked alice, not the newest (bob)"
    );
    assert_eq!(r.user_selected, Some(true));
    assert_eq!(r.number_of_credentials, None);
    assert_eq!(
        a.get_next_assertion().map(|_| ()),
        Err(StatusCode::NotAllowed),
        "nothing pending"
    );
    assert_eq!(a.store().get(&alice).map(|c| c.sign_count), Some(1));
    assert_eq!(
        a.store().get(&bob).map(|c| c.sign_count),
        Some(0),
        "bob was not signed with"
    );
    // A user who picks no account cancels the ceremony.
    a.set_user(SimulatedUser {
        account: Some("carol".into()),
        ..Default::default()
    });
    assert_eq!(
        a.get_assertion(discoverable_request()).map(|_| ()),
        Err(StatusCode::OperationDenied)
    );
}

#[test]
fn without_a_chooser_every_candidate_is_listed() {
    let mut a =
        Authenticator::new(Config::default(), MemoryStore::new()).with_rng(env::seeded_rng(6));
    register(&mut a, "alice");
    register(&mut a, "bob");
    let r = a.get_assertion(discoverable_request()).expect("asserts");
    assert_eq!(r.number_of_credentials, Some(2));
    assert_eq!(r.user_selected, None);
}
