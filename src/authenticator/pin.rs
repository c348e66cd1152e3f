//! `authenticatorClientPIN` (CTAP 2.1 §6.5.5): the PIN itself. setPIN, changePIN, getPINRetries,
//! getPinToken and getPinUvAuthTokenUsingPinWithPermissions, with the PIN kept in the store as
//! `LEFT(SHA-256(PIN), 16)`, 8 retries that survive a restart, the three-wrong-PINs rule that
//! only a power cycle ([`Authenticator::power_cycle`]) lifts, minPINLength and forcePINChange.

use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::Authenticator;
use crate::crypto::pin_protocol::{PinProtocol, SharedSecret};
use crate::ctap2::client_pin::{
    self as cp, Request, Response, RetriesResponse, PERMISSION_CM, PERMISSION_GA, PERMISSION_MC,
};
use crate::ctap2::StatusCode;
use crate::store::{CredentialStore, DeviceState};

/// The longest PIN, in UTF-8 bytes (CTAP 2.1 §6.5.1: at most 63 bytes).
pub const MAX_PIN_BYTES: usize = 63;

/// How many wrong PINs in a row make the authenticator ask for a power cycle (CTAP 2.1
/// §6.5.5.7.1 step 3: `PIN_AUTH_BLOCKED`).
pub const MISMATCHES_BEFORE_POWER_CYCLE: u8 = 3;

/// The retries a built-in UV reports with getUVRetries (fauxkey's simulated user never locks).
const UV_RETRIES: u8 = 8;

/// Why a PIN given to [`check_pin_policy`] is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinPolicyError {
    /// Fewer code points than the minimum PIN length.
    #[error("the PIN is shorter than the minimum PIN length of {min} characters")]
    TooShort {
        /// The minimum, in Unicode code points.
        min: u8,
    },
    /// More than 63 UTF-8 bytes.
    #[error("the PIN is longer than 63 bytes")]
    TooLong,
    /// forcePINChange is set and the new PIN is the current one.
    #[error("the PIN must be changed to a different one")]
    Unchanged,
}

/// Checks a new PIN against the policy in `state` (CTAP 2.1 §6.5.5.5 step 7, §6.5.5.6 step 8).
pub fn check_pin_policy(pin: &str, state: &DeviceState) -> Result<(), PinPolicyError> {
    if pin.len() > MAX_PIN_BYTES {
        return Err(PinPolicyError::TooLong);
    }
    if pin.chars().count() < usize::from(state.min_pin_length) {
        return Err(PinPolicyError::TooShort {
            min: state.min_pin_length,
        });
    }
    if state.force_pin_change
        && state
            .pin_hash
            .is_some_and(|h| h == crate::store::pin_hash(pin.as_bytes()))
    {
        return Err(PinPolicyError::Unchanged);
    }
    Ok(())
}

impl<S: CredentialStore> Authenticator<S> {
    /// `authenticatorClientPIN`: every subcommand but getPinUvAuthTokenUsingUvWithPermissions
    /// (see [`Authenticator::get_pin_uv_auth_token`]).
    pub fn client_pin(&mut self, request: Request) -> Result<Response, StatusCode> {
        self.pending = None;
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        // Every subcommand but getPINRetries / getUVRetries names a supported protocol.
        let protocol = match request.sub_command {
            cp::GET_PIN_RETRIES | cp::GET_UV_RETRIES => None,
            cp::GET_KEY_AGREEMENT
            | cp::SET_PIN
            | cp::CHANGE_PIN
            | cp::GET_PIN_TOKEN
            | cp::GET_PIN_TOKEN_WITH_PERMISSIONS => {
                let n = request
                    .pin_uv_auth_protocol
                    .ok_or(StatusCode::MissingParameter)?;
                Some(PinProtocol::from_number(n).ok_or(StatusCode::InvalidParameter)?)
            }
            _ => return Err(StatusCode::InvalidSubcommand),
        };
        match (request.sub_command, protocol) {
            (cp::GET_PIN_RETRIES, _) => {
                let state = self.store.device_state();
                Ok(Response::Retries(RetriesResponse {
                    pin_retries: Some(state.pin_retries),
                    power_cycle_state: Some(self.power_cycle_needed()),
                    uv_retries: None,
                }))
            }
            (cp::GET_UV_RETRIES, _) => {
                if !self.user.uv_capable() {
                    return Err(StatusCode::NotAllowed);
                }
                Ok(Response::Retries(RetriesResponse {
                    uv_retries: Some(UV_RETRIES),
                    ..RetriesResponse::default()
                }))
            }
            (cp::GET_KEY_AGREEMENT, _) => Ok(Response::KeyAgreement(cp::KeyAgreementResponse {
                key_agreement: self.key_agreement_key().public_cose(),
            })),
            (cp::SET_PIN, Some(p)) => self.set_pin(p, &request).map(|()| Response::Empty),
            (cp::CHANGE_PIN, Some(p)) => self.change_pin(p, &request).map(|()| Response::Empty),
            (_, Some(p)) => self.get_pin_token(p, request).map(Response::Token),
            // Unreachable: the first match gave every other subcommand a protocol.
            _ => Err(StatusCode::InvalidSubcommand),
        }
    }

    /// Simulates unplugging and replugging the key: volatile state (tokens, the key agreement
    /// key, the count of wrong PINs in a row, pending assertions) is gone; what the store keeps
    /// (the PIN, its retries) stays.
    pub fn power_cycle(&mut self) {
        self.pin_uv = Default::default();
        self.key_agreement = None;
        self.pending = None;
    }

    fn power_cycle_needed(&self) -> bool {
        self.pin_uv.consecutive_mismatches >= MISMATCHES_BEFORE_POWER_CYCLE
    }

    fn shared_secret(
        &mut self,
        protocol: PinProtocol,
        request: &Request,
    ) -> Result<SharedSecret, StatusCode> {
        let peer = request
            .key_agreement
            .as_ref()
            .ok_or(StatusCode::MissingParameter)?;
        self.key_agreement_key()
            .shared_secret(protocol, peer)
            .map_err(|_| StatusCode::InvalidParameter)
    }

    /// `setPIN` (CTAP 2.1 §6.5.5.5).
    fn set_pin(&mut self, protocol: PinProtocol, request: &Request) -> Result<(), StatusCode> {
        // Step 1: mandatory parameters.
        let (Some(_), Some(new_pin_enc), Some(param)) = (
            &request.key_agreement,
            &request.new_pin_enc,
            &request.pin_uv_auth_param,
        ) else {
            return Err(StatusCode::MissingParameter);
        };
        // Step 3: only when no PIN is set.
        let mut state = self.store.device_state();
        if state.pin_set() {
            return Err(StatusCode::NotAllowed);
        }
        // Steps 4–5: the shared secret, and pinUvAuthParam over newPinEnc.
        let secret = self.shared_secret(protocol, request)?;
        if !secret.verify(new_pin_enc, param) {
            return Err(StatusCode::PinAuthInvalid);
        }
        // Steps 6–8: the new PIN, and the policy.
        let pin = decrypt_new_pin(&secret, new_pin_enc)?;
        check_pin_policy(&pin, &state).map_err(|_| StatusCode::PinPolicyViolation)?;
        // Step 9: keep LEFT(SHA-256(PIN), 16); retries to their maximum.
        state.set_pin(&pin);
        self.save_state(state)
    }

    /// `changePIN` (CTAP 2.1 §6.5.5.6).
    fn change_pin(&mut self, protocol: PinProtocol, request: &Request) -> Result<(), StatusCode> {
        // Step 1: mandatory parameters.
        let (Some(_), Some(pin_hash_enc), Some(new_pin_enc), Some(param)) = (
            &request.key_agreement,
            &request.pin_hash_enc,
            &request.new_pin_enc,
            &request.pin_uv_auth_param,
        ) else {
            return Err(StatusCode::MissingParameter);
        };
        let mut state = self.store.device_state();
        if !state.pin_set() {
            return Err(StatusCode::PinNotSet);
        }
        // Step 3: a blocked PIN stays blocked.
        self.check_not_blocked(&state)?;
        // Steps 4–5: the shared secret, and pinUvAuthParam over newPinEnc ‖ pinHashEnc.
        let secret = self.shared_secret(protocol, request)?;
        let message = [new_pin_enc.as_slice(), pin_hash_enc.as_slice()].concat();
        if !secret.verify(&message, param) {
            return Err(StatusCode::PinAuthInvalid);
        }
        // Steps 6–7: one retry spent, then the current PIN checked.
        self.check_pin_hash(&secret, pin_hash_enc, &mut state)?;
        // Steps 8–10: the new PIN, and the policy (forcePINChange refuses the same PIN).
        let pin = decrypt_new_pin(&secret, new_pin_enc)?;
        check_pin_policy(&pin, &state).map_err(|_| StatusCode::PinPolicyViolation)?;
        // Step 11: the new PIN; forcePINChange is cleared.
        state.set_pin(&pin);
        self.save_state(state)?;
        // Step 12: every token is invalidated.
        self.pin_uv.token = None;
        Ok(())
    }

    /// `getPinToken` (0x05) and `getPinUvAuthTokenUsingPinWithPermissions` (0x09) (CTAP 2.1
    /// §6.5.5.7.1, §6.5.5.7.2).
    fn get_pin_token(
        &mut self,
        protocol: PinProtocol,
        request: Request,
    ) -> Result<cp::TokenResponse, StatusCode> {
        let legacy = request.sub_command == cp::GET_PIN_TOKEN;
        // Step 1: mandatory parameters.
        let (Some(_), Some(pin_hash_enc)) = (&request.key_agreement, &request.pin_hash_enc) else {
            return Err(StatusCode::MissingParameter);
        };
        let permissions = if legacy {
            // getPinToken takes no permissions: it grants mc and ga (CTAP 2.1 §6.5.5.7.1 step 3).
            if request.permissions.is_some() || request.rp_id.is_some() {
                return Err(StatusCode::InvalidParameter);
            }
            if self.config.device_info.advertises("pinUvAuthToken") {
                PERMISSION_MC | PERMISSION_GA
            } else {
                // A 2.1-preview device (no `pinUvAuthToken`) has only this token, and clients
                // use it for credentialManagement (0x41) too, as CTAP 2.1 PRE's pinToken.
                PERMISSION_MC | PERMISSION_GA | PERMISSION_CM
            }
        } else {
            let p = request.permissions.ok_or(StatusCode::MissingParameter)?;
            // Step 3: at least one permission, all of them ones fauxkey grants.
            let p = u8::try_from(p)
                .ok()
                .filter(|p| *p != 0)
                .ok_or(StatusCode::InvalidParameter)?;
            if p & !self.supported_permissions() != 0 {
                return Err(StatusCode::UnauthorizedPermission);
            }
            // mc and ga are always bound to an RP (as with built-in UV).
            if p & (PERMISSION_MC | PERMISSION_GA) != 0 && request.rp_id.is_none() {
                return Err(StatusCode::MissingParameter);
            }
            p
        };
        let mut state = self.store.device_state();
        if !state.pin_set() {
            return Err(StatusCode::PinNotSet);
        }
        // Step 4: a blocked PIN stays blocked.
        self.check_not_blocked(&state)?;
        // Steps 5–6: the shared secret; one retry spent, then the PIN checked.
        let secret = self.shared_secret(protocol, &request)?;
        self.check_pin_hash(&secret, pin_hash_enc, &mut state)?;
        // Step 7: a PIN that must change gives no token.
        if state.force_pin_change {
            return Err(StatusCode::PinPolicyViolation);
        }
        // Steps 8–11: a fresh token with the permissions (and the RP, if given).
        self.issue_token(&secret, protocol, permissions, request.rp_id)
    }

    fn check_not_blocked(&self, state: &DeviceState) -> Result<(), StatusCode> {
        if state.pin_retries == 0 {
            return Err(StatusCode::PinBlocked);
        }
        if self.power_cycle_needed() {
            return Err(StatusCode::PinAuthBlocked);
        }
        Ok(())
    }

    /// Spends one retry (saved before the PIN is compared, so pulling the plug does not undo
    /// it), then compares `pinHashEnc` with the stored hash. A match restores the retries; a
    /// mismatch regenerates the key agreement key and reports what is left.
    fn check_pin_hash(
        &mut self,
        secret: &SharedSecret,
        pin_hash_enc: &[u8],
        state: &mut DeviceState,
    ) -> Result<(), StatusCode> {
        state.pin_retries = state.pin_retries.saturating_sub(1);
        self.save_state(state.clone())?;
        let given = secret
            .decrypt(pin_hash_enc)
            .map_err(|_| StatusCode::PinInvalid)?;
        let matches = state
            .pin_hash
            .is_some_and(|h| given.len() == 16 && bool::from(h.ct_eq(given.as_slice())));
        if !matches {
            self.key_agreement = None;
            self.pin_uv.consecutive_mismatches =
                self.pin_uv.consecutive_mismatches.saturating_add(1);
            return Err(if state.pin_retries == 0 {
                StatusCode::PinBlocked
            } else if self.power_cycle_needed() {
                StatusCode::PinAuthBlocked
            } else {
                StatusCode::PinInvalid
            });
        }
        state.pin_retries = crate::store::MAX_PIN_RETRIES;
        self.pin_uv.consecutive_mismatches = 0;
        self.save_state(state.clone())
    }

    pub(super) fn save_state(&mut self, state: DeviceState) -> Result<(), StatusCode> {
        if self.store.device_state() == state {
            return Ok(());
        }
        self.store
            .set_device_state(state)
            .map_err(|e| self.store_failed(e))
    }
}

/// Decrypts `newPinEnc` to the 64-byte padded PIN and strips the zero padding (CTAP 2.1
/// §6.5.5.5 steps 6–7). The PIN must be UTF-8.
fn decrypt_new_pin(
    secret: &SharedSecret,
    new_pin_enc: &[u8],
) -> Result<Zeroizing<String>, StatusCode> {
    let expected = match secret.protocol() {
        PinProtocol::One => 64,
        PinProtocol::Two => 80,
    };
    if new_pin_enc.len() != expected {
        return Err(StatusCode::InvalidParameter);
    }
    let padded: Zeroizing<Vec<u8>> = secret
        .decrypt(new_pin_enc)
        .map_err(|_| StatusCode::InvalidParameter)?;
    let end = padded.iter().position(|b| *b == 0).unwrap_or(padded.len());
    // At least 4 bytes and at most 63 before the padding.
    if end > MAX_PIN_BYTES {
        return Err(StatusCode::PinPolicyViolation);
    }
    let pin = std::str::from_utf8(&padded[..end]).map_err(|_| StatusCode::PinPolicyViolation)?;
    Ok(Zeroizing::new(pin.to_owned()))
}

/// Why the owner's PIN change ([`set_pin`], [`change_pin`]) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinAdminError {
    /// `set` when a PIN is already set.
    #[error("a PIN is already set; change it with the current PIN, or clear it")]
    AlreadySet,
    /// `change` when no PIN is set.
    #[error("no PIN is set; set one first")]
    NotSet,
    /// The current PIN given is wrong (no retry is spent: the owner is not the platform).
    #[error("the current PIN is wrong")]
    WrongPin,
    /// The new PIN breaks the policy.
    #[error("{0}")]
    Policy(#[from] PinPolicyError),
}

/// Sets the PIN of an authenticator that has none, as its owner (the CLI, the control plane):
/// the same policy as setPIN.
pub fn set_pin(state: &mut DeviceState, pin: &str) -> Result<(), PinAdminError> {
    if state.pin_set() {
        return Err(PinAdminError::AlreadySet);
    }
    check_pin_policy(pin, state)?;
    state.set_pin(pin);
    Ok(())
}

/// Changes the PIN as its owner, given the current one; restores the retries (also of a blocked
/// PIN) and clears forcePINChange, as changePIN does.
pub fn change_pin(state: &mut DeviceState, current: &str, new: &str) -> Result<(), PinAdminError> {
    let Some(hash) = state.pin_hash else {
        return Err(PinAdminError::NotSet);
    };
    if !bool::from(hash.ct_eq(&crate::store::pin_hash(current.as_bytes()))) {
        return Err(PinAdminError::WrongPin);
    }
    check_pin_policy(new, state)?;
    state.set_pin(new);
    Ok(())
}
