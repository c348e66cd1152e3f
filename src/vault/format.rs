//! The vault file's bytes (vault-format/SPEC.md §2–3): header layout, key schedule, sealing and
//! opening. Pure functions over byte slices; files and locks live in `file.rs`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{Part, Passphrase, VaultError};

/// `\x89FXKV\r\n\x1a`.
pub const MAGIC: [u8; 8] = [0x89, 0x46, 0x58, 0x4B, 0x56, 0x0D, 0x0A, 0x1A];
/// The one header version this code reads and writes.
pub const VERSION: u16 = 1;
/// Header length; the payload ciphertext starts here.
pub const HEADER_LEN: usize = 136;
const KDF_ARGON2ID: u8 = 1;
/// Bytes authenticated by the key wrap: magic through wrap_nonce.
const WRAP_AAD_LEN: usize = 52;
const TAG_LEN: usize = 16;

/// Argon2id parameters (SPEC §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Iterations.
    pub t_cost: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// RFC 9106's second recommended option: 64 MiB, t=3, p=4.
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 65_536,
        t_cost: 3,
        parallelism: 4,
    };
    /// **INSECURE**: the smallest parameters Argon2id allows. For tests and CI only; a passphrase
    /// under this preset resists no guessing at all.
    pub const INSECURE_FAST: KdfParams = KdfParams {
        m_cost_kib: 8,
        t_cost: 1,
        parallelism: 1,
    };
    /// Largest memory cost a reader accepts (1 GiB).
    pub const MAX_M_COST_KIB: u32 = 1 << 20;
    /// Largest iteration count and lane count a reader accepts.
    pub const MAX_T_COST: u32 = 16;
    /// Largest lane count a reader accepts.
    pub const MAX_PARALLELISM: u32 = 16;

    /// Refuses parameters outside SPEC §3.2, before anything is derived.
    pub fn check_bounds(&self) -> Result<(), VaultError> {
        let refuse = |what: String| Err(VaultError::Unsupported { reason: what });
        if self.parallelism == 0 || self.parallelism > Self::MAX_PARALLELISM {
            return refuse(format!(
                "KDF parallelism {} is outside 1..={}",
                self.parallelism,
                Self::MAX_PARALLELISM
            ));
        }
        if self.t_cost == 0 || self.t_cost > Self::MAX_T_COST {
            return refuse(format!(
                "KDF iterations {} are outside 1..={}",
                self.t_cost,
                Self::MAX_T_COST
            ));
        }
        let min_m = 8 * self.parallelism;
        if self.m_cost_kib < min_m || self.m_cost_kib > Self::MAX_M_COST_KIB {
            return refuse(format!(
                "KDF memory {} KiB is outside {}..={} KiB",
                self.m_cost_kib,
                min_m,
                Self::MAX_M_COST_KIB
            ));
        }
        Ok(())
    }

    /// Whether these are the insecure test preset.
    pub fn is_insecure(&self) -> bool {
        self.m_cost_kib < KdfParams::DEFAULT.m_cost_kib / 4
    }

    fn derive(
        &self,
        passphrase: &Passphrase,
        salt: &[u8; 16],
    ) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        self.check_bounds()?;
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.parallelism, Some(32))
            .map_err(|e| VaultError::Unsupported {
                reason: format!("KDF parameters refused: {e}"),
            })?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut kek = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.expose().as_bytes(), salt, kek.as_mut())
            .map_err(|e| VaultError::Unsupported {
                reason: format!("KDF failed: {e}"),
            })?;
        Ok(kek)
    }
}

/// The unlocked key material of a vault: the data key, and the header bytes that wrap it (reused
/// by every save until the passphrase changes).
#[derive(Clone)]
pub struct VaultKeys {
    data_key: Zeroizing<[u8; 32]>,
    /// Header bytes 0..100: magic ‖ version ‖ kdf ‖ reserved ‖ params ‖ salt ‖ wrap_nonce ‖ wrapped_key.
    wrap: [u8; 100],
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKeys(<redacted>)")
    }
}

impl VaultKeys {
    /// A new random data key, wrapped under `passphrase` with fresh salt and nonce.
    pub fn generate(
        passphrase: &Passphrase,
        kdf: KdfParams,
        rng: &mut dyn CryptoRng,
    ) -> Result<Self, VaultError> {
        let mut data_key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(data_key.as_mut());
        Self::wrap(data_key, passphrase, kdf, rng)
    }

    /// The same data key, wrapped under a new passphrase (fresh salt and nonce).
    pub fn rewrap(
        &self,
        passphrase: &Passphrase,
        kdf: KdfParams,
        rng: &mut dyn CryptoRng,
    ) -> Result<Self, VaultError> {
        Self::wrap(self.data_key.clone(), passphrase, kdf, rng)
    }

    fn wrap(
        data_key: Zeroizing<[u8; 32]>,
        passphrase: &Passphrase,
        kdf: KdfParams,
        rng: &mut dyn CryptoRng,
    ) -> Result<Self, VaultError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut salt);
        rng.fill_bytes(&mut nonce);
        let kek = kdf.derive(passphrase, &salt)?;
        let mut wrap = [0u8; 100];
        wrap[0..8].copy_from_slice(&MAGIC);
        wrap[8..10].copy_from_slice(&VERSION.to_be_bytes());
        wrap[10] = KDF_ARGON2ID;
        wrap[11] = 0;
        wrap[12..16].copy_from_slice(&kdf.m_cost_kib.to_be_bytes());
        wrap[16..20].copy_from_slice(&kdf.t_cost.to_be_bytes());
        wrap[20..24].copy_from_slice(&kdf.parallelism.to_be_bytes());
        wrap[24..40].copy_from_slice(&salt);
        wrap[40..52].copy_from_slice(&nonce);
        let wrapped = gcm(&kek)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: data_key.as_slice(),
                    aad: &wrap[..WRAP_AAD_LEN],
                },
            )
            .map_err(|_| VaultError::Corrupt {
                part: Part::Header,
                reason: "key wrap failed".into(),
            })?;
        wrap[52..100].copy_from_slice(&wrapped);
        Ok(Self { data_key, wrap })
    }

    /// The journal's record key (SPEC §9.2): HKDF-SHA-256 of the data key, no salt, info
    /// `fauxkey vault journal v1`. The data key never changes, so neither does this key.
    pub(crate) fn journal_cipher(&self) -> Aes256Gcm {
        let hk = hkdf::Hkdf::<Sha256>::new(None, self.data_key.as_slice());
        let mut key = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA-256's limit of 255 × 32.
        let _ = hk.expand(super::journal::KEY_INFO, key.as_mut());
        gcm(&key)
    }

    /// The KDF parameters this vault is wrapped with.
    pub fn kdf(&self) -> KdfParams {
        read_kdf(&self.wrap)
    }
}

fn gcm(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn read_kdf(header: &[u8]) -> KdfParams {
    KdfParams {
        m_cost_kib: u32_at(header, 12),
        t_cost: u32_at(header, 16),
        parallelism: u32_at(header, 20),
    }
}

/// Encrypts `payload` into a whole vault file with a fresh payload nonce.
pub fn seal(
    keys: &VaultKeys,
    payload: &[u8],
    rng: &mut dyn CryptoRng,
) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let len = (payload.len() + TAG_LEN) as u64;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + TAG_LEN);
    out.extend_from_slice(&keys.wrap);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&len.to_be_bytes());
    let check = Sha256::digest(&out[..120]);
    out.extend_from_slice(&check[..16]);
    let ct = gcm(&keys.data_key)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: payload,
                aad: &out[..HEADER_LEN],
            },
        )
        .map_err(|_| VaultError::Corrupt {
            part: Part::Payload,
            reason: "encryption failed".into(),
        })?;
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The payload nonce of a sealed file, which changes on every save (used to detect changes).
pub fn payload_nonce(file: &[u8]) -> Option<[u8; 12]> {
    file.get(100..112).and_then(|n| n.try_into().ok())
}

/// Steps 1–7 of SPEC §3.1: everything that can be checked without a key.
fn check_header(file: &[u8]) -> Result<(), VaultError> {
    let header = |reason: &str| {
        Err(VaultError::Corrupt {
            part: Part::Header,
            reason: reason.into(),
        })
    };
    if file.len() < 10 || file[..8] != MAGIC {
        return header("not a fauxkey vault (bad magic)");
    }
    let version = u16::from_be_bytes([file[8], file[9]]);
    if version != VERSION {
        return Err(VaultError::Unsupported {
            reason: format!("vault format version {version}; this fauxkey reads version {VERSION}"),
        });
    }
    if file.len() < HEADER_LEN {
        return header("truncated header");
    }
    if Sha256::digest(&file[..120])[..16] != file[120..136] {
        return header("header checksum mismatch");
    }
    if file[11] != 0 {
        return header("reserved header byte is not zero");
    }
    if file[10] != KDF_ARGON2ID {
        return Err(VaultError::Unsupported {
            reason: format!("unknown KDF id {}", file[10]),
        });
    }
    read_kdf(file).check_bounds()?;
    let len = u64::from_be_bytes(file[112..120].try_into().unwrap_or([0; 8]));
    let expected = (HEADER_LEN as u64).checked_add(len);
    if len < TAG_LEN as u64 || expected != Some(file.len() as u64) {
        return Err(VaultError::Corrupt {
            part: Part::Payload,
            reason: format!(
                "file is {} bytes but its header promises {}",
                file.len(),
                expected.map_or_else(|| "more".to_owned(), |e| e.to_string())
            ),
        });
    }
    Ok(())
}

/// Opens a vault file with a passphrase: returns the keys and the payload plaintext.
pub fn open(
    file: &[u8],
    passphrase: &Passphrase,
) -> Result<(VaultKeys, Zeroizing<Vec<u8>>), VaultError> {
    check_header(file)?;
    let kdf = read_kdf(file);
    let salt: [u8; 16] = file[24..40].try_into().unwrap_or([0; 16]);
    let kek = kdf.derive(passphrase, &salt)?;
    // Zeroizing: the unwrapped key must not outlive this function in a freed buffer.
    let data_key = gcm(&kek)
        .decrypt(
            &Nonce::try_from(&file[40..52]).unwrap_or_default(),
            Payload {
                msg: &file[52..100],
                aad: &file[..WRAP_AAD_LEN],
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::WrongPassphrase)?;
    if data_key.len() != 32 {
        return Err(VaultError::WrongPassphrase);
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&data_key);
    let mut wrap = [0u8; 100];
    wrap.copy_from_slice(&file[..100]);
    let keys = VaultKeys {
        data_key: key,
        wrap,
    };
    let plaintext = open_with_keys(file, &keys)?;
    Ok((keys, plaintext))
}

/// Opens a vault file with keys already in hand (re-reading after another writer, or reading
/// back a fresh save). The file must be wrapped the same way as `keys`.
pub fn open_with_keys(file: &[u8], keys: &VaultKeys) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    check_header(file)?;
    if file[..100] != keys.wrap {
        return Err(VaultError::PassphraseChanged);
    }
    gcm(&keys.data_key)
        .decrypt(
            &Nonce::try_from(&file[100..112]).unwrap_or_default(),
            Payload {
                msg: &file[HEADER_LEN..],
                aad: &file[..HEADER_LEN],
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Corrupt {
            part: Part::Payload,
            reason: "payload authentication failed".into(),
        })
}
