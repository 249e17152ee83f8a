//! ClamAV's `clamd`: files are streamed to it (`INSTREAM`) over its Unix socket or TCP.
//!
//! Written here rather than with a client crate because a scan runs on intake's path and
//! must give up after `scan.timeout_seconds`: the clients on crates.io open their own
//! sockets without read or write timeouts, so a clamd that hangs would stop intake.
//! Blocking on purpose: scans run on the parsing threads, beside the parse.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub use crate::config::ClamdAddress;

/// What clamd said of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Clean,
    /// The signature's name, e.g. `Eicar-Test-Signature`.
    Infected(String),
}

/// clamd could not give a finding: unreachable, too slow, or it refused the file.
#[derive(Debug, thiserror::Error)]
#[error("clamd at {address}: {problem}")]
pub struct ScanError {
    address: String,
    problem: String,
}

/// Size of each chunk of `INSTREAM`; clamd's `StreamMaxLength` bounds the total.
const CHUNK: usize = 64 * 1024;

/// A clamd to ask. Each request opens its own connection (clamd closes it after one).
#[derive(Debug, Clone)]
pub struct Scanner {
    pub address: ClamdAddress,
    pub timeout: Duration,
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

impl Scanner {
    /// Scans `bytes` as one file.
    pub fn scan(&self, bytes: &[u8]) -> Result<Finding, ScanError> {
        let reply = self.request(b"zINSTREAM\0", Some(bytes))?;
        let reply = reply.strip_prefix("stream: ").unwrap_or(&reply);
        if reply == "OK" {
            return Ok(Finding::Clean);
        }
        match reply.strip_suffix(" FOUND") {
            Some(signature) => Ok(Finding::Infected(signature.to_string())),
            None => Err(self.error(format!("unexpected answer {reply:?}"))),
        }
    }

    /// clamd's version line (for `check`), e.g. `ClamAV 1.4.6/…`.
    pub fn version(&self) -> Result<String, ScanError> {
        self.request(b"zVERSION\0", None)
    }

    fn request(&self, command: &[u8], body: Option<&[u8]>) -> Result<String, ScanError> {
        let mut stream = self.connect()?;
        let io = |e: std::io::Error| self.error(describe(&e, self.timeout));
        stream.write_all(command).map_err(io)?;
        if let Some(body) = body {
            for chunk in body.chunks(CHUNK) {
                stream
                    .write_all(&(chunk.len() as u32).to_be_bytes())
                    .and_then(|()| stream.write_all(chunk))
                    .map_err(io)?;
            }
            stream.write_all(&[0, 0, 0, 0]).map_err(io)?;
        }
        let mut reply = Vec::new();
        stream.take(64 * 1024).read_to_end(&mut reply).map_err(io)?;
        let reply = String::from_utf8_lossy(&reply);
        let reply = reply.trim_end_matches(['\0', '\n']).to_string();
        if reply.ends_with(" ERROR") {
            return Err(self.error(format!("refused the file: {reply}")));
        }
        Ok(reply)
    }

    fn connect(&self) -> Result<Box<dyn Stream>, ScanError> {
        let cannot = |e: std::io::Error| self.error(format!("cannot connect: {e}"));
        let timeouts = Some(self.timeout);
        match &self.address {
            ClamdAddress::Socket(path) => {
                let stream = UnixStream::connect(path).map_err(cannot)?;
                stream.set_read_timeout(timeouts).map_err(cannot)?;
                stream.set_write_timeout(timeouts).map_err(cannot)?;
                Ok(Box::new(stream))
            }
            ClamdAddress::Tcp(address) => {
                let socket = std::net::ToSocketAddrs::to_socket_addrs(address)
                    .map_err(cannot)?
                    .next()
                    .ok_or_else(|| self.error("the host has no address".into()))?;
                let stream = TcpStream::connect_timeout(&socket, self.timeout).map_err(cannot)?;
                stream.set_read_timeout(timeouts).map_err(cannot)?;
                stream.set_write_timeout(timeouts).map_err(cannot)?;
                Ok(Box::new(stream))
            }
        }
    }

    fn error(&self, problem: String) -> ScanError {
        ScanError {
            address: self.address.to_string(),
            problem,
        }
    }
}

fn describe(error: &std::io::Error, timeout: Duration) -> String {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    match error.kind() {
        TimedOut | WouldBlock => format!("no answer within {} s", timeout.as_secs()),
        _ => error.to_string(),
    }
}

/// The EICAR anti-virus test file: harmless, and detected by every scanner (`check`
/// probes clamd with it). Put together when used, so that no scanner takes this
/// program's own files for it.
pub fn eicar() -> Vec<u8> {
    let halves: [&[u8]; 2] = [
        br"X5O!P%@AP[4\PZX54(P^)7CC)7}$",
        b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
    ];
    halves.concat()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_eicar_test_file_is_its_68_standard_bytes() {
        let eicar = super::eicar();
        assert_eq!(eicar.len(), 68);
        assert_eq!(
            crate::mail::parse::sha256_hex(&eicar),
            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
        );
    }
}
