//! CTAP1/U2F wire types: the raw messages of FIDO U2F (FIDO U2F Raw Message Formats v1.2, as
//! CTAP 2.1 §11.2.9.1.1 carries them in `CTAPHID_MSG`) inside ISO 7816-4 command APDUs, short
//! or extended length.
//!
//! Parsing only: [`Command::decode`] turns request bytes into a typed command or the exact
//! status word to answer; the responses encode themselves ([`RegisterResponse::to_bytes`],
//! [`AuthenticateResponse::to_bytes`]) and parse back, for the client side and the tests. The
//! behaviour lives in `authenticator::u2f`.

/// `CLA` of every U2F command.
pub const CLA: u8 = 0x00;
/// `U2F_REGISTER`.
pub const INS_REGISTER: u8 = 0x01;
/// `U2F_AUTHENTICATE`.
pub const INS_AUTHENTICATE: u8 = 0x02;
/// `U2F_VERSION`.
pub const INS_VERSION: u8 = 0x03;
/// What `U2F_VERSION` answers.
pub const VERSION: &str = "U2F_V2";
/// The first byte of a registration response (a reserved byte, for legacy reasons).
pub const REGISTER_RESERVED: u8 = 0x05;
/// The first byte of an uncompressed P-256 point.
pub const UNCOMPRESSED_POINT: u8 = 0x04;
/// The `U2F_AUTHENTICATE` response's user-presence byte when the user touched the key.
pub const USER_PRESENT: u8 = 0x01;

/// The ISO 7816-4 status words a U2F device answers (U2F Raw Message Formats §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusWord {
    /// `SW_NO_ERROR` (0x9000): the command completed.
    NoError = 0x9000,
    /// `SW_CONDITIONS_NOT_SATISFIED` (0x6985): user presence is missing (or, for check-only,
    /// the key handle is known).
    ConditionsNotSatisfied = 0x6985,
    /// `SW_WRONG_DATA` (0x6A80): an unknown key handle or a key handle for another application.
    WrongData = 0x6A80,
    /// `SW_WRONG_LENGTH` (0x6700): the APDU's framing or the request's length is wrong.
    WrongLength = 0x6700,
    /// `SW_CLA_NOT_SUPPORTED` (0x6E00): the class byte is not 0x00.
    ClaNotSupported = 0x6E00,
    /// `SW_INS_NOT_SUPPORTED` (0x6D00): an unknown instruction.
    InsNotSupported = 0x6D00,
    /// 0x6F00, "no precise diagnosis": the device failed (its storage could not be written).
    Other = 0x6F00,
}

impl StatusWord {
    /// The two bytes on the wire, big-endian.
    pub fn bytes(self) -> [u8; 2] {
        (self as u16).to_be_bytes()
    }

    /// The status word for its value, if it is one of these.
    pub fn from_u16(value: u16) -> Option<Self> {
        [
            Self::NoError,
            Self::ConditionsNotSatisfied,
            Self::WrongData,
            Self::WrongLength,
            Self::ClaNotSupported,
            Self::InsNotSupported,
            Self::Other,
        ]
        .into_iter()
        .find(|s| *s as u16 == value)
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::NoError => "SW_NO_ERROR",
            Self::ConditionsNotSatisfied => "SW_CONDITIONS_NOT_SATISFIED",
            Self::WrongData => "SW_WRONG_DATA",
            Self::WrongLength => "SW_WRONG_LENGTH",
            Self::ClaNotSupported => "SW_CLA_NOT_SUPPORTED",
            Self::InsNotSupported => "SW_INS_NOT_SUPPORTED",
            Self::Other => "SW_UNKNOWN",
        };
        write!(f, "{name} (0x{:04X})", *self as u16)
    }
}

/// A command APDU (ISO 7816-4 §5.1): header, command data, and the expected response length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apdu {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// First parameter byte.
    pub p1: u8,
    /// Second parameter byte.
    pub p2: u8,
    /// Command data (`Nc` bytes).
    pub data: Vec<u8>,
    /// `Ne`, the most response bytes expected (256 or 65536 when encoded as zero); `None` when
    /// the APDU has no `Le` field.
    pub le: Option<usize>,
}

impl Apdu {
    /// Parses the four ISO 7816-4 cases in short and extended form:
    /// `CLA INS P1 P2`, then nothing (case 1); `Le` (2S); `Lc data [Le]` (3S/4S); `00 Le Le`
    /// (2E); `00 Lc Lc data [Le Le]` (3E/4E). An extended `Lc` of zero followed by `Le Le` is
    /// taken as no data with an `Le`, as U2F clients (python-fido2) send `U2F_VERSION`.
    /// Anything else is [`StatusWord::WrongLength`].
    pub fn parse(bytes: &[u8]) -> Result<Self, StatusWord> {
        let [cla, ins, p1, p2, body @ ..] = bytes else {
            return Err(StatusWord::WrongLength);
        };
        let apdu = |data: &[u8], le: Option<usize>| Apdu {
            cla: *cla,
            ins: *ins,
            p1: *p1,
            p2: *p2,
            data: data.to_vec(),
            le,
        };
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let long_le = |h: u8, l: u8| match u16::from_be_bytes([h, l]) {
            0 => 65_536,
            n => usize::from(n),
        };
        match body {
            // Case 1.
            [] => Ok(apdu(&[], None)),
            // Case 2S.
            [le] => Ok(apdu(&[], Some(short_le(*le)))),
            // Case 2E.
            [0, h, l] => Ok(apdu(&[], Some(long_le(*h, *l)))),
            // Cases 3E and 4E.
            [0, h, l, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*h, *l]));
                match rest.len().checked_sub(lc) {
                    Some(0) if lc > 0 => Ok(apdu(rest, None)),
                    Some(2) => Ok(apdu(&rest[..lc], Some(long_le(rest[lc], rest[lc + 1])))),
                    _ => Err(StatusWord::WrongLength),
                }
            }
            // Cases 3S and 4S (a short Lc of zero is not an encoding).
            [lc, rest @ ..] if *lc != 0 => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => Ok(apdu(rest, None)),
                    Some(1) => Ok(apdu(&rest[..lc], Some(short_le(rest[lc])))),
                    _ => Err(StatusWord::WrongLength),
                }
            }
            _ => Err(StatusWord::WrongLength),
        }
    }

    /// The extended-length encoding U2F uses (`00 Lc Lc data 00 00`; without data, `00 00 00`:
    /// case 2E with `Ne` = 65536). [`Apdu::parse`] reads it back.
    pub fn to_extended_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2, 0];
        if !self.data.is_empty() {
            // U2F requests are far below 65535 bytes; longer data is cut (never produced here).
            let n = self.data.len().min(usize::from(u16::MAX));
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&self.data[..n]);
        }
        out.extend_from_slice(&[0, 0]);
        out
    }
}

/// The control byte (P1) of `U2F_AUTHENTICATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// 0x07 `check-only`: is the key handle this device's, for this application? Answered
    /// 0x6985 if so, 0x6A80 if not; nothing is signed.
    CheckOnly = 0x07,
    /// 0x03 `enforce-user-presence-and-sign`.
    EnforceUserPresence = 0x03,
    /// 0x08 `dont-enforce-user-presence-and-sign`.
    DontEnforceUserPresence = 0x08,
}

impl Control {
    /// The control for its byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x07 => Some(Self::CheckOnly),
            0x03 => Some(Self::EnforceUserPresence),
            0x08 => Some(Self::DontEnforceUserPresence),
            _ => None,
        }
    }
}

/// `U2F_REGISTER` request: challenge parameter ‖ application parameter (64 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRequest {
    /// SHA-256 of the client data (CTAP2: clientDataHash).
    pub challenge: [u8; 32],
    /// SHA-256 of the AppID (CTAP2: rpIdHash).
    pub application: [u8; 32],
}

impl RegisterRequest {
    /// The command data must be exactly 64 bytes.
    pub fn parse(data: &[u8]) -> Result<Self, StatusWord> {
        let data: &[u8; 64] = data.try_into().map_err(|_| StatusWord::WrongLength)?;
        let (c, a) = data.split_at(32);
        Ok(Self {
            challenge: c.try_into().map_err(|_| StatusWord::WrongLength)?,
            application: a.try_into().map_err(|_| StatusWord::WrongLength)?,
        })
    }

    /// The request as an APDU (P1 0x03, as browsers send it: presence is always enforced).
    pub fn to_apdu(&self) -> Apdu {
        Apdu {
            cla: CLA,
            ins: INS_REGISTER,
            p1: 0x03,
            p2: 0,
            data: [self.challenge.as_slice(), &self.application].concat(),
            le: Some(65_536),
        }
    }
}

/// `U2F_REGISTER` response data (before the status word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterResponse {
    /// The user public key: an uncompressed P-256 point (0x04 ‖ x ‖ y).
    pub public_key: [u8; 65],
    /// The key handle (1 to 255 bytes).
    pub key_handle: Vec<u8>,
    /// The attestation certificate, DER.
    pub certificate: Vec<u8>,
    /// ECDSA (DER) by the attestation key over
    /// `0x00 ‖ application ‖ challenge ‖ key handle ‖ public key`.
    pub signature: Vec<u8>,
}

impl RegisterResponse {
    /// `0x05 ‖ public key ‖ key handle length ‖ key handle ‖ certificate ‖ signature`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            67 + self.key_handle.len() + self.certificate.len() + self.signature.len(),
        );
        out.push(REGISTER_RESERVED);
        out.extend_from_slice(&self.public_key);
        // Key handles are made 16 to 64 bytes long; a longer one is never produced.
        out.push(self.key_handle.len().min(255) as u8);
        out.extend_from_slice(&self.key_handle[..self.key_handle.len().min(255)]);
        out.extend_from_slice(&self.certificate);
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses response data (without the status word). The certificate's length comes from
    /// its DER header; the signature is the rest.
    pub fn parse(bytes: &[u8]) -> Result<Self, Ctap1Error> {
        let (&reserved, rest) = bytes.split_first().ok_or(Ctap1Error::Truncated)?;
        if reserved != REGISTER_RESERVED {
            return Err(Ctap1Error::Malformed("the reserved byte is not 0x05"));
        }
        let public_key: [u8; 65] = rest
            .get(..65)
            .ok_or(Ctap1Error::Truncated)?
            .try_into()
            .map_err(|_| Ctap1Error::Truncated)?;
        if public_key[0] != UNCOMPRESSED_POINT {
            return Err(Ctap1Error::Malformed(
                "the public key is not an uncompressed point",
            ));
        }
        let rest = &rest[65..];
        let (&kh_len, rest) = rest.split_first().ok_or(Ctap1Error::Truncated)?;
        let kh_len = usize::from(kh_len);
        if kh_len == 0 {
            return Err(Ctap1Error::Malformed("the key handle is empty"));
        }
        let key_handle = rest.get(..kh_len).ok_or(Ctap1Error::Truncated)?.to_vec();
        let rest = &rest[kh_len..];
        let cert_len = der_length(rest)?;
        let certificate = rest.get(..cert_len).ok_or(Ctap1Error::Truncated)?.to_vec();
        let signature = rest[cert_len..].to_vec();
        if signature.is_empty() {
            return Err(Ctap1Error::Truncated);
        }
        Ok(Self {
            public_key,
            key_handle,
            certificate,
            signature,
        })
    }

    /// The bytes the attestation signature covers (U2F Raw Message Formats §4.3).
    pub fn signed_data(
        application: &[u8; 32],
        challenge: &[u8; 32],
        key_handle: &[u8],
        public_key: &[u8; 65],
    ) -> Vec<u8> {
        [&[0x00][..], application, challenge, key_handle, public_key].concat()
    }
}

/// The total length of the DER element at the start of `bytes` (a SEQUENCE: the certificate).
fn der_length(bytes: &[u8]) -> Result<usize, Ctap1Error> {
    match bytes {
        [0x30, n, ..] if *n < 0x80 => Ok(2 + usize::from(*n)),
        [0x30, 0x81, n, ..] => Ok(3 + usize::from(*n)),
        [0x30, 0x82, h, l, ..] => Ok(4 + usize::from(u16::from_be_bytes([*h, *l]))),
        [0x30, ..] => Err(Ctap1Error::Malformed(
            "the certificate's length is not supported",
        )),
        [] | [_] => Err(Ctap1Error::Truncated),
        _ => Err(Ctap1Error::Malformed(
            "no DER certificate after the key handle",
        )),
    }
}

/// `U2F_AUTHENTICATE` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateRequest {
    /// The control byte (P1).
    pub control: Control,
    /// SHA-256 of the client data (CTAP2: clientDataHash).
    pub challenge: [u8; 32],
    /// SHA-256 of the AppID (CTAP2: rpIdHash).
    pub application: [u8; 32],
    /// The key handle from registration.
    pub key_handle: Vec<u8>,
}

impl AuthenticateRequest {
    /// `challenge ‖ application ‖ key handle length ‖ key handle`; the length byte must match
    /// the rest exactly.
    pub fn parse(control: Control, data: &[u8]) -> Result<Self, StatusWord> {
        if data.len() < 65 {
            return Err(StatusWord::WrongLength);
        }
        let (c, rest) = data.split_at(32);
        let (a, rest) = rest.split_at(32);
        let (&len, key_handle) = rest.split_first().ok_or(StatusWord::WrongLength)?;
        if key_handle.len() != usize::from(len) {
            return Err(StatusWord::WrongLength);
        }
        Ok(Self {
            control,
            challenge: c.try_into().map_err(|_| StatusWord::WrongLength)?,
            application: a.try_into().map_err(|_| StatusWord::WrongLength)?,
            key_handle: key_handle.to_vec(),
        })
    }

    /// The request as an APDU.
    pub fn to_apdu(&self) -> Apdu {
        let kh = &self.key_handle[..self.key_handle.len().min(255)];
        Apdu {
            cla: CLA,
            ins: INS_AUTHENTICATE,
            p1: self.control as u8,
            p2: 0,
            data: [
                self.challenge.as_slice(),
                &self.application,
                &[kh.len() as u8],
                kh,
            ]
            .concat(),
            le: Some(65_536),
        }
    }
}

/// `U2F_AUTHENTICATE` response data (before the status word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticateResponse {
    /// Bit 0 set: the user was present.
    pub user_presence: u8,
    /// The signature counter.
    pub counter: u32,
    /// ECDSA (DER) by the credential key over
    /// `application ‖ user presence ‖ counter ‖ challenge`.
    pub signature: Vec<u8>,
}

impl AuthenticateResponse {
    /// `user presence ‖ counter (4, big-endian) ‖ signature`.
    pub fn to_bytes(&self) -> Vec<u8> {
        [
            &[self.user_presence][..],
            &self.counter.to_be_bytes(),
            &self.signature,
        ]
        .concat()
    }

    /// Parses response data (without the status word).
    pub fn parse(bytes: &[u8]) -> Result<Self, Ctap1Error> {
        if bytes.len() < 6 {
            return Err(Ctap1Error::Truncated);
        }
        Ok(Self {
            user_presence: bytes[0],
            counter: u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]),
            signature: bytes[5..].to_vec(),
        })
    }

    /// The bytes the signature covers (U2F Raw Message Formats §5.4); the first 37 are, byte
    /// for byte, the CTAP2 authenticatorData of the assertion.
    pub fn signed_data(
        application: &[u8; 32],
        user_presence: u8,
        counter: u32,
        challenge: &[u8; 32],
    ) -> Vec<u8> {
        [
            application.as_slice(),
            &[user_presence],
            &counter.to_be_bytes(),
            challenge,
        ]
        .concat()
    }
}

/// A U2F command, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `U2F_REGISTER` (INS 0x01).
    Register(RegisterRequest),
    /// `U2F_AUTHENTICATE` (INS 0x02).
    Authenticate(AuthenticateRequest),
    /// `U2F_VERSION` (INS 0x03).
    Version,
}

impl Command {
    /// Request bytes to a command, or the status word to answer: the framing first
    /// ([`StatusWord::WrongLength`]), then the class ([`StatusWord::ClaNotSupported`]), the
    /// instruction ([`StatusWord::InsNotSupported`]), the request's own length
    /// ([`StatusWord::WrongLength`]) and, for authenticate, the control byte
    /// ([`StatusWord::WrongData`] when it is none of 0x03, 0x07, 0x08).
    pub fn decode(bytes: &[u8]) -> Result<Self, StatusWord> {
        // The class is checked before the framing, as soon as there is a header.
        if bytes.len() >= 4 && bytes[0] != CLA {
            return Err(StatusWord::ClaNotSupported);
        }
        let apdu = Apdu::parse(bytes)?;
        match apdu.ins {
            INS_REGISTER => RegisterRequest::parse(&apdu.data).map(Command::Register),
            INS_AUTHENTICATE => {
                let control = Control::from_byte(apdu.p1).ok_or(StatusWord::WrongData)?;
                AuthenticateRequest::parse(control, &apdu.data).map(Command::Authenticate)
            }
            INS_VERSION if apdu.data.is_empty() => Ok(Command::Version),
            INS_VERSION => Err(StatusWord::WrongLength),
            _ => Err(StatusWord::InsNotSupported),
        }
    }
}

/// A U2F response could not be parsed (client side).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Ctap1Error {
    /// The response ends too early.
    #[error("the U2F response is truncated")]
    Truncated,
    /// The response is not shaped as U2F says.
    #[error("malformed U2F response: {0}")]
    Malformed(&'static str),
}

/// Response data ‖ status word, as the device sends it.
pub fn response(data: &[u8], status: StatusWord) -> Vec<u8> {
    [data, &status.bytes()].concat()
}

/// Splits a device answer into its data and status word (`None` for an unknown word).
pub fn split_response(bytes: &[u8]) -> Option<(&[u8], u16)> {
    let n = bytes.len().checked_sub(2)?;
    Some((&bytes[..n], u16::from_be_bytes([bytes[n], bytes[n + 1]])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apdu_cases_short_and_extended() {
        let p = |b: &[u8]| Apdu::parse(b);
        assert_eq!(p(&[0, 3, 0, 0]).map(|a| (a.data, a.le)), Ok((vec![], None)));
        assert_eq!(p(&[0, 3, 0, 0, 0]).map(|a| a.le), Ok(Some(256)));
        assert_eq!(p(&[0, 3, 0, 0, 0, 0, 0]).map(|a| a.le), Ok(Some(65_536)));
        assert_eq!(p(&[0, 3, 0, 0, 0, 1, 0]).map(|a| a.le), Ok(Some(256)));
        // python-fido2's U2F_VERSION: extended Lc 0, Le 0.
        assert_eq!(
            p(&[0, 3, 0, 0, 0, 0, 0, 0, 0]).map(|a| (a.data, a.le)),
            Ok((vec![], Some(65_536)))
        );
        assert_eq!(p(&[0, 1, 0, 0, 2, 9, 8]).map(|a| a.data), Ok(vec![9, 8]));
        assert_eq!(p(&[0, 1, 0, 0, 2, 9, 8, 5]).map(|a| a.le), Ok(Some(5)));
        assert_eq!(
            p(&[0, 1, 0, 0, 0, 0, 2, 9, 8]).map(|a| a.data),
            Ok(vec![9, 8])
        );
        assert_eq!(
            p(&[0, 1, 0, 0, 0, 0, 2, 9, 8, 1, 0]).map(|a| a.le),
            Ok(Some(256))
        );
        for bad in [
            &[0u8, 1, 0][..],
            &[0, 1, 0, 0, 2, 9],
            &[0, 1, 0, 0, 2, 9, 8, 7, 6],
            &[0, 1, 0, 0, 0, 0, 2, 9],
            &[0, 1, 0, 0, 0, 0, 2, 9, 8, 7],
            &[0, 1, 0, 0, 0, 0],
        ] {
            assert_eq!(p(bad), Err(StatusWord::WrongLength), "{bad:?}");
        }
    }

    #[test]
    fn apdu_round_trips() {
        let a = Apdu {
            cla: 0,
            ins: 2,
            p1: 7,
            p2: 0,
            data: vec![1; 300],
            le: Some(65_536),
        };
        assert_eq!(Apdu::parse(&a.to_extended_bytes()), Ok(a));
        let v = Apdu {
            cla: 0,
            ins: 3,
            p1: 0,
            p2: 0,
            data: vec![],
            le: Some(65_536),
        };
        assert_eq!(Apdu::parse(&v.to_extended_bytes()), Ok(v));
    }

    #[test]
    fn messages_round_trip() {
        let reg = RegisterRequest {
            challenge: [1; 32],
            application: [2; 32],
        };
        assert_eq!(
            Command::decode(&reg.to_apdu().to_extended_bytes()),
            Ok(Command::Register(reg))
        );
        let auth = AuthenticateRequest {
            control: Control::CheckOnly,
            challenge: [3; 32],
            application: [4; 32],
            key_handle: vec![5; 48],
        };
        assert_eq!(
            Command::decode(&auth.to_apdu().to_extended_bytes()),
            Ok(Command::Authenticate(auth))
        );
        let mut pk = [7u8; 65];
        pk[0] = 4;
        let r = RegisterResponse {
            public_key: pk,
            key_handle: vec![1, 2, 3],
            certificate: vec![0x30, 0x03, 1, 2, 3],
            signature: vec![0x30, 0x01, 0],
        };
        assert_eq!(RegisterResponse::parse(&r.to_bytes()), Ok(r));
        let a = AuthenticateResponse {
            user_presence: 1,
            counter: 0x0102_0304,
            signature: vec![9; 70],
        };
        assert_eq!(AuthenticateResponse::parse(&a.to_bytes()), Ok(a));
    }

    #[test]
    fn status_words_for_bad_commands() {
        assert_eq!(
            Command::decode(&[0x80, 3, 0, 0]),
            Err(StatusWord::ClaNotSupported)
        );
        assert_eq!(
            Command::decode(&[0, 0x40, 0, 0]),
            Err(StatusWord::InsNotSupported)
        );
        assert_eq!(
            Command::decode(&[0, 1, 0, 0, 1, 0]),
            Err(StatusWord::WrongLength)
        );
        assert_eq!(
            Command::decode(&[0, 3, 0, 0, 1, 0]),
            Err(StatusWord::WrongLength)
        );
        let mut auth = vec![0, 2, 0x05, 0, 65];
        auth.extend_from_slice(&[0; 65]);
        assert_eq!(Command::decode(&auth), Err(StatusWord::WrongData));
        auth[2] = 0x07;
        // Key handle length 0 with no key handle: well formed.
        assert!(Command::decode(&auth).is_ok());
        auth[4 + 65] = 1;
        assert_eq!(Command::decode(&auth), Err(StatusWord::WrongLength));
        assert_eq!(
            StatusWord::from_u16(0x6985),
            Some(StatusWord::ConditionsNotSatisfied)
        );
        assert_eq!(StatusWord::WrongData.bytes(), [0x6A, 0x80]);
    }
}
