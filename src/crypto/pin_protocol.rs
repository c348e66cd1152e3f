//! PIN/UV auth protocols 1 and 2 (CTAP 2.1 §6.5.6, §6.5.7): the ECDH key agreement, the shared
//! secret, and its encrypt / decrypt / authenticate operations. Used by `hmac-secret`.

use aes::cipher::{block_padding::NoPadding, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use ciborium::value::Value;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::ctap2::{as_map, StatusCode};

type HmacSha256 = Hmac<Sha256>;

/// A PIN/UV auth protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinProtocol {
    /// Protocol one: SHA-256(Z) keys, zero IV, 16-byte MACs.
    One,
    /// Protocol two: HKDF-derived keys, random IV, 32-byte MACs.
    Two,
}

impl PinProtocol {
    /// The protocol for its number.
    pub fn from_number(n: i64) -> Option<Self> {
        match n {
            1 => Some(Self::One),
            2 => Some(Self::Two),
            _ => None,
        }
    }

    /// The protocol's number.
    pub fn number(self) -> i64 {
        match self {
            Self::One => 1,
            Self::Two => 2,
        }
    }
}

/// A key agreement key pair (ECDH on P-256).
pub struct KeyAgreementKey(p256::SecretKey);

impl std::fmt::Debug for KeyAgreementKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyAgreementKey(<redacted>)")
    }
}

impl KeyAgreementKey {
    /// A fresh key pair.
    pub fn generate(rng: &mut dyn CryptoRng) -> Self {
        Self(p256::SecretKey::from(crate::crypto::keys::p256_scalar(rng)))
    }

    /// The public key as the COSE map CTAP uses: `{1: 2, 3: -25, -1: 1, -2: x, -3: y}`.
    pub fn public_cose(&self) -> Value {
        let point = p256::Sec1Point::from(self.0.public_key());
        crate::crypto::cose::ec2_p256(
            coset::iana::Algorithm::ECDH_ES_HKDF_256,
            point.x().map(|x| x.to_vec()).unwrap_or_default(),
            point.y().map(|y| y.to_vec()).unwrap_or_default(),
        )
    }

    /// ECDH with the peer's COSE public key, then the protocol's KDF.
    pub fn shared_secret(
        &self,
        protocol: PinProtocol,
        peer: &Value,
    ) -> Result<SharedSecret, StatusCode> {
        let peer = public_from_cose(peer)?;
        let z = p256::ecdh::diffie_hellman(self.0.to_nonzero_scalar(), peer.as_affine());
        let mut z_bytes = Zeroizing::new([0u8; 32]);
        z_bytes.copy_from_slice(z.raw_secret_bytes());
        Ok(SharedSecret::derive(protocol, &z_bytes))
    }
}

fn public_from_cose(v: &Value) -> Result<p256::PublicKey, StatusCode> {
    use crate::crypto::cose;
    as_map(v)?;
    let key = cose::parse(v).ok_or(StatusCode::InvalidParameter)?;
    if key.kty() != Some(cose::KTY_EC2) || key.crv() != Some(cose::CRV_P256) {
        return Err(StatusCode::InvalidParameter);
    }
    let (x, y) = key.x().zip(key.y()).ok_or(StatusCode::MissingParameter)?;
    let coord = |c: &[u8]| p256::FieldBytes::try_from(c).ok();
    let (x, y) = coord(x).zip(coord(y)).ok_or(StatusCode::InvalidParameter)?;
    let point = p256::Sec1Point::from_affine_coordinates(&x, &y, false);
    p256::PublicKey::from_sec1_bytes(point.as_bytes()).map_err(|_| StatusCode::InvalidParameter)
}

/// The shared secret of one key agreement.
pub struct SharedSecret {
    protocol: PinProtocol,
    hmac_key: Zeroizing<[u8; 32]>,
    aes_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedSecret({:?}, <redacted>)", self.protocol)
    }
}

impl SharedSecret {
    /// Derives the keys from the ECDH x-coordinate `z`.
    pub fn derive(protocol: PinProtocol, z: &[u8; 32]) -> Self {
        match protocol {
            PinProtocol::One => {
                let k: [u8; 32] = Sha256::digest(z).into();
                Self {
                    protocol,
                    hmac_key: Zeroizing::new(k),
                    aes_key: Zeroizing::new(k),
                }
            }
            PinProtocol::Two => {
                let hk = hkdf::Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
                let mut hmac_key = Zeroizing::new([0u8; 32]);
                let mut aes_key = Zeroizing::new([0u8; 32]);
                // 32 bytes is far below HKDF-SHA-256's output limit, so expand cannot fail.
                let _ = hk.expand(b"CTAP2 HMAC key", hmac_key.as_mut());
                let _ = hk.expand(b"CTAP2 AES key", aes_key.as_mut());
                Self {
                    protocol,
                    hmac_key,
                    aes_key,
                }
            }
        }
    }

    /// The protocol the secret belongs to.
    pub fn protocol(&self) -> PinProtocol {
        self.protocol
    }

    /// AES-256-CBC without padding; protocol two prepends a random IV.
    pub fn encrypt(
        &self,
        rng: &mut dyn CryptoRng,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StatusCode> {
        if !plaintext.len().is_multiple_of(16) {
            return Err(StatusCode::InvalidLength);
        }
        let mut iv = [0u8; 16];
        if self.protocol == PinProtocol::Two {
            rng.fill_bytes(&mut iv);
        }
        let ct = cbc::Encryptor::<aes::Aes256>::new(&(*self.aes_key).into(), &iv.into())
            .encrypt_padded_vec::<NoPadding>(plaintext);
        Ok(match self.protocol {
            PinProtocol::One => ct,
            PinProtocol::Two => [iv.as_slice(), &ct].concat(),
        })
    }

    /// The inverse of [`SharedSecret::encrypt`].
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, StatusCode> {
        let (iv, ct) = match self.protocol {
            PinProtocol::One => ([0u8; 16], ciphertext),
            PinProtocol::Two => {
                if ciphertext.len() < 16 {
                    return Err(StatusCode::InvalidLength);
                }
                let mut iv = [0u8; 16];
                iv.copy_from_slice(&ciphertext[..16]);
                (iv, &ciphertext[16..])
            }
        };
        if !ct.len().is_multiple_of(16) {
            return Err(StatusCode::InvalidLength);
        }
        cbc::Decryptor::<aes::Aes256>::new(&(*self.aes_key).into(), &iv.into())
            .decrypt_padded_vec::<NoPadding>(ct)
            .map(Zeroizing::new)
            .map_err(|_| StatusCode::InvalidLength)
    }

    /// HMAC-SHA-256 with the HMAC key; protocol one keeps the first 16 bytes.
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        let mac = hmac_sha256(self.hmac_key.as_ref(), message);
        match self.protocol {
            PinProtocol::One => mac[..16].to_vec(),
            PinProtocol::Two => mac.to_vec(),
        }
    }

    /// Checks a MAC from [`SharedSecret::authenticate`] in constant time.
    pub fn verify(&self, message: &[u8], mac: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        let expected = self.authenticate(message);
        expected.len() == mac.len() && bool::from(expected.ct_eq(mac))
    }
}

/// HMAC-SHA-256.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| {
        // HMAC accepts keys of any length; this branch cannot be taken.
        <HmacSha256 as KeyInit>::new_from_slice(&[]).unwrap_or_else(|_| unreachable!())
    });
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn both_sides_agree_and_round_trip() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let authenticator = KeyAgreementKey::generate(&mut rng);
        let platform = KeyAgreementKey::generate(&mut rng);
        for protocol in [PinProtocol::One, PinProtocol::Two] {
            let a = authenticator
                .shared_secret(protocol, &platform.public_cose())
                .expect("ecdh");
            let p = platform
                .shared_secret(protocol, &authenticator.public_cose())
                .expect("ecdh");
            let ct = p.encrypt(&mut rng, &[5u8; 64]).expect("encrypt");
            assert_eq!(ct.len(), if protocol == PinProtocol::One { 64 } else { 80 });
            assert_eq!(a.decrypt(&ct).expect("decrypt").as_slice(), &[5u8; 64]);
            let mac = p.authenticate(&ct);
            assert!(a.verify(&ct, &mac));
            assert!(!a.verify(&ct[1..], &mac));
        }
    }
}
