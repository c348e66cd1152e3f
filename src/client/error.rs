//! Client errors, named for the DOMException a browser would throw.

/// A failed WebAuthn call: the DOMException name a browser would use, and a human reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `NotAllowedError`: the user or authenticator refused, nothing matched, or time ran out.
    #[error("NotAllowedError: {0}")]
    NotAllowed(String),
    /// `InvalidStateError`: a credential in excludeCredentials is already on the authenticator.
    #[error("InvalidStateError: {0}")]
    InvalidState(String),
    /// `SecurityError`: the origin may not use this RP ID.
    #[error("SecurityError: {0}")]
    Security(String),
    /// `NotSupportedError`: no requested algorithm or option is supported.
    #[error("NotSupportedError: {0}")]
    NotSupported(String),
    /// `TypeError`: the options are malformed (missing member, wrong type, bad user.id length).
    #[error("TypeError: {0}")]
    Type(String),
    /// `EncodingError`: a base64url member does not decode.
    #[error("EncodingError: {0}")]
    Encoding(String),
    /// `ConstraintError`: the authenticator cannot meet a required property.
    #[error("ConstraintError: {0}")]
    Constraint(String),
    /// `SyntaxError`: a prf `evalByCredential` key is not a base64url id of an allowed credential.
    #[error("SyntaxError: {0}")]
    Syntax(String),
    /// `RangeError` (a JavaScript error, not a DOMException, as Chromium throws it): more than
    /// 64 entries in `allowCredentials` or `excludeCredentials`.
    #[error("RangeError: {0}")]
    Range(String),
    /// `AbortError`: the call was aborted.
    #[error("AbortError: {0}")]
    Abort(String),
    /// `QuotaExceededError`: too many conditional requests are pending at once.
    #[error("QuotaExceededError: {0}")]
    QuotaExceeded(String),
    /// `UnknownError`: the authenticator failed for a reason of its own, not a refusal: its
    /// credential store (the vault) could not be read or written. The message carries the cause
    /// (e.g. the OS error). Nothing was changed.
    #[error("UnknownError: {0}")]
    Unknown(String),
}

impl ClientError {
    /// The DOMException name, e.g. `NotAllowedError`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotAllowed(_) => "NotAllowedError",
            Self::InvalidState(_) => "InvalidStateError",
            Self::Security(_) => "SecurityError",
            Self::NotSupported(_) => "NotSupportedError",
            Self::Type(_) => "TypeError",
            Self::Encoding(_) => "EncodingError",
            Self::Constraint(_) => "ConstraintError",
            Self::Syntax(_) => "SyntaxError",
            Self::Range(_) => "RangeError",
            Self::Abort(_) => "AbortError",
            Self::QuotaExceeded(_) => "QuotaExceededError",
            Self::Unknown(_) => "UnknownError",
        }
    }

    /// The human reason.
    pub fn message(&self) -> &str {
        match self {
            Self::NotAllowed(m)
            | Self::InvalidState(m)
            | Self::Security(m)
            | Self::NotSupported(m)
            | Self::Type(m)
            | Self::Encoding(m)
            | Self::Constraint(m)
            | Self::Syntax(m)
            | Self::Range(m)
            | Self::Abort(m)
            | Self::QuotaExceeded(m)
            | Self::Unknown(m) => m,
        }
    }
}

impl From<crate::store::StoreError> for ClientError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Unknown(format!("the authenticator's credential store failed: {e}"))
    }
}

impl From<super::origin::OriginError> for ClientError {
    fn from(e: super::origin::OriginError) -> Self {
        match e.dom_exception_name() {
            "NotAllowedError" => Self::NotAllowed(e.to_string()),
            _ => Self::Security(e.to_string()),
        }
    }
}
