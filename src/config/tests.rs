use super::*;
use secrecy::ExposeSecret;

const MINIMAL: &str = r#"
[imap]
host = "imap.example.net"
security = "tls"
username = "diskominfo@kaltaraprov.go.id"
password = "pw"
[smtp]
host = "smtp.example.net"
security = "starttls"
from = "Diskominfo Kaltara <diskominfo@kaltaraprov.go.id>"
[office]
name = "Diskominfo"
domain = "kaltaraprov.go.id"
[security]
secret = "0123456789abcdef0123"
[roles]
admin = ["admin@kaltaraprov.go.id"]
kepala_dinas = "kadis@kaltaraprov.go.id"
kasubbag_umum = "kasubbag@kaltaraprov.go.id"
[roles.bidang]
aptika = "kabid.aptika@kaltaraprov.go.id"
"#;

fn load(text: &str) -> Result<Settings, ConfigError> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Settings.toml");
    std::fs::write(&path, text).expect("write");
    Settings::load(&path)
}

#[test]
fn minimal_file_gets_defaults() {
    let s = load(MINIMAL).expect("valid");
    assert_eq!(s.imap.port, 993);
    assert_eq!(s.smtp.port, 587);
    assert_eq!(s.imap.mailbox, "INBOX");
    assert_eq!(s.office.number_prefix, "ADU");
    assert_eq!(s.sla.answer_within_hours, 72);
    assert_eq!(s.smtp.from_address.as_str(), "diskominfo@kaltaraprov.go.id");
    assert_eq!(s.smtp.from_name.as_deref(), Some("Diskominfo Kaltara"));
    assert_eq!(s.office.timezone, chrono_tz::Asia::Makassar);
}

#[test]
fn errors_name_the_key() {
    let missing = load(&MINIMAL.replace("host = \"imap.example.net\"", "")).unwrap_err();
    assert_eq!(missing.key, "imap.host");
    assert!(missing.file.ends_with("Settings.toml"));

    let wrong_type =
        load(&MINIMAL.replace("security = \"tls\"", "security = \"tls\"\nport = \"abc\""))
            .unwrap_err();
    assert_eq!(wrong_type.key, "imap.port", "{wrong_type}");

    let clear = load(&MINIMAL.replace("security = \"tls\"", "security = \"none\"")).unwrap_err();
    assert_eq!(clear.key, "imap.security");
    assert!(clear.problem.contains("loopback"), "{clear}");

    let bad_zone =
        load(&MINIMAL.replace("[office]", "[office]\ntimezone = \"Mars/Base\"")).unwrap_err();
    assert_eq!(bad_zone.key, "office.timezone");

    let short_secret = load(&MINIMAL.replace("0123456789abcdef0123", "short")).unwrap_err();
    assert_eq!(short_secret.key, "security.secret");

    let sessions = load(&MINIMAL.replace("[smtp]", "[smtp]\nconnections = 0")).unwrap_err();
    assert_eq!(sessions.key, "smtp.connections", "{sessions}");

    let metrics = load(&format!(
        "{MINIMAL}\n[worker]\nmetrics_addr = \"localhost\"\n"
    ))
    .unwrap_err();
    assert_eq!(metrics.key, "worker.metrics_addr", "{metrics}");
}

#[test]
fn report_recipients_default_to_the_kepala_dinas_and_the_admin() {
    let addresses = |s: &Settings| -> Vec<String> {
        s.report
            .recipients
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect()
    };
    let default = load(MINIMAL).expect("valid");
    assert_eq!(
        addresses(&default),
        ["kadis@kaltaraprov.go.id", "admin@kaltaraprov.go.id"]
    );
    let listed = load(&format!(
        "{MINIMAL}\n[report]\nrecipients = \"kadis@kaltaraprov.go.id, humas@kaltaraprov.go.id\"\n"
    ))
    .expect("valid");
    assert_eq!(
        addresses(&listed),
        ["kadis@kaltaraprov.go.id", "humas@kaltaraprov.go.id"]
    );
    let bad = load(&format!("{MINIMAL}\n[report]\nrecipients = [\"kadis\"]\n"))
        .expect_err("not an address");
    assert_eq!(bad.key, "report.recipients", "{bad}");
}

#[test]
fn roles_take_lists_and_comma_strings() {
    let s = load(&MINIMAL.replace(
        "kepala_dinas = \"kadis@kaltaraprov.go.id\"",
        "kepala_dinas = \"kadis@kaltaraprov.go.id, wakil@kaltaraprov.go.id\"",
    ))
    .expect("valid");
    assert_eq!(s.roles.kepala_dinas.len(), 2);
    let wakil = EmailAddress::parse("wakil@kaltaraprov.go.id").expect("valid");
    assert_eq!(s.roles.roles_of(&wakil), vec![Role::KepalaDinas]);
    assert_eq!(s.roles.addresses(&Role::Bidang("aptika".into())).len(), 1);
    let missing =
        load(&MINIMAL.replace("kasubbag_umum = \"kasubbag@kaltaraprov.go.id\"", "")).unwrap_err();
    assert_eq!(missing.key, "roles.kasubbag_umum");
    let bad = load(&MINIMAL.replace(
        "aptika = \"kabid.aptika@kaltaraprov.go.id\"",
        "aptika = \"not an address\"",
    ))
    .unwrap_err();
    assert_eq!(bad.key, "roles.bidang.aptika");
}

#[test]
fn the_sms_gateway_is_validated() {
    let s = load(MINIMAL).expect("valid");
    assert!(s.channels.sms.is_none(), "no gateway unless configured");
    let gateway = "[channels.sms]\ngateway_from = \"sms-gateway@kaltaraprov.go.id\"\nreply_to = \"{msisdn}@sms-gateway.kaltaraprov.go.id\"\n";
    let s = load(&format!("{MINIMAL}{gateway}")).expect("valid");
    let sms = s.channels.sms.expect("configured");
    assert_eq!(sms.number_header, "X-SMS-Sender");
    assert_eq!(sms.keyword, "LAPORKALTARA");
    assert_eq!(sms.max_chars(), 3 * 153);
    let phone = crate::domain::Phone::parse("081254310987").expect("valid");
    assert_eq!(
        sms.address_of(&phone).map(|a| a.to_string()).as_deref(),
        Some("6281254310987@sms-gateway.kaltaraprov.go.id")
    );
    for (extra, key) in [
        ("max_parts = 0\n", "channels.sms.max_parts"),
        ("keyword = \"LAPOR KALTARA\"\n", "channels.sms.keyword"),
        (
            "number_pattern = \"dari [0-9]+\"\n",
            "channels.sms.number_pattern",
        ),
        (
            "number_pattern = \"(unclosed\"\n",
            "channels.sms.number_pattern",
        ),
        ("number_header = \"X SMS\"\n", "channels.sms.number_header"),
    ] {
        let error = load(&format!("{MINIMAL}{gateway}{extra}")).unwrap_err();
        assert_eq!(error.key, key, "{extra}: {error}");
    }
    let no_placeholder = gateway.replace("{msisdn}@", "sms@");
    let error = load(&format!("{MINIMAL}{no_placeholder}")).unwrap_err();
    assert_eq!(error.key, "channels.sms.reply_to");
    assert!(error.problem.contains("{msisdn}"), "{error}");
    let no_sender = load(&format!("{MINIMAL}[channels.sms]\nkeyword = \"LAPOR\"\n")).unwrap_err();
    assert_eq!(no_sender.key, "channels.sms.gateway_from", "{no_sender}");
}

#[test]
fn priorities_never_go_beyond_72_hours() {
    let s = load(MINIMAL).expect("valid");
    let hours = s.sla.priority_hours;
    assert_eq!(
        (hours.sangat_segera, hours.segera, hours.biasa),
        (24, 48, 72)
    );
    let s = load(&format!("{MINIMAL}[sla.priority_hours]\nsegera = 36\n")).expect("valid");
    assert_eq!(s.sla.priority_hours.of(crate::domain::Priority::Segera), 36);
    for (extra, key) in [
        ("biasa = 96", "sla.priority_hours.biasa"),
        ("segera = 0", "sla.priority_hours.segera"),
        ("penting = 10", "sla.priority_hours.penting"),
    ] {
        let error = load(&format!("{MINIMAL}[sla.priority_hours]\n{extra}\n")).unwrap_err();
        assert_eq!(error.key, key, "{error}");
    }
}

#[test]
fn the_sekretaris_receives_dispositions_as_a_division() {
    let text = MINIMAL.replace(
        "[roles.bidang]",
        "sekretaris = \"sekretaris@kaltaraprov.go.id\"\n[roles.bidang]",
    );
    let s = load(&text).expect("valid");
    let sekretaris = EmailAddress::parse("sekretaris@kaltaraprov.go.id").expect("valid");
    assert_eq!(
        s.roles.roles_of(&sekretaris),
        vec![Role::Bidang("sekretaris".into())]
    );
    let twice = text.replace(
        "[roles.bidang]",
        "[roles.bidang]\nsekretaris = \"sek2@kaltaraprov.go.id\"",
    );
    assert_eq!(load(&twice).unwrap_err().key, "roles.sekretaris");
}

#[test]
fn none_is_allowed_on_loopback() {
    let text = MINIMAL
        .replace("imap.example.net", "127.0.0.1")
        .replace("security = \"tls\"", "security = \"none\"");
    let s = load(&text).expect("loopback may be plain");
    assert_eq!(s.imap.security, Security::None);
    assert_eq!(s.imap.port, 143);
}

#[test]
fn the_token_secret_must_be_hard_to_guess() {
    for weak in [
        " ".repeat(16),
        format!("{}abc{}", " ".repeat(8), " ".repeat(8)),
        "a".repeat(40),
        "abababababababababab".to_string(),
        "123456 123456 123456 123456".to_string(),
        "\t short-secret \t".to_string(),
    ] {
        let error = load(&MINIMAL.replace("0123456789abcdef0123", &weak)).unwrap_err();
        assert_eq!(error.key, "security.secret", "{weak:?}");
        assert!(
            error.problem.contains("at least 16 characters")
                && error.problem.contains("8 of them different"),
            "says what is required: {error}"
        );
        if !weak.trim().is_empty() {
            assert!(
                !error.to_string().contains(weak.trim()),
                "never shown: {error}"
            );
        }
    }
    for strong in [
        "0123456789abcdef",
        "  kP3#vQ9zL1mX7wR2  ",
        "Tg5rZ8yQ1nB4vC7x",
    ] {
        load(&MINIMAL.replace("0123456789abcdef0123", strong)).expect(strong);
    }
}

#[test]
fn secrets_come_from_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("imap.pw");
    std::fs::write(&secret, "from-file\n").expect("write");
    let text = MINIMAL.replace(
        "password = \"pw\"",
        &format!("password_file = {:?}", secret.display().to_string()),
    );
    let path = dir.path().join("Settings.toml");
    std::fs::write(&path, text).expect("write");
    let s = Settings::load(&path).expect("valid");
    assert_eq!(s.imap.password.expose_secret(), "from-file");
    assert!(
        !format!("{:?}", s.imap).contains("from-file"),
        "secrets never print"
    );
}
