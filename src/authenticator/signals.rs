//! The authenticator's side of the WebAuthn L3 signal API (§5.1.10–5.1.12): hide, un-hide and
//! rename credentials, log every signal, restore by hand, and purge hidden credentials whose
//! retention period has run out.

use super::Authenticator;
use crate::ctap2::StatusCode;
use crate::store::{Change, CredentialStore, Event, EventKind};

impl<S: CredentialStore> Authenticator<S> {
    pub(super) fn record(
        &mut self,
        kind: EventKind,
        rp_id: &str,
        user_id: Option<&[u8]>,
        credential_ids: Vec<Vec<u8>>,
        changes: Vec<Change>,
    ) -> Result<Event, StatusCode> {
        let event = Event {
            time_ms: self.clock.now_ms(),
            kind,
            rp_id: rp_id.to_owned(),
            user_id: user_id.map(<[u8]>::to_vec),
            credential_ids,
            changes,
        };
        self.store
            .apply(&event.changes, event.clone(), event.time_ms)
            .map_err(|e| self.store_failed(e))?;
        Ok(event)
    }

    /// `unknownCredentialId`: hide the credential of `rp_id` with this id (its key is kept).
    /// Logged even when nothing matches.
    pub fn signal_unknown_credential(
        &mut self,
        rp_id: &str,
        credential_id: &[u8],
    ) -> Result<Event, StatusCode> {
        self.purge_expired()?;
        let changes = match self.store.get(credential_id) {
            Some(c) if c.rp_id == rp_id && !c.hidden => vec![Change::Hide {
                id: credential_id.to_vec(),
            }],
            _ => Vec::new(),
        };
        self.record(
            EventKind::UnknownCredential,
            rp_id,
            None,
            vec![credential_id.to_vec()],
            changes,
        )
    }

    /// `allAcceptedCredentialIds`: every credential of (rpId, user) not in `accepted` is
    /// hidden; a hidden one that is in it is offered again. Ids compare as bytes. Other users
    /// and RPs are never touched.
    pub fn signal_all_accepted_credentials(
        &mut self,
        rp_id: &str,
        user_id: &[u8],
        accepted: &[Vec<u8>],
    ) -> Result<Event, StatusCode> {
        self.purge_expired()?;
        let mut ids = self.store.ids_for_user(rp_id, user_id);
        ids.sort();
        let mut changes = Vec::new();
        for id in ids {
            let Some(c) = self.store.get(&id) else {
                continue;
            };
            let listed = accepted.contains(&id);
            if !listed && !c.hidden {
                changes.push(Change::Hide { id });
            } else if listed && c.hidden {
                changes.push(Change::Unhide { id });
            }
        }
        self.record(
            EventKind::AllAcceptedCredentials,
            rp_id,
            Some(user_id),
            accepted.to_vec(),
            changes,
        )
    }

    /// `currentUserDetails`: every credential of (rpId, user) gets the new name and display name.
    pub fn signal_current_user_details(
        &mut self,
        rp_id: &str,
        user_id: &[u8],
        name: &str,
        display_name: &str,
    ) -> Result<Event, StatusCode> {
        self.purge_expired()?;
        let mut ids = self.store.ids_for_user(rp_id, user_id);
        ids.sort();
        let changes = ids
            .into_iter()
            .filter(|id| {
                self.store.get(id).is_some_and(|c| {
                    c.user_name.as_deref() != Some(name)
                        || c.user_display_name.as_deref() != Some(display_name)
                })
            })
            .map(|id| Change::Rename {
                id,
                name: name.to_owned(),
                display_name: display_name.to_owned(),
            })
            .collect();
        self.record(
            EventKind::CurrentUserDetails,
            rp_id,
            Some(user_id),
            Vec::new(),
            changes,
        )
    }

    /// Un-hides a credential by hand; false if there is no such credential.
    pub fn restore(&mut self, credential_id: &[u8]) -> Result<bool, StatusCode> {
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        let Some(c) = self.store.get(credential_id) else {
            return Ok(false);
        };
        let rp_id = c.rp_id.clone();
        let changes = if c.hidden {
            vec![Change::Unhide {
                id: credential_id.to_vec(),
            }]
        } else {
            Vec::new()
        };
        self.record(
            EventKind::Restore,
            &rp_id,
            None,
            vec![credential_id.to_vec()],
            changes,
        )?;
        Ok(true)
    }

    /// Deletes hidden credentials hidden for longer than the retention period; returns their ids.
    pub fn purge_expired(&mut self) -> Result<Vec<Vec<u8>>, StatusCode> {
        self.store.refresh().map_err(|e| self.store_failed(e))?;
        let now = self.clock.now_ms();
        let retention = self.config.hidden_retention_ms;
        let mut expired: Vec<Vec<u8>> = self
            .store
            .all()
            .filter(|c| {
                c.hidden
                    && c.hidden_at_ms
                        .is_some_and(|t| now.saturating_sub(t) >= retention)
            })
            .map(|c| c.id.clone())
            .collect();
        if expired.is_empty() {
            return Ok(expired);
        }
        expired.sort();
        let changes = expired
            .iter()
            .map(|id| Change::Remove { id: id.clone() })
            .collect();
        self.record(EventKind::Purge, "", None, Vec::new(), changes)?;
        Ok(expired)
    }

    /// The event log, oldest first.
    pub fn events(&self) -> Vec<Event> {
        self.store.events()
    }
}
