//! The real-browser end-to-end tests: Debian's headless Chromium (driven by playwright-core over
//! CDP) and Debian's Firefox ESR (puppeteer-core over WebDriver BiDi) each open a demo relying
//! party of our own (`tests/browser/`: @simplewebauthn/browser in the page,
//! @simplewebauthn/server verifying), with fauxkey's browser shim, fetched from a running
//! `fauxkey serve`, injected before the page loads. The page registers and signs in twice; the
//! RP server must verify all three ceremonies, the signature counter must rise, and the shim's
//! objects must behave like the browser's own (instanceof, ArrayBuffers, toJSON, getPublicKey(),
//! PRF results, DOMException names, AbortSignal, signals). The same front end then registers and
//! signs in once more with an authenticator of every builtin provider profile.
//!
//! Also runs the shim where a browser has no WebAuthn at all (`shim-standalone.test.mjs`).
//!
//! Needs chromium, firefox-esr, node and `npm ci` in tests/browser (`.ci/setup-browser.sh`); see
//! `e2e_support` for the SKIPPED / FAUXKEY_REQUIRE_E2E rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod e2e_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e_support::{chromium, firefox, missing, node, node_with, repo, run, Serve};

/// The checks e2e.mjs makes besides one per provider profile; the run must report all passed.
const CHECKS: usize = 31;

#[test]
fn chromium_registers_and_signs_in_through_the_shim() {
    let Some(chromium) = chromium() else {
        missing("chromium not found (set FAUXKEY_CHROMIUM or install Debian's chromium)");
        return;
    };
    run_e2e("chromium", "FAUXKEY_CHROMIUM", &chromium);
}

#[test]
fn firefox_registers_and_signs_in_through_the_shim() {
    let Some(firefox) = firefox() else {
        missing("firefox-esr not found (set FAUXKEY_FIREFOX or install Debian's firefox-esr)");
        return;
    };
    run_e2e("firefox", "FAUXKEY_FIREFOX", &firefox);
}

/// Runs e2e.mjs in one browser against a fresh server; every check must pass.
fn run_e2e(kind: &str, var: &str, executable: &Path) {
    let dir = repo().join("tests/browser");
    let package = if kind == "firefox" {
        "puppeteer-core"
    } else {
        "playwright-core"
    };
    let node = match node_with(&dir, package) {
        Ok(node) => node,
        Err(why) => {
            missing(&why);
            return;
        }
    };
    // The demo RP also registers and signs in with an authenticator of every builtin profile.
    let profiles = fauxkey::profiles::names();
    // Chromium also takes a WebDriver-shape export through CDP `WebAuthn.addCredential`.
    let checks = CHECKS + profiles.len() + usize::from(kind == "chromium");
    // e2e.mjs starts `fauxkey serve` itself, once its RP origins are known (--allow-origin).
    let mut cmd = Command::new(node);
    cmd.current_dir(&dir)
        .arg("e2e.mjs")
        .arg(kind)
        .env("FAUXKEY_BIN", env!("CARGO_BIN_EXE_fauxkey"))
        .env(var, executable)
        .env("FAUXKEY_PROFILES", profiles.join(","))
        // Keys that store no discoverable credential (u2f-key): the demo RP's residentKey
        // "required" registration must be refused, as a browser refuses it with such a key.
        .env(
            "FAUXKEY_PROFILES_WITHOUT_RK",
            without_resident_keys(&profiles).join(","),
        );
    let out = run(cmd, Duration::from_secs(180));
    println!("{}", out.stdout);
    let report = format!(
        "e2e.mjs ({kind}) stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    assert!(out.status.success(), "e2e.mjs failed\n{report}");
    assert!(
        out.stdout
            .contains(&format!("e2e ({kind}): {checks} passed, 0 failed")),
        "expected all {checks} checks to run and pass\n{report}"
    );
    assert!(!out.stdout.contains("FAIL "), "{report}");
}

/// The shim in a page with no WebAuthn of its own (stand-in classes, parse*FromJSON polyfills),
/// run in Node with page-like globals against a real server. Needs only node.
#[test]
fn shim_stands_in_where_the_browser_has_no_webauthn() {
    let dir = repo().join("tests/browser");
    let Some(node) = node() else {
        missing("node not found (set FAUXKEY_NODE or put node on PATH)");
        return;
    };
    let serve = Serve::start(&[]);
    let mut cmd = Command::new(node);
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "shim-standalone.test.mjs"])
        .env("FAUXKEY_URL", &serve.base)
        .env("FAUXKEY_TOKEN", &serve.token);
    let out = run(cmd, Duration::from_secs(60));
    let report = format!(
        "stdout:\n{}\nstderr:\n{}\nfauxkey serve stderr:\n{}",
        out.stdout,
        out.stderr,
        serve.stderr()
    );
    assert!(out.status.success(), "{report}");
    assert!(
        out.stdout.contains("# pass 6"),
        "expected 6 passing tests\n{report}"
    );
    assert!(out.stdout.contains("# fail 0"), "{report}");
}

fn without_resident_keys(profiles: &[String]) -> Vec<String> {
    profiles
        .iter()
        .filter(|name| {
            !fauxkey::profiles::resolve(name)
                .expect("a builtin profile")
                .config
                .resident_keys
        })
        .cloned()
        .collect()
}
