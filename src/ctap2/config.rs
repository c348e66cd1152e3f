//! `authenticatorConfig` (0x0D): the request (CTAP 2.1 §6.11). The response has no body.

use ciborium::value::Value;

use super::{as_array, as_bool, as_bytes, as_int, as_map, as_text, int_key, required, StatusCode};
use crate::cbor;

/// Subcommand `enableEnterpriseAttestation`.
pub const ENABLE_ENTERPRISE_ATTESTATION: i64 = 0x01;
/// Subcommand `toggleAlwaysUv`.
pub const TOGGLE_ALWAYS_UV: i64 = 0x02;
/// Subcommand `setMinPINLength`.
pub const SET_MIN_PIN_LENGTH: i64 = 0x03;

/// The decoded request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Request {
    /// 0x01 `subCommand`.
    pub sub_command: i64,
    /// 0x02 `subCommandParams`, as received (its canonical encoding is what pinUvAuthParam
    /// authenticates).
    pub params: Option<Value>,
    /// `setMinPINLength` 0x01 `newMinPINLength`.
    pub new_min_pin_length: Option<i64>,
    /// `setMinPINLength` 0x02 `minPinLengthRPIDs`.
    pub min_pin_length_rp_ids: Option<Vec<String>>,
    /// `setMinPINLength` 0x03 `forceChangePin`.
    pub force_change_pin: Option<bool>,
    /// 0x03 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
    /// 0x04 `pinUvAuthParam`.
    pub pin_uv_auth_param: Option<Vec<u8>>,
}

impl Request {
    /// Decodes the parameter map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let params = int_key(m, 0x02).cloned();
        let mut request = Self {
            sub_command: as_int(required(m, 0x01)?)?,
            pin_uv_auth_protocol: int_key(m, 0x03).map(as_int).transpose()?,
            pin_uv_auth_param: int_key(m, 0x04)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec),
            ..Self::default()
        };
        if let Some(p) = &params {
            let p = as_map(p)?;
            request.new_min_pin_length = int_key(p, 0x01).map(as_int).transpose()?;
            request.min_pin_length_rp_ids = int_key(p, 0x02)
                .map(|v| {
                    as_array(v)?
                        .iter()
                        .map(|t| as_text(t).map(str::to_owned))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?;
            request.force_change_pin = int_key(p, 0x03).map(as_bool).transpose()?;
        }
        request.params = params;
        Ok(request)
    }

    /// Encodes the parameter map (`params` as given).
    pub fn to_cbor(&self) -> Value {
        let mut e = vec![(0x01, Value::Integer(self.sub_command.into()))];
        if let Some(p) = &self.params {
            e.push((0x02, p.clone()));
        }
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x03, Value::Integer(p.into())));
        }
        if let Some(p) = &self.pin_uv_auth_param {
            e.push((0x04, Value::Bytes(p.clone())));
        }
        cbor::map(e)
    }

    /// What pinUvAuthParam authenticates: `32 × 0xff ‖ 0x0d ‖ uint8(subCommand) ‖
    /// subCommandParams` (CTAP 2.1 §6.11 step 4).
    pub fn auth_message(&self) -> Vec<u8> {
        let mut message = vec![0xff; 32];
        message.push(0x0d);
        message.push(self.sub_command as u8);
        if let Some(p) = &self.params {
            cbor::encode_into(p, &mut message);
        }
        message
    }
}
