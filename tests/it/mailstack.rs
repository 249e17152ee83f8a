//! Smoke tests of the real-mail-server harness (`scripts/mailstack` + `tests/support`).

use std::sync::Arc;
use std::time::Duration;

use crate::support::{MailStack, PASSWORD, TLS_HOST};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::Tls;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{IpAddr as PkiIpAddr, ServerName};

const WAIT: Duration = Duration::from_secs(30);
const DISKOMINFO: &str = "diskominfo@kaltaraprov.go.id";

/// A message with things a careless relay would mangle: 8-bit UTF-8, a line starting with
/// a dot (SMTP dot-stuffing), a line starting with "From ", trailing spaces, a long line.
fn sample_message(subject: &str) -> (Vec<u8>, Vec<u8>) {
    let headers = format!(
        "From: Warga Tarakan <warga@example.org>\r\n\
         To: Diskominfo Kaltara <{DISKOMINFO}>\r\n\
         Subject: {subject}\r\n\
         Message-ID: <{subject}@example.org>\r\n\
         Date: Mon, 30 Nov 2026 08:00:00 +0800\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n"
    );
    let body = format!(
        "Selamat pagi,\r\n\
         \r\n\
         Jalan di Tanjung Selor rusak parah — mohon segera diperbaiki. Terima kasih.\r\n\
         .a line that starts with a dot\r\n\
         ..two dots\r\n\
         From the residents of RT 05   \r\n\
         {}\r\n\
         .\r\n\
         end\r\n",
        "x".repeat(900)
    );
    (headers.into_bytes(), body.into_bytes())
}

fn split_message(raw: &[u8]) -> (&[u8], &[u8]) {
    let pos = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("message has no header/body separator");
    (&raw[..pos + 2], &raw[pos + 4..])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn smtp_delivery_arrives_byte_identical() {
    let stack = MailStack::start().await;
    let (headers, body) = sample_message("delivery-1");
    let raw = [headers.as_slice(), b"\r\n", body.as_slice()].concat();

    // Mixed case in the envelope: the mailbox is the lowercased address.
    stack
        .send(
            "warga@example.org",
            &["Diskominfo@Kaltaraprov.go.id", "arsip@example.net"],
            &raw,
        )
        .await;

    for user in [DISKOMINFO, "arsip@example.net"] {
        let msgs = stack.wait_for_messages(user, "INBOX", 1, WAIT).await;
        assert_eq!(msgs.len(), 1, "{user} should get exactly one message");
        let (got_headers, got_body) = split_message(&msgs[0]);
        assert_eq!(
            got_body,
            body.as_slice(),
            "body must arrive byte-identical for {user}"
        );
        // Servers only prepend trace headers; the original header block is intact.
        assert!(got_headers.ends_with(&headers), "original headers changed");
        assert!(contains(
            got_headers,
            b"Return-Path: <warga@example.org>\r\n"
        ));
    }
    // Nobody else got anything.
    assert!(
        stack
            .messages("other@example.net", "INBOX")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn null_sender_and_imap_helpers() {
    let stack = MailStack::start().await;
    let (headers, body) = sample_message("bounce-like");
    let raw = [headers.as_slice(), b"\r\n", body.as_slice()].concat();
    stack.send("", &[DISKOMINFO], &raw).await;
    let msgs = stack.wait_for_messages(DISKOMINFO, "INBOX", 1, WAIT).await;
    assert!(contains(&msgs[0], b"Return-Path: <>\r\n"));

    // APPEND creates nested folders with the "/" separator, in UID order.
    stack
        .append(
            DISKOMINFO,
            "Pengaduan/Diproses",
            b"Subject: one\r\n\r\n1\r\n",
        )
        .await;
    stack
        .append(
            DISKOMINFO,
            "Pengaduan/Diproses",
            b"Subject: two\r\n\r\n2\r\n",
        )
        .await;
    let got = stack.messages(DISKOMINFO, "Pengaduan/Diproses").await;
    assert_eq!(
        got,
        vec![
            b"Subject: one\r\n\r\n1\r\n".to_vec(),
            b"Subject: two\r\n\r\n2\r\n".to_vec()
        ]
    );
    assert_eq!(
        stack.mailboxes(DISKOMINFO).await,
        vec!["INBOX", "Pengaduan", "Pengaduan/Diproses"]
    );
    assert!(
        stack
            .messages(DISKOMINFO, "Does/Not/Exist")
            .await
            .is_empty()
    );

    // The capabilities the worker relies on.
    let mut session = stack.imap_session(DISKOMINFO).await;
    let caps = session.capabilities().await.expect("CAPABILITY failed");
    for cap in ["IDLE", "MOVE", "UIDPLUS"] {
        assert!(caps.has_str(cap), "server lacks {cap}");
    }
    session.logout().await.expect("LOGOUT failed");
}

async fn imap_login_over<T>(stream: T, greeting: bool)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = async_imap::Client::new(stream);
    if greeting {
        client
            .read_response()
            .await
            .expect("cannot read greeting")
            .expect("no greeting");
    }
    let mut session = client
        .login(DISKOMINFO, PASSWORD)
        .await
        .map_err(|(e, _)| e)
        .expect("login over TLS failed");
    session.select("INBOX").await.expect("SELECT failed");
    session.logout().await.expect("LOGOUT failed");
}

fn system_roots_config() -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("cannot select TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

#[tokio::test]
async fn imap_tls_trusts_only_the_stack_ca() {
    let stack = MailStack::start().await;
    let localhost = ServerName::try_from(TLS_HOST).expect("server name");

    // STARTTLS on the plain port.
    let tcp = TcpStream::connect(("127.0.0.1", stack.imap_port()))
        .await
        .expect("cannot connect to IMAP");
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .expect("cannot read greeting")
        .expect("no greeting");
    client
        .run_command_and_check_ok("STARTTLS", None)
        .await
        .expect("STARTTLS refused");
    let tls = TlsConnector::from(stack.rustls_config())
        .connect(localhost.clone(), client.into_inner())
        .await
        .expect("STARTTLS handshake failed");
    imap_login_over(tls, false).await;

    // Implicit TLS, by host name and by IP address (the certificate has both SANs).
    imap_login_over(stack.imaps_connect().await, true).await;
    let tcp = TcpStream::connect(("127.0.0.1", stack.imaps_port()))
        .await
        .expect("cannot connect to IMAPS");
    let by_ip = ServerName::IpAddress(PkiIpAddr::from(std::net::IpAddr::from([127, 0, 0, 1])));
    let tls = TlsConnector::from(stack.rustls_config())
        .connect(by_ip, tcp)
        .await
        .expect("IMAPS handshake by IP address failed");
    imap_login_over(tls, true).await;

    // A client trusting only the system / Mozilla roots must refuse the certificate.
    let tcp = TcpStream::connect(("127.0.0.1", stack.imaps_port()))
        .await
        .expect("cannot connect to IMAPS");
    let err = TlsConnector::from(system_roots_config())
        .connect(localhost, tcp)
        .await
        .expect_err("a client without the stack CA must not accept the certificate");
    let rustls_err = err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("expected a rustls error, got {err:?}"));
    assert!(
        matches!(rustls_err, rustls::Error::InvalidCertificate(_)),
        "expected an invalid-certificate error, got {rustls_err:?}"
    );
}

fn envelope(from: &str, to: &str) -> Envelope {
    Envelope::new(
        Some(from.parse().expect("sender address")),
        vec![to.parse().expect("recipient address")],
    )
    .expect("envelope")
}

#[tokio::test]
async fn submission_starttls_and_smtps_with_auth() {
    let stack = MailStack::start().await;
    let creds = Credentials::new(DISKOMINFO.to_string(), PASSWORD.to_string());

    let starttls = AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(TLS_HOST)
        .expect("starttls_relay")
        .port(stack.submission_port())
        .tls(Tls::Required(stack.lettre_tls()))
        .credentials(creds.clone())
        .build();
    let smtps = AsyncSmtpTransport::<Tokio1Executor>::relay(TLS_HOST)
        .expect("relay")
        .port(stack.smtps_port())
        .tls(Tls::Wrapper(stack.lettre_tls()))
        .credentials(creds.clone())
        .build();

    for (name, transport, rcpt) in [
        ("submission", &starttls, "via-submission@example.com"),
        ("smtps", &smtps, "via-smtps@example.com"),
    ] {
        // No final CRLF: lettre's DATA terminator adds it (a final CRLF would be doubled).
        // No Message-ID/Date either: the stack must not add them (a worker that forgets
        // them must not pass tests thanks to the test server).
        let raw = format!("Subject: {name}\r\nTo: <{rcpt}>\r\n\r\nsent via {name}");
        transport
            .send_raw(&envelope(DISKOMINFO, rcpt), raw.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("sending via {name} failed: {e}\n{}", stack.log_tails()));
        let msgs = stack.wait_for_messages(rcpt, "INBOX", 1, WAIT).await;
        let expected = format!("{raw}\r\n");
        assert!(
            msgs[0].ends_with(expected.as_bytes()),
            "{name}: message changed: {}",
            String::from_utf8_lossy(&msgs[0])
        );
    }

    // Wrong password: permanent 535.
    let bad = AsyncSmtpTransport::<Tokio1Executor>::relay(TLS_HOST)
        .expect("relay")
        .port(stack.smtps_port())
        .tls(Tls::Wrapper(stack.lettre_tls()))
        .credentials(Credentials::new(DISKOMINFO.into(), "wrong".into()))
        .build();
    let err = bad
        .send_raw(
            &envelope(DISKOMINFO, "x@example.com"),
            b"Subject: x\r\n\r\nx\r\n",
        )
        .await
        .expect_err("a wrong password must be refused");
    assert!(err.is_permanent(), "wrong password: {err}");

    // Submission without authentication may not relay.
    let anonymous = AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(TLS_HOST)
        .expect("starttls_relay")
        .port(stack.submission_port())
        .tls(Tls::Required(stack.lettre_tls()))
        .build();
    let err = anonymous
        .send_raw(
            &envelope(DISKOMINFO, "x@example.com"),
            b"Subject: x\r\n\r\nx\r\n",
        )
        .await
        .expect_err("unauthenticated submission must be refused");
    assert!(err.is_permanent(), "unauthenticated submission: {err}");

    // TLS verification is real: the default (system) roots do not know the stack CA.
    let untrusted = AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(TLS_HOST)
        .expect("starttls_relay")
        .port(stack.submission_port())
        .credentials(creds)
        .build();
    untrusted
        .send_raw(
            &envelope(DISKOMINFO, "x@example.com"),
            b"Subject: x\r\n\r\nx\r\n",
        )
        .await
        .expect_err("a client without the stack CA must fail");
}

#[tokio::test]
async fn reject_and_tempfail_hooks() {
    let stack = MailStack::start().await;
    let raw = b"Subject: hook\r\n\r\nhook\r\n";

    let err = stack
        .try_send("warga@example.org", &["reject-x@example.net"], raw)
        .await
        .expect_err("reject- recipient must be refused");
    assert!(err.is_permanent(), "reject-: {err}");
    assert_eq!(err.status().map(|c| c.to_string()), Some("554".into()));

    let err = stack
        .try_send("warga@example.org", &["tempfail-x@example.net"], raw)
        .await
        .expect_err("tempfail- recipient must be refused");
    assert!(err.is_transient(), "tempfail-: {err}");
    assert_eq!(err.status().map(|c| c.to_string()), Some("450".into()));

    // The hooks also apply on the authenticated listeners.
    let smtps = AsyncSmtpTransport::<Tokio1Executor>::relay(TLS_HOST)
        .expect("relay")
        .port(stack.smtps_port())
        .tls(Tls::Wrapper(stack.lettre_tls()))
        .credentials(Credentials::new(DISKOMINFO.into(), PASSWORD.into()))
        .build();
    let err = smtps
        .send_raw(&envelope(DISKOMINFO, "reject-y@example.net"), raw)
        .await
        .expect_err("reject- via smtps");
    assert!(err.is_permanent(), "reject- via smtps: {err}");
    let err = smtps
        .send_raw(&envelope(DISKOMINFO, "tempfail-y@example.net"), raw)
        .await
        .expect_err("tempfail- via smtps");
    assert!(err.is_transient(), "tempfail- via smtps: {err}");

    // Ordinary recipients still work.
    stack
        .send("warga@example.org", &["normal@example.net"], raw)
        .await;
    stack
        .wait_for_messages("normal@example.net", "INBOX", 1, WAIT)
        .await;
}

#[tokio::test]
async fn two_stacks_side_by_side() {
    let (a, b) = tokio::join!(MailStack::start(), MailStack::start());
    assert_ne!(a.dir(), b.dir());
    assert_ne!(a.smtp_port(), b.smtp_port());
    assert_ne!(a.imap_port(), b.imap_port());

    a.send(
        "x@example.org",
        &[DISKOMINFO],
        b"Subject: A\r\n\r\nfor A\r\n",
    )
    .await;
    b.send(
        "x@example.org",
        &[DISKOMINFO],
        b"Subject: B\r\n\r\nfor B\r\n",
    )
    .await;
    let in_a = a.wait_for_messages(DISKOMINFO, "INBOX", 1, WAIT).await;
    let in_b = b.wait_for_messages(DISKOMINFO, "INBOX", 1, WAIT).await;
    assert_eq!(in_a.len(), 1);
    assert_eq!(in_b.len(), 1);
    assert!(in_a[0].ends_with(b"for A\r\n"));
    assert!(in_b[0].ends_with(b"for B\r\n"));

    // Stopping one leaves the other running.
    let a_smtp = a.smtp_port();
    drop(a);
    assert!(
        TcpStream::connect(("127.0.0.1", a_smtp)).await.is_err(),
        "stopped stack still listens"
    );
    b.send(
        "x@example.org",
        &[DISKOMINFO],
        b"Subject: B2\r\n\r\nagain\r\n",
    )
    .await;
    b.wait_for_messages(DISKOMINFO, "INBOX", 2, WAIT).await;
}

#[tokio::test]
async fn smtp_and_imap_outages() {
    let stack = MailStack::start().await;
    let raw = b"Subject: outage\r\n\r\nqueued while Dovecot was down\r\n";

    stack.stop_smtp();
    let err = stack
        .try_send("x@example.org", &[DISKOMINFO], raw)
        .await
        .expect_err("sending must fail while Postfix is down");
    assert!(
        !err.is_permanent(),
        "connection failure is not a 5xx: {err}"
    );
    stack.start_smtp();
    stack.send("x@example.org", &[DISKOMINFO], raw).await;
    stack.wait_for_messages(DISKOMINFO, "INBOX", 1, WAIT).await;

    // With Dovecot down, Postfix accepts and queues; delivery follows the restart.
    stack.stop_imap();
    assert!(
        TcpStream::connect(("127.0.0.1", stack.imap_port()))
            .await
            .is_err(),
        "IMAP still listening after stop_imap"
    );
    stack.send("x@example.org", &[DISKOMINFO], raw).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.start_imap();
    stack.wait_for_messages(DISKOMINFO, "INBOX", 2, WAIT).await;
}
