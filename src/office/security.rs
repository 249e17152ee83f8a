//! Who may act by reply. A reply changes a complaint only if it answers a notification
//! the worker sent to that role for the current stage (proved by an HMAC token in the
//! notification's Message-ID), comes From one of that role's addresses, and — when a
//! trusted authserv-id is configured — passed DKIM or SPF for the sender's domain.
//! Pure: the caller looks up the referenced notifications.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::config::{Role, Roles};
use crate::domain::EmailAddress;
use crate::mail::parse::AuthenticationResults;
use crate::office::workflow::Stage;

/// Hex characters of the HMAC kept in a Message-ID (128 bits).
const TOKEN_LEN: usize = 32;

pub struct Tokens {
    secret: SecretString,
}

impl Tokens {
    pub fn new(secret: &SecretString) -> Tokens {
        Tokens {
            secret: secret.clone(),
        }
    }

    fn mac(&self, number: &str, stage: &str, role: &str, recipient: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        for part in [number, stage, role, recipient] {
            mac.update(part.as_bytes());
            mac.update(b"\x1f");
        }
        mac
    }

    /// The token for a notification about `number` at `stage`, to `recipient` in `role`.
    pub fn token(&self, number: &str, stage: &str, role: &str, recipient: &str) -> String {
        let digest = self
            .mac(number, stage, role, recipient)
            .finalize()
            .into_bytes();
        hex::encode(digest)[..TOKEN_LEN].to_string()
    }

    pub fn verify(
        &self,
        token: &str,
        number: &str,
        stage: &str,
        role: &str,
        recipient: &str,
    ) -> bool {
        let Ok(bytes) = hex::decode(token) else {
            return false;
        };
        token.len() == TOKEN_LEN
            && self
                .mac(number, stage, role, recipient)
                .verify_truncated_left(&bytes)
                .is_ok()
    }
}

pub use crate::domain::lifecycle::Referenced;

pub use crate::mail::compose::token_of;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// May act on the complaint as this role.
    Act { complaint_id: i64, role: Role },
    /// The right person answering an earlier stage: recorded, nothing changes, and the
    /// sender is told the current state.
    Stale { complaint_id: i64, role: Role },
    Unauthorized {
        complaint_id: Option<i64>,
        reason: String,
    },
}

pub struct Evidence<'a> {
    pub sender: Option<&'a EmailAddress>,
    pub referenced: &'a [Referenced],
    /// `Some(passed)` when a trusted authserv-id is configured.
    pub authenticated: Option<bool>,
    /// More than one From header or address (see `Inbound::ambiguous_from`).
    pub ambiguous_from: bool,
}

/// Decides whether a reply may act. `current` gives a complaint's current stage and
/// division.
pub fn verdict(
    evidence: &Evidence<'_>,
    tokens: &Tokens,
    roles: &Roles,
    current: impl Fn(i64) -> Option<(Stage, Option<String>)>,
) -> Verdict {
    let genuine: Vec<&Referenced> = evidence
        .referenced
        .iter()
        .filter(|r| tokens.verify(&r.token, &r.number, &r.stage, &r.role, &r.recipient))
        .collect();
    let complaint_id = genuine
        .first()
        .map(|r| r.complaint_id)
        .or(evidence.referenced.first().map(|r| r.complaint_id));
    let unauthorized = |reason: &str| Verdict::Unauthorized {
        complaint_id,
        reason: reason.to_string(),
    };
    let Some(sender) = evidence.sender else {
        return unauthorized("no usable From address");
    };
    if evidence.ambiguous_from {
        return unauthorized("more than one From header or address");
    }
    if evidence.authenticated == Some(false) {
        return unauthorized(
            "Authentication-Results of the trusted server show no DKIM or SPF pass for the sender's domain",
        );
    }
    let Some(first) = genuine.first() else {
        return unauthorized("does not reply to a notification of the worker with a valid token");
    };
    let complaint_id = first.complaint_id;
    let of_complaint: Vec<&&Referenced> = genuine
        .iter()
        .filter(|r| r.complaint_id == complaint_id)
        .collect();
    let sender_roles = roles.roles_of(sender);
    if sender_roles.contains(&Role::Admin) {
        return Verdict::Act {
            complaint_id,
            role: Role::Admin,
        };
    }
    let role_of = |r: &Referenced| Role::from_key(&r.role);
    let sent_to_sender_role = of_complaint
        .iter()
        .filter_map(|r| role_of(r))
        .find(|role| sender_roles.contains(role));
    let Some(sender_role) = sent_to_sender_role else {
        return unauthorized("From is not an address of the role the notification was sent to");
    };
    let Some((stage, division)) = current(complaint_id) else {
        return Verdict::Stale {
            complaint_id,
            role: sender_role,
        };
    };
    let holder = stage.holder(division.as_deref());
    let current_notification = of_complaint.iter().any(|r| {
        r.stage == stage.key() && Some(&r.role) == holder.as_ref().map(Role::key).as_ref()
    });
    match holder {
        Some(holder) if current_notification && sender_roles.contains(&holder) => Verdict::Act {
            complaint_id,
            role: holder,
        },
        _ => Verdict::Stale {
            complaint_id,
            role: sender_role,
        },
    }
}

/// Whether the `Authentication-Results` that `authserv_id` added show `dkim=pass` (with
/// `header.d` the sender's domain) or `spf=pass` (with `smtp.mailfrom` in that domain).
///
/// Only the topmost headers with that authserv-id count: those with the fewest
/// `Received:` headers above them (RFC 8601 §5). Headers with the same name further down
/// the trace arrived with the message and may be forged; the trusted server is relied on
/// to add its own results and to remove foreign ones bearing its name.
pub fn authenticated(
    headers: &[AuthenticationResults],
    authserv_id: &str,
    sender: &EmailAddress,
) -> bool {
    let of_server: Vec<&AuthenticationResults> = headers
        .iter()
        .filter(|header| authserv_id_of(&header.value).eq_ignore_ascii_case(authserv_id))
        .collect();
    let Some(top) = of_server.iter().map(|h| h.received_above).min() else {
        return false;
    };
    of_server
        .iter()
        .filter(|header| header.received_above == top)
        .any(|header| shows_pass(&header.value, sender))
}

fn authserv_id_of(value: &str) -> &str {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .next()
        .unwrap_or("")
}

/// Whether one header's results show a pass for the sender's domain.
fn shows_pass(value: &str, sender: &EmailAddress) -> bool {
    let domain = sender.as_str().rsplit_once('@').map_or("", |(_, d)| d);
    value.split(';').skip(1).any(|result| {
        let words: Vec<String> = result
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let has = |w: &str| words.iter().any(|x| x == w);
        let property = |name: &str| {
            words.iter().find_map(|x| {
                x.strip_prefix(name)
                    .map(|v| v.trim_matches(['"', '<', '>']).to_string())
            })
        };
        let dkim = has("dkim=pass") && property("header.d=").is_some_and(|d| d == domain);
        let spf = has("spf=pass")
            && property("smtp.mailfrom=")
                .is_some_and(|m| m == domain || m.ends_with(&format!("@{domain}")));
        dkim || spf
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> Roles {
        let a = |s: &str| vec![EmailAddress::parse(s).expect("valid")];
        Roles {
            admin: a("admin@kaltaraprov.go.id"),
            kepala_dinas: a("kadis@kaltaraprov.go.id"),
            kasubbag_umum: a("kasubbag@kaltaraprov.go.id"),
            bidang: [("aptika".to_string(), a("kabid.aptika@kaltaraprov.go.id"))]
                .into_iter()
                .collect(),
        }
    }

    fn tokens() -> Tokens {
        Tokens::new(&SecretString::from("0123456789abcdef0123".to_string()))
    }

    fn notification(stage: &Stage, role: &Role, recipient: &str) -> Referenced {
        let token = tokens().token("ADU-2026-00001", &stage.key(), &role.key(), recipient);
        Referenced {
            complaint_id: 1,
            number: "ADU-2026-00001".into(),
            stage: stage.key(),
            role: role.key(),
            recipient: recipient.into(),
            purpose: "disp".into(),
            token,
        }
    }

    fn judge(sender: &str, referenced: &[Referenced], stage: Stage) -> Verdict {
        let sender = EmailAddress::parse(sender).expect("valid");
        let evidence = Evidence {
            sender: Some(&sender),
            referenced,
            authenticated: None,
            ambiguous_from: false,
        };
        verdict(&evidence, &tokens(), &roles(), |_| {
            Some((stage.clone(), Some("aptika".into())))
        })
    }

    #[test]
    fn the_right_role_at_the_current_stage_acts() {
        let n = notification(
            &Stage::Persetujuan(1),
            &Role::KasubbagUmum,
            "kasubbag@kaltaraprov.go.id",
        );
        assert_eq!(
            judge("kasubbag@kaltaraprov.go.id", &[n], Stage::Persetujuan(1)),
            Verdict::Act {
                complaint_id: 1,
                role: Role::KasubbagUmum
            }
        );
    }

    #[test]
    fn forged_from_without_a_token_is_unauthorized() {
        assert!(matches!(
            judge("kasubbag@kaltaraprov.go.id", &[], Stage::Persetujuan(1)),
            Verdict::Unauthorized { .. }
        ));
        let mut tampered = notification(
            &Stage::Persetujuan(1),
            &Role::KasubbagUmum,
            "kasubbag@kaltaraprov.go.id",
        );
        tampered.token = "0".repeat(32);
        assert!(matches!(
            judge(
                "kasubbag@kaltaraprov.go.id",
                &[tampered],
                Stage::Persetujuan(1)
            ),
            Verdict::Unauthorized { .. }
        ));
    }

    #[test]
    fn a_token_for_another_role_does_not_let_a_citizen_act() {
        let n = notification(
            &Stage::Persetujuan(1),
            &Role::KasubbagUmum,
            "kasubbag@kaltaraprov.go.id",
        );
        assert!(matches!(
            judge("warga@example.net", &[n], Stage::Persetujuan(1)),
            Verdict::Unauthorized { .. }
        ));
        let to_kadis = notification(
            &Stage::Disposisi,
            &Role::KepalaDinas,
            "kadis@kaltaraprov.go.id",
        );
        assert!(matches!(
            judge(
                "kasubbag@kaltaraprov.go.id",
                &[to_kadis],
                Stage::Persetujuan(1)
            ),
            Verdict::Unauthorized { .. }
        ));
    }

    #[test]
    fn a_token_only_proves_its_own_complaint_stage_role_and_recipient() {
        let t = tokens();
        let token = t.token(
            "ADU-2026-00002",
            "persetujuan:1",
            "kasubbag_umum",
            "kasubbag@kaltaraprov.go.id",
        );
        assert!(t.verify(
            &token,
            "ADU-2026-00002",
            "persetujuan:1",
            "kasubbag_umum",
            "kasubbag@kaltaraprov.go.id"
        ));
        assert!(!t.verify(
            &token,
            "ADU-2026-00001",
            "persetujuan:1",
            "kasubbag_umum",
            "kasubbag@kaltaraprov.go.id"
        ));
        assert!(!t.verify(
            &token,
            "ADU-2026-00002",
            "persetujuan:2",
            "kasubbag_umum",
            "kasubbag@kaltaraprov.go.id"
        ));
        assert!(!t.verify(
            &token,
            "ADU-2026-00002",
            "persetujuan:1",
            "kepala_dinas",
            "kasubbag@kaltaraprov.go.id"
        ));
        assert!(!t.verify(
            &token,
            "ADU-2026-00002",
            "persetujuan:1",
            "kasubbag_umum",
            "warga@example.net"
        ));
        let other_key = Tokens::new(&SecretString::from("another-secret-0123456789".to_string()));
        assert!(!other_key.verify(
            &token,
            "ADU-2026-00002",
            "persetujuan:1",
            "kasubbag_umum",
            "kasubbag@kaltaraprov.go.id"
        ));
    }

    #[test]
    fn an_earlier_stage_is_stale() {
        let old = notification(
            &Stage::Persetujuan(1),
            &Role::KasubbagUmum,
            "kasubbag@kaltaraprov.go.id",
        );
        assert_eq!(
            judge("kasubbag@kaltaraprov.go.id", &[old], Stage::Persetujuan(2)),
            Verdict::Stale {
                complaint_id: 1,
                role: Role::KasubbagUmum
            }
        );
    }

    #[test]
    fn failed_authentication_is_unauthorized() {
        let n = notification(
            &Stage::Disposisi,
            &Role::KepalaDinas,
            "kadis@kaltaraprov.go.id",
        );
        let sender = EmailAddress::parse("kadis@kaltaraprov.go.id").expect("valid");
        let evidence = Evidence {
            sender: Some(&sender),
            referenced: &[n],
            authenticated: Some(false),
            ambiguous_from: false,
        };
        let v = verdict(&evidence, &tokens(), &roles(), |_| {
            Some((Stage::Disposisi, None))
        });
        assert!(matches!(v, Verdict::Unauthorized { .. }));
    }

    fn results(headers: &[(usize, &str)]) -> Vec<AuthenticationResults> {
        headers
            .iter()
            .map(|(received_above, value)| AuthenticationResults {
                received_above: *received_above,
                value: value.to_string(),
            })
            .collect()
    }

    #[test]
    fn authentication_results_are_read_from_the_trusted_server_only() {
        let kadis = EmailAddress::parse("kadis@kaltaraprov.go.id").expect("valid");
        let mx = "mx.kaltaraprov.go.id";
        let pass = results(&[(
            1,
            "mx.kaltaraprov.go.id; dkim=pass header.d=kaltaraprov.go.id header.s=s1; spf=fail",
        )]);
        assert!(authenticated(&pass, mx, &kadis));
        assert!(
            !authenticated(&pass, "other.example", &kadis),
            "another server's results are not trusted"
        );
        let spf = results(&[(
            0,
            "mx.kaltaraprov.go.id; spf=pass smtp.mailfrom=kadis@kaltaraprov.go.id",
        )]);
        assert!(authenticated(&spf, mx, &kadis));
        let wrong_domain = results(&[(0, "mx.kaltaraprov.go.id; dkim=pass header.d=evil.example")]);
        assert!(!authenticated(&wrong_domain, mx, &kadis));
    }

    #[test]
    fn results_below_the_trusted_servers_own_are_ignored() {
        let kadis = EmailAddress::parse("kadis@kaltaraprov.go.id").expect("valid");
        let mx = "mx.kaltaraprov.go.id";
        let forged_below = results(&[
            (
                1,
                "mx.kaltaraprov.go.id; dkim=none; spf=fail smtp.mailfrom=kaltaraprov.go.id",
            ),
            (
                2,
                "mx.kaltaraprov.go.id; dkim=pass header.d=kaltaraprov.go.id",
            ),
        ]);
        assert!(
            !authenticated(&forged_below, mx, &kadis),
            "a pass that arrived with the message does not count"
        );
        let same_hop = results(&[
            (1, "mx.kaltaraprov.go.id; dkim=none"),
            (
                1,
                "mx.kaltaraprov.go.id; spf=pass smtp.mailfrom=kaltaraprov.go.id",
            ),
        ]);
        assert!(
            authenticated(&same_hop, mx, &kadis),
            "the server may split its results over several headers"
        );
    }

    #[test]
    fn an_ambiguous_from_never_acts() {
        let n = notification(
            &Stage::Disposisi,
            &Role::KepalaDinas,
            "kadis@kaltaraprov.go.id",
        );
        let sender = EmailAddress::parse("kadis@kaltaraprov.go.id").expect("valid");
        let judge = |ambiguous_from| {
            let evidence = Evidence {
                sender: Some(&sender),
                referenced: std::slice::from_ref(&n),
                authenticated: None,
                ambiguous_from,
            };
            verdict(&evidence, &tokens(), &roles(), |_| {
                Some((Stage::Disposisi, None))
            })
        };
        assert!(matches!(judge(false), Verdict::Act { .. }));
        assert!(matches!(judge(true), Verdict::Unauthorized { .. }));
    }

    #[test]
    fn tokens_find_their_place_in_message_ids() {
        assert_eq!(
            token_of("disp.ADU-2026-00001.abcdef@kaltaraprov.go.id"),
            Some("abcdef")
        );
    }
}
