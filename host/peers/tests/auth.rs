//! A pair started with password authentication accepts its user and nobody else: no login,
//! a wrong password, or the right password for another user are all refused, by both servers.

use weir_peers::{Credentials, Kind, Peers, PeersOptions};

#[test]
fn a_pair_with_auth_accepts_only_its_user_and_password() {
    let state_dir = std::env::temp_dir().join(format!("weir-peers-auth-{}", std::process::id()));
    let user = Credentials::new("weir_app", "s3cret-\"quoted'\\-pw");
    let mut peers = Peers::start(&PeersOptions {
        state_dir: state_dir.clone(),
        auth: Some(user.clone()),
        ..PeersOptions::default()
    })
    .unwrap_or_else(|e| panic!("pair with auth: {e}"));
    let wrong = Credentials::new("weir_app", "not-the-password");
    let stranger = Credentials::new("someone_else", user.password.clone());
    for kind in [Kind::Kafka, Kind::Cassandra] {
        let server = match kind {
            Kind::Kafka => peers.kafka(),
            Kind::Cassandra => peers.cassandra(),
        };
        server
            .probe_as(Some(&user))
            .unwrap_or_else(|e| panic!("{kind} refused its own user: {e}"));
        let refused = [
            (None, "no login"),
            (Some(&wrong), "a wrong password"),
            (Some(&stranger), "an unknown user"),
        ];
        for (auth, what) in refused {
            let err = server
                .probe_as(auth)
                .expect_err(&format!("{kind} accepted {what}"));
            assert!(
                !err.contains(&user.password),
                "{kind} error shows the password: {err}"
            );
        }
        if kind == Kind::Kafka {
            let props = std::fs::read_to_string(server.dir().join("server.properties"))
                .expect("server.properties");
            assert!(props.contains("SASL_PLAINTEXT://127.0.0.1"), "{props}");
        }
    }
    peers.stop().expect("stop");
    let _ = std::fs::remove_dir_all(&state_dir);
}
