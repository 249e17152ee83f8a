//! The words mail clients put around quoted history, in the languages they ship in:
//! attribution verbs, header-block labels, "Original Message" and forward separators,
//! "Sent from my …" signatures and mailing-list footers. Plain lists, compared with
//! `starts_with`/`contains` on lowercased text: no pattern is compiled at run time.
//! One file per kind of marker.

mod attribution;
mod header_block;
mod separators;
mod signatures;

pub(super) use attribution::ATTRIBUTION_VERBS;
pub(super) use header_block::{FROM_LABELS, HEADER_LABELS};
pub(super) use separators::{FORWARD_INTROS, FORWARDED_MESSAGE, ORIGINAL_MESSAGE};
pub(super) use signatures::{DEVICES, LIST_FOOTERS, LIST_MARKS, SENT_WORDS};
