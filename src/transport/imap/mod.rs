//! The only code that speaks IMAP: connect (TLS, STARTTLS or loopback plain), log in,
//! select, list sizes, fetch bodies as a stream, and move messages out of the inbox.

use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context, bail};
use async_imap::Session;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use secrecy::ExposeSecret;
use tokio::io::{AsyncRead, AsyncWrite, BufWriter};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

use crate::config::{ImapSettings, Security};

pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> Transport for T {}

type Stream = Box<dyn Transport>;

/// A logged-in connection to the office mailbox.
pub struct Connection {
    session: Session<Stream>,
    /// Asked for the first time they matter (an idle poll that finds nothing never asks).
    capabilities: Option<Capabilities>,
    timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Capabilities {
    has_move: bool,
    has_uidplus: bool,
    has_idle: bool,
}

/// The state of the selected mailbox.
#[derive(Debug, Clone, Copy)]
pub struct Selected {
    pub uid_validity: u32,
    pub uid_next: Option<u32>,
    pub exists: u32,
}

/// One fetched message: its UID, when the server received it, and its exact bytes.
pub struct Fetched {
    pub uid: u32,
    pub internal_date: Option<DateTime<Utc>>,
    pub raw: Body,
}

/// The bytes of a fetched message, left in the buffer they were read into (a large
/// message is never copied on its way to the parser and the database).
pub struct Body(async_imap::types::Fetch);

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        self.0.body().unwrap_or_default()
    }
}

impl Connection {
    #[tracing::instrument(skip_all, fields(host = %settings.host, port = settings.port), err)]
    pub async fn connect(settings: &ImapSettings) -> anyhow::Result<Connection> {
        let timeout = settings.timeout;
        let address = format!("{}:{}", settings.host, settings.port);
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(&address))
            .await
            .with_context(|| format!("cannot connect to IMAP server {address}: timed out"))?
            .with_context(|| format!("cannot connect to IMAP server {address}"))?;
        tcp.set_nodelay(true).ok();
        // async-imap writes a command in four pieces (tag, space, text, CRLF) and then
        // flushes: buffered, each command leaves as one segment (or one TLS record),
        // rather than four that each wake the server.
        let stream: Stream = match settings.security {
            Security::None => Box::new(BufWriter::new(tcp)),
            Security::Tls => Box::new(BufWriter::new(tls(settings, tcp).await?)),
            Security::StartTls => {
                let mut client = async_imap::Client::new(tcp);
                greeting(&mut client, timeout, &address).await?;
                within(timeout, client.run_command_and_check_ok("STARTTLS", None))
                    .await
                    .with_context(|| format!("IMAP server {address} refused STARTTLS"))?;
                Box::new(BufWriter::new(tls(settings, client.into_inner()).await?))
            }
        };
        let mut client = async_imap::Client::new(stream);
        if settings.security != Security::StartTls {
            greeting(&mut client, timeout, &address).await?;
        }
        let session = tokio::time::timeout(
            timeout,
            client.login(&settings.username, settings.password.expose_secret()),
        )
        .await
        .with_context(|| format!("IMAP login at {address} timed out"))?
        .map_err(|(e, _)| e)
        .with_context(|| format!("IMAP login as {} at {address} failed", settings.username))?;
        Ok(Connection {
            session,
            capabilities: None,
            timeout,
        })
    }

    async fn capabilities(&mut self) -> anyhow::Result<Capabilities> {
        if let Some(known) = self.capabilities {
            return Ok(known);
        }
        let capabilities = within(self.timeout, self.session.capabilities())
            .await
            .context("cannot read IMAP capabilities")?;
        let known = Capabilities {
            has_move: capabilities.has_str("MOVE"),
            has_uidplus: capabilities.has_str("UIDPLUS"),
            has_idle: capabilities.has_str("IDLE"),
        };
        self.capabilities = Some(known);
        Ok(known)
    }

    /// Creates each folder that does not exist yet.
    pub async fn ensure_folders(&mut self, names: &[&str]) -> anyhow::Result<()> {
        let existing: Vec<String> = {
            let list = within(self.timeout, self.session.list(Some(""), Some("*")))
                .await
                .context("cannot list IMAP folders")?;
            let names: Vec<_> = list.collect().await;
            names
                .into_iter()
                .filter_map(|n| n.ok().map(|n| n.name().to_string()))
                .collect()
        };
        for name in names {
            if !existing.iter().any(|e| e == name) {
                within(self.timeout, self.session.create(name))
                    .await
                    .with_context(|| format!("cannot create IMAP folder {name}"))?;
                tracing::info!(folder = name, "created IMAP folder");
            }
        }
        Ok(())
    }

    /// Lists the folders the account has (for `check`).
    pub async fn folders(&mut self) -> anyhow::Result<Vec<String>> {
        let list = within(self.timeout, self.session.list(Some(""), Some("*")))
            .await
            .context("cannot list IMAP folders")?;
        let names: Vec<_> = list.collect().await;
        Ok(names
            .into_iter()
            .filter_map(|n| n.ok().map(|n| n.name().to_string()))
            .collect())
    }

    pub async fn select(&mut self, mailbox: &str) -> anyhow::Result<Selected> {
        let selected = within(self.timeout, self.session.select(mailbox))
            .await
            .with_context(|| format!("cannot select mailbox {mailbox}"))?;
        let Some(uid_validity) = selected.uid_validity else {
            bail!("mailbox {mailbox} has no UIDVALIDITY: the server does not support UIDs");
        };
        Ok(Selected {
            uid_validity,
            uid_next: selected.uid_next,
            exists: selected.exists,
        })
    }

    /// UID and size of every message in the selected mailbox, in UID order.
    pub async fn sizes(&mut self, selected: &Selected) -> anyhow::Result<Vec<(u32, u64)>> {
        if selected.exists == 0 {
            return Ok(Vec::new());
        }
        let timeout = self.timeout;
        let mut stream = within(timeout, self.session.uid_fetch("1:*", "(UID RFC822.SIZE)"))
            .await
            .context("cannot list message sizes")?;
        let mut sizes = Vec::with_capacity(selected.exists as usize);
        while let Some(item) = within_opt(timeout, stream.next()).await? {
            let fetch = item.context("cannot list message sizes")?;
            if let Some(uid) = fetch.uid {
                sizes.push((uid, u64::from(fetch.size.unwrap_or(0))));
            }
        }
        sizes.sort_unstable();
        Ok(sizes)
    }

    /// Fetches the bodies of `uids` (without setting \Seen), handing each message to
    /// `on_message` as it arrives.
    #[tracing::instrument(skip_all, fields(count = uids.len()), err)]
    pub async fn fetch(
        &mut self,
        uids: &[u32],
        mut on_message: impl FnMut(Fetched),
    ) -> anyhow::Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let timeout = self.timeout;
        let set = uid_set(uids);
        let mut stream = within(
            timeout,
            self.session
                .uid_fetch(&set, "(UID INTERNALDATE BODY.PEEK[])"),
        )
        .await
        .context("cannot fetch messages")?;
        while let Some(item) = within_opt(timeout, stream.next()).await? {
            let fetch = item.map_err(dropped_or).context("cannot fetch messages")?;
            let (Some(uid), true) = (fetch.uid, fetch.body().is_some()) else {
                continue;
            };
            on_message(Fetched {
                uid,
                internal_date: fetch.internal_date().map(|d| d.with_timezone(&Utc)),
                raw: Body(fetch),
            });
        }
        Ok(())
    }

    /// Moves `uids` from the selected mailbox to `destination`: UID MOVE, or COPY, flag
    /// \Deleted and UID EXPUNGE of exactly those UIDs.
    #[tracing::instrument(skip_all, fields(count = uids.len(), destination), err)]
    pub async fn move_to(&mut self, uids: &[u32], destination: &str) -> anyhow::Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let capabilities = self.capabilities().await?;
        let set = uid_set(uids);
        let timeout = self.timeout;
        if capabilities.has_move {
            return within(timeout, self.session.uid_mv(&set, destination))
                .await
                .with_context(|| format!("cannot move messages to {destination}"));
        }
        if !capabilities.has_uidplus {
            bail!(
                "the IMAP server supports neither MOVE nor UIDPLUS: cannot move messages without expunging others"
            );
        }
        within(timeout, self.session.uid_copy(&set, destination))
            .await
            .with_context(|| format!("cannot copy messages to {destination}"))?;
        {
            let stored = within(
                timeout,
                self.session.uid_store(&set, "+FLAGS.SILENT (\\Deleted)"),
            )
            .await
            .context("cannot flag moved messages")?;
            let _: Vec<_> = stored.collect().await;
        }
        let expunged = within(timeout, self.session.uid_expunge(&set))
            .await
            .context("cannot expunge moved messages")?;
        let _: Vec<_> = expunged.collect().await;
        Ok(())
    }

    /// Appends a message to `mailbox`, flagged \Seen (a copy of sent mail).
    pub async fn append(&mut self, mailbox: &str, raw: &[u8]) -> anyhow::Result<()> {
        within(
            self.timeout,
            self.session.append(mailbox, Some("(\\Seen)"), None, raw),
        )
        .await
        .with_context(|| format!("cannot append to {mailbox}"))
    }

    /// Waits (IMAP IDLE) until the selected mailbox reports a change, `max_wait` passes,
    /// or `stop` completes; without IDLE on the server, simply waits. Returns the
    /// connection for logout.
    pub async fn idle(
        mut self,
        max_wait: Duration,
        stop: impl Future<Output = ()>,
    ) -> anyhow::Result<Connection> {
        if !self.capabilities().await?.has_idle {
            tokio::select! {
                _ = tokio::time::sleep(max_wait) => {}
                _ = stop => {}
            }
            return Ok(self);
        }
        let Connection {
            session,
            capabilities,
            timeout,
        } = self;
        let mut handle = session.idle();
        within(timeout, handle.init())
            .await
            .context("cannot start IMAP IDLE")?;
        {
            // Servers drop IDLE after 30 minutes: re-issue before that.
            let (wait, _interrupt) =
                handle.wait_with_timeout(max_wait.min(Duration::from_secs(29 * 60)));
            tokio::select! {
                result = wait => {
                    let response = result.context("IMAP IDLE failed")?;
                    if let async_imap::extensions::idle::IdleResponse::NewData(_) = response {
                        tracing::debug!("IDLE: the mailbox changed");
                    }
                }
                _ = stop => {}
            }
        }
        let session = within(timeout, handle.done())
            .await
            .context("cannot end IMAP IDLE")?;
        Ok(Connection {
            session,
            capabilities,
            timeout,
        })
    }

    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

async fn tls<S: AsyncRead + AsyncWrite + Unpin>(
    settings: &ImapSettings,
    stream: S,
) -> anyhow::Result<tokio_rustls::client::TlsStream<S>> {
    let config = crate::transport::tls::client_config(settings.ca_file.as_deref())?;
    let name = ServerName::try_from(settings.host.clone())
        .with_context(|| format!("invalid IMAP host name {}", settings.host))?;
    tokio::time::timeout(
        settings.timeout,
        TlsConnector::from(config).connect(name, stream),
    )
    .await
    .with_context(|| format!("TLS handshake with {} timed out", settings.host))?
    .with_context(|| format!("TLS handshake with IMAP server {} failed", settings.host))
}

async fn greeting<T: Transport>(
    client: &mut async_imap::Client<T>,
    timeout: Duration,
    address: &str,
) -> anyhow::Result<()> {
    match tokio::time::timeout(timeout, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => bail!("IMAP server {address} closed the connection before its greeting"),
        Ok(Err(e)) => {
            Err(e).with_context(|| format!("cannot read the greeting of IMAP server {address}"))
        }
        Err(_) => bail!("IMAP server {address} sent no greeting within {timeout:?}"),
    }
}

async fn within<T, E: std::error::Error + Send + Sync + 'static>(
    timeout: Duration,
    future: impl Future<Output = Result<T, E>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(timeout, future).await {
        Ok(result) => result.map_err(dropped_or),
        Err(_) => bail!("the IMAP server did not answer within {timeout:?}"),
    }
}

/// A connection the server (or the network) dropped, in plain words: TLS libraries
/// describe it at length. Any other error as it is.
fn dropped_or<E: std::error::Error + Send + Sync + 'static>(error: E) -> anyhow::Error {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe
            )
        {
            return anyhow::anyhow!("the IMAP server closed the connection");
        }
        cause = current.source();
    }
    error.into()
}

async fn within_opt<T>(
    timeout: Duration,
    future: impl Future<Output = Option<T>>,
) -> anyhow::Result<Option<T>> {
    tokio::time::timeout(timeout, future)
        .await
        .map_err(|_| anyhow::anyhow!("the IMAP server did not answer within {timeout:?}"))
}

/// `1:3,7,9:10` from sorted or unsorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_compress_ranges() {
        assert_eq!(uid_set(&[9, 1, 2, 3, 7, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
    }
}
