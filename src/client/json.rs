//! WebAuthn Level 3 JSON types (§5.1 `…JSON` dictionaries): the options an RP sends in, the
//! responses `toJSON()` produces. Byte fields are base64url strings without padding.
//!
//! Lists that WebIDL defaults to empty also accept `null` (some RP libraries emit it).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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

/// What `get()` reads of [`RequestOptionsJson`], borrowed: parsed straight from the options text
/// (strings without escapes are not copied), or lent by an owned [`RequestOptionsJson`]. Same
/// members and member types as it, so the same JSON parses, or fails, in both.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestOptionsRef<'a> {
    #[serde(borrow)]
    pub challenge: Cow<'a, str>,
    #[serde(default)]
    #[allow(dead_code)]
    // read by the owned form (`serve` waits for it), parsed here to check it
    pub timeout: Option<u64>,
    #[serde(default, borrow)]
    pub rp_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub allow_credentials: Vec<CredentialDescriptorRef<'a>>,
    #[serde(default, borrow)]
    pub user_verification: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "null_as_default")]
    #[allow(dead_code)] // get() takes no hint; parsed to check it as the owned form does
    pub hints: Vec<String>,
    #[serde(default)]
    pub extensions: Option<Cow<'a, ExtensionsInputJson>>,
}

/// [`CredentialDescriptorJson`], borrowed (see [`RequestOptionsRef`]).
#[derive(Debug, Deserialize)]
pub(crate) struct CredentialDescriptorRef<'a> {
    #[serde(rename = "type", borrow)]
    pub type_: Cow<'a, str>,
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default)]
    #[allow(dead_code)] // transports are hints a client may ignore; parsed to check them
    pub transports: Option<Vec<String>>,
}

impl<'a> From<&'a RequestOptionsJson> for RequestOptionsRef<'a> {
    fn from(o: &'a RequestOptionsJson) -> Self {
        Self {
            challenge: Cow::Borrowed(&o.challenge),
            timeout: o.timeout,
            rp_id: o.rp_id.as_deref().map(Cow::Borrowed),
            allow_credentials: o
                .allow_credentials
                .iter()
                .map(|d| CredentialDescriptorRef {
                    type_: Cow::Borrowed(&d.type_),
                    id: Cow::Borrowed(&d.id),
                    transports: None,
                })
                .collect(),
            user_verification: o.user_verification.as_deref().map(Cow::Borrowed),
            hints: Vec::new(),
            extensions: o.extensions.as_ref().map(Cow::Borrowed),
        }
    }
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

/// A JSON writer for the response types, giving byte for byte what `serde_json::to_string` gives
/// for them (compact, members in declaration order, absent options skipped, serde_json's string
/// escapes), into one buffer sized up front. The responses are mostly base64url, which needs no
/// escape; checking that once per string and copying it whole is what makes
/// [`AuthenticationResponseJson::to_json`] cheaper than serde_json's byte-by-byte escape loop and
/// its growing buffer.
struct Writer {
    out: String,
    /// Whether the object being written has a member yet (a comma goes before the next one).
    first: bool,
}

impl Writer {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
            first: true,
        }
    }

    fn open(&mut self) {
        self.out.push('{');
        self.first = true;
    }

    fn close(&mut self) {
        self.out.push('}');
        self.first = false;
    }

    /// `"name":` with its comma; `name` is one of ours and needs no escape.
    fn key(&mut self, name: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    fn string(&mut self, name: &str, value: &str) {
        self.key(name);
        write_json_string(&mut self.out, value);
    }

    fn opt_string(&mut self, name: &str, value: Option<&String>) {
        if let Some(v) = value {
            self.string(name, v);
        }
    }

    fn boolean(&mut self, name: &str, value: bool) {
        self.key(name);
        self.out.push_str(if value { "true" } else { "false" });
    }

    fn opt_boolean(&mut self, name: &str, value: Option<bool>) {
        if let Some(v) = value {
            self.boolean(name, v);
        }
    }

    fn string_list(&mut self, name: &str, values: &[String]) {
        self.key(name);
        self.out.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_json_string(&mut self.out, v);
        }
        self.out.push(']');
    }

    fn prf_values(&mut self, name: &str, values: &PrfValuesJson) {
        self.key(name);
        self.open();
        self.string("first", &values.first);
        self.opt_string("second", values.second.as_ref());
        self.close();
    }

    fn extension_results(&mut self, results: &ClientExtensionResultsJson) {
        self.key("clientExtensionResults");
        self.open();
        if let Some(props) = &results.cred_props {
            self.key("credProps");
            self.open();
            self.boolean("rk", props.rk);
            self.close();
        }
        if let Some(prf) = &results.prf {
            self.key("prf");
            self.open();
            self.opt_boolean("enabled", prf.enabled);
            if let Some(values) = &prf.results {
                self.prf_values("results", values);
            }
            self.close();
        }
        if let Some(blob) = &results.large_blob {
            self.key("largeBlob");
            self.open();
            self.opt_boolean("supported", blob.supported);
            self.opt_string("blob", blob.blob.as_ref());
            self.opt_boolean("written", blob.written);
            self.close();
        }
        self.opt_boolean("credBlob", results.cred_blob);
        self.opt_string("getCredBlob", results.get_cred_blob.as_ref());
        self.close();
    }
}

/// Appends `value` as a JSON string with serde_json's escapes: `"` and `\`, the short forms
/// `\b \t \n \f \r`, `\u00xx` (lower-case hex) for the other control characters, and nothing
/// else (not `/`, not DEL, not non-ASCII).
fn write_json_string(out: &mut String, value: &str) {
    out.push('"');
    let bytes = value.as_bytes();
    // A fold without early exit, which the compiler vectorizes; most strings need no escape.
    let escapes = bytes.iter().fold(0u8, |any, &b| {
        any | u8::from((b < 0x20) | (b == b'"') | (b == b'\\'))
    });
    if escapes == 0 {
        out.push_str(value);
    } else {
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                0x08 => "\\b",
                b'\t' => "\\t",
                b'\n' => "\\n",
                0x0c => "\\f",
                b'\r' => "\\r",
                0x00..=0x1f => "",
                _ => continue,
            };
            // Every byte that stops here is ASCII, so both slices end on character boundaries.
            out.push_str(&value[start..i]);
            if short.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            } else {
                out.push_str(short);
            }
            start = i + 1;
        }
        out.push_str(&value[start..]);
    }
    out.push('"');
}

/// A `PublicKeyCredential`'s JSON: the members around its `response` object, which `response`
/// writes; `text` is the strings it holds, to size the buffer.
fn credential_json(
    text: &[&str],
    id: &str,
    raw_id: &str,
    attachment: Option<&String>,
    results: &ClientExtensionResultsJson,
    type_: &str,
    response: impl FnOnce(&mut Writer),
) -> String {
    let mut w = Writer::with_capacity(text.iter().map(|s| s.len()).sum::<usize>() + 256);
    w.open();
    w.string("id", id);
    w.string("rawId", raw_id);
    w.key("response");
    w.open();
    response(&mut w);
    w.close();
    w.opt_string("authenticatorAttachment", attachment);
    w.extension_results(results);
    w.string("type", type_);
    w.close();
    w.out
}

impl AuthenticationResponseJson {
    /// This response as compact JSON: the same text as `serde_json::to_string(self)`, written in
    /// one pass into a buffer sized up front. The `serve` endpoint answers with it.
    pub fn to_json(&self) -> String {
        let r = &self.response;
        let text = [
            &self.id,
            &self.raw_id,
            &r.client_data_json,
            &r.authenticator_data,
            &r.signature,
            r.user_handle.as_deref().unwrap_or_default(),
        ];
        credential_json(
            &text,
            &self.id,
            &self.raw_id,
            self.authenticator_attachment.as_ref(),
            &self.client_extension_results,
            &self.type_,
            |w| {
                w.string("clientDataJSON", &r.client_data_json);
                w.string("authenticatorData", &r.authenticator_data);
                w.string("signature", &r.signature);
                w.opt_string("userHandle", r.user_handle.as_ref());
            },
        )
    }
}

impl RegistrationResponseJson {
    /// This response as compact JSON: the same text as `serde_json::to_string(self)` (see
    /// [`AuthenticationResponseJson::to_json`]).
    pub fn to_json(&self) -> String {
        let r = &self.response;
        let mut text = vec![
            self.id.as_str(),
            &self.raw_id,
            &r.client_data_json,
            &r.authenticator_data,
            r.public_key.as_deref().unwrap_or_default(),
            &r.attestation_object,
        ];
        text.extend(r.transports.iter().map(String::as_str));
        credential_json(
            &text,
            &self.id,
            &self.raw_id,
            self.authenticator_attachment.as_ref(),
            &self.client_extension_results,
            &self.type_,
            |w| {
                w.string("clientDataJSON", &r.client_data_json);
                w.string("authenticatorData", &r.authenticator_data);
                w.string_list("transports", &r.transports);
                w.opt_string("publicKey", r.public_key.as_ref());
                w.key("publicKeyAlgorithm");
                let _ = write!(w.out, "{}", r.public_key_algorithm);
                w.string("attestationObject", &r.attestation_object);
            },
        )
    }
}
