//! Provider profiles: named bundles of what an emulated passkey provider is (the authenticator's
//! [`Config`]) and how the client in front of it reports itself (its attachment).
//!
//! Every front end (CLI, HTTP server, fixture generator, CTAPHID) selects a profile by name
//! through [`find`]; [`builtin`] lists them in a stable order.

mod custom;

use uuid::Uuid;

pub use custom::{from_file, from_json, ProfileFileError};

use crate::attestation::{AttestationCa, AttestationError};
use crate::authenticator::{
    AttestationMode, CounterPolicy, CredentialIdFormat, DeviceInfo, U2fMode,
};
use crate::client::conditional::ConditionalSupport;
use crate::client::Attachment;
use crate::crypto::keys::Algorithm;
use crate::env::Rng;
use crate::store::CredentialStore;
use crate::vault::payload::ClientSettings;
use crate::{Authenticator, Client, Config};

/// One emulated passkey provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The name used on the command line and in the HTTP API (`fauxkey`, `bitwarden`, …).
    pub name: String,
    /// One line saying what it emulates.
    pub description: String,
    /// The authenticator's behaviour.
    pub config: Config,
    /// `authenticatorAttachment` the client reports.
    pub attachment: Attachment,
    /// The vendor named in the attestation certificate's O and in the metadata statement.
    pub vendor: String,
    /// The client in front of it zeroes the AAGUID under `attestation: "none"` (Windows does).
    pub zero_aaguid_for_none: bool,
    /// Where the facts come from (see `docs/profiles-research.md` for the full evidence).
    pub sources: Vec<String>,
    /// Where fauxkey knowingly differs from the real provider, or relies on unverified facts.
    pub deviations: Vec<String>,
}

impl Profile {
    /// An authenticator with this profile's config over `store`. A profile that attests with a
    /// certificate needs [`Profile::with_attestation`] first; without it, it self-attests.
    pub fn authenticator<S: CredentialStore>(&self, store: S) -> Authenticator<S> {
        Authenticator::new(self.config.clone(), store)
    }

    /// A client (with this profile's attachment and AAGUID handling) in front of `authenticator`.
    pub fn client<S: CredentialStore>(&self, authenticator: Authenticator<S>) -> Client<S> {
        self.client_settings().apply(Client::new(authenticator))
    }

    /// This profile with a packed attestation certificate for its AAGUID issued by `ca`, when
    /// it attests with one ([`AttestationMode::Packed`]), a TPM AIK chain
    /// ([`AttestationMode::Tpm`]), an "Android Keystore" intermediate
    /// ([`AttestationMode::AndroidKey`]), an Apple-style intermediate ([`AttestationMode::Apple`]),
    /// the one of these a compound statement's members need ([`AttestationMode::Compound`]), or
    /// a U2F attestation certificate for a U2F-only key
    /// ([`U2fMode::Only`]); otherwise unchanged.
    pub fn with_attestation(
        mut self,
        ca: &AttestationCa,
        rng: &mut Rng,
    ) -> Result<Self, AttestationError> {
        if self.config.attestation == AttestationMode::Packed {
            let cn = format!("{} (fauxkey test attestation)", self.name);
            self.config.attestation_cert =
                Some(ca.issue(self.config.aaguid, &self.vendor, &cn, rng)?);
        }
        if self.config.attestation == AttestationMode::Tpm {
            self.config.attestation_cert = Some(ca.issue_tpm(self.config.aaguid, rng)?);
        }
        if self.config.attestation == AttestationMode::AndroidKey {
            self.config.attestation_cert = Some(ca.issue_android_key(rng)?);
        }
        if self.config.attestation == AttestationMode::Apple {
            self.config.attestation_cert = Some(ca.issue_apple_ca(rng)?);
        }
        // A compound statement's one certificate-bearing member (if any) gets its certificate.
        if self.config.attestation == AttestationMode::Compound {
            let member = self
                .config
                .compound_members
                .iter()
                .find(|m| m.needs_certificate());
            self.config.attestation_cert = match member {
                Some(AttestationMode::Tpm) => Some(ca.issue_tpm(self.config.aaguid, rng)?),
                Some(AttestationMode::Apple) => Some(ca.issue_apple_ca(rng)?),
                _ => None,
            };
        }
        // A U2F-only key attests registrations with its U2F certificate (fido-u2f).
        if self.config.u2f == U2fMode::Only {
            self.config.attestation_cert = Some(ca.issue_u2f(&self.vendor, rng)?);
        }
        Ok(self)
    }

    /// The client half of the profile, as a vault stores it ([`ClientSettings::apply`] puts it
    /// back on a client).
    pub fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            profile: self.name.clone(),
            attachment: self.attachment,
            zero_aaguid_for_none: self.zero_aaguid_for_none,
        }
    }

    /// The profile as JSON (what `fauxkey profiles --json` prints; never any key).
    pub fn to_json(&self) -> serde_json::Value {
        let c = &self.config;
        let mut json = serde_json::json!({
            "name": self.name,
            "description": self.description,
            "vendor": self.vendor,
            "aaguid": c.aaguid.hyphenated().to_string(),
            "algorithms": c.algorithms.iter().map(|a| a.cose_id()).collect::<Vec<_>>(),
            "attestation": match c.attestation {
                _ if c.u2f == U2fMode::Only => "fido-u2f (x5c from the vault's test CA)",
                AttestationMode::None => "none (packed self if the request's attestationFormats asks)",
                AttestationMode::PackedSelf => "packed (self)",
                AttestationMode::Packed => "packed (x5c from the vault's test CA)",
                AttestationMode::AlwaysNone => "none (always)",
                AttestationMode::Tpm => "tpm (AIK chain from the vault's test CA)",
                AttestationMode::AndroidKey => "android-key (per-credential certificate under the vault's test CA)",
                AttestationMode::Apple => "apple (a leaf per credential under the vault's test Apple-style CA)",
                AttestationMode::Compound => "compound (one statement per member in compoundFormats)",
            },
            "backupEligible": c.backup_eligible,
            "backupState": c.backup_eligible && c.backup_state,
            "counter": match c.counter {
                CounterPolicy::PerCredential => "per-credential, +1 per assertion",
                CounterPolicy::AlwaysZero => "always 0",
            },
            "transports": c.transports,
            "authenticatorAttachment": self.attachment.as_str(),
            "alwaysVerifiesUser": c.always_uv,
            "extensions": c.extensions,
            "credentialId": match c.credential_id_format {
                CredentialIdFormat::Random => format!("{} random bytes", c.credential_id_length.clamp(16, 64)),
                CredentialIdFormat::UuidBytes => "16 bytes of a v4 UUID".to_owned(),
                CredentialIdFormat::UuidText => "36-byte ASCII v4 UUID".to_owned(),
            },
            "zeroesAaguidForNone": self.zero_aaguid_for_none,
            "unsyncedAtCreation": c.unsynced_at_creation,
            "u2f": c.u2f.as_str(),
            "sources": self.sources,
            "deviations": self.deviations,
        });
        // Only a compound profile has members to show (the built-in profiles' JSON is unchanged).
        if c.attestation == AttestationMode::Compound {
            let names: Vec<&str> = c
                .compound_members
                .iter()
                .map(|m| m.profile_name())
                .collect();
            json["compoundFormats"] = serde_json::json!(names);
        }
        json
    }
}

/// The profile names [`find`] knows, in listing order.
pub fn names() -> Vec<String> {
    builtin().into_iter().map(|p| p.name).collect()
}

fn aaguid(text: &str) -> Uuid {
    // Every literal below is a well-formed UUID; a typo fails the `aaguids_parse` test.
    Uuid::parse_str(text).unwrap_or(Uuid::nil())
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

// Source ids, as in docs/profiles-research.md.
const S1: &str =
    "S1 community AAGUID list: github.com/passkeydeveloper/passkey-authenticator-aaguids";
const S2: &str = "S2 bitwarden/clients fido2-authenticator.service.ts";
const S3: &str = "S3 bitwarden/clients fido2-client.service.ts";
const S4: &str = "S4 bitwarden/clients apps/browser webauthn-utils.ts";
const S5: &str = "S5 bitwarden/clients credential-id-utils.ts";
const S6: &str = "S6 bitwarden/contributing-docs passkey provider overview";
const S7: &str = "S7 keepassxreboot/keepassxc src/browser/BrowserPasskeys.cpp";
const S8: &str = "S8 keepassxreboot/keepassxc src/browser/BrowserPasskeys.h (ID_BYTES 32)";
const S9: &str = "S9 keepassxreboot/keepassxc src/browser/BrowserCbor.cpp";
const S10: &str =
    "S10 KeePassXC 2.7.12 release notes (BE/BS), github.com/keepassxreboot/keepassxc/pull/13042";
const S12: &str = "S12 1Password/passkey-rs passkey-authenticator make_credential.rs";
const S13: &str = "S13 1Password/passkey-rs passkey-authenticator authenticator.rs";
const S14: &str = "S14 1Password/passkey-rs passkey-types ctap2/flags.rs";
const S15: &str = "S15 1Password/passkey-rs attestation_fmt.rs test (captured YubiKey 5 authData)";
const S16: &str = "S16 chromium device/fido/enclave/enclave_protocol_utils.cc";
const S17: &str = "S17 chromium components/webauthn/core/browser/passkey_model_utils.cc";
const S20: &str = "S20 blog.millerti.me/2022/07/07/apple-passkeys-direct-attestation-test-july-6-2022 (Safari capture)";
const S23: &str =
    "S23 github.com/supabase/auth/pull/2779 (iCloud BE=0 before the first sync, 1 later)";
const S22: &str = "S22 github.com/lbuchs/WebAuthn/pull/100 (Apple counter stays 0)";
const S24: &str = "S24 github.com/passkeydeveloper/passkey-authenticator-aaguids/issues/55 (Windows zeroes the AAGUID)";
const S25: &str = "S25 github.com/lbuchs/WebAuthn/issues/11, github.com/gravitational/teleport/pull/16360 (RS256, tpm)";
const S27: &str = "S27 github.com/linuxchata/fido2/issues/166 (Windows Hello counter increments)";
const S28: &str = "S28 github.com/kanidm/webauthn-rs/issues/105 (Windows Hello capture)";
const S29: &str = "S29 github.com/kanidm/webauthn-rs/issues/229 (Dashlane capture, 2022)";
const S30: &str = "S30 Yubico's AAGUID list (yubi.co/aaguids) as reproduced in the entraYK module";
const S31: &str = "S31 getInfo and metadata statement of a YubiKey 5 NFC, firmware 5.4.2";
const S32: &str = "S32 this repository";
const S38: &str = "S38 github.com/w3c/webauthn/issues/1819 (Google on android-key: batch-key basic attestation, the leaf key is the credential key, challenge = clientDataHash)";
const S39: &str = "S39 source.android.com/docs/security/features/keystore/attestation (KeyDescription schema, KeyMint 3 = version 300)";
const S40: &str =
    "S40 FIDO MDS3 entry \"Android Key Attestation\", AAGUID b93fd961-f2e6-462f-b122-82002247de78";
const S36: &str = "S36 github.com/web-auth/webauthn-framework/issues/148 (iOS 14 Safari: fmt apple, zero AAGUID even with direct)";
const S37: &str = "S37 WebAuthn L3 §8.8 Apple Anonymous Attestation; Apple's WWDC20 \"Meet Face ID and Touch ID for the web\" (ES256, per-credential anonymous certificate)";
const S31B: &str =
    "S31b github.com/Yubico/libfido2/issues/633 (raw getInfo CBOR of a YubiKey 5, firmware 5.4.3)";

/// iCloud Keychain's authenticator settings (shared by both iCloud profiles).
fn icloud_config() -> Config {
    Config {
        aaguid: aaguid("fbfc3007-154e-4ecc-8c0b-6e020557d7bd"), // S1
        algorithms: vec![Algorithm::Es256], // S20: ES256 chosen from [-7, -257]; others untested
        attestation: AttestationMode::AlwaysNone, // S20: none even with "direct"
        backup_eligible: true,              // S20: flags 0x5d
        backup_state: true,                 // S20
        counter: CounterPolicy::AlwaysZero, // S20, S22
        credential_id_length: 20,           // S20 (one 2022 sample)
        transports: strings(&["hybrid", "internal"]), // S20 ("cable", since renamed hybrid)
        always_uv: true,                    // S20: UV set on every response
        extensions: strings(&["hmac-secret"]), // prf on iOS 18 / macOS 15: *unverified* (blog only)
        account_chooser: true,              // fauxkey choice: the platform sheet lists accounts
        ..Config::default()
    }
}

/// Every built-in profile, `fauxkey` first. Each value carries its source id (see the
/// `S…` constants above and docs/profiles-research.md); *unverified* marks a value no source
/// was found for (a plausible choice, not a fact).
pub fn builtin() -> Vec<Profile> {
    vec![
        Profile {
            name: "fauxkey".into(),
            description: "fauxkey's own provider: its own AAGUID, synced-passkey flags (BE=BS=1), \
                          per-credential counters, an account chooser, every algorithm"
                .into(),
            config: Config {
                account_chooser: true,
                // ES256, EdDSA, ES384, ES512, RS256: the RP's first listed one is used.
                algorithms: Algorithm::ALL.to_vec(),
                // Every CTAP extension fauxkey implements, large blobs included.
                extensions: crate::authenticator::EMULATED_EXTENSIONS
                    .map(String::from)
                    .to_vec(),
                ..Config::default()
            },
            attachment: Attachment::Platform,
            vendor: "fauxkey".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S32]),
            deviations: Vec::new(),
        },
        Profile {
            name: "icloud-keychain".into(),
            description: "Apple iCloud Keychain (\"Apple Passwords\") as Safari reports it".into(),
            config: icloud_config(),
            attachment: Attachment::Platform, // S20
            vendor: "Apple Inc.".into(),
            zero_aaguid_for_none: false, // S1 lists a non-zero AAGUID for current releases
            sources: strings(&[S1, S20, S22]),
            deviations: strings(&[
                "the BE=0-before-sync quirk (S23) is the separate icloud-keychain-unsynced profile",
                "prf support is unverified",
            ]),
        },
        Profile {
            name: "icloud-keychain-unsynced".into(),
            description: "iCloud Keychain before its first sync: BE=BS=0 at registration, 1 on \
                          later logins (a BE change strict RPs reject)"
                .into(),
            config: Config {
                unsynced_at_creation: true, // S23 (reported)
                ..icloud_config()
            },
            attachment: Attachment::Platform, // S20
            vendor: "Apple Inc.".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S1, S20, S22, S23]),
            deviations: strings(&[
                "the BE flip is reported by one RP project (S23), not captured",
                "prf support is unverified",
            ]),
        },
        Profile {
            name: "google-password-manager".into(),
            description: "Google Password Manager passkeys (Chrome's cloud-enclave authenticator)"
                .into(),
            config: Config {
                aaguid: aaguid("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"), // S1, S16, S17
                algorithms: vec![Algorithm::Es256], // S17 IsSupportedAlgorithm
                attestation: AttestationMode::AlwaysNone, // S16 NoneAttestationStatement
                backup_eligible: true, // S16, S17
                backup_state: true,    // S16, S17
                counter: CounterPolicy::AlwaysZero, // S16, S17: sign_count 0
                credential_id_length: 16, // S16 kCredentialIdSize
                transports: strings(&["hybrid", "internal"]), // S16
                extensions: strings(&["hmac-secret"]), // S16: prf; largeBlob not emulated by fauxkey
                account_chooser: true, // fauxkey choice: Chrome's account picker
                ..Config::default()
            },
            attachment: Attachment::Platform, // *unverified*
            vendor: "Google LLC".into(),
            zero_aaguid_for_none: false, // S1/S17: Chrome keeps the AAGUID
            sources: strings(&[S1, S16, S17]),
            deviations: strings(&[
                "largeBlob (supported by GPM per S16) is not implemented by fauxkey",
                "authenticatorAttachment platform is unverified",
            ]),
        },
        Profile {
            name: "windows-hello".into(),
            description: "Windows Hello platform authenticator behind Windows' WebAuthn API".into(),
            config: Config {
                aaguid: aaguid("08987058-cadc-4b81-b6e1-30de50dcbe96"), // S1 "Windows Hello"
                // S25, S28: RS256 (RSA-2048) keys; ES256 after it is *unverified*.
                algorithms: vec![Algorithm::Rs256, Algorithm::Es256],
                // S25: `tpm` under "direct" (an AIK chain from the vault's test CA, vendor
                // id:FFFFF1D0); `none` with a zeroed AAGUID otherwise (S24).
                attestation: AttestationMode::Tpm,
                backup_eligible: false, // *unverified*: device-bound
                backup_state: false,    // *unverified*
                counter: CounterPolicy::PerCredential, // S27: increments
                credential_id_length: 32, // S28 (one capture)
                transports: strings(&["internal"]), // *unverified*
                always_uv: true, // *unverified*: Windows asks for PIN or biometrics every time
                extensions: strings(&["hmac-secret"]), // *unverified* (third-party matrix)
                account_chooser: true, // *unverified*
                ..Config::default()
            },
            attachment: Attachment::Platform, // *unverified*
            vendor: "Microsoft Corporation".into(),
            zero_aaguid_for_none: true, // S24
            sources: strings(&[S1, S24, S25, S27, S28]),
            deviations: strings(&[
                "ES256 is offered after RS256 for RPs that do not accept RS256 (unverified)",
                "the tpm AIK is ES256 under fauxkey's test CA (real AIKs are RSA under Microsoft's CA)",
                "BE/BS=0, transports, attachment, UV and prf are unverified",
            ]),
        },
        Profile {
            name: "1password".into(),
            description: "1Password, with the defaults of its passkey-rs library".into(),
            config: Config {
                aaguid: aaguid("bada5566-a7aa-401f-bd96-45619a55120d"), // S1
                algorithms: vec![Algorithm::Es256], // S13 (library default)
                // S12: fmt "None" with an empty attStmt; fauxkey writes the registered "none".
                attestation: AttestationMode::AlwaysNone,
                backup_eligible: true, // S14
                backup_state: true,    // S14
                counter: CounterPolicy::AlwaysZero, // S12, S13: no signature counter
                credential_id_length: 16, // S12
                transports: strings(&["hybrid", "internal"]), // S13
                extensions: Vec::new(), // prf support of the product is contradicted: *unverified*
                account_chooser: true, // fauxkey choice: 1Password lists the accounts
                ..Config::default()
            },
            attachment: Attachment::Platform, // S13
            vendor: "AgileBits Inc.".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S1, S12, S13, S14]),
            deviations: strings(&[
                "values are passkey-rs library defaults; the shipped product may differ",
                "passkey-rs spells the format \"None\"; fauxkey emits \"none\"",
            ]),
        },
        Profile {
            name: "bitwarden".into(),
            description: "Bitwarden's browser-extension passkey provider".into(),
            config: Config {
                aaguid: aaguid("d548826e-79b4-db40-a3d8-11116f7e8349"), // S1, S2
                algorithms: vec![Algorithm::Es256], // S2, S3: NotSupported without -7
                attestation: AttestationMode::AlwaysNone, // S2: "none", attStmt {}
                backup_eligible: true, // S2: "Credentials are always synced"
                backup_state: true,    // S2
                counter: CounterPolicy::AlwaysZero, // S2: new credentials keep 0
                credential_id_format: CredentialIdFormat::UuidBytes, // S2, S5: Utils.newGuid()
                credential_id_length: 16, // S2, S5
                transports: strings(&["hybrid", "internal"]), // S3
                always_uv: true, // S3, S6: an unlocked vault counts as verification
                extensions: Vec::new(), // S3, S4: credProps only (a client extension)
                account_chooser: true, // S6: Bitwarden asks which login to use
                ..Config::default()
            },
            attachment: Attachment::Platform, // S4
            vendor: "Bitwarden Inc.".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S1, S2, S3, S4, S5, S6]),
            deviations: strings(&[
                "imported credentials with a counter above 0 (incremented by Bitwarden) are not modelled",
                "transports [\"internal\",\"usb\",\"hybrid\"] for rp.id google.com are not modelled",
            ]),
        },
        Profile {
            name: "dashlane".into(),
            description: "Dashlane's passkey provider (from a 2022 capture)".into(),
            config: Config {
                aaguid: aaguid("531126d6-e717-415c-9320-3d9aa6981239"), // S1
                algorithms: vec![Algorithm::Es256], // S29 (only -7 was tested)
                attestation: AttestationMode::AlwaysNone, // S29: none although "direct" was asked
                backup_eligible: true, // *unverified*
                backup_state: true,    // *unverified*
                counter: CounterPolicy::AlwaysZero, // *unverified*
                credential_id_format: CredentialIdFormat::UuidText, // S29: 36-byte ASCII UUID
                credential_id_length: 36, // S29
                transports: strings(&["hybrid", "internal"]), // *unverified*
                extensions: Vec::new(), // S29: credProtect and hmac-secret ignored
                account_chooser: true, // *unverified*
                ..Config::default()
            },
            attachment: Attachment::Platform, // *unverified*
            vendor: "Dashlane SAS".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S1, S29]),
            deviations: strings(&[
                "BE/BS, counter, transports and attachment are unverified",
                "the ASCII-UUID credential id comes from a single 2022 capture",
            ]),
        },
        Profile {
            name: "keepassxc".into(),
            description: "KeePassXC 2.7.12+ browser integration".into(),
            config: Config {
                aaguid: aaguid("fdb141b2-5d84-443e-8a35-4698c205a502"), // S1, S7
                // S7: ES256, RS256, EdDSA (the order here is fauxkey's; *unverified*).
                algorithms: vec![Algorithm::Es256, Algorithm::EdDsa, Algorithm::Rs256],
                attestation: AttestationMode::AlwaysNone, // S9: "none", attStmt {}
                backup_eligible: true, // S7 @07b6d1e, S10: default 1 from 2.7.12
                backup_state: true,    // S7, S10
                counter: CounterPolicy::AlwaysZero, // S7: counter "not supported"
                credential_id_length: 32, // S8 ID_BYTES
                transports: strings(&["internal"]), // *unverified*
                always_uv: true, // S7: UV and UP always set
                extensions: Vec::new(), // S9: credProps; prf still pending (S11)
                account_chooser: true, // fauxkey choice: KeePassXC asks which entry
                ..Config::default()
            },
            attachment: Attachment::Platform, // S7: get() reports platform
            vendor: "KeePassXC Team".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S1, S7, S8, S9, S10]),
            deviations: strings(&[
                "KeePassXC falls back to ES256 when the RP's first algorithm is unsupported; fauxkey takes the first supported one",
                "create() echoes the requested authenticatorAttachment in KeePassXC; fauxkey always reports platform",
            ]),
        },
        Profile {
            name: "yubikey-5".into(),
            description: "YubiKey 5 NFC security key, firmware 5.2–5.4".into(),
            config: Config {
                aaguid: aaguid("2fc0579f-8113-47ea-b116-bb5a8db9202a"), // S30, S1
                algorithms: vec![Algorithm::Es256, Algorithm::EdDsa], // S31 getInfo
                // S31: packed, basic_full; fauxkey's own test CA stands in for Yubico's root.
                attestation: AttestationMode::Packed,
                backup_eligible: false, // S15: flags 0x45 / 0xc5
                backup_state: false,    // S15
                counter: CounterPolicy::PerCredential, // S15: increments
                credential_id_length: 48, // S15 capture
                transports: strings(&["nfc", "usb"]), // S31 getInfo
                extensions: strings(&["credProtect", "hmac-secret"]), // S31 getInfo
                account_chooser: false, // no display: the client picks (getNextAssertion)
                u2f: U2fMode::Also, // S31 getInfo versions: U2F_V2 first
                max_credential_count_in_list: 8, // S31b getInfo 0x07
                // S31b: versions, options, maxMsgSize 1200, maxCredentialIdLength 128,
                // firmwareVersion 0x050403 from the 5.4.3 getInfo bytes.
                device_info: DeviceInfo::yubikey_5_fw_5_4_3(),
                ..Config::default()
            },
            attachment: Attachment::CrossPlatform, // *unverified*: a roaming key
            vendor: "Yubico AB".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S1, S15, S30, S31, S31B]),
            deviations: strings(&[
                "attestation chains to fauxkey's test CA, not Yubico's root",
                "counter 0 at registration, then +1 per login per credential; the S15 capture shows 1 at registration (whether the real counter is shared across credentials is unverified)",
                "UV is built in; a real YubiKey verifies with a PIN (clientPin)",
                "a CTAP2 request over maxMsgSize (1200) gets CTAP2_ERR_REQUEST_TOO_LARGE; the real key's answer is unverified",
            ]),
        },
        Profile {
            name: "u2f-key".into(),
            description: "A generic FIDO U2F security key: CTAP1/U2F only (no CTAP2), ES256, \
                          fido-u2f attestation, no AAGUID"
                .into(),
            config: Config {
                aaguid: Uuid::nil(), // U2F devices have no AAGUID: WebAuthn clients report zeros
                algorithms: vec![Algorithm::Es256], // U2F is P-256 only
                // fido-u2f, with a U2F attestation certificate from the vault's test CA; the
                // CTAP2 attestation mode is never used (CTAP2 is not spoken).
                attestation: AttestationMode::None,
                backup_eligible: false,                // a device-bound key
                backup_state: false,
                counter: CounterPolicy::PerCredential, // U2F counters increment
                credential_id_length: 64,              // *unverified*: vendors differ
                resident_keys: false,                  // U2F has no discoverable credentials
                transports: strings(&["usb"]),
                extensions: Vec::new(),
                account_chooser: false,
                u2f: U2fMode::Only,
                ..Config::default()
            },
            attachment: Attachment::CrossPlatform,
            vendor: "fauxkey".into(),
            zero_aaguid_for_none: false,
            sources: strings(&[S32]),
            deviations: strings(&[
                "a generic U2F key, not a particular product; the attestation certificate comes from fauxkey's test CA",
                "the key handle is a random id looked up in the store, not a wrapped key",
            ]),
        },
        Profile {
            name: "android".into(),
            description: "An Android phone's platform authenticator (Google Play services FIDO2 over \
                          the Android Keystore): device-bound keys, android-key attestation"
                .into(),
            config: Config {
                aaguid: aaguid("b93fd961-f2e6-462f-b122-82002247de78"), // S40
                // S39: Keystore makes EC and RSA signing keys; ES256 first (*unverified* order).
                algorithms: vec![Algorithm::Es256, Algorithm::Rs256],
                // S38: `android-key` under "direct" (a per-credential certificate under an
                // "Android Keystore" intermediate of the vault's test CA); `none` otherwise.
                attestation: AttestationMode::AndroidKey,
                backup_eligible: false, // S38: a Keystore key never leaves the device
                backup_state: false,
                counter: CounterPolicy::PerCredential, // *unverified*
                credential_id_length: 32,              // *unverified*
                transports: strings(&["internal"]),    // *unverified*
                always_uv: true, // *unverified*: Android asks for the screen lock every time
                extensions: strings(&["credProtect"]), // *unverified*
                account_chooser: true, // fauxkey choice: Android's account sheet
                ..Config::default()
            },
            attachment: Attachment::Platform, // S38: a platform authenticator
            vendor: "Google LLC".into(),
            zero_aaguid_for_none: false, // *unverified*
            sources: strings(&[S38, S39, S40]),
            deviations: strings(&[
                "the chain ends in fauxkey's test CA, not Google's hardware attestation root",
                "the KeyDescription (KeyMint 300, TEE, a locked verified boot, Play services as the \
                 calling app) is a plausible Android 14 phone's, not a captured one",
                "counter, credential id length, transports, UV and extensions are unverified",
            ]),
        },
        Profile {
            name: "apple-touch-id".into(),
            description: "Safari's Touch ID / Face ID platform authenticator before iCloud Keychain \
                          passkeys (macOS 11-12, iOS 14-15): device-bound, `apple` anonymous \
                          attestation when the RP asks for direct"
                .into(),
            config: Config {
                aaguid: Uuid::nil(), // S36: all zeroes, even in the apple statement
                algorithms: vec![Algorithm::Es256], // S37: ES256 only
                // S36, S37: a leaf per credential from the vault's Apple-style test CA.
                attestation: AttestationMode::Apple,
                backup_eligible: false, // device-bound before passkeys (BE/BS did not exist yet)
                backup_state: false,
                counter: CounterPolicy::AlwaysZero, // S22 (Apple's counter stays 0) *unverified* pre-passkeys
                credential_id_length: 20,           // *unverified* (as icloud-keychain's S20)
                transports: strings(&["internal"]), // *unverified*
                always_uv: true,                    // S37: Touch ID / Face ID on every ceremony
                extensions: Vec::new(),             // *unverified*: no CTAP extensions exposed
                account_chooser: true,              // fauxkey choice: Safari's account sheet
                ..Config::default()
            },
            attachment: Attachment::Platform, // S37
            vendor: "Apple Inc.".into(),
            zero_aaguid_for_none: true, // S36: the AAGUID is zero in every case
            sources: strings(&[S22, S36, S37]),
            deviations: strings(&[
                "the leaf's issuer is fauxkey's test CA, not Apple WebAuthn CA 1 under Apple WebAuthn Root CA",
                "counter, credential id length, transports and extensions are unverified",
            ]),
        },
    ]
}

impl ClientSettings {
    /// Makes `client` report this attachment and zero the AAGUID as this profile's platform
    /// does: the one place the client half of a profile (built-in or stored in a vault) is
    /// applied.
    pub fn apply<S: CredentialStore>(&self, client: Client<S>) -> Client<S> {
        client
            .with_attachment(self.attachment)
            .with_aaguid_zeroing(self.zero_aaguid_for_none)
            .with_conditional_mediation(conditional_mediation(&self.profile, self.attachment))
    }
}

/// Whether the browser offers a profile's passkeys in its autofill UI (conditional `get()`,
/// `conditionalGet`) and upgrades a password account to one of them after a password sign-in
/// (conditional `create()`, `conditionalCreate`). It is the browser-with-provider pair that
/// decides, so this lives with the client half of the profile.
pub fn conditional_mediation(profile: &str, attachment: Attachment) -> ConditionalSupport {
    match profile {
        // Passkey providers the browser lists in autofill, each holding the user's passwords
        // too, so each can see the password sign-in a conditional create follows:
        // iCloud Keychain (Safari autofill since 16, automatic upgrades since 18),
        // Google Password Manager (Chrome autofill; conditional create since Chrome 136),
        // fauxkey's own provider. (Those versions are from release notes, not captured here.) The password managers' extensions fill passkeys into the
        // same field; their automatic upgrades are *unverified*.
        "fauxkey"
        | "icloud-keychain"
        | "icloud-keychain-unsynced"
        | "google-password-manager"
        | "1password"
        | "bitwarden"
        | "dashlane"
        | "keepassxc" => ConditionalSupport::BOTH,
        // Windows Hello passkeys appear in Chrome's and Edge's autofill; Windows keeps no
        // passwords, so it makes no automatic upgrade (*unverified*).
        "windows-hello" => ConditionalSupport {
            get: true,
            create: false,
        },
        // A roaming security key has no list the browser can show before a touch, and holds
        // no passwords: neither (the browser's autofill lists platform passkeys only).
        "yubikey-5" => ConditionalSupport::NONE,
        // Custom profiles: a platform provider offers both, a roaming key neither.
        _ => ConditionalSupport::for_attachment(attachment),
    }
}

/// No profile has this name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?}; available profiles: {}", available.join(", "))]
pub struct UnknownProfile {
    /// The name asked for.
    pub name: String,
    /// The names that exist.
    pub available: Vec<String>,
}

/// [`find`] or [`from_file`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No built-in profile has this name.
    #[error(transparent)]
    Unknown(#[from] UnknownProfile),
    /// The custom profile file could not be used.
    #[error(transparent)]
    File(#[from] ProfileFileError),
}

/// What every front end's `--profile` takes: a built-in profile's name, or the path of a custom
/// profile JSON file (any `spec` ending in `.json`).
pub fn resolve(spec: &str) -> Result<Profile, ResolveError> {
    if spec.ends_with(".json") {
        return Ok(from_file(std::path::Path::new(spec))?);
    }
    Ok(find(spec)?)
}

/// The built-in profile called `name`.
pub fn find(name: &str) -> Result<Profile, UnknownProfile> {
    builtin()
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| UnknownProfile {
            name: name.to_owned(),
            available: names(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fauxkey_is_first_and_found() {
        assert_eq!(builtin()[0].name, "fauxkey");
        assert_eq!(
            find("fauxkey").map(|p| p.config.aaguid),
            Ok(crate::FAUXKEY_AAGUID)
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = find("nope")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("unknown profile \"nope\"; available profiles: fauxkey"),
            "{err}"
        );
    }

    #[test]
    fn aaguids_parse_and_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for p in builtin() {
            // A U2F-only key has no AAGUID at all.
            if p.config.u2f == U2fMode::Only {
                assert!(
                    p.config.aaguid.is_nil(),
                    "{}: U2F keys have no AAGUID",
                    p.name
                );
                continue;
            }
            // Safari's Touch ID / Face ID authenticator reported a zero AAGUID (S36).
            if p.name == "apple-touch-id" {
                assert!(p.config.aaguid.is_nil(), "{}: zero AAGUID", p.name);
                continue;
            }
            assert!(!p.config.aaguid.is_nil(), "{}: AAGUID typo", p.name);
            // Variants of one provider (`…-unsynced`) share its AAGUID.
            if !p.name.ends_with("-unsynced") {
                assert!(seen.insert(p.config.aaguid), "{}: duplicate AAGUID", p.name);
            }
            assert!(!p.sources.is_empty(), "{}: no source", p.name);
        }
        assert_eq!(
            find("bitwarden").map(|p| p.config.aaguid.to_string()),
            Ok("d548826e-79b4-db40-a3d8-11116f7e8349".to_owned())
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names = names();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
