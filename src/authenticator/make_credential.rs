//! `authenticatorMakeCredential` (CTAP 2.1 §6.1.2), step by step.

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use super::{AttestationMode, Authenticator, CounterPolicy, CredentialIdFormat};
use crate::cbor;
use crate::crypto::keys::{Algorithm, PrivateKey};
use crate::ctap2::auth_data::{AttestedCredentialData, AuthenticatorData, Flags};
use crate::ctap2::make_credential::{Request, Response};
use crate::ctap2::StatusCode;
use crate::env::Presence;
use crate::store::{
    CredProtect, CredRandom, Credential, CredentialStore, LargeBlobKey, StoreError,
};

impl<S: CredentialStore> Authenticator<S> {
    /// `authenticatorMakeCredential`.
    pub fn make_credential(&mut self, request: Request) -> Result<Response, StatusCode> {
        self.make_credential_with(request, true)
    }

    /// makeCredential without a user presence test (UP=0 in the authenticator data) and
    /// without built-in user verification: what a WebAuthn L3 conditional create (the
    /// automatic passkey upgrade after a password sign-in) asks of a passkey provider. Not
    /// reachable from the CTAP wire, where `up: false` stays `CTAP2_ERR_INVALID_OPTION`. An
    /// excluded credential is `CredentialExcluded` at once (no gesture is collected).
    pub fn make_credential_without_presence(
        &mut self,
        request: Request,
    ) -> Result<Response, StatusCode> {
        self.make_credential_with(request, false)
    }

    fn make_credential_with(
        &mut self,
        request: Request,
        presence: bool,
    ) -> Result<Response, StatusCode> {
        self.pending = None;
        self.store_failure = None;
        let rp_id = request.rp.id.clone();
        // Another process may have changed a shared store (the vault) since we last looked.
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        self.sequence = self.sequence.max(self.store.max_sequence());

        // Steps 1–2: pinUvAuthParam (a token from the PIN or built-in UV).
        let token_uv = self.check_pin_uv_auth(
            &rp_id,
            &request.client_data_hash,
            request.pin_uv_auth_param.as_deref(),
            request.pin_uv_auth_protocol,
            crate::ctap2::client_pin::PERMISSION_MC,
        )?;

        // Step 3: the first supported algorithm in the RP's order of preference.
        let alg = request
            .pub_key_cred_params
            .iter()
            .filter(|p| p.type_ == "public-key")
            .filter_map(|p| Algorithm::from_cose_id(p.alg))
            .find(|a| self.config.algorithms.contains(a))
            .ok_or(StatusCode::UnsupportedAlgorithm)?;

        // Step 4: options. Unknown options were ignored by the decoder.
        if request.options.up == Some(false) {
            return Err(StatusCode::InvalidOption);
        }
        let rk = request.options.rk == Some(true);
        if rk && !self.config.resident_keys {
            return Err(StatusCode::UnsupportedOption);
        }
        let mut uv_requested = request.options.uv == Some(true);
        if uv_requested && !self.user.uv_capable() {
            return Err(StatusCode::InvalidOption);
        }
        let state = self.store.device_state();
        if !token_uv && !uv_requested {
            // Step 4 (alwaysUv): built-in UV if there is one, else a token is needed.
            if state.always_uv {
                if !self.user.uv_capable() {
                    return Err(StatusCode::PuatRequired);
                }
                uv_requested = true;
            // Step 6: with a PIN set, a token is needed (fauxkey does not claim
            // makeCredUvNotRqd). Without one, built-in UV stays optional, as before PINs existed.
            } else if state.pin_set() {
                return Err(StatusCode::PuatRequired);
            }
        }

        // Step 6: enterprise attestation only once enabled by authenticatorConfig.
        if let Some(ep) = request.enterprise_attestation {
            if !(self.enterprise_attestation_supported() && state.enterprise_attestation) {
                return Err(StatusCode::InvalidParameter);
            }
            if !(1..=2).contains(&ep) {
                return Err(StatusCode::InvalidOption);
            }
        }

        // Step 5 (extensions whose bad input fails before any gesture): largeBlobKey must be
        // true and needs a discoverable credential (CTAP 2.1 §12.3); hmac-secret-mc's salts
        // must decrypt (CTAP 2.2 §12.7). Unsupported extensions are ignored.
        let want_large_blob_key = match request.extensions.large_blob_key {
            Some(_) if !self.large_blobs_supported() => false,
            Some(false) => return Err(StatusCode::InvalidOption),
            Some(true) if !rk => return Err(StatusCode::InvalidOption),
            Some(true) => true,
            None => false,
        };
        let want_hmac_secret = request.extensions.hmac_secret == Some(true)
            && self.config.supports_extension("hmac-secret");
        let mc_salts = match &request.extensions.hmac_secret_mc {
            Some(input) if want_hmac_secret && self.config.supports_extension("hmac-secret-mc") => {
                let key = self.key_agreement_key();
                Some(super::hmac_secret::decrypt_salts(key, input)?)
            }
            _ => None,
        };

        // Step 11: built-in user verification, when asked for (a pinUvAuthToken counts as UV;
        // providers that always verify do so on every ceremony).
        let uv = if token_uv {
            true
        } else if uv_requested || (presence && self.config.always_uv && self.user.uv_capable()) {
            if !self.user.verify(&rp_id) {
                return Err(StatusCode::OperationDenied);
            }
            true
        } else {
            false
        };

        // Step 12: the exclude list. A credProtect=3 credential only counts once UV is done.
        let excluded = request.exclude_list.iter().any(|d| {
            self.store.get(&d.id).is_some_and(|c| {
                super::u2f::bound_to_rp(c, &rp_id)
                    && (c.cred_protect != CredProtect::UvRequired || uv)
            })
        });
        if excluded && !presence {
            return Err(StatusCode::CredentialExcluded);
        }
        if excluded {
            // Collect a gesture first, so the RP learns nothing without the user's consent.
            return match self.user.presence(&rp_id) {
                Presence::Approve => Err(StatusCode::CredentialExcluded),
                Presence::Deny => Err(StatusCode::OperationDenied),
            };
        }

        // Step 14: user presence. Once it is collected, a token that was used keeps only `lbw`.
        if presence && self.user.presence(&rp_id) == Presence::Deny {
            return Err(StatusCode::OperationDenied);
        }
        if token_uv {
            self.token_used_for_ceremony();
        }

        // Step 15: extensions (outputs only for inputs we processed).
        let mut ext_out: Vec<(&str, Value)> = Vec::new();
        let cred_protect_input = request
            .extensions
            .cred_protect
            .filter(|_| self.config.supports_extension("credProtect"));
        let cred_protect = match cred_protect_input.map(CredProtect::from_level) {
            Some(Some(level)) => {
                ext_out.push(("credProtect", Value::Integer(level.level().into())));
                level
            }
            // An unknown level is ignored, like an unknown extension.
            Some(None) | None => CredProtect::UvOptional,
        };
        let cred_random = if want_hmac_secret {
            let mut r = CredRandom {
                with_uv: [0; 32],
                without_uv: [0; 32],
            };
            self.rng.fill_bytes(&mut r.with_uv);
            self.rng.fill_bytes(&mut r.without_uv);
            ext_out.push(("hmac-secret", Value::Bool(true)));
            // hmac-secret-mc: the salts evaluated now, encrypted as at getAssertion.
            if let Some(salts) = &mc_salts {
                let out = super::hmac_secret::encrypted_output(&r, salts, uv, self.rng.as_mut())?;
                ext_out.push(("hmac-secret-mc", Value::Bytes(out)));
            }
            Some(r)
        } else {
            None
        };
        // credBlob (CTAP 2.1 §12.2): kept if it fits; the output says whether it was.
        let cred_blob = match &request.extensions.cred_blob {
            Some(blob) if self.config.supports_extension("credBlob") => {
                let fits = blob.len() <= super::MAX_CRED_BLOB_LENGTH;
                ext_out.push(("credBlob", Value::Bool(fits)));
                fits.then(|| blob.clone())
            }
            _ => None,
        };
        // minPinLength (CTAP 2.1 §12.4): only for an RP ID setMinPINLength allowed.
        if request.extensions.min_pin_length == Some(true)
            && self.config.supports_extension("minPinLength")
            && state.min_pin_length_rp_ids.contains(&rp_id)
        {
            ext_out.push((
                "minPinLength",
                Value::Integer(u64::from(state.min_pin_length).into()),
            ));
        }
        // largeBlobKey (CTAP 2.1 §12.3): a fresh key, returned outside authenticatorData.
        let large_blob_key = want_large_blob_key.then(|| {
            let mut k = [0u8; 32];
            self.rng.fill_bytes(&mut k);
            LargeBlobKey(k)
        });

        // Step 16: generate the credential.
        let key = self.signer.generate(alg, self.rng.as_mut());
        let id = match self.config.credential_id_format {
            CredentialIdFormat::Random => {
                let mut id = vec![0u8; self.config.credential_id_length.clamp(16, 64)];
                self.rng.fill_bytes(&mut id);
                id
            }
            CredentialIdFormat::UuidBytes | CredentialIdFormat::UuidText => {
                let mut bytes = [0u8; 16];
                self.rng.fill_bytes(&mut bytes);
                let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
                if self.config.credential_id_format == CredentialIdFormat::UuidBytes {
                    uuid.as_bytes().to_vec()
                } else {
                    uuid.hyphenated().to_string().into_bytes()
                }
            }
        };
        let backup_eligible = self.config.backup_eligible;
        let backup_state = backup_eligible && self.config.backup_state;
        let public_key_cose = key.public_cose_bytes();
        let sequence = self.next_sequence();
        let mut credential = Credential {
            id: id.clone(),
            rp_id: rp_id.clone(),
            rp_name: request.rp.name.clone(),
            user_handle: request.user.id.clone(),
            user_name: request.user.name.clone(),
            user_display_name: request.user.display_name.clone(),
            key,
            discoverable: rk,
            sign_count: 0,
            backup_eligible,
            backup_state,
            created_ms: self.clock.now_ms(),
            last_used_ms: None,
            hidden: false,
            hidden_at_ms: None,
            cred_protect,
            cred_random,
            large_blob_key: large_blob_key.clone(),
            cred_blob,
            sequence,
            u2f_app_param: None,
        };

        // Step 17: a discoverable credential replaces the one for the same (rpId, user handle).
        let mut replaced = Vec::new();
        if rk {
            let same_user: Vec<Vec<u8>> = self
                .store
                .ids_for_user(&rp_id, &request.user.id)
                .into_iter()
                .filter(|i| self.store.get(i).is_some_and(|c| c.discoverable))
                .collect();
            replaced = same_user;
        }
        // Sign before the store takes the key (packed self attestation needs it).
        let mut flags = if presence { Flags::UP } else { 0 };
        if uv {
            flags |= Flags::UV;
        }
        // A provider that has not synced yet reports BE=BS=0 at creation only.
        if backup_eligible && !self.config.unsynced_at_creation {
            flags |= Flags::BE;
        }
        if backup_state && !self.config.unsynced_at_creation {
            flags |= Flags::BS;
        }
        let mut auth_data = AuthenticatorData {
            rp_id_hash: Sha256::digest(rp_id.as_bytes()).into(),
            flags: Flags(flags),
            sign_count: match self.config.counter {
                CounterPolicy::PerCredential | CounterPolicy::AlwaysZero => 0,
            },
            attested: Some(AttestedCredentialData {
                aaguid: *self.config.aaguid.as_bytes(),
                credential_id: id,
                public_key_cose,
            }),
            extensions: (!ext_out.is_empty()).then(|| cbor::map(ext_out)),
        }
        .to_bytes();
        self.faults.edit_auth_data(&mut auth_data, None);

        // Step 19: attestation, honouring attestationFormatsPreference (CTAP 2.2) when given.
        // `packed` means this authenticator's own packed kind (basic with x5c, else self).
        let packed = match self.config.attestation {
            AttestationMode::Packed => AttestationMode::Packed,
            _ => AttestationMode::PackedSelf,
        };
        let mode = match &request.attestation_formats_preference {
            _ if self.config.attestation == AttestationMode::AlwaysNone => AttestationMode::None,
            Some(prefs) => prefs
                .iter()
                .find_map(|f| match f.as_str() {
                    "none" => Some(AttestationMode::None),
                    "packed" => Some(packed),
                    "tpm" if self.config.attestation == AttestationMode::Tpm => {
                        Some(AttestationMode::Tpm)
                    }
                    "android-key" if self.config.attestation == AttestationMode::AndroidKey => {
                        Some(AttestationMode::AndroidKey)
                    }
                    "apple" if self.config.attestation == AttestationMode::Apple => {
                        Some(AttestationMode::Apple)
                    }
                    "compound" if self.config.attestation == AttestationMode::Compound => {
                        Some(AttestationMode::Compound)
                    }
                    _ => None,
                })
                .unwrap_or(self.config.attestation),
            None => self.config.attestation,
        };
        let (fmt, att_stmt) = if mode == AttestationMode::Compound {
            self.compound_statement(&credential.key, alg, &auth_data, &request.client_data_hash)?
        } else {
            self.statement(
                mode,
                &credential.key,
                alg,
                &auth_data,
                &request.client_data_hash,
            )?
        };
        let mut att_stmt = att_stmt;
        if let Value::Map(entries) = &mut att_stmt {
            for (key, value) in entries.iter_mut() {
                if let (Some("sig"), Value::Bytes(sig)) = (key.as_text(), value) {
                    self.faults.edit_signature(sig);
                }
            }
        }
        // A compound statement's members carry the signatures.
        if let Value::Array(members) = &mut att_stmt {
            for member in members.iter_mut() {
                let Value::Map(fields) = member else { continue };
                for (name, stmt) in fields.iter_mut() {
                    let (Some("attStmt"), Value::Map(entries)) = (name.as_text(), stmt) else {
                        continue;
                    };
                    for (key, value) in entries.iter_mut() {
                        if let (Some("sig"), Value::Bytes(sig)) = (key.as_text(), value) {
                            self.faults.edit_signature(sig);
                        }
                    }
                }
            }
        }
        // The store keeps the 32-byte secret; the parsed key is rebuilt on the first assertion.
        credential.key.drop_parsed();
        self.store
            .insert_replacing(credential, &replaced)
            .map_err(|e| self.store_failed(e))?;
        Ok(Response {
            fmt: fmt.into(),
            auth_data,
            att_stmt,
            large_blob_key: large_blob_key.map(|k| k.0.to_vec()),
        })
    }
}

impl<S: CredentialStore> Authenticator<S> {
    /// One complete statement `(fmt, attStmt)` of `mode` (not compound) for a credential with
    /// `key` over `auth_data ‖ client_data_hash`.
    fn statement(
        &mut self,
        mode: AttestationMode,
        key: &PrivateKey,
        alg: Algorithm,
        auth_data: &[u8],
        client_data_hash: &[u8],
    ) -> Result<(&'static str, Value), StatusCode> {
        let basic = match (mode, &self.config.attestation_cert) {
            (AttestationMode::Packed, Some(cert)) => Some(cert),
            _ => None,
        };
        // `tpm`: the AIK signs certInfo over this credential's pubArea (None for EdDSA).
        let tpm = match (mode, &self.config.attestation_cert) {
            (AttestationMode::Tpm, Some(aik)) => {
                let signed = [auth_data, client_data_hash].concat();
                crate::attestation::tpm::statement(
                    aik,
                    &self.signer,
                    &key.public_key(),
                    &signed,
                    self.clock.now_ms(),
                )
            }
            _ => None,
        };
        // `android-key`: the intermediate certifies this credential's key (None for EdDSA).
        let android = match (mode, &self.config.attestation_cert) {
            (AttestationMode::AndroidKey, Some(issuer)) => {
                crate::attestation::android_key::statement(
                    issuer,
                    &self.signer,
                    key,
                    auth_data,
                    client_data_hash,
                    self.clock.now_ms(),
                    &mut self.rng,
                )
                .map_err(|_| StatusCode::Other)?
            }
            _ => None,
        };
        // `apple`: a leaf for this credential's key, its nonce over authData ‖ clientDataHash.
        let apple = match (mode, &self.config.attestation_cert) {
            (AttestationMode::Apple, Some(issuer)) => crate::attestation::apple::statement(
                issuer,
                &key.public_key(),
                auth_data,
                client_data_hash,
                &mut self.rng,
            )
            .map(Some)
            // A stored issuer that cannot sign is a broken vault, not a reason to attest less.
            .map_err(|_| StatusCode::Other)?,
            _ => None,
        };
        let (fmt, att_stmt) = match mode {
            AttestationMode::Tpm if tpm.is_some() => ("tpm", tpm.ok_or(StatusCode::Other)?),
            AttestationMode::AndroidKey if android.is_some() => {
                ("android-key", android.ok_or(StatusCode::Other)?)
            }
            AttestationMode::Apple if apple.is_some() => ("apple", apple.ok_or(StatusCode::Other)?),
            AttestationMode::None | AttestationMode::AlwaysNone => {
                ("none", cbor::map(Vec::<(&str, Value)>::new()))
            }
            // Basic attestation (WebAuthn L3 §8.2): sig by the attestation key over
            // authData ‖ clientDataHash, the certificate chain in x5c.
            AttestationMode::Packed if basic.is_some() => {
                let cert = basic.ok_or(StatusCode::Other)?;
                let signed = [auth_data, client_data_hash].concat();
                let sig = self.signer.sign(cert.key(), &signed);
                let x5c = cert.chain().iter().cloned().map(Value::Bytes).collect();
                (
                    "packed",
                    cbor::map([
                        (
                            "alg",
                            Value::Integer(cert.key().algorithm().cose_id().into()),
                        ),
                        ("sig", Value::Bytes(sig)),
                        ("x5c", Value::Array(x5c)),
                    ]),
                )
            }
            AttestationMode::Packed
            | AttestationMode::PackedSelf
            | AttestationMode::Tpm
            | AttestationMode::AndroidKey
            | AttestationMode::Apple
            | AttestationMode::Compound => {
                let signed = [auth_data, client_data_hash].concat();
                let sig = self.signer.sign(key, &signed);
                (
                    "packed",
                    cbor::map([
                        ("alg", Value::Integer(alg.cose_id().into())),
                        ("sig", Value::Bytes(sig)),
                    ]),
                )
            }
        };
        Ok((fmt, att_stmt))
    }

    /// The `compound` statement (WebAuthn L3 §8.9): `[{fmt, attStmt}, …]`, one member per
    /// mode in [`super::Config::compound_members`] (see [`AttestationMode::Compound`] for
    /// members that cannot be produced).
    fn compound_statement(
        &mut self,
        key: &PrivateKey,
        alg: Algorithm,
        auth_data: &[u8],
        client_data_hash: &[u8],
    ) -> Result<(&'static str, Value), StatusCode> {
        let mut members: Vec<(&'static str, Value)> = Vec::new();
        for mode in self.config.compound_members.clone() {
            if matches!(
                mode,
                AttestationMode::Compound | AttestationMode::None | AttestationMode::AlwaysNone
            ) {
                continue;
            }
            let (fmt, stmt) = self.statement(mode, key, alg, auth_data, client_data_hash)?;
            if members.iter().all(|(f, _)| *f != fmt) {
                members.push((fmt, stmt));
            }
        }
        if members.len() < 2 {
            return match members.pop() {
                Some(only) => Ok(only),
                None => self.statement(
                    AttestationMode::PackedSelf,
                    key,
                    alg,
                    auth_data,
                    client_data_hash,
                ),
            };
        }
        let array = members
            .into_iter()
            .map(|(fmt, stmt)| cbor::map([("fmt", Value::Text(fmt.into())), ("attStmt", stmt)]))
            .collect();
        Ok(("compound", Value::Array(array)))
    }

    /// The CTAP status for a storage failure (`KeyStoreFull` for a full store, else `Other`:
    /// CTAP has no status for an I/O error). Any other failure is kept for
    /// [`Authenticator::take_store_failure`], so a caller above the wire (the WebAuthn client)
    /// can report it as what it is, with its OS cause, instead of as a refusal.
    pub(super) fn store_failed(&mut self, e: StoreError) -> StatusCode {
        match e {
            StoreError::Full => StatusCode::KeyStoreFull,
            other => {
                self.store_failure = Some(other);
                StatusCode::Other
            }
        }
    }

    /// The storage failure behind the last command's `Other` status, if there was one (taken:
    /// a second call returns `None`). Cleared when the next command starts.
    pub fn take_store_failure(&mut self) -> Option<StoreError> {
        self.store_failure.take()
    }
}
