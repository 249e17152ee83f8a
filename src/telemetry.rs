//! Logging: JSON lines when stdout is not a terminal (containers, cron), readable text
//! otherwise. `RUST_LOG` filters as usual (default `info`), but only our own code can log
//! below warnings: see [`caps`].

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, text otherwise.
    Auto,
    Json,
    Text,
}

/// The dependencies whose debug and trace logs carry what goes over the wire or through
/// a parser, and what they would show. [`caps`] holds every dependency to warnings and
/// errors, whatever `RUST_LOG` says; this list is what made that necessary (and what the
/// tests check stays capped).
pub const WIRE_LOGGERS: [(&str, &str); 7] = [
    (
        "async_imap",
        "every IMAP command and response: LOGIN with the password, whole messages",
    ),
    (
        "rustls",
        "TLS handshakes: certificates, session ids, key shares",
    ),
    ("sqlx", "every SQL statement"),
    ("html5ever", "the tokens of a message's HTML: its text"),
    ("markup5ever", "the tree built from a message's HTML"),
    (
        "lettre",
        "with its `tracing` feature: every SMTP command and reply, AUTH and messages",
    ),
    (
        "hyper",
        "with its `tracing` feature: the metrics endpoint's requests",
    ),
];

/// The levels each log source may reach: our own code any (it never logs bodies,
/// secrets or citizens' full addresses); every dependency, those of [`WIRE_LOGGERS`]
/// and any added later, at most warnings. Applied on top of `RUST_LOG`, so no setting
/// of it (`trace`, `async_imap=trace`, `async_imap::imap_stream=trace`) lifts the cap.
pub fn caps() -> Targets {
    Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target(env!("CARGO_CRATE_NAME"), LevelFilter::TRACE)
}

/// Logs go to stdout for `run` (where a log collector reads them) and to stderr for the
/// commands whose stdout is their answer (`list --json`, `show`, `parse`). A log line
/// that cannot be written (its reader went away) is dropped: reporting that on stderr,
/// as tracing-subscriber does by default, would panic the worker when stderr is gone too.
pub fn init(format: LogFormat, to_stdout: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Auto if to_stdout => !std::io::stdout().is_terminal(),
        LogFormat::Auto => !std::io::stderr().is_terminal(),
        LogFormat::Json => true,
        LogFormat::Text => false,
    };
    let terminal = if to_stdout {
        std::io::stdout().is_terminal()
    } else {
        std::io::stderr().is_terminal()
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour(terminal, std::env::var_os("NO_COLOR").as_deref()))
        .log_internal_errors(false);
    match (json, to_stdout) {
        (true, true) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .finish()
            .with(caps())
            .init(),
        (true, false) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(std::io::stderr)
            .finish()
            .with(caps())
            .init(),
        (false, true) => builder.compact().finish().with(caps()).init(),
        (false, false) => builder
            .compact()
            .with_writer(std::io::stderr)
            .finish()
            .with(caps())
            .init(),
    }
}

/// Colour codes only on a terminal, and never when `NO_COLOR` is set to anything
/// non-empty (no-color.org): log files and pipes get plain text.
fn colour(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

/// A panic's message on one line (a caught panic becomes an error or a quarantine reason).
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error and its causes on one line (`cannot connect: connection refused`).
pub fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain().map(|e| e.to_string()) {
        // Many errors repeat their source in their own text: say it once.
        if line.ends_with(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    line
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_line_says_a_repeated_cause_once() {
        let io = std::io::Error::other("peer closed connection");
        let error = anyhow::Error::new(io)
            .context("io: peer closed connection")
            .context("cannot fetch messages");
        assert_eq!(
            super::one_line(&error),
            "cannot fetch messages: io: peer closed connection"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(colour(true, None));
        assert!(colour(true, Some(OsStr::new(""))));
        assert!(!colour(true, Some(OsStr::new("1"))));
        assert!(!colour(false, None));
    }

    use tracing::Level;

    use super::*;

    #[test]
    fn dependencies_never_log_below_warnings() {
        let caps = caps();
        for (target, _) in WIRE_LOGGERS {
            for module in [target.to_owned(), format!("{target}::imap_stream")] {
                for level in [Level::TRACE, Level::DEBUG, Level::INFO] {
                    assert!(
                        !caps.would_enable(&module, &level),
                        "{module} at {level} is capped"
                    );
                }
                assert!(caps.would_enable(&module, &Level::WARN));
            }
        }
        assert!(!caps.would_enable("some_future_dependency", &Level::DEBUG));
        assert!(caps.would_enable("pengaduan::worker", &Level::TRACE));
    }
}
