//! The monthly report by email: on the first cycle after a month ends, the report of that
//! month goes once to `report.recipients`; a worker that was down for months mails each
//! missed month, oldest first, one a cycle. The mail is queued in the same transaction as
//! the month's mark (`monthly_reports`), and delivered like any outgoing mail: a worker
//! killed before the commit queues it on the next cycle, one killed after it delivers
//! the queued mail, and none queues it twice.

use chrono::{DateTime, Utc};

use crate::config::Settings;
use crate::mail::compose::ReportMail;
use crate::office::Context;
use crate::report::books::Office;
use crate::report::mailing::mail_parts;
use crate::report::month::Month;
use crate::report::pages::Pages;
use crate::store::Store;

/// Whether a monthly report is still to be mailed.
pub async fn due(store: &Store, settings: &Settings, now: DateTime<Utc>) -> anyhow::Result<bool> {
    Ok(due_month(store, settings, now).await?.is_some())
}

/// The month whose report is to be mailed now, if any: the month after the last one
/// mailed, up to the month before `now`; before any was mailed, the month before `now`
/// (a new installation mails no report of the months before it).
async fn due_month(
    store: &Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Month>> {
    let zone = settings.office.timezone;
    let previous = Month::of(now, zone).previous();
    let month = match store.last_monthly_report().await? {
        Some(last) => Month::parse(&last).map_err(anyhow::Error::msg)?.next(),
        None => previous,
    };
    if month > previous {
        return Ok(None);
    }
    let (_, ended) = month.bounds(zone);
    let due = store.monthly_report_due(&month.to_string(), ended).await?;
    Ok(due.then_some(month))
}

/// Queues the report of the month that is due, if any; returns whether it did.
#[tracing::instrument(skip_all, err)]
pub async fn queue_due_report(
    store: &Store,
    ctx: &Context,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let settings = &ctx.settings;
    let zone = settings.office.timezone;
    let Some(month) = due_month(store, settings, now).await? else {
        return Ok(false);
    };
    let name = month.to_string();
    let gathered = crate::report::gather(store, month, zone, now).await?;
    let pages = Pages::load(&settings.office.templates_dir, zone)?;
    let office = Office {
        name: &settings.office.name,
        confidential_reporter: settings.office.confidential_reporter,
    };
    let parts = mail_parts(&pages, &office, &gathered, &settings.office.domain)?;
    let outgoing = ctx.composer().monthly_report(&ReportMail {
        month: &name,
        recipients: &settings.report.recipients,
        context: parts.context,
        html: parts.html,
        images: &parts.images,
        files: &parts.files,
        now,
    })?;
    crate::failpoint::pause("report_composed");
    let queued = store
        .batch(move |batch| Ok(batch.queue_monthly_report(&name, &outgoing, now)?))
        .await?;
    if queued {
        crate::failpoint::pause("report_queued");
        tracing::info!(month = %month, "monthly report queued");
    }
    Ok(queued)
}
