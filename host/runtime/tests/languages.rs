//! The runtime against JavaScript and Python components: the enricher ported to each
//! language passes the same golden file as the Rust one, and the sandbox and limits hold
//! for their interpreters (a throw, a runaway loop and an unbounded allocation each fail
//! one event only; clock, randomness, environment, files and network are denied).
//!
//! The components are built by `plugins/languages.sh build` from the test setup (a no-op
//! when they are up to date); it needs the toolchains `plugins/languages.sh setup` installs
//! from npm and PyPI.

use bytes::Bytes;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use weir_core::{ErrorClass, Event, EventResult, Position, Transform};
use weir_runtime::{
    ByteSize, EngineOptions, Grants, Limits, Plugin, PluginChain, PluginEngine, PluginSpec,
};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[derive(Debug, Clone, Copy)]
enum Lang {
    Js,
    Python,
}

impl Lang {
    const ALL: [Lang; 2] = [Lang::Js, Lang::Python];

    fn enricher(self) -> PathBuf {
        built(match self {
            Lang::Js => "plugins/target/enricher-js.wasm",
            Lang::Python => "plugins/target/enricher-py.wasm",
        })
    }

    fn misbehave(self) -> PathBuf {
        built(match self {
            Lang::Js => "tests/plugins/target/misbehave-js.wasm",
            Lang::Python => "tests/plugins/target/misbehave-py.wasm",
        })
    }
}

/// Builds the language components once per test run and returns the path of one.
fn built(relative: &str) -> PathBuf {
    static BUILD: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = BUILD.get_or_init(|| {
        let output = Command::new("bash")
            .arg(Path::new(ROOT).join("plugins/languages.sh"))
            .arg("build")
            .output()
            .map_err(|e| format!("cannot run plugins/languages.sh: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "plugins/languages.sh build failed (run `plugins/languages.sh setup` first):\n{}",
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    if let Err(message) = outcome {
        panic!("{message}");
    }
    Path::new(ROOT).join(relative)
}

fn spec(path: &Path, limits: Limits) -> PluginSpec {
    PluginSpec {
        name: None,
        path: path.to_string_lossy().into_owned(),
        config: Default::default(),
        limits,
        grants: Grants::default(),
    }
}

fn chain(engine: &PluginEngine, spec: PluginSpec) -> PluginChain {
    let path = PathBuf::from(&spec.path);
    let plugin = Plugin::load_file(engine, spec, &path).expect("plugin loads");
    PluginChain::new(vec![Arc::new(plugin)])
}

fn event(value: &str, offset: i64, timestamp_ms: i64) -> Event {
    Event {
        key: Some(Bytes::from(format!("k{offset}"))),
        value: Bytes::copy_from_slice(value.as_bytes()),
        headers: vec![weir_core::Header::new("origin", "test")],
        timestamp_ms,
        position: Position {
            topic: Arc::from("users"),
            partition: 0,
            offset,
        },
    }
}

fn value(result: &EventResult) -> String {
    match result {
        Ok(outputs) if outputs.len() == 1 => String::from_utf8_lossy(&outputs[0].value).into(),
        other => panic!("expected one output, got {other:?}"),
    }
}

fn failure_class(result: &EventResult) -> ErrorClass {
    match result {
        Err(f) => f.class,
        Ok(o) => panic!("expected a failure, got {} outputs", o.len()),
    }
}

/// An engine whose compiled-component cache is shared by the tests of this file (a JS or
/// Python component takes seconds to compile, milliseconds to load from the cache).
fn engine() -> PluginEngine {
    PluginEngine::new(EngineOptions {
        cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("languages-cache")),
    })
    .expect("engine")
}

#[test]
fn the_js_and_python_enrichers_match_the_golden_file_in_one_batch() {
    let golden =
        std::fs::read_to_string(Path::new(ROOT).join("tests/fixtures/enricher-golden.jsonl"))
            .expect("golden file");
    let cases: Vec<Value> = golden
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("golden line is JSON"))
        .collect();
    let events: Vec<Event> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            event(
                c["value"].as_str().expect("value"),
                i as i64,
                c["timestamp_ms"].as_i64().expect("timestamp"),
            )
        })
        .collect();
    let engine = engine();
    for lang in Lang::ALL {
        let mut chain = chain(&engine, spec(&lang.enricher(), Limits::default()));
        let results = chain.transform(&events);
        assert_eq!(results.len(), cases.len());
        for (i, (case, result)) in cases.iter().zip(&results).enumerate() {
            if let Some(expected) = case.get("output").and_then(Value::as_str) {
                assert_eq!(value(result), expected, "{lang:?} case {i}");
                let out = &result.as_ref().expect("ok")[0];
                assert_eq!(out.key, events[i].key, "{lang:?} case {i}: key is kept");
                assert_eq!(
                    out.headers, events[i].headers,
                    "{lang:?} case {i}: headers are kept"
                );
            } else {
                let Err(failure) = result else {
                    panic!(
                        "{lang:?} case {i}: expected {}, got {result:?}",
                        case["error"]
                    );
                };
                assert_eq!(
                    failure.class.as_str(),
                    case["error"]["kind"],
                    "{lang:?} case {i}"
                );
                assert_eq!(
                    failure.field.as_deref(),
                    case["error"]["field"].as_str(),
                    "{lang:?} case {i}"
                );
            }
        }
    }
}

/// `{"do": ACTION}` events for the misbehaving plugins.
fn actions(list: &[&str]) -> Vec<Event> {
    list.iter()
        .enumerate()
        .map(|(i, action)| event(&format!(r#"{{"do":"{action}"}}"#), i as i64, 0))
        .collect()
}

#[test]
fn a_throw_a_runaway_loop_and_a_runaway_allocation_each_fail_only_their_event() {
    let engine = engine();
    // Generous time for a loaded machine: an interpreter may take a while to hit the cap.
    let limits = Limits {
        timeout: Duration::from_millis(1500),
        memory: ByteSize(128 << 20),
    };
    for lang in Lang::ALL {
        let mut chain = chain(&engine, spec(&lang.misbehave(), limits));
        let events = actions(&["ok", "throw", "ok", "spin", "ok", "grow", "ok"]);
        let started = Instant::now();
        let results = chain.transform(&events);
        assert_eq!(results.len(), events.len());
        for i in [0, 2, 4, 6] {
            assert_eq!(
                value(&results[i]),
                r#"{"do":"ok"}"#,
                "{lang:?} event {i} survives"
            );
        }
        let thrown = results[1].as_ref().expect_err("the throw fails its event");
        assert_eq!(thrown.class, ErrorClass::Rejected, "{lang:?}");
        assert!(
            thrown.message.contains("thrown on purpose"),
            "{lang:?}: {thrown}"
        );
        assert_eq!(
            failure_class(&results[3]),
            ErrorClass::PluginTimeout,
            "{lang:?}"
        );
        assert_eq!(
            failure_class(&results[5]),
            ErrorClass::PluginMemory,
            "{lang:?}"
        );
        // The spin costs one budget for the batch and one when isolated, not one per event.
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{lang:?} took {:?}",
            started.elapsed()
        );
        // The chain goes on with a fresh instance.
        let again = chain.transform(&actions(&["ok"]));
        assert_eq!(
            value(&again[0]),
            r#"{"do":"ok"}"#,
            "{lang:?} after the faults"
        );
    }
}

#[test]
fn the_sandbox_gives_no_clock_randomness_environment_files_or_network() {
    let engine = engine();
    for lang in Lang::ALL {
        let path = lang.misbehave();
        let plugin =
            Plugin::load_file(&engine, spec(&path, Limits::default()), &path).expect("loads");
        let wasi: Vec<&String> = plugin
            .info()
            .imports
            .iter()
            .filter(|i| i.starts_with("wasi:"))
            .collect();
        assert!(wasi.is_empty(), "{lang:?} imports WASI: {wasi:?}");
        let mut chain = PluginChain::new(vec![Arc::new(plugin)]);
        let probe_once = |chain: &mut PluginChain| -> Value {
            serde_json::from_str(&value(&chain.transform(&actions(&["probe"]))[0]))
                .expect("probe output is JSON")
        };
        let probe = probe_once(&mut chain);
        match lang {
            Lang::Js => {
                assert_eq!(probe["has_process"], false, "{probe}");
                let fetched = chain.transform(&actions(&["fetch", "ok"]));
                assert_eq!(
                    failure_class(&fetched[0]),
                    ErrorClass::PluginTrap,
                    "fetch is not there"
                );
                assert_eq!(value(&fetched[1]), r#"{"do":"ok"}"#);
                // Without a clock import the engine's clock stands still (at build time).
                std::thread::sleep(Duration::from_millis(20));
                let later = probe_once(&mut chain);
                assert_eq!(later["now"], probe["now"], "{probe} then {later}");
            }
            Lang::Python => {
                // Each capability alone: a denied call either raises inside the plugin
                // ("denied: ...") or, built without WASI, traps and fails that event only.
                let what = ["time", "random", "env", "file", "network"];
                let events = actions(
                    &what
                        .map(|w| format!("probe:{w}"))
                        .each_ref()
                        .map(String::as_str),
                );
                for (w, result) in what.iter().zip(chain.transform(&events)) {
                    let seen = match &result {
                        Err(failure) => {
                            assert_eq!(failure.class, ErrorClass::PluginTrap, "{w}: {failure}");
                            continue;
                        }
                        Ok(_) => {
                            serde_json::from_str::<Value>(&value(&result)).expect("JSON")["result"]
                                .as_str()
                                .unwrap_or_default()
                                .to_owned()
                        }
                    };
                    eprintln!("Python probe {w}: {seen}");
                    let denied = seen.starts_with("denied") || seen == "[]" || seen == "0.0";
                    assert!(denied, "{w} reachable: {seen}");
                }
            }
        }
        eprintln!("{lang:?} probe: {probe}");
    }
}

#[test]
fn a_second_load_comes_from_the_compiled_cache_without_recompiling() {
    // How long a load takes is the benchmark's business (section 7); here: the second load
    // finds the entry the first one wrote and writes nothing, so it did not compile.
    let cache = tempfile::tempdir().expect("tempdir");
    let entries = || {
        let mut files: Vec<(String, u64, std::time::SystemTime)> = std::fs::read_dir(cache.path())
            .expect("cache dir")
            .flatten()
            .map(|e| {
                let meta = e.metadata().expect("metadata");
                let name = e.file_name().to_string_lossy().into_owned();
                (name, meta.len(), meta.modified().expect("mtime"))
            })
            .collect();
        files.sort();
        files
    };
    for lang in Lang::ALL {
        let path = lang.enricher();
        let load = || {
            let engine = PluginEngine::new(EngineOptions {
                cache_dir: Some(cache.path().to_owned()),
            })
            .expect("engine");
            Plugin::load_file(&engine, spec(&path, Limits::default()), &path).expect("loads");
        };
        let before = entries().len();
        load();
        let after_first = entries();
        let compiled = after_first
            .iter()
            .filter(|(n, _, _)| n.ends_with(".cwasm"))
            .count();
        assert!(
            after_first.len() > before && compiled >= 1,
            "{lang:?}: the first load stored no compiled entry: {after_first:?}"
        );
        load();
        assert_eq!(
            entries(),
            after_first,
            "{lang:?}: the second load rewrote the cache (it recompiled)"
        );
    }
}

#[test]
fn a_js_or_python_plugin_that_refuses_its_config_is_refused_at_load_with_its_reason() {
    let engine = engine();
    for lang in Lang::ALL {
        let path = lang.enricher();
        let mut refused = spec(&path, Limits::default());
        refused.config.insert("colour".into(), "blue".into());
        let error = Plugin::load_file(&engine, refused, &path)
            .err()
            .expect("the config is refused");
        let message = error.to_string();
        assert!(
            message.contains("unknown config key `colour`"),
            "{lang:?}: {message}"
        );
    }
}
