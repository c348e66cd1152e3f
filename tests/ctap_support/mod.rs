//! CBOR builders shared by the CTAP tests that speak to `Authenticator::process` in bytes.

#![allow(dead_code)]

use ciborium::value::Value;
use fauxkey::cbor;

pub fn int(i: i64) -> Value {
    Value::Integer(i.into())
}

pub fn bstr(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

pub fn txt(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// A CBOR map with integer keys, in canonical order.
pub fn imap(e: Vec<(i64, Value)>) -> Value {
    cbor::map(e)
}

/// A CTAP2 message: the command byte, then the CBOR parameters.
pub fn msg(command: u8, v: &Value) -> Vec<u8> {
    let mut m = vec![command];
    m.extend(cbor::encode(v));
    m
}
