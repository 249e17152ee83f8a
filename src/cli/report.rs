//! `report --month YYYY-MM [--format html|csv|json] [--out PATH]`: the monthly report.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Settings;
use crate::report::books::{Office, register_csv, report_html};
use crate::report::month::Month;
use crate::report::pages::Pages;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained page with charts, for reading and printing.
    Html,
    /// The month's register, one complaint a row.
    Csv,
    /// The numbers, for the office's website (see the README).
    Json,
}

pub async fn report(
    settings: &Settings,
    month: &str,
    format: ReportFormat,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let month = Month::parse(month).map_err(anyhow::Error::msg)?;
    let zone = settings.office.timezone;
    let store = Store::open(&settings.database.url).await?;
    let now = Clock::from_env()?.now();
    let gathered = crate::report::gather(&store, month, zone, now)
        .await
        .with_context(|| format!("cannot read the register for {month}"))?;
    let office = office(settings);
    let text = match format {
        ReportFormat::Html => {
            let pages = Pages::load(&settings.office.templates_dir, zone)?;
            report_html(&pages, &office, &gathered.report, &gathered.entries)?
        }
        ReportFormat::Csv => register_csv(&office, &gathered.entries),
        ReportFormat::Json => {
            serde_json::to_string_pretty(&gathered.report).context("cannot serialise JSON")? + "\n"
        }
    };
    write_output(out, &text)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn office(settings: &Settings) -> Office<'_> {
    Office {
        name: &settings.office.name,
        confidential_reporter: settings.office.confidential_reporter,
    }
}

/// Writes `text` to `out` (whole: a temporary file beside it, renamed), or to stdout.
pub(super) fn write_output(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    let Some(path) = out else {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .context("cannot write to stdout");
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let mut temporary = name.to_os_string();
    temporary.push(".part");
    let temporary = path.with_file_name(temporary);
    std::fs::write(&temporary, text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))
}
