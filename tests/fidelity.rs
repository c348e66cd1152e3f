//! Fidelity to Chromium where the spec leaves room (README "Fidelity to Chromium"). Each case
//! was run against Debian's headless Chromium 156 (CDP virtual authenticator on a localhost
//! page); the test pins fauxkey's decision.

#![allow(clippy::unwrap_used)]

use fauxkey::Client;
use serde_json::json;

fn creation(extra: serde_json::Value) -> String {
    let mut o = json!({
        "rp": {"name": "Example", "id": "example.com"},
        "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
        "challenge": "Y2hhbGxlbmdlLTE",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o.to_string()
}

fn descriptors(n: usize) -> serde_json::Value {
    (0..n)
        .map(|i| json!({"type": "public-key", "id": fauxkey::b64url::encode(&[i as u8, 1, 2, 3])}))
        .collect()
}

/// Chromium: "RangeError: The `excludeCredentials` attribute exceeds the maximum allowed size
/// (64)." (and the same for allowCredentials); 64 entries are fine.
#[test]
fn more_than_64_exclude_or_allow_credentials_is_a_range_error() {
    let mut browser = Client::in_memory();
    browser
        .create(
            "https://example.com",
            &creation(json!({"excludeCredentials": descriptors(64)})),
        )
        .unwrap();
    let e = browser
        .create(
            "https://example.com",
            &creation(json!({"excludeCredentials": descriptors(65)})),
        )
        .unwrap_err();
    assert_eq!(e.name(), "RangeError");
    assert_eq!(
        e.message(),
        "The `excludeCredentials` attribute exceeds the maximum allowed size (64)."
    );
    let e = browser
        .get(
            "https://example.com",
            &json!({"challenge": "Y2hhbGxlbmdlLTI", "allowCredentials": descriptors(65)})
                .to_string(),
        )
        .unwrap_err();
    assert_eq!(e.name(), "RangeError");
    assert!(e.message().contains("`allowCredentials`"), "{e}");
}

/// Chromium refuses a Unicode rp.id even when its IDNA form is the page's host; the ASCII
/// form, or no rp.id, works. fauxkey does the same.
#[test]
fn a_unicode_rp_id_is_a_security_error_and_the_xn_form_works() {
    let mut browser = Client::in_memory();
    let rp = |id: &str| creation(json!({"rp": {"name": "M", "id": id}}));
    let e = browser
        .create("https://xn--mnchen-3ya.example", &rp("münchen.example"))
        .unwrap_err();
    assert_eq!(e.name(), "SecurityError", "{e}");
    assert!(e.message().contains("not ASCII"), "{e}");
    browser
        .create("https://münchen.example", &rp("xn--mnchen-3ya.example"))
        .unwrap();
}

/// Chromium accepts a trailing-dot origin (`http://localhost.:PORT`) and then uses the RP ID
/// "localhost." (with the dot: another RP ID, whose passkeys do not work on "localhost").
/// fauxkey refuses the origin with a SecurityError (a deliberate deviation: a test that passes
/// there would register passkeys for an RP ID the site never uses).
#[test]
fn a_trailing_dot_origin_is_refused() {
    let mut browser = Client::in_memory();
    let e = browser
        .create(
            "https://example.com.",
            &creation(json!({"rp": {"name": "E"}})),
        )
        .unwrap_err();
    assert_eq!(e.name(), "SecurityError", "{e}");
    assert!(e.message().contains("trailing dot"), "{e}");
}

/// Chromium ignores an unknown extension nested 200 deep. fauxkey ignores unknown extensions
/// too, up to serde_json's bound on nesting (128 levels in all); deeper is a TypeError that
/// says why (a deliberate deviation: a bounded parser on a server that takes page input).
#[test]
fn unknown_extensions_are_ignored_up_to_the_parser_depth_bound() {
    let mut browser = Client::in_memory();
    let nested = |depth: usize| {
        let text = creation(json!({"extensions": {"unknownExt": "X"}}));
        text.replace(
            "\"X\"",
            &format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        )
    };
    // The options object, `extensions` and its member take three levels.
    let deepest = fauxkey::client::MAX_JSON_DEPTH - 3;
    browser
        .create("https://example.com", &nested(deepest))
        .unwrap();
    let e = browser
        .create("https://example.com", &nested(deepest + 1))
        .unwrap_err();
    assert_eq!(e.name(), "TypeError");
    assert!(e.message().contains("nested deeper than 128 levels"), "{e}");
}
