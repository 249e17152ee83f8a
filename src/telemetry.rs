//! Logging: JSON lines when stdout is not a terminal (containers, cron), readable text
//! otherwise. `RUST_LOG` filters as usual (default `info`).

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON when stdout is not a terminal, text otherwise.
    Auto,
    Json,
    Text,
}

/// Logs go to stdout for `run` (where a log collector reads them) and to stderr for the
/// commands whose stdout is their answer (`list --json`, `show`, `parse`).
pub fn init(format: LogFormat, to_stdout: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Auto if to_stdout => !std::io::stdout().is_terminal(),
        LogFormat::Auto => !std::io::stderr().is_terminal(),
        LogFormat::Json => true,
        LogFormat::Text => false,
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match (json, to_stdout) {
        (true, true) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        (true, false) => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_writer(std::io::stderr)
            .init(),
        (false, true) => builder.compact().init(),
        (false, false) => builder.compact().with_writer(std::io::stderr).init(),
    }
}
