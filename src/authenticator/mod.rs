//! The virtual CTAP2 authenticator: makeCredential, getAssertion, getNextAssertion, getInfo,
//! clientPIN (a PIN kept in the store), credential management, authenticatorConfig and large
//! blobs, over an injected store, RNG, clock and user.
//!
//! [`Authenticator::process`] is the byte boundary a CTAP transport calls: command byte ‖
//! canonical CBOR in, status byte ‖ canonical CBOR out. The typed methods behind it are what the
//! WebAuthn client in this crate calls.

mod config;
mod credential_management;
mod device_info;
mod get_assertion;
mod hmac_secret;
mod large_blobs;
mod maintenance;
mod make_credential;
pub mod pin;
mod pin_uv_token;
mod signals;
pub mod u2f;

pub use device_info::DeviceInfo;
pub use u2f::U2fMode;

use uuid::Uuid;

pub use large_blobs::{MAX_FRAGMENT_LENGTH, MAX_SERIALIZED_LARGE_BLOB_ARRAY};

use crate::crypto::keys::Algorithm;
use crate::crypto::pin_protocol::{KeyAgreementKey, PinProtocol};
use crate::ctap2::{self, get_info, Command, StatusCode};
use crate::env::{self, Clock, Rng, SimulatedUser, UserPolicy};
use crate::faults::FaultSet;
use crate::store::{CredentialStore, MemoryStore};

/// fauxkey's own AAGUID, `a3177236-0861-4496-8ac0-b5d4308ac6e2` (a random v4 UUID chosen for this
/// project). Reported in getInfo and in every attested credential unless a config overrides it.
pub const FAUXKEY_AAGUID: Uuid = Uuid::from_u128(0xa317_7236_0861_4496_8ac0_b5d4_308a_c6e2);

/// The largest CTAP message fauxkey accepts (the CTAPHID maximum, 57 + 128 × 59 bytes).
pub const MAX_MSG_SIZE: usize = 7609;

/// Every CTAP extension fauxkey implements, as [`Config::extensions`] may list them (listing
/// `largeBlobKey` also gives the device authenticatorLargeBlobs and the `largeBlobs` option).
pub const EMULATED_EXTENSIONS: [&str; 6] = [
    "credBlob",
    "credProtect",
    "hmac-secret",
    "hmac-secret-mc",
    "largeBlobKey",
    "minPinLength",
];

/// getInfo `maxCredBlobLength`: the longest `credBlob` kept (the spec's minimum, 32 bytes).
pub const MAX_CRED_BLOB_LENGTH: usize = 32;

/// How long hidden credentials are kept by default: 30 days.
pub const DEFAULT_HIDDEN_RETENTION_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// How the signature counter moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterPolicy {
    /// Each credential has its own counter, incremented on every assertion.
    #[default]
    PerCredential,
    /// Always zero, as synced passkey providers report.
    AlwaysZero,
}

/// The attestation statement makeCredential returns when the request states no preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttestationMode {
    /// `none`.
    #[default]
    None,
    /// `packed` self attestation (signed with the credential key).
    PackedSelf,
    /// `packed` basic attestation: signed with [`Config::attestation_cert`]'s key, its chain in
    /// `x5c`. Without a certificate it falls back to self attestation.
    Packed,
    /// `none`, whatever the request prefers: providers that never attest (a request's
    /// `attestationFormats` naming `packed` still gets `none`).
    AlwaysNone,
    /// `tpm` (WebAuthn L3 §8.3): certInfo and pubArea signed by the AIK in
    /// [`Config::attestation_cert`] (issued by [`crate::attestation::AttestationCa::issue_tpm`]).
    /// Without it, or for an EdDSA credential, packed self attestation.
    Tpm,
    /// `android-key` (WebAuthn L3 §8.4): a certificate for the credential key, carrying the
    /// Android key attestation extension, issued per credential by the "Android Keystore"
    /// intermediate in [`Config::attestation_cert`] (made by
    /// [`crate::attestation::AttestationCa::issue_android_key`]); `sig` by the credential key.
    /// Without it, or for an EdDSA credential, packed self attestation.
    AndroidKey,
    /// `apple` anonymous attestation (WebAuthn L3 §8.8): a leaf certificate per credential,
    /// holding the credential key and the nonce, issued by the intermediate in
    /// [`Config::attestation_cert`] (from
    /// [`crate::attestation::AttestationCa::issue_apple_ca`]). Without it, packed self
    /// attestation; an issuer that cannot sign fails the command (`Other`).
    Apple,
    /// `compound` (WebAuthn L3 §8.9): one complete statement per mode in
    /// [`Config::compound_members`], each over the same authData and clientDataHash. A member
    /// that cannot be produced (tpm for an EdDSA credential, a member whose certificate is
    /// missing) falls back like its mode alone does, and a fallback repeating another member's
    /// `fmt` is dropped; with fewer than two members left the first is returned on its own.
    Compound,
}

/// The members of a `compound` statement when a config names none:
/// [`DEFAULT_COMPOUND_MEMBERS`] can be produced for every algorithm (an apple leaf holds any
/// credential key; packed self attestation signs with it).
pub const DEFAULT_COMPOUND_MEMBERS: [AttestationMode; 2] =
    [AttestationMode::PackedSelf, AttestationMode::Apple];

impl AttestationMode {
    /// The mode's name in a custom profile's `attestation` (and `compoundFormats`) member.
    pub fn profile_name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::AlwaysNone => "always-none",
            Self::PackedSelf => "packed-self",
            Self::Packed => "packed",
            Self::Tpm => "tpm",
            Self::AndroidKey => "android-key",
            Self::Apple => "apple",
            Self::Compound => "compound",
        }
    }

    /// Whether this mode reads [`Config::attestation_cert`] (a config holds one certificate, so
    /// a compound statement has at most one such member).
    pub fn needs_certificate(self) -> bool {
        matches!(
            self,
            Self::Packed | Self::Tpm | Self::AndroidKey | Self::Apple
        )
    }

    /// Whether `members` is a valid [`Config::compound_members`] list: at least two modes,
    /// each one of packed self, tpm or apple (never none, compound, or packed with `x5c`: a
    /// config holds one attestation certificate, which the tpm or apple member uses), no
    /// `fmt` twice, and at most one of tpm and apple. The error says which rule failed.
    pub fn check_compound_members(members: &[AttestationMode]) -> Result<(), String> {
        if members.len() < 2 {
            return Err(format!(
                "a compound statement needs at least two members, got {}",
                members.len()
            ));
        }
        for m in members {
            match m {
                Self::None | Self::AlwaysNone => {
                    return Err("`none` cannot be a member of a compound statement".into())
                }
                Self::Compound => {
                    return Err("a compound statement cannot contain another compound".into())
                }
                Self::AndroidKey => {
                    return Err("android-key is not offered as a compound member (use \
                                packed-self, tpm or apple)"
                        .into())
                }
                Self::Packed => {
                    return Err(
                        "packed with x5c cannot be a compound member (the vault holds \
                         one attestation certificate, for the tpm or apple member); use \
                         packed-self"
                            .into(),
                    )
                }
                _ => {}
            }
        }
        let packed = members
            .iter()
            .filter(|m| matches!(m, Self::Packed | Self::PackedSelf))
            .count();
        let tpm = members.iter().filter(|m| **m == Self::Tpm).count();
        let apple = members.iter().filter(|m| **m == Self::Apple).count();
        if packed > 1 || tpm > 1 || apple > 1 {
            return Err("compound members must have distinct formats".into());
        }
        if members.iter().filter(|m| m.needs_certificate()).count() > 1 {
            return Err(
                "at most one compound member may need an attestation certificate \
                 (tpm or apple)"
                    .into(),
            );
        }
        Ok(())
    }
}

/// How new credential ids are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialIdFormat {
    /// [`Config::credential_id_length`] random bytes.
    #[default]
    Random,
    /// The 16 bytes of a random (version 4) UUID.
    UuidBytes,
    /// The 36-character ASCII text of a random (version 4) UUID, e.g. `acde16e7-0036-…`.
    UuidText,
}

/// What kind of authenticator to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The AAGUID reported in getInfo and attested credential data.
    pub aaguid: Uuid,
    /// Algorithms supported, in the order getInfo lists them.
    pub algorithms: Vec<Algorithm>,
    /// Signature counter behaviour.
    pub counter: CounterPolicy,
    /// Default attestation.
    pub attestation: AttestationMode,
    /// BE for new credentials.
    pub backup_eligible: bool,
    /// BS for new credentials (ignored unless `backup_eligible`).
    pub backup_state: bool,
    /// Length of new credential ids, 16 to 64 bytes.
    pub credential_id_length: usize,
    /// Whether discoverable credentials can be stored (getInfo `rk`).
    pub resident_keys: bool,
    /// Transports reported in getInfo (and by the client in responses).
    pub transports: Vec<String>,
    /// getInfo `maxCredentialCountInList`.
    pub max_credential_count_in_list: u32,
    /// The authenticator has its own account chooser, as passkey providers do: a discoverable
    /// request matching several credentials asks the emulated user to pick one and signs only
    /// that one (`userSelected`). Without it (a display-less security key, the default) the
    /// first response carries `numberOfCredentials` and the client picks after
    /// getNextAssertion, which signs, and so advances the counter of, every candidate.
    pub account_chooser: bool,
    /// How long a credential hidden by a signal is kept before it is purged (ms).
    pub hidden_retention_ms: u64,
    /// The packed attestation certificate and key used by [`AttestationMode::Packed`] (issued
    /// by the test CA in [`crate::attestation`]).
    pub attestation_cert: Option<crate::attestation::AttestationCert>,
    /// The members of an [`AttestationMode::Compound`] statement, in order (see
    /// [`AttestationMode::check_compound_members`]); ignored by the other modes.
    pub compound_members: Vec<AttestationMode>,
    /// CTAP extensions supported, as getInfo lists them (any of [`EMULATED_EXTENSIONS`]);
    /// inputs of others are ignored like unknown extensions.
    pub extensions: Vec<String>,
    /// The user is verified on every ceremony, asked or not (providers that always unlock
    /// with a biometric or the vault password set UV regardless of `userVerification`).
    pub always_uv: bool,
    /// Shape of new credential ids.
    pub credential_id_format: CredentialIdFormat,
    /// Registration reports BE=BS=0, as a synced provider does before its first sync; the
    /// credential keeps the configured BE/BS, so later assertions report them. RPs that insist
    /// BE never changes reject those assertions.
    pub unsynced_at_creation: bool,
    /// Whether the authenticator also speaks CTAP1/U2F (`CTAPHID_MSG`), or only U2F.
    pub u2f: U2fMode,
    /// The rest of getInfo as the emulated device reports it (versions, advertised options,
    /// limits, firmware version); the default is fauxkey's generic answer.
    pub device_info: DeviceInfo,
}

impl Config {
    /// Whether the CTAP extension `name` is supported.
    pub fn supports_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e == name)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            aaguid: FAUXKEY_AAGUID,
            algorithms: Algorithm::DEFAULT.to_vec(),
            counter: CounterPolicy::PerCredential,
            attestation: AttestationMode::None,
            backup_eligible: true,
            backup_state: true,
            credential_id_length: 32,
            resident_keys: true,
            transports: vec!["internal".into()],
            max_credential_count_in_list: 64,
            account_chooser: false,
            hidden_retention_ms: DEFAULT_HIDDEN_RETENTION_MS,
            attestation_cert: None,
            compound_members: DEFAULT_COMPOUND_MEMBERS.to_vec(),
            extensions: vec!["credProtect".into(), "hmac-secret".into()],
            always_uv: false,
            credential_id_format: CredentialIdFormat::Random,
            unsynced_at_creation: false,
            u2f: U2fMode::Off,
            device_info: DeviceInfo::default(),
        }
    }
}

/// State kept between getAssertion and getNextAssertion (CTAP 2.1 §6.2.2 step 13).
struct PendingAssertions {
    rp_id: String,
    client_data_hash: Vec<u8>,
    remaining: std::collections::VecDeque<Vec<u8>>,
    flags_uv: bool,
    flags_up: bool,
    hmac_salts: Option<hmac_secret::Salts>,
    /// The `largeBlobKey` and `credBlob` inputs, answered for every credential.
    extensions: ctap2::get_assertion::Extensions,
    last_ms: u64,
}

/// How long getNextAssertion stays valid after the previous assertion (CTAP 2.1: 30 seconds).
const NEXT_ASSERTION_WINDOW_MS: u64 = 30_000;

/// A virtual CTAP2 authenticator.
pub struct Authenticator<S: CredentialStore = MemoryStore> {
    config: Config,
    store: S,
    rng: Rng,
    clock: Box<dyn Clock>,
    signer: crate::crypto::backend::Signer,
    user: Box<dyn UserPolicy>,
    key_agreement: Option<KeyAgreementKey>,
    pending: Option<PendingAssertions>,
    sequence: u64,
    faults: FaultSet,
    pin_uv: pin_uv_token::PinUvState,
    /// The last storage failure reported on the wire as `Other` (see `take_store_failure`).
    store_failure: Option<crate::store::StoreError>,
    /// An authenticatorLargeBlobs write in progress.
    large_blob_write: Option<large_blobs::PendingWrite>,
    /// The U2F attestation certificate made on first use when the config has none.
    u2f_cert: Option<crate::attestation::AttestationCert>,
}

impl<S: CredentialStore> std::fmt::Debug for Authenticator<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("credentials", &self.store.len())
            .finish_non_exhaustive()
    }
}

impl Authenticator<MemoryStore> {
    /// An in-memory authenticator with the default config, OS randomness, the system clock and a
    /// user who approves and verifies.
    pub fn in_memory() -> Self {
        Self::new(Config::default(), MemoryStore::new())
    }
}

impl<S: CredentialStore> Authenticator<S> {
    /// An authenticator over `store`, with OS randomness, the system clock and an approving user.
    pub fn new(config: Config, store: S) -> Self {
        let sequence = store.max_sequence();
        Self {
            config,
            store,
            rng: env::os_rng(),
            clock: Box::new(env::SystemClock),
            signer: crate::crypto::backend::deterministic(),
            user: Box::new(SimulatedUser::default()),
            key_agreement: None,
            pending: None,
            sequence,
            faults: FaultSet::EMPTY,
            pin_uv: Default::default(),
            store_failure: None,
            large_blob_write: None,
            u2f_cert: None,
        }
    }

    /// Replaces the randomness source (use [`env::seeded_rng`] for reproducible output).
    pub fn with_rng(mut self, rng: Rng) -> Self {
        self.rng = rng;
        self
    }

    /// Replaces the signing backend (default: [`crate::crypto::backend::Rfc6979`], reproducible;
    /// [`crate::crypto::backend::fast`] where output need not be).
    pub fn with_signer(mut self, signer: crate::crypto::backend::Signer) -> Self {
        self.signer = signer;
        self
    }

    /// The signing backend in use.
    pub fn signer(&self) -> &dyn crate::crypto::backend::SigningBackend {
        self.signer.as_ref()
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Replaces the emulated user.
    pub fn with_user(mut self, user: impl UserPolicy + 'static) -> Self {
        self.user = Box::new(user);
        self
    }

    /// Replaces the emulated user in place (e.g. to make the next ceremony fail).
    pub fn set_user(&mut self, user: impl UserPolicy + 'static) {
        self.user = Box::new(user);
    }

    /// Makes every following response carry `faults` (see [`crate::faults`]) until set back to
    /// [`FaultSet::EMPTY`]. The authenticatorData faults and `bad-signature` act here; the
    /// clientDataJSON faults need the client ([`crate::Client::inject_fault`]).
    pub fn set_faults(&mut self, faults: FaultSet) {
        self.faults = faults;
    }

    /// The faults every response currently carries.
    pub fn faults(&self) -> FaultSet {
        self.faults
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The credential store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The credential store, mutably.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Consumes the authenticator, returning its store.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Whether built-in user verification exists (never on a U2F-only authenticator).
    pub fn uv_capable(&self) -> bool {
        self.user.uv_capable() && self.config.u2f.speaks_ctap2()
    }

    /// The emulated user (the client asks it to pick an account).
    pub fn user_mut(&mut self) -> &mut dyn UserPolicy {
        self.user.as_mut()
    }

    /// The CTAP2 byte interface: `command ‖ CBOR` in, `status ‖ CBOR` out.
    pub fn process(&mut self, message: &[u8]) -> Vec<u8> {
        // A U2F-only authenticator has no CTAP2 commands.
        if !self.config.u2f.speaks_ctap2() {
            self.pending = None;
            return vec![StatusCode::InvalidCommand.byte()];
        }
        // maxMsgSize: the profile's limit (never above what CTAPHID carries).
        if message.len() > self.config.device_info.request_limit() {
            self.pending = None;
            return vec![StatusCode::RequestTooLarge.byte()];
        }
        // A device without large blobs does not know the command, whatever its parameters.
        if message.first() == Some(&(ctap2::CommandCode::LargeBlobs as u8))
            && !self.large_blobs_supported()
        {
            self.pending = None;
            return vec![StatusCode::InvalidCommand.byte()];
        }
        let command = match Command::decode(message) {
            Ok(c) => c,
            Err(code) => {
                self.pending = None;
                return vec![code.byte()];
            }
        };
        // An enumeration of credential management only continues with its next subcommand.
        if !matches!(command, Command::CredentialManagement(_)) {
            self.pin_uv.enumeration = None;
        }
        let result = match command {
            Command::MakeCredential(r) => self.make_credential(r).map(|r| Some(r.to_cbor())),
            Command::GetAssertion(r) => self.get_assertion(r).map(|r| Some(r.to_cbor())),
            Command::GetNextAssertion => self.get_next_assertion().map(|r| Some(r.to_cbor())),
            Command::GetInfo => Ok(Some(self.get_info().to_cbor())),
            Command::ClientPin(r) => self.client_pin(r).map(|r| r.to_cbor()),
            Command::GetPinUvAuthToken(r) => {
                self.get_pin_uv_auth_token(r).map(|r| Some(r.to_cbor()))
            }
            Command::CredentialManagement(r) => self.credential_management(r).map(|r| r.to_cbor()),
            Command::Selection => self.selection().map(|()| None),
            Command::Config(r) => self.authenticator_config(r).map(|()| None),
            Command::LargeBlobs(r) => self.large_blobs(r).map(|r| r.map(|r| r.to_cbor())),
            Command::Reset => self.reset().map(|()| None),
            // Command is non-exhaustive for callers outside the crate only.
            #[allow(unreachable_patterns)]
            _ => Err(StatusCode::InvalidCommand),
        };
        match result {
            Ok(body) => ctap2::ok_response(body.as_ref()),
            Err(code) => vec![code.byte()],
        }
    }

    /// `authenticatorGetInfo`: reports what is implemented, as far as the profile's device
    /// advertises it ([`Config::device_info`]).
    pub fn get_info(&self) -> get_info::Response {
        let device = &self.config.device_info;
        let mut options = vec![
            ("rk".to_owned(), self.config.resident_keys),
            ("up".to_owned(), true),
            ("plat".to_owned(), false),
        ];
        // `uv` present means built-in UV exists; absent means it does not (CTAP 2.1 §6.4).
        let uv = self.user.uv_capable();
        if uv {
            options.push(("uv".to_owned(), true));
        }
        // A PIN can always be set (`clientPin` false until it is), so tokens, credential
        // management (also under its preview code 0x41) and authenticatorConfig always exist.
        let state = self.store.device_state();
        options.push(("clientPin".to_owned(), state.pin_set()));
        options.push(("pinUvAuthToken".to_owned(), true));
        options.push(("credMgmt".to_owned(), true));
        options.push(("credentialMgmtPreview".to_owned(), true));
        options.push(("authnrCfg".to_owned(), true));
        options.push(("setMinPINLength".to_owned(), true));
        // No `makeCredUvNotRqd`: with a PIN set, every makeCredential needs a token or UV.
        options.push(("alwaysUv".to_owned(), state.always_uv));
        if self.enterprise_attestation_supported() {
            options.push(("ep".to_owned(), state.enterprise_attestation));
        }
        let has_large_blobs = self.large_blobs_supported();
        if has_large_blobs {
            options.push(("largeBlobs".to_owned(), true));
        }
        // Only the options the emulated device advertises.
        options.retain(|(name, _)| device.advertises(name));
        let mut versions = Vec::new();
        if self.config.u2f.speaks_u2f() {
            versions.push("U2F_V2".to_owned());
        }
        versions.extend(device.ctap2_versions.iter().cloned());
        get_info::Response {
            versions,
            extensions: self.config.extensions.clone(),
            aaguid: *self.config.aaguid.as_bytes(),
            options,
            max_msg_size: Some(device.request_limit() as u64),
            pin_uv_auth_protocols: device.pin_uv_auth_protocols.clone(),
            max_credential_count_in_list: Some(u64::from(self.config.max_credential_count_in_list)),
            max_credential_id_length: Some(device.max_credential_id_length),
            transports: self.config.transports.clone(),
            algorithms: self.config.algorithms.iter().map(|a| a.cose_id()).collect(),
            force_pin_change: device.ctap21_pin_fields.then_some(state.force_pin_change),
            min_pin_length: Some(u64::from(state.min_pin_length)),
            firmware_version: device.firmware_version,
            max_rp_ids_for_set_min_pin_length: device
                .ctap21_pin_fields
                .then_some(config::MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH as u64),
            max_serialized_large_blob_array: has_large_blobs
                .then_some(large_blobs::MAX_SERIALIZED_LARGE_BLOB_ARRAY as u64),
            max_cred_blob_length: self
                .config
                .supports_extension("credBlob")
                .then_some(MAX_CRED_BLOB_LENGTH as u64),
            remaining_discoverable_credentials: None,
        }
    }

    fn key_agreement_key(&mut self) -> &KeyAgreementKey {
        let rng = &mut self.rng;
        self.key_agreement
            .get_or_insert_with(|| KeyAgreementKey::generate(rng.as_mut()))
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// Steps shared by makeCredential and getAssertion for `pinUvAuthParam` (CTAP 2.1 §6.1.2
    /// steps 1–2, 11): the param must verify with the current pinUvAuthToken (from the PIN or
    /// built-in UV). Returns true when it did (the user counts as verified).
    fn check_pin_uv_auth(
        &mut self,
        rp_id: &str,
        client_data_hash: &[u8],
        param: Option<&[u8]>,
        protocol: Option<i64>,
        permission: u8,
    ) -> Result<bool, StatusCode> {
        let Some(param) = param else {
            return Ok(false);
        };
        // Step 1: a zero-length pinUvAuthParam asks for a touch, then reports the PIN state.
        if param.is_empty() {
            return match self.user.presence(rp_id) {
                env::Presence::Approve if self.store.device_state().pin_set() => {
                    Err(StatusCode::PinInvalid)
                }
                env::Presence::Approve => Err(StatusCode::PinNotSet),
                env::Presence::Deny => Err(StatusCode::OperationDenied),
            };
        }
        // Step 2: the protocol must be given and supported.
        let protocol = protocol.ok_or(StatusCode::MissingParameter)?;
        let protocol = PinProtocol::from_number(protocol).ok_or(StatusCode::InvalidParameter)?;
        // Step 11: it must verify against the current token, which needs the permission.
        self.verify_pin_uv_auth(protocol, client_data_hash, param, permission, Some(rp_id))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
