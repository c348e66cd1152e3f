//! The `tpm` attestation statement (WebAuthn L3 §8.3): `certInfo` (a TPMS_ATTEST, TPM 2.0
//! Part 2 §10.12.8) and `pubArea` (a TPMT_PUBLIC, §12.2.4) for RSA and ECC credential keys,
//! signed by an AIK whose certificate the vault's test CA issues
//! ([`super::AttestationCa::issue_tpm`]). All integers are big-endian, as the TPM marshals them.

use ciborium::value::Value;
use sha2::{Digest as _, Sha256};
use x509_cert::der::oid::ObjectIdentifier;

use super::AttestationCert;
use crate::cbor;
use crate::crypto::backend::Signer;
use crate::crypto::keys::PublicKey;

/// EKU `tcg-kp-AIKCertificate` (2.23.133.8.3), which an AIK certificate MUST carry.
pub const TCG_KP_AIK_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.8.3");
/// `tcg-at-tpmManufacturer` (TCG EK Credential Profile §3.2.9).
pub const TCG_AT_TPM_MANUFACTURER: &str = "2.23.133.2.1";
/// `tcg-at-tpmModel`.
pub const TCG_AT_TPM_MODEL: &str = "2.23.133.2.2";
/// `tcg-at-tpmVersion`.
pub const TCG_AT_TPM_VERSION: &str = "2.23.133.2.3";
/// The manufacturer in the AIK certificate: the FIDO Alliance's test vendor id, never a real one.
pub const TPM_MANUFACTURER: &str = "id:FFFFF1D0";
/// The model in the AIK certificate.
pub const TPM_MODEL: &str = "fauxkey";
/// The firmware version in the AIK certificate (`id:` and 8 hex digits).
pub const TPM_VERSION: &str = "id:00000001";

/// `TPM_GENERATED_VALUE`, the magic of every TPMS_ATTEST.
pub const TPM_GENERATED_VALUE: u32 = 0xff54_4347;
/// `TPM_ST_ATTEST_CERTIFY`.
pub const TPM_ST_ATTEST_CERTIFY: u16 = 0x8017;
const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_SHA256: u16 = 0x000b;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ALG_ECC: u16 = 0x0023;
/// fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | noDA | sign: a signing key
/// created inside the TPM (what Windows Hello's keys carry).
pub const OBJECT_ATTRIBUTES: u32 = 0x0006_0472;
/// The firmware version certInfo reports.
pub const FIRMWARE_VERSION: u64 = 0x0007_0002_0000_0001;

/// What the TPM itself puts into `pubArea` and `certInfo`, apart from the key and the signed
/// data: fields a relying party reads but WebAuthn L3 §8.3 does not check. The default is
/// what fauxkey's TPM reports (Windows Hello's key attributes, the AIK's names filled in, a
/// clock that has been reset once). [`TpmDevice::spec_test_vectors`] is what the WebAuthn L3
/// test-vector script writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpmDevice {
    /// TPMT_PUBLIC.objectAttributes (TPMA_OBJECT) of every credential key.
    pub object_attributes: u32,
    /// Fill TPMS_ATTEST.qualifiedSigner with the AIK's Name stand-in (SHA-256 of its
    /// certificate) and TPMS_CERTIFY_INFO.qualifiedName with the key's qualified name, as a
    /// TPM does; `false` leaves both empty (size 0).
    pub qualified_names: bool,
    /// TPMS_CLOCK_INFO.resetCount.
    pub reset_count: u32,
    /// TPMS_CLOCK_INFO.restartCount.
    pub restart_count: u32,
    /// TPMS_CLOCK_INFO.safe (a TPMI_YES_NO on a real TPM: 0 or 1).
    pub safe: u8,
    /// TPMS_ATTEST.firmwareVersion.
    pub firmware_version: u64,
}

impl Default for TpmDevice {
    fn default() -> Self {
        Self {
            object_attributes: OBJECT_ATTRIBUTES,
            qualified_names: true,
            reset_count: 1,
            restart_count: 0,
            safe: 1,
            firmware_version: FIRMWARE_VERSION,
        }
    }
}

impl TpmDevice {
    /// The fields of the WebAuthn L3 test-vector script (`webauthn-test-vectors.py`,
    /// `gen_tpm_attestation_statement`, case `tpm-es256`): objectAttributes `sign` only
    /// (1 << 18), empty qualifiedSigner and qualifiedName, resetCount 0x11111111, restartCount
    /// 0x22222222, safe 0x33 and firmwareVersion 0. With the clock at 0 ms and that case's AIK,
    /// fauxkey's statement is the spec's byte for byte.
    pub fn spec_test_vectors() -> Self {
        Self {
            object_attributes: 1 << 18,
            qualified_names: false,
            reset_count: 0x1111_1111,
            restart_count: 0x2222_2222,
            safe: 0x33,
            firmware_version: 0,
        }
    }
}

fn tpm2b(out: &mut Vec<u8>, bytes: &[u8]) {
    // Every TPM2B here is far below 64 KiB (at most a 4096-bit modulus).
    out.extend_from_slice(&u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The TPMT_PUBLIC of a credential key: RSA (TPMS_RSA_PARMS, the modulus as unique) or ECC
/// (TPMS_ECC_PARMS with the curve, the point's x and y as unique); nameAlg SHA-256, no
/// authPolicy, no symmetric, scheme or KDF; fauxkey's [`TpmDevice::default`] attributes.
/// `None` for EdDSA, which TPMs do not have.
pub fn pub_area(key: &PublicKey) -> Option<Vec<u8>> {
    pub_area_for(key, &TpmDevice::default())
}

/// [`pub_area`] with `device`'s objectAttributes.
pub fn pub_area_for(key: &PublicKey, device: &TpmDevice) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(300);
    let header = |out: &mut Vec<u8>, alg: u16| {
        out.extend_from_slice(&alg.to_be_bytes()); // type
        out.extend_from_slice(&TPM_ALG_SHA256.to_be_bytes()); // nameAlg
        out.extend_from_slice(&device.object_attributes.to_be_bytes()); // objectAttributes
        tpm2b(out, &[]); // authPolicy
        out.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()); // symmetric
        out.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()); // scheme
    };
    if let Some((n, e)) = key.rsa_components() {
        header(&mut out, TPM_ALG_RSA);
        let bits = u16::try_from(n.len() * 8).ok()?;
        out.extend_from_slice(&bits.to_be_bytes()); // keyBits
                                                    // exponent: 0 means the default 2^16 + 1.
        let e = if e == [1, 0, 1] {
            0
        } else {
            e.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
        };
        out.extend_from_slice(&e.to_be_bytes());
        tpm2b(&mut out, &n); // unique: TPM2B_PUBLIC_KEY_RSA
        return Some(out);
    }
    let (x, y) = key.ec_coordinates()?;
    let curve: u16 = match x.len() {
        32 => 0x0003, // TPM_ECC_NIST_P256
        48 => 0x0004, // TPM_ECC_NIST_P384
        66 => 0x0005, // TPM_ECC_NIST_P521
        _ => return None,
    };
    header(&mut out, TPM_ALG_ECC);
    out.extend_from_slice(&curve.to_be_bytes()); // curveID
    out.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()); // kdf
    tpm2b(&mut out, &x); // unique: TPMS_ECC_POINT
    tpm2b(&mut out, &y);
    Some(out)
}

/// The TPM Name of `pub_area`: nameAlg (SHA-256) ‖ SHA-256(pubArea).
pub fn name(pub_area: &[u8]) -> Vec<u8> {
    [&TPM_ALG_SHA256.to_be_bytes()[..], &Sha256::digest(pub_area)].concat()
}

/// The TPMS_ATTEST for `pub_area`: magic, TPM_ST_ATTEST_CERTIFY, a qualifiedSigner (the AIK's
/// Name stand-in: SHA-256 of its certificate), extraData = SHA-256(attToBeSigned), clockInfo
/// (`clock_ms`, resetCount, restartCount, safe), firmwareVersion, and TPMS_CERTIFY_INFO with
/// the attested name = nameAlg ‖ H(pubArea) and a qualifiedName; the other fields from
/// fauxkey's [`TpmDevice::default`].
pub fn cert_info(
    pub_area: &[u8],
    att_to_be_signed: &[u8],
    aik_der: &[u8],
    clock_ms: u64,
) -> Vec<u8> {
    cert_info_for(
        &TpmDevice::default(),
        pub_area,
        att_to_be_signed,
        aik_der,
        clock_ms,
    )
}

/// [`cert_info`] with `device`'s clock counters, firmware version and qualified names.
pub fn cert_info_for(
    device: &TpmDevice,
    pub_area: &[u8],
    att_to_be_signed: &[u8],
    aik_der: &[u8],
    clock_ms: u64,
) -> Vec<u8> {
    let qualified = |n: Vec<u8>| {
        if device.qualified_names {
            n
        } else {
            Vec::new()
        }
    };
    let mut out = Vec::with_capacity(150);
    out.extend_from_slice(&TPM_GENERATED_VALUE.to_be_bytes()); // magic
    out.extend_from_slice(&TPM_ST_ATTEST_CERTIFY.to_be_bytes()); // type
    tpm2b(&mut out, &qualified(name(aik_der))); // qualifiedSigner
    tpm2b(&mut out, &Sha256::digest(att_to_be_signed)); // extraData
    out.extend_from_slice(&clock_ms.to_be_bytes()); // clockInfo.clock
    out.extend_from_slice(&device.reset_count.to_be_bytes()); // clockInfo.resetCount
    out.extend_from_slice(&device.restart_count.to_be_bytes()); // clockInfo.restartCount
    out.push(device.safe); // clockInfo.safe
    out.extend_from_slice(&device.firmware_version.to_be_bytes()); // firmwareVersion
    tpm2b(&mut out, &name(pub_area)); // attested.name
    let qualified_name = qualified(name(&[name(aik_der), name(pub_area)].concat()));
    tpm2b(&mut out, &qualified_name); // attested.qualifiedName
    out
}

/// The `tpm` attStmt `{ver: "2.0", alg, x5c, sig, certInfo, pubArea}` for a credential
/// `key`, signed with the AIK of `aik` (the signature over certInfo, in the AIK algorithm's
/// WebAuthn form), with the TPM fields of the AIK's [`AttestationCert::tpm_device`]. `None`
/// for a key type a TPM cannot hold (EdDSA).
pub fn statement(
    aik: &AttestationCert,
    signer: &Signer,
    key: &PublicKey,
    att_to_be_signed: &[u8],
    clock_ms: u64,
) -> Option<Value> {
    let device = aik.tpm_device();
    let pub_area = pub_area_for(key, device)?;
    let aik_der = aik.chain().first()?;
    let cert_info = cert_info_for(device, &pub_area, att_to_be_signed, aik_der, clock_ms);
    let sig = signer.sign(aik.key(), &cert_info);
    let x5c = aik.chain().iter().cloned().map(Value::Bytes).collect();
    Some(cbor::map([
        ("ver", Value::Text("2.0".into())),
        (
            "alg",
            Value::Integer(aik.key().algorithm().cose_id().into()),
        ),
        ("x5c", Value::Array(x5c)),
        ("sig", Value::Bytes(sig)),
        ("certInfo", Value::Bytes(cert_info)),
        ("pubArea", Value::Bytes(pub_area)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::AttestationCa;
    use crate::crypto::keys::{Algorithm, PrivateKey};
    use crate::env::seeded_rng;
    use x509_cert::der::Decode as _;

    #[test]
    fn ecc_and_rsa_pub_areas_have_the_part_2_layout() {
        let ec = PrivateKey::generate(Algorithm::Es256, seeded_rng(1).as_mut()).public_key();
        let area = pub_area(&ec).expect("ECC");
        let (x, y) = ec.ec_coordinates().expect("EC2");
        let mut want =
            hex::decode("0023000b000604720000001000100003001000 20".replace(' ', "")).expect("hex");
        want.extend_from_slice(&x);
        want.extend_from_slice(&[0x00, 0x20]);
        want.extend_from_slice(&y);
        assert_eq!(area, want);
        let rsa = PrivateKey::generate(Algorithm::Rs256, seeded_rng(2).as_mut()).public_key();
        let area = pub_area(&rsa).expect("RSA");
        let (n, _) = rsa.rsa_components().expect("RSA");
        assert_eq!(
            &area[..22],
            &hex::decode("0001000b00060472000000100010080000000000 0100".replace(' ', ""))
                .expect("hex")[..]
        );
        assert_eq!(&area[22..], &n[..]);
        let ed = PrivateKey::generate(Algorithm::EdDsa, seeded_rng(3).as_mut()).public_key();
        assert!(pub_area(&ed).is_none());
    }

    #[test]
    fn cert_info_binds_the_signed_data_and_the_pub_area() {
        let area = [7u8; 10];
        let info = cert_info(&area, b"authData||cdh", b"aik", 5);
        assert_eq!(&info[..6], &[0xff, 0x54, 0x43, 0x47, 0x80, 0x17]);
        // qualifiedSigner: 2 + 34 bytes; extraData follows.
        assert_eq!(&info[6..8], &[0, 34]);
        assert_eq!(&info[42..44], &[0, 32]);
        assert_eq!(&info[44..76], Sha256::digest(b"authData||cdh").as_slice());
        // clockInfo (17) and firmwareVersion (8), then the attested name.
        assert_eq!(&info[76..84], &5u64.to_be_bytes());
        assert_eq!(&info[101..103], &[0, 34]);
        assert_eq!(&info[103..137], name(&area).as_slice());
        assert_eq!(info.len(), 137 + 36);
    }

    #[test]
    fn the_aik_certificate_meets_the_tpm_requirements() {
        let ca = AttestationCa::generate(&mut seeded_rng(4)).expect("root");
        let aaguid = crate::FAUXKEY_AAGUID;
        let aik = ca.issue_tpm(aaguid, &mut seeded_rng(5)).expect("aik");
        assert_eq!(aik, ca.issue_tpm(aaguid, &mut seeded_rng(5)).expect("aik"));
        assert_eq!(aik.chain().len(), 2);
        assert_eq!(aik.aaguid(), Some(aaguid));
        let cert = x509_cert::Certificate::from_der(&aik.chain()[0]).expect("DER");
        let tbs = cert.tbs_certificate();
        assert!(tbs.subject().is_empty());
        let exts = tbs.extensions().cloned().unwrap_or_default();
        let eku = exts
            .iter()
            .find(|e| e.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
            .expect("EKU");
        let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku.extn_value.as_bytes())
            .expect("EKU DER");
        assert_eq!(eku.0, vec![TCG_KP_AIK_CERTIFICATE]);
        let san = exts
            .iter()
            .find(|e| e.extn_id == x509_cert::der::oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
            .expect("SAN");
        assert!(san.critical, "an empty subject makes the SAN critical");
        let text = x509_cert::ext::pkix::SubjectAltName::from_der(san.extn_value.as_bytes())
            .map(|s| format!("{:?}", s.0))
            .expect("SAN DER");
        assert!(text.contains("DirectoryName"), "{text}");
        let inter = x509_cert::Certificate::from_der(&aik.chain()[1]).expect("DER");
        assert_eq!(tbs.issuer(), inter.tbs_certificate().subject());
        let root = x509_cert::Certificate::from_der(ca.root_der()).expect("DER");
        assert_eq!(
            inter.tbs_certificate().issuer(),
            root.tbs_certificate().subject()
        );
    }
}
