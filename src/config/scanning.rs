//! `[scan]`: citizens' attachments scanned by ClamAV's clamd before any notification
//! forwards them.

use std::path::PathBuf;
use std::time::Duration;

/// The scanning settings; absent (no `scan.clamd`) means files are forwarded unscanned.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    pub clamd: ClamdAddress,
    pub timeout: Duration,
    /// When clamd gives no finding: hold the file back and retry on later cycles (the
    /// default), or forward it unscanned (`scan.when_unavailable = "forward"`).
    pub hold_unscanned: bool,
}

/// Where clamd listens: `scan.clamd`, a socket path or `tcp://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClamdAddress {
    Socket(PathBuf),
    Tcp(String),
}

impl ClamdAddress {
    /// Reads `scan.clamd`: `tcp://host:port`, or an absolute socket path.
    pub fn parse(text: &str) -> Option<ClamdAddress> {
        let text = text.trim();
        if let Some(address) = text.strip_prefix("tcp://") {
            let (host, port) = address.rsplit_once(':')?;
            (!host.is_empty() && port.parse::<u16>().is_ok())
                .then(|| ClamdAddress::Tcp(address.to_string()))
        } else {
            text.starts_with('/')
                .then(|| ClamdAddress::Socket(PathBuf::from(text)))
        }
    }
}

impl std::fmt::Display for ClamdAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClamdAddress::Socket(path) => write!(f, "{}", path.display()),
            ClamdAddress::Tcp(address) => write!(f, "tcp://{address}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClamdAddress;

    #[test]
    fn clamd_addresses_are_a_socket_path_or_tcp_host_and_port() {
        assert_eq!(
            ClamdAddress::parse("/run/clamav/clamd.ctl"),
            Some(ClamdAddress::Socket("/run/clamav/clamd.ctl".into()))
        );
        assert_eq!(
            ClamdAddress::parse("tcp://127.0.0.1:3310"),
            Some(ClamdAddress::Tcp("127.0.0.1:3310".into()))
        );
        for bad in [
            "clamd.ctl",
            "tcp://127.0.0.1",
            "tcp://:3310",
            "tcp://host:port",
            "",
        ] {
            assert_eq!(ClamdAddress::parse(bad), None, "{bad:?}");
        }
    }
}
