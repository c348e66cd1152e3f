//! `fauxkey serve`: the WebAuthn client and its authenticators as a local HTTP/JSON server, so
//! an RP's test suite in any language (or a browser page, through `/shim.js`) can register and
//! log in with emulated passkeys.
//!
//! Routes: `/webauthn/…` is the WebAuthn API ([`webauthn`]); `/_fauxkey/…` is the control
//! plane ([`control`]); `/shim.js` is the browser shim. Every answer carries
//! `Access-Control-Allow-Origin: *`; errors are `{"name", "message"}` ([`errors`]).
//!
//! [`Server::start`] runs a server on its own runtime thread (what tests and the benchmark
//! use); [`serve`] runs one on the caller's runtime (what the CLI uses).

pub mod control;
pub mod errors;
pub mod state;
pub mod webauthn;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use errors::ApiError;
pub use state::{AppState, AuthenticatorOptions, ServerStore};

/// The largest request body read (options JSON is a few KiB).
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The browser shim's source; `__FAUXKEY_BASE_URL__` is replaced by the server's base URL.
const SHIM: &str = include_str!("shim.js");

/// The routes, over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    use control::*;
    Router::new()
        .route("/webauthn/create", post(webauthn::create))
        .route("/webauthn/get", post(webauthn::get))
        .route(
            "/webauthn/signal/unknown-credential",
            post(webauthn::signal_unknown_credential),
        )
        .route(
            "/webauthn/signal/all-accepted",
            post(webauthn::signal_all_accepted),
        )
        .route(
            "/webauthn/signal/user-details",
            post(webauthn::signal_user_details),
        )
        .route("/webauthn/capabilities", get(webauthn::capabilities))
        .route("/_fauxkey/health", get(health))
        .route("/_fauxkey/reset", post(reset))
        .route("/_fauxkey/attestation-root", get(attestation_root))
        .route("/_fauxkey/events", get(events))
        .route(
            "/_fauxkey/faults",
            get(list_faults).post(inject_fault).delete(clear_faults),
        )
        .route(
            "/_fauxkey/authenticators",
            get(list_authenticators).post(add_authenticator),
        )
        .route(
            "/_fauxkey/authenticators/{id}",
            axum::routing::delete(remove_authenticator),
        )
        .route(
            "/_fauxkey/authenticators/{id}/credentials",
            get(list_credentials)
                .post(add_credential)
                .delete(remove_all_credentials),
        )
        .route(
            "/_fauxkey/authenticators/{id}/credentials/{credential_id}",
            axum::routing::delete(remove_credential),
        )
        .route("/_fauxkey/authenticators/{id}/uv", post(set_user_verified))
        .route("/shim.js", get(shim))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn(cors))
        .with_state(state)
}

async fn shim(State(state): State<Arc<AppState>>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            // The base URL baked in changes from run to run.
            (header::CACHE_CONTROL, "no-store"),
        ],
        SHIM.replace("__FAUXKEY_BASE_URL__", &state.base_url),
    )
        .into_response()
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Response {
    ApiError::not_found(format!(
        "no route {method} {}; the routes are listed in the README's `fauxkey serve` section",
        uri.path()
    ))
    .into_response()
}

async fn wrong_method(method: Method, uri: axum::http::Uri) -> Response {
    let error = ApiError {
        name: "NotSupportedError",
        message: format!("{} does not take {method}", uri.path()),
    };
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(error)).into_response()
}

/// Lets pages on any origin call the server (the shim runs inside the RP's page): answers
/// every preflight, and marks every answer `Access-Control-Allow-Origin: *`.
async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        // Read the whole body before routing, so that a handler which takes none (reset) still
        // leaves a keep-alive connection at the start of the next request.
        let (parts, body) = request.into_parts();
        match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => {
                next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                    .await
            }
            Err(e) => {
                let error = ApiError {
                    name: "TypeError",
                    message: format!(
                        "the request body could not be read or is over {MAX_BODY_BYTES} bytes: {e}"
                    ),
                };
                (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response()
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    // Chromium's local network access checks ask this of a public page calling loopback.
    headers.insert(
        "access-control-allow-private-network",
        HeaderValue::from_static("true"),
    );
    response
}

/// What to serve.
#[derive(Debug)]
pub struct ServerConfig {
    /// The address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// The default authenticator's options.
    pub options: AuthenticatorOptions,
    /// The default authenticator's store.
    pub store: ServerStore,
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The default authenticator's options are invalid (e.g. an unknown profile).
    #[error("{0}")]
    Options(String),
    /// The runtime failed.
    #[error("server runtime: {0}")]
    Runtime(String),
}

/// Binds `config.listen` and builds the state; returns the listener, its base URL and the app.
pub async fn bind(
    config: ServerConfig,
) -> Result<(tokio::net::TcpListener, String, Router), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let base_url = format!("http://{addr}");
    let state = AppState::new(base_url.clone(), config.options, config.store)
        .map_err(|e| ServeError::Options(e.message))?;
    Ok((listener, base_url, router(Arc::new(state))))
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| ServeError::Runtime(e.to_string()))
}

/// A server running on its own thread; stopped when dropped.
#[derive(Debug)]
pub struct Server {
    base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a new multi-threaded runtime (`workers` threads).
    pub fn start(config: ServerConfig, workers: usize) -> Result<Self, ServeError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .enable_all()
            .build()
            .map_err(|e| ServeError::Runtime(e.to_string()))?;
        let (listener, base_url, app) = runtime.block_on(bind(config))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ = runtime.block_on(serve(listener, app, async {
                let _ = stopped.await;
            }));
        });
        Ok(Self {
            base_url,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Stops the server and waits for it to finish.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}
