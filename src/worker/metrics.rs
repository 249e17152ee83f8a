//! Prometheus text exposition of [`Health`]: written after each `run --once` with
//! `--metrics-file` (for node_exporter's textfile collector), and served over HTTP on
//! `worker.metrics_addr` by the long-running worker. Every scrape reads the database, so
//! the figures are the same whichever way they are collected.

use std::fmt::Write;

use crate::clock::Clock;
use crate::domain::Status;
use crate::store::Health;

const DURATION_BUCKETS: [f64; 9] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0];

pub fn render(health: &Health) -> String {
    let mut text = Exposition::default();
    counters(&mut text, health);
    gauges(&mut text, health);
    durations(&mut text, health);
    freshness(&mut text, health);
    text.0
}

/// The Prometheus text format, one family at a time.
#[derive(Default)]
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, label: Option<(&str, &str)>, value: impl std::fmt::Display) {
        let _ = match label {
            Some((key, label)) => writeln!(self.0, "{name}{{{key}=\"{label}\"}} {value}"),
            None => writeln!(self.0, "{name} {value}"),
        };
    }
}

const INGESTED_KINDS: [&str; 11] = [
    "complaint",
    "follow_up",
    "third_party",
    "status_request",
    "rating",
    "staff_reply",
    "unauthorized",
    "auto_reply",
    "bounce",
    "quarantined",
    "declined",
];

fn counters(text: &mut Exposition, health: &Health) {
    let name = "pengaduan_messages_ingested_total";
    text.family(
        name,
        "counter",
        "Inbound messages recorded, by what they became.",
    );
    for kind in INGESTED_KINDS {
        text.sample(
            name,
            Some(("kind", kind)),
            Health::count(&health.messages_by_kind, kind),
        );
    }
    let totals = [
        (
            "pengaduan_mail_sent_total",
            "Outgoing messages accepted by the SMTP server.",
            Health::count(&health.outbox_by_status, "sent"),
        ),
        (
            "pengaduan_mail_failed_total",
            "Outgoing messages rejected permanently (5xx).",
            Health::count(&health.outbox_by_status, "failed"),
        ),
        (
            "pengaduan_mail_bounced_total",
            "Outgoing messages accepted by SMTP and bounced later (a DSN came back).",
            Health::count(&health.outbox_by_status, "bounced"),
        ),
        (
            "pengaduan_quarantined_total",
            "Inbound messages quarantined.",
            health.quarantined,
        ),
        (
            "pengaduan_unauthorized_replies_total",
            "Replies that tried to act without the right to.",
            health.unauthorized,
        ),
    ];
    for (name, help, value) in totals {
        text.family(name, "counter", help);
        text.sample(name, None, value);
    }
}

fn gauges(text: &mut Exposition, health: &Health) {
    let name = "pengaduan_complaints";
    text.family(name, "gauge", "Complaints by status.");
    for status in Status::ALL {
        let value = Health::count(&health.complaints_by_status, status.as_str());
        text.sample(name, Some(("status", status.as_str())), value);
    }
    let name = "pengaduan_complaints_overdue";
    text.family(name, "gauge", "Open complaints past their deadline.");
    text.sample(name, None, health.overdue);
    let name = "pengaduan_outbox_depth";
    text.family(name, "gauge", "Outgoing messages not sent, by status.");
    for status in ["pending", "sending", "failed", "uncertain"] {
        let value = Health::count(&health.outbox_by_status, status);
        text.sample(name, Some(("status", status)), value);
    }
}

fn durations(text: &mut Exposition, health: &Health) {
    let name = "pengaduan_cycle_duration_seconds";
    text.family(name, "histogram", "Duration of successful cycles.");
    let seconds: Vec<f64> = health
        .cycle_durations_ms
        .iter()
        .map(|ms| *ms as f64 / 1000.0)
        .collect();
    let bucket_name = "pengaduan_cycle_duration_seconds_bucket";
    for bucket in DURATION_BUCKETS {
        let within = seconds.iter().filter(|s| **s <= bucket).count();
        text.sample(bucket_name, Some(("le", &bucket.to_string())), within);
    }
    text.sample(bucket_name, Some(("le", "+Inf")), seconds.len());
    text.sample(
        "pengaduan_cycle_duration_seconds_sum",
        None,
        seconds.iter().sum::<f64>(),
    );
    text.sample(
        "pengaduan_cycle_duration_seconds_count",
        None,
        seconds.len(),
    );
}

fn freshness(text: &mut Exposition, health: &Health) {
    let last_success = health
        .last_success_at
        .as_deref()
        .and_then(crate::clock::parse_rfc3339);
    if let Some(at) = last_success {
        let name = "pengaduan_last_success_timestamp_seconds";
        text.family(name, "gauge", "When the last successful cycle finished.");
        text.sample(name, None, at.timestamp());
    }
    let name = "pengaduan_last_cycle_failed";
    text.family(
        name,
        "gauge",
        "1 when the most recent cycle failed (status: FAILING), else 0.",
    );
    text.sample(name, None, u8::from(health.last_cycle_failed));
}

/// Writes `text` to `path` atomically (a temporary file renamed into place), so a
/// collector never reads half a file.
pub fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("prom.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Serves `GET /metrics` (anything else is 404) until the process ends. Each connection
/// is handled on its own task; a failing scrape is answered 500 and logged.
pub async fn serve(listener: tokio::net::TcpListener, store: crate::store::Store, clock: Clock) {
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "metrics endpoint: cannot accept a connection");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let store = store.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| scrape(request, store.clone(), clock));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn scrape(
    request: hyper::Request<hyper::body::Incoming>,
    store: crate::store::Store,
    clock: Clock,
) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    let respond = |status: u16, content_type: &str, body: String| {
        let mut response =
            hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
        if let Ok(value) = content_type.parse() {
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, value);
        }
        response
    };
    if request.method() != hyper::Method::GET || request.uri().path() != "/metrics" {
        return Ok(respond(
            404,
            "text/plain",
            "not found; metrics are at /metrics\n".into(),
        ));
    }
    Ok(match store.health(clock.now()).await {
        Ok(health) => respond(200, "text/plain; version=0.0.4", render(&health)),
        Err(error) => {
            tracing::warn!(%error, "metrics endpoint: cannot read the database");
            respond(
                500,
                "text/plain",
                format!("cannot read the database: {error}\n"),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_renders_as_prometheus_text() {
        let health = Health {
            messages_by_kind: vec![("complaint".into(), 3), ("quarantined".into(), 1)],
            outbox_by_status: vec![("sent".into(), 5), ("pending".into(), 2)],
            complaints_by_status: vec![("menunggu_disposisi".into(), 3)],
            quarantined: 1,
            overdue: 1,
            cycle_durations_ms: vec![80, 1500],
            last_success_at: Some("2026-11-30T02:00:00Z".into()),
            ..Health::default()
        };
        let text = render(&health);
        assert!(text.contains("pengaduan_messages_ingested_total{kind=\"complaint\"} 3\n"));
        assert!(text.contains("pengaduan_mail_sent_total 5\n"));
        assert!(text.contains("pengaduan_outbox_depth{status=\"pending\"} 2\n"));
        assert!(text.contains("pengaduan_complaints{status=\"menunggu_disposisi\"} 3\n"));
        assert!(text.contains("pengaduan_complaints{status=\"selesai\"} 0\n"));
        assert!(text.contains("pengaduan_cycle_duration_seconds_bucket{le=\"0.1\"} 1\n"));
        assert!(text.contains("pengaduan_cycle_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("pengaduan_last_success_timestamp_seconds 1796004000\n"));
        assert!(text.contains("pengaduan_last_cycle_failed 0\n"));
        let failing = Health {
            last_cycle_failed: true,
            ..health.clone()
        };
        assert!(render(&failing).contains("pengaduan_last_cycle_failed 1\n"));
        assert!(
            text.lines()
                .all(|l| l.starts_with('#') || l.starts_with("pengaduan_"))
        );
    }
}
