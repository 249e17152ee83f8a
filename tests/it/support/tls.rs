//! TLS towards the private mail stack: clients that trust only its CA.

use std::sync::Arc;

use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};

use super::{MailStack, TLS_HOST};

impl MailStack {
    /// The stack's CA certificate(s) as DER.
    pub fn ca_certificates(&self) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(&self.ca_pem())
            .collect::<Result<Vec<_>, _>>()
            .expect("cannot parse the mail stack's ca.pem")
    }

    /// A rustls client configuration (ring provider) that trusts only the stack's CA.
    pub fn rustls_config(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in self.ca_certificates() {
            roots
                .add(cert)
                .expect("cannot add the mail stack's CA to a root store");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("cannot select TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Arc::new(config)
    }

    /// lettre TLS parameters for host `localhost` that trust only the stack's CA.
    pub fn lettre_tls(&self) -> TlsParameters {
        let cert = Certificate::from_pem(&self.ca_pem()).expect("cannot load ca.pem into lettre");
        TlsParameters::builder(TLS_HOST.into())
            .certificate_store(CertificateStore::None)
            .add_root_certificate(cert)
            .build_rustls()
            .expect("cannot build lettre TLS parameters")
    }

    /// TLS connection to the IMAPS port for host `localhost`, trusting only the stack's CA.
    pub async fn imaps_connect(&self) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(("127.0.0.1", self.imaps_port))
            .await
            .expect("cannot connect to the IMAPS port");
        tokio_rustls::TlsConnector::from(self.rustls_config())
            .connect(
                ServerName::try_from(TLS_HOST).expect("invalid TLS host name"),
                tcp,
            )
            .await
            .expect("TLS handshake with the IMAPS port failed")
    }
}
