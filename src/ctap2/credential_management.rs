//! `authenticatorCredentialManagement` (0x0A): request and response (CTAP 2.1 §6.8).

use ciborium::value::Value;

use super::{
    as_bytes, as_int, as_map, int_key, required, CredentialDescriptor, StatusCode, UserEntity,
};
use crate::cbor;

/// Subcommand `getCredsMetadata`.
pub const GET_CREDS_METADATA: i64 = 0x01;
/// Subcommand `enumerateRPsBegin`.
pub const ENUMERATE_RPS_BEGIN: i64 = 0x02;
/// Subcommand `enumerateRPsGetNextRP`.
pub const ENUMERATE_RPS_GET_NEXT_RP: i64 = 0x03;
/// Subcommand `enumerateCredentialsBegin`.
pub const ENUMERATE_CREDENTIALS_BEGIN: i64 = 0x04;
/// Subcommand `enumerateCredentialsGetNextCredential`.
pub const ENUMERATE_CREDENTIALS_GET_NEXT: i64 = 0x05;
/// Subcommand `deleteCredential`.
pub const DELETE_CREDENTIAL: i64 = 0x06;
/// Subcommand `updateUserInformation`.
pub const UPDATE_USER_INFORMATION: i64 = 0x07;

/// The decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// 0x01 `subCommand`.
    pub sub_command: i64,
    /// 0x02 `subCommandParams`, as received (its canonical encoding is what pinUvAuthParam
    /// authenticates).
    pub params: Option<Value>,
    /// `subCommandParams` 0x01 `rpIDHash`.
    pub rp_id_hash: Option<Vec<u8>>,
    /// `subCommandParams` 0x02 `credentialID`.
    pub credential_id: Option<CredentialDescriptor>,
    /// `subCommandParams` 0x03 `user`.
    pub user: Option<UserEntity>,
    /// 0x03 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
    /// 0x04 `pinUvAuthParam`.
    pub pin_uv_auth_param: Option<Vec<u8>>,
}

impl Request {
    /// Decodes the parameter map.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let params = int_key(m, 0x02).cloned();
        let (mut rp_id_hash, mut credential_id, mut user) = (None, None, None);
        if let Some(p) = &params {
            let p = as_map(p)?;
            rp_id_hash = int_key(p, 0x01)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec);
            credential_id = int_key(p, 0x02)
                .map(CredentialDescriptor::from_cbor)
                .transpose()?;
            user = int_key(p, 0x03).map(UserEntity::from_cbor).transpose()?;
        }
        Ok(Self {
            sub_command: as_int(required(m, 0x01)?)?,
            params,
            rp_id_hash,
            credential_id,
            user,
            pin_uv_auth_protocol: int_key(m, 0x03).map(as_int).transpose()?,
            pin_uv_auth_param: int_key(m, 0x04)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec),
        })
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
}

/// An RP as credential management reports it: `{id, name?}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpEntity {
    /// The RP ID.
    pub id: String,
    /// The RP's name, as given at registration.
    pub name: Option<String>,
}

/// A response; each subcommand fills its own fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Response {
    /// 0x01 `existingResidentCredentialsCount`.
    pub existing_resident_credentials_count: Option<u64>,
    /// 0x02 `maxPossibleRemainingResidentCredentialsCount`.
    pub max_possible_remaining_resident_credentials_count: Option<u64>,
    /// 0x03 `rp`.
    pub rp: Option<RpEntity>,
    /// 0x04 `rpIDHash`.
    pub rp_id_hash: Option<Vec<u8>>,
    /// 0x05 `totalRPs` (first response of an enumeration only).
    pub total_rps: Option<u64>,
    /// 0x06 `user`.
    pub user: Option<UserEntity>,
    /// 0x07 `credentialID`.
    pub credential_id: Option<CredentialDescriptor>,
    /// 0x08 `publicKey` (COSE).
    pub public_key: Option<Value>,
    /// 0x09 `totalCredentials` (first response of an enumeration only).
    pub total_credentials: Option<u64>,
    /// 0x0A `credProtect`.
    pub cred_protect: Option<u8>,
}

impl Response {
    /// Encodes the response map; `None` when there is nothing to send (delete, update).
    pub fn to_cbor(&self) -> Option<Value> {
        let uint = |n: u64| Value::Integer(n.into());
        let mut e: Vec<(i64, Value)> = Vec::new();
        if let Some(n) = self.existing_resident_credentials_count {
            e.push((0x01, uint(n)));
        }
        if let Some(n) = self.max_possible_remaining_resident_credentials_count {
            e.push((0x02, uint(n)));
        }
        if let Some(rp) = &self.rp {
            let mut m = vec![("id", Value::Text(rp.id.clone()))];
            if let Some(n) = &rp.name {
                m.push(("name", Value::Text(n.clone())));
            }
            e.push((0x03, cbor::map(m)));
        }
        if let Some(h) = &self.rp_id_hash {
            e.push((0x04, Value::Bytes(h.clone())));
        }
        if let Some(n) = self.total_rps {
            e.push((0x05, uint(n)));
        }
        if let Some(u) = &self.user {
            e.push((0x06, u.to_cbor()));
        }
        if let Some(c) = &self.credential_id {
            e.push((0x07, c.to_cbor()));
        }
        if let Some(k) = &self.public_key {
            e.push((0x08, k.clone()));
        }
        if let Some(n) = self.total_credentials {
            e.push((0x09, uint(n)));
        }
        if let Some(p) = self.cred_protect {
            e.push((0x0A, uint(u64::from(p))));
        }
        (!e.is_empty()).then(|| cbor::map(e))
    }
}
