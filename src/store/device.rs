//! [`DeviceState`]: the authenticator's own persistent state besides its credentials, that
//! `authenticatorClientPIN`, `authenticatorConfig` and `authenticatorLargeBlobs` change (CTAP 2.1
//! §6.5, §6.11, §6.10). The vault keeps it in its settings (SPEC §4.3 keys 18–25 and 27); an
//! in-memory store keeps it in memory.

/// The number of PIN attempts a fresh or reset PIN allows (CTAP 2.1 §6.5.2.2: `pinRetries`
/// starts at, and is reset to, its maximum of 8).
pub const MAX_PIN_RETRIES: u8 = 8;

/// The minimum PIN length of an authenticator nobody configured (CTAP 2.1 §6.4: 4 code points).
pub const DEFAULT_MIN_PIN_LENGTH: u8 = 4;

/// The PIN and authenticatorConfig state. `Default` is a fresh authenticator: no PIN, 8 retries,
/// a minimum PIN length of 4, no forced change, enterprise attestation and alwaysUv off.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// `LEFT(SHA-256(PIN), 16)`, the only form of the PIN an authenticator keeps (CTAP 2.1
    /// §6.5.5.5 step 9). Secret-equivalent for a short PIN: never printed.
    pub pin_hash: Option<[u8; 16]>,
    /// The current PIN's length in Unicode code points (setMinPINLength compares it).
    pub pin_code_points: u8,
    /// `pinRetries`: wrong PINs left before the PIN is blocked (0 = blocked until reset).
    pub pin_retries: u8,
    /// The current minimum PIN length in code points (`minPINLength`).
    pub min_pin_length: u8,
    /// `forcePINChange`: the PIN must be changed before a token is issued with it.
    pub force_pin_change: bool,
    /// The RP IDs allowed to read the minimum PIN length (`minPinLength` extension).
    pub min_pin_length_rp_ids: Vec<String>,
    /// Enterprise attestation enabled (`ep` option true).
    pub enterprise_attestation: bool,
    /// `alwaysUv`: every makeCredential and getAssertion needs user verification.
    pub always_uv: bool,
    /// The serialized large-blob array (CTAP 2.1 §6.10.3: a CBOR array then the 16-byte
    /// checksum) written by authenticatorLargeBlobs; `None` is the initial, empty array. Its
    /// entries are encrypted by the platform with per-credential keys.
    pub large_blob_array: Option<Vec<u8>>,
}

impl Default for DeviceState {
    fn default() -> Self {
        Self {
            pin_hash: None,
            pin_code_points: 0,
            pin_retries: MAX_PIN_RETRIES,
            min_pin_length: DEFAULT_MIN_PIN_LENGTH,
            force_pin_change: false,
            min_pin_length_rp_ids: Vec::new(),
            enterprise_attestation: false,
            always_uv: false,
            large_blob_array: None,
        }
    }
}

impl std::fmt::Debug for DeviceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceState")
            .field("pin_set", &self.pin_hash.is_some())
            .field("pin_retries", &self.pin_retries)
            .field("min_pin_length", &self.min_pin_length)
            .field("force_pin_change", &self.force_pin_change)
            .field("min_pin_length_rp_ids", &self.min_pin_length_rp_ids)
            .field("enterprise_attestation", &self.enterprise_attestation)
            .field("always_uv", &self.always_uv)
            .field(
                "large_blob_array_len",
                &self.large_blob_array.as_ref().map(Vec::len),
            )
            .finish()
    }
}

impl DeviceState {
    /// Whether a PIN is set (getInfo `clientPin: true`).
    pub fn pin_set(&self) -> bool {
        self.pin_hash.is_some()
    }

    /// Whether nothing differs from a fresh authenticator (the vault then writes no key).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Sets the PIN (kept as `LEFT(SHA-256(pin), 16)`), restores the retries and clears
    /// `forcePINChange`. The caller has checked the PIN policy.
    pub fn set_pin(&mut self, pin: &str) {
        self.pin_hash = Some(pin_hash(pin.as_bytes()));
        self.pin_code_points = u8::try_from(pin.chars().count()).unwrap_or(u8::MAX);
        self.pin_retries = MAX_PIN_RETRIES;
        self.force_pin_change = false;
    }

    /// The state as the CLI (`fauxkey pin status --json`) and the control plane report it
    /// (never the PIN hash).
    pub fn status_json(&self) -> serde_json::Value {
        serde_json::json!({
            "pinSet": self.pin_set(),
            "pinRetries": self.pin_retries,
            "minPinLength": self.min_pin_length,
            "forcePinChange": self.force_pin_change,
            "minPinLengthRpIds": self.min_pin_length_rp_ids,
            "alwaysUv": self.always_uv,
            "enterpriseAttestation": self.enterprise_attestation,
        })
    }

    /// Removes the PIN (what `authenticatorReset` and `fauxkey pin clear` do).
    pub fn clear_pin(&mut self) {
        self.pin_hash = None;
        self.pin_code_points = 0;
        self.pin_retries = MAX_PIN_RETRIES;
        self.force_pin_change = false;
    }
}

/// `LEFT(SHA-256(pin), 16)`.
pub fn pin_hash(pin: &[u8]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(pin);
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}
