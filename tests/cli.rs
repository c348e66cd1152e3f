//! The `fauxkey` command line, driven as a user or a CI script drives it: real processes, pinned
//! arguments, stdin, environment, exit codes and output streams.
//!
//! The contract under test: `create`/`get` print only the response JSON on stdout, everything
//! for humans on stderr; exit codes 0 ok, 1 refused / not found, 2 usage, 3 no vault, 4 locked,
//! 5 wrong passphrase, 6 corrupt, 7 unsupported version, 8 other. The end-to-end test has an
//! independent relying-party library (webauthn-rs 0.6) verify what the binary prints.

#![allow(clippy::unwrap_used, clippy::type_complexity)]

mod cli_support;

use std::process::Output;
use std::time::Duration;

use cli_support::{expect, Env, PASSPHRASE};
use serde_json::Value;

const AAGUID: &str = "a3177236-0861-4496-8ac0-b5d4308ac6e2";

/// Asserts a failure: the exit code, nothing on stdout, and the first stderr line.
fn expect_error(out: &Output, code: i32, first_line: &str) -> String {
    let (stdout, stderr) = expect(out, code);
    assert_eq!(stdout, "", "a failure prints nothing on stdout");
    assert_eq!(
        stderr.lines().next().unwrap_or(""),
        first_line,
        "stderr:\n{stderr}"
    );
    stderr
}

/// Runs the binary in a new session with no controlling terminal (`setsid`), so that a test run
/// from a developer's terminal does not stop at a passphrase prompt.
fn without_terminal(env: &Env, args: &[&str], with_passphrase: bool) -> Output {
    let mut cmd = std::process::Command::new("setsid");
    cmd.arg("-w").arg(env!("CARGO_BIN_EXE_fauxkey")).args(args);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FAUXKEY_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FAUXKEY_VAULT", &env.vault).env("NO_COLOR", "1");
    if with_passphrase {
        cmd.env("FAUXKEY_PASSPHRASE", PASSPHRASE);
    }
    cmd.stdin(std::process::Stdio::null()).output().unwrap()
}

/// Like [`expect_error`] for messages with a variable tail: checks the first line's prefix.
fn expect_error_prefix(out: &Output, code: i32, prefix: &str) -> String {
    let (stdout, stderr) = expect(out, code);
    assert_eq!(stdout, "", "a failure prints nothing on stdout");
    assert!(
        stderr.starts_with(prefix),
        "stderr should start with {prefix:?}:\n{stderr}"
    );
    stderr
}

fn creation_options(rp_id: &str, challenge: &str) -> Value {
    serde_json::json!({
        "rp": {"id": rp_id, "name": "Example RP"},
        "user": {"id": "YWxpY2UtaGFuZGxl", "name": "alice", "displayName": "Alice A."},
        "challenge": challenge,
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
        "extensions": {"credProps": true}
    })
}

fn check_registration(stdout: &str, alg: i64) -> Value {
    let response: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(response["type"], "public-key");
    assert!(response["id"].is_string());
    assert_eq!(response["id"], response["rawId"]);
    assert_eq!(response["response"]["publicKeyAlgorithm"], alg);
    assert!(response["response"]["attestationObject"].is_string());
    assert!(response["response"]["clientDataJSON"].is_string());
    response
}

fn b64url_decode(s: &str) -> Vec<u8> {
    fauxkey::b64url::decode(s).unwrap()
}

// ---------------------------------------------------------------------------------------- init

#[test]
fn init_creates_a_0600_vault_and_warns_about_the_fast_kdf() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new("init");
    let (stdout, stderr) = expect(&env.run(&["init", "--insecure-fast-kdf"]), 0);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "WARNING: --insecure-fast-kdf: this vault's passphrase offers NO protection against \
             guessing. Use it for tests and CI only.\ncreated vault {} (profile fauxkey)\n",
            env.vault.display()
        )
    );
    let mode = std::fs::metadata(&env.vault).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "vault mode {mode:o}");
    // The header records the insecure preset: m=8 KiB, t=1, p=1.
    let bytes = env.vault_bytes();
    assert_eq!(&bytes[12..24], &[0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 1]);
    // An empty vault lists as an empty array.
    assert_eq!(env.list_json(&[]), Vec::<Value>::new());

    // Again: refused, and the vault is untouched.
    let before = env.vault_bytes();
    expect_error(
        &env.run(&["init", "--insecure-fast-kdf"]),
        8,
        &format!("fauxkey: a vault already exists at {}", env.vault.display()),
    );
    assert_eq!(env.vault_bytes(), before);
}

#[test]
fn init_with_an_unknown_profile_is_a_usage_error_naming_the_available_ones() {
    let env = Env::new("init-profile");
    expect_error(
        &env.run(&["init", "--insecure-fast-kdf", "--profile", "nope"]),
        2,
        "fauxkey: unknown profile \"nope\"; available profiles: fauxkey, icloud-keychain, icloud-keychain-unsynced, google-password-manager, windows-hello, 1password, bitwarden, dashlane, keepassxc, yubikey-5, u2f-key, android, apple-touch-id",
    );
    assert!(!env.vault.exists(), "no vault written");
}

#[test]
fn init_stores_the_retention_period_and_refuses_an_overflowing_one() {
    let env = Env::new("init-retention");
    expect(
        &env.run(&["init", "--insecure-fast-kdf", "--retention-days", "7"]),
        0,
    );
    let pass = fauxkey::vault::Passphrase::new(PASSPHRASE).unwrap();
    let vault = fauxkey::vault::Vault::open(&env.vault, &pass).unwrap();
    assert_eq!(
        vault.settings().hidden_retention_ms,
        7 * 24 * 60 * 60 * 1000
    );
    let other = Env::new("init-retention-default");
    expect(&other.run(&["init", "--insecure-fast-kdf"]), 0);
    let vault = fauxkey::vault::Vault::open(&other.vault, &pass).unwrap();
    assert_eq!(
        vault.settings().hidden_retention_ms,
        fauxkey::authenticator::DEFAULT_HIDDEN_RETENTION_MS
    );
    let big = Env::new("init-retention-big");
    expect_error(
        &big.run(&[
            "init",
            "--insecure-fast-kdf",
            "--retention-days",
            "999999999999999",
        ]),
        2,
        "fauxkey: --retention-days 999999999999999 is too large",
    );
    assert!(!big.vault.exists(), "no vault written");
}

// -------------------------------------------------------------------------------------- create

#[test]
fn create_quick_mode_prints_only_the_registration_json() {
    let env = Env::with_vault("create-quick");
    let out = env.run(&[
        "create",
        "--rp-id",
        "example.com",
        "--user",
        "alice",
        "--display-name",
        "Alice A.",
    ]);
    let (stdout, stderr) = expect(&out, 0);
    let response = check_registration(&stdout, -7);
    let id = response["id"].as_str().unwrap();
    assert_eq!(
        response["clientExtensionResults"]["credProps"]["rk"], true,
        "{stdout}"
    );
    assert_eq!(response["authenticatorAttachment"], "platform");
    // clientDataJSON: a create ceremony from https://example.com.
    let client_data: Value = serde_json::from_slice(&b64url_decode(
        response["response"]["clientDataJSON"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(client_data["type"], "webauthn.create");
    assert_eq!(client_data["origin"], "https://example.com");
    assert_eq!(
        stderr,
        format!("created passkey {id} for alice at example.com\n")
    );

    let list = env.list_json(&[]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["credentialId"], id);
    assert_eq!(list[0]["name"], "alice");
    assert_eq!(list[0]["displayName"], "Alice A.");
    assert_eq!(list[0]["algorithm"], "es256");
}

#[test]
fn create_quick_mode_with_eddsa() {
    let env = Env::with_vault("create-eddsa");
    let out = env.run(&[
        "create",
        "--rp-id",
        "example.com",
        "--user",
        "alice",
        "--alg",
        "eddsa",
    ]);
    let (stdout, _) = expect(&out, 0);
    let response = check_registration(&stdout, -8);
    let list = env.list_json(&[]);
    assert_eq!(list[0]["credentialId"], response["id"]);
    assert_eq!(list[0]["algorithm"], "eddsa");
}

#[test]
fn create_without_a_vault_creates_one_with_the_default_kdf() {
    let env = Env::new("create-novault");
    assert!(!env.vault.exists());
    let (stdout, stderr) = expect(
        &env.run(&["create", "--rp-id", "example.com", "--user", "alice"]),
        0,
    );
    let response = check_registration(&stdout, -7);
    let id = response["id"].as_str().unwrap();
    assert_eq!(
        stderr,
        format!(
            "created a new vault at {}\ncreated passkey {id} for alice at example.com\n",
            env.vault.display()
        )
    );
    // The default preset (m=64 MiB, t=3, p=4), not the insecure one.
    let bytes = env.vault_bytes();
    assert_eq!(&bytes[12..24], &[0, 1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4]);
    assert_eq!(env.list_json(&[])[0]["credentialId"], id);
}

#[test]
fn create_rp_mode_from_a_file_stdin_and_the_public_key_wrapper() {
    let env = Env::with_vault("create-rp");
    let options = creation_options("example.com", "Y2hhbGxlbmdlLTE");
    let file = env.file("options.json", &options.to_string());

    // --options FILE
    let out = env.run(&[
        "create",
        "--origin",
        "https://example.com",
        "--options",
        file.to_str().unwrap(),
    ]);
    let (stdout, stderr) = expect(&out, 0);
    let first = check_registration(&stdout, -7);
    assert_eq!(first["clientExtensionResults"]["credProps"]["rk"], true);
    let client_data: Value = serde_json::from_slice(&b64url_decode(
        first["response"]["clientDataJSON"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(client_data["challenge"], "Y2hhbGxlbmdlLTE");
    assert_eq!(client_data["origin"], "https://example.com");
    assert_eq!(
        stderr,
        format!(
            "created passkey {} for alice at example.com\n",
            first["id"].as_str().unwrap()
        )
    );

    // --options - : stdin, wrapped in {"publicKey": …}, another user.
    let mut wrapped = creation_options("example.com", "Y2hhbGxlbmdlLTI");
    wrapped["user"]["id"] = "Ym9iLWhhbmRsZQ".into();
    wrapped["user"]["name"] = "bob".into();
    let wrapped = serde_json::json!({ "publicKey": wrapped }).to_string();
    let out = env.run_stdin(
        &[
            "create",
            "--origin",
            "https://example.com",
            "--options",
            "-",
        ],
        &wrapped,
    );
    let (stdout, _) = expect(&out, 0);
    let second = check_registration(&stdout, -7);

    // No --options at all: stdin is the default.
    let mut third_options = creation_options("example.com", "Y2hhbGxlbmdlLTM");
    third_options["user"]["id"] = "Y2Fyb2wtaGFuZGxl".into();
    third_options["user"]["name"] = "carol".into();
    let out = env.run_stdin(
        &["create", "--origin", "https://example.com"],
        &third_options.to_string(),
    );
    let (stdout, _) = expect(&out, 0);
    let third = check_registration(&stdout, -7);

    let list = env.list_json(&[]);
    let ids: Vec<&str> = list
        .iter()
        .map(|c| c["credentialId"].as_str().unwrap())
        .collect();
    for r in [&first, &second, &third] {
        assert!(ids.contains(&r["id"].as_str().unwrap()), "{ids:?}");
    }
    let bob = list.iter().find(|c| c["name"] == "bob").unwrap();
    assert_eq!(bob["userHandle"], "Ym9iLWhhbmRsZQ");
    assert_eq!(bob["rpId"], "example.com");
}

#[test]
fn malformed_creation_options_are_refused_and_nothing_is_written() {
    let env = Env::with_vault("create-malformed");
    let before = env.vault_bytes();
    let create = |options: &str| {
        env.run_stdin(
            &[
                "create",
                "--origin",
                "https://example.com",
                "--options",
                "-",
            ],
            options,
        )
    };

    // (a) not JSON at all.
    expect_error_prefix(
        &create("this is not json"),
        1,
        "fauxkey: TypeError: creation options is not valid JSON",
    );

    // (b) user.displayName missing: the member is named.
    let mut missing = creation_options("example.com", "Y2hhbGxlbmdl");
    missing["user"]
        .as_object_mut()
        .unwrap()
        .remove("displayName");
    let stderr = expect_error_prefix(
        &create(&missing.to_string()),
        1,
        "fauxkey: TypeError: creation options: ",
    );
    assert!(stderr.contains("`user.displayName`"), "{stderr}");

    // (c) a challenge that is not base64url.
    let bad_challenge = creation_options("example.com", "a+b");
    expect_error(
        &create(&bad_challenge.to_string()),
        1,
        "fauxkey: EncodingError: `challenge` is not unpadded base64url: \"a+b\"",
    );

    // (d) an origin that may not use the RP ID.
    let other_rp = creation_options("example.org", "Y2hhbGxlbmdl");
    expect_error_prefix(
        &create(&other_rp.to_string()),
        1,
        "fauxkey: SecurityError: ",
    );

    assert_eq!(
        env.vault_bytes(),
        before,
        "a refused create wrote the vault"
    );
    assert_eq!(env.list_json(&[]), Vec::<Value>::new());
}

#[test]
fn refused_create_without_a_vault_creates_no_vault() {
    // "Parse the options before touching the vault, so bad input changes nothing": that holds
    // when there is no vault yet too, for every refusal create() can make from the input alone.
    let env = Env::new("create-malformed-novault");
    let cases = [
        ("this is not json".to_owned(), "TypeError"),
        (
            creation_options("example.com", "a+b").to_string(),
            "EncodingError",
        ),
        (
            creation_options("example.org", "Y2hhbGxlbmdl").to_string(),
            "SecurityError",
        ),
    ];
    for (options, name) in cases {
        let out = env.run_stdin(
            &[
                "create",
                "--origin",
                "https://example.com",
                "--options",
                "-",
            ],
            &options,
        );
        let (_, stderr) = expect(&out, 1);
        assert!(
            !env.vault.exists(),
            "a create refused with {name} left a new vault behind; stderr:\n{stderr}"
        );
        expect_error_prefix(&out, 1, &format!("fauxkey: {name}: "));
    }
}

#[test]
fn create_with_a_bad_origin_is_a_security_error() {
    let env = Env::with_vault("create-origin");
    let options = creation_options("example.com", "Y2hhbGxlbmdl").to_string();
    let before = env.vault_bytes();
    for origin in ["http://example.com", "https://evil.example.net"] {
        let out = env.run_stdin(&["create", "--origin", origin, "--options", "-"], &options);
        expect_error_prefix(&out, 1, "fauxkey: SecurityError: ");
    }
    assert_eq!(env.vault_bytes(), before);
}

// ----------------------------------------------------------------------------------------- get

#[test]
fn get_quick_mode_picks_the_named_account() {
    let env = Env::with_vault("get-quick");
    env.quick_create("example.com", "alice");
    let bob = env.quick_create("example.com", "bob");
    let list = env.list_json(&[]);
    let bob_entry = list.iter().find(|c| c["name"] == "bob").unwrap();
    assert_eq!(bob_entry["credentialId"], bob["id"]);

    let out = env.run(&["get", "--rp-id", "example.com", "--account", "bob"]);
    let (stdout, stderr) = expect(&out, 0);
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["type"], "public-key");
    assert_eq!(response["id"], bob["id"]);
    assert_eq!(response["rawId"], bob["id"]);
    assert_eq!(response["response"]["userHandle"], bob_entry["userHandle"]);
    assert!(response["response"]["signature"].is_string());
    let client_data: Value = serde_json::from_slice(&b64url_decode(
        response["response"]["clientDataJSON"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(client_data["type"], "webauthn.get");
    assert_eq!(client_data["origin"], "https://example.com");
    assert_eq!(
        stderr,
        format!("signed in with passkey {}\n", bob["id"].as_str().unwrap())
    );

    // Only bob's counter moved: the fauxkey profile is a passkey provider with its own account
    // chooser, so it signs with the chosen passkey only.
    for c in env.list_json(&[]) {
        let used = c["name"] == "bob";
        assert_eq!(c["signCount"], u32::from(used), "{c}");
        assert_eq!(c["lastUsed"].is_string(), used, "{c}");
    }

    // The same account by base64url user handle.
    let handle = bob_entry["userHandle"].as_str().unwrap();
    let (stdout, _) = expect(
        &env.run(&["get", "--rp-id", "example.com", "--account", handle]),
        0,
    );
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], bob["id"]);
}

/// A base64url user handle may start with `-` (one random handle in 64 does); `--account` takes
/// it as a value, as the id arguments do, not as an unknown option.
#[test]
fn get_quick_mode_takes_a_user_handle_that_starts_with_a_hyphen() {
    let env = Env::with_vault("get-hyphen");
    env.quick_create("example.com", "alice");
    let mut options = creation_options("example.com", "Y2hhbGxlbmdl");
    options["user"]["id"] = "-wAB".into();
    options["user"]["name"] = "dash".into();
    let out = env.run_stdin(
        &["create", "--origin", "https://example.com"],
        &options.to_string(),
    );
    let (stdout, _) = expect(&out, 0);
    let dash: Value = serde_json::from_str(&stdout).unwrap();
    let (stdout, _) = expect(
        &env.run(&["get", "--rp-id", "example.com", "--account", "-wAB"]),
        0,
    );
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], dash["id"]);
    assert_eq!(response["response"]["userHandle"], "-wAB");
}

#[test]
fn get_refusals_exit_1_with_not_allowed_error() {
    let env = Env::with_vault("get-refused");
    env.quick_create("example.com", "alice");
    let before = env.vault_bytes();

    expect_error(
        &env.run(&["get", "--rp-id", "example.com", "--deny-presence"]),
        1,
        "fauxkey: NotAllowedError: the user denied the request",
    );
    expect_error(
        &env.run(&["get", "--rp-id", "example.org"]),
        1,
        "fauxkey: NotAllowedError: no passkey for RP ID \"example.org\" on this authenticator \
         matches the request",
    );

    // userVerification required, and the user fails it.
    let request = serde_json::json!({
        "challenge": "Y2hhbGxlbmdl",
        "rpId": "example.com",
        "userVerification": "required",
    })
    .to_string();
    expect_error_prefix(
        &env.run_stdin(
            &[
                "get",
                "--origin",
                "https://example.com",
                "--options",
                "-",
                "--fail-uv",
            ],
            &request,
        ),
        1,
        "fauxkey: NotAllowedError: ",
    );
    // ... and an authenticator that cannot verify at all.
    expect_error(
        &env.run_stdin(
            &[
                "get",
                "--origin",
                "https://example.com",
                "--options",
                "-",
                "--no-uv",
            ],
            &request,
        ),
        1,
        "fauxkey: NotAllowedError: userVerification is \"required\" but the authenticator \
         cannot verify users",
    );
    // A request from an origin that may not use the RP ID.
    expect_error_prefix(
        &env.run_stdin(
            &["get", "--origin", "https://example.org", "--options", "-"],
            &request,
        ),
        1,
        "fauxkey: SecurityError: ",
    );
    // Malformed request options.
    expect_error_prefix(
        &env.run_stdin(
            &["get", "--origin", "https://example.com", "--options", "-"],
            "{",
        ),
        1,
        "fauxkey: TypeError: request options is not valid JSON",
    );

    assert_eq!(env.vault_bytes(), before, "a refused get changed the vault");
    assert_eq!(env.list_json(&[])[0]["signCount"], 0);
}

#[test]
fn get_without_a_vault_is_exit_3_and_creates_nothing() {
    let env = Env::new("get-novault");
    let stderr = expect_error(
        &env.run(&["get", "--rp-id", "example.com"]),
        3,
        &format!(
            "fauxkey: no vault at {}; create one with `fauxkey init`",
            env.vault.display()
        ),
    );
    assert!(
        stderr.contains("\nhint: `fauxkey create` also makes one"),
        "{stderr}"
    );
    assert!(!env.vault.exists());
}

// ---------------------------------------------------------------------------------------- list

/// The table `list` prints, computed from `list --json` with the documented layout: columns
/// left-aligned to their widest cell, two spaces apart, trailing spaces trimmed.
fn expected_table(list: &[Value]) -> String {
    fn short(t: &str) -> String {
        format!("{} {}", &t[..10], &t[11..16])
    }
    let header = [
        "RP",
        "USER",
        "CREATED (UTC)",
        "LAST USED",
        "COUNTER",
        "HIDDEN",
        "ID",
    ]
    .map(str::to_owned);
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|c| {
            [
                c["rpId"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
                short(c["created"].as_str().unwrap()),
                c["lastUsed"].as_str().map_or("never".into(), short),
                c["signCount"].to_string(),
                if c["hidden"] == true { "yes" } else { "no" }.to_owned(),
                c["credentialId"].as_str().unwrap()[..12].to_owned(),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(String::len).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 7]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = line(&header) + "\n";
    for row in &rows {
        out += &(line(row) + "\n");
    }
    out
}

#[test]
fn list_table_json_and_rp_filter() {
    let env = Env::with_vault("list");
    // Empty: a note on stderr, nothing on stdout.
    let (stdout, stderr) = expect(&env.run(&["list"]), 0);
    assert_eq!(stdout, "");
    assert_eq!(stderr, "no passkeys (use --all to include hidden ones)\n");

    let alice = env.quick_create("example.com", "alice");
    let (stdout, _) = expect(&env.run(&["list"]), 0);
    assert_eq!(
        stdout.lines().next().unwrap(),
        "RP           USER   CREATED (UTC)     LAST USED  COUNTER  HIDDEN  ID"
    );
    let row = stdout.lines().nth(1).unwrap();
    assert!(row.starts_with("example.com  alice  20"), "{row}");
    assert!(
        row.ends_with(&format!(
            "  never      0        no      {}",
            &alice["id"].as_str().unwrap()[..12]
        )),
        "{row}"
    );
    assert!(!stdout.contains('\x1b'), "no colour codes: {stdout:?}");

    let bob = env.quick_create("example.com", "bob");
    let org = env.quick_create("example.org", "carol");
    expect(
        &env.run(&["get", "--rp-id", "example.com", "--account", "bob"]),
        0,
    );

    let list = env.list_json(&[]);
    assert_eq!(list.len(), 3);
    let keys = [
        "credentialId",
        "rpId",
        "userHandle",
        "name",
        "displayName",
        "algorithm",
        "signCount",
        "backupEligible",
        "backupState",
        "hidden",
        "created",
        "lastUsed",
    ];
    for c in &list {
        for key in keys {
            assert!(c.get(key).is_some(), "list --json entry lacks {key}: {c}");
        }
        assert!(c.get("privateKey").is_none() && c.get("key").is_none());
        assert_eq!(c["hidden"], false);
    }
    // Sorted by RP, then creation.
    let ids: Vec<&Value> = list.iter().map(|c| &c["credentialId"]).collect();
    assert_eq!(ids, [&alice["id"], &bob["id"], &org["id"]]);
    assert_eq!(list[1]["signCount"], 1);
    assert!(list[1]["lastUsed"].is_string());

    let (stdout, _) = expect(&env.run(&["list"]), 0);
    assert_eq!(stdout, expected_table(&list));
    assert!(stdout.starts_with(
        "RP           USER   CREATED (UTC)     LAST USED         COUNTER  HIDDEN  ID\n"
    ));
    assert_eq!(
        stdout.lines().count(),
        4,
        "a header and one row per passkey"
    );

    // --rp-id filters, in both forms.
    let filtered = env.list_json(&["--rp-id", "example.org"]);
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["credentialId"], org["id"]);
    let (stdout, _) = expect(&env.run(&["list", "--rp-id", "example.com"]), 0);
    assert_eq!(stdout, expected_table(&list[..2]));
    assert!(env.list_json(&["--rp-id", "nobody.example.net"]).is_empty());
}

#[test]
fn hidden_passkeys_are_listed_only_with_all() {
    use fauxkey::store::CredentialStore as _;
    let env = Env::with_vault("list-hidden");
    let alice = env.quick_create("example.com", "alice");
    let bob = env.quick_create("example.com", "bob");

    // No CLI command hides a passkey yet: do it through the library, as a signal would.
    let bob_id = b64url_decode(bob["id"].as_str().unwrap());
    let mut vault = fauxkey::vault::Vault::open(
        &env.vault,
        &fauxkey::vault::Passphrase::new(PASSPHRASE).unwrap(),
    )
    .unwrap();
    let updated = vault
        .modify(|store, _| store.update(&bob_id, &mut |c| c.hidden = true))
        .unwrap()
        .unwrap();
    assert!(updated);
    drop(vault);

    let visible = env.list_json(&[]);
    assert_eq!(visible.len(), 1);
    assert_eq!(visible[0]["credentialId"], alice["id"]);

    let all = env.list_json(&["--all"]);
    assert_eq!(all.len(), 2);
    let hidden = all.iter().find(|c| c["credentialId"] == bob["id"]).unwrap();
    assert_eq!(hidden["hidden"], true);

    let (stdout, _) = expect(&env.run(&["list", "--all"]), 0);
    assert_eq!(stdout, expected_table(&all));
    let bob_row = stdout
        .lines()
        .find(|l| l.contains(&bob["id"].as_str().unwrap()[..12]))
        .unwrap();
    assert!(bob_row.contains("  yes  "), "{bob_row}");

    // A hidden passkey is not offered in a login either.
    let out = env.run(&["get", "--rp-id", "example.com", "--account", "bob"]);
    let (stdout, _) = expect(&out, 0);
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], alice["id"]);
}

// ---------------------------------------------------------------------------------------- show

#[test]
fn show_by_id_and_by_unique_prefix() {
    let env = Env::with_vault("show");
    let alice = env.quick_create("example.com", "alice");
    let bob = env.quick_create("example.com", "bob");
    let alice_id = alice["id"].as_str().unwrap();
    let bob_id = bob["id"].as_str().unwrap();

    let (stdout, stderr) = expect(&env.run(&["show", alice_id, "--json"]), 0);
    assert_eq!(stderr, "");
    let details: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(details["credentialId"], alice_id);
    assert_eq!(details["name"], "alice");
    assert_eq!(details["rpId"], "example.com");
    assert!(!details["publicKey"].as_str().unwrap().is_empty());
    assert!(details["publicKeyCose"].is_string());
    // The SPKI is the one create printed.
    assert_eq!(details["publicKey"], alice["response"]["publicKey"]);

    // The shortest prefix that tells them apart.
    let common = alice_id
        .chars()
        .zip(bob_id.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let prefix = &alice_id[..common + 1];
    let (stdout, _) = expect(&env.run(&["show", prefix, "--json"]), 0);
    let by_prefix: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(by_prefix, details);

    // Human form: one `key value` line per field, including the id.
    let (stdout, _) = expect(&env.run(&["show", prefix]), 0);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("credentialId") && l.ends_with(alice_id)),
        "{stdout}"
    );
    assert!(stdout.lines().any(|l| l.starts_with("publicKey ")));

    expect_error(
        &env.run(&["show", "not-a-real-credential-id"]),
        1,
        "fauxkey: no passkey with id \"not-a-real-credential-id\" in the vault",
    );
    expect_error(&env.run(&["show", ""]), 2, "fauxkey: empty credential id");
}

#[test]
fn show_with_an_ambiguous_prefix_is_a_usage_error() {
    let env = Env::with_vault("show-ambiguous");
    // Credential ids are random: register until two share their first character (64 values,
    // so this takes about ten passkeys; 40 fail to collide with probability < 1e-8).
    let mut firsts: Vec<char> = Vec::new();
    let mut shared = None;
    for i in 0..40 {
        let r = env.quick_create("example.com", &format!("user{i}"));
        let first = r["id"].as_str().unwrap().chars().next().unwrap();
        if firsts.contains(&first) {
            shared = Some(first);
            break;
        }
        firsts.push(first);
    }
    let shared = shared
        .expect("no two ids share a first character")
        .to_string();
    expect_error(
        &env.run(&["show", &shared]),
        2,
        &format!("fauxkey: \"{shared}\" matches 2 passkeys; give more of the id"),
    );
    // delete refuses the same way and deletes nothing.
    let before = env.list_json(&[]).len();
    expect_error(
        &env.run(&["delete", &shared]),
        2,
        &format!("fauxkey: \"{shared}\" matches 2 passkeys; give more of the id"),
    );
    assert_eq!(env.list_json(&[]).len(), before);
}

// -------------------------------------------------------------------------------------- delete

#[test]
fn delete_removes_one_passkey() {
    let env = Env::with_vault("delete");
    let alice = env.quick_create("example.com", "alice");
    let bob = env.quick_create("example.com", "bob");
    let alice_id = alice["id"].as_str().unwrap();
    assert_eq!(env.list_json(&[]).len(), 2);

    let (stdout, stderr) = expect(&env.run(&["delete", alice_id]), 0);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!("deleted passkey {alice_id} (alice at example.com)\n")
    );
    let list = env.list_json(&[]);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["credentialId"], bob["id"]);

    let before = env.vault_bytes();
    expect_error(
        &env.run(&["delete", alice_id]),
        1,
        &format!("fauxkey: no passkey with id \"{alice_id}\" in the vault"),
    );
    assert_eq!(env.vault_bytes(), before);

    // Gone for logins too: bob is the only one left.
    let (stdout, _) = expect(&env.run(&["get", "--rp-id", "example.com"]), 0);
    let response: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["id"], bob["id"]);
}

// ---------------------------------------------------------------------- info and capabilities

#[test]
fn info_and_capabilities() {
    let env = Env::new("info");
    // Without a vault: the defaults a new vault gets, and no vault is created.
    let (stdout, _) = expect(&env.run(&["info", "--json"]), 0);
    let info: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(info["aaguid"], AAGUID);
    assert!(info["versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v == "FIDO_2_0"));
    let algorithms = info["algorithms"].as_array().unwrap();
    assert!(algorithms.contains(&"es256".into()) && algorithms.contains(&"eddsa".into()));
    assert!(!env.vault.exists());

    let (stdout, _) = expect(&env.run(&["info"]), 0);
    assert_eq!(
        stdout.lines().next().unwrap(),
        format!("aaguid       {AAGUID}")
    );

    let (stdout, _) = expect(&env.run(&["capabilities", "--json"]), 0);
    let caps: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(caps["extension:prf"], true);
    assert_eq!(caps["extension:credProps"], true);
    assert_eq!(caps["passkeyPlatformAuthenticator"], true);
    assert!(caps.as_object().unwrap().values().all(Value::is_boolean));
    // Sorted keys, as printed (serde_json's map would sort them for us, so read the text).
    let printed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert_eq!(printed.len(), caps.as_object().unwrap().len());
    let mut sorted = printed.clone();
    sorted.sort_unstable();
    assert_eq!(printed, sorted);

    let (stdout, _) = expect(&env.run(&["capabilities"]), 0);
    assert!(stdout
        .lines()
        .any(|l| l.starts_with("extension:prf ") && l.ends_with(" true")));

    // With a vault, the vault is opened (so the passphrase matters) and reports the same.
    env.init();
    let (stdout, _) = expect(&env.run(&["info", "--json"]), 0);
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), info);
}

// -------------------------------------------------------------------------------------- passwd

#[test]
fn passwd_rewraps_the_vault() {
    let env = Env::with_vault("passwd");
    let alice = env.quick_create("example.com", "alice");

    // Both new-passphrase sources: refused, nothing changes.
    let new_file = env.file("new-pass", "newer\n");
    let before = env.vault_bytes();
    expect_error(
        &env.cmd()
            .args(["passwd", "--insecure-fast-kdf"])
            .env("FAUXKEY_NEW_PASSPHRASE", "new")
            .env("FAUXKEY_NEW_PASSPHRASE_FILE", &new_file)
            .output()
            .unwrap(),
        8,
        "fauxkey: both FAUXKEY_NEW_PASSPHRASE and FAUXKEY_NEW_PASSPHRASE_FILE are set; set \
         exactly one",
    );
    // No new-passphrase source and no terminal.
    expect_error(
        &without_terminal(&env, &["passwd", "--insecure-fast-kdf"], true),
        8,
        "fauxkey: no new passphrase: set FAUXKEY_NEW_PASSPHRASE or FAUXKEY_NEW_PASSPHRASE_FILE, \
         or run on a terminal",
    );
    assert_eq!(env.vault_bytes(), before);

    let out = env
        .cmd()
        .args(["passwd", "--insecure-fast-kdf"])
        .env("FAUXKEY_NEW_PASSPHRASE", "new")
        .output()
        .unwrap();
    let (stdout, stderr) = expect(&out, 0);
    assert_eq!(stdout, "");
    assert!(
        stderr.ends_with(&format!(
            "vault passphrase changed for {}\n",
            env.vault.display()
        )),
        "{stderr}"
    );

    let stderr = expect_error(
        &env.run(&["list"]),
        5,
        "fauxkey: wrong passphrase for this vault (or its key-wrapping header was altered)",
    );
    assert_eq!(
        stderr.lines().nth(1),
        Some("hint: check FAUXKEY_PASSPHRASE"),
        "the hint names only the source used"
    );

    let out = env
        .bare_cmd()
        .args(["list", "--json"])
        .env("FAUXKEY_PASSPHRASE", "new")
        .output()
        .unwrap();
    let (stdout, _) = expect(&out, 0);
    let list: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(list[0]["credentialId"], alice["id"]);

    // The file source: one trailing newline is dropped.
    let out = env
        .bare_cmd()
        .arg("passwd")
        .arg("--insecure-fast-kdf")
        .env("FAUXKEY_PASSPHRASE", "new")
        .env("FAUXKEY_NEW_PASSPHRASE_FILE", &new_file)
        .output()
        .unwrap();
    expect(&out, 0);
    let pass_file = env.file("pass", "newer\n");
    let out = env
        .bare_cmd()
        .args(["list", "--json"])
        .env("FAUXKEY_PASSPHRASE_FILE", &pass_file)
        .output()
        .unwrap();
    expect(&out, 0);
}

// -------------------------------------------------------------------------------------- errors

#[test]
fn no_vault_is_exit_3_with_a_hint() {
    let env = Env::new("novault");
    for args in [
        &["list"][..],
        &["show", "abc"],
        &["delete", "abc"],
        &["passwd"],
    ] {
        let stderr = expect_error(
            &env.run(args),
            3,
            &format!(
                "fauxkey: no vault at {}; create one with `fauxkey init`",
                env.vault.display()
            ),
        );
        assert_eq!(
            stderr.lines().nth(1),
            Some("hint: `fauxkey create` also makes one on first use; --vault or FAUXKEY_VAULT choose another path"),
            "{args:?}"
        );
        assert!(!env.vault.exists());
    }
}

#[test]
fn wrong_passphrase_is_exit_5() {
    let env = Env::with_vault("wrongpass");
    let before = env.vault_bytes();
    let out = env
        .bare_cmd()
        .args(["create", "--rp-id", "example.com", "--user", "alice"])
        .env("FAUXKEY_PASSPHRASE", "not the passphrase")
        .output()
        .unwrap();
    let stderr = expect_error(
        &out,
        5,
        "fauxkey: wrong passphrase for this vault (or its key-wrapping header was altered)",
    );
    assert!(stderr.contains("hint: check FAUXKEY_PASSPHRASE"));
    assert_eq!(env.vault_bytes(), before);
}

#[test]
fn a_corrupt_payload_is_exit_6_and_the_file_is_not_changed() {
    let env = Env::with_vault("corrupt");
    env.quick_create("example.com", "alice");
    let mut bytes = env.vault_bytes();
    let i = 136 + (bytes.len() - 136) / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&env.vault, &bytes).unwrap();

    for args in [
        &["list"][..],
        &["get", "--rp-id", "example.com"],
        &["create", "--rp-id", "example.com", "--user", "bob"],
        &["delete", "A"],
    ] {
        let stderr = expect_error(
            &env.run(args),
            6,
            "fauxkey: vault is corrupt (payload): payload authentication failed",
        );
        assert_eq!(
            stderr.lines().nth(1),
            Some("hint: the file was not changed; restore it from a backup"),
            "{args:?}"
        );
        assert_eq!(env.vault_bytes(), bytes, "{args:?} changed a corrupt vault");
    }
}

#[test]
fn a_truncated_vault_is_exit_6() {
    let env = Env::with_vault("truncated");
    let bytes = env.vault_bytes();
    std::fs::write(&env.vault, &bytes[..50]).unwrap();
    expect_error(
        &env.run(&["list"]),
        6,
        "fauxkey: vault is corrupt (header): truncated header",
    );
    assert_eq!(env.vault_bytes(), &bytes[..50]);

    // Not a vault at all.
    std::fs::write(&env.vault, b"hello, world").unwrap();
    expect_error(
        &env.run(&["list"]),
        6,
        "fauxkey: vault is corrupt (header): not a fauxkey vault (bad magic)",
    );
}

#[test]
fn a_future_format_version_is_exit_7() {
    let env = Env::with_vault("version");
    let mut bytes = env.vault_bytes();
    assert_eq!(&bytes[8..10], &[0, 1]);
    bytes[8..10].copy_from_slice(&[0, 2]);
    std::fs::write(&env.vault, &bytes).unwrap();
    expect_error(
        &env.run(&["list"]),
        7,
        "fauxkey: unsupported vault: vault format version 2; this fauxkey reads version 1",
    );
    assert_eq!(env.vault_bytes(), bytes);
}

#[test]
fn passphrase_sources() {
    let env = Env::with_vault("passphrase-sources");
    let file = env.file("pass", &format!("{PASSPHRASE}\n"));

    // Both set: refused.
    let out = env
        .cmd()
        .arg("list")
        .env("FAUXKEY_PASSPHRASE_FILE", &file)
        .output()
        .unwrap();
    expect_error(
        &out,
        8,
        "fauxkey: both FAUXKEY_PASSPHRASE and FAUXKEY_PASSPHRASE_FILE are set; set exactly one",
    );

    // Neither, and no terminal.
    expect_error(
        &without_terminal(&env, &["list"], false),
        8,
        "fauxkey: no vault passphrase: set FAUXKEY_PASSPHRASE or FAUXKEY_PASSPHRASE_FILE, or \
         run on a terminal",
    );

    // The file alone works (its one trailing newline is not part of the passphrase).
    let out = env
        .bare_cmd()
        .args(["list", "--json"])
        .env("FAUXKEY_PASSPHRASE_FILE", &file)
        .output()
        .unwrap();
    expect(&out, 0);

    // An empty passphrase is refused.
    let out = env
        .bare_cmd()
        .arg("list")
        .env("FAUXKEY_PASSPHRASE", "")
        .output()
        .unwrap();
    expect_error(&out, 8, "fauxkey: the vault passphrase must not be empty");
}

/// Every command that writes must report a held lock as exit 4 (after the CLI's 10 s wait).
/// All of them wait in parallel, so the test takes ~10 s once.
#[test]
fn a_locked_vault_is_exit_4() {
    let env = Env::with_vault("locked");
    let alice = env.quick_create("example.com", "alice");
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    let before = env.vault_bytes();

    let guard = fauxkey::vault::file::lock(&env.vault, Duration::from_secs(60)).unwrap();
    let commands: [&[&str]; 4] = [
        &["delete", &alice_id],
        &["passwd", "--insecure-fast-kdf"],
        &["create", "--rp-id", "example.com", "--user", "bob"],
        &["get", "--rp-id", "example.com"],
    ];
    let handles: Vec<_> = commands
        .into_iter()
        .map(|args| {
            let mut cmd = env.cmd();
            cmd.args(args).env("FAUXKEY_NEW_PASSPHRASE", "new");
            let label = args.join(" ");
            std::thread::spawn(move || (label, cmd.output().unwrap()))
        })
        .collect();
    let outputs: Vec<(String, Output)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    drop(guard);

    let prefix = format!(
        "fauxkey: vault {} is locked by another process (waited ",
        env.vault.display()
    );
    let mut failures = Vec::new();
    for (label, out) in &outputs {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // `passwd --insecure-fast-kdf` prints its KDF warning first.
        let mut lines = stderr.lines().skip_while(|l| l.starts_with("WARNING: "));
        let first = lines.next().unwrap_or("");
        let ok = out.status.code() == Some(4)
            && out.stdout.is_empty()
            && first.starts_with(&prefix)
            && first.ends_with("); try again when it finishes")
            && lines.next()
                == Some("hint: another fauxkey holds the vault; retry when it finishes");
        if !ok {
            failures.push(format!(
                "`fauxkey {label}`: exit {:?}, stderr:\n{stderr}",
                out.status.code()
            ));
        }
    }
    assert_eq!(env.vault_bytes(), before, "a locked vault was written");
    assert!(
        failures.is_empty(),
        "commands that did not exit 4 on a locked vault:\n{}",
        failures.join("\n")
    );
}

// --------------------------------------------------------------------------------------- usage

#[test]
fn usage_errors_are_exit_2() {
    let env = Env::with_vault("usage");
    let cases: [&[&str]; 6] = [
        &["create"],
        &["create", "--rp-id", "example.com"],
        &[
            "create",
            "--origin",
            "https://example.com",
            "--rp-id",
            "example.com",
            "--user",
            "a",
        ],
        &["get"],
        &["frobnicate"],
        &[
            "create",
            "--rp-id",
            "example.com",
            "--user",
            "a",
            "--alg",
            "rs1",
        ],
    ];
    let before = env.vault_bytes();
    for args in cases {
        let (stdout, stderr) = expect(&env.run(args), 2);
        assert_eq!(stdout, "", "{args:?}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
    assert_eq!(env.vault_bytes(), before);

    let (_, stderr) = expect(&env.run(&["create"]), 2);
    assert!(stderr.contains("--origin <URL>"), "{stderr}");
    assert!(stderr.contains("Usage: fauxkey create"), "{stderr}");
    let (_, stderr) = expect(
        &env.run(&["create", "--rp-id", "x", "--user", "a", "--alg", "rs1"]),
        2,
    );
    assert!(
        stderr.contains("[possible values: es256, eddsa, es384, es512, rs256]"),
        "{stderr}"
    );
}

#[test]
fn help_documents_exit_codes_and_examples() {
    let env = Env::new("help");
    let (stdout, _) = expect(&env.run(&["--help"]), 0);
    assert!(stdout.contains("Exit codes:"), "{stdout}");
    assert!(stdout.contains("  4  the vault is locked by another process"));
    assert!(stdout.contains("FAUXKEY_PASSPHRASE_FILE"));

    let subcommands = [
        "init",
        "create",
        "get",
        "list",
        "show",
        "delete",
        "capabilities",
        "info",
        "passwd",
    ];
    for sub in subcommands {
        assert!(
            stdout.contains(&format!("\n  {sub} ")),
            "--help lists {sub}"
        );
        let (help, _) = expect(&env.run(&[sub, "--help"]), 0);
        assert!(
            help.contains("Example"),
            "`{sub} --help` has no example:\n{help}"
        );
        assert!(help.contains(&format!("fauxkey {sub}")), "{help}");
    }
    assert!(!env.vault.exists());

    let (version, _) = expect(&env.run(&["--version"]), 0);
    assert!(version.starts_with("fauxkey "), "{version}");
}

#[test]
fn completions_print_a_script() {
    let env = Env::new("completions");
    let (stdout, stderr) = expect(&env.run(&["completions", "bash"]), 0);
    assert_eq!(stderr, "");
    assert!(stdout.contains("fauxkey"));
    assert!(stdout.contains("complete "), "{stdout}");
    expect(&env.run(&["completions", "nosuchshell"]), 2);
    assert!(!env.vault.exists());
}

// ---------------------------------------------------------------------------------- end to end

mod end_to_end {
    use std::time::Duration;

    use webauthn_rs_core::proto::{
        COSEAlgorithm, PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
    };
    use webauthn_rs_core::WebauthnCore;

    use super::*;

    const ORIGIN: &str = "https://example.com";

    fn rp() -> WebauthnCore {
        WebauthnCore::new_unsafe_experts_only(
            "Example RP",
            "example.com",
            vec![url::Url::parse(ORIGIN).unwrap()],
            Duration::from_secs(60),
            None,
            None,
        )
    }

    /// webauthn-rs options → `fauxkey create`/`get` on stdin → webauthn-rs verifies stdout.
    #[test]
    fn webauthn_rs_registers_and_authenticates_through_the_cli() {
        let env = Env::with_vault("e2e");
        let core = rp();
        let user_id = b"alice-user-handle";

        // Registration: resident key and user verification required.
        let builder = core
            .new_challenge_register_builder(user_id, "alice", "Alice A.")
            .unwrap()
            .credential_algorithms(vec![COSEAlgorithm::ES256])
            .user_verification_policy(UserVerificationPolicy::Required)
            .require_resident_key(true);
        let (ccr, reg_state) = core.generate_challenge_register(builder).unwrap();
        let options = serde_json::to_string(&ccr).unwrap();
        let out = env.run_stdin(&["create", "--origin", ORIGIN, "--options", "-"], &options);
        let (stdout, stderr) = expect(&out, 0);
        let reg: RegisterPublicKeyCredential = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("webauthn-rs cannot parse create's stdout: {e}\n{stdout}"));
        let mut cred = core
            .register_credential(&reg, &reg_state, None)
            .unwrap_or_else(|e| panic!("webauthn-rs rejected the registration: {e:?}"));
        assert!(cred.user_verified);
        assert_eq!(cred.counter, 0);
        let id = fauxkey::b64url::encode(cred.cred_id.as_ref());
        assert_eq!(
            stderr,
            format!("created passkey {id} for alice at example.com\n")
        );

        let list = env.list_json(&[]);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["credentialId"], id);
        assert_eq!(list[0]["rpId"], "example.com");
        assert_eq!(list[0]["rpName"], "Example RP");
        assert_eq!(list[0]["userHandle"], fauxkey::b64url::encode(user_id));
        assert_eq!(list[0]["displayName"], "Alice A.");
        assert_eq!(list[0]["discoverable"], true);
        assert_eq!(list[0]["signCount"], 0);

        // Authentication with an allow list.
        let builder = core
            .new_challenge_authenticate_builder(
                vec![cred.clone()],
                Some(UserVerificationPolicy::Required),
            )
            .unwrap();
        let (rcr, auth_state) = core.generate_challenge_authenticate(builder).unwrap();
        let options = serde_json::to_string(&rcr).unwrap();
        let out = env.run_stdin(&["get", "--origin", ORIGIN, "--options", "-"], &options);
        let (stdout, stderr) = expect(&out, 0);
        assert_eq!(stderr, format!("signed in with passkey {id}\n"));
        let pkc: PublicKeyCredential = serde_json::from_str(&stdout).unwrap();
        let result = core
            .authenticate_credential(&pkc, &auth_state)
            .unwrap_or_else(|e| panic!("webauthn-rs rejected the assertion: {e:?}"));
        assert_eq!(result.cred_id(), &cred.cred_id);
        assert!(result.user_verified());
        assert_eq!(result.counter(), 1);
        assert!(result.needs_update());
        cred.counter = result.counter();

        let list = env.list_json(&[]);
        assert_eq!(list[0]["signCount"], 1);
        assert!(list[0]["lastUsed"].is_string());

        // A second, discoverable login (empty allow list): the RP finds the user by userHandle.
        let builder = core
            .new_challenge_authenticate_builder(Vec::new(), Some(UserVerificationPolicy::Required))
            .unwrap();
        let (rcr, mut auth_state) = core.generate_challenge_authenticate(builder).unwrap();
        let options = serde_json::to_string(&rcr).unwrap();
        let out = env.run_stdin(&["get", "--origin", ORIGIN, "--options", "-"], &options);
        let (stdout, _) = expect(&out, 0);
        let pkc: PublicKeyCredential = serde_json::from_str(&stdout).unwrap();
        assert_eq!(pkc.get_user_unique_id(), Some(&user_id[..]));
        auth_state.set_allowed_credentials(vec![cred.clone()]);
        let result = core
            .authenticate_credential(&pkc, &auth_state)
            .unwrap_or_else(|e| panic!("webauthn-rs rejected the second assertion: {e:?}"));
        assert_eq!(result.counter(), 2);
        assert!(result.needs_update());
        assert_eq!(env.list_json(&[])[0]["signCount"], 2);

        // The same response replayed to a fresh challenge is rejected by the RP.
        let builder = core
            .new_challenge_authenticate_builder(
                vec![cred.clone()],
                Some(UserVerificationPolicy::Required),
            )
            .unwrap();
        let (_, fresh_state) = core.generate_challenge_authenticate(builder).unwrap();
        assert!(core.authenticate_credential(&pkc, &fresh_state).is_err());
    }
}

#[test]
fn create_quick_mode_with_es384_es512_and_rs256_and_log_in_with_each() {
    let env = Env::with_vault("create-new-algs");
    for (name, id, user) in [
        ("es384", -35, "p384"),
        ("es512", -36, "p521"),
        ("rs256", -257, "rsa"),
    ] {
        let out = env.run(&[
            "create",
            "--rp-id",
            "example.com",
            "--user",
            user,
            "--alg",
            name,
        ]);
        let (stdout, _) = expect(&out, 0);
        let response = check_registration(&stdout, id);
        let list = env.list_json(&[]);
        let row = list
            .iter()
            .find(|c| c["credentialId"] == response["id"])
            .unwrap_or_else(|| panic!("{name}: not listed"));
        assert_eq!(row["algorithm"], name);
        // Reopened from the vault (SPEC §4.4 key 8) and signing again.
        let (stdout, _) = expect(
            &env.run(&["get", "--rp-id", "example.com", "--account", user]),
            0,
        );
        let got: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(got["id"], response["id"], "{name}");
    }
}
