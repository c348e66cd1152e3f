//! A stable, printable view of a credential (no secrets): what `fauxkey list --json` and
//! `show --json` print, and what the HTTP server will return.

use serde::Serialize;

use super::Credential;
use crate::b64url;

/// One passkey, without its private key. Field names are camelCase, ids base64url exactly as
/// they appear in WebAuthn JSON, times in RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeySummary {
    /// The credential id (base64url).
    pub credential_id: String,
    /// The RP ID.
    pub rp_id: String,
    /// The RP's name, if given.
    pub rp_name: Option<String>,
    /// The user handle (base64url).
    pub user_handle: String,
    /// The account name.
    pub name: Option<String>,
    /// The display name.
    pub display_name: Option<String>,
    /// `es256` or `eddsa`.
    pub algorithm: &'static str,
    /// The COSE algorithm identifier.
    pub cose_algorithm: i64,
    /// Whether it is discoverable (a resident key).
    pub discoverable: bool,
    /// The signature counter.
    pub sign_count: u32,
    /// BE.
    pub backup_eligible: bool,
    /// BS.
    pub backup_state: bool,
    /// Hidden by a signal.
    pub hidden: bool,
    /// credProtect level (1–3).
    pub cred_protect: u8,
    /// Whether the credential has hmac-secret keys (WebAuthn prf).
    pub hmac_secret: bool,
    /// Creation time (RFC 3339, UTC).
    pub created: String,
    /// Last use (RFC 3339, UTC), if ever used.
    pub last_used: Option<String>,
}

impl Credential {
    /// The credential's summary.
    pub fn summary(&self) -> PasskeySummary {
        PasskeySummary {
            credential_id: b64url::encode(&self.id),
            rp_id: self.rp_id.clone(),
            rp_name: self.rp_name.clone(),
            user_handle: b64url::encode(&self.user_handle),
            name: self.user_name.clone(),
            display_name: self.user_display_name.clone(),
            algorithm: self.key.algorithm().name(),
            cose_algorithm: self.key.algorithm().cose_id(),
            discoverable: self.discoverable,
            sign_count: self.sign_count,
            backup_eligible: self.backup_eligible,
            backup_state: self.backup_state,
            hidden: self.hidden,
            cred_protect: self.cred_protect.level(),
            hmac_secret: self.cred_random.is_some(),
            created: rfc3339(self.created_ms),
            last_used: self.last_used_ms.map(rfc3339),
        }
    }
}

/// Formats ms since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC, proleptic Gregorian).
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(super::rfc3339(4_102_444_799_000), "2099-12-31T23:59:59Z");
    }
}
