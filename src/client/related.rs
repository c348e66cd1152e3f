//! Related origin requests (WebAuthn L3 §5.11): an RP lists, at
//! `https://{rpId}/.well-known/webauthn`, the origins that may use its RP ID
//! (`{"origins": ["https://example.co.uk", ...]}`), and the client checks a
//! caller against that list with the "related origins validation procedure"
//! (§5.11.1), which caps the number of distinct registrable-domain labels it
//! looks at ([`MAX_LABELS`], the spec's minimum of 5).
//!
//! [`WellKnownRelatedOrigins`] is that procedure over documents from a
//! [`WellKnownSource`]: a static map for offline tests ([`StaticWellKnown`]),
//! the HTTPS fetcher `super::related_https::HttpsWellKnown` (feature
//! `related-origins-fetch`), both ([`Fallback`]), or any fetcher the embedder
//! plugs in. Answers are cached per RP ID for the life of the client, a missing
//! or malformed document included (as "no related origins").

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use super::origin::{CallerOrigin, RelatedOrigins};

/// How many distinct registrable-domain labels the procedure considers (§5.11.1 "maxLabels";
/// the spec asks for at least 5, which Chromium uses).
pub const MAX_LABELS: usize = 5;

/// Where `/.well-known/webauthn` documents come from.
pub trait WellKnownSource: Send {
    /// The body of `https://{rp_id}/.well-known/webauthn`, or `None` when there is none
    /// (fetch failed, not 200, not `application/json`).
    fn fetch(&self, rp_id: &str) -> Option<String>;
}

impl<T: WellKnownSource + ?Sized> WellKnownSource for Box<T> {
    fn fetch(&self, rp_id: &str) -> Option<String> {
        (**self).fetch(rp_id)
    }
}

/// Documents given up front: RP ID → body (for tests without a network).
#[derive(Debug, Clone, Default)]
pub struct StaticWellKnown(pub BTreeMap<String, String>);

impl StaticWellKnown {
    /// A map read from JSON: an object of RP ID → well-known document, e.g.
    /// `{"example.com": {"origins": ["https://example.co.uk"]}}` (what `serve
    /// --related-origins-map` reads). Every RP ID must be lowercase ASCII as clients compare
    /// them, and every document must be one [`parse_document`] accepts; the error says which
    /// entry is not.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let serde_json::Value::Object(entries) = value else {
            return Err("expected an object of RP ID -> document, e.g. \
                 {\"example.com\": {\"origins\": [\"https://example.co.uk\"]}}"
                .into());
        };
        let mut map = StaticWellKnown::default();
        for (rp_id, document) in entries {
            if rp_id.is_empty() || !rp_id.is_ascii() || rp_id != rp_id.to_ascii_lowercase() {
                return Err(format!(
                    "{rp_id:?} is not an RP ID as clients compare them: lowercase ASCII (xn-- \
                     for international names)"
                ));
            }
            let text = document.to_string();
            if !document.is_object() || parse_document(&text).is_none() {
                return Err(format!(
                    "the entry for {rp_id:?} is not a well-known document: expected \
                     {{\"origins\": [\"https://…\", …]}}"
                ));
            }
            map.0.insert(rp_id, text);
        }
        Ok(map)
    }

    /// One RP ID whose document lists `origins`.
    pub fn with(mut self, rp_id: &str, origins: &[&str]) -> Self {
        let doc = serde_json::json!({ "origins": origins }).to_string();
        self.0.insert(rp_id.to_owned(), doc);
        self
    }
}

impl WellKnownSource for StaticWellKnown {
    fn fetch(&self, rp_id: &str) -> Option<String> {
        self.0.get(rp_id).cloned()
    }
}

/// The documents of `.0`, and for RP IDs it has none for, those of `.1` (e.g. a static map in
/// front of the network).
#[derive(Debug, Clone, Default)]
pub struct Fallback<A, B>(pub A, pub B);

impl<A: WellKnownSource, B: WellKnownSource> WellKnownSource for Fallback<A, B> {
    fn fetch(&self, rp_id: &str) -> Option<String> {
        self.0.fetch(rp_id).or_else(|| self.1.fetch(rp_id))
    }
}

/// Reads a well-known document: its `origins` strings, or `None` when it is not a JSON object
/// with an array of strings there (§5.11.1 steps: a malformed document is a failure).
pub fn parse_document(body: &str) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value
        .get("origins")?
        .as_array()?
        .iter()
        .map(|o| o.as_str().map(str::to_owned))
        .collect()
}

/// The label of a host's registrable domain: `example` for `www.example.co.uk`; `None` when the
/// host is a public suffix or has no registrable domain.
fn registrable_label(host: &str) -> Option<String> {
    let domain = psl::domain(host.as_bytes())?;
    let suffix = domain.suffix().as_bytes().len();
    let text = std::str::from_utf8(domain.as_bytes()).ok()?;
    let label = text.get(..text.len().checked_sub(suffix + 1)?)?;
    (!label.is_empty()).then(|| label.to_owned())
}

/// The related origins validation procedure (L3 §5.11.1) for `caller` over `origins`.
pub fn validate(caller: &CallerOrigin, origins: &[String]) -> bool {
    // Step 2: labelsSeen.
    let mut labels_seen: HashSet<String> = HashSet::new();
    // Step 3: for each originItem.
    for item in origins {
        // 3.1: parse as a URL; skip failures.
        let Ok(url) = url::Url::parse(item) else {
            continue;
        };
        // 3.2: its effective domain; skip when null.
        let Some(url::Host::Domain(domain)) = url.host() else {
            continue;
        };
        // 3.3: the label of its registrable domain; skip when empty or null.
        let Some(label) = registrable_label(domain) else {
            continue;
        };
        // 3.4: past maxLabels, a label not seen before is not considered.
        if labels_seen.len() >= MAX_LABELS && !labels_seen.contains(&label) {
            continue;
        }
        // 3.5: same origin as the caller: success.
        if url.origin().ascii_serialization() == caller.serialized() {
            return true;
        }
        // 3.6: remember the label while under the cap.
        if labels_seen.len() < MAX_LABELS {
            labels_seen.insert(label);
        }
    }
    // Step 4.
    false
}

/// [`RelatedOrigins`] by the L3 procedure over documents from `source`, cached per RP ID.
pub struct WellKnownRelatedOrigins<S: WellKnownSource> {
    source: S,
    cache: Mutex<HashMap<String, Option<Vec<String>>>>,
}

impl<S: WellKnownSource> std::fmt::Debug for WellKnownRelatedOrigins<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WellKnownRelatedOrigins")
            // try_lock: never wait for (or deadlock on) a fetch in progress.
            .field("cached", &self.cache.try_lock().map(|c| c.len()).ok())
            .finish_non_exhaustive()
    }
}

impl<S: WellKnownSource> WellKnownRelatedOrigins<S> {
    /// Over `source`, with an empty cache.
    pub fn new(source: S) -> Self {
        WellKnownRelatedOrigins {
            source,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// How many RP IDs have an answer cached (fetched at most once each).
    pub fn cached(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }

    /// The cache, by RP ID: the origins its document lists, or `None` when there was no usable
    /// document.
    pub fn snapshot(&self) -> BTreeMap<String, Option<Vec<String>>> {
        self.cache
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
}

impl<S: WellKnownSource> RelatedOrigins for WellKnownRelatedOrigins<S> {
    fn is_related(&self, rp_id: &str, origin: &CallerOrigin) -> bool {
        let Ok(mut cache) = self.cache.lock() else {
            return false;
        };
        let origins = cache
            .entry(rp_id.to_owned())
            .or_insert_with(|| self.source.fetch(rp_id).as_deref().and_then(parse_document));
        origins.as_deref().is_some_and(|o| validate(origin, o))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Client;

    fn caller(o: &str) -> CallerOrigin {
        CallerOrigin::parse(o).unwrap()
    }

    #[test]
    fn labels_of_registrable_domains() {
        assert_eq!(
            registrable_label("www.example.co.uk").as_deref(),
            Some("example")
        );
        assert_eq!(registrable_label("example.com").as_deref(), Some("example"));
        assert_eq!(registrable_label("co.uk"), None);
    }

    #[test]
    fn the_label_limit_stops_at_five_distinct_labels() {
        let list: Vec<String> = [
            "https://a.com",
            "https://b.com",
            "https://c.com",
            "https://d.com",
            "https://e.com",
            // a sixth label is not considered ...
            "https://f.com",
            // ... but another origin under a label already seen is
            "https://www.a.co.uk",
        ]
        .map(str::to_owned)
        .to_vec();
        assert!(validate(&caller("https://e.com"), &list));
        assert!(!validate(&caller("https://f.com"), &list));
        assert!(validate(&caller("https://www.a.co.uk"), &list));
        // Unparsable entries and public suffixes do not count against the limit.
        let list: Vec<String> = [
            "not a url",
            "https://co.uk",
            "https://a.com",
            "https://b.com",
            "https://c.com",
            "https://d.com",
            "https://e.com",
        ]
        .map(str::to_owned)
        .to_vec();
        assert!(validate(&caller("https://e.com"), &list));
        // Same origin, not same site: the port counts.
        assert!(!validate(&caller("https://a.com:8443"), &list));
    }

    #[test]
    fn malformed_documents_relate_nothing() {
        assert_eq!(parse_document("{\"origins\": [1]}"), None);
        assert_eq!(parse_document("[]"), None);
        assert_eq!(
            parse_document("{\"origins\": [\"https://a.com\"]}"),
            Some(vec!["https://a.com".to_owned()])
        );
    }

    #[test]
    fn each_rp_id_is_fetched_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        struct Counting(Arc<AtomicUsize>);
        impl WellKnownSource for Counting {
            fn fetch(&self, _rp_id: &str) -> Option<String> {
                self.0.fetch_add(1, Ordering::SeqCst);
                Some("{\"origins\": [\"https://example.co.uk\"]}".into())
            }
        }
        let n = Arc::new(AtomicUsize::new(0));
        let related = WellKnownRelatedOrigins::new(Counting(n.clone()));
        for _ in 0..3 {
            assert!(related.is_related("example.com", &caller("https://example.co.uk")));
            assert!(!related.is_related("example.com", &caller("https://example.de")));
        }
        assert!(!related.is_related("other.com", &caller("https://example.de")));
        assert_eq!((n.load(Ordering::SeqCst), related.cached()), (2, 2));
        let snapshot = related.snapshot();
        assert_eq!(
            snapshot.get("example.com"),
            Some(&Some(vec!["https://example.co.uk".to_owned()]))
        );
    }

    #[test]
    fn a_fallback_asks_its_second_source_only_for_what_the_first_lacks() {
        let first = StaticWellKnown::default().with("example.com", &["https://a.com"]);
        let second = StaticWellKnown::default()
            .with("example.com", &["https://b.com"])
            .with("other.com", &["https://c.com"]);
        let both = Fallback(first, second);
        assert!(both.fetch("example.com").unwrap().contains("a.com"));
        assert!(both.fetch("other.com").unwrap().contains("c.com"));
        assert_eq!(both.fetch("third.com"), None);
    }

    /// A page on example.co.uk uses example.com's passkey once example.com lists it.
    #[test]
    fn a_client_uses_an_rp_id_its_related_origin_document_allows() {
        let options = r#"{"rp": {"id": "example.com", "name": "E"},
            "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
            "challenge": "Y2hhbGxlbmdlLTE", "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"residentKey": "required"}}"#;
        let mut plain = Client::in_memory();
        let e = plain.create("https://example.co.uk", options).unwrap_err();
        assert_eq!(e.name(), "SecurityError");
        let source = StaticWellKnown::default().with("example.com", &["https://example.co.uk"]);
        let mut browser =
            Client::in_memory().with_related_origins(WellKnownRelatedOrigins::new(source));
        browser.create("https://example.co.uk", options).unwrap();
        let login = browser
            .get(
                "https://example.co.uk",
                r#"{"challenge": "Y2hhbGxlbmdlLTI", "rpId": "example.com"}"#,
            )
            .unwrap();
        assert_eq!(login.response.user_handle.as_deref(), Some("dXNlci0x"));
        // An origin the document does not list stays refused.
        let e = browser
            .get(
                "https://example.de",
                r#"{"challenge": "Y2hhbGxlbmdlLTM", "rpId": "example.com"}"#,
            )
            .unwrap_err();
        assert_eq!(e.name(), "SecurityError");
    }
}
