//! `fauxkey ctap`: serve the authenticator over CTAPHID (64-byte reports) on a Unix socket or on
//! stdin/stdout, so real CTAP clients (python-fido2, libfido2 through a bridge, …) can drive it.

use std::os::unix::fs::FileTypeExt as _;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use fauxkey::ctaphid::serve::{serve, serve_listener, ServeOptions};
use fauxkey::env::SimulatedUser;
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::{Authenticator, Config};

use super::{open_or_create, user, CliError, Result};
use crate::UserArgs;

/// Arguments of `ctap`.
#[derive(Debug, Args)]
pub struct CtapArgs {
    /// Listen on this Unix stream socket; each connection carries raw 64-byte reports both ways.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "stdio",
        conflicts_with = "stdio"
    )]
    pub socket: Option<PathBuf>,
    /// Read reports from stdin and write them to stdout (one client; ends at end of input).
    #[arg(long)]
    pub stdio: bool,
    /// Keep credentials in memory only (nothing is written; the vault is not opened).
    #[arg(long)]
    pub ephemeral: bool,
    /// With --ephemeral: the provider profile to emulate (a name, or a custom profile's .json
    /// file). One that attests with a certificate (yubikey-5) gets it from a throwaway test CA.
    #[arg(long, value_name = "NAME", requires = "ephemeral")]
    pub profile: Option<String>,
    /// The emulated user takes this long to touch the authenticator (KEEPALIVE is sent meanwhile,
    /// and CTAPHID_CANCEL can interrupt the wait).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub presence_delay_ms: u64,
    /// Emulate a display-less security key: a discoverable login that matches several
    /// credentials answers with numberOfCredentials and the client walks them with
    /// getNextAssertion, instead of the profile's account chooser picking one.
    #[arg(long)]
    pub no_account_chooser: bool,
    /// How the emulated user behaves.
    #[command(flatten)]
    pub user_behaviour: UserArgs,
}

/// Runs `fauxkey ctap`.
pub fn run(vault_path: &Path, args: CtapArgs) -> Result<()> {
    let user = user(&args.user_behaviour, None);
    let options = ServeOptions {
        presence_delay: Duration::from_millis(args.presence_delay_ms),
        ..ServeOptions::default()
    };
    if args.ephemeral {
        // A profile that attests with a certificate gets one from a throwaway test CA, so the
        // emulated key answers with x5c as the real one does.
        let (profile, _extras) =
            super::profiles::for_new_vault(args.profile.as_deref().unwrap_or("fauxkey"))?;
        let authenticator =
            Authenticator::new(hid_config(profile.config, &args), MemoryStore::new())
                .with_signer(fauxkey::crypto::backend::fast());
        serve_on(authenticator, &user, &args, &options)
    } else {
        let vault = open_or_create(vault_path)?;
        let config = hid_config(vault.settings().clone(), &args);
        let authenticator =
            Authenticator::new(config, vault).with_signer(fauxkey::crypto::backend::fast());
        serve_on(authenticator, &user, &args, &options)
    }
}

/// The profile's (or vault's) config as seen over CTAPHID: the transport really is USB HID, so
/// getInfo reports `usb`; nothing is saved.
fn hid_config(mut config: Config, args: &CtapArgs) -> Config {
    config.transports = vec!["usb".to_owned()];
    config.account_chooser &= !args.no_account_chooser;
    config
}

fn serve_on<S: CredentialStore + 'static>(
    authenticator: Authenticator<S>,
    user: &SimulatedUser,
    args: &CtapArgs,
    options: &ServeOptions,
) -> Result<()> {
    let io_error = |what: &str, e: std::io::Error| CliError::Other(format!("{what}: {e}"));
    let Some(path) = &args.socket else {
        serve(
            authenticator,
            user.clone(),
            std::io::stdin(),
            std::io::stdout().lock(),
            options,
        )
        .map_err(|e| io_error("CTAPHID over stdio", e))?;
        return Ok(());
    };
    // A socket file left by an earlier run is replaced; any other file is not touched.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(CliError::Usage(format!(
                "{} exists and is not a socket; choose another --socket path",
                path.display()
            )));
        }
        std::fs::remove_file(path).map_err(|e| io_error("cannot remove the old socket", e))?;
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| io_error(&format!("cannot listen on {}", path.display()), e))?;
    // Only this user's processes may connect (the socket's mode follows the umask otherwise).
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error("cannot restrict the socket to its owner", e))?;
    }
    eprintln!("fauxkey: CTAPHID on {}", path.display());
    serve_listener(authenticator, user.clone(), listener, options)
        .map_err(|e| io_error("CTAPHID socket", e))?;
    Ok(())
}
