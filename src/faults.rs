//! Fault injection: responses that are well formed and, apart from `bad-signature`, correctly
//! signed, but wrong in exactly one way a relying party must catch.
//!
//! Faults are applied where the real data is made, not patched in afterwards: the client edits
//! clientDataJSON before hashing it, and the authenticator edits authenticatorData before signing
//! it. So a faulty response carries a valid signature over the faulty bytes, whatever the
//! attestation format, and only the one property under test is wrong.
//!
//! [`Client::inject_fault`](crate::Client::inject_fault) queues a fault for the next N
//! responses; [`Authenticator::set_faults`](crate::Authenticator::set_faults) is the lower-level
//! switch for CTAP-level callers.

use sha2::{Digest, Sha256};

use crate::client::client_data::Ceremony;
use crate::ctap2::auth_data::Flags;

/// One thing wrong with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// The signature (assertion signature, or the attestation statement's `sig`) does not verify.
    BadSignature,
    /// The UP (user present) flag is cleared.
    UpCleared,
    /// The UV (user verified) flag is cleared.
    UvCleared,
    /// The signature counter is lower than the one the RP stored from the previous assertion
    /// (previous − 1, saturating at 0: then it is equal, so still not increasing).
    CounterBackwards,
    /// authenticatorData's rpIdHash is that of another RP ID.
    WrongRpIdHash,
    /// BS (backup state) is set while BE (backup eligible) is not, which §6.1 forbids.
    BsWithoutBe,
    /// clientDataJSON's `type` is the other ceremony's.
    WrongType,
    /// clientDataJSON's `challenge` is not the RP's.
    WrongChallenge,
    /// clientDataJSON's `origin` is another origin (`https://evil` + the RP's host).
    WrongOrigin,
}

impl Fault {
    /// Every fault, in a stable order.
    pub const ALL: [Fault; 9] = [
        Fault::BadSignature,
        Fault::UpCleared,
        Fault::UvCleared,
        Fault::CounterBackwards,
        Fault::WrongRpIdHash,
        Fault::BsWithoutBe,
        Fault::WrongType,
        Fault::WrongChallenge,
        Fault::WrongOrigin,
    ];

    /// The kebab-case name used by the CLI and the HTTP API.
    pub fn name(self) -> &'static str {
        match self {
            Fault::BadSignature => "bad-signature",
            Fault::UpCleared => "up-cleared",
            Fault::UvCleared => "uv-cleared",
            Fault::CounterBackwards => "counter-backwards",
            Fault::WrongRpIdHash => "wrong-rp-id-hash",
            Fault::BsWithoutBe => "bs-without-be",
            Fault::WrongType => "wrong-type",
            Fault::WrongChallenge => "wrong-challenge",
            Fault::WrongOrigin => "wrong-origin",
        }
    }

    /// The fault called `name` (as [`Fault::name`] spells it).
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// One sentence for humans: what is wrong and what a correct RP does about it.
    pub fn description(self) -> &'static str {
        match self {
            Fault::BadSignature => {
                "the signature does not verify over authenticatorData ‖ hash(clientDataJSON)"
            }
            Fault::UpCleared => "the user-present flag is not set",
            Fault::UvCleared => "the user-verified flag is not set (wrong when UV was required)",
            Fault::CounterBackwards => {
                "the signature counter is not greater than the one stored from the last login"
            }
            Fault::WrongRpIdHash => "rpIdHash is the SHA-256 of another RP ID",
            Fault::BsWithoutBe => "backup state is set on a credential that is not backup eligible",
            Fault::WrongType => "clientDataJSON.type names the other ceremony",
            Fault::WrongChallenge => "clientDataJSON.challenge is not the one the RP sent",
            Fault::WrongOrigin => "clientDataJSON.origin is not the RP's origin",
        }
    }

    /// Whether the fault changes a response of this ceremony. A registration has no previous
    /// counter, so `counter-backwards` waits for a login. `bad-signature` on a registration
    /// only changes attestation statements that carry a `sig`: when the response is `none`
    /// (nothing signed), the client does not count it, and the fault stays queued for the next
    /// response it changes (a signed attestation, or a login).
    pub fn applies_to(self, ceremony: Ceremony) -> bool {
        !(self == Fault::CounterBackwards && ceremony == Ceremony::Create)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of faults applied together to one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultSet(u16);

impl FaultSet {
    /// No faults.
    pub const EMPTY: FaultSet = FaultSet(0);

    /// Whether `fault` is in the set.
    pub fn contains(self, fault: Fault) -> bool {
        self.0 & fault.bit() != 0
    }

    /// Adds `fault`.
    pub fn insert(&mut self, fault: Fault) {
        self.0 |= fault.bit();
    }

    /// Removes `fault`.
    pub fn remove(&mut self, fault: Fault) {
        self.0 &= !fault.bit();
    }

    /// Both sets' faults.
    pub fn union(self, other: FaultSet) -> FaultSet {
        FaultSet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The faults in the set, in [`Fault::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Fault> {
        Fault::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    /// Applies the authenticatorData faults to serialized authenticatorData (at least 37 bytes):
    /// flags, rpIdHash and, given the counter the RP last saw, the counter.
    pub(crate) fn edit_auth_data(self, auth_data: &mut [u8], previous_count: Option<u32>) {
        if self.is_empty() || auth_data.len() < 37 {
            return;
        }
        if self.contains(Fault::WrongRpIdHash) {
            let mut h = Sha256::new();
            h.update(b"wrong-rp-id.");
            h.update(&auth_data[..32]);
            auth_data[..32].copy_from_slice(&h.finalize());
        }
        let flags = &mut auth_data[32];
        if self.contains(Fault::UpCleared) {
            *flags &= !Flags::UP;
        }
        if self.contains(Fault::UvCleared) {
            *flags &= !Flags::UV;
        }
        if self.contains(Fault::BsWithoutBe) {
            *flags = (*flags & !Flags::BE) | Flags::BS;
        }
        if let (true, Some(previous)) = (self.contains(Fault::CounterBackwards), previous_count) {
            auth_data[33..37].copy_from_slice(&previous.saturating_sub(1).to_be_bytes());
        }
    }

    /// Makes a signature fail verification (flips a bit of its last byte; a DER ECDSA signature
    /// stays well-formed DER).
    pub(crate) fn edit_signature(self, signature: &mut [u8]) {
        if self.contains(Fault::BadSignature) {
            if let Some(last) = signature.last_mut() {
                *last ^= 0x01;
            }
        }
    }

    /// The ceremony type, challenge and origin to write into clientDataJSON.
    pub(crate) fn client_data_inputs<'a>(
        self,
        ceremony: Ceremony,
        challenge: &'a [u8],
        origin: &'a crate::client::CallerOrigin,
    ) -> (
        Ceremony,
        std::borrow::Cow<'a, [u8]>,
        std::borrow::Cow<'a, crate::client::CallerOrigin>,
    ) {
        use std::borrow::Cow;
        let ceremony = match (self.contains(Fault::WrongType), ceremony) {
            (false, c) => c,
            (true, Ceremony::Create) => Ceremony::Get,
            (true, Ceremony::Get) => Ceremony::Create,
        };
        // Without a fault, the inputs as they are (borrowed: a ceremony copies nothing here).
        let challenge = if self.contains(Fault::WrongChallenge) {
            let mut c: Vec<u8> = challenge.iter().map(|b| b ^ 0x5a).collect();
            if c.is_empty() {
                c.push(0x5a);
            }
            Cow::Owned(c)
        } else {
            Cow::Borrowed(challenge)
        };
        let origin = if self.contains(Fault::WrongOrigin) {
            Cow::Owned(origin.with_evil_host())
        } else {
            Cow::Borrowed(origin)
        };
        (ceremony, challenge, origin)
    }
}

/// Faults waiting to be applied: each to the next N responses it applies to.
#[derive(Debug, Clone, Default)]
pub struct FaultQueue {
    entries: Vec<(Fault, u32)>,
}

impl FaultQueue {
    /// Queues `fault` for the next `responses` responses it applies to (adds to any count
    /// already queued). A count of 0 does nothing.
    pub fn inject(&mut self, fault: Fault, responses: u32) {
        if responses == 0 {
            return;
        }
        match self.entries.iter_mut().find(|(f, _)| *f == fault) {
            Some((_, n)) => *n = n.saturating_add(responses),
            None => self.entries.push((fault, responses)),
        }
    }

    /// Drops every queued fault.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The queued faults with their remaining counts, in the order they were first queued.
    pub fn pending(&self) -> Vec<(Fault, u32)> {
        self.entries.clone()
    }

    /// The faults the next response of `ceremony` carries.
    pub fn active(&self, ceremony: Ceremony) -> FaultSet {
        let mut set = FaultSet::EMPTY;
        for (fault, _) in self.entries.iter().filter(|(f, _)| f.applies_to(ceremony)) {
            set.insert(*fault);
        }
        set
    }

    /// Counts one response carrying `used` against the queue.
    pub fn consume(&mut self, used: FaultSet) {
        for (fault, n) in &mut self.entries {
            if used.contains(*fault) {
                *n -= 1;
            }
        }
        self.entries.retain(|(_, n)| *n > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for f in Fault::ALL {
            assert_eq!(Fault::from_name(f.name()), Some(f));
        }
        let mut names: Vec<_> = Fault::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Fault::ALL.len());
        assert_eq!(Fault::from_name("bad signature"), None);
    }

    #[test]
    fn queue_counts_down_per_ceremony() {
        let mut q = FaultQueue::default();
        q.inject(Fault::CounterBackwards, 1);
        q.inject(Fault::UpCleared, 2);
        let create = q.active(Ceremony::Create);
        assert!(!create.contains(Fault::CounterBackwards));
        assert!(create.contains(Fault::UpCleared));
        q.consume(create);
        assert_eq!(
            q.pending(),
            vec![(Fault::CounterBackwards, 1), (Fault::UpCleared, 1)]
        );
        let get = q.active(Ceremony::Get);
        q.consume(get);
        assert!(q.pending().is_empty());
        q.inject(Fault::WrongType, 0);
        assert!(q.pending().is_empty());
    }

    #[test]
    fn auth_data_edits_touch_only_their_bytes() {
        let mut base = vec![7u8; 37];
        base[32] = Flags::UP | Flags::UV | Flags::BE | Flags::BS;
        base[33..37].copy_from_slice(&5u32.to_be_bytes());
        let edit = |f: Fault| {
            let mut set = FaultSet::EMPTY;
            set.insert(f);
            let mut a = base.clone();
            set.edit_auth_data(&mut a, Some(5));
            a
        };
        assert_eq!(
            edit(Fault::UpCleared)[32],
            Flags::UV | Flags::BE | Flags::BS
        );
        assert_eq!(
            edit(Fault::UvCleared)[32],
            Flags::UP | Flags::BE | Flags::BS
        );
        assert_eq!(
            edit(Fault::BsWithoutBe)[32],
            Flags::UP | Flags::UV | Flags::BS
        );
        assert_eq!(edit(Fault::CounterBackwards)[33..37], 4u32.to_be_bytes());
        let wrong = edit(Fault::WrongRpIdHash);
        assert_ne!(wrong[..32], base[..32]);
        assert_eq!(wrong[32..], base[32..]);
        assert_eq!(edit(Fault::WrongType), base);
    }
}
