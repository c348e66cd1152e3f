//! The platform side of large blobs: the WebAuthn `largeBlob` extension (L3 §10.1.5) over
//! CTAP's `largeBlobKey` extension and `authenticatorLargeBlobs` (CTAP 2.1 §6.10).
//!
//! The authenticator keeps one serialized array shared by every credential; each entry is
//! `{1: ciphertext, 2: nonce, 3: origSize}`: the blob compressed with raw DEFLATE (RFC 1951),
//! then AES-256-GCM under the credential's largeBlobKey with associated data
//! `"blob" ‖ uint64LE(origSize)` (CTAP 2.1 §6.10.3). The client reads every fragment, decrypts
//! the entry that opens with the key, and on write replaces it and writes the array back in
//! fragments authorised by a pinUvAuthToken holding `lbw`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use ciborium::value::Value;
use rand_core::Rng as _;
use zeroize::Zeroizing;

use super::ClientError;
use crate::crypto::pin_protocol::{hmac_sha256, PinProtocol};
use crate::ctap2::large_blobs::{self as lb, Request};
use crate::ctap2::StatusCode;
use crate::env::Rng;
use crate::store::CredentialStore;
use crate::Authenticator;

/// The largest blob the client accepts to store or return (the authenticator's array limit is
/// smaller for incompressible data; this bounds decompression).
pub const MAX_BLOB_SIZE: usize = 64 * 1024;

fn refused(what: &str, e: StatusCode) -> ClientError {
    ClientError::NotAllowed(format!("large blob {what} failed: {e}"))
}

/// Reads the whole serialized array, fragment by fragment. A wrong checksum reads as the initial
/// empty array (CTAP 2.1 §6.10.3: the platform then treats the array as empty).
pub fn read_array<S: CredentialStore>(
    authenticator: &mut Authenticator<S>,
) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    let fragment = crate::authenticator::MAX_FRAGMENT_LENGTH;
    loop {
        let chunk = authenticator
            .large_blobs(Request {
                get: Some(fragment as u64),
                offset: Some(out.len() as u64),
                ..Request::default()
            })
            .map_err(|e| refused("read", e))?
            .map(|r| r.config)
            .unwrap_or_default();
        let done = chunk.len() < fragment;
        out.extend_from_slice(&chunk);
        if done || out.len() > crate::authenticator::MAX_SERIALIZED_LARGE_BLOB_ARRAY {
            break;
        }
    }
    if lb::checksum_valid(&out) {
        Ok(out)
    } else {
        Ok(lb::initial_array())
    }
}

/// The entries of a serialized array whose checksum was checked (none if the CBOR is not an
/// array).
pub fn entries(serialized: &[u8]) -> Vec<Value> {
    let data = &serialized[..serialized.len().saturating_sub(16)];
    match crate::cbor::decode(data) {
        Ok(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn associated_data(orig_size: u64) -> Vec<u8> {
    [b"blob".as_slice(), &orig_size.to_le_bytes()].concat()
}

/// Opens `entry` with `key`: the decompressed blob, or `None` if the entry is not this key's
/// (or is malformed).
pub fn decrypt_entry(key: &[u8; 32], entry: &Value) -> Option<Vec<u8>> {
    let Value::Map(m) = entry else { return None };
    let field = |k: i64| crate::ctap2::int_key(m, k);
    let ciphertext = field(1)?.as_bytes()?;
    let nonce = field(2)?.as_bytes()?;
    let orig_size = u64::try_from(i128::from(field(3)?.as_integer()?)).ok()?;
    if nonce.len() != 12 || orig_size > MAX_BLOB_SIZE as u64 {
        return None;
    }
    let compressed = Zeroizing::new(
        Aes256Gcm::new(key.into())
            .decrypt(
                &Nonce::try_from(nonce).ok()?,
                Payload {
                    msg: ciphertext,
                    aad: &associated_data(orig_size),
                },
            )
            .ok()?,
    );
    // One byte over origSize is room enough to notice a longer plaintext.
    let limit = orig_size as usize + 1;
    let plain = miniz_oxide::inflate::decompress_to_vec_with_limit(&compressed, limit).ok()?;
    (plain.len() as u64 == orig_size).then_some(plain)
}

/// A new entry holding `blob` under `key`, with a fresh random nonce.
pub fn encrypt_entry(key: &[u8; 32], blob: &[u8], rng: &mut Rng) -> Result<Value, ClientError> {
    let compressed = Zeroizing::new(miniz_oxide::deflate::compress_to_vec(blob, 6));
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let orig_size = blob.len() as u64;
    let ciphertext = Aes256Gcm::new(key.into())
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &compressed,
                aad: &associated_data(orig_size),
            },
        )
        .map_err(|_| ClientError::NotAllowed("large blob encryption failed".into()))?;
    Ok(crate::cbor::map([
        (1, Value::Bytes(ciphertext)),
        (2, Value::Bytes(nonce.to_vec())),
        (3, Value::Integer(orig_size.into())),
    ]))
}

/// The blob stored for `key`, if any.
pub fn read_blob<S: CredentialStore>(
    authenticator: &mut Authenticator<S>,
    key: &[u8; 32],
) -> Result<Option<Vec<u8>>, ClientError> {
    let array = read_array(authenticator)?;
    Ok(entries(&array).iter().find_map(|e| decrypt_entry(key, e)))
}

/// Replaces the blob stored for `key` with `blob` and writes the array back, each fragment
/// authorised by `token` (a pinUvAuthToken with `lbw`, protocol 2) when the authenticator is
/// protected. Returns false when the new array does not fit on the authenticator.
pub fn write_blob<S: CredentialStore>(
    authenticator: &mut Authenticator<S>,
    key: &[u8; 32],
    blob: &[u8],
    token: Option<&[u8]>,
    rng: &mut Rng,
) -> Result<bool, ClientError> {
    if blob.len() > MAX_BLOB_SIZE {
        return Ok(false);
    }
    let array = read_array(authenticator)?;
    let mut items: Vec<Value> = entries(&array)
        .into_iter()
        .filter(|e| decrypt_entry(key, e).is_none())
        .collect();
    items.push(encrypt_entry(key, blob, rng)?);
    let serialized = lb::serialize(&crate::cbor::encode(&Value::Array(items)));
    if serialized.len() > crate::authenticator::MAX_SERIALIZED_LARGE_BLOB_ARRAY {
        return Ok(false);
    }
    let fragment = crate::authenticator::MAX_FRAGMENT_LENGTH;
    for (i, chunk) in serialized.chunks(fragment).enumerate() {
        let offset = (i * fragment) as u32;
        let (param, protocol) = match token {
            Some(t) => (
                Some(hmac_sha256(t, &lb::auth_message(offset, chunk)).to_vec()),
                Some(PinProtocol::Two.number()),
            ),
            None => (None, None),
        };
        authenticator
            .large_blobs(Request {
                set: Some(chunk.to_vec()),
                offset: Some(u64::from(offset)),
                length: (i == 0).then_some(serialized.len() as u64),
                pin_uv_auth_param: param,
                pin_uv_auth_protocol: protocol,
                ..Request::default()
            })
            .map_err(|e| refused("write", e))?;
    }
    Ok(true)
}

/// A pinUvAuthToken with `lbw` from built-in user verification
/// (getPinUvAuthTokenUsingUvWithPermissions, protocol 2).
pub(super) fn uv_token<S: CredentialStore>(
    authenticator: &mut Authenticator<S>,
    rng: &mut Rng,
    rp_id: &str,
) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    use crate::crypto::pin_protocol::KeyAgreementKey;
    use crate::ctap2::client_pin;
    let peer = authenticator
        .client_pin(client_pin::Request {
            pin_uv_auth_protocol: Some(2),
            sub_command: client_pin::GET_KEY_AGREEMENT,
            ..Default::default()
        })
        .and_then(client_pin::Response::into_key_agreement)
        .map_err(|e| refused("key agreement", e))?;
    let platform = KeyAgreementKey::generate(rng.as_mut());
    let secret = platform
        .shared_secret(PinProtocol::Two, &peer)
        .map_err(|e| refused("key agreement", e))?;
    let answer = authenticator
        .get_pin_uv_auth_token(client_pin::TokenRequest {
            pin_uv_auth_protocol: Some(2),
            key_agreement: Some(platform.public_cose()),
            permissions: Some(client_pin::PERMISSION_LBW.into()),
            rp_id: Some(rp_id.to_owned()),
        })
        .map_err(|e| refused("user verification", e))?;
    secret
        .decrypt(&answer.pin_uv_auth_token)
        .map_err(|e| refused("user verification", e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn entries_round_trip_and_only_open_with_their_key() {
        let mut rng = crate::env::seeded_rng(1);
        let key = [7u8; 32];
        let blob = b"hello hello hello hello large blob".to_vec();
        let entry = encrypt_entry(&key, &blob, &mut rng).unwrap();
        assert_eq!(decrypt_entry(&key, &entry), Some(blob.clone()));
        assert_eq!(decrypt_entry(&[8u8; 32], &entry), None);
        // origSize is authenticated: changing it breaks the tag.
        let Value::Map(mut m) = entry else { panic!() };
        m[2].1 = Value::Integer((blob.len() as u64 + 1).into());
        assert_eq!(decrypt_entry(&key, &Value::Map(m)), None);
    }

    #[test]
    fn write_then_read_over_an_unprotected_authenticator() {
        let config = crate::Config {
            extensions: vec!["largeBlobKey".into()],
            ..crate::Config::default()
        };
        let mut a = Authenticator::new(config, crate::store::MemoryStore::new()).with_user(
            crate::env::SimulatedUser {
                verification: crate::env::Verification::NotCapable,
                ..crate::env::SimulatedUser::default()
            },
        );
        let mut rng = crate::env::seeded_rng(2);
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        assert_eq!(read_blob(&mut a, &k1).unwrap(), None);
        assert!(write_blob(&mut a, &k1, b"one", None, &mut rng).unwrap());
        assert!(write_blob(&mut a, &k2, b"two", None, &mut rng).unwrap());
        assert!(write_blob(&mut a, &k1, b"uno", None, &mut rng).unwrap());
        assert_eq!(read_blob(&mut a, &k1).unwrap(), Some(b"uno".to_vec()));
        assert_eq!(read_blob(&mut a, &k2).unwrap(), Some(b"two".to_vec()));
        assert_eq!(entries(&read_array(&mut a).unwrap()).len(), 2);
    }
}
