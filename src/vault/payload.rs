//! The vault payload (vault-format/SPEC.md §4): the authenticator's settings and credentials as
//! canonical CBOR with integer keys. `encode` and `decode` sit side by side; decode is strict
//! (unknown keys, wrong types and bad values are payload failures).

use ciborium::value::Value;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Part, VaultError};
use crate::authenticator::{AttestationMode, Config, CounterPolicy};
use crate::cbor;
use crate::crypto::keys::{Algorithm, PrivateKey};
use crate::ctap2::{as_array, as_bool, as_bytes, as_int, as_map, as_text};
use crate::store::{Change, CredProtect, CredRandom, Credential, Event, EventKind};

/// The payload revision this code reads and writes.
pub const REVISION: i64 = 1;

/// Everything a vault holds.
#[derive(Debug, Clone)]
pub struct State {
    /// The authenticator's settings.
    pub settings: Config,
    /// The credentials, in any order (written in `sequence` order).
    pub credentials: Vec<Credential>,
    /// The signal event log, oldest first.
    pub events: Vec<Event>,
}

fn int(v: i64) -> Value {
    Value::Integer(v.into())
}

fn uint(v: u64) -> Value {
    Value::Integer(v.into())
}

/// Encodes settings and credentials as canonical CBOR (zeroized on drop: it holds private keys).
pub fn encode(
    settings: &Config,
    credentials: &[&Credential],
    events: &[Event],
) -> Zeroizing<Vec<u8>> {
    let s = settings;
    let settings = cbor::map([
        (1, Value::Bytes(s.aaguid.as_bytes().to_vec())),
        (
            2,
            int(if s.counter == CounterPolicy::AlwaysZero {
                1
            } else {
                0
            }),
        ),
        (
            3,
            int(if s.attestation == AttestationMode::PackedSelf {
                1
            } else {
                0
            }),
        ),
        (4, Value::Bool(s.backup_eligible)),
        (5, Value::Bool(s.backup_state)),
        (6, uint(s.credential_id_length as u64)),
        (
            7,
            Value::Array(s.algorithms.iter().map(|a| int(a.cose_id())).collect()),
        ),
        (8, Value::Bool(s.resident_keys)),
        (
            9,
            Value::Array(s.transports.iter().cloned().map(Value::Text).collect()),
        ),
        (10, uint(u64::from(s.max_credential_count_in_list))),
        (11, Value::Bool(s.account_chooser)),
        (12, uint(s.hidden_retention_ms)),
    ]);
    let mut creds: Vec<&Credential> = credentials.to_vec();
    creds.sort_by_key(|c| c.sequence);
    let credentials = Value::Array(creds.into_iter().map(encode_credential).collect());
    let events = Value::Array(events.iter().map(encode_event).collect());
    let top = cbor::map([
        (1, int(REVISION)),
        (2, settings),
        (3, credentials),
        (4, events),
    ]);
    let bytes = Zeroizing::new(cbor::encode(&top));
    // The Value tree held copies of private keys; wipe them before it is dropped.
    wipe(top);
    bytes
}

fn wipe(v: Value) {
    match v {
        Value::Bytes(mut b) => zeroize::Zeroize::zeroize(&mut b),
        Value::Array(items) => items.into_iter().for_each(wipe),
        Value::Map(entries) => entries.into_iter().for_each(|(k, v)| {
            wipe(k);
            wipe(v);
        }),
        _ => {}
    }
}

fn encode_credential(c: &Credential) -> Value {
    let mut e: Vec<(i64, Value)> = vec![
        (1, Value::Bytes(c.id.clone())),
        (2, Value::Text(c.rp_id.clone())),
        (4, Value::Bytes(c.user_handle.clone())),
        (7, int(c.key.algorithm().cose_id())),
        (8, Value::Bytes(c.key.secret_bytes().to_vec())),
        (9, Value::Bool(c.discoverable)),
        (10, uint(u64::from(c.sign_count))),
        (11, Value::Bool(c.backup_eligible)),
        (12, Value::Bool(c.backup_state && c.backup_eligible)),
        (13, uint(c.created_ms)),
        (15, Value::Bool(c.hidden)),
        (16, int(i64::from(c.cred_protect.level()))),
        (18, uint(c.sequence)),
    ];
    let text = |v: &Option<String>| v.clone().map(Value::Text);
    for (k, v) in [
        (3, text(&c.rp_name)),
        (5, text(&c.user_name)),
        (6, text(&c.user_display_name)),
    ] {
        if let Some(v) = v {
            e.push((k, v));
        }
    }
    if let Some(t) = c.last_used_ms {
        e.push((14, uint(t)));
    }
    if let Some(t) = c.hidden_at_ms {
        e.push((19, uint(t)));
    }
    if let Some(r) = &c.cred_random {
        e.push((
            17,
            Value::Bytes([r.with_uv.as_slice(), &r.without_uv].concat()),
        ));
    }
    cbor::map(e)
}

fn encode_event(e: &Event) -> Value {
    let mut m: Vec<(i64, Value)> = vec![
        (1, uint(e.time_ms)),
        (2, int(i64::from(e.kind.code()))),
        (3, Value::Text(e.rp_id.clone())),
        (
            5,
            Value::Array(e.credential_ids.iter().cloned().map(Value::Bytes).collect()),
        ),
        (
            6,
            Value::Array(
                e.changes
                    .iter()
                    .map(|c| {
                        let (code, extra) = match c {
                            Change::Hide { .. } => (1, None),
                            Change::Unhide { .. } => (2, None),
                            Change::Rename {
                                name, display_name, ..
                            } => (3, Some((name, display_name))),
                            Change::Remove { .. } => (4, None),
                        };
                        let mut f = vec![(1, int(code)), (2, Value::Bytes(c.id().to_vec()))];
                        if let Some((n, d)) = extra {
                            f.push((3, Value::Text(n.clone())));
                            f.push((4, Value::Text(d.clone())));
                        }
                        cbor::map(f)
                    })
                    .collect(),
            ),
        ),
    ];
    if let Some(u) = &e.user_id {
        m.push((4, Value::Bytes(u.clone())));
    }
    cbor::map(m)
}

fn decode_event(v: &Value) -> Result<Event, VaultError> {
    const W: &str = "event";
    let f = fields(v, 6, W)?;
    let kind = u8::try_from(get_int(&f, 2, W)?)
        .ok()
        .and_then(EventKind::from_code)
        .ok_or_else(|| bad("unknown event kind"))?;
    let credential_ids = as_array(need(&f, 5, W)?)
        .map_err(|_| bad("event credential ids is not an array"))?
        .iter()
        .map(|i| {
            as_bytes(i)
                .map(<[u8]>::to_vec)
                .map_err(|_| bad("event credential id is not bytes"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let changes = as_array(need(&f, 6, W)?)
        .map_err(|_| bad("event changes is not an array"))?
        .iter()
        .map(|c| {
            let g = fields(c, 4, "event change")?;
            let id = get_bytes(&g, 2, "event change")?.to_vec();
            Ok(match get_int(&g, 1, "event change")? {
                1 => Change::Hide { id },
                2 => Change::Unhide { id },
                3 => Change::Rename {
                    id,
                    name: opt_text(&g, 3, "event change")?
                        .ok_or_else(|| bad("rename without a name"))?,
                    display_name: opt_text(&g, 4, "event change")?
                        .ok_or_else(|| bad("rename without a display name"))?,
                },
                4 => Change::Remove { id },
                _ => return Err(bad("unknown event change")),
            })
        })
        .collect::<Result<Vec<_>, VaultError>>()?;
    Ok(Event {
        time_ms: get_uint(&f, 1, W)?,
        kind,
        rp_id: as_text(need(&f, 3, W)?)
            .map_err(|_| bad("event rp id is not text"))?
            .to_owned(),
        user_id: f[4]
            .map(|_| get_bytes(&f, 4, W).map(<[u8]>::to_vec))
            .transpose()?,
        credential_ids,
        changes,
    })
}

fn bad(reason: impl Into<String>) -> VaultError {
    VaultError::Corrupt {
        part: Part::Payload,
        reason: reason.into(),
    }
}

/// Reads a map with integer keys 1..=max: every key known, none repeated (canonical CBOR already
/// rules out duplicates). Returns the values by key.
fn fields<'a>(v: &'a Value, max: usize, what: &str) -> Result<Vec<Option<&'a Value>>, VaultError> {
    let m = as_map(v).map_err(|_| bad(format!("{what} is not a map")))?;
    let mut out = vec![None; max + 1];
    for (k, v) in m {
        let key = as_int(k)
            .ok()
            .and_then(|k| usize::try_from(k).ok())
            .filter(|k| (1..=max).contains(k));
        let key = key.ok_or_else(|| bad(format!("{what} has an unknown key")))?;
        out[key] = Some(v);
    }
    Ok(out)
}

fn need<'a>(f: &[Option<&'a Value>], key: usize, what: &str) -> Result<&'a Value, VaultError> {
    f[key].ok_or_else(|| bad(format!("{what} lacks key {key}")))
}

fn get_int(f: &[Option<&Value>], key: usize, what: &str) -> Result<i64, VaultError> {
    as_int(need(f, key, what)?).map_err(|_| bad(format!("{what} key {key} is not an integer")))
}

fn get_uint(f: &[Option<&Value>], key: usize, what: &str) -> Result<u64, VaultError> {
    u64::try_from(get_int(f, key, what)?).map_err(|_| bad(format!("{what} key {key} is negative")))
}

fn get_bool(f: &[Option<&Value>], key: usize, what: &str) -> Result<bool, VaultError> {
    as_bool(need(f, key, what)?).map_err(|_| bad(format!("{what} key {key} is not a bool")))
}

fn get_bytes<'a>(f: &[Option<&'a Value>], key: usize, what: &str) -> Result<&'a [u8], VaultError> {
    as_bytes(need(f, key, what)?).map_err(|_| bad(format!("{what} key {key} is not a byte string")))
}

fn opt_text(f: &[Option<&Value>], key: usize, what: &str) -> Result<Option<String>, VaultError> {
    f[key]
        .map(|v| {
            as_text(v)
                .map(str::to_owned)
                .map_err(|_| bad(format!("{what} key {key} is not text")))
        })
        .transpose()
}

/// Decodes a payload (SPEC §4); anything off is a payload failure.
pub fn decode(bytes: &[u8]) -> Result<State, VaultError> {
    let top = cbor::decode(bytes).map_err(|e| bad(format!("payload CBOR: {e}")))?;
    let result = decode_value(&top);
    wipe(top);
    result
}

fn decode_value(top: &Value) -> Result<State, VaultError> {
    let t = fields(top, 4, "payload")?;
    let revision = get_int(&t, 1, "payload")?;
    if revision != REVISION {
        return Err(VaultError::Unsupported {
            reason: format!("payload revision {revision}; this fauxkey reads revision {REVISION}"),
        });
    }
    let s = fields(need(&t, 2, "payload")?, 12, "settings")?;
    let aaguid: [u8; 16] = get_bytes(&s, 1, "settings")?
        .try_into()
        .map_err(|_| bad("settings AAGUID is not 16 bytes"))?;
    let algorithms = as_array(need(&s, 7, "settings")?)
        .map_err(|_| bad("settings algorithms is not an array"))?
        .iter()
        .map(|a| {
            as_int(a)
                .ok()
                .and_then(Algorithm::from_cose_id)
                .ok_or_else(|| bad("unknown algorithm in settings"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let transports = as_array(need(&s, 9, "settings")?)
        .map_err(|_| bad("settings transports is not an array"))?
        .iter()
        .map(|t| {
            as_text(t)
                .map(str::to_owned)
                .map_err(|_| bad("transport is not text"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let id_len = get_uint(&s, 6, "settings")?;
    if !(16..=64).contains(&id_len) {
        return Err(bad("settings credential id length is outside 16..=64"));
    }
    let settings = Config {
        aaguid: Uuid::from_bytes(aaguid),
        algorithms,
        counter: match get_int(&s, 2, "settings")? {
            0 => CounterPolicy::PerCredential,
            1 => CounterPolicy::AlwaysZero,
            _ => return Err(bad("unknown counter policy")),
        },
        attestation: match get_int(&s, 3, "settings")? {
            0 => AttestationMode::None,
            1 => AttestationMode::PackedSelf,
            _ => return Err(bad("unknown attestation mode")),
        },
        backup_eligible: get_bool(&s, 4, "settings")?,
        backup_state: get_bool(&s, 5, "settings")?,
        credential_id_length: id_len as usize,
        resident_keys: get_bool(&s, 8, "settings")?,
        transports,
        max_credential_count_in_list: u32::try_from(get_uint(&s, 10, "settings")?)
            .map_err(|_| bad("maxCredentialCountInList too large"))?,
        account_chooser: get_bool(&s, 11, "settings")?,
        hidden_retention_ms: get_uint(&s, 12, "settings")?,
    };
    let list = as_array(need(&t, 3, "payload")?).map_err(|_| bad("credentials is not an array"))?;
    let mut credentials = Vec::with_capacity(list.len());
    let mut seen = std::collections::HashSet::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let c = decode_credential(v).map_err(|e| match e {
            VaultError::Corrupt { part, reason } => VaultError::Corrupt {
                part,
                reason: format!("credential {i}: {reason}"),
            },
            other => other,
        })?;
        if !seen.insert(c.id.clone()) {
            return Err(bad(format!("credential {i}: duplicate credential id")));
        }
        credentials.push(c);
    }
    let events = as_array(need(&t, 4, "payload")?)
        .map_err(|_| bad("events is not an array"))?
        .iter()
        .map(decode_event)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(State {
        settings,
        credentials,
        events,
    })
}

fn decode_credential(v: &Value) -> Result<Credential, VaultError> {
    const W: &str = "credential";
    let f = fields(v, 19, W)?;
    let id = get_bytes(&f, 1, W)?.to_vec();
    if id.is_empty() || id.len() > 1023 {
        return Err(bad("credential id length is outside 1..=1023"));
    }
    let user_handle = get_bytes(&f, 4, W)?.to_vec();
    if user_handle.len() > 64 {
        return Err(bad("user handle is longer than 64 bytes"));
    }
    let alg = Algorithm::from_cose_id(get_int(&f, 7, W)?)
        .ok_or_else(|| bad("unknown credential algorithm"))?;
    let key =
        PrivateKey::from_secret_bytes(alg, get_bytes(&f, 8, W)?).map_err(|e| bad(e.to_string()))?;
    let backup_eligible = get_bool(&f, 11, W)?;
    let backup_state = get_bool(&f, 12, W)?;
    if backup_state && !backup_eligible {
        return Err(bad("backup state set without backup eligibility"));
    }
    let cred_random = match f[17] {
        Some(v) => {
            let b = as_bytes(v).map_err(|_| bad("cred_random is not a byte string"))?;
            if b.len() != 64 {
                return Err(bad("cred_random is not 64 bytes"));
            }
            let mut r = CredRandom {
                with_uv: [0; 32],
                without_uv: [0; 32],
            };
            r.with_uv.copy_from_slice(&b[..32]);
            r.without_uv.copy_from_slice(&b[32..]);
            Some(r)
        }
        None => None,
    };
    Ok(Credential {
        id,
        rp_id: as_text(need(&f, 2, W)?)
            .map_err(|_| bad("rp id is not text"))?
            .to_owned(),
        rp_name: opt_text(&f, 3, W)?,
        user_handle,
        user_name: opt_text(&f, 5, W)?,
        user_display_name: opt_text(&f, 6, W)?,
        key,
        discoverable: get_bool(&f, 9, W)?,
        sign_count: u32::try_from(get_uint(&f, 10, W)?)
            .map_err(|_| bad("sign count exceeds 2^32-1"))?,
        backup_eligible,
        backup_state,
        created_ms: get_uint(&f, 13, W)?,
        last_used_ms: f[14].map(|_| get_uint(&f, 14, W)).transpose()?,
        hidden: get_bool(&f, 15, W)?,
        hidden_at_ms: f[19].map(|_| get_uint(&f, 19, W)).transpose()?,
        cred_protect: u8::try_from(get_int(&f, 16, W)?)
            .ok()
            .and_then(CredProtect::from_level)
            .ok_or_else(|| bad("credProtect level is not 1, 2 or 3"))?,
        cred_random,
        sequence: get_uint(&f, 18, W)?,
    })
}
