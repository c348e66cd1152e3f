//! `fauxkey ctap`: CTAPHID reports over stdin/stdout, and the usage errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;

fn report(cid: u32, first: u8, rest: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 64];
    r[..4].copy_from_slice(&cid.to_be_bytes());
    r[4] = first;
    r[5..5 + rest.len()].copy_from_slice(rest);
    r
}

#[test]
fn stdio_serves_init_ping_and_get_info_then_ends_at_eof() {
    let mut input = report(0xFFFF_FFFF, 0x86, &[0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Channel 1 (allocated by the INIT above): PING "hi", then CBOR getInfo.
    input.extend(report(1, 0x81, &[0, 2, b'h', b'i']));
    input.extend(report(1, 0x90, &[0, 1, 0x04]));
    let out = Command::cargo_bin("fauxkey")
        .unwrap()
        .args(["ctap", "--stdio", "--ephemeral"])
        .write_stdin(input)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let o = &out.stdout;
    assert_eq!(o.len() % 64, 0, "only whole 64-byte reports on stdout");
    assert_eq!(&o[..7], &[0xFF, 0xFF, 0xFF, 0xFF, 0x86, 0x00, 0x11]);
    assert_eq!(&o[7..15], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(&o[15..19], &[0, 0, 0, 1]);
    assert_eq!(&o[64..73], &[0, 0, 0, 1, 0x81, 0, 2, b'h', b'i']);
    // The getInfo answer: status 0, then a CBOR map, over several reports.
    assert_eq!(&o[128..133], &[0, 0, 0, 1, 0x90]);
    let len = usize::from(u16::from_be_bytes([o[133], o[134]]));
    assert!(len > 57, "getInfo needs continuation packets ({len} bytes)");
    assert_eq!(o[135], 0x00);
    assert_eq!(o[136] & 0xF0, 0xA0, "a CBOR map");
    assert_eq!(o.len(), 128 + 64 * (1 + (len - 57).div_ceil(59)));
}

#[test]
fn usage_errors() {
    let run = |args: &[&str]| {
        Command::cargo_bin("fauxkey")
            .unwrap()
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["ctap", "--ephemeral"]);
    assert_eq!(out.status.code(), Some(2), "neither --socket nor --stdio");
    let out = run(&["ctap", "--stdio", "--socket", "/tmp/x"]);
    assert_eq!(out.status.code(), Some(2), "both");
    let out = run(&["ctap", "--stdio", "--profile", "fauxkey"]);
    assert_eq!(out.status.code(), Some(2), "--profile without --ephemeral");
    let out = run(&["ctap", "--stdio", "--ephemeral", "--profile", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile \"nosuch\""));
    let file = std::env::temp_dir().join(format!("fauxkey-not-a-socket-{}", std::process::id()));
    std::fs::write(&file, b"keep me").unwrap();
    let out = run(&["ctap", "--ephemeral", "--socket", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exists and is not a socket"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"keep me",
        "the file is untouched"
    );
    let _ = std::fs::remove_file(&file);
}

/// Frames one CTAPHID message on `cid` into 64-byte reports.
fn frame(cid: u32, cmd: u8, data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len()).unwrap().to_be_bytes();
    let first = data.len().min(57);
    let mut out = report(cid, cmd, &[&len[..], &data[..first]].concat());
    for (seq, chunk) in data[first..].chunks(59).enumerate() {
        let mut r = vec![0u8; 64];
        r[..4].copy_from_slice(&cid.to_be_bytes());
        r[4] = u8::try_from(seq).unwrap();
        r[5..5 + chunk.len()].copy_from_slice(chunk);
        out.extend(r);
    }
    out
}

/// Reassembles the message that starts at report `index` of `out`.
fn message_at(out: &[u8], index: usize) -> Vec<u8> {
    let r = &out[index * 64..];
    let len = usize::from(u16::from_be_bytes([r[5], r[6]]));
    let mut data = r[7..64].to_vec();
    let mut next = index + 1;
    while data.len() < len {
        data.extend_from_slice(&out[next * 64 + 5..next * 64 + 64]);
        next += 1;
    }
    data.truncate(len);
    data
}

#[test]
fn an_ephemeral_yubikey_answers_with_an_x5c_chain() {
    use ciborium::value::Value;
    // makeCredential: clientDataHash, rp, user, ES256.
    let request = fauxkey::cbor::encode(&Value::Map(vec![
        (Value::Integer(1.into()), Value::Bytes(vec![7; 32])),
        (
            Value::Integer(2.into()),
            Value::Map(vec![(
                Value::Text("id".into()),
                Value::Text("example.com".into()),
            )]),
        ),
        (
            Value::Integer(3.into()),
            Value::Map(vec![(
                Value::Text("id".into()),
                Value::Bytes(b"user-1".to_vec()),
            )]),
        ),
        (
            Value::Integer(4.into()),
            Value::Array(vec![Value::Map(vec![
                (Value::Text("alg".into()), Value::Integer((-7).into())),
                (Value::Text("type".into()), Value::Text("public-key".into())),
            ])]),
        ),
    ]));
    let mut input = report(0xFFFF_FFFF, 0x86, &[0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    input.extend(frame(1, 0x90, &[&[0x01], &request[..]].concat()));
    let out = Command::cargo_bin("fauxkey")
        .unwrap()
        .args(["ctap", "--stdio", "--ephemeral", "--profile", "yubikey-5"])
        .write_stdin(input)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Report 0 answers INIT; the makeCredential answer starts at report 1 (keepalives first,
    // if any, are skipped).
    let mut index = 1;
    while out.stdout[index * 64 + 4] == 0xBB {
        index += 1;
    }
    let answer = message_at(&out.stdout, index);
    assert_eq!(answer[0], 0x00, "CTAP2_OK");
    let Value::Map(response) = fauxkey::cbor::decode(&answer[1..]).unwrap() else {
        panic!("not a map")
    };
    let get = |k: i64| {
        response
            .iter()
            .find(|(key, _)| key.as_integer() == Some(k.into()))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(get(1).as_text(), Some("packed"));
    let Value::Map(statement) = get(3) else {
        panic!("attStmt not a map")
    };
    let x5c = statement
        .iter()
        .find(|(k, _)| k.as_text() == Some("x5c"))
        .map(|(_, v)| v.clone())
        .expect("packed with a certificate chain, not self attestation");
    assert!(matches!(x5c, Value::Array(ref certs) if !certs.is_empty()));
}

/// A large-blob array written into the vault by one process is what `fauxkey ctap` in another
/// process reads back over CTAPHID (authenticatorLargeBlobs `get`).
#[test]
fn the_large_blob_array_survives_into_another_process() {
    use fauxkey::vault::{KdfParams, Passphrase, Vault};
    let dir = std::env::temp_dir().join(format!("fauxkey-cli-blobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.fxk");
    let pass = Passphrase::new("correct horse").unwrap();
    let config = fauxkey::profiles::find("fauxkey").unwrap().config;
    let vault = Vault::create(&path, &pass, KdfParams::INSECURE_FAST, config.clone()).unwrap();
    let mut a = fauxkey::Authenticator::new(config, vault).with_user(fauxkey::env::SimulatedUser {
        verification: fauxkey::env::Verification::NotCapable,
        ..fauxkey::env::SimulatedUser::default()
    });
    let array = fauxkey::ctap2::large_blobs::serialize(&fauxkey::cbor::encode(
        &ciborium::value::Value::Array(vec![ciborium::value::Value::Bytes(vec![0x5a; 100])]),
    ));
    let set = fauxkey::ctap2::large_blobs::Request {
        set: Some(array.clone()),
        offset: Some(0),
        length: Some(array.len() as u64),
        ..Default::default()
    };
    assert_eq!(a.large_blobs(set), Ok(None));
    drop(a);

    let get = fauxkey::ctap2::large_blobs::Request {
        get: Some(1000),
        offset: Some(0),
        ..Default::default()
    };
    let mut message = vec![0x0C];
    message.extend(fauxkey::cbor::encode(&get.to_cbor()));
    let mut input = report(0xFFFF_FFFF, 0x86, &[0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
    input.extend(frame(1, 0x90, &message));
    let out = Command::cargo_bin("fauxkey")
        .unwrap()
        .arg("--vault")
        .arg(&path)
        .args(["ctap", "--stdio"])
        .env("FAUXKEY_PASSPHRASE", "correct horse")
        .write_stdin(input)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = message_at(&out.stdout, 1);
    assert_eq!(answer[0], 0x00, "status: {}", hex::encode(&answer));
    let v = fauxkey::cbor::decode(&answer[1..]).unwrap();
    let response = fauxkey::ctap2::large_blobs::Response::from_cbor(&v).unwrap();
    assert_eq!(response.config, array);
    let _ = std::fs::remove_dir_all(&dir);
}
