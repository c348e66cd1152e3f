//! Logins against `fauxkey serve --vault` and against `--ephemeral` (in memory) with the same
//! passkeys, at 1,000, 10,000 and 100,000 passkeys, interleaved in one run (not a test).
//!
//! `cargo bench --bench serve_vault` (`FAUXKEY_BENCH_SECS`, default 3: seconds per figure per
//! size; `FAUXKEY_BENCH_SIZES`, default `1000,10000,100000`). For each size it builds the vault
//! through the library (insecure-fast KDF, one save; private keys are seeded random scalars, so
//! no key generation), starts two in-process servers, one over the vault and one over a memory
//! store holding the same passkeys, and then alternates them in rounds: `POST /webauthn/get` with
//! an allow list, round the first 64 passkeys, on keep-alive connections. Each round gives a
//! vault ÷ memory ratio; the table shows medians. `FAUXKEY_BENCH_CLIENTS` (default `1,8`): how
//! many connections log in at once, each on its own thread; with several, the vault's logins
//! share journal flushes (group commit, vault-format/SPEC.md §9.5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fauxkey::crypto::keys::{Algorithm, PrivateKey};
use fauxkey::env::seeded_rng;
use fauxkey::server::{AuthenticatorOptions, Server, ServerConfig, ServerStore};
use fauxkey::store::{CredProtect, Credential, CredentialStore, MemoryStore};
use fauxkey::vault::{KdfParams, Passphrase, Vault};
use fauxkey::Config;
use rand_core::Rng as _;
use serde_json::json;

const ORIGIN: &str = "https://example.com";
const ROUNDS: u32 = 5;

fn secs() -> Duration {
    Duration::from_secs_f64(
        std::env::var("FAUXKEY_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    )
}

fn clients() -> Vec<usize> {
    std::env::var("FAUXKEY_BENCH_CLIENTS")
        .ok()
        .map(|v| v.split(',').map(|n| n.trim().parse().unwrap()).collect())
        .unwrap_or_else(|| vec![1, 8])
}

fn sizes() -> Vec<usize> {
    std::env::var("FAUXKEY_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect()
}

/// `n` discoverable ES256 passkeys for example.com, each its own id, user and key.
fn credentials(n: usize) -> Vec<Credential> {
    let mut rng = seeded_rng(n as u64);
    (0..n)
        .map(|i| {
            let key = loop {
                let mut scalar = [0u8; 32];
                rng.fill_bytes(&mut scalar);
                if let Ok(k) = PrivateKey::from_secret_bytes(Algorithm::Es256, &scalar) {
                    break k;
                }
            };
            let mut id = vec![0u8; 32];
            rng.fill_bytes(&mut id);
            Credential {
                id,
                rp_id: "example.com".into(),
                rp_name: Some("Example".into()),
                user_handle: (i as u64).to_be_bytes().to_vec(),
                user_name: Some(format!("user{i}@example.com")),
                user_display_name: Some(format!("User {i}")),
                key,
                discoverable: true,
                sign_count: 0,
                backup_eligible: true,
                backup_state: true,
                created_ms: 1_700_000_000_000 + i as u64,
                last_used_ms: None,
                hidden: false,
                hidden_at_ms: None,
                cred_protect: CredProtect::UvOptional,
                cred_random: None,
                large_blob_key: None,
                cred_blob: None,
                sequence: i as u64 + 1,
                u2f_app_param: None,
            }
        })
        .collect()
}

fn start(store: ServerStore) -> Server {
    Server::start(ServerConfig::new(AuthenticatorOptions::default(), store), 2).unwrap()
}

/// Logins on `clients` keep-alive connections at once for `duration`, each round `ids` from its
/// own starting point: logins per second, all connections together.
fn logins(server: &Server, ids: &[String], duration: Duration, clients: usize) -> f64 {
    let url = format!("{}/webauthn/get", server.base_url());
    let auth = format!("Bearer {}", server.token());
    let bodies: Vec<String> = ids
        .iter()
        .map(|id| {
            json!({"origin": ORIGIN, "options": {
                "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2U",
                "rpId": "example.com",
                "allowCredentials": [{"type": "public-key", "id": id}],
                "userVerification": "preferred"
            }})
            .to_string()
        })
        .collect();
    let barrier = std::sync::Barrier::new(clients);
    let (url, auth, bodies, barrier) = (&url, &auth, &bodies, &barrier);
    let (n, elapsed) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new().build();
                    let post = |body: &str| {
                        let r = agent
                            .post(url)
                            .set("content-type", "application/json")
                            .set("authorization", auth)
                            .send_string(body)
                            .unwrap();
                        assert_eq!(r.status(), 200);
                        std::hint::black_box(r.into_string().unwrap());
                    };
                    let first = client * bodies.len() / clients;
                    post(&bodies[first]); // connection, first touches
                    barrier.wait();
                    let start = Instant::now();
                    let mut n = 0usize;
                    while start.elapsed() < duration {
                        post(&bodies[(first + n) % bodies.len()]);
                        n += 1;
                    }
                    (n, start.elapsed())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0, Duration::ZERO), |(n, e), (m, f)| (n + m, e.max(f)))
    });
    n as f64 / elapsed.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let slice = secs() / ROUNDS;
    println!(
        "serve --vault against --ephemeral: {ROUNDS} interleaved rounds of {slice:?} per figure; \
         medians (the ratio is the median of per-round ratios)"
    );
    println!();
    println!("| passkeys | connections | --ephemeral logins/s | --vault logins/s | vault ÷ ephemeral | vault build s |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let dir =
        std::env::temp_dir().join(format!("fauxkey-bench-serve-vault-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pass = Passphrase::new("bench").unwrap();
    for n in sizes() {
        let all = credentials(n);
        let ids: Vec<String> = all
            .iter()
            .take(64)
            .map(|c| fauxkey::b64url::encode(&c.id))
            .collect();
        let path: PathBuf = dir.join(format!("vault-{n}.fxk"));
        let built = Instant::now();
        let mut vault =
            Vault::create(&path, &pass, KdfParams::INSECURE_FAST, Config::default()).unwrap();
        let mut memory = MemoryStore::with_capacity(n);
        vault
            .modify(|s, _| {
                for c in &all {
                    s.insert(c.clone()).unwrap();
                }
            })
            .unwrap();
        let build = built.elapsed().as_secs_f64();
        for c in all {
            memory.insert(c).unwrap();
        }
        let on_vault = start(ServerStore::Vault(Box::new(vault)));
        let in_memory = start(ServerStore::Memory(memory));
        for &clients in &clients() {
            let (mut mem, mut vlt, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let m = logins(&in_memory, &ids, slice, clients);
                let v = logins(&on_vault, &ids, slice, clients);
                mem.push(m);
                vlt.push(v);
                ratio.push(v / m);
            }
            println!(
                "| {n} | {clients} | {:.0} | {:.0} | {:.2} | {build:.1} |",
                median(mem),
                median(vlt),
                median(ratio)
            );
        }
        on_vault.stop();
        in_memory.stop();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
