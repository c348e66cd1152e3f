//! The `fauxkey` command line (a thin front end over the library).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// fauxkey: a software passkey provider for relying-party developers.
#[derive(Debug, Parser)]
#[command(name = "fauxkey", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the authenticator's getInfo: AAGUID, versions, algorithms, extensions, options.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print getClientCapabilities() of the emulated client.
    Capabilities {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let client = fauxkey::Client::in_memory();
    match cli.command {
        Command::Info { json } => {
            let info = client.authenticator().get_info();
            let algorithms: Vec<&str> = info
                .algorithms
                .iter()
                .filter_map(|a| {
                    fauxkey::crypto::keys::Algorithm::from_cose_id(*a).map(|a| a.name())
                })
                .collect();
            let aaguid = uuid::Uuid::from_bytes(info.aaguid).to_string();
            if json {
                let value = serde_json::json!({
                    "aaguid": aaguid,
                    "versions": info.versions,
                    "extensions": info.extensions,
                    "algorithms": algorithms,
                    "options": info.options.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
                    "maxMsgSize": info.max_msg_size,
                    "transports": info.transports,
                });
                println!("{value:#}");
            } else {
                println!("aaguid      {aaguid}");
                println!("versions    {}", info.versions.join(", "));
                println!("algorithms  {}", algorithms.join(", "));
                println!("extensions  {}", info.extensions.join(", "));
                let opts: Vec<String> = info
                    .options
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                println!("options     {}", opts.join(", "));
                println!("transports  {}", info.transports.join(", "));
            }
        }
        Command::Capabilities { json } => {
            let caps = client.capabilities();
            if json {
                println!("{:#}", serde_json::json!(caps));
            } else {
                for (k, v) in caps {
                    println!("{k:<36} {v}");
                }
            }
        }
    }
    ExitCode::SUCCESS
}
