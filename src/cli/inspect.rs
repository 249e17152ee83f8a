//! `parse FILE.eml [--json]`: what the worker would make of one message.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::{Cli, print_json};
use crate::config::Settings;
use crate::mail::Reading;

pub fn print_parse_report(report: &Reading, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    println!("kind:       {}", report.kind);
    if let Some(reason) = &report.quarantine_reason {
        println!("quarantine: {reason}");
    }
    println!(
        "message-id: {}",
        report.inbound.message_id.as_deref().unwrap_or("-")
    );
    println!("subject:    {}", report.inbound.subject);
    for a in &report.inbound.attachments {
        println!(
            "attachment: {} ({}, {} bytes, sha256 {})",
            a.filename.as_deref().unwrap_or("-"),
            a.content_type,
            a.size,
            a.sha256
        );
    }
    println!("\n{}", report.inbound.body_text);
    Ok(())
}

/// `parse FILE`: the operator's tool for "why was this quarantined?".
pub fn parse_file(cli: &Cli, file: &PathBuf, json: bool) -> anyhow::Result<ExitCode> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // The configuration is optional here: it only names the worker's own address.
    let own = Settings::load(&cli.config)
        .ok()
        .map(|s| (s.smtp.from_address, s.office.domain, s.office.number_prefix));
    let (address, domain, prefix) = own.unwrap_or_else(|| {
        (
            crate::domain::EmailAddress::parse("diskominfo@kaltaraprov.go.id")
                .expect("a valid built-in address"),
            "kaltaraprov.go.id".to_string(),
            "ADU".to_string(),
        )
    });
    let report = Reading::new(&raw, &address, &domain, &prefix);
    print_parse_report(&report, json)?;
    Ok(ExitCode::SUCCESS)
}
