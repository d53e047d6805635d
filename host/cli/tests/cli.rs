//! The `weir` binary as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn weir(args: &[&str], dir: &Path) -> Output {
    Command::new(WEIR)
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("WEIR_LOG", "warn")
        .output()
        .expect("weir runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write_config(dir: &Path, input: &Path, extra: &str) -> PathBuf {
    let config = dir.join("weir.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[source]
type = "file"
path = "{}"
timestamp = "2026-01-01T00:00:00Z"

[[plugins]]
path = "builtin:enricher"

[sink]
type = "jsonl"
path = "out/enriched.jsonl"

[dead_letter]
type = "jsonl"
path = "out/dead.jsonl"
{extra}
"#,
            input.display()
        ),
    )
    .expect("config");
    config
}

#[test]
fn run_writes_every_good_event_enriched_and_dead_letters_each_bad_one_with_its_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let users = std::fs::read_to_string(repo().join("examples/users.jsonl")).expect("users");
    let good = users.lines().filter(|l| !l.trim().is_empty()).count();
    let input = dir.path().join("input.jsonl");
    let mut lines: Vec<String> = users.lines().map(str::to_owned).collect();
    lines.insert(3, "this is not json".into());
    lines.insert(
        10,
        r#"{"id":"x","first_name":"A","last_name":"B","email":"a@b.c"}"#.into(),
    );
    std::fs::write(&input, lines.join("\n")).expect("input");
    write_config(dir.path(), &input, "");

    let out = weir(&["run", "--config", "weir.toml"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stderr);
    assert!(
        summary.contains(&format!("{} events in, {good} out, 2 failed", good + 2)),
        "{summary}"
    );

    let enriched = std::fs::read_to_string(dir.path().join("out/enriched.jsonl")).expect("out");
    let rows: Vec<serde_json::Value> = enriched
        .lines()
        .map(|l| serde_json::from_str(l).expect("output is JSON"))
        .collect();
    assert_eq!(rows.len(), good);
    for row in &rows {
        for field in ["full_name", "email_domain", "age", "age_group"] {
            assert!(row.get(field).is_some(), "{field} missing in {row}");
        }
    }

    let dead = std::fs::read_to_string(dir.path().join("out/dead.jsonl")).expect("dead letters");
    let letters: Vec<serde_json::Value> = dead
        .lines()
        .map(|l| serde_json::from_str(l).expect("dead letter is JSON"))
        .collect();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0]["error"]["class"], "invalid-input");
    assert_eq!(letters[0]["value"], "this is not json");
    assert_eq!(letters[0]["source"]["offset"], 4);
    assert_eq!(letters[1]["error"]["class"], "missing-field");
    assert_eq!(letters[1]["error"]["field"], "dob");
    assert!(
        letters[1]["error"]["stage"]
            .as_str()
            .unwrap_or("")
            .starts_with("plugin:enricher@")
    );
}

#[test]
fn a_config_mistake_is_reported_with_the_key_and_nothing_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = repo().join("examples/users.jsonl");
    write_config(dir.path(), &input, "[pipeline]\nbatch_size = 0\n");
    let out = weir(&["run", "--config", "weir.toml"], dir.path());
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("pipeline.batch_size = 0"), "{stderr}");
    assert!(!dir.path().join("out/enriched.jsonl").exists());

    let out = weir(
        &[
            "run",
            "--config",
            "weir.toml",
            "--set",
            "pipeline.batch_size=8",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "--set fixes it: {}",
        text(&out.stderr)
    );

    let out = weir(&["run", "--config", "missing.toml"], dir.path());
    assert!(text(&out.stderr).contains("cannot read config file missing.toml"));
}

#[test]
fn validate_loads_every_plugin_without_reading_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_config(dir.path(), Path::new("does-not-matter.jsonl"), "");
    let out = weir(&["validate", "--config", "weir.toml"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("plugin enricher"));

    let out = weir(
        &[
            "validate",
            "--config",
            "weir.toml",
            "--set",
            "plugins=[{path=\"nope.wasm\"}]",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nope.wasm"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn plugin_test_prints_each_output_or_error_by_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("events.jsonl");
    std::fs::write(
        &input,
        format!(
            "{}\nnot json\n",
            std::fs::read_to_string(repo().join("examples/users.jsonl"))
                .expect("users")
                .lines()
                .next()
                .expect("a user")
        ),
    )
    .expect("input");
    let out = weir(
        &[
            "plugin",
            "test",
            "builtin:enricher",
            "--input",
            "events.jsonl",
            "--timestamp",
            "2026-01-01T00:00:00Z",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("line 1: {") && stdout.contains("\"age_group\""),
        "{stdout}"
    );
    assert!(stdout.contains("line 2: error invalid-input"), "{stdout}");
}

#[test]
fn plugin_inspect_names_the_contract_and_imports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = weir(&["plugin", "inspect", "builtin:enricher"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("weir:transform/transform@0.3.0 (supported"),
        "{stdout}"
    );
    assert!(stdout.contains("imports:"), "{stdout}");
}

#[test]
fn plugin_new_scaffold_passes_its_own_test_builds_a_component_and_runs_in_weir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = weir(&["plugin", "new", "hello-weir"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let root = dir.path().join("hello-weir");
    // Share one target dir between runs of this test so the SDK is compiled once.
    let target = repo().join("target/scaffold-test");
    let cargo = |args: &[&str]| {
        let out = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo {args:?}: {}",
            text(&out.stderr)
        );
        out
    };
    let tested = cargo(&["test"]);
    assert!(
        text(&tested.stdout).contains("test result: ok. 2 passed"),
        "{}",
        text(&tested.stdout)
    );
    cargo(&["build", "--release", "--target", "wasm32-wasip2"]);
    let wasm = target.join("wasm32-wasip2/release/hello_weir.wasm");
    std::fs::write(dir.path().join("one.jsonl"), "{\"id\":1}\n").expect("input");
    let out = weir(
        &[
            "plugin",
            "test",
            wasm.to_str().expect("utf-8 path"),
            "--input",
            "one.jsonl",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(r#"line 1: {"id":1,"processed_by":"hello-weir"}"#),
        "{}",
        text(&out.stdout)
    );
}
