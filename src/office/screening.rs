//! Files pass the antivirus before anything forwards them: with `scan.clamd` set, a file
//! goes to an official (or the citizen) only once clamd has found it clean. An infected
//! file stays in the archive as evidence; a file clamd could not scan is held back until
//! a later cycle scans it (`worker::screening`), unless `scan.when_unavailable =
//! "forward"`.

use chrono::{DateTime, Utc};

use crate::domain::{Event, EventAction, ScreenedFile, Screening};
use crate::mail::Attachment;
use crate::mail::compose::OutAttachment;
use crate::office::Context;
use crate::store::Batch;

/// The files of an archived message (`raw_sha256`), ready to forward: those not cleared
/// are marked withheld, with the reason the notification gives.
pub fn forwardable<'a>(
    batch: &mut Batch<'_>,
    ctx: &Context,
    files: &'a [Attachment],
    raw_sha256: &str,
) -> anyhow::Result<Vec<OutAttachment<'a>>> {
    let mut out = OutAttachment::kept_in(files, raw_sha256);
    let Some(scan) = &ctx.settings.scan else {
        return Ok(out);
    };
    if files.is_empty() {
        return Ok(out);
    }
    let hashes: Vec<&str> = files.iter().map(|f| f.sha256.as_str()).collect();
    let known = batch.screenings(&hashes)?;
    for (file, out) in files.iter().zip(out.iter_mut()) {
        out.withheld = match known.get(&file.sha256) {
            Some(Screening::Clean) => None,
            Some(Screening::Infected(signature)) => Some(infected(signature)),
            Some(Screening::Unscanned(_)) | None if scan.hold_unscanned => {
                Some("belum dapat dipindai antivirus; diteruskan setelah dipindai".to_string())
            }
            Some(Screening::Unscanned(_)) | None => None,
        };
    }
    Ok(out)
}

/// The reason an infected file is withheld, as officials read it.
pub fn infected(signature: &str) -> String {
    format!("terdeteksi berbahaya oleh antivirus: {signature}")
}

/// Tells the administrators of the infected files of a recorded message (kept in the
/// archive as evidence, never forwarded), when the message belongs to a complaint.
pub fn report_infected(
    batch: &mut Batch<'_>,
    ctx: &Context,
    message_row: i64,
    files: &[ScreenedFile],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let signatures: Vec<&str> = files
        .iter()
        .filter_map(|f| match &f.screening {
            Screening::Infected(signature) => Some(signature.as_str()),
            _ => None,
        })
        .collect();
    if signatures.is_empty() {
        return Ok(());
    }
    let Some(complaint_id) = batch.complaint_of_message(message_row)? else {
        return Ok(());
    };
    let brief = batch.brief(complaint_id)?;
    let extra = minijinja::context! { signatures => signatures, files => signatures.len() };
    for admin in &ctx.settings.roles.admin {
        let outgoing =
            ctx.composer()
                .info("berkas_berbahaya", &brief, admin, extra.clone(), now)?;
        batch.enqueue(Some(complaint_id), &outgoing, now)?;
    }
    batch.add_event(&Event::worker(
        Some(complaint_id),
        now,
        EventAction::FileWithheld,
        format!("infected: {}", signatures.join(", ")),
    ))?;
    Ok(())
}

/// A file held back until clamd could scan it, now found clean: it goes to whoever holds
/// the complaint now (`procedure::holder_now`, as a follow-up does), with a token of the
/// current stage like any notification. A closed
/// complaint's file stays in the register (the admin can read it there).
pub fn forward_cleared(
    batch: &mut Batch<'_>,
    ctx: &Context,
    complaint_id: i64,
    (file, raw_sha256): (&Attachment, &str),
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let state = batch.state(complaint_id)?;
    let brief = batch.brief(complaint_id)?;
    let Some((stage, role)) = crate::office::procedure::holder_now(batch, complaint_id, &state)?
    else {
        return Ok(());
    };
    let attachments = forwardable(batch, ctx, std::slice::from_ref(file), raw_sha256)?;
    let notification = crate::office::procedure::Notification {
        kind: ("lampiran_susulan", "lanjut"),
        stage: &stage,
        role: &role,
        extra: minijinja::context! {},
        attachments: &attachments,
    };
    crate::office::procedure::notify(batch, ctx, &brief, notification, now)?;
    batch.mark_forwarded(&file.sha256, now)?;
    batch.add_event(&Event::worker(
        Some(complaint_id),
        now,
        EventAction::FileForwarded,
        format!("sha256 {}", file.sha256),
    ))?;
    Ok(())
}

/// The files of a recorded message, parsed out of its raw bytes (the register keeps no
/// decoded copy), and the hash it is archived under (see [`forwardable`]).
pub(crate) fn files_of(
    batch: &mut Batch<'_>,
    message_row: i64,
) -> anyhow::Result<(Vec<Attachment>, String)> {
    let (raw_sha256, raw) = batch.message_raw(message_row)?;
    Ok((crate::mail::parse::parse(&raw).attachments, raw_sha256))
}

/// The files of the citizen's message that registered the complaint.
pub(crate) fn complaint_files(
    batch: &mut Batch<'_>,
    complaint_id: i64,
) -> anyhow::Result<(Vec<Attachment>, String)> {
    match batch.complaint_message(complaint_id)? {
        Some(row) => files_of(batch, row),
        None => Ok((Vec::new(), String::new())),
    }
}
