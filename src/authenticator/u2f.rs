//! CTAP1/U2F behaviour (FIDO U2F Raw Message Formats v1.2; CTAP 2.1 §11.2.9.1.1 for the
//! transport): `U2F_REGISTER`, `U2F_AUTHENTICATE` (check-only, enforce and don't-enforce user
//! presence) and `U2F_VERSION`, over the same store as CTAP2.
//!
//! Key handles are credential ids, so one credential serves both protocols: a U2F registration
//! keeps its application parameter (`Credential::u2f_app_param`) and is found by CTAP2
//! getAssertion under the RP ID whose SHA-256 it is (CTAP 2.1 §6.2.2 accepts U2F key handles in
//! the allow list); an ES256 credential made by makeCredential answers U2F authenticate for
//! `SHA-256(rpId)` unless its credProtect level requires user verification, which U2F cannot
//! give. The wire types are in [`crate::ctap1`].

use sha2::{Digest, Sha256};

use super::{Authenticator, CounterPolicy};
use crate::attestation::AttestationCert;
use crate::crypto::keys::{Algorithm, PublicKey};
use crate::ctap1::{
    self, AuthenticateRequest, AuthenticateResponse, Command, Control, RegisterRequest,
    RegisterResponse, StatusWord,
};
use crate::env::Presence;
use crate::store::{CredProtect, Credential, CredentialStore};

/// Which protocols the authenticator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum U2fMode {
    /// CTAP2 only (CTAPHID capability NMSG: `CTAPHID_MSG` is not implemented).
    #[default]
    Off,
    /// CTAP2 and U2F, as most FIDO2 security keys: getInfo lists `U2F_V2`.
    Also,
    /// U2F only, a FIDO U2F security key: CTAP2 requests are answered `ERR_INVALID_CMD` by
    /// CTAPHID (INIT reports no CBOR capability) and `CTAP1_ERR_INVALID_COMMAND` by
    /// [`Authenticator::process`]; a WebAuthn client falls back to U2F.
    Only,
}

impl U2fMode {
    /// Whether U2F messages are answered.
    pub fn speaks_u2f(self) -> bool {
        self != U2fMode::Off
    }

    /// Whether CTAP2 requests are answered.
    pub fn speaks_ctap2(self) -> bool {
        self != U2fMode::Only
    }

    /// The name used in profiles and on the command line: `off`, `also`, `only`.
    pub fn as_str(self) -> &'static str {
        match self {
            U2fMode::Off => "off",
            U2fMode::Also => "also",
            U2fMode::Only => "only",
        }
    }

    /// The mode for its name.
    pub fn from_name(name: &str) -> Option<Self> {
        [U2fMode::Off, U2fMode::Also, U2fMode::Only]
            .into_iter()
            .find(|m| m.as_str() == name)
    }
}

/// The uncompressed SEC1 point of a P-256 public key (`0x04 ‖ x ‖ y`).
pub fn uncompressed_point(key: &PublicKey) -> Option<[u8; 65]> {
    let (x, y) = key.ec_coordinates()?;
    if key.algorithm() != Algorithm::Es256 {
        return None;
    }
    [&[ctap1::UNCOMPRESSED_POINT][..], &x, &y]
        .concat()
        .try_into()
        .ok()
}

impl<S: CredentialStore> Authenticator<S> {
    /// The CTAP1 byte interface (`CTAPHID_MSG`): a command APDU in, response data ‖ status word
    /// out. Without U2F ([`U2fMode::Off`]) every instruction is `SW_INS_NOT_SUPPORTED`.
    pub fn process_u2f(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.pending = None;
        let command = match Command::decode(apdu) {
            Ok(c) => c,
            Err(sw) => return sw.bytes().to_vec(),
        };
        let result = match command {
            Command::Register(r) => self.u2f_register(&r, None).map(|r| r.to_bytes()),
            Command::Authenticate(r) => self.u2f_authenticate(&r).map(|r| r.to_bytes()),
            Command::Version if self.config.u2f.speaks_u2f() => {
                Ok(ctap1::VERSION.as_bytes().to_vec())
            }
            Command::Version => Err(StatusWord::InsNotSupported),
        };
        match result {
            Ok(data) => ctap1::response(&data, StatusWord::NoError),
            Err(sw) => sw.bytes().to_vec(),
        }
    }

    /// `U2F_REGISTER`. `rp_id`, when the caller knows it (the WebAuthn client falling back to
    /// U2F does), is kept with the credential for listing; a U2F device never learns it, so
    /// the application parameter is what binds the credential.
    pub fn u2f_register(
        &mut self,
        request: &RegisterRequest,
        rp_id: Option<&str>,
    ) -> Result<RegisterResponse, StatusWord> {
        if !self.config.u2f.speaks_u2f() {
            return Err(StatusWord::InsNotSupported);
        }
        self.pending = None;
        self.store_failure = None;
        self.store.refresh().map_err(|e| self.u2f_store_failed(e))?;
        self.sequence = self.sequence.max(self.store.max_sequence());
        // U2F §4.1: a registration always needs the user's touch.
        if self.user.presence(rp_id.unwrap_or("")) == Presence::Deny {
            return Err(StatusWord::ConditionsNotSatisfied);
        }
        let key = self.signer.generate(Algorithm::Es256, self.rng.as_mut());
        let public_key = uncompressed_point(&key.public_key()).ok_or(StatusWord::Other)?;
        let mut id = vec![0u8; self.config.credential_id_length.clamp(16, 64)];
        self.rng.fill_bytes(&mut id);
        let cert = self.u2f_attestation_cert()?;
        // The faults that edit authenticatorData act on the application parameter signed here
        // (`wrong-rp-id-hash`); the client building authenticatorData applies them too.
        let mut probe = [request.application.as_slice(), &[0; 5]].concat();
        self.faults.edit_auth_data(&mut probe, None);
        let mut signed_application = [0u8; 32];
        signed_application.copy_from_slice(&probe[..32]);
        let signed = RegisterResponse::signed_data(
            &signed_application,
            &request.challenge,
            &id,
            &public_key,
        );
        let mut signature = self.signer.sign(cert.key(), &signed);
        self.faults.edit_signature(&mut signature);
        let certificate = cert.chain().first().cloned().ok_or(StatusWord::Other)?;
        let backup_eligible = self.config.backup_eligible;
        let sequence = self.next_sequence();
        let mut credential = Credential {
            id: id.clone(),
            rp_id: rp_id.unwrap_or_default().to_owned(),
            rp_name: None,
            user_handle: Vec::new(),
            user_name: None,
            user_display_name: None,
            key,
            discoverable: false,
            sign_count: 0,
            backup_eligible,
            backup_state: backup_eligible && self.config.backup_state,
            created_ms: self.clock.now_ms(),
            last_used_ms: None,
            hidden: false,
            hidden_at_ms: None,
            cred_protect: CredProtect::UvOptional,
            cred_random: None,
            sequence,
            u2f_app_param: Some(request.application),
            large_blob_key: None,
            cred_blob: None,
        };
        credential.key.drop_parsed();
        self.store
            .insert(credential)
            .map_err(|e| self.u2f_store_failed(e))?;
        Ok(RegisterResponse {
            public_key,
            key_handle: id,
            certificate,
            signature,
        })
    }

    /// `U2F_AUTHENTICATE`: check-only answers `SW_CONDITIONS_NOT_SATISFIED` for a key handle this
    /// authenticator holds for the application, `SW_WRONG_DATA` otherwise; the other two
    /// controls sign `application ‖ user presence ‖ counter ‖ challenge`, after a touch when
    /// presence is enforced.
    pub fn u2f_authenticate(
        &mut self,
        request: &AuthenticateRequest,
    ) -> Result<AuthenticateResponse, StatusWord> {
        if !self.config.u2f.speaks_u2f() {
            return Err(StatusWord::InsNotSupported);
        }
        self.pending = None;
        self.store_failure = None;
        self.store.refresh().map_err(|e| self.u2f_store_failed(e))?;
        let usable = self
            .store
            .get(&request.key_handle)
            .is_some_and(|c| u2f_usable(c, &request.application));
        if !usable {
            return Err(StatusWord::WrongData);
        }
        let rp_id = self
            .store
            .get(&request.key_handle)
            .map(|c| c.rp_id.clone())
            .unwrap_or_default();
        let user_presence = match request.control {
            Control::CheckOnly => return Err(StatusWord::ConditionsNotSatisfied),
            Control::EnforceUserPresence => {
                if self.user.presence(&rp_id) == Presence::Deny {
                    return Err(StatusWord::ConditionsNotSatisfied);
                }
                ctap1::USER_PRESENT
            }
            Control::DontEnforceUserPresence => 0,
        };
        let now = self.clock.now_ms();
        let policy = self.config.counter;
        let previous = self.store.get(&request.key_handle).map(|c| c.sign_count);
        self.store
            .update(&request.key_handle, &mut |c| {
                if policy == CounterPolicy::PerCredential {
                    c.sign_count = c.sign_count.wrapping_add(1);
                }
                c.last_used_ms = Some(now);
            })
            .map_err(|e| self.u2f_store_failed(e))?;
        let credential = self
            .store
            .get(&request.key_handle)
            .ok_or(StatusWord::WrongData)?;
        // The signed bytes start with what CTAP2 calls authenticatorData, so the flag and
        // counter faults edit them the same way.
        let mut signed = AuthenticateResponse::signed_data(
            &request.application,
            user_presence,
            credential.sign_count,
            &request.challenge,
        );
        // (`wrong-rp-id-hash` changes the signed application parameter; a WebAuthn client
        // applies the same change to the authenticatorData it builds.)
        self.faults.edit_auth_data(&mut signed, previous);
        let mut signature = self.signer.sign(&credential.key, &signed);
        self.faults.edit_signature(&mut signature);
        Ok(AuthenticateResponse {
            user_presence: signed[32],
            counter: u32::from_be_bytes([signed[33], signed[34], signed[35], signed[36]]),
            signature,
        })
    }

    /// The U2F attestation certificate: the configured one (a YubiKey uses the same for U2F
    /// and FIDO2), else a throwaway one made on first use from a throwaway test CA.
    fn u2f_attestation_cert(&mut self) -> Result<AttestationCert, StatusWord> {
        if let Some(cert) = &self.config.attestation_cert {
            return Ok(cert.clone());
        }
        if let Some(cert) = &self.u2f_cert {
            return Ok(cert.clone());
        }
        let ca = crate::attestation::AttestationCa::generate(&mut self.rng)
            .map_err(|_| StatusWord::Other)?;
        let cert = ca
            .issue_u2f("fauxkey", &mut self.rng)
            .map_err(|_| StatusWord::Other)?;
        self.u2f_cert = Some(cert.clone());
        Ok(cert)
    }

    fn u2f_store_failed(&mut self, e: crate::store::StoreError) -> StatusWord {
        // U2F has no status for a full or failed store; the cause is kept like CTAP2's.
        let _ = self.store_failed(e);
        StatusWord::Other
    }
}

/// Whether `c` answers U2F authenticate for `application`: registered over U2F for it, or an
/// ES256 CTAP2 credential of the RP whose SHA-256 it is, and not hidden or UV-only.
pub(super) fn u2f_usable(c: &Credential, application: &[u8; 32]) -> bool {
    let bound = match c.u2f_app_param {
        Some(app) => app == *application,
        None => Sha256::digest(c.rp_id.as_bytes()).as_slice() == application,
    };
    bound
        && !c.hidden
        && c.key.algorithm() == Algorithm::Es256
        && c.cred_protect != CredProtect::UvRequired
}

/// Whether `c` is bound to `rp_id` for CTAP2: by name, or (a U2F registration) by the SHA-256
/// of the name being its application parameter.
pub fn bound_to_rp(c: &Credential, rp_id: &str) -> bool {
    match c.u2f_app_param {
        Some(app) => Sha256::digest(rp_id.as_bytes()).as_slice() == app,
        None => c.rp_id == rp_id,
    }
}
