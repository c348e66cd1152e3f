//! `clientDataJSON`, serialized byte for byte as WebAuthn L3 §5.8.1.1 orders and escapes it.

use super::origin::CallerOrigin;

/// The ceremony a clientDataJSON belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// `webauthn.create`.
    Create,
    /// `webauthn.get`.
    Get,
}

impl Ceremony {
    /// The `type` member.
    pub fn type_str(self) -> &'static str {
        match self {
            Ceremony::Create => "webauthn.create",
            Ceremony::Get => "webauthn.get",
        }
    }
}

/// Serializes clientDataJSON: type, challenge, origin, crossOrigin, then topOrigin when the
/// call is cross-origin.
pub fn serialize(ceremony: Ceremony, challenge: &[u8], origin: &CallerOrigin) -> Vec<u8> {
    let mut out = String::with_capacity(160);
    out.push_str("{\"type\":");
    ccd_to_string(ceremony.type_str(), &mut out);
    out.push_str(",\"challenge\":");
    ccd_to_string(&crate::b64url::encode(challenge), &mut out);
    out.push_str(",\"origin\":");
    ccd_to_string(origin.serialized(), &mut out);
    out.push_str(",\"crossOrigin\":");
    match origin.top_origin().filter(|_| origin.cross_origin()) {
        Some(top) => {
            out.push_str("true,\"topOrigin\":");
            ccd_to_string(top, &mut out);
        }
        None => out.push_str("false"),
    }
    out.push('}');
    out.into_bytes()
}

/// CCDToString (§5.8.1.1): quote, copy U+0020–U+0021, U+0023–U+005B and U+005D–U+10FFFF,
/// escape `"` and `\`, and write everything else as `\u` with four lower-case hex digits.
pub fn ccd_to_string(s: &str, out: &mut String) {
    out.push('"');
    // Every byte of a character copied as it is: no control character, quote or backslash
    // (bytes of 0x80 and above belong to characters from U+0080 on, all copied).
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{20}'..='\u{21}' | '\u{23}'..='\u{5b}' | '\u{5d}'..='\u{10ffff}' => out.push(c),
            other => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{:04x}", u32::from(other));
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_exact_same_origin() {
        let origin = CallerOrigin::parse("https://example.com").expect("origin");
        let json = serialize(Ceremony::Get, &[0xfb, 0xff], &origin);
        assert_eq!(
            String::from_utf8(json).expect("utf8"),
            r#"{"type":"webauthn.get","challenge":"-_8","origin":"https://example.com","crossOrigin":false}"#
        );
    }

    #[test]
    fn byte_exact_cross_origin() {
        let origin = CallerOrigin::parse("https://rp.example")
            .and_then(|o| o.with_top_origin("https://shop.example"))
            .expect("origin");
        let json = serialize(Ceremony::Create, b"c", &origin);
        assert_eq!(
            String::from_utf8(json).expect("utf8"),
            r#"{"type":"webauthn.create","challenge":"Yw","origin":"https://rp.example","crossOrigin":true,"topOrigin":"https://shop.example"}"#
        );
    }

    #[test]
    fn ccd_escapes() {
        let mut s = String::new();
        ccd_to_string("a\"b\\c\u{1}\u{7f}é\n", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001\u{7f}é\\u000a\"");
        // Nothing to escape: copied whole, DEL and non-ASCII included.
        let mut s = String::new();
        ccd_to_string("https://exämple.com\u{7f}~", &mut s);
        assert_eq!(s, "\"https://exämple.com\u{7f}~\"");
    }
}
