//! The pinUvAuthToken (CTAP 2.1 §6.5.2.2, §6.5.5.7.3): issued by
//! `getPinUvAuthTokenUsingUvWithPermissions` after built-in user verification or by the PIN
//! subcommands (see `client_pin`), then checked wherever a command carries a `pinUvAuthParam`.

use rand_core::Rng as _;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::credential_management::Enumeration;
use super::Authenticator;
use crate::crypto::pin_protocol::{hmac_sha256, PinProtocol, SharedSecret};
use crate::ctap2::client_pin::{
    TokenRequest, TokenResponse, PERMISSION_ACFG, PERMISSION_CM, PERMISSION_GA, PERMISSION_LBW,
    PERMISSION_MC,
};
use crate::ctap2::StatusCode;
use crate::store::CredentialStore;

/// The permissions fauxkey can always grant: `mc`, `ga`, `cm` and `acfg` (no bio enrollment;
/// `lbw` where large blobs exist, see [`Authenticator::supported_permissions`]).
pub(super) const SUPPORTED_PERMISSIONS: u8 =
    PERMISSION_MC | PERMISSION_GA | PERMISSION_CM | PERMISSION_ACFG;

/// How long a token stays usable after it is issued (CTAP 2.1 §6.5.2.1: the maximum usage time
/// period, at least 30 s; 10 minutes is the suggested default).
pub const TOKEN_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// A token not used within this long after it is issued expires (CTAP 2.1 §6.5.2.1: the
/// initial usage time limit, 30 s by default for USB).
pub const TOKEN_INITIAL_USAGE_MS: u64 = 30 * 1000;

/// A token issued to the platform.
pub(super) struct PinUvToken {
    token: Zeroizing<[u8; 32]>,
    protocol: PinProtocol,
    permissions: u8,
    /// The permissions RP ID; a token issued without one is bound to the first RP it is used for.
    rp_id: Option<String>,
    issued_ms: u64,
    /// Whether a pinUvAuthParam has verified with it yet (the initial usage limit then ends).
    used: bool,
}

/// Token and credential-management state, kept between commands.
#[derive(Default)]
pub(super) struct PinUvState {
    pub(super) token: Option<PinUvToken>,
    pub(super) enumeration: Option<Enumeration>,
    /// Wrong PINs in a row since the last power cycle (volatile, unlike `pinRetries`).
    pub(super) consecutive_mismatches: u8,
}

impl<S: CredentialStore> Authenticator<S> {
    /// `authenticatorClientPIN` `getPinUvAuthTokenUsingUvWithPermissions`: verifies the user with
    /// built-in UV and issues a fresh pinUvAuthToken, encrypted for the platform.
    pub fn get_pin_uv_auth_token(
        &mut self,
        request: TokenRequest,
    ) -> Result<TokenResponse, StatusCode> {
        self.pending = None;
        // Step 1: the mandatory parameters.
        let protocol = request
            .pin_uv_auth_protocol
            .ok_or(StatusCode::MissingParameter)?;
        let key_agreement = request
            .key_agreement
            .as_ref()
            .ok_or(StatusCode::MissingParameter)?;
        let permissions = request.permissions.ok_or(StatusCode::MissingParameter)?;
        // Step 2: a supported protocol.
        let protocol = PinProtocol::from_number(protocol).ok_or(StatusCode::InvalidParameter)?;
        // Step 3: at least one permission, all of them ones fauxkey grants.
        let permissions = u8::try_from(permissions)
            .ok()
            .filter(|p| *p != 0)
            .ok_or(StatusCode::InvalidParameter)?;
        if permissions & !self.supported_permissions() != 0 {
            return Err(StatusCode::UnauthorizedPermission);
        }
        // Step 4: mc and ga are always bound to an RP.
        if permissions & (PERMISSION_MC | PERMISSION_GA) != 0 && request.rp_id.is_none() {
            return Err(StatusCode::MissingParameter);
        }
        // Step 5: this subcommand needs built-in UV.
        if !self.user.uv_capable() {
            return Err(StatusCode::NotAllowed);
        }
        // Step 6: the shared secret.
        let secret = self
            .key_agreement_key()
            .shared_secret(protocol, key_agreement)?;
        // Step 7: built-in user verification.
        if !self.user.verify(request.rp_id.as_deref().unwrap_or("")) {
            return Err(StatusCode::UvInvalid);
        }
        // Step 8: a new token replaces any earlier one.
        self.issue_token(&secret, protocol, permissions, request.rp_id)
    }

    /// The permissions a token can hold here: [`SUPPORTED_PERMISSIONS`], and `lbw` when the
    /// authenticator has large blobs.
    pub(super) fn supported_permissions(&self) -> u8 {
        if self.large_blobs_supported() {
            SUPPORTED_PERMISSIONS | PERMISSION_LBW
        } else {
            SUPPORTED_PERMISSIONS
        }
    }

    /// A fresh pinUvAuthToken with `permissions` (replacing any earlier one), encrypted for the
    /// platform with `secret`.
    pub(super) fn issue_token(
        &mut self,
        secret: &SharedSecret,
        protocol: PinProtocol,
        permissions: u8,
        rp_id: Option<String>,
    ) -> Result<TokenResponse, StatusCode> {
        let mut token = Zeroizing::new([0u8; 32]);
        self.rng.fill_bytes(token.as_mut());
        let encrypted = secret.encrypt(self.rng.as_mut(), token.as_ref())?;
        self.pin_uv.token = Some(PinUvToken {
            token,
            protocol,
            permissions,
            rp_id,
            issued_ms: self.clock.now_ms(),
            used: false,
        });
        self.pin_uv.enumeration = None;
        Ok(TokenResponse {
            pin_uv_auth_token: encrypted,
        })
    }

    /// After a makeCredential or getAssertion that used the token and collected user presence,
    /// it keeps only `lbw` (CTAP 2.1 §6.1.2 step 14, §6.2.2 step 12:
    /// clearPinUvAuthTokenPermissionsExceptLbw).
    pub(super) fn token_used_for_ceremony(&mut self) {
        if let Some(t) = &mut self.pin_uv.token {
            t.permissions &= PERMISSION_LBW;
        }
    }

    /// Checks `param` = authenticate(pinUvAuthToken, `message`) under `protocol`, and that the
    /// token holds `permission`. With `bind_rp`, the token must be bound to that RP (or is
    /// bound to it now). Returns the RP the token is bound to, if any.
    pub(super) fn verify_pin_uv_auth(
        &mut self,
        protocol: PinProtocol,
        message: &[u8],
        param: &[u8],
        permission: u8,
        bind_rp: Option<&str>,
    ) -> Result<Option<String>, StatusCode> {
        let now = self.clock.now_ms();
        // A token past its lifetime, or never used within the initial usage limit, is gone.
        if let Some(t) = &self.pin_uv.token {
            let age = now.saturating_sub(t.issued_ms);
            if age >= TOKEN_LIFETIME_MS || (!t.used && age >= TOKEN_INITIAL_USAGE_MS) {
                self.pin_uv.token = None;
            }
        }
        let t = self
            .pin_uv
            .token
            .as_mut()
            .ok_or(StatusCode::PinAuthInvalid)?;
        let mac = hmac_sha256(t.token.as_ref(), message);
        let expected = match protocol {
            PinProtocol::One => &mac[..16],
            PinProtocol::Two => &mac[..],
        };
        let valid = t.protocol == protocol
            && expected.len() == param.len()
            && bool::from(expected.ct_eq(param));
        if !valid || t.permissions & permission == 0 {
            return Err(StatusCode::PinAuthInvalid);
        }
        t.used = true;
        if let Some(rp) = bind_rp {
            match &t.rp_id {
                Some(bound) if bound != rp => return Err(StatusCode::PinAuthInvalid),
                Some(_) => {}
                None => t.rp_id = Some(rp.to_owned()),
            }
        }
        Ok(t.rp_id.clone())
    }
}
