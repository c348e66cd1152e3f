//! The vault's journal (vault-format/SPEC.md §9): `<vault>.journal`, an authenticated,
//! append-only log of sign-count and last-used updates to the vault state it is bound to, so
//! that a login appends about a hundred bytes and one `fsync` instead of rewriting the vault.
//! The next full save folds it into the payload and removes it.
//!
//! This module holds the byte layout (header, records, the scan with its torn-tail rule) and
//! the file operations; [`super::Vault`] decides when to append, apply and fold.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read as _};
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand_core::CryptoRng;

use super::{Part, VaultError};

/// The HKDF-SHA-256 `info` of the journal's record key (SPEC §9.2).
pub(crate) const KEY_INFO: &[u8] = b"fauxkey vault journal v1";
/// `\x89FXKJ\r\n\x1a`: the vault's magic with `J` for `V`.
pub const MAGIC: [u8; 8] = *b"\x89FXKJ\r\n\x1a";
/// magic (8) ‖ version (2) ‖ the vault's `payload_nonce` (12).
pub const HEADER_LEN: usize = 22;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// sign_count (4) ‖ last_used_ms (8) before the credential id.
const FIXED_LEN: usize = 12;
/// The shortest and longest `record_len` (nonce ‖ ciphertext ‖ tag; ids of 1 to 1023 bytes).
pub const MIN_RECORD_LEN: usize = NONCE_LEN + FIXED_LEN + 1 + TAG_LEN;
/// See [`MIN_RECORD_LEN`].
pub const MAX_RECORD_LEN: usize = NONCE_LEN + FIXED_LEN + 1023 + TAG_LEN;

/// The journal's record key (SPEC §9.2), derived from the vault's data key. Never printed.
pub struct JournalKey(Aes256Gcm);

impl JournalKey {
    /// HKDF-SHA-256 of the data key with the journal's label.
    pub fn derive(keys: &super::VaultKeys) -> Self {
        Self(keys.journal_cipher())
    }
}

impl std::fmt::Debug for JournalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JournalKey(<redacted>)")
    }
}

/// One journaled login: the credential's new sign count and last-used time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The credential id.
    pub id: Vec<u8>,
    /// The sign count after the login.
    pub sign_count: u32,
    /// When, ms since the Unix epoch.
    pub last_used_ms: u64,
}

/// The journal that belongs to `vault`: `<vault>.journal`, beside it.
pub fn path(vault: &Path) -> PathBuf {
    let mut name = vault
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".journal");
    vault.with_file_name(name)
}

/// The header of a journal bound to the vault whose `payload_nonce` is `vault_nonce`.
pub fn header(vault_nonce: &[u8; 12]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&1u16.to_be_bytes());
    h[10..].copy_from_slice(vault_nonce);
    h
}

/// Whether `head` (the journal's first bytes) is a header bound to `vault_nonce` (SPEC §9.4
/// step 1–3). A short or foreign header is not bound (ignored); a journal of another version is
/// [`VaultError::Unsupported`].
pub fn is_bound(head: &[u8], vault_nonce: &[u8; 12]) -> Result<bool, VaultError> {
    if head.len() < HEADER_LEN || head[..8] != MAGIC {
        return Ok(false);
    }
    if head[8..10] != [0, 1] {
        return Err(VaultError::Unsupported {
            reason: format!(
                "journal version {} (this fauxkey reads version 1)",
                u16::from_be_bytes([head[8], head[9]])
            ),
        });
    }
    Ok(head[10..HEADER_LEN] == vault_nonce[..])
}

fn aad(head: &[u8], index: u64, len: u16) -> [u8; HEADER_LEN + 10] {
    let mut a = [0u8; HEADER_LEN + 10];
    a[..HEADER_LEN].copy_from_slice(&head[..HEADER_LEN]);
    a[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&index.to_be_bytes());
    a[HEADER_LEN + 8..].copy_from_slice(&len.to_be_bytes());
    a
}

/// One record: `record_len` (u16) ‖ nonce ‖ AES-256-GCM(plaintext) ‖ tag, the record number
/// `index` and the header in its AAD (SPEC §9.3).
pub fn seal_record(
    key: &JournalKey,
    head: &[u8; HEADER_LEN],
    index: u64,
    usage: &Usage,
    rng: &mut dyn CryptoRng,
) -> Result<Vec<u8>, VaultError> {
    let corrupt = |reason: &str| VaultError::Corrupt {
        part: Part::Journal,
        reason: reason.into(),
    };
    if usage.id.is_empty() || usage.id.len() > 1023 {
        return Err(corrupt("a credential id outside 1 to 1023 bytes"));
    }
    let len = NONCE_LEN + FIXED_LEN + usage.id.len() + TAG_LEN;
    let mut plaintext = Vec::with_capacity(FIXED_LEN + usage.id.len());
    plaintext.extend_from_slice(&usage.sign_count.to_be_bytes());
    plaintext.extend_from_slice(&usage.last_used_ms.to_be_bytes());
    plaintext.extend_from_slice(&usage.id);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let ct = key
        .0
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plaintext,
                aad: &aad(head, index, len as u16),
            },
        )
        .map_err(|_| corrupt("encryption failed"))?;
    let mut out = Vec::with_capacity(2 + len);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// What [`scan`] found after a position.
#[derive(Debug, Default)]
pub struct Scan {
    /// The authentic records, in order.
    pub records: Vec<Usage>,
    /// The offset just past the last authentic record (where the next append goes).
    pub end: u64,
    /// The number of the next record.
    pub index: u64,
    /// Whether bytes after `end` were dropped as the torn final record.
    pub torn: bool,
}

/// Reads the records in `tail`, the journal's bytes from offset `start` (record number
/// `index`) to its end, under the header `head` (SPEC §9.4 steps 4–6).
pub fn scan(
    key: &JournalKey,
    head: &[u8],
    tail: &[u8],
    start: u64,
    mut index: u64,
) -> Result<Scan, VaultError> {
    let mut records = Vec::new();
    let mut pos = 0usize;
    let mut torn = false;
    while pos < tail.len() {
        let rest = &tail[pos..];
        let Some(len) = rest
            .get(..2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        else {
            torn = true;
            break;
        };
        let in_range = (MIN_RECORD_LEN..=MAX_RECORD_LEN).contains(&len);
        if !in_range {
            // A crash may leave the file extended with zeros where the record was to go.
            if rest.iter().all(|&b| b == 0) {
                torn = true;
                break;
            }
            return Err(damaged(start + pos as u64, "a record length out of range"));
        }
        if 2 + len > rest.len() {
            // The final record, cut short by a crash before it was acknowledged.
            torn = true;
            break;
        }
        let body = &rest[2..2 + len];
        let opened = key.0.decrypt(
            &Nonce::try_from(&body[..NONCE_LEN]).unwrap_or_default(),
            Payload {
                msg: &body[NONCE_LEN..],
                aad: &aad(head, index, len as u16),
            },
        );
        match opened {
            Ok(plaintext) => {
                records.push(Usage {
                    sign_count: u32::from_be_bytes([
                        plaintext[0],
                        plaintext[1],
                        plaintext[2],
                        plaintext[3],
                    ]),
                    last_used_ms: u64::from_be_bytes(
                        plaintext[4..12].try_into().unwrap_or_default(),
                    ),
                    id: plaintext[FIXED_LEN..].to_vec(),
                });
                index += 1;
                pos += 2 + len;
            }
            Err(_) if 2 + len == rest.len() => {
                // The last record, cut short by a crash before it was acknowledged.
                torn = true;
                break;
            }
            Err(_) => {
                return Err(damaged(
                    start + pos as u64,
                    "a record failed authentication (altered, reordered or from another vault)",
                ))
            }
        }
    }
    Ok(Scan {
        records,
        end: start + pos as u64,
        index,
        torn,
    })
}

fn damaged(offset: u64, what: &str) -> VaultError {
    VaultError::Corrupt {
        part: Part::Journal,
        reason: format!("{what} at byte {offset}"),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A journal's header bytes (up to [`HEADER_LEN`]) and the bytes after a given offset.
pub type HeadAndTail = (Vec<u8>, Vec<u8>);

/// The journal's header bytes (up to [`HEADER_LEN`]) and its bytes from `offset` on (from
/// [`HEADER_LEN`] when `offset` is 0); `None` when there is no journal.
pub fn read(path: &Path, offset: u64) -> Result<Option<HeadAndTail>, VaultError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    if offset == 0 {
        let mut all = Vec::new();
        f.read_to_end(&mut all).map_err(io(path))?;
        let tail = all.split_off(all.len().min(HEADER_LEN));
        return Ok(Some((all, tail)));
    }
    let mut head = vec![0u8; HEADER_LEN];
    let n = read_at_most(&f, &mut head, 0).map_err(io(path))?;
    head.truncate(n);
    let len = f.metadata().map_err(io(path))?.len();
    let mut tail = vec![0u8; len.saturating_sub(offset) as usize];
    let n = read_at_most(&f, &mut tail, offset).map_err(io(path))?;
    tail.truncate(n);
    Ok(Some((head, tail)))
}

fn read_at_most(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Writes `bytes` at `at` (0: a new journal, header first), dropping whatever followed (a torn
/// record, or an obsolete journal), then `fsync`s; a new journal's directory entry is synced
/// too. On failure the file is cut back to `at`, best effort (SPEC §9.5).
pub fn append(path: &Path, at: u64, bytes: &[u8]) -> Result<(), VaultError> {
    write_record(path, at, bytes, true)
}

/// [`append`] without the `fsync` of an existing journal's data (a new journal, `at == 0`, is
/// still synced with its directory entry): the record is in the kernel, so it survives the
/// process being killed, and reaches the disk with the [`SyncGroup`] `fsync` that follows
/// (SPEC §9.5, group commit).
pub fn append_unsynced(path: &Path, at: u64, bytes: &[u8]) -> Result<(), VaultError> {
    write_record(path, at, bytes, at == 0)
}

fn write_record(path: &Path, at: u64, bytes: &[u8], sync: bool) -> Result<(), VaultError> {
    let f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    let result = (|| {
        if f.metadata()?.len() != at {
            f.set_len(at)?;
        }
        f.write_all_at(bytes, at)?;
        if sync {
            f.sync_data()?;
        }
        if at == 0 {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = f.set_len(at);
    }
    result.map_err(io(path))
}

/// Removes the journal after a full save folded it (a missing one is fine; a failure to remove
/// is harmless, as the journal is bound to the vault state before the save and is ignored).
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// Group commit (SPEC §9.5): appends written without their `fsync` ([`append_unsynced`]) each
/// take a ticket, and one `fdatasync` covers every append whose ticket was issued before it
/// began. Logins on several connections then share one disk flush instead of queueing for one
/// each; none is acknowledged before a flush that covers it has returned.
#[derive(Debug, Default)]
pub struct SyncGroup {
    /// Tickets issued, each after its record was written.
    issued: AtomicU64,
    /// The highest ticket known to be on disk; held while flushing, so that the waiters behind
    /// a flush find their ticket covered when it ends.
    synced: Mutex<u64>,
    /// How many flushes were made (for tests and diagnostics).
    flushes: AtomicU64,
}

impl SyncGroup {
    /// How many `fdatasync`s this group has made.
    pub fn flushes(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }

    /// A ticket for a record just written.
    pub fn issue(&self) -> u64 {
        self.issued.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Returns once `ticket`'s record is on disk: at once if a flush already covered it, else
    /// after one `fdatasync` of the journal at `path` that also covers every ticket issued so
    /// far. A journal that is gone was folded into the vault by a full save, which is synced
    /// before the journal is removed.
    pub fn wait(&self, path: &Path, ticket: u64) -> Result<(), VaultError> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        if *synced >= ticket {
            return Ok(());
        }
        let upto = self.issued.load(Ordering::SeqCst);
        match File::open(path) {
            Ok(f) => {
                f.sync_data().map_err(io(path))?;
                self.flushes.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io(path)(e)),
        }
        *synced = upto;
        Ok(())
    }
}

/// A journal record written but not yet flushed ([`Vault::take_pending_sync`]); the login it
/// records may be acknowledged once [`PendingSync::wait`] returns `Ok`.
///
/// [`Vault::take_pending_sync`]: super::Vault::take_pending_sync
#[derive(Debug)]
#[must_use = "a login is acknowledged only after its record is flushed"]
pub struct PendingSync {
    pub(super) group: Arc<SyncGroup>,
    pub(super) path: PathBuf,
    pub(super) ticket: u64,
}

impl PendingSync {
    /// Flushes the record (sharing the flush with other waiters, [`SyncGroup`]).
    pub fn wait(self) -> Result<(), VaultError> {
        self.group.wait(&self.path, self.ticket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_flush_covers_every_ticket_issued_before_it() {
        let dir = std::env::temp_dir().join(format!("fauxkey-syncgroup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("v.journal");
        append(&path, 0, b"header").expect("a new journal");
        let group = SyncGroup::default();
        let (a, b, c) = (group.issue(), group.issue(), group.issue());
        group.wait(&path, c).expect("flush");
        assert_eq!(group.flushes(), 1);
        // Written before that flush began: already on disk, no second flush.
        group.wait(&path, a).expect("covered");
        group.wait(&path, b).expect("covered");
        assert_eq!(group.flushes(), 1);
        let d = group.issue();
        group.wait(&path, d).expect("flush");
        assert_eq!(group.flushes(), 2);
        // A journal folded away (removed) meanwhile: its records are in the synced vault.
        let e = group.issue();
        remove(&path);
        group.wait(&path, e).expect("nothing left to flush");
        assert_eq!(group.flushes(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
