//! `authenticatorLargeBlobs` (CTAP 2.1 §6.10): reading the serialized large-blob array in
//! fragments, and writing a new one in fragments authorised by a pinUvAuthToken with the `lbw`
//! permission. The committed array lives in the store's device state (vault settings key 27).

use super::{Authenticator, MAX_MSG_SIZE};
use crate::crypto::pin_protocol::PinProtocol;
use crate::ctap2::client_pin::PERMISSION_LBW;
use crate::ctap2::large_blobs::{self as lb, Request, Response};
use crate::ctap2::StatusCode;
use crate::store::CredentialStore;

/// getInfo `maxSerializedLargeBlobArray`: the longest array fauxkey keeps (the spec's minimum
/// is 1024 bytes).
pub const MAX_SERIALIZED_LARGE_BLOB_ARRAY: usize = 4096;

/// `maxFragmentLength`: the most bytes one `get` returns or one `set` carries (maxMsgSize − 64).
pub const MAX_FRAGMENT_LENGTH: usize = MAX_MSG_SIZE - 64;

/// A write in progress: the fragments received so far (CTAP 2.1 §6.10.2 `expectedLength`,
/// `expectedNextOffset` and the pending buffer). Volatile, like a real key's RAM.
#[derive(Default)]
pub(super) struct PendingWrite {
    expected_length: usize,
    buffer: Vec<u8>,
}

impl<S: CredentialStore> Authenticator<S> {
    /// Whether this authenticator has large blobs: its config lists the `largeBlobKey`
    /// extension (getInfo then reports the `largeBlobs` option).
    pub fn large_blobs_supported(&self) -> bool {
        self.config.supports_extension("largeBlobKey")
    }

    /// The committed serialized large-blob array (the initial empty one if none was written).
    pub fn large_blob_array(&self) -> Vec<u8> {
        self.store
            .device_state()
            .large_blob_array
            .unwrap_or_else(lb::initial_array)
    }

    /// `authenticatorLargeBlobs`: a `get` returns a fragment; a `set` returns nothing.
    pub fn large_blobs(&mut self, request: Request) -> Result<Option<Response>, StatusCode> {
        self.pending = None;
        if !self.large_blobs_supported() {
            return Err(StatusCode::InvalidCommand);
        }
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        // Step 1: offset is required.
        let offset = request.offset.ok_or(StatusCode::InvalidParameter)?;
        match (request.get, &request.set) {
            // Steps 2–3: exactly one of get and set.
            (None, None) | (Some(_), Some(_)) => Err(StatusCode::InvalidParameter),
            (Some(get), None) => self.large_blobs_get(&request, get, offset).map(Some),
            (None, Some(_)) => self.large_blobs_set(request, offset).map(|()| None),
        }
    }

    /// Step 4: `get`.
    fn large_blobs_get(
        &mut self,
        request: &Request,
        get: u64,
        offset: u64,
    ) -> Result<Response, StatusCode> {
        // Step 4.1: no length with get.
        if request.length.is_some() {
            return Err(StatusCode::InvalidParameter);
        }
        // Step 4.2: no pinUvAuthParam or protocol with get.
        if request.pin_uv_auth_param.is_some() || request.pin_uv_auth_protocol.is_some() {
            return Err(StatusCode::InvalidParameter);
        }
        // Step 4.3: at most maxFragmentLength bytes.
        if get > MAX_FRAGMENT_LENGTH as u64 {
            return Err(StatusCode::InvalidLength);
        }
        // Step 4.4: the offset must be within the array.
        let array = self.large_blob_array();
        if offset > array.len() as u64 {
            return Err(StatusCode::InvalidParameter);
        }
        // Step 4.5: up to `get` bytes from offset.
        let start = offset as usize;
        let end = start.saturating_add(get as usize).min(array.len());
        Ok(Response {
            config: array[start..end].to_vec(),
        })
    }

    /// Step 5: `set`.
    fn large_blobs_set(&mut self, request: Request, offset: u64) -> Result<(), StatusCode> {
        let fragment = request.set.unwrap_or_default();
        // Step 5.1: at most maxFragmentLength bytes.
        if fragment.len() > MAX_FRAGMENT_LENGTH {
            return Err(StatusCode::InvalidLength);
        }
        if offset == 0 {
            // Step 5.2: the first fragment states the total length.
            let length = request.length.ok_or(StatusCode::InvalidParameter)?;
            if length > MAX_SERIALIZED_LARGE_BLOB_ARRAY as u64 {
                return Err(StatusCode::LargeBlobStorageFull);
            }
            // An array is at least its 16-byte checksum and one byte of CBOR.
            if length < 17 {
                return Err(StatusCode::InvalidParameter);
            }
            self.large_blob_write = Some(PendingWrite {
                expected_length: length as usize,
                buffer: Vec::new(),
            });
        } else if request.length.is_some() {
            // Step 5.3: later fragments carry no length.
            return Err(StatusCode::InvalidParameter);
        }
        // Step 5.4: the fragment must continue where the last one ended.
        let expected_next = self
            .large_blob_write
            .as_ref()
            .map_or(0, |w| w.buffer.len() as u64);
        if offset != expected_next || self.large_blob_write.is_none() {
            return Err(StatusCode::InvalidSeq);
        }
        // Step 5.5: with a PIN or built-in UV (or alwaysUv), a token with `lbw` must
        // authenticate 32×0xff ‖ h'0c00' ‖ uint32LE(offset) ‖ SHA-256(fragment).
        let state = self.store.device_state();
        if state.pin_set() || self.user.uv_capable() || state.always_uv {
            let param = request
                .pin_uv_auth_param
                .as_deref()
                .ok_or(StatusCode::PuatRequired)?;
            let protocol = request
                .pin_uv_auth_protocol
                .ok_or(StatusCode::MissingParameter)?;
            let protocol =
                PinProtocol::from_number(protocol).ok_or(StatusCode::InvalidParameter)?;
            let offset32 = u32::try_from(offset).map_err(|_| StatusCode::InvalidParameter)?;
            self.verify_pin_uv_auth(
                protocol,
                &lb::auth_message(offset32, &fragment),
                param,
                PERMISSION_LBW,
                None,
            )?;
        }
        let write = self
            .large_blob_write
            .as_mut()
            .ok_or(StatusCode::InvalidSeq)?;
        // Step 5.6: not past the announced length.
        if offset as usize + fragment.len() > write.expected_length {
            return Err(StatusCode::InvalidParameter);
        }
        // Steps 5.7–5.9: append.
        write.buffer.extend_from_slice(&fragment);
        if write.buffer.len() < write.expected_length {
            return Ok(());
        }
        // Step 5.10: complete: check the checksum, then commit.
        let Some(write) = self.large_blob_write.take() else {
            return Err(StatusCode::InvalidSeq);
        };
        if !lb::checksum_valid(&write.buffer) {
            return Err(StatusCode::IntegrityFailure);
        }
        let mut state = self.store.device_state();
        state.large_blob_array = (write.buffer != lb::initial_array()).then_some(write.buffer);
        self.save_state(state)
    }
}
