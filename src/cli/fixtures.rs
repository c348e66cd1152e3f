//! `fauxkey fixtures`: generate a deterministic corpus of golden and broken WebAuthn responses
//! into a directory (the library's [`fauxkey::fixtures`] does the work).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use clap::Args;
use fauxkey::crypto::keys::Algorithm;
use fauxkey::fixtures::{self, FixtureError, FixtureOptions, Verdict};
use fauxkey::profiles;

use super::{CliError, Result};
use crate::AlgArg;

/// Arguments of `fixtures`.
#[derive(Debug, Args)]
pub struct FixturesArgs {
    /// The directory to write (created if missing; must be empty unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Everything random derives from this; the same seed gives a byte-identical tree.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// The RP ID the options name.
    #[arg(long, value_name = "ID", default_value = "example.com")]
    pub rp_id: String,
    /// The origin the ceremonies run from [default: https://RP_ID].
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// A provider profile to emulate (repeat, or separate with commas) [default: fauxkey].
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        conflicts_with = "all_profiles"
    )]
    pub profile: Vec<String>,
    /// Every built-in profile.
    #[arg(long)]
    pub all_profiles: bool,
    /// Credential algorithms, comma-separated [default: es256,eddsa].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ALG,...")]
    pub alg: Vec<AlgArg>,
    /// Add the broken cases (each wrong in one way, with the verdict a correct RP reaches).
    #[arg(long)]
    pub negative: bool,
    /// Accounts per profile × algorithm × attestation (for large corpora).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub users: u32,
    /// Replace a corpus fauxkey wrote before: its manifest.json, README.md, attestation-root.pem and cases/ are
    /// removed first. Other files in DIR are never touched (their presence is an error).
    #[arg(long)]
    pub force: bool,
}

/// Runs `fauxkey fixtures`.
pub fn run(args: FixturesArgs) -> Result<()> {
    let mut selected = if args.all_profiles {
        profiles::builtin()
    } else if args.profile.is_empty() {
        profiles::builtin().into_iter().take(1).collect()
    } else {
        args.profile
            .iter()
            .map(|name| profiles::find(name).map_err(|e| CliError::Usage(e.to_string())))
            .collect::<Result<Vec<_>>>()?
    };
    let mut seen = std::collections::BTreeSet::new();
    selected.retain(|p| seen.insert(p.name.clone()));
    let mut algorithms: Vec<Algorithm> = args.alg.iter().map(|a| a.algorithm()).collect();
    let mut seen = std::collections::BTreeSet::new();
    algorithms.retain(|a| seen.insert(*a));
    if algorithms.is_empty() {
        algorithms = Algorithm::DEFAULT.to_vec();
    }
    let options = FixtureOptions {
        seed: args.seed,
        origin: args
            .origin
            .clone()
            .unwrap_or_else(|| format!("https://{}", args.rp_id)),
        rp_id: args.rp_id.clone(),
        profiles: selected,
        algorithms,
        negative: args.negative,
        users: args.users,
    };

    // Refuse before the (possibly long) generation; delete nothing until it succeeded.
    let replace = check_out_dir(&args.out, args.force)?;
    let bar = progress_bar();
    let corpus = fixtures::generate_with_progress(&options, &mut |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })
    .map_err(fixture_error)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if replace {
        remove_old_corpus(&args.out)?;
    }
    corpus.write_to(&args.out).map_err(fixture_error)?;

    let cases = &corpus.manifest().cases;
    let accept = cases
        .iter()
        .filter(|c| c.verdict == Verdict::Accept)
        .count();
    eprintln!(
        "wrote {} cases ({accept} accept, {} reject) to {}; see {}",
        cases.len(),
        cases.len() - accept,
        args.out.display(),
        args.out.join("README.md").display()
    );
    Ok(())
}

fn fixture_error(e: FixtureError) -> CliError {
    match e {
        FixtureError::Origin { .. } | FixtureError::Invalid(_) => CliError::Usage(e.to_string()),
        _ => CliError::Other(e.to_string()),
    }
}

/// A progress bar on stderr when it is a terminal; none otherwise.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} groups {elapsed_precise}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// The names a corpus consists of at its top level.
const CORPUS_ENTRIES: [&str; 4] = [
    "README.md",
    "attestation-root.pem",
    "cases",
    "manifest.json",
];

/// Ok(false): DIR is missing or empty. Ok(true): DIR holds a previous corpus and --force allows
/// replacing it. Otherwise an error saying what to do.
fn check_out_dir(dir: &Path, force: bool) -> Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(CliError::Other(format!("{}: {e}", dir.display()))),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(false);
    }
    if !force {
        return Err(CliError::Other(format!(
            "{} is not empty; choose an empty or new directory, or pass --force to replace a \
             corpus fauxkey wrote there",
            dir.display()
        )));
    }
    let foreign: Vec<&String> = names
        .iter()
        .filter(|n| !CORPUS_ENTRIES.contains(&n.as_str()))
        .collect();
    let manifest = std::fs::read(dir.join("manifest.json")).unwrap_or_default();
    let ours = serde_json::from_slice::<serde_json::Value>(&manifest)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_owned))
        .is_some_and(|f| f.starts_with("fauxkey-fixtures/"));
    if !foreign.is_empty() || !ours {
        let what = if foreign.is_empty() {
            "it has no fauxkey manifest.json".to_owned()
        } else {
            format!(
                "it holds files fauxkey did not write: {}",
                foreign
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(CliError::Other(format!(
            "{}: --force only replaces a fixture corpus, and {what}; nothing was changed",
            dir.display()
        )));
    }
    Ok(true)
}

fn remove_old_corpus(dir: &Path) -> Result<()> {
    let fail = |p: &Path, e: std::io::Error| CliError::Other(format!("{}: {e}", p.display()));
    for name in CORPUS_ENTRIES {
        let path = dir.join(name);
        let result = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else if path.exists() {
            std::fs::remove_file(&path)
        } else {
            Ok(())
        };
        result.map_err(|e| fail(&path, e))?;
    }
    Ok(())
}
