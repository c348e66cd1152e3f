//! `hints` (WebAuthn L3 §5.8.7 `PublicKeyCredentialHint`): how the RP would like the browser's
//! UI to start. `security-key` and `hybrid` point at a roaming authenticator (a key over
//! USB/NFC/BLE; a phone over the hybrid transport), `client-device` at a platform one. Unknown
//! values are ignored; the first recognised one wins.
//!
//! fauxkey does what Chrome does with them (Chrome 128+): a hint chooses the sheet the dialog
//! opens on, and the user may still go to another way of signing in; an emulated user who holds
//! only the attached authenticator does so. So a hint never refuses a request on its own: a
//! platform profile asked only for `security-key`, with no `authenticatorAttachment`, completes
//! with the platform authenticator (the user leaves the "insert your security key" sheet for
//! "use a passkey on this device"). Where a hint contradicts `authenticatorAttachment`, L3 says
//! the hint takes precedence: the attachment is then no longer a filter, and the request
//! completes on either kind. Where they agree, the attachment stays the filter it always was
//! (a platform profile asked `security-key` + `cross-platform` is refused, `NotAllowedError`).
//! `get()` has no attachment to override: its hints only choose the first sheet, so they
//! change nothing here.

use super::Attachment;

/// A hint fauxkey recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// `security-key`: a physical security key.
    SecurityKey,
    /// `client-device`: the platform authenticator of this device.
    ClientDevice,
    /// `hybrid`: a phone, over the hybrid transport.
    Hybrid,
}

impl Hint {
    /// The hint named `text`, if it is one of the three L3 defines.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "security-key" => Some(Self::SecurityKey),
            "client-device" => Some(Self::ClientDevice),
            "hybrid" => Some(Self::Hybrid),
            _ => None,
        }
    }

    /// The attachment of the authenticators the hint points at (L3 §5.8.7 asks RPs to send
    /// this attachment along, for older browsers).
    pub fn attachment(self) -> Attachment {
        match self {
            Self::SecurityKey | Self::Hybrid => Attachment::CrossPlatform,
            Self::ClientDevice => Attachment::Platform,
        }
    }
}

/// The recognised hints, in the RP's order of preference.
pub fn recognised(hints: &[String]) -> Vec<Hint> {
    hints.iter().filter_map(|h| Hint::parse(h)).collect()
}

/// The attachment create() filters on: `authenticatorAttachment` (`platform` or
/// `cross-platform`; other values are ignored, as WebIDL enum members unknown to the browser
/// are), unless the first recognised hint contradicts it, in which case there is no filter.
pub fn attachment_filter(hints: &[String], requested: Option<&str>) -> Option<Attachment> {
    let requested = match requested {
        Some("platform") => Attachment::Platform,
        Some("cross-platform") => Attachment::CrossPlatform,
        _ => return None,
    };
    match recognised(hints).first() {
        Some(hint) if hint.attachment() != requested => None,
        _ => Some(requested),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn unknown_hints_are_ignored_and_the_first_known_one_wins() {
        assert_eq!(
            recognised(&list(&["smoke-signal", "hybrid", "client-device"])),
            vec![Hint::Hybrid, Hint::ClientDevice]
        );
    }

    #[test]
    fn a_contradicting_hint_lifts_the_attachment_filter() {
        let p = Some("platform");
        let x = Some("cross-platform");
        assert_eq!(attachment_filter(&[], p), Some(Attachment::Platform));
        assert_eq!(
            attachment_filter(&list(&["client-device"]), p),
            Some(Attachment::Platform)
        );
        assert_eq!(attachment_filter(&list(&["security-key"]), p), None);
        assert_eq!(attachment_filter(&list(&["hybrid"]), p), None);
        assert_eq!(attachment_filter(&list(&["client-device"]), x), None);
        assert_eq!(
            attachment_filter(&list(&["bogus", "security-key"]), x),
            Some(Attachment::CrossPlatform)
        );
        // A hint alone is no filter.
        assert_eq!(attachment_filter(&list(&["security-key"]), None), None);
        assert_eq!(
            attachment_filter(&list(&["client-device"]), Some("bogus")),
            None
        );
    }
}
