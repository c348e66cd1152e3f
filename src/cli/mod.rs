//! What each command does: open the vault, call the library, print. No protocol logic here.

/// Writes to stdout (no newline); `?` it: a closed stdout becomes [`CliError::StdoutClosed`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*), false) };
}

/// Writes a line to stdout; `?` it: a closed stdout becomes [`CliError::StdoutClosed`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::write_stdout(format_args!($($arg)*), true) };
}

pub mod ctap;
pub mod fixtures;
mod output;
pub mod pin;
mod profiles;
pub mod serve;
pub mod transfer;

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use fauxkey::client::{quick, ClientError};
use fauxkey::env::{SimulatedUser, Verification};
use fauxkey::store::{Credential, CredentialStore};
use fauxkey::vault::{ErrorClass, KdfParams, Passphrase, PassphraseSource, Vault, VaultError};
use fauxkey::{Authenticator, Client, Config};

use crate::{Cli, Command, CreateArgs, GetArgs, SignalCommand, UserArgs};

/// A failed command, with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The WebAuthn operation was refused, as a browser would refuse it.
    #[error("{0}")]
    Refused(#[from] ClientError),
    /// No passkey matched.
    #[error("{0}")]
    NotFound(String),
    /// Bad arguments that clap could not catch.
    #[error("{0}")]
    Usage(String),
    /// A vault failure.
    #[error("{0}")]
    Vault(#[from] VaultError),
    /// A wrong passphrase, with the source it came from (the hint names only that one).
    #[error("{error}")]
    WrongPassphrase {
        /// The failure.
        error: VaultError,
        /// Where the passphrase came from.
        source_used: PassphraseSource,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
    /// The reader of stdout went away (`fauxkey list | head -1`): not an error, nothing to say.
    #[error("stdout was closed")]
    StdoutClosed,
}

impl CliError {
    /// The documented exit code (see `fauxkey --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            // A storage failure is not a refusal: the vault could not be read or written.
            CliError::Refused(ClientError::Unknown(_)) => 8,
            CliError::Refused(_) | CliError::NotFound(_) => 1,
            CliError::Usage(_) => 2,
            CliError::WrongPassphrase { .. } => 5,
            CliError::Vault(v) => match v.class() {
                ErrorClass::NoVault => 3,
                ErrorClass::Locked => 4,
                ErrorClass::WrongPassphrase => 5,
                ErrorClass::HeaderFailure | ErrorClass::PayloadFailure => 6,
                ErrorClass::Unsupported => 7,
                _ => 8,
            },
            CliError::Other(_) => 8,
            CliError::StdoutClosed => 0,
        }
    }

    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        if let CliError::WrongPassphrase { source_used, .. } = self {
            return Some(match source_used {
                PassphraseSource::Variable(name) => format!("check {name}"),
                PassphraseSource::File(name) => format!("check the file {name} names"),
                PassphraseSource::Terminal => {
                    "the passphrase is the one set at `fauxkey init` or by the last `fauxkey passwd`".into()
                }
                _ => "check the passphrase".into(),
            });
        }
        let hint = match self {
            CliError::Vault(v) => match v.class() {
                ErrorClass::NoVault => {
                    Some("`fauxkey create` also makes one on first use; --vault or FAUXKEY_VAULT choose another path")
                }
                ErrorClass::HeaderFailure | ErrorClass::PayloadFailure => {
                    Some("the file was not changed; restore it from a backup")
                }
                ErrorClass::Locked => {
                    Some("another fauxkey holds the vault; retry when it finishes")
                }
                _ => None,
            },
            _ => None,
        };
        hint.map(str::to_owned)
    }
}

type Result<T> = std::result::Result<T, CliError>;

/// Runs one command.
pub fn run(cli: Cli) -> Result<()> {
    let path = vault_path(cli.vault.as_deref())?;
    match cli.command {
        Command::Init {
            profile,
            insecure_fast_kdf,
            retention_days,
        } => init(&path, &profile, insecure_fast_kdf, retention_days),
        Command::Create(args) => create(&path, args),
        Command::Get(args) => get(&path, args),
        Command::List { rp_id, all, json } => {
            let vault = open(&path)?;
            let mut list: Vec<&Credential> = vault
                .all()
                .filter(|c| all || !c.hidden)
                .filter(|c| rp_id.as_deref().is_none_or(|r| c.rp_id == r))
                .collect();
            list.sort_by(|a, b| {
                (&a.rp_id, a.created_ms, &a.id).cmp(&(&b.rp_id, b.created_ms, &b.id))
            });
            if json {
                let summaries: Vec<_> = list.iter().map(|c| c.summary()).collect();
                print_json(&summaries)
            } else {
                output::table(&list)
            }
        }
        Command::Show {
            credential_id,
            json,
        } => {
            let vault = open(&path)?;
            let c = find(&vault, &credential_id)?;
            if json {
                print_json(&output::details_json(c))
            } else {
                output::details(c)
            }
        }
        Command::Delete { credential_id } => {
            let mut vault = open(&path)?;
            let id = find(&vault, &credential_id)?.id.clone();
            let removed = vault.modify(|store, _| store.remove(&id))?;
            if let Ok(Some(c)) = removed {
                eprintln!(
                    "deleted passkey {} ({} at {})",
                    fauxkey::b64url::encode(&c.id),
                    output::clean(c.user_name.as_deref().unwrap_or("-")),
                    output::clean(&c.rp_id)
                );
            }
            Ok(())
        }
        Command::Signal { signal } => signal_command(&path, signal),
        Command::Restore { credential_id } => {
            let vault = open(&path)?;
            let id = find(&vault, &credential_id)?.id.clone();
            let mut authenticator = vault.into_authenticator();
            authenticator
                .restore(&id)
                .map_err(|e| match authenticator.take_store_failure() {
                    Some(failure) => CliError::Refused(failure.into()),
                    None => CliError::Other(format!("restore failed: {e}")),
                })?;
            eprintln!("restored passkey {}", fauxkey::b64url::encode(&id));
            Ok(())
        }
        Command::Events { rp_id, json } => {
            let vault = open(&path)?;
            let events: Vec<_> = vault
                .events()
                .into_iter()
                .filter(|e| rp_id.as_deref().is_none_or(|r| e.rp_id == r))
                .collect();
            if json {
                let list: Vec<_> = events.iter().map(|e| e.to_json()).collect();
                print_json(&list)
            } else {
                output::events(&events)
            }
        }
        Command::Capabilities { json } => {
            let mut client = Client::new(Authenticator::new(
                settings_or_default(&path)?,
                fauxkey::store::MemoryStore::new(),
            ));
            if let Some(s) = profiles::stored_client(&path)? {
                client = s.apply(client);
            }
            let caps = client.capabilities();
            if json {
                print_json(&caps)
            } else {
                for (k, v) in caps {
                    outln!("{k:<36} {v}")?;
                }
                Ok(())
            }
        }
        Command::Info { json } => {
            let authenticator = Authenticator::new(
                settings_or_default(&path)?,
                fauxkey::store::MemoryStore::new(),
            );
            output::info(&authenticator.get_info(), json)
        }
        Command::Passwd { insecure_fast_kdf } => {
            let mut vault = open(&path)?;
            let new = new_passphrase()?;
            let kdf = kdf_preset(insecure_fast_kdf);
            vault.change_passphrase(&new, kdf)?;
            eprintln!("vault passphrase changed for {}", path.display());
            Ok(())
        }
        Command::Serve(args) => serve::run(cli.vault.as_deref(), args),
        Command::Fixtures(args) => fixtures::run(args),
        Command::Profiles { json } => profiles::list(json),
        Command::AttestationRoot { pem, format } => {
            profiles::attestation_root(&path, pem, format.as_deref())
        }
        Command::Metadata { profile } => profiles::metadata(&path, &profile),
        Command::Ctap(args) => ctap::run(&path, args),
        Command::Pin { command } => pin::run(&path, command),
        Command::Export(args) => transfer::export(&path, args),
        Command::Import(args) => transfer::import(&path, args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "fauxkey", &mut std::io::stdout());
            Ok(())
        }
    }
}

fn vault_path(flag: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p.to_owned());
    }
    if let Some(p) = std::env::var_os("FAUXKEY_VAULT").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    directories::ProjectDirs::from("", "", "fauxkey")
        .map(|d| d.data_dir().join("vault.fxk"))
        .ok_or_else(|| {
            CliError::Other("no home directory to keep the vault in; pass --vault PATH".into())
        })
}

/// The passphrase of a new vault: from the environment, or typed twice on the terminal.
fn new_vault_passphrase() -> Result<Passphrase> {
    Ok(Passphrase::new_from_environment(
        "new vault passphrase: ",
        "repeat the new vault passphrase: ",
    )?)
}

/// How many passphrases the prompt on a terminal accepts before giving up.
const PROMPT_TRIES: u32 = 3;

pub(crate) fn open(path: &Path) -> Result<Vault> {
    if !path.exists() {
        return Err(VaultError::NotFound {
            path: path.to_owned(),
        }
        .into());
    }
    let mut tries = 0;
    let vault = loop {
        tries += 1;
        let passphrase = Passphrase::from_environment("fauxkey vault passphrase: ")?;
        match Vault::open(path, &passphrase) {
            Ok(vault) => break vault,
            Err(VaultError::WrongPassphrase)
                if *passphrase.source() == PassphraseSource::Terminal && tries < PROMPT_TRIES =>
            {
                eprintln!("wrong passphrase, try again ({tries} of {PROMPT_TRIES})");
            }
            Err(error @ VaultError::WrongPassphrase) => {
                return Err(CliError::WrongPassphrase {
                    error,
                    source_used: passphrase.source().clone(),
                })
            }
            Err(e) => return Err(e.into()),
        }
    };
    warn_permissions(&vault);
    Ok(vault)
}

fn warn_permissions(vault: &Vault) {
    for w in vault.permission_warnings() {
        eprintln!("warning: {w}");
    }
}

fn kdf_preset(insecure: bool) -> KdfParams {
    if insecure {
        eprintln!(
            "WARNING: --insecure-fast-kdf: this vault's passphrase offers NO protection against \
             guessing. Use it for tests and CI only."
        );
        KdfParams::INSECURE_FAST
    } else {
        KdfParams::DEFAULT
    }
}

fn profile_config(name: &str) -> Result<Config> {
    fauxkey::profiles::find(name)
        .map(|p| p.config)
        .map_err(|e| CliError::Usage(e.to_string()))
}

fn init(path: &Path, profile: &str, insecure: bool, retention_days: u64) -> Result<()> {
    let (profile_value, extras) = profiles::for_new_vault(profile)?;
    let mut config = profile_value.config;
    config.hidden_retention_ms =
        retention_days
            .checked_mul(24 * 60 * 60 * 1000)
            .ok_or_else(|| {
                CliError::Usage(format!("--retention-days {retention_days} is too large"))
            })?;
    if path.exists() {
        return Err(VaultError::AlreadyExists {
            path: path.to_owned(),
        }
        .into());
    }
    let kdf = kdf_preset(insecure);
    let mut vault = Vault::create(path, &new_vault_passphrase()?, kdf, config)?;
    warn_permissions(&vault);
    vault.modify_settings(|_, e| *e = extras)?;
    eprintln!(
        "created vault {} (profile {})",
        path.display(),
        profile_value.name
    );
    Ok(())
}

/// Opens the vault, creating it (default KDF, default profile) if there is none.
fn open_or_create(path: &Path) -> Result<Vault> {
    if path.exists() {
        return open(path);
    }
    let vault = Vault::create(
        path,
        &new_vault_passphrase()?,
        KdfParams::DEFAULT,
        profile_config("fauxkey")?,
    )?;
    warn_permissions(&vault);
    eprintln!("created a new vault at {}", path.display());
    Ok(vault)
}

/// The vault's settings when a vault exists, else the defaults a new vault gets.
fn settings_or_default(path: &Path) -> Result<Config> {
    if path.exists() {
        Ok(open(path)?.settings().clone())
    } else {
        profile_config("fauxkey")
    }
}

fn user(args: &UserArgs, account: Option<String>) -> SimulatedUser {
    SimulatedUser {
        presence: if args.deny_presence {
            fauxkey::env::Presence::Deny
        } else {
            Default::default()
        },
        verification: if args.no_uv {
            Verification::NotCapable
        } else if args.fail_uv {
            Verification::Fail
        } else {
            Verification::Succeed
        },
        account,
    }
}

fn client(vault: Vault, user: SimulatedUser) -> Client<Vault> {
    // The client half of the vault's profile (attachment, AAGUID zeroing), if it has one.
    let settings = vault.extras().client.clone();
    let client = Client::new(
        vault
            .into_authenticator()
            .with_user(user)
            .with_signer(fauxkey::crypto::backend::fast()),
    );
    match settings {
        Some(s) => s.apply(client),
        None => client,
    }
}

fn read_options(source: Option<&str>) -> Result<String> {
    let mut text = String::new();
    match source {
        None | Some("-") => {
            if source.is_none() && std::io::stdin().is_terminal() {
                eprintln!("reading options JSON from stdin (end with Ctrl-D)…");
            }
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| CliError::Other(format!("cannot read options from stdin: {e}")))?;
        }
        Some(file) => {
            text = std::fs::read_to_string(file)
                .map_err(|e| CliError::Other(format!("cannot read options file {file}: {e}")))?;
        }
    }
    Ok(text)
}

fn create(path: &Path, args: CreateArgs) -> Result<()> {
    // Parse the options before touching the vault, so bad input changes nothing.
    let (origin, options) = match (&args.origin, &args.rp_id, &args.user) {
        (Some(origin), _, _) => {
            let text = read_options(args.options.as_deref())?;
            (
                origin.clone(),
                fauxkey::client::parse_creation_options(&text)?,
            )
        }
        (None, Some(rp_id), Some(user_name)) => {
            let alg = args.alg.algorithm();
            let mut rng = fauxkey::env::os_rng();
            let options = quick::creation_options(
                rp_id,
                user_name,
                args.display_name.as_deref(),
                alg,
                rng.as_mut(),
            );
            (quick::origin_for(rp_id), options)
        }
        _ => {
            return Err(CliError::Usage(
                "create needs --origin, or --rp-id with --user".into(),
            ))
        }
    };
    let origin = fauxkey::client::CallerOrigin::parse(&origin).map_err(ClientError::from)?;
    if !path.exists() {
        // A refused call must leave no vault behind: try it on a throwaway authenticator first.
        Client::new(
            Authenticator::new(
                profile_config("fauxkey")?,
                fauxkey::store::MemoryStore::new(),
            )
            .with_user(user(&args.user_behaviour, None)),
        )
        .create_with(&origin, &options)?;
    }
    let mut vault = open_or_create(path)?;
    // Take the lock now, so a busy vault is reported as locked (exit 4), not as a refusal.
    vault.refresh()?;
    let mut client = client(vault, user(&args.user_behaviour, None));
    let response = client.create_with(&origin, &options)?;
    eprintln!(
        "created passkey {} for {} at {}",
        response.id,
        output::clean(&options.user.name),
        output::clean(
            client
                .authenticator()
                .store()
                .get(&decode(&response.id)?)
                .map_or("?", |c| c.rp_id.as_str())
        )
    );
    print_json(&response)
}

fn get(path: &Path, args: GetArgs) -> Result<()> {
    let (origin, options) = match (&args.origin, &args.rp_id) {
        (Some(origin), _) => {
            let text = read_options(args.options.as_deref())?;
            (
                origin.clone(),
                fauxkey::client::parse_request_options(&text)?,
            )
        }
        (None, Some(rp_id)) => {
            let mut rng = fauxkey::env::os_rng();
            (
                quick::origin_for(rp_id),
                quick::request_options(rp_id, rng.as_mut()),
            )
        }
        _ => return Err(CliError::Usage("get needs --origin or --rp-id".into())),
    };
    let origin = fauxkey::client::CallerOrigin::parse(&origin).map_err(ClientError::from)?;
    let mut vault = open(path)?;
    vault.refresh()?;
    let mut client = client(vault, user(&args.user_behaviour, args.account.clone()));
    let response = client.get_with(&origin, &options)?;
    eprintln!("signed in with passkey {}", response.id);
    print_json(&response)
}

fn signal_command(path: &Path, signal: SignalCommand) -> Result<()> {
    use fauxkey::client::signals::{
        AllAcceptedCredentialsOptions, CurrentUserDetailsOptions, UnknownCredentialOptions,
    };
    let parse = |o: &str| fauxkey::client::CallerOrigin::parse(o).map_err(ClientError::from);
    let mut vault = open(path)?;
    vault.refresh()?;
    let mut client = client(vault, SimulatedUser::default());
    let before = client.authenticator().events().len();
    match signal {
        SignalCommand::UnknownCredential {
            origin,
            rp_id,
            credential_id,
        } => client.signal_unknown_credential(
            &parse(&origin)?,
            &UnknownCredentialOptions {
                rp_id,
                credential_id,
            },
        )?,
        SignalCommand::AllAccepted {
            origin,
            rp_id,
            user_id,
            credential_ids,
        } => {
            let ids = credential_ids
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            client.signal_all_accepted_credentials(
                &parse(&origin)?,
                &AllAcceptedCredentialsOptions {
                    rp_id,
                    user_id,
                    all_accepted_credential_ids: ids,
                },
            )?
        }
        SignalCommand::UserDetails {
            origin,
            rp_id,
            user_id,
            name,
            display_name,
        } => client.signal_current_user_details(
            &parse(&origin)?,
            &CurrentUserDetailsOptions {
                rp_id,
                user_id,
                name,
                display_name,
            },
        )?,
    }
    // The page learns nothing (the client hides even a storage failure from it); the vault's
    // owner may see what the signal did, and must learn that the vault could not be saved.
    if let Some(failure) = client.authenticator_mut().take_store_failure() {
        return Err(CliError::Refused(failure.into()));
    }
    let events = client.authenticator().events();
    for e in events.iter().skip(before) {
        output::event_line(e);
    }
    Ok(())
}

fn decode(id: &str) -> Result<Vec<u8>> {
    fauxkey::b64url::decode(id).map_err(|_| CliError::Usage(format!("{id:?} is not base64url")))
}

/// The credential whose base64url id is `query` or starts with it (unique prefixes only).
fn find<'a>(vault: &'a Vault, query: &str) -> Result<&'a Credential> {
    if query.is_empty() {
        return Err(CliError::Usage("empty credential id".into()));
    }
    let matches: Vec<&Credential> = vault
        .all()
        .filter(|c| fauxkey::b64url::encode(&c.id).starts_with(query))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(CliError::NotFound(format!(
            "no passkey with id {query:?} in the vault"
        ))),
        many => Err(CliError::Usage(format!(
            "{query:?} matches {} passkeys; give more of the id",
            many.len()
        ))),
    }
}

fn new_passphrase() -> Result<Passphrase> {
    if let Some(p) =
        Passphrase::from_env_vars("FAUXKEY_NEW_PASSPHRASE", "FAUXKEY_NEW_PASSPHRASE_FILE")?
    {
        return Ok(p);
    }
    if !Passphrase::terminal_available() {
        return Err(CliError::Other(
            "no new passphrase: set FAUXKEY_NEW_PASSPHRASE or FAUXKEY_NEW_PASSPHRASE_FILE, or run on a terminal".into(),
        ));
    }
    Ok(Passphrase::prompt_new(
        "new passphrase: ",
        "repeat new passphrase: ",
    )?)
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Other(e.to_string()))?;
    outln!("{text}")
}

/// Writes to stdout and flushes; a reader that went away is [`CliError::StdoutClosed`] (the
/// command then ends quietly with status 0), any other failure is an error.
pub(crate) fn write_stdout(args: std::fmt::Arguments<'_>, newline: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    written.map_err(|e| match e.kind() {
        std::io::ErrorKind::BrokenPipe => CliError::StdoutClosed,
        _ => CliError::Other(format!("cannot write to stdout: {e}")),
    })
}
