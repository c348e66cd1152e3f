//! The W3C WebDriver "Credential Parameters" (WebAuthn L3 §Add Credential), as a JSON array:
//! `credentialId`, `isResidentCredential`, `rpId`, `privateKey` (base64url PKCS#8), `userHandle`,
//! `signCount`, `backupEligibility`, `backupState`, `userName`, `userDisplayName`. "Get
//! Credentials" returns the same shape. Chrome DevTools' `WebAuthn.Credential` is the same with
//! standard base64 binaries and `signCount` -1 for none: import reads both; export writes the
//! W3C form. No hidden state, hmac-secret keys, RP name or times.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::json::{list, object};
use super::{base_credential, Field, Format, ImportDefaults, Loss, Losses, TransferError};
use crate::b64url;
use crate::store::Credential;

const CARRIED: &[Field] = &[
    Field::Counter,
    Field::Discoverable,
    Field::BackupFlags,
    Field::UserName,
    Field::UserDisplayName,
];

pub(super) fn write(
    credentials: &[&Credential],
    losses: &mut Vec<Loss>,
) -> Result<Zeroizing<String>, TransferError> {
    let mut out = Vec::new();
    for c in credentials {
        Losses::new(&c.id, &c.rp_id, losses).dropped(c, Format::Webdriver, CARRIED);
        let der = super::pkcs8(&c.key)?;
        out.push(json!({
            "credentialId": b64url::encode(&c.id),
            "isResidentCredential": c.discoverable,
            "rpId": c.rp_id,
            "privateKey": b64url::encode(&der),
            "userHandle": b64url::encode(&c.user_handle),
            "signCount": c.sign_count,
            "backupEligibility": c.backup_eligible,
            "backupState": c.backup_state,
            "userName": c.user_name.clone().unwrap_or_default(),
            "userDisplayName": c.user_display_name.clone().unwrap_or_default(),
        }));
    }
    super::cxf::to_text(&Value::Array(out))
}

pub(super) fn read(
    value: &Value,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Vec<Credential>, TransferError> {
    const F: Format = Format::Webdriver;
    let entries = match value {
        Value::Array(_) => list(F, "", value)?,
        _ => vec![(String::new(), value)],
    };
    let mut out = Vec::new();
    for (path, entry) in entries {
        let p = object(F, &path, entry)?;
        let id = p.id("credentialId", true)?;
        let rp_id = p.non_empty("rpId")?.to_owned();
        let user_handle = p.opt_bytes("userHandle", true)?.unwrap_or_default();
        let key = p.pkcs8("privateKey", true)?;
        let discoverable = p
            .opt_bool("isResidentCredential")?
            .ok_or_else(|| p.err("isResidentCredential", "missing"))?;
        if discoverable && user_handle.is_empty() {
            return Err(p.err("userHandle", "a resident credential needs a user handle"));
        }
        let mut c = base_credential(id, rp_id, user_handle, key, defaults);
        c.discoverable = discoverable;
        let mut carried = CARRIED.to_vec();
        // `signCount`: 0..2^32-1, or null (WebDriver) / -1 (CDP) for "no counter".
        match p.opt("signCount") {
            None => carried.retain(|f| *f != Field::Counter),
            Some(v) => match v.as_i64() {
                Some(-1) => carried.retain(|f| *f != Field::Counter),
                Some(n) => {
                    c.sign_count = u32::try_from(n)
                        .map_err(|_| p.err("signCount", "expected 0 to 4294967295, -1 or null"))?;
                }
                None => return Err(p.err("signCount", "expected an integer")),
            },
        }
        let be = p.opt_bool("backupEligibility")?;
        let bs = p.opt_bool("backupState")?;
        if be.is_none() && bs.is_none() {
            carried.retain(|f| *f != Field::BackupFlags);
        }
        c.backup_eligible = be.unwrap_or(c.backup_eligible);
        c.backup_state = c.backup_eligible && bs.unwrap_or(c.backup_state);
        if bs == Some(true) && !c.backup_eligible {
            return Err(p.err("backupState", "true while backupEligibility is false"));
        }
        let text = |k: &str| -> Result<Option<String>, TransferError> {
            Ok(p.opt_str(k)?.filter(|s| !s.is_empty()).map(str::to_owned))
        };
        c.user_name = text("userName")?;
        c.user_display_name = text("userDisplayName")?;
        Losses::new(&c.id, &c.rp_id, losses).defaulted(F, &carried, &c);
        out.push(c);
    }
    Ok(out)
}
