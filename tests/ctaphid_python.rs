//! python-fido2 (a CTAP client nobody here wrote) drives `fauxkey ctap --socket` through its own
//! CTAPHID device class: getInfo, makeCredential, getAssertion with and without an allow list,
//! getNextAssertion, credential management, selection, reset, cancel, and its high-level
//! `Fido2Client` registering and logging in (also with the `prf` extension over hmac-secret and
//! hmac-secret-mc, `largeBlob`, `credBlob` and `minPinLength`), verified by python-fido2's
//! `Fido2Server`; python-fido2's `LargeBlobs` reading and writing the large-blob array; `Ctap1`
//! (U2F) register and authenticate, and `Fido2Client` falling back to U2F on a U2F-only key.
//!
//! Needs the venv from `.ci/setup-python.sh` (or `FAUXKEY_PYTHON`); without it these tests print
//! SKIPPED, unless `FAUXKEY_REQUIRE_E2E=1`, when they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod daemon_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

const FAUXKEY: &str = env!("CARGO_BIN_EXE_fauxkey");
static COUNTER: AtomicU32 = AtomicU32::new(0);

fn python() -> Option<PathBuf> {
    let path = std::env::var_os("FAUXKEY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv/bin/python"));
    let has_fido2 = Command::new(&path)
        .args([
            "-c",
            "from importlib.metadata import version; assert version('fido2').startswith('2.')",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_fido2 {
        return Some(path);
    }
    let why = format!("no python with fido2 2.x at {}", path.display());
    if std::env::var("FAUXKEY_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{why}; run .ci/setup-python.sh (FAUXKEY_REQUIRE_E2E=1)");
    }
    // Straight to the stderr handle (libtest captures `eprintln!`): visible in `cargo test`.
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("SKIPPED: {why}; run .ci/setup-python.sh\n"),
    );
    None
}

/// A scratch directory and a running `fauxkey ctap --socket` in it.
struct Server {
    dir: PathBuf,
    socket: PathBuf,
    child: Child,
}

impl Server {
    fn start(args: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fauxkey-ctaphid-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self::start_in(dir, args)
    }

    fn start_in(dir: PathBuf, args: &[&str]) -> Self {
        let socket = dir.join("ctap.sock");
        let mut child = Command::new(FAUXKEY)
            .arg("ctap")
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .env("FAUXKEY_PASSPHRASE", "correct horse")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        daemon_support::wait_until_listening(&mut child);
        Self { dir, socket, child }
    }

    /// Runs the python-fido2 driver with these scenarios; each must report `ok`.
    fn run(&self, python: &Path, scenarios: &[&str]) {
        let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/ctap_fido2.py");
        let out = Command::new(python)
            .arg(driver)
            .arg(&self.socket)
            .args(scenarios)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "python-fido2 driver failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for s in scenarios {
            assert!(
                stdout.contains(&format!("ok: {s}\n")),
                "{s} not reported ok: {stdout}"
            );
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn python_fido2_ctap2_get_info_make_credential_get_assertion() {
    let Some(py) = python() else { return };
    let server = Server::start(&["--ephemeral", "--no-account-chooser"]);
    server.run(&py, &["transport", "get_info", "make_get", "discoverable"]);
}

#[test]
fn python_fido2_credential_management_selection_reset() {
    let Some(py) = python() else { return };
    let server = Server::start(&["--ephemeral"]);
    server.run(&py, &["credman", "selection", "reset"]);
}

#[test]
fn python_fido2_client_registers_and_logs_in_verified_by_fido2_server() {
    let Some(py) = python() else { return };
    // With the profile's account chooser, and as a display-less key.
    Server::start(&["--ephemeral"]).run(&py, &["client", "prf"]);
    Server::start(&["--ephemeral", "--no-account-chooser"]).run(&py, &["client"]);
}

#[test]
fn python_fido2_keepalive_cancel_refusal_and_no_uv() {
    let Some(py) = python() else { return };
    Server::start(&["--ephemeral", "--presence-delay-ms", "400"])
        .run(&py, &["slow_touch", "two_clients"]);
    Server::start(&["--ephemeral", "--presence-delay-ms", "600000"]).run(&py, &["cancel"]);
    Server::start(&["--ephemeral", "--deny-presence"]).run(&py, &["deny"]);
    Server::start(&["--ephemeral", "--no-uv"]).run(&py, &["no_uv"]);
}

#[test]
fn python_fido2_over_the_vault_persists_and_logs_credential_management() {
    let Some(py) = python() else { return };
    let mut server = Server::start(&["--ephemeral"]);
    server.stop();
    let dir = server.dir.clone();
    let vault = dir.join("vault.fxk");
    let fauxkey = |args: &[&str]| {
        let out = Command::new(FAUXKEY)
            .arg("--vault")
            .arg(&vault)
            .args(args)
            .env("FAUXKEY_PASSPHRASE", "correct horse")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
    };
    fauxkey(&["init", "--insecure-fast-kdf"]);
    let mut vault_server = Server::start_in(
        dir.clone(),
        &["--vault", vault.to_str().unwrap(), "--no-account-chooser"],
    );
    vault_server.run(&py, &["discoverable", "credman"]);
    vault_server.stop();
    // The credentials python-fido2 created are in the vault: three of multi.example, and of
    // cm.example only bob (renamed robert), alice having been deleted.
    let list = fauxkey(&["list", "--json"]);
    let names = |rp: &str| -> Vec<String> {
        let mut v: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rpId"] == rp)
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names("multi.example"),
        ["user0", "user1", "user2"],
        "{list}"
    );
    assert_eq!(names("cm.example"), ["robert"], "{list}");
    // The delete and the update are in the event log.
    let events = fauxkey(&["events", "--json"]);
    let changes: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["signal"] == "credentialManagement")
        .flat_map(|e| e["changes"].as_array().unwrap())
        .map(|c| c["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["renamed", "removed"], "{events}");
}

#[test]
fn python_fido2_pin_config_preview_credman_and_retries_across_restarts() {
    let Some(py) = python() else { return };
    let mut server = Server::start(&["--ephemeral"]);
    server.stop();
    let dir = server.dir.clone();
    let vault = dir.join("vault.fxk");
    let out = Command::new(FAUXKEY)
        .arg("--vault")
        .arg(&vault)
        .args(["init", "--insecure-fast-kdf"])
        .env("FAUXKEY_PASSPHRASE", "correct horse")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A PIN-only key over the vault; every restart of the daemon is a power cycle.
    let args = ["--vault", vault.to_str().unwrap(), "--no-uv"];
    let runs: [&[&str]; 4] = [
        &["pin_setup", "pin_wrong3"],
        &["pin_after_restart", "pin_client", "pin_wrong3"],
        &["pin_wrong3"],
        &["pin_wrong3", "pin_blocked"],
    ];
    // Dropping a Server removes its directory: keep them all to the end.
    let mut daemons = Vec::new();
    for scenarios in runs {
        let mut daemon = Server::start_in(dir.clone(), &args);
        daemon.run(&py, scenarios);
        daemon.stop();
        daemons.push(daemon);
    }
}

#[test]
fn python_fido2_large_blobs_cred_blob_min_pin_length_and_prf_at_registration() {
    let Some(py) = python() else { return };
    Server::start(&["--ephemeral"]).run(&py, &["large_blobs", "cred_blob_min_pin_prf_mc"]);
}

#[test]
fn python_fido2_reads_the_yubikey_5_get_info_of_the_real_device() {
    let Some(py) = python() else { return };
    // Compared field by field with tests/data/getinfo/yubikey-5-fw5.4.3.hex (a real 5.4.3 key).
    Server::start(&["--ephemeral", "--profile", "yubikey-5"]).run(&py, &["yubikey_info"]);
}

#[test]
fn python_fido2_ctap1_u2f_register_authenticate_and_client_fallback() {
    let Some(py) = python() else { return };
    // A FIDO2 key that speaks U2F too: raw Ctap1, and key handles shared with CTAP2.
    Server::start(&["--ephemeral", "--profile", "yubikey-5"]).run(&py, &["u2f_also"]);
    // A U2F-only key: no CBOR capability; Fido2Client falls back to U2F, checked by Fido2Server.
    Server::start(&["--ephemeral", "--profile", "u2f-key"]).run(&py, &["u2f_only", "u2f_client"]);
}
