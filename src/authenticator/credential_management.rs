//! `authenticatorCredentialManagement` (CTAP 2.1 §6.8): metadata, enumerate RPs and
//! credentials, delete a credential, update a credential's user information. It sees the
//! discoverable credentials that are not hidden by a signal. Deletions and updates are logged as
//! `credentialManagement` events, like the signal API's changes.

use std::collections::VecDeque;

use sha2::{Digest, Sha256};

use super::Authenticator;
use crate::cbor;
use crate::crypto::pin_protocol::PinProtocol;
use crate::ctap2::client_pin::PERMISSION_CM;
use crate::ctap2::credential_management::{self as cm, Request, Response, RpEntity};
use crate::ctap2::{CredentialDescriptor, StatusCode, UserEntity};
use crate::store::{Change, Credential, CredentialStore, EventKind};

/// What the next `…GetNext…` subcommand returns.
pub(super) enum Enumeration {
    /// The RPs still to report.
    Rps(VecDeque<RpEntity>),
    /// The ids of the credentials still to report.
    Credentials(VecDeque<Vec<u8>>),
}

/// The number reported as "remaining" when the store has no limit.
const UNLIMITED: u64 = u32::MAX as u64;

impl<S: CredentialStore> Authenticator<S> {
    /// `authenticatorCredentialManagement`.
    pub fn credential_management(&mut self, request: Request) -> Result<Response, StatusCode> {
        self.pending = None;
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        match request.sub_command {
            cm::ENUMERATE_RPS_GET_NEXT_RP => return self.next_rp(),
            cm::ENUMERATE_CREDENTIALS_GET_NEXT => return self.next_credential(),
            cm::GET_CREDS_METADATA
            | cm::ENUMERATE_RPS_BEGIN
            | cm::ENUMERATE_CREDENTIALS_BEGIN
            | cm::DELETE_CREDENTIAL
            | cm::UPDATE_USER_INFORMATION => {}
            _ => return Err(StatusCode::InvalidSubcommand),
        }
        self.pin_uv.enumeration = None;
        // Step 2: the subcommands with parameters need them.
        let needs_params = matches!(
            request.sub_command,
            cm::ENUMERATE_CREDENTIALS_BEGIN | cm::DELETE_CREDENTIAL | cm::UPDATE_USER_INFORMATION
        );
        if needs_params && request.params.is_none() {
            return Err(StatusCode::MissingParameter);
        }
        // Steps 3–5: pinUvAuthParam = authenticate(token, subCommand ‖ subCommandParams).
        let param = request
            .pin_uv_auth_param
            .as_deref()
            .ok_or(StatusCode::PuatRequired)?;
        let protocol = request
            .pin_uv_auth_protocol
            .ok_or(StatusCode::MissingParameter)?;
        let protocol = PinProtocol::from_number(protocol).ok_or(StatusCode::InvalidParameter)?;
        // The sub-command is one of the values above, all below 0x100.
        let mut message = vec![request.sub_command as u8];
        if let Some(p) = &request.params {
            cbor::encode_into(p, &mut message);
        }
        let bound_rp = self.verify_pin_uv_auth(protocol, &message, param, PERMISSION_CM, None)?;
        let rp_allowed = |rp_id: &str| bound_rp.as_deref().is_none_or(|b| b == rp_id);

        match request.sub_command {
            cm::GET_CREDS_METADATA | cm::ENUMERATE_RPS_BEGIN if bound_rp.is_some() => {
                Err(StatusCode::PinAuthInvalid)
            }
            cm::GET_CREDS_METADATA => {
                let count = self.managed().count() as u64;
                let remaining = self
                    .store
                    .capacity()
                    .map_or(UNLIMITED, |cap| cap.saturating_sub(self.store.len()) as u64);
                Ok(Response {
                    existing_resident_credentials_count: Some(count),
                    max_possible_remaining_resident_credentials_count: Some(remaining),
                    ..Response::default()
                })
            }
            cm::ENUMERATE_RPS_BEGIN => {
                let mut rps: Vec<RpEntity> = Vec::new();
                let mut managed: Vec<&Credential> = self.managed().collect();
                managed.sort_by(|a, b| (&a.rp_id, a.sequence).cmp(&(&b.rp_id, b.sequence)));
                for c in managed {
                    match rps.last_mut() {
                        Some(last) if last.id == c.rp_id => {
                            last.name = last.name.take().or_else(|| c.rp_name.clone());
                        }
                        _ => rps.push(RpEntity {
                            id: c.rp_id.clone(),
                            name: c.rp_name.clone(),
                        }),
                    }
                }
                let total = rps.len() as u64;
                let mut rps = VecDeque::from(rps);
                let first = rps.pop_front().ok_or(StatusCode::NoCredentials)?;
                self.pin_uv.enumeration = Some(Enumeration::Rps(rps));
                Ok(Response {
                    total_rps: Some(total),
                    ..rp_response(first)
                })
            }
            cm::ENUMERATE_CREDENTIALS_BEGIN => {
                let hash = request
                    .rp_id_hash
                    .as_deref()
                    .ok_or(StatusCode::MissingParameter)?;
                let mut found: Vec<&Credential> = self
                    .managed()
                    .filter(|c| Sha256::digest(c.rp_id.as_bytes()).as_slice() == hash)
                    .collect();
                if found.iter().any(|c| !rp_allowed(&c.rp_id)) {
                    return Err(StatusCode::PinAuthInvalid);
                }
                found.sort_by_key(|c| c.sequence);
                let total = found.len() as u64;
                let mut ids: VecDeque<Vec<u8>> = found.iter().map(|c| c.id.clone()).collect();
                let first = ids.pop_front().ok_or(StatusCode::NoCredentials)?;
                self.pin_uv.enumeration = Some(Enumeration::Credentials(ids));
                let c = self.store.get(&first).ok_or(StatusCode::NoCredentials)?;
                Ok(Response {
                    total_credentials: Some(total),
                    ..credential_response(c)
                })
            }
            cm::DELETE_CREDENTIAL => {
                let id = &request
                    .credential_id
                    .as_ref()
                    .ok_or(StatusCode::MissingParameter)?
                    .id;
                let c = self.managed_credential(id)?;
                if !rp_allowed(&c.rp_id) {
                    return Err(StatusCode::PinAuthInvalid);
                }
                let (rp_id, user) = (c.rp_id.clone(), c.user_handle.clone());
                self.record(
                    EventKind::CredentialManagement,
                    &rp_id,
                    Some(&user),
                    vec![id.clone()],
                    vec![Change::Remove { id: id.clone() }],
                )?;
                Ok(Response::default())
            }
            _ => {
                // updateUserInformation
                let id = &request
                    .credential_id
                    .as_ref()
                    .ok_or(StatusCode::MissingParameter)?
                    .id;
                let user = request.user.as_ref().ok_or(StatusCode::MissingParameter)?;
                let c = self.managed_credential(id)?;
                if !rp_allowed(&c.rp_id) {
                    return Err(StatusCode::PinAuthInvalid);
                }
                // The user handle cannot change.
                if c.user_handle != user.id {
                    return Err(StatusCode::InvalidParameter);
                }
                let rp_id = c.rp_id.clone();
                // Absent fields are cleared (stored as empty strings).
                let change = Change::Rename {
                    id: id.clone(),
                    name: user.name.clone().unwrap_or_default(),
                    display_name: user.display_name.clone().unwrap_or_default(),
                };
                self.record(
                    EventKind::CredentialManagement,
                    &rp_id,
                    Some(&user.id),
                    vec![id.clone()],
                    vec![change],
                )?;
                Ok(Response::default())
            }
        }
    }

    /// The credentials credential management sees: discoverable, not hidden.
    fn managed(&self) -> impl Iterator<Item = &Credential> {
        self.store.all().filter(|c| c.discoverable && !c.hidden)
    }

    fn managed_credential(&self, id: &[u8]) -> Result<&Credential, StatusCode> {
        self.store
            .get(id)
            .filter(|c| c.discoverable && !c.hidden)
            .ok_or(StatusCode::NoCredentials)
    }

    fn next_rp(&mut self) -> Result<Response, StatusCode> {
        match &mut self.pin_uv.enumeration {
            Some(Enumeration::Rps(rps)) => rps
                .pop_front()
                .map(rp_response)
                .ok_or(StatusCode::NotAllowed),
            _ => Err(StatusCode::NotAllowed),
        }
    }

    fn next_credential(&mut self) -> Result<Response, StatusCode> {
        loop {
            let id = match &mut self.pin_uv.enumeration {
                Some(Enumeration::Credentials(ids)) => {
                    ids.pop_front().ok_or(StatusCode::NotAllowed)?
                }
                _ => return Err(StatusCode::NotAllowed),
            };
            // A credential deleted meanwhile is skipped.
            if let Ok(c) = self.managed_credential(&id) {
                return Ok(credential_response(c));
            }
        }
    }
}

fn rp_response(rp: RpEntity) -> Response {
    Response {
        rp_id_hash: Some(Sha256::digest(rp.id.as_bytes()).to_vec()),
        rp: Some(rp),
        ..Response::default()
    }
}

fn credential_response(c: &Credential) -> Response {
    Response {
        user: Some(UserEntity {
            id: c.user_handle.clone(),
            name: c.user_name.clone(),
            display_name: c.user_display_name.clone(),
        }),
        credential_id: Some(CredentialDescriptor::public_key(c.id.clone())),
        public_key: Some(c.key.public_key().cose()),
        cred_protect: Some(c.cred_protect.level()),
        ..Response::default()
    }
}
