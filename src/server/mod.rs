//! `fauxkey serve`: the WebAuthn client and its authenticators as a local HTTP/JSON server, so
//! an RP's test suite in any language (or a browser page, through `/shim.js`) can register and
//! log in with emulated passkeys.
//!
//! Routes: `/webauthn/…` is the WebAuthn API ([`webauthn`]); `/_fauxkey/…` is the control
//! plane ([`control`]); `/shim.js` is the browser shim. Who may call what is [`access`]: a
//! per-run token for the control plane and key material, `--allow-origin` pages for the
//! WebAuthn routes, no wildcard CORS, `Host` checked. Errors are `{"name", "message"}`
//! ([`errors`]).
//!
//! Connections are served by hyper directly (not `axum::serve`, which sets no timeouts): a
//! client that trickles its headers or sits idle is dropped after [`Timeouts::header`], one that
//! stalls inside a body after [`Timeouts::body`]. Every handler that touches an authenticator
//! does so on the blocking pool, so no tokio worker ever waits for a lock or the disk.
//!
//! [`Server::start`] runs a server on its own runtime thread (what tests and the benchmark
//! use); [`serve`] runs one on the caller's runtime (what the CLI uses).

pub mod access;
pub mod conditional;
pub mod control;
pub mod errors;
pub mod state;
pub mod transfer;
pub mod webauthn;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use access::{Access, Caller, MAX_BODY_BYTES};
pub use errors::ApiError;
pub use state::{AppState, AuthenticatorOptions, ServerStore};

use crate::client::related::WellKnownSource;

/// The browser shim's source; `__FAUXKEY_BASE_URL__` is replaced by the server's base URL.
const SHIM: &str = include_str!("shim.js");

/// The routes, over `state`, behind the `access` guard.
pub fn router(state: Arc<AppState>, access: Access) -> Router {
    let access = Arc::new(access);
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
        .route("/webauthn/conditional/{id}", post(conditional::poll))
        .route(
            "/webauthn/conditional/{id}/cancel",
            post(conditional::cancel),
        )
        .route("/_fauxkey/conditional", get(conditional::list))
        .route("/_fauxkey/conditional/{id}/pick", post(conditional::pick))
        .route(
            "/_fauxkey/conditional/{id}/dismiss",
            post(conditional::dismiss),
        )
        .route("/_fauxkey/conditional/{id}/abort", post(conditional::abort))
        .route(
            "/_fauxkey/conditional/{id}/timeout",
            post(conditional::time_out),
        )
        .route(
            "/_fauxkey/authenticators/{id}/password-sign-in",
            post(conditional::password_sign_in),
        )
        .route("/_fauxkey/health", get(health))
        .route("/_fauxkey/reset", post(reset))
        .route("/_fauxkey/attestation-root", get(attestation_root))
        .route("/_fauxkey/related-origins", get(related_origins))
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
        .route(
            "/_fauxkey/authenticators/{id}/pin",
            get(pin_status).post(set_pin).delete(clear_pin),
        )
        .route(
            "/_fauxkey/authenticators/{id}/power-cycle",
            post(power_cycle),
        )
        .route(
            "/_fauxkey/authenticators/{id}/export",
            get(transfer::export),
        )
        .route(
            "/_fauxkey/authenticators/{id}/import",
            post(transfer::import),
        )
        .route("/shim.js", get(shim))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(middleware::from_fn(move |request, next| {
            access::guard(access.clone(), request, next)
        }))
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

/// What to serve.
pub struct ServerConfig {
    /// The address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// The default authenticator's options.
    pub options: AuthenticatorOptions,
    /// The default authenticator's store.
    pub store: ServerStore,
    /// The per-run token (`Authorization: Bearer …`); see [`access::new_token`].
    pub token: String,
    /// Origins whose pages may call the WebAuthn routes (`--allow-origin`).
    pub allowed_origins: Vec<String>,
    /// Whether the credentials endpoint may return private keys (`--allow-key-export`).
    pub allow_key_export: bool,
    /// How long a client may take.
    pub timeouts: Timeouts,
    /// Related origin requests (WebAuthn L3 §5.11) for every authenticator's client, with one
    /// cache (`--related-origins`, `--related-origins-map`); `None`: none (SecurityError).
    pub related_origins: Option<Arc<ServerRelatedOrigins>>,
}

/// The related-origins policy a server shares between its authenticators: the L3 procedure over
/// any document source, cached per RP ID (`GET /_fauxkey/related-origins` shows the cache).
pub type ServerRelatedOrigins =
    crate::client::related::WellKnownRelatedOrigins<Box<dyn WellKnownSource + Sync>>;

impl ServerConfig {
    /// Loopback on a free port, a fresh random token, no allowed origins, no key export, the
    /// default timeouts.
    pub fn new(options: AuthenticatorOptions, store: ServerStore) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            options,
            store,
            token: access::new_token(),
            allowed_origins: Vec::new(),
            allow_key_export: false,
            timeouts: Timeouts::default(),
            related_origins: None,
        }
    }
}

/// How long the server waits for a client before it drops the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the moment the server waits for a request (a new connection, or a kept-alive one
    /// after its last answer) until the request's headers are complete. This is also the idle
    /// timeout of a kept-alive connection.
    pub header: Duration,
    /// From the end of the headers until the end of the body (408 after it).
    pub body: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            header: Duration::from_secs(30),
            body: Duration::from_secs(30),
        }
    }
}

/// What [`bind`] returns: a listening socket and the app, ready for [`serve`].
#[derive(Debug)]
pub struct Bound {
    /// The listening socket.
    pub listener: tokio::net::TcpListener,
    /// `http://ADDR:PORT`.
    pub base_url: String,
    /// The routes.
    pub app: Router,
    /// The timeouts to serve with.
    pub timeouts: Timeouts,
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

/// Binds `config.listen` and builds the state.
pub async fn bind(config: ServerConfig) -> Result<Bound, ServeError> {
    if config.token.len() < 32 {
        return Err(ServeError::Options(
            "the server token must be at least 32 characters".into(),
        ));
    }
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
    let state = AppState::new(
        base_url.clone(),
        config.options,
        config.store,
        config.related_origins,
    )
    .map_err(|e| ServeError::Options(e.message))?;
    let access = Access::new(
        addr,
        config.token,
        config.allowed_origins,
        config.allow_key_export,
        config.timeouts.body,
    );
    Ok(Bound {
        listener,
        base_url,
        app: router(Arc::new(state), access),
        timeouts: config.timeouts,
    })
}

/// Serves until `shutdown` completes, then lets the requests in flight finish.
pub async fn serve(
    bound: Bound,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let Bound {
        listener,
        app,
        timeouts,
        ..
    } = bound;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a moment instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A server running on its own thread; stopped when dropped.
pub struct Server {
    base_url: String,
    token: String,
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
        let token = config.token.clone();
        let bound = runtime.block_on(bind(config))?;
        let base_url = bound.base_url.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let _ = runtime.block_on(serve(bound, async {
                let _ = stopped.await;
            }));
        });
        Ok(Self {
            base_url,
            token,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The per-run token, for `Authorization: Bearer …`.
    pub fn token(&self) -> &str {
        &self.token
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

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("options", &self.options)
            .field("store", &self.store)
            .field("token", &"<redacted>")
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_key_export", &self.allow_key_export)
            .field("timeouts", &self.timeouts)
            .field("related_origins", &self.related_origins.is_some())
            .finish()
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}
