//! `[sink] tls`: encrypted connections to the nodes with the system OpenSSL (the driver's
//! `openssl-010` backend), the nodes' certificates checked against a CA file (or the system
//! trust store), optionally a client certificate for nodes that require one.

use serde::Deserialize;
use std::path::{Path, PathBuf};

use openssl::ssl::{SslConnector, SslConnectorBuilder, SslFiletype, SslMethod, SslVerifyMode};
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;
use scylla::client::session::TlsContext;

/// `X509_V_ERR_HOSTNAME_MISMATCH` and `X509_V_ERR_IP_ADDRESS_MISMATCH` (openssl/x509_vfy.h):
/// the only verification errors `verify_hostname = false` forgives.
const NAME_MISMATCH: [i32; 2] = [62, 64];

/// TLS to the nodes. Present (even as `tls = {}`) means every connection is encrypted;
/// absent, the default, means plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA certificate(s) the nodes' certificates must chain to; only these are
    /// trusted. Without it, the system trust store is used.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Check that each node's certificate names the address weir connects to (its IP, as a
    /// subjectAltName). Default true; `false` still checks the chain, not the name.
    #[serde(default = "yes")]
    pub verify_hostname: bool,
    /// PEM client certificate, for nodes with `require_client_auth`; needs `key_file`.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// PEM private key (unencrypted) of `cert_file`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

const fn yes() -> bool {
    true
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            ca_file: None,
            verify_hostname: true,
            cert_file: None,
            key_file: None,
        }
    }
}

/// One problem of the TLS settings: the key under `tls` (e.g. `ca_file`) and the fix.
pub(crate) type TlsProblem = (&'static str, String);

impl TlsConfig {
    /// Checks every file (exists, parses, key matches certificate); the problems name their
    /// key under `tls`.
    pub(crate) fn check(&self) -> Vec<TlsProblem> {
        match self.connector() {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }

    /// The driver's TLS context for these settings.
    pub fn context(&self) -> Result<TlsContext, String> {
        self.connector().map(TlsContext::from).map_err(|problems| {
            problems
                .into_iter()
                .map(|(key, why)| format!("`tls.{key}`: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn connector(&self) -> Result<SslConnectorBuilder, Vec<TlsProblem>> {
        let mut problems = Vec::new();
        let mut builder = SslConnector::builder(SslMethod::tls_client())
            .map_err(|e| vec![("ca_file", format!("cannot set up OpenSSL: {e}"))])?;
        if let Some(path) = &self.ca_file {
            match ca_store(path) {
                Ok(store) => builder.set_cert_store(store),
                Err(why) => problems.push(("ca_file", why)),
            }
        }
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                if let Err(why) = readable(cert).and_then(|()| {
                    builder
                        .set_certificate_chain_file(cert)
                        .map_err(|e| format!("`{}` is not a PEM certificate: {e}", cert.display()))
                }) {
                    problems.push(("cert_file", why));
                } else if let Err(why) = readable(key).and_then(|()| {
                    builder
                        .set_private_key_file(key, SslFiletype::PEM)
                        .map_err(|e| {
                            format!(
                                "`{}` is not an unencrypted PEM private key: {e}",
                                key.display()
                            )
                        })
                        .and_then(|()| {
                            builder.check_private_key().map_err(|e| {
                                format!(
                                    "`{}` is not the key of `{}`: {e}",
                                    key.display(),
                                    cert.display()
                                )
                            })
                        })
                }) {
                    problems.push(("key_file", why));
                }
            }
            (Some(_), None) => problems.push((
                "key_file",
                "is missing while `cert_file` is set; add the PEM key of the client certificate"
                    .into(),
            )),
            (None, Some(_)) => problems.push((
                "cert_file",
                "is missing while `key_file` is set; add the PEM client certificate or remove the key"
                    .into(),
            )),
            (None, None) => {}
        }
        if !self.verify_hostname {
            builder.set_verify_callback(SslVerifyMode::PEER, |ok, ctx| {
                ok || NAME_MISMATCH.contains(&ctx.error().as_raw())
            });
        }
        if problems.is_empty() {
            Ok(builder)
        } else {
            Err(problems)
        }
    }
}

fn readable(path: &Path) -> Result<(), String> {
    std::fs::metadata(path).map(|_| ()).map_err(|e| {
        format!(
            "cannot read `{}`: {e}; check the path (relative paths start at weir's working directory)",
            path.display()
        )
    })
}

/// A store trusting exactly the certificates of the PEM file.
fn ca_store(path: &Path) -> Result<openssl::x509::store::X509Store, String> {
    let pem = std::fs::read(path).map_err(|e| {
        format!(
            "cannot read `{}`: {e}; check the path (relative paths start at weir's working directory)",
            path.display()
        )
    })?;
    let certs = X509::stack_from_pem(&pem)
        .ok()
        .filter(|certs| !certs.is_empty())
        .ok_or_else(|| {
            format!(
                "`{}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`); give the CA certificate that signed the nodes' certificates",
                path.display()
            )
        })?;
    let mut store = X509StoreBuilder::new().map_err(|e| format!("OpenSSL: {e}"))?;
    for cert in certs {
        store
            .add_cert(cert)
            .map_err(|e| format!("cannot trust a certificate of `{}`: {e}", path.display()))?;
    }
    Ok(store.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_unparsable_files_are_named_with_their_key() {
        let dir = tempfile::tempdir().expect("dir");
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "hello").expect("write");
        let tls = TlsConfig {
            ca_file: Some(not_pem),
            cert_file: Some(dir.path().join("absent.pem")),
            key_file: Some(dir.path().join("absent.key")),
            verify_hostname: true,
        };
        let problems = tls.check();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["ca_file", "cert_file"], "{problems:?}");
        assert!(problems[0].1.contains("no PEM certificate"), "{problems:?}");
        assert!(problems[1].1.contains("absent.pem"), "{problems:?}");
        let half = TlsConfig {
            cert_file: Some("c.pem".into()),
            ..TlsConfig::default()
        };
        assert_eq!(half.check()[0].0, "key_file");
        assert!(TlsConfig::default().check().is_empty());
        assert!(TlsConfig::default().context().is_ok());
    }
}
