//! The `fauxkey` binary as the CLI tests drive it: a private directory and vault per test, a
//! clean environment (no `FAUXKEY_*` variable leaks in from the developer's shell), and exit-code
//! assertions. Shared by `tests/cli.rs` and `tests/signals.rs`; each uses part of it.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

pub const PASSPHRASE: &str = "correct horse battery staple";

/// Every variable the binary reads, so that nothing leaks in from the developer's shell.
const FAUXKEY_VARS: [&str; 5] = [
    "FAUXKEY_VAULT",
    "FAUXKEY_PASSPHRASE",
    "FAUXKEY_PASSPHRASE_FILE",
    "FAUXKEY_NEW_PASSPHRASE",
    "FAUXKEY_NEW_PASSPHRASE_FILE",
];

static DIR_COUNTER: AtomicU64 = AtomicU64::new(0);

/// One test's private directory and vault path; removed on drop.
pub struct Env {
    pub dir: PathBuf,
    pub vault: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Env {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fauxkey-test-{name}-{}-{}",
            std::process::id(),
            DIR_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // Private, as a vault's directory should be (fauxkey warns about a wider one).
        set_private(&dir);
        let vault = dir.join("vault.fxk");
        Self { dir, vault }
    }

    /// A new env with an empty fast-KDF vault.
    pub fn with_vault(name: &str) -> Self {
        let env = Self::new(name);
        env.init();
        env
    }

    /// The binary with a clean environment: this vault, the passphrase, no colours.
    pub fn bare_cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("fauxkey").unwrap();
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FAUXKEY_") {
                cmd.env_remove(key);
            }
        }
        for key in FAUXKEY_VARS {
            cmd.env_remove(key);
        }
        cmd.env("FAUXKEY_VAULT", &self.vault)
            .env("NO_COLOR", "1")
            .timeout(Duration::from_secs(60));
        cmd
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = self.bare_cmd();
        cmd.env("FAUXKEY_PASSPHRASE", PASSPHRASE);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        self.cmd()
            .args(args)
            .write_stdin(stdin.as_bytes().to_vec())
            .output()
            .unwrap()
    }

    pub fn init(&self) {
        expect(&self.run(&["init", "--insecure-fast-kdf"]), 0);
    }

    pub fn vault_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.vault).unwrap()
    }

    /// `create` in quick mode; returns the parsed RegistrationResponseJSON.
    pub fn quick_create(&self, rp_id: &str, user: &str) -> Value {
        let out = self.run(&["create", "--rp-id", rp_id, "--user", user]);
        let (stdout, _) = expect(&out, 0);
        serde_json::from_str(&stdout).unwrap()
    }

    pub fn list_json(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["list", "--json"];
        args.extend_from_slice(extra);
        let (stdout, _) = expect(&self.run(&args), 0);
        serde_json::from_str::<Value>(&stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

fn set_private(dir: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Asserts the exit code and returns (stdout, stderr).
pub fn expect(out: &Output, code: i32) -> (String, String) {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "wrong exit code\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}"
    );
    (stdout, stderr)
}
