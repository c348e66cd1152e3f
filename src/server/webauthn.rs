//! `/webauthn/…`: the WebAuthn API as JSON. Each request names the calling page's origin and
//! carries the RP's options exactly as the page would pass them to `navigator.credentials`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::access::Caller;
use super::errors::ApiError;
use super::state::{lock, AppState};
use crate::client::{self, CallerOrigin, ClientError};

/// The longest a "not responding" user makes a ceremony wait, whatever the options' timeout.
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// The wait when the options give no timeout (WebAuthn's recommended default).
pub const DEFAULT_TIMEOUT_MS: u64 = 300_000;

/// A WebAuthn request body: `{origin, options, topOrigin?, authenticatorId?, mediation?}`.
/// `mediation: "conditional"` makes a conditional request ([`super::conditional`]); other
/// values, and other members, are ignored, as a browser ignores dictionary members it does not
/// know.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Call {
    origin: String,
    options: Value,
    #[serde(default)]
    top_origin: Option<String>,
    #[serde(default)]
    authenticator_id: Option<String>,
    #[serde(default)]
    mediation: Option<String>,
}

impl Call {
    fn conditional(&self) -> bool {
        self.mediation.as_deref() == Some("conditional")
    }
}

/// Parses a JSON request body: not JSON is a `SyntaxError`, the wrong shape a `TypeError`
/// naming the member.
pub fn body<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::syntax(format!("the request body is not JSON ({e}); send {what}"))
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::type_error(format!("request body: {inner}; send {what}"))
        } else {
            ApiError::type_error(format!(
                "request body member `{path}`: {inner}; send {what}"
            ))
        }
    })
}

const CALL_SHAPE: &str = "{\"origin\": \"https://…\", \"options\": {…}}";

impl Call {
    fn caller(&self, who: &Caller) -> Result<CallerOrigin, ApiError> {
        who.check(&self.origin)?;
        let origin = CallerOrigin::parse(&self.origin).map_err(ClientError::from)?;
        Ok(match &self.top_origin {
            Some(top) => origin.with_top_origin(top).map_err(ClientError::from)?,
            None => origin,
        })
    }

    fn options_text(&self) -> Result<String, ApiError> {
        if !self.options.is_object() {
            return Err(ApiError::type_error(
                "request body member `options` must be a JSON object: the RP's options JSON",
            ));
        }
        Ok(self.options.to_string())
    }
}

/// Runs a ceremony on a blocking thread. A user who does not respond makes a refused ceremony
/// wait for the options' timeout before its `NotAllowedError`.
async fn ceremony<T: Send + 'static>(
    state: &AppState,
    call: &Call,
    timeout: Option<u64>,
    run: impl FnOnce(&mut crate::Client<super::state::ServerStore>) -> Result<T, ClientError>
        + Send
        + 'static,
) -> Result<T, ApiError> {
    let shared = state.authenticator(call.authenticator_id.as_deref())?;
    let work = move || {
        let mut guard = lock(&shared);
        let slot = &mut *guard;
        if let Some(v) = slot.client.authenticator_mut().store_mut().vault_mut() {
            v.defer_journal_sync(true);
            // One lock and one catch-up for the whole ceremony, not one per step. If the lock
            // cannot be had now, each step tries for it as usual and reports the failure.
            let _ = v.hold_lock();
        }
        let result = run(&mut slot.client);
        let pending = slot
            .client
            .authenticator_mut()
            .store_mut()
            .vault_mut()
            .and_then(|v| {
                v.release_lock();
                v.defer_journal_sync(false);
                v.take_pending_sync()
            });
        let responding = slot.options.is_user_responding;
        drop(guard);
        // Group commit: a login's journal record is written, and its flush happens here, after
        // the lock, shared with the logins other connections journal meanwhile. The login is
        // answered only once its record is on disk.
        let result = match (result, pending.map(|p| p.wait())) {
            (Ok(_), Some(Err(e))) => Err(ClientError::Unknown(format!(
                "the vault's journal could not be flushed: {e}"
            ))),
            (result, _) => result,
        };
        (result, responding)
    };
    // On the blocking pool: the lock may be held by another ceremony, and a vault saves (and
    // fsyncs, and may wait for another process's lock) on every change.
    let (result, responding) = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::unknown(format!("the ceremony failed: {e}")))?;
    match result {
        Err(ClientError::NotAllowed(_)) if !responding => {
            let ms = timeout.unwrap_or(DEFAULT_TIMEOUT_MS).min(MAX_TIMEOUT_MS);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Err(ApiError::not_allowed(format!(
                "the user did not respond within the timeout ({ms} ms)"
            )))
        }
        other => other.map_err(ApiError::from),
    }
}

/// A ceremony's response, as `to_json` writes it (serde_json's text, without its byte-by-byte
/// escape loop), answered as `Json` would answer it.
fn json_text(text: String) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}

/// `POST /webauthn/create`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let run = async {
        let call: Call = body(&bytes, CALL_SHAPE)?;
        let origin = call.caller(&who)?;
        let options = client::parse_creation_options(&call.options_text()?)?;
        if call.conditional() {
            // No UI and no user to wait for: the upgrade is made or refused at once.
            let shared = state.authenticator(call.authenticator_id.as_deref())?;
            let response = tokio::task::spawn_blocking(move || {
                lock(&shared)
                    .client
                    .create_conditional_with(&origin, &options)
            })
            .await
            .map_err(|e| ApiError::unknown(format!("the ceremony failed: {e}")))??;
            return Ok(json_text(response.to_json()));
        }
        let timeout = options.timeout;
        let response = ceremony(&state, &call, timeout, move |c| {
            c.create_with(&origin, &options)
        })
        .await?;
        Ok::<_, ApiError>(json_text(response.to_json()))
    };
    run.await.into_response()
}

/// `POST /webauthn/get`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    let run = async {
        let call: Call = body(&bytes, CALL_SHAPE)?;
        let origin = call.caller(&who)?;
        let options = client::parse_request_options(&call.options_text()?)?;
        if call.conditional() {
            return Ok(Err((call.authenticator_id, origin, options)));
        }
        let timeout = options.timeout;
        let response = ceremony(&state, &call, timeout, move |c| {
            c.get_with(&origin, &options)
        })
        .await?;
        Ok::<_, ApiError>(Ok(json_text(response.to_json())))
    };
    match run.await {
        Ok(Ok(response)) => response.into_response(),
        Ok(Err((authenticator_id, origin, options))) => {
            super::conditional::start(state.clone(), authenticator_id, origin, options).await
        }
        Err(e) => e.into_response(),
    }
}

/// Which signal.
#[derive(Debug, Clone, Copy)]
pub enum Signal {
    /// `signalUnknownCredential`.
    UnknownCredential,
    /// `signalAllAcceptedCredentials`.
    AllAccepted,
    /// `signalCurrentUserDetails`.
    UserDetails,
}

async fn signal(state: Arc<AppState>, who: Caller, bytes: Bytes, which: Signal) -> Response {
    let run = async {
        let call: Call = body(&bytes, CALL_SHAPE)?;
        who.check(&call.origin)?;
        let text = call.options_text()?;
        let shared = state.authenticator(call.authenticator_id.as_deref())?;
        let origin = call.origin;
        tokio::task::spawn_blocking(move || {
            let client = &mut lock(&shared).client;
            match which {
                Signal::UnknownCredential => client.signal_unknown_credential_json(&origin, &text),
                Signal::AllAccepted => client.signal_all_accepted_credentials_json(&origin, &text),
                Signal::UserDetails => client.signal_current_user_details_json(&origin, &text),
            }
        })
        .await
        .map_err(|e| ApiError::unknown(format!("the signal failed: {e}")))??;
        Ok::<_, ApiError>(StatusCode::NO_CONTENT)
    };
    run.await.into_response()
}

/// `POST /webauthn/signal/unknown-credential`.
pub async fn signal_unknown_credential(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    signal(state, who, bytes, Signal::UnknownCredential).await
}

/// `POST /webauthn/signal/all-accepted`.
pub async fn signal_all_accepted(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    signal(state, who, bytes, Signal::AllAccepted).await
}

/// `POST /webauthn/signal/user-details`.
pub async fn signal_user_details(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    bytes: Bytes,
) -> Response {
    signal(state, who, bytes, Signal::UserDetails).await
}

/// `?authenticatorId=…`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Which {
    /// The authenticator; the default one when absent.
    pub authenticator_id: Option<String>,
}

/// `GET /webauthn/capabilities`.
pub async fn capabilities(
    State(state): State<Arc<AppState>>,
    Query(which): Query<Which>,
) -> Response {
    let run = async {
        let shared = state.authenticator(which.authenticator_id.as_deref())?;
        tokio::task::spawn_blocking(move || lock(&shared).client.capabilities())
            .await
            .map_err(|e| ApiError::unknown(format!("capabilities failed: {e}")))
    };
    match run.await {
        Ok(caps) => Json(caps).into_response(),
        Err(e) => e.into_response(),
    }
}
