//! TLS over TCP with rustls (feature `tls`): builds the client
//! configuration from a [`TlsConfig`], runs the TLS handshake, and turns
//! rustls's errors into messages that name the check that failed and the
//! setting that fixes it.
//!
//! The rustls configuration (trusted roots, client certificate) is built on
//! the first connection and kept in the `TlsConfig`, so reconnects neither
//! read the PEM files nor load the system's roots again. The server name is
//! chosen per connection: `sslHost`, or else the endpoint's host.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::Stream;
use crate::config::{ConfigError, Endpoint, TlsConfig};
use crate::error::{Error, Result};

/// Runs the TLS handshake over `stream`, checking the server's certificate
/// against `settings.server_name` or, when unset, `host`; gives up at
/// `deadline`.
pub(super) async fn connect(
    stream: TcpStream,
    endpoint: &Endpoint,
    host: &str,
    settings: &TlsConfig,
    deadline: tokio::time::Instant,
) -> Result<Stream> {
    let client_config = match settings.prepared.get() {
        Some(built) => built,
        None => {
            let built = Arc::new(client_config(endpoint, settings)?);
            settings.prepared.keep(built.clone());
            built
        }
    };
    let name = settings.server_name.as_deref().unwrap_or(host);
    let server_name = ServerName::try_from(name.to_owned()).map_err(|_| {
        if settings.server_name.is_some() {
            ConfigError::new(
                Some("sslHost"),
                format!("'sslHost' expects a DNS name or an IP address, got '{name}'"),
            )
            .into()
        } else {
            Error::connect(
                endpoint,
                format!(
                    "TLS: the host '{name}' is not a DNS name or IP address that a certificate \
                     can be checked against; set sslHost to the name in the server's certificate"
                ),
                None,
            )
        }
    })?;
    if settings.insecure {
        tracing::warn!(
            %endpoint,
            "sslInsecure=true: TLS to {endpoint} without checking the server's certificate; \
             anyone who can intercept the connection can read and change its traffic, the \
             password included. Use sslCaCert instead outside tests"
        );
    }
    let handshake = TlsConnector::from(client_config).connect(server_name, stream);
    let stream = match tokio::time::timeout_at(deadline, handshake).await {
        Ok(done) => done.map_err(|e| Error::connect(endpoint, explain(&e, Some(name)), Some(e)))?,
        Err(_) => {
            return Err(Error::connect(
                endpoint,
                "TLS: the server did not answer the TLS handshake within connectTimeout; check \
                 that the port is the server's tls-port (a plain port waits silently, taking the TLS \
                 hello for an unfinished command)",
                None,
            ))
        }
    };
    Ok(Box::new(Clarified(stream)))
}

/// The rustls client configuration for `settings`: ring provider, TLS 1.2
/// and 1.3, the trusted roots, and the client certificate if any.
fn client_config(endpoint: &Endpoint, settings: &TlsConfig) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::connect(endpoint, format!("TLS: {e}"), None))?;
    let builder = if settings.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else {
        builder.with_root_certificates(trusted_roots(endpoint, settings)?)
    };
    match (&settings.client_cert, &settings.client_key) {
        (Some(cert_path), Some(key_path)) => {
            let certs = read_certificates("sslCert", cert_path)?;
            let key = read_private_key(key_path)?;
            builder.with_client_auth_cert(certs, key).map_err(|e| {
                // rustls's text here describes the key's type or fit, never
                // the key itself.
                ConfigError::new(
                    Some("sslKey"),
                    format!(
                        "the private key in '{}' cannot be used with the certificate in '{}': \
                         {e}",
                        key_path.display(),
                        cert_path.display()
                    ),
                )
                .into()
            })
        }
        // check_tls refused a certificate without its key (and the reverse).
        _ => Ok(builder.with_no_client_auth()),
    }
}

/// `sslCaCert`'s certificates alone, or the operating system's store.
fn trusted_roots(endpoint: &Endpoint, settings: &TlsConfig) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    if let Some(path) = &settings.ca_cert {
        for cert in read_certificates("sslCaCert", path)? {
            roots.add(cert).map_err(|e| {
                file_error(
                    "sslCaCert",
                    path,
                    &format!("holds a certificate that cannot be a trust anchor ({e})"),
                )
            })?;
        }
        return Ok(roots);
    }
    let found = rustls_native_certs::load_native_certs();
    let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        return Err(Error::connect(
            endpoint,
            format!(
                "TLS: no trusted root certificates were found in the operating system's \
                 store{why}; install them (Debian: ca-certificates) or set sslCaCert to the CA \
                 that signed the server's certificate"
            ),
            None,
        ));
    }
    Ok(roots)
}

/// Every certificate in the PEM file at `path` (at least one).
fn read_certificates(key: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let text = read_file(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<std::result::Result<Vec<_>, pem::Error>>()
        .map_err(|e| file_error(key, path, &format!("is not a valid PEM file ({e})")))?;
    if certs.is_empty() {
        return Err(file_error(
            key,
            path,
            "holds no certificate (a PEM block '-----BEGIN CERTIFICATE-----')",
        ));
    }
    Ok(certs)
}

/// The private key in the PEM file at `path`. The file's content never
/// reaches an error message, whatever is wrong with it.
fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let text = read_file("sslKey", path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
        let what = match e {
            pem::Error::NoItemsFound => {
                "holds no private key (a PEM block '-----BEGIN PRIVATE KEY-----', \
                 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')"
            }
            _ => "is not a valid PEM file",
        };
        file_error("sslKey", path, what)
    })
}

fn read_file(key: &str, path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| file_error(key, path, &format!("cannot be read: {e}")))
}

fn file_error(key: &str, path: &Path, what: &str) -> Error {
    ConfigError::new(
        Some(key),
        format!("the {key} file '{}' {what}", path.display()),
    )
    .into()
}

/// Says which check failed, and what to set, for an error from the TLS
/// handshake or from a read or write after it. `name` is the server name
/// checked during the handshake.
fn explain(e: &io::Error, name: Option<&str>) -> String {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => explain_tls(tls, name),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "TLS: the server closed the connection during the TLS handshake; check that the \
             port is the server's tls-port and whether it requires a client certificate \
             (sslCert, sslKey)"
                .to_owned()
        }
        None => format!("TLS handshake failed: {e}"),
    }
}

fn explain_tls(e: &rustls::Error, name: Option<&str>) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "TLS: the server's certificate is not valid for the name '{}' (check sslHost)",
            name.unwrap_or("?")
        ),
        E::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "TLS: the server's certificate was issued by an unknown certificate authority \
             (set sslCaCert to the CA that signed it)"
                .to_owned()
        }
        E::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "TLS: the server's certificate has expired".to_owned(),
        E::InvalidCertificate(
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. },
        ) => {
            "TLS: the server's certificate is not valid yet (check this machine's clock)".to_owned()
        }
        E::InvalidCertificate(_) => format!("TLS: the server's certificate was rejected: {e}"),
        E::AlertReceived(AlertDescription::CertificateRequired) => {
            "TLS: the server requires a client certificate (set sslCert and sslKey)".to_owned()
        }
        E::AlertReceived(
            alert @ (AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateRevoked
            | AlertDescription::AccessDenied),
        ) => format!(
            "TLS: the server rejected the client certificate (alert {alert:?}); check sslCert \
             and sslKey, and that the server trusts the CA that signed them"
        ),
        E::AlertReceived(AlertDescription::HandshakeFailure) => {
            "TLS: the server refused the handshake (alert HandshakeFailure); it may require a \
             client certificate (sslCert, sslKey), or a TLS version or cipher suite that is not \
             offered"
                .to_owned()
        }
        E::AlertReceived(alert) => format!("TLS: the server sent the alert {alert:?}"),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            "TLS: the server did not answer in TLS; check that the port is the server's \
             tls-port and not its plain port"
                .to_owned()
        }
        other => format!("TLS: {other}"),
    }
}

/// The TLS stream, with rustls errors after the handshake (a client
/// certificate refused, with TLS 1.3, shows up on the first read) turned
/// into the same explanations as during it.
struct Clarified(tokio_rustls::client::TlsStream<TcpStream>);

fn clarify(e: io::Error) -> io::Error {
    let explained = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(|tls| explain_tls(tls, None));
    match explained {
        Some(message) => io::Error::new(e.kind(), message),
        None => e,
    }
}

impl AsyncRead for Clarified {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf).map_err(clarify)
    }
}

impl AsyncWrite for Clarified {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf).map_err(clarify)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0)
            .poll_write_vectored(cx, bufs)
            .map_err(clarify)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx).map_err(clarify)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx).map_err(clarify)
    }
}

/// `sslInsecure=true`: accepts any server certificate, but still checks that
/// the server holds the key of the certificate it sent (the handshake
/// signatures), so the connection is encrypted, if not authenticated.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_name_the_check_and_the_setting() {
        let name = explain_tls(
            &rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
            Some("wrong.example"),
        );
        assert_eq!(
            name,
            "TLS: the server's certificate is not valid for the name 'wrong.example' \
             (check sslHost)"
        );
        let ca = explain_tls(
            &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            None,
        );
        assert!(ca.contains("unknown certificate authority"), "{ca}");
        assert!(ca.contains("sslCaCert"), "{ca}");
        let client = explain_tls(
            &rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
            None,
        );
        assert!(client.contains("sslCert and sslKey"), "{client}");
    }

    #[test]
    fn clarify_rewords_rustls_errors_and_keeps_others() {
        let wrapped = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
        );
        let e = clarify(wrapped);
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(
            e.to_string().contains("requires a client certificate"),
            "{e}"
        );
        let plain = clarify(io::Error::new(io::ErrorKind::BrokenPipe, "gone"));
        assert_eq!(plain.to_string(), "gone");
    }

    fn failure<T>(result: Result<T>) -> Error {
        match result {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn unreadable_and_invalid_pem_files_name_the_key_and_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.pem");
        let e = failure(read_certificates("sslCaCert", &missing));
        assert_eq!(e.kind(), crate::ErrorKind::Config);
        let text = e.to_string();
        assert!(text.contains("key 'sslCaCert'"), "{text}");
        assert!(text.contains(&missing.display().to_string()), "{text}");
        assert!(text.contains("cannot be read"), "{text}");

        let not_pem = dir.path().join("key.pem");
        std::fs::write(&not_pem, "SECRETKEYMATERIAL").expect("write");
        let e = failure(read_private_key(&not_pem)).to_string();
        assert!(
            e.contains("key 'sslKey'") && e.contains("holds no private key"),
            "{e}"
        );
        assert!(!e.contains("SECRETKEYMATERIAL"), "{e}");
        let e = failure(read_certificates("sslCert", &not_pem));
        assert!(e.to_string().contains("holds no certificate"), "{e}");
    }
}
