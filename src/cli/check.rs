//! `check`: configuration, database, IMAP, SMTP and templates, one line each.

use std::process::ExitCode;

use super::name_damaged_database;
use crate::config::Settings;
use crate::mail::templates::Templates;
use crate::store::Store;
use crate::telemetry::one_line;
use crate::transport::imap;

/// `check`: one line per item; exit status 1 if any fails.
pub async fn check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    let mut line = |ok: bool, item: &str, detail: String| {
        failed |= !ok;
        println!("{} {item}: {detail}", if ok { "ok  " } else { "FAIL" });
    };
    line(
        true,
        "configuration",
        format!("{} is valid (secrets not shown)", settings.source.display()),
    );

    match Store::open(&settings.database.url).await {
        Ok(store) => {
            match store.ping().await {
                Ok(count) => line(
                    true,
                    "database",
                    format!(
                        "{} reachable and migrated; {count} complaints",
                        settings.database.url
                    ),
                ),
                Err(e) => line(false, "database", format!("{}: {e}", settings.database.url)),
            }
            let (ok, detail) = integrity(settings, &store).await;
            line(ok, "database integrity", detail);
            let archive = store.archive().dir().display().to_string();
            match store.archive().check_writable() {
                Ok(()) => line(true, "archive", format!("{archive} is writable")),
                Err(e) => line(
                    false,
                    "archive",
                    format!("{e}; every message's bytes are kept there"),
                ),
            }
        }
        Err(e) if crate::store::is_corruption(&e) => line(
            false,
            "database",
            name_damaged_database(&settings.database.url, e).to_string(),
        ),
        Err(e) => line(
            false,
            "database",
            format!(
                "{}; check database.url and that the directory is writable",
                one_line(&e)
            ),
        ),
    }

    match imap::Connection::connect(&settings.imap).await {
        Ok(mut connection) => {
            line(
                true,
                "imap",
                format!(
                    "logged in as {} at {}:{}",
                    settings.imap.username, settings.imap.host, settings.imap.port
                ),
            );
            match connection.folders().await {
                Ok(folders) => {
                    for (key, name) in [
                        ("imap.mailbox", &settings.imap.mailbox),
                        ("imap.processed_mailbox", &settings.imap.processed_mailbox),
                        ("imap.quarantine_mailbox", &settings.imap.quarantine_mailbox),
                    ] {
                        let exists = folders.iter().any(|f| f == name);
                        let created_later = key != "imap.mailbox";
                        line(
                            exists || created_later,
                            "imap folder",
                            if exists {
                                format!("{name} ({key}) exists")
                            } else if created_later {
                                format!(
                                    "{name} ({key}) does not exist yet; the worker creates it on first use"
                                )
                            } else {
                                format!("{name} ({key}) does not exist; fix {key}")
                            },
                        );
                    }
                }
                Err(e) => line(false, "imap folders", one_line(&e)),
            }
            connection.logout().await;
        }
        Err(e) => line(
            false,
            "imap",
            format!(
                "{}; check imap.host, imap.port, imap.security, imap.username and the password",
                one_line(&e)
            ),
        ),
    }

    match crate::transport::smtp::Session::open(settings).await {
        Ok(session) => {
            session.quit().await;
            line(
                true,
                "smtp",
                format!(
                    "{}:{} greets, TLS and authentication accepted",
                    settings.smtp.host, settings.smtp.port
                ),
            )
        }
        Err(e) => line(
            false,
            "smtp",
            format!("{e}; check smtp.host, smtp.port, smtp.security and the credentials"),
        ),
    }

    match Templates::load(&settings.office.templates_dir) {
        Ok(templates) => {
            for name in Templates::names() {
                match templates.render(name, sample_context(settings)) {
                    Ok(_) => line(true, "template", format!("{name} renders")),
                    Err(e) => line(
                        false,
                        "template",
                        format!(
                            "{e}; fix {}/{name}.txt",
                            settings.office.templates_dir.display()
                        ),
                    ),
                }
            }
        }
        Err(e) => line(false, "templates", e.to_string()),
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// SQLite's integrity check of the register, for `check`: whether it passed, and the
/// line that says so.
async fn integrity(settings: &Settings, store: &Store) -> (bool, String) {
    const SHOWN: u32 = 3;
    let url = &settings.database.url;
    let restore = "stop the worker and restore the latest backup (README, \"Back up and restore\")";
    match store.integrity_problems(SHOWN).await {
        Ok(problems) if problems.is_empty() => (true, format!("{url}: every page is sound")),
        Ok(problems) => (
            false,
            format!("{url} is damaged: {}; {restore}", problems.join("; ")),
        ),
        Err(e) => {
            let e = anyhow::Error::from(e);
            if crate::store::is_corruption(&e) {
                (
                    false,
                    format!("{url} is damaged: {}; {restore}", one_line(&e)),
                )
            } else {
                (false, format!("{url} cannot be checked: {}", one_line(&e)))
            }
        }
    }
}

fn sample_context(settings: &Settings) -> minijinja::Value {
    minijinja::context! {
        number => format!("{}-2026-00001", settings.office.number_prefix),
        reply_subject => format!("Re: Contoh [{}-2026-00001]", settings.office.number_prefix),
        reporter_name => "Contoh Warga",
        office_name => &settings.office.name,
        received => "Senin, 30 November 2026 pukul 10.00 WITA",
        deadline => "Kamis, 3 Desember 2026 pukul 10.00 WITA",
        answer_within_hours => settings.sla.answer_within_hours,
        subject => "Contoh pengaduan",
        reporter => "Contoh Warga",
        body => "Isi pengaduan.",
        attachment_count => 1,
        attachment_note => "",
        division => "aptika",
        instruction => "mohon ditindaklanjuti",
        divisions => vec![minijinja::context! { key => "aptika", addresses => "kabid.aptika@example.net" }],
        draft => "Draf jawaban.",
        note => "Catatan.",
        answer => "Jawaban.",
        problem => "contoh masalah",
        expected => "contoh harapan",
        status => "menunggu_jawaban",
        holder => "bidang:aptika",
        sender => "someone@example.net",
        reason => "contoh alasan",
        message_id => "contoh@example.net",
        message => "Isi pesan.",
        answer_sha256 => "0".repeat(64),
        corrected => false,
        count => 6,
        limit => 5,
        held => vec![minijinja::context! {
            number => format!("{}-2026-00006", settings.office.number_prefix),
            subject => "Contoh pengaduan",
            received => "Senin, 30 November 2026 pukul 10.00 WITA",
        }],
    }
}
