//! Bitwarden's unencrypted JSON export: passkeys live in `items[].login.fido2Credentials[]`
//! (bitwarden/clients `fido2-credential.export.ts`). Every member is a string except
//! `creationDate` (ISO 8601). `credentialId` is a GUID string when the id is 16 bytes (what
//! Bitwarden's own authenticator makes) and `b64.` + base64url otherwise; the key is base64url
//! PKCS#8 and only `ECDSA`/`P-256` is defined. No BE/BS, hidden state or hmac-secret keys.

use serde_json::{json, Value};
use zeroize::Zeroizing;

use super::json::{object, Obj};
use super::{base_credential, Field, Format, ImportDefaults, Loss, Losses, TransferError};
use crate::b64url;
use crate::store::{rfc3339, Credential};

const CARRIED: &[Field] = &[
    Field::Counter,
    Field::Discoverable,
    Field::UserName,
    Field::UserDisplayName,
    Field::RpName,
    Field::Created,
];

/// Bitwarden's text form of a credential id.
fn id_text(id: &[u8]) -> String {
    match <[u8; 16]>::try_from(id) {
        Ok(bytes) => uuid::Uuid::from_bytes(bytes).hyphenated().to_string(),
        Err(_) => format!("b64.{}", b64url::encode(id)),
    }
}

fn id_bytes(p: &Obj<'_>) -> Result<Vec<u8>, TransferError> {
    let text = p.non_empty("credentialId")?;
    if let Some(rest) = text.strip_prefix("b64.") {
        return b64url::decode(rest)
            .ok()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| p.err("credentialId", "not base64url after \"b64.\""));
    }
    if let Ok(u) = uuid::Uuid::try_parse(text) {
        return Ok(u.as_bytes().to_vec());
    }
    b64url::decode(text)
        .ok()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| p.err("credentialId", "neither a GUID nor base64url"))
}

pub(super) fn write(
    credentials: &[&Credential],
    losses: &mut Vec<Loss>,
) -> Result<Zeroizing<String>, TransferError> {
    let mut items = Vec::new();
    for c in credentials {
        Losses::new(&c.id, &c.rp_id, losses).dropped(c, Format::Bitwarden, CARRIED);
        let der = super::pkcs8(&c.key)?;
        let fido2 = json!({
            "credentialId": id_text(&c.id),
            "keyType": "public-key",
            "keyAlgorithm": "ECDSA",
            "keyCurve": "P-256",
            "keyValue": b64url::encode(&der),
            "rpId": c.rp_id,
            "userHandle": b64url::encode(&c.user_handle),
            "userName": c.user_name,
            "counter": c.sign_count.to_string(),
            "rpName": c.rp_name,
            "userDisplayName": c.user_display_name,
            "discoverable": c.discoverable.to_string(),
            "creationDate": rfc3339(c.created_ms),
        });
        items.push(json!({
            "id": id_text(&c.id),
            "organizationId": null,
            "folderId": null,
            "type": 1,
            "reprompt": 0,
            "name": c.rp_name.clone().unwrap_or_else(|| c.rp_id.clone()),
            "notes": null,
            "favorite": false,
            "login": {
                "uris": [{"match": null, "uri": format!("https://{}", c.rp_id)}],
                "username": c.user_name,
                "password": null,
                "totp": null,
                "fido2Credentials": [fido2],
            },
            "collectionIds": null,
        }));
    }
    super::cxf::to_text(&json!({"encrypted": false, "folders": [], "items": items}))
}

pub(super) fn read(
    value: &Value,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Vec<Credential>, TransferError> {
    const F: Format = Format::Bitwarden;
    let top = object(F, "", value)?;
    if top.opt_bool("encrypted")? == Some(true) {
        return Err(top.err(
            "encrypted",
            "an encrypted Bitwarden export; export it unencrypted (\"JSON\", not \"JSON (Encrypted)\")",
        ));
    }
    let mut out = Vec::new();
    for (ipath, item) in top.list("items")? {
        let item = object(F, &ipath, item)?;
        let Some(login) = item.opt("login") else {
            continue;
        };
        let login = object(F, &format!("{ipath}.login"), login)?;
        if login.opt("fido2Credentials").is_none() {
            continue;
        }
        for (cpath, credential) in login.list("fido2Credentials")? {
            let p = object(F, &cpath, credential)?;
            out.push(passkey(&p, defaults, losses)?);
        }
    }
    Ok(out)
}

fn passkey(
    p: &Obj<'_>,
    defaults: &ImportDefaults,
    losses: &mut Vec<Loss>,
) -> Result<Credential, TransferError> {
    for (key, expected) in [("keyAlgorithm", "ECDSA"), ("keyCurve", "P-256")] {
        if let Some(v) = p.opt_str(key)? {
            if v != expected {
                return Err(p.err(key, format!("{v:?} is not supported (only {expected:?})")));
            }
        }
    }
    let id = id_bytes(p)?;
    let rp_id = p.non_empty("rpId")?.to_owned();
    let user_handle = p.opt_bytes("userHandle", false)?.unwrap_or_default();
    let key = p.pkcs8("keyValue", false)?;
    let mut c = base_credential(id, rp_id, user_handle, key, defaults);
    let text = |k: &str| -> Result<Option<String>, TransferError> {
        Ok(p.opt_str(k)?.filter(|s| !s.is_empty()).map(str::to_owned))
    };
    c.user_name = text("userName")?;
    c.user_display_name = text("userDisplayName")?;
    c.rp_name = text("rpName")?;
    if let Some(counter) = p.opt_str("counter")? {
        c.sign_count = counter
            .parse()
            .map_err(|_| p.err("counter", "expected a decimal string from 0 to 4294967295"))?;
    }
    if let Some(d) = p.opt_str("discoverable")? {
        c.discoverable = match d {
            "true" => true,
            "false" => false,
            _ => return Err(p.err("discoverable", "expected \"true\" or \"false\"")),
        };
    }
    let mut carried = CARRIED.to_vec();
    match p.opt_str("creationDate")? {
        Some(date) => {
            c.created_ms = parse_rfc3339(date)
                .ok_or_else(|| p.err("creationDate", "expected an ISO 8601 UTC time"))?;
        }
        None => carried.retain(|f| *f != Field::Created),
    }
    Losses::new(&c.id, &c.rp_id, losses).defaulted(Format::Bitwarden, &carried, &c);
    Ok(c)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` to ms since the Unix epoch.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let rest = &text[19..];
    let (ms, tail) = match rest.strip_prefix('.') {
        Some(frac) => {
            let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                return None;
            }
            let ms: String = format!("{digits:0<3}").chars().take(3).collect();
            (ms.parse::<i64>().ok()?, &frac[digits.len()..])
        }
        None => (0, rest),
    };
    if tail != "Z"
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s;
    u64::try_from(secs * 1000 + ms).ok()
}
