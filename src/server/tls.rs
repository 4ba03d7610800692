//! TLS for the server: a certificate chain and private key in PEM files. Fails closed: any
//! problem with them stops the server from starting, it never falls back to plaintext.

use std::path::Path;
use std::sync::Arc;

use datafusion_postgres::pgwire::tokio::TlsAcceptor;
use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::Error;

/// A TLS acceptor for `cert` (PEM chain, leaf first) and `key` (PEM, PKCS#8, PKCS#1 or SEC1).
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, Error> {
    let problem = |what: String| Error::Config(format!("TLS: {what}; the server was not started"));
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| problem(format!("cannot read certificate {}: {e}", cert.display())))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| problem(format!("bad certificate {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(problem(format!(
            "no certificate in {} (expected PEM)",
            cert.display()
        )));
    }
    let private_key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| problem(format!("cannot read private key {}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| problem(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            problem(format!(
                "certificate {} and key {} do not work together: {e}",
                cert.display(),
                key.display()
            ))
        })?;
    // PostgreSQL 17's direct TLS (sslnegotiation=direct) requires this ALPN name.
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
