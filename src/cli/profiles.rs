//! `fauxkey profiles`, `attestation-root` and `metadata`, and how `init --profile` turns a profile
//! name (or a custom profile file) into a vault's settings.

use std::path::Path;

use fauxkey::attestation::{metadata, AttestationCa};
use fauxkey::authenticator::{AttestationMode, CounterPolicy, U2fMode};
use fauxkey::profiles::{self, Profile};
use fauxkey::vault::payload::{ClientSettings, Extras};

use super::{open, print_json, CliError, Result};

/// A built-in profile by name, or a custom one when `spec` names a `.json` file.
fn resolve(spec: &str) -> Result<Profile> {
    profiles::resolve(spec).map_err(|e| CliError::Usage(e.to_string()))
}

/// The client settings a vault at `path` stores, if there is a vault and it has them.
pub(super) fn stored_client(path: &Path) -> Result<Option<ClientSettings>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(open(path)?.extras().client.clone())
}

/// The profile for a new vault, with its attestation certificate issued by a fresh test CA,
/// and the optional vault parts (the CA, the client settings).
pub(super) fn for_new_vault(spec: &str) -> Result<(Profile, Extras)> {
    let profile = resolve(spec)?;
    let mut rng = fauxkey::env::os_rng();
    let ca = AttestationCa::generate(&mut rng).map_err(|e| CliError::Other(e.to_string()))?;
    let profile = profile
        .with_attestation(&ca, &mut rng)
        .map_err(|e| CliError::Other(e.to_string()))?;
    let extras = Extras {
        attestation_ca: Some(ca),
        client: Some(profile.client_settings()),
        ..Extras::default()
    };
    Ok((profile, extras))
}

/// `fauxkey profiles [--json]`.
pub(super) fn list(json: bool) -> Result<()> {
    let all = profiles::builtin();
    if json {
        let list: Vec<_> = all.iter().map(Profile::to_json).collect();
        return print_json(&list);
    }
    outln!(
        "{:<24} {:<36} {:<12} {:<9} {:<8} {:<15} DESCRIPTION",
        "NAME",
        "AAGUID",
        "ATTESTATION",
        "BE/BS",
        "COUNTER",
        "ATTACHMENT"
    )?;
    for p in &all {
        let c = &p.config;
        let attestation = match c.attestation {
            _ if c.u2f == U2fMode::Only => "fido-u2f",
            AttestationMode::Packed => "packed x5c",
            AttestationMode::Tpm => "tpm",
            AttestationMode::AndroidKey => "android-key",
            AttestationMode::Apple => "apple",
            AttestationMode::Compound => "compound",
            AttestationMode::PackedSelf => "packed self",
            AttestationMode::None | AttestationMode::AlwaysNone => "none",
        };
        let flags = format!(
            "{}/{}",
            u8::from(c.backup_eligible),
            u8::from(c.backup_eligible && c.backup_state)
        );
        // BE=BS=0 at registration, the configured flags on logins.
        let flags = if c.unsynced_at_creation {
            format!("0/0→{flags}")
        } else {
            flags
        };
        let counter = match c.counter {
            CounterPolicy::PerCredential => "+1",
            CounterPolicy::AlwaysZero => "0",
        };
        outln!(
            "{:<24} {:<36} {:<12} {:<9} {:<8} {:<15} {}",
            p.name,
            c.aaguid.hyphenated(),
            attestation,
            flags,
            counter,
            p.attachment.as_str(),
            p.description
        )?;
    }
    eprintln!("sources and deviations: fauxkey profiles --json");
    Ok(())
}

/// The vault's CA, created and stored on first use (vaults made before the attestation lab).
fn vault_ca(path: &Path) -> Result<AttestationCa> {
    let mut vault = open(path)?;
    if let Some(ca) = &vault.extras().attestation_ca {
        return Ok(ca.clone());
    }
    let mut rng = fauxkey::env::os_rng();
    let ca = AttestationCa::generate(&mut rng).map_err(|e| CliError::Other(e.to_string()))?;
    let stored = ca.clone();
    vault.modify_settings(|_, extras| {
        // Another process may have added one meanwhile: keep the first.
        extras.attestation_ca.get_or_insert(stored).clone()
    })?;
    let ca = vault.extras().attestation_ca.clone().unwrap_or(ca);
    eprintln!("created a test attestation CA in {}", path.display());
    Ok(ca)
}

/// `fauxkey attestation-root [--pem] [--format FMT]`.
pub(super) fn attestation_root(path: &Path, pem: bool, format: Option<&str>) -> Result<()> {
    let rooted = fauxkey::attestation::metadata::ROOTED_FORMATS;
    if let Some(fmt) = format {
        if !rooted.contains(&fmt) {
            let why = if fmt == "none" {
                "a `none` attestation carries no certificate chain, so there is no root to trust"
                    .to_owned()
            } else {
                format!("fauxkey issues no attestation chains for fmt {fmt:?}")
            };
            return Err(CliError::Usage(format!(
                "{why}; formats with a root: {}",
                rooted.join(", ")
            )));
        }
    }
    let ca = vault_ca(path)?;
    if let Some(fmt) = format {
        eprintln!(
            "trust anchor for fmt {fmt}: the vault's test root, which anchors every format fauxkey \
             attests with a chain ({})",
            rooted.join(", ")
        );
    }
    if pem {
        out!(
            "{}",
            ca.root_pem().map_err(|e| CliError::Other(e.to_string()))?
        )?;
    } else {
        outln!(
            "{}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, ca.root_der())
        )?;
    }
    Ok(())
}

/// `fauxkey metadata --profile NAME`.
pub(super) fn metadata(path: &Path, spec: &str) -> Result<()> {
    let mut profile = resolve(spec)?;
    let u2f_only = profile.config.u2f == U2fMode::Only;
    let root = if u2f_only
        || matches!(
            profile.config.attestation,
            AttestationMode::Packed
                | AttestationMode::Tpm
                | AttestationMode::AndroidKey
                | AttestationMode::Apple
        ) {
        Some(vault_ca(path)?)
    } else {
        None
    };
    // A U2F statement names its attestation certificate: the one of a U2F-only vault.
    if u2f_only {
        let vault = open(path)?;
        let settings = vault.settings();
        match &settings.attestation_cert {
            Some(cert) if settings.u2f == U2fMode::Only => {
                profile.config.attestation_cert = Some(cert.clone());
            }
            _ => eprintln!(
                "note: {} has no U2F attestation certificate (`fauxkey init --profile u2f-key` \
                 makes one), so attestationCertificateKeyIdentifiers is empty",
                path.display()
            ),
        }
    }
    let statement =
        metadata::statement(&profile, root.as_ref()).map_err(|e| CliError::Other(e.to_string()))?;
    print_json(&statement)
}
