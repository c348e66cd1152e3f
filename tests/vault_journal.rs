//! The vault's journal (vault-format/SPEC.md §9): a login appends a record instead of rewriting
//! the vault; every acknowledged counter survives SIGKILL of `serve --vault`; a torn final record
//! is dropped and cut at the next append; a record altered, reordered or moved from another vault
//! or vault state is a payload failure; a journal bound to an older vault is ignored; and
//! processes logging in and creating at once lose nothing and never repeat a counter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;
mod common;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use fauxkey::crypto::keys::{Algorithm, PrivateKey};
use fauxkey::env::seeded_rng;
use fauxkey::store::{CredProtect, Credential, CredentialStore};
use fauxkey::vault::{journal, ErrorClass, KdfParams, Passphrase, Vault};
use fauxkey::Config;
use serde_json::{json, Value};

const PASS: &str = "journal test passphrase";
const T0: u64 = 1_700_000_000_000;

struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let d = std::env::temp_dir().join(format!("fauxkey-journal-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn vault(&self) -> PathBuf {
        self.0.join("vault.fxk")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn pass() -> Passphrase {
    Passphrase::new(PASS).unwrap()
}

fn credential(seed: u64, sequence: u64) -> Credential {
    let mut rng = seeded_rng(seed);
    Credential {
        id: format!("credential-{seed}-{sequence}").into_bytes(),
        rp_id: "example.com".into(),
        rp_name: None,
        user_handle: format!("user-{sequence}").into_bytes(),
        user_name: Some(format!("user {sequence}")),
        user_display_name: None,
        key: PrivateKey::generate(Algorithm::Es256, &mut *rng),
        discoverable: true,
        sign_count: 0,
        backup_eligible: false,
        backup_state: false,
        created_ms: T0,
        last_used_ms: None,
        hidden: false,
        hidden_at_ms: None,
        cred_protect: CredProtect::UvOptional,
        cred_random: None,
        large_blob_key: None,
        cred_blob: None,
        sequence,
        u2f_app_param: None,
    }
}

/// A vault with `n` credentials; returns their ids.
fn vault_with(path: &Path, n: u64) -> Vec<Vec<u8>> {
    let mut v = Vault::create(path, &pass(), KdfParams::INSECURE_FAST, Config::default()).unwrap();
    (1..=n)
        .map(|i| {
            let c = credential(i, i);
            let id = c.id.clone();
            v.insert(c).unwrap();
            id
        })
        .collect()
}

/// A login as the authenticator does it: the counter up by one, the time stamped.
fn login(v: &mut Vault, id: &[u8], at: u64) -> u32 {
    v.update(id, &mut |c| {
        c.sign_count += 1;
        c.last_used_ms = Some(at);
    })
    .unwrap();
    v.get(id).unwrap().sign_count
}

fn counts(path: &Path) -> Result<Vec<u32>, fauxkey::vault::VaultError> {
    let v = Vault::open(path, &pass())?;
    let mut all: Vec<_> = v.all().map(|c| (c.sequence, c.sign_count)).collect();
    all.sort();
    Ok(all.into_iter().map(|(_, n)| n).collect())
}

#[test]
fn a_login_appends_to_the_journal_and_leaves_the_vault_alone() {
    let dir = TempDir::new("append");
    let path = dir.vault();
    let ids = vault_with(&path, 2);
    let before = std::fs::read(&path).unwrap();
    let mut v = Vault::open(&path, &pass()).unwrap();
    assert_eq!(login(&mut v, &ids[0], T0 + 1), 1);
    assert_eq!(login(&mut v, &ids[0], T0 + 2), 2);
    assert_eq!(login(&mut v, &ids[1], T0 + 3), 1);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the vault is not rewritten"
    );
    let jpath = journal::path(&path);
    let j = std::fs::read(&jpath).unwrap();
    let id_len = ids[0].len();
    assert_eq!(
        j.len(),
        journal::HEADER_LEN + 3 * (2 + 12 + 12 + id_len + 16)
    );
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&jpath).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Another reader sees the journaled state, last-used time included.
    let other = Vault::open(&path, &pass()).unwrap();
    assert_eq!(other.get(&ids[0]).unwrap().sign_count, 2);
    assert_eq!(other.get(&ids[0]).unwrap().last_used_ms, Some(T0 + 2));
    assert_eq!(other.get(&ids[1]).unwrap().last_used_ms, Some(T0 + 3));
    // A full save folds it in and removes the journal.
    v.insert(credential(9, 9)).unwrap();
    assert!(!jpath.exists(), "the journal is folded and removed");
    assert_eq!(counts(&path).unwrap(), vec![2, 1, 0]);
}

#[test]
fn a_second_process_catches_up_from_its_offset() {
    let dir = TempDir::new("catch-up");
    let path = dir.vault();
    let ids = vault_with(&path, 1);
    let mut a = Vault::open(&path, &pass()).unwrap();
    let mut b = Vault::open(&path, &pass()).unwrap();
    for i in 1..=5 {
        assert_eq!(login(&mut a, &ids[0], T0 + i), (2 * i - 1) as u32);
        assert!(b.refresh().unwrap(), "b sees a's record");
        assert_eq!(b.get(&ids[0]).unwrap().sign_count, (2 * i - 1) as u32);
        assert_eq!(login(&mut b, &ids[0], T0 + i), (2 * i) as u32);
    }
    assert!(!b.refresh().unwrap(), "nothing new");
    assert_eq!(counts(&path).unwrap(), vec![10]);
}

#[test]
fn a_held_lock_keeps_other_writers_out_until_released_and_loses_nothing() {
    let dir = TempDir::new("held");
    let path = dir.vault();
    let ids = vault_with(&path, 1);
    let mut a = Vault::open(&path, &pass()).unwrap();
    let mut b = Vault::open(&path, &pass()).unwrap();
    b.set_lock_timeout(std::time::Duration::from_millis(50));
    assert_eq!(login(&mut b, &ids[0], T0 + 1), 1);
    // Holding the lock catches up first: a sees b's login.
    a.hold_lock().unwrap();
    a.hold_lock().unwrap(); // held already: not an error, not a deadlock
    assert_eq!(a.get(&ids[0]).unwrap().sign_count, 1);
    assert_eq!(login(&mut a, &ids[0], T0 + 2), 2);
    assert_eq!(login(&mut a, &ids[0], T0 + 3), 3);
    a.insert(credential(7, 7)).unwrap(); // a full save under the held lock
                                         // b cannot write meanwhile, and loses nothing by trying.
    let refused = b.update(&ids[0], &mut |c| c.sign_count += 1);
    assert!(refused.is_err(), "b must wait for a's lock");
    assert!(
        b.refresh().is_err(),
        "b cannot even catch up while a holds the lock"
    );
    a.release_lock();
    a.release_lock(); // not held: nothing
    assert!(b.refresh().unwrap());
    assert_eq!(b.get(&ids[0]).unwrap().sign_count, 3);
    assert_eq!(login(&mut b, &ids[0], T0 + 4), 4);
    // After the release a catches up at its next step again.
    assert_eq!(login(&mut a, &ids[0], T0 + 5), 5);
    assert_eq!(counts(&path).unwrap(), vec![5, 0]);
}

#[test]
fn a_torn_final_record_is_dropped_at_every_length_and_cut_at_the_next_append() {
    let dir = TempDir::new("torn");
    let path = dir.vault();
    let ids = vault_with(&path, 1);
    let mut v = Vault::open(&path, &pass()).unwrap();
    for i in 1..=3 {
        login(&mut v, &ids[0], T0 + i);
    }
    drop(v);
    let jpath = journal::path(&path);
    let whole = std::fs::read(&jpath).unwrap();
    let record = (whole.len() - journal::HEADER_LEN) / 3;
    for len in 0..=whole.len() {
        std::fs::write(&jpath, &whole[..len]).unwrap();
        let complete = len.saturating_sub(journal::HEADER_LEN) / record;
        let want = if len < journal::HEADER_LEN {
            0
        } else {
            complete
        };
        assert_eq!(
            counts(&path).unwrap(),
            vec![want as u32],
            "journal cut at {len}"
        );
    }
    // A crash mid-append may also leave zeros where the record was to go.
    let mut zeros = whole[..journal::HEADER_LEN + 2 * record].to_vec();
    zeros.resize(whole.len(), 0);
    std::fs::write(&jpath, &zeros).unwrap();
    assert_eq!(counts(&path).unwrap(), vec![2]);
    let mut v = Vault::open(&path, &pass()).unwrap();
    assert_eq!(login(&mut v, &ids[0], T0 + 9), 3);
    let after = std::fs::read(&jpath).unwrap();
    assert_eq!(
        after.len(),
        whole.len(),
        "the torn record was cut, not kept"
    );
    assert_eq!(
        after[..journal::HEADER_LEN + 2 * record],
        whole[..journal::HEADER_LEN + 2 * record]
    );
    assert_eq!(counts(&path).unwrap(), vec![3]);
}

fn assert_journal_failure(path: &Path, what: &str) {
    let e = counts(path).expect_err(what);
    assert_eq!(e.class(), ErrorClass::PayloadFailure, "{what}: {e}");
    assert!(e.to_string().contains("journal"), "{what}: {e}");
}

#[test]
fn an_altered_or_reordered_record_is_a_payload_failure() {
    let dir = TempDir::new("tamper");
    let path = dir.vault();
    let ids = vault_with(&path, 2);
    let mut v = Vault::open(&path, &pass()).unwrap();
    for i in 1..=3 {
        login(&mut v, &ids[(i % 2) as usize], T0 + i);
    }
    drop(v);
    let jpath = journal::path(&path);
    let whole = std::fs::read(&jpath).unwrap();
    let h = journal::HEADER_LEN;
    let record = (whole.len() - h) / 3;
    // Every bit of the first two records' nonce, ciphertext and tag.
    for r in 0..2 {
        for at in h + r * record + 2..h + (r + 1) * record {
            for bit in [0x01u8, 0x80] {
                let mut bad = whole.clone();
                bad[at] ^= bit;
                std::fs::write(&jpath, &bad).unwrap();
                assert_journal_failure(&path, &format!("byte {at} flipped"));
            }
        }
    }
    // A length field altered: damage, or (a record now running past the end) the same as the
    // journal cut there, which a reader cannot tell from a crash (SPEC §9.4, §7 on rollback).
    for r in 0..2 {
        std::fs::write(&jpath, &whole[..h + r * record]).unwrap();
        let cut = counts(&path).unwrap();
        for at in h + r * record..h + r * record + 2 {
            for bit in [0x01u8, 0x02, 0x80] {
                let mut bad = whole.clone();
                bad[at] ^= bit;
                std::fs::write(&jpath, &bad).unwrap();
                match counts(&path) {
                    Ok(c) => assert_eq!(c, cut, "length byte {at} ^ {bit:#x}"),
                    Err(e) => assert_eq!(e.class(), ErrorClass::PayloadFailure, "{e}"),
                }
            }
        }
    }
    // Records 0 and 1 swapped: each is authentic, at the wrong position.
    let mut swapped = whole[..h].to_vec();
    swapped.extend_from_slice(&whole[h + record..h + 2 * record]);
    swapped.extend_from_slice(&whole[h..h + record]);
    swapped.extend_from_slice(&whole[h + 2 * record..]);
    std::fs::write(&jpath, &swapped).unwrap();
    assert_journal_failure(&path, "records swapped");
    // A record repeated (replayed) in place of the next one.
    let mut replayed = whole[..h + record].to_vec();
    replayed.extend_from_slice(&whole[h..h + record]);
    replayed.extend_from_slice(&whole[h + 2 * record..]);
    std::fs::write(&jpath, &replayed).unwrap();
    assert_journal_failure(&path, "record replayed");
    // The last record altered is the torn final record: dropped, like a crash mid-append.
    let mut last = whole.clone();
    *last.last_mut().unwrap() ^= 1;
    std::fs::write(&jpath, &last).unwrap();
    assert!(counts(&path).is_ok());
    // A login on a vault with a damaged journal is refused, and the journal kept for inspection.
    std::fs::write(&jpath, &swapped).unwrap();
    assert!(Vault::open(&path, &pass()).is_err());
    assert_eq!(std::fs::read(&jpath).unwrap(), swapped);
}

#[test]
fn a_journal_of_an_older_vault_state_or_another_vault_never_applies() {
    let dir = TempDir::new("older");
    let path = dir.vault();
    let ids = vault_with(&path, 1);
    let mut v = Vault::open(&path, &pass()).unwrap();
    for i in 1..=3 {
        login(&mut v, &ids[0], T0 + i);
    }
    let jpath = journal::path(&path);
    let old = std::fs::read(&jpath).unwrap();
    // The state after the journal was folded: a crash after the rename, before the removal,
    // leaves exactly this pair.
    v.insert(credential(7, 7)).unwrap();
    login(&mut v, &ids[0], T0 + 4);
    drop(v);
    let newer = std::fs::read(&jpath).unwrap();
    std::fs::write(&jpath, &old).unwrap();
    assert_eq!(
        counts(&path).unwrap(),
        vec![3, 0],
        "the older journal is ignored"
    );
    // Rebound to the current state (its header's vault nonce rewritten): its records were
    // sealed for another state and fail.
    let mut rebound = old.clone();
    rebound[10..22].copy_from_slice(&newer[10..22]);
    std::fs::write(&jpath, &rebound).unwrap();
    assert_journal_failure(&path, "records replayed onto a newer state");
    // Moved to another vault (same passphrase, another data key), bound to its state.
    let other = dir.0.join("other.fxk");
    vault_with(&other, 1);
    let mut m = Vault::open(&other, &pass()).unwrap();
    login(&mut m, &ids[0], T0 + 1);
    drop(m);
    let theirs = std::fs::read(journal::path(&other)).unwrap();
    let mut moved = newer[..journal::HEADER_LEN].to_vec();
    moved.extend_from_slice(&theirs[journal::HEADER_LEN..]);
    moved.extend_from_slice(&newer[journal::HEADER_LEN..]);
    std::fs::write(&jpath, &moved).unwrap();
    assert_journal_failure(&path, "a record from another vault");
}

// ------------------------------------------------------------ concurrent processes

const CHILD_ENV: &str = "FAUXKEY_JOURNAL_CHILD";
const ROLE_ENV: &str = "FAUXKEY_JOURNAL_ROLE";
const LOGINS: u32 = 150;
const CREATES: u64 = 40;

/// Child of `two_processes_logging_in_and_one_creating_lose_nothing`.
#[test]
fn journal_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let role = std::env::var(ROLE_ENV).unwrap();
    let mut v = Vault::open(Path::new(&path), &pass()).unwrap();
    let id = v.all().find(|c| c.sequence == 1).unwrap().id.clone();
    let mut out = std::io::stdout().lock();
    if role == "create" {
        for i in 0..CREATES {
            v.insert(credential(100 + i, 100 + i)).unwrap();
        }
        return;
    }
    for i in 0..LOGINS {
        // As the authenticator does: catch up, then bump.
        v.refresh().unwrap();
        let n = login(&mut v, &id, T0 + u64::from(i));
        writeln!(out, "count {n}").unwrap();
    }
}

#[test]
fn two_processes_logging_in_and_one_creating_lose_nothing() {
    let dir = TempDir::new("concurrent");
    let path = dir.vault();
    vault_with(&path, 1);
    let children: Vec<_> = ["login", "login", "create"]
        .iter()
        .map(|role| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "journal_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, &path)
                .env(ROLE_ENV, role)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mine: Vec<u32> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split("count ").nth(1)?.trim().parse().ok())
            .collect();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "a counter went back");
        seen.extend(mine);
    }
    assert_eq!(seen.len(), 2 * LOGINS as usize);
    let distinct: HashSet<u32> = seen.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        seen.len(),
        "two logins got the same counter"
    );
    let v = Vault::open(&path, &pass()).unwrap();
    assert_eq!(v.len() as u64, 1 + CREATES, "a created credential was lost");
    let first = v.all().find(|c| c.sequence == 1).unwrap();
    assert_eq!(first.sign_count, 2 * LOGINS, "a login was lost");
}

// ------------------------------------------------------------ SIGKILL of serve --vault

const BIN: &str = env!("CARGO_BIN_EXE_fauxkey");

/// The authenticatorData signCount of an assertion response.
fn sign_count_of(response: &Value) -> (String, u32) {
    let id = response["id"].as_str().unwrap().to_owned();
    let ad = fauxkey::b64url::decode(response["response"]["authenticatorData"].as_str().unwrap())
        .unwrap();
    (id, u32::from_be_bytes([ad[33], ad[34], ad[35], ad[36]]))
}

#[test]
fn every_acknowledged_counter_survives_sigkill_of_serve() {
    sigkill_serve_during_logins("journal-kill", false);
}

/// The same with three connections logging in at once, one credential each: their journal
/// records share flushes (group commit, SPEC §9.5), and still none is acknowledged before it
/// is on disk.
#[test]
fn every_acknowledged_counter_survives_sigkill_of_serve_with_concurrent_logins() {
    sigkill_serve_during_logins("journal-kill-concurrent", true);
}

fn sigkill_serve_during_logins(name: &str, concurrent: bool) {
    let env = cli_support::Env::with_vault(name);
    let ids: Vec<String> = ["alice", "bob", "carol"]
        .iter()
        .map(|user| {
            env.quick_create("example.com", user)["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--vault"])
        .arg(&env.vault)
        .env_remove("FAUXKEY_VAULT")
        .env_remove("FAUXKEY_PASSPHRASE_FILE")
        .env("FAUXKEY_PASSPHRASE", cli_support::PASSPHRASE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let http = common::Http::new(
        first.trim_end(),
        second.trim_end().strip_prefix("token: ").unwrap(),
    );
    let (tx, rx) = mpsc::channel();
    // Logins until the server dies, round the three credentials on one connection or one
    // credential per connection on three; each acknowledged counter goes to the channel.
    let connections: Vec<Vec<String>> = if concurrent {
        ids.iter().map(|id| vec![id.clone()]).collect()
    } else {
        vec![ids]
    };
    let clients: Vec<_> = connections
        .into_iter()
        .map(|ids| {
            let tx = tx.clone();
            let http = common::Http::new(&http.base, http.token.as_deref().unwrap());
            std::thread::spawn(move || {
                for i in 0usize.. {
                    let options = json!({
                        "challenge": "AAECAwQFBgcICQoLDA0ODw",
                        "rpId": "example.com",
                        "allowCredentials": [{"type": "public-key", "id": ids[i % ids.len()]}]
                    });
                    let body = json!({"origin": common::ORIGIN, "options": options});
                    // A transport error is the server dying: the end of the loop.
                    let Ok(resp) = http
                        .request("POST", "/webauthn/get")
                        .set("content-type", "application/json")
                        .send_string(&body.to_string())
                    else {
                        return;
                    };
                    let resp: Value = serde_json::from_str(&resp.into_string().unwrap_or_default())
                        .unwrap_or(Value::Null);
                    if resp.is_null() {
                        return;
                    }
                    if tx.send(sign_count_of(&resp)).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    drop(tx);
    // Past the first fold (64 KiB of journal is at most about 1,100 logins), then kill at once: the
    // login in flight may or may not be saved, every acknowledged one must be.
    let mut acked: BTreeMap<String, u32> = BTreeMap::new();
    for _ in 0..1_200 {
        let (id, n) = rx.recv().unwrap();
        let e = acked.entry(id).or_default();
        assert!(n > *e, "counters increase");
        *e = n;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    while let Ok((id, n)) = rx.recv() {
        let e = acked.entry(id).or_default();
        *e = (*e).max(n);
    }
    for client in clients {
        let _ = client.join();
    }
    let listed = env.list_json(&[]);
    for (id, n) in &acked {
        let c = listed
            .iter()
            .find(|c| c["credentialId"] == id.as_str())
            .unwrap();
        let stored = c["signCount"].as_u64().unwrap() as u32;
        assert!(
            stored >= *n,
            "credential {id}: acknowledged {n}, after SIGKILL {stored}"
        );
    }
    let _ = std::io::stderr().flush();
}
