//! The `apple` attestation statement (WebAuthn L3 §8.8, Apple Anonymous Attestation): `{x5c}`,
//! no `alg` and no `sig`. The proof is the leaf certificate itself, issued afresh for every
//! credential: its public key IS the credential public key, and its extension
//! 1.2.840.113635.100.8.2 holds `nonce = SHA-256(authData ‖ clientDataHash)`. The issuer is a
//! per-vault "Apple WebAuthn CA 1"-style intermediate under the vault's test root
//! ([`super::AttestationCa::issue_apple_ca`]); the RP's trust anchor is the root.

use ciborium::value::Value;
use sha2::{Digest as _, Sha256};
use x509_cert::builder::CertificateBuilder;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{self, Decode as _, Encode as _};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

use super::{AttestationCert, AttestationError};
use crate::cbor;
use crate::crypto::keys::PublicKey;
use crate::env::Rng;

/// OID of Apple's anonymous attestation nonce extension (WebAuthn L3 §8.8.1).
pub const NONCE_EXTENSION_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113635.100.8.2");

/// The leaf's organizational unit; every other attribute of its subject is its issuer's.
pub const LEAF_ORGANIZATIONAL_UNIT: &str = "Authenticator Attestation";

/// `nonce = SHA-256(authData ‖ clientDataHash)` (§8.8 verification procedure, steps 2–3).
pub fn nonce(auth_data: &[u8], client_data_hash: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(auth_data)
        .chain_update(client_data_hash)
        .finalize()
        .into()
}

/// The extension's value: `SEQUENCE { \[1\] EXPLICIT OCTET STRING nonce }`, that is
/// `30 24 a1 22 04 20 <nonce>`, as the spec's vector script (`gen_apple_att_cert`) encodes it.
pub fn nonce_extension_value(nonce: &[u8]) -> Vec<u8> {
    let octets = der_tlv(0x04, nonce);
    let tagged = der_tlv(0xa1, &octets);
    der_tlv(0x30, &tagged)
}

/// One DER TLV with a definite length (short or long form).
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The nonce inside a leaf certificate's extension, if it has one of the right shape.
pub fn nonce_in(leaf_der: &[u8]) -> Option<Vec<u8>> {
    let cert = Certificate::from_der(leaf_der).ok()?;
    let ext = cert
        .tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == NONCE_EXTENSION_OID)?;
    let v = ext.extn_value.as_bytes();
    // 30 24 a1 22 04 20 <32 bytes>
    (v.len() == 38 && v[..6] == [0x30, 0x24, 0xa1, 0x22, 0x04, 0x20]).then(|| v[6..].to_vec())
}

/// The leaf's subject for an issuer named `issuer`: the issuer's attributes in their order and
/// encodings, with its organizational unit replaced by [`LEAF_ORGANIZATIONAL_UNIT`].
pub fn leaf_subject(issuer: &Name) -> Result<Name, AttestationError> {
    let bad = |e: der::Error| AttestationError::Build(e.to_string());
    let ou = der::oid::db::rfc4519::OU;
    let value =
        der::Any::new(der::Tag::Utf8String, LEAF_ORGANIZATIONAL_UNIT.as_bytes()).map_err(bad)?;
    let mut seq = RdnSequence::default();
    for rdn in issuer.iter_rdn() {
        let mut out = RelativeDistinguishedName::default();
        for atv in rdn.iter() {
            let mut atv = atv.clone();
            if atv.oid == ou {
                atv.value = value.clone();
            }
            out.insert(atv).map_err(bad)?;
        }
        seq.push(out);
    }
    Name::from_der(&seq.to_der().map_err(bad)?).map_err(bad)
}

/// Issues the leaf for a credential: `subject`, `serial` and `validity` as given, the
/// credential's public key, the nonce extension over `nonce`, signed by `issuer`'s key
/// (ES256), its issuer name the subject of `issuer`'s first certificate. DER.
pub fn issue_leaf(
    issuer: &AttestationCert,
    subject: Name,
    serial: SerialNumber,
    validity: Validity,
    credential_key: &PublicKey,
    nonce: &[u8],
) -> Result<Vec<u8>, AttestationError> {
    let issuer_name = issuer.certificate()?.tbs_certificate().subject().clone();
    let spki = SubjectPublicKeyInfoOwned::from_der(&credential_key.spki_der())
        .map_err(|e| AttestationError::Build(e.to_string()))?;
    let builder = CertificateBuilder::new(
        super::CredentialLeaf {
            issuer: issuer_name,
            subject,
            extension: (NONCE_EXTENSION_OID, nonce_extension_value(nonce)),
        },
        serial,
        validity,
        spki,
    )
    .map_err(|e| AttestationError::Build(e.to_string()))?;
    super::build(builder, &super::signing_key(issuer.key())?)
}

/// Whether `der` is a self-signed certificate (issuer = subject): a root, which the RP holds
/// as its trust anchor and which is never sent in `x5c`.
fn self_signed(der: &[u8]) -> bool {
    Certificate::from_der(der)
        .map(|c| c.tbs_certificate().issuer() == c.tbs_certificate().subject())
        .unwrap_or(false)
}

/// The `apple` attStmt `{x5c: [leaf, issuer…]}` for credential `key`: the leaf is issued by
/// `issuer` (an intermediate from [`super::AttestationCa::issue_apple_ca`]) with subject
/// [`leaf_subject`] of the issuer's, the issuer's validity, a serial number from `rng` and the
/// nonce over `auth_data ‖ client_data_hash`. The issuer's chain follows the leaf, roots left
/// out.
pub fn statement(
    issuer: &AttestationCert,
    key: &PublicKey,
    auth_data: &[u8],
    client_data_hash: &[u8],
    rng: &mut Rng,
) -> Result<Value, AttestationError> {
    let issuer_cert = issuer.certificate()?;
    let tbs = issuer_cert.tbs_certificate();
    let leaf = issue_leaf(
        issuer,
        leaf_subject(tbs.subject())?,
        super::serial(rng)?,
        *tbs.validity(),
        key,
        &nonce(auth_data, client_data_hash),
    )?;
    let mut x5c = vec![Value::Bytes(leaf)];
    x5c.extend(
        issuer
            .chain()
            .iter()
            .filter(|c| !self_signed(c))
            .cloned()
            .map(Value::Bytes),
    );
    Ok(cbor::map([("x5c", Value::Array(x5c))]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::AttestationCa;
    use crate::crypto::keys::{Algorithm, PrivateKey};
    use crate::env::seeded_rng;

    #[test]
    fn the_nonce_extension_is_a_sequence_of_an_explicit_one_octet_string() {
        let n = [0xabu8; 32];
        let v = nonce_extension_value(&n);
        assert_eq!(&v[..6], &[0x30, 0x24, 0xa1, 0x22, 0x04, 0x20]);
        assert_eq!(&v[6..], &n);
        assert_eq!(nonce(b"a", b"b"), <[u8; 32]>::from(Sha256::digest(b"ab")));
    }

    #[test]
    fn the_leaf_holds_the_credential_key_and_the_nonce_under_the_apple_ca() {
        let ca = AttestationCa::generate(&mut seeded_rng(1)).expect("root");
        let issuer = ca.issue_apple_ca(&mut seeded_rng(2)).expect("apple ca");
        assert_eq!(
            issuer,
            ca.issue_apple_ca(&mut seeded_rng(2)).expect("again")
        );
        let key = PrivateKey::generate(Algorithm::Es256, seeded_rng(3).as_mut()).public_key();
        let stmt =
            statement(&issuer, &key, b"authData", &[7; 32], &mut seeded_rng(4)).expect("statement");
        let again =
            statement(&issuer, &key, b"authData", &[7; 32], &mut seeded_rng(4)).expect("statement");
        assert_eq!(stmt, again, "deterministic under a seed");
        let Value::Map(entries) = &stmt else {
            panic!("not a map")
        };
        assert_eq!(entries.len(), 1, "x5c only: no alg, no sig");
        let Value::Array(x5c) = &entries[0].1 else {
            panic!("x5c not an array")
        };
        assert_eq!(x5c.len(), 2, "[leaf, intermediate]");
        let Value::Bytes(leaf) = &x5c[0] else {
            panic!("leaf")
        };
        assert_eq!(
            nonce_in(leaf),
            Some(nonce(b"authData", &[7; 32]).to_vec()),
            "nonce = SHA-256(authData ‖ clientDataHash)"
        );
        let cert = Certificate::from_der(leaf).expect("DER");
        let tbs = cert.tbs_certificate();
        assert_eq!(
            tbs.subject_public_key_info().to_der().expect("spki"),
            key.spki_der(),
            "the leaf key is the credential key"
        );
        let inter = Certificate::from_der(&issuer.chain()[0]).expect("DER");
        assert_eq!(tbs.issuer(), inter.tbs_certificate().subject());
        assert!(tbs
            .subject()
            .to_string()
            .contains("OU=Authenticator Attestation,"));
        let root = Certificate::from_der(ca.root_der()).expect("DER");
        assert_eq!(
            inter.tbs_certificate().issuer(),
            root.tbs_certificate().subject()
        );
        assert!(inter
            .tbs_certificate()
            .subject()
            .to_string()
            .contains("Apple WebAuthn CA 1"));
    }
}
