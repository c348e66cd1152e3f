//! FIDO Alliance Credential Exchange Format 1.0 (Proposed Standard, 2025-08-14): the JSON
//! header with `accounts[].items[].credentials[]`, of which the `"type": "passkey"` ones are
//! read and written (CXF §Passkey). Binary as unpadded base64url, times as Unix seconds.
//!
//! CXF carries no counter (non-zero ones are excluded by [`super::export`]; importers MUST set 0),
//! no BE/BS and no algorithm (the key says it). `fido2Extensions.hmacCredentials` carries the
//! hmac-secret keys.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::json::{bad, object, Obj};
use super::{base_credential, Field, Format, ImportDefaults, Loss, Losses, TransferError};
use crate::b64url;
use crate::store::{CredRandom, Credential};

const CARRIED: &[Field] = &[
    Field::Counter,
    Field::Discoverable,
    Field::UserName,
    Field::UserDisplayName,
    Field::HmacSecret,
    Field::Created,
];

pub(super) fn write(
    credentials: &[&Credential],
    losses: &mut Vec<Loss>,
) -> Result<Zeroizing<String>, TransferError> {
    let mut items = Vec::new();
    let mut newest_s = 0;
    for c in credentials {
        Losses::new(&c.id, &c.rp_id, losses).dropped(c, Format::Cxf, CARRIED);
        let der = super::pkcs8(&c.key)?;
        let mut passkey = json!({
            "type": "passkey",
            "credentialId": b64url::encode(&c.id),
            "rpId": c.rp_id,
            "username": c.user_name.clone().unwrap_or_default(),
            "userDisplayName": c.user_display_name.clone().unwrap_or_default(),
            "userHandle": b64url::encode(&c.user_handle),
            "key": b64url::encode(&der),
        });
        if let Some(r) = &c.cred_random {
            passkey["fido2Extensions"] = json!({
                "hmacCredentials": {
                    "algorithm": "hmac-sha256",
                    "credWithUV": b64url::encode(&r.with_uv),
                    "credWithoutUV": b64url::encode(&r.without_uv),
                }
            });
        }
        let created_s = c.created_ms / 1000;
        newest_s = newest_s.max(created_s);
        items.push(json!({
            "id": b64url::encode(&c.id),
            "creationAt": created_s,
            "modifiedAt": created_s,
            "title": c.rp_name.clone().unwrap_or_else(|| c.rp_id.clone()),
            "scope": {"urls": [format!("https://{}", c.rp_id)], "androidApps": []},
            "credentials": [passkey],
        }));
    }
    let header = json!({
        "version": {"major": 1, "minor": 0},
        "exporterRpId": "fauxkey.invalid",
        "exporterDisplayName": "fauxkey",
        "timestamp": newest_s,
        "accounts": [{
            "id": b64url::encode(b"fauxkey"),
            "username": "",
            "email": "",
            "collections": [],
            "items": items,
        }],
    });
    to_text(&header)
}

pub(super) fn to_text(value: &Value) -> Result<Zeroizing<String>, TransferError> {
    serde_json::to_string_pretty(value)
        .map(|s| Zeroizing::new(s + "\n"))
        .map_err(|e| TransferError::Unsupported(e.to_string()))
}

pub(super) fn read(
    value: &Value,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Vec<Credential>, TransferError> {
    const F: Format = Format::Cxf;
    let header = object(F, "", value)?;
    let version = header.obj("version")?;
    match version.req("major")?.as_u64() {
        Some(1) => {}
        Some(n) => {
            return Err(version.err(
                "major",
                format!("CXF major version {n} is not supported (1 is)"),
            ))
        }
        None => return Err(version.err("major", "expected an integer")),
    }
    let mut out = Vec::new();
    for (apath, account) in header.list("accounts")? {
        let account = object(F, &apath, account)?;
        for (ipath, item) in account.list("items")? {
            let item = object(F, &ipath, item)?;
            let created_ms = match item.opt("creationAt") {
                None => None,
                Some(v) => Some(
                    v.as_u64()
                        .and_then(|s| s.checked_mul(1000))
                        .ok_or_else(|| item.err("creationAt", "expected Unix seconds"))?,
                ),
            };
            for (cpath, credential) in item.list("credentials")? {
                let credential = object(F, &cpath, credential)?;
                // Other credential types (basic-auth, totp, ...) are not passkeys: skipped.
                if credential.str("type")? != "passkey" {
                    continue;
                }
                out.push(passkey(&credential, created_ms, defaults, losses)?);
            }
        }
    }
    Ok(out)
}

fn passkey(
    p: &Obj<'_>,
    created_ms: Option<u64>,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Credential, TransferError> {
    let id = p.id("credentialId", false)?;
    let rp_id = p.non_empty("rpId")?.to_owned();
    let user_handle = p.bytes("userHandle", false)?;
    let key = p.pkcs8("key", false)?;
    let mut c = base_credential(id, rp_id, user_handle, key, defaults);
    c.user_name = p
        .opt_str("username")?
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    c.user_display_name = p
        .opt_str("userDisplayName")?
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if let Some(ms) = created_ms {
        c.created_ms = ms;
    }
    if let Some(ext) = p.opt("fido2Extensions") {
        let ext = object(Format::Cxf, &format!("{}.fido2Extensions", p.path), ext)?;
        if ext.opt("hmacCredentials").is_some() {
            let h = ext.obj("hmacCredentials")?;
            if h.str("algorithm")? != "hmac-sha256" {
                return Err(h.err("algorithm", "only hmac-sha256 is defined"));
            }
            let seed = |key: &str| -> Result<[u8; 32], TransferError> {
                let bytes = Zeroizing::new(h.bytes(key, false)?);
                bytes.as_slice().try_into().map_err(|_| {
                    bad(
                        Format::Cxf,
                        format!("{}.{key}", h.path),
                        "expected 32 bytes",
                    )
                })
            };
            c.cred_random = Some(CredRandom {
                with_uv: seed("credWithUV")?,
                without_uv: seed("credWithoutUV")?,
            });
        }
    }
    let mut l = Losses::new(&c.id, &c.rp_id, losses);
    let mut carried = CARRIED.to_vec();
    if created_ms.is_none() {
        carried.retain(|f| *f != Field::Created);
    }
    l.defaulted(Format::Cxf, &carried, &c);
    Ok(c)
}
