//! `fauxkey export` / `fauxkey import`: the file is 0600 and never overwrites, the loss report
//! is on stderr and in `--json`, import is all or nothing (a clash without `--replace`, a
//! malformed or truncated file: the vault's bytes do not change), and an exported passkey signs
//! in from another vault.

#![allow(clippy::unwrap_used)]

mod cli_support;

use std::os::unix::fs::PermissionsExt as _;

use cli_support::{expect, Env};
use serde_json::Value;

#[test]
fn export_writes_a_0600_file_reports_losses_and_never_overwrites() {
    let env = Env::with_vault("export-0600");
    env.quick_create("example.com", "alice");
    let out = env.dir.join("creds.json");
    let o = env.run(&[
        "export",
        "--format",
        "playwright",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    let (stdout, stderr) = expect(&o, 0);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(stderr.contains("not carried: "), "{stderr}");
    assert!(
        stderr.contains("user name not carried by playwright"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["count"], 1);
    let fields: Vec<&str> = report["losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"user-name") && fields.contains(&"backup-flags"),
        "{fields:?}"
    );
    let before = std::fs::read(&out).unwrap();
    // A second export to the same path is refused and the file is untouched.
    let o = env.run(&["export", "--format", "cxf", "--out", out.to_str().unwrap()]);
    let (_, stderr) = expect(&o, 8);
    assert!(stderr.contains("never overwrites"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

#[test]
fn an_exported_passkey_signs_in_from_another_vault_in_every_format() {
    let from = Env::with_vault("export-from");
    let reg = from.quick_create("example.com", "alice");
    for format in ["cxf", "bitwarden", "keepassxc", "webdriver", "playwright"] {
        let o = from.run(&["export", "--format", format]);
        let (file, _) = expect(&o, 0);
        let to = Env::with_vault("import-to");
        let path = to.file("in.json", &file);
        // The format is detected.
        let o = to.run(&["import", path.to_str().unwrap(), "--json"]);
        let (stdout, _) = expect(&o, 0);
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["format"], format);
        assert_eq!(report["added"][0], reg["id"]);
        let o = to.run(&["get", "--rp-id", "example.com"]);
        let (stdout, _) = expect(&o, 0);
        let login: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(login["id"], reg["id"], "{format}");
    }
}

#[test]
fn import_is_all_or_nothing() {
    let env = Env::with_vault("import-clash");
    env.quick_create("example.com", "alice");
    let (file, _) = expect(&env.run(&["export", "--format", "webdriver"]), 0);
    let path = env.file("creds.json", &file);
    let before = env.vault_bytes();

    // The same passkey again: refused without --replace, nothing written.
    let o = env.run(&["import", path.to_str().unwrap()]);
    let (_, stderr) = expect(&o, 1);
    assert!(stderr.contains("already exist"), "{stderr}");
    assert!(stderr.contains("--replace"), "{stderr}");
    assert_eq!(env.vault_bytes(), before);

    // Truncated: exit 2, the position named, nothing written.
    let cut = env.file("cut.json", &file[..file.len() / 2]);
    let o = env.run(&["import", "--format", "webdriver", cut.to_str().unwrap()]);
    let (_, stderr) = expect(&o, 2);
    assert!(
        stderr.contains("not valid webdriver JSON at line"),
        "{stderr}"
    );
    assert_eq!(env.vault_bytes(), before);

    // A wrong member: its path named, nothing written.
    let broken = env.file(
        "broken.json",
        &file.replace("\"rpId\": \"", "\"rpId\": 7, \"x\": \""),
    );
    let o = env.run(&["import", broken.to_str().unwrap()]);
    let (_, stderr) = expect(&o, 2);
    assert!(
        stderr.contains("webdriver: [0].rpId: expected a string"),
        "{stderr}"
    );
    assert_eq!(env.vault_bytes(), before);

    // With --replace it goes in.
    let o = env.run(&["import", path.to_str().unwrap(), "--replace", "--json"]);
    let (stdout, _) = expect(&o, 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["replaced"].as_array().unwrap().len(), 1);
    assert_eq!(env.list_json(&[]).len(), 1);
}

#[test]
fn export_json_needs_out_and_a_wrong_passphrase_writes_no_file() {
    let env = Env::with_vault("export-usage");
    env.quick_create("example.com", "alice");
    let o = env.run(&["export", "--format", "cxf", "--json"]);
    let (_, stderr) = expect(&o, 2);
    assert!(stderr.contains("needs --out"), "{stderr}");
    let out = env.dir.join("x.json");
    let o = env
        .bare_cmd()
        .env("FAUXKEY_PASSPHRASE", "wrong")
        .args(["export", "--format", "cxf", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    expect(&o, 5);
    assert!(!out.exists());
}
