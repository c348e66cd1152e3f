//! The `android-key` attestation statement (WebAuthn L3 §8.4): `{alg, sig, x5c}` where `sig` is
//! made with the **credential** key over authenticatorData ‖ clientDataHash, and `x5c[0]` is a
//! certificate for that same key, issued per credential by an "Android Keystore"-style
//! intermediate of the vault's test CA ([`super::AttestationCa::issue_android_key`]). The leaf
//! carries the key attestation extension 1.3.6.1.4.1.11129.2.1.17, a `KeyDescription` in
//! Android's schema (source.android.com/docs/security/features/keystore/attestation, "Attestation
//! extension"), DER-encoded here by hand: its authorization lists use context tags above 30
//! (`[702] origin`), which take the multi-byte tag form of X.690 §8.1.2.4.
//!
//! The §8.4.1 verification procedure checks, and the leaf here satisfies: the leaf's public key
//! is the credential public key; `attestationChallenge` = clientDataHash; neither authorization
//! list holds `allApplications [600]`; `origin [702]` = KM_ORIGIN_GENERATED (0) and `purpose [1]`
//! = {KM_PURPOSE_SIGN (2)} (here in `teeEnforced`, as a TEE-backed key reports them).

use std::str::FromStr as _;

use ciborium::value::Value;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

use super::{AttestationCa, AttestationCert, AttestationError};
use crate::cbor;
use crate::crypto::backend::Signer;
use crate::crypto::keys::{Algorithm, PrivateKey, PublicKey};
use crate::env::Rng;

/// OID of the Android key attestation extension (`KeyDescription`).
pub const KEY_DESCRIPTION_OID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.1.17");

/// The AAGUID FIDO MDS lists for "Android Key Attestation" (what Android platform credentials
/// attested with `android-key` carry).
pub const ANDROID_KEY_AAGUID: uuid::Uuid =
    uuid::Uuid::from_u128(0xb93fd961_f2e6_462f_b122_82002247de78);

/// `KM_PURPOSE_SIGN`.
pub const KM_PURPOSE_SIGN: u64 = 2;
/// `KM_ORIGIN_GENERATED`.
pub const KM_ORIGIN_GENERATED: u64 = 0;
const KM_ALGORITHM_RSA: u64 = 1;
const KM_ALGORITHM_EC: u64 = 3;
const KM_DIGEST_SHA_2_256: u64 = 4;
const KM_DIGEST_SHA_2_384: u64 = 5;
const KM_DIGEST_SHA_2_512: u64 = 6;
const KM_PAD_RSA_PKCS1_1_5_SIGN: u64 = 5;
const KM_EC_CURVE_P_256: u64 = 1;
const KM_EC_CURVE_P_384: u64 = 2;
const KM_EC_CURVE_P_521: u64 = 3;

/// Where a key or the attestation lives (`SecurityLevel ::= ENUMERATED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityLevel {
    /// `Software` (0).
    Software = 0,
    /// `TrustedEnvironment` (1): a TEE.
    TrustedEnvironment = 1,
    /// `StrongBox` (2): a secure element.
    StrongBox = 2,
}

/// `RootOfTrust ::= SEQUENCE { verifiedBootKey, deviceLocked, verifiedBootState,
/// verifiedBootHash }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootOfTrust {
    /// `verifiedBootKey OCTET STRING`.
    pub verified_boot_key: Vec<u8>,
    /// `deviceLocked BOOLEAN`.
    pub device_locked: bool,
    /// `verifiedBootState ENUMERATED` (0 = Verified).
    pub verified_boot_state: u8,
    /// `verifiedBootHash OCTET STRING`.
    pub verified_boot_hash: Vec<u8>,
}

/// The `AuthorizationList` fields fauxkey emits (each `[tag] EXPLICIT`, in tag order; absent
/// when `None`, empty or `false`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationList {
    /// `purpose [1] SET OF INTEGER`.
    pub purpose: Vec<u64>,
    /// `algorithm [2] INTEGER`.
    pub algorithm: Option<u64>,
    /// `keySize [3] INTEGER`.
    pub key_size: Option<u64>,
    /// `digest [5] SET OF INTEGER`.
    pub digest: Vec<u64>,
    /// `padding [6] SET OF INTEGER`.
    pub padding: Vec<u64>,
    /// `ecCurve [10] INTEGER`.
    pub ec_curve: Option<u64>,
    /// `rsaPublicExponent [200] INTEGER`.
    pub rsa_public_exponent: Option<u64>,
    /// `userAuthType [504] INTEGER` (a bit set: 1 password, 2 fingerprint).
    pub user_auth_type: Option<u64>,
    /// `allApplications [600] NULL`: the key is usable by every app. WebAuthn forbids it.
    pub all_applications: bool,
    /// `creationDateTime [701] INTEGER` (ms since the Unix epoch).
    pub creation_date_time: Option<u64>,
    /// `origin [702] INTEGER`.
    pub origin: Option<u64>,
    /// `rootOfTrust [704] RootOfTrust`.
    pub root_of_trust: Option<RootOfTrust>,
    /// `osVersion [705] INTEGER` (e.g. 140000 for Android 14).
    pub os_version: Option<u64>,
    /// `osPatchLevel [706] INTEGER` (YYYYMM).
    pub os_patch_level: Option<u64>,
    /// `attestationApplicationId [709] OCTET STRING` (a DER `AttestationApplicationId`).
    pub attestation_application_id: Option<Vec<u8>>,
    /// `vendorPatchLevel [718] INTEGER` (YYYYMMDD).
    pub vendor_patch_level: Option<u64>,
    /// `bootPatchLevel [719] INTEGER` (YYYYMMDD).
    pub boot_patch_level: Option<u64>,
}

/// `KeyDescription ::= SEQUENCE { attestationVersion, attestationSecurityLevel,
/// keyMintVersion, keyMintSecurityLevel, attestationChallenge, uniqueId, softwareEnforced,
/// hardwareEnforced }` (the last named `teeEnforced` before KeyMint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDescription {
    /// `attestationVersion INTEGER` (300 = KeyMint 3, Android 14).
    pub attestation_version: u64,
    /// `attestationSecurityLevel`.
    pub attestation_security_level: SecurityLevel,
    /// `keyMintVersion INTEGER` (`keymasterVersion` before KeyMint).
    pub keymint_version: u64,
    /// `keyMintSecurityLevel`.
    pub keymint_security_level: SecurityLevel,
    /// `attestationChallenge OCTET STRING`: WebAuthn puts clientDataHash here.
    pub attestation_challenge: Vec<u8>,
    /// `uniqueId OCTET STRING` (empty unless the app asked for one).
    pub unique_id: Vec<u8>,
    /// `softwareEnforced AuthorizationList`.
    pub software_enforced: AuthorizationList,
    /// `hardwareEnforced` / `teeEnforced AuthorizationList`.
    pub tee_enforced: AuthorizationList,
}

// --- a minimal DER writer (X.690) --------------------------------------------------------------

fn der_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(out: &mut Vec<u8>, tag: &[u8], content: &[u8]) {
    out.extend_from_slice(tag);
    der_len(out, content.len());
    out.extend_from_slice(content);
}

/// A non-negative INTEGER's content octets: minimal, with a leading 0 if the top bit is set.
fn int_content(v: u64) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count().min(7);
    let mut c = bytes[skip..].to_vec();
    if c[0] & 0x80 != 0 {
        c.insert(0, 0);
    }
    c
}

fn integer(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    tlv(&mut out, &[0x02], &int_content(v));
    out
}

fn enumerated(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    tlv(&mut out, &[0x0a], &int_content(v));
    out
}

fn octets(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    tlv(&mut out, &[0x04], v);
    out
}

fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    tlv(&mut out, &[0x30], &parts.concat());
    out
}

/// `SET OF INTEGER`, its elements sorted by encoding as DER requires (X.690 §11.6).
fn set_of_integers(values: &[u64]) -> Vec<u8> {
    let mut items: Vec<Vec<u8>> = values.iter().map(|v| integer(*v)).collect();
    items.sort();
    items.dedup();
    let mut out = Vec::new();
    tlv(&mut out, &[0x31], &items.concat());
    out
}

/// The identifier octets of `[n]` context-specific constructed (an EXPLICIT tag): one byte up
/// to 30, else 0xbf and n in base 128, high bit set on all but the last (X.690 §8.1.2.4).
fn context_tag(n: u32) -> Vec<u8> {
    if n <= 30 {
        return vec![0xa0 | n as u8];
    }
    let mut digits = vec![(n & 0x7f) as u8];
    let mut rest = n >> 7;
    while rest > 0 {
        digits.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    digits.push(0xbf);
    digits.reverse();
    digits
}

fn explicit(out: &mut Vec<u8>, n: u32, inner: &[u8]) {
    tlv(out, &context_tag(n), inner);
}

impl RootOfTrust {
    /// The DER `RootOfTrust`.
    pub fn to_der(&self) -> Vec<u8> {
        sequence(&[
            octets(&self.verified_boot_key),
            vec![0x01, 0x01, if self.device_locked { 0xff } else { 0x00 }],
            enumerated(u64::from(self.verified_boot_state)),
            octets(&self.verified_boot_hash),
        ])
    }
}

impl AuthorizationList {
    /// The DER `AuthorizationList`.
    pub fn to_der(&self) -> Vec<u8> {
        let mut c = Vec::new();
        let int = |c: &mut Vec<u8>, n, v: Option<u64>| {
            if let Some(v) = v {
                explicit(c, n, &integer(v));
            }
        };
        let set = |c: &mut Vec<u8>, n, v: &[u64]| {
            if !v.is_empty() {
                explicit(c, n, &set_of_integers(v));
            }
        };
        set(&mut c, 1, &self.purpose);
        int(&mut c, 2, self.algorithm);
        int(&mut c, 3, self.key_size);
        set(&mut c, 5, &self.digest);
        set(&mut c, 6, &self.padding);
        int(&mut c, 10, self.ec_curve);
        int(&mut c, 200, self.rsa_public_exponent);
        int(&mut c, 504, self.user_auth_type);
        if self.all_applications {
            explicit(&mut c, 600, &[0x05, 0x00]);
        }
        int(&mut c, 701, self.creation_date_time);
        int(&mut c, 702, self.origin);
        if let Some(rot) = &self.root_of_trust {
            explicit(&mut c, 704, &rot.to_der());
        }
        int(&mut c, 705, self.os_version);
        int(&mut c, 706, self.os_patch_level);
        if let Some(id) = &self.attestation_application_id {
            explicit(&mut c, 709, &octets(id));
        }
        int(&mut c, 718, self.vendor_patch_level);
        int(&mut c, 719, self.boot_patch_level);
        let mut out = Vec::new();
        tlv(&mut out, &[0x30], &c);
        out
    }
}

impl KeyDescription {
    /// The DER `KeyDescription` (the extension's value).
    pub fn to_der(&self) -> Vec<u8> {
        sequence(&[
            integer(self.attestation_version),
            enumerated(self.attestation_security_level as u64),
            integer(self.keymint_version),
            enumerated(self.keymint_security_level as u64),
            octets(&self.attestation_challenge),
            octets(&self.unique_id),
            self.software_enforced.to_der(),
            self.tee_enforced.to_der(),
        ])
    }

    /// What an Android 14 phone's TEE (KeyMint 3) reports for a WebAuthn credential key `key`
    /// created at `created_ms`: the key's properties, purpose SIGN, origin GENERATED and a
    /// locked, verified boot in `teeEnforced`; creation time and the calling app (Google Play
    /// services) in `softwareEnforced`. `None` for a key Android Keystore cannot attest
    /// (EdDSA: KeyMint's Ed25519 is not offered to WebAuthn).
    pub fn device(key: &PublicKey, challenge: &[u8], created_ms: u64) -> Option<Self> {
        let mut tee = AuthorizationList {
            purpose: vec![KM_PURPOSE_SIGN],
            user_auth_type: Some(3), // password | fingerprint
            origin: Some(KM_ORIGIN_GENERATED),
            root_of_trust: Some(RootOfTrust {
                // A made-up boot key (fauxkey's, not any vendor's) and boot hash.
                verified_boot_key: sha2_256(b"fauxkey test verified boot key"),
                device_locked: true,
                verified_boot_state: 0, // Verified
                verified_boot_hash: sha2_256(b"fauxkey test verified boot hash"),
            }),
            os_version: Some(140_000),
            os_patch_level: Some(202_411),
            vendor_patch_level: Some(20_241_101),
            boot_patch_level: Some(20_241_101),
            ..AuthorizationList::default()
        };
        match key.algorithm() {
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 => {
                let (curve, size, digest) = match key.algorithm() {
                    Algorithm::Es256 => (KM_EC_CURVE_P_256, 256, KM_DIGEST_SHA_2_256),
                    Algorithm::Es384 => (KM_EC_CURVE_P_384, 384, KM_DIGEST_SHA_2_384),
                    _ => (KM_EC_CURVE_P_521, 521, KM_DIGEST_SHA_2_512),
                };
                tee.algorithm = Some(KM_ALGORITHM_EC);
                tee.key_size = Some(size);
                tee.digest = vec![digest];
                tee.ec_curve = Some(curve);
            }
            Algorithm::Rs256 => {
                let (n, e) = key.rsa_components()?;
                let bits = n.len() as u64 * 8;
                tee.algorithm = Some(KM_ALGORITHM_RSA);
                tee.key_size = Some(bits);
                tee.digest = vec![KM_DIGEST_SHA_2_256];
                tee.padding = vec![KM_PAD_RSA_PKCS1_1_5_SIGN];
                tee.rsa_public_exponent =
                    Some(e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)));
            }
            _ => return None,
        }
        let software = AuthorizationList {
            creation_date_time: Some(created_ms),
            attestation_application_id: Some(attestation_application_id(
                "com.google.android.gms",
                244_433_000,
            )),
            ..AuthorizationList::default()
        };
        Some(Self {
            attestation_version: 300,
            attestation_security_level: SecurityLevel::TrustedEnvironment,
            keymint_version: 300,
            keymint_security_level: SecurityLevel::TrustedEnvironment,
            attestation_challenge: challenge.to_vec(),
            unique_id: Vec::new(),
            software_enforced: software,
            tee_enforced: tee,
        })
    }
}

fn sha2_256(b: &[u8]) -> Vec<u8> {
    <sha2::Sha256 as sha2::Digest>::digest(b).to_vec()
}

/// `AttestationApplicationId ::= SEQUENCE { package_infos SET OF AttestationPackageInfo,
/// signature_digests SET OF OCTET STRING }` for one package (`AttestationPackageInfo ::=
/// SEQUENCE { package_name OCTET STRING, version INTEGER }`) and a made-up signing digest.
fn attestation_application_id(package: &str, version: u64) -> Vec<u8> {
    let info = sequence(&[octets(package.as_bytes()), integer(version)]);
    let mut infos = Vec::new();
    tlv(&mut infos, &[0x31], &info);
    let mut digests = Vec::new();
    tlv(
        &mut digests,
        &[0x31],
        &octets(&sha2_256(b"fauxkey test app signing certificate")),
    );
    sequence(&[infos, digests])
}

/// How the Keystore stamps a credential's certificate: subject, `KeyDescription` and whether
/// the issuer's chain is sent in `x5c`. The default is an Android phone's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafTemplate {
    /// The leaf's subject, an RFC 4514 string (Android Keystore uses `CN=Android Keystore Key`).
    pub subject: String,
    /// `None`: [`KeyDescription::device`]. `Some`: this description, with its
    /// `attestationChallenge` replaced by each registration's clientDataHash.
    pub description: Option<KeyDescription>,
    /// Send the issuer's chain after the leaf (`[leaf, intermediate, root]`, as Android does,
    /// and as py_webauthn and SimpleWebAuthn expect); `false` sends `[leaf]` alone.
    pub send_chain: bool,
}

impl Default for LeafTemplate {
    fn default() -> Self {
        Self {
            subject: "CN=Android Keystore Key".into(),
            description: None,
            send_chain: true,
        }
    }
}

fn build_err(e: impl std::fmt::Display) -> AttestationError {
    AttestationError::Build(e.to_string())
}

/// Issues the credential certificate for `key` under `issuer` (its first certificate and its
/// ES256 key): subject `subject` (RFC 4514), serial `serial` (big-endian, made positive), the
/// issuer's own validity (a leaf never outlives its issuer), and the extensions
/// basicConstraints CA=false and keyUsage digitalSignature (both critical), subject and
/// authority key identifiers, and the key attestation extension holding `description`'s DER.
pub fn issue_leaf(
    issuer: &AttestationCert,
    key: &PublicKey,
    subject: &str,
    description: &KeyDescription,
    serial: &[u8],
) -> Result<Vec<u8>, AttestationError> {
    let spki = SubjectPublicKeyInfoOwned::from_der(&key.spki_der()).map_err(build_err)?;
    let mut serial = serial.to_vec();
    if let Some(first) = serial.first_mut() {
        *first &= 0x7f;
    }
    let serial = SerialNumber::new(&serial).map_err(build_err)?;
    let subject = Name::from_str(subject).map_err(build_err)?;
    build_leaf(issuer, spki, subject, description.to_der(), serial)
}

fn build_leaf(
    issuer: &AttestationCert,
    spki: SubjectPublicKeyInfoOwned,
    subject: Name,
    key_description: Vec<u8>,
    serial: SerialNumber,
) -> Result<Vec<u8>, AttestationError> {
    let issuer_cert = issuer.certificate()?;
    let tbs = issuer_cert.tbs_certificate();
    let validity = Validity::new(tbs.validity().not_before, tbs.validity().not_after);
    let profile = super::CredentialLeaf {
        issuer: tbs.subject().clone(),
        subject,
        extension: (KEY_DESCRIPTION_OID, key_description),
    };
    let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(build_err)?;
    let signer = super::signing_key(issuer.key())?;
    let cert = builder
        .build::<_, p256::ecdsa::DerSignature>(&signer)
        .map_err(build_err)?;
    cert.to_der().map_err(build_err)
}

/// The `android-key` attStmt `{alg, sig, x5c}` for `credential` (its public key certified by
/// `issuer` per `issuer`'s [`LeafTemplate`], `sig` by the credential key over `att_to_be_signed`
/// = authData ‖ clientDataHash). The leaf's serial is 16 bytes from `rng`. `Ok(None)` for a key
/// Android Keystore cannot attest (EdDSA).
pub fn statement(
    issuer: &AttestationCert,
    signer: &Signer,
    credential: &PrivateKey,
    auth_data: &[u8],
    client_data_hash: &[u8],
    created_ms: u64,
    rng: &mut Rng,
) -> Result<Option<Value>, AttestationError> {
    let key = credential.public_key();
    let default = LeafTemplate::default();
    let template = issuer.android_leaf().unwrap_or(&default);
    let description = match &template.description {
        Some(d) => {
            if !matches!(
                key.algorithm(),
                Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 | Algorithm::Rs256
            ) {
                return Ok(None);
            }
            KeyDescription {
                attestation_challenge: client_data_hash.to_vec(),
                ..d.clone()
            }
        }
        None => match KeyDescription::device(&key, client_data_hash, created_ms) {
            Some(d) => d,
            None => return Ok(None),
        },
    };
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    let leaf = issue_leaf(issuer, &key, &template.subject, &description, &serial)?;
    let signed = [auth_data, client_data_hash].concat();
    let sig = signer.sign(credential, &signed);
    let mut x5c = vec![Value::Bytes(leaf)];
    if template.send_chain {
        x5c.extend(issuer.chain().iter().cloned().map(Value::Bytes));
    }
    Ok(Some(cbor::map([
        ("alg", Value::Integer(key.algorithm().cose_id().into())),
        ("sig", Value::Bytes(sig)),
        ("x5c", Value::Array(x5c)),
    ])))
}

/// The `KeyDescription` extension value of a DER certificate, if it has one.
pub fn key_description_of(cert_der: &[u8]) -> Option<Vec<u8>> {
    let cert = Certificate::from_der(cert_der).ok()?;
    let ext = cert
        .tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == KEY_DESCRIPTION_OID)?;
    Some(ext.extn_value.as_bytes().to_vec())
}

/// `leaf_der` issued again by `issuer` (same subject, key and serial) with `description` (DER)
/// as its `KeyDescription`: for broken fixtures, a correctly signed certificate that says the
/// wrong thing.
pub fn reissue_leaf(
    leaf_der: &[u8],
    description: Vec<u8>,
    issuer: &AttestationCert,
) -> Result<Vec<u8>, AttestationError> {
    let leaf = Certificate::from_der(leaf_der)
        .map_err(|e| AttestationError::BadCertificate(e.to_string()))?;
    let tbs = leaf.tbs_certificate();
    build_leaf(
        issuer,
        tbs.subject_public_key_info().clone(),
        tbs.subject().clone(),
        description,
        tbs.serial_number().clone(),
    )
}

// --- a minimal DER reader, for editing a KeyDescription ---------------------------------------

/// One TLV at the start of `der`: (identifier octets, content, the rest).
fn read_tlv(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let first = *der.first()?;
    let mut at = 1;
    if first & 0x1f == 0x1f {
        while der.get(at)? & 0x80 != 0 {
            at += 1;
        }
        at += 1;
    }
    let tag = &der[..at];
    let l0 = *der.get(at)?;
    at += 1;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        let mut len = 0usize;
        for _ in 0..n {
            len = len.checked_mul(256)? + usize::from(*der.get(at)?);
            at += 1;
        }
        len
    };
    let end = at.checked_add(len)?;
    Some((tag, der.get(at..end)?, &der[end..]))
}

/// One element of a constructed value: its identifier octets and its content.
type Element = (Vec<u8>, Vec<u8>);

/// The elements of a constructed value's content.
fn elements(mut content: &[u8]) -> Option<Vec<Element>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, value, rest) = read_tlv(content)?;
        out.push((tag.to_vec(), value.to_vec()));
        content = rest;
    }
    Some(out)
}

fn encode_elements(tag: &[u8], parts: &[Element]) -> Vec<u8> {
    let mut content = Vec::new();
    for (t, v) in parts {
        tlv(&mut content, t, v);
    }
    let mut out = Vec::new();
    tlv(&mut out, tag, &content);
    out
}

/// The tag number of context-specific identifier octets.
fn tag_number(tag: &[u8]) -> u32 {
    if tag.len() == 1 {
        return u32::from(tag[0] & 0x1f);
    }
    tag[1..]
        .iter()
        .fold(0, |n, b| (n << 7) | u32::from(b & 0x7f))
}

/// The elements of a DER `KeyDescription`.
fn key_description_elements(der: &[u8]) -> Result<Vec<Element>, AttestationError> {
    let bad = || AttestationError::BadCertificate("malformed KeyDescription".into());
    let (tag, content, rest) = read_tlv(der).ok_or_else(bad)?;
    if tag != [0x30] || !rest.is_empty() {
        return Err(bad());
    }
    let parts = elements(content).ok_or_else(bad)?;
    if parts.len() != 8 {
        return Err(bad());
    }
    Ok(parts)
}

/// The `attestationChallenge` of a DER `KeyDescription`.
pub fn challenge_of(description: &[u8]) -> Result<Vec<u8>, AttestationError> {
    Ok(key_description_elements(description)?[4].1.clone())
}

/// A DER `KeyDescription` with another `attestationChallenge`.
pub fn with_challenge(description: &[u8], challenge: &[u8]) -> Result<Vec<u8>, AttestationError> {
    let mut parts = key_description_elements(description)?;
    parts[4].1 = challenge.to_vec();
    Ok(encode_elements(&[0x30], &parts))
}

/// Whether either authorization list of a DER `KeyDescription` holds `allApplications [600]`.
pub fn has_all_applications(description: &[u8]) -> Result<bool, AttestationError> {
    let bad = || AttestationError::BadCertificate("malformed AuthorizationList".into());
    let parts = key_description_elements(description)?;
    for list in &parts[6..] {
        let items = elements(&list.1).ok_or_else(bad)?;
        if items
            .iter()
            .any(|(t, _)| tag_number(t) == 600 && t.len() > 1)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A DER `KeyDescription` whose `teeEnforced` list also holds `allApplications [600] NULL`
/// (in tag order).
pub fn with_all_applications(description: &[u8]) -> Result<Vec<u8>, AttestationError> {
    let bad = || AttestationError::BadCertificate("malformed AuthorizationList".into());
    let mut parts = key_description_elements(description)?;
    let mut items = elements(&parts[7].1).ok_or_else(bad)?;
    let at = items
        .iter()
        .position(|(t, _)| t.len() > 1 && tag_number(t) > 600)
        .unwrap_or(items.len());
    items.insert(at, (context_tag(600), vec![0x05, 0x00]));
    let mut list = Vec::new();
    for (t, v) in &items {
        tlv(&mut list, t, v);
    }
    parts[7].1 = list;
    Ok(encode_elements(&[0x30], &parts))
}

impl AttestationCa {
    /// Issues an "Android Keystore"-style intermediate CA under this root for `android-key`
    /// attestation: CA = true, keyCertSign | cRLSign, ES256. The chain is `[intermediate,
    /// root]` (Android sends its root in `x5c`); each credential's certificate is made from it
    /// by [`statement`].
    pub fn issue_android_key(&self, rng: &mut Rng) -> Result<AttestationCert, AttestationError> {
        let root_signer = super::signing_key(&self.key)?;
        let root_subject = Certificate::from_der(&self.root_der)
            .map_err(|e| AttestationError::BadCertificate(e.to_string()))?
            .tbs_certificate()
            .subject()
            .clone();
        let key = PrivateKey::generate(Algorithm::Es256, rng.as_mut());
        let signer = super::signing_key(&key)?;
        let subject =
            Name::from_str("CN=fauxkey Test Android Keystore CA,OU=fauxkey test CA,O=fauxkey,C=ZZ")
                .map_err(build_err)?;
        let builder = CertificateBuilder::new(
            super::LabProfile::Intermediate {
                issuer: root_subject,
                subject,
            },
            super::serial(rng)?,
            super::validity()?,
            super::spki(&signer)?,
        )
        .map_err(build_err)?;
        let intermediate = super::build(builder, &root_signer)?;
        AttestationCert::from_parts(
            vec![intermediate, self.root_der.clone()],
            &key.secret_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::seeded_rng;

    #[test]
    fn tags_above_30_take_the_multi_byte_form() {
        assert_eq!(context_tag(1), [0xa1]);
        assert_eq!(context_tag(30), [0xbe]);
        assert_eq!(context_tag(31), [0xbf, 0x1f]);
        assert_eq!(context_tag(600), [0xbf, 0x84, 0x58]);
        assert_eq!(context_tag(702), [0xbf, 0x85, 0x3e]);
        assert_eq!(tag_number(&context_tag(702)), 702);
        assert_eq!(integer(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer(300), [0x02, 0x02, 0x01, 0x2c]);
        assert_eq!(integer(128), [0x02, 0x02, 0x00, 0x80]);
        let mut long = Vec::new();
        der_len(&mut long, 300);
        assert_eq!(long, [0x82, 0x01, 0x2c]);
        // SET OF sorts its elements by encoding.
        assert_eq!(
            set_of_integers(&[3, 2]),
            [0x31, 0x06, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03]
        );
    }

    #[test]
    fn the_spec_scripts_minimal_description_encodes_as_it_does() {
        // w3c/webauthn test-vectors: SEQUENCE {300, ENUM 0, 0, ENUM 0, challenge, '', {}, {}}.
        let d = KeyDescription {
            attestation_version: 300,
            attestation_security_level: SecurityLevel::Software,
            keymint_version: 0,
            keymint_security_level: SecurityLevel::Software,
            attestation_challenge: vec![0xab; 32],
            unique_id: Vec::new(),
            software_enforced: AuthorizationList::default(),
            tee_enforced: AuthorizationList::default(),
        };
        let mut want = hex::decode("30350202012c0a01000201000a01000420").expect("hex");
        want.extend_from_slice(&[0xab; 32]);
        want.extend_from_slice(&hex::decode("040030003000").expect("hex"));
        assert_eq!(d.to_der(), want);
    }

    #[test]
    fn a_device_description_has_the_lists_section_8_4_checks() {
        let key = PrivateKey::generate(Algorithm::Es256, seeded_rng(1).as_mut()).public_key();
        let d = KeyDescription::device(&key, &[7; 32], 1_700_000_000_000).expect("EC");
        assert_eq!(d.tee_enforced.purpose, [KM_PURPOSE_SIGN]);
        assert_eq!(d.tee_enforced.origin, Some(KM_ORIGIN_GENERATED));
        assert_eq!(d.tee_enforced.key_size, Some(256));
        assert!(!d.tee_enforced.all_applications && !d.software_enforced.all_applications);
        let der = d.to_der();
        assert_eq!(challenge_of(&der).expect("parse"), [7; 32]);
        assert!(!has_all_applications(&der).expect("parse"));
        // [702] origin = 0 sits in the TEE list: bf 85 3e 03 02 01 00.
        assert!(der
            .windows(7)
            .any(|w| w == [0xbf, 0x85, 0x3e, 0x03, 0x02, 0x01, 0x00]));
        let broken = with_all_applications(&der).expect("edit");
        assert!(has_all_applications(&broken).expect("parse"));
        assert_eq!(challenge_of(&broken).expect("parse"), [7; 32]);
        let other = with_challenge(&der, &[9; 32]).expect("edit");
        assert_eq!(challenge_of(&other).expect("parse"), [9; 32]);
        assert_eq!(other.len(), der.len());
        let rsa = PrivateKey::generate(Algorithm::Rs256, seeded_rng(2).as_mut()).public_key();
        let d = KeyDescription::device(&rsa, &[7; 32], 0).expect("RSA");
        assert_eq!(d.tee_enforced.rsa_public_exponent, Some(65_537));
        assert_eq!(d.tee_enforced.key_size, Some(2048));
        let ed = PrivateKey::generate(Algorithm::EdDsa, seeded_rng(3).as_mut()).public_key();
        assert!(KeyDescription::device(&ed, &[7; 32], 0).is_none());
        assert!(
            challenge_of(&[0x30, 0x00]).is_err(),
            "a malformed description is refused"
        );
    }

    #[test]
    fn the_statement_certifies_the_credential_key_under_the_intermediate() {
        let ca = AttestationCa::generate(&mut seeded_rng(4)).expect("root");
        let issuer = ca
            .issue_android_key(&mut seeded_rng(5))
            .expect("intermediate");
        assert_eq!(issuer.chain().len(), 2);
        assert_eq!(issuer.chain()[1], ca.root_der());
        let credential = PrivateKey::generate(Algorithm::Es256, seeded_rng(6).as_mut());
        let signer = crate::crypto::backend::deterministic();
        let cdh = [3u8; 32];
        let stmt = statement(
            &issuer,
            &signer,
            &credential,
            b"authData",
            &cdh,
            0,
            &mut seeded_rng(7),
        )
        .expect("build")
        .expect("ES256 is attested");
        let Value::Map(entries) = &stmt else {
            panic!("not a map")
        };
        let get = |k: &str| {
            entries
                .iter()
                .find(|(key, _)| key.as_text() == Some(k))
                .map(|(_, v)| v.clone())
                .expect("present")
        };
        let Value::Array(x5c) = get("x5c") else {
            panic!("x5c")
        };
        assert_eq!(x5c.len(), 3, "[leaf, intermediate, root]");
        let leaf = x5c[0].as_bytes().expect("bytes").clone();
        let cert = Certificate::from_der(&leaf).expect("DER");
        let tbs = cert.tbs_certificate();
        assert_eq!(tbs.subject().to_string(), "CN=Android Keystore Key");
        let spki = tbs.subject_public_key_info().to_der().expect("DER");
        assert_eq!(
            spki,
            credential.public_key().spki_der(),
            "leaf key = credential key"
        );
        let description = key_description_of(&leaf).expect("extension");
        assert_eq!(challenge_of(&description).expect("parse"), cdh);
        let sig = get("sig");
        let signed = [&b"authData"[..], &cdh].concat();
        assert!(credential
            .public_key()
            .verify(&signed, sig.as_bytes().expect("bytes")));
        // Reissued with another description: same subject, key and serial, still signed.
        let broken = reissue_leaf(
            &leaf,
            with_all_applications(&description).expect("edit"),
            &issuer,
        )
        .expect("reissue");
        let again = Certificate::from_der(&broken).expect("DER");
        assert_eq!(again.tbs_certificate().serial_number(), tbs.serial_number());
        assert!(has_all_applications(&key_description_of(&broken).expect("ext")).expect("parse"));
        let ed = PrivateKey::generate(Algorithm::EdDsa, seeded_rng(8).as_mut());
        assert!(
            statement(&issuer, &signer, &ed, b"a", &cdh, 0, &mut seeded_rng(9))
                .expect("no error")
                .is_none()
        );
    }
}
