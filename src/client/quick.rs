//! Options for "quick mode": what an RP would send for a plain passkey registration or a
//! discoverable login, for use without an RP server (the CLI's `create --rp-id`, `get --rp-id`).

use rand_core::CryptoRng;

use super::json::{
    AuthenticatorSelectionJson, CreationOptionsJson, CredentialParametersJson, ExtensionsInputJson,
    RequestOptionsJson, RpEntityJson, UserEntityJson,
};
use crate::b64url;
use crate::crypto::keys::Algorithm;

/// The origin quick mode acts from: `https://<rp_id>`, or `http://localhost` for `localhost`.
pub fn origin_for(rp_id: &str) -> String {
    if rp_id == "localhost" {
        "http://localhost".into()
    } else {
        format!("https://{rp_id}")
    }
}

fn random_b64(rng: &mut dyn CryptoRng, len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    b64url::encode(&bytes)
}

/// Creation options for a discoverable passkey: random 16-byte user handle, random challenge,
/// the one algorithm, residentKey required, userVerification preferred, credProps requested.
pub fn creation_options(
    rp_id: &str,
    user_name: &str,
    display_name: Option<&str>,
    alg: Algorithm,
    rng: &mut dyn CryptoRng,
) -> CreationOptionsJson {
    CreationOptionsJson {
        rp: RpEntityJson {
            id: Some(rp_id.into()),
            name: rp_id.into(),
        },
        user: UserEntityJson {
            id: random_b64(rng, 16),
            name: user_name.into(),
            display_name: display_name.unwrap_or(user_name).into(),
        },
        challenge: random_b64(rng, 32),
        pub_key_cred_params: vec![CredentialParametersJson {
            type_: "public-key".into(),
            alg: alg.cose_id(),
        }],
        timeout: Some(60_000),
        exclude_credentials: Vec::new(),
        authenticator_selection: Some(AuthenticatorSelectionJson {
            authenticator_attachment: None,
            resident_key: Some("required".into()),
            require_resident_key: true,
            user_verification: Some("preferred".into()),
        }),
        hints: Vec::new(),
        attestation: Some("none".into()),
        attestation_formats: Vec::new(),
        extensions: Some(ExtensionsInputJson {
            cred_props: Some(true),
            ..Default::default()
        }),
    }
}

/// Request options for a discoverable login at `rp_id` with a random challenge.
pub fn request_options(rp_id: &str, rng: &mut dyn CryptoRng) -> RequestOptionsJson {
    RequestOptionsJson {
        challenge: random_b64(rng, 32),
        timeout: Some(60_000),
        rp_id: Some(rp_id.into()),
        allow_credentials: Vec::new(),
        user_verification: Some("preferred".into()),
        hints: Vec::new(),
        extensions: None,
    }
}
