//! The server's error answer: `{"name": "<DOMException name>", "message": "…"}` with an HTTP
//! status that fits the name (see the README's `fauxkey serve` section for the table).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::client::ClientError;

/// A request the server refuses, named as a browser (or WebDriver) would name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ApiError {
    /// A DOMException name (`NotAllowedError`, …), `TypeError`, `SyntaxError`, `NotFoundError`
    /// or `UnknownError`.
    pub name: &'static str,
    /// What was wrong and what to do about it.
    pub message: String,
}

impl ApiError {
    fn new(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            message: message.into(),
        }
    }

    /// `TypeError`: a request body member is missing or has the wrong type.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// `SyntaxError`: the request body is not JSON.
    pub fn syntax(message: impl Into<String>) -> Self {
        Self::new("SyntaxError", message)
    }

    /// `NotFoundError`: no authenticator, credential or route with that name.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("NotFoundError", message)
    }

    /// `InvalidStateError`: the request conflicts with the server's state.
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new("InvalidStateError", message)
    }

    /// `NotAllowedError`: a ceremony that could not complete.
    pub fn not_allowed(message: impl Into<String>) -> Self {
        Self::new("NotAllowedError", message)
    }

    /// `SecurityError`: the caller may not do this (a refused origin or `Host`; 403).
    pub fn security(message: impl Into<String>) -> Self {
        Self::new("SecurityError", message)
    }

    /// `UnknownError`: the server itself failed (e.g. the vault could not be written).
    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new("UnknownError", message)
    }

    /// The HTTP status for the name.
    pub fn status(&self) -> StatusCode {
        match self.name {
            "TypeError" | "SyntaxError" | "EncodingError" | "RangeError" => StatusCode::BAD_REQUEST,
            "SecurityError" | "NotAllowedError" => StatusCode::FORBIDDEN,
            "NotFoundError" => StatusCode::NOT_FOUND,
            "InvalidStateError" => StatusCode::CONFLICT,
            "NotSupportedError" | "ConstraintError" => StatusCode::UNPROCESSABLE_ENTITY,
            "QuotaExceededError" => StatusCode::TOO_MANY_REQUESTS,
            "AbortError" => StatusCode::GONE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        Self::new(e.name(), e.message())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), axum::Json(self)).into_response()
    }
}
