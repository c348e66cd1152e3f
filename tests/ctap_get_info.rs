//! authenticatorGetInfo per profile, at the CTAP byte boundary (`Authenticator::process`):
//! every built-in profile but `yubikey-5` answers byte for byte what it answered before
//! profiles had their own getInfo, and `yubikey-5` answers the getInfo of a real YubiKey 5
//! (firmware 5.4.3, tests/data/getinfo/yubikey-5-fw5.4.3.hex) except for the PIN state, and a
//! vault gives the profile's getInfo back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fauxkey::env::{SimulatedUser, Verification};
use fauxkey::profiles;
use fauxkey::store::MemoryStore;
use fauxkey::Authenticator;

const CMD_INFO: u8 = 0x04;
const REQUEST_TOO_LARGE: u8 = 0x39;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/data/getinfo/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The lines of a data file that are not comments.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn other_profiles_get_info_is_unchanged_byte_for_byte() {
    let text = data("builtin-profiles-before.txt");
    let mut seen = 0;
    for line in lines(&text) {
        let (name, before) = line.split_once(' ').unwrap();
        let mut config = profiles::find(name).unwrap().config;
        // As `fauxkey ctap` serves it: over USB HID.
        config.transports = vec!["usb".to_owned()];
        let mut a = Authenticator::new(config, MemoryStore::new());
        assert_eq!(a.process(&[CMD_INFO]), hex(before), "{name}");
        seen += 1;
    }
    assert_eq!(seen, 9, "every profile captured before the change");
}

#[test]
fn yubikey_5_get_info_is_the_documented_one() {
    let real = hex(&lines(&data("yubikey-5-fw5.4.3.hex")).collect::<String>());
    assert_eq!(real.len(), 204);
    // A key without built-in UV (a YubiKey 5 verifies with its PIN).
    let user = SimulatedUser {
        verification: Verification::NotCapable,
        ..SimulatedUser::default()
    };
    let mut a = Authenticator::new(
        profiles::find("yubikey-5").unwrap().config,
        MemoryStore::new(),
    )
    .with_user(user);
    let ours = a.process(&[CMD_INFO]);
    // The only difference: the captured key had a PIN set (`clientPin` true, 0xf5), this fresh
    // one has none (0xf4).
    let client_pin = b"iclientPin\xf5";
    let at = real
        .windows(client_pin.len())
        .position(|w| w == client_pin)
        .unwrap();
    let mut expected = real.clone();
    expected[at + client_pin.len() - 1] = 0xf4;
    assert_eq!(ours, expected);

    // maxMsgSize 1200: a 1201-byte request is refused, a 1200-byte one is not.
    let mut long = vec![CMD_INFO];
    long.resize(1201, 0);
    assert_eq!(a.process(&long), vec![REQUEST_TOO_LARGE]);
    long.truncate(1200);
    assert_ne!(a.process(&long), vec![REQUEST_TOO_LARGE]);
}

#[test]
fn yubikey_5_with_built_in_uv_adds_only_the_uv_option() {
    // fauxkey's default emulated user has built-in UV (a deviation of the profile): getInfo then
    // reports `uv`, and nothing else changes.
    let a = Authenticator::new(
        profiles::find("yubikey-5").unwrap().config,
        MemoryStore::new(),
    );
    let info = a.get_info();
    let names: Vec<&str> = info.options.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "rk",
            "up",
            "plat",
            "uv",
            "clientPin",
            "credentialMgmtPreview"
        ]
    );
    assert_eq!(info.firmware_version, Some(0x05_04_03));
    assert_eq!(info.remaining_discoverable_credentials, None);
    assert_eq!(info.force_pin_change, None);
    assert_eq!(info.max_rp_ids_for_set_min_pin_length, None);
}

#[test]
fn a_vault_keeps_the_profile_get_info_through_its_aaguid() {
    use fauxkey::authenticator::DeviceInfo;
    use fauxkey::vault::payload;
    for (name, expected) in [
        ("yubikey-5", DeviceInfo::yubikey_5_fw_5_4_3()),
        ("fauxkey", DeviceInfo::default()),
        ("windows-hello", DeviceInfo::default()),
    ] {
        let config = profiles::find(name).unwrap().config;
        assert_eq!(config.device_info, expected, "{name}");
        let bytes = payload::encode_with(&config, &payload::Extras::default(), &[], &[]);
        let state = payload::decode(&bytes).unwrap();
        assert_eq!(
            state.settings.device_info, expected,
            "{name} after a vault round trip"
        );
    }
}
