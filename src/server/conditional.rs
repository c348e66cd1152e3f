//! Conditional mediation over HTTP (the library side is [`crate::client::conditional`]).
//!
//! The page's side (`/webauthn/…`, a page of an allowed origin or the token):
//! - `POST /webauthn/get` with `"mediation": "conditional"` answers 202 `{"pending": ID}`;
//! - `POST /webauthn/conditional/{ID}[?waitMs=N]` waits (at most [`MAX_WAIT_MS`]) for the
//!   request to end and answers with its outcome (the `AuthenticationResponseJSON`, or the
//!   error), or 204 when it is still pending;
//! - `POST /webauthn/conditional/{ID}/cancel`: the page's `AbortSignal` fired (204).
//!
//! The test's side, the user at the autofill UI (`/_fauxkey/…`, the token):
//! `GET /_fauxkey/conditional` lists the pending requests and their offers;
//! `POST /_fauxkey/conditional/{ID}/pick` (`{"index": N}` or `{"credentialId": "…"}`),
//! `…/dismiss`, `…/abort`, `…/timeout`; and
//! `POST /_fauxkey/authenticators/{id}/password-sign-in` (`{"rpId", "userName"}`) before a
//! conditional create.
//!
//! At most [`MAX_PENDING`] requests are held (ended ones not yet collected by their page count
//! until collected, or for [`KEEP_ENDED`]); one more is 429 `QuotaExceededError`. A waiting
//! page holds no thread: it waits on a channel with a deadline, and every lock it takes is short.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::access::Caller;
use super::errors::ApiError;
use super::state::{lock, AppState, DEFAULT_ID};
use super::webauthn::body;
use crate::client::conditional::{
    ConditionalError, ConditionalId, ConditionalOffer, MAX_LIFETIME_MS,
};
use crate::client::json::RequestOptionsJson;
use crate::client::{CallerOrigin, ClientError};

/// The most conditional requests the server holds at once.
pub const MAX_PENDING: usize = 64;
/// The longest one `POST /webauthn/conditional/{ID}` waits before its 204.
pub const MAX_WAIT_MS: u64 = 20_000;
/// How long an ended request's outcome waits for its page to collect it.
pub const KEEP_ENDED: Duration = Duration::from_secs(60);

type Outcome = Result<Value, ApiError>;

struct Entry {
    authenticator_id: String,
    client_id: ConditionalId,
    origin: String,
    rp_id: String,
    /// When the request's `timeout` runs out (server time), if it has one.
    deadline: Option<Instant>,
    /// The outcome, once ended, and when it ended.
    ended: Option<(Outcome, Instant)>,
    changed: tokio::sync::watch::Sender<()>,
}

/// The conditional requests the server holds, by id (`c1`, `c2`, …).
#[derive(Default)]
pub struct Registry {
    next: u64,
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl Registry {
    /// Drops ended outcomes nobody collected within [`KEEP_ENDED`].
    fn sweep(&mut self) {
        let now = Instant::now();
        self.entries.retain(
            |_, e| !matches!(&e.ended, Some((_, at)) if now.duration_since(*at) > KEEP_ENDED),
        );
    }

    /// Ends request `id` with `outcome` and wakes its page.
    fn end(&mut self, id: &str, outcome: Outcome) {
        if let Some(e) = self.entries.get_mut(id) {
            if e.ended.is_none() {
                e.ended = Some((outcome, Instant::now()));
                e.changed.send_replace(());
            }
        }
    }

    /// Forgets every request (reset); waiting pages are woken and find none.
    pub fn clear(&mut self) {
        for (_, e) in std::mem::take(&mut self.entries) {
            e.changed.send_replace(());
        }
    }
}

fn registry(state: &AppState) -> std::sync::MutexGuard<'_, Registry> {
    lock(&state.conditional)
}

fn unknown(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "no conditional request {id:?}; it was never made, has ended and been collected, or \
         the server was reset (GET /_fauxkey/conditional lists the pending ones)"
    ))
}

fn outcome_of(result: Result<impl Serialize, ClientError>) -> Outcome {
    match result {
        Ok(r) => serde_json::to_value(r)
            .map_err(|e| ApiError::unknown(format!("cannot encode the response: {e}"))),
        Err(e) => Err(e.into()),
    }
}

fn control_error(e: ConditionalError) -> ApiError {
    match e {
        ConditionalError::NoSuchOffer { .. } | ConditionalError::Unknown(_) => {
            ApiError::not_found(e.to_string())
        }
        _ => ApiError::invalid_state(e.to_string()),
    }
}

async fn off<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::unknown(format!("the request failed: {e}")))?
}

/// `POST /webauthn/get` with `"mediation": "conditional"`: 202 `{"pending": ID}`.
pub(super) async fn start(
    state: Arc<AppState>,
    authenticator_id: Option<String>,
    origin: CallerOrigin,
    options: RequestOptionsJson,
) -> Response {
    let run = off(move || {
        let shared = state.authenticator(authenticator_id.as_deref())?;
        let mut reg = registry(&state);
        reg.sweep();
        if reg.entries.len() >= MAX_PENDING {
            return Err(ClientError::QuotaExceeded(format!(
                "the server already holds {MAX_PENDING} conditional requests; let their pages \
                 collect them, or pick, abort or time them out (GET /_fauxkey/conditional)"
            ))
            .into());
        }
        let client_id = lock(&shared)
            .client
            .get_conditional_with(&origin, &options)?;
        let rp_id = lock(&shared)
            .client
            .conditional_requests()
            .into_iter()
            .find(|r| r.id == client_id)
            .map(|r| r.rp_id)
            .unwrap_or_default();
        reg.next += 1;
        let id = format!("c{}", reg.next);
        let deadline = options
            .timeout
            .map(|t| Instant::now() + Duration::from_millis(t.min(MAX_LIFETIME_MS)));
        reg.entries.insert(
            id.clone(),
            Entry {
                authenticator_id: authenticator_id.unwrap_or_else(|| DEFAULT_ID.to_owned()),
                client_id,
                origin: origin.serialized().to_owned(),
                rp_id,
                deadline,
                ended: None,
                changed: tokio::sync::watch::channel(()).0,
            },
        );
        Ok(id)
    });
    match run.await {
        Ok(id) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({ "pending": id })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `?waitMs=`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wait {
    wait_ms: Option<u64>,
}

/// `POST /webauthn/conditional/{ID}[?waitMs=N]`: the outcome once the request has ended, or
/// 204 after `waitMs` (default and at most [`MAX_WAIT_MS`]) while it is still pending.
pub async fn poll(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    Path(id): Path<String>,
    Query(wait): Query<Wait>,
) -> Response {
    let until = Instant::now()
        + Duration::from_millis(wait.wait_ms.unwrap_or(MAX_WAIT_MS).min(MAX_WAIT_MS));
    loop {
        // What the registry knows; a page may only see its own origin's requests.
        let (mut changed, authenticator_id, client_id, deadline) = {
            let mut reg = registry(&state);
            let Some(entry) = reg.entries.get(&id) else {
                return unknown(&id).into_response();
            };
            if let Err(e) = who.check(&entry.origin) {
                return e.into_response();
            }
            if entry.ended.is_some() {
                let outcome = reg
                    .entries
                    .remove(&id)
                    .and_then(|e| e.ended)
                    .map(|(o, _)| o);
                return match outcome {
                    Some(Ok(v)) => Json(v).into_response(),
                    Some(Err(e)) => e.into_response(),
                    None => unknown(&id).into_response(),
                };
            }
            (
                entry.changed.subscribe(),
                entry.authenticator_id.clone(),
                entry.client_id,
                entry.deadline,
            )
        };
        // Has its timeout run out on the client's clock?
        let polled = {
            let state = state.clone();
            off(move || {
                let shared = state.authenticator(Some(&authenticator_id))?;
                let r = lock(&shared).client.conditional_poll(client_id);
                Ok(r)
            })
            .await
        };
        match polled {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(e))) => {
                registry(&state).end(&id, Err(e.into()));
                continue;
            }
            // The client no longer knows it (its authenticator was removed).
            Ok(Err(_)) | Err(_) => {
                registry(&state).end(
                    &id,
                    Err(ApiError::not_allowed(
                        "the conditional request ended: its authenticator is gone",
                    )),
                );
                continue;
            }
        }
        let now = Instant::now();
        if now >= until {
            return StatusCode::NO_CONTENT.into_response();
        }
        // Wake at the deadline too, to report the timeout.
        let wake = match deadline {
            Some(d) if d > now => until.min(d + Duration::from_millis(5)),
            Some(_) => until.min(now + Duration::from_millis(50)),
            None => until,
        };
        let _ = tokio::time::timeout_at(wake.into(), changed.changed()).await;
    }
}

/// `POST /webauthn/conditional/{ID}/cancel`: the page's `AbortSignal` fired.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Extension(who): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let run = off(move || {
        let (authenticator_id, client_id) = {
            let mut reg = registry(&state);
            let entry = reg.entries.get(&id).ok_or_else(|| unknown(&id))?;
            who.check(&entry.origin)?;
            let taken = (entry.authenticator_id.clone(), entry.client_id);
            // The page aborted and collects nothing more.
            if let Some(e) = reg.entries.remove(&id) {
                e.changed.send_replace(());
            }
            taken
        };
        if let Ok(shared) = state.authenticator(Some(&authenticator_id)) {
            let _ = lock(&shared).client.conditional_abort(client_id);
        }
        Ok(StatusCode::NO_CONTENT)
    });
    match run.await {
        Ok(s) => s.into_response(),
        Err(e) => e.into_response(),
    }
}

/// One pending request, as `GET /_fauxkey/conditional` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    id: String,
    authenticator_id: String,
    origin: String,
    rp_id: String,
    dismissed: u32,
    offers: Vec<ConditionalOffer>,
}

/// `GET /_fauxkey/conditional`: the pending requests, oldest first, each with its offers.
pub async fn list(State(state): State<Arc<AppState>>) -> Response {
    let run = off(move || {
        let pending: Vec<(String, String, ConditionalId, String, String)> = {
            let mut reg = registry(&state);
            reg.sweep();
            let mut v: Vec<_> = reg
                .entries
                .iter()
                .filter(|(_, e)| e.ended.is_none())
                .map(|(id, e)| {
                    (
                        id.clone(),
                        e.authenticator_id.clone(),
                        e.client_id,
                        e.origin.clone(),
                        e.rp_id.clone(),
                    )
                })
                .collect();
            v.sort_by_key(|(id, ..)| id.trim_start_matches('c').parse::<u64>().unwrap_or(0));
            v
        };
        let mut out = Vec::new();
        for (id, authenticator_id, client_id, origin, rp_id) in pending {
            let Ok(shared) = state.authenticator(Some(&authenticator_id)) else {
                continue;
            };
            let requests = lock(&shared).client.conditional_requests();
            match requests.into_iter().find(|r| r.id == client_id) {
                Some(r) => out.push(Listed {
                    id,
                    authenticator_id,
                    origin,
                    rp_id,
                    dismissed: r.dismissed,
                    offers: r.offers,
                }),
                // Timed out on the client: end it for its page.
                None => {
                    let outcome = lock(&shared)
                        .client
                        .conditional_poll(client_id)
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| {
                            ClientError::NotAllowed("the conditional request ended".into())
                        });
                    registry(&state).end(&id, Err(outcome.into()));
                }
            }
        }
        Ok(Json(out))
    });
    match run.await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

/// The body of `POST /_fauxkey/conditional/{ID}/pick`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Pick {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    credential_id: Option<String>,
}

enum PickError {
    Api(ApiError),
    Conditional(ConditionalError),
}

const PICK_SHAPE: &str = "{\"index\": N} or {\"credentialId\": \"…\"}";

/// What the test does at the autofill UI.
#[derive(Debug, Clone, Copy)]
enum Action {
    Dismiss,
    Abort,
    TimeOut,
}

fn entry_of(state: &AppState, id: &str) -> Result<(String, ConditionalId), ApiError> {
    let reg = registry(state);
    match reg.entries.get(id) {
        Some(e) if e.ended.is_none() => Ok((e.authenticator_id.clone(), e.client_id)),
        Some(_) => Err(ApiError::invalid_state(format!(
            "conditional request {id:?} has already ended; its page has not collected the \
             outcome yet"
        ))),
        None => Err(unknown(id)),
    }
}

/// Settles the registry after a client-side `ConditionalError` (a timed-out request ends).
fn after_error(state: &AppState, id: &str, e: ConditionalError) -> ApiError {
    if let ConditionalError::TimedOut(_) = e {
        registry(state).end(
            id,
            Err(ApiError::not_allowed(
                "the conditional request timed out before the user picked a passkey",
            )),
        );
    }
    control_error(e)
}

/// `POST /_fauxkey/conditional/{ID}/pick`: the user clicks an offered passkey; answers with
/// what the page gets (the response, or the ceremony's error).
pub async fn pick(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let run = off(move || {
        let choice: Pick = body(&bytes, PICK_SHAPE)?;
        let (authenticator_id, client_id) = entry_of(&state, &id)?;
        let shared = state.authenticator(Some(&authenticator_id))?;
        // The authenticator's lock is let go before the registry's is taken (`start` takes
        // them the other way round).
        let picked = {
            let client = &mut lock(&shared).client;
            let index = match (choice.index, &choice.credential_id) {
                (Some(i), None) => Ok(i),
                (None, Some(cred)) => match client.conditional_offers(client_id) {
                    Ok(offers) => offers
                        .iter()
                        .position(|o| &o.credential_id == cred)
                        .ok_or_else(|| {
                            PickError::Api(ApiError::not_found(format!(
                                "conditional request {id:?} does not offer credential {cred:?}"
                            )))
                        }),
                    Err(e) => Err(PickError::Conditional(e)),
                },
                _ => Err(PickError::Api(ApiError::type_error(format!(
                    "send {PICK_SHAPE}"
                )))),
            };
            index.and_then(|i| {
                client
                    .conditional_pick(client_id, i)
                    .map_err(PickError::Conditional)
            })
        };
        let outcome = match picked {
            Ok(outcome) => outcome_of(outcome),
            Err(PickError::Api(e)) => return Err(e),
            Err(PickError::Conditional(e)) => return Err(after_error(&state, &id, e)),
        };
        registry(&state).end(&id, outcome.clone());
        outcome.map(Json)
    });
    match run.await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn act(state: Arc<AppState>, id: String, action: Action) -> Response {
    let run = off(move || {
        let (authenticator_id, client_id) = entry_of(&state, &id)?;
        let shared = state.authenticator(Some(&authenticator_id))?;
        let done = {
            let client = &mut lock(&shared).client;
            match action {
                Action::Dismiss => client.conditional_dismiss(client_id).map(|()| None),
                Action::Abort => client.conditional_abort(client_id).map(Some),
                Action::TimeOut => client.conditional_time_out(client_id).map(Some),
            }
        };
        match done {
            Ok(Some(error)) => registry(&state).end(&id, Err(error.into())),
            Ok(None) => {}
            Err(e) => return Err(after_error(&state, &id, e)),
        }
        Ok(StatusCode::NO_CONTENT)
    });
    match run.await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /_fauxkey/conditional/{ID}/dismiss`: the user closes the autofill UI; the request
/// stays pending.
pub async fn dismiss(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    act(state, id, Action::Dismiss).await
}

/// `POST /_fauxkey/conditional/{ID}/abort`: as if the page's `AbortSignal` fired (`AbortError`).
pub async fn abort(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    act(state, id, Action::Abort).await
}

/// `POST /_fauxkey/conditional/{ID}/timeout`: the request's time runs out now
/// (`NotAllowedError`).
pub async fn time_out(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    act(state, id, Action::TimeOut).await
}

/// The body of `POST /_fauxkey/authenticators/{id}/password-sign-in`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PasswordSignIn {
    rp_id: String,
    user_name: String,
}

/// `POST /_fauxkey/authenticators/{id}/password-sign-in`: the user signed in with a password
/// (`{"rpId", "userName"}`), so one conditional create for that account may upgrade it (204).
pub async fn password_sign_in(
    State(state): State<Arc<AppState>>,
    Path(authenticator_id): Path<String>,
    bytes: Bytes,
) -> Response {
    let run = off(move || {
        let signed: PasswordSignIn = body(
            &bytes,
            "{\"rpId\": \"example.com\", \"userName\": \"alice\"}",
        )?;
        if signed.rp_id.is_empty() || signed.user_name.is_empty() {
            return Err(ApiError::type_error("rpId and userName must not be empty"));
        }
        let shared = state.authenticator(Some(&authenticator_id))?;
        lock(&shared)
            .client
            .note_password_sign_in(&signed.rp_id, &signed.user_name);
        Ok(StatusCode::NO_CONTENT)
    });
    match run.await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}
