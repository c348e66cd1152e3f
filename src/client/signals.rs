//! The client's side of the WebAuthn L3 signal API (§5.1.10–5.1.12): validate as a browser does
//! (decode errors are `TypeError`, then the RP ID must be valid for the origin, else
//! `SecurityError`), then hand the action to the authenticator and report success whatever it
//! did, so the caller learns nothing about which passkeys exist.

use serde::Deserialize;

use super::{origin, parse_options, CallerOrigin, Client, ClientError};
use crate::b64url;
use crate::store::CredentialStore;

/// `UnknownCredentialOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnknownCredentialOptions {
    /// The RP ID.
    pub rp_id: String,
    /// The credential id the RP does not know, base64url.
    pub credential_id: String,
}

/// `AllAcceptedCredentialsOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllAcceptedCredentialsOptions {
    /// The RP ID.
    pub rp_id: String,
    /// The user handle, base64url.
    pub user_id: String,
    /// Every credential id the RP still accepts for this user, base64url.
    pub all_accepted_credential_ids: Vec<String>,
}

/// `CurrentUserDetailsOptions`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserDetailsOptions {
    /// The RP ID.
    pub rp_id: String,
    /// The user handle, base64url.
    pub user_id: String,
    /// The account name.
    pub name: String,
    /// The display name.
    pub display_name: String,
}

fn decode(value: &str, member: &str) -> Result<Vec<u8>, ClientError> {
    // Signals decode with "base64url decode"; a failure is a TypeError (WebAuthn L3 §5.1.10).
    b64url::decode(value)
        .map_err(|_| ClientError::Type(format!("`{member}` is not unpadded base64url: {value:?}")))
}

impl<S: CredentialStore> Client<S> {
    fn check_rp_id(&self, origin: &CallerOrigin, rp_id: &str) -> Result<String, ClientError> {
        Ok(origin::validate_rp_id(
            origin,
            Some(rp_id),
            self.related_origins.as_ref(),
        )?)
    }

    /// `PublicKeyCredential.signalUnknownCredential()`.
    pub fn signal_unknown_credential(
        &mut self,
        origin: &CallerOrigin,
        options: &UnknownCredentialOptions,
    ) -> Result<(), ClientError> {
        let id = decode(&options.credential_id, "credentialId")?;
        let rp_id = self.check_rp_id(origin, &options.rp_id)?;
        // The outcome is not the caller's business (no information about which passkeys exist).
        let _ = self.authenticator.signal_unknown_credential(&rp_id, &id);
        Ok(())
    }

    /// `PublicKeyCredential.signalAllAcceptedCredentials()`.
    pub fn signal_all_accepted_credentials(
        &mut self,
        origin: &CallerOrigin,
        options: &AllAcceptedCredentialsOptions,
    ) -> Result<(), ClientError> {
        let user_id = decode(&options.user_id, "userId")?;
        let ids = options
            .all_accepted_credential_ids
            .iter()
            .enumerate()
            .map(|(i, id)| decode(id, &format!("allAcceptedCredentialIds[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let rp_id = self.check_rp_id(origin, &options.rp_id)?;
        let _ = self
            .authenticator
            .signal_all_accepted_credentials(&rp_id, &user_id, &ids);
        Ok(())
    }

    /// `PublicKeyCredential.signalCurrentUserDetails()`.
    pub fn signal_current_user_details(
        &mut self,
        origin: &CallerOrigin,
        options: &CurrentUserDetailsOptions,
    ) -> Result<(), ClientError> {
        let user_id = decode(&options.user_id, "userId")?;
        let rp_id = self.check_rp_id(origin, &options.rp_id)?;
        let _ = self.authenticator.signal_current_user_details(
            &rp_id,
            &user_id,
            &options.name,
            &options.display_name,
        );
        Ok(())
    }

    /// [`Client::signal_unknown_credential`] from an origin string and the options' JSON.
    pub fn signal_unknown_credential_json(
        &mut self,
        origin: &str,
        json: &str,
    ) -> Result<(), ClientError> {
        let origin = CallerOrigin::parse(origin)?;
        self.signal_unknown_credential(
            &origin,
            &parse_options(json, "signalUnknownCredential options")?,
        )
    }

    /// [`Client::signal_all_accepted_credentials`] from an origin string and the options' JSON.
    pub fn signal_all_accepted_credentials_json(
        &mut self,
        origin: &str,
        json: &str,
    ) -> Result<(), ClientError> {
        let origin = CallerOrigin::parse(origin)?;
        self.signal_all_accepted_credentials(
            &origin,
            &parse_options(json, "signalAllAcceptedCredentials options")?,
        )
    }

    /// [`Client::signal_current_user_details`] from an origin string and the options' JSON.
    pub fn signal_current_user_details_json(
        &mut self,
        origin: &str,
        json: &str,
    ) -> Result<(), ClientError> {
        let origin = CallerOrigin::parse(origin)?;
        self.signal_current_user_details(
            &origin,
            &parse_options(json, "signalCurrentUserDetails options")?,
        )
    }
}
