//! The worker's Message-IDs: `<purpose>.<number>.<random>@<domain>`, and for
//! notifications `<purpose>.<number>.<nonce>.<token>@<domain>`.

use rand::RngCore;

use crate::domain::RegisterNumber;

/// Purposes of outgoing mail; the first label of every Message-ID the worker generates.
/// `status` (the status on request), `tutup` (a closure's reason), `lambat` (the
/// delay notice), `nilai` (thanks for a rating), `format` (how to write a complaint by
/// SMS) and `tanya` (the official's question) go to citizens; `daftar` confirms the
/// administrator's form. `disp`, `tugas`, `setuju`, `kembali`, `ingat` (reminder),
/// `lanjut` (a message in a
/// complaint's thread) and `tahan` (the admin's digest of held complaints) are
/// notifications an official acts on by replying; their Message-IDs carry a token (see
/// `security`). `laporan` is the monthly report (`laporan.<YYYY-MM>.<random>`).
pub const PURPOSES: &[&str] = &[
    "ack", "disp", "tugas", "setuju", "kembali", "ingat", "lanjut", "tahan", "jawab", "info",
    "status", "tutup", "lambat", "nilai", "laporan", "format", "daftar", "tanya",
];

/// `<purpose>.<number>.<random>@<domain>` (returned without brackets). Notifications
/// are `<purpose>.<number>.<nonce>.<token>@<domain>`.
pub fn new_message_id(purpose: &str, number: &RegisterNumber, domain: &str) -> String {
    let mut token = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut token);
    format!("{purpose}.{number}.{}@{domain}", hex::encode(token))
}

/// The token label of one of the worker's Message-IDs (`purpose.number.token@domain`).
pub fn token_of(message_id: &str) -> Option<&str> {
    let local = message_id.rsplit_once('@')?.0;
    local.rsplit('.').next()
}

/// Whether a Message-ID has the shape of one the worker generated.
pub fn is_own_message_id(id: &str, domain: &str) -> bool {
    let Some((local, id_domain)) = id.rsplit_once('@') else {
        return false;
    };
    if !id_domain.eq_ignore_ascii_case(domain) {
        return false;
    }
    let labels: Vec<&str> = local.split('.').collect();
    let [purpose, number, .., token] = labels.as_slice() else {
        return false;
    };
    labels.len() <= 4
        && PURPOSES.contains(purpose)
        && number.contains('-')
        && token.len() >= 16
        && token.bytes().all(|b| b.is_ascii_hexdigit())
}
