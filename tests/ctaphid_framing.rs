//! CTAPHID at the byte level: the pure reassembler and device state machines fed exact reports,
//! then the serve loop over an in-process socket pair (keepalive, cancel, busy, timeouts).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use fauxkey::ctaphid::device::{Action, Device};
use fauxkey::ctaphid::reassembler::{Event, Message, Reassembler};
use fauxkey::ctaphid::serve::{serve, ServeOptions};
use fauxkey::ctaphid::{cmd, fragment, HidError, Report, BROADCAST_CID, MAX_PAYLOAD};
use fauxkey::env::{Presence, SimulatedUser};
use fauxkey::store::{CredentialStore, MemoryStore};
use fauxkey::{Authenticator, Config};

const CID: u32 = 1;

fn init(cid: u32, command: u8, len: u16, data: &[u8]) -> Report {
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = 0x80 | command;
    r[5..7].copy_from_slice(&len.to_be_bytes());
    r[7..7 + data.len()].copy_from_slice(data);
    r
}

fn cont(cid: u32, seq: u8, data: &[u8]) -> Report {
    let mut r = [0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = seq;
    r[5..5 + data.len()].copy_from_slice(data);
    r
}

fn err(cid: u32, error: HidError) -> Event {
    Event::Error { cid, error }
}

fn msg(cid: u32, command: u8, payload: &[u8]) -> Event {
    Event::Message(Message {
        cid,
        command,
        payload: payload.to_vec(),
    })
}

/// A reassembler with channels 1 and 2 allocated.
fn reassembler() -> Reassembler {
    let mut r = Reassembler::new(500);
    assert_eq!(r.allocate(), 1);
    assert_eq!(r.allocate(), 2);
    r
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

// ---- reassembler ----

#[test]
fn single_and_multi_packet_messages() {
    let mut r = reassembler();
    assert_eq!(
        r.push(&init(CID, cmd::PING, 3, b"abc"), 0),
        vec![msg(CID, cmd::PING, b"abc")]
    );
    // 57 bytes fit in one packet exactly; 58 need a continuation.
    let p = payload(57);
    assert_eq!(
        r.push(&init(CID, cmd::PING, 57, &p), 0),
        vec![msg(CID, cmd::PING, &p)]
    );
    let p = payload(200);
    let reports = fragment(CID, cmd::CBOR, &p);
    assert_eq!(reports.len(), 4); // 57 + 59 + 59 + 25
    for rep in &reports[..3] {
        assert!(r.push(rep, 1).is_empty());
    }
    assert_eq!(r.push(&reports[3], 1), vec![msg(CID, cmd::CBOR, &p)]);
    // The largest message: 57 + 128 × 59 bytes, sequence 0..=127.
    let p = payload(MAX_PAYLOAD);
    let reports = fragment(CID, cmd::CBOR, &p);
    assert_eq!(reports.len(), 129);
    let mut out = Vec::new();
    for rep in &reports {
        out.extend(r.push(rep, 2));
    }
    assert_eq!(out, vec![msg(CID, cmd::CBOR, &p)]);
}

#[test]
fn oversize_length_is_invalid_len() {
    let mut r = reassembler();
    let len = (MAX_PAYLOAD + 1) as u16;
    assert_eq!(
        r.push(&init(CID, cmd::CBOR, len, &[0; 57]), 0),
        vec![err(CID, HidError::InvalidLen)]
    );
    assert_eq!(
        r.push(&init(CID, cmd::CBOR, 0xFFFF, &[0; 57]), 0),
        vec![err(CID, HidError::InvalidLen)]
    );
    // Nothing is left half-assembled: a continuation is now spurious and ignored.
    assert!(r.push(&cont(CID, 0, &[1; 59]), 0).is_empty());
}

#[test]
fn wrong_sequence_is_invalid_seq_and_drops_the_message() {
    let mut r = reassembler();
    assert!(r.push(&init(CID, cmd::CBOR, 200, &[1; 57]), 0).is_empty());
    assert!(r.push(&cont(CID, 0, &[2; 59]), 0).is_empty());
    // seq 2 instead of 1
    assert_eq!(
        r.push(&cont(CID, 2, &[3; 59]), 0),
        vec![err(CID, HidError::InvalidSeq)]
    );
    assert!(!r.is_assembling(CID));
    // A repeated sequence number is just as wrong.
    assert!(r.push(&init(CID, cmd::CBOR, 200, &[1; 57]), 0).is_empty());
    assert!(r.push(&cont(CID, 0, &[2; 59]), 0).is_empty());
    assert_eq!(
        r.push(&cont(CID, 0, &[2; 59]), 0),
        vec![err(CID, HidError::InvalidSeq)]
    );
    // A continuation with no message under way is ignored.
    assert!(r.push(&cont(CID, 5, &[2; 59]), 0).is_empty());
}

#[test]
fn a_new_message_mid_way_is_invalid_seq_but_init_and_cancel_resync() {
    let mut r = reassembler();
    assert!(r.push(&init(CID, cmd::CBOR, 100, &[1; 57]), 0).is_empty());
    assert_eq!(
        r.push(&init(CID, cmd::PING, 1, b"x"), 0),
        vec![err(CID, HidError::InvalidSeq)]
    );
    assert!(!r.is_assembling(CID));
    // INIT on the channel replaces the half-finished message.
    assert!(r.push(&init(CID, cmd::CBOR, 100, &[1; 57]), 0).is_empty());
    assert_eq!(
        r.push(&init(CID, cmd::INIT, 8, &[9; 8]), 0),
        vec![msg(CID, cmd::INIT, &[9; 8])]
    );
    assert!(!r.is_assembling(CID));
    // So does CANCEL.
    assert!(r.push(&init(CID, cmd::CBOR, 100, &[1; 57]), 0).is_empty());
    assert_eq!(
        r.push(&init(CID, cmd::CANCEL, 0, &[]), 0),
        vec![msg(CID, cmd::CANCEL, &[])]
    );
}

#[test]
fn interleaved_channels_do_not_mix() {
    let mut r = reassembler();
    let a = payload(150);
    let b: Vec<u8> = payload(150).iter().map(|x| x ^ 0xFF).collect();
    let ra = fragment(1, cmd::CBOR, &a);
    let rb = fragment(2, cmd::PING, &b);
    let mut out = Vec::new();
    for (x, y) in ra.iter().zip(&rb) {
        out.extend(r.push(x, 0));
        out.extend(r.push(y, 0));
    }
    assert_eq!(out, vec![msg(1, cmd::CBOR, &a), msg(2, cmd::PING, &b)]);
}

#[test]
fn channel_validity() {
    let mut r = reassembler();
    // Channel 0 is reserved; channel 3 was never allocated.
    assert_eq!(
        r.push(&init(0, cmd::PING, 0, &[]), 0),
        vec![err(0, HidError::InvalidChannel)]
    );
    assert_eq!(
        r.push(&init(3, cmd::PING, 0, &[]), 0),
        vec![err(3, HidError::InvalidChannel)]
    );
    // The broadcast channel only takes INIT.
    assert_eq!(
        r.push(&init(BROADCAST_CID, cmd::PING, 0, &[]), 0),
        vec![err(BROADCAST_CID, HidError::InvalidChannel)]
    );
    assert_eq!(
        r.push(&init(BROADCAST_CID, cmd::INIT, 8, &[1; 8]), 0),
        vec![msg(BROADCAST_CID, cmd::INIT, &[1; 8])]
    );
    // Reports of another length cannot come from the stream and are ignored.
    assert!(r.push(&[0x00, 0x00, 0x00, 0x01, 0x81, 0, 0], 0).is_empty());
}

#[test]
fn incomplete_message_times_out() {
    let mut r = reassembler();
    assert!(r
        .push(&init(CID, cmd::CBOR, 100, &[1; 57]), 1000)
        .is_empty());
    assert_eq!(r.next_deadline_ms(), Some(1500));
    assert!(r.expire(1499).is_empty());
    assert_eq!(r.expire(1500), vec![err(CID, HidError::MsgTimeout)]);
    assert_eq!(r.next_deadline_ms(), None);
    // A late continuation is then spurious.
    assert!(r.push(&cont(CID, 0, &[2; 59]), 1600).is_empty());
    // Each packet restarts the clock; a push past the deadline reports the timeout first.
    assert!(r
        .push(&init(CID, cmd::CBOR, 200, &[1; 57]), 2000)
        .is_empty());
    assert!(r.push(&cont(CID, 0, &[2; 59]), 2400).is_empty());
    assert!(r.expire(2800).is_empty());
    assert_eq!(
        r.push(&cont(CID, 1, &[2; 59]), 2900),
        vec![err(CID, HidError::MsgTimeout)]
    );
}

#[test]
fn too_many_half_finished_messages_is_busy() {
    let mut r = Reassembler::new(500);
    let cids: Vec<u32> = (0..17).map(|_| r.allocate()).collect();
    for cid in &cids[..16] {
        assert!(r.push(&init(*cid, cmd::PING, 100, &[0; 57]), 0).is_empty());
    }
    assert_eq!(
        r.push(&init(cids[16], cmd::PING, 100, &[0; 57]), 0),
        vec![err(cids[16], HidError::ChannelBusy)]
    );
}

// ---- device ----

fn device() -> Device {
    Device::new(Reassembler::new(500), [1, 2, 3])
}

fn sends(actions: &[Action]) -> Vec<Report> {
    actions
        .iter()
        .flat_map(|a| match a {
            Action::Send(r) => r.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn open_channel(d: &mut Device) -> u32 {
    let out = sends(&d.receive(&init(BROADCAST_CID, cmd::INIT, 8, b"12345678"), 0));
    u32::from_be_bytes(out[0][15..19].try_into().unwrap())
}

#[test]
fn init_allocates_channels_and_echoes_the_nonce() {
    let mut d = device();
    let out = sends(&d.receive(&init(BROADCAST_CID, cmd::INIT, 8, b"12345678"), 0));
    assert_eq!(out.len(), 1);
    let mut expected = [0u8; 64];
    expected[..7].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x86, 0x00, 0x11]);
    expected[7..15].copy_from_slice(b"12345678");
    expected[15..19].copy_from_slice(&[0, 0, 0, 1]); // the new channel
    expected[19..24].copy_from_slice(&[2, 1, 2, 3, 0x0D]); // version 2, 1.2.3, WINK|CBOR|NMSG
    assert_eq!(out[0], expected);
    assert_eq!(open_channel(&mut d), 2);
    // INIT on an allocated channel resynchronises it, keeping its id.
    let out = sends(&d.receive(&init(1, cmd::INIT, 8, b"abcdefgh"), 0));
    assert_eq!(&out[0][..5], &[0, 0, 0, 1, 0x86]);
    assert_eq!(&out[0][15..19], &[0, 0, 0, 1]);
    // A nonce of the wrong length.
    let out = sends(&d.receive(&init(BROADCAST_CID, cmd::INIT, 4, b"1234"), 0));
    assert_eq!(&out[0][..8], &[0xFF, 0xFF, 0xFF, 0xFF, 0xBF, 0, 1, 0x03]);
}

#[test]
fn ping_wink_msg_lock_and_unknown_commands() {
    let mut d = device();
    let c = open_channel(&mut d);
    let p = payload(300);
    let out = sends(&d.receive(&init(c, cmd::PING, 300, &p[..57]), 0));
    assert!(out.is_empty());
    let mut out = Vec::new();
    for (i, chunk) in p[57..].chunks(59).enumerate() {
        out.extend(sends(&d.receive(&cont(c, i as u8, chunk), 0)));
    }
    assert_eq!(out, fragment(c, cmd::PING, &p));
    let actions = d.receive(&init(c, cmd::WINK, 0, &[]), 0);
    assert!(actions.contains(&Action::Wink));
    assert_eq!(sends(&actions), fragment(c, cmd::WINK, &[]));
    let error = |code: u8| fragment(c, cmd::ERROR, &[code]);
    // U2F is not implemented (INIT says NMSG): CTAPHID_MSG is an invalid command.
    assert_eq!(
        sends(&d.receive(&init(c, cmd::MSG, 4, &[0, 1, 0, 0]), 0)),
        error(0x01)
    );
    assert_eq!(
        sends(&d.receive(&init(c, cmd::LOCK, 1, &[5]), 0)),
        error(0x01)
    );
    assert_eq!(sends(&d.receive(&init(c, 0x55, 0, &[]), 0)), error(0x01));
    assert_eq!(
        sends(&d.receive(&init(c, cmd::WINK, 1, &[0]), 0)),
        error(0x03)
    );
    // An empty CBOR message has no command byte.
    assert_eq!(
        sends(&d.receive(&init(c, cmd::CBOR, 0, &[]), 0)),
        error(0x03)
    );
}

#[test]
fn one_request_at_a_time_and_cancel() {
    let mut d = device();
    let a = open_channel(&mut d);
    let b = open_channel(&mut d);
    assert_eq!(
        d.receive(&init(a, cmd::CBOR, 1, &[0x04]), 0),
        vec![Action::Execute {
            cid: a,
            request: vec![0x04]
        }]
    );
    assert_eq!(d.busy_channel(), Some(a));
    // While a's request runs, any other request is BUSY, on either channel.
    for c in [a, b] {
        assert_eq!(
            sends(&d.receive(&init(c, cmd::PING, 1, b"x"), 0)),
            fragment(c, cmd::ERROR, &[0x06])
        );
        assert_eq!(
            sends(&d.receive(&init(c, cmd::CBOR, 1, &[0x04]), 0)),
            fragment(c, cmd::ERROR, &[0x06])
        );
    }
    // But INIT on the broadcast channel still allocates.
    assert_eq!(open_channel(&mut d), 3);
    // KEEPALIVE goes to a.
    let ka = d.keepalive(2).unwrap();
    assert_eq!(&ka[..8], &[0, 0, 0, a as u8, 0xBB, 0, 1, 2]);
    // CANCEL from b is ignored; from a it cancels, and has no answer of its own.
    assert!(d.receive(&init(b, cmd::CANCEL, 0, &[]), 0).is_empty());
    assert_eq!(
        d.receive(&init(a, cmd::CANCEL, 0, &[]), 0),
        vec![Action::Cancel { cid: a }]
    );
    // The answer goes to a; finishing another channel does nothing.
    assert!(d.finish(b, &[0x00]).is_empty());
    assert_eq!(
        sends(&d.finish(a, &[0x2D])),
        fragment(a, cmd::CBOR, &[0x2D])
    );
    assert_eq!(d.busy_channel(), None);
    assert!(d.keepalive(1).is_none());
    // CANCEL with nothing running is ignored.
    assert!(d.receive(&init(a, cmd::CANCEL, 0, &[]), 0).is_empty());
}

#[test]
fn init_on_the_busy_channel_abandons_its_answer() {
    let mut d = device();
    let a = open_channel(&mut d);
    d.receive(&init(a, cmd::CBOR, 1, &[0x04]), 0);
    let actions = d.receive(&init(a, cmd::INIT, 8, b"resync!!"), 0);
    assert_eq!(actions[0], Action::Cancel { cid: a });
    assert_eq!(sends(&actions).len(), 1);
    assert!(d.keepalive(1).is_none());
    assert!(d.finish(a, &[0x00]).is_empty(), "the old answer is dropped");
}

#[test]
fn device_timeouts_and_errors_are_error_reports() {
    let mut d = device();
    let a = open_channel(&mut d);
    assert!(d
        .receive(&init(a, cmd::CBOR, 100, &[0x04; 57]), 0)
        .is_empty());
    assert_eq!(d.next_deadline_ms(), Some(500));
    assert_eq!(sends(&d.tick(500)), fragment(a, cmd::ERROR, &[0x05]));
    assert_eq!(
        sends(&d.receive(&init(77, cmd::PING, 0, &[]), 600)),
        fragment(77, cmd::ERROR, &[0x0B])
    );
}

// ---- the serve loop over a socket pair ----

struct Host {
    sock: UnixStream,
    worker: Option<std::thread::JoinHandle<Authenticator<MemoryStore>>>,
}

impl Host {
    fn start(user: SimulatedUser, presence_delay: Duration) -> Self {
        let (host, device) = UnixStream::pair().unwrap();
        let options = ServeOptions {
            presence_delay,
            message_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let worker = std::thread::spawn(move || {
            let reader = device.try_clone().unwrap();
            let authenticator = Authenticator::new(Config::default(), MemoryStore::new())
                .with_rng(fauxkey::env::seeded_rng(9));
            serve(authenticator, user, reader, device, &options).unwrap()
        });
        host.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Self {
            sock: host,
            worker: Some(worker),
        }
    }

    fn send(&mut self, r: &Report) {
        self.sock.write_all(r).unwrap();
    }

    fn recv(&mut self) -> Report {
        let mut r = [0u8; 64];
        self.sock.read_exact(&mut r).unwrap();
        r
    }

    fn open(&mut self) -> u32 {
        self.send(&init(BROADCAST_CID, cmd::INIT, 8, b"noncenon"));
        let r = self.recv();
        assert_eq!(&r[7..15], b"noncenon");
        u32::from_be_bytes(r[15..19].try_into().unwrap())
    }

    /// Reads one whole response, skipping and returning KEEPALIVE statuses.
    fn response(&mut self, cid: u32) -> (u8, Vec<u8>, Vec<u8>) {
        let mut keepalives = Vec::new();
        loop {
            let r = self.recv();
            assert_eq!(u32::from_be_bytes(r[..4].try_into().unwrap()), cid);
            if r[4] == 0x80 | cmd::KEEPALIVE {
                keepalives.push(r[7]);
                continue;
            }
            let len = usize::from(u16::from_be_bytes([r[5], r[6]]));
            let mut data = r[7..].to_vec();
            let mut seq = 0;
            while data.len() < len {
                let c = self.recv();
                assert_eq!(c[4], seq);
                seq += 1;
                data.extend_from_slice(&c[5..]);
            }
            data.truncate(len);
            return (r[4] & 0x7F, data, keepalives);
        }
    }

    fn finish(mut self) -> Authenticator<MemoryStore> {
        self.sock.shutdown(std::net::Shutdown::Write).unwrap();
        self.worker.take().unwrap().join().unwrap()
    }
}

fn make_credential_request() -> Vec<u8> {
    // {1: cdh, 2: {"id": "example.com"}, 3: {"id": h'01'}, 4: [{"alg": -7, "type": "public-key"}]}
    let mut m = vec![0x01, 0xa4, 0x01, 0x58, 0x20];
    m.extend_from_slice(&[0x11; 32]);
    m.extend_from_slice(&[0x02, 0xa1, 0x62, b'i', b'd', 0x6b]);
    m.extend_from_slice(b"example.com");
    m.extend_from_slice(&[0x03, 0xa1, 0x62, b'i', b'd', 0x41, 0x01]);
    m.extend_from_slice(&[0x04, 0x81, 0xa2, 0x63, b'a', b'l', b'g', 0x26]);
    m.extend_from_slice(&[0x64, b't', b'y', b'p', b'e', 0x6a]);
    m.extend_from_slice(b"public-key");
    m
}

fn send_message(h: &mut Host, cid: u32, command: u8, payload: &[u8]) {
    for r in fragment(cid, command, payload) {
        h.send(&r);
    }
}

#[test]
fn serve_answers_split_and_merged_reads() {
    let mut h = Host::start(SimulatedUser::default(), Duration::ZERO);
    let c = h.open();
    // Many reports in one write (merged) …
    let p = payload(1000);
    let bytes: Vec<u8> = fragment(c, cmd::PING, &p).concat();
    h.sock.write_all(&bytes).unwrap();
    let (command, data, _) = h.response(c);
    assert_eq!((command, data), (cmd::PING, p.clone()));
    // … and one report in odd pieces (split).
    for chunk in bytes.chunks(13) {
        h.sock.write_all(chunk).unwrap();
        h.sock.flush().unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let (command, data, _) = h.response(c);
    assert_eq!((command, data), (cmd::PING, p));
    // getInfo through CBOR.
    send_message(&mut h, c, cmd::CBOR, &[0x04]);
    let (command, data, _) = h.response(c);
    assert_eq!(command, cmd::CBOR);
    assert_eq!(data[0], 0x00);
    h.finish();
}

#[test]
fn serve_sends_keepalive_then_the_answer() {
    let mut h = Host::start(SimulatedUser::default(), Duration::from_millis(450));
    let c = h.open();
    send_message(&mut h, c, cmd::CBOR, &make_credential_request());
    let (command, data, keepalives) = h.response(c);
    assert_eq!(command, cmd::CBOR);
    assert_eq!(data[0], 0x00, "makeCredential succeeded");
    assert!(
        !keepalives.is_empty(),
        "KEEPALIVE while the user takes 450 ms to touch: {keepalives:?}"
    );
    assert!(
        keepalives.iter().all(|s| *s == 2),
        "UP needed: {keepalives:?}"
    );
    assert_eq!(h.finish().store().len(), 1);
}

#[test]
fn cancel_during_keepalive_ends_with_keepalive_cancel() {
    let mut h = Host::start(SimulatedUser::default(), Duration::from_secs(60));
    let c = h.open();
    let other = h.open();
    send_message(&mut h, c, cmd::CBOR, &make_credential_request());
    // Wait for the first KEEPALIVE (the user is being asked) …
    let r = h.recv();
    assert_eq!(&r[..8], &[0, 0, 0, c as u8, 0xBB, 0, 1, 2]);
    // … another channel is told the device is busy …
    send_message(&mut h, other, cmd::PING, b"hi");
    let (command, data, _) = h.response(other);
    assert_eq!((command, data), (cmd::ERROR, vec![0x06]));
    // … then cancel: the request ends with CTAP2_ERR_KEEPALIVE_CANCEL, long before 60 s.
    send_message(&mut h, c, cmd::CANCEL, &[]);
    let (command, data, _) = h.response(c);
    assert_eq!((command, data), (cmd::CBOR, vec![0x2D]));
    // The device is free again.
    send_message(&mut h, other, cmd::PING, b"hi");
    assert_eq!(h.response(other).1, b"hi");
    assert_eq!(h.finish().store().len(), 0, "nothing was created");
}

#[test]
fn serve_reports_timeouts_and_framing_errors() {
    let mut h = Host::start(SimulatedUser::default(), Duration::ZERO);
    let c = h.open();
    h.send(&init(c, cmd::CBOR, 100, &[0x04; 57]));
    // No continuation: after the 300 ms message timeout, ERR_MSG_TIMEOUT.
    assert_eq!(h.response(c), (cmd::ERROR, vec![0x05], vec![]));
    h.send(&init(c, cmd::PING, 100, &[0; 57]));
    h.send(&cont(c, 1, &[0; 59]));
    assert_eq!(h.response(c), (cmd::ERROR, vec![0x04], vec![]));
    h.send(&init(c, cmd::PING, 8000, &[0; 57]));
    assert_eq!(h.response(c), (cmd::ERROR, vec![0x03], vec![]));
    h.send(&init(c + 100, cmd::PING, 0, &[]));
    assert_eq!(h.response(c + 100), (cmd::ERROR, vec![0x0B], vec![]));
    // A denying user: OPERATION_DENIED through CBOR.
    h.finish();
    let mut h = Host::start(
        SimulatedUser {
            presence: Presence::Deny,
            ..SimulatedUser::default()
        },
        Duration::ZERO,
    );
    let c = h.open();
    send_message(&mut h, c, cmd::CBOR, &make_credential_request());
    assert_eq!(h.response(c), (cmd::CBOR, vec![0x27], vec![]));
    assert!(h.finish().store().is_empty());
}

#[test]
fn listener_routes_each_answer_to_its_own_connection() {
    use fauxkey::ctaphid::serve::serve_listener;
    use std::os::unix::net::UnixListener;
    let dir = std::env::temp_dir().join(format!("fauxkey-hid-listen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("s");
    let listener = UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        let a = Authenticator::new(Config::default(), MemoryStore::new());
        let options = ServeOptions {
            presence_delay: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let _ = serve_listener(a, SimulatedUser::default(), listener, &options);
    });
    let connect = || {
        let sock = UnixStream::connect(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Host { sock, worker: None }
    };
    let mut one = connect();
    let mut two = connect();
    // Both allocate over the broadcast channel; each INIT answer reaches only its sender.
    let c1 = one.open();
    let c2 = two.open();
    assert_ne!(c1, c2);
    // A slow request on one; two is told BUSY meanwhile, and gets no KEEPALIVE of one's.
    send_message(&mut one, c1, cmd::CBOR, &make_credential_request());
    assert_eq!(one.recv()[4], 0x80 | cmd::KEEPALIVE);
    send_message(&mut two, c2, cmd::PING, b"2");
    assert_eq!(two.response(c2), (cmd::ERROR, vec![0x06], vec![]));
    let (command, data, _) = one.response(c1);
    assert_eq!((command, data[0]), (cmd::CBOR, 0x00));
    // Interleaved multi-packet messages from both connections.
    let p1 = payload(500);
    let p2: Vec<u8> = payload(500).iter().map(|b| b ^ 0x55).collect();
    for (x, y) in fragment(c1, cmd::PING, &p1)
        .iter()
        .zip(&fragment(c2, cmd::PING, &p2))
    {
        one.send(x);
        two.send(y);
    }
    assert_eq!(one.response(c1).1, p1);
    assert_eq!(two.response(c2).1, p2);
    // A connection that hangs up mid-request leaves the other working.
    send_message(&mut one, c1, cmd::CBOR, &make_credential_request());
    drop(one);
    let mut answer = (cmd::ERROR, vec![0x06], vec![]);
    for _ in 0..200 {
        send_message(&mut two, c2, cmd::PING, b"after");
        answer = two.response(c2);
        if answer.0 != cmd::ERROR {
            break;
        }
        assert_eq!(
            answer.1,
            vec![0x06],
            "only BUSY while one's request finishes"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!((answer.0, answer.1), (cmd::PING, b"after".to_vec()));
    // A timed-out message is reported to the connection that started it.
    two.send(&init(c2, cmd::PING, 100, &[0; 57]));
    assert_eq!(two.response(c2), (cmd::ERROR, vec![0x05], vec![]));
    let _ = std::fs::remove_dir_all(&dir);
}
