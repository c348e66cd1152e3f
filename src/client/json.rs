//! WebAuthn Level 3 JSON types (§5.1 `…JSON` dictionaries): the options an RP sends in, the
//! responses `toJSON()` produces. Byte fields are base64url strings without padding.
//!
//! Lists that WebIDL defaults to empty also accept `null` (some RP libraries emit it).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `PublicKeyCredentialRpEntity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpEntityJson {
    /// The RP ID; the caller's effective domain when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The RP's human name.
    pub name: String,
}

/// `PublicKeyCredentialUserEntityJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntityJson {
    /// The user handle, base64url.
    pub id: String,
    /// The account name.
    pub name: String,
    /// The display name.
    pub display_name: String,
}

/// `PublicKeyCredentialParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialParametersJson {
    /// `"public-key"`; other types are skipped.
    #[serde(rename = "type")]
    pub type_: String,
    /// A COSE algorithm identifier.
    pub alg: i64,
}

/// `PublicKeyCredentialDescriptorJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialDescriptorJson {
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub type_: String,
    /// The credential id, base64url.
    pub id: String,
    /// Transport hints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<String>>,
}

/// `AuthenticatorSelectionCriteria`. Unknown string values are treated as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelectionJson {
    /// `platform` or `cross-platform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    /// `discouraged`, `preferred` or `required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resident_key: Option<String>,
    /// The Level 1 form of `residentKey: "required"`.
    #[serde(default)]
    pub require_resident_key: bool,
    /// `required`, `preferred` (default) or `discouraged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<String>,
}

/// PRF inputs or outputs: `{first, second?}`, base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrfValuesJson {
    /// The first input or output.
    pub first: String,
    /// The optional second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second: Option<String>,
}

/// The `prf` extension input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrfInputJson {
    /// Inputs for whichever credential is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval: Option<PrfValuesJson>,
    /// Inputs per credential id (base64url keys); get() only, with an allow list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_by_credential: Option<BTreeMap<String, PrfValuesJson>>,
}

/// Client extension inputs fauxkey implements; others are ignored, as browsers do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionsInputJson {
    /// `credProps`: report whether a discoverable credential was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_props: Option<bool>,
    /// `prf`: pseudo-random values from `hmac-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prf: Option<PrfInputJson>,
    /// `credProtect`: `userVerificationOptional`, `userVerificationOptionalWithCredentialIDList`
    /// or `userVerificationRequired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_protection_policy: Option<String>,
    /// `credProtect`: fail rather than create a less protected credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_credential_protection_policy: Option<bool>,
    /// `largeBlob` (L3 §10.1.5): `support` at create, `read` or `write` at get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_blob: Option<LargeBlobInputJson>,
    /// `credBlob` (CTAP 2.1 §12.2) at create: up to 32 bytes, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_blob: Option<String>,
    /// `getCredBlob` (CTAP 2.1 §12.2) at get: return the credential's credBlob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_cred_blob: Option<bool>,
    /// `minPinLength` (CTAP 2.1 §12.4) at create: the authenticator reports its minimum PIN
    /// length in authenticatorData to an RP on its list (there is no client output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_pin_length: Option<bool>,
}

/// `AuthenticationExtensionsLargeBlobInputs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LargeBlobInputJson {
    /// At create: `required` or `preferred`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<String>,
    /// At get: read the blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<bool>,
    /// At get: write this blob (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<String>,
}

/// `AuthenticationExtensionsLargeBlobOutputs`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LargeBlobOutputJson {
    /// At create: whether the credential can store a large blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported: Option<bool>,
    /// At get with `read`: the blob (base64url), absent when none is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    /// At get with `write`: whether it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<bool>,
}

/// `PublicKeyCredentialCreationOptionsJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationOptionsJson {
    /// The RP.
    pub rp: RpEntityJson,
    /// The user account.
    pub user: UserEntityJson,
    /// The challenge, base64url.
    pub challenge: String,
    /// Acceptable algorithms, most preferred first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub pub_key_cred_params: Vec<CredentialParametersJson>,
    /// Milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Credentials that must not be registered again.
    #[serde(default, deserialize_with = "null_as_default")]
    pub exclude_credentials: Vec<CredentialDescriptorJson>,
    /// Authenticator requirements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_selection: Option<AuthenticatorSelectionJson>,
    /// UI hints.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hints: Vec<String>,
    /// `none` (default), `indirect`, `direct` or `enterprise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
    /// Preferred attestation statement formats.
    #[serde(default, deserialize_with = "null_as_default")]
    pub attestation_formats: Vec<String>,
    /// Extension inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ExtensionsInputJson>,
}

/// `PublicKeyCredentialRequestOptionsJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOptionsJson {
    /// The challenge, base64url.
    pub challenge: String,
    /// Milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// The RP ID; the caller's effective domain when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rp_id: Option<String>,
    /// Acceptable credentials; empty for a discoverable login.
    #[serde(default, deserialize_with = "null_as_default")]
    pub allow_credentials: Vec<CredentialDescriptorJson>,
    /// `required`, `preferred` (default) or `discouraged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<String>,
    /// UI hints.
    #[serde(default, deserialize_with = "null_as_default")]
    pub hints: Vec<String>,
    /// Extension inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ExtensionsInputJson>,
}

/// `credProps` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredPropsJson {
    /// Whether the credential is discoverable.
    pub rk: bool,
}

/// `prf` output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrfOutputJson {
    /// At registration: whether the credential supports PRF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The PRF outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<PrfValuesJson>,
}

/// `AuthenticationExtensionsClientOutputsJSON`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientExtensionResultsJson {
    /// `credProps` output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_props: Option<CredPropsJson>,
    /// `prf` output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prf: Option<PrfOutputJson>,
    /// `largeBlob` output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_blob: Option<LargeBlobOutputJson>,
    /// `credBlob` output at create: whether the authenticator kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cred_blob: Option<bool>,
    /// `getCredBlob` output at get: the credBlob (base64url; empty when none was stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_cred_blob: Option<String>,
}

/// `AuthenticatorAttestationResponseJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponseJson {
    /// clientDataJSON bytes, base64url.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// authenticatorData, base64url.
    pub authenticator_data: String,
    /// Transports, sorted and unique.
    pub transports: Vec<String>,
    /// The public key as DER SubjectPublicKeyInfo, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// The COSE algorithm of the credential.
    pub public_key_algorithm: i64,
    /// The attestation object, base64url.
    pub attestation_object: String,
}

/// `RegistrationResponseJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponseJson {
    /// The credential id, base64url.
    pub id: String,
    /// The same, as the raw id.
    pub raw_id: String,
    /// The attestation response.
    pub response: AttestationResponseJson,
    /// `platform` or `cross-platform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    /// Client extension outputs.
    pub client_extension_results: ClientExtensionResultsJson,
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub type_: String,
}

/// `AuthenticatorAssertionResponseJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionResponseJson {
    /// clientDataJSON bytes, base64url.
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// authenticatorData, base64url.
    pub authenticator_data: String,
    /// The signature, base64url.
    pub signature: String,
    /// The user handle, base64url, for discoverable credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_handle: Option<String>,
}

/// `AuthenticationResponseJSON`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponseJson {
    /// The credential id, base64url.
    pub id: String,
    /// The same, as the raw id.
    pub raw_id: String,
    /// The assertion response.
    pub response: AssertionResponseJson,
    /// `platform` or `cross-platform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    /// Client extension outputs.
    pub client_extension_results: ClientExtensionResultsJson,
    /// `"public-key"`.
    #[serde(rename = "type")]
    pub type_: String,
}
