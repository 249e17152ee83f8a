//! `pengaduan`: the public-complaint service of Diskominfo Kaltara, run over email.
//!
//! Data flows one way: mailbox → parse → classify → decide → store → outbox → SMTP.
//! See ARCHITECTURE.md for the map of these modules and their invariants.

pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod failpoint;
pub mod heap;
pub mod mail;
pub mod office;
pub mod report;
pub mod store;
pub mod telemetry;
pub mod transport;
pub mod worker;
