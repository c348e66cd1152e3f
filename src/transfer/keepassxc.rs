//! KeePassXC's `.passkey` file (keepassxreboot/keepassxc `PasskeyExporter.cpp`,
//! `PasskeyImporter.cpp`): one JSON object with `privateKey` (PKCS#8 in PEM, `-----BEGIN PRIVATE
//! KEY-----`), `relyingParty`, `url`, `username`, `credentialId` and `userHandle` (base64url).
//! KeePassXC requires all but `url`. It carries no counter, display name, flags or times.
//!
//! KeePassXC writes one passkey per file. Exporting one credential writes that object; several
//! are written as a JSON array of such objects (import reads either).

use base64::Engine as _;
use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::json::{list, object, Obj};
use super::{base_credential, Field, Format, ImportDefaults, Loss, Losses, TransferError};
use crate::b64url;
use crate::crypto::keys::PrivateKey;
use crate::store::Credential;

const CARRIED: &[Field] = &[Field::UserName];
const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const END: &str = "-----END PRIVATE KEY-----";

fn pem(der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(der));
    let mut out = Zeroizing::new(String::from(BEGIN));
    out.push('\n');
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(END);
    out
}

fn from_pem(p: &Obj<'_>) -> Result<PrivateKey, TransferError> {
    let text = p.non_empty("privateKey")?.trim();
    let body = text
        .strip_prefix(BEGIN)
        .and_then(|t| t.strip_suffix(END))
        .ok_or_else(|| {
            p.err(
                "privateKey",
                format!("expected a PEM block from {BEGIN} to {END}"),
            )
        })?;
    let b64: Zeroizing<String> = Zeroizing::new(body.split_whitespace().collect());
    let der = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|_| p.err("privateKey", "the PEM body is not base64"))?,
    );
    PrivateKey::from_pkcs8_der(&der).map_err(|_| {
        p.err(
            "privateKey",
            "not a PKCS#8 private key of a supported algorithm (ES256 P-256 or EdDSA Ed25519)",
        )
    })
}

pub(super) fn write(
    credentials: &[&Credential],
    losses: &mut Vec<Loss>,
) -> Result<Zeroizing<String>, TransferError> {
    let mut objects = Vec::new();
    for c in credentials {
        Losses::new(&c.id, &c.rp_id, losses).dropped(c, Format::Keepassxc, CARRIED);
        let der = super::pkcs8(&c.key)?;
        objects.push(json!({
            "privateKey": pem(&der).as_str(),
            "relyingParty": c.rp_id,
            "url": format!("https://{}", c.rp_id),
            "username": c.user_name.clone().unwrap_or_default(),
            "credentialId": b64url::encode(&c.id),
            "userHandle": b64url::encode(&c.user_handle),
        }));
    }
    let value = match objects.len() {
        1 => objects.remove(0),
        _ => Value::Array(objects),
    };
    super::cxf::to_text(&value)
}

pub(super) fn read(
    value: &Value,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Vec<Credential>, TransferError> {
    const F: Format = Format::Keepassxc;
    let entries = match value {
        Value::Array(_) => list(F, "", value)?,
        _ => vec![(String::new(), value)],
    };
    let mut out = Vec::new();
    for (path, entry) in entries {
        let p = object(F, &path, entry)?;
        let id = p.id("credentialId", false)?;
        let rp_id = p.non_empty("relyingParty")?.to_owned();
        let user_handle = p.bytes("userHandle", false)?;
        let user_name = p.str("username")?;
        let key = from_pem(&p)?;
        let mut c = base_credential(id, rp_id, user_handle, key, defaults);
        c.user_name = (!user_name.is_empty()).then(|| user_name.to_owned());
        Losses::new(&c.id, &c.rp_id, losses).defaulted(F, CARRIED, &c);
        out.push(c);
    }
    Ok(out)
}
