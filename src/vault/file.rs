//! Files for the vault (vault-format/SPEC.md §5): atomic replacement, the lock file, and modes
//! (0600 files, 0700 directories, from the first byte).

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::VaultError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the whole vault file; a missing file is [`VaultError::NotFound`].
pub fn read(path: &Path) -> Result<Vec<u8>, VaultError> {
    fs::read(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => VaultError::NotFound {
            path: path.to_owned(),
        },
        _ => VaultError::Io {
            path: path.to_owned(),
            source: e,
        },
    })
}

/// Reads at most the first `n` bytes of the vault file.
pub fn read_prefix(path: &Path, n: usize) -> Result<Vec<u8>, VaultError> {
    use std::io::Read as _;
    let f = File::open(path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => VaultError::NotFound {
            path: path.to_owned(),
        },
        _ => VaultError::Io {
            path: path.to_owned(),
            source: e,
        },
    })?;
    let mut buf = Vec::with_capacity(n);
    f.take(n as u64).read_to_end(&mut buf).map_err(io(path))?;
    Ok(buf)
}

/// Creates the vault's directory (and parents) with mode 0700 where they do not exist yet.
pub fn ensure_parent(path: &Path) -> Result<(), VaultError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir)),
        _ => Ok(()),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The file a vault path names, following symbolic links (SPEC §5.1): saves replace the real
/// file and the lock sits beside it, so a linked vault is never forked. A path that is not a
/// link (or does not exist yet) is returned as it is; a dangling link resolves to its target,
/// where a new vault is then created.
pub fn resolve(path: &Path) -> Result<PathBuf, VaultError> {
    let mut current = path.to_owned();
    // As many hops as Linux follows (MAXSYMLINKS).
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&current).map_err(io(&current))?;
                current = if target.is_absolute() {
                    target
                } else {
                    parent_dir(&current).join(target)
                };
            }
            _ => return Ok(current),
        }
    }
    Err(VaultError::Io {
        path: path.to_owned(),
        source: std::io::Error::other("too many levels of symbolic links"),
    })
}

/// The name prefix of `path`'s temp files: `.<name>.tmp.`.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vault".into());
    format!(".{name}.tmp.")
}

/// Removes the temp files of writers that died mid-save (SPEC §5 step 1). Only a writer holding
/// the lock makes temp files, so under the lock every one found is stale: an older complete vault
/// (under the passphrase of its time) or a fragment, which must not outlive it. Returns how many
/// were removed.
pub fn remove_stale_temps(path: &Path) -> Result<usize, VaultError> {
    let dir = parent_dir(path);
    let prefix = temp_prefix(path);
    let mut removed = 0;
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(&dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io(&dir))?;
        if entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io(&entry.path())(e)),
            }
        }
    }
    Ok(removed)
}

/// Warnings about a vault, its lock file or its directory that other users may read or write
/// (any group or other permission bit). Empty when all is private.
pub fn permission_warnings(path: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = parent_dir(path);
    let lock = lock_path(path);
    let mut warnings = Vec::new();
    for (what, p, fix) in [
        ("vault", path, "0600"),
        ("lock file", lock.as_path(), "0600"),
        ("vault directory", dir.as_path(), "0700"),
    ] {
        if let Ok(m) = fs::metadata(p) {
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                warnings.push(format!(
                    "the {what} {} is accessible to other users (mode {mode:04o}); it should be {fix}{}",
                    p.display(),
                    if what == "vault directory" {
                        " (fauxkey does not change a directory it may share: chmod it yourself)"
                    } else {
                        " (fauxkey repairs it on the next save)"
                    }
                ));
            }
        }
    }
    warnings
}

/// Narrows the lock file to 0600 if it was widened (the vault itself is always written 0600).
pub fn repair_lock_mode(path: &Path) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt as _;
    let lock = lock_path(path);
    match fs::metadata(&lock) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => {
            fs::set_permissions(&lock, fs::Permissions::from_mode(0o600)).map_err(io(&lock))
        }
        _ => Ok(()),
    }
}

/// Replaces `path` with `bytes` atomically: a 0600 temp file in the same directory, written,
/// fsynced, read back and checked with `verify`, renamed over `path`, then the directory fsynced.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    verify: impl FnOnce(&[u8]) -> Result<(), VaultError>,
) -> Result<(), VaultError> {
    let dir = parent_dir(path);
    let tmp = dir.join(format!(
        "{}{}.{}",
        temp_prefix(path),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        drop(f);
        let back = fs::read(&tmp).map_err(io(&tmp))?;
        verify(&back)?;
        fs::rename(&tmp, path).map_err(io(path))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io(&dir))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// An exclusive lock on `<vault>.lock`, released when dropped.
#[derive(Debug)]
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// The lock file that guards `vault`.
pub fn lock_path(vault: &Path) -> PathBuf {
    let mut name = vault
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    vault.with_file_name(name)
}

/// Takes the vault's lock, waiting up to `timeout` for another process to release it.
pub fn lock(vault: &Path, timeout: Duration) -> Result<LockGuard, VaultError> {
    ensure_parent(vault)?;
    let path = lock_path(vault);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io(&path))?;
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(LockGuard { file }),
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(25));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(VaultError::Locked {
                    path: vault.to_owned(),
                    waited: start.elapsed(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(VaultError::Io { path, source: e }),
        }
    }
}
