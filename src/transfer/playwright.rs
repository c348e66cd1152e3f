//! Playwright's `VirtualCredential`: `{id, rpId, userHandle, privateKey, publicKey}`, binaries
//! base64url, the private key PKCS#8 DER and the public key SPKI DER. Written as a JSON array;
//! import reads an array or an object with a `credentials` array (the storage-state layout).
//! No counter, names, flags or times: import defaults them and export reports them lost.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::json::{list, object};
use super::{base_credential, Field, Format, ImportDefaults, Loss, Losses, TransferError};
use crate::b64url;
use crate::store::Credential;

const CARRIED: &[Field] = &[];

pub(super) fn write(
    credentials: &[&Credential],
    losses: &mut Vec<Loss>,
) -> Result<Zeroizing<String>, TransferError> {
    let mut out = Vec::new();
    for c in credentials {
        Losses::new(&c.id, &c.rp_id, losses).dropped(c, Format::Playwright, CARRIED);
        let der = super::pkcs8(&c.key)?;
        out.push(json!({
            "id": b64url::encode(&c.id),
            "rpId": c.rp_id,
            "userHandle": b64url::encode(&c.user_handle),
            "privateKey": b64url::encode(&der),
            "publicKey": b64url::encode(&c.key.public_key().spki_der()),
        }));
    }
    super::cxf::to_text(&Value::Array(out))
}

pub(super) fn read(
    value: &Value,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Vec<Credential>, TransferError> {
    const F: Format = Format::Playwright;
    let entries = match value {
        Value::Array(_) => list(F, "", value)?,
        _ => object(F, "", value)?.list("credentials")?,
    };
    let mut out = Vec::new();
    for (path, entry) in entries {
        let p = object(F, &path, entry)?;
        let id = p.id("id", false)?;
        let rp_id = p.non_empty("rpId")?.to_owned();
        let user_handle = p.opt_bytes("userHandle", false)?.unwrap_or_default();
        let key = p.pkcs8("privateKey", false)?;
        if let Some(public) = p.opt_bytes("publicKey", false)? {
            if public != key.public_key().spki_der() {
                return Err(p.err("publicKey", "does not match privateKey"));
            }
        }
        let c = base_credential(id, rp_id, user_handle, key, defaults);
        Losses::new(&c.id, &c.rp_id, losses).defaulted(F, CARRIED, &c);
        out.push(c);
    }
    Ok(out)
}
