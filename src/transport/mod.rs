//! The only code that speaks to servers: IMAP (`imap/`), SMTP (`smtp.rs`) and the TLS
//! both use (`tls.rs`).

pub mod imap;
pub mod smtp;
pub mod tls;
