//! fauxkey: a software passkey provider for relying-party developers.
//!
//! Data flows one way: caller → [`client`] (the WebAuthn client a browser would be) →
//! [`authenticator`] (a virtual CTAP2 authenticator) → [`store`] (in memory, or the encrypted
//! [`vault`]). [`ctap2`] holds the wire types.
//! Randomness, time and the user come in through [`env`](mod@env), so output can be made reproducible.
//!
//! ```
//! // An emulated browser with an in-memory passkey provider behind it.
//! let mut browser = fauxkey::Client::in_memory();
//! let options = r#"{"rp": {"id": "example.com", "name": "Example"},
//!     "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
//!     "challenge": "Y2hhbGxlbmdlLTE", "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
//!     "authenticatorSelection": {"residentKey": "required"}}"#;
//! let registration = browser.create("https://example.com", options)?;
//! assert_eq!(registration.response.public_key_algorithm, -7);
//!
//! // A discoverable login: no allow list, the passkey names its user.
//! let login = browser.get("https://example.com", r#"{"challenge": "Y2hhbGxlbmdlLTI"}"#)?;
//! assert_eq!(login.id, registration.id);
//! assert_eq!(login.response.user_handle.as_deref(), Some("dXNlci0x"));
//!
//! // A page on another site may not use example.com's passkeys.
//! let refused = browser.get("https://evilexample.com", r#"{"challenge": "Y2hhbGxlbmdlLTM", "rpId": "example.com"}"#);
//! assert_eq!(refused.map(|_| ()).map_err(|e| e.name()), Err("SecurityError"));
//! # Ok::<(), fauxkey::client::ClientError>(())
//! ```
//!
//! For tests in another language or a real browser, `server::Server::start` (feature `server`)
//! runs the same client behind a local HTTP/JSON API on its own thread, as `fauxkey serve` does;
//! the Python and npm packages (`pip install fauxkey`, `npm i -D fauxkey`) start that binary.
//!
//! # Cargo features
//!
//! - `cli` (default): the `fauxkey` binary; pulls in `server`, clap, clap_complete, indicatif
//!   and directories.
//! - `server` (in `cli`): the `server` module, on axum and tokio.
//! - `related-origins-fetch` (in `cli`): `client::related_https`, which fetches
//!   `https://{rpId}/.well-known/webauthn` (WebAuthn L3 §5.11) over rustls (ring) with ureq.
//!
//! An RP's Rust test suite that only drives [`Client`] needs neither:
//! `fauxkey = { version = "0.1", default-features = false }` builds the client, the
//! authenticator and the vault without clap, axum, tokio, indicatif or a TLS stack.

#![forbid(unsafe_code)]

pub mod attestation;
pub mod authenticator;
pub mod b64url;
pub mod cbor;
pub mod client;
pub mod crypto;
pub mod ctap1;
pub mod ctap2;
pub mod ctaphid;
pub mod env;
pub mod faults;
pub mod fixtures;
pub mod profiles;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod transfer;
pub mod vault;

pub use authenticator::{Authenticator, Config, FAUXKEY_AAGUID};
pub use client::Client;
