//! The pinUvAuthToken (CTAP 2.1 §6.5.2.2, §6.5.5.7.3): issued by
//! `getPinUvAuthTokenUsingUvWithPermissions` after built-in user verification (fauxkey has no
//! PIN), then checked wherever a command carries a `pinUvAuthParam`.

use rand_core::Rng as _;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::credential_management::Enumeration;
use super::Authenticator;
use crate::crypto::pin_protocol::{hmac_sha256, PinProtocol};
use crate::ctap2::client_pin::{
    TokenRequest, TokenResponse, PERMISSION_CM, PERMISSION_GA, PERMISSION_MC,
};
use crate::ctap2::StatusCode;
use crate::store::CredentialStore;

/// The permissions fauxkey can grant: `mc`, `ga` and `cm` (no bio enrollment, large blobs or
/// authenticator config).
const SUPPORTED_PERMISSIONS: u8 = PERMISSION_MC | PERMISSION_GA | PERMISSION_CM;

/// How long a token stays usable after it is issued (CTAP 2.1 §6.5.2.1: the maximum usage time
/// period, at least 30 s; 10 minutes is the suggested default).
pub const TOKEN_LIFETIME_MS: u64 = 10 * 60 * 1000;

/// A token issued to the platform.
pub(super) struct PinUvToken {
    token: Zeroizing<[u8; 32]>,
    protocol: PinProtocol,
    permissions: u8,
    /// The permissions RP ID; a token issued without one is bound to the first RP it is used for.
    rp_id: Option<String>,
    issued_ms: u64,
}

/// Token and credential-management state, kept between commands.
#[derive(Default)]
pub(super) struct PinUvState {
    pub(super) token: Option<PinUvToken>,
    pub(super) enumeration: Option<Enumeration>,
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
        if permissions & !SUPPORTED_PERMISSIONS != 0 {
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
        let mut token = Zeroizing::new([0u8; 32]);
        self.rng.fill_bytes(token.as_mut());
        let encrypted = secret.encrypt(self.rng.as_mut(), token.as_ref())?;
        self.pin_uv = PinUvState {
            token: Some(PinUvToken {
                token,
                protocol,
                permissions,
                rp_id: request.rp_id,
                issued_ms: self.clock.now_ms(),
            }),
            enumeration: None,
        };
        Ok(TokenResponse {
            pin_uv_auth_token: encrypted,
        })
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
        // A token past its lifetime is gone.
        if let Some(t) = &self.pin_uv.token {
            if now.saturating_sub(t.issued_ms) >= TOKEN_LIFETIME_MS {
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
