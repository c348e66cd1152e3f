//! The per-authenticator event log of WebAuthn signals and what they changed, so an RP's tests
//! can ask "did my RP send the signal I expect, and what did it do?".

use serde::Serialize;

/// How many events a store keeps; older ones are dropped first.
pub const MAX_EVENTS: usize = 1000;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventKind {
    /// `PublicKeyCredential.signalUnknownCredential()`.
    UnknownCredential,
    /// `PublicKeyCredential.signalAllAcceptedCredentials()`.
    AllAcceptedCredentials,
    /// `PublicKeyCredential.signalCurrentUserDetails()`.
    CurrentUserDetails,
    /// A person restored a hidden passkey (`fauxkey restore`).
    Restore,
    /// Hidden passkeys whose retention period ran out were deleted.
    Purge,
    /// A CTAP client deleted a passkey or changed its user information through
    /// `authenticatorCredentialManagement`.
    CredentialManagement,
    /// A CTAP client reset the authenticator (`authenticatorReset`): every passkey was deleted.
    Reset,
}

impl EventKind {
    /// The stable numeric code used in the vault.
    pub fn code(self) -> u8 {
        match self {
            EventKind::UnknownCredential => 1,
            EventKind::AllAcceptedCredentials => 2,
            EventKind::CurrentUserDetails => 3,
            EventKind::Restore => 4,
            EventKind::Purge => 5,
            EventKind::CredentialManagement => 6,
            EventKind::Reset => 7,
        }
    }

    /// The kind for a vault code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => EventKind::UnknownCredential,
            2 => EventKind::AllAcceptedCredentials,
            3 => EventKind::CurrentUserDetails,
            4 => EventKind::Restore,
            5 => EventKind::Purge,
            6 => EventKind::CredentialManagement,
            7 => EventKind::Reset,
            _ => return None,
        })
    }
}

/// A change to one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Hidden from assertions (kept, purged after the retention period).
    Hide {
        /// The credential.
        id: Vec<u8>,
    },
    /// Offered again.
    Unhide {
        /// The credential.
        id: Vec<u8>,
    },
    /// New user details.
    Rename {
        /// The credential.
        id: Vec<u8>,
        /// The new account name.
        name: String,
        /// The new display name.
        display_name: String,
    },
    /// Deleted.
    Remove {
        /// The credential.
        id: Vec<u8>,
    },
}

impl Change {
    /// The credential the change applies to.
    pub fn id(&self) -> &[u8] {
        match self {
            Change::Hide { id }
            | Change::Unhide { id }
            | Change::Rename { id, .. }
            | Change::Remove { id } => id,
        }
    }
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When, in ms since the Unix epoch.
    pub time_ms: u64,
    /// What happened.
    pub kind: EventKind,
    /// The RP ID the signal named (empty for purges).
    pub rp_id: String,
    /// The user handle the signal named, if any.
    pub user_id: Option<Vec<u8>>,
    /// The credential ids the signal named (the unknown one, or the accepted list).
    pub credential_ids: Vec<Vec<u8>>,
    /// What changed; empty when the signal matched nothing (it is still logged).
    pub changes: Vec<Change>,
}

/// `Event` as JSON: ids in base64url, the time in RFC 3339 and in ms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventJson {
    /// RFC 3339 UTC.
    pub time: String,
    /// ms since the Unix epoch.
    pub time_ms: u64,
    /// What happened.
    pub signal: EventKind,
    /// The RP ID.
    pub rp_id: String,
    /// The user handle named, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The credential ids named, base64url.
    pub credential_ids: Vec<String>,
    /// What changed.
    pub changes: Vec<ChangeJson>,
}

/// `Change` as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeJson {
    /// The credential, base64url.
    pub credential_id: String,
    /// `hidden`, `unhidden`, `renamed` or `removed`.
    pub change: &'static str,
    /// For `renamed`: the new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For `renamed`: the new display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl Event {
    /// The JSON form (what `fauxkey events --json` prints).
    pub fn to_json(&self) -> EventJson {
        let b = crate::b64url::encode;
        EventJson {
            time: super::rfc3339(self.time_ms),
            time_ms: self.time_ms,
            signal: self.kind,
            rp_id: self.rp_id.clone(),
            user_id: self.user_id.as_deref().map(b),
            credential_ids: self.credential_ids.iter().map(|i| b(i)).collect(),
            changes: self
                .changes
                .iter()
                .map(|c| ChangeJson {
                    credential_id: b(c.id()),
                    change: match c {
                        Change::Hide { .. } => "hidden",
                        Change::Unhide { .. } => "unhidden",
                        Change::Rename { .. } => "renamed",
                        Change::Remove { .. } => "removed",
                    },
                    name: match c {
                        Change::Rename { name, .. } => Some(name.clone()),
                        _ => None,
                    },
                    display_name: match c {
                        Change::Rename { display_name, .. } => Some(display_name.clone()),
                        _ => None,
                    },
                })
                .collect(),
        }
    }
}
