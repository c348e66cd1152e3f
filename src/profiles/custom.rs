//! Custom profiles from a JSON file, for providers fauxkey does not ship. Every member but
//! `name` is optional and defaults to the built-in profile named by `base` (`fauxkey` if absent);
//! unknown members are refused so that a typo is not silently ignored.
//!
//! ```json
//! { "name": "acme-pass", "base": "bitwarden", "vendor": "Acme Corp",
//!   "aaguid": "00112233-4455-6677-8899-aabbccddeeff", "counter": "per-credential" }
//! ```

use std::path::Path;

use serde::Deserialize;

use super::{find, Profile};
use crate::authenticator::{AttestationMode, CounterPolicy, CredentialIdFormat, U2fMode};
use crate::client::Attachment;
use crate::crypto::keys::Algorithm;

/// A custom profile file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileFileError {
    /// The file could not be read.
    #[error("cannot read profile file {path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("profile file {path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What was wrong, naming the member.
        reason: String,
    },
    /// A member holds a value fauxkey cannot emulate.
    #[error("profile file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What was wrong and what is allowed.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfileFile {
    name: String,
    base: Option<String>,
    description: Option<String>,
    vendor: Option<String>,
    aaguid: Option<String>,
    algorithms: Option<Vec<i64>>,
    attestation: Option<String>,
    compound_formats: Option<Vec<String>>,
    backup_eligible: Option<bool>,
    backup_state: Option<bool>,
    counter: Option<String>,
    credential_id_length: Option<usize>,
    credential_id_format: Option<String>,
    transports: Option<Vec<String>>,
    authenticator_attachment: Option<String>,
    always_verifies_user: Option<bool>,
    extensions: Option<Vec<String>>,
    account_chooser: Option<bool>,
    zeroes_aaguid_for_none: Option<bool>,
    unsynced_at_creation: Option<bool>,
    u2f: Option<String>,
    sources: Option<Vec<String>>,
}

/// Reads a custom profile from the JSON file at `path`.
pub fn from_file(path: &Path) -> Result<Profile, ProfileFileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ProfileFileError::Io {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    from_json(&text, &shown)
}

/// Parses a custom profile; `origin` names the file in errors.
pub fn from_json(text: &str, origin: &str) -> Result<Profile, ProfileFileError> {
    let parse = |reason: String| ProfileFileError::Parse {
        path: origin.to_owned(),
        reason,
    };
    let invalid = |reason: String| ProfileFileError::Invalid {
        path: origin.to_owned(),
        reason,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let file: ProfileFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            parse(e.into_inner().to_string())
        } else {
            parse(format!("member `{path}`: {}", e.into_inner()))
        }
    })?;
    if file.name.is_empty() || !file.name.chars().all(|c| c.is_ascii_graphic()) {
        return Err(invalid(
            "`name` must be non-empty printable ASCII without spaces".into(),
        ));
    }
    let base = file.base.as_deref().unwrap_or("fauxkey");
    let mut p = find(base).map_err(|e| invalid(format!("`base`: {e}")))?;
    p.description = file
        .description
        .unwrap_or_else(|| format!("custom profile based on {base}"));
    // The base's vendor would be a false claim in the attestation certificate: default to the
    // custom profile's own name.
    p.vendor = file.vendor.unwrap_or_else(|| file.name.clone());
    p.name = file.name;
    let c = &mut p.config;
    if let Some(a) = file.aaguid {
        c.aaguid = uuid::Uuid::parse_str(&a)
            .map_err(|e| invalid(format!("`aaguid` {a:?} is not a UUID: {e}")))?;
    }
    if let Some(list) = file.algorithms {
        let mut algs = Vec::new();
        for id in list {
            algs.push(Algorithm::from_cose_id(id).ok_or_else(|| {
                invalid(format!(
                    "`algorithms`: COSE algorithm {id} is not supported (use -7 ES256, -8 EdDSA, -35 ES384, -36 ES512 or -257 RS256)"
                ))
            })?);
        }
        if algs.is_empty() {
            return Err(invalid("`algorithms` must not be empty".into()));
        }
        c.algorithms = algs;
    }
    if let Some(a) = file.attestation {
        c.attestation = match a.as_str() {
            "none" => AttestationMode::None,
            "always-none" => AttestationMode::AlwaysNone,
            "packed-self" => AttestationMode::PackedSelf,
            "packed" => AttestationMode::Packed,
            "tpm" => AttestationMode::Tpm,
            "android-key" => AttestationMode::AndroidKey,
            "apple" => AttestationMode::Apple,
            "compound" => AttestationMode::Compound,
            other => {
                return Err(invalid(format!(
                    "`attestation` {other:?}: use none, always-none, packed-self, packed, tpm, android-key, apple or compound"
                )))
            }
        };
    }
    if let Some(names) = file.compound_formats {
        if c.attestation != AttestationMode::Compound {
            return Err(invalid(
                "`compoundFormats` needs `\"attestation\": \"compound\"`".into(),
            ));
        }
        let mut members = Vec::new();
        for name in &names {
            members.push(match name.as_str() {
                "packed-self" => AttestationMode::PackedSelf,
                "packed" => AttestationMode::Packed,
                "tpm" => AttestationMode::Tpm,
                "apple" => AttestationMode::Apple,
                "compound" => {
                    return Err(invalid(
                        "`compoundFormats`: a compound statement cannot contain another compound"
                            .into(),
                    ))
                }
                "none" | "always-none" => {
                    return Err(invalid(format!(
                    "`compoundFormats`: {name:?} cannot be a member (a member is a real statement)"
                )))
                }
                other => {
                    return Err(invalid(format!(
                        "`compoundFormats` {other:?}: use packed-self, packed, tpm or apple"
                    )))
                }
            });
        }
        AttestationMode::check_compound_members(&members)
            .map_err(|e| invalid(format!("`compoundFormats`: {e}")))?;
        c.compound_members = members;
    }
    if let Some(b) = file.backup_eligible {
        c.backup_eligible = b;
    }
    if let Some(b) = file.backup_state {
        c.backup_state = b;
    }
    if c.backup_state && !c.backup_eligible {
        return Err(invalid(
            "`backupState` true needs `backupEligible` true (BS without BE is invalid)".into(),
        ));
    }
    if let Some(counter) = file.counter {
        c.counter = match counter.as_str() {
            "per-credential" => CounterPolicy::PerCredential,
            "always-zero" => CounterPolicy::AlwaysZero,
            other => {
                return Err(invalid(format!(
                    "`counter` {other:?}: use per-credential or always-zero"
                )))
            }
        };
    }
    if let Some(n) = file.credential_id_length {
        if !(16..=64).contains(&n) {
            return Err(invalid(format!(
                "`credentialIdLength` {n} is outside 16..=64"
            )));
        }
        c.credential_id_length = n;
    }
    if let Some(f) = file.credential_id_format {
        c.credential_id_format = match f.as_str() {
            "random" => CredentialIdFormat::Random,
            "uuid-bytes" => CredentialIdFormat::UuidBytes,
            "uuid-text" => CredentialIdFormat::UuidText,
            other => {
                return Err(invalid(format!(
                    "`credentialIdFormat` {other:?}: use random, uuid-bytes or uuid-text"
                )))
            }
        };
    }
    if let Some(t) = file.transports {
        c.transports = t;
    }
    if let Some(b) = file.always_verifies_user {
        c.always_uv = b;
    }
    if let Some(list) = file.extensions {
        if let Some(bad) = list
            .iter()
            .find(|e| !crate::authenticator::EMULATED_EXTENSIONS.contains(&e.as_str()))
        {
            return Err(invalid(format!(
                "`extensions`: {bad:?} is not emulated (use {})",
                crate::authenticator::EMULATED_EXTENSIONS.join(", ")
            )));
        }
        c.extensions = list;
    }
    if let Some(b) = file.unsynced_at_creation {
        c.unsynced_at_creation = b;
    }
    if let Some(b) = file.account_chooser {
        c.account_chooser = b;
    }
    if let Some(m) = file.u2f {
        c.u2f = U2fMode::from_name(&m)
            .ok_or_else(|| invalid(format!("`u2f` {m:?}: use off, also or only")))?;
        // U2F keys are P-256 only, hold no discoverable credentials and cannot verify users.
        if c.u2f == U2fMode::Only && c.algorithms != [Algorithm::Es256] {
            return Err(invalid(
                "`u2f` only needs `algorithms` [-7]: U2F is ES256 only".into(),
            ));
        }
    }
    if let Some(a) = file.authenticator_attachment {
        p.attachment = match a.as_str() {
            "platform" => Attachment::Platform,
            "cross-platform" => Attachment::CrossPlatform,
            other => {
                return Err(invalid(format!(
                    "`authenticatorAttachment` {other:?}: use platform or cross-platform"
                )))
            }
        };
    }
    if let Some(b) = file.zeroes_aaguid_for_none {
        p.zero_aaguid_for_none = b;
    }
    p.sources = file
        .sources
        .unwrap_or_else(|| vec![format!("custom profile file {origin}")]);
    p.deviations = Vec::new();
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_override_the_base() {
        let p = from_json(
            r#"{"name": "acme", "base": "bitwarden", "aaguid": "00112233-4455-6677-8899-aabbccddeeff",
                "counter": "per-credential", "authenticatorAttachment": "cross-platform"}"#,
            "acme.json",
        )
        .expect("valid");
        assert_eq!(p.name, "acme");
        assert_eq!(p.vendor, "acme", "not Bitwarden's name");
        assert_eq!(
            p.config.aaguid.to_string(),
            "00112233-4455-6677-8899-aabbccddeeff"
        );
        assert_eq!(p.config.counter, CounterPolicy::PerCredential);
        assert_eq!(p.attachment, Attachment::CrossPlatform);
        // Not overridden: Bitwarden's.
        assert_eq!(p.config.credential_id_format, CredentialIdFormat::UuidBytes);
        assert!(p.config.always_uv);
    }

    #[test]
    fn each_bad_member_is_named() {
        for (json, expected) in [
            (r#"{"base": "fauxkey"}"#, "missing field `name`"),
            (r#"{"name": "x", "colour": 1}"#, "unknown field `colour`"),
            (
                r#"{"name": "x", "aaguid": "nope"}"#,
                "`aaguid` \"nope\" is not a UUID",
            ),
            (
                r#"{"name": "x", "algorithms": [-258]}"#,
                "COSE algorithm -258 is not supported",
            ),
            (
                r#"{"name": "x", "algorithms": []}"#,
                "`algorithms` must not be empty",
            ),
            (
                r#"{"name": "x", "attestation": "android-safetynet"}"#,
                "`attestation` \"android-safetynet\"",
            ),
            (
                r#"{"name": "x", "backupEligible": false, "backupState": true}"#,
                "BS without BE",
            ),
            (
                r#"{"name": "x", "counter": "global"}"#,
                "`counter` \"global\"",
            ),
            (
                r#"{"name": "x", "credentialIdLength": 8}"#,
                "outside 16..=64",
            ),
            (
                r#"{"name": "x", "extensions": ["largeBlob"]}"#,
                "\"largeBlob\" is not emulated",
            ),
            (
                r#"{"name": "x", "base": "nope"}"#,
                "unknown profile \"nope\"",
            ),
            (r#"{"name": "has space"}"#, "`name` must be"),
            (r#"{"name": "x", "counter": 3}"#, "member `counter`"),
            ("not json", "expected ident"),
        ] {
            let err = from_json(json, "f.json")
                .map(|_| ())
                .expect_err(json)
                .to_string();
            assert!(err.contains(expected), "{json}: {err}");
            assert!(err.starts_with("profile file f.json: "), "{err}");
        }
    }

    #[test]
    fn a_custom_profile_may_pick_tpm_and_the_new_algorithms() {
        let p = from_json(
            r#"{"name": "x", "attestation": "tpm", "algorithms": [-257, -35, -36]}"#,
            "f.json",
        )
        .expect("valid");
        assert_eq!(p.config.attestation, AttestationMode::Tpm);
        assert_eq!(
            p.config.algorithms,
            [Algorithm::Rs256, Algorithm::Es384, Algorithm::Es512]
        );
    }

    #[test]
    fn a_custom_profile_may_attest_android_key() {
        let p =
            from_json(r#"{"name": "x", "attestation": "android-key"}"#, "f.json").expect("valid");
        assert_eq!(p.config.attestation, AttestationMode::AndroidKey);
        let err = from_json(r#"{"name": "x", "attestation": "android"}"#, "f.json")
            .map(|_| ())
            .expect_err("unknown format")
            .to_string();
        assert!(err.contains("tpm, android-key, apple or compound"), "{err}");
    }

    #[test]
    fn a_custom_profile_may_pick_apple() {
        let p = from_json(r#"{"name": "x", "attestation": "apple"}"#, "f.json").expect("valid");
        assert_eq!(p.config.attestation, AttestationMode::Apple);
        let err = from_json(r#"{"name": "x", "attestation": "apples"}"#, "f.json")
            .map(|_| ())
            .expect_err("unknown format")
            .to_string();
        assert!(err.contains("tpm, android-key, apple or compound"), "{err}");
    }

    #[test]
    fn a_custom_profile_may_pick_compound_with_its_members() {
        let p = from_json(
            r#"{"name": "x", "attestation": "compound", "compoundFormats": ["packed-self", "tpm"]}"#,
            "f.json",
        )
        .expect("valid");
        assert_eq!(p.config.attestation, AttestationMode::Compound);
        assert_eq!(
            p.config.compound_members,
            [AttestationMode::PackedSelf, AttestationMode::Tpm]
        );
        assert_eq!(
            p.to_json()["compoundFormats"],
            serde_json::json!(["packed-self", "tpm"])
        );
        // Its MDS3 statement lists every member's attestation type.
        let metadata = crate::attestation::metadata::statement(&p, None).expect("metadata");
        assert_eq!(
            metadata["attestationTypes"],
            serde_json::json!(["basic_surrogate", "attca"])
        );
        // Without a list: the default members.
        let p = from_json(r#"{"name": "x", "attestation": "compound"}"#, "f.json").expect("valid");
        assert_eq!(
            p.config.compound_members,
            crate::authenticator::DEFAULT_COMPOUND_MEMBERS
        );
    }

    #[test]
    fn bad_compound_member_lists_are_refused_with_the_rule_they_break() {
        for (formats, expected) in [
            (r#"["tpm"]"#, "at least two members, got 1"),
            (r#"[]"#, "at least two members, got 0"),
            (r#"["tpm", "compound"]"#, "cannot contain another compound"),
            (r#"["tpm", "none"]"#, "\"none\" cannot be a member"),
            (
                r#"["tpm", "always-none"]"#,
                "\"always-none\" cannot be a member",
            ),
            (
                r#"["tpm", "android-key"]"#,
                "`compoundFormats` \"android-key\": use packed-self",
            ),
            (r#"["tpm", "tpm"]"#, "distinct formats"),
            (
                r#"["packed", "packed-self"]"#,
                "packed with x5c cannot be a compound member",
            ),
            (
                r#"["apple", "tpm"]"#,
                "at most one compound member may need",
            ),
        ] {
            let json = format!(
                r#"{{"name": "x", "attestation": "compound", "compoundFormats": {formats}}}"#
            );
            let err = from_json(&json, "f.json")
                .map(|_| ())
                .expect_err(&json)
                .to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
        let err = from_json(
            r#"{"name": "x", "attestation": "tpm", "compoundFormats": ["packed-self", "tpm"]}"#,
            "f.json",
        )
        .map(|_| ())
        .expect_err("members without compound")
        .to_string();
        assert!(
            err.contains("needs `\"attestation\": \"compound\"`"),
            "{err}"
        );
    }
}
