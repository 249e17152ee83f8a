//! Every integration test, in one binary: the support code (a private Dovecot and
//! Postfix per test, the office under test, the real `pengaduan` binary) compiles once.
//! One module per area.

mod support;

mod channels;
mod cli;
mod deadline;
mod exactly_once;
mod forms;
mod golden;
mod hardening;
mod holder;
mod hostile;
mod ingest;
mod mailstack;
mod operations;
mod procedure;
mod replies;
mod requirements;
mod safeguards;
mod upgrade;
