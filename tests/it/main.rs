//! Every integration test, in one binary: the support code (a private Dovecot and
//! Postfix per test, the office under test, the real `pengaduan` binary) compiles once.
//! One module per area.

mod support;

mod books;
mod bounced;
mod browser;
mod channels;
mod citizen;
mod cli;
mod deadline;
mod exactly_once;
mod faults;
mod forms;
mod golden;
mod hardening;
mod holder;
mod hostile;
mod ingest;
mod mailbox;
mod mailstack;
mod monthly;
mod operations;
mod procedure;
mod replies;
mod requirements;
mod safeguards;
mod scanning;
mod sending;
mod service;
mod sms_citizen;
mod upgrade;
