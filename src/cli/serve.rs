//! `fauxkey serve`: parse the options, open the vault if `--vault` names one, bind, write the
//! token and URL files, print the base URL and the token, and serve until SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use fauxkey::client::related::{
    Fallback, StaticWellKnown, WellKnownRelatedOrigins, WellKnownSource,
};
use fauxkey::client::related_https::HttpsWellKnown;
use fauxkey::server::{
    self, AuthenticatorOptions, ServerConfig, ServerRelatedOrigins, ServerStore,
};
use fauxkey::store::MemoryStore;

use super::{CliError, Result};

/// How long a stopping server waits for requests in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on: PORT (on 127.0.0.1), HOST:PORT, localhost:PORT or [::1]:PORT;
    /// port 0 picks a free port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0", value_parser = parse_listen)]
    pub listen: SocketAddr,
    /// Keep the default authenticator's passkeys in memory (the default; a vault is used only
    /// with --vault).
    #[arg(long)]
    pub ephemeral: bool,
    /// The provider profile of the default authenticator: a name (see `fauxkey profiles`) or a
    /// custom profile JSON file. With a vault, the vault's own profile settings win.
    #[arg(long, value_name = "NAME", default_value = "fauxkey")]
    pub profile: String,
    /// Seed the default authenticator's randomness (same seed, same keys and credential ids).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Allow listening on a non-loopback address (in-memory only: refused with --vault).
    #[arg(long)]
    pub allow_remote: bool,
    /// A web origin whose pages may call the WebAuthn endpoints through the shim (repeatable),
    /// e.g. http://localhost:3000. No other origin gets CORS headers.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Let `GET /_fauxkey/authenticators/ID/credentials` return private keys (with the token).
    #[arg(long)]
    pub allow_key_export: bool,
    /// Once listening, write the base URL and a newline to this file (atomically, mode 0600).
    #[arg(long, value_name = "PATH")]
    pub url_file: Option<PathBuf>,
    /// Write the per-run token and a newline to this file (atomically, mode 0600), before the
    /// URL file.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Related origin requests (WebAuthn L3 §5.11) when a page asks for an RP ID that is not its
    /// own: `off` (SecurityError, no network) or `fetch` (GET https://RPID/.well-known/webauthn
    /// as browsers do; one fetch per RP ID for the run).
    #[arg(long, value_name = "MODE", value_enum, default_value_t = RelatedMode::Off)]
    pub related_origins: RelatedMode,
    /// A JSON file of well-known documents by RP ID, used without any network:
    /// {"example.com": {"origins": ["https://example.co.uk"]}}. With `--related-origins fetch`,
    /// RP IDs it does not name are fetched.
    #[arg(long, value_name = "FILE")]
    pub related_origins_map: Option<PathBuf>,
    /// With `--related-origins fetch`: also trust this root certificate (PEM or DER), e.g. the
    /// CA of your local HTTPS setup (repeatable).
    #[arg(long, value_name = "FILE")]
    pub related_origins_ca: Vec<PathBuf>,
    /// With `--related-origins fetch`: HOST=IP:PORT fetches HOST's document from that address,
    /// as `curl --resolve` does (repeatable); the certificate is still checked against HOST.
    #[arg(long, value_name = "HOST=IP:PORT")]
    pub related_origins_resolve: Vec<String>,
}

/// `--related-origins`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RelatedMode {
    /// No fetching (the map, if given, still applies).
    Off,
    /// Fetch `https://RPID/.well-known/webauthn`.
    Fetch,
}

/// Reads `--related-origins-map`: an object of RP ID → well-known document.
fn read_related_map(path: &Path) -> Result<StaticWellKnown> {
    let bad =
        |why: String| CliError::Usage(format!("--related-origins-map {}: {why}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    StaticWellKnown::from_json(&text).map_err(bad)
}

/// Reads a `--related-origins-ca` file: DER, or the certificates of a PEM file.
fn read_roots(path: &Path) -> Result<Vec<Vec<u8>>> {
    use x509_cert::der::Encode as _;
    let bad =
        |why: String| CliError::Usage(format!("--related-origins-ca {}: {why}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN") {
        return Ok(vec![bytes]);
    }
    let chain = x509_cert::Certificate::load_pem_chain(&bytes)
        .map_err(|e| bad(format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(bad("no CERTIFICATE block in this PEM file".into()));
    }
    chain
        .iter()
        .map(|c| c.to_der().map_err(|e| bad(format!("a certificate: {e}"))))
        .collect()
}

/// The server's related-origins policy from the `--related-origins*` options.
fn related_origins(args: &ServeArgs) -> Result<Option<Arc<ServerRelatedOrigins>>> {
    let map = args
        .related_origins_map
        .as_deref()
        .map(read_related_map)
        .transpose()?;
    let source: Box<dyn WellKnownSource + Sync> = match args.related_origins {
        RelatedMode::Off => {
            if !args.related_origins_ca.is_empty() || !args.related_origins_resolve.is_empty() {
                return Err(CliError::Usage(
                    "--related-origins-ca and --related-origins-resolve apply to fetching; add \
                     --related-origins fetch"
                        .into(),
                ));
            }
            match map {
                Some(map) => Box::new(map),
                None => return Ok(None),
            }
        }
        RelatedMode::Fetch => {
            let mut builder = HttpsWellKnown::builder();
            for path in &args.related_origins_ca {
                for der in read_roots(path)? {
                    builder = builder.trust_root_der(der);
                }
            }
            for entry in &args.related_origins_resolve {
                let (host, addr) = entry
                    .split_once('=')
                    .and_then(|(h, a)| Some((h, a.parse::<SocketAddr>().ok()?)))
                    .filter(|(h, _)| !h.is_empty())
                    .ok_or_else(|| {
                        CliError::Usage(format!(
                            "--related-origins-resolve {entry:?}: expected HOST=IP:PORT, e.g. \
                             example.com=127.0.0.1:8443"
                        ))
                    })?;
                builder = builder.resolve(host, addr);
            }
            let fetch = builder
                .build()
                .map_err(|e| CliError::Usage(format!("--related-origins-ca: {e}")))?;
            match map {
                Some(map) => Box::new(Fallback(map, fetch)),
                None => Box::new(fetch),
            }
        }
    };
    Ok(Some(Arc::new(WellKnownRelatedOrigins::new(source))))
}

/// `PORT`, `HOST:PORT`, `localhost:PORT`, `[::1]:PORT`.
fn parse_listen(text: &str) -> std::result::Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!(
            "{text:?} is not PORT, HOST:PORT, localhost:PORT or [::1]:PORT (HOST an IP address)"
        )
    })
}

/// The token: `FAUXKEY_SERVE_TOKEN` when set to 32+ characters, else 32 fresh random bytes.
fn token() -> Result<String> {
    match std::env::var("FAUXKEY_SERVE_TOKEN") {
        Ok(t) if t.len() >= 32 => Ok(t),
        Ok(t) if !t.is_empty() => Err(CliError::Usage(
            "FAUXKEY_SERVE_TOKEN must be at least 32 characters".into(),
        )),
        _ => Ok(server::access::new_token()),
    }
}

/// Writes `text` and a newline to `path` atomically: a 0600 temp file beside it, then a rename.
fn write_private(path: &Path, text: &str) -> Result<()> {
    let failed =
        |e: std::io::Error| CliError::Other(format!("cannot write {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = options
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(failed)
}

/// Runs the server. `vault_flag` is the global `--vault`; `FAUXKEY_VAULT` is not consulted.
pub fn run(vault_flag: Option<&Path>, args: ServeArgs) -> Result<()> {
    let listen: SocketAddr = args.listen;
    let vault_path = match (args.ephemeral, vault_flag) {
        (true, Some(_)) => {
            return Err(CliError::Usage(
                "--ephemeral and --vault contradict each other; give one".into(),
            ))
        }
        (_, v) => v.map(Path::to_owned),
    };
    if !listen.ip().is_loopback() {
        if vault_path.is_some() {
            return Err(CliError::Usage(format!(
                "refusing to listen on {listen} with a vault: anyone who can reach it could use \
                 the real passkeys in it; listen on 127.0.0.1 or ::1"
            )));
        }
        if !args.allow_remote {
            return Err(CliError::Usage(format!(
                "refusing to listen on {listen}: anyone who can reach it and knows the token \
                 could use the emulated passkeys; listen on 127.0.0.1 or ::1, or pass \
                 --allow-remote"
            )));
        }
        eprintln!(
            "WARNING: fauxkey serve is listening on {listen}, not on loopback: anyone who can \
             reach this address and has the token can use the emulated (in-memory, throwaway) \
             passkeys."
        );
    }
    let allowed_origins = args
        .allow_origin
        .iter()
        .map(|o| server::access::parse_origin(o).map_err(CliError::Usage))
        .collect::<Result<Vec<_>>>()?;
    fauxkey::profiles::resolve(&args.profile).map_err(|e| CliError::Usage(e.to_string()))?;
    let related_origins = related_origins(&args)?;
    let token = token()?;
    let store = match &vault_path {
        Some(path) => {
            let mut vault = super::open(path)?;
            vault.refresh()?;
            ServerStore::Vault(Box::new(vault))
        }
        None => ServerStore::Memory(MemoryStore::new()),
    };
    let options = AuthenticatorOptions {
        profile: args.profile.clone(),
        seed: args.seed,
        ..AuthenticatorOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the server runtime: {e}")))?;
    runtime.block_on(async move {
        let config = ServerConfig {
            listen,
            allowed_origins,
            allow_key_export: args.allow_key_export,
            token: token.clone(),
            related_origins,
            ..ServerConfig::new(options, store)
        };
        let bound = server::bind(config)
            .await
            .map_err(|e| CliError::Other(e.to_string()))?;
        let base_url = bound.base_url.clone();
        let stopped = stop_signal()?;
        if let Some(path) = &args.token_file {
            write_private(path, &token)?;
        }
        if let Some(path) = &args.url_file {
            write_private(path, &base_url)?;
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{base_url}\ntoken: {token}")
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Other(format!("cannot write to stdout: {e}")))?;
        drop(out);
        match &vault_path {
            Some(p) => eprintln!(
                "fauxkey serve: {base_url} serves the REAL passkeys of vault {} (profile {}) to \
                 anyone with the token; stop with Ctrl-C",
                p.display(),
                args.profile
            ),
            None => eprintln!(
                "fauxkey serve: {base_url}, ephemeral default authenticator (profile {}); \
                 stop with Ctrl-C",
                args.profile
            ),
        }
        // On a signal, finish the requests in flight, but give up on them after a moment (a
        // ceremony whose emulated user never responds could otherwise hold the exit for up to
        // the 10-minute timeout cap).
        let graceful = std::sync::Arc::new(tokio::sync::Notify::new());
        let begin = graceful.clone();
        let running = tokio::spawn(server::serve(bound, async move {
            begin.notified().await;
        }));
        stopped.await;
        graceful.notify_one();
        match tokio::time::timeout(SHUTDOWN_GRACE, running).await {
            Ok(Ok(result)) => result.map_err(|e| CliError::Other(e.to_string())),
            Ok(Err(e)) => Err(CliError::Other(format!("the server failed: {e}"))),
            Err(_) => {
                eprintln!(
                    "fauxkey serve: requests still in flight after {SHUTDOWN_GRACE:?}; stopping anyway"
                );
                Ok(())
            }
        }
    })
}
/// Listens for SIGINT (Ctrl-C) and SIGTERM from now on; the returned future completes on the
/// first of them. Installed before the base URL is printed, so a harness that signals as soon
/// as it has read it is heard.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>> {
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let failed = |e: std::io::Error| CliError::Other(format!("cannot listen for signals: {e}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
            let mut stream = signal(kind).map_err(failed)?;
            let stop = stop.clone();
            tokio::spawn(async move {
                if stream.recv().await.is_some() {
                    stop.notify_one();
                }
            });
        }
    }
    #[cfg(not(unix))]
    {
        let _ = failed;
        let stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.notify_one();
            }
        });
    }
    Ok(async move {
        stop.notified().await;
        eprintln!("fauxkey serve: stopping");
    })
}
