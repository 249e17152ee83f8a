//! The antivirus on intake's path (`scan.clamd`): each file of a fetched message is
//! streamed to clamd on the parsing thread, beside the parse, and what clamd found is
//! recorded with the message. Files clamd could not scan are scanned again here on later
//! cycles and, once clean, forwarded to whoever holds the complaint.

use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::config::ScanSettings;
use crate::domain::{ScreenedFile, Screening};
use crate::mail::{Attachment, parse};
use crate::office::{self, Context};
use crate::store::Store;
use crate::transport::clamd::{Finding, Scanner};

/// The scanner `scan` describes.
pub(super) fn scanner(scan: &ScanSettings) -> Scanner {
    Scanner {
        address: scan.clamd.clone(),
        timeout: scan.timeout,
    }
}

/// What clamd finds in each file of a message whose raw bytes are `raw`. Once clamd
/// fails, the message's other files are not tried again (each try could take the
/// whole timeout): they are unscanned for the same reason.
pub(super) fn screen(scanner: &Scanner, raw: &[u8], files: &[Attachment]) -> Vec<ScreenedFile> {
    let mut screened: Vec<ScreenedFile> = Vec::with_capacity(files.len());
    let mut failure: Option<String> = None;
    for file in files {
        if screened.iter().any(|s| s.sha256 == file.sha256) {
            continue;
        }
        let screening = match &failure {
            Some(why) => Screening::Unscanned(why.clone()),
            None => match decoded(raw, file).map(|bytes| scanner.scan(&bytes)) {
                Some(Ok(Finding::Clean)) => Screening::Clean,
                Some(Ok(Finding::Infected(signature))) => {
                    tracing::warn!(file = %file.sha256, signature = %signature, "infected file withheld");
                    Screening::Infected(signature)
                }
                Some(Err(error)) => {
                    tracing::warn!(error = %error, "file not scanned; held back");
                    failure = Some(error.to_string());
                    Screening::Unscanned(error.to_string())
                }
                None => Screening::Unscanned("the file cannot be decoded".into()),
            },
        };
        screened.push(ScreenedFile {
            sha256: file.sha256.clone(),
            screening,
        });
    }
    screened
}

/// A file's decoded bytes: in hand, or decoded from its base64 text in `raw`.
pub(super) fn decoded(raw: &[u8], file: &Attachment) -> Option<Vec<u8>> {
    match &file.encoded {
        None => Some(file.bytes.clone()),
        Some(range) => {
            let text: Vec<u8> = raw
                .get(range.clone())?
                .iter()
                .copied()
                .filter(|b| !b.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD.decode(text).ok()
        }
    }
}

/// Scans again the files clamd could not scan before (oldest first); forwards those now
/// clean to whoever holds their complaint and reports infected ones to the admin. Stops
/// at the first file clamd still cannot scan. Returns how many files got a finding.
pub(super) async fn rescan_held(
    store: &Store,
    ctx: &Arc<Context>,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    let Some(scan) = &ctx.settings.scan else {
        return Ok(0);
    };
    let mut found = 0;
    for held in store.held_files(100).await? {
        let raw = store.message_bytes(held.message_row).await?;
        let scanner = scanner(scan);
        let position = held.position;
        let (file, screened) = tokio::task::spawn_blocking(move || {
            let file = parse::parse(&raw).attachments.into_iter().nth(position)?;
            let screened = screen(&scanner, &raw, std::slice::from_ref(&file));
            Some((file, screened.into_iter().next()?))
        })
        .await
        .context("the scanning thread failed")?
        .with_context(|| format!("the held file {} is no longer in its message", held.sha256))?;
        if matches!(screened.screening, Screening::Unscanned(_)) {
            break;
        }
        found += 1;
        let ctx = ctx.clone();
        store
            .batch(move |batch| {
                batch.record_screenings(std::slice::from_ref(&screened), now)?;
                let Some(complaint_id) = held.complaint_id else {
                    return Ok(());
                };
                match &screened.screening {
                    Screening::Clean => office::screening::forward_cleared(
                        batch,
                        &ctx,
                        complaint_id,
                        (&file, &held.raw_sha256),
                        now,
                    ),
                    _ => office::screening::report_infected(
                        batch,
                        &ctx,
                        held.message_row,
                        std::slice::from_ref(&screened),
                        now,
                    ),
                }
            })
            .await?;
    }
    Ok(found)
}
