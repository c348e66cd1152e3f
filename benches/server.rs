//! Load benchmark of `fauxkey serve` (not a test): create and get over HTTP on loopback with a
//! few concurrent connections, against the same operations called in-process, in one run; then
//! the process's resident memory over a long mixed run.
//!
//! `cargo bench --bench server` (set `FAUXKEY_BENCH_SECS` to change the seconds per phase,
//! default 3, and `FAUXKEY_BENCH_CONNECTIONS`, default 4).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fauxkey::server::{AuthenticatorOptions, Server, ServerConfig, ServerStore};
use fauxkey::store::MemoryStore;
use serde_json::{json, Value};

const ORIGIN: &str = "https://example.com";

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

/// Runs `op` in a loop for `duration`; operations per second.
fn rate(duration: Duration, mut op: impl FnMut()) -> f64 {
    // Warm up.
    for _ in 0..20 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < duration {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The in-process baseline: the same JSON in, the same JSON out, no HTTP.
fn in_process(duration: Duration) -> (f64, f64) {
    let mut client = fauxkey::profiles::find("fauxkey").unwrap().client(
        fauxkey::profiles::find("fauxkey")
            .unwrap()
            .authenticator(MemoryStore::new()),
    );
    let create = creation_options(0).to_string();
    let create_rate = rate(duration, || {
        let r = client.create(ORIGIN, &create).unwrap();
        std::hint::black_box(serde_json::to_string(&r).unwrap());
    });
    let id = client.create(ORIGIN, &create).unwrap().id;
    let get = request_options(&id).to_string();
    let get_rate = rate(duration, || {
        let r = client.get(ORIGIN, &get).unwrap();
        std::hint::black_box(serde_json::to_string(&r).unwrap());
    });
    (create_rate, get_rate)
}

fn post(agent: &ureq::Agent, url: &str, body: &Value) -> Value {
    agent
        .post(url)
        .set("content-type", "application/json")
        .send_string(&body.to_string())
        .unwrap()
        .into_json()
        .unwrap()
}

/// `connections` clients, each on its own keep-alive connection and thread, all on the
/// default authenticator; total operations per second.
fn over_http(base: &str, duration: Duration, connections: usize, get: bool) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let (base, done, stop) = (base.to_owned(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let create = json!({"origin": ORIGIN, "options": creation_options(c as u32 + 1)});
                let create_url = format!("{base}/webauthn/create");
                let registered = post(&agent, &create_url, &create);
                let body = if get {
                    json!({"origin": ORIGIN, "options": request_options(registered["id"].as_str().unwrap())})
                } else {
                    create
                };
                let url = format!("{base}/webauthn/{}", if get { "get" } else { "create" });
                while !stop.load(Ordering::Relaxed) {
                    std::hint::black_box(post(&agent, &url, &body));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Let every connection get going before counting.
    std::thread::sleep(Duration::from_millis(200));
    let (n0, t0) = (done.load(Ordering::Relaxed), start.elapsed());
    std::thread::sleep(duration);
    let (n1, t1) = (done.load(Ordering::Relaxed), start.elapsed());
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    (n1 - n0) as f64 / (t1 - t0).as_secs_f64()
}

/// Resident set size in KiB (Linux), or 0.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn start_server() -> Server {
    Server::start(
        ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            options: AuthenticatorOptions::default(),
            store: ServerStore::Memory(MemoryStore::new()),
        },
        2,
    )
    .unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo test --benches` asks a harness=false bench to list its tests: none.
        return;
    }
    let duration = secs();
    let connections = connections();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("fauxkey serve load benchmark: {duration:?} per phase, {cores} cores");

    let (create_in, get_in) = in_process(duration);
    let server = start_server();
    let create_1 = over_http(server.base_url(), duration, 1, false);
    let get_1 = over_http(server.base_url(), duration, 1, true);
    let create_n = over_http(server.base_url(), duration, connections, false);
    let get_n = over_http(server.base_url(), duration, connections, true);

    println!();
    println!("| operation | in-process /s | HTTP, 1 conn /s | ratio | HTTP, {connections} conns /s | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, base, one, many) in [
        (
            "create (ES256, discoverable)",
            create_in,
            create_1,
            create_n,
        ),
        ("get (allow list)", get_in, get_1, get_n),
    ] {
        println!(
            "| {name} | {base:.0} | {one:.0} | {:.2}x | {many:.0} | {:.2}x |",
            one / base,
            many / base
        );
    }

    // Memory over a long mixed run: half creates (replacing), half gets.
    let long = duration * 10;
    let samples = 10;
    let mut rss = vec![rss_kib()];
    let mut total = 0.0;
    for _ in 0..samples {
        let slice = long / samples;
        total +=
            over_http(server.base_url(), slice / 2, connections, false) * (slice / 2).as_secs_f64();
        total +=
            over_http(server.base_url(), slice / 2, connections, true) * (slice / 2).as_secs_f64();
        rss.push(rss_kib());
    }
    println!();
    println!(
        "memory: {total:.0} requests over {long:?} with {connections} connections; RSS KiB at each tenth: {}",
        rss.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    );
    println!(
        "RSS after the first tenth {} KiB, at the end {} KiB ({:+.1}%)",
        rss[1],
        rss[samples as usize],
        (rss[samples as usize] as f64 / rss[1] as f64 - 1.0) * 100.0
    );
    server.stop();
}
