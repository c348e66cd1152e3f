//! Robustness of the encrypted vault (vault-format/SPEC.md): every truncation and bit flip maps to
//! the error class §3.1 orders, KDF bounds are enforced before derivation, saves survive SIGKILL,
//! concurrent processes lose no update, files get private modes, the lock is honoured, passphrase
//! changes re-wrap, every save draws a fresh nonce, and no secret is ever printed.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::io::{BufRead as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fauxkey::ctap2::make_credential::{CredentialParameters, Extensions, Request, RpEntity};
use fauxkey::ctap2::{Options, UserEntity};
use fauxkey::store::CredentialStore;
use fauxkey::vault::{self, ErrorClass, KdfParams, Passphrase, Vault, VaultError};
use fauxkey::Config;
use rand_core::{Rng as _, SeedableRng as _};
use sha2::{Digest as _, Sha256};

const PASS: &str = "Tr0ub4dor&3 robustness passphrase";
const HEADER_LEN: usize = 136;

// ---------------------------------------------------------------- helpers

/// A private temp directory for one test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let d = std::env::temp_dir().join(format!("fauxkey-robust-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pass() -> Passphrase {
    Passphrase::new(PASS).unwrap()
}

fn request(user: &[u8], alg: i64, rk: bool) -> Request {
    Request {
        client_data_hash: vec![7; 32],
        rp: RpEntity {
            id: "example.com".into(),
            name: Some("Example".into()),
        },
        user: UserEntity {
            id: user.to_vec(),
            name: Some("alice".into()),
            display_name: Some("Alice".into()),
        },
        pub_key_cred_params: vec![CredentialParameters {
            type_: "public-key".into(),
            alg,
        }],
        exclude_list: vec![],
        extensions: Extensions {
            hmac_secret: Some(true),
            cred_protect: Some(2),
            ..Extensions::default()
        },
        options: Options {
            rk: Some(rk),
            up: None,
            uv: Some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
        enterprise_attestation: None,
        attestation_formats_preference: None,
    }
}

/// Creates a vault at `path` holding one ES256 and one EdDSA credential.
fn small_vault(path: &Path, seed: u64) {
    let v = Vault::create_with_rng(
        path,
        &pass(),
        KdfParams::INSECURE_FAST,
        Config::default(),
        fauxkey::env::seeded_rng(seed),
    )
    .unwrap();
    let mut auth = v
        .into_authenticator()
        .with_rng(fauxkey::env::seeded_rng(seed + 1));
    auth.make_credential(request(b"user-1", -7, true)).unwrap();
    auth.make_credential(request(b"user-2", -8, false)).unwrap();
    assert_eq!(auth.store().len(), 2);
}

/// (id, user handle, secret key bytes) of every credential, sorted.
fn snapshot(store: &dyn CredentialStore) -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let mut v: Vec<_> = store
        .all()
        .map(|c| {
            (
                c.id.clone(),
                c.user_handle.clone(),
                c.key.secret_bytes().to_vec(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Sets the header checksum (bytes 120..136) to match bytes 0..120.
fn fix_checksum(bytes: &mut [u8]) {
    let check = Sha256::digest(&bytes[..120]);
    bytes[120..136].copy_from_slice(&check[..16]);
}

/// Neither Display nor Debug of an error mentions the passphrase or a key.
fn assert_error_clean(e: &VaultError, secrets: &[String]) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            !text.contains(PASS),
            "error text leaks the passphrase: {text}"
        );
        for s in secrets {
            assert!(
                !text.contains(s.as_str()),
                "error text leaks a secret: {text}"
            );
        }
    }
}

fn open_class(bytes: &[u8], p: &Passphrase) -> Result<(), ErrorClass> {
    let r = vault::format::open(bytes, p);
    if let Err(e) = &r {
        assert_error_clean(e, &[]);
    }
    r.map(|_| ()).map_err(|e| e.class())
}

fn stray_temp_files(dir: &Path, vault_name: &str) -> usize {
    let prefix = format!(".{vault_name}.tmp.");
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        .count()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs this test binary again with only `test` selected, with `envs` set.
fn child_command(test: &str, envs: &[(&str, &str)]) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", test, "--nocapture", "--test-threads=1"]);
    for (k, v) in envs {
        c.env(k, v);
    }
    c
}

// ---------------------------------------------------------------- 1. truncation and bit flips

fn class_for_truncation(len: usize) -> ErrorClass {
    if len < HEADER_LEN {
        ErrorClass::HeaderFailure // < 10 bytes: not a vault; 10..136: truncated header
    } else {
        ErrorClass::PayloadFailure
    }
}

fn class_for_flip(offset: usize) -> ErrorClass {
    match offset {
        0..8 => ErrorClass::HeaderFailure,    // magic
        8..10 => ErrorClass::Unsupported,     // version
        10..136 => ErrorClass::HeaderFailure, // covered by header_check
        _ => ErrorClass::PayloadFailure,      // payload tag
    }
}

#[test]
fn every_truncation_and_bit_flip_has_the_spec_error_class() {
    let dir = TempDir::new("flips");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 1);
    let good = std::fs::read(&path).unwrap();
    let p = pass();
    assert_eq!(open_class(&good, &p), Ok(()));
    assert!(good.len() > HEADER_LEN + 16);

    let mut failures: Vec<String> = Vec::new();
    let mut check = |what: String, bytes: &[u8], want: ErrorClass| {
        let got = std::panic::catch_unwind(|| open_class(bytes, &p));
        match got {
            Err(_) => failures.push(format!("{what}: PANIC")),
            Ok(r) if r != Err(want) => failures.push(format!("{what}: got {r:?}, want {want:?}")),
            Ok(_) => {}
        }
    };
    for len in 0..good.len() {
        check(
            format!("truncated to {len}"),
            &good[..len],
            class_for_truncation(len),
        );
    }
    for offset in 0..good.len() {
        for bit in 0..8 {
            let mut bad = good.clone();
            bad[offset] ^= 1 << bit;
            check(
                format!("bit {bit} of byte {offset} flipped"),
                &bad,
                class_for_flip(offset),
            );
        }
    }
    let mut extended = good.clone();
    extended.push(0);
    check(
        "extended by one byte".into(),
        &extended,
        ErrorClass::PayloadFailure,
    );
    assert!(
        failures.is_empty(),
        "{} of {} mutations misclassified, first: {:?}",
        failures.len(),
        good.len() * 9 + 1,
        &failures[..failures.len().min(20)]
    );
}

#[test]
fn corrupt_files_on_disk_are_reported_and_never_rewritten() {
    let dir = TempDir::new("disk");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 2);
    let good = std::fs::read(&path).unwrap();
    let p = pass();

    // Corrupted before opening: Vault::open reports the class and leaves the bytes alone.
    let mut payload_flip = good.clone();
    payload_flip[HEADER_LEN + 5] ^= 0x10;
    let mut magic = good.clone();
    magic[0] = b'X';
    let mut version = good.clone();
    version[9] = 2;
    let cases: Vec<(&str, Vec<u8>, ErrorClass)> = vec![
        ("payload flip", payload_flip, ErrorClass::PayloadFailure),
        ("bad magic", magic, ErrorClass::HeaderFailure),
        ("version 2", version, ErrorClass::Unsupported),
        (
            "truncated header",
            good[..60].to_vec(),
            ErrorClass::HeaderFailure,
        ),
        (
            "truncated payload",
            good[..good.len() - 1].to_vec(),
            ErrorClass::PayloadFailure,
        ),
    ];
    for (what, bytes, want) in &cases {
        std::fs::write(&path, bytes).unwrap();
        let e = Vault::open(&path, &p).unwrap_err();
        assert_error_clean(&e, &[]);
        assert_eq!(e.class(), *want, "{what}");
        assert_eq!(
            &std::fs::read(&path).unwrap(),
            bytes,
            "{what}: file changed"
        );
    }

    // Corrupted after opening: a change fails and writes nothing.
    let mut nonce_flip = good.clone();
    nonce_flip[105] ^= 0x01; // payload_nonce, so the writer notices; checksum now wrong
    let mut nonce_fixed = nonce_flip.clone();
    fix_checksum(&mut nonce_fixed); // header valid, payload tag fails
    let after_open: Vec<(&str, Vec<u8>, ErrorClass)> = vec![
        (
            "payload nonce flipped",
            nonce_flip,
            ErrorClass::HeaderFailure,
        ),
        (
            "nonce changed, checksum fixed",
            nonce_fixed,
            ErrorClass::PayloadFailure,
        ),
        (
            "truncated to 50 bytes",
            good[..50].to_vec(),
            ErrorClass::HeaderFailure,
        ),
        ("garbage", vec![0xAB; 400], ErrorClass::HeaderFailure),
    ];
    for (what, bytes, want) in &after_open {
        std::fs::write(&path, &good).unwrap();
        let mut v = Vault::open(&path, &p).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let e = v
            .modify(|_, cfg| cfg.max_credential_count_in_list = 9)
            .unwrap_err();
        assert_error_clean(&e, &[]);
        assert_eq!(e.class(), *want, "{what}");
        assert_eq!(
            &std::fs::read(&path).unwrap(),
            bytes,
            "{what}: modify rewrote the file"
        );
        // Through the authenticator: makeCredential fails, the file stays as it is.
        let mut auth = v.into_authenticator();
        assert!(
            auth.make_credential(request(b"late", -7, true)).is_err(),
            "{what}"
        );
        assert_eq!(
            &std::fs::read(&path).unwrap(),
            bytes,
            "{what}: makeCredential rewrote the file"
        );
        assert_eq!(stray_temp_files(dir.path(), "vault.fxk"), 0, "{what}");
    }
}

// ---------------------------------------------------------------- 2. KDF bounds

#[test]
fn kdf_parameters_out_of_bounds_are_refused_before_derivation() {
    let dir = TempDir::new("kdf");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 3);
    let good = std::fs::read(&path).unwrap();
    let p = pass();
    let set = |at: usize, v: u32| {
        let mut b = good.clone();
        b[at..at + 4].copy_from_slice(&v.to_be_bytes());
        b
    };
    let mut cases: Vec<(&str, Vec<u8>, ErrorClass)> = vec![
        (
            "m_cost 4 TiB",
            set(12, 0xFFFF_FFFF),
            ErrorClass::Unsupported,
        ),
        (
            "m_cost 1 GiB + 1 KiB",
            set(12, (1 << 20) + 1),
            ErrorClass::Unsupported,
        ),
        ("m_cost 0", set(12, 0), ErrorClass::Unsupported),
        ("t_cost 1000", set(16, 1000), ErrorClass::Unsupported),
        ("t_cost 0", set(16, 0), ErrorClass::Unsupported),
        (
            "t_cost u32::MAX",
            set(16, u32::MAX),
            ErrorClass::Unsupported,
        ),
        ("parallelism 0", set(20, 0), ErrorClass::Unsupported),
        ("parallelism 17", set(20, 17), ErrorClass::Unsupported),
        // m_cost 8 is below 8 × parallelism when parallelism is 2.
        ("m_cost < 8 × p", set(20, 2), ErrorClass::Unsupported),
    ];
    let mut kdf_id = good.clone();
    kdf_id[10] = 2;
    cases.push(("kdf id 2", kdf_id, ErrorClass::Unsupported));
    let mut reserved = good.clone();
    reserved[11] = 1;
    cases.push(("reserved 1", reserved, ErrorClass::HeaderFailure));
    let mut len_max = good.clone();
    len_max[112..120].copy_from_slice(&u64::MAX.to_be_bytes());
    cases.push(("payload_len u64::MAX", len_max, ErrorClass::PayloadFailure));
    let mut len_small = good[..HEADER_LEN + 15].to_vec();
    len_small[112..120].copy_from_slice(&15u64.to_be_bytes());
    cases.push(("payload_len 15", len_small, ErrorClass::PayloadFailure));

    for (what, mut bytes, want) in cases {
        fix_checksum(&mut bytes);
        assert_eq!(open_class(&bytes, &p), Err(want), "{what}");
        std::fs::write(&path, &bytes).unwrap();
        let e = Vault::open(&path, &p).unwrap_err();
        assert_eq!(e.class(), want, "{what} (from disk)");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{what}: file changed");
    }
}

// ---------------------------------------------------------------- 3. crash test

const CRASH_ENV: &str = "FAUXKEY_CRASH_CHILD";

/// Child of `a_killed_writer_leaves_the_old_or_the_new_vault`: adds credentials until killed.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CRASH_ENV) else {
        return;
    };
    let v = Vault::open(Path::new(&path), &pass()).unwrap();
    let mut auth = v.into_authenticator();
    let mut out = std::io::stdout().lock();
    let pid = std::process::id();
    // Bounded, in case the parent dies and nobody kills us.
    for i in 0..20_000u32 {
        let user = format!("crash-{pid}-{i}");
        auth.make_credential(request(user.as_bytes(), -8, true))
            .unwrap();
        writeln!(out, "saved {}", auth.store().len()).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn a_killed_writer_leaves_the_old_or_the_new_vault() {
    const ITERATIONS: usize = 36;
    let dir = TempDir::new("crash");
    let path = dir.path().join("vault.fxk");
    Vault::create(&path, &pass(), KdfParams::INSECURE_FAST, Config::default()).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed_c4a5);
    let mut count = 0usize;
    let mut in_flight_landed = 0;
    let mut acknowledged_total = 0;
    for iteration in 0..ITERATIONS {
        let mut child = child_command("crash_child", &[(CRASH_ENV, path.to_str().unwrap())])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sleep_ms = 5 + u64::from(rng.next_u32() % 56);
        std::thread::sleep(Duration::from_millis(sleep_ms));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acknowledged = count;
        let mut saves = 0;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            // libtest prints "test crash_child ... " without a newline before the first save.
            if let Some(n) = line.split("saved ").nth(1) {
                if let Ok(n) = n.trim().parse::<usize>() {
                    assert_eq!(
                        n,
                        acknowledged + 1,
                        "iteration {iteration}: a save went unreported"
                    );
                    acknowledged = n;
                    saves += 1;
                }
            }
        }
        acknowledged_total += saves;
        let v = Vault::open(&path, &pass())
            .unwrap_or_else(|e| panic!("iteration {iteration} ({sleep_ms} ms): vault broken: {e}"));
        let now = v.len();
        assert!(
            now == acknowledged || now == acknowledged + 1,
            "iteration {iteration} ({sleep_ms} ms): vault holds {now}, {acknowledged} acknowledged"
        );
        if now == acknowledged + 1 {
            in_flight_landed += 1;
        }
        count = now;
    }
    let strays = stray_temp_files(dir.path(), "vault.fxk");
    eprintln!(
        "crash test: {ITERATIONS} kills, {acknowledged_total} acknowledged saves, \
         {count} credentials at the end, {in_flight_landed} unacknowledged in-flight saves landed, \
         {strays} stray temp files"
    );
    assert!(count > 0, "no child ever saved: the test proved nothing");
    // Stray temp files do not disturb opening (checked above on every iteration), and each
    // save removes those of the writers killed before it (SPEC §5 step 1): at most the last
    // kill's one is left, and the next save removes it.
    assert!(
        strays <= 1,
        "{strays} stray temp files: saves do not clean up"
    );
    let mut v = Vault::open(&path, &pass()).unwrap();
    v.modify(|_, _| ()).unwrap();
    assert_eq!(stray_temp_files(dir.path(), "vault.fxk"), 0);
}

// ---------------------------------------------------------------- 4. two concurrent processes

const CONCURRENT_ENV: &str = "FAUXKEY_CONCURRENT_CHILD";
const CONCURRENT_TAG_ENV: &str = "FAUXKEY_CONCURRENT_TAG";
const PER_PROCESS: usize = 200;

/// Child of `two_processes_adding_concurrently_lose_nothing`.
#[test]
fn concurrent_child() {
    let Some(path) = std::env::var_os(CONCURRENT_ENV) else {
        return;
    };
    let tag = std::env::var(CONCURRENT_TAG_ENV).unwrap();
    let v = Vault::open(Path::new(&path), &pass()).unwrap();
    let mut auth = v.into_authenticator();
    for i in 0..PER_PROCESS {
        let user = format!("{tag}-{i}");
        auth.make_credential(request(user.as_bytes(), -8, true))
            .unwrap_or_else(|e| panic!("{tag}: credential {i}: {e:?}"));
    }
}

#[test]
fn two_processes_adding_concurrently_lose_nothing() {
    let dir = TempDir::new("concurrent");
    let path = dir.path().join("vault.fxk");
    Vault::create(&path, &pass(), KdfParams::INSECURE_FAST, Config::default()).unwrap();
    let children: Vec<_> = ["a", "b"]
        .iter()
        .map(|tag| {
            child_command(
                "concurrent_child",
                &[
                    (CONCURRENT_ENV, path.to_str().unwrap()),
                    (CONCURRENT_TAG_ENV, tag),
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v = Vault::open(&path, &pass()).unwrap();
    assert_eq!(v.len(), 2 * PER_PROCESS, "updates were lost");
    let ids: HashSet<Vec<u8>> = v.all().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 2 * PER_PROCESS, "credential ids repeat");
    let users: HashSet<Vec<u8>> = v.all().map(|c| c.user_handle.clone()).collect();
    let expected: HashSet<Vec<u8>> = ["a", "b"]
        .iter()
        .flat_map(|t| (0..PER_PROCESS).map(move |i| format!("{t}-{i}").into_bytes()))
        .collect();
    assert_eq!(users, expected);
    assert_eq!(stray_temp_files(dir.path(), "vault.fxk"), 0);
    // SPEC §4.4: `sequence` is the creation order within this authenticator, unique.
    let sequences: HashSet<u64> = v.all().map(|c| c.sequence).collect();
    assert_eq!(
        sequences.len(),
        2 * PER_PROCESS,
        "SPEC §4.4 wants unique sequence numbers; concurrent writers reused {} of them",
        2 * PER_PROCESS - sequences.len()
    );
}

// ---------------------------------------------------------------- 5. file modes

const MODE_ENV: &str = "FAUXKEY_MODE_CHILD";

/// Child of `files_are_private_under_a_permissive_umask`: runs under `umask 000`.
#[test]
fn mode_child() {
    let Some(path) = std::env::var_os(MODE_ENV) else {
        return;
    };
    let path = PathBuf::from(path);
    let v = Vault::create(&path, &pass(), KdfParams::INSECURE_FAST, Config::default()).unwrap();
    let mut auth = v.into_authenticator();
    auth.make_credential(request(b"u", -7, true)).unwrap();
    // Proof that the umask really is permissive: an ordinary file gets 0666.
    let probe = path
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .with_extension("probe");
    std::fs::write(probe, b"x").unwrap();
}

#[test]
fn files_are_private_under_a_permissive_umask() {
    let dir = TempDir::new("modes");
    let fresh = dir.path().join("fresh");
    let sub = fresh.join("sub");
    let path = sub.join("vault.fxk");
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 000; exec "$0" --exact mode_child --nocapture --test-threads=1"#)
        .arg(std::env::current_exe().unwrap())
        .env(MODE_ENV, &path)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let probe = fresh.with_extension("probe");
    assert_eq!(mode(&probe), 0o666, "the child did not run under umask 000");
    assert_eq!(mode(&path), 0o600, "vault file");
    assert_eq!(mode(&vault::file::lock_path(&path)), 0o600, "lock file");
    assert_eq!(mode(&sub), 0o700, "vault directory");
    assert_eq!(mode(&fresh), 0o700, "created parent directory");
    assert_eq!(stray_temp_files(&sub, "vault.fxk"), 0);
}

// ---------------------------------------------------------------- 6. lock contention

#[test]
fn a_held_lock_times_out_as_locked_then_the_change_succeeds() {
    let dir = TempDir::new("lock");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 6);
    let mut v = Vault::open(&path, &pass()).unwrap();
    v.set_lock_timeout(Duration::from_millis(100));
    let before = std::fs::read(&path).unwrap();
    let guard = vault::file::lock(&path, Duration::from_secs(1)).unwrap();
    let start = std::time::Instant::now();
    let e = v
        .modify(|_, cfg| cfg.max_credential_count_in_list = 5)
        .unwrap_err();
    assert_error_clean(&e, &[]);
    assert_eq!(e.class(), ErrorClass::Locked, "{e}");
    assert!(
        start.elapsed() >= Duration::from_millis(100),
        "gave up early"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "wrote without the lock"
    );
    let e = v.refresh().unwrap_err();
    assert_eq!(e.class(), ErrorClass::Locked);
    drop(guard);
    v.modify(|_, cfg| cfg.max_credential_count_in_list = 5)
        .unwrap();
    let reopened = Vault::open(&path, &pass()).unwrap();
    assert_eq!(reopened.settings().max_credential_count_in_list, 5);
    assert_eq!(reopened.len(), 2);
}

// ---------------------------------------------------------------- 7. change passphrase

#[test]
fn changing_the_passphrase_rewraps_and_keeps_every_credential() {
    let dir = TempDir::new("rewrap");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 7);
    let old_bytes = std::fs::read(&path).unwrap();
    let mut v = Vault::open(&path, &pass()).unwrap();
    let mut stale = Vault::open(&path, &pass()).unwrap();
    let before = snapshot(&v);
    let new = Passphrase::new("a completely new passphrase").unwrap();
    v.change_passphrase(&new, KdfParams::INSECURE_FAST).unwrap();
    let new_bytes = std::fs::read(&path).unwrap();

    let e = Vault::open(&path, &pass()).unwrap_err();
    assert_error_clean(&e, &[]);
    assert_eq!(e.class(), ErrorClass::WrongPassphrase);
    let reopened = Vault::open(&path, &new).unwrap();
    assert_eq!(snapshot(&reopened), before);
    assert_eq!(reopened.kdf(), KdfParams::INSECURE_FAST);
    assert_ne!(old_bytes[24..40], new_bytes[24..40], "salt reused");
    assert_ne!(old_bytes[40..52], new_bytes[40..52], "wrap nonce reused");
    assert_ne!(
        old_bytes[100..112],
        new_bytes[100..112],
        "payload nonce reused"
    );
    assert_eq!(
        old_bytes[..24],
        new_bytes[..24],
        "magic, version, KDF changed"
    );

    // A writer still holding the old wrapping must not overwrite the re-wrapped vault.
    let e = stale
        .modify(|_, cfg| cfg.max_credential_count_in_list = 3)
        .unwrap_err();
    assert_error_clean(&e, &["a completely new passphrase".into()]);
    assert_eq!(std::fs::read(&path).unwrap(), new_bytes);
}

// ---------------------------------------------------------------- 8. no lost update in-process

#[test]
fn two_open_vaults_do_not_overwrite_each_other() {
    let dir = TempDir::new("twice");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 8);
    let a = Vault::open(&path, &pass()).unwrap();
    let b = Vault::open(&path, &pass()).unwrap();
    let mut c = Vault::open(&path, &pass()).unwrap();
    let mut auth_a = a.into_authenticator();
    let mut auth_b = b.into_authenticator();
    auth_a.make_credential(request(b"X", -7, true)).unwrap();
    auth_b.make_credential(request(b"Y", -8, true)).unwrap();
    // A plain transaction on a third, stale handle re-reads too.
    c.modify(|_, cfg| cfg.max_credential_count_in_list = 11)
        .unwrap();
    let r = Vault::open(&path, &pass()).unwrap();
    let users: HashSet<Vec<u8>> = r.all().map(|c| c.user_handle.clone()).collect();
    assert!(users.contains(b"X".as_slice()), "A's credential was lost");
    assert!(users.contains(b"Y".as_slice()), "B's credential was lost");
    assert_eq!(r.len(), 4);
    assert_eq!(r.settings().max_credential_count_in_list, 11);
}

// ---------------------------------------------------------------- 9. fresh nonce per save

#[test]
fn every_save_draws_a_fresh_payload_nonce() {
    let dir = TempDir::new("nonce");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 9);
    let mut v = Vault::open(&path, &pass()).unwrap();
    v.modify(|_, _| ()).unwrap();
    let first = std::fs::read(&path).unwrap();
    v.modify(|_, _| ()).unwrap();
    let second = std::fs::read(&path).unwrap();
    assert_eq!(first.len(), second.len());
    assert_eq!(first[..100], second[..100], "the key wrap changed");
    assert_ne!(first[100..112], second[100..112], "payload nonce reused");
    assert_eq!(first[112..120], second[112..120]);
    assert_ne!(first[HEADER_LEN..], second[HEADER_LEN..], "same ciphertext");
    assert_eq!(open_class(&second, &pass()), Ok(()));
}

// ---------------------------------------------------------------- 10. secrets never printed

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let dir = TempDir::new("secrets");
    let path = dir.path().join("vault.fxk");
    small_vault(&path, 10);
    let p = pass();
    let v = Vault::open(&path, &p).unwrap();
    let keys: Vec<Vec<u8>> = v.all().map(|c| c.key.secret_bytes().to_vec()).collect();
    assert_eq!(keys.len(), 2);
    let secrets: Vec<String> = keys
        .iter()
        .flat_map(|k| [hex::encode(k), hex::encode_upper(k), format!("{k:?}")])
        .collect();
    let check = |text: &str| {
        assert!(!text.contains(PASS), "passphrase printed: {text}");
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "private key printed: {text}");
        }
    };
    check(&format!("{v:?}"));
    check(&format!("{v:#?}"));
    check(&format!("{p:?}"));
    check(&format!("{:?}", v.kdf()));
    for c in v.all() {
        check(&format!("{c:?}"));
    }
    let auth = v.into_authenticator();
    check(&format!("{auth:?}"));

    // The file holds neither the passphrase nor a key in the clear.
    let file = std::fs::read(&path).unwrap();
    assert!(!file.windows(PASS.len()).any(|w| w == PASS.as_bytes()));
    for k in &keys {
        assert!(!file.windows(k.len()).any(|w| w == k.as_slice()));
    }

    // Every kind of error this vault can produce.
    let mut errors: Vec<VaultError> = vec![
        Vault::open(&path, &Passphrase::new("wrong").unwrap()).unwrap_err(),
        Vault::open(&dir.path().join("missing"), &p).unwrap_err(),
        Vault::create(&path, &p, KdfParams::INSECURE_FAST, Config::default()).unwrap_err(),
        Vault::create(
            &dir.path().join("other"),
            &p,
            KdfParams {
                m_cost_kib: 8,
                t_cost: 0,
                parallelism: 1,
            },
            Config::default(),
        )
        .unwrap_err(),
        Passphrase::new("").unwrap_err(),
    ];
    let mut bad = file.clone();
    bad[HEADER_LEN] ^= 1;
    errors.push(vault::format::open(&bad, &p).unwrap_err());
    bad[50] ^= 1;
    errors.push(vault::format::open(&bad, &p).unwrap_err());
    let mut v = Vault::open(&path, &p).unwrap();
    v.set_lock_timeout(Duration::from_millis(10));
    let guard = vault::file::lock(&path, Duration::from_secs(1)).unwrap();
    errors.push(v.modify(|_, _| ()).unwrap_err());
    drop(guard);
    let mut stale = Vault::open(&path, &p).unwrap();
    v.change_passphrase(&Passphrase::new("next").unwrap(), KdfParams::INSECURE_FAST)
        .unwrap();
    errors.push(stale.modify(|_, _| ()).unwrap_err());
    let classes: HashSet<String> = errors.iter().map(|e| format!("{:?}", e.class())).collect();
    assert!(
        classes.len() >= 6,
        "too few kinds of error exercised: {classes:?}"
    );
    for e in &errors {
        check(&e.to_string());
        check(&format!("{e:?}"));
        assert_error_clean(e, &secrets);
    }
}
