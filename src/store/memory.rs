//! An in-memory [`CredentialStore`], indexed by credential id and by RP ID.

use std::collections::HashMap;

use super::{Credential, CredentialStore, StoreError};

/// Credentials in memory; nothing survives the process.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    by_id: HashMap<Vec<u8>, Credential>,
    by_rp: HashMap<String, Vec<Vec<u8>>>,
    capacity: Option<usize>,
}

impl MemoryStore {
    /// An empty, unbounded store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that refuses more than `capacity` credentials (`KEY_STORE_FULL`).
    pub fn with_capacity_limit(capacity: usize) -> Self {
        Self { capacity: Some(capacity), ..Self::default() }
    }

    fn unindex(&mut self, rp_id: &str, id: &[u8]) {
        if let Some(ids) = self.by_rp.get_mut(rp_id) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                self.by_rp.remove(rp_id);
            }
        }
    }
}

impl CredentialStore for MemoryStore {
    fn get(&self, id: &[u8]) -> Option<&Credential> {
        self.by_id.get(id)
    }

    fn update(&mut self, id: &[u8], update: &mut dyn FnMut(&mut Credential)) -> Result<bool, StoreError> {
        let Some(c) = self.by_id.get_mut(id) else { return Ok(false) };
        let old_rp = c.rp_id.clone();
        update(c);
        // The id is the key: an update may not change it. A changed rp_id is re-indexed.
        c.id = id.to_vec();
        if c.rp_id != old_rp {
            let new_rp = c.rp_id.clone();
            self.unindex(&old_rp, id);
            self.by_rp.entry(new_rp).or_default().push(id.to_vec());
        }
        Ok(true)
    }

    fn ids_for_rp(&self, rp_id: &str) -> Vec<Vec<u8>> {
        self.by_rp.get(rp_id).cloned().unwrap_or_default()
    }

    fn insert(&mut self, credential: Credential) -> Result<(), StoreError> {
        if let Some(old) = self.by_id.get(&credential.id) {
            let (rp, id) = (old.rp_id.clone(), old.id.clone());
            self.unindex(&rp, &id);
            self.by_id.remove(&id);
        } else if self.capacity.is_some_and(|cap| self.by_id.len() >= cap) {
            return Err(StoreError::Full);
        }
        self.by_rp.entry(credential.rp_id.clone()).or_default().push(credential.id.clone());
        self.by_id.insert(credential.id.clone(), credential);
        Ok(())
    }

    fn remove(&mut self, id: &[u8]) -> Result<Option<Credential>, StoreError> {
        let removed = self.by_id.remove(id);
        if let Some(c) = &removed {
            let rp = c.rp_id.clone();
            self.unindex(&rp, id);
        }
        Ok(removed)
    }

    fn all(&self) -> Box<dyn Iterator<Item = &Credential> + '_> {
        Box::new(self.by_id.values())
    }

    fn len(&self) -> usize {
        self.by_id.len()
    }
}
