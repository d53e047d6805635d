//! `weir run` end to end: the real Kafka in, the enricher, the real Cassandra out.

mod e2e;

use e2e::{Setup, expected, header, same_instant, users};
use weir_core::DeadLetterHeaders;

#[tokio::test(flavor = "multi_thread")]
async fn every_event_becomes_exactly_one_row_equal_to_the_enricher_output() {
    let setup = Setup::new("rows", 3).await;
    let users = users(600);
    setup.produce(&users).await;
    let config = setup.config(&setup.cassandra, "");
    let port = e2e::free_port();
    let address = format!("metrics.address=127.0.0.1:{port}");
    let args = ["--set", "metrics.enabled=true", "--set", &address];
    let weir = setup.start_with(&config, "weir.log", &args);
    setup.wait_for_rows(600).await;

    // Once everything is written and committed, every partition reports a lag of 0.
    let caught_up =
        weir_test_support::wait_until(e2e::DEADLINE, "lag 0 on 3 partitions", || async {
            let metrics = e2e::scrape(port).await;
            let lags: Vec<&str> = metrics
                .lines()
                .filter(|l| l.starts_with("weir_kafka_consumer_lag{"))
                .collect();
            lags.len() == 3 && lags.iter().all(|l| l.ends_with(" 0"))
        })
        .await;
    assert!(caught_up.is_ok(), "{}", e2e::scrape(port).await);
    let log = weir.stop();
    assert!(log.contains("600 events in, 600 out, 0 failed"), "{log}");

    let rows = setup.rows().await;
    assert_eq!(rows.len(), 600);
    for user in &users {
        let want = expected(user);
        let id = want["id"].as_str().expect("id");
        let row = &rows[id];
        for (field, value) in want.as_object().expect("object") {
            if field == "dob" || field == "registered_date" {
                assert!(
                    same_instant(&row[field], value),
                    "{id}.{field}: {} vs {value}",
                    row[field]
                );
            } else {
                assert_eq!(&row[field], value, "{id}.{field}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_events_are_dead_lettered_with_their_reason_and_every_other_event_is_a_row() {
    let setup = Setup::new("poison", 2).await;
    let mut values = users(200);
    let poison = [
        "this is not json".to_owned(),
        // Enriches fine, but the table's primary key is missing.
        values[0].replace(r#""id":"#, r#""user_id":"#),
        // The enricher refuses an unparsable date and names the field.
        values[1].replace(r#""dob":"#, r#""dob":"yesterday","old_dob":"#),
        // A value that cannot be converted to its column type (text column, object value).
        values[2].replace(r#""post_code":"#, r#""post_code":{"x":1},"old_post_code":"#),
    ];
    // The poison events replace three good ones and add one.
    values.truncate(197);
    values.splice(0..3, []);
    let good = values.len();
    let mut all = values.clone();
    for (i, p) in poison.iter().enumerate() {
        all.insert(i * 40, p.clone());
    }
    setup.produce(&all).await;
    let config = setup.config(&setup.cassandra, "");
    let weir = setup.start(&config, "weir.log");
    let letters = setup.dead_letters(poison.len()).await;
    setup.wait_for_rows(good as i64).await;
    let log = weir.stop();
    assert!(
        log.contains(&format!("{} events in, {good} out, 4 failed", all.len())),
        "{log}"
    );

    let by_value: std::collections::HashMap<String, &weir_core::Event> = letters
        .iter()
        .map(|e| (String::from_utf8_lossy(&e.value).into_owned(), e))
        .collect();
    let expectations = [
        (&poison[0], "invalid-input", "plugin:enricher@", ""),
        (&poison[1], "sink-rejected", "sink", "id"),
        (&poison[2], "invalid-field", "plugin:enricher@", "dob"),
        (&poison[3], "sink-rejected", "sink", "post_code"),
    ];
    for (value, class, stage, field) in expectations {
        let letter = by_value
            .get(value.as_str())
            .unwrap_or_else(|| panic!("not dead-lettered: {value}"));
        assert_eq!(header(letter, DeadLetterHeaders::CLASS), class, "{value}");
        assert!(
            header(letter, DeadLetterHeaders::STAGE).starts_with(stage),
            "{value}"
        );
        assert_eq!(header(letter, DeadLetterHeaders::FIELD), field, "{value}");
        assert_eq!(header(letter, DeadLetterHeaders::TOPIC), setup.topic);
        assert!(!header(letter, DeadLetterHeaders::MESSAGE).is_empty());
        assert!(
            header(letter, DeadLetterHeaders::OFFSET)
                .parse::<i64>()
                .is_ok()
        );
        assert!(
            header(letter, "trace").starts_with('t'),
            "original headers are kept"
        );
        assert!(letter.key.is_some(), "the original key is kept");
    }
    let rows = setup.rows().await;
    assert_eq!(rows.len(), good);
}

#[tokio::test(flavor = "multi_thread")]
async fn after_ten_kill_9s_at_random_points_every_event_is_written_once() {
    let setup = Setup::new("kill9", 3).await;
    let users = users(4000);
    setup.produce(&users).await;
    let config = setup.config(&setup.cassandra, "");
    let session = setup.session().await;
    let mut rng = fastrand::Rng::with_seed(u64::from(std::process::id()));
    for round in 0..10 {
        let weir = setup.start(&config, &format!("round-{round}.log"));
        // Each round makes some progress, then dies at a random moment.
        let before = setup.row_count(&session).await;
        let goal = (before + 100).min(4000);
        setup.wait_for_rows(goal).await;
        tokio::time::sleep(std::time::Duration::from_millis(rng.u64(0..300))).await;
        weir.kill9();
    }
    let last = setup.start(&config, "last.log");
    setup.wait_for_rows(4000).await;
    last.stop();
    let rows = setup.rows().await;
    assert_eq!(rows.len(), 4000, "every id is in the table exactly once");
    for user in users.iter().step_by(97) {
        let want = expected(user);
        let row = &rows[want["id"].as_str().expect("id")];
        assert_eq!(row["age"], want["age"], "a rewritten row is the same row");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_processes_in_one_group_share_the_partitions_and_one_takes_over_when_the_other_leaves()
{
    let setup = Setup::new("group", 4).await;
    let batch = users(4000);
    let config = setup.config(&setup.cassandra, "");
    let a = setup.start(&config, "a.log");
    let b = setup.start(&config, "b.log");
    // Once the second member has its share, the first has given it up: the events below
    // are split between them however fast the first one writes.
    b.wait_for_log("Partitions assigned").await;
    setup.produce(&batch[..2000]).await;
    setup.wait_for_rows(2000).await;
    let b_log = b.stop();
    let b_in = events_in(&b_log);
    assert!(b_in > 0, "the second process got partitions: {b_log}");
    setup.produce(&batch[2000..]).await;
    setup.wait_for_rows(4000).await;
    let a_log = a.stop();
    let a_in = events_in(&a_log);
    assert!(a_in > 0 && a_in + b_in >= 4000, "a={a_in} b={b_in}");
    assert!(a_in >= 2000, "the remaining process took over: a={a_in}");
}

fn events_in(log: &str) -> u64 {
    log.lines()
        .find_map(|l| l.strip_prefix("weir: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sink_outage_is_waited_out_and_every_event_is_written_once_it_recovers() {
    use weir_test_support::{CqlError, CqlFault, FaultProxy};
    let setup = Setup::new("outage", 2).await;
    let upstream = setup.cassandra.parse().expect("cassandra address");
    let proxy = FaultProxy::start_cql(upstream).await.expect("proxy");
    let config = setup.config(&proxy.addr().to_string(), "");
    // Each burst below fails the next 20 requests, and when few writes are in flight one
    // event's retries can meet all of them: the budget must outlast a burst.
    let budget = ["--set", "sink.retry.max_attempts=25"];
    let weir = setup.start_with(&config, "weir.log", &budget);
    let users = users(1500);
    setup.produce(&users[..500]).await;
    setup.wait_for_rows(500).await;

    // Cassandra becomes unreachable while events keep arriving.
    proxy.refuse_new(true);
    proxy.drop_open();
    setup.produce(&users[500..1000]).await;
    // The outage lasts a few seconds: weir must neither write nor dead-letter meanwhile.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(!weir.log().contains("failed (dead-lettered)"));
    proxy.refuse_new(false);
    setup.wait_for_rows(1000).await;

    // Then it answers writes with Overloaded and WriteTimeout for a while.
    proxy.inject(Some(CqlFault::Next {
        count: 20,
        error: CqlError::Overloaded,
    }));
    setup.produce(&users[1000..1250]).await;
    setup.wait_for_rows(1250).await;
    proxy.inject(Some(CqlFault::Next {
        count: 20,
        error: CqlError::WriteTimeout,
    }));
    setup.produce(&users[1250..]).await;
    setup.wait_for_rows(1500).await;
    assert!(
        proxy.injected() >= 40,
        "faults were injected: {}",
        proxy.injected()
    );
    let log = weir.stop();
    assert!(log.contains("1500 events in, 1500 out, 0 failed"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dlq_replay_writes_the_dead_lettered_events_once_the_chain_is_fixed() {
    let setup = Setup::new("replay", 2).await;
    let mut values = users(120);
    let mut trapped = Vec::new();
    for (i, value) in values.iter_mut().enumerate().filter(|(i, _)| i % 10 == 0) {
        *value = value.replacen('{', r#"{"trap":true,"#, 1);
        trapped.push(i);
    }
    setup.produce(&values).await;

    // A buggy plugin after the enricher traps on every tenth event.
    let buggy = setup.config_named(
        "buggy.toml",
        &setup.cassandra,
        &format!(
            "[[plugins]]\nname = \"buggy\"\npath = \"{}\"\n",
            weir_builtin::TRAP_ON_MARKER_WASM
        ),
    );
    let buggy = buggy.to_str().expect("utf-8 path");
    let (ok, _, log) = setup.weir(&["run", "--config", buggy, "--until-drained"]);
    assert!(ok, "{log}");
    assert!(log.contains("120 events in, 108 out, 12 failed"), "{log}");
    let session = setup.session().await;
    assert_eq!(setup.row_count(&session).await, 108);

    // With the buggy plugin removed, a dry run shows what would be written, and writes nothing.
    let fixed = setup.config_named("fixed.toml", &setup.cassandra, "");
    let fixed = fixed.to_str().expect("utf-8 path");
    let replay = [
        "dlq",
        "replay",
        "--config",
        fixed,
        "--stage",
        "plugin:buggy",
    ];
    let (ok, out, log) = setup.weir(&[&replay[..], &["--dry-run"]].concat());
    assert!(ok, "{log}");
    assert!(
        log.contains("12 dead letters read") && log.contains("12 matched, 12 printed"),
        "{log}"
    );
    assert_eq!(out.lines().count(), 12, "{out}");
    assert_eq!(
        setup.row_count(&session).await,
        108,
        "a dry run writes nothing"
    );

    // A filter that matches nothing replays nothing.
    let (ok, _, log) = setup.weir(&[&replay[..], &["--class", "sink-rejected"]].concat());
    assert!(ok && log.contains("0 matched"), "{log}");

    // The real replay writes the twelve, derived from the original record timestamp.
    let (ok, _, log) = setup.weir(&replay);
    assert!(ok, "{log}");
    assert!(
        log.contains("12 matched, 12 written, 0 failed again"),
        "{log}"
    );
    let rows = setup.rows().await;
    assert_eq!(rows.len(), 120);
    for i in trapped {
        let want = expected(&values[i]);
        let row = &rows[want["id"].as_str().expect("id")];
        for field in ["full_name", "email_domain", "age", "age_group"] {
            assert_eq!(row[field], want[field], "{field} of replayed event {i}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_checks_the_live_table_schema_and_names_each_column_that_would_not_fit() {
    let setup = Setup::new("validate", 1).await;
    let config = setup.config(&setup.cassandra, "");
    let config = config.to_str().expect("utf-8 path");

    // No keyspace yet: fine, because create_schema = true creates it.
    let (ok, out, log) = setup.weir(&["validate", "--config", config]);
    assert!(ok, "{out}{log}");
    assert!(out.contains("create_schema = true"), "{out}");

    // A table that does not fit: a primary key the enricher never writes, and `age` as a
    // boolean column.
    let session = setup.session().await;
    for statement in [
        format!(
            "CREATE KEYSPACE \"{}\" WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}",
            setup.keyspace
        ),
        format!(
            "CREATE TABLE \"{}\".users (user_id uuid PRIMARY KEY, age boolean, email text)",
            setup.keyspace
        ),
    ] {
        session.query_unpaged(statement, ()).await.expect("schema");
    }
    let (ok, out, _) = setup.weir(&["validate", "--config", config]);
    assert!(!ok, "{out}");
    assert!(out.contains("column `user_id`"), "{out}");
    assert!(
        out.contains("column `age`") && out.contains("boolean"),
        "{out}"
    );
    assert!(
        !out.contains("column `email`"),
        "a fitting column is not a problem: {out}"
    );

    // A chain whose output is given by sample events is checked with the sample's fields.
    let sample = setup.dir.path().join("sample.jsonl");
    std::fs::write(
        &sample,
        "{\"user_id\":\"6f1c3b8e-0f5e-4a57-9d43-5f0d3c2f1a11\",\"email\":\"a@b.c\"}\n",
    )
    .expect("sample");
    let plain = setup.config_named("plain.toml", &setup.cassandra, "");
    let plain_text = std::fs::read_to_string(&plain).expect("config").replace(
        "path = \"builtin:enricher\"",
        "path = \"builtin:filter\"\nconfig = { field = \"email\", op = \"exists\" }",
    );
    std::fs::write(&plain, plain_text).expect("config");
    let sample = sample.to_str().expect("utf-8 path");
    let plain = plain.to_str().expect("utf-8 path");
    let (ok, out, log) = setup.weir(&["validate", "--config", plain, "--sample", sample]);
    assert!(ok, "{out}{log}");
    assert!(out.contains("ok (2 fields checked)"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_plugin_file_is_swapped_in_and_a_broken_one_is_refused_while_the_old_keeps_running()
 {
    let setup = Setup::new("reload", 1).await;
    let plugin = setup.dir.path().join("plugin.wasm");
    // Deploy the way operators do: write next to it, then rename over it.
    let deploy = |bytes: &[u8]| {
        let next = setup.dir.path().join("plugin.wasm.next");
        std::fs::write(&next, bytes).expect("write plugin");
        std::fs::rename(&next, &plugin).expect("rename plugin");
    };
    deploy(&std::fs::read(weir_builtin::ENRICHER_WASM).expect("enricher"));
    let config = setup.config(&setup.cassandra, "");
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "path = \"builtin:enricher\"",
        &format!("path = \"{}\"", plugin.display()),
    );
    std::fs::write(&config, text).expect("config");
    let weir = setup.start(&config, "weir.log");
    let users = users(150);
    setup.produce(&users[..50]).await;
    setup.wait_for_rows(50).await;

    // Version 2: passes events through unchanged (no derived columns), traps on a marker.
    deploy(&std::fs::read(weir_builtin::TRAP_ON_MARKER_WASM).expect("trap plugin"));
    let reloaded = weir_test_support::wait_until(e2e::DEADLINE, "reload logged", || async {
        weir.log().contains("Plugin reloaded")
    })
    .await;
    assert!(reloaded.is_ok(), "{}", weir.log());
    setup.produce(&users[50..100]).await;
    setup.wait_for_rows(100).await;

    // Version 3 is not a component: refused, and version 2 keeps running.
    deploy(b"this is not WebAssembly");
    let refused = weir_test_support::wait_until(e2e::DEADLINE, "refusal logged", || async {
        weir.log().contains("Plugin reload refused")
    })
    .await;
    assert!(refused.is_ok(), "{}", weir.log());
    let mut last = users[100..150].to_vec();
    last[0] = last[0].replacen('{', r#"{"trap":true,"#, 1);
    setup.produce(&last).await;
    setup.wait_for_rows(149).await;
    let letters = setup.dead_letters(1).await;
    let log = weir.stop();

    let rows = setup.rows().await;
    let enriched = |i: usize| {
        let id = expected(&users[i])["id"].as_str().expect("id").to_owned();
        let row = rows
            .get(&id)
            .unwrap_or_else(|| panic!("no row {i} ({id}) of {}", rows.len()));
        !row["age"].is_null()
    };
    assert!((0..50).all(enriched), "version 1 enriched the first events");
    assert!(
        !(50..150).filter(|&i| i != 100).any(enriched),
        "version 2 handled the rest"
    );
    // The dead letter names the version that handled it: the one the reload logged.
    let stage = header(&letters[0], DeadLetterHeaders::STAGE);
    let version = stage.strip_prefix("plugin:plugin@").expect("plugin stage");
    let reload_line = log
        .lines()
        .find(|l| l.contains("Plugin reloaded"))
        .expect("reload line");
    assert!(reload_line.contains(version), "{stage} vs {reload_line}");
}

/// A hostile input's fate: dead-lettered with this class and field, or `None`: delivered.
type Expected = Option<(&'static str, &'static str)>;

#[tokio::test(flavor = "multi_thread")]
async fn hostile_inputs_are_dead_lettered_with_their_reason_and_everything_else_is_delivered() {
    let setup = Setup::new("hostile", 2).await;
    let good = users(100);
    let user = |i: usize| good[i].trim_end_matches('}').to_owned();
    let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_field = format!(
        "{},\"nested\":{}1{}}}",
        user(2),
        "{\"a\":".repeat(10_000),
        "}".repeat(10_000)
    );
    let big_field = format!("{},\"bio\":\"{}\"}}", user(3), "x".repeat(900 * 1024));
    let truncated = good[4][..good[4].len() / 2].to_owned();
    let dob_number = good[5].replacen("\"dob\":", "\"dob\":12345,\"was_dob\":", 1);
    let bad_uuid = good[6].replacen("\"id\":\"", "\"id\":\"not-a-uuid-", 1);
    let no_id = good[7].replacen("\"id\":", "\"was_id\":", 1);
    // Ten times the default `pipeline.max_event_bytes` (1 MiB); valid JSON otherwise.
    let ten_mb = format!("{},\"blob\":\"{}\"}}", user(1), "y".repeat(10 << 20));
    let ten_mb_id = expected(&good[1])["id"].as_str().expect("id").to_owned();
    let cases: Vec<(Vec<u8>, Expected)> = vec![
        (
            b"\xff\xfe not utf-8 \xc3\x28".to_vec(),
            Some(("invalid-input", "")),
        ),
        (truncated.into_bytes(), Some(("invalid-input", ""))),
        (deep_array.into_bytes(), Some(("invalid-input", ""))),
        (dob_number.into_bytes(), Some(("invalid-field", "dob"))),
        (bad_uuid.into_bytes(), Some(("sink-rejected", "id"))),
        (no_id.into_bytes(), Some(("sink-rejected", "id"))),
        // JSON nested deeper than the sink's parser allows, in a field the enricher skips.
        (deep_field.into_bytes(), Some(("sink-rejected", ""))),
        // A large unknown field is dropped by the sink; the row is written.
        (big_field.into_bytes(), None),
        // Over the limit: dead-lettered before any plugin, with the first 64 KiB of its value.
        (ten_mb.into_bytes(), Some(("too-large", ""))),
    ];
    let mut values: Vec<&[u8]> = good[8..].iter().map(|v| v.as_bytes()).collect();
    for (i, (value, _)) in cases.iter().enumerate() {
        values.insert(i * 11, value);
    }
    setup.produce_bytes(&values).await;
    let config = setup.config(&setup.cassandra, "");
    let weir = setup.start(&config, "weir.log");
    let bad = cases.iter().filter(|(_, e)| e.is_some()).count();
    let letters = setup.dead_letters(bad).await;
    let rows_expected = values.len() - bad;
    setup.wait_for_rows(rows_expected as i64).await;
    let log = weir.stop();
    assert!(
        log.contains(&format!(
            "{} events in, {rows_expected} out, {bad} failed",
            values.len()
        )),
        "{log}"
    );
    for (value, expectation) in &cases {
        let Some((class, field)) = expectation else {
            continue;
        };
        let letter = letters
            .iter()
            .find(|l| {
                l.value.as_ref() == value.as_slice()
                    || (header(l, DeadLetterHeaders::VALUE_TRUNCATED) == value.len().to_string()
                        && value.starts_with(&l.value))
            })
            .unwrap_or_else(|| {
                let shown = String::from_utf8_lossy(&value[..value.len().min(200)]);
                panic!("not dead-lettered: {shown}")
            });
        let got = (
            header(letter, DeadLetterHeaders::CLASS),
            header(letter, DeadLetterHeaders::FIELD),
            header(letter, DeadLetterHeaders::MESSAGE),
        );
        assert_eq!(got.0, *class, "{got:?}");
        assert_eq!(got.1, *field, "{got:?}");
        assert!(!header(letter, DeadLetterHeaders::MESSAGE).is_empty());
    }
    let too_large = letters
        .iter()
        .find(|l| header(l, DeadLetterHeaders::CLASS) == "too-large")
        .expect("the 10 MB event is dead-lettered");
    assert_eq!(too_large.value.len(), weir_core::TRUNCATED_VALUE_BYTES);
    let message = header(too_large, DeadLetterHeaders::MESSAGE);
    assert!(
        message.contains(&format!(
            "value {} bytes",
            cases.last().expect("case").0.len()
        )) && message.contains(&format!("key `{ten_mb_id}`"))
            && message.contains("pipeline.max_event_bytes = 1048576"),
        "{message}"
    );
    assert_eq!(header(too_large, DeadLetterHeaders::STAGE), "source");
    let rows = setup.rows().await;
    assert_eq!(rows.len(), rows_expected);
    assert!(
        !rows.contains_key(&ten_mb_id),
        "the 10 MB event became a row"
    );
    let big = expected(&good[3])["id"].as_str().expect("id").to_owned();
    assert!(
        !rows[&big]["age"].is_null(),
        "the large event was enriched and written"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_from_the_environment_never_appear_in_logs_or_errors() {
    let setup = Setup::new("secrets", 1).await;
    setup.produce(&users(20)).await;
    let secret = format!("s3cr3t-{}", std::process::id());
    let config = setup.config(&setup.cassandra, "");
    // The secrets ride along in settings a server may ignore (no SASL listener, no
    // authenticator), so the run succeeds and its whole log can be searched.
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "\"statistics.interval.ms\" = \"500\"",
        "\"statistics.interval.ms\" = \"500\", \"sasl.username\" = \"weir\", \"sasl.password\" = \"env:WEIR_TEST_SECRET\"",
    );
    let text = text.replace(
        "keyspace = \"",
        "username = \"weir\"\npassword = \"env:WEIR_TEST_SECRET\"\nkeyspace = \"",
    );
    std::fs::write(&config, text).expect("config");
    let config = config.to_str().expect("utf-8 path");
    let env = [
        ("WEIR_LOG", "debug,librdkafka=debug"),
        ("WEIR_TEST_SECRET", secret.as_str()),
    ];
    let run = |args: &[&str]| {
        let (ok, out, err) = setup.weir_with_env(args, &env);
        (ok, out + &err)
    };
    let (ok, log) = run(&["run", "--config", config, "--until-drained"]);
    assert!(ok && log.contains("20 events in, 20 out"), "{log}");
    assert!(
        !log.contains(&secret),
        "the secret leaked into the run's log"
    );
    // Failing paths print configs and errors: a bad key and an unreachable sink.
    let (ok, log) = run(&[
        "validate",
        "--config",
        config,
        "--set",
        "sink.nodes=[\"127.0.0.1:1\"]",
    ]);
    assert!(log.contains("not reachable") || !ok, "{log}");
    assert!(
        !log.contains(&secret),
        "the secret leaked into validate's output"
    );
    let (ok, log) = run(&[
        "run",
        "--config",
        config,
        "--set",
        "sink.consistency=\"sometimes\"",
    ]);
    assert!(!ok && log.contains("consistency"), "{log}");
    assert!(
        !log.contains(&secret),
        "the secret leaked into a config error"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_that_does_not_fit_its_int_column_is_dead_lettered_naming_the_column() {
    let setup = Setup::new("int-column", 1).await;
    // The table has one more int column than the enricher fills: `score`, from the event.
    let session = setup.session().await;
    let ks = &setup.keyspace;
    for cql in [
        format!(
            "CREATE KEYSPACE \"{ks}\" WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
        ),
        format!(
            "CREATE TABLE \"{ks}\".users (id uuid PRIMARY KEY, first_name text, last_name text, \
             gender text, address text, post_code text, email text, username text, dob timestamp, \
             registered_date timestamp, phone text, picture text, full_name text, \
             email_domain text, age int, age_group text, score int)"
        ),
    ] {
        session.query_unpaged(cql, ()).await.expect("schema");
    }
    let good = users(6);
    let with_score =
        |i: usize, score: &str| format!("{},\"score\":{score}}}", good[i].trim_end_matches('}'));
    let huge_digits = format!("\"{}\"", "9".repeat(200_000));
    let values = [
        with_score(0, "7"),
        with_score(1, &huge_digits),
        with_score(2, "12345678901234567890"),
        with_score(3, "\"forty-two\""),
        with_score(4, "\"8\""),
        good[5].clone(),
    ];
    setup.produce(&values).await;
    let config = setup.config(&setup.cassandra, "");
    let weir = setup.start(&config, "weir.log");
    let letters = setup.dead_letters(3).await;
    setup.wait_for_rows(3).await;
    weir.stop();
    for bad in &values[1..4] {
        let letter = letters
            .iter()
            .find(|l| l.value.as_ref() == bad.as_bytes())
            .unwrap_or_else(|| panic!("not dead-lettered: {}", &bad[..bad.len().min(200)]));
        assert_eq!(header(letter, DeadLetterHeaders::CLASS), "sink-rejected");
        assert_eq!(header(letter, DeadLetterHeaders::FIELD), "score");
        let message = header(letter, DeadLetterHeaders::MESSAGE);
        assert!(message.len() < 1_000, "the reason stays short: {message}");
    }
    let rows = setup.rows().await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    let id = |i: usize| expected(&good[i])["id"].as_str().expect("id").to_owned();
    assert_eq!(rows[&id(0)]["score"], 7);
    assert_eq!(rows[&id(4)]["score"], 8, "a numeric string converts");
    assert!(rows[&id(5)]["score"].is_null());
}
