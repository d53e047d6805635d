//! Section 7: what each plugin language costs. The same enrichment as a Rust, a JavaScript
//! (componentize-js) and a Python (componentize-py) component, each checked byte for byte
//! against the native enrichment first, then measured the same way: events/s at batch 512,
//! component size, compile time, load time from the compiled cache, instantiation time and
//! memory per live instance.
//!
//! The JS and Python components are built by `plugins/languages.sh build` (the bench does
//! not build them: that takes a toolchain and 20-40 s); when they are missing the section
//! says so and the rest of the benchmark stands.

use crate::data;
use crate::measure::{Clock, Repetitions, median, median_time, median_time_with, rate};
use crate::stages::{LARGE_BATCH, NativeEnricher};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weir_core::Transform;
use weir_runtime::{EngineOptions, Plugin, PluginChain, PluginEngine, PluginSpec};

/// Where the language components are, relative to the repository root.
const COMPONENTS: [(&str, &str); 2] = [
    ("JavaScript", "plugins/target/enricher-js.wasm"),
    ("Python", "plugins/target/enricher-py.wasm"),
];

/// How many live instances the memory figure averages over.
const INSTANCES_FOR_MEMORY: usize = 8;

/// One language's figures.
#[derive(Debug, Clone)]
pub struct LanguageRow {
    /// `Rust`, `JavaScript` or `Python`, or the name of an extra component.
    pub language: String,
    /// Events per second at batch 512, one core (CPU time of the measuring thread).
    pub events_per_s: f64,
    /// Size of the `.wasm`.
    pub component_bytes: usize,
    /// Reading, compiling and instantiating without a cache (wall clock).
    pub compile_ms: f64,
    /// The same from the compiled cache (wall clock, median).
    pub cached_load_ms: f64,
    /// The same in CPU time of the loading thread (median): what the load costs without
    /// the other work on a shared machine.
    pub cached_load_cpu_ms: f64,
    /// A fresh instance, `init` included (CPU time, median).
    pub instantiate_us: f64,
    /// Resident memory a live instance adds after one batch of 512 (process RSS delta).
    pub memory_per_instance_bytes: Option<u64>,
}

/// The section: one row per language whose component exists, and the ones missing.
#[derive(Debug, Clone)]
pub struct Languages {
    /// Rust first, then the others.
    pub rows: Vec<LanguageRow>,
    /// Components not found, with the command that builds them.
    pub missing: Vec<String>,
}

fn spec(name: &str, path: &Path) -> PluginSpec {
    PluginSpec {
        name: Some(name.to_owned()),
        path: path.to_string_lossy().into_owned(),
        config: Default::default(),
        limits: Default::default(),
        grants: Default::default(),
    }
}

fn load(engine: &PluginEngine, name: &str, bytes: &[u8]) -> Result<Arc<Plugin>, String> {
    Plugin::load_bytes(engine, spec(name, Path::new(name)), bytes)
        .map(Arc::new)
        .map_err(|e| format!("cannot load {name}: {e}"))
}

fn rss_bytes() -> Option<u64> {
    weir_peers::status_kib(None, "VmRSS").map(|kib| kib * 1024)
}

/// Checks the component against the native enrichment on every event.
fn check(name: &str, plugin: &Arc<Plugin>, values: &[String]) -> Result<(), String> {
    let events = data::events(values);
    let mut chain = PluginChain::new(vec![Arc::clone(plugin)]);
    let mut native = NativeEnricher;
    for chunk in events.chunks(LARGE_BATCH) {
        let (got, want) = (chain.transform(chunk), native.transform(chunk));
        for (g, w) in got.iter().zip(&want) {
            let same = match (g, w) {
                (Ok(g), Ok(w)) => g.iter().map(|e| &e.value).eq(w.iter().map(|e| &e.value)),
                _ => false,
            };
            if !same {
                return Err(format!(
                    "{name} disagrees with the native enrichment: {g:?} vs {w:?}"
                ));
            }
        }
    }
    Ok(())
}

fn measure(
    language: &str,
    checked: bool,
    bytes: &[u8],
    values: &[String],
    reps: Repetitions,
    cache_dir: &Path,
) -> Result<LanguageRow, String> {
    let engine_error = |e: weir_runtime::PluginError| format!("cannot create the engine: {e}");
    let uncached = PluginEngine::new(EngineOptions { cache_dir: None }).map_err(engine_error)?;
    let cached = PluginEngine::new(EngineOptions {
        cache_dir: Some(cache_dir.to_owned()),
    })
    .map_err(engine_error)?;

    let compile = median_time(
        Clock::Wall,
        Repetitions {
            warmup: 0,
            timed: 1,
        },
        || {
            let _ = load(&uncached, language, bytes);
        },
    );
    let plugin = load(&cached, language, bytes)?; // fills the cache
    if checked {
        check(language, &plugin, values)?;
    }
    let load_reps = Repetitions {
        warmup: 1,
        timed: 7,
    };
    let cached_load = median_time(Clock::Wall, load_reps, || {
        let _ = load(&cached, language, bytes);
    });
    let cached_load_cpu = median_time(Clock::ThreadCpu, load_reps, || {
        let _ = load(&cached, language, bytes);
    });

    let mut samples = Vec::new();
    for _ in 0..50 {
        let started = Clock::ThreadCpu.now();
        let instance = plugin
            .instantiate()
            .map_err(|e| format!("cannot instantiate {language}: {e}"))?;
        samples.push(Clock::ThreadCpu.now().saturating_sub(started));
        drop(instance);
    }

    let mut chain = PluginChain::new(vec![Arc::clone(&plugin)]);
    let elapsed = median_time_with(
        Clock::ThreadCpu,
        reps,
        || data::events(values),
        |events| {
            for chunk in events.chunks(LARGE_BATCH) {
                std::hint::black_box(chain.transform(chunk));
            }
        },
    );

    let batch = data::events(&values[..values.len().min(LARGE_BATCH)]);
    let before = rss_bytes();
    let mut live: Vec<PluginChain> = (0..INSTANCES_FOR_MEMORY)
        .map(|_| PluginChain::new(vec![Arc::clone(&plugin)]))
        .collect();
    for chain in &mut live {
        std::hint::black_box(chain.transform(&batch));
    }
    let after = rss_bytes();
    drop(live);

    Ok(LanguageRow {
        language: language.to_owned(),
        events_per_s: rate(values.len(), elapsed),
        component_bytes: bytes.len(),
        compile_ms: compile.as_secs_f64() * 1e3,
        cached_load_ms: cached_load.as_secs_f64() * 1e3,
        cached_load_cpu_ms: cached_load_cpu.as_secs_f64() * 1e3,
        instantiate_us: median(samples).as_secs_f64() * 1e6,
        memory_per_instance_bytes: before
            .zip(after)
            .map(|(b, a)| a.saturating_sub(b) / INSTANCES_FOR_MEMORY as u64),
    })
}

/// Runs the section over `values` (the benchmark's user events), then measures each of
/// `extra` (a name and a component) the same way without checking its output: what a
/// no-op or forwarding plugin costs in a language, to profile the layers under a plugin.
pub fn stage(
    values: &[String],
    reps: Repetitions,
    scratch: &Path,
    extra: &[(String, PathBuf)],
) -> Result<Languages, String> {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut rows = vec![measure(
        "Rust",
        true,
        weir_builtin::ENRICHER,
        values,
        reps,
        &scratch.join("cache-rust"),
    )?];
    let mut missing = Vec::new();
    for (language, relative) in COMPONENTS {
        let path = root.join(relative);
        match std::fs::read(&path) {
            Ok(bytes) => {
                eprintln!("weir-bench: plugin languages: {language} ...");
                rows.push(measure(
                    language,
                    true,
                    &bytes,
                    values,
                    reps,
                    &scratch.join(format!("cache-{language}")),
                )?);
            }
            Err(_) => missing.push(format!(
                "{language}: {} not found; build it with `plugins/languages.sh setup build`",
                path.display()
            )),
        }
    }
    for (name, path) in extra {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        eprintln!("weir-bench: plugin languages: {name} (unchecked) ...");
        rows.push(measure(
            name,
            false,
            &bytes,
            values,
            reps,
            &scratch.join(format!("cache-extra-{}", rows.len())),
        )?);
    }
    Ok(Languages { rows, missing })
}

impl fmt::Display for Languages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "7. Plugin languages: the enricher in each, batch {LARGE_BATCH}, one core"
        )?;
        writeln!(
            f,
            "   {:<11} {:>10} {:>9} {:>10} {:>10} {:>12} {:>13} {:>12} {:>12}",
            "language",
            "events/s",
            "Rust/x",
            "size MB",
            "compile s",
            "cached ms",
            "(CPU ms)",
            "instant. us",
            "MiB/instance"
        )?;
        let rust = self.rows.first().map_or(0.0, |r| r.events_per_s);
        for r in &self.rows {
            let memory = r.memory_per_instance_bytes.map_or_else(
                || "-".to_owned(),
                |b| format!("{:.1}", b as f64 / f64::from(1 << 20)),
            );
            writeln!(
                f,
                "   {:<11} {:>10.0} {:>8.1}x {:>10.1} {:>10.2} {:>12.1} {:>13.1} {:>12.0} {:>12}",
                r.language,
                r.events_per_s,
                rust / r.events_per_s.max(1e-9),
                r.component_bytes as f64 / 1e6,
                r.compile_ms / 1e3,
                r.cached_load_ms,
                r.cached_load_cpu_ms,
                r.instantiate_us,
                memory
            )?;
        }
        for line in &self.missing {
            writeln!(f, "   {line}")?;
        }
        Ok(())
    }
}
