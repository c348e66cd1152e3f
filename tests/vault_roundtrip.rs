//! Vault round trips through the authenticator: what is saved is what reopens.
#![allow(clippy::unwrap_used)]

use fauxkey::ctap2::make_credential::{CredentialParameters, Extensions, Request, RpEntity};
use fauxkey::ctap2::{Options, UserEntity};
use fauxkey::store::CredentialStore;
use fauxkey::vault::{ErrorClass, KdfParams, Passphrase, Vault};
use fauxkey::Config;

fn request(user: &[u8], alg: i64) -> Request {
    Request {
        client_data_hash: vec![7; 32],
        rp: RpEntity {
            id: "example.com".into(),
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
            rk: Some(true),
            up: None,
            uv: Some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
        enterprise_attestation: None,
        attestation_formats_preference: None,
    }
}

#[test]
fn credentials_survive_reopen_and_the_passphrase_guards_them() {
    let dir = tempdir();
    let path = dir.join("sub/vault.fxk");
    let pass = Passphrase::new("correct horse").unwrap();
    let vault = Vault::create(&path, &pass, KdfParams::INSECURE_FAST, Config::default()).unwrap();
    let mut auth = vault.into_authenticator();
    auth.make_credential(request(b"u1", -7)).unwrap();
    auth.make_credential(request(b"u2", -8)).unwrap();
    // Same user again: replaces u1's credential.
    auth.make_credential(request(b"u1", -7)).unwrap();
    let before: Vec<_> = {
        let mut v: Vec<_> = auth
            .store()
            .all()
            .map(|c| {
                (
                    c.id.clone(),
                    c.user_handle.clone(),
                    c.key.secret_bytes().to_vec(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(before.len(), 2);
    let reopened = Vault::open(&path, &pass).unwrap();
    let mut after: Vec<_> = reopened
        .all()
        .map(|c| {
            (
                c.id.clone(),
                c.user_handle.clone(),
                c.key.secret_bytes().to_vec(),
            )
        })
        .collect();
    after.sort();
    assert_eq!(before, after);
    let wrong = Vault::open(&path, &Passphrase::new("wrong horse").unwrap()).unwrap_err();
    assert_eq!(wrong.class(), ErrorClass::WrongPassphrase);
    let missing = Vault::open(&dir.join("nope"), &pass).unwrap_err();
    assert_eq!(missing.class(), ErrorClass::NoVault);
    let _ = std::fs::remove_dir_all(dir);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fauxkey-vault-rt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
