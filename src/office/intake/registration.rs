//! Recording the administrator's form: a complaint registered for a citizen who wrote a
//! letter, came to the counter or called; or the form answered (blank, what is wrong,
//! or refused for a sender that fails the check). Nothing is registered unless the
//! whole form is right.

use chrono::Datelike;

use super::Acknowledgment;
use super::form::{BLANK, Form, FormReading};
use super::recording::{Outcome, Recording, Registration};
use super::requirements::{self, Requirements};
use crate::domain::{Channel, EmailAddress, Event, EventAction, InboundKind, RegisterNumber};
use crate::mail::Inbound;
use crate::mail::compose::{Citizen, Route, Unregistered};
use crate::store::{Batch, Destination, Refusal};

impl Recording<'_> {
    pub(super) fn admin_form(
        &self,
        batch: &mut Batch<'_>,
        reading: &FormReading,
        verified: bool,
    ) -> anyhow::Result<Outcome> {
        let admin = self
            .inbound()
            .sender()
            .ok_or_else(|| anyhow::anyhow!("a form without sender"))?;
        if !verified {
            return self.form_refused(batch, admin);
        }
        match reading {
            FormReading::Filled(form) => self.form_registered(batch, form, admin),
            FormReading::Blank => {
                let context = minijinja::context! { form => BLANK };
                self.form_answered(batch, admin, ("formulir", context), "blank form sent")
            }
            FormReading::Wrong(problems) => {
                let context = minijinja::context! { problems => problems, form => BLANK };
                let note = "form not registered: what is wrong sent";
                self.form_answered(batch, admin, ("formulir_salah", context), note)
            }
            FormReading::NotAForm => {
                Err(anyhow::anyhow!("a message that is no form was read as one"))
            }
        }
    }

    fn form_registered(
        &self,
        batch: &mut Batch<'_>,
        form: &Form,
        admin: &EmailAddress,
    ) -> anyhow::Result<Outcome> {
        let settings = &self.ctx.settings;
        // Without an email address, the citizen is the gateway address of their number
        // (so their SMS thread), else nobody's address.
        let by_sms = form
            .phone
            .as_ref()
            .zip(settings.channels.sms.as_ref())
            .and_then(|(phone, sms)| sms.address_of(phone));
        let reporter = form
            .email
            .clone()
            .or(by_sms)
            .unwrap_or_else(EmailAddress::none_given);
        let citizen = Citizen {
            channel: form.channel,
            email: &reporter,
            phone: form.phone.as_ref(),
            name: Some(&form.name),
            postal: form.address.as_deref(),
        };
        let registration = Registration {
            citizen,
            requirements: Requirements {
                nik: form.nik.clone(),
                ..requirements::of(self.inbound(), "")
            },
            by_admin: Some(admin),
        };
        let recorded = as_recorded(self.inbound(), form);
        let recording = Recording {
            inbound: &recorded,
            ..*self
        };
        let outcome = recording.register(batch, &registration, &Acknowledgment::Send)?;
        let (_, _, Some(number)) = &outcome else {
            return Err(anyhow::anyhow!("a registered form without a number"));
        };
        let id = batch
            .complaint_id_by_number(number)?
            .ok_or_else(|| anyhow::anyhow!("{number} vanished from the register"))?;
        let brief = batch.brief(id)?;
        let route = match Route::of(settings, &citizen) {
            Route::Email(_) => "email",
            Route::Sms { .. } => "sms",
            Route::Paper { .. } => "cetak",
        };
        let extra = minijinja::context! {
            route => route,
            nik => form.nik.as_ref().map_or("-", |nik| nik.expose()),
            channel => form.channel.as_str(),
        };
        let confirmation =
            self.ctx
                .composer()
                .info("daftar_diterima", &brief, admin, extra, self.now)?;
        batch.enqueue(Some(id), &confirmation, self.now)?;
        tracing::info!(number = %number, channel = %form.channel, route, "registered from the administrator's form");
        Ok(outcome)
    }

    /// The form answered to the administrator; nothing registered.
    fn form_answered(
        &self,
        batch: &mut Batch<'_>,
        admin: &EmailAddress,
        (template, context): (&'static str, minijinja::Value),
        note: &str,
    ) -> anyhow::Result<Outcome> {
        let now = self.now;
        let row = self.record(batch, InboundKind::StaffReply, None, (None, Some(note)))?;
        let in_reply_to = self.inbound().message_id.clone();
        self.queue_form_reply(batch, (admin, in_reply_to), (template, context))?;
        let detail = format!("message {}: {note}", self.key);
        batch.add_event(&Event::by(
            admin.as_str(),
            None,
            now,
            EventAction::FormAnswered,
            detail,
        ))?;
        tracing::info!(note, "administrator's form answered");
        Ok((row, Destination::Processed, None))
    }

    /// A form from an administrator's address that fails the sender check: recorded as
    /// an unauthorized attempt, and the administrators are told; nothing registered.
    fn form_refused(&self, batch: &mut Batch<'_>, admin: &EmailAddress) -> anyhow::Result<Outcome> {
        let now = self.now;
        let reason = "administrator's form from a sender that fails the check (one From; DKIM/SPF)";
        let row = self.record(batch, InboundKind::Unauthorized, None, (None, Some(reason)))?;
        batch.record_unauthorized(&Refusal {
            complaint_id: None,
            sender: Some(admin),
            reason,
            message_row: row,
            at: now,
        })?;
        batch.add_event(&Event::by(
            admin.as_str(),
            None,
            now,
            EventAction::UnauthorizedReply,
            reason,
        ))?;
        tracing::warn!("administrator's form refused: the sender fails the check");
        let problems =
            ["pengirim tidak terverifikasi (DKIM/SPF gagal, atau lebih dari satu pengirim)"];
        for to in &self.ctx.settings.roles.admin {
            let context = minijinja::context! { problems => problems, form => BLANK };
            self.queue_form_reply(batch, (to, None), ("formulir_salah", context))?;
        }
        Ok((row, Destination::Processed, None))
    }

    fn queue_form_reply(
        &self,
        batch: &mut Batch<'_>,
        (to, in_reply_to): (&EmailAddress, Option<String>),
        (template, context): (&'static str, minijinja::Value),
    ) -> anyhow::Result<()> {
        let settings = &self.ctx.settings;
        let year = self.now.with_timezone(&settings.office.timezone).year();
        // No complaint: the Message-ID names number 0 of the year.
        let number = RegisterNumber::new(&settings.office.number_prefix, year, 0);
        let reply = Unregistered {
            purpose: "daftar",
            template,
            to,
            context,
            in_reply_to,
            number: &number,
        };
        let outgoing = self.ctx.composer().unregistered(&reply, self.now)?;
        batch.enqueue(None, &outgoing, self.now)?;
        Ok(())
    }
}

/// The form's message as the register keeps it: the complaint's text only (the NIK and
/// the other fields live in the register's columns), under a subject that names the
/// channel.
fn as_recorded(inbound: &Inbound, form: &Form) -> Inbound {
    let mut recorded = inbound.clone();
    let label = match form.channel {
        Channel::Surat => "Surat",
        Channel::Langsung => "Datang langsung",
        Channel::Telepon => "Telepon",
        Channel::Email | Channel::Sms => "Pengaduan",
    };
    let preview = crate::mail::sanitize::one_line(&form.text, 60);
    recorded.subject = format!("{label}: {preview}");
    recorded.body_text = form.text.clone();
    recorded.body_html = None;
    recorded
}
