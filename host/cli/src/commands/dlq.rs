//! `weir dlq replay`: re-drives dead-lettered events through the current plugin chain into
//! the sink, after a plugin or the table has been fixed.
//!
//! The dead-letter topic is read from its start up to where it ended when replay began, with
//! a consumer group of its own, so the pipeline's group and its offsets are never touched.
//! Each dead letter becomes the event it was: original key, value and headers, and the
//! original record timestamp, so replayed rows carry the same derived values and write
//! timestamps as if the first attempt had succeeded. Dead letters are not removed from the
//! topic; replaying twice is an idempotent overwrite.

use crate::commands::components::{self, AnySink};
use crate::config::{DeadLetterConfig, SourceConfig, WeirConfig};
use crate::plugins;
use crate::progress;
use anyhow::{Context, Result, bail};
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use weir_core::{
    Acker, BoxError, DeadLetterHeaders, Event, Pipeline, PipelineStats, Position, ShutdownSignal,
    Source,
};
use weir_file::{JsonlDeadLetters, JsonlSink};
use weir_kafka::{KafkaAcker, KafkaSource, KafkaSourceConfig};

/// `weir dlq …` subcommands.
#[derive(clap::Subcommand)]
pub enum DlqCommand {
    /// Re-drive dead-lettered events through the current plugin chain into the sink.
    ///
    /// Reads the config's dead-letter topic (or `--topic`) from its start to its current
    /// end, keeps the events that match every filter given, restores each one's original
    /// key, value, headers and timestamp, and runs them through `[[plugins]]` into `[sink]`.
    /// Events that fail again are written to `--failed-to` with their new reason; the dead
    /// letters stay in the topic.
    #[command(after_long_help = REPLAY_EXAMPLES)]
    Replay(ReplayArgs),
}

const REPLAY_EXAMPLES: &str = "\
Examples:
  # What would the fixed enricher make of its dead letters? Writes nothing.
  weir dlq replay --config weir.toml --stage plugin:enricher --dry-run
  # Write them to the sink.
  weir dlq replay --config weir.toml --stage plugin:enricher
  # Only sink timeouts from partition 3, offsets 1000 to 1999.
  weir dlq replay --config weir.toml --class sink-retries-exhausted --partition 3 --offsets 1000..2000";

/// Arguments of `weir dlq replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The pipeline's config file: its plugins, sink and dead-letter topic are used.
    #[arg(long, short, default_value = "weir.toml", env = "WEIR_CONFIG")]
    config: PathBuf,
    /// Override a config key, e.g. `--set sink.keyspace=demo` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Dead-letter topic to read [default: `dead_letter.topic` of the config].
    #[arg(long)]
    topic: Option<String>,
    /// Run the chain and print each output as JSON on stdout; write nothing to the sink.
    #[arg(long)]
    dry_run: bool,
    /// Only events that failed at this stage: `sink`, `source`, `plugin:NAME` or
    /// `plugin:NAME@VERSION` (prefix match; repeatable, any may match).
    #[arg(long, value_name = "STAGE")]
    stage: Vec<String>,
    /// Only events with this error class, e.g. `invalid-field`, `plugin-trap`,
    /// `sink-retries-exhausted` (repeatable, any may match).
    #[arg(long, value_name = "CLASS", value_parser = parse_class)]
    class: Vec<String>,
    /// Only events from this source topic.
    #[arg(long, value_name = "TOPIC")]
    source_topic: Option<String>,
    /// Only events from this source partition.
    #[arg(long, value_name = "N")]
    partition: Option<i32>,
    /// Only events whose source offset is in `FROM..TO` (TO excluded; either may be left out).
    #[arg(long, value_name = "FROM..TO", value_parser = parse_offsets)]
    offsets: Option<Range<i64>>,
    /// Where events that fail again are written, as JSONL with their new reason.
    #[arg(long, value_name = "FILE", default_value = "weir-replay-failed.jsonl")]
    failed_to: PathBuf,
}

/// Runs a `weir dlq` subcommand.
pub async fn execute(command: DlqCommand) -> Result<ExitCode> {
    match command {
        DlqCommand::Replay(args) => replay(args).await,
    }
}

async fn replay(args: ReplayArgs) -> Result<ExitCode> {
    let config = WeirConfig::load(&args.config, &args.overrides)?;
    let reader = reader_config(&config, args.topic.as_deref())?;
    let topic = reader.topics[0].clone();
    let engine = plugins::engine(config.cache_dir())?;
    let chain = tokio::task::block_in_place(|| plugins::load_chain(&engine, &config.plugins))?;
    let sink = if args.dry_run {
        AnySink::Jsonl(JsonlSink::stdout())
    } else {
        components::build_sink(&config.sink).await?
    };
    let failed = JsonlDeadLetters::open(&args.failed_to)
        .await
        .with_context(|| format!("--failed-to {}", args.failed_to.display()))?;
    let filter = Filter {
        stages: args.stage,
        classes: args.class,
        source_topic: args.source_topic,
        partition: args.partition,
        offsets: args.offsets,
    };
    let source = ReplaySource::start(&reader, filter)?;
    let counts = std::sync::Arc::clone(&source.counts);

    let options = config.pipeline.options();
    let pipeline = Pipeline::new(source, chain, sink, failed, options);
    let stats = pipeline.stats();
    let (stop, shutdown) = ShutdownSignal::new();
    tokio::spawn(progress::on_signals(stop));
    let started = Instant::now();
    tracing::info!(%topic, dry_run = args.dry_run, "Replaying dead letters");
    let result = crate::commands::components::run_on_worker(pipeline.run(shutdown)).await;
    result.context("the replay stopped")?;

    let read = counts.read.load(std::sync::atomic::Ordering::Relaxed);
    let failed_again = PipelineStats::get(&stats.dead_lettered);
    eprintln!(
        "weir dlq replay: {read} dead letters read from {topic}, {} matched, {} {}, {failed_again} failed again{}, {:.2}s",
        PipelineStats::get(&stats.events_in),
        PipelineStats::get(&stats.events_out),
        if args.dry_run {
            "printed (dry run, nothing written)"
        } else {
            "written"
        },
        if failed_again > 0 {
            format!(" (see {})", args.failed_to.display())
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64(),
    );
    Ok(if failed_again > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The consumer that reads the dead-letter topic: a group of its own, from the start, until
/// the end it had when assigned.
fn reader_config(config: &WeirConfig, topic: Option<&str>) -> Result<KafkaSourceConfig> {
    let dlq = match &config.dead_letter {
        DeadLetterConfig::Kafka(dlq) => Some(dlq),
        DeadLetterConfig::Jsonl { .. } => None,
    };
    let Some(topic) = topic.or(dlq.map(|d| d.topic.as_str())) else {
        bail!(
            "dead_letter.type is not \"kafka\": dead letters in a JSONL file are replayed by \
             running `weir run` with a file source on that file; or pass --topic"
        );
    };
    let source = match &config.source {
        SourceConfig::Kafka(k) => Some(k),
        SourceConfig::File(_) => None,
    };
    let brokers = match (dlq.and_then(|d| d.brokers.clone()), source) {
        (Some(brokers), _) => brokers,
        (None, Some(source)) => source.brokers.clone(),
        (None, None) => bail!(
            "no brokers to read the dead-letter topic from: set dead_letter.brokers \
             (e.g. \"127.0.0.1:9092\")"
        ),
    };
    // A throwaway group: replay must not move the pipeline's offsets, and reads from the
    // start every time.
    let group = format!(
        "weir-dlq-replay-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let mut reader = KafkaSourceConfig::new(brokers, group, vec![topic.to_owned()]);
    reader.stop_at_end = true;
    // Same cluster as the source: the same credentials.
    reader.properties = match (dlq.and_then(|d| d.brokers.as_ref()), source) {
        (None, Some(source)) => source.properties.clone(),
        _ => dlq.map(|d| d.properties.clone()).unwrap_or_default(),
    };
    Ok(reader)
}

/// Which dead letters to replay; an empty list or `None` matches everything.
struct Filter {
    stages: Vec<String>,
    classes: Vec<String>,
    source_topic: Option<String>,
    partition: Option<i32>,
    offsets: Option<Range<i64>>,
}

impl Filter {
    fn matches(&self, letter: &Event) -> bool {
        let header = |name| header_text(letter, name);
        let stage = header(DeadLetterHeaders::STAGE).unwrap_or_default();
        let class = header(DeadLetterHeaders::CLASS).unwrap_or_default();
        let number = |name| header(name).and_then(|v| v.parse::<i64>().ok());
        (self.stages.is_empty() || self.stages.iter().any(|s| stage.starts_with(s.as_str())))
            && (self.classes.is_empty() || self.classes.contains(&class))
            && self
                .source_topic
                .as_ref()
                .is_none_or(|t| header(DeadLetterHeaders::TOPIC).as_ref() == Some(t))
            && self
                .partition
                .is_none_or(|p| number(DeadLetterHeaders::PARTITION) == Some(i64::from(p)))
            && self.offsets.as_ref().is_none_or(|range| {
                number(DeadLetterHeaders::OFFSET).is_some_and(|o| range.contains(&o))
            })
    }
}

fn header_text(event: &Event, name: &str) -> Option<String> {
    event
        .headers
        .iter()
        .find(|h| h.name == name)
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
}

/// Turns a dead letter back into the event that failed: the `weir.*` headers removed and
/// the original record timestamp restored. Its position stays the dead letter's own, which
/// is what the reader acknowledges.
fn restore(mut letter: Event) -> Event {
    if let Some(ts) =
        header_text(&letter, DeadLetterHeaders::TIMESTAMP).and_then(|v| v.parse::<i64>().ok())
    {
        letter.timestamp_ms = ts;
    }
    letter
        .headers
        .retain(|h| !DeadLetterHeaders::ALL.contains(&h.name.as_str()));
    letter
}

/// What the reader saw.
#[derive(Default)]
struct ReplayCounts {
    read: std::sync::atomic::AtomicU64,
}

/// The dead-letter topic as a source of the events to replay. Dead letters that do not
/// match the filter are acknowledged at once, so the reader still knows when it is done.
struct ReplaySource {
    inner: KafkaSource,
    skipped: KafkaAcker,
    filter: Filter,
    counts: std::sync::Arc<ReplayCounts>,
}

impl ReplaySource {
    fn start(config: &KafkaSourceConfig, filter: Filter) -> Result<Self> {
        let inner = KafkaSource::start(config).context("reading the dead-letter topic")?;
        let skipped = inner.acker();
        Ok(Self {
            inner,
            skipped,
            filter,
            counts: std::sync::Arc::default(),
        })
    }
}

impl Source for ReplaySource {
    type Acker = KafkaAcker;

    fn acker(&self) -> KafkaAcker {
        self.inner.acker()
    }

    async fn next_batch(&mut self, max: usize) -> Result<Option<Vec<Event>>, BoxError> {
        loop {
            let Some(batch) = self.inner.next_batch(max).await? else {
                return Ok(None);
            };
            self.counts
                .read
                .fetch_add(batch.len() as u64, std::sync::atomic::Ordering::Relaxed);
            let (keep, skip): (Vec<Event>, Vec<Event>) =
                batch.into_iter().partition(|e| self.filter.matches(e));
            if !skip.is_empty() {
                let positions: Vec<Position> = skip.into_iter().map(|e| e.position).collect();
                self.skipped.ack(&positions).await?;
            }
            if !keep.is_empty() {
                return Ok(Some(keep.into_iter().map(restore).collect()));
            }
        }
    }
}

fn parse_class(text: &str) -> Result<String, String> {
    match weir_core::ErrorClass::parse(text) {
        Some(class) => Ok(class.as_str().to_owned()),
        None => Err(format!(
            "unknown error class `{text}`; classes are: {}",
            weir_core::ErrorClass::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn parse_offsets(text: &str) -> Result<Range<i64>, String> {
    let Some((from, to)) = text.split_once("..") else {
        return Err(format!(
            "`{text}` is not FROM..TO, e.g. 1000..2000 or 1000.."
        ));
    };
    let bound = |s: &str, default: i64| {
        if s.is_empty() {
            Ok(default)
        } else {
            s.parse::<i64>()
                .map_err(|_| format!("`{s}` in `{text}` is not an offset"))
        }
    };
    Ok(bound(from, 0)?..bound(to, i64::MAX)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_core::Header;

    fn letter(stage: &str, class: &str, partition: i32, offset: i64) -> Event {
        Event {
            key: None,
            value: bytes::Bytes::from_static(b"{}"),
            headers: vec![
                Header::new("trace", "t1"),
                Header::new(DeadLetterHeaders::STAGE, stage.to_owned()),
                Header::new(DeadLetterHeaders::CLASS, class.to_owned()),
                Header::new(DeadLetterHeaders::TOPIC, "users"),
                Header::new(DeadLetterHeaders::PARTITION, partition.to_string()),
                Header::new(DeadLetterHeaders::OFFSET, offset.to_string()),
                Header::new(DeadLetterHeaders::TIMESTAMP, "1700000000000"),
            ],
            timestamp_ms: 1_800_000_000_000,
            position: Position {
                topic: "users.dlq".into(),
                partition: 0,
                offset: 7,
            },
        }
    }

    fn everything() -> Filter {
        Filter {
            stages: vec![],
            classes: vec![],
            source_topic: None,
            partition: None,
            offsets: None,
        }
    }

    #[test]
    fn filters_combine_and_each_list_matches_any_of_its_entries() {
        let trap = letter("plugin:enricher@abc", "plugin-trap", 2, 150);
        let sink = letter("sink", "sink-retries-exhausted", 3, 1500);
        assert!(everything().matches(&trap) && everything().matches(&sink));

        let by_stage = Filter {
            stages: vec!["plugin:enricher".into()],
            ..everything()
        };
        assert!(by_stage.matches(&trap) && !by_stage.matches(&sink));

        let by_class_and_range = Filter {
            classes: vec!["plugin-trap".into(), "sink-retries-exhausted".into()],
            partition: Some(3),
            offsets: Some(1000..2000),
            ..everything()
        };
        assert!(!by_class_and_range.matches(&trap) && by_class_and_range.matches(&sink));

        let other_topic = Filter {
            source_topic: Some("orders".into()),
            ..everything()
        };
        assert!(!other_topic.matches(&trap));
    }

    #[test]
    fn a_restored_event_has_its_original_timestamp_and_headers_only() {
        let event = restore(letter("sink", "sink-rejected", 0, 1));
        assert_eq!(event.timestamp_ms, 1_700_000_000_000);
        assert_eq!(event.headers, vec![Header::new("trace", "t1")]);
        assert_eq!(event.position.topic.as_ref(), "users.dlq");
    }

    #[test]
    fn offset_ranges_and_classes_are_checked_when_parsed() {
        assert_eq!(parse_offsets("10..20"), Ok(10..20));
        assert_eq!(parse_offsets("10.."), Ok(10..i64::MAX));
        assert_eq!(parse_offsets("..20"), Ok(0..20));
        assert!(parse_offsets("10-20").is_err());
        assert!(parse_offsets("a..b").is_err());
        assert_eq!(parse_class("plugin-trap"), Ok("plugin-trap".to_owned()));
        let err = parse_class("trap").unwrap_err();
        assert!(err.contains("plugin-trap"), "{err}");
    }
}
