//! `/_fauxkey/…`: the control plane an RP's test suite drives: health, reset, the event log,
//! and authenticators and their credentials, modelled on the W3C WebDriver virtual
//! authenticator commands (credentials travel with their private key as base64url PKCS#8).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::access::KeyExport;
use super::errors::ApiError;
use super::state::{lock, AppState, AuthenticatorOptions, Shared, DEFAULT_ID};
use super::webauthn::{body, Which};
use crate::b64url;
use crate::crypto::keys::PrivateKey;
use crate::faults::Fault;
use crate::store::{CredProtect, Credential, CredentialStore, EventJson};

fn respond<T: IntoResponse>(result: Result<T, ApiError>) -> Response {
    match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs `f` on the blocking pool: everything that locks an authenticator (another request may
/// hold it for a ceremony; a vault may wait for the disk or another process's lock).
async fn off<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::unknown(format!("the request failed: {e}")))?
}

/// `GET /_fauxkey/health`.
pub async fn health() -> Response {
    Json(serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})).into_response()
}

/// `GET /_fauxkey/attestation-root`: the test CA's root certificate, for an RP test suite to
/// trust (`der` in standard base64, as FIDO MDS3 lists roots, and `pem`).
pub async fn attestation_root(State(state): State<Arc<AppState>>) -> Response {
    use base64::Engine as _;
    let der = state.ca.root_der();
    respond(
        state
            .ca
            .root_pem()
            .map_err(|e| ApiError::unknown(format!("cannot encode the root certificate: {e}")))
            .map(|pem| {
                Json(serde_json::json!({
                    "der": base64::engine::general_purpose::STANDARD.encode(der),
                    "pem": pem,
                }))
            }),
    )
}

/// `GET /_fauxkey/related-origins`: whether related origin requests are on, and the cache:
/// RP ID → the origins its `/.well-known/webauthn` lists, or `null` when it had no usable one.
pub async fn related_origins(State(state): State<Arc<AppState>>) -> Response {
    respond(
        off(move || {
            let cache = state
                .related_origins
                .as_ref()
                .map(|r| r.snapshot())
                .unwrap_or_default();
            Ok(Json(serde_json::json!({
                "enabled": state.related_origins.is_some(),
                "cache": cache,
            })))
        })
        .await,
    )
}

/// `POST /_fauxkey/reset`.
pub async fn reset(State(state): State<Arc<AppState>>) -> Response {
    respond(
        tokio::task::spawn_blocking(move || state.reset())
            .await
            .map_err(|e| ApiError::unknown(format!("reset failed: {e}")))
            .and_then(|r| r)
            .map(|()| StatusCode::NO_CONTENT),
    )
}

/// One event of the log, with the authenticator it happened on.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EventEntry {
    authenticator_id: String,
    #[serde(flatten)]
    event: EventJson,
}

/// `GET /_fauxkey/events[?authenticatorId=]`: every authenticator's signal log (oldest first
/// within each), or one authenticator's.
pub async fn events(State(state): State<Arc<AppState>>, Query(which): Query<Which>) -> Response {
    let run = move || {
        let mut out = Vec::new();
        for (id, shared) in selected(&state, &which)? {
            for e in lock(&shared).client.authenticator().events() {
                out.push(EventEntry {
                    authenticator_id: id.clone(),
                    event: e.to_json(),
                });
            }
        }
        Ok(Json(out))
    };
    respond(off(run).await)
}

/// One authenticator as `GET /_fauxkey/authenticators` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthenticatorEntry {
    authenticator_id: String,
    #[serde(flatten)]
    options: AuthenticatorOptions,
    credentials: usize,
    vault: bool,
}

/// `GET /_fauxkey/authenticators`.
pub async fn list_authenticators(State(state): State<Arc<AppState>>) -> Response {
    let run = move || {
        let list: Vec<AuthenticatorEntry> = state
            .all()
            .into_iter()
            .map(|(id, shared)| {
                let slot = lock(&shared);
                AuthenticatorEntry {
                    vault: id == DEFAULT_ID && state.vault_backed,
                    authenticator_id: id,
                    options: slot.options.clone(),
                    credentials: slot.client.authenticator().store().len(),
                }
            })
            .collect();
        Ok(Json(list))
    };
    respond(off(run).await)
}

const OPTIONS_SHAPE: &str = "{\"profile\"?, \"hasResidentKey\"?, \"hasUserVerification\"?, \
     \"isUserVerified\"?, \"isUserConsenting\"?, \"isUserResponding\"?, \"counter\"?, \"seed\"?, \"account\"?}";

/// `POST /_fauxkey/authenticators` → 201 `{"authenticatorId"}`.
pub async fn add_authenticator(State(state): State<Arc<AppState>>, bytes: Bytes) -> Response {
    let run = move || {
        let options: AuthenticatorOptions = if bytes.is_empty() {
            AuthenticatorOptions::default()
        } else {
            body(&bytes, OPTIONS_SHAPE)?
        };
        let id = state.add(options)?;
        Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({"authenticatorId": id})),
        ))
    };
    respond(off(run).await)
}

/// `DELETE /_fauxkey/authenticators/{id}`.
pub async fn remove_authenticator(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    respond(state.remove(&id).map(|()| StatusCode::NO_CONTENT))
}

/// A credential in WebDriver's `Credential Parameters` shape.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialParameters {
    /// base64url.
    pub credential_id: String,
    /// Discoverable (a passkey) or server-side only.
    pub is_resident_credential: bool,
    /// The RP ID it belongs to.
    pub rp_id: String,
    /// base64url PKCS#8 (P-256 or Ed25519).
    pub private_key: String,
    /// base64url; required for a resident credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<String>,
    /// The signature counter.
    #[serde(default)]
    pub sign_count: u32,
}

const CREDENTIAL_SHAPE: &str = "{\"credentialId\", \"isResidentCredential\", \"rpId\", \
     \"privateKey\" (base64url PKCS#8), \"userHandle\"?, \"signCount\"?}";

fn decode_member(value: &str, member: &str) -> Result<Vec<u8>, ApiError> {
    b64url::decode(value).map_err(|_| {
        ApiError::type_error(format!("`{member}` is not unpadded base64url: {value:?}"))
    })
}

/// Runs `f` on the authenticator on a blocking thread (a vault saves on every change).
async fn blocking<T: Send + 'static>(
    shared: Shared,
    f: impl FnOnce(&mut super::state::Slot) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || f(&mut lock(&shared)))
        .await
        .map_err(|e| ApiError::unknown(format!("the request failed: {e}")))?
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    ApiError::unknown(format!("the credential store failed: {e}"))
}

/// `POST /_fauxkey/authenticators/{id}/credentials` (WebDriver "Add Credential") → 201.
pub async fn add_credential(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let run = async {
        let shared = state.authenticator(Some(&id))?;
        let p: CredentialParameters = body(&bytes, CREDENTIAL_SHAPE)?;
        let credential_id = decode_member(&p.credential_id, "credentialId")?;
        if !(16..=1023).contains(&credential_id.len()) {
            return Err(ApiError::type_error(format!(
                "`credentialId` must be 16 to 1023 bytes, got {}",
                credential_id.len()
            )));
        }
        let der = zeroize::Zeroizing::new(decode_member(&p.private_key, "privateKey")?);
        let key = PrivateKey::from_pkcs8_der(&der).map_err(|e| {
            ApiError::type_error(format!(
                "`privateKey` is not a PKCS#8 P-256 or Ed25519 key ({e})"
            ))
        })?;
        let user_handle = match &p.user_handle {
            Some(h) => decode_member(h, "userHandle")?,
            None if p.is_resident_credential => {
                return Err(ApiError::type_error(
                    "`userHandle` is required for a resident credential",
                ))
            }
            None => Vec::new(),
        };
        if user_handle.len() > 64 {
            return Err(ApiError::type_error(format!(
                "`userHandle` must be at most 64 bytes, got {}",
                user_handle.len()
            )));
        }
        let rp_id = p.rp_id;
        let sign_count = p.sign_count;
        let discoverable = p.is_resident_credential;
        blocking(shared, move |slot| {
            let authenticator = slot.client.authenticator_mut();
            let config = authenticator.config().clone();
            if discoverable && !config.resident_keys {
                return Err(ApiError::invalid_state(
                    "this authenticator has no resident keys (hasResidentKey: false)",
                ));
            }
            let store = authenticator.store_mut();
            let credential = Credential {
                id: credential_id,
                rp_id,
                rp_name: None,
                user_handle,
                user_name: None,
                user_display_name: None,
                key,
                discoverable,
                sign_count,
                backup_eligible: config.backup_eligible,
                backup_state: config.backup_eligible && config.backup_state,
                created_ms: crate::env::Clock::now_ms(&crate::env::SystemClock),
                last_used_ms: None,
                hidden: false,
                hidden_at_ms: None,
                cred_protect: CredProtect::UvOptional,
                cred_random: None,
                large_blob_key: None,
                cred_blob: None,
                sequence: store.max_sequence() + 1,
                u2f_app_param: None,
            };
            store.insert(credential).map_err(store_error)
        })
        .await?;
        Ok(StatusCode::CREATED)
    };
    respond(run.await)
}

/// `GET /_fauxkey/authenticators/{id}/credentials` (WebDriver "Get Credentials").
pub async fn list_credentials(
    State(state): State<Arc<AppState>>,
    Extension(KeyExport(export)): Extension<KeyExport>,
    Path(id): Path<String>,
) -> Response {
    if !export {
        return ApiError::not_allowed(
            "listing credentials returns their private keys, and this server does not export \
             keys: start it with --allow-key-export",
        )
        .into_response();
    }
    let run = move || {
        let shared = state.authenticator(Some(&id))?;
        let slot = lock(&shared);
        let mut list: Vec<&Credential> = slot.client.authenticator().store().all().collect();
        list.sort_by_key(|c| c.sequence);
        let out =
            list.into_iter()
                .map(|c| {
                    let der = c.key.to_pkcs8_der().map_err(|e| {
                        ApiError::unknown(format!("cannot export a private key: {e}"))
                    })?;
                    Ok(CredentialParameters {
                        credential_id: b64url::encode(&c.id),
                        is_resident_credential: c.discoverable,
                        rp_id: c.rp_id.clone(),
                        private_key: b64url::encode(&der),
                        user_handle: (!c.user_handle.is_empty())
                            .then(|| b64url::encode(&c.user_handle)),
                        sign_count: c.sign_count,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(Json(out))
    };
    respond(off(run).await)
}

/// `DELETE /_fauxkey/authenticators/{id}/credentials/{credentialId}`.
pub async fn remove_credential(
    State(state): State<Arc<AppState>>,
    Path((id, credential_id)): Path<(String, String)>,
) -> Response {
    let run = async {
        let shared = state.authenticator(Some(&id))?;
        let raw = decode_member(&credential_id, "credentialId")?;
        blocking(shared, move |slot| {
            match slot
                .client
                .authenticator_mut()
                .store_mut()
                .remove(&raw)
                .map_err(store_error)?
            {
                Some(_) => Ok(StatusCode::NO_CONTENT),
                None => Err(ApiError::not_found(format!(
                    "authenticator {id:?} has no credential {credential_id:?}"
                ))),
            }
        })
        .await
    };
    respond(run.await)
}

/// `DELETE /_fauxkey/authenticators/{id}/credentials` (WebDriver "Remove All Credentials").
pub async fn remove_all_credentials(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let shared = state.authenticator(Some(&id))?;
        blocking(shared, move |slot| {
            let store = slot.client.authenticator_mut().store_mut();
            let ids: Vec<Vec<u8>> = store.all().map(|c| c.id.clone()).collect();
            for id in ids {
                store.remove(&id).map_err(store_error)?;
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
    };
    respond(run.await)
}

/// The body of `POST …/uv`: at least one of the two.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetUv {
    is_user_verified: Option<bool>,
    /// Whether the user consents (user presence); false refuses every ceremony.
    is_user_consenting: Option<bool>,
}

/// `POST /_fauxkey/authenticators/{id}/uv` (WebDriver "Set User Verified").
pub async fn set_user_verified(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let run = move || {
        let shared = state.authenticator(Some(&id))?;
        let set: SetUv = body(
            &bytes,
            "{\"isUserVerified\": true|false, \"isUserConsenting\": true|false}",
        )?;
        if set.is_user_verified.is_none() && set.is_user_consenting.is_none() {
            return Err(ApiError::type_error(
                "give isUserVerified, isUserConsenting or both",
            ));
        }
        let mut guard = lock(&shared);
        let slot = &mut *guard;
        if let Some(verified) = set.is_user_verified {
            slot.options.is_user_verified = verified;
        }
        if let Some(consenting) = set.is_user_consenting {
            slot.options.is_user_consenting = consenting;
        }
        slot.client
            .authenticator_mut()
            .set_user(slot.options.user());
        Ok(StatusCode::NO_CONTENT)
    };
    respond(off(run).await)
}

/// The body of `POST /_fauxkey/faults`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InjectFault {
    fault: String,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    authenticator_id: Option<String>,
}

fn one() -> u32 {
    1
}

/// A queued fault as `GET /_fauxkey/faults` lists it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingFault {
    fault: &'static str,
    remaining: u32,
    authenticator_id: String,
    description: &'static str,
}

fn fault_names() -> String {
    Fault::ALL.map(Fault::name).join(", ")
}

/// `POST /_fauxkey/faults`: the next `count` successful responses (of a ceremony the fault
/// applies to) carry the fault.
pub async fn inject_fault(State(state): State<Arc<AppState>>, bytes: Bytes) -> Response {
    let run = move || {
        let body: InjectFault = body(
            &bytes,
            "{\"fault\": \"<name>\", \"count\"?: N, \"authenticatorId\"?: \"…\"}",
        )?;
        let fault = Fault::from_name(&body.fault).ok_or_else(|| {
            ApiError::type_error(format!(
                "unknown fault {:?}; the faults are: {}",
                body.fault,
                fault_names()
            ))
        })?;
        if body.count == 0 {
            return Err(ApiError::type_error(
                "`count` must be at least 1 (DELETE /_fauxkey/faults clears faults)",
            ));
        }
        let shared = state.authenticator(body.authenticator_id.as_deref())?;
        lock(&shared).client.inject_fault(fault, body.count);
        Ok(StatusCode::NO_CONTENT)
    };
    respond(off(run).await)
}

fn selected(state: &AppState, which: &Which) -> Result<Vec<(String, Shared)>, ApiError> {
    Ok(match &which.authenticator_id {
        Some(id) => vec![(id.clone(), state.authenticator(Some(id))?)],
        None => state.all(),
    })
}

/// `GET /_fauxkey/faults[?authenticatorId=]`.
pub async fn list_faults(
    State(state): State<Arc<AppState>>,
    Query(which): Query<Which>,
) -> Response {
    let run = move || {
        let mut out = Vec::new();
        for (id, shared) in selected(&state, &which)? {
            for (fault, remaining) in lock(&shared).client.pending_faults() {
                out.push(PendingFault {
                    fault: fault.name(),
                    remaining,
                    authenticator_id: id.clone(),
                    description: fault.description(),
                });
            }
        }
        Ok(Json(out))
    };
    respond(off(run).await)
}

/// `DELETE /_fauxkey/faults[?authenticatorId=]`.
pub async fn clear_faults(
    State(state): State<Arc<AppState>>,
    Query(which): Query<Which>,
) -> Response {
    let run = move || {
        for (_, shared) in selected(&state, &which)? {
            lock(&shared).client.clear_faults();
        }
        Ok(StatusCode::NO_CONTENT)
    };
    respond(off(run).await)
}

/// The body of `POST /_fauxkey/authenticators/{id}/pin` (wiped on drop; no `Debug`).
#[derive(Deserialize, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetPin {
    /// The new PIN.
    pin: String,
    /// The current PIN, to change one that is set.
    current_pin: Option<String>,
}

/// `GET /_fauxkey/authenticators/{id}/pin`: whether a PIN is set, its retries, the policy.
pub async fn pin_status(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let run = move || {
        let shared = state.authenticator(Some(&id))?;
        let guard = lock(&shared);
        let status = guard
            .client
            .authenticator()
            .store()
            .device_state()
            .status_json();
        Ok(Json(status))
    };
    respond(off(run).await)
}

/// `POST /_fauxkey/authenticators/{id}/pin`: sets the emulated key's CTAP PIN
/// (`{"pin": "1234"}`), or changes it (`{"currentPin": "1234", "pin": "5678"}`).
pub async fn set_pin(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let run = move || {
        let shared = state.authenticator(Some(&id))?;
        let set: SetPin = body(&bytes, "{\"pin\": \"1234\", \"currentPin\"?: \"…\"}")?;
        lock(&shared)
            .client
            .set_pin(set.current_pin.as_deref(), &set.pin)
            .map_err(|e| match e {
                crate::client::OwnerPinError::Refused(e) => ApiError::invalid_state(e.to_string()),
                crate::client::OwnerPinError::Store(e) => ApiError::unknown(e.to_string()),
            })?;
        Ok(StatusCode::NO_CONTENT)
    };
    respond(off(run).await)
}

/// `DELETE /_fauxkey/authenticators/{id}/pin`: removes the PIN (credentials stay).
pub async fn clear_pin(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let run = move || {
        let shared = state.authenticator(Some(&id))?;
        lock(&shared)
            .client
            .clear_pin()
            .map_err(|e| ApiError::unknown(e.to_string()))?;
        Ok(StatusCode::NO_CONTENT)
    };
    respond(off(run).await)
}

/// `POST /_fauxkey/authenticators/{id}/power-cycle`: unplugs and replugs the emulated key
/// (tokens and the wrong-PINs-in-a-row count are gone; the PIN and its retries stay).
pub async fn power_cycle(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let run = move || {
        let shared = state.authenticator(Some(&id))?;
        lock(&shared).client.authenticator_mut().power_cycle();
        Ok(StatusCode::NO_CONTENT)
    };
    respond(off(run).await)
}
