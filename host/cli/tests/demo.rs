//! `weir demo` end to end, as a user runs it: on a Kafka and Cassandra pair of its own (started
//! and stopped by the demo, in a state dir of the test's, on free ports, so it never touches
//! the shared test pair), and on already running servers (the shared test pair).

use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

const WEIR: &str = env!("CARGO_BIN_EXE_weir");
/// Generous for 2 busy cores: starting both servers alone can take a minute.
const DEADLINE: Duration = Duration::from_secs(600);

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `weir demo ARGS` with output to files (a full pipe must never stall it), waiting for
/// it to exit within the deadline; on the deadline it is killed and whatever it recorded in
/// `peers_dir` is stopped by its recorded pids.
async fn demo(args: &[&str], dir: &Path, peers_dir: &Path) -> Run {
    let child = spawn_demo(args, dir, peers_dir);
    wait_for_exit(child, dir, peers_dir).await
}

fn spawn_demo(args: &[&str], dir: &Path, peers_dir: &Path) -> Child {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    Command::new(WEIR)
        .arg("demo")
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("WEIR_DEMO_PEERS_DIR", peers_dir)
        .env_remove("WEIR_DEMO_KAFKA")
        .env_remove("WEIR_DEMO_CASSANDRA")
        .env_remove("WEIR_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("weir runs")
}

async fn wait_for_exit(mut child: Child, dir: &Path, peers_dir: &Path) -> Run {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut status = None;
    let exited = weir_test_support::wait_until(DEADLINE, "weir demo exits", || {
        status = child.try_wait().expect("wait on weir");
        std::future::ready(status.is_some())
    })
    .await;
    if exited.is_err() {
        let _ = child.kill();
        let _ = child.wait();
        let _ = weir_peers::state::stop_recorded(peers_dir);
    }
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    exited.unwrap_or_else(|e| panic!("{e}; its stderr:\n{stderr}"));
    Run {
        status: status.expect("exited"),
        stdout: std::fs::read_to_string(&out).expect("stdout"),
        stderr,
    }
}

/// The number after `label` on the report line that starts with it.
fn reported(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no `{label} N` line in the report:\n{stdout}"))
}

/// The report's rows read back, each checked to carry the enricher's derived columns.
fn assert_enriched_rows(stdout: &str, shown: usize) {
    let rows: Vec<Value> = stdout
        .lines()
        .filter(|l| l.starts_with("    {"))
        .map(|l| serde_json::from_str(l.trim()).expect("a row read back is JSON"))
        .collect();
    assert_eq!(rows.len(), shown, "{stdout}");
    for row in rows {
        let text = |k: &str| row[k].as_str().unwrap_or_else(|| panic!("{k} in {row}"));
        assert_eq!(
            text("full_name"),
            format!("{} {}", text("first_name"), text("last_name"))
        );
        assert_eq!(
            Some(text("email_domain")),
            text("email").split_once('@').map(|(_, d)| d)
        );
        let age = row["age"]
            .as_i64()
            .unwrap_or_else(|| panic!("age in {row}"));
        assert!((18..=81).contains(&age), "{row}");
        assert!(!text("age_group").is_empty());
    }
}

/// The pid after `name (pid ` in the demo's progress lines.
fn pid_of(stderr: &str, line_start: &str, name: &str) -> i32 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_else(|| panic!("no `{line_start}` line:\n{stderr}"));
    let after = line
        .split_once(&format!("{name} "))
        .and_then(|(_, rest)| rest.split_once("(pid "))
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no pid of {name} in `{line}`"));
    after
        .split(')')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pid of {name} in `{line}`"))
}

fn runs(pid: i32, main_class: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(main_class))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_starts_its_own_kafka_and_cassandra_runs_the_pipeline_to_the_end_and_stops_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let peers_dir = dir.path().join("peers");
    let run = demo(
        &["--users", "300", "--invalid", "4", "--show", "3"],
        dir.path(),
        &peers_dir,
    )
    .await;

    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(reported(&run.stdout, "consumed"), 304, "{}", run.stdout);
    assert_eq!(reported(&run.stdout, "rows written"), 300);
    assert_eq!(reported(&run.stdout, "dead-lettered"), 4);
    assert_eq!(reported(&run.stdout, "table holds"), 300);
    assert_enriched_rows(&run.stdout, 3);

    let kafka = pid_of(&run.stderr, "weir demo: Kafka ready", "Kafka");
    let cassandra = pid_of(&run.stderr, "weir demo: Kafka ready", "Cassandra");
    assert_eq!(
        pid_of(&run.stderr, "weir demo: stopped", "Kafka"),
        kafka,
        "{}",
        run.stderr
    );
    assert!(
        !runs(kafka, "kafka.Kafka"),
        "Kafka (pid {kafka}) was stopped"
    );
    assert!(
        !runs(cassandra, "CassandraDaemon"),
        "Cassandra (pid {cassandra}) was stopped"
    );
    assert!(
        !weir_peers::state::pair_file(&peers_dir).exists(),
        "nothing is left recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_running_servers_starts_nothing_and_reports_what_it_wrote() {
    let peers = weir_test_support::peers();
    let dir = tempfile::tempdir().expect("tempdir");
    let topic = weir_test_support::unique_topic("demo");
    let keyspace = weir_test_support::unique_keyspace("demo");
    let run = demo(
        &[
            "--kafka",
            &peers.kafka,
            "--cassandra",
            &peers.cassandra,
            "--topic",
            &topic,
            "--keyspace",
            &keyspace,
            "--users",
            "500",
            "--invalid",
            "3",
            "--seed",
            "7",
        ],
        dir.path(),
        &dir.path().join("unused-peers"),
    )
    .await;

    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert!(
        !run.stderr.contains("starting Apache Kafka"),
        "{}",
        run.stderr
    );
    assert_eq!(reported(&run.stdout, "consumed"), 503);
    assert_eq!(reported(&run.stdout, "rows written"), 500);
    assert_eq!(reported(&run.stdout, "dead-lettered"), 3);
    assert_eq!(reported(&run.stdout, "table holds"), 500);
    assert_enriched_rows(&run.stdout, 5);
}

#[tokio::test]
async fn demo_without_a_jdk_17_says_how_to_install_one_before_starting_anything() {
    let dir = tempfile::tempdir().expect("tempdir");
    let peers_dir = dir.path().join("peers");
    let run = demo(
        &["--java", "/nonexistent/jdk-17/bin/java"],
        dir.path(),
        &peers_dir,
    )
    .await;

    assert!(!run.status.success());
    assert!(
        run.stderr.contains("no JDK 17") || run.stderr.contains("there is none at"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("sudo apt-get install openjdk-17-jre-headless"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("starting Apache Kafka"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_the_servers_start_stops_every_jvm_the_demo_spawned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let peers_dir = dir.path().join("peers");
    let child = spawn_demo(&["--users", "10"], dir.path(), &peers_dir);
    let pid_files = [peers_dir.join("kafka/pid"), peers_dir.join("cassandra/pid")];
    weir_test_support::wait_until(DEADLINE, "both JVMs are spawned", || {
        std::future::ready(pid_files.iter().all(|f| f.exists()))
    })
    .await
    .expect("the demo spawns Kafka and Cassandra");
    let pids: Vec<i32> = pid_files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .expect("pid file")
                .trim()
                .parse()
                .expect("a pid")
        })
        .collect();
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());

    let run = wait_for_exit(child, dir.path(), &peers_dir).await;

    assert_eq!(
        run.status.code(),
        Some(130),
        "{:?}\n{}",
        run.status.signal(),
        run.stderr
    );
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(
        !runs(pids[0], "kafka.Kafka"),
        "Kafka (pid {}) was stopped",
        pids[0]
    );
    assert!(
        !runs(pids[1], "CassandraDaemon"),
        "Cassandra (pid {}) was stopped",
        pids[1]
    );
}
