//! `authenticatorGetAssertion` (CTAP 2.1 §6.2.2) and `authenticatorGetNextAssertion` (§6.3).

use std::collections::VecDeque;

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use super::{
    hmac_secret, Authenticator, CounterPolicy, PendingAssertions, NEXT_ASSERTION_WINDOW_MS,
};
use crate::ctap2::auth_data::{AuthenticatorData, Flags};
use crate::ctap2::get_assertion::{Request, Response};
use crate::ctap2::{CredentialDescriptor, StatusCode, UserEntity};
use crate::env::Presence;
use crate::store::{CredProtect, CredentialStore};

impl<S: CredentialStore> Authenticator<S> {
    /// `authenticatorGetAssertion`.
    pub fn get_assertion(&mut self, request: Request) -> Result<Response, StatusCode> {
        self.pending = None;
        self.store_failure = None;
        let rp_id = request.rp_id.clone();
        // Another process may have changed a shared store (the vault) since we last looked.
        self.store.refresh().map_err(|e| self.store_failed(e))?;

        // Steps 1–2: pinUvAuthParam (a token from the PIN or built-in UV).
        let token_uv = self.check_pin_uv_auth(
            &rp_id,
            &request.client_data_hash,
            request.pin_uv_auth_param.as_deref(),
            request.pin_uv_auth_protocol,
            crate::ctap2::client_pin::PERMISSION_GA,
        )?;

        // Step 5: options. `rk` is not an option of getAssertion.
        if request.options.rk.is_some() {
            return Err(StatusCode::UnsupportedOption);
        }
        let up = request.options.up.unwrap_or(true);
        let mut uv_requested = request.options.uv == Some(true);
        if uv_requested && !self.user.uv_capable() {
            return Err(StatusCode::InvalidOption);
        }
        // Step 5 (alwaysUv): built-in UV if there is one, else a token is needed.
        if !token_uv && !uv_requested && up && self.store.device_state().always_uv {
            if !self.user.uv_capable() {
                return Err(StatusCode::PuatRequired);
            }
            uv_requested = true;
        }

        // Step 7: largeBlobKey (CTAP 2.1 §12.3) must be true when given; credBlob (§12.2) and
        // largeBlobKey are ignored, like unknown extensions, where not supported.
        let mut extensions = request.extensions;
        if !self.large_blobs_supported() {
            extensions.large_blob_key = None;
        } else if extensions.large_blob_key == Some(false) {
            return Err(StatusCode::InvalidOption);
        }
        if !self.config.supports_extension("credBlob") {
            extensions.cred_blob = None;
        }
        // Step 7: the hmac-secret input is checked before any gesture.
        let hmac_input = request
            .hmac_secret
            .as_ref()
            .filter(|_| self.config.supports_extension("hmac-secret"));
        let salts = match hmac_input {
            Some(input) => {
                // hmac-secret needs user presence (CTAP 2.1 §12.5).
                if !up {
                    return Err(StatusCode::UnsupportedOption);
                }
                let key = self.key_agreement_key();
                Some(hmac_secret::decrypt_salts(key, input)?)
            }
            None => None,
        };

        // Step 9: built-in user verification (a pinUvAuthToken counts as UV; providers that always
        // verify do so on every ceremony with a gesture).
        let uv = if token_uv {
            true
        } else if uv_requested || (self.config.always_uv && up && self.user.uv_capable()) {
            if !self.user.verify(&rp_id) {
                return Err(StatusCode::OperationDenied);
            }
            true
        } else {
            false
        };

        // Step 10: collect the applicable credentials.
        let allow_list = !request.allow_list.is_empty();
        let mut applicable: Vec<Vec<u8>> = if allow_list {
            let mut ids: Vec<Vec<u8>> = Vec::new();
            for d in request
                .allow_list
                .iter()
                .filter(|d| d.type_ == "public-key")
            {
                if !ids.contains(&d.id) {
                    ids.push(d.id.clone());
                }
            }
            ids.retain(|id| {
                self.store.get(id).is_some_and(|c| {
                    // A U2F registration is bound by its application parameter.
                    super::u2f::bound_to_rp(c, &rp_id)
                        && !c.hidden
                        && (c.cred_protect != CredProtect::UvRequired || uv)
                })
            });
            ids
        } else {
            let mut creds: Vec<(u64, u64, Vec<u8>)> = self
                .store
                .ids_for_rp(&rp_id)
                .into_iter()
                .filter_map(|id| {
                    let c = self.store.get(&id)?;
                    // Without an allow list, credProtect 2 and 3 need UV.
                    let protected = c.cred_protect != CredProtect::UvOptional && !uv;
                    (c.discoverable && !c.hidden && !protected).then_some((
                        c.created_ms,
                        c.sequence,
                        id,
                    ))
                })
                .collect();
            // Step 11 (no display): newest first.
            creds.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
            creds.into_iter().map(|(_, _, id)| id).collect()
        };
        if applicable.is_empty() {
            return Err(StatusCode::NoCredentials);
        }

        // Step 12: user presence, unless the RP asked for a silent check.
        if up && self.user.presence(&rp_id) == Presence::Deny {
            return Err(StatusCode::OperationDenied);
        }
        // Once presence is collected, a token that was used keeps only `lbw` (a silent
        // pre-flight with up=false leaves it as it was).
        if up && token_uv {
            self.token_used_for_ceremony();
        }

        // Step 11, with a display: the user picks the account on the authenticator itself.
        let chosen_on_authenticator =
            !allow_list && applicable.len() > 1 && self.config.account_chooser;
        if chosen_on_authenticator {
            let users: Vec<UserEntity> = applicable
                .iter()
                .filter_map(|id| self.store.get(id))
                .map(|c| UserEntity {
                    id: c.user_handle.clone(),
                    name: c.user_name.clone(),
                    display_name: c.user_display_name.clone(),
                })
                .collect();
            let index = self
                .user
                .choose_account(&users)
                .ok_or(StatusCode::OperationDenied)?;
            if index >= applicable.len() {
                return Err(StatusCode::OperationDenied);
            }
            applicable = vec![applicable.swap_remove(index)];
        }

        let count = applicable.len();
        let first = applicable.remove(0);
        let mut pending = PendingAssertions {
            rp_id,
            client_data_hash: request.client_data_hash,
            remaining: VecDeque::from(applicable),
            flags_uv: uv,
            flags_up: up,
            hmac_salts: salts,
            extensions,
            last_ms: self.clock.now_ms(),
        };
        let mut response = self.sign_assertion(&first, &mut pending)?;
        if chosen_on_authenticator {
            response.user_selected = Some(true);
        }
        if !allow_list && count > 1 {
            response.number_of_credentials = Some(count as u32);
            self.pending = Some(pending);
        }
        Ok(response)
    }

    /// `authenticatorGetNextAssertion`: the next credential of the last discoverable request.
    pub fn get_next_assertion(&mut self) -> Result<Response, StatusCode> {
        let mut pending = self.pending.take().ok_or(StatusCode::NotAllowed)?;
        // Step 3–4: the state expires 30 seconds after the previous assertion.
        let now = self.clock.now_ms();
        if now.saturating_sub(pending.last_ms) > NEXT_ASSERTION_WINDOW_MS {
            return Err(StatusCode::NotAllowed);
        }
        let id = pending
            .remaining
            .pop_front()
            .ok_or(StatusCode::NotAllowed)?;
        pending.last_ms = now;
        let response = self.sign_assertion(&id, &mut pending)?;
        if !pending.remaining.is_empty() {
            self.pending = Some(pending);
        }
        Ok(response)
    }

    /// Steps 13–14: bump the counter, build authenticatorData, sign.
    fn sign_assertion(
        &mut self,
        id: &[u8],
        p: &mut PendingAssertions,
    ) -> Result<Response, StatusCode> {
        let now = self.clock.now_ms();
        let policy = self.config.counter;
        let previous_count = self.store.get(id).map(|c| c.sign_count);
        self.store
            .update(id, &mut |c| {
                if policy == CounterPolicy::PerCredential {
                    c.sign_count = c.sign_count.wrapping_add(1);
                }
                c.last_used_ms = Some(now);
            })
            .map_err(|e| self.store_failed(e))?;
        let credential = self.store.get(id).ok_or(StatusCode::NoCredentials)?;

        let hmac = match &p.hmac_salts {
            Some(salts) => hmac_secret::output(credential, salts, p.flags_uv, self.rng.as_mut())?,
            None => None,
        };
        let mut ext_out: Vec<(Value, Value)> = match hmac {
            Some(Value::Map(m)) => m,
            _ => Vec::new(),
        };
        // credBlob: the stored bytes, or an empty byte string (CTAP 2.1 §12.2).
        if p.extensions.cred_blob == Some(true) {
            ext_out.push((
                Value::Text("credBlob".into()),
                Value::Bytes(credential.cred_blob.clone().unwrap_or_default()),
            ));
        }
        let extensions = (!ext_out.is_empty()).then(|| crate::cbor::map(ext_out));
        let mut flags = 0u8;
        if p.flags_up {
            flags |= Flags::UP;
        }
        if p.flags_uv {
            flags |= Flags::UV;
        }
        if credential.backup_eligible {
            flags |= Flags::BE;
            if credential.backup_state {
                flags |= Flags::BS;
            }
        }
        let mut auth_data = AuthenticatorData {
            rp_id_hash: Sha256::digest(p.rp_id.as_bytes()).into(),
            flags: Flags(flags),
            sign_count: credential.sign_count,
            attested: None,
            extensions,
        }
        .to_bytes();
        self.faults.edit_auth_data(&mut auth_data, previous_count);
        let mut signature = self.signer.sign(
            &credential.key,
            &[auth_data.as_slice(), &p.client_data_hash].concat(),
        );
        self.faults.edit_signature(&mut signature);
        // User details leave the authenticator only after UV (CTAP 2.1 §6.2.2 step 14).
        let user = credential.discoverable.then(|| UserEntity {
            id: credential.user_handle.clone(),
            name: if p.flags_uv {
                credential.user_name.clone()
            } else {
                None
            },
            display_name: if p.flags_uv {
                credential.user_display_name.clone()
            } else {
                None
            },
        });
        Ok(Response {
            credential: CredentialDescriptor::public_key(credential.id.clone()),
            auth_data,
            signature,
            user,
            number_of_credentials: None,
            user_selected: None,
            large_blob_key: credential
                .large_blob_key
                .as_ref()
                .filter(|_| p.extensions.large_blob_key == Some(true))
                .map(|k| k.0.to_vec()),
        })
    }
}
