//! `fauxkey export` and `fauxkey import`: open the vault, call [`fauxkey::transfer`], write the
//! file (0600, never over an existing one) or store what was read (all or nothing), and print
//! the loss report on stderr (and with `--json` on stdout).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use fauxkey::store::{Credential, CredentialStore};
use fauxkey::transfer::{self, Format, ImportDefaults, Loss, TransferError};

use super::{open, open_or_create, print_json, CliError, Result};

/// An exchange format, as the CLI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// FIDO Credential Exchange Format 1.0 JSON.
    Cxf,
    /// Bitwarden's unencrypted JSON export.
    Bitwarden,
    /// KeePassXC's `.passkey` file.
    Keepassxc,
    /// W3C WebDriver Credential Parameters (CDP `WebAuthn.addCredential`).
    Webdriver,
    /// Playwright `VirtualCredential` list.
    Playwright,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Cxf => Format::Cxf,
            FormatArg::Bitwarden => Format::Bitwarden,
            FormatArg::Keepassxc => Format::Keepassxc,
            FormatArg::Webdriver => Format::Webdriver,
            FormatArg::Playwright => Format::Playwright,
        }
    }
}

/// `fauxkey export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format to write.
    #[arg(long, value_enum)]
    pub format: FormatArg,
    /// Only passkeys of this RP ID.
    #[arg(long, value_name = "ID")]
    pub rp_id: Option<String>,
    /// Only the passkey with this id (base64url, or a unique prefix).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub credential: Option<String>,
    /// Include passkeys hidden by a signal.
    #[arg(long)]
    pub all: bool,
    /// Write the file here (created 0600; an existing file is never overwritten). Without it
    /// the file goes to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print a JSON report (count, losses) on stdout; needs --out.
    #[arg(long)]
    pub json: bool,
}

/// `fauxkey import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to read (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Its format [default: detected from the content].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Replace passkeys with the same credential id (without it, any clash imports nothing).
    #[arg(long)]
    pub replace: bool,
    /// Print a JSON report (added, replaced, losses) on stdout.
    #[arg(long)]
    pub json: bool,
}

impl From<TransferError> for CliError {
    fn from(e: TransferError) -> CliError {
        match e {
            TransferError::Exists { .. } | TransferError::Duplicate(_) => {
                CliError::NotFound(e.to_string())
            }
            TransferError::Store(s) => CliError::Other(s.to_string()),
            other => CliError::Usage(other.to_string()),
        }
    }
}

fn report(losses: &[Loss]) {
    for l in losses {
        eprintln!("not carried: {}", super::output::clean(&l.to_string()));
    }
}

/// Runs `fauxkey export`.
pub fn export(path: &Path, args: ExportArgs) -> Result<()> {
    if args.json && args.out.is_none() {
        return Err(CliError::Usage(
            "--json prints the report on stdout, so the file needs --out".into(),
        ));
    }
    if let Some(out) = &args.out {
        // Before asking for the passphrase: an existing file is never overwritten.
        if out.exists() {
            return Err(CliError::Other(format!(
                "{} exists; fauxkey export never overwrites a file",
                out.display()
            )));
        }
    }
    let vault = open(path)?;
    let mut list: Vec<&Credential> = match &args.credential {
        Some(query) => vec![super::find(&vault, query)?],
        None => vault
            .all()
            .filter(|c| args.all || !c.hidden)
            .filter(|c| args.rp_id.as_deref().is_none_or(|r| c.rp_id == r))
            .collect(),
    };
    list.sort_by_key(|c| c.sequence);
    if list.is_empty() {
        return Err(CliError::NotFound("no passkeys to export".into()));
    }
    let format = Format::from(args.format);
    let exported = transfer::export(format, &list)?;
    report(&exported.losses);
    if exported.count == 0 {
        return Err(CliError::NotFound(format!(
            "none of the {} passkey(s) can be written as {format}",
            list.len()
        )));
    }
    match &args.out {
        Some(out) => {
            write_new_0600(out, exported.text.as_bytes())?;
            eprintln!(
                "exported {} passkey(s) as {format} to {}",
                exported.count,
                out.display()
            );
        }
        None => out!("{}", exported.text.as_str())?,
    }
    if args.json {
        print_json(&serde_json::json!({
            "format": format,
            "count": exported.count,
            "losses": exported.losses,
        }))?;
    }
    Ok(())
}

/// Creates `path` with mode 0600 from the first byte; fails if it exists.
fn write_new_0600(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        CliError::Other(match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} exists; fauxkey export never overwrites a file",
                path.display()
            ),
            _ => format!("cannot create {}: {e}", path.display()),
        })
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
}

/// Runs `fauxkey import`.
pub fn import(path: &Path, args: ImportArgs) -> Result<()> {
    // Read and parse the whole file before touching the vault: bad input changes nothing.
    let text =
        zeroize::Zeroizing::new(super::read_options(Some(&args.file)).map_err(|e| match e {
            CliError::Other(m) => CliError::Other(m.replace("options", "import")),
            other => other,
        })?);
    let parsed = transfer::import(
        &text,
        args.format.map(Format::from),
        &ImportDefaults::default(),
    )?;
    let mut vault = open_or_create(path)?;
    let settings = vault.settings().clone();
    let defaults = ImportDefaults::for_config(
        &settings,
        fauxkey::env::Clock::now_ms(&fauxkey::env::SystemClock),
    );
    // Parse again with the vault's defaults (BE/BS of its profile, the import time).
    let imported = transfer::import(&text, Some(parsed.format), &defaults)?;
    if imported.credentials.is_empty() {
        return Err(CliError::NotFound(format!(
            "the {} file holds no passkeys",
            imported.format
        )));
    }
    let credentials = imported.credentials;
    // Refuse a clash before the write: a refused import leaves the file's bytes as they were.
    vault.refresh()?;
    let existing = transfer::clashes(&vault, &credentials);
    if !existing.is_empty() && !args.replace {
        return Err(TransferError::Exists { ids: existing }.into());
    }
    let replace = args.replace;
    let applied = vault.modify(|store, _| transfer::apply(store, credentials, replace))??;
    report(&imported.losses);
    eprintln!(
        "imported {} passkey(s) from {} ({} new, {} replaced)",
        applied.added.len() + applied.replaced.len(),
        imported.format,
        applied.added.len(),
        applied.replaced.len()
    );
    if args.json {
        print_json(&serde_json::json!({
            "format": imported.format,
            "added": applied.added,
            "replaced": applied.replaced,
            "losses": imported.losses,
        }))?;
    }
    Ok(())
}
