//! What the CTAPHID transport adds on top of the CTAP2 work it carries.
//!
//! `cargo bench --bench ctaphid` measures, in one process:
//! - getInfo through `process(&[u8])` (baseline) and through the pure framing state machines
//!   (fragment the request, reassemble, execute, fragment the answer);
//! - a 1 KiB round trip through a Unix socket pair to a thread that echoes 64-byte reports
//!   (baseline), and the same 1 KiB as CTAPHID PING through `serve`; getInfo through `serve`.
//!
//! It then prints a markdown table of mean times and ratios against the baselines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::Criterion;
use fauxkey::ctaphid::device::{Action, Device};
use fauxkey::ctaphid::reassembler::Reassembler;
use fauxkey::ctaphid::serve::{serve, ServeOptions};
use fauxkey::ctaphid::{cmd, fragment, Report, BROADCAST_CID};
use fauxkey::env::SimulatedUser;
use fauxkey::store::MemoryStore;
use fauxkey::{Authenticator, Config};

fn authenticator() -> Authenticator<MemoryStore> {
    Authenticator::new(Config::default(), MemoryStore::new())
}

/// Reads one whole CTAPHID answer (init packet plus continuations) and returns its length.
fn read_answer(s: &mut UnixStream) -> usize {
    let mut r: Report = [0; 64];
    s.read_exact(&mut r).unwrap();
    let len = usize::from(u16::from_be_bytes([r[5], r[6]]));
    let mut have = len.min(57);
    while have < len {
        s.read_exact(&mut r).unwrap();
        have += 59;
    }
    len
}

fn framing(c: &mut Criterion) {
    let mut g = c.benchmark_group("ctaphid");
    let mut a = authenticator();
    g.bench_function("process_get_info", |b| {
        b.iter(|| black_box(a.process(&[0x04])))
    });

    let mut device = Device::new(Reassembler::default(), [0, 1, 0]);
    let init = fragment(BROADCAST_CID, cmd::INIT, b"12345678");
    let actions = device.receive(&init[0], 0);
    let cid = match &actions[0] {
        Action::Send(r) => u32::from_be_bytes(r[0][15..19].try_into().unwrap()),
        other => panic!("{other:?}"),
    };
    let request = fragment(cid, cmd::CBOR, &[0x04]);
    g.bench_function("device_get_info", |b| {
        b.iter(|| {
            let mut out = 0;
            for action in device.receive(&request[0], 0) {
                if let Action::Execute { cid, request } = action {
                    let answer = a.process(&request);
                    for sent in device.finish(cid, &answer) {
                        if let Action::Send(reports) = sent {
                            out += reports.len();
                        }
                    }
                }
            }
            black_box(out)
        })
    });

    // A plain echo of 64-byte reports over a socket pair: what any transport pays.
    let (mut host, dev) = UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        let mut dev = dev;
        let mut r: Report = [0; 64];
        while dev.read_exact(&mut r).is_ok() {
            if dev.write_all(&r).is_err() {
                return;
            }
        }
    });
    let ping = fragment(1, cmd::PING, &[7u8; 1024]);
    let ping_bytes = ping.concat();
    g.bench_function("socket_echo_1k", |b| {
        b.iter(|| {
            host.write_all(&ping_bytes).unwrap();
            black_box(read_answer(&mut host))
        })
    });
    drop(host);

    let (mut host, dev) = UnixStream::pair().unwrap();
    std::thread::spawn(move || {
        let reader = dev.try_clone().unwrap();
        let _ = serve(
            authenticator(),
            SimulatedUser::default(),
            reader,
            dev,
            &ServeOptions::default(),
        );
    });
    host.write_all(&init[0]).unwrap();
    let mut r: Report = [0; 64];
    host.read_exact(&mut r).unwrap();
    let cid = u32::from_be_bytes(r[15..19].try_into().unwrap());
    let ping = fragment(cid, cmd::PING, &[7u8; 1024]).concat();
    g.bench_function("serve_ping_1k", |b| {
        b.iter(|| {
            host.write_all(&ping).unwrap();
            black_box(read_answer(&mut host))
        })
    });
    let get_info = fragment(cid, cmd::CBOR, &[0x04]).concat();
    g.bench_function("serve_get_info", |b| {
        b.iter(|| {
            host.write_all(&get_info).unwrap();
            black_box(read_answer(&mut host))
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

/// The one group (a private module, so the `pub fn` the macro writes needs no docs).
mod group {
    use super::{config, framing};
    criterion::criterion_group! {
        name = benches;
        config = config();
        targets = framing
    }
}

/// Where criterion writes (its own rule, with the target directory taken from this executable's
/// location, `<target>/release/deps/ctaphid-…`).
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

/// Mean ns per iteration, if this run measured it.
fn mean_ns(home: &Path, id: &str, started: SystemTime) -> Option<f64> {
    let path = home.join(id).join("new").join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= started);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64().filter(|_| fresh)
}

fn main() {
    let started = SystemTime::now();
    group::benches();
    config().configure_from_args().final_summary();
    let home = criterion_home();
    let rows = [
        ("process_get_info", "process_get_info"),
        ("device_get_info", "process_get_info"),
        ("socket_echo_1k", "socket_echo_1k"),
        ("serve_ping_1k", "socket_echo_1k"),
        ("serve_get_info", "process_get_info"),
    ];
    println!();
    println!("| operation | µs/op | time vs baseline |");
    println!("|---|---:|---|");
    for (id, base) in rows {
        let (Some(ns), Some(base_ns)) = (
            mean_ns(&home, &format!("ctaphid/{id}"), started),
            mean_ns(&home, &format!("ctaphid/{base}"), started),
        ) else {
            println!("| {id} | not run this time | |");
            continue;
        };
        let ratio = if id == base {
            "1.00 (baseline)".to_owned()
        } else {
            format!("{:.2} × {base}", ns / base_ns)
        };
        println!("| {id} | {:.2} | {ratio} |", ns / 1000.0);
    }
}
