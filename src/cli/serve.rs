//! `fauxkey serve`: parse the options, open the vault if one is named, bind, print the base
//! URL as the first line of stdout, and serve until SIGINT or SIGTERM.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;

use fauxkey::server::{self, AuthenticatorOptions, ServerConfig, ServerStore};
use fauxkey::store::MemoryStore;

use super::{CliError, Result};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Keep the default authenticator's passkeys in memory even if FAUXKEY_VAULT is set.
    #[arg(long)]
    pub ephemeral: bool,
    /// The provider profile of the default authenticator.
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
    fauxkey::profiles::find(&args.profile).map_err(|e| CliError::Usage(e.to_string()))?;
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
        server::serve(listener, app, stop_signal())
            .await
            .map_err(|e| CliError::Other(e.to_string()))
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let on_interrupt = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_interrupt.notify_one();
        }
    });
    #[cfg(unix)]
    {
        let on_terminate = stop.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            if let Ok(mut s) = signal(SignalKind::terminate()) {
                s.recv().await;
                on_terminate.notify_one();
            }
        });
    }
    stop.notified().await;
    eprintln!("fauxkey serve: stopping");
}
