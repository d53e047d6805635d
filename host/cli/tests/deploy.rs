//! What CI can check of the Docker stack without a Docker engine: the compose file and the
//! Dockerfile parse, every file and stage they reference exists, and the configs and
//! commands they run are accepted by this weir.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn compose() -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo().join("docker-compose.yml")).expect("compose file");
    serde_yaml::from_str(&text).expect("docker-compose.yml is valid YAML")
}

#[test]
fn every_compose_service_has_an_image_or_a_buildable_context() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    assert!(
        services.len() >= 4,
        "kafka, cassandra, topics, ingest, weir"
    );
    for (name, service) in services {
        let name = name.as_str().expect("service name");
        if let Some(context) = service.get("build") {
            let context = context.as_str().expect("build context as a path");
            assert!(
                repo().join(context).join("Dockerfile").is_file(),
                "{name}: no Dockerfile in {context}"
            );
        } else {
            assert!(
                service.get("image").is_some(),
                "{name}: neither image nor build"
            );
        }
        if let Some(deps) = service.get("depends_on").and_then(|d| d.as_mapping()) {
            for dep in deps.keys() {
                assert!(
                    services.contains_key(dep),
                    "{name} depends on unknown {dep:?}"
                );
            }
        }
    }
}

#[test]
fn every_dockerfile_copy_source_and_stage_exists() {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let mut stages = Vec::new();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("FROM") => {
                if let Some(i) = words.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
                    stages.push(words[i + 1].to_owned());
                }
            }
            Some("COPY") => {
                let args: Vec<&str> = words[1..].to_vec();
                if let Some(from) = args.iter().find_map(|a| a.strip_prefix("--from=")) {
                    assert!(
                        stages.iter().any(|s| s == from),
                        "COPY from unknown stage {from}"
                    );
                    continue;
                }
                for source in &args[..args.len() - 1] {
                    assert!(
                        repo().join(source).exists(),
                        "COPY source {source} is missing"
                    );
                }
            }
            _ => {}
        }
    }
    assert!(!stages.is_empty(), "the Dockerfile is multi-stage");
}

#[test]
fn the_commands_and_configs_the_stack_runs_are_accepted_by_weir() {
    let compose = compose();
    let services = compose["services"].as_mapping().expect("services");
    for (name, service) in services {
        if service.get("build").is_none() {
            continue;
        }
        let command: Vec<String> = service["command"]
            .as_sequence()
            .expect("command as a list")
            .iter()
            .map(|v| v.as_str().expect("string").replace("/etc/weir/", ""))
            .collect();
        // The subcommand exists; for `run`, the config validates (plugins load, keys known).
        let check: Vec<String> = if command[0] == "run" {
            let mut c = command.clone();
            c[0] = "validate".into();
            c
        } else {
            vec![command[0].clone(), "--help".into()]
        };
        let out = Command::new(env!("CARGO_BIN_EXE_weir"))
            .args(&check)
            .current_dir(repo())
            .env("WEIR_LOG", "warn")
            .output()
            .expect("weir runs");
        assert!(
            out.status.success(),
            "{name:?}: weir {check:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
