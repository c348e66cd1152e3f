//! Conditional mediation (WebAuthn L3 §5.1.4 with `mediation: "conditional"`: the page's
//! "autofill" login, and §5.1.3's conditional create: the automatic passkey upgrade after a
//! password sign-in).
//!
//! A conditional `get()` does not answer at once: [`Client::get_conditional`] checks the request
//! as `get()` would and returns a [`ConditionalId`]; the request stays pending, as a browser's
//! autofill stays available, until the test (acting as the user at the autofill UI) lists the
//! offered passkeys ([`Client::conditional_offers`]) and picks one ([`Client::conditional_pick`]:
//! the getAssertion runs with that credential, the pick being the user's presence), dismisses
//! the UI ([`Client::conditional_dismiss`]: the request stays pending), or the page aborts it
//! ([`Client::conditional_abort`]: `AbortError`). L3 sets a conditional request's timer to
//! infinity; fauxkey ends one with `NotAllowedError` when the RP's `timeout` has passed on the
//! injected clock ([`Client::with_conditional_clock`]) or when the test says so
//! ([`Client::conditional_time_out`]), so a page's "autofill expired" path can be tested without
//! sleeping. A non-empty `allowCredentials` is allowed (L3 moves it into the
//! `credentialIdFilter`): only those credentials are offered.
//!
//! A conditional `create()` ([`Client::create_conditional`]) succeeds only after the test has
//! recorded a password sign-in for that user on that RP ([`Client::note_password_sign_in`]),
//! and then runs without user presence (UP=0 in the authenticator data, as Chrome's upgrade
//! does); otherwise it is `NotAllowedError`, as L3 lets the client refuse silently.
//!
//! Whether a client offers either ([`ConditionalSupport`]) is the profile's decision
//! (`profiles::conditional_mediation`); it is what `getClientCapabilities()` reports as
//! `conditionalGet` / `conditionalCreate` and `isConditionalMediationAvailable()` as the former.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::json::{
    AuthenticationResponseJson, CreationOptionsJson, RegistrationResponseJson, RequestOptionsJson,
};
use super::ClientError;
use super::{decode_b64, descriptors, origin, parse_options, Attachment, CallerOrigin, Client};
use crate::b64url;
use crate::env::{Clock, SystemClock};
use crate::store::CredentialStore;

/// The most conditional requests one client keeps pending (timed-out ones not yet reported
/// count too); one more is a `QuotaExceededError`.
pub const MAX_PENDING: usize = 64;

/// The longest lifetime fauxkey gives a conditional request whose options carry a `timeout`
/// (the same bound as a modal ceremony's).
pub const MAX_LIFETIME_MS: u64 = 600_000;

/// Which conditional requests a client serves (`conditionalGet`, `conditionalCreate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalSupport {
    /// Conditional `get()`: passkeys offered in the autofill UI.
    pub get: bool,
    /// Conditional `create()`: a passkey made after a password sign-in.
    pub create: bool,
}

impl ConditionalSupport {
    /// Both.
    pub const BOTH: Self = Self {
        get: true,
        create: true,
    };
    /// Neither.
    pub const NONE: Self = Self {
        get: false,
        create: false,
    };

    /// The default for a client whose profile decides nothing: a platform authenticator (a
    /// passkey provider) offers both; a roaming one neither.
    pub fn for_attachment(attachment: Attachment) -> Self {
        match attachment {
            Attachment::Platform => Self::BOTH,
            Attachment::CrossPlatform => Self::NONE,
        }
    }
}

/// A pending conditional request, as [`Client::get_conditional`] returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ConditionalId(pub u64);

impl std::fmt::Display for ConditionalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One passkey the autofill UI offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalOffer {
    /// The credential id, base64url.
    pub credential_id: String,
    /// The account name (personal data), when the credential has one.
    pub user_name: Option<String>,
    /// The display name (personal data), when the credential has one.
    pub user_display_name: Option<String>,
    /// The user handle, base64url.
    pub user_handle: String,
}

/// A pending conditional request, as [`Client::conditional_requests`] lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalRequest {
    /// Its id.
    pub id: ConditionalId,
    /// The calling page's origin.
    pub origin: String,
    /// The RP ID the request is for.
    pub rp_id: String,
    /// How often the user dismissed the autofill UI.
    pub dismissed: u32,
    /// When it ends by itself (ms on the client's clock), if the options gave a `timeout`.
    pub deadline_ms: Option<u64>,
    /// The passkeys offered, in the order [`Client::conditional_pick`] counts them.
    pub offers: Vec<ConditionalOffer>,
}

/// A conditional request the test cannot act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConditionalError {
    /// No pending request has this id (never made, or already picked, aborted or timed out).
    #[error("no pending conditional request {0}; it was never made or has already ended")]
    Unknown(ConditionalId),
    /// The request's lifetime ran out before the action; it has now ended with `NotAllowedError`.
    #[error("conditional request {0} timed out before this action; it ended with NotAllowedError")]
    TimedOut(ConditionalId),
    /// The index names no offered passkey; the request stays pending.
    #[error(
        "conditional request {id} offers {offered} passkey(s); there is no offer {index} \
         (count from 0; list the offers first)"
    )]
    NoSuchOffer {
        /// The request.
        id: ConditionalId,
        /// The index asked for.
        index: usize,
        /// How many passkeys are offered.
        offered: usize,
    },
}

/// What a settled conditional `get()` gives the page.
pub type Outcome = Result<AuthenticationResponseJson, ClientError>;

struct Pending {
    origin: CallerOrigin,
    options: RequestOptionsJson,
    rp_id: String,
    /// L3's `credentialIdFilter`: the allowCredentials ids (empty: every discoverable one).
    filter: Vec<Vec<u8>>,
    deadline_ms: Option<u64>,
    dismissed: u32,
}

/// A client's conditional-mediation state.
pub(crate) struct State {
    support: Option<ConditionalSupport>,
    clock: Arc<dyn Clock>,
    next: u64,
    pending: BTreeMap<u64, Pending>,
    /// Requests whose lifetime ran out, not yet reported to anyone.
    timed_out: BTreeSet<u64>,
    /// `(rpId, user name)` pairs the user signed in to with a password.
    password_sign_ins: BTreeSet<(String, String)>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            support: None,
            clock: Arc::new(SystemClock),
            next: 0,
            pending: BTreeMap::new(),
            timed_out: BTreeSet::new(),
            password_sign_ins: BTreeSet::new(),
        }
    }
}

impl State {
    /// Moves every request whose deadline has passed to `timed_out`.
    fn expire(&mut self) {
        let now = self.clock.now_ms();
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline_ms.is_some_and(|d| now >= d))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            self.pending.remove(&id);
            self.timed_out.insert(id);
        }
    }

    /// The pending request `id`, after expiring; a timed-out one is reported (once) as such.
    fn live(&mut self, id: ConditionalId) -> Result<&mut Pending, ConditionalError> {
        self.expire();
        if self.timed_out.remove(&id.0) {
            return Err(ConditionalError::TimedOut(id));
        }
        self.pending
            .get_mut(&id.0)
            .ok_or(ConditionalError::Unknown(id))
    }
}

fn timed_out_error() -> ClientError {
    ClientError::NotAllowed(
        "the conditional request timed out before the user picked a passkey".into(),
    )
}

impl<S: CredentialStore> Client<S> {
    /// Which conditional requests this client serves (the profile's choice; by default a
    /// platform authenticator serves both, a roaming one neither).
    pub fn conditional_support(&self) -> ConditionalSupport {
        let support = self
            .conditional
            .support
            .unwrap_or_else(|| ConditionalSupport::for_attachment(self.attachment));
        ConditionalSupport {
            // The autofill UI lists discoverable credentials only.
            get: support.get && self.authenticator.config().resident_keys,
            create: support.create && self.authenticator.config().resident_keys,
        }
    }

    /// Sets which conditional requests this client serves.
    pub fn with_conditional_mediation(mut self, support: ConditionalSupport) -> Self {
        self.conditional.support = Some(support);
        self
    }

    /// The clock that ends conditional requests whose options carry a `timeout` (the system
    /// clock by default; a [`crate::env::FixedClock`] in tests).
    pub fn with_conditional_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.conditional.clock = Arc::new(clock);
        self
    }

    /// `navigator.credentials.get({mediation: "conditional", publicKey})`: checks the request as
    /// `get()` does and leaves it pending.
    pub fn get_conditional(
        &mut self,
        origin: &str,
        options_json: &str,
    ) -> Result<ConditionalId, ClientError> {
        let origin = CallerOrigin::parse(origin)?;
        let options = parse_options(options_json, "request options")?;
        self.get_conditional_with(&origin, &options)
    }

    /// [`Client::get_conditional`] with parsed inputs.
    pub fn get_conditional_with(
        &mut self,
        origin: &CallerOrigin,
        options: &RequestOptionsJson,
    ) -> Result<ConditionalId, ClientError> {
        // Credential Management §2.5.1: a type without conditional mediation is a TypeError.
        if !self.conditional_support().get {
            return Err(ClientError::Type(
                "conditional mediation is not available: this client's profile offers no \
                 passkey autofill (capability conditionalGet is false)"
                    .into(),
            ));
        }
        // §5.1.4.1 step 2: not from a cross-origin frame.
        if origin.cross_origin() {
            return Err(ClientError::NotAllowed(
                "conditional mediation is not allowed in a cross-origin frame".into(),
            ));
        }
        decode_b64(&options.challenge, "challenge")?;
        let allow = descriptors(&options.allow_credentials, "allowCredentials")?;
        super::check_list_size(allow.len(), "allowCredentials")?;
        let rp_id = origin::validate_rp_id(
            origin,
            options.rp_id.as_deref(),
            self.related_origins.as_ref(),
        )?;
        let pin_only = self.pin_only();
        super::effective_uv(
            options.user_verification.as_deref(),
            self.authenticator.uv_capable() || pin_only,
        )?;
        let state = &mut self.conditional;
        state.expire();
        if state.pending.len() + state.timed_out.len() >= MAX_PENDING {
            return Err(ClientError::QuotaExceeded(format!(
                "{MAX_PENDING} conditional requests are already pending; pick, dismiss or abort \
                 one first"
            )));
        }
        let now = state.clock.now_ms();
        state.next += 1;
        let id = state.next;
        state.pending.insert(
            id,
            Pending {
                origin: origin.clone(),
                options: options.clone(),
                rp_id,
                // L3 §5.1.4.1: allowCredentials becomes the credentialIdFilter.
                filter: allow
                    .into_iter()
                    .filter(|d| d.type_ == "public-key")
                    .map(|d| d.id)
                    .collect(),
                deadline_ms: options
                    .timeout
                    .map(|t| now.saturating_add(t.min(MAX_LIFETIME_MS))),
                dismissed: 0,
            },
        );
        Ok(ConditionalId(id))
    }

    /// Every pending conditional request, oldest first, with what the autofill UI offers.
    pub fn conditional_requests(&mut self) -> Vec<ConditionalRequest> {
        self.conditional.expire();
        let ids: Vec<u64> = self.conditional.pending.keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| {
                let p = self.conditional.pending.get(&id)?;
                Some(ConditionalRequest {
                    id: ConditionalId(id),
                    origin: p.origin.serialized().to_owned(),
                    rp_id: p.rp_id.clone(),
                    dismissed: p.dismissed,
                    deadline_ms: p.deadline_ms,
                    offers: self.offers_for(&p.rp_id, &p.filter),
                })
            })
            .collect()
    }

    /// Whether request `id` is still pending (`Ok(None)`), or ended by its timeout
    /// (`Ok(Some(NotAllowedError))`, reported once).
    pub fn conditional_poll(
        &mut self,
        id: ConditionalId,
    ) -> Result<Option<ClientError>, ConditionalError> {
        match self.conditional.live(id) {
            Ok(_) => Ok(None),
            Err(ConditionalError::TimedOut(_)) => Ok(Some(timed_out_error())),
            Err(e) => Err(e),
        }
    }

    /// The passkeys the autofill UI offers for request `id`: the RP's discoverable, not hidden
    /// credentials (only those in the `credentialIdFilter` when there is one), newest first.
    pub fn conditional_offers(
        &mut self,
        id: ConditionalId,
    ) -> Result<Vec<ConditionalOffer>, ConditionalError> {
        let p = self.conditional.live(id)?;
        let (rp_id, filter) = (p.rp_id.clone(), p.filter.clone());
        Ok(self.offers_for(&rp_id, &filter))
    }

    fn offers_for(&self, rp_id: &str, filter: &[Vec<u8>]) -> Vec<ConditionalOffer> {
        let store = self.authenticator.store();
        let mut found: Vec<&crate::store::Credential> = store
            .ids_for_rp(rp_id)
            .iter()
            .filter_map(|id| store.get(id))
            .filter(|c| c.discoverable && !c.hidden)
            .filter(|c| filter.is_empty() || filter.contains(&c.id))
            .collect();
        found.sort_by(|a, b| {
            (b.created_ms, b.sequence)
                .cmp(&(a.created_ms, a.sequence))
                .then_with(|| a.id.cmp(&b.id))
        });
        found
            .into_iter()
            .map(|c| ConditionalOffer {
                credential_id: b64url::encode(&c.id),
                user_name: c.user_name.clone(),
                user_display_name: c.user_display_name.clone(),
                user_handle: b64url::encode(&c.user_handle),
            })
            .collect()
    }

    /// The user clicks offer `index` (from 0, as [`Client::conditional_offers`] lists them): the
    /// getAssertion runs with that credential, the click being the user's presence, and the
    /// request ends with its outcome. A bad index leaves the request pending.
    pub fn conditional_pick(
        &mut self,
        id: ConditionalId,
        index: usize,
    ) -> Result<Outcome, ConditionalError> {
        let offers = self.conditional_offers(id)?;
        let Some(offer) = offers.get(index) else {
            return Err(ConditionalError::NoSuchOffer {
                id,
                index,
                offered: offers.len(),
            });
        };
        let Some(pending) = self.conditional.pending.remove(&id.0) else {
            return Err(ConditionalError::Unknown(id));
        };
        let mut options = pending.options;
        options.allow_credentials = vec![super::json::CredentialDescriptorJson {
            type_: "public-key".into(),
            id: offer.credential_id.clone(),
            transports: None,
        }];
        let mut outcome = self.get_with(&pending.origin, &options);
        // A discoverable login: the page gets the user handle whatever the authenticator sent.
        if let Ok(response) = &mut outcome {
            if response.response.user_handle.is_none() {
                response.response.user_handle = Some(offer.user_handle.clone());
            }
        }
        Ok(outcome)
    }

    /// The user closes the autofill UI without picking; the request stays pending (the page's
    /// promise does not settle, as in a browser).
    pub fn conditional_dismiss(&mut self, id: ConditionalId) -> Result<(), ConditionalError> {
        self.conditional.live(id)?.dismissed += 1;
        Ok(())
    }

    /// The page's `AbortSignal` fires: the request ends with `AbortError`.
    pub fn conditional_abort(
        &mut self,
        id: ConditionalId,
    ) -> Result<ClientError, ConditionalError> {
        self.conditional.live(id)?;
        self.conditional.pending.remove(&id.0);
        Ok(ClientError::Abort(
            "the page aborted the conditional request".into(),
        ))
    }

    /// The request's time runs out now (whatever its `timeout`): it ends with `NotAllowedError`.
    pub fn conditional_time_out(
        &mut self,
        id: ConditionalId,
    ) -> Result<ClientError, ConditionalError> {
        match self.conditional.live(id) {
            Ok(_) | Err(ConditionalError::TimedOut(_)) => {
                self.conditional.pending.remove(&id.0);
                Ok(timed_out_error())
            }
            Err(e) => Err(e),
        }
    }

    /// Records that the user signed in to `rp_id` as `user_name` with a password (what a
    /// browser's password manager sees), which lets one conditional `create()` for that user
    /// upgrade the account to a passkey.
    pub fn note_password_sign_in(&mut self, rp_id: &str, user_name: &str) {
        self.conditional
            .password_sign_ins
            .insert((rp_id.to_owned(), user_name.to_owned()));
    }

    /// Whether a password sign-in is on record for `user_name` on `rp_id`.
    pub fn has_password_sign_in(&self, rp_id: &str, user_name: &str) -> bool {
        self.conditional
            .password_sign_ins
            .contains(&(rp_id.to_owned(), user_name.to_owned()))
    }

    /// `navigator.credentials.create({mediation: "conditional", publicKey})`: the automatic
    /// passkey upgrade. Succeeds only after [`Client::note_password_sign_in`] for the same RP ID
    /// and `user.name` (the record is used up), and runs without user presence: UP=0.
    pub fn create_conditional(
        &mut self,
        origin: &str,
        options_json: &str,
    ) -> Result<RegistrationResponseJson, ClientError> {
        let origin = CallerOrigin::parse(origin)?;
        let options = parse_options(options_json, "creation options")?;
        self.create_conditional_with(&origin, &options)
    }

    /// [`Client::create_conditional`] with parsed inputs.
    pub fn create_conditional_with(
        &mut self,
        origin: &CallerOrigin,
        options: &CreationOptionsJson,
    ) -> Result<RegistrationResponseJson, ClientError> {
        if !self.conditional_support().create {
            return Err(ClientError::Type(
                "conditional create is not available: this client's profile makes no automatic \
                 passkey upgrades (capability conditionalCreate is false)"
                    .into(),
            ));
        }
        // §5.1.3 step 2: not from a cross-origin frame.
        if origin.cross_origin() {
            return Err(ClientError::NotAllowed(
                "conditional create is not allowed in a cross-origin frame".into(),
            ));
        }
        let rp_id = origin::validate_rp_id(
            origin,
            options.rp.id.as_deref(),
            self.related_origins.as_ref(),
        )?;
        // §5.1.3 step 20 (conditional): no user verification can be collected without UI.
        let uv = options
            .authenticator_selection
            .as_ref()
            .and_then(|s| s.user_verification.as_deref());
        if uv == Some("required") {
            return Err(ClientError::Constraint(
                "a conditional create cannot verify the user; userVerification \"required\" \
                 cannot be met"
                    .into(),
            ));
        }
        if self.pin_only() {
            return Err(ClientError::NotAllowed(
                "a conditional create cannot prompt for the authenticator's PIN".into(),
            ));
        }
        let key = (rp_id.clone(), options.user.name.clone());
        if !self.conditional.password_sign_ins.contains(&key) {
            return Err(ClientError::NotAllowed(format!(
                "no recent password sign-in as {:?} on {rp_id:?}: the browser offers no \
                 passkey upgrade (record one with note_password_sign_in / POST \
                 /_fauxkey/authenticators/ID/password-sign-in)",
                options.user.name
            )));
        }
        let made = self.create_inner(origin, options, true)?;
        self.conditional.password_sign_ins.remove(&key);
        Ok(made)
    }
}
