//! What a profile's `authenticatorGetInfo` (CTAP 2.1 §6.4) reports beyond the fields `Config`
//! already drives (AAGUID, algorithms, transports, extensions): version strings, which options
//! are advertised, limits and the firmware version, as the emulated device reports them.
//!
//! The default is fauxkey's own generic answer. An emulated device only ever advertises what
//! fauxkey implements: a device feature fauxkey lacks is left out (and said so where the profile
//! is defined), and dynamic options (`clientPin`, `alwaysUv`, `ep`, `uv`) keep following the
//! authenticator's state.

use uuid::Uuid;

use super::MAX_MSG_SIZE;

/// The AAGUID of the YubiKey 5 (NFC) series, firmware 5.2–5.4.
const YUBIKEY_5_AAGUID: Uuid = Uuid::from_u128(0x2fc0579f_8113_47ea_b116_bb5a8db9202a);

/// The per-profile part of getInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// 0x01 CTAP2 version strings (`U2F_V2` is put first by itself when the profile speaks U2F).
    pub ctap2_versions: Vec<String>,
    /// 0x04 the names of the options to advertise, or `None` for every option fauxkey
    /// implements. A listed name fauxkey does not implement is never reported; a listed dynamic
    /// option (`clientPin`, `alwaysUv`, `ep`, `uv`) is reported with its current value, or left
    /// out where it is absent today (`uv` without built-in UV, `ep` without an attestation
    /// certificate).
    pub options: Option<Vec<String>>,
    /// 0x05 `maxMsgSize`: longer CTAP2 requests are refused with `CTAP2_ERR_REQUEST_TOO_LARGE`
    /// (at most [`MAX_MSG_SIZE`], what CTAPHID carries).
    pub max_msg_size: usize,
    /// 0x06 `pinUvAuthProtocols`, most preferred first (each 1 or 2).
    pub pin_uv_auth_protocols: Vec<i64>,
    /// 0x08 `maxCredentialIdLength` (credential ids of any length are accepted in lists).
    pub max_credential_id_length: u64,
    /// 0x0C `forcePINChange` and 0x10 `maxRPIDsForSetMinPINLength` (CTAP 2.1 fields).
    pub ctap21_pin_fields: bool,
    /// 0x0E `firmwareVersion`, if the device reports one.
    pub firmware_version: Option<u64>,
}

impl Default for DeviceInfo {
    /// fauxkey's generic getInfo.
    fn default() -> Self {
        Self {
            ctap2_versions: vec!["FIDO_2_0".into(), "FIDO_2_1_PRE".into(), "FIDO_2_1".into()],
            options: None,
            max_msg_size: MAX_MSG_SIZE,
            pin_uv_auth_protocols: vec![2, 1],
            max_credential_id_length: 64,
            ctap21_pin_fields: true,
            firmware_version: None,
        }
    }
}

impl DeviceInfo {
    /// The device described by `aaguid`: a vault keeps its AAGUID but not this part of getInfo,
    /// so a vault made with a device profile gets the device's getInfo back from its AAGUID
    /// (fauxkey's generic answer for any other AAGUID).
    pub fn for_aaguid(aaguid: &Uuid) -> Self {
        if *aaguid == YUBIKEY_5_AAGUID {
            Self::yubikey_5_fw_5_4_3()
        } else {
            Self::default()
        }
    }

    /// Whether option `name` is advertised (when fauxkey implements it).
    pub fn advertises(&self, name: &str) -> bool {
        self.options
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// The largest request accepted: `max_msg_size`, never above what CTAPHID carries.
    pub fn request_limit(&self) -> usize {
        self.max_msg_size.min(MAX_MSG_SIZE)
    }

    /// getInfo of a YubiKey 5 (NFC) with firmware 5.4.3, from the raw CBOR in Yubico/libfido2
    /// issue #633 (<https://github.com/Yubico/libfido2/issues/633>, `FIDO_DEBUG=1` output of
    /// `fido_dev_get_cbor_info_rx`; the same values are printed by `fido2-token -I` in
    /// Yubico/libfido2 issue #686); kept in `tests/data/getinfo/yubikey-5-fw5.4.3.hex`.
    /// The dump has keys 0x01–0x0A, 0x0D and 0x0E only: no 0x0B (large blobs), 0x0C
    /// (`forcePINChange`), 0x0F (`maxCredBlobLength`), 0x10, 0x14
    /// (`remainingDiscoverableCredentials`) or any later key. Keys 0x02, 0x03, 0x07, 0x09 and
    /// 0x0A come from the profile's `Config`; 0x0D follows the PIN state (4 on a fresh key).
    pub fn yubikey_5_fw_5_4_3() -> Self {
        Self {
            // No FIDO_2_1: the 5.4 firmware implements the 2.1 preview only.
            ctap2_versions: vec!["FIDO_2_0".into(), "FIDO_2_1_PRE".into()],
            // The dump's options: rk, up, plat=false, clientPin, credentialMgmtPreview. Not
            // reported: credMgmt, pinUvAuthToken, authnrCfg, setMinPINLength, alwaysUv,
            // largeBlobs, ep (fauxkey has them all; the device does not advertise them).
            // `uv` stays listed only because fauxkey's emulated user may have built-in UV
            // (a profile deviation); with a PIN-only user it is absent, as on the device.
            options: Some(
                [
                    "rk",
                    "up",
                    "plat",
                    "uv",
                    "clientPin",
                    "credentialMgmtPreview",
                ]
                .map(String::from)
                .to_vec(),
            ),
            max_msg_size: 1200,
            pin_uv_auth_protocols: vec![2, 1],
            max_credential_id_length: 128,
            ctap21_pin_fields: false,
            firmware_version: Some(0x05_04_03),
        }
    }
}
