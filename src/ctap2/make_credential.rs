//! `authenticatorMakeCredential` (0x01): request and response (CTAP 2.1 §6.1).

use ciborium::value::Value;

use super::{
    as_array, as_bytes, as_int, as_map, as_text, get_assertion::HmacSecretInput, int_key,
    optional_text, required, required_text, text_key, CredentialDescriptor, Options, StatusCode,
    UserEntity,
};
use crate::cbor;

/// `PublicKeyCredentialRpEntity` as CTAP carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpEntity {
    /// The RP ID.
    pub id: String,
    /// The RP's human name.
    pub name: Option<String>,
}

/// One entry of `pubKeyCredParams`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialParameters {
    /// The credential type; entries other than `"public-key"` are skipped.
    pub type_: String,
    /// The COSE algorithm identifier.
    pub alg: i64,
}

/// Authenticator extension inputs of makeCredential that fauxkey understands. Others are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extensions {
    /// `hmac-secret: true`: create the CredRandom values.
    pub hmac_secret: Option<bool>,
    /// `credProtect`: 1, 2 or 3.
    pub cred_protect: Option<u8>,
    /// `largeBlobKey: true`: keep a largeBlobKey for this (discoverable) credential (CTAP 2.1
    /// §12.3).
    pub large_blob_key: Option<bool>,
    /// `credBlob`: bytes to keep with the credential (CTAP 2.1 §12.2).
    pub cred_blob: Option<Vec<u8>>,
    /// `minPinLength: true`: report the minimum PIN length to an allowed RP (CTAP 2.1 §12.4).
    pub min_pin_length: Option<bool>,
    /// `hmac-secret-mc`: salts to evaluate at creation, shaped like getAssertion's
    /// `hmac-secret` input (CTAP 2.2 §12.7).
    pub hmac_secret_mc: Option<HmacSecretInput>,
}

/// The decoded request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// 0x01 `clientDataHash`.
    pub client_data_hash: Vec<u8>,
    /// 0x02 `rp`.
    pub rp: RpEntity,
    /// 0x03 `user`.
    pub user: UserEntity,
    /// 0x04 `pubKeyCredParams`, in the RP's order of preference.
    pub pub_key_cred_params: Vec<CredentialParameters>,
    /// 0x05 `excludeList`.
    pub exclude_list: Vec<CredentialDescriptor>,
    /// 0x06 `extensions`.
    pub extensions: Extensions,
    /// 0x07 `options`.
    pub options: Options,
    /// 0x08 `pinUvAuthParam`.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x09 `pinUvAuthProtocol`.
    pub pin_uv_auth_protocol: Option<i64>,
    /// 0x0A `enterpriseAttestation`.
    pub enterprise_attestation: Option<i64>,
    /// 0x0B `attestationFormatsPreference` (CTAP 2.2).
    pub attestation_formats_preference: Option<Vec<String>>,
}

impl Request {
    /// Decodes the parameter map, with CTAP's status codes for bad input.
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        let client_data_hash = as_bytes(required(m, 0x01)?)?.to_vec();
        let rp_map = as_map(required(m, 0x02)?)?;
        let rp = RpEntity {
            id: as_text(required_text(rp_map, "id")?)?.to_owned(),
            name: optional_text(rp_map, "name")?,
        };
        let user = UserEntity::from_cbor(required(m, 0x03)?)?;
        let pub_key_cred_params = as_array(required(m, 0x04)?)?
            .iter()
            .map(|p| {
                let pm = as_map(p)?;
                Ok(CredentialParameters {
                    type_: as_text(required_text(pm, "type")?)?.to_owned(),
                    alg: as_int(required_text(pm, "alg")?)?,
                })
            })
            .collect::<Result<Vec<_>, StatusCode>>()?;
        let exclude_list = match int_key(m, 0x05) {
            Some(v) => as_array(v)?
                .iter()
                .map(CredentialDescriptor::from_cbor)
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let extensions = match int_key(m, 0x06) {
            Some(v) => {
                let em = as_map(v)?;
                Extensions {
                    hmac_secret: text_key(em, "hmac-secret")
                        .map(super::as_bool)
                        .transpose()?,
                    cred_protect: text_key(em, "credProtect")
                        .map(|v| {
                            as_int(v).and_then(|i| {
                                u8::try_from(i).map_err(|_| StatusCode::InvalidParameter)
                            })
                        })
                        .transpose()?,
                    large_blob_key: text_key(em, "largeBlobKey")
                        .map(super::as_bool)
                        .transpose()?,
                    cred_blob: text_key(em, "credBlob")
                        .map(as_bytes)
                        .transpose()?
                        .map(<[u8]>::to_vec),
                    min_pin_length: text_key(em, "minPinLength")
                        .map(super::as_bool)
                        .transpose()?,
                    hmac_secret_mc: text_key(em, "hmac-secret-mc")
                        .map(HmacSecretInput::from_cbor)
                        .transpose()?,
                }
            }
            None => Extensions::default(),
        };
        let options = int_key(m, 0x07)
            .map(Options::from_cbor)
            .transpose()?
            .unwrap_or_default();
        let pin_uv_auth_param = int_key(m, 0x08)
            .map(|v| as_bytes(v).map(<[u8]>::to_vec))
            .transpose()?;
        let pin_uv_auth_protocol = int_key(m, 0x09).map(as_int).transpose()?;
        let enterprise_attestation = int_key(m, 0x0A).map(as_int).transpose()?;
        let attestation_formats_preference = int_key(m, 0x0B)
            .map(|v| {
                as_array(v)?
                    .iter()
                    .map(|f| as_text(f).map(str::to_owned))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(Self {
            client_data_hash,
            rp,
            user,
            pub_key_cred_params,
            exclude_list,
            extensions,
            options,
            pin_uv_auth_param,
            pin_uv_auth_protocol,
            enterprise_attestation,
            attestation_formats_preference,
        })
    }

    /// Encodes the parameter map (what a CTAP client sends after the command byte).
    pub fn to_cbor(&self) -> Value {
        let mut rp = vec![("id", Value::Text(self.rp.id.clone()))];
        if let Some(n) = &self.rp.name {
            rp.push(("name", Value::Text(n.clone())));
        }
        let mut e: Vec<(i64, Value)> = vec![
            (0x01, Value::Bytes(self.client_data_hash.clone())),
            (0x02, cbor::map(rp)),
            (0x03, self.user.to_cbor()),
            (
                0x04,
                Value::Array(
                    self.pub_key_cred_params
                        .iter()
                        .map(|p| {
                            cbor::map([
                                ("alg", Value::Integer(p.alg.into())),
                                ("type", Value::Text(p.type_.clone())),
                            ])
                        })
                        .collect(),
                ),
            ),
        ];
        if !self.exclude_list.is_empty() {
            e.push((
                0x05,
                Value::Array(self.exclude_list.iter().map(|d| d.to_cbor()).collect()),
            ));
        }
        let mut ext = Vec::new();
        if let Some(h) = self.extensions.hmac_secret {
            ext.push(("hmac-secret", Value::Bool(h)));
        }
        if let Some(c) = self.extensions.cred_protect {
            ext.push(("credProtect", Value::Integer(c.into())));
        }
        if let Some(b) = self.extensions.large_blob_key {
            ext.push(("largeBlobKey", Value::Bool(b)));
        }
        if let Some(b) = &self.extensions.cred_blob {
            ext.push(("credBlob", Value::Bytes(b.clone())));
        }
        if let Some(b) = self.extensions.min_pin_length {
            ext.push(("minPinLength", Value::Bool(b)));
        }
        if let Some(h) = &self.extensions.hmac_secret_mc {
            ext.push(("hmac-secret-mc", h.to_cbor()));
        }
        if !ext.is_empty() {
            e.push((0x06, cbor::map(ext)));
        }
        if let Some(o) = self.options.to_cbor() {
            e.push((0x07, o));
        }
        if let Some(p) = &self.pin_uv_auth_param {
            e.push((0x08, Value::Bytes(p.clone())));
        }
        if let Some(p) = self.pin_uv_auth_protocol {
            e.push((0x09, Value::Integer(p.into())));
        }
        if let Some(p) = self.enterprise_attestation {
            e.push((0x0A, Value::Integer(p.into())));
        }
        if let Some(f) = &self.attestation_formats_preference {
            e.push((
                0x0B,
                Value::Array(f.iter().cloned().map(Value::Text).collect()),
            ));
        }
        cbor::map(e)
    }
}

/// The response: `{1: fmt, 2: authData, 3: attStmt, 5: largeBlobKey}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// 0x01 attestation statement format identifier.
    pub fmt: String,
    /// 0x02 authenticatorData bytes.
    pub auth_data: Vec<u8>,
    /// 0x03 attestation statement (a CBOR map).
    pub att_stmt: Value,
    /// 0x05 `largeBlobKey` (secret), when the request asked for one.
    pub large_blob_key: Option<Vec<u8>>,
}

impl Response {
    /// Encodes the response map.
    pub fn to_cbor(&self) -> Value {
        let mut e = vec![
            (0x01, Value::Text(self.fmt.clone())),
            (0x02, Value::Bytes(self.auth_data.clone())),
            (0x03, self.att_stmt.clone()),
        ];
        if let Some(k) = &self.large_blob_key {
            e.push((0x05, Value::Bytes(k.clone())));
        }
        cbor::map(e)
    }

    /// Decodes a response map (what a CTAP client does with the reply).
    pub fn from_cbor(m: &[(Value, Value)]) -> Result<Self, StatusCode> {
        Ok(Self {
            fmt: as_text(required(m, 0x01)?)?.to_owned(),
            auth_data: as_bytes(required(m, 0x02)?)?.to_vec(),
            att_stmt: {
                let v = required(m, 0x03)?;
                as_map(v)?;
                v.clone()
            },
            large_blob_key: int_key(m, 0x05)
                .map(as_bytes)
                .transpose()?
                .map(<[u8]>::to_vec),
        })
    }

    /// The WebAuthn `attestationObject`: the same data with text keys
    /// `{"fmt", "attStmt", "authData"}` (WebAuthn L3 §6.5.4), canonically ordered.
    pub fn attestation_object(&self) -> Vec<u8> {
        cbor::encode(&cbor::map([
            ("fmt", Value::Text(self.fmt.clone())),
            ("attStmt", self.att_stmt.clone()),
            ("authData", Value::Bytes(self.auth_data.clone())),
        ]))
    }
}
