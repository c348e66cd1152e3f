//! `fauxkey pin set|change|clear|status`: the emulated key's owner manages its CTAP PIN in the
//! vault. PINs are read from stdin, one per line, never from the command line.

use std::io::BufRead as _;
use std::path::Path;

use clap::Subcommand;
use fauxkey::authenticator::pin;
use fauxkey::store::DeviceState;
use zeroize::Zeroizing;

use super::{open, CliError, Result};

/// The `pin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Set the PIN of a key that has none (the new PIN is read from stdin).
    Set,
    /// Change the PIN (stdin: the current PIN, then the new one, one per line).
    Change,
    /// Remove the PIN (the credentials stay; retries and forcePINChange are reset).
    Clear,
    /// Show whether a PIN is set, its retries and the PIN policy.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `fauxkey pin …`.
pub fn run(path: &Path, command: PinCommand) -> Result<()> {
    let mut vault = open(path)?;
    match command {
        PinCommand::Set => {
            let new = read_pins(1)?;
            change(&mut vault, |s| pin::set_pin(s, &new[0]))?;
            eprintln!("PIN set");
        }
        PinCommand::Change => {
            let pins = read_pins(2)?;
            change(&mut vault, |s| pin::change_pin(s, &pins[0], &pins[1]))?;
            eprintln!("PIN changed");
        }
        PinCommand::Clear => {
            change(&mut vault, |s| {
                s.clear_pin();
                Ok(())
            })?;
            eprintln!("PIN cleared");
        }
        PinCommand::Status { json } => {
            let s = vault.extras().device.clone();
            if json {
                super::print_json(&s.status_json())?;
            } else {
                outln!("PIN set: {}", if s.pin_set() { "yes" } else { "no" })?;
                outln!("PIN retries: {}", s.pin_retries)?;
                outln!("minimum PIN length: {}", s.min_pin_length)?;
                outln!("force PIN change: {}", s.force_pin_change)?;
                outln!("alwaysUv: {}", s.always_uv)?;
                outln!("enterprise attestation: {}", s.enterprise_attestation)?;
            }
        }
    }
    Ok(())
}

fn change(
    vault: &mut fauxkey::vault::Vault,
    edit: impl FnOnce(&mut DeviceState) -> std::result::Result<(), pin::PinAdminError>,
) -> Result<()> {
    vault
        .modify_settings(|_, extras| edit(&mut extras.device))?
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Reads `n` PINs from stdin, one per line (the line ending is not part of the PIN).
fn read_pins(n: usize) -> Result<Vec<Zeroizing<String>>> {
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    let mut pins = Vec::with_capacity(n);
    for i in 0..n {
        let mut line = Zeroizing::new(String::new());
        lock.read_line(&mut line)
            .map_err(|e| CliError::Other(format!("reading the PIN from stdin: {e}")))?;
        let pin = line.trim_end_matches(['\n', '\r']);
        if pin.is_empty() {
            return Err(CliError::Usage(format!(
                "expected {n} PIN line(s) on stdin, got {i}"
            )));
        }
        pins.push(Zeroizing::new(pin.to_owned()));
    }
    Ok(pins)
}
