//! Runs the examples in `examples/` against a real `fauxkey serve`, so CI proves they work:
//! the Python one (pytest + requests, verified by py_webauthn) from the venv `.ci/venv`, the Node
//! one (node:test, verified by @simplewebauthn/server) and the Playwright one (headless Chromium
//! with the browser shim).
//!
//! Needs what `.ci/setup-browser.sh` installs; see `e2e_support` for the SKIPPED /
//! FAUXKEY_REQUIRE_E2E rule.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod e2e_support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use e2e_support::{chromium, find_tool, missing, node_with, repo, run, Run, Serve};

const LIMIT: Duration = Duration::from_secs(120);

fn report(what: &str, out: &Run, serve: &Serve) -> String {
    format!(
        "{what}\nstdout:\n{}\nstderr:\n{}\nfauxkey serve stderr:\n{}",
        out.stdout,
        out.stderr,
        serve.stderr()
    )
}

#[test]
fn python_example_passes_under_pytest() {
    let dir = repo().join("examples/python");
    let venv_python = repo().join(".ci/venv/bin/python");
    let Some(python) = find_tool("FAUXKEY_PYTHON", &[venv_python]) else {
        missing("no Python venv at .ci/venv (or $FAUXKEY_PYTHON)");
        return;
    };
    let probe = Command::new(&python)
        .args(["-c", "import pytest, requests, webauthn"])
        .output()
        .expect("run python");
    if !probe.status.success() {
        missing(&format!(
            "{} lacks pytest/requests/webauthn (examples/python/requirements.txt)",
            python.display()
        ));
        return;
    }
    let serve = Serve::start(&[]);
    let mut cmd = Command::new(python);
    cmd.current_dir(&dir)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .env("FAUXKEY_URL", &serve.base)
        .env("FAUXKEY_TOKEN", &serve.token)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let out = run(cmd, LIMIT);
    let report = report("pytest examples/python", &out, &serve);
    assert!(out.status.success(), "{report}");
    assert!(
        out.stdout.contains("13 passed"),
        "expected 13 passing tests\n{report}"
    );
}

#[test]
fn node_example_passes_under_node_test() {
    let dir = repo().join("examples/node");
    let node = match node_with(&dir, "@simplewebauthn/server") {
        Ok(node) => node,
        Err(why) => {
            missing(&why);
            return;
        }
    };
    let serve = Serve::start(&[]);
    let mut cmd = Command::new(node);
    cmd.current_dir(&dir)
        .args(["--test", "--test-reporter=tap", "passkeys.test.mjs"])
        .env("FAUXKEY_URL", &serve.base)
        .env("FAUXKEY_TOKEN", &serve.token);
    let out = run(cmd, LIMIT);
    let report = report("node --test examples/node", &out, &serve);
    assert!(out.status.success(), "{report}");
    assert!(
        out.stdout.contains("# pass 13"),
        "expected 13 passing tests\n{report}"
    );
    assert!(out.stdout.contains("# fail 0"), "{report}");
}

#[test]
fn playwright_example_registers_and_signs_in() {
    let dir = repo().join("examples/playwright");
    let Some(chromium): Option<PathBuf> = chromium() else {
        missing("chromium not found (set FAUXKEY_CHROMIUM or install Debian's chromium)");
        return;
    };
    let node = match node_with(&dir, "playwright-core") {
        Ok(node) => node,
        Err(why) => {
            missing(&why);
            return;
        }
    };
    let serve = Serve::start(&[
        "--allow-origin",
        "https://app.example",
        "--allow-key-export",
    ]);
    let mut cmd = Command::new(node);
    cmd.current_dir(&dir)
        .arg("passkey-login.mjs")
        .env("FAUXKEY_URL", &serve.base)
        .env("FAUXKEY_TOKEN", &serve.token)
        .env("CHROMIUM", chromium);
    let out = run(cmd, LIMIT);
    let report = report("examples/playwright/passkey-login.mjs", &out, &serve);
    assert!(out.status.success(), "{report}");
    assert!(
        out.stdout.contains("ok: passkey registered and used"),
        "{report}"
    );
}
