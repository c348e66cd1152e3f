//! The `fauxkey` command line: a thin front end over the library. It parses arguments, calls
//! `cli::run`, and maps the error to a documented exit code.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the operation was refused (the DOMException cases: NotAllowedError, SecurityError, …),
     or the passkey named does not exist
  2  usage error (bad arguments)
  3  no vault at the path
  4  the vault is locked by another process
  5  wrong passphrase
  6  the vault is corrupt or was tampered with
  7  the vault's format version (or its KDF parameters) is not supported
  8  any other error (I/O, no passphrase source, an existing vault on init)

Environment:
  FAUXKEY_VAULT              vault path (overridden by --vault)
  FAUXKEY_PASSPHRASE         the vault passphrase
  FAUXKEY_PASSPHRASE_FILE    a file holding it (set at most one of the two; else a TTY prompt)
  FAUXKEY_NEW_PASSPHRASE[_FILE]  the new passphrase for `passwd`
  NO_COLOR                   no colours in tables";

/// fauxkey: a software passkey provider for relying-party developers.
///
/// Creates and uses passkeys kept in an encrypted vault, emulating a browser (the WebAuthn
/// client) and a passkey provider (a CTAP2 authenticator). `create` and `get` print only
/// WebAuthn L3 JSON on stdout; everything for humans goes to stderr.
#[derive(Debug, Parser)]
#[command(name = "fauxkey", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// The vault file [default: $FAUXKEY_VAULT, else the platform data dir's fauxkey/vault.fxk]
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty vault.
    #[command(
        after_help = "Example:\n  FAUXKEY_PASSPHRASE=s3cret fauxkey init --insecure-fast-kdf   # for tests and CI"
    )]
    Init {
        /// The provider profile to emulate (`fauxkey profiles` lists them), or a JSON file
        /// describing a custom one.
        #[arg(long, value_name = "NAME|FILE", default_value = "fauxkey")]
        profile: String,
        /// Derive the vault key with a fast, INSECURE KDF preset (tests and CI only).
        #[arg(long)]
        insecure_fast_kdf: bool,
        /// Keep passkeys hidden by a signal this many days before purging them.
        #[arg(long, value_name = "DAYS", default_value_t = 30)]
        retention_days: u64,
    },
    /// Register a passkey: RP creation options JSON in, RegistrationResponseJSON out.
    #[command(after_help = "Examples:\n  \
        fauxkey create --origin https://example.com --options options.json\n  \
        curl -s https://rp.test/register/options | fauxkey create --origin https://rp.test --options -\n  \
        fauxkey create --rp-id example.com --user alice --display-name 'Alice A.' --alg eddsa")]
    Create(CreateArgs),
    /// Log in: RP request options JSON in, AuthenticationResponseJSON out.
    #[command(after_help = "Examples:\n  \
        fauxkey get --origin https://example.com --options request.json\n  \
        fauxkey get --rp-id example.com --account alice")]
    Get(GetArgs),
    /// List the passkeys in the vault.
    #[command(
        after_help = "Examples:\n  fauxkey list\n  fauxkey list --rp-id example.com --all --json"
    )]
    List {
        /// Only passkeys of this RP ID.
        #[arg(long, value_name = "ID")]
        rp_id: Option<String>,
        /// Include passkeys hidden by a signal.
        #[arg(long)]
        all: bool,
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one passkey (never its private key).
    #[command(
        after_help = "Example:\n  fauxkey show 3q2-7w --json   # a unique prefix of the base64url id is enough"
    )]
    Show {
        /// The credential id (base64url), or a unique prefix of it.
        #[arg(allow_hyphen_values = true)]
        credential_id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a passkey.
    #[command(after_help = "Example:\n  fauxkey delete 3q2-7w")]
    Delete {
        /// The credential id (base64url), or a unique prefix of it.
        #[arg(allow_hyphen_values = true)]
        credential_id: String,
    },
    /// Send a WebAuthn signal (signalUnknownCredential, signalAllAcceptedCredentials,
    /// signalCurrentUserDetails) as an RP's page would.
    Signal {
        /// Which signal.
        #[command(subcommand)]
        signal: SignalCommand,
    },
    /// Un-hide a passkey that a signal hid.
    #[command(after_help = "Example:\n  fauxkey restore 3q2-7w")]
    Restore {
        /// The credential id (base64url), or a unique prefix of it.
        #[arg(allow_hyphen_values = true)]
        credential_id: String,
    },
    /// Show the log of signals received and what they changed.
    #[command(
        after_help = "Examples:\n  fauxkey events\n  fauxkey events --rp-id example.com --json"
    )]
    Events {
        /// Only events of this RP ID.
        #[arg(long, value_name = "ID")]
        rp_id: Option<String>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Print getClientCapabilities() of the emulated client.
    #[command(after_help = "Example:\n  fauxkey capabilities --json")]
    Capabilities {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print getInfo: AAGUID, versions, algorithms, extensions, options.
    #[command(after_help = "Example:\n  fauxkey info --json | jq -r .aaguid")]
    Info {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change the vault passphrase (re-wraps the vault key; nothing else changes).
    #[command(
        after_help = "Example:\n  FAUXKEY_PASSPHRASE=old FAUXKEY_NEW_PASSPHRASE=new fauxkey passwd"
    )]
    Passwd {
        /// Re-wrap with the fast, INSECURE KDF preset (tests and CI only).
        #[arg(long)]
        insecure_fast_kdf: bool,
    },
    /// Serve the WebAuthn API, the control plane and the browser shim over local HTTP.
    ///
    /// The first line of stdout is the base URL (e.g. http://127.0.0.1:43117); logs go to
    /// stderr. The default authenticator is in memory unless --vault (or FAUXKEY_VAULT) names
    /// a vault. Stops on Ctrl-C or SIGTERM.
    #[command(after_help = "Examples:\n  \
        fauxkey serve --listen 127.0.0.1:8080 --seed 1\n  \
        curl -s http://127.0.0.1:8080/webauthn/create -d '{\"origin\": \"https://example.com\", \"options\": {...}}'\n  \
        FAUXKEY_PASSPHRASE=s3cret fauxkey serve --vault test.fxk   # passkeys persist across restarts\n  \
        fauxkey serve --related-origins fetch   # pages on origins that RPID's /.well-known/webauthn lists may use RPID")]
    Serve(cli::serve::ServeArgs),
    /// Generate a deterministic corpus of golden and broken WebAuthn responses, with a
    /// manifest of the verdict a correct RP reaches on each, for an RP's test suite.
    #[command(after_help = "Examples:\n  \
        fauxkey fixtures --out tests/webauthn-fixtures --seed 1 --negative\n  \
        fauxkey fixtures --out fx --rp-id login.example.org --origin https://login.example.org --alg es256 --all-profiles")]
    Fixtures(cli::fixtures::FixturesArgs),
    /// List the provider profiles: AAGUID, flags, counter, attestation, and the sources.
    #[command(after_help = "Examples:\n  fauxkey profiles\n  \
        fauxkey profiles --json | jq -r '.[] | select(.name == \"bitwarden\") | .aaguid'")]
    Profiles {
        /// Print a JSON array (with sources and known deviations).
        #[arg(long)]
        json: bool,
    },
    /// Print the vault's test attestation root certificate (created on first use), for an RP
    /// test suite to trust: base64 DER on one line (as MDS3 lists roots), or PEM.
    #[command(
        after_help = "Examples:\n  fauxkey attestation-root --pem > fauxkey-root.pem\n  fauxkey attestation-root --pem --format tpm > fauxkey-tpm-root.pem"
    )]
    AttestationRoot {
        /// Print PEM instead of base64 DER.
        #[arg(long)]
        pem: bool,
        /// The attestation statement format the RP files this trust anchor under (py_webauthn's
        /// `pem_root_certs_bytes_by_fmt`, SimpleWebAuthn's `setRootCertificates({identifier})`):
        /// packed, tpm or fido-u2f. The one test root anchors each of them; this prints it and
        /// says so on stderr. `none` has no chain and is refused.
        #[arg(long, value_name = "FMT")]
        format: Option<String>,
    },
    /// Print a FIDO MDS3-style metadata statement for a profile (JSON), with the vault's test
    /// attestation root for profiles that attest with a certificate.
    #[command(after_help = "Example:\n  fauxkey metadata --profile yubikey-5 > yubikey-5.json")]
    Metadata {
        /// The profile (see `fauxkey profiles`).
        #[arg(long, value_name = "NAME")]
        profile: String,
    },
    /// Serve the authenticator over CTAPHID (64-byte HID reports) on a Unix socket or stdio,
    /// for real CTAP clients such as python-fido2.
    #[command(after_help = "Examples:\n  \
        fauxkey ctap --socket /tmp/fauxkey.sock --ephemeral\n  \
        fauxkey ctap --socket /tmp/fauxkey.sock --presence-delay-ms 1500   # the vault; slow touch\n  \
        fauxkey ctap --stdio --ephemeral --profile fauxkey < requests.bin > replies.bin")]
    Ctap(cli::ctap::CtapArgs),
    /// Manage the emulated key's CTAP PIN (kept in the vault as LEFT(SHA-256(PIN), 16)).
    #[command(after_help = "Examples:\n  \
        echo 1234 | fauxkey pin set\n  \
        printf '1234\\n24681357\\n' | fauxkey pin change\n  \
        fauxkey pin status --json")]
    Pin {
        /// What to do.
        #[command(subcommand)]
        command: cli::pin::PinCommand,
    },
    /// Write passkeys, private keys included, as a CXF, Bitwarden, KeePassXC, WebDriver or
    /// Playwright file; what the format cannot carry is reported on stderr.
    #[command(after_help = "Examples:\n  \
        fauxkey export --format cxf --out passkeys.cxf.json\n  \
        fauxkey export --format webdriver --rp-id example.com --out creds.json --json")]
    Export(cli::transfer::ExportArgs),
    /// Read passkeys from a CXF, Bitwarden, KeePassXC, WebDriver or Playwright file (the
    /// format detected); all or nothing, and never over an existing passkey without --replace.
    #[command(after_help = "Examples:\n  \
        fauxkey import passkeys.cxf.json\n  \
        fauxkey import --format bitwarden --replace bitwarden_export.json")]
    Import(cli::transfer::ImportArgs),
    /// Print a shell completion script.
    #[command(hide = true)]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The three WebAuthn signals.
#[derive(Debug, Subcommand)]
pub enum SignalCommand {
    /// signalUnknownCredential: the RP does not know this credential (fauxkey hides it).
    #[command(after_help = "Example:\n  \
        fauxkey signal unknown-credential --origin https://example.com --rp-id example.com --credential-id 3q2-7w...")]
    UnknownCredential {
        /// The caller's origin.
        #[arg(long, value_name = "URL")]
        origin: String,
        /// The RP ID.
        #[arg(long, value_name = "ID")]
        rp_id: String,
        /// The credential id, base64url.
        #[arg(long, value_name = "B64URL", allow_hyphen_values = true)]
        credential_id: String,
    },
    /// signalAllAcceptedCredentials: the user's passkeys not listed are hidden, listed ones shown.
    #[command(after_help = "Example:\n  \
        fauxkey signal all-accepted --origin https://example.com --rp-id example.com --user-id dXNlcg --credential-ids ID1,ID2")]
    AllAccepted {
        /// The caller's origin.
        #[arg(long, value_name = "URL")]
        origin: String,
        /// The RP ID.
        #[arg(long, value_name = "ID")]
        rp_id: String,
        /// The user handle, base64url.
        #[arg(long, value_name = "B64URL", allow_hyphen_values = true)]
        user_id: String,
        /// Every credential id the RP accepts for the user, comma-separated (may be empty).
        #[arg(long, value_name = "ID,ID,...", allow_hyphen_values = true)]
        credential_ids: String,
    },
    /// signalCurrentUserDetails: new name and display name for the user's passkeys.
    #[command(after_help = "Example:\n  \
        fauxkey signal user-details --origin https://example.com --rp-id example.com --user-id dXNlcg --name alice2 --display-name 'Alice Two'")]
    UserDetails {
        /// The caller's origin.
        #[arg(long, value_name = "URL")]
        origin: String,
        /// The RP ID.
        #[arg(long, value_name = "ID")]
        rp_id: String,
        /// The user handle, base64url.
        #[arg(long, value_name = "B64URL", allow_hyphen_values = true)]
        user_id: String,
        /// The account name.
        #[arg(long, value_name = "N")]
        name: String,
        /// The display name.
        #[arg(long, value_name = "D")]
        display_name: String,
    },
}

/// How the emulated user behaves.
#[derive(Debug, Args, Clone, Default)]
pub struct UserArgs {
    /// The user refuses the presence test (NotAllowedError).
    #[arg(long)]
    pub deny_presence: bool,
    /// User verification fails (NotAllowedError).
    #[arg(long, conflicts_with = "no_uv")]
    pub fail_uv: bool,
    /// The authenticator has no user verification (UV stays clear; `required` fails).
    #[arg(long)]
    pub no_uv: bool,
}

/// Arguments of `create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The caller's origin, e.g. https://example.com (RP mode).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "rp_id",
        conflicts_with = "rp_id"
    )]
    pub origin: Option<String>,
    /// The creation options JSON: a file, or - for stdin [default: stdin].
    #[arg(long, value_name = "FILE|-", requires = "origin")]
    pub options: Option<String>,
    /// Quick mode: the RP ID to register at (origin https://ID).
    #[arg(long, value_name = "ID", requires = "user")]
    pub rp_id: Option<String>,
    /// Quick mode: the account name.
    #[arg(long, value_name = "NAME", requires = "rp_id")]
    pub user: Option<String>,
    /// Quick mode: the display name [default: the account name].
    #[arg(long, value_name = "D", requires = "rp_id")]
    pub display_name: Option<String>,
    /// Quick mode: the algorithm.
    #[arg(long, value_enum, default_value_t = AlgArg::Es256, requires = "rp_id")]
    pub alg: AlgArg,
    /// How the emulated user behaves.
    #[command(flatten)]
    pub user_behaviour: UserArgs,
}

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The caller's origin, e.g. https://example.com (RP mode).
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "rp_id",
        conflicts_with = "rp_id"
    )]
    pub origin: Option<String>,
    /// The request options JSON: a file, or - for stdin [default: stdin].
    #[arg(long, value_name = "FILE|-", requires = "origin")]
    pub options: Option<String>,
    /// Quick mode: a discoverable login at this RP ID with a random challenge.
    #[arg(long, value_name = "ID")]
    pub rp_id: Option<String>,
    /// When several passkeys match, pick the one with this account name or base64url user handle.
    /// (A user handle may start with `-`, which base64url uses.)
    #[arg(long, value_name = "NAME|USER_HANDLE", allow_hyphen_values = true)]
    pub account: Option<String>,
    /// How the emulated user behaves.
    #[command(flatten)]
    pub user_behaviour: UserArgs,
}

/// `--alg` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgArg {
    /// ES256 (ECDSA P-256).
    Es256,
    /// EdDSA (Ed25519).
    Eddsa,
    /// ES384 (ECDSA P-384).
    Es384,
    /// ES512 (ECDSA P-521).
    Es512,
    /// RS256 (RSA-2048, PKCS#1 v1.5; what Windows Hello registers).
    Rs256,
}

impl AlgArg {
    /// The library's algorithm.
    pub fn algorithm(self) -> fauxkey::crypto::keys::Algorithm {
        use fauxkey::crypto::keys::Algorithm;
        match self {
            AlgArg::Es256 => Algorithm::Es256,
            AlgArg::Eddsa => Algorithm::EdDsa,
            AlgArg::Es384 => Algorithm::Es384,
            AlgArg::Es512 => Algorithm::Es512,
            AlgArg::Rs256 => Algorithm::Rs256,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        // A closed stdout (`fauxkey list | head -1`) ends the command quietly.
        Ok(()) | Err(cli::CliError::StdoutClosed) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fauxkey: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}
