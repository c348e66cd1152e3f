//! Cryptography: credential keys and the PIN/UV auth protocols.

pub mod backend;
pub mod cose;
pub mod keys;
pub(crate) mod p256_base;
pub mod pin_protocol;
