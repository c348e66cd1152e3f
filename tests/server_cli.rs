//! The `fauxkey serve` command-line contract, on the real binary: the first stdout line is the
//! base URL, loopback only unless `--allow-remote` (with a warning), SIGTERM stops it, and
//! `--vault` keeps passkeys across restarts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read as _;
use std::process::{Child, Command, Stdio};

use common::{rp, Http, ORIGIN};
use serde_json::json;
use webauthn_rs_core::proto::{
    PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
};

const BIN: &str = env!("CARGO_BIN_EXE_fauxkey");

/// A running `fauxkey serve`; killed if a test fails before stopping it.
struct Running {
    child: Option<Child>,
    base: String,
    token: String,
}

impl Running {
    fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove("FAUXKEY_VAULT")
            .env_remove("FAUXKEY_PASSPHRASE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        // Two lines, read byte by byte so nothing after them is buffered away.
        let mut lines = Vec::new();
        for _ in 0..2 {
            let mut line = Vec::new();
            let mut byte = [0u8];
            let out = child.stdout.as_mut().unwrap();
            while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
                line.push(byte[0]);
            }
            lines.push(String::from_utf8(line).unwrap());
        }
        let base = lines[0].clone();
        let token = lines[1]
            .strip_prefix("token: ")
            .unwrap_or_else(|| panic!("second stdout line {:?}", lines[1]))
            .to_owned();
        Self {
            child: Some(child),
            base,
            token,
        }
    }

    /// SIGTERM, then the exit status, the rest of stdout and stderr.
    fn terminate(mut self) -> (std::process::ExitStatus, String, String) {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (exit, out, err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn run(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("FAUXKEY_VAULT")
        .env_remove("FAUXKEY_PASSPHRASE")
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn first_stdout_line_is_the_base_url_and_sigterm_stops_it() {
    let server = Running::start(&["serve", "--seed", "3"], &[]);
    let port = server
        .base
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("first line {:?}", server.base));
    assert!(port.parse::<u16>().unwrap() > 0);
    let http = Http::new(&server.base, &server.token);
    assert_eq!(http.get("/_fauxkey/health").1["status"], "ok");
    let (exit, rest, err) = server.terminate();
    assert!(exit.success(), "{exit:?}: {err}");
    assert_eq!(rest, "", "nothing but the base URL and the token on stdout");
    assert!(err.contains("ephemeral default authenticator"), "{err}");
    assert!(err.contains("stopping"), "{err}");
}

#[test]
fn sigterm_does_not_wait_for_a_user_who_never_responds() {
    let server = Running::start(&["serve"], &[]);
    let http = Http::new(&server.base, &server.token);
    let (status, _) = http.post(
        "/_fauxkey/authenticators/default/credentials",
        &json!({"credentialId": "AAAAAAAAAAAAAAAAAAAAAA", "isResidentCredential": false,
                "rpId": "example.com", "privateKey": pkcs8()}),
    );
    assert_eq!(status, 201);
    let (_, created) = http.post(
        "/_fauxkey/authenticators",
        &json!({"isUserResponding": false}),
    );
    let id = created["authenticatorId"].as_str().unwrap().to_owned();
    let base = server.base.clone();
    let token = server.token.clone();
    let waiting = std::thread::spawn(move || {
        let agent = ureq::AgentBuilder::new().build();
        agent
            .post(&format!("{base}/webauthn/get"))
            .set("authorization", &format!("Bearer {token}"))
            .set("content-type", "application/json")
            .send_string(
                &json!({"origin": ORIGIN, "authenticatorId": id,
                        "options": {"challenge": "Y2g", "timeout": 600000}})
                .to_string(),
            )
            .map(|r| r.status())
            .map_err(|e| e.to_string())
    });
    // The request is in flight (the authenticator list answers, so the server is up and the
    // ceremony has been handed over) when SIGTERM comes.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (exit, _, err) = server.terminate();
    assert!(exit.success(), "{err}");
    assert!(err.contains("stopping anyway"), "{err}");
    assert!(
        waiting.join().unwrap().is_err(),
        "the pending request was cut off"
    );
}

fn pkcs8() -> String {
    use p256::pkcs8::EncodePrivateKey as _;
    let key = p256::ecdsa::SigningKey::from_slice(&[3u8; 32]).unwrap();
    fauxkey::b64url::encode(key.to_pkcs8_der().unwrap().as_bytes())
}

#[test]
fn non_loopback_needs_allow_remote() {
    let out = run(&["serve", "--listen", "0.0.0.0:0"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(out.stdout, b"");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("fauxkey: refusing to listen on 0.0.0.0:0: "),
        "{err}"
    );
    assert!(err.contains("--allow-remote"), "{err}");

    let server = Running::start(&["serve", "--listen", "0.0.0.0:0", "--allow-remote"], &[]);
    assert!(
        server.base.starts_with("http://0.0.0.0:"),
        "{}",
        server.base
    );
    let (exit, _, err) = server.terminate();
    assert!(exit.success());
    assert!(
        err.starts_with("WARNING: fauxkey serve is listening on 0.0.0.0:"),
        "{err}"
    );
}

#[test]
fn usage_errors_exit_2_and_a_missing_vault_exits_3() {
    let out = run(
        &["serve", "--ephemeral", "--vault", "/nonexistent/v.fxk"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ephemeral and --vault"));

    let out = run(&["serve", "--profile", "nope"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile \"nope\""));

    let out = run(&["serve", "--listen", "example.com:80"], &[]);
    assert_eq!(out.status.code(), Some(2), "an address, not a host name");

    let out = run(&["serve", "--vault", "/nonexistent/v.fxk"], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no vault at /nonexistent/v.fxk"));
}

#[test]
fn a_busy_port_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["serve", "--listen", &addr], &[]);
    assert_eq!(out.status.code(), Some(8));
    assert_eq!(out.stdout, b"");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("cannot listen on {addr}")));
}

#[test]
fn vault_mode_persists_across_restarts() {
    let dir = common::temp_dir("serve-cli");
    let vault = dir.join("v.fxk");
    let vault = vault.to_str().unwrap();
    let env = [("FAUXKEY_PASSPHRASE", "serve test passphrase")];
    let out = run(&["--vault", vault, "init", "--insecure-fast-kdf"], &env);
    assert!(out.status.success(), "{out:?}");
    let core = rp();

    let server = Running::start(&["serve", "--vault", vault], &env);
    let http = Http::new(&server.base, &server.token);
    let builder = core
        .new_challenge_register_builder(b"carol-handle", "carol", "Carol")
        .unwrap()
        .require_resident_key(true);
    let (options, state) = core.generate_challenge_register(builder).unwrap();
    let (status, response) = http.post(
        "/webauthn/create",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200, "{response}");
    let reg: RegisterPublicKeyCredential = serde_json::from_value(response).unwrap();
    let cred = core.register_credential(&reg, &state, None).unwrap();
    let (exit, _, err) = server.terminate();
    assert!(exit.success());
    assert!(err.contains("REAL passkeys of vault"), "{err}");

    // The CLI sees it in the vault.
    let out = run(&["--vault", vault, "list", "--json"], &env);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["name"], "carol", "{listed}");

    // A new server over the same vault logs in with it.
    let env2 = [env[0], ("FAUXKEY_VAULT", vault)];
    let server = Running::start(&["serve", "--vault", vault], &env2);
    let http = Http::new(&server.base, &server.token);
    let builder = core
        .new_challenge_authenticate_builder(vec![cred], Some(UserVerificationPolicy::Preferred))
        .unwrap();
    let (options, state) = core.generate_challenge_authenticate(builder).unwrap();
    let (status, response) = http.post(
        "/webauthn/get",
        &json!({"origin": ORIGIN, "options": options}),
    );
    assert_eq!(status, 200, "{response}");
    let pkc: PublicKeyCredential = serde_json::from_value(response).unwrap();
    assert_eq!(
        core.authenticate_credential(&pkc, &state)
            .unwrap()
            .counter(),
        1
    );
    drop(server);

    // FAUXKEY_VAULT alone does not make `serve` open it; --ephemeral says so explicitly.
    for args in [&["serve"][..], &["serve", "--ephemeral"]] {
        let server = Running::start(args, &env2);
        let http = Http::new(&server.base, &server.token);
        let (_, list) = http.get("/_fauxkey/authenticators");
        assert_eq!(list[0]["vault"], false, "{args:?}");
        assert_eq!(list[0]["credentials"], 0, "{args:?}");
        drop(server);
    }

    // With a vault, a non-loopback address is refused even with --allow-remote.
    let out = run(
        &[
            "serve",
            "--vault",
            vault,
            "--listen",
            "0.0.0.0:0",
            "--allow-remote",
        ],
        &env,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("with a vault"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn listen_takes_port_host_port_and_localhost_port() {
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    // The port is free when asked; a bind race only fails this test with "cannot listen".
    let port = free().to_string();
    let server = Running::start(&["serve", "--listen", &port], &[]);
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    drop(server);
    let port = free();
    let server = Running::start(&["serve", "--listen", &format!("localhost:{port}")], &[]);
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    // `localhost:PORT` is an accepted Host.
    let response = ureq::get(&format!("http://localhost:{port}/_fauxkey/health"))
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    drop(server);
    let server = Running::start(&["serve", "--listen", "127.0.0.1:0"], &[]);
    assert!(server.base.starts_with("http://127.0.0.1:"));
}

#[test]
fn url_and_token_files_are_written_0600_and_match_stdout() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = common::temp_dir("serve-files");
    let url_file = dir.join("url");
    let token_file = dir.join("token");
    let server = Running::start(
        &[
            "serve",
            "--url-file",
            url_file.to_str().unwrap(),
            "--token-file",
            token_file.to_str().unwrap(),
        ],
        &[],
    );
    let url = std::fs::read_to_string(&url_file).unwrap();
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(url, format!("{}\n", server.base));
    assert_eq!(token, format!("{}\n", server.token));
    assert_eq!(server.token.len(), 43, "32 bytes, base64url");
    for f in [&url_file, &token_file] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    // Only the two files: no temp file left beside them.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    // A harness's fixed token.
    drop(server);
    let fixed = "a-fixed-token-for-a-harness-0123456789";
    let server = Running::start(&["serve"], &[("FAUXKEY_SERVE_TOKEN", fixed)]);
    assert_eq!(server.token, fixed);
    let http = Http::new(&server.base, fixed);
    assert_eq!(http.get("/_fauxkey/authenticators").0, 200);
    let _ = std::fs::remove_dir_all(dir);
}
