//! The headers an `Inbound` is read from: addresses, Message-IDs, authentication results
//! and the extension headers a gateway may use, each made safe as it is read.

use mail_parser::{Address, HeaderValue};

use super::super::sanitize::{MAX_NAME_CHARS, MAX_THREAD_IDS, one_line, usable_message_id};
use super::{AuthenticationResults, Party};
use crate::domain::EmailAddress;

/// Most extension headers kept per message, and most characters of each value.
pub const MAX_EXTENSION_HEADERS: usize = 16;
const MAX_EXTENSION_CHARS: usize = 200;

pub(super) fn extension_headers(message: &mail_parser::Message<'_>) -> Vec<(String, String)> {
    message
        .headers_raw()
        .filter(|(name, _)| name.get(..2).is_some_and(|x| x.eq_ignore_ascii_case("x-")))
        .take(MAX_EXTENSION_HEADERS)
        .map(|(name, value)| {
            let name = one_line(name, MAX_EXTENSION_CHARS);
            (name, one_line(value, MAX_EXTENSION_CHARS))
        })
        .collect()
}

pub(super) fn header_text(message: &mail_parser::Message<'_>, name: &str) -> Option<String> {
    message
        .header_raw(name)
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
}

pub(super) fn message_ids(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<String> = match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    };
    ids.iter()
        .filter_map(|id| usable_message_id(id.trim().trim_start_matches('<').trim_end_matches('>')))
        .take(MAX_THREAD_IDS)
        .collect()
}

pub(super) fn authentication_results(
    message: &mail_parser::Message<'_>,
) -> Vec<AuthenticationResults> {
    let mut received_above = 0;
    let mut results = Vec::new();
    for (name, value) in message.headers_raw() {
        if name.eq_ignore_ascii_case("Received") {
            received_above += 1;
        } else if name.eq_ignore_ascii_case("Authentication-Results") {
            results.push(AuthenticationResults {
                received_above,
                value: value.split_whitespace().collect::<Vec<_>>().join(" "),
            });
        }
    }
    results
}

pub(super) fn ambiguous_from(message: &mail_parser::Message<'_>) -> bool {
    let headers = message
        .headers_raw()
        .filter(|(name, _)| name.eq_ignore_ascii_case("From"))
        .count();
    headers > 1
        || message
            .from()
            .is_some_and(|from| from.iter().nth(1).is_some())
}

pub(super) fn first_party(address: &Address<'_>) -> Option<Party> {
    address.iter().next().map(party)
}

pub(super) fn parties(address: Option<&Address<'_>>) -> Vec<Party> {
    address
        .map(|a| a.iter().map(party).collect())
        .unwrap_or_default()
}

pub(super) fn party(addr: &mail_parser::Addr<'_>) -> Party {
    Party {
        name: addr
            .name()
            .map(|n| one_line(n, MAX_NAME_CHARS))
            .filter(|n| !n.is_empty()),
        email: addr.address().and_then(EmailAddress::parse),
    }
}
