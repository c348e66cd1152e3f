//! Related origin requests over the network (WebAuthn L3 §5.11): [`HttpsWellKnown`] fetches
//! `https://{rpId}/.well-known/webauthn` for [`WellKnownRelatedOrigins`](super::related::WellKnownRelatedOrigins),
//! the way the specification and browsers do:
//!
//! * a `GET` without credentials (no cookies, no `Authorization`) and without a referrer;
//! * `https:` only: redirects are followed (at most [`MAX_REDIRECTS`], as Fetch and Chromium
//!   allow), but every hop must be `https:` too (§5.11: "WebAuthn Clients MUST explicitly
//!   require all redirects to also use the https: scheme");
//! * the answer counts only with status 200 (after redirects) and content type
//!   `application/json` (parameters such as `charset` aside), as §5.11.1 step 2 asks;
//! * at most [`MAX_BODY_BYTES`] of body (Chromium's `kRpIdMaxBodyBytes`) and a
//!   [`TIMEOUT`] for the whole exchange (Chromium's and Firefox's 10 seconds).
//!
//! TLS is rustls (ring) with the Mozilla roots of `webpki-roots`, plus any extra root a test
//! adds ([`HttpsWellKnownBuilder::trust_root_der`]); [`HttpsWellKnownBuilder::resolve`] sends a
//! host to a fixed address (e.g. `example.com` → `127.0.0.1:PORT`) the way `curl --resolve`
//! does, so a test needs no `/etc/hosts` entry. The certificate is still checked against the
//! RP ID. This module is behind the `related-origins-fetch` cargo feature.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::Arc;
use std::time::Duration;

use super::related::WellKnownSource;

/// The largest `/.well-known/webauthn` body read (256 KiB, Chromium's limit); a larger one
/// counts as no document.
pub const MAX_BODY_BYTES: usize = 1 << 18;

/// How long the whole fetch (connect, TLS, redirects, body) may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How many redirects are followed (the Fetch standard's limit, which Chromium uses).
pub const MAX_REDIRECTS: u32 = 20;

/// Why a well-known document was not obtained (each means "no related origins").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WellKnownFetchError {
    /// The RP ID does not give a `https://{rpId}/.well-known/webauthn` URL with exactly that host.
    #[error("{0:?} is not a domain a well-known URL can be built from")]
    BadRpId(String),
    /// No answer: DNS, connection, TLS (e.g. an untrusted certificate), an `http:` redirect,
    /// too many redirects, or the timeout.
    #[error("fetching {url} failed: {reason}")]
    Transport {
        /// The URL asked for.
        url: String,
        /// What went wrong, as the HTTP stack says it.
        reason: String,
    },
    /// The final status is not 200.
    #[error("{url} answered status {status}, not 200")]
    Status {
        /// The URL answered (after redirects).
        url: String,
        /// Its status.
        status: u16,
    },
    /// The content type is not `application/json`.
    #[error("{url} has content type {content_type:?}, not application/json")]
    ContentType {
        /// The URL answered (after redirects).
        url: String,
        /// The `Content-Type` header ("" when absent).
        content_type: String,
    },
    /// The body is larger than the limit.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL answered (after redirects).
        url: String,
        /// The limit ([`MAX_BODY_BYTES`] unless changed).
        limit: usize,
    },
    /// The body could not be read completely, or is not UTF-8.
    #[error("the body of {url} could not be read as text: {reason}")]
    Body {
        /// The URL answered (after redirects).
        url: String,
        /// What went wrong.
        reason: String,
    },
}

/// The fetcher could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpsSetupError {
    /// An extra root is not a DER X.509 certificate rustls can use as a trust anchor.
    #[error("the extra root certificate cannot be trusted: {0}")]
    BadRoot(String),
    /// rustls refused the configuration.
    #[error("the TLS configuration failed: {0}")]
    Tls(String),
}

/// Fetches `/.well-known/webauthn` documents over HTTPS (see the module docs).
pub struct HttpsWellKnown {
    agent: ureq::Agent,
    max_body: usize,
}

impl std::fmt::Debug for HttpsWellKnown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsWellKnown")
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// Settings for [`HttpsWellKnown`]: extra trusted roots, fixed host addresses, limits.
#[derive(Debug, Clone)]
pub struct HttpsWellKnownBuilder {
    extra_roots: Vec<Vec<u8>>,
    webpki_roots: bool,
    hosts: BTreeMap<String, SocketAddr>,
    timeout: Duration,
    max_body: usize,
}

impl Default for HttpsWellKnownBuilder {
    fn default() -> Self {
        Self {
            extra_roots: Vec::new(),
            webpki_roots: true,
            hosts: BTreeMap::new(),
            timeout: TIMEOUT,
            max_body: MAX_BODY_BYTES,
        }
    }
}

impl HttpsWellKnownBuilder {
    /// Also trusts this root certificate (DER), e.g. a test CA or mkcert's.
    pub fn trust_root_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    /// Trusts only the roots given with [`trust_root_der`](Self::trust_root_der), not the
    /// Mozilla roots.
    pub fn without_webpki_roots(mut self) -> Self {
        self.webpki_roots = false;
        self
    }

    /// Connects to `addr` whenever `host` (any port) is asked for, as `curl --resolve` does; the
    /// TLS certificate is still checked against `host`.
    pub fn resolve(mut self, host: &str, addr: SocketAddr) -> Self {
        self.hosts.insert(host.to_ascii_lowercase(), addr);
        self
    }

    /// Replaces [`TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces [`MAX_BODY_BYTES`].
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The fetcher.
    pub fn build(self) -> Result<HttpsWellKnown, HttpsSetupError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for der in self.extra_roots {
            roots
                .add(rustls::pki_types::CertificateDer::from(der))
                .map_err(|e| HttpsSetupError::BadRoot(e.to_string()))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| HttpsSetupError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let hosts = self.hosts;
        let resolver = move |netloc: &str| -> std::io::Result<Vec<SocketAddr>> {
            let host = netloc.rsplit_once(':').map_or(netloc, |(h, _)| h);
            match hosts.get(&host.to_ascii_lowercase()) {
                Some(addr) => Ok(vec![*addr]),
                None => netloc.to_socket_addrs().map(Iterator::collect),
            }
        };
        // No cookie store (ureq's `cookies` feature is off) and no Referer: "without
        // credentials, without a referrer" (§5.11).
        let agent = ureq::AgentBuilder::new()
            .tls_config(Arc::new(tls))
            .https_only(true)
            .redirects(MAX_REDIRECTS)
            .timeout(self.timeout)
            .resolver(resolver)
            .user_agent(concat!("fauxkey/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(HttpsWellKnown {
            agent,
            max_body: self.max_body,
        })
    }
}

impl HttpsWellKnown {
    /// Settings to start from: the Mozilla roots, real DNS, [`TIMEOUT`], [`MAX_BODY_BYTES`].
    pub fn builder() -> HttpsWellKnownBuilder {
        HttpsWellKnownBuilder::default()
    }

    /// A fetcher with the default settings.
    pub fn new() -> Result<Self, HttpsSetupError> {
        Self::builder().build()
    }

    /// The well-known URL of `rp_id`: `https://{rp_id}/.well-known/webauthn`.
    pub fn url(rp_id: &str) -> Result<url::Url, WellKnownFetchError> {
        let bad = || WellKnownFetchError::BadRpId(rp_id.to_owned());
        let url =
            url::Url::parse(&format!("https://{rp_id}/.well-known/webauthn")).map_err(|_| bad())?;
        // The RP ID must be the whole host: no port, credentials or path smuggled in.
        let exact = url.host_str() == Some(rp_id)
            && url.port().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/.well-known/webauthn";
        if exact {
            Ok(url)
        } else {
            Err(bad())
        }
    }

    /// Fetches the document of `rp_id` (§5.11.1 step 2): its body, or why there is none.
    pub fn fetch_document(&self, rp_id: &str) -> Result<String, WellKnownFetchError> {
        let url = Self::url(rp_id)?;
        let response = match self.agent.request_url("GET", &url).call() {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                return Err(WellKnownFetchError::Status {
                    url: r.get_url().to_owned(),
                    status,
                })
            }
            Err(e) => {
                return Err(WellKnownFetchError::Transport {
                    url: url.to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let answered = response.get_url().to_owned();
        // Step 2: status 200 after redirects (a 3xx left over is not followed further).
        if response.status() != 200 {
            return Err(WellKnownFetchError::Status {
                url: answered,
                status: response.status(),
            });
        }
        // Step 2: content type application/json (its essence; MIME types are case-insensitive).
        let content_type = response.header("content-type").unwrap_or("").to_owned();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(WellKnownFetchError::ContentType {
                url: answered,
                content_type,
            });
        }
        let limit = self.max_body;
        let mut body = Vec::new();
        response
            .into_reader()
            .take(limit as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| WellKnownFetchError::Body {
                url: answered.clone(),
                reason: e.to_string(),
            })?;
        if body.len() > limit {
            return Err(WellKnownFetchError::TooLarge {
                url: answered,
                limit,
            });
        }
        String::from_utf8(body).map_err(|e| WellKnownFetchError::Body {
            url: answered,
            reason: e.to_string(),
        })
    }
}

impl WellKnownSource for HttpsWellKnown {
    fn fetch(&self, rp_id: &str) -> Option<String> {
        self.fetch_document(rp_id).ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_well_known_url_is_built_from_the_whole_rp_id_only() {
        assert_eq!(
            HttpsWellKnown::url("example.com").unwrap().as_str(),
            "https://example.com/.well-known/webauthn"
        );
        for bad in [
            "example.com:8443",
            "user@example.com",
            "example.com/x",
            "example.com?q",
            "Example.com",
            "",
        ] {
            assert!(
                matches!(
                    HttpsWellKnown::url(bad),
                    Err(WellKnownFetchError::BadRpId(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_root_that_is_not_a_certificate_is_refused() {
        let e = HttpsWellKnown::builder()
            .trust_root_der(b"not a certificate".to_vec())
            .build()
            .unwrap_err();
        assert!(matches!(e, HttpsSetupError::BadRoot(_)), "{e}");
    }
}
