//! Delivers queued mail over SMTP. Each row is claimed, sent and recorded in its own
//! short write; no database transaction is open while the network is used.

use anyhow::Context;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::clock::Clock;
use crate::config::{Security, Settings};
use crate::store::{OutboxRow, ParkedAs, Store};
use crate::worker::failpoint;

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryReport {
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub uncertain: u64,
    /// Set when the server could not be reached: everything due stays queued.
    pub unreachable: Option<String>,
}

pub fn transport(settings: &Settings) -> anyhow::Result<Transport> {
    let smtp = &settings.smtp;
    let tls_parameters = || -> anyhow::Result<TlsParameters> {
        let mut builder = TlsParameters::builder(smtp.host.clone());
        if let Some(path) = &smtp.ca_file {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read CA file {}", path.display()))?;
            let cert = Certificate::from_pem(&pem)
                .with_context(|| format!("invalid CA file {}", path.display()))?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build_rustls().context("cannot configure SMTP TLS")
    };
    let builder = match smtp.security {
        Security::Tls => {
            Transport::builder_dangerous(&smtp.host).tls(Tls::Wrapper(tls_parameters()?))
        }
        Security::StartTls => {
            Transport::builder_dangerous(&smtp.host).tls(Tls::Required(tls_parameters()?))
        }
        Security::None => Transport::builder_dangerous(&smtp.host),
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(smtp.timeout))
        .hello_name(ClientId::Domain(settings.office.domain.clone()));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_string(),
        ));
    }
    Ok(builder.build())
}

/// Delivers every due outbox row (up to `worker.send_limit`).
#[tracing::instrument(skip_all, err)]
pub async fn deliver(
    store: &Store,
    settings: &Settings,
    clock: &Clock,
) -> anyhow::Result<DeliveryReport> {
    let mut report = DeliveryReport::default();
    let parked = store.outbox_park_interrupted(clock.now()).await?;
    if parked > 0 {
        tracing::warn!(
            parked,
            "outgoing mail interrupted mid-delivery by an earlier run is parked as uncertain"
        );
    }
    let first = store.due_outbox(clock.now(), 0, 1).await?;
    if first.is_empty() {
        return Ok(report);
    }
    let transport = transport(settings)?;
    if let Err(error) = transport.test_connection().await {
        let error = format!(
            "SMTP server {}:{} unreachable: {error}",
            settings.smtp.host, settings.smtp.port
        );
        tracing::warn!(%error, "outgoing mail stays queued");
        report.unreachable = Some(error);
        return Ok(report);
    }
    let mut after = 0;
    let limit = settings.worker.send_limit as u64;
    let mut attempted = 0u64;
    'pages: while attempted < limit {
        let page = (limit - attempted).min(100) as usize;
        let rows = store.due_outbox(clock.now(), after, page).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            after = row.id;
            attempted += 1;
            match send_one(store, &transport, &row, clock).await? {
                Attempt::Sent => report.sent += 1,
                Attempt::Failed => report.failed += 1,
                Attempt::Deferred => report.deferred += 1,
                Attempt::Uncertain => report.uncertain += 1,
                Attempt::Unreachable(error) => {
                    report.deferred += 1;
                    report.unreachable = Some(error);
                    break 'pages;
                }
            }
        }
    }
    transport.shutdown().await;
    Ok(report)
}

enum Attempt {
    Sent,
    Failed,
    Deferred,
    Uncertain,
    Unreachable(String),
}

#[tracing::instrument(skip_all, fields(outbox = row.id, message_id = %row.message_id, purpose = %row.purpose))]
async fn send_one(
    store: &Store,
    transport: &Transport,
    row: &OutboxRow,
    clock: &Clock,
) -> anyhow::Result<Attempt> {
    let envelope = envelope(row)?;
    if !store.outbox_claim(row.id).await? {
        return Ok(Attempt::Deferred);
    }
    failpoint("sending");
    let result = transport.send_raw(&envelope, &row.raw).await;
    match result {
        Ok(response) => {
            failpoint("sent");
            let reply = response.message().collect::<Vec<_>>().join(" ");
            store
                .outbox_sent(row, clock.now(), &format!("{} {reply}", response.code()))
                .await?;
            tracing::info!("delivered");
            Ok(Attempt::Sent)
        }
        Err(error) if error.is_permanent() => {
            let text = error.to_string();
            store
                .outbox_park(row, ParkedAs::Failed, clock.now(), &text)
                .await?;
            tracing::warn!(error = %text, "rejected permanently");
            Ok(Attempt::Failed)
        }
        Err(error) if error.is_transient() || never_reached_server(&error) => {
            let text = error.to_string();
            let next = clock.now() + backoff(row.attempts + 1);
            store.outbox_retry_later(row.id, next, &text).await?;
            tracing::warn!(error = %text, next_attempt_at = %next, "deferred");
            if error.is_transient() {
                Ok(Attempt::Deferred)
            } else {
                Ok(Attempt::Unreachable(text))
            }
        }
        Err(error) => {
            // The connection broke mid-transaction: the server may have accepted the
            // message. Sending again could answer twice, so the row is parked.
            let text = format!("delivery interrupted, server may have accepted it: {error}");
            store
                .outbox_park(row, ParkedAs::Uncertain, clock.now(), &text)
                .await?;
            tracing::error!(error = %text, "delivery uncertain; parked");
            Ok(Attempt::Uncertain)
        }
    }
}

fn envelope(row: &OutboxRow) -> anyhow::Result<Envelope> {
    let from = row.envelope_from.parse().ok();
    let to = row
        .recipients
        .iter()
        .map(|r| r.parse())
        .collect::<Result<Vec<lettre::Address>, _>>()
        .with_context(|| format!("outbox #{} has an invalid recipient", row.id))?;
    Envelope::new(from, to).with_context(|| format!("outbox #{} has no recipient", row.id))
}

/// True when the error shows the message never reached the server (refused, TLS failed).
fn never_reached_server(error: &lettre::transport::smtp::Error) -> bool {
    if error.is_tls() {
        return true;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            return matches!(
                io.kind(),
                ConnectionRefused
                    | NotConnected
                    | AddrNotAvailable
                    | HostUnreachable
                    | NetworkUnreachable
            );
        }
        source = cause.source();
    }
    error.to_string().starts_with("Connection error")
}

/// 1, 2, 4, … minutes, at most one hour.
pub fn backoff(attempt: i64) -> chrono::Duration {
    let minutes = 1i64 << (attempt.clamp(1, 7) - 1);
    chrono::Duration::minutes(minutes.min(60))
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_and_caps_at_an_hour() {
        assert_eq!(backoff(1).num_minutes(), 1);
        assert_eq!(backoff(2).num_minutes(), 2);
        assert_eq!(backoff(4).num_minutes(), 8);
        assert_eq!(backoff(30).num_minutes(), 60);
    }
}
