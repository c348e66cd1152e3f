//! Who may call the server, and how a request is read: the access model of `fauxkey serve`
//! (README "Security model" and SECURITY.md).
//!
//! One middleware ([`guard`]) runs before every route:
//! 1. `Host` must name the server (its listening address, `localhost:PORT`, `127.0.0.1:PORT` or
//!    `[::1]:PORT`), so a DNS-rebound page is refused (403 `SecurityError`).
//! 2. CORS headers go only to origins given with `--allow-origin`, and a preflight is answered
//!    only for them (and only for the WebAuthn routes). There is no wildcard.
//! 3. The per-run token (`Authorization: Bearer …`) is required by the control plane (except
//!    `GET /_fauxkey/health`) — 401 `SecurityError` without it. A WebAuthn route takes either the
//!    token or an allowed `Origin` header, which the handler then matches against the body's
//!    `origin` ([`Caller`]).
//! 4. A request with a body must say `Content-Type: application/json` (415 otherwise), so a
//!    cross-origin page can never send one without a preflight.
//! 5. The body is read within a size limit and a time limit; an oversized body is drained (up to
//!    a bound) before the 413, so the client reads the answer instead of a reset.
//!
//! Every refusal, and every non-JSON error a route or axum itself produces, is turned into the
//! `{name, message}` JSON shape.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;

use super::errors::ApiError;

/// The largest request body read (options JSON is a few KiB).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// How much more of an oversized body is read and thrown away before the 413, so that a client
/// that sends its whole body before reading (most do) gets the answer rather than a reset.
pub const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// How requests are let in.
#[derive(Clone)]
pub struct Access {
    /// The per-run secret, as it travels in `Authorization: Bearer …`.
    token: String,
    /// Web origins whose pages may call the WebAuthn routes (serialized: `https://a.example`).
    allowed_origins: Vec<String>,
    /// Whether `GET …/credentials` may return private keys.
    pub allow_key_export: bool,
    /// `Host` values that name this server.
    hosts: Vec<String>,
    /// How long a client may take to send a request body.
    body_timeout: Duration,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("token", &"<redacted>")
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_key_export", &self.allow_key_export)
            .field("hosts", &self.hosts)
            .finish()
    }
}

/// What the guard learned about the caller, for the WebAuthn handlers.
#[derive(Debug, Clone)]
pub enum Caller {
    /// The request carried the token: it may speak for any origin.
    Trusted,
    /// A page on this (allowed) origin: the body's `origin` must be this one.
    Page(String),
}

impl Caller {
    /// Checks the body's `origin` against the page that sent the request.
    pub fn check(&self, body_origin: &str) -> Result<(), ApiError> {
        match self {
            Caller::Trusted => Ok(()),
            Caller::Page(origin) if origin == body_origin => Ok(()),
            Caller::Page(origin) => Err(ApiError::security(format!(
                "a page on {origin} asked for a ceremony as {body_origin:?}; a page may only \
                 speak for its own origin"
            ))),
        }
    }
}

impl Access {
    /// An access policy for a server listening on `addr`.
    pub fn new(
        addr: std::net::SocketAddr,
        token: String,
        allowed_origins: Vec<String>,
        allow_key_export: bool,
        body_timeout: Duration,
    ) -> Self {
        let port = addr.port();
        let mut hosts = vec![
            addr.to_string(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        hosts.dedup();
        Self {
            token,
            allowed_origins,
            allow_key_export,
            hosts,
            body_timeout,
        }
    }

    fn host_ok(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }

    /// `Some(true)`: the right token; `Some(false)`: a token, but not this one; `None`: none.
    fn token(&self, headers: &HeaderMap) -> Option<bool> {
        let value = headers.get(header::AUTHORIZATION)?;
        let given = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        use subtle::ConstantTimeEq as _;
        Some(
            given.len() == self.token.len()
                && bool::from(given.as_bytes().ct_eq(self.token.as_bytes())),
        )
    }
}

/// Normalizes an origin list entry as browsers serialize origins (`https://a.example`, no path,
/// default port dropped); an entry that is not an origin is an error.
pub fn parse_origin(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not an origin: {e}"))?;
    let origin = url.origin();
    if !origin.is_tuple() {
        return Err(format!("{text:?} is not a web origin (http or https)"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?} is not an origin: give scheme, host and port only (e.g. http://localhost:3000)"
        ));
    }
    Ok(origin.ascii_serialization())
}

fn error_response(status: StatusCode, name: &'static str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(ApiError {
            name,
            message: message.into(),
        }),
    )
        .into_response()
}

fn unauthorized(message: &str) -> Response {
    let mut r = error_response(StatusCode::UNAUTHORIZED, "SecurityError", message);
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

const NO_TOKEN: &str =
    "this endpoint needs the server's token: send `Authorization: Bearer TOKEN` \
     (the token is printed on the second line of `fauxkey serve`'s stdout and written by \
     --token-file)";

/// The access middleware (see the module docs). `access` is cloned per request.
pub async fn guard(access: std::sync::Arc<Access>, request: Request, next: Next) -> Response {
    // Split up front, so that a refusal can still read the body it refuses (see `refuse`).
    let (mut parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let headers = &parts.headers;
    let timeout = access.body_timeout;
    // 1. DNS rebinding: the page's `Host` is the attacker's name for our address.
    if !access.host_ok(headers) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let r = error_response(
            StatusCode::FORBIDDEN,
            "SecurityError",
            format!(
                "Host {host:?} does not name this server; use {} (or localhost with its port)",
                access.hosts[0]
            ),
        );
        return refuse(body, declared, r, timeout).await;
    }
    let path = parts.uri.path().to_owned();
    let webauthn = path.starts_with("/webauthn/");
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let allowed_origin = origin.as_deref().filter(|o| access.origin_allowed(o));
    let cors = |mut response: Response| {
        if let (Some(o), true) = (allowed_origin, webauthn) {
            if let Ok(v) = HeaderValue::from_str(o) {
                let h = response.headers_mut();
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
                h.insert(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
        response
    };

    // 2. Preflights: answered for allowed origins on the WebAuthn routes only.
    if parts.method == Method::OPTIONS {
        if !(webauthn && allowed_origin.is_some()) {
            return error_response(
                StatusCode::FORBIDDEN,
                "SecurityError",
                format!(
                    "no cross-origin access to {path} for {}; start the server with \
                     --allow-origin ORIGIN for the pages that use the shim",
                    origin.as_deref().unwrap_or("a page without an Origin")
                ),
            );
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        // Chromium's local network access preflight, for an allowed public page.
        if headers.contains_key("access-control-request-private-network") {
            h.insert(
                "access-control-allow-private-network",
                HeaderValue::from_static("true"),
            );
        }
        return cors(r);
    }

    // 3. The token.
    let token = access.token(headers);
    let public = path == "/_fauxkey/health" || path == "/shim.js";
    let caller = match token {
        Some(true) => Caller::Trusted,
        Some(false) if !public => {
            return cors(refuse(body, declared, unauthorized("wrong token"), timeout).await)
        }
        _ if public => Caller::Trusted,
        _ if webauthn => match (&origin, allowed_origin) {
            (_, Some(o)) => Caller::Page(o.to_owned()),
            (Some(o), None) => {
                let r = error_response(
                    StatusCode::FORBIDDEN,
                    "SecurityError",
                    format!(
                        "origin {o} may not call this server; start it with --allow-origin {o} \
                         to let its pages use the shim"
                    ),
                );
                return refuse(body, declared, r, timeout).await;
            }
            (None, None) => return refuse(body, declared, unauthorized(NO_TOKEN), timeout).await,
        },
        _ if path.starts_with("/_fauxkey/") => {
            return refuse(body, declared, unauthorized(NO_TOKEN), timeout).await
        }
        _ => Caller::Trusted,
    };

    // 4. JSON only: a text/plain or form POST is what a page can send without a preflight.
    let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
    let has_body = chunked || declared.is_some_and(|n| n > 0);
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if (has_body || (webauthn && parts.method == Method::POST)) && !json {
        let r = error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "TypeError",
            "send the request body as JSON with `Content-Type: application/json`",
        );
        return cors(refuse(body, declared, r, timeout).await);
    }

    // 5. The body, bounded in size and time.
    let bytes = match read_body(body, declared, access.body_timeout).await {
        Ok(b) => b,
        Err(r) => return cors(close(*r)),
    };
    parts.extensions.insert(caller);
    parts.extensions.insert(KeyExport(access.allow_key_export));
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    cors(json_errors(response).await)
}

/// Answers `response` to a request refused before its body was read, after reading that body
/// (bounded in size and time like any other) and dropping it; a body it cannot read to the end
/// closes the connection. A server that closes a connection
/// with unread bytes in its receive buffer makes the kernel send a reset, and a reset that
/// reaches the client while it is still sending discards the answer it was about to read: the
/// client sees "unexpected EOF" or "connection reset" instead of the refusal.
async fn refuse(
    body: Body,
    declared: Option<u64>,
    response: Response,
    timeout: Duration,
) -> Response {
    match read_body(body, declared, timeout).await {
        Ok(_) => response,
        // Too large or too slow: the connection cannot be reused.
        Err(_) => close(response),
    }
}

/// Whether the server may hand out private keys (`--allow-key-export`).
#[derive(Debug, Clone, Copy)]
pub struct KeyExport(pub bool);

fn close(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Reads the whole body: at most [`MAX_BODY_BYTES`], within `timeout`. Over the limit, up to
/// [`DRAIN_BYTES`] more are read and dropped before the 413 (a lingering close done by hand).
async fn read_body(
    mut body: Body,
    declared: Option<u64>,
    timeout: Duration,
) -> Result<Bytes, Box<Response>> {
    let too_large = || {
        Box::new(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TypeError",
            format!("the request body is over {MAX_BODY_BYTES} bytes"),
        ))
    };
    if declared.is_some_and(|n| n > (MAX_BODY_BYTES + DRAIN_BYTES) as u64) {
        return Err(too_large());
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = 0usize;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(Box::new(error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "TypeError",
                    format!("the request body did not arrive within {timeout:?}"),
                )))
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(Box::new(error_response(
                    StatusCode::BAD_REQUEST,
                    "TypeError",
                    format!("the request body could not be read: {e}"),
                )))
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            seen = seen.saturating_add(data.len());
            if seen <= MAX_BODY_BYTES {
                buf.extend_from_slice(&data);
            } else {
                buf = Vec::new();
                if seen > MAX_BODY_BYTES + DRAIN_BYTES {
                    return Err(too_large());
                }
            }
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(Bytes::from(buf))
}

/// Gives any error answer that is not already JSON (axum's own rejections: a bad query string,
/// a bad path segment) the `{name, message}` shape, its text kept as the message.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => String::new(),
    };
    let name = match status {
        StatusCode::NOT_FOUND => "NotFoundError",
        StatusCode::METHOD_NOT_ALLOWED => "NotSupportedError",
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => "SecurityError",
        s if s.is_client_error() => "TypeError",
        _ => "UnknownError",
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned()
    } else {
        text
    };
    let mut r = error_response(status, name, message);
    for (k, v) in parts.headers.iter() {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH {
            r.headers_mut().insert(k.clone(), v.clone());
        }
    }
    r
}

/// A fresh per-run token: 32 random bytes, base64url without padding (43 characters).
pub fn new_token() -> String {
    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
    crate::env::os_rng().fill_bytes(bytes.as_mut());
    crate::b64url::encode(bytes.as_ref())
}
