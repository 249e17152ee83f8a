//! The only code that speaks to servers: IMAP (`imap/`), SMTP (`smtp.rs`), the TLS both
//! use (`tls.rs`), and ClamAV's clamd (`clamd.rs`).

pub mod clamd;
pub mod imap;
pub mod smtp;
pub mod tls;
