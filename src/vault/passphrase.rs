//! The vault passphrase and where it comes from: `FAUXKEY_PASSPHRASE`, `FAUXKEY_PASSPHRASE_FILE`
//! (exactly one of them), else a prompt on a TTY, else a clear error. Never from argv.

use std::io::IsTerminal as _;

use zeroize::Zeroizing;

use super::VaultError;

/// Environment variable holding the passphrase itself.
pub const ENV_PASSPHRASE: &str = "FAUXKEY_PASSPHRASE";
/// Environment variable naming a file whose content (one trailing newline removed) is the
/// passphrase.
pub const ENV_PASSPHRASE_FILE: &str = "FAUXKEY_PASSPHRASE_FILE";

/// A vault passphrase. Wiped on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

impl Passphrase {
    /// A passphrase from text; the empty passphrase is refused.
    pub fn new(text: impl Into<String>) -> Result<Self, VaultError> {
        let text = Zeroizing::new(text.into());
        if text.is_empty() {
            return Err(VaultError::Passphrase(
                "the vault passphrase must not be empty".into(),
            ));
        }
        Ok(Self(text))
    }

    /// The passphrase's text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads the passphrase from the environment, or prompts on a TTY with `prompt`.
    pub fn from_environment(prompt: &str) -> Result<Self, VaultError> {
        Self::from_sources(
            std::env::var(ENV_PASSPHRASE).ok().map(Zeroizing::new),
            std::env::var_os(ENV_PASSPHRASE_FILE),
            prompt,
        )
    }

    fn from_sources(
        direct: Option<Zeroizing<String>>,
        file: Option<std::ffi::OsString>,
        prompt: &str,
    ) -> Result<Self, VaultError> {
        match (direct, file) {
            (Some(_), Some(_)) => Err(VaultError::Passphrase(format!(
                "both {ENV_PASSPHRASE} and {ENV_PASSPHRASE_FILE} are set; set exactly one"
            ))),
            (Some(text), None) => Self::new(text.as_str()),
            (None, Some(path)) => {
                let content = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                    VaultError::Passphrase(format!(
                        "cannot read {ENV_PASSPHRASE_FILE} ({}): {e}",
                        std::path::Path::new(&path).display()
                    ))
                })?);
                let text = content.strip_suffix('\n').unwrap_or(&content);
                let text = text.strip_suffix('\r').unwrap_or(text);
                Self::new(text)
            }
            (None, None) if std::io::stdin().is_terminal() => {
                let text = Zeroizing::new(
                    rpassword::prompt_password(prompt)
                        .map_err(|e| VaultError::Passphrase(format!("cannot read the passphrase: {e}")))?,
                );
                Self::new(text.as_str())
            }
            (None, None) => Err(VaultError::Passphrase(format!(
                "no vault passphrase: set {ENV_PASSPHRASE} or {ENV_PASSPHRASE_FILE}, or run on a terminal"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_exclusive_and_files_lose_one_newline() {
        let both = Passphrase::from_sources(Some(Zeroizing::new("a".into())), Some("f".into()), "");
        assert!(matches!(both, Err(VaultError::Passphrase(m)) if m.contains("exactly one")));
        let dir = std::env::temp_dir().join(format!("fauxkey-pp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("pp");
        std::fs::write(&file, "correct horse\n\n").expect("write");
        let p = Passphrase::from_sources(None, Some(file.clone().into()), "").expect("file");
        assert_eq!(
            p.expose(),
            "correct horse\n",
            "only one trailing newline is removed"
        );
        std::fs::write(&file, "").expect("write");
        assert!(
            Passphrase::from_sources(None, Some(file.into()), "").is_err(),
            "empty refused"
        );
        assert_eq!(format!("{p:?}"), "Passphrase(<redacted>)");
        let _ = std::fs::remove_dir_all(dir);
    }
}
