//! Everything with a side effect that the authenticator and client use, injected: randomness,
//! time, and the (emulated) user. Seeded and fixed implementations make every output reproducible.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand_core::{CryptoRng, SeedableRng};

/// A source of cryptographic randomness.
pub type Rng = Box<dyn CryptoRng + Send>;

/// The operating system's randomness (for real use).
pub fn os_rng() -> Rng {
    Box::new(rand_core::UnwrapErr(getrandom::SysRng))
}

/// A ChaCha20 stream from a 64-bit seed: the same seed gives the same keys, ids and challenges.
pub fn seeded_rng(seed: u64) -> Rng {
    Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// A clock in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now_ms(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct FixedClock(Arc<AtomicU64>);

impl FixedClock {
    /// A clock standing at `ms`.
    pub fn at(ms: u64) -> Self {
        Self(Arc::new(AtomicU64::new(ms)))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// What the emulated user does when asked for presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Presence {
    /// Touches the authenticator.
    #[default]
    Approve,
    /// Refuses (CTAP `OPERATION_DENIED`; the browser says `NotAllowedError`).
    Deny,
}

/// What the authenticator's built-in user verification does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verification {
    /// The authenticator can verify the user, and verification succeeds.
    #[default]
    Succeed,
    /// The authenticator can verify the user, and verification fails.
    Fail,
    /// The authenticator has no built-in user verification.
    NotCapable,
}

/// The emulated user in front of the authenticator.
pub trait UserPolicy: Send {
    /// Asked once per ceremony that tests user presence.
    fn presence(&mut self, rp_id: &str) -> Presence;
    /// Whether built-in user verification exists (reported by getInfo as `uv`).
    fn uv_capable(&self) -> bool;
    /// Asked once per ceremony that requests user verification; true if the user was verified.
    fn verify(&mut self, rp_id: &str) -> bool;
    /// Given the accounts a discoverable login offers (newest first), which one the user picks.
    fn choose_account(&mut self, accounts: &[crate::ctap2::UserEntity]) -> Option<usize> {
        (!accounts.is_empty()).then_some(0)
    }
}

/// A user who always does the same thing; `account` picks by user handle or name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulatedUser {
    /// The answer to every presence test.
    pub presence: Presence,
    /// The outcome of every user verification.
    pub verification: Verification,
    /// In a discoverable login, pick the account whose name (or base64url user handle) this is.
    pub account: Option<String>,
}

impl UserPolicy for SimulatedUser {
    fn presence(&mut self, _rp_id: &str) -> Presence {
        self.presence
    }

    fn uv_capable(&self) -> bool {
        self.verification != Verification::NotCapable
    }

    fn verify(&mut self, _rp_id: &str) -> bool {
        self.verification == Verification::Succeed
    }

    fn choose_account(&mut self, accounts: &[crate::ctap2::UserEntity]) -> Option<usize> {
        match &self.account {
            None => (!accounts.is_empty()).then_some(0),
            Some(wanted) => accounts.iter().position(|u| {
                u.name.as_deref() == Some(wanted.as_str())
                    || crate::b64url::encode(&u.id) == *wanted
            }),
        }
    }
}
