//! `authenticatorGetAssertion` (0x02) and `authenticatorGetNextAssertion` (0x08): request and
//! response (CTAP 2.1 §6.2, §6.3).

use ciborium::value::Value;

use super::{
    as_array, as_bytes, as_int, as_map, as_text, int_key, required, text_key, CredentialDescriptor,
    Options, StatusCode, UserEntity,
};
use crate::cbor;

/// The `hmac-secret` input of getAssertion: `{1: keyAgreement, 2: saltEnc, 3: saltAuth, 4: protocol}`.
#[derive(Debug, Clone, PartialEq)]
pub struct HmacSecretInput {
    /// 0x01 the platform's COSE ECDH public key.
    pub key_agreement: Value,
    /// 0x02 the salts, encrypted with the shared secret.
    pub salt_enc: Vec<u8>,
    /// 0x03 authenticate(sharedSecret, saltEnc).
    pub salt_auth: Vec<u8>,
    /// 0x04 PIN/UV auth protocol (default 1).
    pub pin_uv_auth_protocol: i64,
}

impl HmacSecretInput {
    pub(crate) fn from_cbor(v: &Value) -> Result<Self, StatusCode> {
        let m = as_map(v)?;
        let key_agreement = required(m, 0x01)?;
        as_map(key_agreement)?;
        Ok(Self {
            key_agreement: key_agreement.clone(),
            salt_enc: as_bytes(required(m, 0x02)?)?.to_vec(),
            salt_auth: as_bytes(required(m, 0x03)?)?.to_vec(),
            pin_uv_auth_protocol: int_key(m, 0x04).map(as_int).transpose()?.unwrap_or(1),
        })
    }

    pub(crate) fn to_cbor(&self) -> Value {
        cbor::map([
            (0x01, self.key_agreement.clone()),
            (0x02, Value::Bytes(self.salt_enc.clone())),
            (0x03, Value::Bytes(self.salt_auth.clone())),
            (0x04, Value::Integer(self.pin_uv_auth_protocol.into())),
        ])
    }
}

/// Extension inputs of getAssertion other than `hmac-secret`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `largeBlobKey: true`: return the credential's largeBlobKey (CTAP 2.1 §12.3).
    pub large_blob_key: Option<bool>,
    /// `credBlob: true` (WebAuthn's `getCredBlob`): return the credential's credBlob (CTAP 2.1
    /// §12.2).
    pub cred_blob: Option<bool>,
}

/// The decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// 0x01 `rpId`.
    pub rp_id: String,
    /// 0x02 `clientDataHash`.
    pub client_data_hash: Vec<u8>,
    /// 0x03 `allowList`.
    pub allow_list: Vec<CredentialDescriptor>,
    /// 0x04 `extensions`: the `hmac-secret` input, if any.
    pub hmac_secret: Option<HmacSecretInput>,
    /// 0x04 `extensions`: `largeBlobKey` and `credBlob` (unknown ones are ignored).
    pub extensions: Extensions,
    /// 0x05 `options`.
    pub options: Options,
    /// 0x06 `pinUvAuthParam`.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x07 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
}

impl Request {
    /// Decodes the parameter map, with CTAP's status codes for bad input.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let rp_id = as_text(required(m, 0x01)?)?.to_owned();
        let client_data_hash = as_bytes(required(m, 0x02)?)?.to_vec();
        let allow_list = match int_key(m, 0x03) {
            Some(v) => as_array(v)?
                .iter()
                .map(CredentialDescriptor::from_cbor)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let (hmac_secret, extensions) = match int_key(m, 0x04) {
            Some(v) => {
                let em = as_map(v)?;
                let flag = |k: &str| text_key(em, k).map(super::as_bool).transpose();
                (
                    text_key(em, "hmac-secret")
                        .map(HmacSecretInput::from_cbor)
                        .transpose()?,
                    Extensions {
                        large_blob_key: flag("largeBlobKey")?,
                        cred_blob: flag("credBlob")?,
                    },
                )
            }
            None => (None, Extensions::default()),
        };
        Ok(Self {
            rp_id,
            client_data_hash,
            allow_list,
            hmac_secret,
            extensions,
            options: int_key(m, 0x05)
                .map(Options::from_cbor)
                .transpose()?
                .unwrap_or_default(),
            pin_uv_auth_param: int_key(m, 0x06)
                .map(|v| as_bytes(v).map(<[u8]>::to_vec))
                .transpose()?,
            pin_uv_auth_protocol: int_key(m, 0x07).map(as_int).transpose()?,
        })
    }

    /// Encodes the parameter map.
    pub fn to_cbor(&self) -> Value {
        let mut e: Vec<(i64, Value)> = vec![
            (0x01, Value::Text(self.rp_id.clone())),
            (0x02, Value::Bytes(self.client_data_hash.clone())),
        ];
        if !self.allow_list.is_empty() {
            e.push((
                0x03,
                Value::Array(self.allow_list.iter().map(|d| d.to_cbor()).collect()),
            ));
        }
        let mut ext = Vec::new();
        if let Some(h) = &self.hmac_secret {
            ext.push(("hmac-secret", h.to_cbor()));
        }
        if let Some(b) = self.extensions.large_blob_key {
            ext.push(("largeBlobKey", Value::Bool(b)));
        }
        if let Some(b) = self.extensions.cred_blob {
            ext.push(("credBlob", Value::Bool(b)));
        }
        if !ext.is_empty() {
            e.push((0x04, cbor::map(ext)));
        }
        if let Some(o) = self.options.to_cbor() {
            e.push((0x05, o));
        }
        if let Some(p) = &self.pin_uv_auth_param {
            e.push((0x06, Value::Bytes(p.clone())));
        }
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x07, Value::Integer(p.into())));
        }
        cbor::map(e)
    }
}

/// The response of getAssertion and getNextAssertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 0x01 the credential used.
    pub credential: CredentialDescriptor,
    /// 0x02 authenticatorData bytes.
    pub auth_data: Vec<u8>,
    /// 0x03 the signature over authenticatorData ‖ clientDataHash.
    pub signature: Vec<u8>,
    /// 0x04 the user (discoverable credentials only; name fields only after UV).
    pub user: Option<UserEntity>,
    /// 0x05 how many credentials apply (first response of a discoverable request only).
    pub number_of_credentials: Option<u32>,
    /// 0x06 the user picked this account on the authenticator's own chooser.
    pub user_selected: Option<bool>,
    /// 0x07 the credential's `largeBlobKey` (secret), when asked for and present.
    pub large_blob_key: Option<Vec<u8>>,
}

impl Response {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        let mut e: Vec<(i64, Value)> = vec![
            (0x01, self.credential.to_cbor()),
            (0x02, Value::Bytes(self.auth_data.clone())),
            (0x03, Value::Bytes(self.signature.clone())),
        ];
        if let Some(u) = &self.user {
            e.push((0x04, u.to_cbor()));
        }
        if let Some(n) = self.number_of_credentials {
            e.push((0x05, Value::Integer(n.into())));
        }
        if let Some(b) = self.user_selected {
            e.push((0x06, Value::Bool(b)));
        }
        if let Some(k) = &self.large_blob_key {
            e.push((0x07, Value::Bytes(k.clone())));
        }
        cbor::map(e)
    }

    /// Decodes a response map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        Ok(Self {
            credential: CredentialDescriptor::from_cbor(required(m, 0x01)?)?,
            auth_data: as_bytes(required(m, 0x02)?)?.to_vec(),
            signature: as_bytes(required(m, 0x03)?)?.to_vec(),
            user: int_key(m, 0x04).map(UserEntity::from_cbor).transpose()?,
            number_of_credentials: int_key(m, 0x05)
                .map(|v| {
                    as_int(v)
                        .and_then(|n| u32::try_from(n).map_err(|_| StatusCode::InvalidParameter))
                })
                .transpose()?,
            user_selected: int_key(m, 0x06).map(super::as_bool).transpose()?,
            large_blob_key: int_key(m, 0x07)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec),
        })
    }
}
