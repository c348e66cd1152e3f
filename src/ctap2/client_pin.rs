//! `authenticatorClientPIN` (0x06): request and responses (CTAP 2.1 §6.5). fauxkey sets no PIN;
//! it implements `getKeyAgreement` (which `hmac-secret` also needs) and
//! `getPinUvAuthTokenUsingUvWithPermissions` (built-in UV → a pinUvAuthToken).

use ciborium::value::Value;

use super::{as_bytes, as_int, as_map, as_text, int_key, required, StatusCode};
use crate::cbor;

/// Subcommand `getKeyAgreement`.
pub const GET_KEY_AGREEMENT: i64 = 0x02;
/// Subcommand `getPinUvAuthTokenUsingUvWithPermissions`.
pub const GET_UV_TOKEN: i64 = 0x06;

/// pinUvAuthToken permission `mc`: makeCredential.
pub const PERMISSION_MC: u8 = 0x01;
/// pinUvAuthToken permission `ga`: getAssertion.
pub const PERMISSION_GA: u8 = 0x02;
/// pinUvAuthToken permission `cm`: credential management.
pub const PERMISSION_CM: u8 = 0x04;

/// The decoded request (only the fields fauxkey reads for `getKeyAgreement` and the
/// subcommands it refuses).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// 0x01 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
    /// 0x02 `subCommand`.
    pub sub_command: i64,
}

impl Request {
    /// Decodes the parameter map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        Ok(Self {
            pin_uv_auth_protocol: int_key(m, 0x01).map(as_int).transpose()?,
            sub_command: as_int(required(m, 0x02)?)?,
        })
    }

    /// Encodes the parameter map.
    pub fn to_cbor(&self) -> Value {
        let mut e = vec![(0x02, Value::Integer(self.sub_command.into()))];
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x01, Value::Integer(p.into())));
        }
        cbor::map(e)
    }
}

/// A `getPinUvAuthTokenUsingUvWithPermissions` request (subcommand 0x06).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRequest {
    /// 0x01 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
    /// 0x03 `keyAgreement`: the platform's COSE key.
    pub key_agreement: Option<Value>,
    /// 0x09 `permissions`.
    pub permissions: Option<i64>,
    /// 0x0A `rpId` (the permissions RP ID).
    pub rp_id: Option<String>,
}

impl TokenRequest {
    /// Decodes the parameter map (its subcommand has already been read).
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let key_agreement = int_key(m, 0x03).cloned();
        if let Some(k) = &key_agreement {
            as_map(k)?;
        }
        Ok(Self {
            pin_uv_auth_protocol: int_key(m, 0x01).map(as_int).transpose()?,
            key_agreement,
            permissions: int_key(m, 0x09).map(as_int).transpose()?,
            rp_id: int_key(m, 0x0A)
                .map(|v| as_text(v).map(str::to_owned))
                .transpose()?,
        })
    }

    /// Encodes the parameter map.
    pub fn to_cbor(&self) -> Value {
        let mut e = vec![(0x02, Value::Integer(GET_UV_TOKEN.into()))];
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x01, Value::Integer(p.into())));
        }
        if let Some(k) = &self.key_agreement {
            e.push((0x03, k.clone()));
        }
        if let Some(p) = self.permissions {
            e.push((0x09, Value::Integer(p.into())));
        }
        if let Some(r) = &self.rp_id {
            e.push((0x0A, Value::Text(r.clone())));
        }
        cbor::map(e)
    }
}

/// The `getKeyAgreement` response: `{1: COSE_Key}` (ECDH-ES+HKDF-256, P-256).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyAgreementResponse {
    /// The authenticator's key agreement public key, as a COSE map.
    pub key_agreement: Value,
}

impl KeyAgreementResponse {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        cbor::map([(0x01, self.key_agreement.clone())])
    }

    /// Decodes the response map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let v = required(m, 0x01)?;
        as_map(v)?;
        Ok(Self {
            key_agreement: v.clone(),
        })
    }
}

/// The token response: `{2: pinUvAuthToken encrypted with the shared secret}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenResponse {
    /// The encrypted token.
    pub pin_uv_auth_token: Vec<u8>,
}

impl TokenResponse {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        cbor::map([(0x02, Value::Bytes(self.pin_uv_auth_token.clone()))])
    }

    /// Decodes the response map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        Ok(Self {
            pin_uv_auth_token: as_bytes(required(m, 0x02)?)?.to_vec(),
        })
    }
}
