//! Printing for humans: the passkey table, details, getInfo. Colours only on a TTY and never
//! with `NO_COLOR`.

use std::io::IsTerminal as _;

use fauxkey::b64url;
use fauxkey::crypto::keys::Algorithm;
use fauxkey::ctap2::get_info;
use fauxkey::store::{rfc3339, Credential};

use super::Result;

fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn bold(s: &str) -> String {
    if colour() {
        format!("\x1b[1m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

fn dim(s: &str) -> String {
    if colour() {
        format!("\x1b[2m{s}\x1b[0m")
    } else {
        s.to_owned()
    }
}

/// Text from outside (an RP's `user.name`, `rp.name`, …) made safe for a terminal: control
/// characters (ESC, CR, LF, BEL, C1 controls, …) and bidirectional overrides are shown as
/// visible escapes (`\u{1b}`, `\n`), so they cannot move the cursor, clear the screen, set a
/// title or reorder the line. JSON output does not use this: it is already escaped by JSON.
pub fn clean(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_debug());
            if c.escape_debug().len() == 1 {
                // escape_debug leaves bidi overrides as they are: spell them out.
                out.pop();
                out.push_str(&c.escape_unicode().to_string());
            }
        } else {
            out.push(c);
        }
    }
    out.into()
}

fn short_time(ms: u64) -> String {
    // "2026-11-21 13:40" (UTC) from the RFC 3339 form.
    let t = rfc3339(ms);
    format!("{} {}", &t[..10], &t[11..16])
}

/// The passkey table: rp, user, created, last used, counter, hidden, id prefix.
pub fn table(list: &[&Credential]) -> Result<()> {
    if list.is_empty() {
        eprintln!("no passkeys (use --all to include hidden ones)");
        return Ok(());
    }
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|c| {
            [
                clean(&c.rp_id).into_owned(),
                c.user_name.as_deref().map_or_else(
                    || format!("({})", b64url::encode(&c.user_handle)),
                    |n| clean(n).into_owned(),
                ),
                short_time(c.created_ms),
                c.last_used_ms.map_or_else(|| "never".into(), short_time),
                c.sign_count.to_string(),
                if c.hidden { "yes".into() } else { "no".into() },
                b64url::encode(&c.id).chars().take(12).collect(),
            ]
        })
        .collect();
    let header = [
        "RP",
        "USER",
        "CREATED (UTC)",
        "LAST USED",
        "COUNTER",
        "HIDDEN",
        "ID",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    outln!("{}", bold(&line(&header.map(str::to_owned))))?;
    for (row, c) in rows.iter().zip(list) {
        let text = line(row);
        outln!("{}", if c.hidden { dim(&text) } else { text })?;
    }
    Ok(())
}

/// Everything `show --json` prints: the summary plus the public key.
pub fn details_json(c: &Credential) -> serde_json::Value {
    let mut v = serde_json::to_value(c.summary()).unwrap_or_default();
    if let Some(obj) = v.as_object_mut() {
        let public = c.key.public_key();
        obj.insert(
            "publicKey".into(),
            b64url::encode(&public.spki_der()).into(),
        );
        obj.insert(
            "publicKeyCose".into(),
            b64url::encode(&public.cose_bytes()).into(),
        );
    }
    v
}

/// `show` for humans.
pub fn details(c: &Credential) -> Result<()> {
    let v = details_json(c);
    if let Some(obj) = v.as_object() {
        for (k, value) in obj {
            let text = match value {
                serde_json::Value::String(s) => clean(s).into_owned(),
                serde_json::Value::Null => "-".into(),
                other => other.to_string(),
            };
            outln!("{:<16} {text}", bold(k))?;
        }
    }
    Ok(())
}

/// One event, for humans, on stderr.
pub fn event_line(e: &fauxkey::store::Event) {
    eprintln!("{}", event_text(e));
}

fn event_text(e: &fauxkey::store::Event) -> String {
    let j = e.to_json();
    let changes = if j.changes.is_empty() {
        "no change".to_owned()
    } else {
        j.changes
            .iter()
            .map(|c| {
                let id: String = c.credential_id.chars().take(12).collect();
                match (&c.name, &c.display_name) {
                    (Some(n), Some(d)) => {
                        format!("{} {id} → {} ({})", c.change, clean(n), clean(d))
                    }
                    _ => format!("{} {id}", c.change),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let rp = if j.rp_id.is_empty() {
        String::new()
    } else {
        format!(" {}", clean(&j.rp_id))
    };
    format!("{} {:?}{rp}: {changes}", j.time, j.signal)
}

/// The event log, one line each.
pub fn events(list: &[fauxkey::store::Event]) -> Result<()> {
    if list.is_empty() {
        eprintln!("no events");
    }
    for e in list {
        outln!("{}", event_text(e))?;
    }
    Ok(())
}

/// `info`: the getInfo response.
pub fn info(info: &get_info::Response, json: bool) -> Result<()> {
    let algorithms: Vec<&str> = info
        .algorithms
        .iter()
        .filter_map(|a| Algorithm::from_cose_id(*a).map(Algorithm::name))
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
            "pinUvAuthProtocols": info.pin_uv_auth_protocols,
            "transports": info.transports,
        });
        outln!("{value:#}")?;
    } else {
        outln!("{:<12} {aaguid}", bold("aaguid"))?;
        outln!("{:<12} {}", bold("versions"), info.versions.join(", "))?;
        outln!("{:<12} {}", bold("algorithms"), algorithms.join(", "))?;
        outln!("{:<12} {}", bold("extensions"), info.extensions.join(", "))?;
        let opts: Vec<String> = info
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        outln!("{:<12} {}", bold("options"), opts.join(", "))?;
        outln!("{:<12} {}", bold("transports"), info.transports.join(", "))?;
    }
    Ok(())
}
