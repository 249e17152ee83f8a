//! Email as data: parsing inbound bytes, classifying them, and composing outgoing mail.

pub mod classify;
pub mod compose;
pub mod identity;
pub mod parse;
pub mod reading;
pub mod reply;
pub mod sanitize;
pub mod sms;
pub mod templates;

pub use classify::{Classification, classify};
pub use parse::{Attachment, Inbound, Party, parse};
pub use reading::Reading;
