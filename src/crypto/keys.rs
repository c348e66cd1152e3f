//! Credential key pairs: generation, signing, and their public forms (COSE_Key and SPKI).
//!
//! ES256 signatures are ASN.1 DER and use RFC 6979 nonces; Ed25519 is deterministic by design.
//! With a seeded RNG for key generation, every signature fauxkey makes is reproducible.

use ciborium::value::Value;
use ed25519_dalek::Signer as _;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rand_core::CryptoRng;
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
}

impl Algorithm {
    /// Every algorithm fauxkey implements.
    pub const ALL: [Algorithm; 2] = [Algorithm::Es256, Algorithm::EdDsa];

    /// The COSE algorithm identifier.
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::Es256 => -7,
            Algorithm::EdDsa => -8,
        }
    }

    /// The algorithm for a COSE identifier, if fauxkey implements it.
    pub fn from_cose_id(id: i64) -> Option<Self> {
        match id {
            -7 => Some(Algorithm::Es256),
            -8 => Some(Algorithm::EdDsa),
            _ => None,
        }
    }

    /// A short lower-case name (`es256`, `eddsa`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Es256 => "es256",
            Algorithm::EdDsa => "eddsa",
        }
    }
}

fn alg_label(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::Es256 => "ES256",
        Algorithm::EdDsa => "Ed25519",
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
    #[error("PKCS#8 key is neither P-256 nor Ed25519")]
    UnsupportedPkcs8,
}

enum Inner {
    Es256(p256::ecdsa::SigningKey),
    EdDsa(ed25519_dalek::SigningKey),
}

impl Inner {
    fn algorithm(&self) -> Algorithm {
        match self {
            Inner::Es256(_) => Algorithm::Es256,
            Inner::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    fn secret(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(match self {
            Inner::Es256(k) => k.to_bytes().into(),
            Inner::EdDsa(k) => k.to_bytes(),
        })
    }
}

/// A credential private key. Wiped on drop (the secret is `Zeroizing`, and both inner key types
/// zeroize); never printed.
///
/// A key read back from storage is parsed lazily, on its first use: building a P-256 signing key
/// costs a scalar multiplication, and opening a vault of 10,000 passkeys should not pay that.
pub struct PrivateKey {
    alg: Algorithm,
    secret: Zeroizing<[u8; 32]>,
    parsed: std::sync::OnceLock<Box<Inner>>,
    /// A signing backend's own parsed form of this key (see [`PrivateKey::accelerated`]).
    accel: std::sync::OnceLock<Option<Box<dyn std::any::Any + Send + Sync>>>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({}, <redacted>)", self.alg.name())
    }
}

impl Clone for PrivateKey {
    fn clone(&self) -> Self {
        PrivateKey {
            alg: self.alg,
            secret: self.secret.clone(),
            parsed: std::sync::OnceLock::new(),
            accel: std::sync::OnceLock::new(),
        }
    }
}

impl PrivateKey {
    fn from_inner(inner: Inner) -> Self {
        let key = PrivateKey {
            alg: inner.algorithm(),
            secret: inner.secret(),
            parsed: std::sync::OnceLock::new(),
            accel: std::sync::OnceLock::new(),
        };
        let _ = key.parsed.set(Box::new(inner));
        key
    }

    fn inner(&self) -> &Inner {
        self.parsed.get_or_init(|| {
            Box::new(match self.alg {
                // The secret was validated when this key was built, so these cannot fail.
                Algorithm::Es256 => Inner::Es256(
                    p256::SecretKey::from_slice(self.secret.as_slice())
                        .map(p256::ecdsa::SigningKey::from)
                        .unwrap_or_else(|_| unreachable!("P-256 scalar validated at construction")),
                ),
                Algorithm::EdDsa => {
                    Inner::EdDsa(ed25519_dalek::SigningKey::from_bytes(&self.secret))
                }
            })
        })
    }

    /// Drops the parsed form (it is rebuilt from the secret on the next use). A store holding
    /// many keys keeps only the 32-byte secrets of the ones not in use.
    pub fn drop_parsed(&mut self) {
        self.parsed.take();
        self.accel.take();
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

    /// Generates a fresh key pair from `rng`.
    pub fn generate(alg: Algorithm, rng: &mut dyn CryptoRng) -> Self {
        Self::from_inner(match alg {
            Algorithm::Es256 => Inner::Es256(p256::ecdsa::SigningKey::from(p256_scalar(rng))),
            Algorithm::EdDsa => Inner::EdDsa(ed25519_dalek::SigningKey::generate(rng)),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Signs `message`: DER ECDSA (RFC 6979 nonce) for ES256, 64 raw bytes for Ed25519.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        if self.alg == Algorithm::Es256 && self.parsed.get().is_none() {
            // Sign straight from the scalar: building a `SigningKey` would also compute the
            // public key, a scalar multiplication a signature does not need.
            return es256_sign_with_scalar(&self.secret, message);
        }
        match self.inner() {
            Inner::Es256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            Inner::EdDsa(k) => k.sign(message).to_bytes().to_vec(),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self.inner() {
            Inner::Es256(k) => PublicKey::Es256(*k.verifying_key()),
            Inner::EdDsa(k) => PublicKey::EdDsa(k.verifying_key()),
        }
    }

    /// The raw secret: the 32-byte P-256 scalar (big-endian) or the 32-byte Ed25519 seed.
    pub fn secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.secret.to_vec())
    }

    /// Rebuilds a key from [`PrivateKey::secret_bytes`]. Cheap: the key is validated now and
    /// parsed on first use.
    pub fn from_secret_bytes(alg: Algorithm, bytes: &[u8]) -> Result<Self, KeyError> {
        let secret: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Invalid(alg_label(alg)))?;
        let secret = Zeroizing::new(secret);
        if alg == Algorithm::Es256 {
            // 1 <= d < n, without computing the public key.
            let scalar: Option<p256::NonZeroScalar> =
                p256::NonZeroScalar::from_repr((*secret).into()).into();
            scalar.ok_or(KeyError::Invalid("ES256"))?;
        }
        Ok(PrivateKey {
            alg,
            secret,
            parsed: std::sync::OnceLock::new(),
            accel: std::sync::OnceLock::new(),
        })
    }

    /// The key as a PKCS#8 DER document (what WebDriver's `addCredential` exchanges).
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let doc = match self.inner() {
            Inner::Es256(k) => k.to_pkcs8_der().map_err(|_| KeyError::Invalid("ES256"))?,
            Inner::EdDsa(k) => k.to_pkcs8_der().map_err(|_| KeyError::Invalid("Ed25519"))?,
        };
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// Reads a PKCS#8 DER document holding a P-256 or Ed25519 key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::Es256(k)));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::from_inner(Inner::EdDsa(k)));
        }
        Err(KeyError::UnsupportedPkcs8)
    }
}

/// A credential public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKey {
    /// A P-256 point.
    Es256(p256::ecdsa::VerifyingKey),
    /// An Ed25519 point.
    EdDsa(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// The COSE_Key as a CBOR map (WebAuthn L3 §6.5.1.1: kty, alg, crv, x[, y] and nothing else),
    /// built with `coset`.
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
        }
    }

    /// Reads a COSE_Key map for ES256 (EC2, P-256) or EdDSA (OKP, Ed25519), parsed by `coset`.
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
            (Some(cose::KTY_OKP), Some(-8), Some(cose::CRV_ED25519)) => {
                let x: &[u8; 32] = key
                    .x()
                    .and_then(|x| x.try_into().ok())
                    .ok_or(KeyError::Invalid("Ed25519"))?;
                ed25519_dalek::VerifyingKey::from_bytes(x)
                    .map(PublicKey::EdDsa)
                    .map_err(|_| KeyError::Invalid("Ed25519"))
            }
            _ => Err(KeyError::Invalid("COSE")),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            PublicKey::Es256(_) => Algorithm::Es256,
            PublicKey::EdDsa(_) => Algorithm::EdDsa,
        }
    }

    /// The COSE_Key in canonical CBOR. Written directly: the layout of these two key types is
    /// fixed (WebAuthn L3 §6.5.1.1), and makeCredential should not build a value tree for it.
    pub fn cose_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Es256(k) => {
                let point = k.to_sec1_point(false);
                let mut out = Vec::with_capacity(77);
                // {1: 2, 3: -7, -1: 1, -2: x(32), -3: y(32)}
                out.extend_from_slice(&[
                    0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20,
                ]);
                out.extend_from_slice(point.x().map_or(&[0u8; 32][..], |x| x.as_slice()));
                out.extend_from_slice(&[0x22, 0x58, 0x20]);
                out.extend_from_slice(point.y().map_or(&[0u8; 32][..], |y| y.as_slice()));
                out
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
        }
    }

    /// The DER SubjectPublicKeyInfo (what `getPublicKey()` returns).
    pub fn spki_der(&self) -> Vec<u8> {
        let doc = match self {
            PublicKey::Es256(k) => k.to_public_key_der(),
            PublicKey::EdDsa(k) => k.to_public_key_der(),
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
        }
    }
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
            let parsed = key.sign(&message); // the freshly generated key is parsed
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
            for _ in 0..8 {
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
}
