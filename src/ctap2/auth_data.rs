//! `authenticatorData` (WebAuthn L3 §6.1): rpIdHash ‖ flags ‖ signCount ‖ attested credential
//! data ‖ extensions, and its flag bits.

use ciborium::value::Value;

use crate::cbor;

/// Flag bits of `authenticatorData` (WebAuthn L3 §6.1, bit 0 is the least significant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// UP: the user was present.
    pub const UP: u8 = 0x01;
    /// UV: the user was verified.
    pub const UV: u8 = 0x04;
    /// BE: the credential is backup eligible (multi-device).
    pub const BE: u8 = 0x08;
    /// BS: the credential is backed up.
    pub const BS: u8 = 0x10;
    /// AT: attested credential data follows.
    pub const AT: u8 = 0x40;
    /// ED: an extensions map follows.
    pub const ED: u8 = 0x80;

    /// Whether every bit of `bits` is set.
    pub fn has(self, bits: u8) -> bool {
        self.0 & bits == bits
    }
}

/// `attestedCredentialData`: aaguid ‖ credentialIdLength (u16 BE) ‖ credentialId ‖ COSE key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedCredentialData {
    /// The authenticator's AAGUID.
    pub aaguid: [u8; 16],
    /// The credential id (at most 1023 bytes).
    pub credential_id: Vec<u8>,
    /// The credential public key as canonical COSE_Key bytes.
    pub public_key_cose: Vec<u8>,
}

/// Parsed or to-be-written `authenticatorData`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthenticatorData {
    /// SHA-256 of the RP ID.
    pub rp_id_hash: [u8; 32],
    /// The flags byte. AT and ED are derived from the optional parts when writing.
    pub flags: Flags,
    /// The signature counter (big-endian on the wire).
    pub sign_count: u32,
    /// Present on registration.
    pub attested: Option<AttestedCredentialData>,
    /// Authenticator extension outputs (a CBOR map), when any.
    pub extensions: Option<Value>,
}

/// Why bytes are not valid authenticatorData.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthDataError {
    /// Shorter than 37 bytes, or shorter than its flags promise.
    #[error("authenticatorData is truncated")]
    Truncated,
    /// Bytes left over after everything the flags announce.
    #[error("authenticatorData has {0} trailing bytes")]
    TrailingBytes(usize),
    /// The COSE key or extensions are not valid CBOR.
    #[error("authenticatorData holds invalid CBOR: {0}")]
    Cbor(#[from] cbor::CborError),
}

impl AuthenticatorData {
    /// Serializes to bytes, setting AT and ED to match what follows.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(37 + 16 + 2 + 64 + 80);
        out.extend_from_slice(&self.rp_id_hash);
        let mut flags = self.flags.0 & !(Flags::AT | Flags::ED);
        if self.attested.is_some() {
            flags |= Flags::AT;
        }
        if self.extensions.is_some() {
            flags |= Flags::ED;
        }
        out.push(flags);
        out.extend_from_slice(&self.sign_count.to_be_bytes());
        if let Some(a) = &self.attested {
            out.extend_from_slice(&a.aaguid);
            out.extend_from_slice(&(a.credential_id.len() as u16).to_be_bytes());
            out.extend_from_slice(&a.credential_id);
            out.extend_from_slice(&a.public_key_cose);
        }
        if let Some(e) = &self.extensions {
            cbor::encode_into(e, &mut out);
        }
        out
    }

    /// Parses bytes, strictly: the flags decide what must follow, and nothing may trail.
    pub fn parse(bytes: &[u8]) -> Result<Self, AuthDataError> {
        if bytes.len() < 37 {
            return Err(AuthDataError::Truncated);
        }
        let mut rp_id_hash = [0u8; 32];
        rp_id_hash.copy_from_slice(&bytes[..32]);
        let flags = Flags(bytes[32]);
        let sign_count = u32::from_be_bytes([bytes[33], bytes[34], bytes[35], bytes[36]]);
        let mut rest = &bytes[37..];
        let attested = if flags.has(Flags::AT) {
            if rest.len() < 18 {
                return Err(AuthDataError::Truncated);
            }
            let mut aaguid = [0u8; 16];
            aaguid.copy_from_slice(&rest[..16]);
            let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            let id = rest.get(18..18 + len).ok_or(AuthDataError::Truncated)?;
            let after_id = &rest[18 + len..];
            let (_, key_len) = cbor::decode_prefix(after_id)?;
            let attested = AttestedCredentialData {
                aaguid,
                credential_id: id.to_vec(),
                public_key_cose: after_id[..key_len].to_vec(),
            };
            rest = &after_id[key_len..];
            Some(attested)
        } else {
            None
        };
        let extensions = if flags.has(Flags::ED) {
            let (value, used) = cbor::decode_prefix(rest)?;
            rest = &rest[used..];
            Some(value)
        } else {
            None
        };
        if !rest.is_empty() {
            return Err(AuthDataError::TrailingBytes(rest.len()));
        }
        Ok(Self {
            rp_id_hash,
            flags,
            sign_count,
            attested,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_attested_data_and_extensions() {
        let data = AuthenticatorData {
            rp_id_hash: [7; 32],
            flags: Flags(Flags::UP | Flags::UV),
            sign_count: 0x0102_0304,
            attested: Some(AttestedCredentialData {
                aaguid: [9; 16],
                credential_id: vec![1, 2, 3],
                public_key_cose: cbor::encode(&cbor::map([(1, Value::Integer(2.into()))])),
            }),
            extensions: Some(cbor::map([("credProtect", Value::Integer(2.into()))])),
        };
        let bytes = data.to_bytes();
        assert_eq!(bytes[32], 0xC5, "UP|UV|AT|ED");
        assert_eq!(&bytes[33..37], &[1, 2, 3, 4], "big-endian counter");
        let parsed = AuthenticatorData::parse(&bytes).expect("parses");
        assert_eq!(parsed.to_bytes(), bytes);
        assert_eq!(parsed.attested, data.attested);
    }

    #[test]
    fn assertion_form_is_exactly_37_bytes_and_strict() {
        let data = AuthenticatorData {
            rp_id_hash: [0; 32],
            flags: Flags(Flags::UP),
            sign_count: 1,
            attested: None,
            extensions: None,
        };
        let bytes = data.to_bytes();
        assert_eq!(bytes.len(), 37);
        assert_eq!(
            AuthenticatorData::parse(&bytes[..36]),
            Err(AuthDataError::Truncated)
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            AuthenticatorData::parse(&longer),
            Err(AuthDataError::TrailingBytes(1))
        );
    }
}
