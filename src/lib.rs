//! fauxkey: a software passkey provider for relying-party developers.
//!
//! Data flows one way: caller → [`client`] (the WebAuthn client a browser would be) →
//! [`authenticator`] (a virtual CTAP2 authenticator) → [`store`] (in memory, or the encrypted
//! [`vault`]). [`ctap2`] holds the wire types.
//! Randomness, time and the user come in through [`env`](mod@env), so output can be made reproducible.

#![forbid(unsafe_code)]

pub mod authenticator;
pub mod b64url;
pub mod cbor;
pub mod client;
pub mod crypto;
pub mod ctap2;
pub mod env;
pub mod store;
pub mod vault;

pub use authenticator::{Authenticator, Config, FAUXKEY_AAGUID};
pub use client::Client;
