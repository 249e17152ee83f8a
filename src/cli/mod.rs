//! The command line: clap definitions, the commands, and the printers for people and
//! for scripts (`--json`, documented in the README).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use serde::Serialize;

mod agenda;
mod backup;
mod check;
mod form;
mod inspect;
mod list;
mod outgoing;
mod quarantine;
mod report;
mod sheet;
mod show;
mod status;

use crate::config::{ConfigError, Settings};
use crate::telemetry::{LogFormat, one_line};
use crate::worker;

#[derive(Debug, Parser)]
#[command(
    name = "pengaduan",
    version,
    about = "Public-complaint service over email: IMAP ingest, SQLite register, SMTP replies",
    long_about = "Runs the public-complaint service (Layanan Pengaduan Masyarakat) of Diskominfo Kaltara over email.\n\
                  Every setting in the configuration file can be overridden by an environment variable\n\
                  PENGADUAN__<SECTION>__<KEY>, e.g. PENGADUAN__IMAP__PASSWORD."
)]
pub struct Cli {
    /// Configuration file.
    #[arg(long, global = true, env = "PENGADUAN_CONFIG", default_value = crate::config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Log format: JSON lines when not on a terminal (auto), or forced.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the worker: with --once, one full cycle (ingest, send) then exit.
    Run {
        /// One cycle, then exit (for cron).
        #[arg(long)]
        once: bool,
        /// Seconds between cycles in long-running mode.
        #[arg(long, default_value_t = 60)]
        interval: u64,
        /// After each cycle, write Prometheus metrics to this file (node_exporter's
        /// textfile collector).
        #[arg(long)]
        metrics_file: Option<PathBuf>,
    },
    /// How the worker is doing; exit status 1 when the most recent cycle failed or the
    /// last successful cycle is older than worker.stale_after_seconds (a liveness or
    /// monitoring probe).
    Status {
        #[arg(long)]
        json: bool,
    },
    /// List the complaint register.
    List {
        /// Only complaints with this status (menunggu_disposisi, menunggu_jawaban,
        /// menunggu_persetujuan, selesai, ditutup).
        #[arg(long)]
        status: Option<String>,
        /// Only open complaints past their deadline, most overdue first.
        #[arg(long)]
        overdue: bool,
        /// Print at most N complaints (default: 50 in the table, all with --json).
        #[arg(long, value_name = "N", conflicts_with = "all")]
        limit: Option<u32>,
        /// Print every matching complaint.
        #[arg(long)]
        all: bool,
        /// Print JSON (an array; see the README).
        #[arg(long)]
        json: bool,
        /// Print reporters' NIKs in full (personal data; masked otherwise).
        #[arg(long)]
        reveal_nik: bool,
    },
    /// Show one complaint with its messages and audit events.
    Show {
        /// Register number, e.g. ADU-2026-00042.
        number: String,
        #[arg(long)]
        json: bool,
        /// Print the reporter's NIK in full, and any NIK in the messages (personal data;
        /// masked otherwise).
        #[arg(long)]
        reveal_nik: bool,
    },
    /// Validate the configuration and reach the database, IMAP and SMTP.
    Check,
    /// Take a consistent copy of the live database (safe while a worker runs).
    Backup {
        /// Where to write the copy; must not exist yet.
        path: PathBuf,
    },
    /// Inspect quarantined messages and put one back in the mailbox after a fix.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// Inspect outgoing mail and re-queue a failed or uncertain message.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// The monthly report: received, answered, time to answer, overdue, satisfaction
    /// (IKM), refused and bounced mail; one month in the office's time zone.
    Report {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        #[arg(long, value_enum, default_value_t = report::ReportFormat::Html)]
        format: report::ReportFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The agenda book: the complaints received from one day to another (inclusive,
    /// office time zone).
    Agenda {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = agenda::AgendaFormat::Csv)]
        format: agenda::AgendaFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The complaint sheet and the disposition sheet of one complaint, for A4 printing.
    Sheet {
        /// Register number, e.g. ADU-2026-00042.
        number: String,
        #[arg(long, value_enum, default_value_t = sheet::SheetFormat::Html)]
        format: sheet::SheetFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the blank form the administrator emails to register a letter, a walk-in or
    /// a phone call (see the README); needs no configuration.
    Form,
    /// Show what the worker would make of one .eml file (touches no database or mailbox).
    Parse {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuarantineAction {
    /// Quarantined messages, newest first, with the reason.
    List {
        #[arg(long)]
        json: bool,
    },
    /// What the worker made of one quarantined message (as `parse` shows it).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Put the message back in the mailbox, to be processed afresh by the next cycle.
    Retry { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum OutboxAction {
    /// Outgoing mail, newest first.
    List {
        /// Only this status: pending, sending, sent, failed, uncertain.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Re-queue a failed or uncertain message; the next cycle sends it.
    Retry { id: i64 },
}

impl Command {
    pub fn logs_to_stdout(&self) -> bool {
        matches!(self, Command::Run { .. })
    }

    /// Whether the command talks to the mail servers. TLS writes a socket with
    /// `writev`, which raises SIGPIPE when the peer has gone: these commands keep the
    /// signal ignored and print with [`say`] instead.
    fn speaks_to_servers(&self) -> bool {
        matches!(
            self,
            Command::Run { .. }
                | Command::Check
                | Command::Quarantine {
                    action: QuarantineAction::Retry { .. }
                }
        )
    }
}

/// Prints one line of a command's answer; when its reader has gone away, the command
/// ends quietly (exit 0), as the others do by SIGPIPE.
pub(crate) fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(line).and_then(|()| out.write_all(b"\n"));
    if written.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
        std::process::exit(0);
    }
}

/// Runs the command and maps the outcome to the process exit status: 0 success, 1 a
/// failure at run time, 2 a configuration error.
pub async fn main(cli: Cli) -> ExitCode {
    if !cli.command.speaks_to_servers() {
        end_quietly_when_the_reader_goes_away();
    }
    match execute(&cli).await {
        Ok(code) => code,
        Err(error) => {
            // Written, not `eprintln!`: a worker whose stderr is gone still exits with
            // its status rather than a panic's.
            use std::io::Write as _;
            if let Some(config) = error.downcast_ref::<ConfigError>() {
                let _ = writeln!(std::io::stderr(), "error: configuration: {config}");
                return ExitCode::from(2);
            }
            let _ = writeln!(std::io::stderr(), "error: {}", one_line(&error));
            ExitCode::from(1)
        }
    }
}

/// A command that prints its answer (`list | head -1`) ends when its reader goes away,
/// quietly, as Unix tools do: SIGPIPE's default action is restored (Rust ignores the
/// signal, so the next `println!` would panic on the broken pipe). Commands that talk to
/// the mail servers keep ignoring it (see [`Command::speaks_to_servers`]): the worker
/// carries on when a log line cannot be written (`telemetry`), and `check` prints with
/// [`say`].
fn end_quietly_when_the_reader_goes_away() {
    // SAFETY: sets the disposition of one signal that this program installs no handler
    // for; nothing else in the process depends on SIGPIPE being ignored.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn execute(cli: &Cli) -> anyhow::Result<ExitCode> {
    if let Command::Parse { file, json } = &cli.command {
        return inspect::parse_file(cli, file, *json);
    }
    if let Command::Form = &cli.command {
        return Ok(form::print_blank());
    }
    let settings = Settings::load(&cli.config)?;
    let database = settings.database.url.clone();
    dispatch(cli, settings)
        .await
        .map_err(|error| name_damaged_database(&database, error))
}

/// A damaged database file is said to be one, naming it and what to do, whichever
/// command found it (rather than SQLite's bare "database disk image is malformed").
pub(crate) fn name_damaged_database(database: &str, error: anyhow::Error) -> anyhow::Error {
    if !crate::store::is_corruption(&error) {
        return error;
    }
    anyhow::anyhow!(
        "the database {database} is damaged: {}; stop the worker and restore the latest \
         backup (README, \"Back up and restore\")",
        error.root_cause()
    )
}

async fn dispatch(cli: &Cli, settings: Settings) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Run {
            once,
            interval,
            metrics_file,
        } => {
            let mode = worker::service::Mode {
                once: *once,
                interval: *interval,
                metrics_file: metrics_file.as_deref(),
            };
            worker::service::run(&settings, mode).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => status::status(&settings, *json).await,
        Command::List {
            status,
            overdue,
            limit,
            all,
            json,
            reveal_nik,
        } => {
            let asked = list::Asked {
                status: status.as_deref(),
                overdue: *overdue,
                limit: *limit,
                all: *all,
                json: *json,
                reveal_nik: *reveal_nik,
            };
            list::list(&settings, asked).await
        }
        Command::Show {
            number,
            json,
            reveal_nik,
        } => show::show(&settings, number, (*json, *reveal_nik)).await,
        Command::Check => check::check(&settings).await,
        Command::Backup { path } => backup::backup(&settings, path).await,
        Command::Quarantine { action } => quarantine::quarantine(&settings, action).await,
        Command::Outbox { action } => outgoing::outbox(&settings, action).await,
        Command::Report { month, format, out } => {
            report::report(&settings, month, *format, out.as_deref()).await
        }
        Command::Agenda {
            from,
            to,
            format,
            out,
        } => {
            let period = agenda::Period { from, to };
            agenda::agenda(&settings, period, *format, out.as_deref()).await
        }
        Command::Sheet {
            number,
            format,
            out,
        } => sheet::sheet(&settings, number, *format, out.as_deref()).await,
        Command::Parse { .. } | Command::Form => unreachable!("handled above"),
    }
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot serialise JSON")?;
    println!("{text}");
    Ok(())
}
