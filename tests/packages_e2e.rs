//! The Python and npm packages, installed as a user installs them, against real RP libraries and
//! real browsers:
//!
//! - Python: `maturin build` makes the wheel (with the binary), `pip install` puts it into a
//!   fresh venv, and pytest runs `tests/packages/python/`, which uses only the plugin's
//!   `fauxkey` fixture, with py_webauthn as the RP.
//! - npm: `npm pack` of `npm/fauxkey` and `npm/linux-x64` (with the binary copied in), `npm
//!   install` of both tarballs into a fresh directory next to `tests/packages/node/`, then
//!   `node --test`: the Node API with @simplewebauthn/server as the RP, and an RP page on
//!   `http://localhost` (@simplewebauthn/browser + server) in headless Chromium (Playwright,
//!   `installPasskeys`), Firefox ESR (Puppeteer, `installPasskeys`) and WebKitGTK's MiniBrowser
//!   (WebKitWebDriver under xvfb-run).
//! - The library without default features pulls in none of the CLI and server stack.
//!
//! Needs what `.ci/setup-packages.sh` and `.ci/setup-browser.sh` install; see `e2e_support` for
//! the SKIPPED / FAUXKEY_REQUIRE_E2E rule. `FAUXKEY_BIN`, when set, is passed on to the packages
//! (to run them against another binary); otherwise they use the binary they ship.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod e2e_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use e2e_support::{chromium, find_tool, firefox, missing, node, repo, run, Run};

/// The Python test's `maturin build` relinks `<target>/<profile>/fauxkey`, which the npm test
/// copies and runs: the two never run at the same time.
static BINARY: Mutex<()> = Mutex::new(());

const BUILD_LIMIT: Duration = Duration::from_secs(1800);
const LIMIT: Duration = Duration::from_secs(300);

/// The binary the packages carry: the one cargo built for these tests.
fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_fauxkey"))
}

/// The cargo target dir the test binary lives in (`<target>/<profile>/fauxkey`), so maturin's
/// build reuses what `cargo test` compiled.
fn target_dir() -> PathBuf {
    binary()
        .parent()
        .and_then(Path::parent)
        .expect("the binary sits in <target>/<profile>/")
        .to_path_buf()
}

/// A fresh scratch directory for one test, under cargo's per-target tmp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("packages-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create the scratch dir");
    dir
}

fn on_path(name: &str) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    dirs.into_iter().find(|p| p.exists())
}

/// Whether the binary the packages will start speaks the serve contract they use
/// (`--url-file`, `--token-file`).
fn speaks_the_contract() -> bool {
    let bin = std::env::var_os("FAUXKEY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(binary);
    let out = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("run fauxkey serve --help");
    let help = String::from_utf8_lossy(&out.stdout);
    help.contains("--url-file") && help.contains("--token-file")
}

fn show(what: &str, out: &Run) -> String {
    format!("{what}\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr)
}

/// Runs `cmd`, failing the test with its output unless it succeeds.
fn must(what: &str, cmd: Command, limit: Duration) -> Run {
    let out = run(cmd, limit);
    assert!(out.status.success(), "{}", show(what, &out));
    out
}

/// Passes FAUXKEY_BIN on when the test was given one, else clears it so the package's own binary runs.
fn binary_env(cmd: &mut Command) {
    if std::env::var_os("FAUXKEY_BIN").is_none() {
        cmd.env_remove("FAUXKEY_BIN");
    }
}

#[test]
fn python_package_pytest_plugin_in_a_fresh_venv() {
    let _binary = BINARY.lock().unwrap_or_else(|e| e.into_inner());
    let Some(python) = find_tool(
        "FAUXKEY_PYTHON3",
        &on_path("python3").into_iter().collect::<Vec<_>>(),
    ) else {
        missing("python3 not found (set FAUXKEY_PYTHON3)");
        return;
    };
    let maturin = repo().join(".ci/venv-packages/bin/maturin");
    let wheelhouse = repo().join(".ci/wheelhouse");
    if !maturin.exists() || !wheelhouse.is_dir() {
        missing("no maturin in .ci/venv-packages or no .ci/wheelhouse; run .ci/setup-packages.sh");
        return;
    }
    if !speaks_the_contract() {
        missing("the fauxkey binary lacks `serve --url-file/--token-file`, which the packages use");
        return;
    }
    let dir = scratch("python");

    // The wheel, as `maturin build` makes it for a release: binary plus Python package.
    let mut build = Command::new(&maturin);
    // Run from python/, so maturin reads python/pyproject.toml (bindings, the Python package,
    // and the manifest path of the crate).
    build
        .args(["build", "--locked", "--quiet", "--out"])
        .arg(dir.join("wheels"))
        .current_dir(repo().join("python"))
        .env("CARGO_TARGET_DIR", target_dir());
    must("maturin build", build, BUILD_LIMIT);

    // A fresh venv, offline: the wheel plus pytest and py_webauthn from the wheelhouse.
    let mut venv = Command::new(&python);
    venv.args(["-m", "venv"]).arg(dir.join("venv"));
    must("python3 -m venv", venv, LIMIT);
    let mut pip = Command::new(dir.join("venv/bin/pip"));
    pip.args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
    ])
    .arg("--find-links")
    .arg(&wheelhouse)
    .arg("--find-links")
    .arg(dir.join("wheels"))
    .args(["fauxkey", "pytest==9.2.0", "webauthn==3.0.1"]);
    must("pip install fauxkey", pip, LIMIT);
    assert!(
        dir.join("venv/bin/fauxkey").exists(),
        "the wheel did not install the fauxkey binary into the venv"
    );

    // The RP's suite, alone in a folder: no conftest, only the plugin's fixture.
    let suite = dir.join("suite");
    fs::create_dir_all(&suite).unwrap();
    fs::copy(
        repo().join("tests/packages/python/test_fauxkey_plugin.py"),
        suite.join("test_fauxkey_plugin.py"),
    )
    .unwrap();
    let mut pytest = Command::new(dir.join("venv/bin/python"));
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .current_dir(&suite)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    binary_env(&mut pytest);
    let out = must("pytest with the fauxkey plugin", pytest, LIMIT);
    assert!(
        out.stdout.contains("9 passed"),
        "{}",
        show("expected 9 passing tests", &out)
    );
}

/// Copies the files of an npm package folder (not node_modules) into `to`.
fn copy_package(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        fs::copy(repo().join(license), to.join(license)).unwrap();
    }
}

/// `npm pack` in `dir`, into `out`; returns the tarball's path.
fn pack(npm: &Path, dir: &Path, out: &Path) -> PathBuf {
    let mut cmd = Command::new(npm);
    cmd.args(["pack", "--silent", "--pack-destination"])
        .arg(out)
        .current_dir(dir);
    let run = must("npm pack", cmd, LIMIT);
    let name = run
        .stdout
        .lines()
        .last()
        .expect("npm pack names the tarball")
        .trim();
    out.join(name)
}

#[test]
fn npm_packages_in_a_fresh_directory_with_node_and_browsers() {
    let _binary = BINARY.lock().unwrap_or_else(|e| e.into_inner());
    let Some(node) = node() else {
        missing("node not found (set FAUXKEY_NODE or put node on PATH)");
        return;
    };
    let Some(npm) = on_path("npm") else {
        missing("npm not found on PATH");
        return;
    };
    if !repo()
        .join("tests/packages/node/node_modules/@simplewebauthn/server")
        .exists()
    {
        missing(
            "tests/packages/node has no node_modules (its npm cache); run .ci/setup-packages.sh",
        );
        return;
    }
    if !speaks_the_contract() {
        missing("the fauxkey binary lacks `serve --url-file/--token-file`, which the packages use");
        return;
    }
    let dir = scratch("npm");

    // The two packages, staged with the binary and the licenses, then packed.
    let stage = dir.join("stage");
    copy_package(&repo().join("npm/fauxkey"), &stage.join("fauxkey"));
    copy_package(&repo().join("npm/linux-x64"), &stage.join("linux-x64"));
    fs::create_dir_all(stage.join("linux-x64/bin")).unwrap();
    fs::copy(binary(), stage.join("linux-x64/bin/fauxkey")).unwrap();
    let tarballs = dir.join("tarballs");
    fs::create_dir_all(&tarballs).unwrap();
    let main = pack(&npm, &stage.join("fauxkey"), &tarballs);
    let platform = pack(&npm, &stage.join("linux-x64"), &tarballs);

    // A fresh directory: the test suite plus both tarballs, installed by npm.
    let app = dir.join("app");
    fs::create_dir_all(app.join("public")).unwrap();
    let suite = repo().join("tests/packages/node");
    for file in [
        "api.test.mjs",
        "browser.test.mjs",
        "rp.mjs",
        "public/index.html",
    ] {
        fs::copy(suite.join(file), app.join(file)).unwrap();
    }
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(suite.join("package.json")).unwrap()).unwrap();
    let deps = manifest["dependencies"].as_object_mut().unwrap();
    deps.insert("fauxkey".into(), format!("file:{}", main.display()).into());
    deps.insert(
        "@fauxkey/linux-x64".into(),
        format!("file:{}", platform.display()).into(),
    );
    fs::write(
        app.join("package.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let mut install = Command::new(&npm);
    install
        .args([
            "install",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ])
        .current_dir(&app);
    must("npm install of the tarballs", install, LIMIT);
    assert!(
        app.join("node_modules/@fauxkey/linux-x64/bin/fauxkey")
            .exists(),
        "the platform package did not bring the binary"
    );

    // The browsers: each missing one is SKIPPED (or fails under FAUXKEY_REQUIRE_E2E).
    let mut test = Command::new(&node);
    test.args(["--test", "--test-concurrency=1"])
        .current_dir(&app);
    binary_env(&mut test);
    let mut expected_skips = 0;
    match chromium() {
        Some(path) => {
            test.env("FAUXKEY_CHROMIUM", path);
        }
        None => {
            missing("chromium not found (set FAUXKEY_CHROMIUM)");
            expected_skips += 1;
        }
    }
    match firefox() {
        Some(path) => {
            test.env("FAUXKEY_FIREFOX", path);
        }
        None => {
            missing("firefox-esr not found (set FAUXKEY_FIREFOX)");
            expected_skips += 1;
        }
    }
    let driver = find_tool(
        "FAUXKEY_WEBKIT_DRIVER",
        &[PathBuf::from("/usr/bin/WebKitWebDriver")],
    );
    let minibrowser = find_tool(
        "FAUXKEY_MINIBROWSER",
        &[PathBuf::from(
            "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
        )],
    );
    match (driver, minibrowser, on_path("xvfb-run")) {
        (Some(driver), Some(minibrowser), Some(_)) => {
            test.env("FAUXKEY_WEBKIT_DRIVER", driver);
            test.env("FAUXKEY_MINIBROWSER", minibrowser);
        }
        _ => {
            missing("WebKitWebDriver, MiniBrowser or xvfb-run not found (webkit2gtk-driver, xvfb)");
            expected_skips += 1;
        }
    }
    let out = must("node --test in the fresh directory", test, LIMIT);
    let count = |key: &str| -> Option<u32> {
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# {key} ")))
            .and_then(|n| n.trim().parse().ok())
    };
    assert_eq!(count("fail"), Some(0), "{}", show("node --test", &out));
    assert_eq!(
        count("skipped"),
        Some(expected_skips),
        "{}",
        show("node --test", &out)
    );
    assert_eq!(
        count("pass"),
        Some(9 + 3 - expected_skips),
        "{}",
        show("node --test", &out)
    );
}

/// The dependencies `cargo tree` lists for the library with these arguments.
fn dependencies(args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn without_default_features_the_library_has_no_cli_or_server_stack() {
    let stack = [
        "clap",
        "clap_complete",
        "axum",
        "tokio",
        "hyper",
        "indicatif",
        "directories",
    ];
    let names = |tree: &str| -> Vec<String> {
        tree.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    };
    let full = names(&dependencies(&[]));
    let lean = names(&dependencies(&["--no-default-features"]));
    for name in stack {
        assert!(
            full.iter().any(|n| n == name),
            "the default build should have {name}"
        );
        assert!(
            !lean.iter().any(|n| n == name),
            "`default-features = false` still pulls in {name}"
        );
    }
    for name in ["p256", "aes-gcm", "argon2", "serde_json"] {
        assert!(lean.iter().any(|n| n == name), "the lean build lost {name}");
    }
}
