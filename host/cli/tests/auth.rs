//! `weir run` and `weir ingest` against a Kafka that requires SASL/PLAIN and a Cassandra that
//! requires a password and TLS (a pair of their own, started for this test): credentials come
//! from an environment variable and a file, the sink trusts the pair's CA file, a wrong
//! password, a missing `tls` or a CA that did not sign the node stops weir with an error naming
//! the server, and no password ever shows in a log or an error.

mod e2e;

use e2e::{Login, Setup, header, users};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weir_cassandra::TlsConfig;
use weir_core::DeadLetterHeaders;
use weir_kafka::{Properties, PropertyValue};
use weir_peers::{Credentials, Peers, PeersOptions};

const USER: &str = "weir_app";
const KAFKA_PASSWORD_VAR: &str = "WEIR_E2E_KAFKA_PASSWORD";

/// The SASL/PLAIN client properties, the password as given (a literal or a reference).
fn sasl(password: &str) -> Vec<(String, String)> {
    [
        ("security.protocol", "SASL_PLAINTEXT"),
        ("sasl.mechanism", "PLAIN"),
        ("sasl.username", USER),
        ("sasl.password", password),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_from_env_and_file_reach_password_protected_servers_and_never_show() {
    let state = tempfile::tempdir().expect("state dir");
    let password = format!("pw-{}-Zq9\"x", std::process::id());
    let mut peers = Peers::start(&PeersOptions {
        state_dir: state.path().to_path_buf(),
        auth: Some(Credentials::new(USER, &password)),
        cassandra_tls: true,
        ..PeersOptions::default()
    })
    .unwrap_or_else(|e| panic!("password-protected pair: {e}"));
    let ca_file = peers
        .cassandra()
        .tls_ca()
        .expect("the node requires TLS")
        .to_path_buf();
    let (kafka, cassandra) = (
        peers.kafka_addr().to_string(),
        peers.cassandra_addr().to_string(),
    );
    let login = Login {
        kafka: Properties(
            sasl(&password)
                .into_iter()
                .map(|(k, v)| (k, PropertyValue::Text(v)))
                .collect(),
        ),
        cassandra: Some((USER.to_owned(), password.clone())),
        cassandra_tls: Some(TlsConfig {
            ca_file: Some(ca_file.clone()),
            ..TlsConfig::default()
        }),
    };
    let mut setup = Setup::on("auth", 2, &kafka, &cassandra, login).await;
    let password_file = setup.dir.path().join("cassandra-password");
    std::fs::write(&password_file, format!("{password}\n")).expect("password file");
    setup.kafka_config = sasl(&format!("env:{KAFKA_PASSWORD_VAR}"));
    let login_lines = format!(
        "username = \"{USER}\"\npassword = \"file:{}\"",
        password_file.display()
    );
    // A config without `tls`, and one trusting the system's CAs (which did not sign the node).
    setup.sink_config = login_lines.clone();
    let plaintext = setup.config_named("plaintext.toml", &setup.cassandra, "");
    setup.sink_config =
        format!("{login_lines}\ntls = {{ ca_file = \"/etc/ssl/certs/ca-certificates.crt\" }}");
    let other_ca = setup.config_named("other-ca.toml", &setup.cassandra, "");
    setup.sink_config = format!(
        "{login_lines}\ntls = {{ ca_file = \"{}\", verify_hostname = true }}",
        ca_file.display()
    );
    let config = setup.config(&setup.cassandra, "");
    let config_arg = config.to_str().expect("utf-8 path");
    let env = [
        (KAFKA_PASSWORD_VAR, password.as_str()),
        ("WEIR_LOG", "debug,librdkafka=debug"),
    ];
    let mut outputs = Vec::new();

    // `weir ingest` produces through the SASL listener with the same properties.
    let mut ingest = vec![
        "ingest",
        "--synthetic",
        "--count",
        "15",
        "--brokers",
        &kafka,
        "--topic",
        &setup.topic,
    ];
    let ingest_properties: Vec<String> = setup
        .kafka_config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for p in &ingest_properties {
        ingest.extend(["--kafka-property", p]);
    }
    let (ok, out, err) = setup.weir_with_env(&ingest, &env);
    assert!(ok, "weir ingest over SASL failed:\n{out}{err}");
    outputs.push(out + &err);

    // Ten users and one poison event; the run reads them through SASL, writes the rows with
    // the password from the file, dead-letters the poison through SASL.
    let mut values = users(10);
    values.insert(4, "not json at all".to_owned());
    setup.produce(&values).await;
    let weir = setup.start_with_env(&config, "weir.log", &[], &env);
    setup.wait_for_rows(25).await;
    let letters = setup.dead_letters(1).await;
    assert_eq!(
        header(&letters[0], DeadLetterHeaders::CLASS),
        "invalid-input"
    );
    assert_eq!(letters[0].value.as_ref(), b"not json at all");
    outputs.push(weir.stop());

    // A wrong Kafka password stops the run with an error naming Kafka.
    let wrong = "wrong-kafka-pw-Kq7";
    let (ok, log) = run_until_exit(
        &setup,
        &["run", "--config", config_arg, "--until-drained"],
        &[(KAFKA_PASSWORD_VAR, wrong)],
    );
    assert!(!ok, "a wrong Kafka password must fail the run:\n{log}");
    assert!(log.contains("Kafka refused the login"), "{log}");
    assert!(
        !log.contains(wrong),
        "the wrong Kafka password was printed:\n{log}"
    );
    outputs.push(log);

    // So does `weir ingest`'s producer, instead of waiting for its deliveries to time out.
    let (ok, log) = run_until_exit(&setup, &ingest, &[(KAFKA_PASSWORD_VAR, wrong)]);
    assert!(!ok, "a wrong Kafka password must fail weir ingest:\n{log}");
    assert!(log.contains("Kafka refused the login"), "{log}");
    assert!(
        !log.contains(wrong),
        "the wrong Kafka password was printed:\n{log}"
    );
    outputs.push(log);

    // Plaintext to a node that requires TLS, or TLS trusting the wrong CA, stops the run with
    // an error naming Cassandra and the `sink.tls` setting.
    // (The node drops a plaintext connection; whether the driver then sees a reset or an end
    // of stream is not asserted.)
    let refusals = [
        (&plaintext, "no `tls`", None),
        (&other_ca, "another CA", Some("certificate verify failed")),
    ];
    for (bad, what, reason) in refusals {
        let (ok, log) = run_until_exit(
            &setup,
            &[
                "run",
                "--config",
                bad.to_str().expect("utf-8 path"),
                "--until-drained",
            ],
            &env,
        );
        assert!(!ok, "a sink with {what} must fail the run:\n{log}");
        assert!(log.contains("cannot connect to Cassandra"), "{log}");
        assert!(log.contains("`sink.tls`"), "{log}");
        assert!(reason.is_none_or(|r| log.contains(r)), "{log}");
        outputs.push(log);
    }

    // A wrong Cassandra password (from the file) stops it with an error naming Cassandra.
    let wrong = "wrong-cassandra-pw-Cq7";
    std::fs::write(&password_file, wrong).expect("password file");
    let (ok, log) = run_until_exit(
        &setup,
        &["run", "--config", config_arg, "--until-drained"],
        &env,
    );
    assert!(!ok, "a wrong Cassandra password must fail the run:\n{log}");
    assert!(log.contains("cannot connect to Cassandra"), "{log}");
    assert!(
        !log.contains(wrong),
        "the wrong Cassandra password was printed:\n{log}"
    );
    outputs.push(log);

    for (i, output) in outputs.iter().enumerate() {
        assert!(
            !output.contains(&password),
            "output {i} shows the password:\n{output}"
        );
    }
    peers.stop().expect("stop the pair");
}

/// Runs `weir ARGS` until it exits (killed after a deadline, which fails the test); returns
/// whether it succeeded and its stdout and stderr.
fn run_until_exit(setup: &Setup, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let log = setup
        .dir
        .path()
        .join(format!("run-{}.log", fastrand::u32(..)));
    let file = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(args)
        .current_dir(setup.dir.path())
        .env("XDG_CACHE_HOME", setup.dir.path().join("cache"))
        .env("WEIR_LOG", "debug,librdkafka=debug")
        .envs(env.iter().copied())
        .stdout(file.try_clone().expect("log file"))
        .stderr(file)
        .stdin(Stdio::null())
        .spawn()
        .expect("weir starts");
    let deadline = Instant::now() + e2e::DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "weir {args:?} still runs after {:?}; log:\n{}",
                e2e::DEADLINE,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    (status.success(), text)
}
