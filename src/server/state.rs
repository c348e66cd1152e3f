//! The server's state: the authenticators it emulates (the default one and any added through the
//! control plane), each a [`Client`] behind its own lock with the options it was made with.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde::{Deserialize, Serialize};

use super::errors::ApiError;
use crate::attestation::AttestationCa;
use crate::authenticator::{AttestationMode, CounterPolicy};
use crate::env::{self, Presence, SimulatedUser, Verification};
use crate::store::{Change, Credential, CredentialStore, Event, MemoryStore, StoreError};
use crate::vault::Vault;
use crate::{profiles, Client};

/// The id of the authenticator that serves every request naming none.
pub const DEFAULT_ID: &str = "default";

/// Where an authenticator keeps its credentials: in memory, or in the vault given to `serve`.
#[derive(Debug)]
pub enum ServerStore {
    /// Forgotten when the server stops (or on reset).
    Memory(MemoryStore),
    /// The encrypted vault file; every change is saved.
    Vault(Box<Vault>),
}

impl ServerStore {
    fn inner(&self) -> &dyn CredentialStore {
        match self {
            ServerStore::Memory(s) => s,
            ServerStore::Vault(v) => v.as_ref(),
        }
    }

    /// The vault, for a vault-backed authenticator.
    pub fn vault_mut(&mut self) -> Option<&mut Vault> {
        match self {
            ServerStore::Memory(_) => None,
            ServerStore::Vault(v) => Some(v),
        }
    }

    fn inner_mut(&mut self) -> &mut dyn CredentialStore {
        match self {
            ServerStore::Memory(s) => s,
            ServerStore::Vault(v) => v.as_mut(),
        }
    }
}

impl CredentialStore for ServerStore {
    fn get(&self, id: &[u8]) -> Option<&Credential> {
        self.inner().get(id)
    }
    fn update(
        &mut self,
        id: &[u8],
        update: &mut dyn FnMut(&mut Credential),
    ) -> Result<bool, StoreError> {
        self.inner_mut().update(id, update)
    }
    fn ids_for_rp(&self, rp_id: &str) -> Vec<Vec<u8>> {
        self.inner().ids_for_rp(rp_id)
    }
    fn ids_for_user(&self, rp_id: &str, user_handle: &[u8]) -> Vec<Vec<u8>> {
        self.inner().ids_for_user(rp_id, user_handle)
    }
    fn insert(&mut self, credential: Credential) -> Result<(), StoreError> {
        self.inner_mut().insert(credential)
    }
    fn insert_replacing(
        &mut self,
        credential: Credential,
        replaced: &[Vec<u8>],
    ) -> Result<(), StoreError> {
        self.inner_mut().insert_replacing(credential, replaced)
    }
    fn remove(&mut self, id: &[u8]) -> Result<Option<Credential>, StoreError> {
        self.inner_mut().remove(id)
    }
    fn all(&self) -> Box<dyn Iterator<Item = &Credential> + '_> {
        self.inner().all()
    }
    fn len(&self) -> usize {
        self.inner().len()
    }
    fn events(&self) -> Vec<Event> {
        self.inner().events()
    }
    fn apply(&mut self, changes: &[Change], event: Event, now_ms: u64) -> Result<(), StoreError> {
        self.inner_mut().apply(changes, event, now_ms)
    }
    fn refresh(&mut self) -> Result<(), StoreError> {
        self.inner_mut().refresh()
    }
    fn max_sequence(&self) -> u64 {
        self.inner().max_sequence()
    }
    fn device_state(&self) -> crate::store::DeviceState {
        self.inner().device_state()
    }
    fn set_device_state(&mut self, state: crate::store::DeviceState) -> Result<(), StoreError> {
        self.inner_mut().set_device_state(state)
    }
}

/// How an authenticator behaves: the body of `POST /_fauxkey/authenticators` (WebDriver's
/// virtual authenticator options, plus fauxkey's own), and what `GET` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthenticatorOptions {
    /// The provider profile (`fauxkey` by default).
    #[serde(default = "default_profile")]
    pub profile: String,
    /// Whether discoverable credentials can be stored.
    #[serde(default = "yes")]
    pub has_resident_key: bool,
    /// Whether the authenticator has built-in user verification.
    #[serde(default = "yes")]
    pub has_user_verification: bool,
    /// Whether user verification succeeds (when the authenticator has it).
    #[serde(default = "yes")]
    pub is_user_verified: bool,
    /// Whether the user approves the presence test (false: NotAllowedError at once).
    #[serde(default = "yes")]
    pub is_user_consenting: bool,
    /// Whether the user answers at all (false: NotAllowedError after the options' timeout).
    #[serde(default = "yes")]
    pub is_user_responding: bool,
    /// `per-credential` (default) or `zero`.
    #[serde(default)]
    pub counter: CounterOption,
    /// `none` or `packed` (self attestation, signed with the credential key); the profile's
    /// choice when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AttestationOption>,
    /// BE of new credentials (the profile's choice when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_eligible: Option<bool>,
    /// BS of new credentials (the profile's choice when absent; never set without BE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_state: Option<bool>,
    /// Seed for keys and ids (reproducible output); OS randomness when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// In a discoverable login matching several accounts, pick this account name or base64url
    /// user handle (the newest account when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

fn default_profile() -> String {
    "fauxkey".into()
}

fn yes() -> bool {
    true
}

impl Default for AuthenticatorOptions {
    fn default() -> Self {
        Self {
            profile: default_profile(),
            has_resident_key: true,
            has_user_verification: true,
            is_user_verified: true,
            is_user_consenting: true,
            is_user_responding: true,
            counter: CounterOption::default(),
            attestation: None,
            backup_eligible: None,
            backup_state: None,
            seed: None,
            account: None,
        }
    }
}

/// The `counter` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CounterOption {
    /// One counter per credential, incremented on every assertion.
    #[default]
    PerCredential,
    /// Always zero (synced passkeys).
    Zero,
}

/// The `attestation` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttestationOption {
    /// Format `none`.
    None,
    /// Format `packed`, self attestation.
    Packed,
}

impl AuthenticatorOptions {
    /// The emulated user these options describe.
    pub fn user(&self) -> SimulatedUser {
        SimulatedUser {
            presence: if self.is_user_consenting && self.is_user_responding {
                Presence::Approve
            } else {
                Presence::Deny
            },
            verification: match (self.has_user_verification, self.is_user_verified) {
                (false, _) => Verification::NotCapable,
                (true, true) => Verification::Succeed,
                (true, false) => Verification::Fail,
            },
            account: self.account.clone(),
        }
    }

    /// A client over `store` as these options describe. A profile that attests with a
    /// certificate gets one from `ca`. For a vault, the vault's own settings (its config, and
    /// its client settings when it has them) win over the profile.
    pub fn client(
        &self,
        store: ServerStore,
        ca: &AttestationCa,
    ) -> Result<Client<ServerStore>, ApiError> {
        let bad = |e: String| ApiError::type_error(e);
        let mut profile = profiles::resolve(&self.profile).map_err(|e| bad(e.to_string()))?;
        match &store {
            ServerStore::Vault(v) => {
                profile.config = v.settings().clone();
                if let Some(client) = &v.extras().client {
                    profile.attachment = client.attachment;
                    profile.zero_aaguid_for_none = client.zero_aaguid_for_none;
                }
            }
            ServerStore::Memory(_) => {
                let mut rng = match self.seed {
                    Some(seed) => env::seeded_rng(seed ^ 0xca),
                    None => env::os_rng(),
                };
                profile = profile
                    .with_attestation(ca, &mut rng)
                    .map_err(|e| bad(format!("cannot issue an attestation certificate: {e}")))?;
            }
        }
        let config = &mut profile.config;
        if !self.has_resident_key {
            config.resident_keys = false;
        }
        if self.counter == CounterOption::Zero {
            config.counter = CounterPolicy::AlwaysZero;
        }
        if let Some(be) = self.backup_eligible {
            config.backup_eligible = be;
        }
        if let Some(bs) = self.backup_state {
            config.backup_state = bs;
        }
        match self.attestation {
            Some(AttestationOption::None) => config.attestation = AttestationMode::None,
            Some(AttestationOption::Packed) => config.attestation = AttestationMode::PackedSelf,
            None => {}
        }
        let mut authenticator = profile
            .authenticator(store)
            .with_user(self.user())
            .with_signer(crate::crypto::backend::for_seed(self.seed));
        if let Some(seed) = self.seed {
            authenticator = authenticator.with_rng(env::seeded_rng(seed));
        }
        let mut client = profile.client(authenticator);
        if let Some(seed) = self.seed {
            client = client.with_rng(env::seeded_rng(seed ^ 0x5eed));
        }
        Ok(client)
    }
}

/// `client` with the server's related-origins policy, when it has one.
fn with_related(
    client: Client<ServerStore>,
    related: &Option<Arc<super::ServerRelatedOrigins>>,
) -> Client<ServerStore> {
    match related {
        Some(r) => client.with_related_origins(r.clone()),
        None => client,
    }
}

/// One emulated authenticator: its client and the options it runs with.
#[derive(Debug)]
pub struct Slot {
    /// The browser + authenticator.
    pub client: Client<ServerStore>,
    /// Its options (the user part changes with `POST …/uv`).
    pub options: AuthenticatorOptions,
}

/// An authenticator shared between requests.
pub type Shared = Arc<Mutex<Slot>>;

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The base URL the server answers on (baked into `/shim.js`).
    pub base_url: String,
    authenticators: RwLock<BTreeMap<String, Shared>>,
    next_id: Mutex<u64>,
    default_options: AuthenticatorOptions,
    /// Whether the default authenticator keeps its credentials in a vault.
    pub vault_backed: bool,
    /// The test attestation CA that issues certificates to profiles attesting with one (the
    /// vault's own CA when the vault has one).
    pub ca: AttestationCa,
    /// The related-origins policy every authenticator's client shares (one cache).
    pub related_origins: Option<Arc<super::ServerRelatedOrigins>>,
    /// Pending conditional requests (`mediation: "conditional"`), see [`super::conditional`].
    pub conditional: Mutex<super::conditional::Registry>,
}

/// Locks a mutex, carrying on if a panicking handler poisoned it (its state is still valid:
/// every change to a client is a single call).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl AppState {
    /// State with a default authenticator made from `options` over `store`; every client gets
    /// `related_origins` when given.
    pub fn new(
        base_url: String,
        options: AuthenticatorOptions,
        store: ServerStore,
        related_origins: Option<Arc<super::ServerRelatedOrigins>>,
    ) -> Result<Self, ApiError> {
        let vault_backed = matches!(store, ServerStore::Vault(_));
        let vault_ca = match &store {
            ServerStore::Vault(v) => v.extras().attestation_ca.clone(),
            ServerStore::Memory(_) => None,
        };
        let ca = match vault_ca {
            Some(ca) => ca,
            None => {
                let mut rng = match options.seed {
                    Some(seed) => env::seeded_rng(seed ^ 0xca0),
                    None => env::os_rng(),
                };
                AttestationCa::generate(&mut rng).map_err(|e| {
                    ApiError::unknown(format!("cannot create the test attestation CA: {e}"))
                })?
            }
        };
        let client = with_related(options.client(store, &ca)?, &related_origins);
        let mut map = BTreeMap::new();
        map.insert(
            DEFAULT_ID.to_owned(),
            Arc::new(Mutex::new(Slot {
                client,
                options: options.clone(),
            })),
        );
        Ok(Self {
            base_url,
            authenticators: RwLock::new(map),
            next_id: Mutex::new(0),
            default_options: options,
            vault_backed,
            ca,
            related_origins,
            conditional: Mutex::default(),
        })
    }

    /// A new in-memory client made from `options`, with the shared related-origins policy.
    fn memory_client(
        &self,
        options: &AuthenticatorOptions,
    ) -> Result<Client<ServerStore>, ApiError> {
        let client = options.client(ServerStore::Memory(MemoryStore::new()), &self.ca)?;
        Ok(with_related(client, &self.related_origins))
    }

    /// The authenticator with this id (the default one when `None`).
    pub fn authenticator(&self, id: Option<&str>) -> Result<Shared, ApiError> {
        let id = id.unwrap_or(DEFAULT_ID);
        self.authenticators
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no authenticator with id {id:?}; GET /_fauxkey/authenticators lists them"
                ))
            })
    }

    /// Whether the authenticator with this id keeps its credentials in the vault.
    pub fn on_vault(&self, id: Option<&str>) -> bool {
        self.vault_backed && id.unwrap_or(DEFAULT_ID) == DEFAULT_ID
    }

    /// Every authenticator, by id.
    pub fn all(&self) -> Vec<(String, Shared)> {
        self.authenticators
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Adds an in-memory authenticator; returns its id.
    pub fn add(&self, options: AuthenticatorOptions) -> Result<String, ApiError> {
        let client = self.memory_client(&options)?;
        let id = {
            let mut next = lock(&self.next_id);
            *next += 1;
            format!("authenticator-{next}")
        };
        self.authenticators
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), Arc::new(Mutex::new(Slot { client, options })));
        Ok(id)
    }

    /// Removes an added authenticator.
    pub fn remove(&self, id: &str) -> Result<(), ApiError> {
        if id == DEFAULT_ID {
            return Err(ApiError::invalid_state(
                "the default authenticator cannot be removed; POST /_fauxkey/reset empties it",
            ));
        }
        self.authenticators
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no authenticator with id {id:?}; GET /_fauxkey/authenticators lists them"
                ))
            })
    }

    /// Back to the state at start: added authenticators removed, the default one's options
    /// restored and (in memory) its credentials and events dropped. A vault is not touched.
    pub fn reset(&self) -> Result<(), ApiError> {
        let default = self.authenticator(None)?;
        lock(&self.conditional).clear();
        self.authenticators
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|id, _| id == DEFAULT_ID);
        *lock(&self.next_id) = 0;
        let mut slot = lock(&default);
        if self.vault_backed {
            slot.options = self.default_options.clone();
            let user = slot.options.user();
            slot.client.authenticator_mut().set_user(user);
            slot.client.clear_faults();
        } else {
            slot.client = self.memory_client(&self.default_options)?;
            slot.options = self.default_options.clone();
        }
        Ok(())
    }
}
