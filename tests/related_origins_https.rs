//! Related origins against a local HTTPS test server (issue 19's proof for WebAuthn L3 §5.11):
//! the client fetches `https://{rpId}/.well-known/webauthn` from a rustls server on 127.0.0.1
//! (the RP IDs are mapped to it with `HttpsWellKnownBuilder::resolve`, its certificate comes
//! from a test CA the fetcher is told to trust), applies the L3 procedure and caches the answer.
//! Every way a fetch can fail gives "no related origins" (SecurityError), each for its own
//! reason; a registration from a related origin is verified by webauthn-rs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod https_support;

use std::sync::OnceLock;
use std::time::Duration;

use fauxkey::client::related::WellKnownRelatedOrigins;
use fauxkey::client::related_https::{
    HttpsWellKnown, HttpsWellKnownBuilder, WellKnownFetchError, MAX_BODY_BYTES,
};
use fauxkey::Client;
use https_support::{HttpsServer, Reply, TestCa};

const WELL_KNOWN: &str = "/.well-known/webauthn";

/// The hosts the test server answers for; each RP ID shows one behaviour.
const HOSTS: &[&str] = &[
    "example.com",    // lists shop.example.co.uk (application/json; charset=utf-8)
    "labels.com",     // six registrable-domain labels
    "status.com",     // 404 with a good document
    "ctype.com",      // text/plain with a good document
    "malformed.com",  // not JSON
    "notstrings.com", // origins is not an array of strings
    "oversize.com",   // a good document one byte over the limit
    "atlimit.com",    // a good document exactly at the limit
    "redirect.com",   // 302 to an https: URL on the same host
    "insecure.com",   // 302 to an http: URL
    "looping.com",    // redirects forever
];

fn document(origins: &[&str]) -> String {
    serde_json::json!({ "origins": origins }).to_string()
}

/// A good document listing `origin`, padded with spaces to exactly `len` bytes.
fn padded(origin: &str, len: usize) -> Vec<u8> {
    let mut doc = document(&[origin]).into_bytes();
    assert!(doc.len() <= len);
    doc.resize(len, b' ');
    doc
}

fn handler(seen: &https_support::Seen) -> Reply {
    let good = || document(&["https://shop.example.co.uk"]);
    match (seen.host.as_str(), seen.path.as_str()) {
        ("example.com", WELL_KNOWN) => Reply {
            content_type: Some("application/json; charset=utf-8".into()),
            ..Reply::json(document(&[
                "https://example.de",
                "https://shop.example.co.uk",
            ]))
        },
        ("labels.com", WELL_KNOWN) => Reply::json(document(&[
            "https://a.com",
            "https://b.com",
            "https://c.com",
            "https://d.com",
            "https://e.com",
            "https://f.com",
            "https://www.a.co.uk",
        ])),
        ("status.com", WELL_KNOWN) => Reply {
            status: 404,
            ..Reply::json(good())
        },
        ("ctype.com", WELL_KNOWN) => Reply {
            content_type: Some("text/plain".into()),
            ..Reply::json(good())
        },
        ("malformed.com", WELL_KNOWN) => {
            Reply::json("{\"origins\": [\"https://shop.example.co.uk\"")
        }
        ("notstrings.com", WELL_KNOWN) => {
            Reply::json("{\"origins\": [\"https://shop.example.co.uk\", 7]}")
        }
        ("oversize.com", WELL_KNOWN) => {
            Reply::json(padded("https://shop.example.co.uk", MAX_BODY_BYTES + 1))
        }
        ("atlimit.com", WELL_KNOWN) => {
            Reply::json(padded("https://shop.example.co.uk", MAX_BODY_BYTES))
        }
        ("redirect.com", WELL_KNOWN) => Reply {
            status: 302,
            location: Some("https://redirect.com/moved/webauthn.json".into()),
            ..Reply::json("")
        },
        ("redirect.com", "/moved/webauthn.json") => Reply::json(good()),
        ("insecure.com", WELL_KNOWN) => Reply {
            status: 302,
            location: Some("http://insecure.com/.well-known/webauthn".into()),
            ..Reply::json("")
        },
        ("looping.com", _) => Reply {
            status: 302,
            location: Some(format!("https://looping.com/hop{}", seen.path.len())),
            ..Reply::json("")
        },
        _ => Reply {
            status: 404,
            content_type: None,
            location: None,
            body: Vec::new(),
        },
    }
}

struct Fixture {
    ca: TestCa,
    server: HttpsServer,
}

/// One server for the whole test binary (tests that count hits use their own RP IDs or their
/// own server).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ca = TestCa::new(7);
        let (cert, key) = ca.server_cert(HOSTS);
        let server = HttpsServer::start(cert, key, handler);
        Fixture { ca, server }
    })
}

/// A fetcher that trusts the test CA (and nothing else) and sends every test host to `server`.
fn fetcher_for(server: &HttpsServer, root: &[u8]) -> HttpsWellKnownBuilder {
    let mut builder = HttpsWellKnown::builder()
        .without_webpki_roots()
        .trust_root_der(root.to_vec());
    for host in HOSTS {
        builder = builder.resolve(host, server.addr);
    }
    builder
}

fn fetcher() -> HttpsWellKnown {
    let f = fixture();
    fetcher_for(&f.server, &f.ca.root_der).build().unwrap()
}

fn browser() -> Client {
    Client::in_memory().with_related_origins(WellKnownRelatedOrigins::new(fetcher()))
}

fn creation(rp_id: &str) -> String {
    format!(
        r#"{{"rp": {{"id": "{rp_id}", "name": "E"}},
        "user": {{"id": "dXNlci0x", "name": "alice", "displayName": "Alice"}},
        "challenge": "Y2hhbGxlbmdlLTE", "pubKeyCredParams": [{{"type": "public-key", "alg": -7}}],
        "authenticatorSelection": {{"residentKey": "required"}}}}"#
    )
}

/// `create` from `origin` for `rp_id`: Ok, or the DOMException name.
fn create(client: &mut Client, origin: &str, rp_id: &str) -> Result<(), &'static str> {
    client
        .create(origin, &creation(rp_id))
        .map(|_| ())
        .map_err(|e| e.name())
}

#[test]
fn a_listed_origin_registers_and_logs_in_and_webauthn_rs_accepts_both() {
    use webauthn_rs_core::proto::{
        AttestationConveyancePreference, COSEAlgorithm, PublicKeyCredential,
        RegisterPublicKeyCredential, UserVerificationPolicy,
    };
    use webauthn_rs_core::WebauthnCore;

    const ORIGIN: &str = "https://shop.example.co.uk";
    // The RP: RP ID example.com, serving its pages on shop.example.co.uk too.
    let rp = WebauthnCore::new_unsafe_experts_only(
        "Example RP",
        "example.com",
        vec![
            url::Url::parse("https://example.com").unwrap(),
            url::Url::parse(ORIGIN).unwrap(),
        ],
        Duration::from_secs(60),
        None,
        None,
    );
    let mut client = browser();
    let builder = rp
        .new_challenge_register_builder(b"alice-user-handle", "alice", "Alice")
        .unwrap()
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .require_resident_key(false)
        .attestation(AttestationConveyancePreference::None);
    let (ccr, reg_state) = rp.generate_challenge_register(builder).unwrap();
    let response = client
        .create(ORIGIN, &serde_json::to_string(&ccr).unwrap())
        .unwrap();
    let reg: RegisterPublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&response).unwrap()).unwrap();
    let cred = rp
        .register_credential(&reg, &reg_state, None)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the registration: {e:?}"));

    let builder = rp
        .new_challenge_authenticate_builder(
            vec![cred.clone()],
            Some(UserVerificationPolicy::Preferred),
        )
        .unwrap();
    let (rcr, auth_state) = rp.generate_challenge_authenticate(builder).unwrap();
    let login = client
        .get(ORIGIN, &serde_json::to_string(&rcr).unwrap())
        .unwrap();
    let pkc: PublicKeyCredential =
        serde_json::from_str(&serde_json::to_string(&login).unwrap()).unwrap();
    rp.authenticate_credential(&pkc, &auth_state)
        .unwrap_or_else(|e| panic!("webauthn-rs rejected the login: {e:?}"));
    // The client said where the ceremony ran: the related origin, for RP ID example.com.
    let client_data = fauxkey::b64url::decode(&login.response.client_data_json).unwrap();
    let client_data: serde_json::Value = serde_json::from_slice(&client_data).unwrap();
    assert_eq!(client_data["origin"], ORIGIN);
}

#[test]
fn an_origin_the_document_does_not_list_is_refused() {
    let mut client = browser();
    assert_eq!(
        create(&mut client, "https://shop.example.org", "example.com"),
        Err("SecurityError")
    );
    // Same host, other port: not the same origin.
    assert_eq!(
        create(
            &mut client,
            "https://shop.example.co.uk:8443",
            "example.com"
        ),
        Err("SecurityError")
    );
    assert_eq!(
        create(&mut client, "https://example.de", "example.com"),
        Ok(())
    );
}

#[test]
fn only_the_first_five_labels_count() {
    let mut client = browser();
    // e.com is the fifth label: considered.
    assert_eq!(create(&mut client, "https://e.com", "labels.com"), Ok(()));
    // f.com is a sixth label: not considered, though listed.
    assert_eq!(
        create(&mut client, "https://f.com", "labels.com"),
        Err("SecurityError")
    );
    // www.a.co.uk comes after the limit but under a label already seen: considered.
    assert_eq!(
        create(&mut client, "https://www.a.co.uk", "labels.com"),
        Ok(())
    );
}

/// Each bad answer is refused for its own reason, and the client then refuses the origin the
/// document would have listed.
#[test]
fn bad_answers_give_no_related_origins() {
    let fetch = fetcher();
    type Expect = fn(&WellKnownFetchError) -> bool;
    let cases: &[(&str, Expect)] = &[
        ("status.com", |e| {
            matches!(e, WellKnownFetchError::Status { status: 404, .. })
        }),
        (
            "ctype.com",
            |e| matches!(e, WellKnownFetchError::ContentType { content_type, .. } if content_type == "text/plain"),
        ),
        (
            "oversize.com",
            |e| matches!(e, WellKnownFetchError::TooLarge { limit, .. } if *limit == MAX_BODY_BYTES),
        ),
        (
            "insecure.com",
            |e| matches!(e, WellKnownFetchError::Transport { reason, .. } if reason.contains("https")),
        ),
        (
            "looping.com",
            |e| matches!(e, WellKnownFetchError::Transport { reason, .. } if reason.contains("redirect")),
        ),
    ];
    for (rp_id, expected) in cases {
        let e = fetch.fetch_document(rp_id).unwrap_err();
        assert!(expected(&e), "{rp_id}: unexpected error {e}");
    }
    // Fetched fine, but not a usable document (§5.11.1: origins must be an array of strings).
    for rp_id in ["malformed.com", "notstrings.com"] {
        let body = fetch.fetch_document(rp_id).unwrap();
        assert_eq!(
            fauxkey::client::related::parse_document(&body),
            None,
            "{rp_id}"
        );
    }
    let mut client = browser();
    for rp_id in [
        "status.com",
        "ctype.com",
        "oversize.com",
        "insecure.com",
        "looping.com",
        "malformed.com",
        "notstrings.com",
    ] {
        assert_eq!(
            create(&mut client, "https://shop.example.co.uk", rp_id),
            Err("SecurityError"),
            "{rp_id}"
        );
    }
    // Each fetch of insecure.com asked once over https: and stopped at its http: redirect.
    assert_eq!(fixture().server.hits("insecure.com", WELL_KNOWN), 2);
}

#[test]
fn good_answers_at_the_edges_count() {
    let mut client = browser();
    // Exactly MAX_BODY_BYTES: accepted.
    assert_eq!(
        create(&mut client, "https://shop.example.co.uk", "atlimit.com"),
        Ok(())
    );
    // An https: redirect is followed (§5.11 allows redirects that stay on https:).
    assert_eq!(
        create(&mut client, "https://shop.example.co.uk", "redirect.com"),
        Ok(())
    );
    assert!(
        fixture()
            .server
            .hits("redirect.com", "/moved/webauthn.json")
            >= 1
    );
}

#[test]
fn an_untrusted_certificate_gives_no_related_origins() {
    let f = fixture();
    // Another CA's root: the server's certificate does not chain to it.
    let other = TestCa::new(9);
    let fetch = fetcher_for(&f.server, &other.root_der).build().unwrap();
    let e = fetch.fetch_document("example.com").unwrap_err();
    assert!(
        matches!(&e, WellKnownFetchError::Transport { .. }),
        "unexpected error {e}"
    );
    // The Mozilla roots alone do not trust it either.
    let mut builder = HttpsWellKnown::builder();
    for host in HOSTS {
        builder = builder.resolve(host, f.server.addr);
    }
    let e = builder
        .build()
        .unwrap()
        .fetch_document("example.com")
        .unwrap_err();
    assert!(matches!(&e, WellKnownFetchError::Transport { .. }), "{e}");
    let mut client = Client::in_memory().with_related_origins(WellKnownRelatedOrigins::new(fetch));
    assert_eq!(
        create(&mut client, "https://shop.example.co.uk", "example.com"),
        Err("SecurityError")
    );
}

/// Its own server, so that the count is this test's alone.
#[test]
fn each_rp_id_is_fetched_once_without_credentials_or_referrer() {
    let ca = TestCa::new(11);
    let (cert, key) = ca.server_cert(HOSTS);
    let server = HttpsServer::start(cert, key, handler);
    let related = std::sync::Arc::new(WellKnownRelatedOrigins::new(
        fetcher_for(&server, &ca.root_der).build().unwrap(),
    ));
    // Two clients sharing one policy, as `fauxkey serve`'s authenticators do.
    let mut first = Client::in_memory().with_related_origins(related.clone());
    let mut second = Client::in_memory().with_related_origins(related.clone());
    for client in [&mut first, &mut second] {
        assert_eq!(
            create(client, "https://shop.example.co.uk", "example.com"),
            Ok(())
        );
        assert_eq!(
            create(client, "https://shop.example.org", "example.com"),
            Err("SecurityError")
        );
        // A failure is cached too.
        assert_eq!(
            create(client, "https://shop.example.co.uk", "status.com"),
            Err("SecurityError")
        );
    }
    first
        .get(
            "https://shop.example.co.uk",
            r#"{"challenge": "Y2hhbGxlbmdlLTI", "rpId": "example.com"}"#,
        )
        .unwrap();
    let hits = server.hits_by_host();
    assert_eq!(hits.get("example.com"), Some(&1), "{hits:?}");
    assert_eq!(hits.get("status.com"), Some(&1), "{hits:?}");
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert_eq!(related.cached(), 2);
    let snapshot = related.snapshot();
    assert_eq!(snapshot["status.com"], None);
    assert_eq!(
        snapshot["example.com"].as_deref(),
        Some(
            &[
                "https://example.de".to_owned(),
                "https://shop.example.co.uk".to_owned()
            ][..]
        )
    );
    // A plain GET: no cookies, no credentials, no referrer.
    for seen in server.seen() {
        assert_eq!(seen.method, "GET");
        for header in ["cookie", "authorization", "referer", "origin"] {
            assert!(!seen.headers.iter().any(|h| h == header), "{seen:?}");
        }
    }
    // A client with related origins says so in getClientCapabilities(); one without does not.
    assert!(first.capabilities()["relatedOrigins"]);
    assert!(!Client::in_memory().capabilities()["relatedOrigins"]);
}

/// An RP ID that is a registrable suffix of the origin never causes a fetch.
#[test]
fn no_fetch_when_the_rp_id_is_the_origins_own() {
    let ca = TestCa::new(13);
    let (cert, key) = ca.server_cert(HOSTS);
    let server = HttpsServer::start(cert, key, handler);
    let fetch = fetcher_for(&server, &ca.root_der).build().unwrap();
    let mut client = Client::in_memory().with_related_origins(WellKnownRelatedOrigins::new(fetch));
    assert_eq!(
        create(&mut client, "https://login.example.com", "example.com"),
        Ok(())
    );
    assert!(server.seen().is_empty());
}
