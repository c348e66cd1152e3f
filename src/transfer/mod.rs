//! Moving passkeys in and out: one neutral record ([`Credential`]) and one module per exchange
//! format, each following that format's own documentation (FIDO CXF 1.0, Bitwarden's JSON export,
//! KeePassXC's `.passkey` file, the W3C WebDriver "Credential Parameters", Playwright's
//! `VirtualCredential`).
//!
//! Every conversion says what it could not carry: [`export`] returns the records the target
//! format drops a field of (or cannot hold at all), [`import`] the fields the source did not
//! carry and that were given defaults. The CLI prints that report on stderr and in `--json`; the
//! HTTP control plane returns it with the file.
//!
//! Import is all-or-nothing: [`import`] only parses (a malformed or truncated file is a
//! [`TransferError::Malformed`] naming the member that is wrong), and [`apply`] adds the parsed
//! records to a store in one change, refusing to replace an existing credential unless asked.

mod bitwarden;
mod cxf;
mod json;
mod keepassxc;
mod playwright;
mod webdriver;

use serde::Serialize;
use zeroize::Zeroizing;

use crate::b64url;
use crate::crypto::keys::Algorithm;
use crate::store::{CredProtect, Credential, CredentialStore, StoreError};

/// An exchange format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// FIDO Alliance Credential Exchange Format 1.0 (the JSON header of an export).
    Cxf,
    /// Bitwarden's unencrypted JSON export (`items[].login.fido2Credentials[]`).
    Bitwarden,
    /// KeePassXC's `.passkey` file (one JSON object, PEM private key).
    Keepassxc,
    /// W3C WebDriver "Credential Parameters" (the shape CDP's `WebAuthn.addCredential` takes).
    Webdriver,
    /// Playwright's `VirtualCredential` list.
    Playwright,
}

impl Format {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [Format; 5] = [
        Format::Cxf,
        Format::Bitwarden,
        Format::Keepassxc,
        Format::Webdriver,
        Format::Playwright,
    ];

    /// The name the CLI and the HTTP API use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Cxf => "cxf",
            Format::Bitwarden => "bitwarden",
            Format::Keepassxc => "keepassxc",
            Format::Webdriver => "webdriver",
            Format::Playwright => "playwright",
        }
    }

    /// The format with this name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the format can hold a key of this algorithm. A `matches!`, not a `match`, so an
    /// algorithm added later is "not carried" until a format is taught it.
    pub fn carries(self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            // Bitwarden's record names its key "ECDSA" on "P-256" and nothing else.
            (Format::Bitwarden, Algorithm::Es256)
                // The others hold any PKCS#8 (RFC 5958) key; Chromium's addCredential accepts
                // P-256 only, which the README notes.
                | (
                    Format::Cxf | Format::Keepassxc | Format::Webdriver | Format::Playwright,
                    Algorithm::Es256 | Algorithm::EdDsa
                )
        )
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A field of a credential that a conversion could not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Field {
    /// The whole credential: the format cannot hold it (see the loss's `detail`).
    Credential,
    /// The signature counter.
    Counter,
    /// The BE and BS flags.
    BackupFlags,
    /// Hidden by a signal.
    Hidden,
    /// The hmac-secret (PRF) keys.
    HmacSecret,
    /// The key's algorithm.
    Algorithm,
    /// The account name.
    UserName,
    /// The account display name.
    UserDisplayName,
    /// The RP's name.
    RpName,
    /// Whether the credential is discoverable.
    Discoverable,
    /// The creation time.
    Created,
    /// The credProtect level.
    CredProtect,
}

/// One thing a conversion lost or defaulted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Loss {
    /// The credential (base64url id).
    pub credential_id: String,
    /// Its RP ID.
    pub rp_id: String,
    /// The field.
    pub field: Field,
    /// What happened to it.
    pub detail: String,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.credential_id, self.rp_id, self.detail
        )
    }
}

/// Collects losses for one credential.
pub(crate) struct Losses<'a> {
    credential_id: String,
    rp_id: String,
    out: &'a mut Vec<Loss>,
}

impl<'a> Losses<'a> {
    pub(crate) fn new(id: &[u8], rp_id: &str, out: &'a mut Vec<Loss>) -> Self {
        Losses {
            credential_id: b64url::encode(id),
            rp_id: rp_id.to_owned(),
            out,
        }
    }

    pub(crate) fn add(&mut self, field: Field, detail: impl Into<String>) {
        self.out.push(Loss {
            credential_id: self.credential_id.clone(),
            rp_id: self.rp_id.clone(),
            field,
            detail: detail.into(),
        });
    }

    /// Reports the fields `c` has that the format drops, as export does.
    pub(crate) fn dropped(&mut self, c: &Credential, format: Format, carried: &[Field]) {
        let has = |f: Field| !carried.contains(&f);
        if has(Field::Counter) && c.sign_count != 0 {
            self.add(
                Field::Counter,
                format!("signature counter {} not carried by {format}", c.sign_count),
            );
        }
        if has(Field::BackupFlags) {
            self.add(
                Field::BackupFlags,
                format!(
                    "BE={} BS={} not carried by {format}",
                    u8::from(c.backup_eligible),
                    u8::from(c.backup_state)
                ),
            );
        }
        if has(Field::Hidden) && c.hidden {
            self.add(
                Field::Hidden,
                format!("hidden by a signal; {format} cannot say so (exported as visible)"),
            );
        }
        if has(Field::HmacSecret) && c.cred_random.is_some() {
            self.add(
                Field::HmacSecret,
                format!("hmac-secret/PRF keys not carried by {format}"),
            );
        }
        if has(Field::UserName) && c.user_name.is_some() {
            self.add(
                Field::UserName,
                format!("user name not carried by {format}"),
            );
        }
        if has(Field::UserDisplayName) && c.user_display_name.is_some() {
            self.add(
                Field::UserDisplayName,
                format!("user display name not carried by {format}"),
            );
        }
        if has(Field::RpName) && c.rp_name.is_some() {
            self.add(Field::RpName, format!("RP name not carried by {format}"));
        }
        if has(Field::Discoverable) && !c.discoverable {
            self.add(
                Field::Discoverable,
                format!("non-discoverable; {format} holds passkeys only (imports as discoverable)"),
            );
        }
        if has(Field::Created) {
            self.add(
                Field::Created,
                format!("creation time not carried by {format}"),
            );
        }
        if has(Field::CredProtect) && c.cred_protect != CredProtect::UvOptional {
            self.add(
                Field::CredProtect,
                format!(
                    "credProtect level {} not carried by {format}",
                    c.cred_protect.level()
                ),
            );
        }
    }

    /// Reports the fields the source format did not carry, as import does (defaults applied).
    pub(crate) fn defaulted(&mut self, format: Format, carried: &[Field], c: &Credential) {
        let missing = |f: Field| !carried.contains(&f);
        if missing(Field::Counter) {
            self.add(
                Field::Counter,
                format!("{format} carries no counter: set to 0"),
            );
        }
        if missing(Field::BackupFlags) {
            self.add(
                Field::BackupFlags,
                format!(
                    "{format} carries no BE/BS: set to the profile's BE={} BS={}",
                    u8::from(c.backup_eligible),
                    u8::from(c.backup_state)
                ),
            );
        }
        if missing(Field::UserName) {
            self.add(Field::UserName, format!("{format} carries no user name"));
        }
        if missing(Field::UserDisplayName) {
            self.add(
                Field::UserDisplayName,
                format!("{format} carries no user display name"),
            );
        }
        if missing(Field::Created) {
            self.add(
                Field::Created,
                format!("{format} carries no creation time: set to the import time"),
            );
        }
    }
}

/// What [`export`] produced.
#[derive(Debug)]
pub struct Exported {
    /// The file's text (it holds private keys: wiped on drop).
    pub text: Zeroizing<String>,
    /// How many credentials it holds.
    pub count: usize,
    /// What the format could not carry; `Field::Credential` entries were left out entirely.
    pub losses: Vec<Loss>,
}

/// What [`import`] parsed.
#[derive(Debug)]
pub struct Imported {
    /// The format it was read as.
    pub format: Format,
    /// The credentials, not yet in any store (`sequence` is set by [`apply`]).
    pub credentials: Vec<Credential>,
    /// What the source did not carry (defaults were applied).
    pub losses: Vec<Loss>,
}

/// What the importer assumes for fields a format does not carry (the default: no BE/BS,
/// created at the epoch).
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportDefaults {
    /// BE for formats without it (the target authenticator's profile).
    pub backup_eligible: bool,
    /// BS for formats without it.
    pub backup_state: bool,
    /// The creation time for formats without one (ms since the Unix epoch).
    pub now_ms: u64,
}

impl ImportDefaults {
    /// The defaults an authenticator with `config` gives: its profile's BE/BS (a format
    /// without flags imports with the flags the target would have set at registration; an RP
    /// refuses a login whose BE differs from the one it registered, so the loss report says
    /// which were assumed).
    pub fn for_config(config: &crate::Config, now_ms: u64) -> Self {
        ImportDefaults {
            backup_eligible: config.backup_eligible,
            backup_state: config.backup_eligible && config.backup_state,
            now_ms,
        }
    }
}

/// A transfer failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The input is not valid JSON, or is cut short.
    #[error("not valid {format} JSON at line {line}, column {column}: {reason}")]
    Syntax {
        /// The format being read.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        reason: String,
    },
    /// A member is missing or wrong.
    #[error("{format}: {path}: {reason}")]
    Malformed {
        /// The format being read.
        format: Format,
        /// Where in the document (`accounts[0].items[2].credentials[0].key`).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The format could not be told from the content.
    #[error("cannot tell the format of this file: {0}; pass --format")]
    UnknownFormat(String),
    /// The format cannot hold what was asked for.
    #[error("{0}")]
    Unsupported(String),
    /// Import would replace credentials already present.
    #[error(
        "{} credential(s) already exist ({}); nothing was imported: pass --replace to overwrite them",
        ids.len(),
        ids.join(", ")
    )]
    Exists {
        /// Their base64url ids.
        ids: Vec<String>,
    },
    /// The same credential id twice in one file.
    #[error("credential {0} appears twice in the file; nothing was imported")]
    Duplicate(String),
    /// The store could not be written.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Writes `credentials` in `format`. Credentials the format cannot hold are left out and
/// reported (`Field::Credential`); [`Exported::count`] says how many went in.
pub fn export(format: Format, credentials: &[&Credential]) -> Result<Exported, TransferError> {
    let mut losses = Vec::new();
    let mut kept = Vec::new();
    for c in credentials {
        let mut l = Losses::new(&c.id, &c.rp_id, &mut losses);
        if !format.carries(c.key.algorithm()) {
            l.add(
                Field::Credential,
                format!(
                    "left out: {format} does not carry {} keys",
                    c.key.algorithm().name()
                ),
            );
            continue;
        }
        // CXF 1.0 §passkey: "Passkeys using a non-zero signature counter MUST be excluded from
        // the export and the exporter SHOULD inform the user".
        if format == Format::Cxf && c.sign_count != 0 {
            l.add(
                Field::Credential,
                format!(
                    "left out: CXF excludes passkeys with a non-zero signature counter (it is {})",
                    c.sign_count
                ),
            );
            continue;
        }
        kept.push(*c);
    }
    let text = match format {
        Format::Cxf => cxf::write(&kept, &mut losses)?,
        Format::Bitwarden => bitwarden::write(&kept, &mut losses)?,
        Format::Keepassxc => keepassxc::write(&kept, &mut losses)?,
        Format::Webdriver => webdriver::write(&kept, &mut losses)?,
        Format::Playwright => playwright::write(&kept, &mut losses)?,
    };
    Ok(Exported {
        text,
        count: kept.len(),
        losses,
    })
}

/// Tells the format from the content: the first format whose distinctive members are present.
pub fn detect(text: &str) -> Result<Format, TransferError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| TransferError::Syntax {
            format: "exchange-file",
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
    let first = match &value {
        serde_json::Value::Array(items) => items.first().cloned().unwrap_or_default(),
        other => other.clone(),
    };
    let has = |v: &serde_json::Value, k: &str| v.get(k).is_some();
    if has(&value, "exporterRpId") || (has(&value, "version") && has(&value, "accounts")) {
        Ok(Format::Cxf)
    } else if has(&value, "items") && has(&value, "encrypted") || text.contains("fido2Credentials")
    {
        Ok(Format::Bitwarden)
    } else if has(&first, "relyingParty") && has(&first, "privateKey") {
        Ok(Format::Keepassxc)
    } else if has(&first, "isResidentCredential") || has(&first, "credentialId") {
        Ok(Format::Webdriver)
    } else if (has(&first, "id") && has(&first, "privateKey")) || has(&value, "credentials") {
        Ok(Format::Playwright)
    } else if matches!(value, serde_json::Value::Array(ref a) if a.is_empty()) {
        Err(TransferError::UnknownFormat("an empty list".into()))
    } else {
        Err(TransferError::UnknownFormat(
            "no CXF header, Bitwarden items, KeePassXC relyingParty, WebDriver credentialId or \
             Playwright id/privateKey member"
                .into(),
        ))
    }
}

/// Reads an exchange file (the format detected unless given). Nothing is stored.
pub fn import(
    text: &str,
    format: Option<Format>,
    defaults: &ImportDefaults,
) -> Result<Imported, TransferError> {
    let format = match format {
        Some(f) => f,
        None => detect(text)?,
    };
    let value = json::parse(text, format)?;
    let mut losses = Vec::new();
    let credentials = match format {
        Format::Cxf => cxf::read(&value, defaults, &mut losses)?,
        Format::Bitwarden => bitwarden::read(&value, defaults, &mut losses)?,
        Format::Keepassxc => keepassxc::read(&value, defaults, &mut losses)?,
        Format::Webdriver => webdriver::read(&value, defaults, &mut losses)?,
        Format::Playwright => playwright::read(&value, defaults, &mut losses)?,
    };
    let mut seen = std::collections::HashSet::new();
    for c in &credentials {
        if !seen.insert(c.id.clone()) {
            return Err(TransferError::Duplicate(b64url::encode(&c.id)));
        }
    }
    Ok(Imported {
        format,
        credentials,
        losses,
    })
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// Newly added (base64url ids).
    pub added: Vec<String>,
    /// Replaced existing credentials (only with `replace`).
    pub replaced: Vec<String>,
}

/// Adds imported credentials to `store`. Without `replace`, an id already present refuses the
/// whole import ([`TransferError::Exists`]) before anything is written. `sequence` numbers
/// continue after the store's.
pub fn apply(
    store: &mut dyn CredentialStore,
    credentials: Vec<Credential>,
    replace: bool,
) -> Result<Applied, TransferError> {
    let existing = clashes(store, &credentials);
    if !existing.is_empty() && !replace {
        return Err(TransferError::Exists { ids: existing });
    }
    let mut applied = Applied::default();
    let mut next = store.max_sequence();
    for mut c in credentials {
        next += 1;
        c.sequence = next;
        let id = b64url::encode(&c.id);
        if store.get(&c.id).is_some() {
            applied.replaced.push(id);
        } else {
            applied.added.push(id);
        }
        store.insert(c)?;
    }
    Ok(applied)
}

/// The base64url ids of `credentials` already in `store` (what [`apply`] refuses without
/// `replace`): a front end checks this before it opens a write.
pub fn clashes(store: &dyn CredentialStore, credentials: &[Credential]) -> Vec<String> {
    credentials
        .iter()
        .filter(|c| store.get(&c.id).is_some())
        .map(|c| b64url::encode(&c.id))
        .collect()
}

/// The private key as PKCS#8 DER for an exchange file. Ed25519 keys are written as PKCS#8 v1
/// (RFC 8410 §7: the 32-byte seed only), which every PKCS#8 reader takes; the v2 form with the
/// public key (RFC 5958) is refused by some. Other keys as the key type writes them.
pub(crate) fn pkcs8(
    key: &crate::crypto::keys::PrivateKey,
) -> Result<Zeroizing<Vec<u8>>, TransferError> {
    /// RFC 8410 §7: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }.
    const ED25519_V1_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    if key.algorithm() == Algorithm::EdDsa {
        let seed = key.secret_bytes();
        let mut der = Zeroizing::new(ED25519_V1_PREFIX.to_vec());
        der.extend_from_slice(&seed);
        return Ok(der);
    }
    key.to_pkcs8_der()
        .map_err(|e| TransferError::Unsupported(format!("cannot encode a key: {e}")))
}

/// A credential with every field a format may omit set from `defaults`.
pub(crate) fn base_credential(
    id: Vec<u8>,
    rp_id: String,
    user_handle: Vec<u8>,
    key: crate::crypto::keys::PrivateKey,
    defaults: &ImportDefaults,
) -> Credential {
    Credential {
        id,
        rp_id,
        rp_name: None,
        user_handle,
        user_name: None,
        user_display_name: None,
        key,
        discoverable: true,
        sign_count: 0,
        backup_eligible: defaults.backup_eligible,
        backup_state: defaults.backup_eligible && defaults.backup_state,
        created_ms: defaults.now_ms,
        last_used_ms: None,
        hidden: false,
        hidden_at_ms: None,
        cred_protect: CredProtect::UvOptional,
        cred_random: None,
        large_blob_key: None,
        cred_blob: None,
        sequence: 0,
        u2f_app_param: None,
    }
}

#[cfg(test)]
mod tests;
