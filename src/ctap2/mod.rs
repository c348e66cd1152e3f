//! CTAP2 wire types: integer-keyed CBOR requests and responses, status codes, authenticator data.
//!
//! One module per command holds its `Request` (decoded from CBOR, with CTAP's error codes for bad
//! input) and its `Response` (encoded to canonical CBOR). No authenticator logic lives here.

pub mod auth_data;
pub mod client_pin;
pub mod config;
pub mod credential_management;
pub mod get_assertion;
pub mod get_info;
pub mod large_blobs;
pub mod make_credential;

use ciborium::value::Value;

use crate::cbor;

/// A CTAP2 status code (CTAP 2.1 §8.2 "Status codes"), as returned in the first response byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
#[repr(u8)]
pub enum StatusCode {
    /// `CTAP1_ERR_INVALID_COMMAND`: the command byte is not known.
    #[error("invalid command (0x01)")]
    InvalidCommand = 0x01,
    /// `CTAP1_ERR_INVALID_PARAMETER`: a parameter has an invalid value.
    #[error("invalid parameter (0x02)")]
    InvalidParameter = 0x02,
    /// `CTAP1_ERR_INVALID_LENGTH`: the message has an invalid length.
    #[error("invalid length (0x03)")]
    InvalidLength = 0x03,
    /// `CTAP1_ERR_INVALID_SEQ`: a message arrived out of sequence (a large-blob fragment at
    /// an offset other than the next expected one).
    #[error("invalid sequence (0x04)")]
    InvalidSeq = 0x04,
    /// `CTAP2_ERR_CBOR_UNEXPECTED_TYPE`: a CBOR item has the wrong type.
    #[error("unexpected CBOR type (0x11)")]
    CborUnexpectedType = 0x11,
    /// `CTAP2_ERR_INVALID_CBOR`: the CBOR is malformed or not canonical.
    #[error("invalid CBOR (0x12)")]
    InvalidCbor = 0x12,
    /// `CTAP2_ERR_MISSING_PARAMETER`: a required parameter is absent.
    #[error("missing parameter (0x14)")]
    MissingParameter = 0x14,
    /// `CTAP2_ERR_LIMIT_EXCEEDED`: a list or value is over a limit.
    #[error("limit exceeded (0x15)")]
    LimitExceeded = 0x15,
    /// `CTAP2_ERR_LARGE_BLOB_STORAGE_FULL`: a large-blob array longer than
    /// `maxSerializedLargeBlobArray`.
    #[error("large blob storage full (0x18)")]
    LargeBlobStorageFull = 0x18,
    /// `CTAP2_ERR_CREDENTIAL_EXCLUDED`: a credential in the exclude list is present.
    #[error("credential excluded (0x19)")]
    CredentialExcluded = 0x19,
    /// `CTAP2_ERR_UNSUPPORTED_ALGORITHM`: none of the requested algorithms is supported.
    #[error("unsupported algorithm (0x26)")]
    UnsupportedAlgorithm = 0x26,
    /// `CTAP2_ERR_OPERATION_DENIED`: the user refused, or user verification failed.
    #[error("operation denied (0x27)")]
    OperationDenied = 0x27,
    /// `CTAP2_ERR_KEY_STORE_FULL`: no room for another discoverable credential.
    #[error("key store full (0x28)")]
    KeyStoreFull = 0x28,
    /// `CTAP2_ERR_UNSUPPORTED_OPTION`: an option is not supported for this command.
    #[error("unsupported option (0x2B)")]
    UnsupportedOption = 0x2B,
    /// `CTAP2_ERR_INVALID_OPTION`: an option has a value this authenticator refuses.
    #[error("invalid option (0x2C)")]
    InvalidOption = 0x2C,
    /// `CTAP2_ERR_KEEPALIVE_CANCEL`: the request was cancelled.
    #[error("cancelled (0x2D)")]
    KeepaliveCancel = 0x2D,
    /// `CTAP2_ERR_NO_CREDENTIALS`: no valid credential was found.
    #[error("no credentials (0x2E)")]
    NoCredentials = 0x2E,
    /// `CTAP2_ERR_NOT_ALLOWED`: the command is not allowed now (e.g. no pending assertions).
    #[error("not allowed (0x30)")]
    NotAllowed = 0x30,
    /// `CTAP2_ERR_PIN_INVALID`: the PIN is wrong.
    #[error("PIN invalid (0x31)")]
    PinInvalid = 0x31,
    /// `CTAP2_ERR_PIN_BLOCKED`: no PIN retries are left; only a reset helps.
    #[error("PIN blocked (0x32)")]
    PinBlocked = 0x32,
    /// `CTAP2_ERR_PIN_AUTH_INVALID`: a pinUvAuthParam did not verify.
    #[error("PIN/UV auth invalid (0x33)")]
    PinAuthInvalid = 0x33,
    /// `CTAP2_ERR_PIN_AUTH_BLOCKED`: three wrong PINs in a row; a power cycle is needed.
    #[error("PIN auth blocked (0x34)")]
    PinAuthBlocked = 0x34,
    /// `CTAP2_ERR_PIN_NOT_SET`: no PIN is set.
    #[error("PIN not set (0x35)")]
    PinNotSet = 0x35,
    /// `CTAP2_ERR_PUAT_REQUIRED`: the command needs a pinUvAuthParam.
    #[error("pinUvAuthToken required (0x36)")]
    PuatRequired = 0x36,
    /// `CTAP2_ERR_PIN_POLICY_VIOLATION`: the new PIN breaks the PIN policy (length, reuse).
    #[error("PIN policy violation (0x37)")]
    PinPolicyViolation = 0x37,
    /// `CTAP2_ERR_REQUEST_TOO_LARGE`: the request is larger than maxMsgSize.
    #[error("request too large (0x39)")]
    RequestTooLarge = 0x39,
    /// `CTAP2_ERR_INTEGRITY_FAILURE`: a written large-blob array's checksum is wrong.
    #[error("integrity failure (0x3C)")]
    IntegrityFailure = 0x3C,
    /// `CTAP2_ERR_INVALID_SUBCOMMAND`: the subcommand is not supported.
    #[error("invalid subcommand (0x3E)")]
    InvalidSubcommand = 0x3E,
    /// `CTAP2_ERR_UV_INVALID`: built-in user verification failed.
    #[error("user verification failed (0x3F)")]
    UvInvalid = 0x3F,
    /// `CTAP2_ERR_UNAUTHORIZED_PERMISSION`: a requested permission is not supported.
    #[error("unauthorized permission (0x40)")]
    UnauthorizedPermission = 0x40,
    /// `CTAP1_ERR_OTHER`: any other error.
    #[error("other error (0x7F)")]
    Other = 0x7F,
}

impl StatusCode {
    /// The byte that goes on the wire.
    pub fn byte(self) -> u8 {
        self as u8
    }
}

/// The CTAP2 command byte (CTAP 2.1 §6 "Authenticator API").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandCode {
    /// `authenticatorMakeCredential` (0x01).
    MakeCredential = 0x01,
    /// `authenticatorGetAssertion` (0x02).
    GetAssertion = 0x02,
    /// `authenticatorGetInfo` (0x04).
    GetInfo = 0x04,
    /// `authenticatorClientPIN` (0x06).
    ClientPin = 0x06,
    /// `authenticatorReset` (0x07).
    Reset = 0x07,
    /// `authenticatorGetNextAssertion` (0x08).
    GetNextAssertion = 0x08,
    /// `authenticatorCredentialManagement` (0x0A).
    CredentialManagement = 0x0A,
    /// `authenticatorSelection` (0x0B).
    Selection = 0x0B,
    /// `authenticatorLargeBlobs` (0x0C).
    LargeBlobs = 0x0C,
    /// `authenticatorConfig` (0x0D).
    Config = 0x0D,
    /// `authenticatorCredentialManagement` under its pre-standard code (0x41), as libfido2 and
    /// shipped CTAP 2.1-preview keys use it.
    CredentialManagementPreview = 0x41,
}

impl CommandCode {
    /// Maps a command byte to a command we implement.
    pub fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            0x01 => Self::MakeCredential,
            0x02 => Self::GetAssertion,
            0x04 => Self::GetInfo,
            0x06 => Self::ClientPin,
            0x07 => Self::Reset,
            0x08 => Self::GetNextAssertion,
            0x0A => Self::CredentialManagement,
            0x0B => Self::Selection,
            0x0C => Self::LargeBlobs,
            0x0D => Self::Config,
            0x41 => Self::CredentialManagementPreview,
            _ => return None,
        })
    }
}

/// A decoded CTAP2 request: the command byte has chosen the type.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Command {
    /// `authenticatorMakeCredential`.
    MakeCredential(make_credential::Request),
    /// `authenticatorGetAssertion`.
    GetAssertion(get_assertion::Request),
    /// `authenticatorGetInfo`.
    GetInfo,
    /// `authenticatorClientPIN`.
    ClientPin(client_pin::Request),
    /// `authenticatorGetNextAssertion`.
    GetNextAssertion,
    /// `authenticatorClientPIN` subcommand `getPinUvAuthTokenUsingUvWithPermissions`.
    GetPinUvAuthToken(client_pin::TokenRequest),
    /// `authenticatorReset`.
    Reset,
    /// `authenticatorCredentialManagement`.
    CredentialManagement(credential_management::Request),
    /// `authenticatorSelection`.
    Selection,
    /// `authenticatorConfig`.
    Config(config::Request),
    /// `authenticatorLargeBlobs`.
    LargeBlobs(large_blobs::Request),
}

impl Command {
    /// Decodes `command byte ‖ CBOR parameters`.
    pub fn decode(message: &[u8]) -> Result<Self, StatusCode> {
        let (&first, params) = message.split_first().ok_or(StatusCode::InvalidLength)?;
        let code = CommandCode::from_byte(first).ok_or(StatusCode::InvalidCommand)?;
        let parse = |params: &[u8]| -> Result<Vec<(Value, Value)>, StatusCode> {
            match cbor::decode(params).map_err(|_| StatusCode::InvalidCbor)? {
                Value::Map(m) => Ok(m),
                _ => Err(StatusCode::CborUnexpectedType),
            }
        };
        Ok(match code {
            CommandCode::MakeCredential => {
                Self::MakeCredential(make_credential::Request::from_cbor(&parse(params)?)?)
            }
            CommandCode::GetAssertion => {
                Self::GetAssertion(get_assertion::Request::from_cbor(&parse(params)?)?)
            }
            CommandCode::ClientPin => {
                let m = parse(params)?;
                let request = client_pin::Request::from_cbor(&m)?;
                if request.sub_command == client_pin::GET_UV_TOKEN {
                    Self::GetPinUvAuthToken(client_pin::TokenRequest::from_cbor(&m)?)
                } else {
                    Self::ClientPin(request)
                }
            }
            // The preview code carries the same request and answer as the standard one.
            CommandCode::CredentialManagement | CommandCode::CredentialManagementPreview => {
                Self::CredentialManagement(credential_management::Request::from_cbor(&parse(
                    params,
                )?)?)
            }
            CommandCode::Config => Self::Config(config::Request::from_cbor(&parse(params)?)?),
            CommandCode::LargeBlobs => {
                Self::LargeBlobs(large_blobs::Request::from_cbor(&parse(params)?)?)
            }
            // Commands without parameters ignore nothing: trailing bytes are a length error.
            CommandCode::GetInfo if params.is_empty() => Self::GetInfo,
            CommandCode::GetNextAssertion if params.is_empty() => Self::GetNextAssertion,
            CommandCode::Reset if params.is_empty() => Self::Reset,
            CommandCode::Selection if params.is_empty() => Self::Selection,
            CommandCode::GetInfo
            | CommandCode::GetNextAssertion
            | CommandCode::Reset
            | CommandCode::Selection => return Err(StatusCode::InvalidLength),
        })
    }
}

/// A `PublicKeyCredentialDescriptor` as CTAP carries it: `{"type": "public-key", "id": bytes}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialDescriptor {
    /// The credential type; only `"public-key"` is meaningful.
    pub type_: String,
    /// The credential id.
    pub id: Vec<u8>,
}

impl CredentialDescriptor {
    /// A `public-key` descriptor for `id`.
    pub fn public_key(id: Vec<u8>) -> Self {
        Self {
            type_: "public-key".into(),
            id,
        }
    }

    pub(crate) fn from_cbor(v: &Value) -> Result<Self, StatusCode> {
        let m = as_map(v)?;
        Ok(Self {
            type_: as_text(required_text(m, "type")?)?.to_owned(),
            id: as_bytes(required_text(m, "id")?)?.to_vec(),
        })
    }

    pub(crate) fn to_cbor(&self) -> Value {
        cbor::map([
            ("id", Value::Bytes(self.id.clone())),
            ("type", Value::Text(self.type_.clone())),
        ])
    }
}

/// A `PublicKeyCredentialUserEntity` as CTAP carries it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserEntity {
    /// The user handle (1 to 64 bytes).
    pub id: Vec<u8>,
    /// The account name (personal data).
    pub name: Option<String>,
    /// The display name (personal data).
    pub display_name: Option<String>,
}

impl UserEntity {
    pub(crate) fn from_cbor(v: &Value) -> Result<Self, StatusCode> {
        let m = as_map(v)?;
        Ok(Self {
            id: as_bytes(required_text(m, "id")?)?.to_vec(),
            name: optional_text(m, "name")?,
            display_name: optional_text(m, "displayName")?,
        })
    }

    pub(crate) fn to_cbor(&self) -> Value {
        let mut entries = vec![("id", Value::Bytes(self.id.clone()))];
        if let Some(n) = &self.name {
            entries.push(("name", Value::Text(n.clone())));
        }
        if let Some(d) = &self.display_name {
            entries.push(("displayName", Value::Text(d.clone())));
        }
        cbor::map(entries)
    }
}

// ---- helpers shared by the request decoders ----

pub(crate) fn int_key(m: &[(Value, Value)], key: i64) -> Option<&Value> {
    m.iter().find_map(|(k, v)| match k {
        Value::Integer(i) if i128::from(*i) == i128::from(key) => Some(v),
        _ => None,
    })
}

pub(crate) fn text_key<'a>(m: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    m.iter().find_map(|(k, v)| match k {
        Value::Text(t) if t == key => Some(v),
        _ => None,
    })
}

pub(crate) fn required(m: &[(Value, Value)], key: i64) -> Result<&Value, StatusCode> {
    int_key(m, key).ok_or(StatusCode::MissingParameter)
}

pub(crate) fn required_text<'a>(
    m: &'a [(Value, Value)],
    key: &str,
) -> Result<&'a Value, StatusCode> {
    text_key(m, key).ok_or(StatusCode::MissingParameter)
}

pub(crate) fn optional_text(m: &[(Value, Value)], key: &str) -> Result<Option<String>, StatusCode> {
    text_key(m, key)
        .map(|v| as_text(v).map(str::to_owned))
        .transpose()
}

pub(crate) fn as_map(v: &Value) -> Result<&[(Value, Value)], StatusCode> {
    match v {
        Value::Map(m) => Ok(m),
        _ => Err(StatusCode::CborUnexpectedType),
    }
}

pub(crate) fn as_array(v: &Value) -> Result<&[Value], StatusCode> {
    match v {
        Value::Array(a) => Ok(a),
        _ => Err(StatusCode::CborUnexpectedType),
    }
}

pub(crate) fn as_bytes(v: &Value) -> Result<&[u8], StatusCode> {
    match v {
        Value::Bytes(b) => Ok(b),
        _ => Err(StatusCode::CborUnexpectedType),
    }
}

pub(crate) fn as_text(v: &Value) -> Result<&str, StatusCode> {
    match v {
        Value::Text(t) => Ok(t),
        _ => Err(StatusCode::CborUnexpectedType),
    }
}

pub(crate) fn as_bool(v: &Value) -> Result<bool, StatusCode> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(StatusCode::CborUnexpectedType),
    }
}

pub(crate) fn as_int(v: &Value) -> Result<i64, StatusCode> {
    match v {
        Value::Integer(i) => {
            i64::try_from(i128::from(*i)).map_err(|_| StatusCode::InvalidParameter)
        }
        _ => Err(StatusCode::CborUnexpectedType),
    }
}

/// Options map `{"rk": bool, "up": bool, "uv": bool}`; unknown options are ignored (CTAP 2.1
/// §6.1.2 step 5), but a known option with a non-boolean value is a type error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// `rk`: create a discoverable credential (makeCredential only).
    pub rk: Option<bool>,
    /// `up`: test user presence.
    pub up: Option<bool>,
    /// `uv`: perform built-in user verification.
    pub uv: Option<bool>,
}

impl Options {
    pub(crate) fn from_cbor(v: &Value) -> Result<Self, StatusCode> {
        let m = as_map(v)?;
        let get = |k: &str| text_key(m, k).map(as_bool).transpose();
        Ok(Self {
            rk: get("rk")?,
            up: get("up")?,
            uv: get("uv")?,
        })
    }

    pub(crate) fn to_cbor(self) -> Option<Value> {
        let entries: Vec<(&str, Value)> = [("rk", self.rk), ("up", self.up), ("uv", self.uv)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|b| (k, Value::Bool(b))))
            .collect();
        (!entries.is_empty()).then(|| cbor::map(entries))
    }
}

/// Encodes a response: status byte 0x00 followed by the canonical CBOR body, if any.
pub(crate) fn ok_response(body: Option<&Value>) -> Vec<u8> {
    let mut out = vec![0x00];
    if let Some(v) = body {
        cbor::encode_into(v, &mut out);
    }
    out
}
