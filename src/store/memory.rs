//! An in-memory [`CredentialStore`], indexed by credential id and by (RP ID, user handle).

use std::collections::HashMap as StdHashMap;

/// The store's maps hash with foldhash (seeded per process, as std's `RandomState` is): a
/// makeCredential hashes a credential id, an RP ID and a user handle a dozen times, and std's
/// SipHash made that a few percent of an ES256 makeCredential with a fast signer.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;

use super::{Change, Credential, CredentialStore, Event, StoreError, MAX_EVENTS};

/// Credentials in memory; nothing survives the process.
///
/// Entries are boxed so that the id table stays small (a few words per credential) however
/// large a credential is; the (RP ID → user handle → ids) index makes the discoverable
/// replacement of makeCredential independent of how many credentials an RP has.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    by_id: HashMap<Vec<u8>, Box<Credential>>,
    by_rp: HashMap<String, HashMap<Vec<u8>, Vec<Vec<u8>>>>,
    capacity: Option<usize>,
    /// The largest `sequence` ever inserted (kept when that credential is removed, so a new one
    /// never reuses a number).
    max_sequence: u64,
    events: Vec<Event>,
    /// Boxed: the device state (with its large-blob array) would otherwise make every store,
    /// and the server's store enum, much larger.
    device: Box<super::DeviceState>,
}

impl MemoryStore {
    /// An empty, unbounded store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty, unbounded store with room for `n` credentials before it reallocates.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            by_id: HashMap::with_capacity_and_hasher(n, Default::default()),
            ..Self::default()
        }
    }

    /// An empty store that refuses more than `capacity` credentials (`KEY_STORE_FULL`).
    pub fn with_capacity_limit(capacity: usize) -> Self {
        Self {
            capacity: Some(capacity),
            ..Self::default()
        }
    }

    /// Appends to the event log, dropping the oldest beyond [`MAX_EVENTS`].
    pub fn push_event(&mut self, event: Event) {
        self.events.push(event);
        if self.events.len() > MAX_EVENTS {
            let excess = self.events.len() - MAX_EVENTS;
            self.events.drain(..excess);
        }
    }

    fn index(&mut self, c: &Credential) {
        // Look up before inserting, so an existing RP or user costs no allocation; a user's id
        // list starts with room for one (most accounts have one passkey per RP).
        if !self.by_rp.contains_key(&c.rp_id) {
            self.by_rp.insert(c.rp_id.clone(), HashMap::default());
        }
        let Some(users) = self.by_rp.get_mut(&c.rp_id) else {
            return;
        };
        match users.get_mut(&c.user_handle) {
            Some(ids) => ids.push(c.id.clone()),
            None => {
                // `vec![x]` allocates exactly one slot.
                users.insert(c.user_handle.clone(), vec![c.id.clone()]);
            }
        }
    }

    fn unindex(&mut self, rp_id: &str, user_handle: &[u8], id: &[u8]) {
        let Some(users) = self.by_rp.get_mut(rp_id) else {
            return;
        };
        if let Some(ids) = users.get_mut(user_handle) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                users.remove(user_handle);
            }
        }
        if users.is_empty() {
            self.by_rp.remove(rp_id);
        }
    }
}

impl CredentialStore for MemoryStore {
    fn device_state(&self) -> super::DeviceState {
        (*self.device).clone()
    }

    fn set_device_state(&mut self, state: super::DeviceState) -> Result<(), StoreError> {
        *self.device = state;
        Ok(())
    }

    fn get(&self, id: &[u8]) -> Option<&Credential> {
        self.by_id.get(id).map(|c| &**c)
    }

    fn update(
        &mut self,
        id: &[u8],
        update: &mut dyn FnMut(&mut Credential),
    ) -> Result<bool, StoreError> {
        let Some(c) = self.by_id.get_mut(id) else {
            return Ok(false);
        };
        let (old_rp, old_user) = (c.rp_id.clone(), c.user_handle.clone());
        update(c);
        // The id is the key: an update may not change it. A changed rp or user is re-indexed.
        c.id = id.to_vec();
        if c.rp_id != old_rp || c.user_handle != old_user {
            let moved = (**c).clone();
            self.unindex(&old_rp, &old_user, id);
            self.index(&moved);
        }
        Ok(true)
    }

    fn ids_for_rp(&self, rp_id: &str) -> Vec<Vec<u8>> {
        self.by_rp
            .get(rp_id)
            .map(|users| users.values().flatten().cloned().collect())
            .unwrap_or_default()
    }

    fn ids_for_user(&self, rp_id: &str, user_handle: &[u8]) -> Vec<Vec<u8>> {
        self.by_rp
            .get(rp_id)
            .and_then(|users| users.get(user_handle))
            .cloned()
            .unwrap_or_default()
    }

    fn insert(&mut self, credential: Credential) -> Result<(), StoreError> {
        if let Some(old) = self.by_id.remove(&credential.id) {
            self.unindex(&old.rp_id, &old.user_handle, &old.id);
        } else if self.capacity.is_some_and(|cap| self.by_id.len() >= cap) {
            return Err(StoreError::Full);
        }
        self.index(&credential);
        self.max_sequence = self.max_sequence.max(credential.sequence);
        self.by_id
            .insert(credential.id.clone(), Box::new(credential));
        Ok(())
    }

    fn remove(&mut self, id: &[u8]) -> Result<Option<Credential>, StoreError> {
        let removed = self.by_id.remove(id);
        if let Some(c) = &removed {
            self.unindex(&c.rp_id, &c.user_handle, id);
        }
        Ok(removed.map(|c| *c))
    }

    fn all(&self) -> Box<dyn Iterator<Item = &Credential> + '_> {
        Box::new(self.by_id.values().map(|c| &**c))
    }

    fn len(&self) -> usize {
        self.by_id.len()
    }

    fn capacity(&self) -> Option<usize> {
        self.capacity
    }

    fn max_sequence(&self) -> u64 {
        self.max_sequence
    }

    fn events(&self) -> Vec<Event> {
        self.events.clone()
    }

    fn apply(&mut self, changes: &[Change], event: Event, now_ms: u64) -> Result<(), StoreError> {
        for change in changes {
            match change {
                Change::Hide { id } => {
                    self.update(id, &mut |c| {
                        if !c.hidden {
                            c.hidden = true;
                            c.hidden_at_ms = Some(now_ms);
                        }
                    })?;
                }
                Change::Unhide { id } => {
                    self.update(id, &mut |c| {
                        c.hidden = false;
                        c.hidden_at_ms = None;
                    })?;
                }
                Change::Rename {
                    id,
                    name,
                    display_name,
                } => {
                    self.update(id, &mut |c| {
                        c.user_name = Some(name.clone());
                        c.user_display_name = Some(display_name.clone());
                    })?;
                }
                Change::Remove { id } => {
                    self.remove(id)?;
                }
            }
        }
        self.push_event(event);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{Algorithm, PrivateKey};
    use rand_core::SeedableRng;

    fn credential(id: u8, rp: &str, user: &[u8]) -> Credential {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(id));
        Credential {
            id: vec![id; 16],
            rp_id: rp.into(),
            rp_name: None,
            user_handle: user.to_vec(),
            user_name: None,
            user_display_name: None,
            key: PrivateKey::generate(Algorithm::EdDsa, &mut rng),
            discoverable: true,
            sign_count: 0,
            backup_eligible: false,
            backup_state: false,
            created_ms: 0,
            last_used_ms: None,
            hidden: false,
            hidden_at_ms: None,
            cred_protect: Default::default(),
            cred_random: None,
            large_blob_key: None,
            cred_blob: None,
            sequence: u64::from(id),
            u2f_app_param: None,
        }
    }

    #[test]
    fn indexes_follow_inserts_updates_and_removals() {
        let mut s = MemoryStore::new();
        s.insert(credential(1, "a.example", b"u1")).expect("insert");
        s.insert(credential(2, "a.example", b"u1")).expect("insert");
        s.insert(credential(3, "b.example", b"u1")).expect("insert");
        assert_eq!(s.ids_for_user("a.example", b"u1").len(), 2);
        assert_eq!(s.ids_for_rp("b.example"), vec![vec![3u8; 16]]);
        s.update(&[3; 16], &mut |c| c.rp_id = "a.example".into())
            .expect("update");
        assert!(s.ids_for_rp("b.example").is_empty());
        assert_eq!(s.ids_for_user("a.example", b"u1").len(), 3);
        s.update(&[1; 16], &mut |c| c.user_handle = b"u2".to_vec())
            .expect("update");
        assert_eq!(s.ids_for_user("a.example", b"u2"), vec![vec![1u8; 16]]);
        s.remove(&[2; 16]).expect("remove");
        assert_eq!(s.ids_for_user("a.example", b"u1"), vec![vec![3u8; 16]]);
        assert_eq!(s.len(), 2);
        // Re-inserting an id replaces it everywhere.
        s.insert(credential(3, "c.example", b"u9")).expect("insert");
        assert!(s.ids_for_user("a.example", b"u1").is_empty());
        assert_eq!(s.len(), 2);
        // The largest sequence ever inserted stays, even after its credential is removed.
        assert_eq!(s.max_sequence(), 3);
        s.remove(&[3; 16]).expect("remove");
        assert_eq!(s.max_sequence(), 3);
        let mut full = MemoryStore::with_capacity_limit(1);
        full.insert(credential(1, "a", b"u")).expect("first fits");
        assert!(matches!(
            full.insert(credential(2, "a", b"u")),
            Err(StoreError::Full)
        ));
    }
}
