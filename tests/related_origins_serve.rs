//! `fauxkey serve --related-origins fetch|off`, `--related-origins-map`, `--related-origins-ca`
//! and `--related-origins-resolve` on the real binary: a page on a related origin registers for
//! the RP's ID, from a map file or fetched from a local HTTPS server; the control plane shows
//! the cache; bad options exit 2 naming what is wrong.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod https_support;

use std::io::Read as _;
use std::process::{Child, Command, Stdio};

use common::Http;
use https_support::{HttpsServer, Reply, TestCa};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_fauxkey");

/// A running `fauxkey serve`, killed on drop.
struct Running {
    child: Child,
    http: Http,
}

impl Running {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .env_remove("FAUXKEY_VAULT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
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
        let token = lines[1].strip_prefix("token: ").unwrap().to_owned();
        let http = Http::new(&lines[0], &token);
        Running { child, http }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn create(http: &Http, origin: &str, rp_id: &str) -> (u16, Value) {
    http.post(
        "/webauthn/create",
        &json!({
            "origin": origin,
            "options": {
                "rp": {"id": rp_id, "name": "E"},
                "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
                "challenge": "Y2hhbGxlbmdlLTE",
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}]
            }
        }),
    )
}

fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = common::temp_dir(name);
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn a_map_file_relates_origins_without_a_network() {
    let map = temp_file(
        "related-map.json",
        br#"{"example.com": {"origins": ["https://shop.example.co.uk"]}}"#,
    );
    let serve = Running::start(&["--related-origins-map", map.to_str().unwrap()]);
    let http = &serve.http;
    let (status, body) = create(http, "https://shop.example.co.uk", "example.com");
    assert_eq!(status, 200, "{body}");
    let (status, body) = create(http, "https://shop.example.org", "example.com");
    assert_eq!(
        (status, body["name"].as_str()),
        (403, Some("SecurityError"))
    );
    // An RP ID the map does not name: no document (off: nothing fetched).
    let (status, _) = create(http, "https://shop.example.co.uk", "other.com");
    assert_eq!(status, 403);
    let (status, body) = http.get("/_fauxkey/related-origins");
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"enabled": true, "cache": {
            "example.com": ["https://shop.example.co.uk"],
            "other.com": null
        }})
    );
    // Every authenticator shares the policy.
    let (status, added) = http.post("/_fauxkey/authenticators", &json!({}));
    assert_eq!(status, 201, "{added}");
    let mut call = json!({
        "origin": "https://shop.example.co.uk",
        "authenticatorId": added["authenticatorId"],
        "options": {
            "rp": {"id": "example.com", "name": "E"},
            "user": {"id": "dXNlci0y", "name": "bob", "displayName": "Bob"},
            "challenge": "Y2hhbGxlbmdlLTE",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}]
        }
    });
    let (status, body) = http.post("/webauthn/create", &call);
    assert_eq!(status, 200, "{body}");
    call["origin"] = json!("https://shop.example.org");
    assert_eq!(http.post("/webauthn/create", &call).0, 403);
}

#[test]
fn without_related_origins_a_foreign_rp_id_is_refused() {
    let serve = Running::start(&[]);
    let (status, body) = create(&serve.http, "https://shop.example.co.uk", "example.com");
    assert_eq!(
        (status, body["name"].as_str()),
        (403, Some("SecurityError"))
    );
    let (_, caps) = serve.http.get("/webauthn/capabilities");
    assert_eq!(caps["relatedOrigins"], false);
    assert_eq!(
        serve.http.get("/_fauxkey/related-origins").1,
        json!({"enabled": false, "cache": {}})
    );
}

#[test]
fn fetch_mode_gets_the_document_over_https_once() {
    use base64::Engine as _;
    let ca = TestCa::new(21);
    let (cert, key) = ca.server_cert(&["example.com"]);
    let server = HttpsServer::start(cert, key, |seen| {
        if seen.path == "/.well-known/webauthn" {
            Reply::json(r#"{"origins": ["https://shop.example.co.uk"]}"#)
        } else {
            Reply {
                status: 404,
                ..Reply::json("")
            }
        }
    });
    // The CA as PEM, the way mkcert and friends write it.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&ca.root_der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let ca_file = temp_file("related-ca.pem", pem.as_bytes());
    let resolve = format!("example.com={}", server.addr);
    let serve = Running::start(&[
        "--related-origins",
        "fetch",
        "--related-origins-ca",
        ca_file.to_str().unwrap(),
        "--related-origins-resolve",
        &resolve,
    ]);
    let http = &serve.http;
    for _ in 0..2 {
        let (status, body) = create(http, "https://shop.example.co.uk", "example.com");
        assert_eq!(status, 200, "{body}");
        let (status, _) = create(http, "https://shop.example.org", "example.com");
        assert_eq!(status, 403);
    }
    assert_eq!(server.hits("example.com", "/.well-known/webauthn"), 1);
    assert_eq!(
        http.get("/_fauxkey/related-origins").1["cache"],
        json!({"example.com": ["https://shop.example.co.uk"]})
    );
    let (_, caps) = http.get("/webauthn/capabilities");
    assert_eq!(caps["relatedOrigins"], true);
}

#[test]
fn bad_related_origins_options_exit_2_naming_the_problem() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("serve")
            .args(args)
            .env_remove("FAUXKEY_VAULT")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stderr).unwrap())
    };
    let not_a_document = temp_file("bad-map.json", br#"{"example.com": ["https://a.com"]}"#);
    let (code, err) = run(&["--related-origins-map", not_a_document.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("the entry for \"example.com\" is not a well-known document"),
        "{err}"
    );
    let upper = temp_file("upper-map.json", br#"{"Example.com": {"origins": []}}"#);
    let (code, err) = run(&["--related-origins-map", upper.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("lowercase ASCII"), "{err}");
    let not_json = temp_file("not-json-map.json", b"{");
    let (code, err) = run(&["--related-origins-map", not_json.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not JSON"), "{err}");
    let (code, err) = run(&["--related-origins-resolve", "example.com=127.0.0.1:1"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("add --related-origins fetch"), "{err}");
    let (code, err) = run(&[
        "--related-origins",
        "fetch",
        "--related-origins-resolve",
        "example.com",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("expected HOST=IP:PORT"), "{err}");
    let not_a_cert = temp_file("not-a-cert.der", b"junk");
    let (code, err) = run(&[
        "--related-origins",
        "fetch",
        "--related-origins-ca",
        not_a_cert.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot be trusted"), "{err}");
    let (code, err) = run(&["--related-origins", "sometimes"]);
    assert_eq!(code, Some(2), "{err}");
}
