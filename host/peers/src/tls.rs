//! Certificates for a Cassandra started with [`crate::PeersOptions::cassandra_tls`]: a fresh
//! self-signed CA and a server certificate it signs (for `127.0.0.1` and `localhost`), made
//! with OpenSSL at each start; the key store Cassandra reads is PKCS#12.

use std::net::{IpAddr, TcpStream};
use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::{PKey, Private};
use openssl::ssl::{SslConnector, SslMethod, SslStream};
use openssl::stack::Stack;
use openssl::x509::extension::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
};
use openssl::x509::{X509, X509NameBuilder};

use crate::Error;

/// Password of the generated key store (a test fixture on loopback, not a secret).
pub(crate) const KEYSTORE_PASSWORD: &str = "weir-peers";

/// The files of one generated CA and server certificate.
#[derive(Debug, Clone)]
pub(crate) struct ServerTls {
    /// PEM of the CA certificate: what clients trust.
    pub ca_file: PathBuf,
    /// PKCS#12 key store with the server key and certificate chain.
    pub keystore: PathBuf,
}

/// Writes `ca.pem` and `server.p12` into `dir`.
pub(crate) fn generate(dir: &Path) -> Result<ServerTls, Error> {
    let failed = |reason: openssl::error::ErrorStack| Error::State {
        path: dir.to_path_buf(),
        reason: format!("cannot generate the TLS certificates: {reason}"),
    };
    std::fs::create_dir_all(dir).map_err(Error::io("cannot create", dir))?;
    let (ca, ca_key) = certificate("weir-peers test CA", None).map_err(failed)?;
    let (server, server_key) = certificate("localhost", Some((&ca, &ca_key))).map_err(failed)?;
    let mut chain = Stack::new().map_err(failed)?;
    chain.push(ca.clone()).map_err(failed)?;
    let p12 = Pkcs12::builder()
        .name("cassandra")
        .pkey(&server_key)
        .cert(&server)
        .ca(chain)
        .build2(KEYSTORE_PASSWORD)
        .and_then(|p| p.to_der())
        .map_err(failed)?;
    let tls = ServerTls {
        ca_file: dir.join("ca.pem"),
        keystore: dir.join("server.p12"),
    };
    let ca_pem = ca.to_pem().map_err(failed)?;
    std::fs::write(&tls.ca_file, ca_pem).map_err(Error::io("cannot write", &tls.ca_file))?;
    std::fs::write(&tls.keystore, p12).map_err(Error::io("cannot write", &tls.keystore))?;
    Ok(tls)
}

/// A P-256 key and a certificate for `cn`: a CA when `issuer` is `None` (self-signed),
/// otherwise a server certificate for 127.0.0.1 and localhost signed by `issuer`.
fn certificate(
    cn: &str,
    issuer: Option<(&X509, &PKey<Private>)>,
) -> Result<(X509, PKey<Private>), openssl::error::ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, cn)?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&name)?;
    b.set_pubkey(&key)?;
    let (not_before, not_after) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(30)?);
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    match issuer {
        None => {
            b.set_issuer_name(&name)?;
            b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()?,
            )?;
            b.sign(&key, MessageDigest::sha256())?;
        }
        Some((ca, ca_key)) => {
            b.set_issuer_name(ca.subject_name())?;
            let san = SubjectAlternativeName::new()
                .ip("127.0.0.1")
                .dns("localhost")
                .build(&b.x509v3_context(Some(ca), None))?;
            b.append_extension(san)?;
            b.append_extension(BasicConstraints::new().build()?)?;
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .digital_signature()
                    .key_agreement()
                    .build()?,
            )?;
            b.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
            b.sign(ca_key, MessageDigest::sha256())?;
        }
    }
    Ok((b.build(), key))
}

/// A TLS client connection over `tcp` that trusts only the CA in `ca_file` and checks that
/// the server's certificate names `ip`, the address connected to.
pub(crate) fn connect(
    tcp: TcpStream,
    ip: IpAddr,
    ca_file: &Path,
) -> std::io::Result<SslStream<TcpStream>> {
    let other = |e: &dyn std::fmt::Display| std::io::Error::other(format!("TLS: {e}"));
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(|e| other(&e))?;
    let mut store = openssl::x509::store::X509StoreBuilder::new().map_err(|e| other(&e))?;
    let pem = std::fs::read(ca_file)?;
    for cert in X509::stack_from_pem(&pem).map_err(|e| other(&e))? {
        store.add_cert(cert).map_err(|e| other(&e))?;
    }
    builder.set_cert_store(store.build());
    let connector = builder.build();
    let mut config = connector.configure().map_err(|e| other(&e))?;
    config.set_use_server_name_indication(false);
    config.set_verify_hostname(false);
    config.param_mut().set_ip(ip).map_err(|e| other(&e))?;
    config.connect("localhost", tcp).map_err(|e| other(&e))
}
