//! `pengaduan`: the public-complaint service of Diskominfo Kaltara, run over email.
//!
//! Data flows one way: mailbox → parse → classify → decide → store → outbox → SMTP.
//! See ARCHITECTURE.md for the map of these modules and their invariants.

pub mod cli;
pub mod clock;
pub mod config;
pub mod deadline;
pub mod domain;
pub mod failpoint;
pub mod flood;
pub mod heap;
pub mod imap;
pub mod ingest;
pub mod lock;
pub mod mail;
pub mod metrics;
pub mod outbox;
pub mod procedure;
pub mod security;
pub mod smtp;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod worker;
pub mod workflow;
