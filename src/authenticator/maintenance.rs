//! `authenticatorSelection` (CTAP 2.1 §6.9) and `authenticatorReset` (§6.6): the commands a
//! platform sends to pick this authenticator, or to wipe it.

use super::pin_uv_token::PinUvState;
use super::Authenticator;
use crate::ctap2::StatusCode;
use crate::env::Presence;
use crate::store::{Change, CredentialStore, Event, EventKind};

impl<S: CredentialStore> Authenticator<S> {
    /// `authenticatorSelection`: succeeds once the user touches the authenticator.
    pub fn selection(&mut self) -> Result<(), StatusCode> {
        match self.user.presence("") {
            Presence::Approve => Ok(()),
            Presence::Deny => Err(StatusCode::OperationDenied),
        }
    }

    /// `authenticatorReset`: after the user's touch, deletes every credential this
    /// authenticator holds and forgets its pinUvAuthToken and key agreement key. The deletion is
    /// logged as one `reset` event. (A real key refuses a reset later than 10 s after power-up;
    /// an emulated one has no power-up, so fauxkey only asks for the touch.)
    pub fn reset(&mut self) -> Result<(), StatusCode> {
        self.pending = None;
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        if self.user.presence("") == Presence::Deny {
            return Err(StatusCode::OperationDenied);
        }
        let mut ids: Vec<Vec<u8>> = self.store.all().map(|c| c.id.clone()).collect();
        ids.sort();
        let changes: Vec<Change> = ids
            .iter()
            .map(|id| Change::Remove { id: id.clone() })
            .collect();
        let now = self.clock.now_ms();
        let event = Event {
            time_ms: now,
            kind: EventKind::Reset,
            rp_id: String::new(),
            user_id: None,
            credential_ids: Vec::new(),
            changes,
        };
        self.store
            .apply(&event.changes, event.clone(), now)
            .map_err(|e| self.store_failed(e))?;
        // The PIN and the authenticatorConfig settings go too (CTAP 2.1 §6.6).
        self.save_state(crate::store::DeviceState::default())?;
        self.pin_uv = PinUvState::default();
        self.key_agreement = None;
        self.large_blob_write = None;
        Ok(())
    }
}
