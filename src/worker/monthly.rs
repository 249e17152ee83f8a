//! The monthly report by email: on the first cycle after a month ends, the report of that
//! month goes once to `report.recipients`. The mail is queued in the same transaction as
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

/// Whether the report of the month before `now` is still to be mailed.
pub async fn due(store: &Store, settings: &Settings, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let zone = settings.office.timezone;
    let month = Month::of(now, zone).previous();
    let (_, ended) = month.bounds(zone);
    Ok(store.monthly_report_due(&month.to_string(), ended).await?)
}

/// Queues the report of the month before `now` when it is due; returns whether it did.
#[tracing::instrument(skip_all, err)]
pub async fn queue_due_report(
    store: &Store,
    ctx: &Context,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let settings = &ctx.settings;
    let zone = settings.office.timezone;
    let month = Month::of(now, zone).previous();
    if !due(store, settings, now).await? {
        return Ok(false);
    }
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
