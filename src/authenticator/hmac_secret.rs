//! The `hmac-secret` extension at getAssertion (CTAP 2.1 §12.5), and `hmac-secret-mc` at
//! makeCredential (CTAP 2.2 §12.7): decrypt the salts, compute HMAC-SHA-256(CredRandom, salt)
//! for the credential, return it encrypted.

use ciborium::value::Value;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::cbor;
use crate::crypto::pin_protocol::{hmac_sha256, KeyAgreementKey, PinProtocol, SharedSecret};
use crate::ctap2::get_assertion::HmacSecretInput;
use crate::ctap2::StatusCode;
use crate::store::{CredRandom, Credential};

/// The decrypted salts and the shared secret that will encrypt the output.
pub(super) struct Salts {
    secret: SharedSecret,
    salts: Zeroizing<Vec<u8>>,
}

/// Checks saltAuth and decrypts saltEnc (one or two 32-byte salts).
pub(super) fn decrypt_salts(
    key: &KeyAgreementKey,
    input: &HmacSecretInput,
) -> Result<Salts, StatusCode> {
    let protocol =
        PinProtocol::from_number(input.pin_uv_auth_protocol).ok_or(StatusCode::InvalidParameter)?;
    let secret = key.shared_secret(protocol, &input.key_agreement)?;
    if !secret.verify(&input.salt_enc, &input.salt_auth) {
        return Err(StatusCode::PinAuthInvalid);
    }
    let salts = secret.decrypt(&input.salt_enc)?;
    if salts.len() != 32 && salts.len() != 64 {
        return Err(StatusCode::InvalidLength);
    }
    Ok(Salts { secret, salts })
}

/// The `{"hmac-secret": encrypted outputs}` map for `credential`, or `None` if it has no
/// CredRandom (it was created without the extension).
pub(super) fn output(
    credential: &Credential,
    salts: &Salts,
    uv: bool,
    rng: &mut dyn CryptoRng,
) -> Result<Option<Value>, StatusCode> {
    let Some(random) = &credential.cred_random else {
        return Ok(None);
    };
    let encrypted = encrypted_output(random, salts, uv, rng)?;
    Ok(Some(cbor::map([("hmac-secret", Value::Bytes(encrypted))])))
}

/// HMAC-SHA-256(CredRandom, salt) for each salt, encrypted with the shared secret (the value of
/// `hmac-secret` at getAssertion and of `hmac-secret-mc` at makeCredential).
pub(super) fn encrypted_output(
    random: &CredRandom,
    salts: &Salts,
    uv: bool,
    rng: &mut dyn CryptoRng,
) -> Result<Vec<u8>, StatusCode> {
    let key = if uv {
        &random.with_uv
    } else {
        &random.without_uv
    };
    let mut outputs = Zeroizing::new(Vec::with_capacity(64));
    for salt in salts.salts.chunks(32) {
        outputs.extend_from_slice(&hmac_sha256(key, salt));
    }
    salts.secret.encrypt(rng, &outputs)
}
