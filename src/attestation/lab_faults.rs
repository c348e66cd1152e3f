//! Attestation certificates that are correct but for one named fault, for the fixture corpus's
//! broken cases: an expired or not-yet-valid attestation certificate, a wrong
//! `id-fido-gen-ce-aaguid`, and a TPM AIK certificate without its EKU or subjectAltName or with
//! a subject that is not empty. Everything else is what [`AttestationCa::issue`] and
//! [`AttestationCa::issue_tpm`] make: the same subjects, extensions and issuer, signed by the
//! lab's keys (a new TPM intermediate under the same root for a TPM chain), deterministic under
//! a seeded RNG, and every validity a fixed date.

use std::str::FromStr as _;

use uuid::Uuid;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der::oid::db::rfc5280::{ID_CE_EXT_KEY_USAGE, ID_CE_SUBJECT_ALT_NAME};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::spki::SubjectPublicKeyInfoRef;
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::{serial, signing_key, spki, AttestationCa, AttestationCert, AttestationError};
use super::{LabProfile, NOT_AFTER_SECS, NOT_BEFORE_SECS};
use crate::crypto::keys::{Algorithm, PrivateKey};
use crate::env::Rng;

/// An expired certificate's validity: 2024-01-01T00:00:00Z to 2024-12-31T23:59:59Z, inside the
/// root's and long past.
pub const EXPIRED_NOT_AFTER_SECS: u64 = 1_735_689_599;
/// A not-yet-valid certificate's validity starts 2049-01-01T00:00:00Z (and ends with the root's).
pub const NOT_YET_VALID_NOT_BEFORE_SECS: u64 = 2_493_072_000;

/// The one thing wrong with a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertFault {
    /// notAfter is [`EXPIRED_NOT_AFTER_SECS`].
    Expired,
    /// notBefore is [`NOT_YET_VALID_NOT_BEFORE_SECS`].
    NotYetValid,
    /// `id-fido-gen-ce-aaguid` holds this AAGUID instead of the authenticator's.
    WrongAaguid(Uuid),
    /// TPM AIK: no extendedKeyUsage (tcg-kp-AIKCertificate) extension.
    AikWithoutEku,
    /// TPM AIK: no subjectAltName (the TCG device attributes).
    AikWithoutSan,
    /// TPM AIK: the subject is `CN=fauxkey Test AIK,O=fauxkey,C=ZZ`, not empty.
    AikSubjectNotEmpty,
}

/// A lab profile with one fault applied.
struct Faulty {
    base: LabProfile,
    fault: CertFault,
}

impl BuilderProfile for Faulty {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.base.get_issuer(subject)
    }

    fn get_subject(&self) -> Name {
        match self.fault {
            CertFault::AikSubjectNotEmpty => {
                Name::from_str("CN=fauxkey Test AIK,O=fauxkey,C=ZZ").unwrap_or_default()
            }
            _ => self.base.get_subject(),
        }
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut ext = self.base.build_extensions(spk, issuer_spk, tbs)?;
        match self.fault {
            CertFault::AikWithoutEku => ext.retain(|e| e.extn_id != ID_CE_EXT_KEY_USAGE),
            CertFault::AikWithoutSan => ext.retain(|e| e.extn_id != ID_CE_SUBJECT_ALT_NAME),
            _ => {}
        }
        Ok(ext)
    }
}

fn validity(fault: CertFault) -> Result<Validity, AttestationError> {
    let at = |secs| {
        Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
            .map_err(|e| AttestationError::Build(e.to_string()))
    };
    let (from, to) = match fault {
        CertFault::Expired => (NOT_BEFORE_SECS, EXPIRED_NOT_AFTER_SECS),
        CertFault::NotYetValid => (NOT_YET_VALID_NOT_BEFORE_SECS, NOT_AFTER_SECS),
        _ => (NOT_BEFORE_SECS, NOT_AFTER_SECS),
    };
    Ok(Validity::new(at(from)?, at(to)?))
}

fn build<P: BuilderProfile>(
    builder: CertificateBuilder<P>,
    signer: &p256::ecdsa::SigningKey,
) -> Result<Vec<u8>, AttestationError> {
    builder
        .build::<_, p256::ecdsa::DerSignature>(signer)
        .map_err(|e| AttestationError::Build(e.to_string()))?
        .to_der()
        .map_err(|e| AttestationError::Build(e.to_string()))
}

fn subject_of(der: &[u8]) -> Result<Name, AttestationError> {
    Ok(Certificate::from_der(der)
        .map_err(|e| AttestationError::BadCertificate(e.to_string()))?
        .tbs_certificate()
        .subject()
        .clone())
}

impl AttestationCa {
    /// A packed attestation certificate like `template` (same subject, issued by this root) for
    /// `aaguid`, but with `fault`, under a new key from `rng`. The chain is `[leaf]`.
    pub fn issue_packed_with_fault(
        &self,
        template: &AttestationCert,
        aaguid: Uuid,
        fault: CertFault,
        rng: &mut Rng,
    ) -> Result<AttestationCert, AttestationError> {
        let subject = subject_of(
            template
                .chain()
                .first()
                .ok_or_else(|| AttestationError::BadCertificate("empty chain".into()))?,
        )?;
        let aaguid = match fault {
            CertFault::WrongAaguid(other) => other,
            _ => aaguid,
        };
        let base = LabProfile::Leaf {
            issuer: subject_of(self.root_der())?,
            subject,
            aaguid,
        };
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let builder = CertificateBuilder::new(
            Faulty { base, fault },
            serial(rng)?,
            validity(fault)?,
            spki(&signing_key(&key)?)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        Ok(AttestationCert::issued(
            vec![build(builder, &signing_key(&self.key)?)?],
            key,
        ))
    }

    /// A TPM AIK chain like [`issue_tpm`](Self::issue_tpm)'s for `aaguid`, but with `fault` in
    /// the AIK certificate; the intermediate is correct (and new). The chain is
    /// `[aik, intermediate]`.
    pub fn issue_tpm_with_fault(
        &self,
        aaguid: Uuid,
        fault: CertFault,
        rng: &mut Rng,
    ) -> Result<AttestationCert, AttestationError> {
        let (inter_subject, inter_signer, intermediate) = self.issue_tpm_intermediate(rng)?;
        let aaguid = match fault {
            CertFault::WrongAaguid(other) => other,
            _ => aaguid,
        };
        let tcg_attributes = super::tpm_device_attributes()?;
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let builder = CertificateBuilder::new(
            Faulty {
                base: LabProfile::Aik {
                    issuer: inter_subject,
                    aaguid,
                    tcg_attributes,
                },
                fault,
            },
            serial(rng)?,
            validity(fault)?,
            spki(&signing_key(&key)?)?,
        )
        .map_err(|e| AttestationError::Build(e.to_string()))?;
        Ok(AttestationCert::issued(
            vec![build(builder, &inter_signer)?, intermediate],
            key,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::seeded_rng;

    fn tbs(der: &[u8]) -> TbsCertificate {
        Certificate::from_der(der)
            .expect("DER")
            .tbs_certificate()
            .clone()
    }

    fn has(t: &TbsCertificate, oid: x509_cert::der::oid::ObjectIdentifier) -> bool {
        t.extensions()
            .is_some_and(|e| e.iter().any(|e| e.extn_id == oid))
    }

    #[test]
    fn each_fault_changes_only_its_part() {
        let ca = AttestationCa::generate(&mut seeded_rng(1)).expect("root");
        let aaguid = crate::FAUXKEY_AAGUID;
        let leaf = ca
            .issue(aaguid, "o", "cn", &mut seeded_rng(2))
            .expect("leaf");
        let other = Uuid::from_u128(7);
        let wrong = ca
            .issue_packed_with_fault(
                &leaf,
                aaguid,
                CertFault::WrongAaguid(other),
                &mut seeded_rng(3),
            )
            .expect("leaf");
        assert_eq!(wrong.aaguid(), Some(other));
        assert_eq!(
            tbs(&wrong.chain()[0]).subject(),
            tbs(&leaf.chain()[0]).subject()
        );
        let expired = ca
            .issue_packed_with_fault(&leaf, aaguid, CertFault::Expired, &mut seeded_rng(3))
            .expect("leaf");
        assert_eq!(expired.aaguid(), Some(aaguid));
        let v = *tbs(&expired.chain()[0]).validity();
        assert_eq!(
            v.not_after.to_unix_duration().as_secs(),
            EXPIRED_NOT_AFTER_SECS
        );
        let early = ca
            .issue_tpm_with_fault(aaguid, CertFault::NotYetValid, &mut seeded_rng(4))
            .expect("aik");
        let v = *tbs(&early.chain()[0]).validity();
        assert_eq!(
            v.not_before.to_unix_duration().as_secs(),
            NOT_YET_VALID_NOT_BEFORE_SECS
        );
        assert_eq!(
            early,
            ca.issue_tpm_with_fault(aaguid, CertFault::NotYetValid, &mut seeded_rng(4))
                .expect("aik"),
            "deterministic"
        );
        let no_eku = ca
            .issue_tpm_with_fault(aaguid, CertFault::AikWithoutEku, &mut seeded_rng(5))
            .expect("aik");
        let t = tbs(&no_eku.chain()[0]);
        assert!(!has(&t, ID_CE_EXT_KEY_USAGE) && has(&t, ID_CE_SUBJECT_ALT_NAME));
        assert!(t.subject().is_empty());
        let no_san = ca
            .issue_tpm_with_fault(aaguid, CertFault::AikWithoutSan, &mut seeded_rng(5))
            .expect("aik");
        let t = tbs(&no_san.chain()[0]);
        assert!(has(&t, ID_CE_EXT_KEY_USAGE) && !has(&t, ID_CE_SUBJECT_ALT_NAME));
        let named = ca
            .issue_tpm_with_fault(aaguid, CertFault::AikSubjectNotEmpty, &mut seeded_rng(5))
            .expect("aik");
        let t = tbs(&named.chain()[0]);
        assert_eq!(
            t.subject().to_string(),
            "CN=fauxkey Test AIK,O=fauxkey,C=ZZ"
        );
        assert!(has(&t, ID_CE_EXT_KEY_USAGE) && has(&t, ID_CE_SUBJECT_ALT_NAME));
        // The intermediate chains to the root.
        assert_eq!(
            tbs(&named.chain()[1]).issuer(),
            tbs(ca.root_der()).subject()
        );
    }
}
