//! A pair started with `cassandra_tls` serves CQL only over TLS, with a certificate the
//! generated CA signed for 127.0.0.1: a TLS client trusting that CA gets in, a plaintext
//! client or one trusting other CAs does not. Kafka stays plaintext.

use weir_peers::{Peers, PeersOptions};

#[test]
fn a_pair_with_cassandra_tls_answers_only_tls_clients_that_trust_its_ca() {
    let state_dir = std::env::temp_dir().join(format!("weir-peers-tls-{}", std::process::id()));
    let mut peers = Peers::start(&PeersOptions {
        state_dir: state_dir.clone(),
        cassandra_tls: true,
        ..PeersOptions::default()
    })
    .unwrap_or_else(|e| panic!("pair with Cassandra TLS: {e}"));
    let cassandra = peers.cassandra();
    let ca = cassandra
        .tls_ca()
        .expect("a TLS node names its CA")
        .to_path_buf();
    let pem = std::fs::read_to_string(&ca).expect("CA file");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    cassandra
        .probe_as(None)
        .unwrap_or_else(|e| panic!("TLS probe trusting the generated CA: {e}"));
    cassandra
        .probe_with(None, None)
        .expect_err("a plaintext client was answered");
    // The system's CAs did not sign the node's certificate.
    let err = cassandra
        .probe_with(
            None,
            Some(std::path::Path::new("/etc/ssl/certs/ca-certificates.crt")),
        )
        .expect_err("a client trusting other CAs got in");
    assert!(err.contains("certificate verify failed"), "{err}");
    let yaml = std::fs::read_to_string(cassandra.dir().join("cassandra.yaml")).expect("yaml");
    assert!(yaml.contains("client_encryption_options:\n  enabled: true\n  optional: false"));
    assert!(peers.kafka().tls_ca().is_none());
    peers.kafka().probe_as(None).expect("Kafka stays plaintext");
    peers.stop().expect("stop");
    let _ = std::fs::remove_dir_all(&state_dir);
}
