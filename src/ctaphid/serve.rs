//! The device loop: reads 64-byte reports from a byte stream, feeds the [`Device`], runs the
//! authenticator on a worker thread, and writes replies and KEEPALIVE reports.
//!
//! Several hosts may share the device over a Unix socket, each as if it held its own handle to
//! one USB key: a channel belongs to the connection whose broadcast INIT allocated it (another
//! connection's INIT, CANCEL or request on it is answered `ERR_INVALID_CHANNEL`), and every
//! queue is bounded. Reports from the hosts go through one bounded queue (a host that floods it
//! waits, as a USB host waits for its endpoint); answers go to each connection through its own
//! bounded queue and writer thread, so a host that does not read is dropped once its queue is
//! full or a write has waited [`WRITE_TIMEOUT`], and never holds up the others.
//!
//! The emulated user is wrapped in a [`HidUser`] that can take its time to touch the
//! authenticator (`presence_delay`), during which KEEPALIVE says "user presence needed" and a
//! CTAPHID_CANCEL ends the wait: the request is then answered `CTAP2_ERR_KEEPALIVE_CANCEL`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::device::{Action, Device};
use super::reassembler::Reassembler;
use super::{
    cmd, fragment, HidError, Report, BROADCAST_CID, KEEPALIVE_PROCESSING, KEEPALIVE_UP_NEEDED,
    REPORT_LEN,
};

/// Reports from all hosts waiting for the device loop (64 bytes each: 64 KiB at most).
pub const INPUT_QUEUE: usize = 1024;
/// Reports waiting to be written to one connection (two largest answers); a connection whose
/// queue is full is dropped.
pub const OUTPUT_QUEUE: usize = 256;
/// How long one write to a connection may block before the connection is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections served at once; more are closed as soon as they are accepted.
pub const MAX_CONNECTIONS: usize = 32;
/// Channels one connection may hold; allocating another forgets its oldest.
pub const MAX_CHANNELS_PER_CONNECTION: usize = 16;
use crate::authenticator::Authenticator;
use crate::ctap2::{StatusCode, UserEntity};
use crate::env::{Presence, UserPolicy};
use crate::store::CredentialStore;

/// How the loop behaves.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// How long the emulated user takes to touch the authenticator.
    pub presence_delay: Duration,
    /// How often KEEPALIVE is sent while a request is in progress (CTAP: at most 100 ms).
    pub keepalive_interval: Duration,
    /// How long a channel may pause inside one message before `ERR_MSG_TIMEOUT`.
    pub message_timeout: Duration,
    /// The device version reported by INIT (major, minor, build).
    pub version: [u8; 3],
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            presence_delay: Duration::ZERO,
            keepalive_interval: Duration::from_millis(100),
            message_timeout: Duration::from_millis(super::reassembler::DEFAULT_MESSAGE_TIMEOUT_MS),
            version: [0, 1, 0],
        }
    }
}

/// State shared by the loop and the user wrapper on the worker thread.
#[derive(Debug, Default)]
struct Shared {
    cancel: AtomicBool,
    waiting_for_touch: AtomicBool,
    cancelled: AtomicBool,
}

/// The emulated user, slowed down and made cancellable for a transport.
pub struct HidUser<U> {
    inner: U,
    delay: Duration,
    shared: Arc<Shared>,
}

impl<U: UserPolicy> UserPolicy for HidUser<U> {
    fn presence(&mut self, rp_id: &str) -> Presence {
        self.shared.waiting_for_touch.store(true, Ordering::SeqCst);
        let start = Instant::now();
        let mut cancelled = false;
        while start.elapsed() < self.delay {
            if self.shared.cancel.load(Ordering::SeqCst) {
                cancelled = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(5).min(self.delay));
        }
        cancelled |= self.shared.cancel.load(Ordering::SeqCst);
        self.shared.waiting_for_touch.store(false, Ordering::SeqCst);
        if cancelled {
            self.shared.cancelled.store(true, Ordering::SeqCst);
            return Presence::Deny;
        }
        self.inner.presence(rp_id)
    }

    fn uv_capable(&self) -> bool {
        self.inner.uv_capable()
    }

    fn verify(&mut self, rp_id: &str) -> bool {
        self.inner.verify(rp_id)
    }

    fn choose_account(&mut self, accounts: &[UserEntity]) -> Option<usize> {
        self.inner.choose_account(accounts)
    }
}

/// Where the answers to one host go.
enum Sink<'w> {
    /// Written in the loop (the one host of `serve`; it blocks only itself).
    Direct(Box<dyn Write + 'w>),
    /// Queued for the connection's writer thread.
    Queued {
        queue: mpsc::SyncSender<Report>,
        stream: UnixStream,
    },
}

enum Input<S: CredentialStore> {
    /// A new host connection (socket mode): its writer queue and a handle to shut it down.
    Connected(u64, mpsc::SyncSender<Report>, UnixStream),
    Report(u64, Report),
    Eof(u64),
    Done(u32, Vec<u8>, Box<Authenticator<S>>),
}

/// Serves one host over `reader`/`writer` until it closes `reader` (a request in flight is still
/// answered); returns the authenticator with its store. `user` replaces the authenticator's
/// user, wrapped in a [`HidUser`].
pub fn serve<S, U, R, W>(
    authenticator: Authenticator<S>,
    user: U,
    reader: R,
    writer: W,
    options: &ServeOptions,
) -> io::Result<Authenticator<S>>
where
    S: CredentialStore + 'static,
    U: UserPolicy + 'static,
    R: Read + Send + 'static,
    W: Write,
{
    let (tx, rx) = mpsc::sync_channel::<Input<S>>(INPUT_QUEUE);
    let reader_tx = tx.clone();
    std::thread::spawn(move || read_reports(0, reader, &reader_tx));
    let mut writers: HashMap<u64, Sink<'_>> = HashMap::new();
    writers.insert(0, Sink::Direct(Box::new(writer)));
    run(authenticator, user, options, &tx, &rx, writers, true)
}

/// Serves every host that connects to `listener`, several at once: they share the device, as
/// processes share a USB key, each on its own channels. A failed accept is retried, so this
/// returns only if the loop itself fails.
pub fn serve_listener<S, U>(
    authenticator: Authenticator<S>,
    user: U,
    listener: UnixListener,
    options: &ServeOptions,
) -> io::Result<Authenticator<S>>
where
    S: CredentialStore + 'static,
    U: UserPolicy + 'static,
{
    let (tx, rx) = mpsc::sync_channel::<Input<S>>(INPUT_QUEUE);
    let accept_tx = tx.clone();
    let live = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for (id, stream) in (1u64..).zip(listener.incoming()) {
            let stream = match stream {
                Ok(s) => s,
                // A failed accept (a client that went away, out of descriptors) is not fatal.
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            if live.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
                let _ = stream.shutdown(Shutdown::Both);
                continue;
            }
            let handles = stream
                .try_clone()
                .and_then(|r| stream.try_clone().map(|k| (r, k)))
                .and_then(|pair| stream.set_write_timeout(Some(WRITE_TIMEOUT)).map(|()| pair));
            let Ok((reader, kill)) = handles else {
                continue;
            };
            live.fetch_add(1, Ordering::SeqCst);
            let (queue, queued) = mpsc::sync_channel::<Report>(OUTPUT_QUEUE);
            let writer_kill = match kill.try_clone() {
                Ok(k) => k,
                Err(_) => {
                    live.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
            };
            std::thread::spawn(move || write_reports(stream, &queued, &writer_kill));
            if accept_tx.send(Input::Connected(id, queue, kill)).is_err() {
                return;
            }
            let reader_tx = accept_tx.clone();
            let live = Arc::clone(&live);
            std::thread::spawn(move || {
                read_reports(id, reader, &reader_tx);
                live.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    run(
        authenticator,
        user,
        options,
        &tx,
        &rx,
        HashMap::new(),
        false,
    )
}

/// The loop shared by both front doors. Answers produced by a report go back to the connection
/// it came from; a CBOR answer and its KEEPALIVEs go to the connection that sent the request.
fn run<'w, S, U>(
    mut authenticator: Authenticator<S>,
    user: U,
    options: &ServeOptions,
    tx: &mpsc::SyncSender<Input<S>>,
    rx: &mpsc::Receiver<Input<S>>,
    mut writers: HashMap<u64, Sink<'w>>,
    single: bool,
) -> io::Result<Authenticator<S>>
where
    S: CredentialStore + 'static,
    U: UserPolicy + 'static,
{
    let shared = Arc::new(Shared::default());
    authenticator.set_user(HidUser {
        inner: user,
        delay: options.presence_delay,
        shared: Arc::clone(&shared),
    });
    let start = Instant::now();
    let now_ms = || start.elapsed().as_millis() as u64;
    let u2f = authenticator.config().u2f;
    let mut device = Device::new(
        Reassembler::new(options.message_timeout.as_millis() as u64),
        options.version,
    )
    .with_commands(u2f.speaks_ctap2(), u2f.speaks_u2f());
    // The authenticator is either here (idle) or on a worker thread (busy).
    let mut idle: Option<Box<Authenticator<S>>> = Some(Box::new(authenticator));
    let mut last_keepalive = Instant::now();
    // Which connection is part-way through a message on a channel (for its timeout error), and
    // which one sent the request being executed.
    let mut assembling: HashMap<u32, u64> = HashMap::new();
    let mut executing_for: Option<u64> = None;
    let mut closed: HashSet<u64> = HashSet::new();
    let mut channels = Channels::default();
    loop {
        if single && closed.contains(&0) && idle.is_some() {
            break;
        }
        let mut wait = options.keepalive_interval;
        if let Some(deadline) = device.next_deadline_ms() {
            wait = wait.min(Duration::from_millis(deadline.saturating_sub(now_ms())));
        }
        let mut routed: Vec<(Option<u64>, Action)> = Vec::new();
        match rx.recv_timeout(wait) {
            Ok(Input::Connected(id, queue, stream)) => {
                writers.insert(id, Sink::Queued { queue, stream });
            }
            Ok(Input::Report(id, r)) => {
                let cid = u32::from_be_bytes([r[0], r[1], r[2], r[3]]);
                if cid != BROADCAST_CID && !channels.owns(id, cid) {
                    // Another connection's channel (or none): not this host's to use, cancel
                    // or re-INIT. Only the first report of a message is answered.
                    if r[4] & 0x80 != 0 {
                        let error = fragment(cid, cmd::ERROR, &[HidError::InvalidChannel.byte()]);
                        routed.push((Some(id), Action::Send(error)));
                    }
                } else {
                    for action in device.receive(&r, now_ms()) {
                        if cid == BROADCAST_CID {
                            if let Action::Send(reports) = &action {
                                channels.allocated(id, reports);
                            }
                        }
                        routed.push((Some(id), action));
                    }
                }
                if device.is_assembling(cid) {
                    assembling.insert(cid, id);
                } else {
                    assembling.remove(&cid);
                }
            }
            Ok(Input::Eof(id)) => {
                // A request in flight still runs to its end (the host may only have closed
                // its writing side, as `--stdio < requests.bin` does) and is answered.
                closed.insert(id);
                channels.release(id);
            }
            Ok(Input::Done(cid, response, a)) => {
                idle = Some(a);
                let to = executing_for.take();
                routed.extend(device.finish(cid, &response).into_iter().map(|a| (to, a)));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        for action in device.tick(now_ms()) {
            let to = match &action {
                Action::Send(r) => r
                    .first()
                    .and_then(|r| assembling.remove(&u32::from_be_bytes([r[0], r[1], r[2], r[3]]))),
                _ => None,
            };
            routed.push((to, action));
        }
        for (to, action) in routed {
            let msg = matches!(action, Action::ExecuteMsg { .. });
            match action {
                Action::Send(reports) => {
                    if let Some(to) = to {
                        send(&mut writers, &mut closed, to, &reports, single)?;
                    }
                }
                Action::Execute { cid, request } | Action::ExecuteMsg { cid, request } => {
                    let Some(mut a) = idle.take() else {
                        // The device never executes two requests at once.
                        continue;
                    };
                    executing_for = to;
                    shared.cancel.store(false, Ordering::SeqCst);
                    shared.cancelled.store(false, Ordering::SeqCst);
                    let done_tx = tx.clone();
                    let worker_shared = Arc::clone(&shared);
                    std::thread::spawn(move || {
                        let mut response = if msg {
                            a.process_u2f(&request)
                        } else {
                            a.process(&request)
                        };
                        if worker_shared.cancelled.load(Ordering::SeqCst) {
                            // U2F has no cancel status: the touch did not happen.
                            response = if msg {
                                crate::ctap1::StatusWord::ConditionsNotSatisfied
                                    .bytes()
                                    .to_vec()
                            } else {
                                vec![StatusCode::KeepaliveCancel.byte()]
                            };
                        }
                        let _ = done_tx.send(Input::Done(cid, response, a));
                    });
                    last_keepalive = Instant::now();
                }
                Action::Cancel { .. } => shared.cancel.store(true, Ordering::SeqCst),
                Action::Wink => eprintln!("fauxkey: *wink*"),
            }
        }
        if idle.is_none() && last_keepalive.elapsed() >= options.keepalive_interval {
            let status = if shared.waiting_for_touch.load(Ordering::SeqCst) {
                KEEPALIVE_UP_NEEDED
            } else {
                KEEPALIVE_PROCESSING
            };
            if let (Some(report), Some(to)) = (device.keepalive(status), executing_for) {
                send(&mut writers, &mut closed, to, &[report], single)?;
            }
            last_keepalive = Instant::now();
        }
        // A closed connection's writer goes once nothing more is owed to it.
        if !single {
            writers.retain(|id, _| !closed.contains(id) || executing_for == Some(*id));
            closed.retain(|id| writers.contains_key(id));
        }
    }
    idle.map(|a| *a)
        .ok_or_else(|| io::Error::other("the authenticator worker stopped"))
}

fn read_reports<R: Read, S: CredentialStore>(
    id: u64,
    mut reader: R,
    tx: &mpsc::SyncSender<Input<S>>,
) {
    loop {
        let mut report = [0u8; REPORT_LEN];
        // A partial report at the end of the stream is dropped.
        match reader.read_exact(&mut report) {
            Ok(()) => {
                if tx.send(Input::Report(id, report)).is_err() {
                    return;
                }
            }
            Err(_) => {
                let _ = tx.send(Input::Eof(id));
                return;
            }
        }
    }
}

/// Which connection owns which channel.
#[derive(Debug, Default)]
struct Channels {
    owner: HashMap<u32, u64>,
    /// Each connection's channels, oldest first.
    held: HashMap<u64, VecDeque<u32>>,
}

impl Channels {
    fn owns(&self, conn: u64, cid: u32) -> bool {
        self.owner.get(&cid) == Some(&conn)
    }

    /// Records the channel a broadcast INIT answer (`reports`) gives `conn`.
    fn allocated(&mut self, conn: u64, reports: &[Report]) {
        let Some(r) = reports.first() else { return };
        // An INIT answer on the broadcast channel: nonce (8 bytes), then the new CID.
        if r[4] != cmd::INIT | 0x80 || r[..4] != BROADCAST_CID.to_be_bytes() {
            return;
        }
        let cid = u32::from_be_bytes([r[15], r[16], r[17], r[18]]);
        self.owner.insert(cid, conn);
        let held = self.held.entry(conn).or_default();
        held.push_back(cid);
        if held.len() > MAX_CHANNELS_PER_CONNECTION {
            if let Some(old) = held.pop_front() {
                self.owner.remove(&old);
            }
        }
    }

    fn release(&mut self, conn: u64) {
        for cid in self.held.remove(&conn).unwrap_or_default() {
            self.owner.remove(&cid);
        }
    }
}

/// A connection's writer thread: writes what the loop queues; on a write error or timeout, shuts
/// the connection down (its reader then sees the end and the loop forgets it).
fn write_reports(mut stream: UnixStream, queued: &mpsc::Receiver<Report>, kill: &UnixStream) {
    while let Ok(report) = queued.recv() {
        if stream.write_all(&report).is_err() {
            let _ = kill.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// Writes reports to one connection. With one host, a write error ends the loop unless the host
/// has already gone; with many, a full queue or a gone writer only drops that connection.
fn send(
    writers: &mut HashMap<u64, Sink<'_>>,
    closed: &mut HashSet<u64>,
    to: u64,
    reports: &[Report],
    single: bool,
) -> io::Result<()> {
    let Some(sink) = writers.get_mut(&to) else {
        return Ok(());
    };
    let w = match sink {
        Sink::Direct(w) => w,
        Sink::Queued { queue, stream } => {
            if reports.iter().any(|r| queue.try_send(*r).is_err()) {
                // Not reading (or gone): drop it rather than wait for it.
                let _ = stream.shutdown(Shutdown::Both);
                writers.remove(&to);
                closed.insert(to);
            }
            return Ok(());
        }
    };
    let result = reports
        .iter()
        .try_for_each(|r| w.write_all(r))
        .and_then(|()| w.flush());
    match result {
        Err(e) if single && !closed.contains(&to) && e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e)
        }
        Err(_) => {
            closed.insert(to);
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}
