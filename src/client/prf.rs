//! The platform side of `hmac-secret`, and the WebAuthn `prf` mapping onto it (WebAuthn L3
//! §10.1.4): salt = SHA-256("WebAuthn PRF" ‖ 0x00 ‖ input).

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::json::PrfValuesJson;
use super::ClientError;
use crate::crypto::pin_protocol::{KeyAgreementKey, PinProtocol, SharedSecret};
use crate::ctap2::get_assertion::HmacSecretInput;
use crate::ctap2::{client_pin, StatusCode};
use crate::env::Rng;
use crate::store::CredentialStore;
use crate::Authenticator;

/// The hmac-secret salt for a WebAuthn PRF input.
pub fn prf_salt(input: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"WebAuthn PRF");
    h.update([0u8]);
    h.update(input);
    h.finalize().into()
}

/// A prepared hmac-secret request: the input to send, and the secret to read the output.
pub(super) struct Prepared {
    pub input: HmacSecretInput,
    secret: SharedSecret,
    two: bool,
}

/// Decodes `{first, second?}` from base64url (EncodingError on failure).
pub(super) fn decode_values(v: &PrfValuesJson) -> Result<(Vec<u8>, Option<Vec<u8>>), ClientError> {
    let dec = |s: &str| {
        crate::b64url::decode(s)
            .map_err(|_| ClientError::Encoding("extensions.prf: value is not base64url".into()))
    };
    Ok((dec(&v.first)?, v.second.as_deref().map(dec).transpose()?))
}

/// Runs key agreement with the authenticator (protocol 2) and encrypts the salts.
pub(super) fn prepare<S: CredentialStore>(
    authenticator: &mut Authenticator<S>,
    rng: &mut Rng,
    first: &[u8],
    second: Option<&[u8]>,
) -> Result<Prepared, ClientError> {
    let fail =
        |e: StatusCode| ClientError::NotAllowed(format!("hmac-secret key agreement failed: {e}"));
    let peer = authenticator
        .client_pin(client_pin::Request {
            pin_uv_auth_protocol: Some(2),
            sub_command: client_pin::GET_KEY_AGREEMENT,
            ..Default::default()
        })
        .and_then(client_pin::Response::into_key_agreement)
        .map_err(fail)?;
    let platform = KeyAgreementKey::generate(rng.as_mut());
    let secret = platform
        .shared_secret(PinProtocol::Two, &peer)
        .map_err(fail)?;
    let mut salts = Zeroizing::new(prf_salt(first).to_vec());
    if let Some(s) = second {
        salts.extend_from_slice(&prf_salt(s));
    }
    let salt_enc = secret.encrypt(rng.as_mut(), &salts).map_err(fail)?;
    let salt_auth = secret.authenticate(&salt_enc);
    Ok(Prepared {
        input: HmacSecretInput {
            key_agreement: platform.public_cose(),
            salt_enc,
            salt_auth,
            pin_uv_auth_protocol: 2,
        },
        secret,
        two: second.is_some(),
    })
}

/// Decrypts the authenticator's hmac-secret output into PRF results.
pub(super) fn results(prepared: &Prepared, encrypted: &[u8]) -> Result<PrfValuesJson, ClientError> {
    let out = prepared
        .secret
        .decrypt(encrypted)
        .map_err(|e| ClientError::NotAllowed(format!("hmac-secret output did not decrypt: {e}")))?;
    let expected = if prepared.two { 64 } else { 32 };
    if out.len() != expected {
        return Err(ClientError::NotAllowed(
            "hmac-secret output has the wrong length".into(),
        ));
    }
    Ok(PrfValuesJson {
        first: crate::b64url::encode(&out[..32]),
        second: prepared.two.then(|| crate::b64url::encode(&out[32..])),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn prf_salt_matches_the_spec_construction() {
        // Computed independently: SHA-256(b"WebAuthn PRF\x00" + b"") with Python's hashlib.
        assert_eq!(
            hex::encode(super::prf_salt(b"")),
            "6a7e64b2aa34c92736143a062fa149aff1bd8bb3f7ee6f346885481f9414a3d3"
        );
    }
}
