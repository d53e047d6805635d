//! The runtime against real components: the shipped enricher (golden cases) and the
//! purpose-built misbehaving plugins of `tests/plugins/`.

use bytes::Bytes;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use weir_core::{ErrorClass, Event, EventResult, Position, Transform};
use weir_runtime::{
    ByteSize, EngineOptions, Grants, Limits, Plugin, PluginChain, PluginEngine, PluginError,
    PluginSpec,
};

fn engine() -> PluginEngine {
    PluginEngine::new(EngineOptions::default()).expect("engine")
}

fn spec(path: &str, config: &[(&str, &str)]) -> PluginSpec {
    PluginSpec {
        name: None,
        path: path.to_owned(),
        config: config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        limits: Limits::default(),
        grants: Grants::default(),
    }
}

fn load(engine: &PluginEngine, spec: PluginSpec) -> Result<Plugin, PluginError> {
    let path = spec.path.clone();
    Plugin::load_file(engine, spec, Path::new(&path))
}

fn chain(engine: &PluginEngine, specs: Vec<PluginSpec>) -> PluginChain {
    PluginChain::new(
        specs
            .into_iter()
            .map(|s| Arc::new(load(engine, s).expect("plugin loads")))
            .collect(),
    )
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

fn values(result: &EventResult) -> Vec<String> {
    match result {
        Ok(outputs) => outputs
            .iter()
            .map(|e| String::from_utf8_lossy(&e.value).into_owned())
            .collect(),
        Err(f) => panic!("expected outputs, got failure {f}"),
    }
}

fn failure_class(result: &EventResult) -> ErrorClass {
    match result {
        Err(f) => f.class,
        Ok(o) => panic!("expected a failure, got {} outputs", o.len()),
    }
}

#[test]
fn enricher_produces_the_golden_output_or_named_error_for_every_case() {
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/enricher-golden.jsonl"
    ))
    .expect("golden file");
    let cases: Vec<Value> = golden
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("golden line is JSON"))
        .collect();
    assert!(cases.len() > 20, "the golden file should have many cases");
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
    let mut chain = chain(&engine, vec![spec(weir_builtin::ENRICHER_WASM, &[])]);
    // One batch with every case: errors must not disturb their neighbours.
    let results = chain.transform(&events);
    assert_eq!(results.len(), cases.len());
    for (i, (case, result)) in cases.iter().zip(&results).enumerate() {
        if let Some(expected) = case.get("output").and_then(Value::as_str) {
            assert_eq!(values(result), vec![expected.to_owned()], "case {i}");
            let out = &result.as_ref().expect("ok")[0];
            assert_eq!(out.key, events[i].key, "case {i}: key is kept");
            assert_eq!(out.timestamp_ms, events[i].timestamp_ms);
            assert_eq!(out.position, events[i].position);
        } else {
            let error = &case["error"];
            let Err(failure) = result else {
                panic!("case {i}: expected error {error}, got {:?}", values(result));
            };
            assert_eq!(
                failure.class.as_str(),
                error["kind"].as_str().expect("kind"),
                "case {i}"
            );
            assert_eq!(
                failure.field.as_deref(),
                error["field"].as_str(),
                "case {i}"
            );
            assert!(
                matches!(&failure.stage, weir_core::Stage::Plugin { name, .. } if name == "enricher")
            );
        }
    }
}

#[test]
fn a_trap_fails_only_the_marked_event_and_the_rest_of_the_batch_comes_out() {
    let engine = engine();
    let mut chain = chain(&engine, vec![spec(weir_builtin::TRAP_ON_MARKER_WASM, &[])]);
    let batch: Vec<Event> = (0..10)
        .map(|i| {
            let marker = if i == 3 || i == 7 {
                r#","trap":true"#
            } else {
                ""
            };
            event(&format!(r#"{{"n":{i}{marker}}}"#), i, 0)
        })
        .collect();
    let results = chain.transform(&batch);
    for (i, result) in results.iter().enumerate() {
        if i == 3 || i == 7 {
            assert_eq!(failure_class(result), ErrorClass::PluginTrap, "event {i}");
        } else {
            // Retried one by one, forwarded events still come out whole.
            assert_eq!(result.as_ref().expect("ok").as_slice(), [batch[i].clone()]);
        }
    }
    // The instance was replaced: the next batch works as usual.
    let again = chain.transform(&batch[..2]);
    assert!(again.iter().all(Result::is_ok));
}

#[test]
fn a_plugin_that_loops_forever_is_stopped_by_its_time_budget_and_neighbours_survive() {
    let engine = engine();
    let mut s = spec(weir_builtin::SPIN_WASM, &[("only_marked", "true")]);
    s.limits.timeout = Duration::from_millis(50);
    let mut chain = chain(&engine, vec![s]);
    let batch = vec![
        event(r#"{"n":0}"#, 0, 0),
        event(r#"{"n":1,"spin":true}"#, 1, 0),
        event(r#"{"n":2}"#, 2, 0),
    ];
    let results = chain.transform(&batch);
    assert_eq!(values(&results[0]), vec![r#"{"n":0}"#.to_owned()]);
    assert_eq!(failure_class(&results[1]), ErrorClass::PluginTimeout);
    assert_eq!(values(&results[2]), vec![r#"{"n":2}"#.to_owned()]);
    let Err(failure) = &results[1] else {
        unreachable!()
    };
    assert!(
        failure.message.contains("time budget"),
        "{}",
        failure.message
    );
}

#[test]
fn a_plugin_that_allocates_without_bound_is_stopped_by_its_memory_cap() {
    let engine = engine();
    let mut s = spec(weir_builtin::GROW_WASM, &[("only_marked", "true")]);
    s.limits.memory = ByteSize(16 << 20);
    let mut chain = chain(&engine, vec![s]);
    let batch = vec![
        event(r#"{"n":0}"#, 0, 0),
        event(r#"{"n":1,"grow":true}"#, 1, 0),
        event(r#"{"n":2}"#, 2, 0),
    ];
    let results = chain.transform(&batch);
    assert!(results[0].is_ok());
    assert_eq!(failure_class(&results[1]), ErrorClass::PluginMemory);
    assert!(results[2].is_ok());
}

#[test]
fn file_access_is_denied_unless_a_directory_is_granted() {
    let engine = engine();
    let mut denied = chain(&engine, vec![spec(weir_builtin::READ_FILE_WASM, &[])]);
    let results = denied.transform(&[event("{}", 0, 0)]);
    let Err(failure) = &results[0] else {
        panic!(
            "the sandbox let the plugin read /etc/hostname: {:?}",
            values(&results[0])
        );
    };
    assert!(
        failure.message.starts_with("read /etc/hostname:"),
        "{}",
        failure.message
    );

    let mut granted_spec = spec(weir_builtin::READ_FILE_WASM, &[]);
    granted_spec.grants.read_dirs = vec!["/etc".into()];
    let mut granted = chain(&engine, vec![granted_spec]);
    let results = granted.transform(&[event("{}", 0, 0)]);
    assert!(values(&results[0])[0].contains(r#""read":"ok""#));
}

#[test]
fn a_component_built_for_another_contract_version_is_refused_naming_both() {
    let engine = engine();
    let error = load(&engine, spec(weir_builtin::WRONG_VERSION_WASM, &[]))
        .err()
        .expect("refused");
    let message = error.to_string();
    assert!(
        matches!(error, PluginError::VersionMismatch { .. }),
        "{message}"
    );
    assert!(
        message.contains("weir:transform/transform@0.3.0"),
        "{message}"
    );
    assert!(
        message.contains("weir:transform/transform@0.2.0"),
        "{message}"
    );
}

#[test]
fn a_core_module_or_garbage_is_refused_with_a_hint_to_build_a_component() {
    let engine = engine();
    let core_module = b"\0asm\x01\x00\x00\x00";
    let error = Plugin::load_bytes(&engine, spec("core.wasm", &[]), core_module)
        .err()
        .expect("refused");
    assert!(error.to_string().contains("wasm32-wasip2"), "{error}");
}

#[test]
fn a_plugin_that_refuses_its_config_is_refused_at_load_with_its_reason() {
    let engine = engine();
    let error = load(&engine, spec(weir_builtin::FILTER_WASM, &[("op", "eq")]))
        .err()
        .expect("refused");
    assert!(matches!(error, PluginError::Init { .. }), "{error}");
    assert!(error.to_string().contains("field"), "{error}");
}

#[test]
fn plugins_run_in_chain_order() {
    let engine = engine();
    let mut chain = chain(
        &engine,
        vec![
            spec(weir_builtin::ENRICHER_WASM, &[]),
            spec(
                weir_builtin::FILTER_WASM,
                &[("field", "age_group"), ("op", "eq"), ("value", "65+")],
            ),
        ],
    );
    let users = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/users.jsonl"
    ))
    .expect("users");
    let now = 1_767_225_600_000; // 2026-01-01
    let batch: Vec<Event> = users
        .lines()
        .enumerate()
        .map(|(i, l)| event(l, i as i64, now))
        .collect();
    let results = chain.transform(&batch);
    let kept: Vec<String> = results.iter().flat_map(values).collect();
    assert!(
        !kept.is_empty() && kept.len() < batch.len(),
        "kept {}",
        kept.len()
    );
    assert!(kept.iter().all(|v| v.contains(r#""age_group":"65+""#)));
}

/// The files of the one compiled entry in a cache directory: its `.cwasm` and `.sum`.
fn cache_entry(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm" || e == "sum"))
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 2, "one compiled entry: {entries:?}");
    let sum = entries.pop().expect("sum");
    let cwasm = entries.pop().expect("cwasm");
    assert_eq!(cwasm.with_extension("sum"), sum, "{cwasm:?} and {sum:?}");
    (cwasm, sum)
}

#[test]
fn compiled_plugins_are_cached_and_a_corrupt_cache_entry_is_rebuilt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = PluginEngine::new(EngineOptions {
        cache_dir: Some(dir.path().to_owned()),
    })
    .expect("engine");
    load(&engine, spec(weir_builtin::ENRICHER_WASM, &[])).expect("first load compiles");
    let (cwasm, sum) = cache_entry(dir.path());
    let good = std::fs::read(&cwasm).expect("read");
    let good_sum = std::fs::read(&sum).expect("read sum");

    // Every way an entry can be damaged: the next load must not trust it, must still work,
    // and must leave an intact entry behind.
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x01;
    let mut flipped_sum = good_sum.clone();
    let last = flipped_sum.len() - 1;
    flipped_sum[last] ^= 0x01;
    // (what is damaged, the `.cwasm`'s bytes, the `.sum`'s bytes or none)
    type Damage<'a> = (&'a str, Vec<u8>, Option<Vec<u8>>);
    let damages: [Damage<'_>; 6] = [
        (
            "one bit flipped in the middle",
            flipped,
            Some(good_sum.clone()),
        ),
        (
            "truncated",
            good[..good.len() - 1].to_vec(),
            Some(good_sum.clone()),
        ),
        ("empty", Vec::new(), Some(good_sum.clone())),
        ("checksum file missing", good.clone(), None),
        ("checksum flipped", good.clone(), Some(flipped_sum)),
        (
            "checksum file truncated",
            good.clone(),
            Some(good_sum[..8].to_vec()),
        ),
    ];
    for (damage, cwasm_bytes, sum_bytes) in damages {
        std::fs::write(&cwasm, &cwasm_bytes).expect("write");
        match &sum_bytes {
            Some(bytes) => std::fs::write(&sum, bytes).expect("write sum"),
            None => std::fs::remove_file(&sum).expect("remove sum"),
        }
        let mut chain = PluginChain::new(vec![Arc::new(
            load(&engine, spec(weir_builtin::ENRICHER_WASM, &[])).expect(damage),
        )]);
        let results = chain.transform(&[
            event("not json", 0, 0),
            event(r#"{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.org","dob":"1815-12-10"}"#, 1, 0),
        ]);
        assert_eq!(
            failure_class(&results[0]),
            ErrorClass::InvalidInput,
            "{damage}"
        );
        assert!(
            values(&results[1])[0].contains(r#""age_group":"65+""#),
            "{damage}"
        );
        let (repaired, repaired_sum) = cache_entry(dir.path());
        assert_eq!(
            std::fs::read(&repaired).expect("rewritten"),
            good,
            "{damage}: the entry was rebuilt"
        );
        assert_eq!(
            std::fs::read(&repaired_sum).expect("rewritten"),
            good_sum,
            "{damage}"
        );
    }

    // An intact entry put in place of another component's (same cache, same secret) is
    // refused: the checksum covers the key. The echo plugin must echo, not enrich.
    let echo_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join("checksum.key"),
        echo_dir.path().join("checksum.key"),
    )
    .expect("copy the secret");
    let engine = PluginEngine::new(EngineOptions {
        cache_dir: Some(echo_dir.path().to_owned()),
    })
    .expect("engine");
    load(&engine, spec(weir_builtin::ECHO_WASM, &[])).expect("echo compiles");
    let (echo_cwasm, echo_sum) = cache_entry(echo_dir.path());
    std::fs::copy(&cwasm, &echo_cwasm).expect("swap");
    std::fs::copy(&sum, &echo_sum).expect("swap sum");
    let mut chain = PluginChain::new(vec![Arc::new(
        load(&engine, spec(weir_builtin::ECHO_WASM, &[])).expect("echo reloads"),
    )]);
    let results = chain.transform(&[event(r#"{"n":1}"#, 0, 0)]);
    assert_eq!(values(&results[0]), vec![r#"{"n":1}"#.to_owned()]);
    assert_ne!(
        std::fs::read(&echo_cwasm).expect("rebuilt"),
        good,
        "the swapped entry was replaced"
    );
}

#[test]
fn a_plugin_that_breaks_the_contract_fails_only_the_events_it_broke_it_for() {
    let engine = engine();
    let mut chain = chain(&engine, vec![spec(weir_builtin::MALFORMED_WASM, &[])]);
    let batch = vec![
        event(r#"{"n":0}"#, 0, 0),
        event(r#"{"n":1,"bad":"span"}"#, 1, 0),
        event(r#"{"n":2}"#, 2, 0),
        event(r#"{"n":3,"bad":"input"}"#, 3, 0),
        event(r#"{"n":4,"bad":"both"}"#, 4, 0),
        event(r#"{"n":5}"#, 5, 0),
        event(r#"{"n":6,"bad":"column"}"#, 6, 0),
        event(r#"{"n":7,"bad":"keep"}"#, 7, 0),
        event(r#"{"n":8,"same":true}"#, 8, 0),
    ];
    let results = chain.transform(&batch);
    assert_eq!(results.len(), batch.len());
    for i in [0, 2, 5] {
        assert_eq!(
            values(&results[i]),
            vec![String::from_utf8_lossy(&batch[i].value).into_owned()],
            "event {i}"
        );
    }
    // Spans that keep the input's key, value and headers are honoured.
    let kept = results[8].as_ref().expect("event 8 is emitted");
    assert_eq!(kept.as_slice(), [batch[8].clone()]);
    for (i, problem) in [
        (
            1,
            "output 0's value is bytes 0..1020 but the result's data has 20 bytes",
        ),
        (3, "output 0 names input 1, but the batch has 1 events"),
        (4, "input 0 is both emitted and failed"),
        (6, "outputs.keys has 1 entries, expected 2 (two per output)"),
        (
            7,
            "output 0's value keeps its input's (start 0xfffffffe) but has length 3, expected 0",
        ),
    ] {
        let Err(failure) = &results[i] else {
            panic!("event {i} should fail, got {:?}", values(&results[i]));
        };
        assert_eq!(failure.class, ErrorClass::PluginContract, "event {i}");
        assert!(
            failure
                .message
                .contains("broke the weir:transform contract")
                && failure.message.contains(problem),
            "event {i}: {}",
            failure.message
        );
    }
    // The chain carries on with a fresh instance.
    assert!(chain.transform(&batch[..1]).iter().all(Result::is_ok));
}

#[test]
fn keys_and_headers_survive_a_chain_of_packed_batches() {
    let engine = engine();
    let mut chain = chain(
        &engine,
        vec![
            spec(weir_builtin::TRAP_ON_MARKER_WASM, &[]),
            spec(weir_builtin::ECHO_WASM, &[]),
        ],
    );
    let mut batch: Vec<Event> = (0..5)
        .map(|i| event(&format!(r#"{{"n":{i}}}"#), i, 1_000 + i))
        .collect();
    batch[2].key = None;
    batch[3].headers = vec![
        weir_core::Header::new("a", Bytes::from_static(b"\x00\xff")),
        weir_core::Header::new("b", ""),
    ];
    let results = chain.transform(&batch);
    for (input, result) in batch.iter().zip(&results) {
        let outputs = result.as_ref().expect("ok");
        assert_eq!(outputs.len(), 1);
        assert_eq!(
            outputs[0], *input,
            "the event comes out exactly as it went in"
        );
    }
}

/// Plugins that keep their input's bytes (the SDK's `forward`, and the key and headers of
/// every output) next to ones that fail some events and ones that trap: every output
/// carries its own key, headers and position through the whole chain.
#[test]
fn outputs_that_keep_their_input_bytes_stay_whole_through_a_chain() {
    let engine = engine();
    let enricher = || spec(weir_builtin::ENRICHER_WASM, &[]);
    let mut alone = chain(&engine, vec![enricher()]);
    let mut long = chain(
        &engine,
        vec![
            spec(weir_builtin::ECHO_WASM, &[]),
            enricher(),
            spec(weir_builtin::ECHO_WASM, &[]),
            spec(weir_builtin::TRAP_ON_MARKER_WASM, &[]),
            spec(weir_builtin::ECHO_WASM, &[]),
        ],
    );
    let user = |i: i64, extra: &str| {
        format!(
            r#"{{"first_name":"U{i}","last_name":"L","email":"u{i}@x.org","dob":"1990-01-01"{extra}}}"#
        )
    };
    let mut batch: Vec<Event> = (0..12)
        .map(|i| {
            let extra = match i {
                3 => r#","trap":true"#,
                _ => "",
            };
            let value = if i == 5 || i == 9 {
                r#"{"first_name":"no dob"}"#.to_owned()
            } else {
                user(i, extra)
            };
            event(&value, i, 1_700_000_000_000 + i)
        })
        .collect();
    batch[1].key = None;
    batch[4].headers = vec![
        weir_core::Header::new("a", Bytes::from_static(b"\x00\xff")),
        weir_core::Header::new("b", ""),
    ];
    batch[7].headers.clear();
    let expected = alone.transform(&batch);
    let results = long.transform(&batch);
    for (i, (result, input)) in results.iter().zip(&batch).enumerate() {
        match i {
            3 => assert_eq!(failure_class(result), ErrorClass::PluginTrap),
            5 | 9 => assert_eq!(failure_class(result), ErrorClass::MissingField),
            _ => {
                let outputs = result.as_ref().expect("ok");
                let enriched = expected[i].as_ref().expect("enriched");
                assert_eq!(outputs.as_slice(), enriched.as_slice(), "event {i}");
                assert_eq!(outputs[0].key, input.key, "event {i}");
                assert_eq!(outputs[0].headers, input.headers, "event {i}");
                assert_eq!(outputs[0].position, input.position, "event {i}");
            }
        }
    }
}
