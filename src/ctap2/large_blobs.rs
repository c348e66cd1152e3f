//! `authenticatorLargeBlobs` (0x0C): request and response (CTAP 2.1 §6.10), and the serialized
//! large-blob array's checksum (§6.10.3).

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use super::{as_bytes, as_int, as_map, int_key, required, StatusCode};
use crate::cbor;

/// The decoded request. `get` and `set` are mutually exclusive; the authenticator checks that.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request {
    /// 0x01 `get`: how many bytes to read.
    pub get: Option<u64>,
    /// 0x02 `set`: a fragment to write.
    pub set: Option<Vec<u8>>,
    /// 0x03 `offset`: where to read or write (required; its absence is checked by the
    /// authenticator, which answers `CTAP1_ERR_INVALID_PARAMETER`).
    pub offset: Option<u64>,
    /// 0x04 `length`: the total length of a write, with the first fragment only.
    pub length: Option<u64>,
    /// 0x05 `pinUvAuthParam`.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x06 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
}

/// An unsigned integer member: a negative one has the wrong CBOR type.
fn uint(v: &Value) -> Result<u64, StatusCode> {
    u64::try_from(as_int(v)?).map_err(|_| StatusCode::CborUnexpectedType)
}

impl Request {
    /// Decodes the parameter map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        Ok(Self {
            get: int_key(m, 0x01).map(uint).transpose()?,
            set: int_key(m, 0x02)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec),
            offset: int_key(m, 0x03).map(uint).transpose()?,
            length: int_key(m, 0x04).map(uint).transpose()?,
            pin_uv_auth_param: int_key(m, 0x05)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec),
            pin_uv_auth_protocol: int_key(m, 0x06).map(as_int).transpose()?,
        })
    }

    /// Encodes the parameter map.
    pub fn to_cbor(&self) -> Value {
        let mut e: Vec<(i64, Value)> = Vec::new();
        if let Some(n) = self.get {
            e.push((0x01, Value::Integer(n.into())));
        }
        if let Some(b) = &self.set {
            e.push((0x02, Value::Bytes(b.clone())));
        }
        if let Some(n) = self.offset {
            e.push((0x03, Value::Integer(n.into())));
        }
        if let Some(n) = self.length {
            e.push((0x04, Value::Integer(n.into())));
        }
        if let Some(p) = &self.pin_uv_auth_param {
            e.push((0x05, Value::Bytes(p.clone())));
        }
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x06, Value::Integer(p.into())));
        }
        cbor::map(e)
    }
}

/// What `pinUvAuthParam` authenticates for a `set` at `offset`: `32 × 0xff ‖ h'0c00' ‖
/// uint32LittleEndian(offset) ‖ SHA-256(fragment)` (CTAP 2.1 §6.10.2).
pub fn auth_message(offset: u32, fragment: &[u8]) -> Vec<u8> {
    let mut message = vec![0xff; 32];
    message.extend_from_slice(&[0x0c, 0x00]);
    message.extend_from_slice(&offset.to_le_bytes());
    message.extend_from_slice(&Sha256::digest(fragment));
    message
}

/// The response of a `get`: `{1: config}`. A `set` has no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// 0x01 `config`: the bytes read.
    pub config: Vec<u8>,
}

impl Response {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        cbor::map([(0x01, Value::Bytes(self.config.clone()))])
    }

    /// Decodes a response map.
    pub fn from_cbor(v: &Value) -> Result<Self, StatusCode> {
        Ok(Self {
            config: as_bytes(required(as_map(v)?, 0x01)?)?.to_vec(),
        })
    }
}

/// `LEFT(SHA-256(data), 16)`, the checksum that ends a serialized large-blob array.
pub fn checksum(data: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(data);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

/// `array ‖ checksum(array)`: a CBOR array serialized as the authenticator keeps it.
pub fn serialize(array_cbor: &[u8]) -> Vec<u8> {
    [array_cbor, &checksum(array_cbor)].concat()
}

/// The initial serialized large-blob array: the empty CBOR array `0x80` and its checksum
/// (CTAP 2.1 §6.10.3: `h'8076be8b528d0075f7aae98d6fa57a6d3c'`).
pub fn initial_array() -> Vec<u8> {
    serialize(&[0x80])
}

/// Whether `serialized` ends with the right checksum of what precedes it (at least 17 bytes).
pub fn checksum_valid(serialized: &[u8]) -> bool {
    serialized.len() >= 17 && {
        let (data, sum) = serialized.split_at(serialized.len() - 16);
        checksum(data) == sum
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn initial_array_is_the_spec_value() {
        let expected = [
            0x80, 0x76, 0xbe, 0x8b, 0x52, 0x8d, 0x00, 0x75, 0xf7, 0xaa, 0xe9, 0x8d, 0x6f, 0xa5,
            0x7a, 0x6d, 0x3c,
        ];
        assert_eq!(initial_array(), expected);
        assert!(checksum_valid(&expected));
        let mut bad = expected;
        bad[16] ^= 1;
        assert!(!checksum_valid(&bad));
        assert!(!checksum_valid(&expected[..16]));
    }

    #[test]
    fn request_round_trips() {
        let r = Request {
            set: Some(vec![1, 2, 3]),
            offset: Some(0),
            length: Some(20),
            pin_uv_auth_param: Some(vec![9; 32]),
            pin_uv_auth_protocol: Some(2),
            ..Request::default()
        };
        let Value::Map(m) = r.to_cbor() else {
            panic!("not a map")
        };
        assert_eq!(Request::from_cbor(&m), Ok(r));
    }

    #[test]
    fn negative_offset_is_a_type_error() {
        let m = vec![(Value::Integer(3.into()), Value::Integer((-1).into()))];
        assert_eq!(Request::from_cbor(&m), Err(StatusCode::CborUnexpectedType));
    }

    #[test]
    fn auth_message_layout() {
        let m = auth_message(0x0102_0304, b"abc");
        assert_eq!(&m[..32], &[0xff; 32]);
        assert_eq!(&m[32..38], &[0x0c, 0x00, 0x04, 0x03, 0x02, 0x01]);
        assert_eq!(&m[38..], Sha256::digest(b"abc").as_slice());
    }
}
