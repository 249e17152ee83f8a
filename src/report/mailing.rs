//! What the monthly report mail carries: the HTML body with its charts as PNG images
//! (mail clients such as Gmail and Outlook do not show SVG), the report page and the
//! register as files, and the numbers for the text template. `mail::compose` builds the
//! message from them.

use super::Gathered;
use super::books::{BookError, Office, month_label, register_csv, report_html};
use super::charts::{Chart, each_report_chart};
use super::month::Month;
use super::pages::Pages;
use crate::mail::compose::{InlineImage, ReportFile};

pub struct MailParts {
    pub html: String,
    pub images: Vec<InlineImage>,
    pub files: Vec<ReportFile>,
    /// The variables of the text template `laporan_bulanan`.
    pub context: minijinja::Value,
}

#[derive(serde::Serialize)]
struct ChartRef {
    content_id: String,
    title: &'static str,
}

/// The parts of the mail for `month`; `domain` names the images' Content-IDs.
pub fn mail_parts(
    pages: &Pages,
    office: &Office<'_>,
    gathered: &Gathered,
    domain: &str,
) -> Result<MailParts, BookError> {
    let report = &gathered.report;
    let month = Month::parse(&report.month).map_err(BookError::Chart)?;
    let (images, refs) = chart_images(gathered, month, domain)?;
    let label = month_label(month);
    let html = pages.render(
        "laporan_bulanan_surel.html",
        minijinja::context! {
            office => office.name,
            month_label => &label,
            report => report,
            charts => refs,
        },
    )?;
    let page = report_html(pages, office, report, &gathered.entries)?;
    let files = vec![
        ReportFile {
            filename: format!("laporan-pengaduan-{month}.html"),
            content_type: "text/html; charset=utf-8",
            bytes: page.into_bytes(),
        },
        ReportFile {
            filename: format!("register-pengaduan-{month}.csv"),
            content_type: "text/csv; charset=utf-8",
            bytes: register_csv(office, &gathered.entries).into_bytes(),
        },
    ];
    let context = minijinja::context! {
        month_label => label,
        office_name => office.name,
        received => report.received,
        answered => report.answered,
        answered_within_deadline => report.answered_within_deadline,
        answered_within_deadline_percent => report.answered_within_deadline_percent,
        median_hours => report.median_hours_to_answer,
        overdue => report.overdue.len(),
        ikm_score => report.ikm.score,
        ikm_grade => report.ikm.grade,
        ikm_responses => report.ikm.responses,
        bounced => report.bounced,
        unauthorized => report.unauthorized,
        quarantined => report.quarantined,
    };
    Ok(MailParts {
        html,
        images,
        files,
        context,
    })
}

fn chart_images(
    gathered: &Gathered,
    month: Month,
    domain: &str,
) -> Result<(Vec<InlineImage>, Vec<ChartRef>), BookError> {
    let drawn = each_report_chart(&gathered.report, |key, title, chart| {
        let content_id = format!("grafik-{key}.{month}@{domain}");
        let image = InlineImage {
            content_id: content_id.clone(),
            png: chart.png()?,
        };
        Ok((image, ChartRef { content_id, title }))
    })
    .map_err(BookError::Chart)?;
    Ok(drawn.into_iter().unzip())
}
