//! `show NUMBER [--json]`: one complaint with its messages and audit events.

use std::process::ExitCode;

use super::print_json;
use crate::config::Settings;
use crate::store::{ComplaintDetail, Store};

pub async fn show(
    settings: &Settings,
    number: &str,
    (json, reveal_nik): (bool, bool),
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database.url).await?;
    let Some(mut detail) = store.complaint(number.trim()).await? else {
        eprintln!("error: no complaint {number}");
        return Ok(ExitCode::from(1));
    };
    if !reveal_nik {
        detail.mask_nik();
    }
    if json {
        print_json(&detail)?;
    } else {
        print_detail(&detail);
    }
    Ok(ExitCode::SUCCESS)
}

/// `show` as a person reads it.
fn print_detail(detail: &ComplaintDetail) {
    let c = &detail.summary;
    println!("{}  [{}]  {}", c.number, c.status, c.subject);
    println!(
        "reporter:  {} <{}>",
        c.reporter_name.as_deref().unwrap_or("-"),
        c.reporter_email
    );
    if let Some(phone) = &c.reporter_phone {
        println!("phone:     {phone}   channel: {}", c.channel);
    }
    println!("received:  {}   deadline: {}", c.received_at, c.deadline_at);
    println!(
        "identity:  {}   NIK: {}   documents: {}",
        if c.identity_provided {
            "given"
        } else {
            "missing"
        },
        c.reporter_nik.as_deref().unwrap_or("-"),
        c.documents
    );
    if let Some(d) = &detail.disposition {
        println!(
            "disposition: {} by {} at {}: {}",
            d.division, d.by, d.at, d.instruction
        );
    }
    for d in &detail.drafts {
        println!("draft (round {}) by {} at {}", d.round, d.by, d.at);
    }
    for d in &detail.decisions {
        let hash = d
            .text_sha256
            .as_deref()
            .map(|h| format!(" sha256 {h}"))
            .unwrap_or_default();
        println!(
            "{} by {} at {}{hash}",
            d.decision.to_uppercase(),
            d.by,
            d.at
        );
    }
    for u in &detail.unauthorized {
        println!(
            "UNAUTHORIZED at {} from {}: {}",
            u.at,
            u.sender.as_deref().unwrap_or("-"),
            u.reason
        );
    }
    println!("\nmessages:");
    for m in &detail.messages {
        println!(
            "  {} {:<12} {}  {}  ({} attachment(s))",
            if m.direction == "in" { "→" } else { "←" },
            m.kind,
            m.date.as_deref().unwrap_or("-"),
            m.subject,
            m.attachments.len()
        );
    }
    println!("\nevents:");
    for e in &detail.events {
        println!("  {}  {:<22} {:<28} {}", e.at, e.action, e.actor, e.detail);
    }
}
