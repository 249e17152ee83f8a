//! The office's books written out: the monthly report as HTML, the register as CSV, the
//! agenda book, and the complaint and disposition sheets.

use serde::Serialize;

use super::charts::{Chart, each_report_chart};
use super::monthly::{MonthlyReport, STAGES};
use super::pages::{Pages, markup};
use crate::mail::templates::{BULAN, TemplateError};
use crate::store::{BookEntry, ComplaintDetail};

/// What every page shows besides its data.
pub struct Office<'a> {
    pub name: &'a str,
    /// Whether the reporter's address is withheld (`office.confidential_reporter`).
    pub confidential_reporter: bool,
}

impl Office<'_> {
    /// The reporter as the books may show them: the name only when the address is
    /// confidential, the name and address otherwise.
    pub fn reporter(&self, name: Option<&str>, email: &str) -> String {
        match (name, self.confidential_reporter) {
            (Some(name), true) => name.to_owned(),
            (None, true) => "(dirahasiakan)".to_owned(),
            (Some(name), false) => format!("{name} <{email}>"),
            (None, false) => email.to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(transparent)]
    Page(#[from] TemplateError),
    #[error("{0}")]
    Chart(String),
}

/// The report's charts as `<svg>` elements, keyed as [`each_report_chart`] names them.
fn svg_charts(report: &MonthlyReport) -> Result<minijinja::Value, BookError> {
    let charts = each_report_chart(report, |key, _, chart| Ok((key, markup(chart.svg()?))))
        .map_err(BookError::Chart)?;
    Ok(minijinja::Value::from_iter(charts))
}

#[derive(Serialize)]
struct StageLabel {
    key: &'static str,
    label: &'static str,
}

fn stage_labels() -> Vec<StageLabel> {
    let labels = [
        "Menunggu disposisi",
        "Menunggu jawaban",
        "Menunggu persetujuan",
    ];
    STAGES
        .iter()
        .zip(labels)
        .map(|(key, label)| StageLabel { key, label })
        .collect()
}

/// `November 2026`.
pub fn month_label(month: super::month::Month) -> String {
    format!("{} {}", BULAN[month.number() as usize - 1], month.year())
}

/// The monthly report as one self-contained HTML page.
pub fn report_html(
    pages: &Pages,
    office: &Office<'_>,
    report: &MonthlyReport,
    entries: &[BookEntry],
) -> Result<String, BookError> {
    let month = super::month::Month::parse(&report.month).map_err(BookError::Chart)?;
    let late: std::collections::HashSet<&str> = report.overdue.iter().map(String::as_str).collect();
    let overdue: Vec<&BookEntry> = entries
        .iter()
        .filter(|e| late.contains(e.number.as_str()))
        .collect();
    let context = minijinja::context! {
        office => office.name,
        month_label => month_label(month),
        report => report,
        ikm_meaning => report.ikm.grade.map(|g| g.meaning()),
        stages => stage_labels(),
        overdue => overdue,
        charts => svg_charts(report)?,
    };
    Ok(pages.render("laporan_bulanan.html", context)?)
}

/// The columns of the register as CSV (`report --format csv`, `agenda --format csv`).
const CSV_HEADER: &str = "nomor,diterima,batas_waktu,kanal,pelapor,perihal,status,unit,\
didisposisi,dijawab,tepat_waktu,alasan_ditutup,nilai_kepuasan";

/// The register rows as CSV (RFC 4180: CRLF line ends, fields quoted when needed).
pub fn register_csv(office: &Office<'_>, entries: &[BookEntry]) -> String {
    let mut out = String::with_capacity(200 * (entries.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for e in entries {
        let on_time = e
            .answered_at
            .as_ref()
            .map(|at| if *at <= e.deadline_at { "ya" } else { "tidak" });
        let rating = e.rating.map(|r| format!("{r:.2}"));
        let fields = [
            Some(e.number.as_str()),
            Some(e.received_at.as_str()),
            Some(e.deadline_at.as_str()),
            Some(e.channel.as_str()),
            Some(&office.reporter(e.reporter_name.as_deref(), &e.reporter_email)),
            Some(e.subject.as_str()),
            Some(e.status.as_str()),
            e.division.as_deref(),
            e.disposed_at.as_deref(),
            e.answered_at.as_deref(),
            on_time,
            e.closed_reason.as_deref(),
            rating.as_deref(),
        ];
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_csv_field(&mut out, field.unwrap_or(""));
        }
        out.push_str("\r\n");
    }
    out
}

fn push_csv_field(out: &mut String, field: &str) {
    // A leading =, +, - or @ would make a spreadsheet evaluate the field as a formula.
    let formula = field.starts_with(['=', '+', '-', '@']);
    if formula || field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

#[derive(Serialize)]
struct AgendaRow<'a> {
    #[serde(flatten)]
    entry: &'a BookEntry,
    reporter: String,
}

/// The agenda book of the complaints received between `from` and `to` (inclusive days,
/// RFC 3339 instants for the heading).
pub fn agenda_html(
    pages: &Pages,
    office: &Office<'_>,
    period: (&str, &str),
    entries: &[BookEntry],
) -> Result<String, BookError> {
    let rows: Vec<AgendaRow<'_>> = entries
        .iter()
        .map(|entry| AgendaRow {
            entry,
            reporter: office.reporter(entry.reporter_name.as_deref(), &entry.reporter_email),
        })
        .collect();
    let context = minijinja::context! {
        office => office.name,
        from => period.0,
        to => period.1,
        rows => rows,
    };
    Ok(pages.render("buku_agenda.html", context)?)
}

/// The complaint sheet and the disposition sheet of one complaint, for A4.
pub fn sheet_html(
    pages: &Pages,
    office: &Office<'_>,
    detail: &ComplaintDetail,
) -> Result<String, BookError> {
    let c = &detail.summary;
    let text = detail
        .messages
        .iter()
        .find(|m| m.direction == "in" && m.kind == "complaint")
        .map(|m| m.body_text.as_str())
        .unwrap_or("");
    let context = minijinja::context! {
        office => office.name,
        c => c,
        reporter => office.reporter(c.reporter_name.as_deref(), &c.reporter_email),
        text => text,
        d => detail.disposition,
    };
    Ok(pages.render("lembar_pengaduan.html", context)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        for field in ["plain", "a,b", "say \"hi\"", "=1+1", "two\nlines"] {
            push_csv_field(&mut out, field);
            out.push('|');
        }
        assert_eq!(
            out,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"'=1+1\"|\"two\nlines\"|"
        );
        let office = Office {
            name: "Dinas",
            confidential_reporter: true,
        };
        assert_eq!(office.reporter(Some("Budi"), "b@example.id"), "Budi");
        assert_eq!(office.reporter(None, "b@example.id"), "(dirahasiakan)");
        let open = Office {
            confidential_reporter: false,
            ..office
        };
        assert_eq!(
            open.reporter(Some("Budi"), "b@example.id"),
            "Budi <b@example.id>"
        );
    }
}
