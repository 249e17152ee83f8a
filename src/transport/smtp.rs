//! The only code that speaks SMTP: one session per delivery pass, over a socket we own
//! (TCP_NODELAY, so the end of DATA is not held back by Nagle's algorithm), with every
//! failure classified by whether the message can have reached the server.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::Context;
use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::config::{Security, Settings};

/// Why a message was not (certainly) delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The session could not be set up, or broke before the message body was sent:
    /// the server cannot have accepted the message. Everything stays queued.
    Unreachable(String),
    /// The server answered with a refusal (a 4xx or 5xx reply) before accepting.
    Refused { permanent: bool, reply: String },
    /// The connection broke or timed out while the body was sent or its reply awaited:
    /// the server may have accepted the message.
    Interrupted(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Unreachable(text) | Failure::Interrupted(text) => f.write_str(text),
            Failure::Refused { reply, .. } => f.write_str(reply),
        }
    }
}

/// A logged-in SMTP session, ready for one message after another.
pub struct Session {
    connection: AsyncSmtpConnection,
    timeout: Duration,
    /// Set once the connection is in an unknown state; the next send reconnects.
    broken: bool,
    address: String,
}

impl Session {
    /// Connects, greets, secures and authenticates as configured.
    #[tracing::instrument(skip_all, fields(host = %settings.smtp.host, port = settings.smtp.port), err(Display))]
    pub async fn open(settings: &Settings) -> Result<Session, Failure> {
        let smtp = &settings.smtp;
        let address = format!("{}:{}", smtp.host, smtp.port);
        let unreachable = |what: &str, e: &dyn fmt::Display| {
            Failure::Unreachable(format!("SMTP server {address} {what}: {e}"))
        };
        let within = |what: &'static str| {
            let address = address.clone();
            move |_| Failure::Unreachable(format!("SMTP server {address}: {what} timed out"))
        };
        let tcp = tokio::time::timeout(smtp.timeout, TcpStream::connect(&address))
            .await
            .map_err(within("connect"))?
            .map_err(|e| unreachable("unreachable", &e))?;
        tcp.set_nodelay(true).ok();
        let hello = ClientId::Domain(settings.office.domain.clone());
        let stream: Box<dyn AsyncTokioStream> = match smtp.security {
            Security::Tls => {
                let config = crate::transport::tls::client_config(smtp.ca_file.as_deref())
                    .map_err(|e| unreachable("TLS setup failed", &format!("{e:#}")))?;
                let name = ServerName::try_from(smtp.host.clone())
                    .map_err(|e| unreachable("has an invalid TLS name", &e))?;
                let tls = tokio::time::timeout(
                    smtp.timeout,
                    TlsConnector::from(config).connect(name, tcp),
                )
                .await
                .map_err(within("TLS handshake"))?
                .map_err(|e| unreachable("TLS handshake failed", &e))?;
                Box::new(Tls(tls))
            }
            Security::StartTls | Security::None => Box::new(tcp),
        };
        let mut connection = tokio::time::timeout(
            smtp.timeout,
            AsyncSmtpConnection::connect_with_transport(stream, &hello),
        )
        .await
        .map_err(within("greeting"))?
        .map_err(|e| unreachable("did not greet", &e))?;
        if smtp.security == Security::StartTls {
            let parameters = starttls_parameters(settings)
                .map_err(|e| unreachable("TLS setup failed", &format!("{e:#}")))?;
            tokio::time::timeout(smtp.timeout, connection.starttls(parameters, &hello))
                .await
                .map_err(within("STARTTLS"))?
                .map_err(|e| unreachable("STARTTLS failed", &e))?;
        }
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            let credentials = Credentials::new(user.clone(), password.expose_secret().to_string());
            tokio::time::timeout(
                smtp.timeout,
                connection.auth(DEFAULT_MECHANISMS, &credentials),
            )
            .await
            .map_err(within("authentication"))?
            .map_err(|e| unreachable(&format!("refused the login as {user}"), &e))?;
        }
        Ok(Session {
            connection,
            timeout: smtp.timeout,
            broken: false,
            address,
        })
    }

    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Sends one message; returns the server's acceptance reply (code and text).
    pub async fn send(
        &mut self,
        from: Option<&Address>,
        to: &[Address],
        raw: &[u8],
    ) -> Result<String, Failure> {
        if self.broken {
            return Err(Failure::Unreachable(format!(
                "SMTP session with {} was lost",
                self.address
            )));
        }
        let info = self.connection.server_info();
        let mut parameters = Vec::new();
        let ascii = |a: &Address| AsRef::<str>::as_ref(a).is_ascii();
        if !to.iter().all(ascii) || from.is_some_and(|a| !ascii(a)) {
            if !info.supports_feature(Extension::SmtpUtfEight) {
                return Err(Failure::Refused {
                    permanent: true,
                    reply: "the server does not support SMTPUTF8 for a non-ASCII address".into(),
                });
            }
            parameters.push(MailParameter::SmtpUtfEight);
        }
        if !raw.is_ascii() && info.supports_feature(Extension::EightBitMime) {
            parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        // Before the body, a broken connection means the message was not sent.
        self.envelope_command(Mail::new(from.cloned(), parameters))
            .await?;
        for address in to {
            self.envelope_command(Rcpt::new(address.clone(), vec![]))
                .await?;
        }
        self.envelope_command(Data).await?;
        match tokio::time::timeout(self.timeout, self.connection.message(raw)).await {
            Ok(Ok(response)) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Ok(Err(e)) if e.is_permanent() || e.is_transient() => Err(self.refused(&e).await),
            Ok(Err(e)) => {
                self.broken = true;
                Err(Failure::Interrupted(format!(
                    "delivery interrupted, server may have accepted it: {e}"
                )))
            }
            Err(_) => {
                self.broken = true;
                Err(Failure::Interrupted(format!(
                    "delivery interrupted, server may have accepted it: no reply within {} s",
                    self.timeout.as_secs()
                )))
            }
        }
    }

    async fn envelope_command(&mut self, command: impl fmt::Display) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.connection.command(command)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() || e.is_transient() => Err(self.refused(&e).await),
            Ok(Err(e)) => {
                self.broken = true;
                Err(Failure::Unreachable(format!(
                    "SMTP server {} lost the connection: {e}",
                    self.address
                )))
            }
            Err(_) => {
                self.broken = true;
                Err(Failure::Unreachable(format!(
                    "SMTP server {} did not answer within {} s",
                    self.address,
                    self.timeout.as_secs()
                )))
            }
        }
    }

    /// The server's 4xx/5xx reply; the transaction is reset so the session can carry the
    /// next message.
    async fn refused(&mut self, error: &lettre::transport::smtp::Error) -> Failure {
        self.reset().await;
        Failure::Refused {
            permanent: error.is_permanent(),
            reply: error.to_string(),
        }
    }

    /// Ends a refused transaction so the session can carry the next message.
    async fn reset(&mut self) {
        let ok = matches!(
            tokio::time::timeout(self.timeout, self.connection.command(Rset)).await,
            Ok(Ok(_))
        );
        self.broken = !ok;
    }

    /// Says goodbye; a failure here changes nothing that was sent.
    pub async fn quit(mut self) {
        if !self.broken {
            let _ = tokio::time::timeout(self.timeout, self.connection.quit()).await;
        }
        self.connection.abort().await;
    }
}

fn starttls_parameters(settings: &Settings) -> anyhow::Result<TlsParameters> {
    let smtp = &settings.smtp;
    let mut builder = TlsParameters::builder(smtp.host.clone());
    if let Some(path) = &smtp.ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read CA file {}", path.display()))?;
        let cert = Certificate::from_pem(&pem)
            .with_context(|| format!("invalid CA file {}", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().context("cannot configure SMTP TLS")
}

/// Implicit TLS (port 465) with the same trust as the IMAP connection.
#[derive(Debug)]
struct Tls(TlsStream<TcpStream>);

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
