//! `authenticatorClientPIN` (0x06): request and response (CTAP 2.1 §6.5). fauxkey sets no PIN;
//! it implements `getKeyAgreement`, which the `hmac-secret` extension needs.

use ciborium::value::Value;

use super::{as_int, as_map, int_key, required, StatusCode};
use crate::cbor;

/// Subcommand `getKeyAgreement`.
pub const GET_KEY_AGREEMENT: i64 = 0x02;

/// The decoded request (only the fields fauxkey reads).
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
