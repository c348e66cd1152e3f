//! Load benchmark of `fauxkey serve` (not a test): create and get over HTTP on loopback with a
//! few concurrent connections, against the same operations called in-process, in one run; then
//! the process's resident memory over a long mixed run; and get throughput and p99 latency on
//! one connection with 200 idle connections open against none, interleaved in the same run.
//!
//! `cargo bench --bench server` (set `FAUXKEY_BENCH_SECS` to change the seconds spent on each
//! figure, default 3, and `FAUXKEY_BENCH_CONNECTIONS`, default 4). The figures are measured in
//! interleaved rounds and reported as medians, so a machine whose load drifts treats them alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fauxkey::server::{AuthenticatorOptions, Server, ServerConfig, ServerStore, Timeouts};
use fauxkey::store::MemoryStore;
use fauxkey::Client;
use serde_json::{json, Value};

const ORIGIN: &str = "https://example.com";

/// The server's token (one server per run).
static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Registration options: a discoverable passkey for one fixed user, so each create replaces
/// the previous one (the store stays one credential per connection).
fn creation_options(user: u32) -> Value {
    json!({
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": fauxkey::b64url::encode(&user.to_be_bytes()), "name": format!("user{user}"), "displayName": "User"},
        "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2U",
        "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
        "authenticatorSelection": {"residentKey": "required", "userVerification": "preferred"},
        "attestation": "none"
    })
}

fn request_options(credential_id: &str) -> Value {
    json!({
        "challenge": "Y2hhbGxlbmdlLWNoYWxsZW5nZS1jaGFsbGVuZ2U",
        "rpId": "example.com",
        "allowCredentials": [{"type": "public-key", "id": credential_id}],
        "userVerification": "preferred"
    })
}

fn secs() -> Duration {
    Duration::from_secs_f64(
        std::env::var("FAUXKEY_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3.0),
    )
}

fn connections() -> usize {
    std::env::var("FAUXKEY_BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

type Op = Box<dyn FnMut() + Send>;

/// CPU time used so far by this whole process (every thread: the server's and its clients'),
/// in seconds, from /proc/self/stat (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// What a run achieved: operations per wall-clock second, and per CPU second of the process.
#[derive(Debug, Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: f64,
}

/// Runs one `op` per thread (`threads` of them, each made by `make` before the clock starts)
/// for `duration`.
fn rate(threads: usize, duration: Duration, make: &(dyn Fn(usize) -> Op + Sync)) -> Rate {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let ready = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (done, stop, ready) = (&done, &stop, &ready);
            scope.spawn(move || {
                let mut op = make(t);
                op(); // warm up (connection, first touches)
                ready.wait();
                while !stop.load(Ordering::Relaxed) {
                    op();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        ready.wait();
        let (start, cpu0, n0) = (Instant::now(), cpu_seconds(), done.load(Ordering::Relaxed));
        std::thread::sleep(duration);
        let n = (done.load(Ordering::Relaxed) - n0) as f64;
        let (elapsed, cpu) = (start.elapsed(), cpu_seconds() - cpu0);
        stop.store(true, Ordering::Relaxed);
        Rate {
            wall: n / elapsed.as_secs_f64(),
            cpu: if cpu > 0.0 { n / cpu } else { 0.0 },
        }
    })
}

/// What one thread does, in-process or over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ceremony {
    Create,
    Get,
}

/// The in-process baseline: the same JSON in, the same JSON out, no HTTP; the threads share one
/// client behind a mutex, as the server's handlers share the default authenticator.
fn in_process(client: &Arc<Mutex<Client>>, ceremony: Ceremony) -> impl Fn(usize) -> Op + Sync {
    let client = client.clone();
    move |t| {
        let client = client.clone();
        let create = creation_options(t as u32 + 1).to_string();
        let id = client.lock().unwrap().create(ORIGIN, &create).unwrap().id;
        let get = request_options(&id).to_string();
        Box::new(move || {
            let mut c = client.lock().unwrap();
            let json = match ceremony {
                Ceremony::Create => serde_json::to_string(&c.create(ORIGIN, &create).unwrap()),
                Ceremony::Get => serde_json::to_string(&c.get(ORIGIN, &get).unwrap()),
            };
            std::hint::black_box(json.unwrap());
        })
    }
}

fn post(agent: &ureq::Agent, url: &str, body: &str) -> Value {
    agent
        .post(url)
        .set("content-type", "application/json")
        .set(
            "authorization",
            &format!("Bearer {}", TOKEN.get().map_or("", String::as_str)),
        )
        .send_string(body)
        .unwrap()
        .into_json()
        .unwrap()
}

/// One keep-alive connection per thread, all on the server's default authenticator.
fn over_http(base: &str, ceremony: Ceremony) -> impl Fn(usize) -> Op + Sync {
    let base = base.to_owned();
    move |t| {
        let agent = ureq::AgentBuilder::new().build();
        let create =
            json!({"origin": ORIGIN, "options": creation_options(t as u32 + 1)}).to_string();
        let create_url = format!("{base}/webauthn/create");
        let registered = post(&agent, &create_url, &create);
        let (url, body) = match ceremony {
            Ceremony::Create => (create_url, create),
            Ceremony::Get => (
                format!("{base}/webauthn/get"),
                json!({"origin": ORIGIN, "options": request_options(registered["id"].as_str().unwrap())})
                    .to_string(),
            ),
        };
        Box::new(move || {
            std::hint::black_box(post(&agent, &url, &body));
        })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Resident set size in KiB (Linux), or 0.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn start_server() -> Server {
    let server = Server::start(
        ServerConfig {
            // Idle connections must stay open for the whole idle-connection figure.
            timeouts: Timeouts {
                header: Duration::from_secs(3600),
                body: Duration::from_secs(30),
            },
            ..ServerConfig::new(
                AuthenticatorOptions::default(),
                ServerStore::Memory(MemoryStore::new()),
            )
        },
        2,
    )
    .unwrap();
    TOKEN.get_or_init(|| server.token().to_owned());
    server
}

/// Gets on one keep-alive connection for `duration`: (requests per second, p99 latency in ms).
fn get_latency(base: &str, duration: Duration) -> (f64, f64) {
    let mut op = over_http(base, Ceremony::Get)(0);
    op();
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < duration {
        let t = Instant::now();
        op();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let n = times.len() as f64;
    times.sort_by(f64::total_cmp);
    let p99 = times[((n * 0.99) as usize).min(times.len() - 1)];
    (n / start.elapsed().as_secs_f64(), p99)
}

/// 200 idle connections on and off, interleaved: the throughput and p99 of gets beside them.
fn idle_connections(base: &str, duration: Duration, rounds: u32) {
    const IDLE: usize = 200;
    let addr = base.trim_start_matches("http://").to_owned();
    let slice = duration / rounds;
    let (mut none, mut idle) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        none.push(get_latency(base, slice));
        let open: Vec<std::net::TcpStream> = (0..IDLE)
            .map(|_| std::net::TcpStream::connect(&addr).unwrap())
            .collect();
        idle.push(get_latency(base, slice));
        drop(open);
    }
    println!();
    println!("| get on one connection | requests /s | p99 ms |");
    println!("|---|---:|---:|");
    for (name, v) in [
        ("no idle connections", none),
        ("200 idle connections open", idle),
    ] {
        let rate = median(v.iter().map(|x| x.0).collect());
        let p99 = median(v.iter().map(|x| x.1).collect());
        println!("| {name} | {rate:.0} | {p99:.2} |");
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` asks a harness=false bench to list its tests: none.
        return;
    }
    let duration = secs();
    let connections = connections();
    let rounds = 6;
    let slice = duration / rounds;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "fauxkey serve load benchmark: {rounds} interleaved rounds of {slice:?} per figure, \
         {cores} cores; medians"
    );

    let profile = fauxkey::profiles::find("fauxkey").unwrap();
    let client = Arc::new(Mutex::new(
        profile.client(profile.authenticator(MemoryStore::new())),
    ));
    let server = start_server();
    let base = server.base_url().to_owned();

    // Every figure is measured in every round, so drifting machine load hits all of them alike.
    let mut figures: Vec<(Ceremony, usize, bool, Vec<Rate>)> = Vec::new();
    for ceremony in [Ceremony::Create, Ceremony::Get] {
        for threads in [1, connections] {
            for http in [false, true] {
                figures.push((ceremony, threads, http, Vec::new()));
            }
        }
    }
    for _ in 0..rounds {
        for (ceremony, threads, http, rates) in &mut figures {
            let r = if *http {
                rate(*threads, slice, &over_http(&base, *ceremony))
            } else {
                rate(*threads, slice, &in_process(&client, *ceremony))
            };
            rates.push(r);
        }
    }
    let m = |c: Ceremony, t: usize, h: bool, cpu: bool| {
        let rates = &figures
            .iter()
            .find(|f| f.0 == c && f.1 == t && f.2 == h)
            .unwrap()
            .3;
        median(
            rates
                .iter()
                .map(|r| if cpu { r.cpu } else { r.wall })
                .collect(),
        )
    };
    println!();
    println!(
        "| operation | threads / connections | in-process /s | HTTP /s | ratio | in-process /CPU-s | HTTP /CPU-s | ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, c) in [
        ("create (ES256, discoverable)", Ceremony::Create),
        ("get (allow list)", Ceremony::Get),
    ] {
        for t in [1, connections] {
            let (a, b) = (m(c, t, false, false), m(c, t, true, false));
            let (ac, bc) = (m(c, t, false, true), m(c, t, true, true));
            println!(
                "| {name} | {t} | {a:.0} | {b:.0} | {:.2} | {ac:.0} | {bc:.0} | {:.2} |",
                b / a,
                bc / ac
            );
        }
    }

    idle_connections(&base, duration * 2, rounds);

    // Memory over a long mixed run: creates (each replacing its connection's passkey) and gets.
    let long = duration * 10;
    let tenths = 10;
    let mut rss = vec![rss_kib()];
    let mut total = 0.0;
    for _ in 0..tenths {
        let half = long / tenths / 2;
        for c in [Ceremony::Create, Ceremony::Get] {
            total += rate(connections, half, &over_http(&base, c)).wall * half.as_secs_f64();
        }
        rss.push(rss_kib());
    }
    println!();
    println!(
        "memory: {total:.0} requests over {long:?} with {connections} connections; RSS KiB at \
         the start and after each tenth: {}",
        rss.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "RSS after the first tenth {} KiB, at the end {} KiB ({:+.1}%)",
        rss[1],
        rss[tenths as usize],
        (rss[tenths as usize] as f64 / rss[1] as f64 - 1.0) * 100.0
    );
    server.stop();
}
