//! `pengaduan form`: the blank form the administrator fills in to register a letter, a
//! walk-in or a phone call by email.

use std::process::ExitCode;

use crate::office::intake::form::BLANK;

pub(super) fn print_blank() -> ExitCode {
    for line in BLANK.lines() {
        super::say(format_args!("{line}"));
    }
    ExitCode::SUCCESS
}
