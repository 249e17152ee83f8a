//! `agenda --from DATE --to DATE [--format csv|html] [--out PATH]`: the agenda book.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;

use super::report::{office, write_output};
use crate::config::Settings;
use crate::report::books::{agenda_html, register_csv};
use crate::report::month::start_of;
use crate::report::pages::Pages;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgendaFormat {
    Csv,
    /// A landscape A4 table for printing.
    Html,
}

pub struct Period<'a> {
    pub from: &'a str,
    pub to: &'a str,
}

pub async fn agenda(
    settings: &Settings,
    period: Period<'_>,
    format: AgendaFormat,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let (first, last) = (day(period.from, "--from")?, day(period.to, "--to")?);
    if last < first {
        anyhow::bail!("--to {last} is before --from {first}");
    }
    let zone = settings.office.timezone;
    let from = start_of(first, zone);
    let to = start_of(last.succ_opt().context("--to is too far ahead")?, zone);
    let store = Store::open(&settings.database.url).await?;
    let entries = store
        .book_entries(from, to)
        .await
        .context("cannot read the register")?;
    let office = office(settings);
    let text = match format {
        AgendaFormat::Html => {
            let pages = Pages::load(&settings.office.templates_dir, zone)?;
            let first_day = crate::clock::rfc3339(from);
            let last_day = crate::clock::rfc3339(start_of(last, zone));
            agenda_html(&pages, &office, (&first_day, &last_day), &entries)?
        }
        AgendaFormat::Csv => register_csv(&office, &entries),
    };
    write_output(out, &text)?;
    Ok(ExitCode::SUCCESS)
}

fn day(text: &str, option: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("{option} {text:?} is not a date of the form YYYY-MM-DD"))
}
