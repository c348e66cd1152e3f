//! The `fido-u2f` attestation format (WebAuthn L3 §8.6): the U2F attestation certificate the
//! test CA issues, and the statement a WebAuthn client builds from a `U2F_REGISTER` response
//! (CTAP 2.1 §10.2, WebAuthn L3 §8.6 "verification procedure" read backwards).
//!
//! The statement is `{sig, x5c: [certificate]}`; `sig` is the U2F registration signature over
//! `0x00 ‖ rpIdHash ‖ clientDataHash ‖ credentialId ‖ 0x04 ‖ x ‖ y`, so only ES256 credentials
//! exist, and the authenticatorData the client builds carries a zero AAGUID.

use ciborium::value::Value;
use uuid::Uuid;
use x509_cert::der::Decode as _;
use x509_cert::Certificate;

use super::{AttestationCa, AttestationCert};
use super::{AttestationError, LabProfile};
use crate::crypto::keys::PublicKey;
use crate::ctap1::RegisterResponse;
use crate::ctap2::auth_data::{AttestedCredentialData, AuthenticatorData, Flags};

/// The format's name in the attestation object.
pub const FORMAT: &str = "fido-u2f";

impl AttestationCa {
    /// Issues a U2F attestation certificate: ES256, subject
    /// `C=ZZ, O=<organization>, OU=Authenticator Attestation, CN=fauxkey Test U2F Attestation`,
    /// basicConstraints CA = false, and no AAGUID extension (U2F devices have no AAGUID).
    pub fn issue_u2f(
        &self,
        organization: &str,
        rng: &mut crate::env::Rng,
    ) -> Result<AttestationCert, AttestationError> {
        self.issue_leaf(
            organization,
            "fauxkey Test U2F Attestation",
            rng,
            |issuer, subject| LabProfile::U2f { issuer, subject },
        )
    }
}

/// The attestation statement: `{sig, x5c: [certificate]}`.
pub fn statement(certificate: &[u8], signature: &[u8]) -> Value {
    crate::cbor::map([
        ("sig", Value::Bytes(signature.to_vec())),
        (
            "x5c",
            Value::Array(vec![Value::Bytes(certificate.to_vec())]),
        ),
    ])
}

/// What a U2F registration becomes in WebAuthn.
#[derive(Debug, Clone)]
pub struct Registration {
    /// authenticatorData: rpIdHash, flags UP | AT, counter 0, zero AAGUID, the key handle as
    /// the credential id, the user public key as a COSE_Key.
    pub auth_data: Vec<u8>,
    /// The `fido-u2f` statement.
    pub att_stmt: Value,
    /// The credential public key.
    pub public_key: PublicKey,
}

/// Builds the authenticatorData and `fido-u2f` statement from a `U2F_REGISTER` response, as a
/// WebAuthn client does when it falls back to U2F (CTAP 2.1 §10.2 steps for makeCredential).
pub fn registration(
    rp_id_hash: [u8; 32],
    response: &RegisterResponse,
) -> Result<Registration, AttestationError> {
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&response.public_key)
        .map_err(|_| AttestationError::BadKey)?;
    let public_key = PublicKey::Es256(verifying);
    let auth_data = AuthenticatorData {
        rp_id_hash,
        flags: Flags(Flags::UP),
        sign_count: 0,
        attested: Some(AttestedCredentialData {
            aaguid: *Uuid::nil().as_bytes(),
            credential_id: response.key_handle.clone(),
            public_key_cose: public_key.cose_bytes(),
        }),
        extensions: None,
    }
    .to_bytes();
    Ok(Registration {
        auth_data,
        att_stmt: statement(&response.certificate, &response.signature),
        public_key,
    })
}

/// The certificate's key identifier as FIDO metadata's `attestationCertificateKeyIdentifiers`
/// lists it: lowercase hex of its subjectKeyIdentifier (RFC 5280 §4.2.1.2 method 1, the SHA-1
/// of the subjectPublicKey bits, which is how the lab computes it).
pub fn key_identifier(certificate: &[u8]) -> Option<String> {
    let cert = Certificate::from_der(certificate).ok()?;
    let ext =
        cert.tbs_certificate().extensions()?.iter().find(|e| {
            e.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER
        })?;
    let ski =
        x509_cert::ext::pkix::SubjectKeyIdentifier::from_der(ext.extn_value.as_bytes()).ok()?;
    Some(
        ski.0
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::seeded_rng;

    #[test]
    fn u2f_certificate_has_no_aaguid_and_a_key_identifier() {
        let ca = AttestationCa::generate(&mut seeded_rng(1)).expect("root");
        let cert = ca.issue_u2f("Example", &mut seeded_rng(2)).expect("cert");
        assert_eq!(cert.aaguid(), None);
        assert_eq!(cert.chain().len(), 1);
        let id = key_identifier(&cert.chain()[0]).expect("ski");
        assert_eq!(id.len(), 40);
        let again = ca.issue_u2f("Example", &mut seeded_rng(2)).expect("cert");
        assert_eq!(again, cert);
    }
}
