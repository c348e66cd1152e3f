//! The vault passphrase and where it comes from: `FAUXKEY_PASSPHRASE`, `FAUXKEY_PASSPHRASE_FILE`
//! (exactly one of them), else a prompt on the controlling terminal (`/dev/tty`, even when stdin
//! is a pipe), else a clear error. Never from argv.

use zeroize::Zeroizing;

use super::VaultError;

/// Environment variable holding the passphrase itself.
pub const ENV_PASSPHRASE: &str = "FAUXKEY_PASSPHRASE";
/// Environment variable naming a file whose content (one trailing newline removed) is the
/// passphrase.
pub const ENV_PASSPHRASE_FILE: &str = "FAUXKEY_PASSPHRASE_FILE";

/// Where a passphrase came from, so an error can name the source actually used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassphraseSource {
    /// Given by the program ([`Passphrase::new`]).
    Given,
    /// The environment variable of this name held it.
    Variable(String),
    /// The file named by the environment variable of this name held it.
    File(String),
    /// Typed at a prompt on the controlling terminal.
    Terminal,
}

/// A vault passphrase. Wiped on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>, PassphraseSource);

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
        Ok(Self(text, PassphraseSource::Given))
    }

    fn from(mut self, source: PassphraseSource) -> Self {
        self.1 = source;
        self
    }

    /// The passphrase's text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Where it came from.
    pub fn source(&self) -> &PassphraseSource {
        &self.1
    }

    /// Whether there is a controlling terminal to prompt on (`/dev/tty` opens), whatever stdin
    /// is: `curl … | fauxkey create --options -` still prompts.
    pub fn terminal_available() -> bool {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
    }

    /// One prompt on the controlling terminal.
    pub fn prompt(prompt: &str) -> Result<Self, VaultError> {
        if !Self::terminal_available() {
            return Err(VaultError::Passphrase(
                "no terminal to ask for the passphrase on".into(),
            ));
        }
        let text = Zeroizing::new(
            rpassword::prompt_password(prompt)
                .map_err(|e| VaultError::Passphrase(format!("cannot read the passphrase: {e}")))?,
        );
        Ok(Self::new(text.as_str())?.from(PassphraseSource::Terminal))
    }

    /// A new passphrase typed twice on the controlling terminal; the two must match.
    pub fn prompt_new(prompt: &str, again: &str) -> Result<Self, VaultError> {
        let first = Self::prompt(prompt)?;
        let second = Self::prompt(again)?;
        if first.expose() != second.expose() {
            return Err(VaultError::Passphrase(
                "the two passphrases typed differ; nothing was changed".into(),
            ));
        }
        Ok(first)
    }

    fn no_source() -> VaultError {
        VaultError::Passphrase(format!(
            "no vault passphrase: set {ENV_PASSPHRASE} or {ENV_PASSPHRASE_FILE}, or run on a terminal"
        ))
    }

    /// Reads the passphrase from the environment, or prompts on the controlling terminal with
    /// `prompt`.
    pub fn from_environment(prompt: &str) -> Result<Self, VaultError> {
        if let Some(p) = Self::from_env_vars(ENV_PASSPHRASE, ENV_PASSPHRASE_FILE)? {
            return Ok(p);
        }
        if !Self::terminal_available() {
            return Err(Self::no_source());
        }
        Self::prompt(prompt)
    }

    /// The passphrase for a new vault: from the environment, or typed twice on the controlling
    /// terminal (one typo must not lose the vault).
    pub fn new_from_environment(prompt: &str, again: &str) -> Result<Self, VaultError> {
        if let Some(p) = Self::from_env_vars(ENV_PASSPHRASE, ENV_PASSPHRASE_FILE)? {
            return Ok(p);
        }
        if !Self::terminal_available() {
            return Err(Self::no_source());
        }
        Self::prompt_new(prompt, again)
    }

    /// A passphrase from the variable `direct` (the text) or `file` (a file holding it, one
    /// trailing newline removed); `None` if neither is set, an error if both are. The CLI uses
    /// this for the vault passphrase and for `passwd`'s new one.
    pub fn from_env_vars(direct: &str, file: &str) -> Result<Option<Self>, VaultError> {
        Self::from_values(
            direct,
            std::env::var(direct).ok().map(Zeroizing::new),
            file,
            std::env::var_os(file),
        )
    }

    fn from_values(
        direct_name: &str,
        direct: Option<Zeroizing<String>>,
        file_name: &str,
        file: Option<std::ffi::OsString>,
    ) -> Result<Option<Self>, VaultError> {
        match (direct, file) {
            (Some(_), Some(_)) => Err(VaultError::Passphrase(format!(
                "both {direct_name} and {file_name} are set; set exactly one"
            ))),
            (Some(text), None) => Self::new(text.as_str())
                .map(|p| Some(p.from(PassphraseSource::Variable(direct_name.to_owned())))),
            (None, Some(path)) => {
                let content = Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
                    VaultError::Passphrase(format!(
                        "cannot read {file_name} ({}): {e}",
                        std::path::Path::new(&path).display()
                    ))
                })?);
                let text = content.strip_suffix('\n').unwrap_or(&content);
                let text = text.strip_suffix('\r').unwrap_or(text);
                Self::new(text).map(|p| Some(p.from(PassphraseSource::File(file_name.to_owned()))))
            }
            (None, None) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_exclusive_and_files_lose_one_newline() {
        let both =
            Passphrase::from_values("D", Some(Zeroizing::new("a".into())), "F", Some("f".into()));
        assert!(matches!(both, Err(VaultError::Passphrase(m)) if m.contains("exactly one")));
        let dir = std::env::temp_dir().join(format!("fauxkey-pp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("pp");
        std::fs::write(&file, "correct horse\n\n").expect("write");
        let p = Passphrase::from_values("D", None, "F", Some(file.clone().into()))
            .expect("file")
            .expect("set");
        assert_eq!(
            p.expose(),
            "correct horse\n",
            "only one trailing newline is removed"
        );
        std::fs::write(&file, "").expect("write");
        assert!(
            Passphrase::from_values("D", None, "F", Some(file.into())).is_err(),
            "empty refused"
        );
        assert_eq!(format!("{p:?}"), "Passphrase(<redacted>)");
        let _ = std::fs::remove_dir_all(dir);
    }
}
