//! `fauxkey fixtures` as a CI script runs it: the tree it writes is the library's corpus byte
//! for byte, bad arguments exit 2 with a message naming the problem, and a directory that holds
//! anything but a previous corpus is never written into or deleted from.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use assert_cmd::Command;
use fauxkey::fixtures::{self, FixtureOptions};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A private scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fauxkey-cli-fixtures-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fauxkey(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("fauxkey")
        .unwrap()
        .env_remove("FAUXKEY_VAULT")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn writes_the_library_corpus_byte_for_byte_quietly() {
    let s = Scratch::new("ok");
    let out_dir = s.0.join("fx");
    let out = fauxkey(&[
        "fixtures",
        "--out",
        out_dir.to_str().unwrap(),
        "--seed",
        "3",
        "--negative",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "stdout is for data only");
    let corpus = fixtures::generate(&FixtureOptions {
        seed: 3,
        negative: true,
        ..FixtureOptions::default()
    })
    .unwrap();
    assert_eq!(&read_tree(&out_dir), corpus.files());
    // Not a TTY: one summary line, no progress bar redraws.
    let err = stderr(&out);
    assert!(!err.contains('\r'), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "wrote {} cases (8 accept, ",
            corpus.manifest().cases.len()
        )),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out_dir.join("manifest.json")), 0o644);
        assert_eq!(mode(&out_dir.join("README.md")), 0o644);
        assert_eq!(mode(&out_dir.join("cases")), 0o755);
    }
}

#[test]
fn options_reach_the_manifest() {
    let s = Scratch::new("opts");
    let out_dir = s.0.join("fx");
    let out = fauxkey(&[
        "fixtures",
        "--out",
        out_dir.to_str().unwrap(),
        "--seed",
        "9",
        "--rp-id",
        "login.example.org",
        "--origin",
        "https://login.example.org:8443",
        "--alg",
        "eddsa",
        "--profile",
        "fauxkey",
        "--users",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["seed"], 9);
    assert_eq!(m["rp_id"], "login.example.org");
    assert_eq!(m["origin"], "https://login.example.org:8443");
    assert_eq!(m["algorithms"], serde_json::json!(["eddsa"]));
    assert_eq!(m["profiles"], serde_json::json!(["fauxkey"]));
    assert_eq!(m["cases"].as_array().unwrap().len(), 2 * 2 * 2);

    let all = s.0.join("all");
    let out = fauxkey(&[
        "fixtures",
        "--out",
        all.to_str().unwrap(),
        "--all-profiles",
        "--alg",
        "es256",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(all.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["profiles"], serde_json::json!(fauxkey::profiles::names()));
    let ids: Vec<&str> = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    for name in fauxkey::profiles::names() {
        assert!(
            ids.iter()
                .any(|id| id.starts_with(&format!("{name}.es256."))),
            "no case of {name}"
        );
    }
}

#[test]
fn a_non_empty_directory_is_refused_and_left_alone() {
    let s = Scratch::new("nonempty");
    std::fs::write(s.0.join("notes.txt"), b"mine").unwrap();
    let dir = s.0.to_str().unwrap();
    let out = fauxkey(&["fixtures", "--out", dir]);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stderr(&out).contains("is not empty; choose an empty or new directory, or pass --force"),
        "{}",
        stderr(&out)
    );
    // --force does not touch a directory that is not a corpus either.
    let out = fauxkey(&["fixtures", "--out", dir, "--force"]);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stderr(&out)
            .contains("it holds files fauxkey did not write: notes.txt; nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_tree(&s.0).keys().collect::<Vec<_>>(), ["notes.txt"]);
    assert_eq!(std::fs::read(s.0.join("notes.txt")).unwrap(), b"mine");
}

#[test]
fn force_replaces_a_previous_corpus_without_leftovers() {
    let s = Scratch::new("force");
    let dir = s.0.join("fx");
    let d = dir.to_str().unwrap();
    let out = fauxkey(&["fixtures", "--out", d, "--users", "2", "--negative"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fauxkey(&["fixtures", "--out", d, "--seed", "5"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    let out = fauxkey(&["fixtures", "--out", d, "--seed", "5", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let corpus = fixtures::generate(&FixtureOptions {
        seed: 5,
        ..FixtureOptions::default()
    })
    .unwrap();
    assert_eq!(&read_tree(&dir), corpus.files());

    // A directory with a manifest that is not ours is not replaced.
    let other = s.0.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("manifest.json"),
        b"{\"format\": \"something-else\"}",
    )
    .unwrap();
    let out = fauxkey(&["fixtures", "--out", other.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        stderr(&out).contains("it has no fauxkey manifest.json"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_tree(&other).len(), 1);
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let s = Scratch::new("profile");
    let out = fauxkey(&[
        "fixtures",
        "--out",
        s.0.join("fx").to_str().unwrap(),
        "--profile",
        "nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out).lines().next().unwrap(),
        format!(
            "fauxkey: unknown profile \"nope\"; available profiles: {}",
            fauxkey::profiles::names().join(", ")
        )
    );
    assert!(
        !s.0.join("fx").exists(),
        "nothing is created on a usage error"
    );
}

#[test]
fn bad_arguments_exit_2_and_write_nothing() {
    let s = Scratch::new("args");
    let fx = s.0.join("fx");
    let d = fx.to_str().unwrap();
    for (args, needle) in [
        (vec!["fixtures"], "--out <DIR>"),
        (
            vec!["fixtures", "--out", d, "--alg", "rs1"],
            "invalid value 'rs1' for '--alg",
        ),
        (
            vec!["fixtures", "--out", d, "--users", "0"],
            "invalid value '0' for '--users",
        ),
        (
            vec!["fixtures", "--out", d, "--seed", "x"],
            "invalid value 'x' for '--seed",
        ),
        (
            vec![
                "fixtures",
                "--out",
                d,
                "--profile",
                "fauxkey",
                "--all-profiles",
            ],
            "cannot be used with",
        ),
        (
            vec!["fixtures", "--out", d, "--origin", "https://evil.test"],
            "RP ID \"example.com\" cannot be used from origin \"https://evil.test\"",
        ),
        (
            vec!["fixtures", "--out", d, "--origin", "not a url"],
            "cannot be used from origin \"not a url\"",
        ),
    ] {
        let out = fauxkey(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(!fx.exists(), "{args:?} created the output directory");
    }
}
