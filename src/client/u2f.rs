//! The client's fallback to CTAP1/U2F for an authenticator that speaks only U2F (CTAP 2.1 §10:
//! "Interoperating with CTAP1/U2F authenticators"; WebAuthn L3 §8.6 for the attestation):
//! makeCredential becomes `U2F_REGISTER` with rpIdHash as the application parameter and
//! clientDataHash as the challenge parameter, and the client builds the authenticatorData and
//! the `fido-u2f` statement from the answer; getAssertion becomes check-only `U2F_AUTHENTICATE`
//! over the allow list, then an authenticate that enforces user presence.
//!
//! What U2F cannot do is refused before the authenticator is asked: discoverable credentials
//! and user verification are caught by the shared steps of `create()`/`get()` (a U2F-only
//! authenticator has neither), algorithms other than ES256 here, and a login without an allow
//! list here. The `appid` extension is not implemented.

use ciborium::value::Value;
use sha2::{Digest, Sha256};

use super::json::{
    AssertionResponseJson, AttestationResponseJson, AuthenticationResponseJson,
    ClientExtensionResultsJson, CredPropsJson, PrfOutputJson, RegistrationResponseJson,
};
use super::{Client, ClientError};
use crate::attestation::fido_u2f;
use crate::b64url;
use crate::ctap1::{AuthenticateRequest, Control, RegisterRequest, StatusWord};
use crate::ctap2::auth_data::{AuthenticatorData, Flags};
use crate::ctap2::{make_credential as mc, CredentialDescriptor};
use crate::faults::{Fault, FaultSet};
use crate::store::CredentialStore;

/// What `create()` settled before handing over to U2F.
pub(super) struct U2fCreate<'a> {
    pub rp_id: &'a str,
    pub algorithms: Vec<i64>,
    pub exclude_list: &'a [CredentialDescriptor],
    pub client_data_json: Vec<u8>,
    pub client_data_hash: [u8; 32],
    pub conveyance: &'a str,
    pub cred_props: bool,
    pub prf: bool,
    pub faults: FaultSet,
}

/// What `get()` settled before handing over to U2F.
pub(super) struct U2fGet<'a> {
    pub rp_id: &'a str,
    pub allow_list: &'a [CredentialDescriptor],
    pub client_data_json: Vec<u8>,
    pub client_data_hash: [u8; 32],
    pub prf: bool,
    pub faults: FaultSet,
}

fn refused(sw: StatusWord) -> ClientError {
    match sw {
        StatusWord::ConditionsNotSatisfied => {
            ClientError::NotAllowed("the user did not touch the security key".into())
        }
        other => ClientError::NotAllowed(format!("the U2F security key refused: {other}")),
    }
}

impl<S: CredentialStore> Client<S> {
    /// `create()` against a U2F-only authenticator.
    pub(super) fn create_u2f(
        &mut self,
        c: U2fCreate<'_>,
    ) -> Result<RegistrationResponseJson, ClientError> {
        // U2F keys are P-256 only (CTAP 2.1 §10.2 step 1).
        if !c.algorithms.contains(&-7) {
            return Err(ClientError::NotSupported(
                "a U2F security key creates only ES256 (-7) credentials, and pubKeyCredParams does not offer -7".into(),
            ));
        }
        let application: [u8; 32] = Sha256::digest(c.rp_id.as_bytes()).into();
        // Step 2: the exclude list, by check-only authentication.
        for d in c.exclude_list {
            let check = AuthenticateRequest {
                control: Control::CheckOnly,
                challenge: c.client_data_hash,
                application,
                key_handle: d.id.clone(),
            };
            if self.authenticator.u2f_authenticate(&check)
                == Err(StatusWord::ConditionsNotSatisfied)
            {
                return Err(ClientError::InvalidState(
                    "a credential in excludeCredentials is already registered on this security key"
                        .into(),
                ));
            }
        }
        // Step 3: U2F_REGISTER with rpIdHash and clientDataHash.
        let request = RegisterRequest {
            challenge: c.client_data_hash,
            application,
        };
        let rp_id = c.rp_id.to_owned();
        let made = self.with_faults(c.faults, |a| a.u2f_register(&request, Some(&rp_id)));
        if made.is_err() {
            self.storage_failure()?;
        }
        let made = made.map_err(refused)?;
        // Step 4: authenticatorData and the fido-u2f statement, built here (with the injected
        // faults that edit authenticatorData, which the authenticator signed the same way).
        let mut built = fido_u2f::registration(application, &made).map_err(|e| {
            ClientError::NotAllowed(format!("the security key returned a bad registration: {e}"))
        })?;
        self.authenticator
            .faults()
            .union(c.faults)
            .edit_auth_data(&mut built.auth_data, None);
        let mut response = mc::Response {
            fmt: fido_u2f::FORMAT.into(),
            auth_data: built.auth_data,
            att_stmt: built.att_stmt,
            large_blob_key: None,
        };
        // `none` (and anything but direct/enterprise/indirect) drops the statement; the AAGUID
        // is zero already.
        if !matches!(c.conveyance, "direct" | "enterprise" | "indirect") {
            response.fmt = "none".into();
            response.att_stmt = crate::cbor::map(Vec::<(&str, Value)>::new());
        }
        let mut results = ClientExtensionResultsJson::default();
        if c.cred_props {
            results.cred_props = Some(CredPropsJson { rk: false });
        }
        if c.prf {
            results.prf = Some(PrfOutputJson {
                enabled: Some(false),
                results: None,
            });
        }
        let mut used = c.faults;
        if response.fmt == "none" {
            used.remove(Fault::BadSignature);
        }
        self.faults.consume(used);
        let id = b64url::encode(&made.key_handle);
        let mut transports = self.authenticator.config().transports.clone();
        transports.sort();
        transports.dedup();
        Ok(RegistrationResponseJson {
            id: id.clone(),
            raw_id: id,
            response: AttestationResponseJson {
                client_data_json: b64url::encode(&c.client_data_json),
                authenticator_data: b64url::encode(&response.auth_data),
                transports,
                public_key: Some(b64url::encode(&built.public_key.spki_der())),
                public_key_algorithm: -7,
                attestation_object: b64url::encode(&response.attestation_object()),
            },
            authenticator_attachment: Some(self.attachment.as_str().into()),
            client_extension_results: results,
            type_: "public-key".into(),
        })
    }

    /// `get()` against a U2F-only authenticator.
    pub(super) fn get_u2f(
        &mut self,
        g: U2fGet<'_>,
    ) -> Result<AuthenticationResponseJson, ClientError> {
        if g.allow_list.is_empty() {
            return Err(ClientError::NotAllowed(
                "a U2F security key has no discoverable credentials: allowCredentials must name the credential".into(),
            ));
        }
        let application: [u8; 32] = Sha256::digest(g.rp_id.as_bytes()).into();
        // CTAP 2.1 §10.3: find the allow-list entry the key holds, by check-only requests.
        let found = g.allow_list.iter().find(|d| {
            let check = AuthenticateRequest {
                control: Control::CheckOnly,
                challenge: g.client_data_hash,
                application,
                key_handle: d.id.clone(),
            };
            self.authenticator.u2f_authenticate(&check) == Err(StatusWord::ConditionsNotSatisfied)
        });
        let Some(found) = found else {
            self.storage_failure()?;
            return Err(ClientError::NotAllowed(format!(
                "no passkey for RP ID \"{}\" on this security key matches the request",
                g.rp_id
            )));
        };
        let request = AuthenticateRequest {
            control: Control::EnforceUserPresence,
            challenge: g.client_data_hash,
            application,
            key_handle: found.id.clone(),
        };
        let signed = self.with_faults(g.faults, |a| a.u2f_authenticate(&request));
        if signed.is_err() {
            self.storage_failure()?;
        }
        let signed = signed.map_err(refused)?;
        // authenticatorData is the first 37 signed bytes: rpIdHash ‖ flags ‖ counter.
        let mut auth_data = AuthenticatorData {
            rp_id_hash: application,
            flags: Flags(signed.user_presence),
            sign_count: signed.counter,
            attested: None,
            extensions: None,
        }
        .to_bytes();
        // The authenticator signed with the injected faults applied (flags and counter are in
        // its answer; `wrong-rp-id-hash` is redone here the same way).
        self.authenticator
            .faults()
            .union(g.faults)
            .edit_auth_data(&mut auth_data, None);
        let mut results = ClientExtensionResultsJson::default();
        if g.prf {
            results.prf = Some(PrfOutputJson {
                enabled: None,
                results: None,
            });
        }
        self.faults.consume(g.faults);
        let id = b64url::encode(&request.key_handle);
        Ok(AuthenticationResponseJson {
            id: id.clone(),
            raw_id: id,
            response: AssertionResponseJson {
                client_data_json: b64url::encode(&g.client_data_json),
                authenticator_data: b64url::encode(&auth_data),
                signature: b64url::encode(&signed.signature),
                user_handle: None,
            },
            authenticator_attachment: Some(self.attachment.as_str().into()),
            client_extension_results: results,
            type_: "public-key".into(),
        })
    }
}
