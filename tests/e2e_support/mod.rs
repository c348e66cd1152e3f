//! Shared by the tests that drive outside tools (headless browsers, Node, a Python venv) against
//! a real `fauxkey serve` process: finding each tool, the SKIPPED rule, one server per test, and
//! running a tool under a time limit so a stuck browser fails the test instead of hanging it.
//!
//! A missing tool prints `SKIPPED: <why>; run .ci/setup-browser.sh` to stderr and the test
//! returns, unless `FAUXKEY_REQUIRE_E2E=1`, where a missing tool fails the test (CI sets it).

#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reports a missing tool: prints SKIPPED normally, panics under FAUXKEY_REQUIRE_E2E=1.
pub fn missing(why: &str) {
    if std::env::var("FAUXKEY_REQUIRE_E2E").as_deref() == Ok("1") {
        panic!("{why}, and FAUXKEY_REQUIRE_E2E=1 makes that a failure; run .ci/setup-browser.sh");
    }
    // Straight to the stderr handle: libtest captures `eprintln!` (and shows it only for a
    // failing test), so a skip would pass for a pass in plain `cargo test` output.
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("SKIPPED: {why}; run .ci/setup-browser.sh\n"),
    );
}

/// The tool at `$var` if set, else the first of `candidates` that exists.
pub fn find_tool(var: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        return path.exists().then_some(path);
    }
    candidates.iter().find(|p| p.exists()).cloned()
}

/// `node`: `$FAUXKEY_NODE`, else the first `node` on PATH.
pub fn node() -> Option<PathBuf> {
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("node")).collect())
        .unwrap_or_default();
    find_tool("FAUXKEY_NODE", &on_path)
}

/// Debian's Chromium: `$FAUXKEY_CHROMIUM`, else /usr/bin/chromium.
pub fn chromium() -> Option<PathBuf> {
    find_tool("FAUXKEY_CHROMIUM", &[PathBuf::from("/usr/bin/chromium")])
}

/// Debian's Firefox ESR: `$FAUXKEY_FIREFOX`, else /usr/bin/firefox-esr.
pub fn firefox() -> Option<PathBuf> {
    find_tool("FAUXKEY_FIREFOX", &[PathBuf::from("/usr/bin/firefox-esr")])
}

/// `node` plus an installed npm package in `dir`, or why not.
pub fn node_with(dir: &Path, package: &str) -> Result<PathBuf, String> {
    let node = node().ok_or("node not found (set FAUXKEY_NODE or put node on PATH)")?;
    if !dir.join("node_modules").join(package).exists() {
        return Err(format!("{package} is not installed in {}", dir.display()));
    }
    Ok(node)
}

/// A running `fauxkey serve` on a free loopback port; killed on drop.
pub struct Serve {
    child: Child,
    /// The base URL it printed, `http://127.0.0.1:PORT`.
    pub base: String,
    /// The per-run token it printed (`token: …`, its second stdout line).
    pub token: String,
    stderr: Arc<Mutex<String>>,
}

impl Serve {
    /// Starts the server (in memory, with `extra` arguments such as `--allow-origin O`) and
    /// waits for the base URL and the token on its first two stdout lines.
    pub fn start(extra: &[&str]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fauxkey"))
            .args(["serve", "--ephemeral", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start fauxkey serve");
        let (stderr, _) = collect(child.stderr.take().expect("stderr piped"));
        let stdout: ChildStdout = child.stdout.take().expect("stdout piped");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the base URL");
        let base = line.trim().to_owned();
        let mut line = String::new();
        reader.read_line(&mut line).expect("read the token");
        let token = line.trim().trim_start_matches("token: ").to_owned();
        let serve = Serve {
            child,
            base,
            token,
            stderr,
        };
        assert!(
            serve.base.starts_with("http://127.0.0.1:"),
            "fauxkey serve printed {:?} instead of its base URL; stderr: {}",
            serve.base,
            serve.stderr()
        );
        serve
    }

    /// What the server wrote to stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Collected = (Arc<Mutex<String>>, thread::JoinHandle<()>);

/// Reads `from` to its end on a thread, into a shared string.
fn collect(mut from: impl Read + Send + 'static) -> Collected {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut s) = sink.lock() {
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    });
    (text, reader)
}

/// What a finished tool run left behind.
pub struct Run {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs `cmd` to completion, killing it (and failing the test) after `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let (stdout, out_reader) = collect(child.stdout.take().expect("stdout piped"));
    let (stderr, err_reader) = collect(child.stderr.take().expect("stderr piped"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the tool") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{cmd:?} still running after {limit:?}; killed it.\nstdout:\n{}\nstderr:\n{}",
                stdout.lock().map(|s| s.clone()).unwrap_or_default(),
                stderr.lock().map(|s| s.clone()).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(50));
    };
    let _ = out_reader.join();
    let _ = err_reader.join();
    let take = |t: &Arc<Mutex<String>>| t.lock().map(|s| s.clone()).unwrap_or_default();
    Run {
        status,
        stdout: take(&stdout),
        stderr: take(&stderr),
    }
}
