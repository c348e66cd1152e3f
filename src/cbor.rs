//! CTAP2 canonical CBOR: a strict decoder and a canonical encoder over [`ciborium::value::Value`].
//!
//! CTAP2 (§8 "Message Encoding") requires the canonical form of RFC 7049 §3.9 with CTAP's own key
//! order: integers and lengths in their shortest form, definite lengths only, and map keys sorted
//! by major type first, then by the length of their encoding, then bytewise. We emit exactly that
//! and refuse anything else on input, so that every message has one byte form.

use ciborium::value::{Integer, Value};

/// Deepest nesting of arrays and maps we accept on input (CTAP messages need four levels).
pub const MAX_DEPTH: usize = 16;

/// Why a CBOR input was refused. All of these map to `CTAP2_ERR_INVALID_CBOR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CborError {
    /// The input ended inside an item.
    #[error("CBOR input is truncated")]
    Truncated,
    /// Bytes remain after the top-level item.
    #[error("CBOR input has {0} trailing bytes")]
    TrailingBytes(usize),
    /// A text string is not valid UTF-8.
    #[error("CBOR text string is not valid UTF-8")]
    InvalidUtf8,
    /// The input is valid CBOR but not in CTAP2 canonical form.
    #[error("CBOR is not canonical: {0}")]
    NonCanonical(&'static str),
    /// Arrays and maps nest deeper than [`MAX_DEPTH`].
    #[error("CBOR nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// An item CTAP2 does not allow (indefinite lengths, reserved additional info, break codes).
    #[error("CBOR item not allowed in CTAP2: {0}")]
    NotAllowed(&'static str),
}

/// Encodes `value` in CTAP2 canonical form, into a buffer allocated once at its exact size: it
/// never reallocates, so no partial copy of the encoding (a vault payload holds private keys) is
/// left behind in freed memory.
pub fn encode(value: &Value) -> Vec<u8> {
    let len = encoded_len(value);
    let mut out = Vec::with_capacity(len);
    encode_into(value, &mut out);
    debug_assert_eq!(out.len(), len, "encoded_len agrees with encode_into");
    out
}

/// The length of `value`'s canonical encoding.
pub fn encoded_len(value: &Value) -> usize {
    match value {
        Value::Integer(i) => {
            let i = i128::from(*i);
            head_len(if i >= 0 { i as u64 } else { (-1 - i) as u64 })
        }
        Value::Bytes(b) => head_len(b.len() as u64) + b.len(),
        Value::Text(t) => head_len(t.len() as u64) + t.len(),
        Value::Array(items) => {
            head_len(items.len() as u64) + items.iter().map(encoded_len).sum::<usize>()
        }
        Value::Map(entries) => {
            head_len(entries.len() as u64)
                + entries
                    .iter()
                    .map(|(k, v)| encoded_len(k) + encoded_len(v))
                    .sum::<usize>()
        }
        Value::Tag(tag, inner) => head_len(*tag) + encoded_len(inner),
        Value::Float(_) => 9,
        _ => 1,
    }
}

fn head_len(n: u64) -> usize {
    match n {
        0..24 => 1,
        24..=0xff => 2,
        0x100..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Appends the canonical encoding of `value` to `out`.
pub fn encode_into(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Integer(i) => {
            let i = i128::from(*i);
            if i >= 0 {
                head(0, i as u64, out);
            } else {
                head(1, (-1 - i) as u64, out);
            }
        }
        Value::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(3, t.len() as u64, out);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(items) => {
            head(4, items.len() as u64, out);
            for item in items {
                encode_into(item, out);
            }
        }
        Value::Map(entries) => {
            head(5, entries.len() as u64, out);
            let mut encoded: Vec<(Vec<u8>, &Value)> =
                entries.iter().map(|(k, v)| (encode(k), v)).collect();
            encoded.sort_by(|a, b| key_order(&a.0, &b.0));
            for (k, v) in encoded {
                out.extend_from_slice(&k);
                encode_into(v, out);
            }
        }
        Value::Tag(tag, inner) => {
            head(6, *tag, out);
            encode_into(inner, out);
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
        Value::Float(f) => {
            out.push(0xfb);
            out.extend_from_slice(&f.to_be_bytes());
        }
        // ciborium's Value is non-exhaustive; nothing we build uses other variants.
        _ => out.push(0xf7),
    }
}

/// CTAP2 canonical key order over encoded keys: major type, then encoded length, then bytes.
fn key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let major = |k: &[u8]| k.first().map_or(0, |b| b >> 5);
    major(a)
        .cmp(&major(b))
        .then(a.len().cmp(&b.len()))
        .then_with(|| a.cmp(b))
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[m | 24, n as u8]);
    } else if n <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Decodes one canonical CBOR item that fills `input` exactly.
pub fn decode(input: &[u8]) -> Result<Value, CborError> {
    let mut reader = Reader { input, pos: 0 };
    let value = reader.item(0)?;
    match input.len() - reader.pos {
        0 => Ok(value),
        n => Err(CborError::TrailingBytes(n)),
    }
}

/// Decodes one canonical CBOR item from the front of `input`; returns it and the bytes it used.
pub fn decode_prefix(input: &[u8]) -> Result<(Value, usize), CborError> {
    let mut reader = Reader { input, pos: 0 };
    let value = reader.item(0)?;
    Ok((value, reader.pos))
}

#[derive(Debug)]
struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self.pos.checked_add(n).ok_or(CborError::Truncated)?;
        let bytes = self.input.get(self.pos..end).ok_or(CborError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    /// Reads an item head: (major type, argument).
    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let arg = match info {
            0..=23 => u64::from(info),
            24 => {
                let v = u64::from(self.take(1)?[0]);
                if v < 24 && major != 7 {
                    return Err(CborError::NonCanonical(
                        "integer or length not in shortest form",
                    ));
                }
                v
            }
            25 => self.uint_arg::<2>(0xff, major)?,
            26 => self.uint_arg::<4>(0xffff, major)?,
            27 => self.uint_arg::<8>(0xffff_ffff, major)?,
            31 => return Err(CborError::NotAllowed("indefinite length or break")),
            _ => return Err(CborError::NotAllowed("reserved additional information")),
        };
        Ok((major, arg))
    }

    fn uint_arg<const N: usize>(&mut self, shorter_max: u64, major: u8) -> Result<u64, CborError> {
        let bytes = self.take(N)?;
        let mut v = 0u64;
        for b in bytes {
            v = (v << 8) | u64::from(*b);
        }
        if v <= shorter_max && major != 7 {
            return Err(CborError::NonCanonical(
                "integer or length not in shortest form",
            ));
        }
        Ok(v)
    }

    fn len(&mut self, arg: u64) -> Result<usize, CborError> {
        let n = usize::try_from(arg).map_err(|_| CborError::Truncated)?;
        if n > self.input.len() - self.pos {
            return Err(CborError::Truncated);
        }
        Ok(n)
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let start = self.pos;
        let (major, arg) = self.head()?;
        Ok(match major {
            0 => Value::Integer(Integer::from(arg)),
            1 => Value::Integer(
                Integer::try_from(-1 - i128::from(arg))
                    .map_err(|_| CborError::NotAllowed("negative integer out of range"))?,
            ),
            2 => {
                let n = self.len(arg)?;
                Value::Bytes(self.take(n)?.to_vec())
            }
            3 => {
                let n = self.len(arg)?;
                let bytes = self.take(n)?;
                let text = std::str::from_utf8(bytes).map_err(|_| CborError::InvalidUtf8)?;
                Value::Text(text.to_owned())
            }
            4 => {
                // Every item is at least one byte: a count larger than what is left is truncated.
                let n = self.len(arg)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Value::Array(items)
            }
            5 => {
                let n = self.len(arg)?;
                let mut entries = Vec::with_capacity(n);
                let mut previous_key: Option<&[u8]> = None;
                for _ in 0..n {
                    let key_start = self.pos;
                    let key = self.item(depth + 1)?;
                    let key_bytes = &self.input[key_start..self.pos];
                    if let Some(prev) = previous_key {
                        match key_order(prev, key_bytes) {
                            std::cmp::Ordering::Less => {}
                            std::cmp::Ordering::Equal => {
                                return Err(CborError::NonCanonical("duplicate map key"))
                            }
                            std::cmp::Ordering::Greater => {
                                return Err(CborError::NonCanonical("map keys out of order"))
                            }
                        }
                    }
                    previous_key = Some(key_bytes);
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Value::Map(entries)
            }
            // CTAP2 canonical CBOR (§8): tags MUST NOT be present.
            6 => return Err(CborError::NotAllowed("tag")),
            _ => match (self.input[start] & 0x1f, arg) {
                (20, _) => Value::Bool(false),
                (21, _) => Value::Bool(true),
                (22, _) => Value::Null,
                // CTAP2 messages carry no floats, and one float has several encodings.
                (25..=27, _) => return Err(CborError::NotAllowed("floating-point number")),
                _ => return Err(CborError::NotAllowed("simple value")),
            },
        })
    }
}

/// A forward-only reader of canonical CBOR that yields typed items without building a value
/// tree, for large inputs with a known shape (the vault payload). Heads are checked exactly as
/// [`decode`] checks them (shortest form, definite lengths); the caller checks key order.
#[derive(Debug)]
pub struct Cursor<'a> {
    reader: Reader<'a>,
}

/// A [`Cursor`] read failed: bad CBOR, or an item of another type than asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CursorError {
    /// The bytes are not canonical CBOR.
    #[error("{0}")]
    Cbor(#[from] CborError),
    /// The item has another major type or value than expected.
    #[error("expected {expected}")]
    Unexpected {
        /// What was asked for.
        expected: &'static str,
    },
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            reader: Reader { input, pos: 0 },
        }
    }

    /// Whether every byte was read.
    pub fn at_end(&self) -> bool {
        self.reader.pos == self.reader.input.len()
    }

    fn expect(&mut self, major: u8, expected: &'static str) -> Result<u64, CursorError> {
        let (m, arg) = self.reader.head()?;
        if m != major {
            return Err(CursorError::Unexpected { expected });
        }
        Ok(arg)
    }

    /// A map head: its number of entries.
    pub fn map(&mut self) -> Result<usize, CursorError> {
        let n = self.expect(5, "a map")?;
        Ok(self.reader.len(n)?)
    }

    /// An array head: its number of items.
    pub fn array(&mut self) -> Result<usize, CursorError> {
        let n = self.expect(4, "an array")?;
        Ok(self.reader.len(n)?)
    }

    /// An unsigned integer.
    pub fn uint(&mut self) -> Result<u64, CursorError> {
        self.expect(0, "an unsigned integer")
    }

    /// A signed integer that fits in an i64.
    pub fn int(&mut self) -> Result<i64, CursorError> {
        let unexpected = CursorError::Unexpected {
            expected: "an integer",
        };
        match self.reader.head()? {
            (0, n) => i64::try_from(n).map_err(|_| unexpected),
            (1, n) => i64::try_from(n).map(|n| -1 - n).map_err(|_| unexpected),
            _ => Err(unexpected),
        }
    }

    /// A byte string.
    pub fn bytes(&mut self) -> Result<&'a [u8], CursorError> {
        let n = self.expect(2, "a byte string")?;
        let n = self.reader.len(n)?;
        Ok(self.reader.take(n)?)
    }

    /// A text string (valid UTF-8).
    pub fn text(&mut self) -> Result<&'a str, CursorError> {
        let n = self.expect(3, "a text string")?;
        let n = self.reader.len(n)?;
        std::str::from_utf8(self.reader.take(n)?)
            .map_err(|_| CursorError::Cbor(CborError::InvalidUtf8))
    }

    /// `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, CursorError> {
        let start = self.reader.pos;
        match self.reader.head()? {
            (7, 20) if self.reader.input[start] == 0xf4 => Ok(false),
            (7, 21) if self.reader.input[start] == 0xf5 => Ok(true),
            _ => Err(CursorError::Unexpected { expected: "a bool" }),
        }
    }
}

/// Builds a CBOR map value from (key, value) pairs; the encoder sorts them.
pub fn map<K: Into<Value>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The buffer is allocated once at the exact size: no reallocation leaves a partial copy of
    /// the encoding (a vault payload holds private keys) in freed memory.
    #[test]
    fn encode_allocates_exactly_once() {
        let big = Value::Map(vec![
            (Value::Integer(1.into()), Value::Bytes(vec![0xaa; 70_000])),
            (
                Value::Text("k".into()),
                Value::Array(vec![Value::Text("é".repeat(300)); 40]),
            ),
            (Value::Integer((-1_000_000_i64).into()), Value::Float(1.5)),
            (
                Value::Integer(u64::MAX.into()),
                Value::Tag(3, Box::new(Value::Null)),
            ),
            (Value::Integer(2.into()), Value::Bool(true)),
        ]);
        for v in [
            big,
            Value::Integer(23.into()),
            Value::Integer(24.into()),
            Value::Bytes(vec![]),
        ] {
            let out = encode(&v);
            assert_eq!(out.len(), encoded_len(&v));
            assert_eq!(
                out.capacity(),
                out.len(),
                "one allocation of the exact size"
            );
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("test hex")
    }

    #[test]
    fn canonical_key_order_is_ctap_order() {
        let v = map([
            (Value::Text("b".into()), Value::Null),
            (Value::Integer((-1).into()), Value::Null),
            (Value::Integer(24.into()), Value::Null),
            (Value::Integer(3.into()), Value::Null),
            (Value::Text("aa".into()), Value::Null),
        ]);
        // 3, 24, -1, "b", "aa": ints before negatives before text; shorter before longer.
        assert_eq!(encode(&v), hex("a503f61818f620f66162f6626161f6"));
    }

    #[test]
    fn round_trip_of_every_major_type() {
        let v = map([
            (Value::Integer(1.into()), Value::Bytes(vec![1, 2, 3])),
            (Value::Integer(2.into()), Value::Text("é".into())),
            (
                Value::Integer(3.into()),
                Value::Array(vec![
                    Value::Bool(true),
                    Value::Null,
                    Value::Integer((-300).into()),
                    Value::Integer(u64::MAX.into()),
                ]),
            ),
        ]);
        let bytes = encode(&v);
        assert_eq!(decode(&bytes).expect("decodes"), v);
        assert_eq!(encode(&decode(&bytes).expect("decodes")), bytes);
    }

    #[test]
    fn refuses_non_canonical_and_malformed_input() {
        let cases: &[(&str, CborError)] = &[
            (
                "1817",
                CborError::NonCanonical("integer or length not in shortest form"),
            ),
            (
                "190017",
                CborError::NonCanonical("integer or length not in shortest form"),
            ),
            (
                "a2020101f6",
                CborError::NonCanonical("map keys out of order"),
            ),
            ("a20101 01f6", CborError::NonCanonical("duplicate map key")),
            (
                "5f41ff",
                CborError::NotAllowed("indefinite length or break"),
            ),
            ("62c328", CborError::InvalidUtf8),
            ("43aabb", CborError::Truncated),
            ("9a ffffffff", CborError::Truncated),
            ("0101", CborError::TrailingBytes(1)),
            ("f90000", CborError::NotAllowed("floating-point number")),
            (
                "fb0000000000000000",
                CborError::NotAllowed("floating-point number"),
            ),
            ("c101", CborError::NotAllowed("tag")),
            ("", CborError::Truncated),
        ];
        for (input, expected) in cases {
            let bytes = hex(&input.replace(' ', ""));
            assert_eq!(decode(&bytes).as_ref(), Err(expected), "input {input}");
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let mut bytes = vec![0x81; MAX_DEPTH + 1];
        bytes.push(0x01);
        assert_eq!(decode(&bytes), Err(CborError::TooDeep));
        let ok = [vec![0x81; MAX_DEPTH], vec![0x01]].concat();
        assert!(decode(&ok).is_ok());
    }
}
