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

/// Replaces `path` with `bytes` atomically: a 0600 temp file in the same directory, written,
/// fsynced, read back and checked with `verify`, renamed over `path`, then the directory fsynced.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    verify: impl FnOnce(&[u8]) -> Result<(), VaultError>,
) -> Result<(), VaultError> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "vault".into());
    let tmp = dir.join(format!(
        ".{name}.tmp.{}.{}",
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
