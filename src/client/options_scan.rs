//! A direct reader for the common shape of `get()` request options, into the borrowed
//! [`RequestOptionsRef`]: serde_json's derive walks every member through generic visitors, and
//! at a few hundred bytes of options that is a fair share of a ceremony's work outside the
//! signature.
//!
//! It reads only a strict subset and answers `None` for anything else, leaving that to serde:
//! the members `challenge`, `rpId`, `allowCredentials` (objects with `type`, `id` and
//! `transports`), `userVerification`, `timeout` (a plain unsigned integer) and an empty `hints`,
//! each at most once; strings without escapes or control characters; JSON whitespace. Whatever it
//! accepts, serde reads the same way (tests/properties.rs checks the two give the same answers).

use std::borrow::Cow;

use super::json::{CredentialDescriptorRef, RequestOptionsRef};

/// Reads `json` if it is in the subset above.
pub(crate) fn request_options(json: &str) -> Option<RequestOptionsRef<'_>> {
    let mut r = Reader { text: json, at: 0 };
    let mut options = RequestOptionsRef {
        challenge: Cow::Borrowed(""),
        timeout: None,
        rp_id: None,
        allow_credentials: Vec::new(),
        user_verification: None,
        hints: Vec::new(),
        extensions: None,
    };
    let mut seen = 0u8;
    r.object(|r, key| {
        let bit = match key {
            "challenge" => {
                options.challenge = Cow::Borrowed(r.string()?);
                1
            }
            "rpId" => {
                options.rp_id = r.nullable(Reader::string)?.map(Cow::Borrowed);
                2
            }
            "allowCredentials" => {
                options.allow_credentials = r.nullable(Reader::descriptors)?.unwrap_or_default();
                4
            }
            "userVerification" => {
                options.user_verification = r.nullable(Reader::string)?.map(Cow::Borrowed);
                8
            }
            "timeout" => {
                options.timeout = r.nullable(Reader::unsigned)?;
                16
            }
            "hints" => {
                r.nullable(Reader::empty_array)?;
                32
            }
            _ => return None,
        };
        (seen & bit == 0).then(|| seen |= bit)
    })?;
    r.skip_whitespace();
    // The challenge is required; the whole text is the object.
    (seen & 1 != 0 && r.at == json.len()).then_some(options)
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while matches!(bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Skips whitespace, then takes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let next = self.text.as_bytes().get(self.at) == Some(&byte);
        if next {
            self.at += 1;
        }
        next
    }

    /// `null` (as `None`) or what `read` reads.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        self.skip_whitespace();
        if self.text[self.at..].starts_with("null") {
            self.at += 4;
            return Some(None);
        }
        read(self).map(Some)
    }

    /// A string with no escape and no control character, borrowed.
    fn string(&mut self) -> Option<&'a str> {
        if !self.eat(b'"') {
            return None;
        }
        let rest = &self.text.as_bytes()[self.at..];
        let len = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[len] != b'"' {
            return None;
        }
        // `len` is at an ASCII byte, so on a character boundary.
        let s = &self.text[self.at..self.at + len];
        self.at += len + 1;
        Some(s)
    }

    /// `{ "key": value, … }`, each value read by `member`; `None` when `member` says so.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        if !self.eat(b'{') {
            return None;
        }
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            member(self, key)?;
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// `[ item, … ]`.
    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        if !self.eat(b'[') {
            return None;
        }
        let mut items = Vec::new();
        if self.eat(b']') {
            return Some(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(b']') {
                return Some(items);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn empty_array(&mut self) -> Option<()> {
        (self.eat(b'[') && self.eat(b']')).then_some(())
    }

    /// A JSON integer that fits a `u64`: `0`, or a non-zero digit and up to 18 more.
    fn unsigned(&mut self) -> Option<u64> {
        self.skip_whitespace();
        let bytes = self.text.as_bytes();
        let digits = bytes[self.at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        // Anything that makes it another kind of number is serde's to read (or refuse).
        let after = bytes.get(self.at + digits);
        if digits == 0
            || digits > 19
            || (digits > 1 && bytes[self.at] == b'0')
            || matches!(after, Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        let value = self.text[self.at..self.at + digits].parse().ok()?;
        self.at += digits;
        Some(value)
    }

    fn descriptors(&mut self) -> Option<Vec<CredentialDescriptorRef<'a>>> {
        self.array(|r| {
            let (mut type_, mut id, mut transports, mut seen) = (None, None, None, 0u8);
            r.object(|r, key| {
                let bit = match key {
                    "type" => {
                        type_ = Some(r.string()?);
                        1
                    }
                    "id" => {
                        id = Some(r.string()?);
                        2
                    }
                    "transports" => {
                        transports = r.nullable(|r| r.array(|r| r.string().map(str::to_owned)))?;
                        4
                    }
                    _ => return None,
                };
                (seen & bit == 0).then(|| seen |= bit)
            })?;
            Some(CredentialDescriptorRef {
                type_: Cow::Borrowed(type_?),
                id: Cow::Borrowed(id?),
                transports,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_common_shape() {
        let o = request_options(
            " {\"challenge\": \"AAEC\", \"rpId\":\"example.com\",\n\"allowCredentials\":[{\"type\":\
             \"public-key\",\"id\":\"AQID\",\"transports\":[\"usb\",\"nfc\"]}],\"userVerification\"\
             :\"required\",\"timeout\":60000,\"hints\":[]}\t",
        )
        .expect("in the subset");
        assert_eq!(o.challenge, "AAEC");
        assert_eq!(o.rp_id.as_deref(), Some("example.com"));
        assert_eq!(o.allow_credentials.len(), 1);
        assert_eq!(o.allow_credentials[0].type_, "public-key");
        assert_eq!(o.allow_credentials[0].id, "AQID");
        assert_eq!(
            o.allow_credentials[0].transports,
            Some(vec!["usb".to_owned(), "nfc".to_owned()])
        );
        assert_eq!(o.user_verification.as_deref(), Some("required"));
        assert_eq!(o.timeout, Some(60000));
        let o = request_options(
            "{\"challenge\":\"AAEC\",\"rpId\":null,\"allowCredentials\":null,\"timeout\":0}",
        )
        .expect("nulls");
        assert!(o.rp_id.is_none() && o.allow_credentials.is_empty());
        assert_eq!(o.timeout, Some(0));
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        for text in [
            "",
            "{}",
            "{\"rpId\":\"example.com\"}",
            "{\"challenge\":\"AAEC\",\"challenge\":\"AAEC\"}",
            "{\"challenge\":\"AA\\u0045C\"}",
            "{\"challenge\":\"AAEC\",\"extensions\":{}}",
            "{\"challenge\":\"AAEC\",\"hints\":[\"hybrid\"]}",
            "{\"challenge\":\"AAEC\",\"timeout\":-1}",
            "{\"challenge\":\"AAEC\",\"timeout\":1.5}",
            "{\"challenge\":\"AAEC\",\"timeout\":1e3}",
            "{\"challenge\":\"AAEC\",\"timeout\":012}",
            "{\"challenge\":\"AAEC\",\"timeout\":99999999999999999999}",
            "{\"challenge\":\"AAEC\",\"publicKey\":{}}",
            "{\"challenge\":\"AAEC\",\"allowCredentials\":[{\"type\":\"public-key\"}]}",
            "{\"challenge\":\"AAEC\",\"allowCredentials\":[{\"id\":\"AQ\",\"id\":\"AQ\",\
             \"type\":\"public-key\"}]}",
            "{\"challenge\":\"AAEC\",\"allowCredentials\":[{\"type\":\"public-key\",\"id\":\"AQ\",\
             \"extra\":1}]}",
            "{\"challenge\":\"AAEC\"} x",
            "{\"challenge\":\"AAEC\",}",
            "{\"challenge\":\"AAEC\"",
            "{\"challenge\":\"a\u{1}b\"}",
            "{\"challenge\":\"AAEC\",\"rpId\":nul}",
        ] {
            assert!(request_options(text).is_none(), "{text}");
        }
    }
}
