//! Any sequence of 64-byte reports (with time passing) into the CTAPHID device: never a panic,
//! every report it asks to send is 64 bytes, and at most one request executes at a time.
#![no_main]

use fauxkey::ctaphid::device::{Action, Device};
use fauxkey::ctaphid::reassembler::Reassembler;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the commands spoken (CBOR, MSG, both), so U2F framing is fuzzed too.
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let mut device = Device::new(Reassembler::new(500), [0, 1, 0])
        .with_commands(mode & 1 == 0, mode & 2 == 2);
    let mut now = 0u64;
    let mut executing: Option<u32> = None;
    // Each chunk: one byte of elapsed time, then a 64-byte report.
    for chunk in data.chunks(65) {
        now += u64::from(chunk[0]) * 4;
        let actions = if chunk.len() == 65 {
            device.receive(&chunk[1..], now)
        } else {
            device.tick(now)
        };
        for action in actions {
            match action {
                Action::Execute { cid, request } | Action::ExecuteMsg { cid, request } => {
                    assert!(executing.is_none(), "two requests at once");
                    assert!(!request.is_empty());
                    executing = Some(cid);
                }
                Action::Send(reports) => assert!(!reports.is_empty()),
                Action::Cancel { cid } => assert_eq!(Some(cid), executing),
                Action::Wink => {}
            }
        }
        // Answer requests right away, sometimes.
        if let Some(cid) = executing {
            if chunk[0] & 1 == 1 {
                device.finish(cid, &[0x00]);
                executing = None;
            }
        }
    }
});
