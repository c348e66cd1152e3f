#![allow(clippy::unwrap_used)]

use super::*;
use crate::crypto::keys::PrivateKey;
use crate::env::seeded_rng;
use crate::store::CredRandom;

fn credential(alg: Algorithm, seed: u64) -> Credential {
    let mut rng = seeded_rng(seed);
    let mut c = base_credential(
        vec![seed as u8; 16],
        "example.com".into(),
        b"user-1".to_vec(),
        PrivateKey::generate(alg, rng.as_mut()),
        &ImportDefaults {
            backup_eligible: true,
            backup_state: true,
            now_ms: 1_700_000_000_000,
        },
    );
    c.user_name = Some("alice".into());
    c.user_display_name = Some("Alice A.".into());
    c.rp_name = Some("Example".into());
    c
}

fn roundtrip(format: Format, c: &Credential) -> (Exported, Imported) {
    let exported = export(format, &[c]).unwrap();
    assert_eq!(exported.count, 1, "{format}: {:?}", exported.losses);
    let imported = import(&exported.text, None, &ImportDefaults::default()).unwrap();
    assert_eq!(imported.format, format, "detected format");
    assert_eq!(imported.credentials.len(), 1);
    let back = &imported.credentials[0];
    assert_eq!(back.id, c.id);
    assert_eq!(back.rp_id, c.rp_id);
    assert_eq!(back.user_handle, c.user_handle);
    assert_eq!(back.key.public_key(), c.key.public_key());
    (exported, imported)
}

fn fields(losses: &[Loss]) -> Vec<Field> {
    let mut f: Vec<Field> = losses.iter().map(|l| l.field).collect();
    f.sort();
    f.dedup();
    f
}

#[test]
fn every_format_round_trips_an_es256_passkey() {
    for format in Format::ALL {
        roundtrip(format, &credential(Algorithm::Es256, 1));
    }
}

#[test]
fn eddsa_round_trips_where_the_format_holds_it_and_is_left_out_of_bitwarden() {
    let c = credential(Algorithm::EdDsa, 2);
    for format in Format::ALL {
        if format == Format::Bitwarden {
            let e = export(format, &[&c]).unwrap();
            assert_eq!(e.count, 0);
            assert_eq!(fields(&e.losses), [Field::Credential]);
            assert!(
                e.losses[0].detail.contains("eddsa"),
                "{}",
                e.losses[0].detail
            );
        } else {
            roundtrip(format, &c);
        }
    }
}

#[test]
fn ed25519_keys_are_written_as_pkcs8_v1() {
    let c = credential(Algorithm::EdDsa, 15);
    let der = pkcs8(&c.key).unwrap();
    assert_eq!(der.len(), 48);
    assert_eq!(&der[..4], &[0x30, 0x2e, 0x02, 0x01]);
    assert_eq!(der[4], 0x00, "version 0 (v1)");
    let back = PrivateKey::from_pkcs8_der(&der).unwrap();
    assert_eq!(back.public_key(), c.key.public_key());
}

#[test]
fn each_format_reports_what_it_drops() {
    let mut c = credential(Algorithm::Es256, 3);
    c.cred_random = Some(CredRandom {
        with_uv: [7; 32],
        without_uv: [8; 32],
    });
    c.hidden = true;
    let dropped = |f| fields(&export(f, &[&c]).unwrap().losses);
    // CXF keeps names, PRF keys and the time; drops BE/BS, hidden state and the RP name.
    assert_eq!(
        dropped(Format::Cxf),
        [Field::BackupFlags, Field::Hidden, Field::RpName]
    );
    assert_eq!(
        dropped(Format::Bitwarden),
        [Field::BackupFlags, Field::Hidden, Field::HmacSecret]
    );
    assert_eq!(
        dropped(Format::Keepassxc),
        [
            Field::BackupFlags,
            Field::Hidden,
            Field::HmacSecret,
            Field::UserDisplayName,
            Field::RpName,
            Field::Created
        ]
    );
    assert_eq!(
        dropped(Format::Webdriver),
        [
            Field::Hidden,
            Field::HmacSecret,
            Field::RpName,
            Field::Created
        ]
    );
    assert_eq!(
        dropped(Format::Playwright),
        [
            Field::BackupFlags,
            Field::Hidden,
            Field::HmacSecret,
            Field::UserName,
            Field::UserDisplayName,
            Field::RpName,
            Field::Created
        ]
    );
}

#[test]
fn cxf_carries_the_hmac_secret_keys_names_and_creation_time() {
    let mut c = credential(Algorithm::Es256, 4);
    c.cred_random = Some(CredRandom {
        with_uv: [7; 32],
        without_uv: [8; 32],
    });
    let (_, imported) = roundtrip(Format::Cxf, &c);
    let back = &imported.credentials[0];
    let r = back.cred_random.as_ref().unwrap();
    assert_eq!((r.with_uv, r.without_uv), ([7; 32], [8; 32]));
    assert_eq!(back.user_name.as_deref(), Some("alice"));
    assert_eq!(back.user_display_name.as_deref(), Some("Alice A."));
    assert_eq!(back.created_ms, 1_700_000_000_000);
    // The importer defaulted BE/BS only.
    assert_eq!(fields(&imported.losses), [Field::BackupFlags]);
}

#[test]
fn cxf_leaves_out_a_passkey_with_a_non_zero_counter() {
    let mut c = credential(Algorithm::Es256, 5);
    c.sign_count = 3;
    let e = export(Format::Cxf, &[&c]).unwrap();
    assert_eq!(e.count, 0);
    assert!(e.losses[0].detail.contains("non-zero signature counter"));
    assert!(!e.text.contains(&b64url::encode(&c.id)));
}

#[test]
fn bitwarden_and_webdriver_carry_the_counter_and_discoverability() {
    let mut c = credential(Algorithm::Es256, 6);
    c.sign_count = 41;
    c.discoverable = false;
    for format in [Format::Bitwarden, Format::Webdriver] {
        let (_, imported) = roundtrip(format, &c);
        assert_eq!(imported.credentials[0].sign_count, 41, "{format}");
        assert!(!imported.credentials[0].discoverable, "{format}");
    }
}

#[test]
fn bitwarden_writes_a_16_byte_id_as_a_guid_and_reads_b64_prefixed_ids() {
    let c = credential(Algorithm::Es256, 7);
    let e = export(Format::Bitwarden, &[&c]).unwrap();
    assert!(
        e.text.contains("\"07070707-0707-0707-0707-070707070707\""),
        "{}",
        *e.text
    );
    let mut long = credential(Algorithm::Es256, 8);
    long.id = vec![9; 32];
    let e = export(Format::Bitwarden, &[&long]).unwrap();
    assert!(e
        .text
        .contains(&format!("\"b64.{}\"", b64url::encode(&[9; 32]))));
    let back = import(&e.text, Some(Format::Bitwarden), &ImportDefaults::default()).unwrap();
    assert_eq!(back.credentials[0].id, vec![9; 32]);
}

#[test]
fn webdriver_import_reads_cdp_standard_base64_and_minus_one_counter() {
    let c = credential(Algorithm::Es256, 9);
    use base64::Engine as _;
    let std = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let text = serde_json::json!([{
        "credentialId": std(&c.id),
        "isResidentCredential": true,
        "rpId": "example.com",
        "privateKey": std(&c.key.to_pkcs8_der().unwrap()),
        "userHandle": std(&c.user_handle),
        "signCount": -1,
    }])
    .to_string();
    let back = import(&text, None, &ImportDefaults::default()).unwrap();
    assert_eq!(back.format, Format::Webdriver);
    assert_eq!(back.credentials[0].key.public_key(), c.key.public_key());
    assert_eq!(back.credentials[0].sign_count, 0);
    assert!(fields(&back.losses).contains(&Field::Counter));
}

#[test]
fn malformed_and_truncated_files_name_what_is_wrong() {
    let c = credential(Algorithm::Es256, 10);
    let good = export(Format::Cxf, &[&c]).unwrap();
    // Truncated: a syntax error with its position.
    let cut = &good.text[..good.text.len() / 2];
    let e = import(cut, Some(Format::Cxf), &ImportDefaults::default()).unwrap_err();
    assert!(matches!(e, TransferError::Syntax { .. }), "{e}");
    assert!(e.to_string().contains("line"), "{e}");
    // A broken key: the member's path.
    let broken = good.text.replace("\"key\": \"", "\"key\": \"AAAA");
    let e = import(&broken, None, &ImportDefaults::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cxf: accounts[0].items[0].credentials[0].key: not a PKCS#8 private key of a supported \
         algorithm (ES256 P-256 or EdDSA Ed25519)"
    );
    // A missing member.
    let missing = good.text.replace("\"rpId\"", "\"rpid\"");
    let e = import(&missing, None, &ImportDefaults::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cxf: accounts[0].items[0].credentials[0].rpId: missing"
    );
    // A future major version.
    let v2 = good.text.replace("\"major\": 1", "\"major\": 2");
    let e = import(&v2, None, &ImportDefaults::default()).unwrap_err();
    assert!(e.to_string().contains("major version 2"), "{e}");
    // Not any known format.
    let e = import("{\"hello\": 1}", None, &ImportDefaults::default()).unwrap_err();
    assert!(matches!(e, TransferError::UnknownFormat(_)), "{e}");
    // KeePassXC without the PEM armour.
    let kp = export(Format::Keepassxc, &[&c]).unwrap();
    let naked = kp.text.replace("-----BEGIN PRIVATE KEY-----\\n", "");
    let e = import(&naked, None, &ImportDefaults::default()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("keepassxc: privateKey: expected a PEM block"),
        "{e}"
    );
    // Playwright with a public key of another credential.
    let other = credential(Algorithm::Es256, 11);
    let pw = export(Format::Playwright, &[&c]).unwrap();
    let swapped = pw.text.replace(
        &b64url::encode(&c.key.public_key().spki_der()),
        &b64url::encode(&other.key.public_key().spki_der()),
    );
    let e = import(&swapped, None, &ImportDefaults::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "playwright: [0].publicKey: does not match privateKey"
    );
}

#[test]
fn apply_refuses_existing_ids_without_replace_and_changes_nothing() {
    let mut store = crate::store::MemoryStore::new();
    let mut c = credential(Algorithm::Es256, 12);
    c.sequence = 1;
    store.insert(c.clone()).unwrap();
    let text = export(Format::Webdriver, &[&c, &credential(Algorithm::Es256, 13)])
        .unwrap()
        .text;
    let imported = import(&text, None, &ImportDefaults::default()).unwrap();
    let e = apply(&mut store, imported.credentials, false).unwrap_err();
    assert!(matches!(&e, TransferError::Exists { ids } if ids == &[b64url::encode(&c.id)]));
    assert_eq!(store.len(), 1, "nothing was added");
    let imported = import(&text, None, &ImportDefaults::default()).unwrap();
    let applied = apply(&mut store, imported.credentials, true).unwrap();
    assert_eq!(applied.replaced, [b64url::encode(&c.id)]);
    assert_eq!(applied.added.len(), 1);
    assert_eq!(store.len(), 2);
    assert_eq!(store.max_sequence(), 3);
}

#[test]
fn a_file_naming_one_credential_twice_is_refused() {
    let c = credential(Algorithm::Es256, 14);
    let text = export(Format::Playwright, &[&c, &c]).unwrap().text;
    let e = import(&text, None, &ImportDefaults::default()).unwrap_err();
    assert!(matches!(e, TransferError::Duplicate(_)), "{e}");
}

#[test]
fn rfc3339_parse_inverts_the_formatter() {
    use crate::store::rfc3339;
    for ms in [0, 951_782_400_000, 1_700_000_000_000, 4_102_444_799_000] {
        assert_eq!(bitwarden::parse_rfc3339(&rfc3339(ms)), Some(ms));
    }
    assert_eq!(
        bitwarden::parse_rfc3339("2023-11-14T22:13:20.5Z"),
        Some(1_700_000_000_500)
    );
    assert_eq!(bitwarden::parse_rfc3339("2023-11-14T22:13:20+01:00"), None);
    assert_eq!(bitwarden::parse_rfc3339("2023-13-14T22:13:20Z"), None);
}
