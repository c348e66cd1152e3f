//! Complete CTAPHID messages in, actions out: channel allocation (INIT), PING, WINK, CANCEL,
//! the one-request-at-a-time rule (CHANNEL_BUSY), and CBOR (CTAP2) and MSG (CTAP1/U2F)
//! requests for the authenticator.
//!
//! Pure like the [`reassembler`](super::reassembler): the caller supplies the time, performs
//! [`Action::Execute`] on the authenticator and reports the answer with [`Device::finish`].

use super::reassembler::{Event, Message, Reassembler};
use super::{
    cmd, fragment, HidError, Report, BROADCAST_CID, CAPABILITY_CBOR, CAPABILITY_NMSG,
    CAPABILITY_WINK, PROTOCOL_VERSION,
};

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these reports, in order.
    Send(Vec<Report>),
    /// Give `request` (`command ‖ CBOR`) to the authenticator; the device is busy until
    /// [`Device::finish`] is called for `cid`.
    Execute {
        /// The requesting channel.
        cid: u32,
        /// The CTAP2 request.
        request: Vec<u8>,
    },
    /// Give `request` (a CTAP1/U2F command APDU from `CTAPHID_MSG`) to the authenticator;
    /// the answer (response data ‖ status word) goes back with [`Device::finish`].
    ExecuteMsg {
        /// The requesting channel.
        cid: u32,
        /// The U2F request.
        request: Vec<u8>,
    },
    /// The client cancelled the request being executed for `cid`: stop waiting for the user.
    Cancel {
        /// The channel.
        cid: u32,
    },
    /// The client asked the device to identify itself (`CTAPHID_WINK`).
    Wink,
}

/// The CTAPHID device: a reassembler plus the state of the one request in progress.
#[derive(Debug)]
pub struct Device {
    reassembler: Reassembler,
    busy: Option<Busy>,
    version: [u8; 3],
    /// `CTAPHID_CBOR` is answered (capability CBOR).
    cbor: bool,
    /// `CTAPHID_MSG` is answered (no capability NMSG).
    msg: bool,
}

#[derive(Debug, Clone, Copy)]
struct Busy {
    cid: u32,
    /// The channel was re-initialised meanwhile: its answer must not be sent.
    discard: bool,
    /// The command being answered (`CBOR` or `MSG`).
    command: u8,
}

impl Device {
    /// A device with no channels, reporting `version` (major, minor, build) in INIT responses.
    pub fn new(reassembler: Reassembler, version: [u8; 3]) -> Self {
        Self {
            reassembler,
            busy: None,
            version,
            cbor: true,
            msg: false,
        }
    }

    /// Which message commands the device answers: `CTAPHID_CBOR` (CTAP2) and `CTAPHID_MSG`
    /// (CTAP1/U2F). INIT's capabilities follow (CBOR 0x04 when `cbor`, NMSG 0x08 unless
    /// `msg`); a command left out is answered `ERR_INVALID_CMD`. A new device speaks CBOR only.
    pub fn with_commands(mut self, cbor: bool, msg: bool) -> Self {
        self.cbor = cbor;
        self.msg = msg;
        self
    }

    /// The channel whose CBOR request is being executed.
    pub fn busy_channel(&self) -> Option<u32> {
        self.busy.map(|b| b.cid)
    }

    /// Whether `cid` is part-way through a message.
    pub fn is_assembling(&self, cid: u32) -> bool {
        self.reassembler.is_assembling(cid)
    }

    /// When [`Device::tick`] must next be called to time out an incomplete message.
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.reassembler.next_deadline_ms()
    }

    /// Takes one 64-byte report from the host.
    pub fn receive(&mut self, report: &[u8], now_ms: u64) -> Vec<Action> {
        let events = self.reassembler.push(report, now_ms);
        events.into_iter().flat_map(|e| self.event(e)).collect()
    }

    /// Times out incomplete messages.
    pub fn tick(&mut self, now_ms: u64) -> Vec<Action> {
        let events = self.reassembler.expire(now_ms);
        events.into_iter().flat_map(|e| self.event(e)).collect()
    }

    /// The authenticator answered the request of `cid`; the device is free again.
    pub fn finish(&mut self, cid: u32, response: &[u8]) -> Vec<Action> {
        match self.busy {
            Some(b) if b.cid == cid => {
                self.busy = None;
                if b.discard {
                    Vec::new()
                } else {
                    vec![Action::Send(fragment(cid, b.command, response))]
                }
            }
            _ => Vec::new(),
        }
    }

    /// The KEEPALIVE report for the request in progress, with `status`
    /// ([`super::KEEPALIVE_PROCESSING`] or [`super::KEEPALIVE_UP_NEEDED`]).
    pub fn keepalive(&self, status: u8) -> Option<Report> {
        let b = self.busy.filter(|b| !b.discard)?;
        fragment(b.cid, cmd::KEEPALIVE, &[status])
            .into_iter()
            .next()
    }

    fn event(&mut self, event: Event) -> Vec<Action> {
        match event {
            Event::Error { cid, error } => vec![error_reply(cid, error)],
            Event::Message(m) => self.message(m),
        }
    }

    fn message(&mut self, m: Message) -> Vec<Action> {
        let Message {
            cid,
            command,
            payload,
        } = m;
        match command {
            cmd::INIT => self.init(cid, &payload),
            cmd::CANCEL => match self.busy {
                Some(b) if b.cid == cid => vec![Action::Cancel { cid }],
                // Nothing to cancel: CANCEL has no answer of its own.
                _ => Vec::new(),
            },
            _ if self.busy.is_some() => vec![error_reply(cid, HidError::ChannelBusy)],
            cmd::PING => vec![Action::Send(fragment(cid, cmd::PING, &payload))],
            cmd::WINK if payload.is_empty() => {
                vec![Action::Wink, Action::Send(fragment(cid, cmd::WINK, &[]))]
            }
            cmd::WINK => vec![error_reply(cid, HidError::InvalidLen)],
            cmd::CBOR if self.cbor && payload.is_empty() => {
                vec![error_reply(cid, HidError::InvalidLen)]
            }
            cmd::CBOR if self.cbor => {
                self.busy = Some(Busy {
                    cid,
                    discard: false,
                    command: cmd::CBOR,
                });
                vec![Action::Execute {
                    cid,
                    request: payload,
                }]
            }
            cmd::MSG if self.msg && payload.is_empty() => {
                vec![error_reply(cid, HidError::InvalidLen)]
            }
            cmd::MSG if self.msg => {
                self.busy = Some(Busy {
                    cid,
                    discard: false,
                    command: cmd::MSG,
                });
                vec![Action::ExecuteMsg {
                    cid,
                    request: payload,
                }]
            }
            // A command the device does not speak (MSG without U2F, CBOR on a U2F-only key, as
            // INIT's capabilities say), and LOCK, which is not implemented.
            _ => vec![error_reply(cid, HidError::InvalidCmd)],
        }
    }

    fn init(&mut self, cid: u32, nonce: &[u8]) -> Vec<Action> {
        if nonce.len() != 8 {
            return vec![error_reply(cid, HidError::InvalidLen)];
        }
        let mut actions = Vec::new();
        let new_cid = if cid == BROADCAST_CID {
            self.reassembler.allocate()
        } else {
            // INIT on an allocated channel resynchronises it and abandons its request.
            if let Some(b) = self.busy.as_mut().filter(|b| b.cid == cid) {
                b.discard = true;
                actions.push(Action::Cancel { cid });
            }
            cid
        };
        let mut body = Vec::with_capacity(17);
        body.extend_from_slice(nonce);
        body.extend_from_slice(&new_cid.to_be_bytes());
        body.push(PROTOCOL_VERSION);
        body.extend_from_slice(&self.version);
        let mut capabilities = CAPABILITY_WINK;
        if self.cbor {
            capabilities |= CAPABILITY_CBOR;
        }
        if !self.msg {
            capabilities |= CAPABILITY_NMSG;
        }
        body.push(capabilities);
        actions.push(Action::Send(fragment(cid, cmd::INIT, &body)));
        actions
    }
}

fn error_reply(cid: u32, error: HidError) -> Action {
    Action::Send(fragment(cid, cmd::ERROR, &[error.byte()]))
}
