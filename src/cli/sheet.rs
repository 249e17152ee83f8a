//! `sheet NUMBER [--format html] [--out PATH]`: the complaint sheet (lembar pengaduan)
//! and the disposition sheet (lembar disposisi) of one complaint, for A4.

use std::path::Path;
use std::process::ExitCode;

use super::report::{office, write_output};
use crate::config::Settings;
use crate::report::books::sheet_html;
use crate::report::pages::Pages;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SheetFormat {
    Html,
}

pub async fn sheet(
    settings: &Settings,
    number: &str,
    _format: SheetFormat,
    out: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let pages = Pages::load(&settings.office.templates_dir, settings.office.timezone)?;
    let store = Store::open(&settings.database.url).await?;
    let Some(detail) = store.complaint(number.trim()).await? else {
        eprintln!("error: no complaint {number}");
        return Ok(ExitCode::from(1));
    };
    let text = sheet_html(&pages, &office(settings), &detail)?;
    write_output(out, &text)?;
    Ok(ExitCode::SUCCESS)
}
