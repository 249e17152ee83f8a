use std::process::ExitCode;

use clap::Parser;
use pengaduan::cli::{self, Cli};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    pengaduan::heap::keep_freed_memory();
    let cli = Cli::parse();
    pengaduan::telemetry::init(cli.log_format, cli.command.logs_to_stdout());
    cli::main(cli).await
}
