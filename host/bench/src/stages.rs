//! The measurements: the enricher as a component and natively, the no-op crossing, the
//! whole host pipeline over a file, and what loading a plugin costs.

use crate::data;
use crate::measure::{
    Clock, Repetitions, median, median_time, median_time_with, ns_per_event, process_cpu_time, rate,
};
use crate::report::{LoadCosts, PipelineRun, PluginRow, Throughput};
use bytes::Bytes;
use std::hint::black_box;
use std::io::Write as _;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::{
    ErrorClass, Event, EventResult, Failure, Pipeline, PipelineOptions, PipelineStats,
    ShutdownSignal, Stage, Transform,
};
use weir_file::{FileSource, FileSourceConfig, InputTimestamp, JsonlDeadLetters, NullSink};
use weir_runtime::{EngineOptions, Plugin, PluginChain, PluginEngine, PluginSpec};

/// The batch sizes of the plugin stage.
pub const BATCH_SIZES: [usize; 3] = [1, 64, 512];

/// The batch size of the no-op crossing and of the pipeline.
pub const LARGE_BATCH: usize = 512;

/// The same enrichment as the `enricher` component, compiled natively, behind the same
/// [`Transform`] contract as the plugin chain: the baseline the component is held to.
///
/// Written as well as the component's path: every output value is appended to one buffer
/// per batch (`enrich_into`, as the component writes into its packed result) and handed
/// out as a zero-copy slice of it, keys too, so the two differ only in where the code runs.
pub struct NativeEnricher;

/// Where one output's key and value are in the batch's buffer.
type Spans = (Option<Range<usize>>, Range<usize>);

impl Transform for NativeEnricher {
    fn transform(&mut self, batch: &[Event]) -> Vec<EventResult> {
        let bytes: usize = batch.iter().map(|e| e.value.len() + 128).sum();
        let mut data = Vec::with_capacity(bytes);
        let spans: Vec<Result<Spans, Failure>> = batch
            .iter()
            .map(|event| {
                let key = event.key.as_ref().map(|k| {
                    let start = data.len();
                    data.extend_from_slice(k);
                    start..data.len()
                });
                let start = data.len();
                match weir_enricher_core::enrich_into(&event.value, event.timestamp_ms, &mut data) {
                    Ok(()) => Ok((key, start..data.len())),
                    Err(error) => Err(Failure::new(
                        Stage::Plugin {
                            name: "enricher".into(),
                            version: "native".into(),
                        },
                        ErrorClass::InvalidInput,
                        error.to_string(),
                    )),
                }
            })
            .collect();
        let data = Bytes::from(data);
        batch
            .iter()
            .zip(spans)
            .map(|(event, spans)| {
                let (key, value) = spans?;
                Ok(std::iter::once(Event {
                    key: key.map(|k| data.slice(k)),
                    value: data.slice(value),
                    headers: event.headers.clone(),
                    timestamp_ms: event.timestamp_ms,
                    position: event.position.clone(),
                })
                .collect())
            })
            .collect()
    }
}

/// A plugin spec with the defaults an operator gets.
fn spec(name: &str) -> PluginSpec {
    PluginSpec {
        name: Some(name.to_owned()),
        path: format!("builtin:{name}"),
        config: Default::default(),
        limits: Default::default(),
        grants: Default::default(),
    }
}

/// Loads the enricher from the bytes weir embeds.
pub fn load_enricher(engine: &PluginEngine) -> Result<Arc<Plugin>, String> {
    Plugin::load_bytes(engine, spec("enricher"), weir_builtin::ENRICHER)
        .map(Arc::new)
        .map_err(|e| format!("cannot load the enricher: {e}"))
}

/// Loads the test plugin that returns every event unchanged.
pub fn load_echo(engine: &PluginEngine) -> Result<Arc<Plugin>, String> {
    Plugin::load_file(engine, spec("echo"), Path::new(weir_builtin::ECHO_WASM))
        .map(Arc::new)
        .map_err(|e| format!("cannot load the echo plugin: {e}"))
}

/// Runs every event through `transform`, `batch` at a time.
fn run_all(transform: &mut impl Transform, events: &[Event], batch: usize) {
    for chunk in events.chunks(batch) {
        black_box(transform.transform(chunk));
    }
}

/// Checks that the component and the native code agree byte for byte on every event, so
/// the benchmark compares equal work.
pub fn check_equivalence(enricher: &Arc<Plugin>, events: &[Event]) -> Result<(), String> {
    let wasm = PluginChain::new(vec![Arc::clone(enricher)]).transform(events);
    let native = NativeEnricher.transform(events);
    for (index, (w, n)) in wasm.iter().zip(&native).enumerate() {
        let same = match (w, n) {
            (Ok(w), Ok(n)) => w.iter().map(|e| &e.value).eq(n.iter().map(|e| &e.value)),
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            return Err(format!(
                "event {index}: the component and the native enrichment disagree \
                 (component: {w:?}, native: {n:?}); the benchmark would compare different work"
            ));
        }
    }
    if wasm.iter().any(Result::is_err) {
        return Err("some generated events fail enrichment; fix the generator".into());
    }
    Ok(())
}

fn throughput(events: usize, elapsed: Duration) -> Throughput {
    Throughput {
        events_per_s: rate(events, elapsed),
        ns_per_event: ns_per_event(events, elapsed),
    }
}

/// A path that `--profile` can run alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfilePath {
    /// `enricher.wasm` through a `PluginChain`.
    Enricher,
    /// The same enrichment, natively.
    Native,
    /// The no-op component through a `PluginChain`.
    Echo,
}

/// Runs one path at `batch` for about `seconds`, on fresh events each round; returns the
/// rounds made.
pub fn profile(
    path: ProfilePath,
    plugin: &Arc<Plugin>,
    values: &[String],
    batch: usize,
    seconds: f64,
) -> u64 {
    let until = Instant::now() + Duration::from_secs_f64(seconds.max(0.0));
    let mut chain = PluginChain::new(vec![Arc::clone(plugin)]);
    let mut rounds = 0;
    while Instant::now() < until {
        let events = data::events(values);
        match path {
            ProfilePath::Native => run_all(&mut NativeEnricher, &events, batch.max(1)),
            ProfilePath::Enricher | ProfilePath::Echo => run_all(&mut chain, &events, batch.max(1)),
        }
        rounds += 1;
    }
    rounds
}

/// Section 1: the enricher as a component and natively, at each batch size. Every run
/// gets freshly built events, as a source delivers them: reusing events across runs would
/// hide costs paid once per event (a `Bytes` allocates its shared header on first clone).
pub fn plugin_stage(
    enricher: &Arc<Plugin>,
    values: &[String],
    reps: Repetitions,
) -> Vec<PluginRow> {
    let fresh = || data::events(values);
    BATCH_SIZES
        .iter()
        .map(|&batch| {
            let mut chain = PluginChain::new(vec![Arc::clone(enricher)]);
            let wasm = median_time_with(Clock::ThreadCpu, reps, fresh, |events| {
                run_all(&mut chain, events, batch)
            });
            let native = median_time_with(Clock::ThreadCpu, reps, fresh, |events| {
                run_all(&mut NativeEnricher, events, batch)
            });
            PluginRow {
                batch,
                wasm: throughput(values.len(), wasm),
                native: throughput(values.len(), native),
            }
        })
        .collect()
}

/// Section 2: the no-op plugin, i.e. the cost of crossing into WebAssembly and back.
pub fn echo_stage(echo: &Arc<Plugin>, values: &[String], reps: Repetitions) -> Throughput {
    let mut chain = PluginChain::new(vec![Arc::clone(echo)]);
    let elapsed = median_time_with(
        Clock::ThreadCpu,
        reps,
        || data::events(values),
        |events| run_all(&mut chain, events, LARGE_BATCH),
    );
    throughput(values.len(), elapsed)
}

/// Writes the values as a JSONL file, one per line.
pub fn write_jsonl(path: &Path, values: &[String]) -> Result<(), String> {
    let file = std::fs::File::create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for value in values {
        writeln!(out, "{value}").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Section 3: file source → enricher → null sink through [`Pipeline`], on a 2-thread
/// runtime like a small deployment.
pub fn pipeline_stage(
    enricher: &Arc<Plugin>,
    input: &Path,
    dead_letters: &Path,
    expected: usize,
    reps: Repetitions,
) -> Result<PipelineRun, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let run_once = || -> Result<(Duration, Duration), String> {
        let wall = Instant::now();
        let cpu = process_cpu_time();
        let stats = runtime.block_on(run_pipeline(enricher, input, dead_letters))?;
        let (wall, cpu) = (wall.elapsed(), process_cpu_time().saturating_sub(cpu));
        let out = PipelineStats::get(&stats.events_out);
        if usize::try_from(out).ok() != Some(expected) {
            return Err(format!(
                "the pipeline wrote {out} events, expected {expected}; see {}",
                dead_letters.display()
            ));
        }
        Ok((wall, cpu))
    };
    for _ in 0..reps.warmup {
        run_once()?;
    }
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    for _ in 0..reps.timed.max(1) {
        let (wall, cpu) = run_once()?;
        walls.push(wall);
        cpus.push(cpu);
    }
    let (wall, cpu) = (median(walls), median(cpus));
    Ok(PipelineRun {
        events_per_s: rate(expected, wall),
        cpu_ns_per_event: ns_per_event(expected, cpu),
    })
}

async fn run_pipeline(
    enricher: &Arc<Plugin>,
    input: &Path,
    dead_letters: &Path,
) -> Result<Arc<PipelineStats>, String> {
    let source = FileSource::open(&FileSourceConfig {
        path: input.to_owned(),
        timestamp: InputTimestamp::Fixed(data::TIMESTAMP_MS),
    })
    .await
    .map_err(|e| e.to_string())?;
    let letters = JsonlDeadLetters::open(dead_letters)
        .await
        .map_err(|e| e.to_string())?;
    let chain = PluginChain::new(vec![Arc::clone(enricher)]);
    let options = PipelineOptions {
        batch_size: LARGE_BATCH,
        ..PipelineOptions::default()
    };
    Pipeline::new(source, chain, NullSink, letters, options)
        .run(ShutdownSignal::never())
        .await
        .map_err(|e| format!("the pipeline failed: {e}"))
}

/// Section 4: compiling, loading from the compiled cache, instantiating.
pub fn load_costs(
    cache_dir: &Path,
    enricher: &Arc<Plugin>,
    reps: Repetitions,
    instantiations: usize,
) -> Result<LoadCosts, String> {
    let engine_error = |e: weir_runtime::PluginError| format!("cannot create the engine: {e}");
    let uncached = PluginEngine::new(EngineOptions { cache_dir: None }).map_err(engine_error)?;
    let cached = PluginEngine::new(EngineOptions {
        cache_dir: Some(cache_dir.to_owned()),
    })
    .map_err(engine_error)?;
    // Fills the cache.
    load_enricher(&cached)?;

    let mut failure = None;
    let mut load = |engine: &PluginEngine| {
        if let Err(e) = load_enricher(engine) {
            failure.get_or_insert(e);
        }
    };
    let compile = median_time(Clock::Wall, reps, || load(&uncached));
    let from_cache = median_time(Clock::Wall, reps, || load(&cached));
    if let Some(e) = failure {
        return Err(e);
    }

    let mut samples = Vec::with_capacity(instantiations);
    for _ in 0..instantiations.max(1) {
        let started = Clock::ThreadCpu.now();
        let instance = enricher
            .instantiate()
            .map_err(|e| format!("cannot instantiate the enricher: {e}"))?;
        samples.push(Clock::ThreadCpu.now().saturating_sub(started));
        drop(instance);
    }
    Ok(LoadCosts {
        compile_ms: compile.as_secs_f64() * 1e3,
        cached_load_ms: from_cache.as_secs_f64() * 1e3,
        instantiate_us: median(samples).as_secs_f64() * 1e6,
        component_bytes: weir_builtin::ENRICHER.len(),
    })
}
