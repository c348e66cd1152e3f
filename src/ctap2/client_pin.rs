//! `authenticatorClientPIN` (0x06): request and responses (CTAP 2.1 §6.5): every subcommand of
//! PIN/UV auth protocols 1 and 2 (getPINRetries, getKeyAgreement, setPIN, changePIN,
//! getPinToken, getPinUvAuthTokenUsingUvWithPermissions, getUVRetries,
//! getPinUvAuthTokenUsingPinWithPermissions).

use ciborium::value::Value;

use super::{as_bytes, as_int, as_map, as_text, int_key, required, StatusCode};
use crate::cbor;

/// Subcommand `getPINRetries`.
pub const GET_PIN_RETRIES: i64 = 0x01;
/// Subcommand `getKeyAgreement`.
pub const GET_KEY_AGREEMENT: i64 = 0x02;
/// Subcommand `setPIN`.
pub const SET_PIN: i64 = 0x03;
/// Subcommand `changePIN`.
pub const CHANGE_PIN: i64 = 0x04;
/// Subcommand `getPinToken` (CTAP 2.0; grants `mc` and `ga`).
pub const GET_PIN_TOKEN: i64 = 0x05;
/// Subcommand `getPinUvAuthTokenUsingUvWithPermissions`.
pub const GET_UV_TOKEN: i64 = 0x06;
/// Subcommand `getUVRetries`.
pub const GET_UV_RETRIES: i64 = 0x07;
/// Subcommand `getPinUvAuthTokenUsingPinWithPermissions`.
pub const GET_PIN_TOKEN_WITH_PERMISSIONS: i64 = 0x09;

/// pinUvAuthToken permission `mc`: makeCredential.
pub const PERMISSION_MC: u8 = 0x01;
/// pinUvAuthToken permission `ga`: getAssertion.
pub const PERMISSION_GA: u8 = 0x02;
/// pinUvAuthToken permission `cm`: credential management.
pub const PERMISSION_CM: u8 = 0x04;
/// pinUvAuthToken permission `be`: bio enrollment (fauxkey has none).
pub const PERMISSION_BE: u8 = 0x08;
/// pinUvAuthToken permission `lbw`: large blob write.
pub const PERMISSION_LBW: u8 = 0x10;
/// pinUvAuthToken permission `acfg`: authenticator configuration.
pub const PERMISSION_ACFG: u8 = 0x20;

/// The decoded request: every parameter any subcommand takes (each subcommand checks for the
/// ones it needs).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// 0x01 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
    /// 0x02 `subCommand`.
    pub sub_command: i64,
    /// 0x03 `keyAgreement`: the platform's COSE key.
    pub key_agreement: Option<Value>,
    /// 0x04 `pinUvAuthParam`.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x05 `newPinEnc`.
    pub new_pin_enc: Option<Vec<u8>>,
    /// 0x06 `pinHashEnc`.
    pub pin_hash_enc: Option<Vec<u8>>,
    /// 0x09 `permissions`.
    pub permissions: Option<i64>,
    /// 0x0A `rpId` (the permissions RP ID).
    pub rp_id: Option<String>,
}

impl Request {
    /// Decodes the parameter map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let key_agreement = int_key(m, 0x03).cloned();
        if let Some(k) = &key_agreement {
            as_map(k)?;
        }
        let bytes = |k: i64| -> Result<Option<Vec<u8>>, StatusCode> {
            int_key(m, k)
                .map(|v| as_bytes(v).map(<[u8]>::to_vec))
                .transpose()
        };
        Ok(Self {
            pin_uv_auth_protocol: int_key(m, 0x01).map(as_int).transpose()?,
            sub_command: as_int(required(m, 0x02)?)?,
            key_agreement,
            pin_uv_auth_param: bytes(0x04)?,
            new_pin_enc: bytes(0x05)?,
            pin_hash_enc: bytes(0x06)?,
            permissions: int_key(m, 0x09).map(as_int).transpose()?,
            rp_id: int_key(m, 0x0A)
                .map(|v| as_text(v).map(str::to_owned))
                .transpose()?,
        })
    }

    /// Encodes the parameter map.
    pub fn to_cbor(&self) -> Value {
        let mut e = vec![(0x02, Value::Integer(self.sub_command.into()))];
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x01, Value::Integer(p.into())));
        }
        if let Some(k) = &self.key_agreement {
            e.push((0x03, k.clone()));
        }
        for (k, v) in [
            (0x04, &self.pin_uv_auth_param),
            (0x05, &self.new_pin_enc),
            (0x06, &self.pin_hash_enc),
        ] {
            if let Some(b) = v {
                e.push((k, Value::Bytes(b.clone())));
            }
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

/// The `getPINRetries` / `getUVRetries` response: `{3: pinRetries, 4: powerCycleState}` or
/// `{5: uvRetries}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetriesResponse {
    /// 0x03 `pinRetries`.
    pub pin_retries: Option<u8>,
    /// 0x04 `powerCycleState`: a power cycle is needed before the PIN can be tried again.
    pub power_cycle_state: Option<bool>,
    /// 0x05 `uvRetries`.
    pub uv_retries: Option<u8>,
}

impl RetriesResponse {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        let mut e = Vec::new();
        if let Some(n) = self.pin_retries {
            e.push((0x03, Value::Integer(n.into())));
        }
        if let Some(b) = self.power_cycle_state {
            e.push((0x04, Value::Bool(b)));
        }
        if let Some(n) = self.uv_retries {
            e.push((0x05, Value::Integer(n.into())));
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

/// What a ClientPIN subcommand answers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// `getKeyAgreement`.
    KeyAgreement(KeyAgreementResponse),
    /// `getPINRetries`, `getUVRetries`.
    Retries(RetriesResponse),
    /// The token subcommands.
    Token(TokenResponse),
    /// `setPIN`, `changePIN`: no body.
    Empty,
}

impl Response {
    /// Encodes the response body (none for `Empty`).
    pub fn to_cbor(&self) -> Option<Value> {
        match self {
            Self::KeyAgreement(r) => Some(r.to_cbor()),
            Self::Retries(r) => Some(r.to_cbor()),
            Self::Token(r) => Some(r.to_cbor()),
            Self::Empty => None,
        }
    }

    /// The authenticator's key agreement key, for a `getKeyAgreement` answer.
    pub fn into_key_agreement(self) -> Result<Value, StatusCode> {
        match self {
            Self::KeyAgreement(r) => Ok(r.key_agreement),
            _ => Err(StatusCode::Other),
        }
    }
}
