//! Sections 4 and 5: the real `weir run` between the real Kafka and a null sink, then the
//! real Cassandra. Events come from `weir ingest --synthetic`; weir's figures come from its
//! own `/metrics` and `/proc`, sampled while it runs.

use crate::peers::PeerSet;
use crate::scrape;
use crate::weir_child::{RunningWeir, create, free_port, tail};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Seed of the synthetic users: one seed, the same users on every run.
const SEED: u64 = 15;
/// Partitions of the benchmark topics.
const PARTITIONS: u32 = 4;
/// How often a running weir is sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// Longest a phase may take before the benchmark gives up on it.
const DEADLINE: Duration = Duration::from_secs(300);

/// What sections 4 and 5 are asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Events produced for the throughput runs.
    pub events: u64,
    /// How long the steady-rate latency run produces.
    pub latency_for: Duration,
}

/// One drained run of `weir run`, measured between the first and the last acknowledgement.
#[derive(Debug, Clone, Copy)]
pub struct DrainedRun {
    /// Events acknowledged per second of wall time.
    pub events_per_s: f64,
    /// weir's user + system CPU time per acknowledged event in that window.
    pub cpu_ns_per_event: f64,
    /// weir's CPU time over the whole process life (start-up and shutdown included), per event.
    pub total_cpu_ns_per_event: f64,
    /// Cores weir kept busy in the window.
    pub weir_cores: f64,
    /// Cores the Cassandra JVM kept busy in the window, when its pid is known.
    pub cassandra_cores: Option<f64>,
    /// Cores the whole machine kept busy in the window (every process).
    pub machine_cores: Option<f64>,
    /// Fraction of the window weir's write stage spent waiting for the sink.
    pub sink_wait_fraction: f64,
    /// Mean Cassandra write latency (weir's `weir_sink_write_seconds`), when that sink ran.
    pub mean_write_ms: Option<f64>,
}

/// Latency of events produced at a steady rate below capacity.
#[derive(Debug, Clone, Copy)]
pub struct Latency {
    /// Rate the events were produced at.
    pub rate: f64,
    /// Events measured.
    pub events: u64,
    /// Median, record timestamp to sink acknowledgement.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Mean Cassandra write latency meanwhile (weir's `weir_sink_write_seconds`).
    pub mean_write_ms: Option<f64>,
}

/// Sections 4 and 5.
#[derive(Debug, Clone, Copy)]
pub struct PeerResults {
    /// Events per throughput run.
    pub events: u64,
    /// Rate of `weir ingest` filling the topic (for scale, not a weir figure).
    pub produce_events_per_s: f64,
    /// Section 4: Kafka -> enricher -> null.
    pub kafka_in: DrainedRun,
    /// Section 5: Kafka -> enricher -> Cassandra.
    pub full_path: DrainedRun,
    /// Section 5: latency at a steady rate.
    pub latency: Latency,
}

/// Runs sections 4 and 5 against `peers`.
pub fn run(
    weir: &Path,
    peers: &PeerSet,
    shape: Shape,
    cache_dir: &Path,
    scratch: &Path,
) -> Result<PeerResults, String> {
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    );
    let topic = format!("weir-bench-{stamp}");
    let keyspace = format!("weir_bench_{}", stamp.replace('-', "_"));
    let setup = Setup {
        weir,
        peers,
        cache_dir,
        scratch,
    };

    eprintln!(
        "weir-bench: producing {} events to {topic} ...",
        shape.events
    );
    let started = Instant::now();
    setup.ingest(&topic, shape.events, None, "ingest-bulk")?;
    let produce_events_per_s = shape.events as f64 / started.elapsed().as_secs_f64();

    eprintln!("weir-bench: Kafka in (null sink) ...");
    let null_sink = "[sink]\ntype = \"null\"\n".to_owned();
    let kafka_in = setup.drained(&topic, "kafka-in", &null_sink, shape.events)?;

    eprintln!("weir-bench: full path (Cassandra sink) ...");
    let cassandra_sink = format!(
        "[sink]\ntype = \"cassandra\"\nnodes = [{node:?}]\nkeyspace = {keyspace:?}\n\
         table = \"users\"\ncreate_schema = true\nconsistency = \"one\"\n",
        node = peers.cassandra
    );
    // A Cassandra in production has run its write path for hours; a fresh JVM interprets it
    // until the JIT compiles it, which halved section 5 on a loaded 2-core machine. The same
    // events into the same table first, unmeasured (the rows are overwritten with equal ones).
    eprintln!("weir-bench: full path warm-up (unmeasured) ...");
    setup.drained(&topic, "full-path-warm-up", &cassandra_sink, shape.events)?;
    let full_path = setup.drained(&topic, "full-path", &cassandra_sink, shape.events)?;

    // Half the measured capacity: below it, so the latency is the path's, not a queue's.
    let rate = (full_path.events_per_s * 0.5)
        .clamp(100.0, 20_000.0)
        .round();
    eprintln!("weir-bench: full-path latency at {rate} events/s ...");
    let latency = setup.latency(&format!("{topic}-steady"), &cassandra_sink, rate, shape)?;
    Ok(PeerResults {
        events: shape.events,
        produce_events_per_s,
        kafka_in,
        full_path,
        latency,
    })
}

struct Setup<'a> {
    weir: &'a Path,
    peers: &'a PeerSet,
    cache_dir: &'a Path,
    scratch: &'a Path,
}

impl Setup<'_> {
    /// `weir ingest --synthetic` of `count` users into `topic` (created with
    /// [`PARTITIONS`] partitions), at `rate` if given; returns when all are acknowledged.
    fn ingest(&self, topic: &str, count: u64, rate: Option<f64>, log: &str) -> Result<(), String> {
        let log = self.scratch.join(format!("{log}.log"));
        let mut command = Command::new(self.weir);
        command
            .args(["ingest", "--synthetic", "--create-topic"])
            .arg(format!("--seed={SEED}"))
            .arg(format!("--partitions={PARTITIONS}"))
            .arg(format!("--count={count}"))
            .arg(format!("--brokers={}", self.peers.kafka))
            .arg(format!("--topic={topic}"));
        match rate {
            // Small requests spread the users evenly over each second.
            Some(rate) => command.arg(format!("--rate={rate}")).arg("--batch=50"),
            None => command.arg("--batch=5000"),
        };
        let status = command
            .env("WEIR_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(create(&log)?)
            .status()
            .map_err(|e| format!("cannot run `weir ingest`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`weir ingest` failed ({status}): {}", tail(&log)))
        }
    }

    /// The pipeline config of one run: `topic` in, the enricher, `sink`.
    fn config(
        &self,
        name: &str,
        topic: &str,
        sink: &str,
        metrics: SocketAddr,
    ) -> Result<PathBuf, String> {
        let path = self.scratch.join(format!("{name}.toml"));
        let text = format!(
            "[source]\ntype = \"kafka\"\nbrokers = [{kafka:?}]\ngroup_id = \"weir-bench-{name}-{topic}\"\n\
             topics = [{topic:?}]\nauto_offset_reset = \"earliest\"\n\n\
             [[plugins]]\npath = \"builtin:enricher\"\n\n{sink}\n\
             [dead_letter]\ntype = \"jsonl\"\npath = {dead:?}\n\n\
             [runtime]\ncache_dir = {cache:?}\nhot_reload = false\n\n\
             [metrics]\nenabled = true\naddress = \"{metrics}\"\n",
            kafka = self.peers.kafka,
            dead = self
                .scratch
                .join(format!("{name}-dead-letters.jsonl"))
                .display()
                .to_string(),
            cache = self.cache_dir.display().to_string(),
        );
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// `weir run --until-drained` over the `events` already in `topic`.
    fn drained(
        &self,
        topic: &str,
        name: &str,
        sink: &str,
        events: u64,
    ) -> Result<DrainedRun, String> {
        let metrics = free_port()?;
        let config = self.config(name, topic, sink, metrics)?;
        let mut weir = RunningWeir::start(
            self.weir,
            &config,
            true,
            &self.scratch.join(format!("{name}.log")),
        )?;
        let mut samples: Vec<Sample> = Vec::new();
        let deadline = Instant::now() + DEADLINE;
        let total_cpu = loop {
            if let Some(cpu) = weir.exited()? {
                // The last acknowledgement happened no later than the exit.
                samples.push(Sample::take(
                    &weir,
                    self.peers.cassandra_pid,
                    None,
                    Some(cpu),
                    events,
                ));
                break cpu;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "`weir run` did not drain {topic} within {DEADLINE:?}"
                ));
            }
            if let Ok(text) = scrape::metrics(metrics) {
                samples.push(Sample::take(
                    &weir,
                    self.peers.cassandra_pid,
                    Some(&text),
                    None,
                    0,
                ));
            }
            std::thread::sleep(SAMPLE_EVERY);
        };
        window(&samples, total_cpu, events)
    }

    /// A fresh topic, weir running on it and caught up, then events produced at `rate`:
    /// the latency histogram's growth meanwhile is theirs alone.
    fn latency(&self, topic: &str, sink: &str, rate: f64, shape: Shape) -> Result<Latency, String> {
        const NAME: &str = "weir_event_latency_seconds";
        self.ingest(topic, 1, None, "ingest-first")?;
        let metrics = free_port()?;
        let config = self.config("latency", topic, sink, metrics)?;
        let mut weir =
            RunningWeir::start(self.weir, &config, false, &self.scratch.join("latency.log"))?;
        let before = wait_for(&mut weir, metrics, 1.0, "weir to write the first event")?;
        let count = (rate * shape.latency_for.as_secs_f64()).max(1.0) as u64;
        self.ingest(topic, count, Some(rate), "ingest-steady")?;
        let after = wait_for(
            &mut weir,
            metrics,
            1.0 + count as f64,
            "weir to write the steady events",
        )?;
        weir.terminate();
        let measured = scrape::bucket_difference(
            &scrape::buckets(&after, NAME),
            &scrape::buckets(&before, NAME),
        );
        let quantile = |q| scrape::quantile(&measured, q).map(|s| s * 1e3);
        let growth = |name| Some(scrape::value(&after, name)? - scrape::value(&before, name)?);
        let mean_write_ms = match (
            growth("weir_sink_write_seconds_sum"),
            growth("weir_sink_write_seconds_count"),
        ) {
            (Some(seconds), Some(writes)) if writes > 0.0 => Some(seconds / writes * 1e3),
            _ => None,
        };
        match (quantile(0.5), quantile(0.99)) {
            (Some(p50_ms), Some(p99_ms)) => Ok(Latency {
                rate,
                events: count,
                p50_ms,
                p99_ms,
                mean_write_ms,
            }),
            _ => Err(format!(
                "weir reported no `{NAME}` observations; is it built from this tree?"
            )),
        }
    }
}

/// Polls weir's metrics at `metrics` until it has acknowledged `at_least` events; returns
/// that scrape. Fails if weir exits meanwhile.
fn wait_for(
    weir: &mut RunningWeir,
    metrics: SocketAddr,
    at_least: f64,
    what: &str,
) -> Result<String, String> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if weir.exited()?.is_some() {
            return Err(format!("`weir run` exited early: {}", tail(&weir.log)));
        }
        if let Ok(text) = scrape::metrics(metrics)
            && scrape::value(&text, "weir_events_acknowledged_total").is_some_and(|n| n >= at_least)
        {
            return Ok(text);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out after {DEADLINE:?} waiting for {what}"));
        }
        std::thread::sleep(SAMPLE_EVERY);
    }
}

/// One look at a running weir and the machine.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    acked: f64,
    weir_cpu: Option<Duration>,
    sink_seconds: f64,
    writes: f64,
    write_seconds: f64,
    cassandra_cpu: Option<Duration>,
    machine: Option<(u64, u64)>,
}

impl Sample {
    fn take(
        weir: &RunningWeir,
        cassandra: Option<u32>,
        text: Option<&str>,
        cpu: Option<Duration>,
        acked: u64,
    ) -> Sample {
        let get = |name| text.and_then(|t| scrape::value(t, name));
        Sample {
            at: Instant::now(),
            acked: get("weir_events_acknowledged_total").unwrap_or(acked as f64),
            weir_cpu: cpu.or_else(|| scrape::process_cpu(weir.child.id())),
            sink_seconds: get("weir_sink_seconds_total").unwrap_or(f64::NAN),
            writes: get("weir_sink_write_seconds_count").unwrap_or(f64::NAN),
            write_seconds: get("weir_sink_write_seconds_sum").unwrap_or(f64::NAN),
            cassandra_cpu: cassandra.and_then(scrape::process_cpu),
            machine: scrape::machine_jiffies(),
        }
    }
}

/// The figures between the last sample before the first acknowledgement and the first
/// sample that saw every event acknowledged.
fn window(samples: &[Sample], total_cpu: Duration, events: u64) -> Result<DrainedRun, String> {
    let first = samples.iter().rposition(|s| s.acked == 0.0).unwrap_or(0);
    let last = samples
        .iter()
        .position(|s| s.acked >= events as f64)
        .ok_or_else(|| format!("weir exited having acknowledged fewer than {events} events"))?;
    let (a, b) = (&samples[first], &samples[last]);
    let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-9);
    let acked = (b.acked - a.acked).max(1.0);
    let cpu = |x: Option<Duration>, y: Option<Duration>| Some(y?.saturating_sub(x?).as_secs_f64());
    let weir_cpu = cpu(a.weir_cpu, b.weir_cpu).unwrap_or(f64::NAN);
    // The last sample may be the exit, without metrics: take the latest scrape that had them.
    let metric_end = samples[..=last]
        .iter()
        .rev()
        .find(|s| !s.sink_seconds.is_nan())
        .unwrap_or(b);
    let metric_wall = metric_end.at.duration_since(a.at).as_secs_f64().max(1e-9);
    let sink_wait_fraction = (metric_end.sink_seconds - a.sink_seconds.max(0.0)) / metric_wall;
    let writes = metric_end.writes - a.writes.max(0.0);
    let mean_write_ms = (writes > 0.0)
        .then(|| (metric_end.write_seconds - a.write_seconds.max(0.0)) / writes * 1e3);
    let machine = match (a.machine, b.machine) {
        (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            Some((busy1 - busy0) as f64 / (total1 - total0) as f64 * cores)
        }
        _ => None,
    };
    Ok(DrainedRun {
        events_per_s: acked / wall,
        cpu_ns_per_event: weir_cpu * 1e9 / acked,
        total_cpu_ns_per_event: total_cpu.as_secs_f64() * 1e9 / events.max(1) as f64,
        weir_cores: weir_cpu / wall,
        cassandra_cores: cpu(a.cassandra_cpu, b.cassandra_cpu).map(|c| c / wall),
        machine_cores: machine,
        sink_wait_fraction,
        mean_write_ms,
    })
}
