//! Cost of opening and saving a vault as it grows, without the passphrase KDF.
//!
//! `cargo bench --bench vault` builds vaults of 10, 1,000, 10,000 and 100,000 passkeys and times
//! what `Vault` does around the KDF:
//!
//! - **open**: read the file, `format::open_with_keys`, `payload::decode`, insert every credential
//!   into a `MemoryStore` (what `Vault::open` does once Argon2id has unwrapped the data key; the
//!   keys come from one `format::open` outside the timing);
//! - **save**: collect the store, `payload::encode`, `format::seal`, and `file::write_atomic` with
//!   the same read-back check `Vault` uses: temp file, write, fsync, read back, decrypt, rename,
//!   directory fsync (a file in a fresh directory under the system temp dir).
//!
//! Sub-steps are also timed at 10,000 passkeys. Afterwards it reads criterion's saved estimates
//! and prints a markdown table (time per vault, per passkey, file size, growth per decade) and
//! the verdicts: 10,000 passkeys open in < 50 ms and save in < 100 ms, and both grow linearly.
//!
//! The passkeys are clones of one that makeCredential made (ES256, discoverable, hmac-secret
//! keys: the larger record), each with its own 32-byte id and user handle, names, and one of 100
//! RPs. Their private keys are seeded random scalars (`PrivateKey::from_secret_bytes`), so
//! building 100,000 takes no key generation.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use fauxkey::authenticator::{Authenticator, Config};
use fauxkey::crypto::keys::{Algorithm, PrivateKey};
use fauxkey::ctap2::make_credential::{self, CredentialParameters, Extensions, RpEntity};
use fauxkey::ctap2::{Options, UserEntity};
use fauxkey::env::{seeded_rng, FixedClock};
use fauxkey::store::{CredRandom, Credential, CredentialStore, MemoryStore};
use fauxkey::vault::{file, format, payload, KdfParams, Passphrase, VaultError, VaultKeys};
use rand_core::Rng as _;

/// The vault sizes benchmarked.
const SIZES: [usize; 4] = [10, 1_000, 10_000, 100_000];
/// The size the targets and the sub-step benchmarks are about.
const TARGET_N: usize = 10_000;
/// Target: open 10,000 passkeys in under this many ms.
const OPEN_TARGET_MS: f64 = 50.0;
/// Target: save 10,000 passkeys in under this many ms.
const SAVE_TARGET_MS: f64 = 100.0;
/// Largest time growth per tenfold more passkeys still counted as linear (10 plus noise).
const LINEAR_LIMIT: f64 = 11.0;
/// How many RPs the passkeys are spread over.
const RPS: usize = 100;

/// One passkey as makeCredential makes it (ES256, discoverable, with hmac-secret keys): the
/// template the others are cloned from, so that every field is what the authenticator sets.
fn template() -> Credential {
    let mut a = Authenticator::new(Config::default(), MemoryStore::new())
        .with_rng(seeded_rng(1))
        .with_clock(FixedClock::at(1_700_000_000_000));
    a.make_credential(make_credential::Request {
        client_data_hash: vec![0x5a; 32],
        rp: RpEntity {
            id: "rp0.example".into(),
            name: Some("Example RP".into()),
        },
        user: UserEntity {
            id: vec![0; 32],
            name: Some("user0@example.com".into()),
            display_name: Some("User 0".into()),
        },
        pub_key_cred_params: vec![CredentialParameters {
            type_: "public-key".into(),
            alg: Algorithm::Es256.cose_id(),
        }],
        exclude_list: Vec::new(),
        extensions: Extensions {
            hmac_secret: Some(true),
            ..Extensions::default()
        },
        options: Options {
            rk: Some(true),
            up: None,
            uv: Some(true),
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
        enterprise_attestation: None,
        attestation_formats_preference: None,
    })
    .unwrap();
    let c = a.store().all().next().unwrap().clone();
    assert!(c.cred_random.is_some() && c.discoverable);
    c
}

/// `n` passkeys like the template, each with its own id, RP (of 100), user, key and hmac-secret
/// keys; private keys are seeded random scalars, checked by `PrivateKey::from_secret_bytes`.
fn credentials(n: usize) -> Vec<Credential> {
    let template = template();
    let mut rng = seeded_rng(n as u64);
    (0..n)
        .map(|i| {
            let mut c = template.clone();
            c.key = loop {
                let mut scalar = [0u8; 32];
                rng.fill_bytes(&mut scalar);
                // A scalar ≥ the group order (or zero) is refused; draw again (p ≈ 2^-32).
                if let Ok(k) = PrivateKey::from_secret_bytes(Algorithm::Es256, &scalar) {
                    break k;
                }
            };
            rng.fill_bytes(&mut c.id);
            c.rp_id = format!("rp{}.example", i % RPS);
            c.user_handle = vec![0u8; 32];
            c.user_handle[..8].copy_from_slice(&(i as u64).to_be_bytes());
            c.user_name = Some(format!("user{i}@example.com"));
            c.user_display_name = Some(format!("User {i}"));
            let mut random = CredRandom {
                with_uv: [0; 32],
                without_uv: [0; 32],
            };
            rng.fill_bytes(&mut random.with_uv);
            rng.fill_bytes(&mut random.without_uv);
            c.cred_random = Some(random);
            c.created_ms += i as u64;
            c.sequence = i as u64 + 1;
            c
        })
        .collect()
}

/// A vault of `n` passkeys on disk: its path, its keys (from a passphrase open, outside any
/// timing), its store, and the file's size.
struct Fixture {
    path: PathBuf,
    keys: VaultKeys,
    store: MemoryStore,
    settings: Config,
    size: usize,
}

fn fixture(dir: &Path, n: usize) -> Fixture {
    let pass = Passphrase::new("vault benchmark passphrase").unwrap();
    let settings = Config::default();
    let mut store = MemoryStore::new();
    for c in credentials(n) {
        store.insert(c).unwrap();
    }
    let creds: Vec<&Credential> = store.all().collect();
    let plaintext = payload::encode(&settings, &creds, &store.events());
    let mut rng = seeded_rng(7);
    let setup_keys = VaultKeys::generate(&pass, KdfParams::INSECURE_FAST, rng.as_mut()).unwrap();
    let sealed = format::seal(&setup_keys, &plaintext, rng.as_mut()).unwrap();
    let path = dir.join(format!("vault-{n}.fxk"));
    file::ensure_parent(&path).unwrap();
    file::write_atomic(&path, &sealed, |_| Ok(())).unwrap();
    // As `Vault::open` gets them: the KDF runs here, once.
    let (keys, _) = format::open(&file::read(&path).unwrap(), &pass).unwrap();
    Fixture {
        path,
        keys,
        store,
        settings,
        size: sealed.len(),
    }
}

/// `Vault::open` after the KDF: read, decrypt, decode, fill the store. (Never inlined, so that
/// `valgrind --tool=callgrind --toggle-collect='vault::open'` can count it alone.)
#[inline(never)]
fn open(path: &Path, keys: &VaultKeys) -> Result<(Config, MemoryStore), VaultError> {
    let bytes = file::read(path)?;
    let plaintext = format::open_with_keys(&bytes, keys)?;
    let state = payload::decode(&plaintext)?;
    let mut store = MemoryStore::with_capacity(state.credentials.len());
    for e in state.events {
        store.push_event(e);
    }
    for c in state.credentials {
        store.insert(c).unwrap();
    }
    Ok((state.settings, store))
}

/// `Vault::save_locked`: encode, seal, and the atomic write with its read-back check.
#[inline(never)]
fn save(
    path: &Path,
    keys: &VaultKeys,
    settings: &Config,
    store: &MemoryStore,
    rng: &mut dyn rand_core::CryptoRng,
) -> Result<(), VaultError> {
    let credentials: Vec<&Credential> = store.all().collect();
    let events = store.events();
    let plaintext = payload::encode(settings, &credentials, &events);
    let sealed = format::seal(keys, &plaintext, rng)?;
    file::ensure_parent(path)?;
    file::write_atomic(path, &sealed, |back| {
        format::open_with_keys(back, keys).map(|_| ())
    })
}

/// Sampling suited to how long one iteration takes at `n` passkeys.
fn configure(g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, n: usize) {
    match n {
        0..=100 => {
            g.sample_size(30)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
        }
        101..=1_000 => {
            g.sample_size(20)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
        }
        1_001..=10_000 => {
            g.sampling_mode(SamplingMode::Flat)
                .sample_size(20)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(3));
        }
        _ => {
            g.sampling_mode(SamplingMode::Flat)
                .sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(4));
        }
    }
}

/// Times `routine` per iteration; what it returns is dropped outside the timing.
fn timed<T>(iters: u64, mut routine: impl FnMut() -> T) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let start = Instant::now();
        let out = black_box(routine());
        total += start.elapsed();
        drop(out);
    }
    total
}

fn open_and_save(c: &mut Criterion, dir: &Path, sizes: &mut BTreeMap<usize, usize>) {
    for n in SIZES {
        let f = fixture(dir, n);
        sizes.insert(n, f.size);
        let mut g = c.benchmark_group("vault");
        configure(&mut g, n);
        g.bench_function(format!("open_{n}"), |b| {
            b.iter_custom(|iters| timed(iters, || open(&f.path, &f.keys).unwrap()))
        });
        let mut rng = seeded_rng(11);
        g.bench_function(format!("save_{n}"), |b| {
            b.iter(|| save(&f.path, &f.keys, &f.settings, &f.store, rng.as_mut()).unwrap())
        });
        g.finish();
    }
}

/// Each step of open and save at `TARGET_N` passkeys, to see where the time goes.
fn sub_steps(c: &mut Criterion, dir: &Path) {
    let f = fixture(&dir.join("steps"), TARGET_N);
    let bytes = file::read(&f.path).unwrap();
    let plaintext = format::open_with_keys(&bytes, &f.keys).unwrap();
    let credentials: Vec<&Credential> = f.store.all().collect();
    let mut rng = seeded_rng(13);
    let sealed = format::seal(&f.keys, &plaintext, rng.as_mut()).unwrap();
    let n = TARGET_N;
    let mut g = c.benchmark_group("vault_steps");
    configure(&mut g, n);
    g.bench_function(format!("read_{n}"), |b| {
        b.iter(|| file::read(&f.path).unwrap())
    });
    g.bench_function(format!("decrypt_{n}"), |b| {
        b.iter(|| format::open_with_keys(black_box(&bytes), &f.keys).unwrap())
    });
    g.bench_function(format!("decode_{n}"), |b| {
        b.iter_custom(|iters| timed(iters, || payload::decode(black_box(&plaintext)).unwrap()))
    });
    g.bench_function(format!("store_insert_{n}"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let list = payload::decode(&plaintext).unwrap().credentials;
                let start = Instant::now();
                let mut store = MemoryStore::with_capacity(list.len());
                for c in list {
                    store.insert(c).unwrap();
                }
                total += start.elapsed();
                drop(black_box(store));
            }
            total
        })
    });
    g.bench_function(format!("encode_{n}"), |b| {
        b.iter(|| payload::encode(&f.settings, black_box(&credentials), &f.store.events()))
    });
    g.bench_function(format!("seal_{n}"), |b| {
        b.iter(|| format::seal(&f.keys, black_box(&plaintext), rng.as_mut()).unwrap())
    });
    let keys = &f.keys;
    g.bench_function(format!("write_atomic_{n}"), |b| {
        b.iter(|| {
            file::write_atomic(&f.path, black_box(&sealed), |back| {
                format::open_with_keys(back, keys).map(|_| ())
            })
            .unwrap()
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .output_directory(&criterion_home())
}

/// Where criterion writes (the same rule it uses, but with the target directory taken from this
/// executable's location, `<target>/release/deps/vault-…`, rather than `cargo metadata`).
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|t| t.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Mean ns per iteration from `<home>/<id>/new/estimates.json`, and whether this run wrote it.
fn mean_ns(home: &Path, id: &str, started: SystemTime) -> Option<(f64, bool)> {
    let path = home.join(id).join("new").join("estimates.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let ns = json["mean"]["point_estimate"].as_f64()?;
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started);
    Some((ns, fresh))
}

fn size_label(bytes: usize) -> String {
    match bytes {
        0..=9_999 => format!("{bytes} B"),
        10_000..=9_999_999 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0)),
    }
}

/// Time growth per tenfold more passkeys between two sizes (geometric mean over the decades).
fn per_decade(t_small: f64, t_large: f64, n_small: usize, n_large: usize) -> f64 {
    let decades = (n_large as f64 / n_small as f64).log10();
    (t_large / t_small).powf(1.0 / decades)
}

fn print_table(home: &Path, started: SystemTime, sizes: &BTreeMap<usize, usize>) {
    let stale = |fresh: bool| if fresh { "" } else { " (stale)" };
    let ms = |r: Option<(f64, bool)>| match r {
        Some((ns, fresh)) => format!("{:.3}{}", ns / 1e6, stale(fresh)),
        None => "not run".into(),
    };
    let us_per = |r: Option<(f64, bool)>, n: usize| match r {
        Some((ns, _)) => format!("{:.2}", ns / 1e3 / n as f64),
        None => String::new(),
    };
    println!();
    println!(
        "Vault open and save without the KDF (criterion means, in {}):",
        home.display()
    );
    println!();
    println!(
        "| N | open ms | save ms | open µs/passkey | save µs/passkey | file size \
         | open growth/decade | save growth/decade |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut verdicts = Vec::new();
    let mut targets = Vec::new();
    let mut previous: Option<(usize, Option<f64>, Option<f64>)> = None;
    for n in SIZES {
        let open = mean_ns(home, &format!("vault/open_{n}"), started);
        let save = mean_ns(home, &format!("vault/save_{n}"), started);
        let size = sizes.get(&n).map_or_else(String::new, |&s| size_label(s));
        let growth = |now: Option<(f64, bool)>, before: Option<f64>, n0: usize, what: &str| match (
            now, before,
        ) {
            (Some((t, _)), Some(t0)) => {
                let g = per_decade(t0, t, n0, n);
                let met = if g <= LINEAR_LIMIT { "met" } else { "MISSED" };
                Some((
                    format!("{g:.2}"),
                    format!("{what} {n0}→{n}: ×{g:.2} per decade (linear ≤ ~10) — {met}"),
                ))
            }
            _ => None,
        };
        let (og, sg) = match previous {
            Some((n0, o0, s0)) => (growth(open, o0, n0, "open"), growth(save, s0, n0, "save")),
            None => (None, None),
        };
        let cell = |g: &Option<(String, String)>| g.as_ref().map_or("—".into(), |g| g.0.clone());
        println!(
            "| {n} | {} | {} | {} | {} | {size} | {} | {} |",
            ms(open),
            ms(save),
            us_per(open, n),
            us_per(save, n),
            cell(&og),
            cell(&sg),
        );
        verdicts.extend(og.into_iter().chain(sg).map(|g| g.1));
        if n == TARGET_N {
            for (what, r, target) in [
                ("open", open, OPEN_TARGET_MS),
                ("save", save, SAVE_TARGET_MS),
            ] {
                if let Some((ns, _)) = r {
                    let t = ns / 1e6;
                    let met = if t < target { "met" } else { "MISSED" };
                    targets.push(format!(
                        "{what} {n} passkeys: {t:.2} ms (target < {target} ms) — {met}"
                    ));
                }
            }
        }
        previous = Some((n, open.map(|o| o.0), save.map(|s| s.0)));
    }
    println!();
    println!("Steps at {TARGET_N} passkeys:");
    println!();
    println!("| step | ms | µs/passkey |");
    println!("|---|---:|---:|");
    for step in [
        "read",
        "decrypt",
        "decode",
        "store_insert",
        "encode",
        "seal",
        "write_atomic",
    ] {
        let r = mean_ns(home, &format!("vault_steps/{step}_{TARGET_N}"), started);
        println!("| {step} | {} | {} |", ms(r), us_per(r, TARGET_N));
    }
    println!();
    for v in targets.into_iter().chain(verdicts) {
        println!("{v}");
    }
}

fn main() {
    let started = SystemTime::now();
    let dir = std::env::temp_dir().join(format!("fauxkey-vault-bench-{}", std::process::id()));
    let mut sizes = BTreeMap::new();
    let mut c = config().configure_from_args();
    open_and_save(&mut c, &dir, &mut sizes);
    sub_steps(&mut c, &dir);
    c.final_summary();
    let _ = std::fs::remove_dir_all(&dir);
    print_table(&criterion_home(), started, &sizes);
}
