//! The access model of `fauxkey serve` (README "Security model", SECURITY.md), each attack of
//! issue 13 replayed against an in-process server on 127.0.0.1: no wildcard CORS, the token, the
//! `Host` check, JSON-only bodies, key export off by default, and every error in the
//! `{name, message}` shape. Plus hostile connections: stalled headers, silence and stalled bodies
//! are closed by the (short, configured) timeouts while a normal request still answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{rp, start, start_config, Http, ORIGIN};
use fauxkey::server::{AuthenticatorOptions, ServerConfig, ServerStore, Timeouts};
use fauxkey::store::MemoryStore;
use serde_json::{json, Value};

const PAGE: &str = "http://localhost:3000";

fn config() -> ServerConfig {
    ServerConfig {
        allowed_origins: vec![PAGE.to_owned()],
        ..ServerConfig::new(
            AuthenticatorOptions {
                seed: Some(7),
                ..AuthenticatorOptions::default()
            },
            ServerStore::Memory(MemoryStore::new()),
        )
    }
}

/// A client without the token.
fn anonymous(http: &Http) -> Http {
    Http {
        base: http.base.clone(),
        agent: ureq::AgentBuilder::new().build(),
        token: None,
    }
}

fn answer(result: Result<ureq::Response, ureq::Error>) -> (u16, Option<String>, Value) {
    let r = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport: {e}"),
    };
    let status = r.status();
    let acao = r.header("access-control-allow-origin").map(str::to_owned);
    let text = r.into_string().unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, acao, body)
}

fn assert_refused(got: (u16, Option<String>, Value), status: u16, name: &str) {
    let (s, _, body) = got;
    assert_eq!(s, status, "{body}");
    assert_eq!(body["name"], name, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
}

fn creation() -> Value {
    let core = rp();
    let builder = core
        .new_challenge_register_builder(b"mallory", "mallory", "Mallory")
        .unwrap();
    serde_json::to_value(core.generate_challenge_register(builder).unwrap().0).unwrap()
}

fn count_credentials(http: &Http) -> usize {
    let (_, list) = http.get("/_fauxkey/authenticators");
    list[0]["credentials"].as_u64().unwrap() as usize
}

#[test]
fn the_control_plane_needs_the_token() {
    let (_server, http) = start_config(config());
    let anon = anonymous(&http);
    assert_eq!(anon.get("/_fauxkey/health").0, 200, "health stays public");
    for (method, path) in [
        ("GET", "/_fauxkey/events"),
        ("GET", "/_fauxkey/authenticators"),
        ("POST", "/_fauxkey/reset"),
        ("GET", "/_fauxkey/faults"),
        ("DELETE", "/_fauxkey/faults"),
        ("GET", "/_fauxkey/authenticators/default/credentials"),
        ("DELETE", "/_fauxkey/authenticators/default/credentials"),
        ("GET", "/_fauxkey/attestation-root"),
    ] {
        assert_refused(
            answer(anon.request(method, path).call()),
            401,
            "SecurityError",
        );
        let wrong = anon
            .request(method, path)
            .set("authorization", &format!("Bearer {}", "x".repeat(43)));
        assert_refused(answer(wrong.call()), 401, "SecurityError");
    }
    // With it, they answer.
    assert_eq!(http.get("/_fauxkey/events").0, 200);
}

#[test]
fn webauthn_without_the_token_needs_an_allowed_origin_matching_the_body() {
    let (_server, http) = start_config(config());
    let anon = anonymous(&http);
    let body = json!({"origin": ORIGIN, "options": creation()}).to_string();
    let post = |origin: Option<&str>, body: &str| {
        let r = anon
            .request("POST", "/webauthn/create")
            .set("content-type", "application/json");
        let r = match origin {
            Some(o) => r.set("origin", o),
            None => r,
        };
        answer(r.send_string(body))
    };
    // No token and no Origin: a local process that is not the harness.
    assert_refused(post(None, &body), 401, "SecurityError");
    // A foreign page: refused, and no CORS header lets it read even that.
    let got = post(Some("https://evil.test"), &body);
    assert_eq!(got.1, None, "no CORS for a foreign origin");
    assert_refused(got, 403, "SecurityError");
    // An allowed page speaking for another origin (example.com) is refused.
    let got = post(Some(PAGE), &body);
    assert_eq!(got.1.as_deref(), Some(PAGE));
    assert_refused(got, 403, "SecurityError");
    assert_eq!(count_credentials(&http), 0);
    // The harness (token) may speak for any origin.
    assert_eq!(
        http.post("/webauthn/create", &serde_json::from_str(&body).unwrap())
            .0,
        200
    );
    assert_eq!(count_credentials(&http), 1);
}

#[test]
fn an_allowed_page_gets_cors_for_its_own_origin_only() {
    let (_server, http) = start_config(config());
    let anon = anonymous(&http);
    let preflight = |origin: &str, path: &str| {
        anon.request("OPTIONS", path)
            .set("origin", origin)
            .set("access-control-request-method", "POST")
            .set("access-control-request-headers", "content-type")
            .set("access-control-request-private-network", "true")
            .call()
    };
    let ok = preflight(PAGE, "/webauthn/get").unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.header("access-control-allow-origin"), Some(PAGE));
    assert_eq!(
        ok.header("access-control-allow-private-network"),
        Some("true")
    );
    assert!(!ok
        .header("access-control-allow-methods")
        .unwrap()
        .contains("DELETE"));
    // A foreign origin, or the control plane: no preflight, no CORS, no private network.
    for (origin, path) in [
        ("https://evil.test", "/webauthn/get"),
        (PAGE, "/_fauxkey/authenticators/default/credentials"),
        (PAGE, "/_fauxkey/reset"),
    ] {
        let got = answer(preflight(origin, path));
        assert_eq!(got.1, None, "{origin} {path}");
        assert_refused(got, 403, "SecurityError");
    }
    // Answers to a foreign origin carry no CORS header, not even the health check.
    let r = anon
        .request("GET", "/_fauxkey/health")
        .set("origin", "https://evil.test")
        .call()
        .unwrap();
    assert_eq!(r.header("access-control-allow-origin"), None);
    // An allowed page reads capabilities.
    let (status, acao, caps) = answer(
        anon.request("GET", "/webauthn/capabilities")
            .set("origin", PAGE)
            .call(),
    );
    assert_eq!((status, acao.as_deref()), (200, Some(PAGE)), "{caps}");
}

#[test]
fn a_text_plain_post_is_refused_and_does_nothing() {
    let (_server, http) = start_config(config());
    let body = json!({"origin": ORIGIN, "options": creation()}).to_string();
    for (who, content_type) in [
        (&http, "text/plain"),
        (&http, "application/x-www-form-urlencoded"),
        (&anonymous(&http), "text/plain;charset=UTF-8"),
    ] {
        let r = who
            .request("POST", "/webauthn/create")
            .set("content-type", content_type)
            .set("origin", PAGE);
        let got = answer(r.send_string(&body));
        assert_refused(got, 415, "TypeError");
    }
    // No content type at all, with the token.
    assert_refused(
        answer(http.request("POST", "/webauthn/create").send_string(&body)),
        415,
        "TypeError",
    );
    assert_eq!(count_credentials(&http), 0);
}

#[test]
fn a_forged_host_is_refused() {
    let (_server, http) = start_config(config());
    let addr = http.base.trim_start_matches("http://").to_owned();
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let raw = |host: &str| {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /_fauxkey/authenticators/default/credentials HTTP/1.1\r\nHost: {host}\r\n\
             Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
            http.token.as_deref().unwrap()
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    for host in [
        format!("attacker.example:{port}"),
        "127.0.0.1".to_owned(),
        format!("localhost.attacker.example:{port}"),
    ] {
        let out = raw(&host);
        assert!(out.starts_with("HTTP/1.1 403"), "{host}: {out}");
        assert!(out.contains("\"SecurityError\""), "{host}: {out}");
        assert!(!out.contains("privateKey"), "{host}: {out}");
    }
    for host in [
        addr.clone(),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let out = raw(&host);
        assert!(out.starts_with("HTTP/1.1 403"), "{host}: {out}");
        assert!(
            out.contains("\"NotAllowedError\""),
            "no key export: {host}: {out}"
        );
    }
}

#[test]
fn key_export_needs_the_flag() {
    let (_server, http) = start_config(config());
    let core = rp();
    let builder = core
        .new_challenge_register_builder(b"alice", "alice", "Alice")
        .unwrap();
    let (options, _) = core.generate_challenge_register(builder).unwrap();
    assert_eq!(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options})
        )
        .0,
        200
    );
    let got = answer(
        http.request("GET", "/_fauxkey/authenticators/default/credentials")
            .call(),
    );
    assert!(!got.2.to_string().contains("privateKey"));
    assert_refused(got, 403, "NotAllowedError");
    // With --allow-key-export (and the token) they come out.
    let (_server, http) = start_config(ServerConfig {
        allow_key_export: true,
        ..config()
    });
    let (status, list) = http.get("/_fauxkey/authenticators/default/credentials");
    assert_eq!((status, list), (200, json!([])));
}

#[test]
fn axum_rejections_and_bad_bodies_are_json_errors() {
    let (_server, http) = start(50);
    // A duplicate query parameter.
    let got = answer(
        http.request(
            "GET",
            "/_fauxkey/events?authenticatorId=a&authenticatorId=b",
        )
        .call(),
    );
    assert_refused(got, 400, "TypeError");
    // A malformed chunked body.
    let addr = http.base.trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /webauthn/create HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n",
        http.token.as_deref().unwrap()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    let json = &out[out.find("\r\n\r\n").unwrap() + 4..];
    let body: Value = serde_json::from_str(json).unwrap();
    assert_eq!(body["name"], "TypeError", "{body}");
    // A route that does not exist and a method a route does not take.
    assert_refused(
        answer(http.request("GET", "/nope").call()),
        404,
        "NotFoundError",
    );
    assert_refused(
        answer(http.request("PUT", "/_fauxkey/reset").call()),
        405,
        "NotSupportedError",
    );
}

#[test]
fn a_declared_huge_body_that_never_comes_is_answered() {
    // Content-Length 10^12, then 10 bytes: refused at once (over the limit), not waited for.
    let (_server, http) = start(51);
    let addr = http.base.trim_start_matches("http://").to_owned();
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /webauthn/create HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n0123456789",
        http.token.as_deref().unwrap()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 413"), "{out}");
    assert!(out.contains("\"TypeError\""), "{out}");
}

// ---------------------------------------------------------------------- stalled connections

/// Reads from `s` until EOF or error; true when the server closed the connection (EOF or
/// reset) rather than the read timing out.
fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    // Bounded: at most 64 reads (an answer to a stalled request is a few hundred bytes).
    for _ in 0..64 {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn stalled_connections_are_closed_and_do_not_block_others() {
    const EACH: usize = 200;
    let (_server, http) = start_config(ServerConfig {
        timeouts: Timeouts {
            header: Duration::from_millis(500),
            body: Duration::from_millis(500),
        },
        ..config()
    });
    let addr = http.base.trim_start_matches("http://").to_owned();
    let token = http.token.clone().unwrap();
    let mut stalled: Vec<(&str, TcpStream)> = Vec::new();
    for _ in 0..EACH {
        // Silence: connected, nothing sent.
        stalled.push(("silent", TcpStream::connect(&addr).unwrap()));
        // Trickled headers: a request line and half a header, then nothing.
        let mut t = TcpStream::connect(&addr).unwrap();
        write!(
            t,
            "GET /_fauxkey/health HTTP/1.1\r\nHost: {addr}\r\nX-Slow: a"
        )
        .unwrap();
        stalled.push(("trickled headers", t));
        // A stalled body: headers complete, 10 of 100 bytes of body.
        let mut b = TcpStream::connect(&addr).unwrap();
        write!(
            b,
            "POST /webauthn/create HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"origin\":"
        )
        .unwrap();
        stalled.push(("stalled body", b));
    }
    // With all 600 open, a normal request answers.
    assert_eq!(http.get("/_fauxkey/health").0, 200);
    let core = rp();
    let builder = core
        .new_challenge_register_builder(b"bob", "bob", "Bob")
        .unwrap();
    let (options, _) = core.generate_challenge_register(builder).unwrap();
    assert_eq!(
        http.post(
            "/webauthn/create",
            &json!({"origin": ORIGIN, "options": options})
        )
        .0,
        200
    );
    // Each stalled one is closed by the server. The read timeout is a failure bound (far above
    // the 500 ms configured), not a measurement.
    for (kind, s) in &mut stalled {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        assert!(closed_by_server(s), "a {kind} connection was left open");
    }
}

#[test]
fn health_answers_while_another_process_holds_the_vault_lock() {
    let dir = common::temp_dir("vault-locked");
    let path = dir.join("locked.fxk");
    let passphrase = fauxkey::vault::Passphrase::new("correct horse").unwrap();
    fauxkey::vault::Vault::create(
        &path,
        &passphrase,
        fauxkey::vault::KdfParams::INSECURE_FAST,
        fauxkey::profiles::find("fauxkey").unwrap().config,
    )
    .unwrap();
    let mut vault = fauxkey::vault::Vault::open(&path, &passphrase).unwrap();
    // Long enough that nothing finishes by giving up on the lock while the test runs.
    vault.set_lock_timeout(Duration::from_secs(600));
    let (_server, http) = start_config(ServerConfig::new(
        AuthenticatorOptions::default(),
        ServerStore::Vault(Box::new(vault)),
    ));
    // "Another process": an open file description of the lock file, locked (flock semantics).
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(fauxkey::vault::file::lock_path(&path))
        .unwrap();
    lock.lock().unwrap();
    let base = http.base.clone();
    let token = http.token.clone().unwrap();
    let mut waiting = Vec::new();
    // A create holds the default authenticator while it waits for the vault lock...
    {
        let (base, token) = (base.clone(), token.clone());
        waiting.push(std::thread::spawn(move || {
            let http = Http::new(&base, &token);
            http.post(
                "/webauthn/create",
                &json!({"origin": ORIGIN, "options": creation()}),
            )
            .0
        }));
    }
    // ...and requests that need that authenticator queue behind it (more than the 2 workers).
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..4 {
        let (base, token) = (base.clone(), token.clone());
        waiting.push(std::thread::spawn(move || {
            Http::new(&base, &token).get("/_fauxkey/events").0
        }));
    }
    std::thread::sleep(Duration::from_millis(200));
    // Health still answers while the lock is held (the timeout is a failure bound).
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let health = agent.get(&format!("{base}/_fauxkey/health")).call();
    let health_ok = matches!(&health, Ok(r) if r.status() == 200);
    lock.unlock().unwrap();
    for w in waiting {
        assert_eq!(w.join().unwrap(), 200);
    }
    assert!(
        health_ok,
        "health did not answer while the vault was locked: {health:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A refusal decided from the headers alone still reads the body first: otherwise the server
/// closes with the body unread, the kernel resets the connection, and a client still sending
/// a large body loses the answer ("unexpected EOF", "connection reset") instead of reading
/// the 401/403/415. The body here (1.5 MiB, under the 2 MiB limit) is far more than the
/// loopback socket buffers hold, so the client is always mid-send when the answer comes.
#[test]
fn a_refused_client_reads_its_refusal_even_while_sending_a_large_body() {
    let (_server, http) = start_config(config());
    let anon = anonymous(&http);
    let big = format!(
        "{{\"origin\": \"{ORIGIN}\", \"pad\": \"{}\"}}",
        "x".repeat(1536 * 1024)
    );
    let send = |path: &str, headers: &[(&str, &str)]| {
        let mut r = anon.request("POST", path);
        for (k, v) in headers {
            r = r.set(k, v);
        }
        answer(r.send_string(&big))
    };
    let json = ("content-type", "application/json");
    for _ in 0..3 {
        assert_refused(send("/webauthn/create", &[json]), 401, "SecurityError");
        assert_refused(send("/_fauxkey/reset", &[json]), 401, "SecurityError");
        assert_refused(
            send("/_fauxkey/reset", &[json, ("authorization", "Bearer nope")]),
            401,
            "SecurityError",
        );
        assert_refused(
            send("/webauthn/get", &[json, ("origin", "https://evil.test")]),
            403,
            "SecurityError",
        );
        assert_refused(
            send(
                "/webauthn/get",
                &[("content-type", "text/plain"), ("origin", PAGE)],
            ),
            415,
            "TypeError",
        );
    }
    // Nothing was done on anyone's behalf.
    assert_eq!(count_credentials(&http), 0);
}
