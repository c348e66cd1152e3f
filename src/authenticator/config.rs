//! `authenticatorConfig` (CTAP 2.1 §6.11): enableEnterpriseAttestation, toggleAlwaysUv and
//! setMinPINLength, each authorised by a pinUvAuthToken with the `acfg` permission. The
//! settings persist in the store (vault settings keys 21–25).

use super::{AttestationMode, Authenticator};
use crate::crypto::pin_protocol::PinProtocol;
use crate::ctap2::client_pin::PERMISSION_ACFG;
use crate::ctap2::config::{self as cfg, Request};
use crate::ctap2::StatusCode;
use crate::store::CredentialStore;

/// The most RP IDs setMinPINLength accepts (getInfo `maxRPIDsForSetMinPINLength`).
pub const MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH: usize = 8;

impl<S: CredentialStore> Authenticator<S> {
    /// Whether enterprise attestation exists: only with an attestation certificate to use.
    pub fn enterprise_attestation_supported(&self) -> bool {
        self.config.attestation == AttestationMode::Packed && self.config.attestation_cert.is_some()
    }

    /// `authenticatorConfig`.
    pub fn authenticator_config(&mut self, request: Request) -> Result<(), StatusCode> {
        self.pending = None;
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        // Step 1: a known subcommand.
        if !matches!(
            request.sub_command,
            cfg::ENABLE_ENTERPRISE_ATTESTATION | cfg::TOGGLE_ALWAYS_UV | cfg::SET_MIN_PIN_LENGTH
        ) {
            return Err(StatusCode::InvalidSubcommand);
        }
        // Steps 2–4: with a PIN or built-in UV, a pinUvAuthParam over 32×0xff ‖ 0x0d ‖
        // subCommand ‖ subCommandParams from a token holding `acfg`.
        let protected = self.store.device_state().pin_set() || self.user.uv_capable();
        if protected {
            let param = request
                .pin_uv_auth_param
                .as_deref()
                .ok_or(StatusCode::PuatRequired)?;
            let protocol = request
                .pin_uv_auth_protocol
                .ok_or(StatusCode::MissingParameter)?;
            let protocol =
                PinProtocol::from_number(protocol).ok_or(StatusCode::InvalidParameter)?;
            self.verify_pin_uv_auth(
                protocol,
                &request.auth_message(),
                param,
                PERMISSION_ACFG,
                None,
            )?;
        }
        let mut state = self.store.device_state();
        match request.sub_command {
            cfg::ENABLE_ENTERPRISE_ATTESTATION => {
                if !self.enterprise_attestation_supported() {
                    return Err(StatusCode::UnsupportedOption);
                }
                state.enterprise_attestation = true;
            }
            cfg::TOGGLE_ALWAYS_UV => state.always_uv = !state.always_uv,
            _ => {
                // §6.11.4: the new minimum never decreases; RP IDs are added to the list.
                let new_min = match request.new_min_pin_length {
                    Some(n) => u8::try_from(n).map_err(|_| StatusCode::PinPolicyViolation)?,
                    None => state.min_pin_length,
                };
                if new_min < state.min_pin_length || usize::from(new_min) > 63 {
                    return Err(StatusCode::PinPolicyViolation);
                }
                let rp_ids = request.min_pin_length_rp_ids.clone().unwrap_or_default();
                if rp_ids.len() > MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH {
                    return Err(StatusCode::InvalidParameter);
                }
                if request.force_change_pin == Some(true) && !state.pin_set() {
                    return Err(StatusCode::PinNotSet);
                }
                state.min_pin_length = new_min;
                for rp in rp_ids {
                    if !state.min_pin_length_rp_ids.contains(&rp) {
                        state.min_pin_length_rp_ids.push(rp);
                    }
                }
                // A PIN shorter than the new minimum, or a forced change, must be changed.
                if request.force_change_pin == Some(true)
                    || (state.pin_set() && state.pin_code_points < new_min)
                {
                    state.force_pin_change = true;
                }
            }
        }
        self.save_state(state)
    }
}
