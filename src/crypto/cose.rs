//! COSE_Key (RFC 9052 §7, RFC 9053 §7) reading and building with `coset`. The key maps are
//! built and parsed here; their bytes are always made by [`crate::cbor`], whose canonical CTAP2
//! ordering (WebAuthn L3 §6.5.1.1) is what RPs and the spec vectors expect.

use ciborium::value::Value;
use coset::iana::{self, EnumI64 as _};
use coset::{
    AsCborValue as _, CoseKey, CoseKeyBuilder, KeyType, Label, RegisteredLabelWithPrivate,
};

/// COSE_Key parameter label `crv` (EC2 and OKP).
const CRV: i64 = -1;
/// COSE_Key parameter label `x`.
const X: i64 = -2;
/// COSE_Key parameter label `y` (EC2).
const Y: i64 = -3;

/// An EC2 P-256 public key `{1: 2, 3: alg, -1: 1, -2: x, -3: y}`.
pub fn ec2_p256(alg: iana::Algorithm, x: Vec<u8>, y: Vec<u8>) -> Value {
    let key = CoseKeyBuilder::new_ec2_pub_key(iana::EllipticCurve::P_256, x, y)
        .algorithm(alg)
        .build();
    to_value(key)
}

/// An EC2 public key on any curve `{1: 2, 3: alg, -1: crv, -2: x, -3: y}` (ES384 on P-384,
/// ES512 on P-521).
pub fn ec2(crv: iana::EllipticCurve, alg: iana::Algorithm, x: Vec<u8>, y: Vec<u8>) -> Value {
    let key = CoseKeyBuilder::new_ec2_pub_key(crv, x, y)
        .algorithm(alg)
        .build();
    to_value(key)
}

/// An RSA public key for RS256 `{1: 3, 3: -257, -1: n, -2: e}` (RFC 8230 §4; big-endian
/// unsigned integers without leading zero bytes).
pub fn rsa_rs256(n: Vec<u8>, e: Vec<u8>) -> Value {
    let mut key = CoseKeyBuilder::new()
        .key_type(iana::KeyType::RSA)
        .algorithm(iana::Algorithm::RS256)
        .build();
    key.params.push((Label::Int(CRV), Value::Bytes(n)));
    key.params.push((Label::Int(X), Value::Bytes(e)));
    to_value(key)
}

/// An OKP Ed25519 public key `{1: 1, 3: -8, -1: 6, -2: x}`.
pub fn okp_ed25519(x: Vec<u8>) -> Value {
    let mut key = CoseKeyBuilder::new_okp_key()
        .algorithm(iana::Algorithm::EdDSA)
        .build();
    key.params.push((
        Label::Int(CRV),
        Value::Integer(iana::EllipticCurve::Ed25519.to_i64().into()),
    ));
    key.params.push((Label::Int(X), Value::Bytes(x)));
    to_value(key)
}

fn to_value(key: CoseKey) -> Value {
    // Encoding fails only on duplicate labels, which the builders above cannot produce.
    key.to_cbor_value()
        .unwrap_or_else(|_| unreachable!("a COSE_Key without duplicate labels encodes"))
}

/// A parsed COSE_Key: what fauxkey needs to know of it.
#[derive(Debug)]
pub struct ParsedKey(CoseKey);

/// Parses a COSE_Key map (duplicate or ill-typed labels are refused by `coset`).
pub fn parse(v: &Value) -> Option<ParsedKey> {
    CoseKey::from_cbor_value(v.clone()).ok().map(ParsedKey)
}

impl ParsedKey {
    /// The key type (`kty`), if it is an assigned integer.
    pub fn kty(&self) -> Option<i64> {
        match &self.0.kty {
            KeyType::Assigned(k) => Some(k.to_i64()),
            _ => None,
        }
    }

    /// The algorithm (`alg`), if present and an assigned integer.
    pub fn alg(&self) -> Option<i64> {
        match &self.0.alg {
            Some(RegisteredLabelWithPrivate::Assigned(a)) => Some(a.to_i64()),
            _ => None,
        }
    }

    fn param(&self, label: i64) -> Option<&Value> {
        self.0
            .params
            .iter()
            .find(|(l, _)| *l == Label::Int(label))
            .map(|(_, v)| v)
    }

    /// The curve (`crv`, label -1), if an integer.
    pub fn crv(&self) -> Option<i64> {
        self.param(CRV)
            .and_then(|v| v.as_integer())
            .and_then(|i| i64::try_from(i).ok())
    }

    /// The `x` coordinate (label -2), if a byte string.
    pub fn x(&self) -> Option<&[u8]> {
        self.param(X).and_then(|v| v.as_bytes()).map(Vec::as_slice)
    }

    /// The RSA modulus `n` (label -1 of an RSA key), if a byte string.
    pub fn rsa_n(&self) -> Option<&[u8]> {
        self.param(CRV)
            .and_then(|v| v.as_bytes())
            .map(Vec::as_slice)
    }

    /// The RSA public exponent `e` (label -2 of an RSA key), if a byte string.
    pub fn rsa_e(&self) -> Option<&[u8]> {
        self.x()
    }

    /// The `y` coordinate (label -3), if a byte string.
    pub fn y(&self) -> Option<&[u8]> {
        self.param(Y).and_then(|v| v.as_bytes()).map(Vec::as_slice)
    }
}

/// `kty` OKP.
pub const KTY_OKP: i64 = 1;
/// `kty` EC2.
pub const KTY_EC2: i64 = 2;
/// `kty` RSA.
pub const KTY_RSA: i64 = 3;
/// `crv` P-256.
pub const CRV_P256: i64 = 1;
/// `crv` P-384.
pub const CRV_P384: i64 = 2;
/// `crv` P-521.
pub const CRV_P521: i64 = 3;
/// `crv` Ed25519.
pub const CRV_ED25519: i64 = 6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_keys_encode_to_the_canonical_ctap_bytes() {
        let ec = crate::cbor::encode(&ec2_p256(iana::Algorithm::ES256, vec![1; 32], vec![2; 32]));
        let mut want = hex::decode("a50102032620012158200101010101010101010101010101010101010101010101010101010101010101225820").expect("hex");
        want.extend_from_slice(&[2; 32]);
        assert_eq!(ec, want);
        let ed = crate::cbor::encode(&okp_ed25519(vec![3; 32]));
        let mut want = hex::decode("a4010103272006215820").expect("hex");
        want.extend_from_slice(&[3; 32]);
        assert_eq!(ed, want);
    }

    #[test]
    fn duplicate_labels_are_refused() {
        let dup = Value::Map(vec![
            (Value::Integer(1.into()), Value::Integer(2.into())),
            (Value::Integer(1.into()), Value::Integer(2.into())),
        ]);
        assert!(parse(&dup).is_none());
        let good = ec2_p256(iana::Algorithm::ES256, vec![1; 32], vec![2; 32]);
        let parsed = parse(&good).expect("parses");
        assert_eq!(
            (parsed.kty(), parsed.alg(), parsed.crv()),
            (Some(KTY_EC2), Some(-7), Some(CRV_P256))
        );
        assert_eq!(parsed.x(), Some(&[1u8; 32][..]));
        assert_eq!(parsed.y(), Some(&[2u8; 32][..]));
    }
}
