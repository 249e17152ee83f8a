//! `check`: configuration, database, IMAP, SMTP and templates, one line each.

use std::process::ExitCode;

use super::name_damaged_database;
use crate::config::Settings;
use crate::mail::templates::Templates;
use crate::report::books::{Office, agenda_html};
use crate::report::mailing::mail_parts;
use crate::report::month::Month;
use crate::report::monthly::{MonthFacts, MonthlyReport};
use crate::report::pages::Pages;
use crate::store::Store;
use crate::telemetry::one_line;
use crate::transport::imap;

/// `check`: one line per item; exit status 1 if any fails.
pub async fn check(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut report = Report::default();
    let source = settings.source.display();
    report.line(
        true,
        "configuration",
        format!("{source} is valid (secrets not shown)"),
    );
    database(settings, &mut report).await;
    imap(settings, &mut report).await;
    smtp(settings, &mut report).await;
    clamd(settings, &mut report).await;
    templates(settings, &mut report);
    pages(settings, &mut report);
    Ok(if report.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The printed lines, and whether any failed.
#[derive(Default)]
struct Report {
    failed: bool,
}

impl Report {
    fn line(&mut self, ok: bool, item: &str, detail: String) {
        self.failed |= !ok;
        let verdict = if ok { "ok  " } else { "FAIL" };
        super::say(format_args!("{verdict} {item}: {detail}"));
    }
}

async fn database(settings: &Settings, report: &mut Report) {
    let url = &settings.database.url;
    let store = match Store::open(url).await.map_err(anyhow::Error::from) {
        Ok(store) => store,
        Err(e) if crate::store::is_corruption(&e) => {
            let detail = name_damaged_database(url, e).to_string();
            return report.line(false, "database", detail);
        }
        Err(e) => {
            let detail = format!(
                "{}; check database.url and that the directory is writable",
                one_line(&e)
            );
            return report.line(false, "database", detail);
        }
    };
    match store.ping().await {
        Ok(count) => report.line(
            true,
            "database",
            format!("{url} reachable and migrated; {count} complaints"),
        ),
        Err(e) => report.line(false, "database", format!("{url}: {e}")),
    }
    let (ok, detail) = integrity(settings, &store).await;
    report.line(ok, "database integrity", detail);
    let archive = store.archive().dir().display().to_string();
    match store.archive().check_writable() {
        Ok(()) => report.line(true, "archive", format!("{archive} is writable")),
        Err(e) => report.line(
            false,
            "archive",
            format!("{e}; every message's bytes are kept there"),
        ),
    }
}

async fn imap(settings: &Settings, report: &mut Report) {
    let imap = &settings.imap;
    let mut connection = match imap::Connection::connect(imap).await {
        Ok(connection) => connection,
        Err(e) => {
            let detail = format!(
                "{}; check imap.host, imap.port, imap.security, imap.username and the password",
                one_line(&e)
            );
            return report.line(false, "imap", detail);
        }
    };
    let detail = format!(
        "logged in as {} at {}:{}",
        imap.username, imap.host, imap.port
    );
    report.line(true, "imap", detail);
    match connection.folders().await {
        Ok(folders) => {
            for (key, name) in [
                ("imap.mailbox", &imap.mailbox),
                ("imap.processed_mailbox", &imap.processed_mailbox),
                ("imap.quarantine_mailbox", &imap.quarantine_mailbox),
            ] {
                folder(report, key, name, folders.iter().any(|f| f == name));
            }
        }
        Err(e) => report.line(false, "imap folders", one_line(&e)),
    }
    connection.logout().await;
}

/// The inbox must exist; the worker creates the other folders on first use.
fn folder(report: &mut Report, key: &str, name: &str, exists: bool) {
    let created_later = key != "imap.mailbox";
    let detail = if exists {
        format!("{name} ({key}) exists")
    } else if created_later {
        format!("{name} ({key}) does not exist yet; the worker creates it on first use")
    } else {
        format!("{name} ({key}) does not exist; fix {key}")
    };
    report.line(exists || created_later, "imap folder", detail);
}

async fn smtp(settings: &Settings, report: &mut Report) {
    match crate::transport::smtp::Session::open(settings).await {
        Ok(session) => {
            session.quit().await;
            let (host, port) = (&settings.smtp.host, settings.smtp.port);
            let detail = format!("{host}:{port} greets, TLS and authentication accepted");
            report.line(true, "smtp", detail);
        }
        Err(e) => report.line(
            false,
            "smtp",
            format!("{e}; check smtp.host, smtp.port, smtp.security and the credentials"),
        ),
    }
}

/// clamd answers and scans (the EICAR test string must be found), when `scan.clamd` is set.
async fn clamd(settings: &Settings, report: &mut Report) {
    use crate::transport::clamd::{Finding, Scanner};
    let Some(scan) = &settings.scan else {
        return;
    };
    let scanner = Scanner {
        address: scan.clamd.clone(),
        timeout: scan.timeout,
    };
    let probe = tokio::task::spawn_blocking(move || {
        let version = scanner.version()?;
        let eicar = scanner.scan(&crate::transport::clamd::eicar())?;
        Ok::<_, crate::transport::clamd::ScanError>((version, eicar))
    })
    .await;
    let held = if scan.hold_unscanned {
        "files are held back until it answers"
    } else {
        "files are forwarded unscanned until it answers"
    };
    match probe {
        Ok(Ok((version, Finding::Infected(_)))) => {
            report.line(true, "clamd", format!("{} answers: {version}", scan.clamd));
        }
        Ok(Ok((version, Finding::Clean))) => report.line(
            false,
            "clamd",
            format!("{} ({version}) does not detect the EICAR test file: its signatures are missing or outdated", scan.clamd),
        ),
        Ok(Err(e)) => report.line(false, "clamd", format!("{e}; {held}; check scan.clamd")),
        Err(e) => report.line(false, "clamd", format!("the probe failed: {e}")),
    }
}

fn templates(settings: &Settings, report: &mut Report) {
    let dir = &settings.office.templates_dir;
    let templates = match Templates::load(dir) {
        Ok(templates) => templates,
        Err(e) => return report.line(false, "templates", e.to_string()),
    };
    for name in Templates::names() {
        match templates.render(name, sample_context(settings)) {
            Ok(_) => report.line(true, "template", format!("{name} renders")),
            Err(e) => {
                let detail = format!("{e}; fix {}/{name}.txt", dir.display());
                report.line(false, "template", detail);
            }
        }
    }
}

/// The page templates (`templates/*.html`), rendered with an empty month.
fn pages(settings: &Settings, report: &mut Report) {
    let dir = &settings.office.templates_dir;
    let zone = settings.office.timezone;
    let pages = match Pages::load(dir, zone) {
        Ok(pages) => pages,
        Err(e) => return report.line(false, "pages", e.to_string()),
    };
    let Ok(month) = Month::parse("2026-11") else {
        return;
    };
    let (from, _) = month.bounds(zone);
    let gathered = crate::report::Gathered {
        report: MonthlyReport::build(&MonthFacts {
            month,
            zone,
            now: from,
            entries: &[],
            counts: &Default::default(),
        }),
        entries: Vec::new(),
    };
    let office = Office {
        name: &settings.office.name,
        confidential_reporter: settings.office.confidential_reporter,
    };
    let sample = "2026-11-01T00:00:00Z";
    let rendered = mail_parts(&pages, &office, &gathered, &settings.office.domain)
        .map(|_| ())
        .and_then(|()| agenda_html(&pages, &office, (sample, sample), &[]).map(|_| ()));
    match rendered {
        Ok(()) => report.line(
            true,
            "pages",
            "the report, its mail and the agenda render".into(),
        ),
        Err(e) => report.line(
            false,
            "pages",
            format!("{e}; fix the page in {}", dir.display()),
        ),
    }
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
