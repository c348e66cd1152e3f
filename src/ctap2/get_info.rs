//! `authenticatorGetInfo` (0x04): the response (CTAP 2.1 §6.4). The request has no parameters.

use ciborium::value::Value;

use super::{as_array, as_bool, as_bytes, as_int, as_map, as_text, int_key, required, StatusCode};
use crate::cbor;

/// The getInfo response. Fields fauxkey does not report are left out of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 0x01 supported versions, e.g. `FIDO_2_0`.
    pub versions: Vec<String>,
    /// 0x02 supported extension identifiers.
    pub extensions: Vec<String>,
    /// 0x03 the AAGUID.
    pub aaguid: [u8; 16],
    /// 0x04 options (`rk`, `up`, `uv`, `plat`, …) and their values.
    pub options: Vec<(String, bool)>,
    /// 0x05 maximum message size.
    pub max_msg_size: Option<u64>,
    /// 0x06 PIN/UV auth protocols, most preferred first.
    pub pin_uv_auth_protocols: Vec<i64>,
    /// 0x07 maximum number of credentials in an allow or exclude list.
    pub max_credential_count_in_list: Option<u64>,
    /// 0x08 maximum credential id length.
    pub max_credential_id_length: Option<u64>,
    /// 0x09 transports.
    pub transports: Vec<String>,
    /// 0x0A algorithms, as COSE identifiers (type `public-key`).
    pub algorithms: Vec<i64>,
    /// 0x0B `maxSerializedLargeBlobArray` (only with the `largeBlobs` option).
    pub max_serialized_large_blob_array: Option<u64>,
    /// 0x0C `forcePINChange`.
    pub force_pin_change: Option<bool>,
    /// 0x0D `minPINLength`.
    pub min_pin_length: Option<u64>,
    /// 0x0E `firmwareVersion`.
    pub firmware_version: Option<u64>,
    /// 0x0F `maxCredBlobLength` (only with the `credBlob` extension).
    pub max_cred_blob_length: Option<u64>,
    /// 0x10 `maxRPIDsForSetMinPINLength`.
    pub max_rp_ids_for_set_min_pin_length: Option<u64>,
    /// 0x14 `remainingDiscoverableCredentials`.
    pub remaining_discoverable_credentials: Option<u64>,
}

impl Response {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        let texts = |v: &[String]| Value::Array(v.iter().cloned().map(Value::Text).collect());
        let mut e: Vec<(i64, Value)> = vec![(0x01, texts(&self.versions))];
        if !self.extensions.is_empty() {
            e.push((0x02, texts(&self.extensions)));
        }
        e.push((0x03, Value::Bytes(self.aaguid.to_vec())));
        if !self.options.is_empty() {
            e.push((
                0x04,
                cbor::map(
                    self.options
                        .iter()
                        .map(|(k, v)| (k.as_str(), Value::Bool(*v))),
                ),
            ));
        }
        if let Some(n) = self.max_msg_size {
            e.push((0x05, Value::Integer(n.into())));
        }
        if !self.pin_uv_auth_protocols.is_empty() {
            e.push((
                0x06,
                Value::Array(
                    self.pin_uv_auth_protocols
                        .iter()
                        .map(|p| Value::Integer((*p).into()))
                        .collect(),
                ),
            ));
        }
        if let Some(n) = self.max_credential_count_in_list {
            e.push((0x07, Value::Integer(n.into())));
        }
        if let Some(n) = self.max_credential_id_length {
            e.push((0x08, Value::Integer(n.into())));
        }
        if !self.transports.is_empty() {
            e.push((0x09, texts(&self.transports)));
        }
        if !self.algorithms.is_empty() {
            e.push((
                0x0A,
                Value::Array(
                    self.algorithms
                        .iter()
                        .map(|a| {
                            cbor::map([
                                ("alg", Value::Integer((*a).into())),
                                ("type", Value::Text("public-key".into())),
                            ])
                        })
                        .collect(),
                ),
            ));
        }
        if let Some(n) = self.max_serialized_large_blob_array {
            e.push((0x0B, Value::Integer(n.into())));
        }
        if let Some(b) = self.force_pin_change {
            e.push((0x0C, Value::Bool(b)));
        }
        if let Some(n) = self.min_pin_length {
            e.push((0x0D, Value::Integer(n.into())));
        }
        if let Some(n) = self.firmware_version {
            e.push((0x0E, Value::Integer(n.into())));
        }
        if let Some(n) = self.max_cred_blob_length {
            e.push((0x0F, Value::Integer(n.into())));
        }
        if let Some(n) = self.max_rp_ids_for_set_min_pin_length {
            e.push((0x10, Value::Integer(n.into())));
        }
        if let Some(n) = self.remaining_discoverable_credentials {
            e.push((0x14, Value::Integer(n.into())));
        }
        cbor::map(e)
    }

    /// Decodes a response map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let texts = |key: i64| -> Result<Vec<String>, StatusCode> {
            match int_key(m, key) {
                Some(v) => as_array(v)?
                    .iter()
                    .map(|t| as_text(t).map(str::to_owned))
                    .collect(),
                None => Ok(Vec::new()),
            }
        };
        let uint = |key: i64| -> Result<Option<u64>, StatusCode> {
            int_key(m, key)
                .map(|v| {
                    as_int(v)
                        .and_then(|n| u64::try_from(n).map_err(|_| StatusCode::InvalidParameter))
                })
                .transpose()
        };
        let aaguid: [u8; 16] = as_bytes(required(m, 0x03)?)?
            .try_into()
            .map_err(|_| StatusCode::InvalidLength)?;
        let options = match int_key(m, 0x04) {
            Some(v) => as_map(v)?
                .iter()
                .map(|(k, v)| Ok((as_text(k)?.to_owned(), as_bool(v)?)))
                .collect::<Result<_, StatusCode>>()?,
            None => Vec::new(),
        };
        let pin_uv_auth_protocols = match int_key(m, 0x06) {
            Some(v) => as_array(v)?.iter().map(as_int).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let algorithms = match int_key(m, 0x0A) {
            Some(v) => as_array(v)?
                .iter()
                .map(|a| as_int(super::required_text(as_map(a)?, "alg")?))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Self {
            versions: texts(0x01)?,
            extensions: texts(0x02)?,
            aaguid,
            options,
            max_msg_size: uint(0x05)?,
            pin_uv_auth_protocols,
            max_credential_count_in_list: uint(0x07)?,
            max_credential_id_length: uint(0x08)?,
            transports: texts(0x09)?,
            algorithms,
            max_serialized_large_blob_array: uint(0x0B)?,
            force_pin_change: int_key(m, 0x0C).map(as_bool).transpose()?,
            min_pin_length: uint(0x0D)?,
            firmware_version: uint(0x0E)?,
            max_cred_blob_length: uint(0x0F)?,
            max_rp_ids_for_set_min_pin_length: uint(0x10)?,
            remaining_discoverable_credentials: uint(0x14)?,
        })
    }

    /// The value of option `name`, if reported.
    pub fn option(&self, name: &str) -> Option<bool> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn firmware_version_and_remaining_discoverable_credentials_round_trip() {
        let response = Response {
            versions: vec!["FIDO_2_0".into()],
            extensions: Vec::new(),
            aaguid: [7; 16],
            options: vec![("rk".into(), true)],
            max_msg_size: Some(1200),
            pin_uv_auth_protocols: vec![2, 1],
            max_credential_count_in_list: Some(8),
            max_credential_id_length: Some(128),
            transports: vec!["usb".into()],
            algorithms: vec![-7],
            max_serialized_large_blob_array: None,
            force_pin_change: None,
            min_pin_length: Some(4),
            firmware_version: Some(0x05_04_03),
            max_cred_blob_length: None,
            max_rp_ids_for_set_min_pin_length: None,
            remaining_discoverable_credentials: Some(25),
        };
        let bytes = cbor::encode(&response.to_cbor());
        // 0x0D 4, then 0x0E 0x1a 00 05 04 03, then 0x14 25 (0x18 0x19): keys in order.
        let tail = [
            0x0D, 0x04, 0x0E, 0x1A, 0x00, 0x05, 0x04, 0x03, 0x14, 0x18, 0x19,
        ];
        assert!(bytes.ends_with(&tail), "{bytes:02x?}");
        let Value::Map(m) = cbor::decode(&bytes).unwrap() else {
            panic!("not a map")
        };
        assert_eq!(Response::from_cbor(&m).unwrap(), response);
    }
}
