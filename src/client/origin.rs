//! Origin and RP ID rules of the WebAuthn client: which callers may use the
//! API at all, and which RP ID a caller may claim.
//!
//! This follows WebAuthn Level 3 §5.1.3 / §5.1.4 (steps "opaque origin",
//! "effective domain is not a valid domain" and "RP ID resolution") and the
//! HTML rule "is a registrable domain suffix of or is equal to".
//!
//! * An origin is parsed as a WHATWG URL (with the `url` crate, as a browser
//!   would) and only its origin is kept: `"https://example.com/login?x"` is
//!   accepted and becomes `"https://example.com"`. Userinfo, path, query and
//!   fragment are dropped, a default port is dropped. An opaque origin
//!   (`null`, `data:`, `file:`, or a string that is not an absolute URL) is a
//!   `NotAllowedError`.
//! * The scheme must be `https`, or `http` when the host is exactly
//!   `localhost` (any port). Other schemes, and `http` elsewhere, are a
//!   `SecurityError`. So are IP-address hosts (v4 and v6), and hosts with a
//!   trailing dot or an empty label: the effective domain must be a domain.
//! * Hosts are lowercased and IDNA-mapped to their ASCII (`xn--`) form by the
//!   URL parser. The effective domain, and every RP ID this module returns,
//!   is in that ASCII form, so `rpIdHash` is the same whether the RP ID was
//!   given as `xn--mnchen-3ya.example` or left out on `https://münchen.example`.
//! * An RP ID, when given, must be a bare, canonical domain string: no
//!   scheme, port, path, percent-escape, ASCII uppercase letter, leading or
//!   trailing dot, and not an IP address. A Unicode RP ID is refused, as
//!   Chromium refuses it: the page passes the ASCII (`xn--`) form. Anything
//!   else is a `SecurityError`.
//! * The RP ID must equal the host, or be a suffix of it on a label boundary
//!   that is not a public suffix (Public Suffix List, private section
//!   included, plus the list's implicit `*` rule, so an unlisted TLD such as
//!   `localhost` counts as a public suffix). Unlike the bare HTML rule, a
//!   public suffix is refused even when it equals the host (`https://github.io`
//!   cannot use `github.io`, with or without an explicit rpId); `localhost` is
//!   the one exception, so `http://localhost:3000` works.
//! * Related origin requests (`/.well-known/webauthn`) plug in through
//!   [`RelatedOrigins`]; [`super::related`] implements L3 §5.11.1 over
//!   documents from a static map or a fetcher of the embedder's.

use std::fmt;

use url::{Host, Origin, Url};

/// What went wrong, and the DOMException a browser would throw for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// The origin is opaque or not a URL at all (browser: NotAllowedError).
    #[error(
        "origin {origin:?} is opaque or is not an absolute URL with a host; \
         WebAuthn needs a tuple origin such as \"https://example.com\""
    )]
    Opaque {
        /// The origin string as the caller gave it.
        origin: String,
    },
    /// The origin's scheme/host is not allowed, or the RP ID is not valid for it (browser: SecurityError).
    #[error("{reason}")]
    Insecure {
        /// A sentence saying which origin, host or RP ID was refused, and why.
        reason: String,
    },
}

impl OriginError {
    /// The name of the DOMException a browser throws for this error:
    /// `"NotAllowedError"` or `"SecurityError"`.
    pub fn dom_exception_name(&self) -> &'static str {
        match self {
            OriginError::Opaque { .. } => "NotAllowedError",
            OriginError::Insecure { .. } => "SecurityError",
        }
    }

    fn insecure(reason: impl fmt::Display) -> Self {
        OriginError::Insecure {
            reason: reason.to_string(),
        }
    }
}

/// A caller's origin, parsed and checked.
///
/// It holds the ASCII serialization of the origin (as written into
/// `clientDataJSON`), its host (the effective domain) and, for a call from a
/// cross-origin iframe, the serialized top-level origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerOrigin {
    serialized: String,
    host: String,
    /// Only set when it differs from `serialized`.
    top_origin: Option<String>,
}

impl CallerOrigin {
    /// Parses and checks a caller origin such as
    /// `"https://login.example.com:8443"`.
    ///
    /// Any absolute URL is accepted and reduced to its origin (path, query,
    /// fragment and userinfo are dropped), as a browser only ever hands the
    /// origin to WebAuthn. Errors: [`OriginError::Opaque`] for an opaque
    /// origin or a string that is not an absolute URL;
    /// [`OriginError::Insecure`] for a scheme other than `https` (or `http`
    /// on `localhost`), an IP-address host, or a host that is not a valid
    /// domain.
    pub fn parse(origin: &str) -> Result<Self, OriginError> {
        let (serialized, host) = parse_tuple_origin(origin, Role::Caller)?;
        Ok(CallerOrigin {
            serialized,
            host,
            top_origin: None,
        })
    }

    /// Records the top-level origin, for a call made from an iframe.
    ///
    /// The top origin is parsed like [`CallerOrigin::parse`] (it must be an
    /// `https` origin, or `http` on `localhost`), except that an IP-address
    /// host is allowed for it. When it equals this origin the call is
    /// same-origin and nothing is recorded. A call from an iframe that is
    /// same-origin with the top but nested in a cross-origin frame is
    /// cross-origin in WebAuthn; callers emulating that should pass the
    /// differing ancestor's origin here.
    pub fn with_top_origin(mut self, top: &str) -> Result<Self, OriginError> {
        let (top_serialized, _host) = parse_tuple_origin(top, Role::Top)?;
        self.top_origin = (top_serialized != self.serialized).then_some(top_serialized);
        Ok(self)
    }

    /// The same origin with `evil` prefixed to its host (`https://evilexample.com`), for the
    /// `wrong-origin` fault.
    pub(crate) fn with_evil_host(&self) -> CallerOrigin {
        CallerOrigin {
            serialized: self.serialized.replacen("://", "://evil", 1),
            host: format!("evil{}", self.host),
            top_origin: self.top_origin.clone(),
        }
    }

    /// The ASCII serialization of the origin, as in `clientDataJSON`:
    /// e.g. `"https://example.com"` (no trailing slash, default port dropped).
    pub fn serialized(&self) -> &str {
        &self.serialized
    }

    /// The effective domain: the origin's host, lowercase, in ASCII (`xn--`)
    /// form.
    pub fn effective_domain(&self) -> &str {
        &self.host
    }

    /// The serialized top-level origin, only when it differs from the origin.
    pub fn top_origin(&self) -> Option<&str> {
        self.top_origin.as_deref()
    }

    /// Whether the call is cross-origin (`crossOrigin` in `clientDataJSON`):
    /// a top origin was given and it differs from the origin.
    pub fn cross_origin(&self) -> bool {
        self.top_origin.is_some()
    }
}

impl fmt::Display for CallerOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

/// The related origin requests seam (WebAuthn L3 §5.11,
/// `https://<rpId>/.well-known/webauthn`).
///
/// [`validate_rp_id`] consults it only where the specification does: when
/// the requested RP ID is a syntactically valid domain that is neither the
/// origin's host nor a registrable suffix of it.
pub trait RelatedOrigins {
    /// Whether `origin` is listed as a related origin of `rp_id` (given in
    /// its normalised ASCII form).
    fn is_related(&self, rp_id: &str, origin: &CallerOrigin) -> bool;

    /// Whether this client supports related origin requests at all (the `relatedOrigins`
    /// client capability); true unless overridden.
    fn supported(&self) -> bool {
        true
    }
}

/// One policy shared by several clients (e.g. every authenticator of `fauxkey serve`, with one
/// cache).
impl<T: RelatedOrigins + ?Sized> RelatedOrigins for std::sync::Arc<T> {
    fn is_related(&self, rp_id: &str, origin: &CallerOrigin) -> bool {
        (**self).is_related(rp_id, origin)
    }

    fn supported(&self) -> bool {
        (**self).supported()
    }
}

/// A [`RelatedOrigins`] that knows no related origins: a client without
/// related origin request support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRelatedOrigins;

impl RelatedOrigins for NoRelatedOrigins {
    fn is_related(&self, _rp_id: &str, _origin: &CallerOrigin) -> bool {
        false
    }

    fn supported(&self) -> bool {
        false
    }
}

/// Returns the RP ID to use (the given one normalised, or the effective domain when none is given).
///
/// The returned RP ID is lowercase ASCII (`xn--` labels for IDNs). Errors
/// are [`OriginError::Insecure`] (SecurityError), with a reason naming the
/// RP ID, the host and the rule broken.
pub fn validate_rp_id(
    origin: &CallerOrigin,
    rp_id: Option<&str>,
    related: &dyn RelatedOrigins,
) -> Result<String, OriginError> {
    let Some(requested) = rp_id else {
        // The default RP ID is the effective domain, under the same public-suffix rule.
        return check_registrable_suffix(&origin.host, &origin.host)
            .map(|()| origin.host.clone())
            .map_err(|reason| OriginError::Insecure { reason });
    };
    let rp = normalize_rp_id(requested)?;
    match check_registrable_suffix(&rp, &origin.host) {
        Ok(()) => Ok(rp),
        Err(_) if related.is_related(&rp, origin) => Ok(rp),
        Err(reason) => Err(OriginError::Insecure { reason }),
    }
}

/// Which origin is being parsed: the caller's, or the top-level one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Caller,
    Top,
}

impl Role {
    fn noun(self) -> &'static str {
        match self {
            Role::Caller => "origin",
            Role::Top => "top origin",
        }
    }
}

/// Parses `input` as a URL, keeps its origin, and checks it. Returns the
/// ASCII serialization and the host.
fn parse_tuple_origin(input: &str, role: Role) -> Result<(String, String), OriginError> {
    let opaque = || OriginError::Opaque {
        origin: input.to_owned(),
    };
    let url = Url::parse(input).map_err(|_| opaque())?;
    let origin = url.origin();
    let serialized = origin.ascii_serialization();
    let Origin::Tuple(scheme, host, _port) = origin else {
        return Err(opaque());
    };
    let noun = role.noun();
    if scheme != "https" && scheme != "http" {
        return Err(OriginError::insecure(format_args!(
            "{noun} {serialized:?} has scheme {scheme:?}; WebAuthn needs https \
             (or http on localhost)"
        )));
    }
    let host = match host {
        Host::Domain(domain) => domain,
        Host::Ipv4(_) | Host::Ipv6(_) if role == Role::Top => host.to_string(),
        Host::Ipv4(_) | Host::Ipv6(_) => {
            return Err(OriginError::insecure(format_args!(
                "the host \"{host}\" of {noun} {serialized:?} is an IP address; \
                 WebAuthn needs a domain name"
            )));
        }
    };
    if scheme == "http" && host != "localhost" {
        return Err(OriginError::insecure(format_args!(
            "{noun} {serialized:?} uses http; WebAuthn needs https, and allows \
             http only on the host \"localhost\""
        )));
    }
    if role == Role::Caller && host.split('.').any(str::is_empty) {
        return Err(OriginError::insecure(format_args!(
            "the host {host:?} of {noun} {serialized:?} is not a valid domain \
             (empty label or trailing dot)"
        )));
    }
    Ok((serialized, host))
}

/// Checks that `requested` is a bare, canonical domain string and returns it
/// in lowercase ASCII (`xn--`) form.
fn normalize_rp_id(requested: &str) -> Result<String, OriginError> {
    let refuse = |why: &str| {
        Err(OriginError::insecure(format_args!(
            "rpId {requested:?} is not a valid RP ID: {why}"
        )))
    };
    if requested.is_empty() {
        return refuse("it is empty");
    }
    if requested.contains("://") {
        return refuse("it has a scheme; an RP ID is a bare domain such as \"example.com\"");
    }
    if requested.starts_with('[') {
        return refuse("it is an IP address; an RP ID must be a domain name");
    }
    if requested.contains(':') {
        return refuse("it has a port; an RP ID is a bare domain, any port is allowed");
    }
    if requested.contains(['/', '?', '#', '@']) {
        return refuse("it is not a bare domain (it contains '/', '?', '#' or '@')");
    }
    if requested.ends_with('.') {
        return refuse("it has a trailing dot");
    }
    if requested.bytes().any(|b| b.is_ascii_uppercase()) {
        return refuse(&format!(
            "it contains uppercase letters; write it in lowercase, as \"{}\"",
            requested.to_lowercase()
        ));
    }
    let ascii = match Host::parse(requested) {
        Ok(Host::Domain(ascii)) => ascii,
        Ok(Host::Ipv4(_) | Host::Ipv6(_)) => {
            return refuse("it is an IP address; an RP ID must be a domain name");
        }
        Err(e) => return refuse(&format!("it is not a valid domain ({e})")),
    };
    if ascii.split('.').any(str::is_empty) {
        return refuse("it has an empty label");
    }
    // Chromium fidelity: a non-ASCII RP ID is a SecurityError even when its IDNA form is the
    // page's host (Chromium 156 refuses `münchen.localhost` on `xn--mnchen-3ya.localhost`); the
    // page must pass the `xn--` form. README "Fidelity to Chromium".
    if !requested.is_ascii() {
        return refuse(&format!(
            "it is not ASCII; browsers (Chromium) take only the ASCII form, write {ascii:?}"
        ));
    }
    if ascii != requested {
        return refuse(&format!(
            "it is not in canonical form (the URL host parser reads it as {ascii:?})"
        ));
    }
    Ok(ascii)
}

/// The HTML rule "is a registrable domain suffix of or is equal to", for an
/// already normalised `rp_id` and `host`. The error is the human reason.
fn check_registrable_suffix(rp_id: &str, host: &str) -> Result<(), String> {
    if rp_id == host {
        // fauxkey refuses a public suffix as RP ID even when it is the host itself (a page on
        // `github.io` cannot scope passkeys to every `*.github.io` site). `localhost` is the one
        // bare name allowed, as browsers allow it for development.
        if rp_id != "localhost" && public_suffix(rp_id).is_none_or(|s| s == rp_id) {
            return Err(format!(
                "rpId {rp_id:?} is a public suffix (a Public Suffix List entry or a bare \
                 top-level domain); passkeys cannot be scoped to it"
            ));
        }
        return Ok(());
    }
    let dotted = format!(".{rp_id}");
    if !host.ends_with(&dotted) {
        let hint = if rp_id.ends_with(&format!(".{host}")) {
            " (an RP ID may drop labels from the left of the host, never add them)"
        } else {
            ""
        };
        return Err(format!(
            "rpId {rp_id:?} is not the origin's host {host:?} nor a registrable suffix of it{hint}"
        ));
    }
    let rp_suffix = public_suffix(rp_id);
    if rp_suffix.is_none_or(|s| s == rp_id) {
        return Err(format!(
            "rpId {rp_id:?} is a public suffix (a Public Suffix List entry or a bare \
             top-level domain), so the origin's host {host:?} may not claim it; use \
             {host:?} or a registrable domain it ends with"
        ));
    }
    if let Some(host_suffix) = public_suffix(host) {
        if host_suffix == rp_id || host_suffix.ends_with(&dotted) {
            return Err(format!(
                "rpId {rp_id:?} lies within the public suffix {host_suffix:?} of the \
                 origin's host {host:?}, so it is not a registrable suffix of it"
            ));
        }
    }
    Ok(())
}

/// The public suffix of a lowercase ASCII domain, per the Public Suffix List
/// (ICANN and private sections, with the implicit `*` rule).
fn public_suffix(domain: &str) -> Option<&str> {
    let suffix = psl::suffix(domain.as_bytes())?;
    std::str::from_utf8(suffix.trim().as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NA: &str = "NotAllowedError";
    const SE: &str = "SecurityError";

    /// (caller origin, requested rpId, expected rpId or DOMException name)
    const CASES: &[(&str, Option<&str>, Result<&str, &str>)] = &[
        // the plain cases
        ("https://example.com", None, Ok("example.com")),
        (
            "https://example.com",
            Some("example.com"),
            Ok("example.com"),
        ),
        (
            "https://login.example.com:8443",
            Some("example.com"),
            Ok("example.com"),
        ),
        (
            "https://login.example.com:8443",
            None,
            Ok("login.example.com"),
        ),
        (
            "https://sub.example.com",
            Some("example.com"),
            Ok("example.com"),
        ),
        (
            "https://www.example.com",
            Some("www.example.com"),
            Ok("www.example.com"),
        ),
        (
            "https://example.com:443",
            Some("example.com"),
            Ok("example.com"),
        ),
        // suffix on a label boundary only, never a superdomain or a lookalike
        ("https://example.com", Some("evilexample.com"), Err(SE)),
        ("https://evilexample.com", Some("example.com"), Err(SE)),
        ("https://example.com.evil.org", Some("example.com"), Err(SE)),
        ("https://example.com", Some("sub.example.com"), Err(SE)),
        // public suffixes, ICANN and private sections
        ("https://example.com", Some("com"), Err(SE)),
        ("https://example.co.uk", Some("co.uk"), Err(SE)),
        ("https://a.b.example.co.uk", Some("uk"), Err(SE)),
        (
            "https://login.example.co.uk",
            Some("example.co.uk"),
            Ok("example.co.uk"),
        ),
        ("https://user.github.io", Some("github.io"), Err(SE)),
        (
            "https://user.github.io",
            Some("user.github.io"),
            Ok("user.github.io"),
        ),
        ("https://user.github.io", None, Ok("user.github.io")),
        ("https://github.io", None, Err(SE)),
        ("https://github.io", Some("github.io"), Err(SE)),
        ("https://co.uk", Some("co.uk"), Err(SE)),
        ("https://intranet", None, Err(SE)),
        ("https://app.localhost", Some("localhost"), Err(SE)),
        // localhost and http
        ("http://localhost:3000", None, Ok("localhost")),
        ("http://localhost:3000", Some("localhost"), Ok("localhost")),
        ("http://LOCALHOST", None, Ok("localhost")),
        ("http://example.com", None, Err(SE)),
        ("http://127.0.0.1:8080", None, Err(SE)),
        // IP addresses are not domains
        ("https://127.0.0.1", None, Err(SE)),
        ("https://[::1]", None, Err(SE)),
        ("https://example.com", Some("127.0.0.1"), Err(SE)),
        ("https://example.com", Some("[::1]"), Err(SE)),
        // case: the URL parser lowercases hosts; RP IDs must already be lowercase
        (
            "https://EXAMPLE.com",
            Some("example.com"),
            Ok("example.com"),
        ),
        ("https://example.com", Some("Example.com"), Err(SE)),
        // RP IDs are bare canonical domains
        ("https://example.com", Some("example.com."), Err(SE)),
        ("https://example.com", Some(".example.com"), Err(SE)),
        ("https://example.com", Some(""), Err(SE)),
        ("https://example.com", Some("example.com:443"), Err(SE)),
        ("https://example.com", Some("https://example.com"), Err(SE)),
        ("https://example.com", Some("ex%61mple.com"), Err(SE)),
        ("https://example.com.", None, Err(SE)),
        // IDNA: Unicode and xn-- forms compare equal; the xn-- form is returned
        (
            "https://münchen.example",
            None,
            Ok("xn--mnchen-3ya.example"),
        ),
        (
            "https://münchen.example",
            Some("xn--mnchen-3ya.example"),
            Ok("xn--mnchen-3ya.example"),
        ),
        // ... but a Unicode RP ID is refused, as Chromium refuses it
        (
            "https://xn--mnchen-3ya.example",
            Some("münchen.example"),
            Err(SE),
        ),
        (
            "https://münchen.example",
            Some("mu\u{308}nchen.example"),
            Err(SE),
        ),
        // a URL is reduced to its origin
        ("https://example.com/login?x=1#top", None, Ok("example.com")),
        (
            "https://user:pw@example.com/",
            Some("example.com"),
            Ok("example.com"),
        ),
        ("blob:https://example.com/3f0e", None, Ok("example.com")),
        // opaque origins and non-URLs
        ("null", None, Err(NA)),
        ("", None, Err(NA)),
        ("not a url", None, Err(NA)),
        ("example.com", None, Err(NA)),
        ("data:text/html,hi", None, Err(NA)),
        ("file:///tmp/login.html", None, Err(NA)),
        // other schemes
        ("ftp://example.com", None, Err(SE)),
        ("wss://example.com", None, Err(SE)),
    ];

    #[test]
    fn origin_and_rp_id_table() {
        let mut failures = Vec::new();
        for &(origin, rp_id, expected) in CASES {
            let got = CallerOrigin::parse(origin)
                .and_then(|o| validate_rp_id(&o, rp_id, &NoRelatedOrigins));
            let got_cmp = match &got {
                Ok(rp) => Ok(rp.as_str()),
                Err(e) => Err(e.dom_exception_name()),
            };
            if got_cmp != expected {
                failures.push(format!(
                    "{origin:?} rpId {rp_id:?}: expected {expected:?}, got {got:?}"
                ));
            }
        }
        assert!(CASES.len() >= 30);
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn serialization_and_effective_domain() {
        let o = CallerOrigin::parse("https://example.com:443").expect("valid");
        assert_eq!(o.serialized(), "https://example.com");
        let o = CallerOrigin::parse("https://Login.Example.com:8443/path?q#f").expect("valid");
        assert_eq!(o.serialized(), "https://login.example.com:8443");
        assert_eq!(o.effective_domain(), "login.example.com");
        let o = CallerOrigin::parse("http://localhost:3000/").expect("valid");
        assert_eq!(o.serialized(), "http://localhost:3000");
        let o = CallerOrigin::parse("https://münchen.example").expect("valid");
        assert_eq!(o.serialized(), "https://xn--mnchen-3ya.example");
    }

    #[test]
    fn top_origin_and_cross_origin() {
        let o = CallerOrigin::parse("https://idp.example.org").expect("valid");
        assert!(!o.cross_origin());
        assert_eq!(o.top_origin(), None);

        let same = o
            .clone()
            .with_top_origin("https://idp.example.org/page")
            .expect("valid");
        assert!(!same.cross_origin());
        assert_eq!(same.top_origin(), None);
        assert_eq!(same, o);

        let cross = o
            .clone()
            .with_top_origin("https://shop.example.com:443/")
            .expect("valid");
        assert!(cross.cross_origin());
        assert_eq!(cross.top_origin(), Some("https://shop.example.com"));
        assert_eq!(cross.serialized(), "https://idp.example.org");

        // same host, other port: a different origin
        let port = o
            .clone()
            .with_top_origin("https://idp.example.org:8443")
            .expect("valid");
        assert!(port.cross_origin());

        // an IP-address top origin is fine; opaque or insecure ones are not
        assert!(o.clone().with_top_origin("https://192.0.2.1").is_ok());
        let err = o.clone().with_top_origin("null").expect_err("opaque");
        assert_eq!(err.dom_exception_name(), NA);
        let err = o
            .with_top_origin("http://shop.example.com")
            .expect_err("insecure");
        assert_eq!(err.dom_exception_name(), SE);
    }

    #[test]
    fn error_messages_name_the_rp_id_host_and_rule() {
        let o = CallerOrigin::parse("https://example.com").expect("valid");
        let e = validate_rp_id(&o, Some("evilexample.com"), &NoRelatedOrigins).expect_err("bad");
        assert_eq!(
            e.to_string(),
            "rpId \"evilexample.com\" is not the origin's host \"example.com\" \
             nor a registrable suffix of it"
        );
        let o = CallerOrigin::parse("https://user.github.io").expect("valid");
        let e = validate_rp_id(&o, Some("github.io"), &NoRelatedOrigins).expect_err("bad");
        assert!(e.to_string().contains("public suffix"), "{e}");
        let e = validate_rp_id(&o, Some("GitHub.io"), &NoRelatedOrigins).expect_err("bad");
        assert!(e.to_string().contains("uppercase"), "{e}");
        let e = CallerOrigin::parse("https://127.0.0.1").expect_err("ip");
        assert!(e.to_string().contains("IP address"), "{e}");
        let e = CallerOrigin::parse("null").expect_err("opaque");
        assert!(e.to_string().contains("\"null\""), "{e}");
    }

    #[test]
    fn related_origins_consulted_only_for_a_foreign_valid_rp_id() {
        struct Allow(&'static str);
        impl RelatedOrigins for Allow {
            fn is_related(&self, rp_id: &str, _origin: &CallerOrigin) -> bool {
                rp_id == self.0
            }
        }
        let o = CallerOrigin::parse("https://example.co.uk").expect("valid");
        let related = Allow("example.com");
        assert_eq!(
            validate_rp_id(&o, Some("example.com"), &related).as_deref(),
            Ok("example.com")
        );
        assert_eq!(
            validate_rp_id(&o, None, &related).as_deref(),
            Ok("example.co.uk")
        );
        // a malformed rpId never reaches the related origins check
        let e = validate_rp_id(&o, Some("Example.com"), &related).expect_err("bad");
        assert_eq!(e.dom_exception_name(), SE);
        let e = validate_rp_id(&o, Some("example.org"), &related).expect_err("bad");
        assert_eq!(e.dom_exception_name(), SE);
    }
}
