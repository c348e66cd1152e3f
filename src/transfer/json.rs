//! Reading exchange files member by member, so that every failure names the member (with its
//! path in the document) and what is wrong with it.

use serde_json::{Map, Value};

use super::{Format, TransferError};
use crate::b64url;
use crate::crypto::keys::PrivateKey;

/// Parses the text; a syntax error or a truncated file gives line and column.
pub(crate) fn parse(text: &str, format: Format) -> Result<Value, TransferError> {
    serde_json::from_str(text).map_err(|e| TransferError::Syntax {
        format: format.name(),
        line: e.line(),
        column: e.column(),
        reason: e.to_string(),
    })
}

/// A JSON object being read, with its path.
pub(crate) struct Obj<'a> {
    pub(crate) format: Format,
    pub(crate) path: String,
    pub(crate) map: &'a Map<String, Value>,
}

pub(crate) fn bad(
    format: Format,
    path: impl Into<String>,
    reason: impl Into<String>,
) -> TransferError {
    TransferError::Malformed {
        format,
        path: path.into(),
        reason: reason.into(),
    }
}

/// `value` as an object.
pub(crate) fn object<'a>(
    format: Format,
    path: &str,
    value: &'a Value,
) -> Result<Obj<'a>, TransferError> {
    match value {
        Value::Object(map) => Ok(Obj {
            format,
            path: path.to_owned(),
            map,
        }),
        _ => Err(bad(format, display(path), "expected an object")),
    }
}

/// `value` as an array (or a single object read as a one-element list).
pub(crate) fn list<'a>(
    format: Format,
    path: &str,
    value: &'a Value,
) -> Result<Vec<(String, &'a Value)>, TransferError> {
    match value {
        Value::Array(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{path}[{i}]"), v))
            .collect()),
        _ => Err(bad(format, display(path), "expected an array")),
    }
}

fn display(path: &str) -> String {
    if path.is_empty() {
        "(top level)".into()
    } else {
        path.to_owned()
    }
}

impl<'a> Obj<'a> {
    fn member_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(crate) fn err(&self, key: &str, reason: impl Into<String>) -> TransferError {
        bad(self.format, self.member_path(key), reason)
    }

    /// The member, if present and not null.
    pub(crate) fn opt(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn req(&self, key: &str) -> Result<&'a Value, TransferError> {
        self.opt(key).ok_or_else(|| self.err(key, "missing"))
    }

    pub(crate) fn str(&self, key: &str) -> Result<&'a str, TransferError> {
        self.req(key)?
            .as_str()
            .ok_or_else(|| self.err(key, "expected a string"))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, TransferError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(Some)
                .ok_or_else(|| self.err(key, "expected a string")),
        }
    }

    pub(crate) fn obj(&self, key: &str) -> Result<Obj<'a>, TransferError> {
        object(self.format, &self.member_path(key), self.req(key)?)
    }

    pub(crate) fn list(&self, key: &str) -> Result<Vec<(String, &'a Value)>, TransferError> {
        list(self.format, &self.member_path(key), self.req(key)?)
    }

    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, TransferError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.err(key, "expected true or false")),
        }
    }

    /// Unpadded base64url (CDP's standard base64 is accepted where `lenient`).
    pub(crate) fn bytes(&self, key: &str, lenient: bool) -> Result<Vec<u8>, TransferError> {
        decode_b64(self.str(key)?, lenient).ok_or_else(|| self.err(key, "not base64url"))
    }

    pub(crate) fn opt_bytes(
        &self,
        key: &str,
        lenient: bool,
    ) -> Result<Option<Vec<u8>>, TransferError> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => decode_b64(s, lenient)
                .map(Some)
                .ok_or_else(|| self.err(key, "not base64url")),
        }
    }

    /// A base64url PKCS#8 DER private key (P-256 or Ed25519).
    pub(crate) fn pkcs8(&self, key: &str, lenient: bool) -> Result<PrivateKey, TransferError> {
        let der = zeroize::Zeroizing::new(self.bytes(key, lenient)?);
        PrivateKey::from_pkcs8_der(&der).map_err(|_| {
            self.err(
                key,
                "not a PKCS#8 private key of a supported algorithm (ES256 P-256 or EdDSA Ed25519)",
            )
        })
    }

    /// A non-empty string member.
    pub(crate) fn non_empty(&self, key: &str) -> Result<&'a str, TransferError> {
        let s = self.str(key)?;
        if s.is_empty() {
            return Err(self.err(key, "empty"));
        }
        Ok(s)
    }

    /// A non-empty base64url member (a credential id).
    pub(crate) fn id(&self, key: &str, lenient: bool) -> Result<Vec<u8>, TransferError> {
        let id = self.bytes(key, lenient)?;
        if id.is_empty() {
            return Err(self.err(key, "empty"));
        }
        Ok(id)
    }
}

/// base64url without padding; `lenient` also takes padding and the standard alphabet.
pub(crate) fn decode_b64(text: &str, lenient: bool) -> Option<Vec<u8>> {
    if let Ok(b) = b64url::decode(text) {
        return Some(b);
    }
    if !lenient {
        return None;
    }
    use base64::Engine as _;
    let trimmed = text.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()
}
