//! The attestation lab: a test attestation CA (a self-signed root) and the per-profile packed
//! attestation certificates it issues, built with RustCrypto's `x509-cert`.
//!
//! Certificates follow WebAuthn L3 §8.2.1 (packed attestation statement certificate
//! requirements): version 3; subject C, O, OU = "Authenticator Attestation", CN; the
//! `id-fido-gen-ce-aaguid` extension (1.3.6.1.4.1.45724.1.1.4, non-critical) holding the AAGUID
//! as an OCTET STRING; basicConstraints CA = false. Everything is ES256 (ECDSA P-256, SHA-256),
//! and generation is deterministic under a seeded RNG (RFC 6979 signatures, fixed validity).
//!
//! These are **test** credentials: the CA's private key sits in the vault next to the passkeys.
//! An RP trusts the root only in its test suite.

pub mod android_key;
pub mod apple;
pub mod fido_u2f;
pub mod lab_faults;
pub mod metadata;
pub mod tpm;

use std::str::FromStr as _;

use x509_cert::der;

use der::asn1::OctetString;
use der::{Decode as _, Encode as _, EncodePem as _};
use uuid::Uuid;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Criticality, Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::spki::SubjectPublicKeyInfoRef;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use crate::crypto::keys::{Algorithm, PrivateKey};
use crate::env::Rng;

/// OID of `id-fido-gen-ce-aaguid` (WebAuthn L3 §8.2.1).
pub const AAGUID_EXTENSION_OID: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");

/// Subject of the root: a made-up test organisation, never a real vendor. The CN ends in the
/// first 8 hex digits of the SHA-256 of the root's public key, so that roots from different
/// vaults have different names (RP tools often match a root by subject).
const ROOT_SUBJECT_PREFIX: &str = "fauxkey Test Attestation Root CA";

/// Certificates are valid from 2024-01-01T00:00:00Z (seconds since the Unix epoch)…
const NOT_BEFORE_SECS: u64 = 1_704_067_200;
/// …to 2049-12-31T23:59:59Z, the last UTCTime instant (RFC 5280 §4.1.2.5).
const NOT_AFTER_SECS: u64 = 2_524_607_999;

/// Something went wrong building or reading a certificate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestationError {
    /// The certificate builder refused its input.
    #[error("cannot build the attestation certificate: {0}")]
    Build(String),
    /// Stored certificate bytes are not a DER X.509 certificate.
    #[error("stored attestation certificate is not valid DER: {0}")]
    BadCertificate(String),
    /// A stored private key is not a valid P-256 scalar.
    #[error("stored attestation key is invalid")]
    BadKey,
}

/// The AAGUID extension's value: the 16 bytes as an OCTET STRING, itself wrapped in the
/// extension's OCTET STRING (so `04 12 04 10 <aaguid>` on the wire).
struct AaguidExtension(Uuid);

impl der::oid::AssociatedOid for AaguidExtension {
    const OID: der::oid::ObjectIdentifier = AAGUID_EXTENSION_OID;
}

impl der::Encode for AaguidExtension {
    fn encoded_len(&self) -> der::Result<der::Length> {
        OctetString::new(self.0.as_bytes().to_vec())?.encoded_len()
    }

    fn encode(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        OctetString::new(self.0.as_bytes().to_vec())?.encode(writer)
    }
}

impl Criticality for AaguidExtension {
    fn criticality(&self, _subject: &Name, _extensions: &[Extension]) -> bool {
        // §8.2.1: the extension MUST NOT be marked critical.
        false
    }
}

/// The two certificate shapes the lab issues, with their extensions in a fixed order: subject
/// key identifier, authority key identifier (leaf only), basicConstraints, keyUsage, then the
/// AAGUID extension (leaf only).
enum LabProfile {
    /// The self-signed root: CA = true, keyCertSign | cRLSign.
    Root { subject: Name },
    /// A packed attestation certificate: CA = false, digitalSignature | nonRepudiation.
    Leaf {
        issuer: Name,
        subject: Name,
        aaguid: Uuid,
    },
    /// A TPM-style intermediate CA under the root: CA = true, keyCertSign | cRLSign.
    Intermediate { issuer: Name, subject: Name },
    /// A U2F attestation certificate (WebAuthn L3 §8.6): CA = false, no AAGUID extension.
    U2f { issuer: Name, subject: Name },
    /// A TPM attestation identity key certificate (WebAuthn L3 §8.3.1): empty subject, the TCG
    /// device attributes in a critical subjectAltName, EKU tcg-kp-AIKCertificate.
    Aik {
        issuer: Name,
        aaguid: Uuid,
        tcg_attributes: Name,
    },
}

impl BuilderProfile for LabProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        match self {
            LabProfile::Root { .. } => subject.clone(),
            LabProfile::Leaf { issuer, .. }
            | LabProfile::U2f { issuer, .. }
            | LabProfile::Intermediate { issuer, .. }
            | LabProfile::Aik { issuer, .. } => issuer.clone(),
        }
    }

    fn get_subject(&self) -> Name {
        match self {
            LabProfile::Root { subject }
            | LabProfile::Leaf { subject, .. }
            | LabProfile::U2f { subject, .. }
            | LabProfile::Intermediate { subject, .. } => subject.clone(),
            // §8.3.1: the subject field MUST be set to empty.
            LabProfile::Aik { .. } => Name::default(),
        }
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut ext: Vec<Extension> = Vec::new();
        let e = SubjectKeyIdentifier::try_from(spk)?.to_extension(subject, &ext)?;
        ext.push(e);
        if !matches!(self, LabProfile::Root { .. }) {
            let e = AuthorityKeyIdentifier::try_from(issuer_spk)?.to_extension(subject, &ext)?;
            ext.push(e);
        }
        let ca = matches!(
            self,
            LabProfile::Root { .. } | LabProfile::Intermediate { .. }
        );
        let e = BasicConstraints {
            ca,
            path_len_constraint: None,
        }
        .to_extension(subject, &ext)?;
        ext.push(e);
        let usage = if ca {
            KeyUsages::KeyCertSign | KeyUsages::CRLSign
        } else {
            KeyUsages::DigitalSignature | KeyUsages::NonRepudiation
        };
        let e = KeyUsage(usage).to_extension(subject, &ext)?;
        ext.push(e);
        if let LabProfile::Aik { tcg_attributes, .. } = self {
            // EKU tcg-kp-AIKCertificate, critical as webauthn-rs requires.
            let mut e =
                ExtendedKeyUsage(vec![tpm::TCG_KP_AIK_CERTIFICATE]).to_extension(subject, &ext)?;
            e.critical = true;
            ext.push(e);
            // The subject is empty, so the subjectAltName is critical (RFC 5280 §4.2.1.6).
            let e = SubjectAltName(vec![GeneralName::DirectoryName(tcg_attributes.clone())])
                .to_extension(subject, &ext)?;
            ext.push(e);
        }
        if let LabProfile::Leaf { aaguid, .. } | LabProfile::Aik { aaguid, .. } = self {
            let e = (&AaguidExtension(*aaguid)).to_extension(subject, &ext)?;
            ext.push(e);
        }
        Ok(ext)
    }
}

fn signing_key(key: &PrivateKey) -> Result<p256::ecdsa::SigningKey, AttestationError> {
    p256::ecdsa::SigningKey::from_slice(&key.secret_bytes()).map_err(|_| AttestationError::BadKey)
}

fn spki(key: &p256::ecdsa::SigningKey) -> Result<SubjectPublicKeyInfoOwned, AttestationError> {
    SubjectPublicKeyInfoOwned::from_key(key.verifying_key())
        .map_err(|e| AttestationError::Build(e.to_string()))
}

fn validity() -> Result<Validity, AttestationError> {
    let at = |secs| {
        Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .map_err(|e| AttestationError::Build(e.to_string()))
    };
    Ok(Validity::new(at(NOT_BEFORE_SECS)?, at(NOT_AFTER_SECS)?))
}

/// A positive 16-byte serial number from `rng`.
fn serial(rng: &mut Rng) -> Result<SerialNumber, AttestationError> {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::new(&bytes).map_err(|e| AttestationError::Build(e.to_string()))
}

fn build<P: BuilderProfile>(
    builder: CertificateBuilder<P>,
    signer: &p256::ecdsa::SigningKey,
) -> Result<Vec<u8>, AttestationError> {
    let cert = builder
        .build::<_, p256::ecdsa::DerSignature>(signer)
        .map_err(|e| AttestationError::Build(e.to_string()))?;
    cert.to_der()
        .map_err(|e| AttestationError::Build(e.to_string()))
}

fn pem(der: &[u8]) -> Result<String, AttestationError> {
    Certificate::from_der(der)
        .and_then(|c| c.to_pem(der::pem::LineEnding::LF))
        .map_err(|e| AttestationError::BadCertificate(e.to_string()))
}

/// A test attestation CA: a self-signed ES256 root certificate and its private key (wiped on
/// drop, never printed).
#[derive(Debug, Clone)]
pub struct AttestationCa {
    root_der: Vec<u8>,
    key: PrivateKey,
}

impl PartialEq for AttestationCa {
    fn eq(&self, other: &Self) -> bool {
        // The certificate holds the public key, so equal certificates mean equal key pairs
        // unless the file was tampered with; compare the secrets too.
        self.root_der == other.root_der && *self.key.secret_bytes() == *other.key.secret_bytes()
    }
}

impl Eq for AttestationCa {}

impl AttestationCa {
    /// Generates a new root: key, serial number and signature all come from `rng`, so a seeded
    /// RNG gives the same CA every time.
    pub fn generate(rng: &mut Rng) -> Result<Self, AttestationError> {
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let signer = signing_key(&key)?;
        let point = signer.verifying_key().to_sec1_point(false);
        let digest = <sha2::Sha256 as sha2::Digest>::digest(point.as_bytes());
        let tag: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let subject = Name::from_str(&format!(
            "CN={ROOT_SUBJECT_PREFIX} {tag},OU=fauxkey test CA,O=fauxkey,C=ZZ"
        ))
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        let builder = CertificateBuilder::new(
            LabProfile::Root { subject },
            serial(rng)?,
            validity()?,
            spki(&signer)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        Ok(Self {
            root_der: build(builder, &signer)?,
            key,
        })
    }

    /// Rebuilds a CA from its stored parts (the vault's `attestation_ca`).
    pub fn from_parts(root_der: Vec<u8>, key_secret: &[u8]) -> Result<Self, AttestationError> {
        Certificate::from_der(&root_der)
            .map_err(|e| AttestationError::BadCertificate(e.to_string()))?;
        let key = PrivateKey::from_secret_bytes(Algorithm::Es256, key_secret)
            .map_err(|_| AttestationError::BadKey)?;
        Ok(Self { root_der, key })
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> Result<String, AttestationError> {
        pem(&self.root_der)
    }

    /// The root's private key (**secret**; for storing it in the vault only).
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Issues a packed attestation certificate for `aaguid` (WebAuthn L3 §8.2.1): subject
    /// `C=ZZ, O=<organization>, OU=Authenticator Attestation, CN=<common_name>`, the AAGUID
    /// extension, basicConstraints CA=false. The returned chain is `[leaf]`: the root is the
    /// trust anchor the RP holds, so it is not sent in `x5c`.
    pub fn issue(
        &self,
        aaguid: Uuid,
        organization: &str,
        common_name: &str,
        rng: &mut Rng,
    ) -> Result<AttestationCert, AttestationError> {
        self.issue_leaf(organization, common_name, rng, |issuer, subject| {
            LabProfile::Leaf {
                issuer,
                subject,
                aaguid,
            }
        })
    }

    /// One ES256 leaf under this root: subject `C=ZZ, O=<organization>, OU=Authenticator
    /// Attestation, CN=<common_name>`, its extensions set by `profile` (given issuer and
    /// subject). The chain is `[leaf]`.
    fn issue_leaf(
        &self,
        organization: &str,
        common_name: &str,
        rng: &mut Rng,
        profile: impl FnOnce(Name, Name) -> LabProfile,
    ) -> Result<AttestationCert, AttestationError> {
        let ca_signer = signing_key(&self.key)?;
        let issuer = Certificate::from_der(&self.root_der)
            .map_err(|e| AttestationError::BadCertificate(e.to_string()))?
            .tbs_certificate()
            .subject()
            .clone();
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let leaf_signer = signing_key(&key)?;
        // RFC 4514 string: the most specific attribute first; commas inside values escaped.
        let escape = |s: &str| {
            s.replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('+', "\\+")
        };
        let subject = Name::from_str(&format!(
            "CN={},OU=Authenticator Attestation,O={},C=ZZ",
            escape(common_name),
            escape(organization)
        ))
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        let builder = CertificateBuilder::new(
            profile(issuer, subject),
            serial(rng)?,
            validity()?,
            spki(&leaf_signer)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        Ok(AttestationCert::issued(
            vec![build(builder, &ca_signer)?],
            key,
        ))
    }
}

impl AttestationCa {
    /// Issues a TPM attestation identity for `aaguid` (WebAuthn L3 §8.3.1): a TPM-style
    /// intermediate CA under this root, and under it an AIK certificate with an empty
    /// subject, the TCG subjectAltName (manufacturer `id:FFFFF1D0`, the FIDO Alliance's test
    /// vendor; model and version from [`tpm`]), EKU 2.23.133.8.3, basicConstraints CA = false
    /// and the AAGUID extension. The chain is `[aik, intermediate]`; the AIK is ES256.
    pub fn issue_tpm(
        &self,
        aaguid: Uuid,
        rng: &mut Rng,
    ) -> Result<AttestationCert, AttestationError> {
        let (inter_subject, inter_signer, intermediate) = self.issue_tpm_intermediate(rng)?;
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let aik_signer = signing_key(&key)?;
        let tcg_attributes = tpm_device_attributes()?;
        let builder = CertificateBuilder::new(
            LabProfile::Aik {
                issuer: inter_subject,
                aaguid,
                tcg_attributes,
            },
            serial(rng)?,
            validity()?,
            spki(&aik_signer)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        Ok(AttestationCert::issued(
            vec![build(builder, &inter_signer)?, intermediate],
            key,
        ))
    }

    /// The TPM-style intermediate CA under this root that issues AIK certificates: its
    /// subject, its signing key and its certificate (DER). Draws its key, then its serial.
    fn issue_tpm_intermediate(
        &self,
        rng: &mut Rng,
    ) -> Result<(Name, p256::ecdsa::SigningKey, Vec<u8>), AttestationError> {
        let root_subject = Certificate::from_der(&self.root_der)
            .map_err(|e| AttestationError::BadCertificate(e.to_string()))?
            .tbs_certificate()
            .subject()
            .clone();
        let inter_key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let inter_signer = signing_key(&inter_key)?;
        let inter_subject =
            Name::from_str("CN=fauxkey Test TPM Intermediate CA,OU=fauxkey test CA,O=fauxkey,C=ZZ")
                .map_err(|e| AttestationError::Build(e.to_string()))?;
        let builder = CertificateBuilder::new(
            LabProfile::Intermediate {
                issuer: root_subject,
                subject: inter_subject.clone(),
            },
            serial(rng)?,
            validity()?,
            spki(&inter_signer)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        let intermediate = build(builder, &signing_key(&self.key)?)?;
        Ok((inter_subject, inter_signer, intermediate))
    }
}

/// The TCG device attributes an AIK certificate's subjectAltName carries (TPM version, model,
/// manufacturer: the FIDO Alliance's test vendor).
fn tpm_device_attributes() -> Result<Name, AttestationError> {
    Name::from_str(&format!(
        "{}={}+{}={}+{}={}",
        tpm::TCG_AT_TPM_VERSION,
        tpm::TPM_VERSION,
        tpm::TCG_AT_TPM_MODEL,
        tpm::TPM_MODEL,
        tpm::TCG_AT_TPM_MANUFACTURER,
        tpm::TPM_MANUFACTURER,
    ))
    .map_err(|e| AttestationError::Build(e.to_string()))
}

impl AttestationCa {
    /// Issues the per-vault issuer of `apple` anonymous attestation leaves (WebAuthn L3
    /// §8.8), in the shape of Apple's "Apple WebAuthn CA 1": an ES256 intermediate CA under
    /// this root. The chain is `[intermediate]`; [`apple::statement`] issues a leaf under it
    /// for every credential.
    pub fn issue_apple_ca(&self, rng: &mut Rng) -> Result<AttestationCert, AttestationError> {
        let root_subject = Certificate::from_der(&self.root_der)
            .map_err(|e| AttestationError::BadCertificate(e.to_string()))?
            .tbs_certificate()
            .subject()
            .clone();
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let signer = signing_key(&key)?;
        let subject = Name::from_str(
            "CN=fauxkey Test Apple WebAuthn CA 1,OU=Authenticator Attestation CA,O=fauxkey,C=ZZ",
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        let builder = CertificateBuilder::new(
            LabProfile::Intermediate {
                issuer: root_subject,
                subject,
            },
            serial(rng)?,
            validity()?,
            spki(&signer)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        Ok(AttestationCert::issued(
            vec![build(builder, &signing_key(&self.key)?)?],
            key,
        ))
    }
}

/// A certificate made per credential (`android-key`, `apple`), for the credential's own key:
/// basicConstraints CA = false (critical), keyUsage digitalSignature (critical), subject key
/// identifier, authority key identifier, then the format's one extension (not critical), the
/// order the WebAuthn spec's test-vector generator writes them in.
pub(crate) struct CredentialLeaf {
    pub issuer: Name,
    pub subject: Name,
    /// The format's extension: its OID and its value (the bytes inside the OCTET STRING).
    pub extension: (der::oid::ObjectIdentifier, Vec<u8>),
}

impl BuilderProfile for CredentialLeaf {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let subject = tbs.subject();
        let mut ext: Vec<Extension> = Vec::new();
        let mut e = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        }
        .to_extension(subject, &ext)?;
        e.critical = true;
        ext.push(e);
        let mut e = KeyUsage(KeyUsages::DigitalSignature.into()).to_extension(subject, &ext)?;
        e.critical = true;
        ext.push(e);
        let e = SubjectKeyIdentifier::try_from(spk)?.to_extension(subject, &ext)?;
        ext.push(e);
        let e = AuthorityKeyIdentifier::try_from(issuer_spk)?.to_extension(subject, &ext)?;
        ext.push(e);
        ext.push(Extension {
            extn_id: self.extension.0,
            critical: false,
            extn_value: OctetString::new(self.extension.1.clone())?,
        });
        Ok(ext)
    }
}

/// A packed attestation identity: the `x5c` chain (attestation certificate first) and the
/// attestation private key (wiped on drop, never printed).
#[derive(Debug, Clone)]
pub struct AttestationCert {
    chain: Vec<Vec<u8>>,
    key: PrivateKey,
    /// For a TPM AIK: what the TPM writes into `tpm` statements besides the key (not stored
    /// in the vault; the default unless [`AttestationCert::with_tpm_device`] says otherwise).
    tpm_device: tpm::TpmDevice,
    /// How an `android-key` issuer stamps credential certificates (`None`: an Android
    /// phone's way, [`android_key::LeafTemplate::default`]).
    android_leaf: Option<Box<android_key::LeafTemplate>>,
}

impl PartialEq for AttestationCert {
    fn eq(&self, other: &Self) -> bool {
        self.chain == other.chain
            && *self.key.secret_bytes() == *other.key.secret_bytes()
            && self.tpm_device == other.tpm_device
            && self.android_leaf == other.android_leaf
    }
}

impl Eq for AttestationCert {}

impl AttestationCert {
    /// Rebuilds an identity from its stored parts (the vault's `attestation_certificate`).
    pub fn from_parts(chain: Vec<Vec<u8>>, key_secret: &[u8]) -> Result<Self, AttestationError> {
        if chain.is_empty() {
            return Err(AttestationError::BadCertificate("empty chain".into()));
        }
        for der in &chain {
            Certificate::from_der(der)
                .map_err(|e| AttestationError::BadCertificate(e.to_string()))?;
        }
        let key = PrivateKey::from_secret_bytes(Algorithm::Es256, key_secret)
            .map_err(|_| AttestationError::BadKey)?;
        Ok(Self::issued(chain, key))
    }

    /// A chain and its key, with the default TPM device and android-key leaf template.
    fn issued(chain: Vec<Vec<u8>>, key: PrivateKey) -> Self {
        Self {
            chain,
            key,
            tpm_device: tpm::TpmDevice::default(),
            android_leaf: None,
        }
    }

    /// The same identity used as a TPM AIK whose TPM writes `device`'s fields into `tpm`
    /// statements (e.g. [`tpm::TpmDevice::spec_test_vectors`]).
    pub fn with_tpm_device(mut self, device: tpm::TpmDevice) -> Self {
        self.tpm_device = device;
        self
    }

    /// The TPM fields `tpm` statements signed by this identity carry.
    pub fn tpm_device(&self) -> &tpm::TpmDevice {
        &self.tpm_device
    }

    /// This issuer with its own way of stamping `android-key` credential certificates (the
    /// spec's test vectors use one; fauxkey's vaults always use the default).
    pub fn with_android_leaf(mut self, template: android_key::LeafTemplate) -> Self {
        self.android_leaf = Some(Box::new(template));
        self
    }

    /// The `android-key` leaf template set by [`AttestationCert::with_android_leaf`].
    pub fn android_leaf(&self) -> Option<&android_key::LeafTemplate> {
        self.android_leaf.as_deref()
    }

    /// The `x5c` chain, DER, attestation certificate first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The attestation private key (**secret**).
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The first certificate of the chain (the attestation certificate, or the issuer of
    /// per-credential leaves), parsed.
    pub fn certificate(&self) -> Result<Certificate, AttestationError> {
        let der = self
            .chain
            .first()
            .ok_or_else(|| AttestationError::BadCertificate("empty chain".into()))?;
        Certificate::from_der(der).map_err(|e| AttestationError::BadCertificate(e.to_string()))
    }

    /// The attestation certificate's AAGUID extension, if it has one.
    pub fn aaguid(&self) -> Option<Uuid> {
        let cert = self.certificate().ok()?;
        let ext = cert
            .tbs_certificate()
            .extensions()?
            .iter()
            .find(|e| e.extn_id == AAGUID_EXTENSION_OID)?;
        let inner = OctetString::from_der(ext.extn_value.as_bytes()).ok()?;
        Uuid::from_slice(inner.as_bytes()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::seeded_rng;

    #[test]
    fn deterministic_under_a_seed_and_different_across_seeds() {
        let a = AttestationCa::generate(&mut seeded_rng(7)).expect("root");
        let b = AttestationCa::generate(&mut seeded_rng(7)).expect("root");
        let c = AttestationCa::generate(&mut seeded_rng(8)).expect("root");
        assert_eq!(a.root_der(), b.root_der());
        assert_ne!(a.root_der(), c.root_der());
        let subject = |ca: &AttestationCa| {
            Certificate::from_der(ca.root_der())
                .expect("DER")
                .tbs_certificate()
                .subject()
                .to_string()
        };
        assert!(subject(&a).starts_with("CN=fauxkey Test Attestation Root CA "));
        assert_ne!(
            subject(&a),
            subject(&c),
            "roots of different vaults differ by name"
        );
        let aaguid = crate::FAUXKEY_AAGUID;
        let la = a
            .issue(aaguid, "o", "cn", &mut seeded_rng(1))
            .expect("leaf");
        let lb = b
            .issue(aaguid, "o", "cn", &mut seeded_rng(1))
            .expect("leaf");
        assert_eq!(la, lb);
    }

    #[test]
    fn leaf_meets_the_packed_certificate_requirements() {
        let ca = AttestationCa::generate(&mut seeded_rng(1)).expect("root");
        let aaguid = Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
        let leaf = ca
            .issue(aaguid, "Example, Inc.", "Example Key", &mut seeded_rng(2))
            .expect("leaf");
        assert_eq!(leaf.aaguid(), Some(aaguid));
        let cert = Certificate::from_der(&leaf.chain()[0]).expect("DER");
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.version(), x509_cert::Version::V3);
        assert_eq!(
            tbs.subject().to_string(),
            "CN=Example Key,OU=Authenticator Attestation,O=Example\\, Inc.,C=ZZ"
        );
        let root = Certificate::from_der(ca.root_der()).expect("DER");
        assert_eq!(tbs.issuer(), root.tbs_certificate().subject());
        let exts = tbs.extensions().cloned().unwrap_or_default();
        // The order the lab's profile fixes: SKI, AKI, basicConstraints, keyUsage, AAGUID.
        use der::oid::db::rfc5280 as oids;
        let order: Vec<_> = exts.iter().map(|e| e.extn_id).collect();
        assert_eq!(
            order,
            [
                oids::ID_CE_SUBJECT_KEY_IDENTIFIER,
                oids::ID_CE_AUTHORITY_KEY_IDENTIFIER,
                oids::ID_CE_BASIC_CONSTRAINTS,
                oids::ID_CE_KEY_USAGE,
                AAGUID_EXTENSION_OID
            ]
        );
        let aaguid_ext = exts
            .iter()
            .find(|e| e.extn_id == AAGUID_EXTENSION_OID)
            .expect("aaguid extension");
        assert!(!aaguid_ext.critical);
        // 04 10 <aaguid> inside the extension's own OCTET STRING.
        assert_eq!(
            aaguid_ext.extn_value.as_bytes(),
            [&[0x04, 0x10][..], aaguid.as_bytes()].concat()
        );
        let bc = exts
            .iter()
            .find(|e| e.extn_id == der::oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS)
            .expect("basicConstraints");
        let bc = x509_cert::ext::pkix::BasicConstraints::from_der(bc.extn_value.as_bytes())
            .expect("basicConstraints DER");
        assert!(!bc.ca);
        // The signature verifies under the root's key.
        use p256::ecdsa::signature::Verifier as _;
        let root_key = p256::ecdsa::VerifyingKey::from_sec1_bytes(
            root.tbs_certificate()
                .subject_public_key_info()
                .subject_public_key
                .raw_bytes(),
        )
        .expect("root key");
        let sig = p256::ecdsa::DerSignature::from_bytes(cert.signature().raw_bytes()).expect("sig");
        root_key
            .verify(&tbs.to_der().expect("tbs DER"), &sig)
            .expect("leaf signed by the root");
    }

    #[test]
    fn stored_parts_round_trip_and_bad_parts_are_refused() {
        let ca = AttestationCa::generate(&mut seeded_rng(3)).expect("root");
        let back = AttestationCa::from_parts(ca.root_der().to_vec(), &ca.key().secret_bytes())
            .expect("ok");
        assert_eq!(back, ca);
        assert!(AttestationCa::from_parts(vec![1, 2, 3], &ca.key().secret_bytes()).is_err());
        assert!(AttestationCa::from_parts(ca.root_der().to_vec(), &[0; 32]).is_err());
        assert!(AttestationCert::from_parts(Vec::new(), &ca.key().secret_bytes()).is_err());
        assert!(ca
            .root_pem()
            .expect("pem")
            .starts_with("-----BEGIN CERTIFICATE-----\n"));
    }
}
