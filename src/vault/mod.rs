//! The encrypted vault: fauxkey's persistent authenticator state (settings and credentials) in
//! one passphrase-protected file. The format is documented in `vault-format/SPEC.md`.
//!
//! [`Vault`] implements [`CredentialStore`]: every change is a transaction that takes the lock,
//! catches up with other processes (the file if it was saved, then new journal records), applies
//! the change, and saves atomically. A login's new sign count and last-used time are appended to
//! the journal (`<vault>.journal`, SPEC §9) instead, and folded in at the next full save.

pub mod file;
pub mod format;
pub mod journal;
mod passphrase;
pub mod payload;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use format::{KdfParams, VaultKeys};
pub use passphrase::{Passphrase, PassphraseSource};

use crate::authenticator::Config;
use crate::env::{self, Rng};
use crate::store::{Change, Credential, CredentialStore, Event, MemoryStore, StoreError};
use crate::Authenticator;

/// Which part of a vault file is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Bytes 0..136: magic, version, KDF parameters, wrapped key, nonces, checksum.
    Header,
    /// The encrypted payload.
    Payload,
    /// The journal beside the vault (`<vault>.journal`, SPEC §9); its failures are payload
    /// failures.
    Journal,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Journal => "journal",
        })
    }
}

/// The classes of vault failure that SPEC.md §3.1 and the CLI's exit codes distinguish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// There is no vault at the path.
    NoVault,
    /// Another process holds the vault's lock.
    Locked,
    /// The passphrase does not open the vault.
    WrongPassphrase,
    /// The header is damaged or the file is not a vault.
    HeaderFailure,
    /// The payload is damaged, truncated or extended.
    PayloadFailure,
    /// A version, revision or parameter this fauxkey does not support.
    Unsupported,
    /// Anything else (I/O, no passphrase source, …).
    Other,
}

/// A vault operation failed. Never holds a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// No vault file at the path.
    #[error("no vault at {path}; create one with `fauxkey init`")]
    NotFound {
        /// The path looked at.
        path: PathBuf,
    },
    /// Creating a vault where one exists.
    #[error("a vault already exists at {path}")]
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// Another process held the lock for longer than the wait allows.
    #[error(
        "vault {path} is locked by another process (waited {waited:?}); try again when it finishes"
    )]
    Locked {
        /// The vault.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The passphrase does not unwrap the data key.
    #[error("wrong passphrase for this vault (or its key-wrapping header was altered)")]
    WrongPassphrase,
    /// The file is damaged.
    #[error("vault is corrupt ({part}): {reason}")]
    Corrupt {
        /// Where.
        part: Part,
        /// What was found.
        reason: String,
    },
    /// A version, revision or KDF parameter outside what this fauxkey supports.
    #[error("unsupported vault: {reason}")]
    Unsupported {
        /// What exactly.
        reason: String,
    },
    /// Another process re-wrapped the vault under a new passphrase since we opened it.
    #[error("the vault's passphrase was changed by another process; open it again")]
    PassphraseChanged,
    /// No usable passphrase source.
    #[error("{0}")]
    Passphrase(String),
    /// An I/O error on a path.
    #[error("vault I/O error on {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl VaultError {
    /// The failure's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            VaultError::NotFound { .. } => ErrorClass::NoVault,
            VaultError::Locked { .. } => ErrorClass::Locked,
            VaultError::WrongPassphrase => ErrorClass::WrongPassphrase,
            VaultError::Corrupt {
                part: Part::Header, ..
            } => ErrorClass::HeaderFailure,
            VaultError::Corrupt {
                part: Part::Payload | Part::Journal,
                ..
            } => ErrorClass::PayloadFailure,
            VaultError::Unsupported { .. } => ErrorClass::Unsupported,
            _ => ErrorClass::Other,
        }
    }
}

/// How long a writer waits for another process's lock before giving up.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Fold the journal into a full save once it is this long and longer than the vault (so the
/// cost of a save is spread over at least as many bytes of logins as it writes).
const FOLD_AT_LEAST: u64 = 64 * 1024;

/// How far the journal bound to the current vault state has been read and applied.
#[derive(Debug, Clone, Copy, Default)]
struct JournalPos {
    /// The offset after the last record applied; 0 when no journal is bound to this state.
    end: u64,
    /// The number of the next record.
    index: u64,
}

/// An open vault: its keys, and the state as last read or written.
pub struct Vault {
    path: PathBuf,
    keys: VaultKeys,
    journal_key: journal::JournalKey,
    journal: JournalPos,
    vault_len: u64,
    nonce: [u8; 12],
    settings: Config,
    extras: payload::Extras,
    store: MemoryStore,
    rng: Rng,
    lock_timeout: Duration,
    /// Group commit ([`Vault::defer_journal_sync`]): shared by the logins of this vault.
    sync_group: std::sync::Arc<journal::SyncGroup>,
    defer_sync: bool,
    pending_sync: Option<journal::PendingSync>,
    /// The lock held across several steps ([`Vault::hold_lock`]); while it is held, nobody else
    /// can have changed the files, so no step catches up or locks again.
    held: Option<file::LockGuard>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("credentials", &self.store.len())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new vault at `path` (its directory 0700, the file 0600). Fails if one exists.
    pub fn create(
        path: &Path,
        passphrase: &Passphrase,
        kdf: KdfParams,
        settings: Config,
    ) -> Result<Self, VaultError> {
        Self::create_with_rng(path, passphrase, kdf, settings, env::os_rng())
    }

    /// [`Vault::create`] with a given randomness source (for reproducible files).
    pub fn create_with_rng(
        path: &Path,
        passphrase: &Passphrase,
        kdf: KdfParams,
        settings: Config,
        mut rng: Rng,
    ) -> Result<Self, VaultError> {
        kdf.check_bounds()?;
        let path = &file::resolve(path)?;
        let _lock = file::lock(path, DEFAULT_LOCK_TIMEOUT)?;
        if path.exists() {
            return Err(VaultError::AlreadyExists {
                path: path.to_owned(),
            });
        }
        let keys = VaultKeys::generate(passphrase, kdf, rng.as_mut())?;
        let mut vault = Vault {
            path: path.to_owned(),
            journal_key: journal::JournalKey::derive(&keys),
            journal: JournalPos::default(),
            vault_len: 0,
            keys,
            nonce: [0; 12],
            settings,
            extras: payload::Extras::default(),
            store: MemoryStore::new(),
            rng,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            sync_group: Default::default(),
            defer_sync: false,
            pending_sync: None,
            held: None,
        };
        vault.save_locked()?;
        Ok(vault)
    }

    /// Opens the vault at `path`.
    pub fn open(path: &Path, passphrase: &Passphrase) -> Result<Self, VaultError> {
        let path = &file::resolve(path)?;
        let bytes = file::read(path)?;
        let (keys, plaintext) = format::open(&bytes, passphrase)?;
        let (settings, extras, store) = loaded(payload::decode(&plaintext)?);
        let mut vault = Vault {
            path: path.to_owned(),
            journal_key: journal::JournalKey::derive(&keys),
            journal: JournalPos::default(),
            vault_len: bytes.len() as u64,
            keys,
            nonce: format::payload_nonce(&bytes).unwrap_or([0; 12]),
            settings,
            extras,
            store,
            rng: env::os_rng(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            sync_group: Default::default(),
            defer_sync: false,
            pending_sync: None,
            held: None,
        };
        vault.catch_up_journal()?;
        // Without the lock, a writer may have saved (and started a new journal) between our
        // reads of the vault and of its journal: then catch up again, under the lock.
        if format::payload_nonce(&file::read_prefix(&vault.path, 112)?) != Some(vault.nonce) {
            vault.refresh()?;
        }
        Ok(vault)
    }

    /// Replaces the randomness used for payload nonces and re-wraps.
    pub fn with_rng(mut self, rng: Rng) -> Self {
        self.rng = rng;
        self
    }

    /// How long to wait for another process's lock.
    pub fn set_lock_timeout(&mut self, timeout: Duration) {
        self.lock_timeout = timeout;
    }

    /// The vault's path: the real file, symbolic links resolved.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Warnings about a vault, lock file or directory that other users may read (see
    /// [`file::permission_warnings`]); a front end shows them.
    pub fn permission_warnings(&self) -> Vec<String> {
        file::permission_warnings(&self.path)
    }

    /// The authenticator settings stored in the vault.
    pub fn settings(&self) -> &Config {
        &self.settings
    }

    /// The optional parts: the test attestation CA and the client settings of the profile.
    pub fn extras(&self) -> &payload::Extras {
        &self.extras
    }

    /// Changes settings and the optional parts as one transaction (lock, catch up, change,
    /// save): what `init --profile` and `attestation-root` use to store the attestation CA.
    pub fn modify_settings<R>(
        &mut self,
        change: impl FnOnce(&mut Config, &mut payload::Extras) -> R,
    ) -> Result<R, VaultError> {
        let _lock = self.lock_step()?;
        let before = (self.settings.clone(), self.extras.clone());
        let result = change(&mut self.settings, &mut self.extras);
        if let Err(e) = self.save_locked() {
            // All or nothing: memory stays what is on disk.
            (self.settings, self.extras) = before;
            return Err(e);
        }
        Ok(result)
    }

    /// The KDF parameters the vault is wrapped with.
    pub fn kdf(&self) -> KdfParams {
        self.keys.kdf()
    }

    /// An authenticator over this vault, configured from the settings it stores.
    pub fn into_authenticator(self) -> Authenticator<Vault> {
        let config = self.settings.clone();
        Authenticator::new(config, self)
    }

    /// Takes the lock and catches up once, then keeps the lock until [`Vault::release_lock`]
    /// (or drop): every step in between (a login's refresh and its journal record, a save)
    /// neither locks nor catches up again, as no other process can write meanwhile. A server
    /// holds it across one ceremony; other processes wait for it as for any save. Holding it
    /// already is not an error.
    pub fn hold_lock(&mut self) -> Result<(), VaultError> {
        if self.held.is_none() {
            self.held = self.lock_step()?;
        }
        Ok(())
    }

    /// Releases the lock taken by [`Vault::hold_lock`]; nothing if it is not held.
    pub fn release_lock(&mut self) {
        self.held = None;
    }

    /// The lock for one step, and whether the step must catch up first: `None` (and no
    /// catch-up) while [`Vault::hold_lock`] holds it.
    fn lock_step(&mut self) -> Result<Option<file::LockGuard>, VaultError> {
        if self.held.is_some() {
            return Ok(None);
        }
        let guard = file::lock(&self.path, self.lock_timeout)?;
        self.catch_up()?;
        Ok(Some(guard))
    }

    /// Catches up with other processes: re-reads the file if another process saved since we
    /// last did, then applies the journal records appended since; true if anything changed.
    pub fn refresh(&mut self) -> Result<bool, VaultError> {
        if self.held.is_some() {
            return Ok(false);
        }
        let _lock = file::lock(&self.path, self.lock_timeout)?;
        self.catch_up()
    }

    /// [`Vault::refresh`] with the lock held.
    fn catch_up(&mut self) -> Result<bool, VaultError> {
        let reloaded = self.reload_if_changed()?;
        let applied = self.catch_up_journal()?;
        Ok(reloaded || applied)
    }

    fn reload_if_changed(&mut self) -> Result<bool, VaultError> {
        // The payload nonce changes on every save: comparing the header prefix is enough.
        if format::payload_nonce(&file::read_prefix(&self.path, 112)?) == Some(self.nonce) {
            return Ok(false);
        }
        let bytes = file::read(&self.path)?;
        let plaintext = format::open_with_keys(&bytes, &self.keys)?;
        (self.settings, self.extras, self.store) = loaded(payload::decode(&plaintext)?);
        self.nonce = format::payload_nonce(&bytes).unwrap_or([0; 12]);
        self.vault_len = bytes.len() as u64;
        self.journal = JournalPos::default();
        Ok(true)
    }

    /// Applies the journal records after the ones already applied (SPEC §9.4): reads the header
    /// and the bytes from the last offset on, never the vault. True if any were applied.
    fn catch_up_journal(&mut self) -> Result<bool, VaultError> {
        let path = journal::path(&self.path);
        let Some((head, tail)) = journal::read(&path, self.journal.end)? else {
            self.journal = JournalPos::default();
            return Ok(false);
        };
        if !journal::is_bound(&head, &self.nonce)? {
            // Absent, torn at its header, or bound to an older vault state (already folded).
            self.journal = JournalPos::default();
            return Ok(false);
        }
        let start = self.journal.end.max(journal::HEADER_LEN as u64);
        let scan = journal::scan(&self.journal_key, &head, &tail, start, self.journal.index)?;
        for usage in &scan.records {
            // A record for a credential the vault no longer holds changes nothing.
            let _ = self.store.update(&usage.id, &mut |c| {
                c.sign_count = usage.sign_count;
                c.last_used_ms = Some(usage.last_used_ms);
            });
        }
        self.journal = JournalPos {
            end: scan.end,
            index: scan.index,
        };
        Ok(!scan.records.is_empty())
    }

    /// Group commit (SPEC §9.5), for a server with several connections: while on, a login's
    /// journal record is written without its `fsync`, and [`Vault::take_pending_sync`] hands
    /// the flush to the caller, who waits for it after releasing whatever lock serializes its
    /// logins, so that logins on other connections write their records meanwhile and share the
    /// flush. The caller must not acknowledge the login before [`journal::PendingSync::wait`]
    /// returns `Ok`. A new journal, and every full save, are still synced at once.
    pub fn defer_journal_sync(&mut self, on: bool) {
        self.defer_sync = on;
    }

    /// The flush owed for the logins journaled since the last call (see
    /// [`Vault::defer_journal_sync`]); `None` when there is none.
    pub fn take_pending_sync(&mut self) -> Option<journal::PendingSync> {
        self.pending_sync.take()
    }

    /// Appends one login to the journal and `fsync`s it (SPEC §9.5); the caller holds the lock
    /// and has caught up, so anything after the last record applied is a torn record.
    fn append_usage(&mut self, usage: &journal::Usage) -> Result<(), VaultError> {
        let head = journal::header(&self.nonce);
        let fresh = self.journal.end == 0;
        let index = if fresh { 0 } else { self.journal.index };
        let record =
            journal::seal_record(&self.journal_key, &head, index, usage, self.rng.as_mut())?;
        let (at, bytes) = if fresh {
            (0, [head.as_slice(), &record].concat())
        } else {
            (self.journal.end, record)
        };
        let path = journal::path(&self.path);
        if self.defer_sync {
            journal::append_unsynced(&path, at, &bytes)?;
            let ticket = self.sync_group.issue();
            // A later record's flush covers an earlier one's.
            self.pending_sync = Some(journal::PendingSync {
                group: self.sync_group.clone(),
                path,
                ticket,
            });
        } else {
            journal::append(&path, at, &bytes)?;
        }
        self.journal = JournalPos {
            end: at + bytes.len() as u64,
            index: index + 1,
        };
        Ok(())
    }

    /// A login: the sign count and last-used time of one credential change, and nothing else.
    /// Journaled (one append and `fsync`), then kept in memory; anything else is a full save.
    fn update_credential(
        &mut self,
        id: &[u8],
        update: &mut dyn FnMut(&mut Credential),
    ) -> Result<bool, VaultError> {
        let _lock = self.lock_step()?;
        let Some(current) = self.store.get(id) else {
            return Ok(false);
        };
        let mut changed = current.clone();
        update(&mut changed);
        changed.id = id.to_vec();
        match (usage_only(current, &changed), changed.last_used_ms) {
            (true, Some(last_used_ms)) => {
                let usage = journal::Usage {
                    id: id.to_vec(),
                    sign_count: changed.sign_count,
                    last_used_ms,
                };
                // Memory changes only once the record is on disk (SPEC §9.5).
                self.append_usage(&usage)?;
                let _ = self.store.update(id, &mut |c| {
                    c.sign_count = usage.sign_count;
                    c.last_used_ms = Some(usage.last_used_ms);
                });
                if self.journal.end >= FOLD_AT_LEAST.max(self.vault_len) {
                    // The login is already safe in the journal: a failed fold loses nothing
                    // and is tried again after the next login.
                    let _ = self.save_locked();
                }
                Ok(true)
            }
            _ => {
                let before = self.store.clone();
                let result = self.store.update(id, &mut |c| *c = changed.clone());
                if let Err(e) = self.save_locked() {
                    self.store = before;
                    return Err(e);
                }
                Ok(result.unwrap_or(true))
            }
        }
    }

    /// Applies `change` as one transaction: lock, catch up with other writers, change, save.
    pub fn modify<R>(
        &mut self,
        change: impl FnOnce(&mut MemoryStore, &mut Config) -> R,
    ) -> Result<R, VaultError> {
        let _lock = self.lock_step()?;
        let before = (self.store.clone(), self.settings.clone());
        let result = change(&mut self.store, &mut self.settings);
        if let Err(e) = self.save_locked() {
            // All or nothing: a change that did not reach the disk is not kept in memory, so
            // no later save can write it (SPEC §5).
            (self.store, self.settings) = before;
            return Err(e);
        }
        Ok(result)
    }

    /// Re-wraps the data key under a new passphrase (fresh salt and nonce); nothing else changes.
    pub fn change_passphrase(
        &mut self,
        new: &Passphrase,
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        kdf.check_bounds()?;
        let _lock = self.lock_step()?;
        let new_keys = self.keys.rewrap(new, kdf, self.rng.as_mut())?;
        let old_keys = std::mem::replace(&mut self.keys, new_keys);
        if let Err(e) = self.save_locked() {
            self.keys = old_keys;
            return Err(e);
        }
        Ok(())
    }

    /// Encrypts the current state and writes it atomically; the caller holds the lock and has
    /// caught up, so the state includes every journal record, and the journal (bound to the
    /// state before this save) is removed after the rename and the directory `fsync`.
    fn save_locked(&mut self) -> Result<(), VaultError> {
        let credentials: Vec<&Credential> = self.store.all().collect();
        let events = self.store.events();
        let plaintext = payload::encode_with(&self.settings, &self.extras, &credentials, &events);
        let sealed = format::seal(&self.keys, &plaintext, self.rng.as_mut())?;
        let keys = &self.keys;
        file::ensure_parent(&self.path)?;
        // Under the lock: no other writer is mid-save, so every temp file is a dead writer's.
        file::remove_stale_temps(&self.path)?;
        file::repair_lock_mode(&self.path)?;
        file::write_atomic(&self.path, &sealed, |back| {
            // SPEC §5 step 4: what reached the disk must open.
            format::open_with_keys(back, keys).map(|_| ())
        })?;
        self.nonce = format::payload_nonce(&sealed).unwrap_or([0; 12]);
        self.vault_len = sealed.len() as u64;
        self.journal = JournalPos::default();
        // SPEC §9.6: only now, with the folded vault durable, may the journal go.
        journal::remove(&journal::path(&self.path));
        Ok(())
    }
}

/// Whether `after` differs from `before` in nothing but the sign count and last-used time.
fn usage_only(before: &Credential, after: &Credential) -> bool {
    before.id == after.id
        && before.rp_id == after.rp_id
        && before.rp_name == after.rp_name
        && before.user_handle == after.user_handle
        && before.user_name == after.user_name
        && before.user_display_name == after.user_display_name
        && before.discoverable == after.discoverable
        && before.backup_eligible == after.backup_eligible
        && before.backup_state == after.backup_state
        && before.created_ms == after.created_ms
        && before.hidden == after.hidden
        && before.hidden_at_ms == after.hidden_at_ms
        && before.cred_protect == after.cred_protect
        && before.sequence == after.sequence
        && before.key.algorithm() == after.key.algorithm()
        && before.key.secret_bytes() == after.key.secret_bytes()
        && before
            .cred_random
            .as_ref()
            .map(|r| (&r.with_uv, &r.without_uv))
            == after
                .cred_random
                .as_ref()
                .map(|r| (&r.with_uv, &r.without_uv))
}

/// The settings and an indexed store for a decoded payload (ids are already known unique).
fn loaded(state: payload::State) -> (Config, payload::Extras, MemoryStore) {
    let mut store = MemoryStore::with_capacity(state.credentials.len());
    for e in state.events {
        store.push_event(e);
    }
    for c in state.credentials {
        // An unbounded store never refuses an insert.
        let _ = store.insert(c);
    }
    (state.settings, state.extras, store)
}

/// Another process may have used this sequence number since our authenticator picked it (SPEC
/// §4.4 wants them unique): under the lock, renumber after the largest in the vault.
fn unique_sequence(store: &MemoryStore, mut credential: Credential) -> Credential {
    if credential.sequence <= store.max_sequence() && store.get(&credential.id).is_none() {
        credential.sequence = store.max_sequence() + 1;
    }
    credential
}

fn store_error(e: VaultError) -> StoreError {
    StoreError::Io(e.to_string())
}

impl CredentialStore for Vault {
    fn get(&self, id: &[u8]) -> Option<&Credential> {
        self.store.get(id)
    }

    fn update(
        &mut self,
        id: &[u8],
        update: &mut dyn FnMut(&mut Credential),
    ) -> Result<bool, StoreError> {
        self.update_credential(id, update).map_err(store_error)
    }

    fn ids_for_rp(&self, rp_id: &str) -> Vec<Vec<u8>> {
        self.store.ids_for_rp(rp_id)
    }

    fn ids_for_user(&self, rp_id: &str, user_handle: &[u8]) -> Vec<Vec<u8>> {
        self.store.ids_for_user(rp_id, user_handle)
    }

    fn insert(&mut self, credential: Credential) -> Result<(), StoreError> {
        self.modify(|s, _| s.insert(unique_sequence(s, credential)))
            .map_err(store_error)?
    }

    fn remove(&mut self, id: &[u8]) -> Result<Option<Credential>, StoreError> {
        self.modify(|s, _| s.remove(id)).map_err(store_error)?
    }

    fn insert_replacing(
        &mut self,
        credential: Credential,
        replaced: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        self.modify(|s, _| s.insert_replacing(unique_sequence(s, credential), replaced))
            .map_err(store_error)?
    }

    fn all(&self) -> Box<dyn Iterator<Item = &Credential> + '_> {
        self.store.all()
    }

    fn max_sequence(&self) -> u64 {
        self.store.max_sequence()
    }

    fn events(&self) -> Vec<Event> {
        self.store.events()
    }

    fn apply(&mut self, changes: &[Change], event: Event, now_ms: u64) -> Result<(), StoreError> {
        self.modify(|s, _| s.apply(changes, event, now_ms))
            .map_err(store_error)?
    }

    fn len(&self) -> usize {
        self.store.len()
    }

    fn refresh(&mut self) -> Result<(), StoreError> {
        Vault::refresh(self).map(|_| ()).map_err(store_error)
    }

    fn device_state(&self) -> crate::store::DeviceState {
        self.extras.device.clone()
    }

    fn set_device_state(&mut self, state: crate::store::DeviceState) -> Result<(), StoreError> {
        self.modify_settings(|_, extras| extras.device = state)
            .map_err(store_error)
    }
}
