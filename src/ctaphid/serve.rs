//! The device loop: reads 64-byte reports from a byte stream, feeds the [`Device`], runs the
//! authenticator on a worker thread, and writes replies and KEEPALIVE reports.
//!
//! The emulated user is wrapped in a [`HidUser`] that can take its time to touch the
//! authenticator (`presence_delay`), during which KEEPALIVE says "user presence needed" and a
//! CTAPHID_CANCEL ends the wait: the request is then answered `CTAP2_ERR_KEEPALIVE_CANCEL`.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use super::device::{Action, Device};
use super::reassembler::Reassembler;
use super::{Report, KEEPALIVE_PROCESSING, KEEPALIVE_UP_NEEDED, REPORT_LEN};
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

enum Input<S: CredentialStore> {
    Report(Report),
    Eof,
    Done(u32, Vec<u8>, Box<Authenticator<S>>),
}

/// Serves one connection until the host closes `reader`; returns the authenticator (with its
/// store) so the next connection can reuse it. `user` replaces the authenticator's user for the
/// duration, wrapped in a [`HidUser`].
pub fn serve<S, U, R, W>(
    mut authenticator: Authenticator<S>,
    user: U,
    reader: R,
    mut writer: W,
    options: &ServeOptions,
) -> io::Result<Authenticator<S>>
where
    S: CredentialStore + 'static,
    U: UserPolicy + Clone + 'static,
    R: Read + Send + 'static,
    W: Write,
{
    let shared = Arc::new(Shared::default());
    authenticator.set_user(HidUser {
        inner: user,
        delay: options.presence_delay,
        shared: Arc::clone(&shared),
    });
    let (tx, rx) = mpsc::channel::<Input<S>>();
    let reader_tx = tx.clone();
    std::thread::spawn(move || read_reports(reader, &reader_tx));

    let start = Instant::now();
    let now_ms = || start.elapsed().as_millis() as u64;
    let mut device = Device::new(
        Reassembler::new(options.message_timeout.as_millis() as u64),
        options.version,
    );
    // The authenticator is either here (idle) or on a worker thread (busy).
    let mut idle: Option<Box<Authenticator<S>>> = Some(Box::new(authenticator));
    let mut last_keepalive = Instant::now();
    let mut eof = false;
    loop {
        if eof && idle.is_some() {
            break;
        }
        let mut wait = options.keepalive_interval;
        if let Some(deadline) = device.next_deadline_ms() {
            wait = wait.min(Duration::from_millis(deadline.saturating_sub(now_ms())));
        }
        let actions = match rx.recv_timeout(wait) {
            Ok(Input::Report(r)) => device.receive(&r, now_ms()),
            Ok(Input::Eof) => {
                // A request in flight still runs to its end (the host may only have closed
                // its writing side, as `--stdio < requests.bin` does) and is answered.
                eof = true;
                Vec::new()
            }
            Ok(Input::Done(cid, response, a)) => {
                idle = Some(a);
                device.finish(cid, &response)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Vec::new(),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut actions = actions;
        actions.extend(device.tick(now_ms()));
        for action in actions {
            match action {
                Action::Send(reports) => write_reports(&mut writer, &reports, eof)?,
                Action::Execute { cid, request } => {
                    let Some(mut a) = idle.take() else {
                        // The device never executes two requests at once.
                        continue;
                    };
                    shared.cancel.store(false, Ordering::SeqCst);
                    shared.cancelled.store(false, Ordering::SeqCst);
                    let done_tx = tx.clone();
                    let worker_shared = Arc::clone(&shared);
                    std::thread::spawn(move || {
                        let mut response = a.process(&request);
                        if worker_shared.cancelled.load(Ordering::SeqCst) {
                            response = vec![StatusCode::KeepaliveCancel.byte()];
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
            if let Some(report) = device.keepalive(status) {
                write_reports(&mut writer, &[report], eof)?;
            }
            last_keepalive = Instant::now();
        }
    }
    idle.map(|a| *a)
        .ok_or_else(|| io::Error::other("the authenticator worker stopped"))
}

fn read_reports<R: Read, S: CredentialStore>(mut reader: R, tx: &mpsc::Sender<Input<S>>) {
    loop {
        let mut report = [0u8; REPORT_LEN];
        // A partial report at the end of the stream is dropped.
        match reader.read_exact(&mut report) {
            Ok(()) => {
                if tx.send(Input::Report(report)).is_err() {
                    return;
                }
            }
            Err(_) => {
                let _ = tx.send(Input::Eof);
                return;
            }
        }
    }
}

/// Writes reports; once the host has gone, write errors are expected and ignored.
fn write_reports<W: Write>(writer: &mut W, reports: &[Report], host_gone: bool) -> io::Result<()> {
    let result = reports
        .iter()
        .try_for_each(|r| writer.write_all(r))
        .and_then(|()| writer.flush());
    match result {
        Err(e) if !host_gone && e.kind() != io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}
