//! `/_fauxkey/authenticators/{id}/export` and `…/import`: the HTTP door to [`crate::transfer`].
//! Both need the per-run token (every `/_fauxkey/` route does); export hands out private keys,
//! so it also needs `--allow-key-export`, as listing credentials does.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::access::KeyExport;
use super::errors::ApiError;
use super::state::{lock, AppState};
use crate::store::{Credential, CredentialStore};
use crate::transfer::{self, Format, ImportDefaults, TransferError};

/// `?format=&rpId=` of an export.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportQuery {
    /// `cxf`, `bitwarden`, `keepassxc`, `webdriver` or `playwright`.
    pub format: String,
    /// Only this RP's passkeys.
    pub rp_id: Option<String>,
}

/// `?format=&replace=` of an import.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportQuery {
    /// The format; detected from the body when absent.
    pub format: Option<String>,
    /// Replace credentials with the same id (else a clash imports nothing: 409).
    #[serde(default)]
    pub replace: bool,
}

fn format(name: &str) -> Result<Format, ApiError> {
    Format::from_name(name).ok_or_else(|| {
        ApiError::type_error(format!(
            "unknown format {name:?}; the formats are {}",
            Format::ALL.map(Format::name).join(", ")
        ))
    })
}

fn transfer_error(e: TransferError) -> ApiError {
    match e {
        TransferError::Exists { .. } => ApiError::invalid_state(e.to_string()),
        TransferError::Store(s) => ApiError::unknown(format!("the credential store failed: {s}")),
        TransferError::Syntax { .. } => ApiError::syntax(e.to_string()),
        other => ApiError::type_error(other.to_string()),
    }
}

fn respond<T: IntoResponse>(r: Result<T, ApiError>) -> Response {
    match r {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn off<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::unknown(format!("the request failed: {e}")))?
}

/// `GET /_fauxkey/authenticators/{id}/export?format=…[&rpId=…]` → 200
/// `{"format", "count", "file", "losses"}` (`file` is the exchange file's text).
pub async fn export(
    State(state): State<Arc<AppState>>,
    Extension(KeyExport(allowed)): Extension<KeyExport>,
    Path(id): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    if !allowed {
        return ApiError::not_allowed(
            "an export holds private keys, and this server does not export keys: start it with \
             --allow-key-export",
        )
        .into_response();
    }
    let run = move || {
        let format = format(&q.format)?;
        let shared = state.authenticator(Some(&id))?;
        let slot = lock(&shared);
        let mut list: Vec<&Credential> = slot
            .client
            .authenticator()
            .store()
            .all()
            .filter(|c| !c.hidden)
            .filter(|c| q.rp_id.as_deref().is_none_or(|r| c.rp_id == r))
            .collect();
        list.sort_by_key(|c| c.sequence);
        let exported = transfer::export(format, &list).map_err(transfer_error)?;
        Ok(Json(serde_json::json!({
            "format": format,
            "count": exported.count,
            "file": exported.text.as_str(),
            "losses": exported.losses,
        })))
    };
    respond(off(run).await)
}

/// `POST /_fauxkey/authenticators/{id}/import[?format=…][&replace=true]` with the file as the
/// body → 200 `{"format", "added", "replaced", "losses"}`; 409 `InvalidStateError` when a
/// credential exists and `replace` is not set (nothing imported).
pub async fn import(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ImportQuery>,
    bytes: Bytes,
) -> Response {
    let run = move || {
        let format = q.format.as_deref().map(format).transpose()?;
        let text = zeroize::Zeroizing::new(
            String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::syntax("the body is not UTF-8"))?,
        );
        let shared = state.authenticator(Some(&id))?;
        let mut slot = lock(&shared);
        let authenticator = slot.client.authenticator_mut();
        let defaults = ImportDefaults::for_config(
            authenticator.config(),
            crate::env::Clock::now_ms(&crate::env::SystemClock),
        );
        let imported = transfer::import(&text, format, &defaults).map_err(transfer_error)?;
        let store = authenticator.store_mut();
        let applied =
            transfer::apply(store, imported.credentials, q.replace).map_err(transfer_error)?;
        Ok(Json(serde_json::json!({
            "format": imported.format,
            "added": applied.added,
            "replaced": applied.replaced,
            "losses": imported.losses,
        })))
    };
    respond(off(run).await)
}
