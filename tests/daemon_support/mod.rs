//! Waiting for a `fauxkey ctap --socket` daemon to listen.
//!
//! The socket file appears at `bind`, a moment before `listen`; a connection in between is
//! refused. The daemon says `fauxkey: CTAPHID on PATH` on stderr only after both, so tests wait
//! for that line instead of for the file.

use std::io::{BufRead, BufReader};
use std::process::Child;
use std::sync::mpsc;
use std::time::Duration;

/// Blocks until the daemon `child` (spawned with `stderr(Stdio::piped())`) reports that it
/// listens. Its later stderr is drained in the background, so the daemon never blocks on a full
/// pipe. Panics with what the daemon printed if it exits first, or after 60 s (a failure bound,
/// not a measurement).
pub fn wait_until_listening(child: &mut Child) {
    let stderr = child.stderr.take().expect("the daemon's stderr is piped");
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut lines = BufReader::new(stderr).lines();
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if line.starts_with("fauxkey: CTAPHID on ") {
                let _ = tx.send(Ok(()));
                // Keep draining until the daemon exits.
                for _ in lines.by_ref() {}
                return;
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        let _ = tx.send(Err(seen));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(())) => {}
        Ok(Err(stderr)) => panic!("fauxkey ctap exited before listening; stderr:\n{stderr}"),
        Err(e) => panic!("fauxkey ctap did not report listening within 60 s ({e})"),
    }
}
