//! Credential key pairs: generation, signing, and their public forms (COSE_Key and SPKI).
//!
//! ECDSA signatures (ES256, ES384, ES512) are ASN.1 DER and use RFC 6979 nonces; Ed25519 and
//! RSASSA-PKCS1-v1_5 (RS256) are deterministic by design. With a seeded RNG for key
//! generation, every signature fauxkey makes is reproducible.

use ciborium::value::Value;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::CryptoRng;
use rsa::traits::PublicKeyParts as _;
use zeroize::Zeroizing;

use crate::crypto::cose;

/// A COSE signature algorithm fauxkey can create credentials for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// ES256: ECDSA on P-256 with SHA-256 (COSE -7).
    Es256,
    /// EdDSA with Ed25519 (COSE -8).
    EdDsa,
    /// ES384: ECDSA on P-384 with SHA-384 (COSE -35).
    Es384,
    /// ES512: ECDSA on P-521 with SHA-512 (COSE -36).
    Es512,
    /// RS256: RSASSA-PKCS1-v1_5 with SHA-256 (COSE -257), RSA-2048 keys (Windows Hello's).
    Rs256,
}

/// The modulus size of generated RS256 keys, in bits.
pub const RSA_BITS: usize = 2048;

impl Algorithm {
    /// Every algorithm fauxkey implements.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Es256,
        Algorithm::EdDsa,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::Rs256,
    ];

    /// The algorithms a configuration lists when it names none: ES256 and EdDSA.
    pub const DEFAULT: [Algorithm; 2] = [Algorithm::Es256, Algorithm::EdDsa];

    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::Es256 => -7,
            Algorithm::EdDsa => -8,
            Algorithm::Es384 => -35,
            Algorithm::Es512 => -36,
            Algorithm::Rs256 => -257,
        }
    }

    /// The algorithm for a COSE identifier, if fauxkey implements it.
    pub fn from_cose_id(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Algorithm::Es256),
            -8 => Some(Algorithm::EdDsa),
            -35 => Some(Algorithm::Es384),
            -36 => Some(Algorithm::Es512),
            -257 => Some(Algorithm::Rs256),
            _ => None,
        }
    }

    /// A short lower-case name (`es256`, `eddsa`, `es384`, `es512`, `rs256`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "es256",
            Algorithm::EdDsa => "eddsa",
            Algorithm::Es384 => "es384",
            Algorithm::Es512 => "es512",
            Algorithm::Rs256 => "rs256",
        }
    }

    /// The algorithm for a [`Algorithm::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The FIDO Registry name of the algorithm (what MDS3 `authenticationAlgorithms` lists).
    pub fn fido_registry_name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "secp256r1_ecdsa_sha256_raw",
            Algorithm::EdDsa => "ed25519_eddsa_sha512_raw",
            Algorithm::Es384 => "secp384r1_ecdsa_sha384_raw",
            Algorithm::Es512 => "secp521r1_ecdsa_sha512_raw",
            Algorithm::Rs256 => "rsassa_pkcsv15_sha256_raw",
        }
    }
}

fn alg_label(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "ES256",
        Algorithm::EdDsa => "Ed25519",
        Algorithm::Es384 => "ES384",
        Algorithm::Es512 => "ES512",
        Algorithm::Rs256 => "RS256",
    }
}

/// Why key bytes could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes are not a valid key for the algorithm.
    #[error("invalid {0} private key")]
    Invalid(&'static str),
    /// The PKCS#8 document holds an algorithm fauxkey does not implement.
    #[error("PKCS#8 key is none of P-256, P-384, P-521, Ed25519 or RSA")]
    UnsupportedPkcs8,
}

type RsaSigner = rsa::pkcs1v15::SigningKey<sha2::Sha256>;

fn rsa_key(k: &RsaSigner) -> &rsa::RsaPrivateKey {
    k.as_ref()
}

enum Inner {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
    Es384(p384::ecdsa::SigningKey),
    Es512(p521::ecdsa::SigningKey),
    Rs256(Box<RsaSigner>),
}

impl Inner {
    fn algorithm(&self) -> Algorithm {
        match self {
            Inner::Es256(_) => Algorithm::Es256,
            Inner::EdDsa(_) => Algorithm::EdDsa,
            Inner::Es384(_) => Algorithm::Es384,
            Inner::Es512(_) => Algorithm::Es512,
            Inner::Rs256(_) => Algorithm::Rs256,
        }
    }

    fn secret(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            Inner::Es256(k) => k.to_bytes().to_vec(),
            Inner::EdDsa(k) => k.to_bytes().to_vec(),
            Inner::Es384(k) => k.to_bytes().to_vec(),
            Inner::Es512(k) => k.to_bytes().to_vec(),
            // A generated or parsed RSA key always encodes; an empty secret would be refused
            // when read back.
            Inner::Rs256(k) => rsa_key(k)
                .to_pkcs8_der()
                .map(|d| d.as_bytes().to_vec())
                .unwrap_or_default(),
        })
    }
}

/// A credential private key. Wiped on drop (the secret is `Zeroizing`, and every inner key
/// type zeroizes); never printed.
///
/// A key read back from storage is parsed lazily, on its first use: building a P-256 signing key
/// costs a scalar multiplication, and opening a vault of 10,000 passkeys should not pay that.
pub struct PrivateKey {
    alg: Algorithm,
    secret: Zeroizing<Vec<u8>>,
    parsed: std::sync::OnceLock<Box<Inner>>,
    /// A signing backend's own parsed form of this key (see [`PrivateKey::accelerated`]).
    accel: std::sync::OnceLock<Option<Box<dyn std::any::Any + Send + Sync>>>,
    /// The public key, when whoever built this key already knew it (a signing backend's key
    /// generation, see `PrivateKey::from_generated_es256`); otherwise derived from the parsed key.
    public: std::sync::OnceLock<PublicKey>,
    /// The public key's COSE_Key bytes, when a signing backend's key generation gave the
    /// point's coordinates (see `PrivateKey::from_generated_es256`): makeCredential writes these
    /// without converting the point to RustCrypto's form and back.
    public_cose: std::sync::OnceLock<Vec<u8>>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.alg.name())
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        PrivateKey::unparsed(self.alg, self.secret.clone())
    }
}

fn parse_inner(alg: Algorithm, secret: &[u8]) -> Result<Inner, KeyError> {
    let bad = || KeyError::Invalid(alg_label(alg));
    Ok(match alg {
        Algorithm::Es256 => Inner::Es256(
            p256::SecretKey::from_slice(secret)
                .map(p256::ecdsa::SigningKey::from)
                .map_err(|_| bad())?,
        ),
        Algorithm::EdDsa => Inner::EdDsa(ed25519_dalek::SigningKey::from_bytes(
            secret.try_into().map_err(|_| bad())?,
        )),
        Algorithm::Es384 => {
            if secret.len() != 48 {
                return Err(bad());
            }
            Inner::Es384(p384::ecdsa::SigningKey::from_slice(secret).map_err(|_| bad())?)
        }
        Algorithm::Es512 => {
            if secret.len() != 66 {
                return Err(bad());
            }
            Inner::Es512(p521::ecdsa::SigningKey::from_slice(secret).map_err(|_| bad())?)
        }
        Algorithm::Rs256 => {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(secret).map_err(|_| bad())?;
            let bits = key.n().bits();
            if !(2048..=4096).contains(&bits) {
                return Err(bad());
            }
            Inner::Rs256(Box::new(RsaSigner::new(key)))
        }
    })
}

impl PrivateKey {
    /// A key of `alg` with `secret` and nothing parsed or derived yet (the caller has
    /// validated the secret).
    fn unparsed(alg: Algorithm, secret: Zeroizing<Vec<u8>>) -> Self {
        PrivateKey {
            alg,
            secret,
            parsed: std::sync::OnceLock::new(),
            accel: std::sync::OnceLock::new(),
            public: std::sync::OnceLock::new(),
            public_cose: std::sync::OnceLock::new(),
        }
    }

    fn from_inner(inner: Inner) -> Self {
        let key = Self::unparsed(inner.algorithm(), inner.secret());
        let _ = key.parsed.set(Box::new(inner));
        key
    }

    fn inner(&self) -> &Inner {
        self.parsed.get_or_init(|| {
            // The secret was validated when this key was built, so this cannot fail.
            Box::new(
                parse_inner(self.alg, &self.secret)
                    .unwrap_or_else(|_| unreachable!("key validated at construction")),
            )
        })
    }

    /// Drops the parsed form (it is rebuilt from the secret on the next use). A store holding
    /// many keys keeps only the secrets of the ones not in use.
    pub fn drop_parsed(&mut self) {
        self.parsed.take();
        self.accel.take();
        self.public.take();
        self.public_cose.take();
    }

    /// An ES256 key that a signing backend generated, with the uncompressed SEC1 point
    /// (`04 ‖ x ‖ y`) it computed: its COSE_Key bytes are kept as they are, and
    /// [`PrivateKey::public_key`] decodes the point only if asked, so neither signing nor the
    /// public key parses `secret` with RustCrypto (a P-256 scalar multiplication). `accel`
    /// becomes the key's [`PrivateKey::accelerated`] form. The secret is validated like
    /// [`PrivateKey::from_secret_bytes`]; that the point belongs to it is the caller's word.
    #[cfg(feature = "aws-lc-rs")]
    pub(crate) fn from_generated_es256<T: std::any::Any + Send + Sync>(
        secret: &[u8],
        sec1: &[u8],
        accel: T,
    ) -> Result<Self, KeyError> {
        let bad = || KeyError::Invalid(alg_label(Algorithm::Es256));
        let (x, y) = match sec1 {
            [0x04, xy @ ..] if xy.len() == 64 => xy.split_at(32),
            _ => return Err(bad()),
        };
        let key = Self::from_secret_bytes(Algorithm::Es256, secret)?;
        let _ = key.public_cose.set(es256_cose(x, y));
        let _ = key
            .accel
            .set(Some(Box::new(accel) as Box<dyn std::any::Any + Send + Sync>));
        Ok(key)
    }

    /// The public key's COSE_Key bytes ([`PublicKey::cose_bytes`]).
    pub fn public_cose_bytes(&self) -> Vec<u8> {
        match self.public_cose.get() {
            Some(cose) => cose.clone(),
            None => self.public_key().cose_bytes(),
        }
    }

    /// A signing backend's parsed form of this key, built by `parse` on first use and kept
    /// with the key (dropped by [`PrivateKey::drop_parsed`] and not cloned). One backend per
    /// key: a second backend with another type gets `None` and must fall back.
    pub fn accelerated<T: std::any::Any + Send + Sync>(
        &self,
        parse: impl FnOnce(&PrivateKey) -> Option<T>,
    ) -> Option<&T> {
        self.accel
            .get_or_init(|| {
                parse(self).map(|t| Box::new(t) as Box<dyn std::any::Any + Send + Sync>)
            })
            .as_ref()
            .and_then(|b| b.downcast_ref::<T>())
    }

    /// Generates a fresh key pair from `rng`. Every algorithm draws its key from `rng` alone,
    /// so a seeded RNG gives the same key every time (RS256: RSA-2048 with e = 65537, primes
    /// found by the pinned `rsa` crate's search; this takes a noticeable fraction of a second).
    pub fn generate(alg: Algorithm, rng: &mut dyn CryptoRng) -> Self {
        Self::from_inner(match alg {
            Algorithm::Es256 => return Self::es256_from_scalar(p256_scalar(rng)),
            Algorithm::EdDsa => Inner::EdDsa(ed25519_dalek::SigningKey::generate(rng)),
            Algorithm::Es384 => Inner::Es384(p384::ecdsa::SigningKey::from(p384_scalar(rng))),
            Algorithm::Es512 => Inner::Es512(p521::ecdsa::SigningKey::from(p521_scalar(rng))),
            Algorithm::Rs256 => Inner::Rs256(Box::new(RsaSigner::new(
                rsa::RsaPrivateKey::new(rng, RSA_BITS)
                    .unwrap_or_else(|_| unreachable!("2048 bits is a valid RSA size")),
            ))),
        })
    }

    /// A fresh ES256 key from its scalar: the public key comes from fauxkey's affine-table
    /// fixed-base multiplication (`crypto::p256_base`, the same point as p256's), and no
    /// `SigningKey` is built, since that would multiply by the generator a second time. The key
    /// stays unparsed: signing uses the scalar alone (see [`PrivateKey::sign`]).
    fn es256_from_scalar(mut scalar: p256::NonZeroScalar) -> Self {
        use p256::elliptic_curve::PrimeField as _;
        use zeroize::Zeroize as _;
        let point = crate::crypto::p256_base::public_point(&scalar);
        let public = p256::ecdsa::VerifyingKey::from_affine(point)
            .unwrap_or_else(|_| unreachable!("a non-zero scalar times G is not the identity"));
        let repr = Zeroizing::new(scalar.to_repr());
        scalar.zeroize();
        let key = Self::unparsed(Algorithm::Es256, Zeroizing::new(repr.to_vec()));
        let _ = key.public.set(PublicKey::Es256(public));
        key
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Signs `message`: DER ECDSA (RFC 6979 nonce) for ES256/ES384/ES512, 64 raw bytes for
    /// Ed25519, the RSASSA-PKCS1-v1_5 signature (modulus-sized) for RS256.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        if self.alg == Algorithm::Es256 && self.parsed.get().is_none() {
            // Sign straight from the scalar: building a `SigningKey` would also compute the
            // public key, a scalar multiplication a signature does not need.
            if let Ok(secret) = <&[u8; 32]>::try_from(self.secret.as_slice()) {
                return es256_sign_with_scalar(secret, message);
            }
        }
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        match self.inner() {
            Inner::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Inner::EdDsa(k) => k.sign(message).to_bytes().to_vec(),
            Inner::Es384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Inner::Es512(k) => {
                let sig: p521::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Inner::Rs256(k) => {
                // RFC 8017 §8.2.1: the signature is exactly k = ceil(bits / 8) bytes. The `rsa`
                // pre-release pads it to whole 64-bit limbs, which only a modulus whose size is
                // not a multiple of 64 bits shows (the spec vectors' 3482-bit key: 440 bytes
                // instead of 436); the extra leading bytes are zero.
                let sig = k.sign(message).to_vec();
                let len = rsa_key(k).size();
                match sig.len().checked_sub(len) {
                    Some(extra) if extra > 0 && sig[..extra].iter().all(|b| *b == 0) => {
                        sig[extra..].to_vec()
                    }
                    _ => sig,
                }
            }
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        if let Some(public) = self.public.get() {
            return public.clone();
        }
        if let Some(public) = self
            .public_cose
            .get()
            .and_then(|c| crate::cbor::decode(c).ok())
            .and_then(|c| PublicKey::from_cose(&c).ok())
        {
            return self.public.get_or_init(|| public).clone();
        }
        match self.inner() {
            Inner::Es256(k) => PublicKey::Es256(*k.verifying_key()),
            Inner::EdDsa(k) => PublicKey::EdDsa(k.verifying_key()),
            Inner::Es384(k) => PublicKey::Es384(*k.verifying_key()),
            Inner::Es512(k) => PublicKey::Es512(*k.verifying_key()),
            Inner::Rs256(k) => PublicKey::Rs256(Box::new(rsa_key(k).to_public_key())),
        }
    }

    /// The stored secret: the P-256 (32 bytes), P-384 (48) or P-521 (66) scalar, big-endian;
    /// the 32-byte Ed25519 seed; for RS256 the PKCS#8 DER `PrivateKeyInfo` (vault SPEC §4.4).
    pub fn secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        self.secret.clone()
    }

    /// Rebuilds a key from [`PrivateKey::secret_bytes`]. Cheap for the curves: the key is
    /// validated now and parsed on first use. An RSA key is parsed (and checked) now.
    pub fn from_secret_bytes(alg: Algorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        let bad = || KeyError::Invalid(alg_label(alg));
        let secret = Zeroizing::new(bytes.to_vec());
        match alg {
            Algorithm::Es256 => {
                let fixed: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
                // 1 <= d < n, without computing the public key.
                let scalar: Option<p256::NonZeroScalar> =
                    p256::NonZeroScalar::from_repr(fixed.into()).into();
                scalar.ok_or_else(bad)?;
            }
            Algorithm::EdDsa => {
                if bytes.len() != 32 {
                    return Err(bad());
                }
            }
            Algorithm::Es384 | Algorithm::Es512 | Algorithm::Rs256 => {
                let inner = parse_inner(alg, bytes)?;
                let key = Self::unparsed(alg, secret);
                let _ = key.parsed.set(Box::new(inner));
                return Ok(key);
            }
        }
        Ok(Self::unparsed(alg, secret))
    }

    /// The key as a PKCS#8 DER document (what WebDriver's `addCredential` exchanges).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let bad = |_| KeyError::Invalid(alg_label(self.alg));
        let doc = match self.inner() {
            Inner::Es256(k) => k.to_pkcs8_der().map_err(bad)?,
            Inner::EdDsa(k) => k.to_pkcs8_der().map_err(bad)?,
            Inner::Es384(k) => k.to_pkcs8_der().map_err(bad)?,
            Inner::Es512(k) => p521::SecretKey::from(k.as_nonzero_scalar())
                .to_pkcs8_der()
                .map_err(bad)?,
            Inner::Rs256(k) => rsa_key(k).to_pkcs8_der().map_err(bad)?,
        };
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Reads a PKCS#8 DER document holding a P-256, P-384, P-521, Ed25519 or RSA key (an RSA
    /// key becomes an RS256 credential key).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::Es256(k)));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::EdDsa(k)));
        }
        if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::Es384(k)));
        }
        if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::Es512(k.into())));
        }
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
            let der = k.to_pkcs8_der().map_err(|_| KeyError::Invalid("RS256"))?;
            return Self::from_secret_bytes(Algorithm::Rs256, der.as_bytes());
        }
        Err(KeyError::UnsupportedPkcs8)
    }
}

/// A credential public key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// A P-256 point.
    Es256(p256::ecdsa::VerifyingKey),
    /// An Ed25519 point.
    EdDsa(ed25519_dalek::VerifyingKey),
    /// A P-384 point.
    Es384(p384::ecdsa::VerifyingKey),
    /// A P-521 point.
    Es512(p521::ecdsa::VerifyingKey),
    /// An RSA public key (modulus and exponent).
    Rs256(Box<rsa::RsaPublicKey>),
}

impl PublicKey {
    /// The COSE_Key as a CBOR map (WebAuthn L3 §6.5.1.1: kty, alg, crv, x[, y] for the curves;
    /// kty, alg, n, e for RSA (RFC 8230 §4); nothing else), built with `coset`.
    pub fn cose(&self) -> Value {
        match self {
            PublicKey::Es256(k) => {
                let point = k.to_sec1_point(false);
                let (x, y) = (point.x().map(|x| x.to_vec()), point.y().map(|y| y.to_vec()));
                cose::ec2_p256(
                    coset::iana::Algorithm::ES256,
                    x.unwrap_or_default(),
                    y.unwrap_or_default(),
                )
            }
            PublicKey::EdDsa(k) => cose::okp_ed25519(k.to_bytes().to_vec()),
            PublicKey::Es384(k) => {
                let point = k.to_sec1_point(false);
                cose::ec2(
                    coset::iana::EllipticCurve::P_384,
                    coset::iana::Algorithm::ES384,
                    point.x().map(|x| x.to_vec()).unwrap_or_default(),
                    point.y().map(|y| y.to_vec()).unwrap_or_default(),
                )
            }
            PublicKey::Es512(k) => {
                let point = k.to_sec1_point(false);
                cose::ec2(
                    coset::iana::EllipticCurve::P_521,
                    coset::iana::Algorithm::ES512,
                    point.x().map(|x| x.to_vec()).unwrap_or_default(),
                    point.y().map(|y| y.to_vec()).unwrap_or_default(),
                )
            }
            PublicKey::Rs256(k) => cose::rsa_rs256(k.n_bytes().to_vec(), k.e_bytes().to_vec()),
        }
    }

    /// Reads a COSE_Key map for ES256/ES384/ES512 (EC2 on P-256/P-384/P-521), EdDSA (OKP,
    /// Ed25519) or RS256 (RSA), parsed by `coset`.
    pub fn from_cose(v: &Value) -> Result<Self, KeyError> {
        let key = cose::parse(v).ok_or(KeyError::Invalid("COSE"))?;
        match (key.kty(), key.alg(), key.crv()) {
            (Some(cose::KTY_EC2), Some(-7), Some(cose::CRV_P256)) => {
                let coord = |c: Option<&[u8]>| c.and_then(|c| p256::FieldBytes::try_from(c).ok());
                let (x, y) = coord(key.x())
                    .zip(coord(key.y()))
                    .ok_or(KeyError::Invalid("ES256"))?;
                let point = p256::Sec1Point::from_affine_coordinates(&x, &y, false);
                p256::ecdsa::VerifyingKey::from_sec1_point(&point)
                    .map(PublicKey::Es256)
                    .map_err(|_| KeyError::Invalid("ES256"))
            }
            (Some(cose::KTY_EC2), Some(-35), Some(cose::CRV_P384)) => {
                let sec1 =
                    sec1_uncompressed(key.x(), key.y(), 48).ok_or(KeyError::Invalid("ES384"))?;
                p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map(PublicKey::Es384)
                    .map_err(|_| KeyError::Invalid("ES384"))
            }
            (Some(cose::KTY_EC2), Some(-36), Some(cose::CRV_P521)) => {
                let sec1 =
                    sec1_uncompressed(key.x(), key.y(), 66).ok_or(KeyError::Invalid("ES512"))?;
                p521::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map(PublicKey::Es512)
                    .map_err(|_| KeyError::Invalid("ES512"))
            }
            (Some(cose::KTY_OKP), Some(-8), Some(cose::CRV_ED25519)) => {
                let x: &[u8; 32] = key
                    .x()
                    .and_then(|x| x.try_into().ok())
                    .ok_or(KeyError::Invalid("Ed25519"))?;
                ed25519_dalek::VerifyingKey::from_bytes(x)
                    .map(PublicKey::EdDsa)
                    .map_err(|_| KeyError::Invalid("Ed25519"))
            }
            (Some(cose::KTY_RSA), Some(-257), _) => {
                let (n, e) = key
                    .rsa_n()
                    .zip(key.rsa_e())
                    .ok_or(KeyError::Invalid("RS256"))?;
                rsa_public(n, e).map(|k| PublicKey::Rs256(Box::new(k)))
            }
            _ => Err(KeyError::Invalid("COSE")),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Es256(_) => Algorithm::Es256,
            PublicKey::EdDsa(_) => Algorithm::EdDsa,
            PublicKey::Es384(_) => Algorithm::Es384,
            PublicKey::Es512(_) => Algorithm::Es512,
            PublicKey::Rs256(_) => Algorithm::Rs256,
        }
    }

    /// The COSE_Key in canonical CBOR. Written directly for ES256 and EdDSA (their layout is
    /// fixed, WebAuthn L3 §6.5.1.1, and makeCredential should not build a value tree for
    /// them); the other algorithms go through [`PublicKey::cose`].
    pub fn cose_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Es256(k) => {
                let point = k.to_sec1_point(false);
                es256_cose(
                    point.x().map_or(&[0u8; 32][..], |x| x.as_slice()),
                    point.y().map_or(&[0u8; 32][..], |y| y.as_slice()),
                )
            }
            PublicKey::EdDsa(k) => {
                let mut out = Vec::with_capacity(42);
                // {1: 1, 3: -8, -1: 6, -2: x(32)}
                out.extend_from_slice(&[
                    0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20,
                ]);
                out.extend_from_slice(k.as_bytes());
                out
            }
            other => crate::cbor::encode(&other.cose()),
        }
    }

    /// The DER SubjectPublicKeyInfo (what `getPublicKey()` returns).
    pub fn spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Es256(k) => k.to_public_key_der(),
            PublicKey::EdDsa(k) => k.to_public_key_der(),
            PublicKey::Es384(k) => k.to_public_key_der(),
            PublicKey::Es512(k) => p521::PublicKey::from(k).to_public_key_der(),
            PublicKey::Rs256(k) => k.to_public_key_der(),
        };
        // Encoding a valid in-memory key cannot fail; an empty SPKI would be refused downstream.
        doc.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// Verifies a signature in the form [`PrivateKey::sign`] makes.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        match self {
            PublicKey::Es256(k) => p256::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::EdDsa(k) => ed25519_dalek::Signature::from_slice(signature)
                .map(|s| k.verify_strict(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::Es384(k) => p384::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::Es512(k) => p521::ecdsa::Signature::from_der(signature)
                .map(|s| k.verify(message, &s).is_ok())
                .unwrap_or(false),
            PublicKey::Rs256(k) => {
                let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                rsa::pkcs1v15::Signature::try_from(signature)
                    .map(|s| verifier.verify(message, &s).is_ok())
                    .unwrap_or(false)
            }
        }
    }

    /// The RSA modulus and exponent (big-endian, no leading zeros), for an RS256 key.
    pub fn rsa_components(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match self {
            PublicKey::Rs256(k) => Some((k.n_bytes().to_vec(), k.e_bytes().to_vec())),
            _ => None,
        }
    }

    /// The uncompressed point's affine coordinates (x, y), for an EC2 key.
    pub fn ec_coordinates(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        fn xy(p: &[u8], n: usize) -> Option<(Vec<u8>, Vec<u8>)> {
            (p.len() == 1 + 2 * n).then(|| (p[1..=n].to_vec(), p[1 + n..].to_vec()))
        }
        match self {
            PublicKey::Es256(k) => xy(k.to_sec1_point(false).as_bytes(), 32),
            PublicKey::Es384(k) => xy(k.to_sec1_point(false).as_bytes(), 48),
            PublicKey::Es512(k) => xy(k.to_sec1_point(false).as_bytes(), 66),
            _ => None,
        }
    }
}

fn sec1_uncompressed(x: Option<&[u8]>, y: Option<&[u8]>, n: usize) -> Option<Vec<u8>> {
    let (x, y) = x.zip(y)?;
    (x.len() == n && y.len() == n).then(|| [&[0x04][..], x, y].concat())
}

fn rsa_public(n: &[u8], e: &[u8]) -> Result<rsa::RsaPublicKey, KeyError> {
    let bits = |b: &[u8]| u32::try_from(b.len() * 8).unwrap_or(u32::MAX);
    let n = rsa::BoxedUint::from_be_slice(n, bits(n)).map_err(|_| KeyError::Invalid("RS256"))?;
    let e = rsa::BoxedUint::from_be_slice(e, bits(e).max(64))
        .map_err(|_| KeyError::Invalid("RS256"))?;
    rsa::RsaPublicKey::new(n, e).map_err(|_| KeyError::Invalid("RS256"))
}

/// A uniformly random P-256 scalar: 32 bytes from `rng` read big-endian, drawn again while
/// not in 1..n. fauxkey's own rule rather than p256's sampler, so a seeded RNG gives the same
/// keys across RustCrypto releases (p256 0.14 samples differently from 0.13).
pub fn p256_scalar(rng: &mut dyn CryptoRng) -> p256::NonZeroScalar {
    loop {
        let mut bytes = Zeroizing::new(p256::FieldBytes::default());
        rng.fill_bytes(&mut bytes);
        if let Some(s) = Option::<p256::NonZeroScalar>::from(p256::NonZeroScalar::from_repr(*bytes))
        {
            return s;
        }
    }
}

/// The canonical ES256 COSE_Key `{1: 2, 3: -7, -1: 1, -2: x, -3: y}` of 32-byte coordinates.
fn es256_cose(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(77);
    out.extend_from_slice(&[0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]);
    out.extend_from_slice(x);
    out.extend_from_slice(&[0x22, 0x58, 0x20]);
    out.extend_from_slice(y);
    out
}

/// A uniformly random P-384 scalar, by the rule of [`p256_scalar`] (48 bytes).
fn p384_scalar(rng: &mut dyn CryptoRng) -> p384::NonZeroScalar {
    loop {
        let mut bytes = Zeroizing::new(p384::FieldBytes::default());
        rng.fill_bytes(&mut bytes);
        if let Some(s) = Option::<p384::NonZeroScalar>::from(p384::NonZeroScalar::from_repr(*bytes))
        {
            return s;
        }
    }
}

/// A uniformly random P-521 scalar: 66 bytes from `rng`, the top 7 bits cleared (the order
/// is a 521-bit number), drawn again while not in 1..n.
fn p521_scalar(rng: &mut dyn CryptoRng) -> p521::NonZeroScalar {
    loop {
        let mut bytes = Zeroizing::new(p521::FieldBytes::default());
        rng.fill_bytes(&mut bytes);
        bytes[0] &= 0x01;
        if let Some(s) = Option::<p521::NonZeroScalar>::from(p521::NonZeroScalar::from_repr(*bytes))
        {
            return s;
        }
    }
}

/// ES256 over `message` with the RFC 6979 nonce, from the 32-byte scalar alone; the same bytes
/// as `p256::ecdsa::SigningKey::sign`.
fn es256_sign_with_scalar(secret: &[u8; 32], message: &[u8]) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    use zeroize::Zeroize as _;
    let mut scalar = p256::NonZeroScalar::try_from(secret.as_slice())
        .unwrap_or_else(|_| unreachable!("P-256 scalar validated at construction"));
    let digest = Sha256::digest(message);
    let (sig, _) =
        ecdsa::hazmat::sign_prehashed_rfc6979::<p256::NistP256, Sha256>(&scalar, &digest, &[]);
    scalar.zeroize();
    sig.to_der().as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbor;
    use rand_core::SeedableRng;

    #[test]
    fn es256_from_the_scalar_signs_the_same_bytes_as_a_signing_key_and_verifies() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        for i in 0..32u8 {
            let key = PrivateKey::generate(Algorithm::Es256, &mut rng);
            let message = vec![i; usize::from(i) * 3];
            // The reference: p256's own signing key, built from the same scalar.
            let signing_key = p256::ecdsa::SigningKey::from_slice(&key.secret_bytes())
                .expect("a generated scalar");
            let sig: p256::ecdsa::Signature =
                ecdsa::signature::Signer::sign(&signing_key, &message);
            let parsed = sig.to_der().as_bytes().to_vec();
            assert_eq!(
                key.public_key(),
                PublicKey::Es256(*signing_key.verifying_key())
            );
            let mut unparsed = key.clone(); // clones start unparsed
            assert!(unparsed.parsed.get().is_none());
            let from_scalar = unparsed.sign(&message);
            assert!(
                unparsed.parsed.get().is_none(),
                "signing must not parse the key"
            );
            assert_eq!(from_scalar, parsed);
            assert!(key.public_key().verify(&message, &from_scalar));
            unparsed.drop_parsed();
        }
    }

    #[test]
    fn keys_round_trip_and_sign_deterministically() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for alg in Algorithm::ALL {
            let key = PrivateKey::generate(alg, &mut rng);
            let again = PrivateKey::from_secret_bytes(alg, &key.secret_bytes()).expect("secret");
            let pkcs8 =
                PrivateKey::from_pkcs8_der(&key.to_pkcs8_der().expect("pkcs8")).expect("pkcs8");
            assert_eq!(again.public_key(), key.public_key());
            assert_eq!(pkcs8.public_key(), key.public_key());
            let sig = key.sign(b"message");
            assert_eq!(
                again.sign(b"message"),
                sig,
                "{alg:?} signatures are deterministic"
            );
            assert!(key.public_key().verify(b"message", &sig));
            assert!(!key.public_key().verify(b"messagf", &sig));
            assert!(!format!("{key:?}").contains(&hex::encode(key.secret_bytes().as_slice())));
        }
    }

    #[test]
    fn direct_cose_bytes_equal_the_canonical_encoding_of_the_map() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        for alg in Algorithm::ALL {
            // RSA key generation is slow; one RS256 key is enough for the layout.
            let rounds = if alg == Algorithm::Rs256 { 1 } else { 8 };
            for _ in 0..rounds {
                let public = PrivateKey::generate(alg, &mut rng).public_key();
                assert_eq!(public.cose_bytes(), cbor::encode(&public.cose()), "{alg:?}");
                let back = PublicKey::from_cose(&cbor::decode(&public.cose_bytes()).expect("cbor"));
                assert_eq!(back.expect("parses"), public);
            }
        }
    }

    #[test]
    fn cose_es256_has_the_canonical_prefix() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let cose = PrivateKey::generate(Algorithm::Es256, &mut rng)
            .public_key()
            .cose_bytes();
        assert_eq!(
            &cose[..10],
            &hex::decode("a501020326200121 5820".replace(' ', "")).expect("hex")[..]
        );
        assert_eq!(cose.len(), 77);
        let ed = PrivateKey::generate(Algorithm::EdDsa, &mut rng)
            .public_key()
            .cose_bytes();
        assert_eq!(
            &ed[..9],
            &hex::decode("a4010103272006215820").expect("hex")[..9]
        );
    }

    #[test]
    fn new_algorithms_have_their_spec_layouts_and_seeded_keys_repeat() {
        // Secret lengths of vault SPEC §4.4 key 8.
        for (alg, len) in [(Algorithm::Es384, 48), (Algorithm::Es512, 66)] {
            let a = PrivateKey::generate(alg, &mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
            let b = PrivateKey::generate(alg, &mut rand_chacha::ChaCha20Rng::seed_from_u64(3));
            assert_eq!(a.secret_bytes().len(), len, "{alg:?}");
            assert_eq!(a.secret_bytes(), b.secret_bytes(), "{alg:?} seeded keygen");
            let (x, y) = a.public_key().ec_coordinates().expect("EC2");
            assert_eq!((x.len(), y.len()), (len, len));
            assert!(PrivateKey::from_secret_bytes(alg, &a.secret_bytes()[1..]).is_err());
        }
        let rsa = PrivateKey::generate(
            Algorithm::Rs256,
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(4),
        );
        let again = PrivateKey::generate(
            Algorithm::Rs256,
            &mut rand_chacha::ChaCha20Rng::seed_from_u64(4),
        );
        assert_eq!(
            rsa.secret_bytes(),
            again.secret_bytes(),
            "seeded RSA keygen"
        );
        // The secret is the PKCS#8 document itself.
        assert_eq!(*rsa.secret_bytes(), *rsa.to_pkcs8_der().expect("pkcs8"));
        let (n, e) = rsa.public_key().rsa_components().expect("RSA");
        assert_eq!((n.len(), e.as_slice()), (256, &[1u8, 0, 1][..]));
        // {1: 3, 3: -257, -1: n, -2: e}, canonical order.
        let cose = rsa.public_key().cose_bytes();
        let mut want = hex::decode("a401030339010020590100").expect("hex");
        want.extend_from_slice(&n);
        want.extend_from_slice(&hex::decode("2143010001").expect("hex"));
        assert_eq!(cose, want);
        // PKCS#1 v1.5 signatures are modulus-sized and deterministic.
        let sig = rsa.sign(b"m");
        assert_eq!(sig.len(), 256);
        assert_eq!(again.sign(b"m"), sig);
        assert!(PrivateKey::from_secret_bytes(Algorithm::Rs256, &[0x30, 0x00]).is_err());
        assert!(PrivateKey::from_secret_bytes(Algorithm::Rs256, &[7; 32]).is_err());
    }
}
