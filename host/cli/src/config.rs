//! `weir.toml`: one file describing a pipeline, deserialized once into typed sections (each
//! defined next to the component that uses it) and validated once.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use weir_file::FileSourceConfig;
use weir_runtime::PluginSpec;

/// The whole configuration of `weir run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeirConfig {
    /// Where events come from.
    pub source: SourceConfig,
    /// The plugin chain, in order; empty passes events through unchanged.
    #[serde(default)]
    pub plugins: Vec<PluginSpec>,
    /// Where transformed events go.
    pub sink: SinkConfig,
    /// Where events that fail go, with their reason.
    #[serde(default)]
    pub dead_letter: DeadLetterConfig,
    /// Batching and in-flight bounds.
    #[serde(default)]
    pub pipeline: PipelineConfig,
    /// Plugin runtime settings.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// Prometheus metrics endpoint.
    #[serde(default)]
    pub metrics: crate::metrics::MetricsConfig,
}

/// Source section: `[source] type = "file" | "stdin"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SourceConfig {
    /// JSONL file (`path = "-"` for stdin).
    File(FileSourceConfig),
    /// A Kafka consumer group.
    Kafka(weir_kafka::KafkaSourceConfig),
}

/// Sink section: `[sink] type = "stdout" | "jsonl" | "null"`.
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per run; boxing the Cassandra settings would buy nothing"
)]
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SinkConfig {
    /// Each output value as a line on standard output.
    Stdout {},
    /// Each output value as a line in a file.
    Jsonl {
        /// Output file (created or truncated).
        path: PathBuf,
    },
    /// Discard outputs (benchmarks).
    Null {},
    /// Cassandra or ScyllaDB.
    Cassandra(weir_cassandra::CassandraSinkConfig),
}

/// Dead-letter section: `[dead_letter] type = "jsonl"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DeadLetterConfig {
    /// Append failed events as JSON lines to a file.
    Jsonl {
        /// The file; created if missing, appended to otherwise.
        path: PathBuf,
    },
    /// Produce failed events to a Kafka topic with the original key, value and headers plus
    /// `weir.*` headers describing the failure.
    Kafka(weir_kafka::DeadLetterConfig),
}

impl Default for DeadLetterConfig {
    fn default() -> Self {
        DeadLetterConfig::Jsonl {
            path: PathBuf::from("weir-dead-letters.jsonl"),
        }
    }
}

/// `[pipeline]`: batching and bounds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Events per batch (also per plugin call). Larger batches amortise the cost of crossing
    /// into WebAssembly; 512 is a good default.
    #[serde(default = "PipelineConfig::default_batch_size")]
    pub batch_size: usize,
    /// Batches allowed between reading and acknowledging; bounds memory.
    #[serde(default = "PipelineConfig::default_in_flight")]
    pub max_batches_in_flight: usize,
    /// Largest event (key + value + headers, in bytes) handed to the plugins; a larger one is
    /// dead-lettered as `too-large` with the first 64 KiB of its value. Default 1 MiB.
    #[serde(default = "PipelineConfig::default_max_event_bytes")]
    pub max_event_bytes: usize,
}

impl PipelineConfig {
    const fn default_batch_size() -> usize {
        512
    }
    const fn default_in_flight() -> usize {
        4
    }
    const fn default_max_event_bytes() -> usize {
        weir_core::DEFAULT_MAX_EVENT_BYTES
    }

    /// The pipeline loop's options.
    pub fn options(&self) -> weir_core::PipelineOptions {
        weir_core::PipelineOptions {
            batch_size: self.batch_size,
            max_batches_in_flight: self.max_batches_in_flight,
            max_event_bytes: self.max_event_bytes,
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            batch_size: Self::default_batch_size(),
            max_batches_in_flight: Self::default_in_flight(),
            max_event_bytes: Self::default_max_event_bytes(),
        }
    }
}

/// `[runtime]`: the plugin engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Where compiled plugins are cached (default: `$XDG_CACHE_HOME/weir` or
    /// `~/.cache/weir`); `cache = false` disables the cache.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Set to false to compile plugins on every start.
    #[serde(default = "yes")]
    pub cache: bool,
    /// Reload plugins whose file changes (checked every 2 s) or on SIGHUP: the new version
    /// is loaded and initialised, then swapped in between two batches; a version that fails
    /// to load keeps the old one running.
    #[serde(default = "yes")]
    pub hot_reload: bool,
}

// Written out because a missing `[runtime]` table must mean the same as an empty one.
impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: None,
            cache: true,
            hot_reload: true,
        }
    }
}

fn yes() -> bool {
    true
}

impl WeirConfig {
    /// Reads the file, applies `--set key=value` overrides, deserializes and validates.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&text, overrides)
            .with_context(|| format!("invalid config file {}", path.display()))
    }

    /// Parses TOML text with overrides; relative paths stay relative to the working directory.
    pub fn parse(text: &str, overrides: &[String]) -> Result<Self> {
        let mut table: toml::Table = toml::from_str(text)?;
        for set in overrides {
            apply_override(&mut table, set)?;
        }
        let config: WeirConfig = WeirConfig::deserialize(toml::Value::Table(table))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what the types alone cannot, reporting every problem with its key and the fix.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.pipeline.batch_size == 0 || self.pipeline.batch_size > 65_536 {
            problems.push(format!(
                "pipeline.batch_size = {}: must be between 1 and 65536 (512 is a good default)",
                self.pipeline.batch_size
            ));
        }
        if self.pipeline.max_event_bytes == 0 {
            problems.push(
                "pipeline.max_event_bytes = 0: no event would fit; give a size in bytes such as 1048576 (the default)"
                    .to_owned(),
            );
        }
        if self.pipeline.max_batches_in_flight == 0 || self.pipeline.max_batches_in_flight > 1024 {
            problems.push(format!(
                "pipeline.max_batches_in_flight = {}: must be between 1 and 1024",
                self.pipeline.max_batches_in_flight
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, plugin) in self.plugins.iter().enumerate() {
            if plugin.path.trim().is_empty() {
                problems.push(format!(
                    "plugins[{i}].path is empty: give a .wasm file or builtin:enricher"
                ));
            }
            if plugin.limits.timeout.is_zero() {
                problems.push(format!(
                    "plugins[{i}].limits.timeout is 0: give a budget such as \"500ms\""
                ));
            }
            if plugin.limits.memory.0 < 1 << 20 {
                problems.push(format!(
                    "plugins[{i}].limits.memory = {}: at least \"1MiB\" is needed to run a plugin",
                    plugin.limits.memory
                ));
            }
            let name = plugin.display_name();
            if !names.insert(name.clone()) {
                problems.push(format!(
                    "plugins[{i}]: a second plugin named `{name}`; set plugins[{i}].name to tell them apart"
                ));
            }
        }
        if let SourceConfig::Kafka(kafka) = &self.source
            && let Err(e) = kafka.validate()
        {
            problems.extend(e.0.into_iter().map(|p| p.under("source").to_string()));
        }
        if let DeadLetterConfig::Kafka(dlq) = &self.dead_letter
            && let Err(e) = dlq.validate()
        {
            problems.extend(e.0.into_iter().map(|p| p.under("dead_letter").to_string()));
        }
        if let SinkConfig::Cassandra(cassandra) = &self.sink
            && let Err(e) = cassandra.validate("sink")
        {
            problems.push(e.to_string());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("{}", problems.join("\n"))
        }
    }

    /// Makes the source end once drained (`weir run --until-drained`): a Kafka source stops
    /// at the end offsets its partitions had when assigned; a file source ends anyway.
    pub fn stop_at_end(&mut self) {
        if let SourceConfig::Kafka(kafka) = &mut self.source {
            kafka.stop_at_end = true;
        }
    }

    /// The compiled-plugin cache directory, if caching is on.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if !self.runtime.cache {
            return None;
        }
        self.runtime.cache_dir.clone().or_else(default_cache_dir)
    }
}

/// `$XDG_CACHE_HOME/weir` or `~/.cache/weir`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("weir"))
}

/// Applies one `a.b.c=value` override. The value is read as TOML when it parses (numbers,
/// booleans, arrays, quoted strings) and as a plain string otherwise.
fn apply_override(table: &mut toml::Table, set: &str) -> Result<()> {
    let Some((key, raw)) = set.split_once('=') else {
        bail!("--set `{set}`: expected KEY=VALUE, e.g. --set sink.keyspace=demo");
    };
    let key = key.trim();
    let path: Vec<&str> = key.split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        bail!("--set `{set}`: `{key}` is not a dotted key like sink.keyspace");
    }
    let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let (last, parents) = path.split_last().context("empty key")?;
    let mut node = table;
    for (depth, part) in parents.iter().enumerate() {
        let entry = node
            .entry((*part).to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        node = match entry {
            toml::Value::Table(t) => t,
            toml::Value::Array(_) => bail!(
                "--set `{set}`: `{}` is a list; edit list entries in the file instead",
                path[..=depth].join(".")
            ),
            _ => bail!(
                "--set `{set}`: `{}` is not a section",
                path[..=depth].join(".")
            ),
        };
    }
    node.insert((*last).to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [source]
        type = "file"
        path = "examples/users.jsonl"

        [[plugins]]
        path = "builtin:enricher"

        [sink]
        type = "stdout"
    "#;

    #[test]
    fn minimal_config_gets_defaults() {
        let config = WeirConfig::parse(MINIMAL, &[]).expect("valid");
        assert_eq!(config.pipeline.batch_size, 512);
        assert_eq!(config.pipeline.max_event_bytes, 1 << 20);
        assert_eq!(config.plugins[0].display_name(), "enricher");
        assert!(matches!(config.dead_letter, DeadLetterConfig::Jsonl { .. }));
        // Without a `[runtime]` table: the compiled cache and hot reload are on.
        assert!(config.runtime.cache && config.runtime.hot_reload);
        assert!(config.cache_dir().is_some());
    }

    #[test]
    fn set_overrides_a_nested_key_with_a_typed_value() {
        let config = WeirConfig::parse(
            MINIMAL,
            &["pipeline.batch_size=64".into(), "sink.type=null".into()],
        )
        .expect("valid");
        assert_eq!(config.pipeline.batch_size, 64);
        assert!(matches!(config.sink, SinkConfig::Null {}));
    }

    #[test]
    fn unknown_key_is_an_error_that_names_it() {
        let text = format!("{MINIMAL}\n[pipeline]\nbatch_sise = 3\n");
        let error = format!("{:#}", WeirConfig::parse(&text, &[]).unwrap_err());
        assert!(error.contains("batch_sise"), "{error}");
    }

    #[test]
    fn invalid_values_are_all_reported_with_their_key_and_fix() {
        let text = format!(
            "{MINIMAL}\n[pipeline]\nbatch_size = 0\nmax_batches_in_flight = 0\nmax_event_bytes = 0\n"
        );
        let error = format!("{:#}", WeirConfig::parse(&text, &[]).unwrap_err());
        assert!(error.contains("pipeline.batch_size = 0"), "{error}");
        assert!(error.contains("pipeline.max_event_bytes = 0"), "{error}");
        assert!(
            error.contains("pipeline.max_batches_in_flight = 0"),
            "{error}"
        );
    }

    #[test]
    fn malformed_set_says_what_form_is_expected() {
        let error = format!(
            "{:#}",
            WeirConfig::parse(MINIMAL, &["nokey".into()]).unwrap_err()
        );
        assert!(error.contains("expected KEY=VALUE"), "{error}");
    }

    #[test]
    fn unknown_source_type_is_rejected() {
        let text = MINIMAL.replace("type = \"file\"", "type = \"ftp\"");
        let error = format!("{:#}", WeirConfig::parse(&text, &[]).unwrap_err());
        assert!(error.contains("ftp"), "{error}");
    }
}
