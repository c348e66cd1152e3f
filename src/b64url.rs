//! base64url without padding (RFC 4648 §5), as WebAuthn JSON uses it. Decoding is strict: no
//! padding, no whitespace, no standard-alphabet characters.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The base64url alphabet (RFC 4648 §5, Table 2).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The character for the low six bits of `n`.
fn sextet(n: u64) -> u8 {
    ALPHABET[(n & 63) as usize]
}

/// Every 12-bit value to its two characters, the first in the low byte (8 KiB, built at compile
/// time): six input bytes take four lookups.
const PAIRS: [u16; 4096] = {
    let mut table = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = ALPHABET[i >> 6] as u16 | (ALPHABET[i & 63] as u16) << 8;
        i += 1;
    }
    table
};

/// Encodes bytes as unpadded base64url.
///
/// Written here rather than through the `base64` crate's engine: a WebAuthn response encodes
/// five short values per ceremony, and six input bytes at a time through a table of character
/// pairs, into a buffer allocated once (not zeroed: glibc's calloc skips its per-thread cache),
/// takes less time for them (docs/performance.md). The `base64` crate still decodes, strictly.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    let pair = |n: u64| PAIRS[(n & 0xfff) as usize].to_le_bytes();
    let mut sixes = bytes.chunks_exact(6);
    for c in &mut sixes {
        let n = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], 0, 0]) >> 16;
        let [a, b] = pair(n >> 36);
        let [c, d] = pair(n >> 24);
        let [e, f] = pair(n >> 12);
        let [g, h] = pair(n);
        out.extend_from_slice(&[a, b, c, d, e, f, g, h]);
    }
    // The last 0 to 5 bytes: 1, 2 or 3 bytes make 2, 3 or 4 characters.
    for c in sixes.remainder().chunks(3) {
        let n = (u64::from(c[0]) << 16)
            | (u64::from(c.get(1).copied().unwrap_or(0)) << 8)
            | u64::from(c.get(2).copied().unwrap_or(0));
        out.push(sextet(n >> 18));
        out.push(sextet(n >> 12));
        if c.len() > 1 {
            out.push(sextet(n >> 6));
        }
        if c.len() > 2 {
            out.push(sextet(n));
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| unreachable!("the alphabet is ASCII"))
}

/// Decodes unpadded base64url; padding or other alphabets are errors.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_matches_the_base64_crate_at_every_length() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..data.len() {
            for start in [0, 1, 7] {
                let bytes = &data[start..(start + len).min(data.len())];
                assert_eq!(encode(bytes), URL_SAFE_NO_PAD.encode(bytes), "{bytes:?}");
            }
        }
    }

    #[test]
    fn rfc_4648_vectors_without_padding() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(input.as_bytes()), output);
        }
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-_-_");
    }
}
