//! Shared by the `fauxkey serve` tests: an in-process server on 127.0.0.1:0, a small JSON HTTP
//! client, and the webauthn-rs relying party that verifies what the server emits.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use fauxkey::server::{AuthenticatorOptions, Server, ServerConfig, ServerStore};
use fauxkey::store::MemoryStore;
use serde_json::Value;
use webauthn_rs_core::WebauthnCore;

pub const RP_ID: &str = "example.com";
pub const ORIGIN: &str = "https://example.com";

/// webauthn-rs as the RP at https://example.com.
pub fn rp() -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        RP_ID,
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(60),
        None,
        None,
    )
}

/// A JSON-over-HTTP client for one server.
pub struct Http {
    pub base: String,
    pub agent: ureq::Agent,
    /// Sent as `Authorization: Bearer …` on every request (None: no header).
    pub token: Option<String>,
}

fn read(result: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("HTTP transport error: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, value)
}

impl Http {
    pub fn new(base: &str, token: &str) -> Self {
        Self {
            base: base.to_owned(),
            agent: ureq::AgentBuilder::new().build(),
            token: Some(token.to_owned()),
        }
    }

    /// A request with the token (when this client has one).
    pub fn request(&self, method: &str, path: &str) -> ureq::Request {
        let r = self.agent.request(method, &format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.set("authorization", &format!("Bearer {t}")),
            None => r,
        }
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        read(self.request("GET", path).call())
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, &body.to_string())
    }

    pub fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        read(
            self.request("POST", path)
                .set("content-type", "application/json")
                .send_string(body),
        )
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        read(self.request("DELETE", path).call())
    }
}

/// A server whose default authenticator is in memory and seeded.
pub fn start(seed: u64) -> (Server, Http) {
    start_with(
        AuthenticatorOptions {
            seed: Some(seed),
            ..AuthenticatorOptions::default()
        },
        ServerStore::Memory(MemoryStore::new()),
    )
}

/// A server with this default authenticator (key export allowed, as a harness would run it).
pub fn start_with(options: AuthenticatorOptions, store: ServerStore) -> (Server, Http) {
    start_config(ServerConfig {
        allow_key_export: true,
        ..ServerConfig::new(options, store)
    })
}

/// A server with this configuration, and a client that sends its token.
pub fn start_config(config: ServerConfig) -> (Server, Http) {
    let server = Server::start(config, 2).unwrap();
    let http = Http::new(server.base_url(), server.token());
    (server, http)
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fauxkey-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
