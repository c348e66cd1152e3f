//! The signing backend: which implementation turns a credential key and a message into a
//! signature. Injected into the authenticator like the RNG and the clock
//! ([`crate::Authenticator::with_signer`]).
//!
//! - [`Rfc6979`] (the default, always built): RustCrypto, ES256 with RFC 6979 nonces, so the
//!   same key and message always give the same bytes. Seeded runs, the fixture generator and the
//!   spec vectors use it, and a library caller gets it unless they ask for another.
//! - `AwsLc` (cargo feature `aws-lc-rs`): AWS-LC's ECDSA with random nonces, several times
//!   faster, for the front ends whose output need not be reproducible (`serve`, `ctap` and the
//!   CLI without `--seed`; see [`fast`]). Ed25519 is deterministic by design, so both backends
//!   give identical Ed25519 signatures.
//!
//! Both produce what WebAuthn wants: ASN.1 DER for ES256, 64 raw bytes for Ed25519.

use std::sync::Arc;

use crate::crypto::keys::PrivateKey;

/// A signature implementation for credential and attestation keys.
pub trait SigningBackend: Send + Sync + std::fmt::Debug {
    /// A short name for logs and benchmarks (`rfc6979`, `aws-lc-rs`).
    fn name(&self) -> &'static str;

    /// Signs `message` with `key`: DER ECDSA for ES256, raw 64 bytes for Ed25519.
    fn sign(&self, key: &PrivateKey, message: &[u8]) -> Vec<u8>;

    /// Whether the same key and message always give the same bytes.
    fn deterministic(&self) -> bool;
}

/// A shared handle to a backend.
pub type Signer = Arc<dyn SigningBackend>;

/// RustCrypto: RFC 6979 ECDSA and Ed25519, reproducible byte for byte.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rfc6979;

impl SigningBackend for Rfc6979 {
    fn name(&self) -> &'static str {
        "rfc6979"
    }

    fn sign(&self, key: &PrivateKey, message: &[u8]) -> Vec<u8> {
        key.sign(message)
    }

    fn deterministic(&self) -> bool {
        true
    }
}

/// The reproducible backend ([`Rfc6979`]).
pub fn deterministic() -> Signer {
    Arc::new(Rfc6979)
}

/// The fastest backend this build has: `AwsLc` with the `aws-lc-rs` feature, otherwise
/// [`Rfc6979`]. For output that need not be reproducible.
pub fn fast() -> Signer {
    #[cfg(feature = "aws-lc-rs")]
    {
        Arc::new(AwsLc)
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    {
        Arc::new(Rfc6979)
    }
}

/// The backend for a run: [`deterministic`] when a seed is given, else [`fast`].
pub fn for_seed(seed: Option<u64>) -> Signer {
    match seed {
        Some(_) => deterministic(),
        None => fast(),
    }
}

#[cfg(feature = "aws-lc-rs")]
pub use aws::AwsLc;

#[cfg(feature = "aws-lc-rs")]
mod aws {
    use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};

    use super::SigningBackend;
    use crate::crypto::keys::{Algorithm, PrivateKey};

    /// AWS-LC (via `aws-lc-rs`): ECDSA P-256 with random nonces, Ed25519. The parsed AWS-LC key
    /// is cached on the [`PrivateKey`] (parsing computes the public point, which costs more
    /// than a signature).
    #[derive(Debug, Clone, Copy, Default)]
    pub struct AwsLc;

    enum Parsed {
        Es256(EcdsaKeyPair),
        EdDsa(Ed25519KeyPair),
    }

    fn parse(key: &PrivateKey) -> Option<Parsed> {
        let secret = key.secret_bytes();
        match key.algorithm() {
            Algorithm::Es256 => {
                // RFC 5915 ECPrivateKey { version 1, privateKey, [0] prime256v1 }.
                let mut der = zeroize::Zeroizing::new(Vec::with_capacity(51));
                der.extend_from_slice(&[0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20]);
                der.extend_from_slice(&secret);
                der.extend_from_slice(&[
                    0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
                ]);
                EcdsaKeyPair::from_private_key_der(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &der)
                    .ok()
                    .map(Parsed::Es256)
            }
            Algorithm::EdDsa => Ed25519KeyPair::from_seed_unchecked(&secret)
                .ok()
                .map(Parsed::EdDsa),
            // ES384, ES512 and RS256 are signed by RustCrypto (the fallback below).
            _ => None,
        }
    }

    impl SigningBackend for AwsLc {
        fn name(&self) -> &'static str {
            "aws-lc-rs"
        }

        fn sign(&self, key: &PrivateKey, message: &[u8]) -> Vec<u8> {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let signed = match key.accelerated(parse) {
                Some(Parsed::Es256(k)) => k.sign(&rng, message).ok().map(|s| s.as_ref().to_vec()),
                Some(Parsed::EdDsa(k)) => {
                    debug_assert_eq!(k.public_key().as_ref().len(), 32);
                    Some(k.sign(message).as_ref().to_vec())
                }
                None => None,
            };
            // A key AWS-LC refuses (it cannot happen for a validated key) still gets signed.
            signed.unwrap_or_else(|| key.sign(message))
        }

        fn deterministic(&self) -> bool {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::Algorithm;
    use rand_core::SeedableRng as _;

    #[test]
    fn every_backend_signs_what_the_public_key_verifies() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        for signer in [deterministic(), fast()] {
            for alg in Algorithm::ALL {
                let key = PrivateKey::generate(alg, &mut rng);
                let unparsed =
                    PrivateKey::from_secret_bytes(alg, &key.secret_bytes()).expect("secret");
                for k in [&key, &unparsed] {
                    let sig = signer.sign(k, b"authData || clientDataHash");
                    assert!(
                        key.public_key().verify(b"authData || clientDataHash", &sig),
                        "{} {alg:?}",
                        signer.name()
                    );
                    assert!(!key.public_key().verify(b"another message", &sig));
                }
                if alg == Algorithm::EdDsa || signer.deterministic() {
                    assert_eq!(signer.sign(&key, b"m"), key.sign(b"m"), "{}", signer.name());
                }
            }
        }
    }

    #[test]
    fn a_seed_always_selects_the_deterministic_backend() {
        assert!(for_seed(Some(1)).deterministic());
        assert_eq!(for_seed(Some(1)).name(), "rfc6979");
        assert_eq!(
            for_seed(None).name(),
            if cfg!(feature = "aws-lc-rs") {
                "aws-lc-rs"
            } else {
                "rfc6979"
            }
        );
    }
}
