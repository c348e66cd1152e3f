//! The WebAuthn client, i.e. what a browser does between an RP's JavaScript and an
//! authenticator: origin and RP ID checks, clientDataJSON, the L3 JSON ↔ CTAP mapping, client
//! extensions, and DOMException-named errors.

pub mod client_data;
pub mod conditional;
mod error;
pub mod hints;
pub mod json;
pub mod large_blob;
mod options_scan;
pub mod origin;
pub mod prf;
pub mod quick;
pub mod related;
#[cfg(feature = "related-origins-fetch")]
pub mod related_https;
pub mod signals;
mod u2f;

use std::collections::BTreeMap;

use ciborium::value::Value;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use error::ClientError;
pub use origin::{CallerOrigin, NoRelatedOrigins, RelatedOrigins};

use self::client_data::Ceremony;
use self::json::{
    AssertionResponseJson, AttestationResponseJson, AuthenticationResponseJson,
    ClientExtensionResultsJson, CreationOptionsJson, CredPropsJson, ExtensionsInputJson,
    LargeBlobOutputJson, PrfOutputJson, RegistrationResponseJson, RequestOptionsJson,
    RequestOptionsRef,
};
use crate::b64url;
use crate::crypto::keys::PublicKey;
use crate::ctap2::auth_data::AuthenticatorData;
use crate::ctap2::make_credential::{self as mc, CredentialParameters, RpEntity};
use crate::ctap2::{get_assertion as ga, CredentialDescriptor, Options, StatusCode, UserEntity};
use crate::env::{self, Rng};
use crate::faults::{Fault, FaultQueue, FaultSet};
use crate::store::{CredentialStore, MemoryStore};
use crate::Authenticator;

/// `authenticatorAttachment` the client reports for its authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Attachment {
    /// A platform authenticator / passkey provider (the default).
    #[default]
    Platform,
    /// A roaming authenticator such as a security key.
    CrossPlatform,
}

impl Attachment {
    /// The WebAuthn string.
    pub fn as_str(self) -> &'static str {
        match self {
            Attachment::Platform => "platform",
            Attachment::CrossPlatform => "cross-platform",
        }
    }
}

/// Why the owner could not set or change the authenticator's PIN ([`Client::set_pin`]).
#[derive(Debug, thiserror::Error)]
pub enum OwnerPinError {
    /// The request breaks a PIN rule (already set, not set, wrong current PIN, policy).
    #[error(transparent)]
    Refused(#[from] crate::authenticator::pin::PinAdminError),
    /// The store could not keep the new PIN.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// An emulated browser with one authenticator attached.
pub struct Client<S: CredentialStore = MemoryStore> {
    authenticator: Authenticator<S>,
    attachment: Attachment,
    related_origins: Box<dyn RelatedOrigins + Send>,
    rng: Rng,
    zero_aaguid_for_none: bool,
    faults: FaultQueue,
    /// The PIN the emulated user knows and types when the browser asks for it (wiped on drop).
    user_pin: Option<Zeroizing<String>>,
    /// Pending conditional requests and password sign-ins ([`conditional`]).
    conditional: conditional::State,
    /// The last caller origin string parsed, and what it parsed to: a test suite or server
    /// calls from one origin over and over, and parsing a URL is a fair share of a ceremony's
    /// work outside the signature. Parsing is a pure function of the string.
    last_origin: Option<(String, CallerOrigin)>,
    /// The last RP ID validated against a host by the registrable-suffix rule alone, as
    /// `(host, requested rpId, result)`: the rule is a pure function of the two strings (IDNA
    /// and Public Suffix List lookups each time otherwise). A result that needed related
    /// origins is never kept, as that list is fetched and can change.
    last_rp_id: Option<(String, Option<String>, String)>,
}

impl<S: CredentialStore> std::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("authenticator", &self.authenticator)
            .field("attachment", &self.attachment)
            .finish_non_exhaustive()
    }
}

/// Either form RP libraries emit: the bare options, or `{"publicKey": {...}}`.
fn unwrap_public_key(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(obj) = v.as_object_mut() {
        if !obj.contains_key("challenge") {
            if let Some(inner) = obj.remove("publicKey") {
                return inner;
            }
        }
    }
    v
}

/// Parses options JSON, naming the exact bad member on failure (TypeError, as
/// `parse…OptionsFromJSON` and WebIDL conversion would throw).
fn parse_options<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T, ClientError> {
    // Fast path: options well within the depth bound that parse straight into `T` give what
    // the path below gives, without building a `serde_json::Value` tree first. Anything else
    // (too deep for the scan's margin, a `{"publicKey": …}` wrapper, a duplicate member, any
    // error) takes the path below, which decides and names the error as before.
    if json_depth_below(json.as_bytes(), MAX_JSON_DEPTH / 2) {
        if let Ok(parsed) = serde_json::from_str::<T>(json) {
            return Ok(parsed);
        }
    }
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        // Chromium fidelity (a deliberate deviation): Chromium ignores unknown extensions
        // nested at any depth; fauxkey's parser stops at serde_json's bound of 128 levels, so a
        // page cannot exhaust the server's stack. README "Fidelity to Chromium".
        if e.to_string().starts_with("recursion limit exceeded") {
            ClientError::Type(format!(
                "{what} are nested deeper than {MAX_JSON_DEPTH} levels (at line {}, column {}); \
                 fauxkey's JSON parser stops there, where Chromium would ignore a deep unknown \
                 extension",
                e.line(),
                e.column()
            ))
        } else {
            ClientError::Type(format!("{what} is not valid JSON: {e}"))
        }
    })?;
    let value = unwrap_public_key(value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde reports a missing member at its parent's path; name the member itself.
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            path = if path == "." {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            };
        }
        if path == "." {
            ClientError::Type(format!("{what}: {inner}"))
        } else {
            ClientError::Type(format!("{what}: member `{path}`: {inner}"))
        }
    })
}

/// Whether `json`'s arrays and objects nest less than `limit` deep (strings skipped, escapes
/// included); malformed input may answer either way, as the parser then decides.
fn json_depth_below(json: &[u8], limit: usize) -> bool {
    // Nesting cannot be deeper than the number of openers, and counting them is a loop the
    // compiler vectorizes: most options have a handful, and skip the byte-by-byte scan below.
    // (In runs of 255 bytes, so that a byte-wide count cannot overflow.)
    let openers: usize = json
        .chunks(255)
        .map(|run| {
            usize::from(
                run.iter()
                    .fold(0u8, |n, &b| n + u8::from((b == b'[') | (b == b'{'))),
            )
        })
        .sum();
    if openers < limit {
        return true;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth >= limit {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// Parses `PublicKeyCredentialCreationOptionsJSON` (bare or `{"publicKey": …}`); errors name the
/// bad member (`TypeError`).
pub fn parse_creation_options(json: &str) -> Result<CreationOptionsJson, ClientError> {
    parse_options(json, "creation options")
}

/// Parses `PublicKeyCredentialRequestOptionsJSON` (bare or `{"publicKey": …}`).
pub fn parse_request_options(json: &str) -> Result<RequestOptionsJson, ClientError> {
    parse_options(json, "request options")
}

/// How deeply options JSON may nest (serde_json's recursion bound).
pub const MAX_JSON_DEPTH: usize = 128;

/// The most descriptors Chromium takes in `allowCredentials` / `excludeCredentials`
/// (Blink's `kPublicKeyCredentialDescriptorListMaxSize`).
pub const MAX_CREDENTIAL_LIST: usize = 64;

/// Chromium fidelity: a list longer than 64 is a `RangeError` ("The `excludeCredentials`
/// attribute exceeds the maximum allowed size (64)."), checked before anything else; the spec
/// sets no limit. README "Fidelity to Chromium".
fn check_list_size(len: usize, member: &str) -> Result<(), ClientError> {
    if len > MAX_CREDENTIAL_LIST {
        return Err(ClientError::Range(format!(
            "The `{member}` attribute exceeds the maximum allowed size ({MAX_CREDENTIAL_LIST})."
        )));
    }
    Ok(())
}

/// `member` is formatted only on an error (`format_args!` for a computed name).
fn decode_b64(value: &str, member: impl std::fmt::Display) -> Result<Vec<u8>, ClientError> {
    b64url::decode(value).map_err(|_| {
        ClientError::Encoding(format!("`{member}` is not unpadded base64url: {value:?}"))
    })
}

fn descriptors(
    list: &[json::CredentialDescriptorJson],
    member: &str,
) -> Result<Vec<CredentialDescriptor>, ClientError> {
    decode_descriptors(
        list.iter().map(|d| (d.type_.as_str(), d.id.as_str())),
        member,
    )
}

/// [`descriptors`] from `(type, id)` pairs, however they are held.
fn decode_descriptors<'d>(
    list: impl Iterator<Item = (&'d str, &'d str)>,
    member: &str,
) -> Result<Vec<CredentialDescriptor>, ClientError> {
    list.enumerate()
        .map(|(i, (type_, id))| {
            Ok(CredentialDescriptor {
                type_: type_.to_owned(),
                id: decode_b64(id, format_args!("{member}[{i}].id"))?,
            })
        })
        .collect()
}

/// Effective user verification: required → true; preferred (or unknown) → capability;
/// discouraged → false.
fn effective_uv(requested: Option<&str>, capable: bool) -> Result<bool, ClientError> {
    match requested {
        Some("required") if !capable => Err(ClientError::NotAllowed(
            "userVerification is \"required\" but the authenticator cannot verify users".into(),
        )),
        Some("required") => Ok(true),
        Some("discouraged") => Ok(false),
        _ => Ok(capable),
    }
}

fn cred_protect_level(policy: &str) -> Option<u8> {
    match policy {
        "userVerificationOptional" => Some(1),
        "userVerificationOptionalWithCredentialIDList" => Some(2),
        "userVerificationRequired" => Some(3),
        _ => None,
    }
}

impl Client<MemoryStore> {
    /// A client in front of a default in-memory authenticator.
    pub fn in_memory() -> Self {
        Self::new(Authenticator::in_memory())
    }
}

impl<S: CredentialStore> Client<S> {
    /// A client in front of `authenticator`, using OS randomness for its own key agreement.
    pub fn new(authenticator: Authenticator<S>) -> Self {
        Self {
            authenticator,
            attachment: Attachment::Platform,
            related_origins: Box::new(NoRelatedOrigins),
            rng: env::os_rng(),
            zero_aaguid_for_none: false,
            faults: FaultQueue::default(),
            user_pin: None,
            conditional: conditional::State::default(),
            last_origin: None,
            last_rp_id: None,
        }
    }

    /// Replaces the client's randomness (platform key agreement keys and IVs).
    pub fn with_rng(mut self, rng: Rng) -> Self {
        self.rng = rng;
        self
    }

    /// Sets the attachment reported in responses.
    pub fn with_attachment(mut self, attachment: Attachment) -> Self {
        self.attachment = attachment;
        self
    }

    /// Under `attestation: "none"`, also replace the AAGUID with 16 zero bytes, as WebAuthn
    /// Level 2 §5.1.3 step 20.1 said and Windows' WebAuthn platform still does. Off by default:
    /// Level 3 keeps the AAGUID, as Chrome and Safari do.
    pub fn with_aaguid_zeroing(mut self, zero: bool) -> Self {
        self.zero_aaguid_for_none = zero;
        self
    }

    /// Sets the PIN the emulated user knows: when an RP wants user verification (or any
    /// registration) from an authenticator whose PIN is set and that has no built-in UV, the
    /// client "prompts" the user and enters this PIN, as a browser does. `None`: the user knows
    /// no PIN and cancels the prompt (`NotAllowedError`, no retry spent).
    pub fn with_user_pin(mut self, pin: Option<&str>) -> Self {
        self.set_user_pin(pin);
        self
    }

    /// [`Client::with_user_pin`] in place (the control plane calls it when it sets the PIN).
    pub fn set_user_pin(&mut self, pin: Option<&str>) {
        self.user_pin = pin.map(|p| Zeroizing::new(p.to_owned()));
    }

    /// The authenticator's owner sets its CTAP PIN (or, given `current`, changes it), stores it
    /// (`LEFT(SHA-256(PIN), 16)`, as the authenticator keeps it) and tells the emulated user, who
    /// then enters it when an RP asks for UV. What `POST /_fauxkey/authenticators/{id}/pin`
    /// does.
    pub fn set_pin(&mut self, current: Option<&str>, pin: &str) -> Result<(), OwnerPinError> {
        let store = self.authenticator.store_mut();
        let mut device = store.device_state();
        match current {
            None => crate::authenticator::pin::set_pin(&mut device, pin)?,
            Some(current) => crate::authenticator::pin::change_pin(&mut device, current, pin)?,
        }
        store.set_device_state(device)?;
        self.set_user_pin(Some(pin));
        Ok(())
    }

    /// The owner removes the authenticator's PIN (credentials stay) and the emulated user forgets
    /// it.
    pub fn clear_pin(&mut self) -> Result<(), crate::store::StoreError> {
        let store = self.authenticator.store_mut();
        let mut device = store.device_state();
        device.clear_pin();
        store.set_device_state(device)?;
        self.set_user_pin(None);
        Ok(())
    }

    /// Whether the emulated user knows a PIN.
    pub fn has_user_pin(&self) -> bool {
        self.user_pin.is_some()
    }

    /// Whether the client must enter the PIN (no built-in UV, a PIN set on the authenticator).
    fn pin_only(&self) -> bool {
        !self.authenticator.uv_capable() && self.authenticator.store().device_state().pin_set()
    }

    /// Prompts the emulated user for the PIN and gets a pinUvAuthToken with `permission` for
    /// `rp_id` (getPinUvAuthTokenUsingPinWithPermissions, protocol 2, CTAP 2.1 §6.5.5.7.2);
    /// returns pinUvAuthParam over `client_data_hash`. A wrong PIN spends a retry, as a real one
    /// typed wrong does.
    fn pin_uv_auth_param(
        &mut self,
        rp_id: &str,
        permission: u8,
        client_data_hash: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        let token = self.pin_token(rp_id, permission)?;
        Ok(crate::crypto::pin_protocol::hmac_sha256(&token, client_data_hash).to_vec())
    }

    /// The pinUvAuthToken behind [`Self::pin_uv_auth_param`], from the PIN the emulated user
    /// enters.
    fn pin_token(
        &mut self,
        rp_id: &str,
        permission: u8,
    ) -> Result<Zeroizing<Vec<u8>>, ClientError> {
        use crate::crypto::pin_protocol::{KeyAgreementKey, PinProtocol};
        use crate::ctap2::client_pin;
        let pin = self.user_pin.clone().ok_or_else(|| {
            ClientError::NotAllowed(
                "the authenticator needs its PIN, and the emulated user knows none".into(),
            )
        })?;
        let refused = |what: &str, e: StatusCode| {
            let why = match e {
                StatusCode::PinInvalid => "the PIN entered is wrong".to_owned(),
                StatusCode::PinBlocked => "the PIN is blocked".to_owned(),
                StatusCode::PinAuthBlocked => {
                    "too many wrong PINs in a row; the key needs a power cycle".to_owned()
                }
                other => format!("{what} failed: {other}"),
            };
            ClientError::NotAllowed(why)
        };
        let peer = self
            .authenticator
            .client_pin(client_pin::Request {
                pin_uv_auth_protocol: Some(2),
                sub_command: client_pin::GET_KEY_AGREEMENT,
                ..Default::default()
            })
            .and_then(client_pin::Response::into_key_agreement);
        if peer.is_err() {
            self.storage_failure()?;
        }
        let peer = peer.map_err(|e| refused("PIN key agreement", e))?;
        let platform = KeyAgreementKey::generate(self.rng.as_mut());
        let secret = platform
            .shared_secret(PinProtocol::Two, &peer)
            .map_err(|e| refused("PIN key agreement", e))?;
        let hash = Zeroizing::new(crate::store::pin_hash(pin.as_bytes()));
        let pin_hash_enc = secret
            .encrypt(self.rng.as_mut(), hash.as_ref())
            .map_err(|e| refused("PIN encryption", e))?;
        let answer = self.authenticator.client_pin(client_pin::Request {
            pin_uv_auth_protocol: Some(2),
            sub_command: client_pin::GET_PIN_TOKEN_WITH_PERMISSIONS,
            key_agreement: Some(platform.public_cose()),
            pin_hash_enc: Some(pin_hash_enc),
            permissions: Some(permission.into()),
            rp_id: Some(rp_id.to_owned()),
            ..Default::default()
        });
        if answer.is_err() {
            self.storage_failure()?;
        }
        let encrypted = match answer.map_err(|e| refused("getting a PIN token", e))? {
            client_pin::Response::Token(t) => t.pin_uv_auth_token,
            _ => return Err(refused("getting a PIN token", StatusCode::Other)),
        };
        secret
            .decrypt(&encrypted)
            .map_err(|e| refused("getting a PIN token", e))
    }

    /// A token with `lbw` for writing large blobs, when the authenticator is protected: from the
    /// PIN on a PIN-only key, else from built-in UV; `None` when it is not protected.
    fn lbw_token(&mut self, rp_id: &str) -> Result<Option<Zeroizing<Vec<u8>>>, ClientError> {
        let state = self.authenticator.store().device_state();
        if self.pin_only() {
            return self
                .pin_token(rp_id, crate::ctap2::client_pin::PERMISSION_LBW)
                .map(Some);
        }
        if self.authenticator.uv_capable() {
            return large_blob::uv_token(&mut self.authenticator, &mut self.rng, rp_id).map(Some);
        }
        if state.pin_set() || state.always_uv {
            return Err(ClientError::NotAllowed(
                "writing a large blob needs the PIN or user verification".into(),
            ));
        }
        Ok(None)
    }

    /// Plugs in a related-origins policy (WebAuthn L3 §5.11); none by default.
    pub fn with_related_origins(mut self, related: impl RelatedOrigins + Send + 'static) -> Self {
        self.related_origins = Box::new(related);
        self
    }

    /// Makes the next `responses` successful responses that `fault` applies to carry it (see
    /// [`crate::faults`]); several faults may be queued at once, and all active ones apply.
    pub fn inject_fault(&mut self, fault: Fault, responses: u32) {
        self.faults.inject(fault, responses);
    }

    /// Drops every queued fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The queued faults and how many more responses each will affect.
    pub fn pending_faults(&self) -> Vec<(Fault, u32)> {
        self.faults.pending()
    }

    /// `Err(UnknownError)` with the cause when the authenticator's last command failed because
    /// its store (the vault) could not be read or written: a storage failure is not a refusal.
    pub(crate) fn storage_failure(&mut self) -> Result<(), ClientError> {
        match self.authenticator.take_store_failure() {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Runs `op` on the authenticator with `faults` added to its own.
    fn with_faults<T>(
        &mut self,
        faults: FaultSet,
        op: impl FnOnce(&mut Authenticator<S>) -> T,
    ) -> T {
        let own = self.authenticator.faults();
        self.authenticator.set_faults(own.union(faults));
        let out = op(&mut self.authenticator);
        self.authenticator.set_faults(own);
        out
    }

    /// The authenticator.
    pub fn authenticator(&self) -> &Authenticator<S> {
        &self.authenticator
    }

    /// The authenticator, mutably.
    pub fn authenticator_mut(&mut self) -> &mut Authenticator<S> {
        &mut self.authenticator
    }

    /// `navigator.credentials.create()` from an origin and the RP's creation options JSON
    /// (bare, or wrapped in `{"publicKey": …}`).
    pub fn create(
        &mut self,
        origin: &str,
        options_json: &str,
    ) -> Result<RegistrationResponseJson, ClientError> {
        self.with_caller_origin(origin, |client, origin| {
            let options = parse_options(options_json, "creation options")?;
            client.create_with(origin, &options)
        })
    }

    /// Runs `ceremony` with `origin` parsed ([`CallerOrigin::parse`]), remembering the last string
    /// parsed (see `last_origin`): the remembered origin is lent to the ceremony, not copied.
    fn with_caller_origin<T>(
        &mut self,
        origin: &str,
        ceremony: impl FnOnce(&mut Self, &CallerOrigin) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let cached = match self.last_origin.take() {
            Some(cached) if cached.0 == origin => cached,
            previous => match CallerOrigin::parse(origin) {
                Ok(parsed) => (origin.to_owned(), parsed),
                Err(e) => {
                    self.last_origin = previous;
                    return Err(e.into());
                }
            },
        };
        let out = ceremony(self, &cached.1);
        self.last_origin = Some(cached);
        out
    }

    /// [`origin::validate_rp_id`], remembering the last answer the registrable-suffix rule gave
    /// alone (see `last_rp_id`).
    fn rp_id(
        &mut self,
        origin: &CallerOrigin,
        requested: Option<&str>,
    ) -> Result<String, ClientError> {
        if let Some((host, asked, rp_id)) = &self.last_rp_id {
            if host == origin.effective_domain() && asked.as_deref() == requested {
                return Ok(rp_id.clone());
            }
        }
        if let Ok(rp_id) = origin::validate_rp_id(origin, requested, &origin::NoRelatedOrigins) {
            self.last_rp_id = Some((
                origin.effective_domain().to_owned(),
                requested.map(str::to_owned),
                rp_id.clone(),
            ));
            return Ok(rp_id);
        }
        Ok(origin::validate_rp_id(
            origin,
            requested,
            self.related_origins.as_ref(),
        )?)
    }

    /// `navigator.credentials.get()` from an origin and the RP's request options JSON.
    pub fn get(
        &mut self,
        origin: &str,
        options_json: &str,
    ) -> Result<AuthenticationResponseJson, ClientError> {
        self.with_caller_origin(origin, |client, origin| {
            // Fast paths: options of the common shape are read directly ([`options_scan`]);
            // others well within the depth bound parse into the same borrowed form through
            // serde, as in `parse_options`, copying no string that has no escape. Anything else
            // takes `parse_options`, which decides and names the error.
            if let Some(options) = options_scan::request_options(options_json) {
                return client.get_ref(origin, &options);
            }
            if json_depth_below(options_json.as_bytes(), MAX_JSON_DEPTH / 2) {
                if let Ok(options) = serde_json::from_str::<RequestOptionsRef<'_>>(options_json) {
                    return client.get_ref(origin, &options);
                }
            }
            let options: RequestOptionsJson = parse_options(options_json, "request options")?;
            client.get_with(origin, &options)
        })
    }

    /// `create()` with parsed inputs (WebAuthn L3 §5.1.3).
    pub fn create_with(
        &mut self,
        origin: &CallerOrigin,
        options: &CreationOptionsJson,
    ) -> Result<RegistrationResponseJson, ClientError> {
        self.create_inner(origin, options, false)
    }

    /// `create()`; `conditional`: the automatic upgrade ([`conditional`]), made without user
    /// presence or verification.
    fn create_inner(
        &mut self,
        origin: &CallerOrigin,
        options: &CreationOptionsJson,
        conditional: bool,
    ) -> Result<RegistrationResponseJson, ClientError> {
        // Step 3 (parse): every base64url member decodes, else EncodingError.
        let challenge = decode_b64(&options.challenge, "challenge")?;
        let user_id = decode_b64(&options.user.id, "user.id")?;
        let exclude_list = descriptors(&options.exclude_credentials, "excludeCredentials")?;
        check_list_size(exclude_list.len(), "excludeCredentials")?;
        // Step 3: user.id is 1 to 64 bytes.
        if user_id.is_empty() || user_id.len() > 64 {
            return Err(ClientError::Type(format!(
                "user.id must be 1 to 64 bytes, got {}",
                user_id.len()
            )));
        }
        // Steps 5–6: RP ID.
        let rp_id = self.rp_id(origin, options.rp.id.as_deref())?;
        // Step 7: algorithms; empty means ES256 and RS256; unknown types are skipped.
        let params: Vec<CredentialParameters> = if options.pub_key_cred_params.is_empty() {
            [-7, -257]
                .into_iter()
                .map(|alg| CredentialParameters {
                    type_: "public-key".into(),
                    alg,
                })
                .collect()
        } else {
            options
                .pub_key_cred_params
                .iter()
                .filter(|p| p.type_ == "public-key")
                .map(|p| CredentialParameters {
                    type_: p.type_.clone(),
                    alg: p.alg,
                })
                .collect()
        };
        if params.is_empty() {
            return Err(ClientError::NotSupported(
                "no pubKeyCredParams entry of type \"public-key\"".into(),
            ));
        }
        // Step 10: authenticator selection.
        let selection = options.authenticator_selection.clone().unwrap_or_default();
        // Hints (L3 §5.8.7) take precedence over a contradicting authenticatorAttachment.
        let wanted = hints::attachment_filter(
            &options.hints,
            selection.authenticator_attachment.as_deref(),
        );
        if let Some(wanted) = wanted {
            if wanted != self.attachment {
                return Err(ClientError::NotAllowed(format!(
                    "authenticatorAttachment is \"{}\" but this authenticator is \"{}\"",
                    wanted.as_str(),
                    self.attachment.as_str()
                )));
            }
        }
        let can_rk = self.authenticator.config().resident_keys;
        let rk = match selection.resident_key.as_deref() {
            Some("required") => true,
            Some("preferred") => can_rk,
            Some("discouraged") => false,
            _ => selection.require_resident_key,
        };
        if rk && !can_rk {
            return Err(ClientError::NotAllowed(
                "a discoverable credential is required but the authenticator cannot store one"
                    .into(),
            ));
        }
        // A PIN-only authenticator verifies with the PIN, and needs it for every registration.
        let use_pin = self.pin_only() && !conditional;
        let uv = effective_uv(
            selection.user_verification.as_deref(),
            self.authenticator.uv_capable() || use_pin,
        )? && !conditional;
        // attestation "none" (the default) asks the authenticator for format "none".
        let conveyance = options.attestation.as_deref().unwrap_or("none");
        let formats = match conveyance {
            "direct" | "enterprise" | "indirect" if !options.attestation_formats.is_empty() => {
                Some(options.attestation_formats.clone())
            }
            "direct" | "enterprise" | "indirect" => None,
            _ => Some(vec!["none".to_owned()]),
        };
        // Step 8: extensions.
        let ext = options.extensions.clone().unwrap_or_default();
        let prf_requested = ext.prf.is_some();
        if ext
            .prf
            .as_ref()
            .is_some_and(|p| p.eval_by_credential.is_some())
        {
            return Err(ClientError::NotSupported(
                "prf.evalByCredential is not valid in create()".into(),
            ));
        }
        let cred_protect = ext
            .credential_protection_policy
            .as_deref()
            .and_then(cred_protect_level);
        // largeBlob (L3 §10.1.5): only `support` at create; the key needs a discoverable
        // credential.
        let large_blob = ext.large_blob.as_ref();
        if large_blob.is_some_and(|l| l.read.is_some() || l.write.is_some()) {
            return Err(ClientError::NotSupported(
                "largeBlob.read and largeBlob.write are not valid in create()".into(),
            ));
        }
        let large_blob_possible = self.authenticator.large_blobs_supported() && rk;
        if large_blob.and_then(|l| l.support.as_deref()) == Some("required") && !large_blob_possible
        {
            return Err(ClientError::NotAllowed(
                "largeBlob support is required, but this authenticator cannot store a large blob \
                 for this credential (it needs large blobs and a discoverable credential)"
                    .into(),
            ));
        }
        let cred_blob = ext
            .cred_blob
            .as_deref()
            .map(|b| decode_b64(b, "extensions.credBlob"))
            .transpose()?;
        // prf with `eval` at create: evaluated by hmac-secret-mc (CTAP 2.2) where supported.
        let prf_at_create = match ext.prf.as_ref().and_then(|p| p.eval.as_ref()) {
            Some(v)
                if self
                    .authenticator
                    .config()
                    .supports_extension("hmac-secret-mc") =>
            {
                let (first, second) = prf::decode_values(v)?;
                Some(prf::prepare(
                    &mut self.authenticator,
                    &mut self.rng,
                    &first,
                    second.as_deref(),
                )?)
            }
            _ => None,
        };

        // Step 9: client data (edited only by injected faults).
        let faults = self.faults.active(Ceremony::Create);
        let (ceremony, cd_challenge, cd_origin) =
            faults.client_data_inputs(Ceremony::Create, &challenge, origin);
        let client_data_json = client_data::serialize(ceremony, &cd_challenge, &cd_origin);
        let client_data_hash = Sha256::digest(&client_data_json).to_vec();
        // A U2F-only authenticator: fall back to U2F_REGISTER (CTAP 2.1 §10.2).
        if !self.authenticator.config().u2f.speaks_ctap2() {
            return self.create_u2f(u2f::U2fCreate {
                rp_id: &rp_id,
                algorithms: params.iter().map(|p| p.alg).collect(),
                exclude_list: &exclude_list,
                client_data_hash: Sha256::digest(&client_data_json).into(),
                client_data_json,
                conveyance,
                cred_props: ext.cred_props == Some(true),
                prf: prf_requested,
                faults,
            });
        }
        let pin_uv_auth_param = if use_pin {
            Some(self.pin_uv_auth_param(
                &rp_id,
                crate::ctap2::client_pin::PERMISSION_MC,
                &client_data_hash,
            )?)
        } else {
            None
        };
        let request = mc::Request {
            client_data_hash,
            rp: RpEntity {
                id: rp_id,
                name: Some(options.rp.name.clone()),
            },
            user: UserEntity {
                id: user_id,
                name: Some(options.user.name.clone()),
                display_name: Some(options.user.display_name.clone()),
            },
            pub_key_cred_params: params,
            exclude_list,
            extensions: mc::Extensions {
                hmac_secret: prf_requested.then_some(true),
                cred_protect,
                large_blob_key: (large_blob.is_some() && large_blob_possible).then_some(true),
                cred_blob: cred_blob.clone(),
                min_pin_length: ext.min_pin_length.filter(|b| *b),
                hmac_secret_mc: prf_at_create.as_ref().map(|p| p.input.clone()),
            },
            options: Options {
                rk: Some(rk),
                up: None,
                uv: (uv && !use_pin).then_some(true),
            },
            pin_uv_auth_protocol: pin_uv_auth_param.is_some().then_some(2),
            pin_uv_auth_param,
            enterprise_attestation: None,
            attestation_formats_preference: formats,
        };
        // Step 11: the authenticator's answer.
        let made = self.with_faults(faults, |a| {
            if conditional {
                a.make_credential_without_presence(request)
            } else {
                a.make_credential(request)
            }
        });
        if made.is_err() {
            self.storage_failure()?;
        }
        let mut response = made.map_err(|e| match e {
            // No consent was asked: the RP learns nothing about what the authenticator holds.
            StatusCode::CredentialExcluded if conditional => ClientError::NotAllowed(
                "the conditional create did not complete (the upgrade was not offered)".into(),
            ),
            StatusCode::CredentialExcluded => ClientError::InvalidState(
                "a credential in excludeCredentials is already registered on this authenticator"
                    .into(),
            ),
            StatusCode::UnsupportedAlgorithm => ClientError::NotSupported(
                "the authenticator supports none of the algorithms in pubKeyCredParams".into(),
            ),
            StatusCode::OperationDenied => {
                ClientError::NotAllowed("the user denied the request".into())
            }
            other => ClientError::NotAllowed(format!("the authenticator refused: {other}")),
        })?;
        let auth_data = AuthenticatorData::parse(&response.auth_data).map_err(|e| {
            ClientError::NotAllowed(format!("authenticator returned bad data: {e}"))
        })?;
        let attested = auth_data.attested.as_ref().ok_or_else(|| {
            ClientError::NotAllowed("authenticator returned no credential".into())
        })?;
        let cose = crate::cbor::decode(&attested.public_key_cose)
            .map_err(|e| ClientError::NotAllowed(format!("bad COSE key: {e}")))?;
        let public_key = PublicKey::from_cose(&cose)
            .map_err(|e| ClientError::NotAllowed(format!("bad COSE key: {e}")))?;

        // Attestation "none": anonymise unless it is already self attestation with no AAGUID
        // (WebAuthn L3 §5.1.3 step 22.1). L3 keeps the AAGUID, as current browsers do; a
        // client emulating Windows zeroes it too (L2 §5.1.3 step 20.1).
        let self_attested_anon =
            response.fmt == "packed" && attested.aaguid == [0; 16] && !has_x5c(&response.att_stmt);
        if conveyance != "direct"
            && conveyance != "enterprise"
            && conveyance != "indirect"
            && !self_attested_anon
        {
            if response.fmt != "none" {
                response.fmt = "none".into();
                response.att_stmt = crate::cbor::map(Vec::<(&str, Value)>::new());
            }
            if self.zero_aaguid_for_none {
                // authenticatorData: rpIdHash (32) ‖ flags ‖ signCount (4) ‖ AAGUID (16) ‖ …
                if let Some(aaguid) = response.auth_data.get_mut(37..53) {
                    aaguid.fill(0);
                }
            }
        }

        let mut results = ClientExtensionResultsJson::default();
        if ext.cred_props == Some(true) {
            // Step 12: credProps.rk is the effective requireResidentKey.
            results.cred_props = Some(CredPropsJson { rk });
        }
        if prf_requested {
            let enabled = auth_data.extensions.as_ref().is_some_and(|e| {
                matches!(e, Value::Map(m) if crate::ctap2::text_key(m, "hmac-secret") == Some(&Value::Bool(true)))
            });
            let at_create = authenticator_output(&auth_data, "hmac-secret-mc");
            results.prf = Some(PrfOutputJson {
                enabled: Some(enabled),
                results: match (&prf_at_create, at_create) {
                    (Some(p), Some(out)) => Some(prf::results(p, &out)?),
                    _ => None,
                },
            });
        }
        if large_blob.is_some() {
            results.large_blob = Some(LargeBlobOutputJson {
                supported: Some(response.large_blob_key.is_some()),
                ..LargeBlobOutputJson::default()
            });
        }
        if cred_blob.is_some() {
            results.cred_blob = Some(
                auth_data.extensions.as_ref().is_some_and(|e| {
                    matches!(e, Value::Map(m) if crate::ctap2::text_key(m, "credBlob") == Some(&Value::Bool(true)))
                }),
            );
        }
        let id = b64url::encode(&attested.credential_id);
        let mut transports = self.authenticator.config().transports.clone();
        transports.sort();
        transports.dedup();
        // A `none` attestation carries no signature to break: `bad-signature` did nothing to
        // this response, so it stays queued for the next one it changes (see `Fault::applies_to`).
        let mut used = faults;
        if !has_sig(&response.att_stmt) {
            used.remove(Fault::BadSignature);
        }
        self.faults.consume(used);
        Ok(RegistrationResponseJson {
            id: id.clone(),
            raw_id: id,
            response: AttestationResponseJson {
                client_data_json: b64url::encode(&client_data_json),
                authenticator_data: b64url::encode(&response.auth_data),
                transports,
                public_key: Some(b64url::encode(&public_key.spki_der())),
                public_key_algorithm: public_key.algorithm().cose_id(),
                attestation_object: b64url::encode(&response.attestation_object()),
            },
            authenticator_attachment: Some(self.attachment.as_str().into()),
            client_extension_results: results,
            type_: "public-key".into(),
        })
    }

    /// `get()` with parsed inputs (WebAuthn L3 §5.1.4).
    pub fn get_with(
        &mut self,
        origin: &CallerOrigin,
        options: &RequestOptionsJson,
    ) -> Result<AuthenticationResponseJson, ClientError> {
        self.get_ref(origin, &RequestOptionsRef::from(options))
    }

    /// [`Self::get_with`] on the borrowed options.
    fn get_ref(
        &mut self,
        origin: &CallerOrigin,
        options: &RequestOptionsRef<'_>,
    ) -> Result<AuthenticationResponseJson, ClientError> {
        let challenge = decode_b64(&options.challenge, "challenge")?;
        let mut allow_list = decode_descriptors(
            options
                .allow_credentials
                .iter()
                .map(|d| (d.type_.as_ref(), d.id.as_ref())),
            "allowCredentials",
        )?;
        check_list_size(allow_list.len(), "allowCredentials")?;
        allow_list.retain(|d| d.type_ == "public-key");
        let rp_id = self.rp_id(origin, options.rp_id.as_deref())?;
        let pin_only = self.pin_only();
        let uv = effective_uv(
            options.user_verification.as_deref(),
            self.authenticator.uv_capable() || pin_only,
        )?;
        // Verification on a PIN-only authenticator: the user enters the PIN.
        let use_pin = uv && pin_only;
        let no_extensions;
        let ext = match options.extensions.as_deref() {
            Some(ext) => ext,
            None => {
                no_extensions = ExtensionsInputJson::default();
                &no_extensions
            }
        };
        // largeBlob (L3 §10.1.5): `read` or `write` at get, not both; a write names exactly one
        // credential.
        let large_blob = ext.large_blob.clone().unwrap_or_default();
        if large_blob.support.is_some() {
            return Err(ClientError::NotSupported(
                "largeBlob.support is only valid in create()".into(),
            ));
        }
        if large_blob.read == Some(true) && large_blob.write.is_some() {
            return Err(ClientError::NotSupported(
                "largeBlob.read and largeBlob.write cannot both be given".into(),
            ));
        }
        let blob_to_write = large_blob
            .write
            .as_deref()
            .map(|b| decode_b64(b, "extensions.largeBlob.write"))
            .transpose()?;
        if blob_to_write.is_some() && allow_list.len() != 1 {
            return Err(ClientError::NotSupported(
                "largeBlob.write needs exactly one allowCredentials entry".into(),
            ));
        }
        let large_blob_asked = large_blob.read == Some(true) || blob_to_write.is_some();

        // prf: choose the inputs, per credential when evalByCredential names one.
        let mut prf_values = ext.prf.as_ref().and_then(|p| p.eval.clone());
        if let Some(by_cred) = ext.prf.as_ref().and_then(|p| p.eval_by_credential.as_ref()) {
            if !by_cred.is_empty() && allow_list.is_empty() {
                return Err(ClientError::NotSupported(
                    "prf.evalByCredential needs a non-empty allowCredentials".into(),
                ));
            }
            let mut decoded = Vec::new();
            for (key, values) in by_cred {
                let id = b64url::decode(key)
                    .ok()
                    .filter(|id| allow_list.iter().any(|d| &d.id == id));
                let id = id.ok_or_else(|| {
                    ClientError::Syntax(format!(
                        "prf.evalByCredential key {key:?} is not an allowed credential id"
                    ))
                })?;
                decoded.push((id, values.clone()));
            }
            if !decoded.is_empty() {
                // Ask silently (up=false) which allowed credential the authenticator holds.
                let probe = self.authenticator.get_assertion(ga::Request {
                    rp_id: rp_id.clone(),
                    client_data_hash: vec![0; 32],
                    allow_list: allow_list.clone(),
                    hmac_secret: None,
                    extensions: Default::default(),
                    options: Options {
                        rk: None,
                        up: Some(false),
                        uv: None,
                    },
                    pin_uv_auth_param: None,
                    pin_uv_auth_protocol: None,
                });
                if let Ok(found) = probe {
                    if let Some((id, values)) = decoded
                        .into_iter()
                        .find(|(id, _)| *id == found.credential.id)
                    {
                        allow_list = vec![CredentialDescriptor::public_key(id)];
                        prf_values = Some(values);
                    }
                }
            }
        }
        let prepared = match &prf_values {
            Some(v) => {
                let (first, second) = prf::decode_values(v)?;
                Some(prf::prepare(
                    &mut self.authenticator,
                    &mut self.rng,
                    &first,
                    second.as_deref(),
                )?)
            }
            None => None,
        };

        let faults = self.faults.active(Ceremony::Get);
        let (ceremony, cd_challenge, cd_origin) =
            faults.client_data_inputs(Ceremony::Get, &challenge, origin);
        let client_data_json = client_data::serialize(ceremony, &cd_challenge, &cd_origin);
        let client_data_hash = Sha256::digest(&client_data_json).to_vec();
        // A U2F-only authenticator: fall back to U2F_AUTHENTICATE (CTAP 2.1 §10.3).
        if !self.authenticator.config().u2f.speaks_ctap2() {
            return self.get_u2f(u2f::U2fGet {
                rp_id: &rp_id,
                allow_list: &allow_list,
                client_data_hash: Sha256::digest(&client_data_json).into(),
                client_data_json,
                prf: prf_values.is_some(),
                faults,
            });
        }
        let pin_uv_auth_param = if use_pin {
            Some(self.pin_uv_auth_param(
                &rp_id,
                crate::ctap2::client_pin::PERMISSION_GA,
                &client_data_hash,
            )?)
        } else {
            None
        };
        let no_allow_list = allow_list.is_empty();
        let request = ga::Request {
            rp_id: rp_id.clone(),
            client_data_hash,
            allow_list,
            hmac_secret: prepared.as_ref().map(|p| p.input.clone()),
            extensions: ga::Extensions {
                large_blob_key: (large_blob_asked && self.authenticator.large_blobs_supported())
                    .then_some(true),
                cred_blob: ext.get_cred_blob.filter(|b| *b),
            },
            options: Options {
                rk: None,
                up: None,
                uv: (uv && !use_pin).then_some(true),
            },
            pin_uv_auth_protocol: pin_uv_auth_param.is_some().then_some(2),
            pin_uv_auth_param,
        };
        let refused = |e: StatusCode| match e {
            StatusCode::NoCredentials => ClientError::NotAllowed(format!(
                "no passkey for RP ID \"{rp_id}\" on this authenticator matches the request"
            )),
            StatusCode::OperationDenied => {
                ClientError::NotAllowed("the user denied the request".into())
            }
            other => ClientError::NotAllowed(format!("the authenticator refused: {other}")),
        };
        // Account selection: gather every candidate, let the user pick one.
        // (The first, then the others: no list to build for the usual single one.)
        let candidates = self.with_faults(faults, |a| {
            let first = a.get_assertion(request)?;
            let total = first.number_of_credentials.unwrap_or(1);
            let mut others = Vec::new();
            for _ in 1..total {
                others.push(a.get_next_assertion()?);
            }
            Ok((first, others))
        });
        if candidates.is_err() {
            self.storage_failure()?;
        }
        let (first, others) = candidates.map_err(refused)?;
        let chosen = if others.is_empty() {
            first
        } else {
            let mut candidates = others;
            candidates.insert(0, first);
            let users: Vec<UserEntity> = candidates
                .iter()
                .map(|c| c.user.clone().unwrap_or_default())
                .collect();
            let index = self
                .authenticator
                .user_mut()
                .choose_account(&users)
                .ok_or_else(|| {
                    ClientError::NotAllowed("the user chose none of the accounts".into())
                })?;
            candidates.swap_remove(index.min(candidates.len() - 1))
        };
        if no_allow_list && chosen.user.is_none() {
            return Err(ClientError::NotAllowed(
                "the authenticator returned no user handle".into(),
            ));
        }

        let mut results = ClientExtensionResultsJson::default();
        if let Some(p) = &prepared {
            let parsed = AuthenticatorData::parse(&chosen.auth_data).map_err(|e| {
                ClientError::NotAllowed(format!("authenticator returned bad data: {e}"))
            })?;
            let output = parsed.extensions.as_ref().and_then(|e| match e {
                Value::Map(m) => {
                    crate::ctap2::text_key(m, "hmac-secret").and_then(|v| v.as_bytes().cloned())
                }
                _ => None,
            });
            results.prf = Some(PrfOutputJson {
                enabled: None,
                results: output.map(|o| prf::results(p, &o)).transpose()?,
            });
        }
        if large_blob_asked {
            let key: Option<[u8; 32]> = chosen
                .large_blob_key
                .as_deref()
                .and_then(|k| k.try_into().ok());
            let mut out = LargeBlobOutputJson::default();
            match (key, &blob_to_write) {
                (Some(k), None) => {
                    out.blob = large_blob::read_blob(&mut self.authenticator, &k)?
                        .map(|b| b64url::encode(&b));
                }
                (Some(k), Some(blob)) => {
                    let token = self.lbw_token(&rp_id)?;
                    out.written = Some(large_blob::write_blob(
                        &mut self.authenticator,
                        &k,
                        blob,
                        token.as_deref().map(Vec::as_slice),
                        &mut self.rng,
                    )?);
                }
                (None, Some(_)) => out.written = Some(false),
                (None, None) => {}
            }
            results.large_blob = Some(out);
        }
        if ext.get_cred_blob == Some(true) {
            if let Ok(parsed) = AuthenticatorData::parse(&chosen.auth_data) {
                let blob = authenticator_output(&parsed, "credBlob").unwrap_or_default();
                results.get_cred_blob = Some(b64url::encode(&blob));
            }
        }
        let id = b64url::encode(&chosen.credential.id);
        self.faults.consume(faults);
        Ok(AuthenticationResponseJson {
            id: id.clone(),
            raw_id: id,
            response: AssertionResponseJson {
                client_data_json: b64url::encode(&client_data_json),
                authenticator_data: b64url::encode(&chosen.auth_data),
                signature: b64url::encode(&chosen.signature),
                user_handle: chosen.user.as_ref().map(|u| b64url::encode(&u.id)),
            },
            authenticator_attachment: Some(self.attachment.as_str().into()),
            client_extension_results: results,
            type_: "public-key".into(),
        })
    }

    /// `PublicKeyCredential.getClientCapabilities()`: keys sorted, as the spec requires.
    pub fn capabilities(&self) -> BTreeMap<String, bool> {
        let platform = self.attachment == Attachment::Platform;
        let uv = self.authenticator.uv_capable();
        let config = self.authenticator.config();
        let rk = config.resident_keys;
        let cred_blob = config.supports_extension("credBlob");
        let large_blob = self.authenticator.large_blobs_supported();
        let conditional = self.conditional_support();
        [
            ("conditionalCreate", conditional.create),
            ("conditionalGet", conditional.get),
            ("hybridTransport", false),
            ("passkeyPlatformAuthenticator", platform && uv && rk),
            ("relatedOrigins", self.related_origins.supported()),
            ("signalAllAcceptedCredentials", true),
            ("signalCurrentUserDetails", true),
            ("signalUnknownCredential", true),
            ("userVerifyingPlatformAuthenticator", platform && uv),
            ("extension:credBlob", cred_blob),
            ("extension:credProps", true),
            // Browsers name credProtect's capability after its input members (Chromium's and
            // Firefox's getClientCapabilities do), so RP code checks for these two keys.
            ("extension:credentialProtectionPolicy", true),
            ("extension:enforceCredentialProtectionPolicy", true),
            ("extension:getCredBlob", cred_blob),
            ("extension:largeBlob", large_blob),
            (
                "extension:minPinLength",
                config.supports_extension("minPinLength"),
            ),
            ("extension:prf", true),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// The bytes of authenticator extension output `name` in `auth_data`, if present.
fn authenticator_output(auth_data: &AuthenticatorData, name: &str) -> Option<Vec<u8>> {
    match auth_data.extensions.as_ref()? {
        Value::Map(m) => crate::ctap2::text_key(m, name).and_then(|v| v.as_bytes().cloned()),
        _ => None,
    }
}

fn has_sig(att_stmt: &Value) -> bool {
    matches!(att_stmt, Value::Map(m) if crate::ctap2::text_key(m, "sig").is_some())
}

fn has_x5c(att_stmt: &Value) -> bool {
    matches!(att_stmt, Value::Map(m) if crate::ctap2::text_key(m, "x5c").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_depth_scan_counts_brackets_outside_strings_only() {
        assert!(json_depth_below(br#"{"a":[1,{"b":2}]}"#, 4));
        assert!(!json_depth_below(br#"{"a":[1,{"b":2}]}"#, 3));
        // Brackets inside strings, and escaped quotes, do not count.
        assert!(json_depth_below(br#"{"a":"[[[[{{{{\"[[[["}"#, 2));
        assert!(!json_depth_below(br#"{"a":"\\",[[[1]]]}"#, 3));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(!json_depth_below(deep.as_bytes(), MAX_JSON_DEPTH / 2));
    }

    #[test]
    fn options_parse_the_same_on_the_fast_and_the_slow_path() {
        let bare = r#"{"challenge":"AAEC","rpId":"example.com","userVerification":"required"}"#;
        let wrapped = format!(r#"{{"publicKey":{bare}}}"#);
        let a: RequestOptionsJson = parse_options(bare, "request options").expect("bare");
        let b: RequestOptionsJson = parse_options(&wrapped, "request options").expect("wrapped");
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        // A member of the wrong type is named the same way whichever path is taken first.
        let err = parse_options::<RequestOptionsJson>(
            r#"{"challenge":"AAEC","timeout":"soon"}"#,
            "request options",
        )
        .expect_err("timeout is a number");
        assert!(err.to_string().contains("member `timeout`"), "{err}");
    }
}
