//! Storage failures are reported as what they are, on every path: the CLI exits 8 and
//! `serve --vault` answers HTTP 500 `UnknownError`, both with the OS cause, never a user refusal
//! (exit 1 / 403); and a change whose save failed is not kept in memory.
//!
//! The failing write comes from RLIMIT_FSIZE (`ulimit -f 1` in `sh`, with SIGXFSZ ignored so the
//! write returns EFBIG): it needs no root and fails every save of a vault over 512 bytes, and
//! every journal append past byte 512 (a login: the tests first log in unlimited until the
//! journal is that long), while pipes (stdout, stderr) are unaffected. A real full disk (a small tmpfs) is tried too when this
//! runs as root, else that test prints SKIPPED.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;
mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use cli_support::{expect, Env, PASSPHRASE};
use common::{Http, ORIGIN};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_fauxkey");

/// `sh -c 'trap "" XFSZ; ulimit -f 1; exec fauxkey ARGS'`: every file write past 512 bytes fails.
fn write_limited(env: &Env, args: &[&str]) -> std::process::Output {
    let mut cmd = env.cmd();
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 1 && exec "$@""#)
        .arg("sh")
        .arg(BIN)
        .args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    let _ = &mut cmd;
    sh.stdin(Stdio::null()).output().unwrap()
}

/// Logs in (unlimited) until the journal is longer than the write limit, so that the next
/// login's append fails; returns how many logins that took.
fn grow_journal_past_the_limit(env: &Env) -> u64 {
    let journal = fauxkey::vault::journal::path(&env.vault);
    let mut logins = 0;
    while std::fs::metadata(&journal).map_or(0, |m| m.len()) <= 512 {
        expect(&env.run(&["get", "--rp-id", "example.com"]), 0);
        logins += 1;
    }
    logins
}

fn sign_count(env: &Env) -> u64 {
    env.list_json(&[])[0]["signCount"].as_u64().unwrap()
}

fn assert_storage_failure(out: &std::process::Output, what: &str) {
    let (_, stderr) = expect(out, 8);
    assert!(
        stderr.contains("File too large"),
        "{what}: the OS cause is shown: {stderr}"
    );
    assert!(
        !stderr.contains("NotAllowedError"),
        "{what}: not a refusal: {stderr}"
    );
}

#[test]
fn every_cli_path_reports_a_failed_save_as_exit_8_with_the_os_cause() {
    let env = Env::with_vault("storage-cli");
    let first = env.quick_create("example.com", "alice");
    let id = first["id"].as_str().unwrap().to_owned();
    let logins = grow_journal_past_the_limit(&env);
    let journal = std::fs::read(fauxkey::vault::journal::path(&env.vault)).unwrap();
    let before = env.vault_bytes();
    assert!(before.len() > 512, "the vault outgrows the write limit");

    // Through the authenticator: registration, login (the counter is saved), signals, restore.
    let out = write_limited(&env, &["create", "--rp-id", "example.com", "--user", "bob"]);
    assert_storage_failure(&out, "create");
    let out = write_limited(&env, &["get", "--rp-id", "example.com"]);
    assert_storage_failure(&out, "get");
    assert!(out.stdout.is_empty(), "no response for a login not saved");
    let out = write_limited(
        &env,
        &[
            "signal",
            "unknown-credential",
            "--origin",
            ORIGIN,
            "--rp-id",
            "example.com",
            "--credential-id",
            &id,
        ],
    );
    assert_storage_failure(&out, "signal");
    // Bypassing it: delete.
    let out = write_limited(&env, &["delete", &id]);
    assert_storage_failure(&out, "delete");

    assert_eq!(env.vault_bytes(), before, "nothing changed on disk");
    assert_eq!(
        std::fs::read(fauxkey::vault::journal::path(&env.vault)).unwrap(),
        journal,
        "the failed append was cut back"
    );
    assert_eq!(sign_count(&env), logins, "every acknowledged login counted");
    let stray: Vec<_> = std::fs::read_dir(&env.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(
        stray.is_empty(),
        "failed saves leave no temp file: {stray:?}"
    );
    // The vault still works once writes work again.
    assert_eq!(env.list_json(&[]).len(), 1);
}

/// A running `fauxkey serve --vault`, killed on drop.
struct Serve {
    child: Child,
    http: Http,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(env: &Env, limited: bool) -> Serve {
    let script = if limited {
        r#"trap '' XFSZ; ulimit -f 1 && exec "$@""#
    } else {
        r#"exec "$@""#
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--vault"])
        .arg(&env.vault)
        .env_remove("FAUXKEY_VAULT")
        .env_remove("FAUXKEY_PASSPHRASE_FILE")
        .env("FAUXKEY_PASSPHRASE", PASSPHRASE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Line 1 is the base URL, line 2 `token: TOKEN` (the serve access contract).
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let token = second.trim_end().strip_prefix("token: ").unwrap();
    let http = Http::new(first.trim_end(), token);
    Serve { child, http }
}

fn create_options(user: &str) -> Value {
    json!({
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": fauxkey::b64url::encode(user.as_bytes()), "name": user, "displayName": user},
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required"}
    })
}

fn credentials(http: &Http) -> u64 {
    let (status, list) = http.get("/_fauxkey/authenticators");
    assert_eq!(status, 200, "{list}");
    list[0]["credentials"].as_u64().unwrap()
}

#[test]
fn serve_answers_500_for_a_failed_save_and_keeps_nothing_of_it_in_memory() {
    let env = Env::with_vault("storage-serve");
    env.quick_create("example.com", "alice");
    let logins = grow_journal_past_the_limit(&env);
    let before = env.vault_bytes();
    let server = serve(&env, true);
    assert_eq!(credentials(&server.http), 1);

    let (status, body) = server.http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": create_options("bob")}),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["name"], "UnknownError", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("File too large"), "{message}");
    // All or nothing: the refused passkey is not in memory, so no later save can write it.
    assert_eq!(credentials(&server.http), 1, "memory is what is on disk");

    let (status, body) = server.http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": {"challenge": "AAECAwQFBgcICQoLDA0ODw", "rpId": "example.com"}}),
    );
    assert_eq!(status, 500, "a login whose counter cannot be saved: {body}");
    assert_eq!(body["name"], "UnknownError", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("File too large"),
        "the journal append: {message}"
    );
    drop(server);
    assert_eq!(env.vault_bytes(), before);
    assert_eq!(sign_count(&env), logins, "nothing acknowledged is lost");
}

#[test]
fn serve_answers_500_when_the_vault_is_moved_away_and_recovers_when_it_is_back() {
    let env = Env::with_vault("storage-moved");
    let server = serve(&env, false);
    let aside = env.dir.join("aside.fxk");
    std::fs::rename(&env.vault, &aside).unwrap();
    let (status, body) = server.http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": create_options("bob")}),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["name"], "UnknownError", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("no vault at"),
        "{body}"
    );
    assert_eq!(credentials(&server.http), 0);
    assert!(!env.vault.exists(), "no new vault was made in its place");

    std::fs::rename(&aside, &env.vault).unwrap();
    let (status, body) = server.http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": create_options("bob")}),
    );
    assert_eq!(status, 200, "{body}");
    drop(server);
    assert_eq!(env.list_json(&[]).len(), 1);
}

/// A real full disk: a 64 KiB tmpfs (needs root; SKIPPED otherwise, visibly).
#[test]
fn a_full_disk_is_exit_8_with_no_space_left() {
    use std::io::Write as _;
    let env = Env::new("storage-tmpfs");
    let mount = env.dir.join("mnt");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mount)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        // Not captured by the test harness: visible in plain `cargo test` output.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: cannot mount a tmpfs (not root?); the write-limit tests cover the same path"
        );
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    let vault = mount.join("vault.fxk");
    let run = |args: &[&str]| {
        env.cmd()
            .env("FAUXKEY_VAULT", &vault)
            .args(args)
            .output()
            .unwrap()
    };
    expect(&run(&["init", "--insecure-fast-kdf"]), 0);
    expect(
        &run(&["create", "--rp-id", "example.com", "--user", "a"]),
        0,
    );
    let before = std::fs::read(&vault).unwrap();
    // Fill the disk.
    let filler = mount.join("filler");
    let mut f = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    let out = run(&["create", "--rp-id", "example.com", "--user", "b"]);
    let (_, stderr) = expect(&out, 8);
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(std::fs::read(&vault).unwrap(), before);
}
