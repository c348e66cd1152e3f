//! Credential storage: the [`Credential`] record, the [`CredentialStore`] trait the authenticator
//! talks to, and [`MemoryStore`]. The encrypted vault implements the same trait.

mod device;
mod events;
mod memory;
mod summary;

pub use device::{pin_hash, DeviceState, DEFAULT_MIN_PIN_LENGTH, MAX_PIN_RETRIES};
pub use events::{Change, ChangeJson, Event, EventJson, EventKind, MAX_EVENTS};
pub use memory::MemoryStore;
pub use summary::{rfc3339, PasskeySummary};

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::keys::PrivateKey;

/// The `credProtect` level of a credential (CTAP 2.1 §12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum CredProtect {
    /// 1: `userVerificationOptional` (the default).
    #[default]
    UvOptional = 1,
    /// 2: `userVerificationOptionalWithCredentialIDList`.
    UvOptionalWithCredentialIdList = 2,
    /// 3: `userVerificationRequired`.
    UvRequired = 3,
}

impl CredProtect {
    /// The level for its CTAP number.
    pub fn from_level(level: u8) -> Option<Self> {
        match level {
            1 => Some(Self::UvOptional),
            2 => Some(Self::UvOptionalWithCredentialIdList),
            3 => Some(Self::UvRequired),
            _ => None,
        }
    }

    /// The CTAP number.
    pub fn level(self) -> u8 {
        self as u8
    }
}

/// The two per-credential `hmac-secret` keys (CredRandomWithUV, CredRandomWithoutUV).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CredRandom {
    /// Used when the user was verified (and always by WebAuthn `prf`).
    pub with_uv: [u8; 32],
    /// Used when the user was not verified.
    pub without_uv: [u8; 32],
}

impl std::fmt::Debug for CredRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredRandom(<redacted>)")
    }
}

/// The per-credential key of the `largeBlobKey` extension (CTAP 2.1 §12.3): the platform
/// encrypts this credential's large-blob entries with it. Secret; redacted in Debug.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct LargeBlobKey(pub [u8; 32]);

impl std::fmt::Debug for LargeBlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LargeBlobKey(<redacted>)")
    }
}

/// One credential the authenticator holds, discoverable or not.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The credential id (random bytes).
    pub id: Vec<u8>,
    /// The RP ID it is bound to.
    pub rp_id: String,
    /// The RP's human name, as given at registration.
    pub rp_name: Option<String>,
    /// The user handle (personal data: an RP's identifier for the account).
    pub user_handle: Vec<u8>,
    /// The account name (personal data).
    pub user_name: Option<String>,
    /// The account display name (personal data).
    pub user_display_name: Option<String>,
    /// The private key (secret; redacted in Debug).
    pub key: PrivateKey,
    /// Whether the credential is discoverable (a resident key / passkey).
    pub discoverable: bool,
    /// The signature counter.
    pub sign_count: u32,
    /// BE: fixed at creation, never changes.
    pub backup_eligible: bool,
    /// BS: only ever true when `backup_eligible` is.
    pub backup_state: bool,
    /// Creation time, ms since the Unix epoch.
    pub created_ms: u64,
    /// Last assertion time, ms since the Unix epoch.
    pub last_used_ms: Option<u64>,
    /// Hidden by a signal: kept, but not offered in assertions.
    pub hidden: bool,
    /// When it was hidden (ms since the Unix epoch); purged after the retention period.
    pub hidden_at_ms: Option<u64>,
    /// The credProtect level.
    pub cred_protect: CredProtect,
    /// hmac-secret keys, when the credential was created with `hmac-secret`.
    pub cred_random: Option<CredRandom>,
    /// The `largeBlobKey` extension's key, when the credential was created with it.
    pub large_blob_key: Option<LargeBlobKey>,
    /// The `credBlob` extension's bytes (at most 32), when the credential was created with one.
    pub cred_blob: Option<Vec<u8>>,
    /// Creation order within this authenticator (ties on `created_ms` are broken by it).
    pub sequence: u64,
    /// For a credential registered over CTAP1/U2F: its application parameter (SHA-256 of the
    /// AppID or RP ID), which binds it instead of `rp_id` (then only what the registering
    /// client said, or empty). `None` for CTAP2 credentials.
    pub u2f_app_param: Option<[u8; 32]>,
}

/// A storage failure. In-memory stores never fail; the vault can.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No room for another credential.
    #[error("the credential store is full")]
    Full,
    /// The backing store could not be written.
    #[error("{0}")]
    Io(String),
}

/// Where an authenticator keeps its credentials.
pub trait CredentialStore: Send {
    /// The credential with this id.
    fn get(&self, id: &[u8]) -> Option<&Credential>;
    /// Applies `update` to the credential with this id; false if there is none.
    fn update(
        &mut self,
        id: &[u8],
        update: &mut dyn FnMut(&mut Credential),
    ) -> Result<bool, StoreError>;
    /// The ids of all credentials bound to `rp_id`, in no particular order.
    fn ids_for_rp(&self, rp_id: &str) -> Vec<Vec<u8>>;
    /// The ids of the credentials of one account (rpId, user handle), discoverable or not.
    fn ids_for_user(&self, rp_id: &str, user_handle: &[u8]) -> Vec<Vec<u8>> {
        self.ids_for_rp(rp_id)
            .into_iter()
            .filter(|id| self.get(id).is_some_and(|c| c.user_handle == user_handle))
            .collect()
    }
    /// Adds a credential (ids are unique; an existing id is replaced).
    fn insert(&mut self, credential: Credential) -> Result<(), StoreError>;
    /// Inserts `credential` and removes the credentials in `replaced`, as one change (the vault
    /// saves it once, so a crash cannot lose the old credential without keeping the new one).
    fn insert_replacing(
        &mut self,
        credential: Credential,
        replaced: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        for id in replaced {
            self.remove(id)?;
        }
        self.insert(credential)
    }
    /// Removes a credential, returning it.
    fn remove(&mut self, id: &[u8]) -> Result<Option<Credential>, StoreError>;
    /// Every credential, in no particular order.
    fn all(&self) -> Box<dyn Iterator<Item = &Credential> + '_>;
    /// How many credentials there are.
    fn len(&self) -> usize;
    /// The most credentials the store can hold, if it has a limit.
    fn capacity(&self) -> Option<usize> {
        None
    }
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The event log, oldest first.
    fn events(&self) -> Vec<Event>;
    /// Applies `changes` and appends `event` to the log, as one change (the vault saves once).
    /// `now_ms` stamps credentials that become hidden.
    fn apply(&mut self, changes: &[Change], event: Event, now_ms: u64) -> Result<(), StoreError>;
    /// Catches up with changes another process made to a shared backing store (the vault).
    fn refresh(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// The largest `sequence` in use, so a restarted authenticator continues after it.
    fn max_sequence(&self) -> u64 {
        self.all().map(|c| c.sequence).max().unwrap_or(0)
    }
    /// The PIN and authenticatorConfig state (a store that keeps none reports a fresh one).
    fn device_state(&self) -> DeviceState {
        DeviceState::default()
    }
    /// Replaces the PIN and authenticatorConfig state (saved at once by the vault, so PIN
    /// retries survive a restart).
    fn set_device_state(&mut self, state: DeviceState) -> Result<(), StoreError> {
        let _ = state;
        Err(StoreError::Io(
            "this store cannot keep a PIN or authenticator settings".into(),
        ))
    }
}
