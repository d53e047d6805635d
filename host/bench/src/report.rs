//! What a run measured: printed as a table for people, saved as JSON with stable keys for
//! `weir-bench compare`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

/// The targets for the plugin stage at batch 512 (issue #15): a fraction of native speed...
pub const TARGET_RATIO: f64 = 0.60;
/// ...and events per second on one core, with the time budget enforced.
pub const TARGET_EVENTS_PER_S: f64 = 1_000_000.0;
/// Most nanoseconds per event the no-op plugin may cost at batch 512 (issue #15).
pub const TARGET_ECHO_NS: f64 = 100.0;
/// Events per second per core the host pipeline must reach (issue #15).
pub const TARGET_PIPELINE_PER_CORE: f64 = 500_000.0;
/// Most microseconds an instance may take to create (issue #15).
pub const TARGET_INSTANTIATE_US: f64 = 50.0;
/// Most peak RSS of `weir run` with four plugins, in bytes (issue #15: 150 MB).
pub const TARGET_WEIR_RUN_RSS: f64 = 150e6;

/// Speed of one path over the event set.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Events per second.
    pub events_per_s: f64,
    /// Nanoseconds per event (the inverse, for reading costs).
    pub ns_per_event: f64,
}

/// The enricher at one batch size, as a component and natively.
#[derive(Debug, Clone, Copy)]
pub struct PluginRow {
    /// Events per `transform` call.
    pub batch: usize,
    /// Through `enricher.wasm` in a `PluginChain`.
    pub wasm: Throughput,
    /// Through `weir_enricher_core::enrich`, natively.
    pub native: Throughput,
}

impl PluginRow {
    /// Component speed as a fraction of native speed.
    pub fn ratio(&self) -> f64 {
        self.wasm.events_per_s / self.native.events_per_s.max(f64::MIN_POSITIVE)
    }
}

/// The whole host pipeline over a file.
#[derive(Debug, Clone, Copy)]
pub struct PipelineRun {
    /// Events per second, wall clock.
    pub events_per_s: f64,
    /// CPU time of the whole process per event, every thread counted.
    pub cpu_ns_per_event: f64,
}

impl PipelineRun {
    /// Events per second one core sustains: the inverse of the CPU time per event.
    pub fn per_core(&self) -> f64 {
        1e9 / self.cpu_ns_per_event.max(f64::MIN_POSITIVE)
    }
}

/// What a plugin costs before it processes anything.
#[derive(Debug, Clone, Copy)]
pub struct LoadCosts {
    /// `Plugin::load_bytes` with no cache: compile, check, pre-instantiate, first instance.
    pub compile_ms: f64,
    /// The same with the compiled artifact in the on-disk cache.
    pub cached_load_ms: f64,
    /// `Plugin::instantiate` (a fresh sandboxed instance plus `init`), median.
    pub instantiate_us: f64,
    /// Size of the enricher component.
    pub component_bytes: usize,
}

/// How the run was made, printed in the heading and saved with the figures.
#[derive(Debug, Clone, Copy)]
pub struct RunShape {
    /// Events in the generated set.
    pub events: usize,
    /// Average value size in bytes.
    pub average_value_bytes: usize,
    /// Untimed runs before each measurement.
    pub warmup: usize,
    /// Timed runs per measurement (the median is reported).
    pub timed: usize,
    /// Whether `--quick` was given.
    pub quick: bool,
}

/// Everything one run measured.
#[derive(Debug, Clone)]
pub struct Results {
    /// How the run was made.
    pub shape: RunShape,
    /// Section 1.
    pub plugin: Vec<PluginRow>,
    /// Section 2 (batch 512).
    pub echo: Throughput,
    /// Section 3.
    pub pipeline: PipelineRun,
    /// Section 6: load costs.
    pub load: LoadCosts,
    /// Section 6: linear memory of one enricher instance after a batch of 512.
    pub instance_memory_bytes: Option<usize>,
    /// Section 6: `weir run` with a four-plugin chain, or why it was not measured.
    pub weir_run: Result<crate::resources::WeirRun, String>,
    /// Sections 4 and 5, when asked for: their figures, or why they could not run.
    pub peer_paths: Option<Result<crate::peer_paths::PeerResults, String>>,
    /// Peak resident set of this benchmark process at the end of the run.
    pub peak_rss_bytes: Option<u64>,
}

/// Which direction of change is an improvement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Throughputs and ratios.
    Higher,
    /// Times and sizes.
    Lower,
}

/// One figure in the saved JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// The figure.
    pub value: f64,
    /// Its unit, for people.
    pub unit: String,
    /// Which way is an improvement; `compare` flags changes the other way.
    pub better: Better,
}

/// The saved form of a run. Keys of `metrics` are stable across versions; new figures get
/// new keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    /// Format marker, `weir-bench/1`.
    pub format: String,
    /// Events in the generated set.
    pub events: usize,
    /// Whether the run was `--quick` (fewer events and repetitions: noisier).
    pub quick: bool,
    /// Every figure by key, e.g. `plugin.batch_512.wasm.events_per_s`.
    pub metrics: BTreeMap<String, Metric>,
}

/// The format marker of [`Saved`].
pub const FORMAT: &str = "weir-bench/1";

impl Results {
    /// The figures under their stable keys.
    pub fn saved(&self) -> Saved {
        let mut metrics = BTreeMap::new();
        let mut put = |key: String, value: f64, unit: &str, better: Better| {
            let unit = unit.to_owned();
            metrics.insert(
                key,
                Metric {
                    value,
                    unit,
                    better,
                },
            );
        };
        for row in &self.plugin {
            let b = row.batch;
            put(
                format!("plugin.batch_{b}.wasm.events_per_s"),
                row.wasm.events_per_s,
                "events/s",
                Better::Higher,
            );
            put(
                format!("plugin.batch_{b}.native.events_per_s"),
                row.native.events_per_s,
                "events/s",
                Better::Higher,
            );
            put(
                format!("plugin.batch_{b}.wasm_over_native"),
                row.ratio(),
                "ratio",
                Better::Higher,
            );
        }
        put(
            "echo.batch_512.ns_per_event".into(),
            self.echo.ns_per_event,
            "ns/event",
            Better::Lower,
        );
        put(
            "pipeline.events_per_s".into(),
            self.pipeline.events_per_s,
            "events/s",
            Better::Higher,
        );
        put(
            "pipeline.events_per_s_per_core".into(),
            self.pipeline.per_core(),
            "events/s",
            Better::Higher,
        );
        put(
            "pipeline.cpu_ns_per_event".into(),
            self.pipeline.cpu_ns_per_event,
            "ns/event",
            Better::Lower,
        );
        put(
            "load.compile_ms".into(),
            self.load.compile_ms,
            "ms",
            Better::Lower,
        );
        put(
            "load.cached_ms".into(),
            self.load.cached_load_ms,
            "ms",
            Better::Lower,
        );
        put(
            "load.instantiate_us".into(),
            self.load.instantiate_us,
            "us",
            Better::Lower,
        );
        if let Some(bytes) = self.instance_memory_bytes {
            put(
                "memory.enricher_instance_mib".into(),
                bytes as f64 / (1024.0 * 1024.0),
                "MiB",
                Better::Lower,
            );
        }
        if let Ok(run) = &self.weir_run {
            put(
                "memory.weir_run_4_plugins_peak_rss_mib".into(),
                run.peak_rss_bytes as f64 / (1024.0 * 1024.0),
                "MiB",
                Better::Lower,
            );
        }
        if let Some(rss) = self.peak_rss_bytes {
            put(
                "memory.peak_rss_mib".into(),
                rss as f64 / (1024.0 * 1024.0),
                "MiB",
                Better::Lower,
            );
        }
        if let Some(Ok(peer_paths)) = &self.peer_paths {
            crate::peer_report::save(peer_paths, self.pipeline.cpu_ns_per_event, &mut put);
        }
        Saved {
            format: FORMAT.into(),
            events: self.shape.events,
            quick: self.shape.quick,
            metrics,
        }
    }
}

/// `1234567.8` as `1,234,568`.
pub fn grouped(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Sections 1 and 2 alone: what `--plugin-only` prints, and the head of the full table.
pub struct PluginSections<'a> {
    /// How the run was made.
    pub shape: &'a RunShape,
    /// Section 1.
    pub plugin: &'a [PluginRow],
    /// Section 2.
    pub echo: &'a Throughput,
}

impl fmt::Display for PluginSections<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.shape;
        writeln!(
            f,
            "weir-bench: {} user events (~{} B each), median of {} timed runs after {} warm-up{}",
            grouped(s.events as f64),
            s.average_value_bytes,
            s.timed,
            s.warmup,
            if s.quick { " (--quick: noisy)" } else { "" }
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "1. Plugin stage: enricher on one core, thread CPU time (wasm = enricher.wasm in a PluginChain; native = weir_enricher_core::enrich)"
        )?;
        writeln!(
            f,
            "   {:>5}  {:>14}  {:>9}  {:>14}  {:>9}  {:>11}",
            "batch", "wasm events/s", "ns/event", "native ev/s", "ns/event", "wasm/native"
        )?;
        for row in self.plugin {
            writeln!(
                f,
                "   {:>5}  {:>14}  {:>9.0}  {:>14}  {:>9.0}  {:>10.1}%",
                row.batch,
                grouped(row.wasm.events_per_s),
                row.wasm.ns_per_event,
                grouped(row.native.events_per_s),
                row.native.ns_per_event,
                row.ratio() * 100.0
            )?;
        }
        if let Some(large) = self.plugin.iter().find(|r| r.batch == 512) {
            writeln!(
                f,
                "   targets at batch 512 (#15): wasm >= {:.0}% of native: {} ({:.1}%); wasm >= {} events/s: {} ({})",
                TARGET_RATIO * 100.0,
                verdict(large.ratio() >= TARGET_RATIO),
                large.ratio() * 100.0,
                grouped(TARGET_EVENTS_PER_S),
                verdict(large.wasm.events_per_s >= TARGET_EVENTS_PER_S),
                grouped(large.wasm.events_per_s)
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "2. No-op plugin (echo), batch 512: {:.0} ns/event into WebAssembly and back ({} events/s, thread CPU time); target <= {:.0} ns: {}",
            self.echo.ns_per_event,
            grouped(self.echo.events_per_s),
            TARGET_ECHO_NS,
            verdict(self.echo.ns_per_event <= TARGET_ECHO_NS)
        )
    }
}

impl fmt::Display for Results {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = PluginSections {
            shape: &self.shape,
            plugin: &self.plugin,
            echo: &self.echo,
        };
        writeln!(f, "{head}")?;
        writeln!(f)?;
        write_pipeline(f, &self.pipeline)?;
        writeln!(f)?;
        crate::peer_report::write(f, self.peer_paths.as_ref(), self.pipeline.cpu_ns_per_event)?;
        writeln!(f)?;
        let l = &self.load;
        let mut resources = String::new();
        writeln!(resources, "6. Resources")?;
        match &self.weir_run {
            Ok(run) => writeln!(
                resources,
                "   weir run, 4-plugin chain, peak RSS  {:>10.1} MiB   ({:.2} s; target < 150 MB: {})",
                run.peak_rss_bytes as f64 / (1024.0 * 1024.0),
                run.wall.as_secs_f64(),
                verdict((run.peak_rss_bytes as f64) < TARGET_WEIR_RUN_RSS)
            )?,
            Err(why) => writeln!(
                resources,
                "   weir run, 4-plugin chain: not measured: {why}"
            )?,
        }
        match self.instance_memory_bytes {
            Some(bytes) => writeln!(
                resources,
                "   enricher instance linear memory     {:>10.2} MiB   (after a batch of 512)",
                bytes as f64 / (1024.0 * 1024.0)
            )?,
            None => writeln!(resources, "   enricher instance memory: not reported")?,
        }
        writeln!(
            resources,
            "   load enricher, compiling (no cache) {:>10.2} ms   ({} KiB component)",
            l.compile_ms,
            l.component_bytes / 1024
        )?;
        writeln!(
            resources,
            "   load enricher from compiled cache   {:>10.2} ms",
            l.cached_load_ms
        )?;
        writeln!(
            resources,
            "   instantiate + init (median, CPU)    {:>10.1} us   (target < {:.0} us: {})",
            l.instantiate_us,
            TARGET_INSTANTIATE_US,
            verdict(l.instantiate_us < TARGET_INSTANTIATE_US)
        )?;
        match self.peak_rss_bytes {
            Some(rss) => writeln!(
                resources,
                "   peak RSS of this benchmark process  {:>10.1} MiB",
                rss as f64 / (1024.0 * 1024.0)
            )?,
            None => writeln!(resources, "   peak RSS: not reported by this platform")?,
        }
        f.write_str(&resources)
    }
}

/// Section 3, the reference for section 5's CPU per event.
fn write_pipeline(f: &mut fmt::Formatter<'_>, pipeline: &PipelineRun) -> fmt::Result {
    writeln!(
        f,
        "3. Host pipeline: file source -> enricher -> null sink, weir_core::Pipeline, batch 512, 2 runtime threads"
    )?;
    writeln!(
        f,
        "   {} events/s wall; {:.0} ns CPU per event (all threads) = {} events/s per core; target >= {} per core: {}",
        grouped(pipeline.events_per_s),
        pipeline.cpu_ns_per_event,
        grouped(pipeline.per_core()),
        grouped(TARGET_PIPELINE_PER_CORE),
        verdict(pipeline.per_core() >= TARGET_PIPELINE_PER_CORE)
    )
}

/// What `--peers-only` measured: section 3 and sections 4 and 5.
#[derive(Debug, Clone)]
pub struct PeerOnlyResults {
    /// Section 3.
    pub pipeline: PipelineRun,
    /// Sections 4 and 5, or why they could not run.
    pub peer_paths: Option<Result<crate::peer_paths::PeerResults, String>>,
}

impl fmt::Display for PeerOnlyResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_pipeline(f, &self.pipeline)?;
        writeln!(f)?;
        crate::peer_report::write(f, self.peer_paths.as_ref(), self.pipeline.cpu_ns_per_event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_puts_commas_between_thousands() {
        assert_eq!(grouped(0.4), "0");
        assert_eq!(grouped(999.0), "999");
        assert_eq!(grouped(1_234_567.8), "1,234,568");
    }
}
