//! CTAPHID, the USB HID transport of CTAP (CTAP 2.1 §11.2), over any byte stream that carries
//! 64-byte reports: a Unix socket or stdin/stdout for `fauxkey ctap`.
//!
//! Three layers, the first two pure (bytes in, events out, no I/O, no threads, no clock of their
//! own), so they can be tested byte for byte and fuzzed:
//! - [`reassembler`]: reports → complete messages per channel (sequence numbers, lengths,
//!   timeouts, channel validity);
//! - [`device`]: messages → replies (INIT channel allocation, PING, WINK, CANCEL, busy channels)
//!   and CBOR (CTAP2) and MSG (CTAP1/U2F) requests for the authenticator;
//! - [`serve`]: the loop that reads reports from a stream, runs the authenticator on a worker
//!   thread, and sends KEEPALIVE while the emulated user is asked.

pub mod device;
pub mod reassembler;
pub mod serve;

/// Every report is exactly this long, in both directions.
pub const REPORT_LEN: usize = 64;
/// Payload bytes in an initialization packet (64 − CID 4 − CMD 1 − BCNT 2).
pub const INIT_DATA_LEN: usize = 57;
/// Payload bytes in a continuation packet (64 − CID 4 − SEQ 1).
pub const CONT_DATA_LEN: usize = 59;
/// The largest message CTAPHID can carry: 57 + 128 × 59 bytes.
pub const MAX_PAYLOAD: usize = INIT_DATA_LEN + 128 * CONT_DATA_LEN;
/// The broadcast channel, used to allocate a channel with INIT.
pub const BROADCAST_CID: u32 = 0xFFFF_FFFF;

/// One 64-byte report.
pub type Report = [u8; REPORT_LEN];

/// CTAPHID command codes (without the 0x80 initialization-packet bit).
pub mod cmd {
    /// `CTAPHID_PING`: echo the payload.
    pub const PING: u8 = 0x01;
    /// `CTAPHID_MSG`: a CTAP1/U2F APDU (answered when the authenticator speaks U2F; otherwise
    /// INIT reports capability NMSG).
    pub const MSG: u8 = 0x03;
    /// `CTAPHID_LOCK`: lock the device to a channel (not implemented).
    pub const LOCK: u8 = 0x04;
    /// `CTAPHID_INIT`: allocate or resynchronise a channel.
    pub const INIT: u8 = 0x06;
    /// `CTAPHID_WINK`: identify the device.
    pub const WINK: u8 = 0x08;
    /// `CTAPHID_CBOR`: a CTAP2 request (`command ‖ CBOR`), answered with `status ‖ CBOR`.
    pub const CBOR: u8 = 0x10;
    /// `CTAPHID_CANCEL`: cancel the channel's outstanding request.
    pub const CANCEL: u8 = 0x11;
    /// `CTAPHID_KEEPALIVE`: sent by the device while a request is being processed.
    pub const KEEPALIVE: u8 = 0x3B;
    /// `CTAPHID_ERROR`: a one-byte CTAPHID error code.
    pub const ERROR: u8 = 0x3F;
}

/// CTAPHID error codes, sent as the payload of `CTAPHID_ERROR` (CTAP 2.1 §11.2.9.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum HidError {
    /// `ERR_INVALID_CMD` (0x01): unknown or unsupported command.
    InvalidCmd = 0x01,
    /// `ERR_INVALID_PAR` (0x02): a parameter is invalid.
    InvalidPar = 0x02,
    /// `ERR_INVALID_LEN` (0x03): the length is wrong for the command, or over the maximum.
    InvalidLen = 0x03,
    /// `ERR_INVALID_SEQ` (0x04): a continuation packet out of order, or a new message mid-way.
    InvalidSeq = 0x04,
    /// `ERR_MSG_TIMEOUT` (0x05): the rest of a message did not arrive in time.
    MsgTimeout = 0x05,
    /// `ERR_CHANNEL_BUSY` (0x06): another channel's request is being processed.
    ChannelBusy = 0x06,
    /// `ERR_INVALID_CHANNEL` (0x0B): the channel id was never allocated, or is reserved.
    InvalidChannel = 0x0B,
}

impl HidError {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        self as u8
    }
}

/// KEEPALIVE status: the request is being processed.
pub const KEEPALIVE_PROCESSING: u8 = 0x01;
/// KEEPALIVE status: waiting for the user's touch.
pub const KEEPALIVE_UP_NEEDED: u8 = 0x02;

/// CTAPHID protocol version reported by INIT.
pub const PROTOCOL_VERSION: u8 = 2;
/// Capability flag `CAPABILITY_WINK`.
pub const CAPABILITY_WINK: u8 = 0x01;
/// Capability flag `CAPABILITY_CBOR`.
pub const CAPABILITY_CBOR: u8 = 0x04;
/// Capability flag `CAPABILITY_NMSG`: CTAPHID_MSG (U2F) is *not* implemented.
pub const CAPABILITY_NMSG: u8 = 0x08;

/// Splits a response into reports: one initialization packet, then continuation packets with
/// sequence numbers 0, 1, …; unused bytes are zero. `payload` must be at most [`MAX_PAYLOAD`]
/// bytes (longer payloads are cut there; the device never produces them).
pub fn fragment(cid: u32, command: u8, payload: &[u8]) -> Vec<Report> {
    let payload = &payload[..payload.len().min(MAX_PAYLOAD)];
    let mut reports = Vec::with_capacity(
        1 + payload
            .len()
            .saturating_sub(INIT_DATA_LEN)
            .div_ceil(CONT_DATA_LEN),
    );
    let mut first = [0u8; REPORT_LEN];
    first[..4].copy_from_slice(&cid.to_be_bytes());
    first[4] = 0x80 | command;
    // MAX_PAYLOAD fits in 16 bits.
    first[5..7].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    let (head, mut rest) = payload.split_at(payload.len().min(INIT_DATA_LEN));
    first[7..7 + head.len()].copy_from_slice(head);
    reports.push(first);
    let mut seq = 0u8;
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(CONT_DATA_LEN));
        let mut r = [0u8; REPORT_LEN];
        r[..4].copy_from_slice(&cid.to_be_bytes());
        r[4] = seq;
        r[5..5 + chunk.len()].copy_from_slice(chunk);
        reports.push(r);
        seq += 1;
        rest = tail;
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_sizes_and_sequence() {
        assert_eq!(fragment(7, cmd::PING, &[]).len(), 1);
        assert_eq!(fragment(7, cmd::PING, &[1; 57]).len(), 1);
        assert_eq!(fragment(7, cmd::PING, &[1; 58]).len(), 2);
        let all = fragment(7, cmd::PING, &vec![9; MAX_PAYLOAD]);
        assert_eq!(all.len(), 129);
        assert_eq!(all[128][4], 127);
        assert_eq!(all[0][..7], [0, 0, 0, 7, 0x81, 0x1d, 0xb9]);
    }
}
