//! The vault payload (vault-format/SPEC.md §4): the authenticator's settings and credentials as
//! canonical CBOR with integer keys. `encode` and `decode` sit side by side; decode is strict
//! (unknown keys, wrong types and bad values are payload failures).

use ciborium::value::Value;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Part, VaultError};
use crate::attestation::{AttestationCa, AttestationCert};
use crate::authenticator::{
    AttestationMode, Config, CounterPolicy, CredentialIdFormat, DeviceInfo, U2fMode,
    DEFAULT_COMPOUND_MEMBERS,
};
use crate::cbor;
use crate::cbor::{Cursor, CursorError};
use crate::client::Attachment;
use crate::crypto::keys::{Algorithm, PrivateKey};
use crate::store::{Change, CredProtect, CredRandom, Credential, DeviceState, Event, EventKind};

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
    /// The optional top-level parts (attestation CA, client profile).
    pub extras: Extras,
}

/// Optional top-level parts of the payload (SPEC §4.2 keys 5 and 6); a vault written before
/// they existed has neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// The vault's test attestation CA (root certificate and its **secret** key).
    pub attestation_ca: Option<AttestationCa>,
    /// How the client in front of the authenticator behaves (from the profile).
    pub client: Option<ClientSettings>,
    /// The PIN and authenticatorConfig state, kept in settings keys 18–25 (SPEC §4.3); a
    /// default state writes none of them.
    pub device: DeviceState,
}

/// The client half of a provider profile, kept so every front end rebuilds the same client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// The profile the vault was made with (informational).
    pub profile: String,
    /// `authenticatorAttachment` the client reports.
    pub attachment: Attachment,
    /// The client zeroes the AAGUID when the RP asked for `attestation: "none"`.
    pub zero_aaguid_for_none: bool,
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
    encode_with(settings, &Extras::default(), credentials, events)
}

fn attestation_code(mode: AttestationMode) -> i64 {
    match mode {
        AttestationMode::None => 0,
        AttestationMode::PackedSelf => 1,
        AttestationMode::Packed => 2,
        AttestationMode::AlwaysNone => 3,
        AttestationMode::Tpm => 4,
        AttestationMode::AndroidKey => 5,
        AttestationMode::Apple => 6,
        AttestationMode::Compound => 7,
    }
}

/// [`encode`] with the optional top-level parts.
pub fn encode_with(
    settings: &Config,
    extras: &Extras,
    credentials: &[&Credential],
    events: &[Event],
) -> Zeroizing<Vec<u8>> {
    let s = settings;
    let mut settings: Vec<(i64, Value)> = vec![
        (1, Value::Bytes(s.aaguid.as_bytes().to_vec())),
        (
            2,
            int(if s.counter == CounterPolicy::AlwaysZero {
                1
            } else {
                0
            }),
        ),
        (3, int(attestation_code(s.attestation))),
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
    ];
    // Keys 13–17 are optional and written only when they differ from the default, so a vault
    // that does not use them encodes exactly as before they existed.
    if let Some(cert) = &s.attestation_cert {
        settings.push((
            13,
            cbor::map([
                (
                    1,
                    Value::Array(cert.chain().iter().cloned().map(Value::Bytes).collect()),
                ),
                (2, Value::Bytes(cert.key().secret_bytes().to_vec())),
            ]),
        ));
    }
    let defaults = Config::default();
    if s.extensions != defaults.extensions {
        settings.push((
            14,
            Value::Array(s.extensions.iter().cloned().map(Value::Text).collect()),
        ));
    }
    if s.always_uv {
        settings.push((15, Value::Bool(true)));
    }
    if s.credential_id_format != CredentialIdFormat::Random {
        let code = match s.credential_id_format {
            CredentialIdFormat::Random => 0,
            CredentialIdFormat::UuidBytes => 1,
            CredentialIdFormat::UuidText => 2,
        };
        settings.push((16, int(code)));
    }
    if s.unsynced_at_creation {
        settings.push((17, Value::Bool(true)));
    }
    encode_device(&extras.device, &mut settings);
    // Key 26 (after the device keys 18–25): written only when U2F is spoken.
    match s.u2f {
        U2fMode::Off => {}
        U2fMode::Also => settings.push((26, int(1))),
        U2fMode::Only => settings.push((26, int(2))),
    }
    // Key 29: the compound members, only when they differ from the default.
    if s.compound_members != defaults.compound_members {
        let codes = s.compound_members.iter().map(|m| int(attestation_code(*m)));
        settings.push((29, Value::Array(codes.collect())));
    }
    let settings = cbor::map(settings);
    let mut creds: Vec<&Credential> = credentials.to_vec();
    creds.sort_by_key(|c| c.sequence);
    let credentials = Value::Array(creds.into_iter().map(encode_credential).collect());
    let events = Value::Array(events.iter().map(encode_event).collect());
    let mut top = vec![
        (1, int(REVISION)),
        (2, settings),
        (3, credentials),
        (4, events),
    ];
    if let Some(ca) = &extras.attestation_ca {
        top.push((
            5,
            cbor::map([
                (1, Value::Bytes(ca.root_der().to_vec())),
                (2, Value::Bytes(ca.key().secret_bytes().to_vec())),
            ]),
        ));
    }
    if let Some(c) = &extras.client {
        top.push((
            6,
            cbor::map([
                (1, Value::Text(c.profile.clone())),
                (
                    2,
                    int(match c.attachment {
                        Attachment::Platform => 0,
                        Attachment::CrossPlatform => 1,
                    }),
                ),
                (3, Value::Bool(c.zero_aaguid_for_none)),
            ]),
        ));
    }
    let top = cbor::map(top);
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
    if let Some(app) = &c.u2f_app_param {
        e.push((20, Value::Bytes(app.to_vec())));
    }
    // 21 and 22: the CTAP 2.1 extension data.
    if let Some(k) = &c.large_blob_key {
        e.push((21, Value::Bytes(k.0.to_vec())));
    }
    if let Some(b) = &c.cred_blob {
        e.push((22, Value::Bytes(b.clone())));
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

fn bad(reason: impl Into<String>) -> VaultError {
    VaultError::Corrupt {
        part: Part::Payload,
        reason: reason.into(),
    }
}

/// Reads the payload straight from its bytes (no CBOR value tree: a vault of 100,000 passkeys
/// would need ~170 MB for one). Strict: canonical heads, integer keys strictly increasing, each
/// known, each of its type; anything else is a payload failure.
struct In<'a> {
    cur: Cursor<'a>,
}

impl<'a> In<'a> {
    fn err(what: &str, e: CursorError) -> VaultError {
        bad(format!("{what}: {e}"))
    }

    fn uint(&mut self, what: &str) -> Result<u64, VaultError> {
        self.cur.uint().map_err(|e| Self::err(what, e))
    }

    fn int(&mut self, what: &str) -> Result<i64, VaultError> {
        self.cur.int().map_err(|e| Self::err(what, e))
    }

    fn bool(&mut self, what: &str) -> Result<bool, VaultError> {
        self.cur.bool().map_err(|e| Self::err(what, e))
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], VaultError> {
        self.cur.bytes().map_err(|e| Self::err(what, e))
    }

    fn text(&mut self, what: &str) -> Result<String, VaultError> {
        self.cur
            .text()
            .map(str::to_owned)
            .map_err(|e| Self::err(what, e))
    }

    fn array(&mut self, what: &str) -> Result<usize, VaultError> {
        self.cur.array().map_err(|e| Self::err(what, e))
    }

    /// Reads a map head, then calls `field` once per key; keys are integers 1..=max, strictly
    /// increasing (which canonical order means for small unsigned keys).
    fn map(
        &mut self,
        what: &str,
        max: u64,
        mut field: impl FnMut(&mut Self, u64) -> Result<(), VaultError>,
    ) -> Result<(), VaultError> {
        let n = self.cur.map().map_err(|e| Self::err(what, e))?;
        let mut previous = 0;
        for _ in 0..n {
            let key = self
                .cur
                .uint()
                .map_err(|_| bad(format!("{what} has an unknown key")))?;
            if key == 0 || key > max {
                return Err(bad(format!("{what} has an unknown key")));
            }
            if key <= previous {
                return Err(bad(format!("{what} keys are out of order or repeated")));
            }
            previous = key;
            field(self, key)?;
        }
        Ok(())
    }
}

fn need<T>(v: Option<T>, what: &str, key: u64) -> Result<T, VaultError> {
    v.ok_or_else(|| bad(format!("{what} lacks key {key}")))
}

/// Decodes a payload (SPEC §4); anything off is a payload failure.
pub fn decode(bytes: &[u8]) -> Result<State, VaultError> {
    let mut r = In {
        cur: Cursor::new(bytes),
    };
    let mut revision = None;
    let mut settings = None;
    let mut credentials = None;
    let mut events = None;
    let mut extras = Extras::default();
    r.map("payload", 6, |r, key| {
        match key {
            1 => {
                let rev = r.int("payload revision")?;
                // Unknown revisions are unsupported, and must be refused before reading on.
                if rev != REVISION {
                    return Err(VaultError::Unsupported {
                        reason: format!(
                            "payload revision {rev}; this fauxkey reads revision {REVISION}"
                        ),
                    });
                }
                revision = Some(rev);
            }
            2 => {
                let (config, device) = decode_settings(r)?;
                settings = Some(config);
                extras.device = device;
            }
            3 => {
                let n = r.array("credentials")?;
                let mut list: Vec<Credential> = Vec::with_capacity(n);
                for i in 0..n {
                    let c = decode_credential(r).map_err(|e| match e {
                        VaultError::Corrupt { part, reason } => VaultError::Corrupt {
                            part,
                            reason: format!("credential {i}: {reason}"),
                        },
                        other => other,
                    })?;
                    list.push(c);
                }
                // Ids are unique (SPEC §4.4); borrowed, so the check copies nothing.
                let mut seen = std::collections::HashSet::with_capacity(list.len());
                if let Some(i) = list.iter().position(|c| !seen.insert(c.id.as_slice())) {
                    return Err(bad(format!("credential {i}: duplicate credential id")));
                }
                // In strictly ascending `sequence` order, so unique too (SPEC §4.2, §4.4):
                // otherwise write(read(x)) would not be x.
                if let Some(i) = list.windows(2).position(|w| w[1].sequence <= w[0].sequence) {
                    let (previous, this) = (list[i].sequence, list[i + 1].sequence);
                    return Err(bad(format!(
                        "credential {}: sequence {this} is not greater than the previous credential's {previous}",
                        i + 1
                    )));
                }
                credentials = Some(list);
            }
            4 => {
                let n = r.array("events")?;
                let mut list = Vec::with_capacity(n.min(crate::store::MAX_EVENTS));
                for _ in 0..n {
                    list.push(decode_event(r)?);
                }
                events = Some(list);
            }
            5 => extras.attestation_ca = Some(decode_attestation_ca(r)?),
            _ => extras.client = Some(decode_client(r)?),
        }
        Ok(())
    })?;
    if !r.cur.at_end() {
        return Err(bad("payload has trailing bytes"));
    }
    need(revision, "payload", 1)?;
    Ok(State {
        settings: need(settings, "payload", 2)?,
        credentials: need(credentials, "payload", 3)?,
        events: need(events, "payload", 4)?,
        extras,
    })
}

fn decode_attestation_ca(r: &mut In<'_>) -> Result<AttestationCa, VaultError> {
    const W: &str = "attestation CA";
    let (mut cert, mut key) = (None, None);
    r.map(W, 2, |r, k| {
        match k {
            1 => cert = Some(r.bytes(W)?.to_vec()),
            _ => key = Some(Zeroizing::new(r.bytes(W)?.to_vec())),
        }
        Ok(())
    })?;
    AttestationCa::from_parts(need(cert, W, 1)?, &need(key, W, 2)?)
        .map_err(|e| bad(format!("{W}: {e}")))
}

fn decode_attestation_cert(r: &mut In<'_>) -> Result<AttestationCert, VaultError> {
    const W: &str = "attestation certificate";
    let (mut chain, mut key) = (None, None);
    r.map(W, 2, |r, k| {
        match k {
            1 => {
                let n = r.array(W)?;
                let mut list = Vec::with_capacity(n.min(8));
                for _ in 0..n {
                    list.push(r.bytes(W)?.to_vec());
                }
                chain = Some(list);
            }
            _ => key = Some(Zeroizing::new(r.bytes(W)?.to_vec())),
        }
        Ok(())
    })?;
    AttestationCert::from_parts(need(chain, W, 1)?, &need(key, W, 2)?)
        .map_err(|e| bad(format!("{W}: {e}")))
}

fn decode_client(r: &mut In<'_>) -> Result<ClientSettings, VaultError> {
    const W: &str = "client settings";
    let (mut profile, mut attachment, mut zero) = (None, None, None);
    r.map(W, 3, |r, k| {
        match k {
            1 => profile = Some(r.text(W)?),
            2 => {
                attachment = Some(match r.int(W)? {
                    0 => Attachment::Platform,
                    1 => Attachment::CrossPlatform,
                    _ => return Err(bad("unknown authenticator attachment")),
                })
            }
            _ => zero = Some(r.bool(W)?),
        }
        Ok(())
    })?;
    Ok(ClientSettings {
        profile: need(profile, W, 1)?,
        attachment: need(attachment, W, 2)?,
        zero_aaguid_for_none: need(zero, W, 3)?,
    })
}

/// Settings keys 18–25 (SPEC §4.3): each written only when it differs from a fresh
/// authenticator's state.
fn encode_device(d: &DeviceState, settings: &mut Vec<(i64, Value)>) {
    let fresh = DeviceState::default();
    if let Some(hash) = d.pin_hash {
        settings.push((18, Value::Bytes(hash.to_vec())));
        settings.push((19, uint(u64::from(d.pin_code_points))));
    }
    if d.pin_retries != fresh.pin_retries {
        settings.push((20, uint(u64::from(d.pin_retries))));
    }
    if d.min_pin_length != fresh.min_pin_length {
        settings.push((21, uint(u64::from(d.min_pin_length))));
    }
    if d.force_pin_change {
        settings.push((22, Value::Bool(true)));
    }
    if !d.min_pin_length_rp_ids.is_empty() {
        settings.push((
            23,
            Value::Array(
                d.min_pin_length_rp_ids
                    .iter()
                    .cloned()
                    .map(Value::Text)
                    .collect(),
            ),
        ));
    }
    if d.enterprise_attestation {
        settings.push((24, Value::Bool(true)));
    }
    if d.always_uv {
        settings.push((25, Value::Bool(true)));
    }
    // Key 26 is reserved for another addition.
    if let Some(array) = &d.large_blob_array {
        settings.push((27, Value::Bytes(array.clone())));
    }
}

/// Reads one of settings keys 18–25 into `d`.
fn decode_device_key(r: &mut In<'_>, key: u64, d: &mut DeviceState) -> Result<(), VaultError> {
    const W: &str = "settings";
    let small = |n: u64, what: &str| u8::try_from(n).map_err(|_| bad(format!("{what} too large")));
    match key {
        18 => {
            d.pin_hash = Some(
                r.bytes("settings PIN hash")?
                    .try_into()
                    .map_err(|_| bad("settings PIN hash is not 16 bytes"))?,
            )
        }
        19 => d.pin_code_points = small(r.uint(W)?, "PIN length")?,
        20 => {
            d.pin_retries = small(r.uint(W)?, "PIN retries")?;
            if d.pin_retries > crate::store::MAX_PIN_RETRIES {
                return Err(bad("settings PIN retries above 8"));
            }
        }
        21 => d.min_pin_length = small(r.uint(W)?, "minimum PIN length")?,
        22 => d.force_pin_change = r.bool(W)?,
        23 => {
            let n = r.array("settings minPinLength RP IDs")?;
            let mut list = Vec::with_capacity(n.min(16));
            for _ in 0..n {
                list.push(r.text("RP ID")?);
            }
            d.min_pin_length_rp_ids = list;
        }
        24 => d.enterprise_attestation = r.bool(W)?,
        _ => d.always_uv = r.bool(W)?,
    }
    Ok(())
}

fn decode_settings(r: &mut In<'_>) -> Result<(Config, DeviceState), VaultError> {
    const W: &str = "settings";
    let (mut aaguid, mut counter, mut attestation, mut be, mut bs) = (None, None, None, None, None);
    let (mut id_len, mut algorithms, mut rk, mut transports) = (None, None, None, None);
    let (mut max_list, mut chooser, mut retention) = (None, None, None);
    let (mut att_cert, mut extensions, mut always_uv, mut id_format) = (None, None, None, None);
    let mut unsynced = None;
    let mut u2f = U2fMode::Off;
    let mut compound = None;
    let mut device = DeviceState::default();
    r.map(W, 29, |r, key| {
        match key {
            1 => aaguid = Some(r.bytes("settings AAGUID")?),
            2 => counter = Some(r.int(W)?),
            3 => attestation = Some(r.int(W)?),
            4 => be = Some(r.bool(W)?),
            5 => bs = Some(r.bool(W)?),
            6 => id_len = Some(r.uint(W)?),
            7 => {
                let n = r.array("settings algorithms")?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    let id = r.int("algorithm")?;
                    list.push(
                        Algorithm::from_cose_id(id)
                            .ok_or_else(|| bad("unknown algorithm in settings"))?,
                    );
                }
                algorithms = Some(list);
            }
            8 => rk = Some(r.bool(W)?),
            9 => {
                let n = r.array("settings transports")?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push(r.text("transport")?);
                }
                transports = Some(list);
            }
            10 => max_list = Some(r.uint(W)?),
            11 => chooser = Some(r.bool(W)?),
            12 => retention = Some(r.uint(W)?),
            13 => att_cert = Some(decode_attestation_cert(r)?),
            14 => {
                let n = r.array("settings extensions")?;
                let mut list = Vec::with_capacity(n.min(16));
                for _ in 0..n {
                    list.push(r.text("extension")?);
                }
                extensions = Some(list);
            }
            15 => always_uv = Some(r.bool(W)?),
            17 => unsynced = Some(r.bool(W)?),
            18..=25 => decode_device_key(r, key, &mut device)?,
            27 => {
                let array = r.bytes("settings large-blob array")?.to_vec();
                if !crate::ctap2::large_blobs::checksum_valid(&array) {
                    return Err(bad("settings large-blob array has a wrong checksum"));
                }
                if array.len() > crate::authenticator::MAX_SERIALIZED_LARGE_BLOB_ARRAY {
                    return Err(bad("settings large-blob array is longer than 4096 bytes"));
                }
                device.large_blob_array = Some(array);
            }
            26 => {
                u2f = match r.int(W)? {
                    1 => U2fMode::Also,
                    2 => U2fMode::Only,
                    _ => return Err(bad("unknown U2F mode (settings key 26)")),
                }
            }
            28 => return Err(bad("settings has an unknown key")),
            29 => {
                let n = r.array("settings compound members")?;
                let mut list = Vec::with_capacity(n.min(8));
                for _ in 0..n {
                    list.push(match r.int("compound member")? {
                        1 => AttestationMode::PackedSelf,
                        4 => AttestationMode::Tpm,
                        6 => AttestationMode::Apple,
                        _ => return Err(bad("unknown compound member mode (settings key 29)")),
                    });
                }
                AttestationMode::check_compound_members(&list)
                    .map_err(|e| bad(format!("settings key 29: {e}")))?;
                compound = Some(list);
            }
            _ => {
                id_format = Some(match r.int(W)? {
                    0 => CredentialIdFormat::Random,
                    1 => CredentialIdFormat::UuidBytes,
                    2 => CredentialIdFormat::UuidText,
                    _ => return Err(bad("unknown credential id format")),
                })
            }
        }
        Ok(())
    })?;
    let aaguid: [u8; 16] = need(aaguid, W, 1)?
        .try_into()
        .map_err(|_| bad("settings AAGUID is not 16 bytes"))?;
    let id_len = need(id_len, W, 6)?;
    if !(16..=64).contains(&id_len) {
        return Err(bad("settings credential id length is outside 16..=64"));
    }
    if device.pin_hash.is_some() != (device.pin_code_points > 0) {
        return Err(bad("settings keys 18 and 19 must come together"));
    }
    let config = Config {
        aaguid: Uuid::from_bytes(aaguid),
        algorithms: need(algorithms, W, 7)?,
        counter: match need(counter, W, 2)? {
            0 => CounterPolicy::PerCredential,
            1 => CounterPolicy::AlwaysZero,
            _ => return Err(bad("unknown counter policy")),
        },
        attestation: match need(attestation, W, 3)? {
            0 => AttestationMode::None,
            1 => AttestationMode::PackedSelf,
            2 => AttestationMode::Packed,
            3 => AttestationMode::AlwaysNone,
            4 => AttestationMode::Tpm,
            5 => AttestationMode::AndroidKey,
            6 => AttestationMode::Apple,
            7 => AttestationMode::Compound,
            _ => return Err(bad("unknown attestation mode")),
        },
        backup_eligible: need(be, W, 4)?,
        backup_state: need(bs, W, 5)?,
        credential_id_length: id_len as usize,
        resident_keys: need(rk, W, 8)?,
        transports: need(transports, W, 9)?,
        max_credential_count_in_list: u32::try_from(need(max_list, W, 10)?)
            .map_err(|_| bad("maxCredentialCountInList too large"))?,
        account_chooser: need(chooser, W, 11)?,
        hidden_retention_ms: need(retention, W, 12)?,
        attestation_cert: att_cert,
        compound_members: compound.unwrap_or_else(|| DEFAULT_COMPOUND_MEMBERS.to_vec()),
        extensions: extensions.unwrap_or_else(|| Config::default().extensions),
        always_uv: always_uv.unwrap_or(false),
        credential_id_format: id_format.unwrap_or_default(),
        unsynced_at_creation: unsynced.unwrap_or(false),
        u2f,
        // Not stored: the getInfo details follow the device the AAGUID names.
        device_info: DeviceInfo::for_aaguid(&Uuid::from_bytes(aaguid)),
    };
    Ok((config, device))
}

fn decode_credential(r: &mut In<'_>) -> Result<Credential, VaultError> {
    const W: &str = "credential";
    let (mut id, mut rp_id, mut rp_name, mut user_handle) = (None, None, None, None);
    let (mut user_name, mut display, mut alg, mut secret) = (None, None, None, None);
    let (mut discoverable, mut sign_count, mut be, mut bs) = (None, None, None, None);
    let (mut created, mut last_used, mut hidden, mut protect) = (None, None, None, None);
    let (mut random, mut sequence, mut hidden_at) = (None, None, None);
    let (mut large_blob_key, mut cred_blob) = (None, None);
    let mut u2f_app_param: Option<[u8; 32]> = None;
    r.map(W, 22, |r, key| {
        match key {
            1 => id = Some(r.bytes(W)?.to_vec()),
            2 => rp_id = Some(r.text(W)?),
            3 => rp_name = Some(r.text(W)?),
            4 => user_handle = Some(r.bytes(W)?.to_vec()),
            5 => user_name = Some(r.text(W)?),
            6 => display = Some(r.text(W)?),
            7 => alg = Some(r.int(W)?),
            8 => secret = Some(r.bytes(W)?),
            9 => discoverable = Some(r.bool(W)?),
            10 => sign_count = Some(r.uint(W)?),
            11 => be = Some(r.bool(W)?),
            12 => bs = Some(r.bool(W)?),
            13 => created = Some(r.uint(W)?),
            14 => last_used = Some(r.uint(W)?),
            15 => hidden = Some(r.bool(W)?),
            16 => protect = Some(r.int(W)?),
            17 => random = Some(r.bytes(W)?),
            18 => sequence = Some(r.uint(W)?),
            19 => hidden_at = Some(r.uint(W)?),
            21 => {
                let k: [u8; 32] = r
                    .bytes(W)?
                    .try_into()
                    .map_err(|_| bad("large_blob_key is not 32 bytes"))?;
                large_blob_key = Some(crate::store::LargeBlobKey(k));
            }
            22 => {
                let b = r.bytes(W)?.to_vec();
                if b.len() > crate::authenticator::MAX_CRED_BLOB_LENGTH {
                    return Err(bad("cred_blob is longer than 32 bytes"));
                }
                cred_blob = Some(b);
            }
            20 => {
                let app = r.bytes(W)?;
                u2f_app_param = Some(
                    app.try_into()
                        .map_err(|_| bad("U2F application parameter is not 32 bytes"))?,
                );
            }
            _ => return Err(bad("credential has an unknown key")),
        }
        Ok(())
    })?;
    let id = need(id, W, 1)?;
    if id.is_empty() || id.len() > 1023 {
        return Err(bad("credential id length is outside 1..=1023"));
    }
    let user_handle = need(user_handle, W, 4)?;
    if user_handle.len() > 64 {
        return Err(bad("user handle is longer than 64 bytes"));
    }
    let alg = Algorithm::from_cose_id(need(alg, W, 7)?)
        .ok_or_else(|| bad("unknown credential algorithm"))?;
    let key =
        PrivateKey::from_secret_bytes(alg, need(secret, W, 8)?).map_err(|e| bad(e.to_string()))?;
    let backup_eligible = need(be, W, 11)?;
    let backup_state = need(bs, W, 12)?;
    if backup_state && !backup_eligible {
        return Err(bad("backup state set without backup eligibility"));
    }
    let cred_random = match random {
        Some(b) if b.len() == 64 => {
            let mut r = CredRandom {
                with_uv: [0; 32],
                without_uv: [0; 32],
            };
            r.with_uv.copy_from_slice(&b[..32]);
            r.without_uv.copy_from_slice(&b[32..]);
            Some(r)
        }
        Some(_) => return Err(bad("cred_random is not 64 bytes")),
        None => None,
    };
    Ok(Credential {
        id,
        rp_id: need(rp_id, W, 2)?,
        rp_name,
        user_handle,
        user_name,
        user_display_name: display,
        key,
        discoverable: need(discoverable, W, 9)?,
        sign_count: u32::try_from(need(sign_count, W, 10)?)
            .map_err(|_| bad("sign count exceeds 2^32-1"))?,
        backup_eligible,
        backup_state,
        created_ms: need(created, W, 13)?,
        last_used_ms: last_used,
        hidden: need(hidden, W, 15)?,
        hidden_at_ms: hidden_at,
        cred_protect: u8::try_from(need(protect, W, 16)?)
            .ok()
            .and_then(CredProtect::from_level)
            .ok_or_else(|| bad("credProtect level is not 1, 2 or 3"))?,
        cred_random,
        large_blob_key,
        cred_blob,
        sequence: need(sequence, W, 18)?,
        u2f_app_param,
    })
}

fn decode_event(r: &mut In<'_>) -> Result<Event, VaultError> {
    const W: &str = "event";
    let (mut time, mut kind, mut rp_id, mut user_id, mut ids, mut changes) =
        (None, None, None, None, None, None);
    r.map(W, 6, |r, key| {
        match key {
            1 => time = Some(r.uint(W)?),
            2 => {
                let code = u8::try_from(r.int(W)?).ok().and_then(EventKind::from_code);
                kind = Some(code.ok_or_else(|| bad("unknown event kind"))?);
            }
            3 => rp_id = Some(r.text(W)?),
            4 => user_id = Some(r.bytes(W)?.to_vec()),
            5 => {
                let n = r.array("event credential ids")?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push(r.bytes("event credential id")?.to_vec());
                }
                ids = Some(list);
            }
            _ => {
                let n = r.array("event changes")?;
                let mut list = Vec::with_capacity(n);
                for _ in 0..n {
                    list.push(decode_change(r)?);
                }
                changes = Some(list);
            }
        }
        Ok(())
    })?;
    Ok(Event {
        time_ms: need(time, W, 1)?,
        kind: need(kind, W, 2)?,
        rp_id: need(rp_id, W, 3)?,
        user_id,
        credential_ids: need(ids, W, 5)?,
        changes: need(changes, W, 6)?,
    })
}

fn decode_change(r: &mut In<'_>) -> Result<Change, VaultError> {
    const W: &str = "event change";
    let (mut code, mut id, mut name, mut display) = (None, None, None, None);
    r.map(W, 4, |r, key| {
        match key {
            1 => code = Some(r.int(W)?),
            2 => id = Some(r.bytes(W)?.to_vec()),
            3 => name = Some(r.text(W)?),
            _ => display = Some(r.text(W)?),
        }
        Ok(())
    })?;
    let id = need(id, W, 2)?;
    Ok(match need(code, W, 1)? {
        1 => Change::Hide { id },
        2 => Change::Unhide { id },
        3 => Change::Rename {
            id,
            name: name.ok_or_else(|| bad("rename without a name"))?,
            display_name: display.ok_or_else(|| bad("rename without a display name"))?,
        },
        4 => Change::Remove { id },
        _ => return Err(bad("unknown event change")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::ErrorClass;

    fn settings_bytes() -> Vec<u8> {
        encode(&Config::default(), &[], &[]).to_vec()
    }

    #[test]
    fn compound_members_round_trip_in_key_29_only_when_not_the_default() {
        let settings = Config {
            attestation: AttestationMode::Compound,
            compound_members: vec![AttestationMode::Tpm, AttestationMode::PackedSelf],
            ..Config::default()
        };
        let bytes = encode(&settings, &[], &[]).to_vec();
        let state = decode(&bytes).expect("decodes");
        assert_eq!(state.settings, settings);
        let default = Config {
            attestation: AttestationMode::Compound,
            ..Config::default()
        };
        let shorter = encode(&default, &[], &[]).to_vec();
        // `29: [4, 1]` is 5 bytes: key 29 (0x18 0x1d), the array head and two members.
        assert_eq!(bytes.len(), shorter.len() + 5);
        assert_eq!(decode(&shorter).expect("decodes").settings, default);
        // A member list that breaks the rules is a payload failure naming key 29.
        let bad_list = Config {
            compound_members: vec![AttestationMode::PackedSelf],
            ..settings
        };
        let err = decode(&encode(&bad_list, &[], &[]))
            .map(|_| ())
            .expect_err("a one-member list");
        assert!(err.to_string().contains("settings key 29"), "{err}");
    }

    #[test]
    fn round_trip_of_an_empty_state() {
        let bytes = settings_bytes();
        let state = decode(&bytes).expect("decodes");
        assert_eq!(state.settings, Config::default());
        assert_eq!(encode(&state.settings, &[], &state.events).to_vec(), bytes);
    }

    #[test]
    fn optional_settings_and_extras_round_trip_and_defaults_are_not_written() {
        use crate::env::seeded_rng;
        let ca = AttestationCa::generate(&mut seeded_rng(1)).expect("ca");
        let cert = ca
            .issue(crate::FAUXKEY_AAGUID, "o", "cn", &mut seeded_rng(2))
            .expect("cert");
        for (attestation, format) in [
            (AttestationMode::Packed, CredentialIdFormat::UuidText),
            (AttestationMode::AlwaysNone, CredentialIdFormat::UuidBytes),
        ] {
            let settings = Config {
                attestation,
                attestation_cert: Some(cert.clone()),
                extensions: vec!["hmac-secret".into()],
                always_uv: true,
                credential_id_format: format,
                unsynced_at_creation: true,
                ..Config::default()
            };
            let extras = Extras {
                attestation_ca: Some(ca.clone()),
                client: Some(ClientSettings {
                    profile: "p".into(),
                    attachment: Attachment::CrossPlatform,
                    zero_aaguid_for_none: true,
                }),
                device: DeviceState {
                    pin_hash: Some([7; 16]),
                    pin_code_points: 6,
                    pin_retries: 3,
                    min_pin_length: 6,
                    force_pin_change: true,
                    min_pin_length_rp_ids: vec!["a.example".into()],
                    enterprise_attestation: true,
                    always_uv: true,
                    large_blob_array: Some(crate::ctap2::large_blobs::serialize(&[0x81, 0x01])),
                },
            };
            let bytes = encode_with(&settings, &extras, &[], &[]);
            let state = decode(&bytes).expect("decodes");
            assert_eq!(state.settings, settings);
            assert_eq!(state.extras, extras);
            assert_eq!(
                *encode_with(&state.settings, &state.extras, &[], &[]),
                *bytes
            );
        }
        // Defaults add nothing: an old reader's payload is unchanged.
        assert_eq!(
            *encode_with(&Config::default(), &Extras::default(), &[], &[]),
            *encode(&Config::default(), &[], &[])
        );
        let mut top = cbor::decode(&settings_bytes()).expect("cbor");
        if let Value::Map(entries) = &mut top {
            entries.push((
                Value::Integer(6.into()),
                cbor::map([
                    (1, Value::Text("p".into())),
                    (2, int(7)),
                    (3, Value::Bool(false)),
                ]),
            ));
        }
        let err = decode(&cbor::encode(&top))
            .map(|_| ())
            .expect_err("bad attachment");
        assert!(
            err.to_string().contains("unknown authenticator attachment"),
            "{err}"
        );
    }

    #[test]
    fn strict_about_key_order_repeats_and_trailing_bytes() {
        // {1: 1, 1: 1}: a repeated key.
        let repeated = [0xa2, 0x01, 0x01, 0x01, 0x01];
        // {2: …, 1: 1}: out of order (the settings value is irrelevant: the order fails first).
        let unordered = [0xa2, 0x02, 0xa0, 0x01, 0x01];
        let mut trailing = settings_bytes();
        trailing.push(0x00);
        for (name, bytes) in [
            ("repeated", &repeated[..]),
            ("unordered", &unordered[..]),
            ("trailing", &trailing),
        ] {
            let err = decode(bytes).map(|_| ()).expect_err(name);
            assert_eq!(err.class(), ErrorClass::PayloadFailure, "{name}: {err}");
        }
        // A top-level item that is not a map (encrypted JSON, say) is a payload failure too.
        let err = decode(b"{\"json\":true}").map(|_| ()).expect_err("json");
        assert_eq!(err.class(), ErrorClass::PayloadFailure);
    }
}
