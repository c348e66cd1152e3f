//! The CLI under odd inputs and surroundings, on the real binary: a closed stdout, terminal
//! escapes in RP-supplied names, loose permissions, a symlinked vault, stray temp files of dead
//! writers, and the passphrase prompt on a real pseudo-terminal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};

use cli_support::{expect, Env, PASSPHRASE};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_fauxkey");

/// The binary as `Env::cmd` sets it up, as a `std::process::Command` (to choose its stdout).
fn std_cmd(env: &Env) -> Command {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FAUXKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FAUXKEY_VAULT", &env.vault)
        .env("FAUXKEY_PASSPHRASE", PASSPHRASE)
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `args` with stdout a pipe whose read end is already closed: the first write fails with
/// EPIPE every time, so the test is deterministic (no race with a reader that closes early).
fn with_closed_stdout(env: &Env, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    std_cmd(env)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_ends_every_printing_command_quietly_with_status_0() {
    let env = Env::with_vault("closed-stdout");
    let id = env.quick_create("example.com", "alice")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.quick_create("example.org", "bob");
    let commands: [&[&str]; 12] = [
        &["list"],
        &["list", "--json"],
        &["show", &id],
        &["show", &id, "--json"],
        &["info"],
        &["info", "--json"],
        &["profiles"],
        &["profiles", "--json"],
        &["capabilities"],
        &["capabilities", "--json"],
        &["events", "--json"],
        &["attestation-root"],
    ];
    for args in commands {
        for _ in 0..5 {
            let out = with_closed_stdout(&env, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
            assert!(
                !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
                "{args:?} says nothing about the pipe: {stderr}"
            );
        }
    }
}

const EVIL_NAME: &str = "mallory\u{1b}[2J\u{1b}]0;pwned\u{7}\r\nroot";
const EVIL_RP_NAME: &str = "Evil\u{1b}[31m Corp\u{202e}";

#[test]
fn names_from_the_rp_are_escaped_for_humans_and_exact_in_json() {
    let env = Env::with_vault("escapes");
    let options = serde_json::json!({
        "rp": {"id": "example.com", "name": EVIL_RP_NAME},
        "user": {"id": "dXNlcg", "name": EVIL_NAME, "displayName": EVIL_NAME},
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required"}
    });
    let out = env.run_stdin(
        &[
            "create",
            "--origin",
            "https://example.com",
            "--options",
            "-",
        ],
        &options.to_string(),
    );
    let (stdout, stderr) = expect(&out, 0);
    let id = serde_json::from_str::<Value>(&stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let raw = |s: &str| s.contains('\u{1b}') || s.contains('\r') || s.contains('\u{202e}');
    assert!(!raw(&stderr), "create's message is escaped: {stderr:?}");
    assert!(stderr.contains(r"mallory\u{1b}[2J"), "{stderr:?}");

    let (table, _) = expect(&env.run(&["list"]), 0);
    assert!(!raw(&table), "{table:?}");
    assert_eq!(table.lines().count(), 2, "one row: no injected line break");
    assert!(table.contains(r"\r\nroot"), "{table:?}");

    let (details, _) = expect(&env.run(&["show", &id]), 0);
    assert!(!raw(&details), "{details:?}");
    assert!(details.contains(r"\u{202e}"), "{details:?}");

    // JSON carries the exact text (JSON escapes it in its own way).
    let listed = env.list_json(&[]);
    assert_eq!(listed[0]["name"], EVIL_NAME);
    let (json, _) = expect(&env.run(&["show", &id, "--json"]), 0);
    let shown: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shown["displayName"], EVIL_NAME);
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn loose_permissions_are_warned_about_and_the_files_repaired_on_the_next_save() {
    let env = Env::with_vault("perms");
    let lock = env.dir.join("vault.fxk.lock");
    chmod(&env.vault, 0o644);
    chmod(&lock, 0o644);
    chmod(&env.dir, 0o755);
    let (_, stderr) = expect(&env.run(&["list", "--json"]), 0);
    for what in ["the vault ", "the lock file ", "the vault directory "] {
        assert!(
            stderr.contains(&format!("warning: {what}")),
            "{what}: {stderr}"
        );
    }
    assert_eq!(mode(&env.vault), 0o644, "reading changes nothing");

    env.quick_create("example.com", "alice");
    assert_eq!(mode(&env.vault), 0o600);
    assert_eq!(mode(&lock), 0o600);
    assert_eq!(mode(&env.dir), 0o755, "a directory is its owner's business");
    let (_, stderr) = expect(&env.run(&["list", "--json"]), 0);
    assert!(
        !stderr.contains(&format!("warning: the vault {}", env.vault.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("warning: the lock file"), "{stderr}");
    assert!(stderr.contains("warning: the vault directory"), "{stderr}");
    chmod(&env.dir, 0o700);
    let (_, stderr) = expect(&env.run(&["list", "--json"]), 0);
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn a_symlinked_vault_is_saved_through_the_link_and_locked_beside_its_target() {
    let env = Env::with_vault("symlink");
    let elsewhere = env.dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let link = elsewhere.join("link.fxk");
    std::os::unix::fs::symlink("../vault.fxk", &link).unwrap();
    let via_link = |args: &[&str]| {
        env.cmd()
            .env("FAUXKEY_VAULT", &link)
            .args(args)
            .output()
            .unwrap()
    };
    expect(
        &via_link(&["create", "--rp-id", "example.com", "--user", "a"]),
        0,
    );
    expect(
        &via_link(&["create", "--rp-id", "example.com", "--user", "b"]),
        0,
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is not replaced by a file"
    );
    assert_eq!(env.list_json(&[]).len(), 2, "the target has both");
    let names: Vec<String> = std::fs::read_dir(&elsewhere)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["link.fxk"], "no lock or temp file beside the link");
}

#[test]
fn stray_temp_files_are_removed_by_the_next_save_and_passwd_leaves_no_old_copy() {
    let env = Env::with_vault("stray");
    env.quick_create("example.com", "alice");
    // What a writer killed between write and rename leaves: a complete older vault.
    let stray = env.dir.join(".vault.fxk.tmp.999999.0");
    std::fs::copy(&env.vault, &stray).unwrap();
    let unrelated = env.dir.join(".other.fxk.tmp.1.0");
    std::fs::write(&unrelated, b"not ours").unwrap();
    expect(&env.run(&["list", "--json"]), 0);
    assert!(stray.exists(), "reading removes nothing");

    let out = env
        .cmd()
        .args(["passwd", "--insecure-fast-kdf"])
        .env("FAUXKEY_NEW_PASSPHRASE", "a new passphrase")
        .output()
        .unwrap();
    expect(&out, 0);
    assert!(!stray.exists(), "the old copy is gone");
    assert!(unrelated.exists(), "another vault's files are left alone");
    let mut names: Vec<String> = std::fs::read_dir(&env.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".other.fxk.tmp.1.0", "vault.fxk", "vault.fxk.lock"]);
    let out = env.run(&["list", "--json"]);
    expect(&out, 5);
}

/// Runs `fauxkey ARGS` with its controlling terminal a new pseudo-terminal (python's `pty`), stdin
/// from `stdin_text` through a pipe, answering each prompt seen on the terminal with the next of
/// `answers`. Returns (exit code, what the terminal showed, stdout). `None` without python3.
fn on_a_terminal(
    env: &Env,
    args: &[&str],
    stdin_text: &str,
    answers: &[&str],
) -> Option<(i32, String, String)> {
    const DRIVER: &str = r#"
import json, os, pty, select, sys
argv, stdin_text, answers = json.loads(sys.argv[1])
r, w = os.pipe()
out_r, out_w = os.pipe()
pid, fd = pty.fork()
if pid == 0:
    os.dup2(r, 0)
    os.dup2(out_w, 1)
    os.execv(argv[0], argv)
os.write(w, stdin_text.encode()); os.close(w); os.close(r); os.close(out_w)
seen, out, pending = b"", b"", b""
while True:
    ready, _, _ = select.select([fd, out_r], [], [], 30)
    if not ready:
        break
    if out_r in ready:
        chunk = os.read(out_r, 65536)
        if chunk:
            out += chunk
    if fd in ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        pending += chunk
        if b"passphrase: " in pending and answers:
            pending = b""
            os.write(fd, answers.pop(0).encode() + b"\n")
while True:
    chunk = os.read(out_r, 65536)
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
print(json.dumps([os.waitstatus_to_exitcode(status), seen.decode(errors="replace"), out.decode(errors="replace")]))
"#;
    let python = std::env::var_os("FAUXKEY_PTY_PYTHON").unwrap_or_else(|| "python3".into());
    let mut argv = vec![BIN.to_owned()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    let spec = serde_json::json!([argv, stdin_text, answers]).to_string();
    let mut cmd = Command::new(&python);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FAUXKEY_") {
            cmd.env_remove(key);
        }
    }
    let out = match cmd
        .env("FAUXKEY_VAULT", &env.vault)
        .env("NO_COLOR", "1")
        .args(["-c", DRIVER, &spec])
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => out,
        _ => {
            use std::io::Write as _;
            // Straight to the stderr handle (libtest captures `eprintln!`).
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: no python3 with the pty module to drive a pseudo-terminal"
            );
            return None;
        }
    };
    let (code, seen, stdout): (i32, String, String) = serde_json::from_slice(&out.stdout).unwrap();
    Some((code, seen, stdout))
}

#[test]
fn the_passphrase_is_read_from_the_terminal_even_with_options_piped_on_stdin() {
    let env = Env::new("tty");
    let options = serde_json::json!({
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "dXNlcg", "name": "alice", "displayName": "Alice"},
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}]
    })
    .to_string();
    let create = [
        "create",
        "--origin",
        "https://example.com",
        "--options",
        "-",
    ];
    // A new vault: the passphrase is asked twice; two different ones change nothing.
    let Some((code, seen, _)) = on_a_terminal(&env, &create, &options, &["one", "two"]) else {
        return;
    };
    assert_eq!(code, 8, "{seen}");
    assert!(seen.contains("repeat the new vault passphrase: "), "{seen}");
    assert!(seen.contains("differ"), "{seen}");
    assert!(!env.vault.exists(), "no vault from a mistyped passphrase");

    let (code, seen, stdout) =
        on_a_terminal(&env, &create, &options, &[PASSPHRASE, PASSPHRASE]).unwrap();
    assert_eq!(code, 0, "{seen}");
    assert!(stdout.contains("\"public-key\""), "{stdout}");

    // An existing vault: one wrong try, then the right one.
    let (code, seen, stdout) =
        on_a_terminal(&env, &["list", "--json"], "", &["wrong", PASSPHRASE]).unwrap();
    assert_eq!(code, 0, "{seen}");
    assert!(
        seen.contains("wrong passphrase, try again (1 of 3)"),
        "{seen}"
    );
    assert!(stdout.contains("alice"), "{stdout}");

    // Three wrong tries: exit 5, and the hint names no variable the user never set.
    let (code, seen, _) =
        on_a_terminal(&env, &["list", "--json"], "", &["a", "b", "c", "d"]).unwrap();
    assert_eq!(code, 5, "{seen}");
    assert_eq!(seen.matches("passphrase: ").count(), 3, "{seen}");
    assert!(!seen.contains("FAUXKEY_PASSPHRASE"), "{seen}");
    assert!(seen.contains("hint: "), "{seen}");
}

#[test]
fn a_wrong_passphrase_from_a_variable_names_only_that_variable() {
    let env = Env::with_vault("hint");
    let out = env
        .bare_cmd()
        .env("FAUXKEY_PASSPHRASE", "wrong")
        .args(["list"])
        .output()
        .unwrap();
    let (_, stderr) = expect(&out, 5);
    assert!(
        stderr.contains("hint: check FAUXKEY_PASSPHRASE\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("FAUXKEY_PASSPHRASE_FILE"), "{stderr}");
    let file = env.file("pp", "wrong\n");
    let out = env
        .bare_cmd()
        .env("FAUXKEY_PASSPHRASE_FILE", &file)
        .args(["list"])
        .output()
        .unwrap();
    let (_, stderr) = expect(&out, 5);
    assert!(
        stderr.contains("hint: check the file FAUXKEY_PASSPHRASE_FILE names"),
        "{stderr}"
    );
}
