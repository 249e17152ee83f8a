//! The office's procedure: what an inbound message becomes (`intake`), who may act by
//! reply (`security`), what a reply does (`workflow`, pure), carrying it out
//! (`procedure`), floods from one sender (`flood`) and the service standard's deadlines
//! (`deadline`). Everything here runs inside one register transaction and does no
//! network IO.

mod advance;
pub mod citizen;
pub mod deadline;
mod explain;
pub mod flood;
pub mod inquiry;
pub mod intake;
pub mod procedure;
pub mod returned;
pub mod screening;
pub mod security;
pub mod survey;
pub mod workflow;

use crate::config::Settings;
use crate::mail::compose::Composer;
use crate::mail::templates::Templates;
use crate::office::security::Tokens;

/// What recording needs besides the batch: settings, the templates, the token key
/// (shared by ingest, the procedure and the deadline sweep). Owned, so that a batch can
/// take it to the thread it is recorded on.
pub struct Context {
    pub settings: Settings,
    pub templates: Templates,
    pub tokens: Tokens,
}

/// A reply as the register recorded it: what it says, the hash its bytes are archived
/// under (its files travel with a draft), and its row in `messages`. What an official's
/// or the admin's action by email carries from intake to the procedure.
#[derive(Clone, Copy)]
pub struct Received<'a> {
    pub inbound: &'a crate::mail::parse::Inbound,
    pub raw_sha256: &'a str,
    pub message_row: i64,
}

impl Context {
    /// The one composer of outgoing mail.
    pub fn composer(&self) -> Composer<'_> {
        Composer::new(&self.settings, &self.templates)
    }
}
