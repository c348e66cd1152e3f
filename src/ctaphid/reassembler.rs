//! Reports in, complete messages out: the CTAPHID framing state machine (CTAP 2.1 §11.2.4).
//!
//! Pure: it owns no clock (the caller passes `now_ms`) and does no I/O, so every byte sequence
//! can be tested and fuzzed directly. Each channel assembles its own message, so packets of
//! several channels may interleave without mixing. It also knows which channels exist: channel
//! ids are handed out in order by [`Reassembler::allocate`], so "allocated" means `1 ≤ cid <
//! next`.

use std::collections::BTreeMap;

use super::{cmd, HidError, BROADCAST_CID, CONT_DATA_LEN, INIT_DATA_LEN, MAX_PAYLOAD, REPORT_LEN};

/// How long a channel may take between the packets of one message by default (ms).
pub const DEFAULT_MESSAGE_TIMEOUT_MS: u64 = 500;

/// At most this many channels may be half-way through a message at once; more is BUSY.
pub const MAX_PARTIAL_MESSAGES: usize = 16;

/// A complete message on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The channel.
    pub cid: u32,
    /// The CTAPHID command (without the 0x80 bit).
    pub command: u8,
    /// The payload, exactly as long as the initialization packet said.
    pub payload: Vec<u8>,
}

/// What a report (or the passing of time) produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A message is complete.
    Message(Message),
    /// The channel must be answered with `CTAPHID_ERROR`; its partial message, if any, is gone.
    Error {
        /// The channel to answer.
        cid: u32,
        /// The error code.
        error: HidError,
    },
}

#[derive(Debug)]
struct Partial {
    command: u8,
    length: usize,
    data: Vec<u8>,
    next_seq: u8,
    last_ms: u64,
}

/// The per-channel reassembler.
#[derive(Debug)]
pub struct Reassembler {
    partials: BTreeMap<u32, Partial>,
    next_cid: u32,
    timeout_ms: u64,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(DEFAULT_MESSAGE_TIMEOUT_MS)
    }
}

impl Reassembler {
    /// A reassembler with no channels allocated, timing out incomplete messages after
    /// `timeout_ms` without a packet.
    pub fn new(timeout_ms: u64) -> Self {
        Self {
            partials: BTreeMap::new(),
            next_cid: 1,
            timeout_ms,
        }
    }

    /// Allocates a new channel id (never 0, never the broadcast id).
    pub fn allocate(&mut self) -> u32 {
        let cid = self.next_cid;
        // After 2³² − 2 channels the numbering starts over: reuse beats refusing forever.
        self.next_cid = if cid >= BROADCAST_CID - 1 { 1 } else { cid + 1 };
        cid
    }

    /// Whether `cid` was handed out by [`Reassembler::allocate`].
    pub fn is_allocated(&self, cid: u32) -> bool {
        cid != 0 && cid != BROADCAST_CID && cid < self.next_cid
    }

    /// Whether `cid` is part-way through a message.
    pub fn is_assembling(&self, cid: u32) -> bool {
        self.partials.contains_key(&cid)
    }

    /// Takes one report. Reports of another length than 64 bytes cannot come from the stream
    /// and are ignored. Incomplete messages that have timed out are reported first.
    pub fn push(&mut self, report: &[u8], now_ms: u64) -> Vec<Event> {
        let mut events = self.expire(now_ms);
        if report.len() != REPORT_LEN {
            return events;
        }
        let cid = u32::from_be_bytes([report[0], report[1], report[2], report[3]]);
        if report[4] & 0x80 != 0 {
            events.extend(self.init_packet(cid, report, now_ms));
        } else {
            events.extend(self.continuation_packet(cid, report, now_ms));
        }
        events
    }

    /// Drops the messages whose next packet is overdue, answering each with `ERR_MSG_TIMEOUT`.
    pub fn expire(&mut self, now_ms: u64) -> Vec<Event> {
        let timeout = self.timeout_ms;
        let overdue: Vec<u32> = self
            .partials
            .iter()
            .filter(|(_, p)| now_ms.saturating_sub(p.last_ms) >= timeout)
            .map(|(cid, _)| *cid)
            .collect();
        overdue
            .into_iter()
            .map(|cid| {
                self.partials.remove(&cid);
                Event::Error {
                    cid,
                    error: HidError::MsgTimeout,
                }
            })
            .collect()
    }

    /// When the oldest incomplete message times out, if there is one.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.partials
            .values()
            .map(|p| p.last_ms.saturating_add(self.timeout_ms))
            .min()
    }

    fn init_packet(&mut self, cid: u32, report: &[u8], now_ms: u64) -> Option<Event> {
        let command = report[4] & 0x7F;
        let length = usize::from(u16::from_be_bytes([report[5], report[6]]));
        let error = |error| Some(Event::Error { cid, error });
        // Channel 0 is reserved; the broadcast channel only allocates channels.
        if cid == 0 || (cid == BROADCAST_CID && command != cmd::INIT) {
            return error(HidError::InvalidChannel);
        }
        if cid != BROADCAST_CID && !self.is_allocated(cid) {
            return error(HidError::InvalidChannel);
        }
        // A new message while one is half-way: INIT (resynchronise) and CANCEL replace it;
        // anything else is out of sequence and drops both.
        if self.partials.remove(&cid).is_some() && command != cmd::INIT && command != cmd::CANCEL {
            return error(HidError::InvalidSeq);
        }
        if length > MAX_PAYLOAD {
            return error(HidError::InvalidLen);
        }
        if length <= INIT_DATA_LEN {
            return Some(Event::Message(Message {
                cid,
                command,
                payload: report[7..7 + length].to_vec(),
            }));
        }
        if self.partials.len() >= MAX_PARTIAL_MESSAGES {
            return error(HidError::ChannelBusy);
        }
        let mut data = Vec::with_capacity(length);
        data.extend_from_slice(&report[7..7 + INIT_DATA_LEN]);
        self.partials.insert(
            cid,
            Partial {
                command,
                length,
                data,
                next_seq: 0,
                last_ms: now_ms,
            },
        );
        None
    }

    fn continuation_packet(&mut self, cid: u32, report: &[u8], now_ms: u64) -> Option<Event> {
        // A continuation packet with no message under way is spurious and ignored (§11.2.4).
        let partial = self.partials.get_mut(&cid)?;
        let seq = report[4];
        if seq != partial.next_seq {
            self.partials.remove(&cid);
            return Some(Event::Error {
                cid,
                error: HidError::InvalidSeq,
            });
        }
        let take = (partial.length - partial.data.len()).min(CONT_DATA_LEN);
        partial.data.extend_from_slice(&report[5..5 + take]);
        partial.next_seq += 1;
        partial.last_ms = now_ms;
        if partial.data.len() < partial.length {
            return None;
        }
        let done = self.partials.remove(&cid)?;
        Some(Event::Message(Message {
            cid,
            command: done.command,
            payload: done.data,
        }))
    }
}
