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
//!   give identical Ed25519 signatures. It also generates new ES256 credential keys with AWS-LC
//!   ([`SigningBackend::generate`]), ignoring the authenticator's RNG.
//!
//! Both produce what WebAuthn wants: ASN.1 DER for ES256, 64 raw bytes for Ed25519.

use std::sync::Arc;

use crate::crypto::keys::{Algorithm, PrivateKey};

/// A signature implementation for credential and attestation keys.
pub trait SigningBackend: Send + Sync + std::fmt::Debug {
    /// A short name for logs and benchmarks (`rfc6979`, `aws-lc-rs`).
    fn name(&self) -> &'static str;

    /// Signs `message` with `key`: DER ECDSA for ES256, raw 64 bytes for Ed25519.
    fn sign(&self, key: &PrivateKey, message: &[u8]) -> Vec<u8>;

    /// Whether the same key and message always give the same bytes.
    fn deterministic(&self) -> bool;

    /// Generates a new credential key. The default draws it from `rng` with RustCrypto
    /// ([`PrivateKey::generate`]), so a seeded RNG gives the same key every time; a
    /// non-deterministic backend may use its own generator and ignore `rng`.
    fn generate(&self, alg: Algorithm, rng: &mut dyn rand_core::CryptoRng) -> PrivateKey {
        PrivateKey::generate(alg, rng)
    }
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
    use aws_lc_rs::encoding::AsBigEndian as _;
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

        /// ES256 keys come from AWS-LC's generator (and its RNG, not `rng`): the scalar is
        /// kept as fauxkey's [`PrivateKey`] secret, the public point AWS-LC computed becomes
        /// the key's public key and the AWS-LC key pair its cached signing form, so
        /// makeCredential does no RustCrypto scalar multiplication. Other algorithms, and
        /// the (unreachable) case of AWS-LC failing, use the default.
        fn generate(&self, alg: Algorithm, rng: &mut dyn rand_core::CryptoRng) -> PrivateKey {
            if alg == Algorithm::Es256 {
                if let Some(key) = generate_es256() {
                    return key;
                }
            }
            PrivateKey::generate(alg, rng)
        }
    }

    fn generate_es256() -> Option<PrivateKey> {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING).ok()?;
        let scalar = pair.private_key().as_be_bytes().ok()?;
        // AWS-LC's uncompressed SEC1 point becomes the COSE_Key as it is; RustCrypto decodes
        // it only if the public key is asked for.
        let sec1 = pair.public_key().as_ref().to_vec();
        PrivateKey::from_generated_es256(scalar.as_ref(), &sec1, Parsed::Es256(pair)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    #[test]
    fn the_deterministic_backend_generates_the_seeded_key() {
        for alg in [Algorithm::Es256, Algorithm::EdDsa, Algorithm::Es384] {
            let mut a = rand_chacha::ChaCha20Rng::seed_from_u64(7);
            let mut b = rand_chacha::ChaCha20Rng::seed_from_u64(7);
            assert_eq!(
                deterministic().generate(alg, &mut a).secret_bytes(),
                PrivateKey::generate(alg, &mut b).secret_bytes(),
                "{alg:?}"
            );
        }
    }

    #[cfg(feature = "aws-lc-rs")]
    #[test]
    fn an_aws_lc_generated_key_signs_verifies_and_round_trips_the_vault() {
        use crate::store::Credential;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let key = AwsLc.generate(Algorithm::Es256, &mut rng);
        let other = AwsLc.generate(Algorithm::Es256, &mut rng);
        assert_eq!(key.algorithm(), Algorithm::Es256);
        assert_ne!(key.secret_bytes(), other.secret_bytes(), "AWS-LC's own RNG");
        // The public key AWS-LC computed is the one p256 derives from the stored scalar.
        let reparsed =
            PrivateKey::from_secret_bytes(Algorithm::Es256, &key.secret_bytes()).expect("scalar");
        // Its COSE_Key bytes are AWS-LC's point as it is, before anything decodes it.
        assert_eq!(key.public_cose_bytes(), reparsed.public_key().cose_bytes());
        assert_eq!(key.public_key(), reparsed.public_key());
        assert_eq!(key.public_cose_bytes(), key.public_key().cose_bytes());
        assert_ne!(key.public_key(), other.public_key());
        // Both backends' signatures verify with p256; RustCrypto's are RFC 6979.
        for sig in [
            AwsLc.sign(&key, b"m"),
            key.sign(b"m"),
            Rfc6979.sign(&key, b"m"),
        ] {
            assert!(reparsed.public_key().verify(b"m", &sig));
            assert!(!other.public_key().verify(b"m", &sig));
        }
        assert_eq!(key.sign(b"m"), reparsed.sign(b"m"));
        // Through the vault payload and back.
        let credential = Credential {
            id: vec![1; 16],
            rp_id: "example.com".into(),
            rp_name: None,
            user_handle: b"u".to_vec(),
            user_name: None,
            user_display_name: None,
            key,
            discoverable: true,
            sign_count: 0,
            backup_eligible: false,
            backup_state: false,
            created_ms: 0,
            last_used_ms: None,
            hidden: false,
            hidden_at_ms: None,
            cred_protect: Default::default(),
            cred_random: None,
            large_blob_key: None,
            cred_blob: None,
            sequence: 1,
            u2f_app_param: None,
        };
        let settings = crate::authenticator::Config::default();
        let bytes = crate::vault::payload::encode(&settings, &[&credential], &[]);
        let state = crate::vault::payload::decode(&bytes).expect("decodes");
        let back = &state.credentials[0].key;
        assert_eq!(back.secret_bytes(), credential.key.secret_bytes());
        assert_eq!(back.public_key(), credential.key.public_key());
        assert!(credential
            .key
            .public_key()
            .verify(b"m", &AwsLc.sign(back, b"m")));
        assert_eq!(back.sign(b"m"), credential.key.sign(b"m"));
    }
}
