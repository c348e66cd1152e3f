//! `fauxkey serve`: parse the options, open the vault if one is named, bind, print the base
//! URL as the first line of stdout, and serve until SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use fauxkey::server::{self, AuthenticatorOptions, ServerConfig, ServerStore};
use fauxkey::store::MemoryStore;

use super::{CliError, Result};

/// How long a stopping server waits for requests in flight.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Keep the default authenticator's passkeys in memory even if FAUXKEY_VAULT is set.
    #[arg(long)]
    pub ephemeral: bool,
    /// The provider profile of the default authenticator: a name (see `fauxkey profiles`) or a
    /// custom profile JSON file. With a vault, the vault's own profile settings win.
    #[arg(long, value_name = "NAME", default_value = "fauxkey")]
    pub profile: String,
    /// Seed the default authenticator's randomness (same seed, same keys and credential ids).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Allow listening on a non-loopback address (prints a warning).
    #[arg(long)]
    pub allow_remote: bool,
}

/// Runs the server. `vault_flag` is the global `--vault`.
pub fn run(vault_flag: Option<&Path>, args: ServeArgs) -> Result<()> {
    let listen: SocketAddr = args.listen;
    if !listen.ip().is_loopback() {
        if !args.allow_remote {
            return Err(CliError::Usage(format!(
                "refusing to listen on {listen}: anyone who can reach it could use and export \
                 the emulated passkeys (private keys included); listen on 127.0.0.1 or ::1, or \
                 pass --allow-remote"
            )));
        }
        eprintln!(
            "WARNING: fauxkey serve is listening on {listen}, not on loopback: anyone who can \
             reach this address can use the emulated passkeys and export their private keys."
        );
    }
    fauxkey::profiles::resolve(&args.profile).map_err(|e| CliError::Usage(e.to_string()))?;
    let env_vault = std::env::var_os("FAUXKEY_VAULT").filter(|p| !p.is_empty());
    let vault_path = match (args.ephemeral, vault_flag) {
        (true, Some(_)) => {
            return Err(CliError::Usage(
                "--ephemeral and --vault contradict each other; give one".into(),
            ))
        }
        (true, None) => None,
        (false, Some(p)) => Some(p.to_owned()),
        (false, None) => env_vault.map(std::path::PathBuf::from),
    };
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
        let (listener, base_url, app) = server::bind(ServerConfig {
            listen,
            options,
            store,
        })
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
        let stopped = stop_signal()?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{base_url}")
            .and_then(|()| out.flush())
            .map_err(|e| CliError::Other(format!("cannot write to stdout: {e}")))?;
        drop(out);
        match &vault_path {
            Some(p) => eprintln!(
                "fauxkey serve: {base_url}, default authenticator on vault {} (profile {})",
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
        let running = tokio::spawn(server::serve(listener, app, async move {
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
