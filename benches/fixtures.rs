//! Fixture generation throughput against the raw cryptography the corpus cannot avoid.
//!
//! `cargo bench --bench fixtures` times, in one process, (a) raw ES256 signatures (RFC 6979,
//! DER, as an assertion signs them) and raw ES256 key generation, and (b) generating corpora of
//! ES256 cases in memory, then writing one to disk. It prints a markdown table:
//! cases per second, the rate the corpus's own key generations and signatures alone would allow
//! (their count × their measured cost), and the ratio between the two. Target: ≥ 0.8.
//!
//! Every figure is the median of several runs. Set `FIXTURES_BENCH_QUICK=1` for a short run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use fauxkey::crypto::keys::{Algorithm, PrivateKey};
use fauxkey::env::seeded_rng;
use fauxkey::fixtures::{self, CeremonyKind, FixtureOptions};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median time of `runs` calls of `f`.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

/// Counts of the expensive operations in a corpus: key generations (one per registration case)
/// and signatures (one per authentication case, plus one per registration with a `packed`
/// statement).
fn crypto_ops(corpus: &fixtures::Corpus) -> (usize, usize) {
    let mut keygens = 0;
    let mut signatures = 0;
    for case in &corpus.manifest().cases {
        match case.ceremony {
            CeremonyKind::Registration => {
                keygens += 1;
                if case.fmt.as_deref() != Some("none") {
                    signatures += 1;
                }
            }
            CeremonyKind::Authentication => signatures += 1,
        }
    }
    (keygens, signatures)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run briefly then.
    let quick = std::env::var_os("FIXTURES_BENCH_QUICK").is_some()
        || !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 5 };
    let n = if quick { 200 } else { 2_000 };

    // Raw ES256: n signatures and n key generations, timed right before each corpus run so
    // that both see the same machine load; the ratio is taken per run, then the median.
    let mut rng = seeded_rng(1);
    let key = PrivateKey::generate(Algorithm::Es256, &mut rng);
    let message = [0x5a_u8; 69]; // authenticatorData (37) ‖ clientDataHash (32)
    let mut raw = || {
        let start = Instant::now();
        for _ in 0..n {
            black_box(key.sign(black_box(&message)));
        }
        let sign = start.elapsed() / n as u32;
        let start = Instant::now();
        for _ in 0..n {
            black_box(PrivateKey::generate(Algorithm::Es256, &mut rng));
        }
        (sign, start.elapsed() / n as u32)
    };

    println!("| corpus (ES256) | cases | time | cases/s | crypto-only cases/s | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    let sizes: &[(u32, bool)] = if quick {
        &[(50, false), (5, true)]
    } else {
        // 2 conveyances × users × 2 cases: 10,000 golden cases; then broken cases included.
        &[(2_500, false), (100, true)]
    };
    let mut ten_thousand = None;
    let mut signs = Vec::new();
    let mut keygens_t = Vec::new();
    for &(users, negative) in sizes {
        let options = FixtureOptions {
            seed: 1,
            algorithms: vec![Algorithm::Es256],
            negative,
            users,
            ..FixtureOptions::default()
        };
        let corpus = fixtures::generate(&options).unwrap();
        let cases = corpus.manifest().cases.len();
        let (keygens, signatures) = crypto_ops(&corpus);
        let mut took = Vec::new();
        let mut ratios = Vec::new();
        for _ in 0..runs {
            let (sign, keygen) = raw();
            signs.push(sign);
            keygens_t.push(keygen);
            let t = time(1, || fixtures::generate(&options).unwrap());
            let crypto = keygen * keygens as u32 + sign * signatures as u32;
            ratios.push(crypto.as_secs_f64() / t.as_secs_f64());
            took.push(t);
        }
        let took = median(took);
        ratios.sort_by(f64::total_cmp);
        let ratio = ratios[ratios.len() / 2];
        let rate = cases as f64 / took.as_secs_f64();
        println!(
            "| {}, {users} users | {cases} | {:.2} s | {rate:.0} | {:.0} | {ratio:.2} |",
            if negative {
                "golden + broken"
            } else {
                "golden"
            },
            took.as_secs_f64(),
            rate / ratio,
        );
        if !negative {
            ten_thousand = Some(corpus);
        }
    }
    let (sign, keygen) = (median(signs), median(keygens_t));
    println!();
    println!(
        "raw ES256: {:.0} signatures/s, {:.0} key generations/s",
        1.0 / sign.as_secs_f64(),
        1.0 / keygen.as_secs_f64()
    );
    if let Some(corpus) = ten_thousand {
        let dir =
            std::env::temp_dir().join(format!("fauxkey-bench-fixtures-{}", std::process::id()));
        let write = time(1, || {
            let _ = std::fs::remove_dir_all(&dir);
            corpus.write_to(&dir).unwrap();
        });
        let _ = std::fs::remove_dir_all(&dir);
        println!(
            "writing the {}-case corpus ({} files) to {}: {:.2} s",
            corpus.manifest().cases.len(),
            corpus.files().len(),
            std::env::temp_dir().display(),
            write.as_secs_f64()
        );
    }
}
