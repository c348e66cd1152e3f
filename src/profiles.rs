//! Provider profiles: named bundles of what an emulated passkey provider is (the authenticator's
//! [`Config`]) and how the client in front of it reports itself (its attachment).
//!
//! Every front end (CLI, HTTP server, fixture generator, CTAPHID) selects a profile by name
//! through [`find`]; [`builtin`] lists them in a stable order.

use crate::client::Attachment;
use crate::store::CredentialStore;
use crate::{Authenticator, Client, Config};

/// One emulated passkey provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The name used on the command line and in the HTTP API (`fauxkey`, `bitwarden`, …).
    pub name: String,
    /// One line saying what it emulates.
    pub description: String,
    /// The authenticator's behaviour.
    pub config: Config,
    /// `authenticatorAttachment` the client reports.
    pub attachment: Attachment,
}

impl Profile {
    /// An authenticator with this profile's config over `store`.
    pub fn authenticator<S: CredentialStore>(&self, store: S) -> Authenticator<S> {
        Authenticator::new(self.config.clone(), store)
    }

    /// A client (with this profile's attachment) in front of `authenticator`.
    pub fn client<S: CredentialStore>(&self, authenticator: Authenticator<S>) -> Client<S> {
        Client::new(authenticator).with_attachment(self.attachment)
    }
}

/// The profile names [`find`] knows, in listing order.
pub fn names() -> Vec<String> {
    builtin().into_iter().map(|p| p.name).collect()
}

/// Every built-in profile, `fauxkey` first.
pub fn builtin() -> Vec<Profile> {
    vec![Profile {
        name: "fauxkey".into(),
        description: "fauxkey's own provider: its own AAGUID, synced-passkey flags (BE=BS=1), \
                      per-credential counters, an account chooser"
            .into(),
        config: Config {
            account_chooser: true,
            ..Config::default()
        },
        attachment: Attachment::Platform,
    }]
}

/// No profile has this name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {name:?}; available profiles: {}", available.join(", "))]
pub struct UnknownProfile {
    /// The name asked for.
    pub name: String,
    /// The names that exist.
    pub available: Vec<String>,
}

/// The built-in profile called `name`.
pub fn find(name: &str) -> Result<Profile, UnknownProfile> {
    builtin()
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| UnknownProfile {
            name: name.to_owned(),
            available: names(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fauxkey_is_first_and_found() {
        assert_eq!(builtin()[0].name, "fauxkey");
        assert_eq!(
            find("fauxkey").map(|p| p.config.aaguid),
            Ok(crate::FAUXKEY_AAGUID)
        );
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = find("nope")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("unknown profile \"nope\"; available profiles: fauxkey"),
            "{err}"
        );
    }

    #[test]
    fn names_are_unique() {
        let mut names = names();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
