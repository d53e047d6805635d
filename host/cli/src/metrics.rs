//! Prometheus metrics over plain HTTP (`GET /metrics`), bound to loopback by default.
//! Hand-written text exposition: the counters already live in the components as atomics,
//! so rendering them on request needs no registry.

use serde::Deserialize;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use weir_core::PipelineStats;

/// `[metrics]`: where Prometheus scrapes weir.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Serve metrics at all.
    #[serde(default = "MetricsConfig::default_enabled")]
    pub enabled: bool,
    /// Listen address; loopback by default so nothing is exposed unless asked for.
    #[serde(default = "MetricsConfig::default_address")]
    pub address: SocketAddr,
}

impl MetricsConfig {
    fn default_enabled() -> bool {
        true
    }
    fn default_address() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9464))
    }
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: Self::default_enabled(),
            address: Self::default_address(),
        }
    }
}

/// Everything the metrics endpoint reports.
#[derive(Clone)]
pub struct Sources {
    /// Pipeline counters.
    pub pipeline: Arc<PipelineStats>,
    /// Cassandra sink counters, when that sink is used.
    pub cassandra: Option<Arc<weir_cassandra::SinkMetrics>>,
    /// Kafka source counters, when that source is used.
    pub kafka: Option<Arc<weir_kafka::SourceStats>>,
}

/// Binds and serves until the process ends. A bind failure is logged, not fatal: metrics
/// must never stop a pipeline.
pub async fn serve(config: MetricsConfig, sources: Sources) {
    if !config.enabled {
        return;
    }
    let listener = match TcpListener::bind(config.address).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(address = %config.address, error = %e, "Cannot serve metrics (set metrics.address or metrics.enabled = false)");
            return;
        }
    };
    tracing::info!(address = %config.address, "Serving Prometheus metrics at /metrics");
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let sources = sources.clone();
        tokio::spawn(async move {
            let mut request = [0u8; 1024];
            let n = stream.read(&mut request).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..n]);
            let (status, body) = if head.starts_with("GET /metrics") {
                ("200 OK", render(&sources))
            } else {
                ("404 Not Found", "try /metrics\n".to_owned())
            };
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
        });
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
    );
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
    );
}

/// Renders the text exposition format.
pub fn render(sources: &Sources) -> String {
    let p = &sources.pipeline;
    let get = PipelineStats::get;
    let mut out = String::new();
    counter(
        &mut out,
        "weir_events_in_total",
        "Events read from the source.",
        get(&p.events_in),
    );
    counter(
        &mut out,
        "weir_events_out_total",
        "Events written to the sink.",
        get(&p.events_out),
    );
    counter(
        &mut out,
        "weir_events_dead_lettered_total",
        "Source events sent to the dead-letter destination.",
        get(&p.dead_lettered),
    );
    counter(
        &mut out,
        "weir_events_acknowledged_total",
        "Source events acknowledged (written or dead-lettered).",
        get(&p.acknowledged),
    );
    counter(
        &mut out,
        "weir_batches_total",
        "Batches completed.",
        get(&p.batches),
    );
    let _ = writeln!(
        out,
        "# HELP weir_plugin_seconds_total Time spent in the plugin chain.\n# TYPE weir_plugin_seconds_total counter\nweir_plugin_seconds_total {}",
        get(&p.transform_nanos) as f64 / 1e9
    );
    let _ = writeln!(
        out,
        "# HELP weir_sink_seconds_total Time spent waiting for the sink.\n# TYPE weir_sink_seconds_total counter\nweir_sink_seconds_total {}",
        get(&p.sink_nanos) as f64 / 1e9
    );
    let _ = writeln!(
        out,
        "# HELP weir_events_failed_total Dead-lettered events by stage and error class.\n# TYPE weir_events_failed_total counter"
    );
    for (stage, class, n) in p.failures() {
        let _ = writeln!(
            out,
            "weir_events_failed_total{{stage=\"{}\",class=\"{class}\"}} {n}",
            label(&stage)
        );
    }
    event_latency(&mut out, &p.event_latency.snapshot());
    if let Some(c) = &sources.cassandra {
        let s = c.snapshot();
        counter(
            &mut out,
            "weir_sink_writes_total",
            "Rows acknowledged by Cassandra.",
            s.writes,
        );
        counter(
            &mut out,
            "weir_sink_retries_total",
            "Cassandra write attempts repeated.",
            s.retries,
        );
        counter(
            &mut out,
            "weir_sink_rejected_total",
            "Events Cassandra refused for good.",
            s.rejected,
        );
        counter(
            &mut out,
            "weir_sink_retries_exhausted_total",
            "Events that ran out of retry budget.",
            s.retries_exhausted,
        );
        let _ = writeln!(
            out,
            "# HELP weir_sink_write_seconds Cassandra write latency.\n# TYPE weir_sink_write_seconds histogram"
        );
        let mut cumulative = 0;
        for (i, n) in s.latency_buckets.iter().enumerate() {
            cumulative += n;
            let le = weir_cassandra::LATENCY_BUCKETS_SECONDS
                .get(i)
                .map_or("+Inf".to_owned(), |b| b.to_string());
            let _ = writeln!(
                out,
                "weir_sink_write_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "weir_sink_write_seconds_sum {}\nweir_sink_write_seconds_count {cumulative}",
            s.latency_sum_micros as f64 / 1e6
        );
    }
    if let Some(k) = &sources.kafka {
        use std::sync::atomic::Ordering::Relaxed;
        counter(
            &mut out,
            "weir_kafka_received_total",
            "Records received from Kafka.",
            k.received.load(Relaxed),
        );
        gauge(
            &mut out,
            "weir_kafka_buffered",
            "Records waiting in the consumer buffer.",
            k.buffered.load(Relaxed),
        );
        counter(
            &mut out,
            "weir_kafka_pauses_total",
            "Times partitions were paused for backpressure.",
            k.pauses.load(Relaxed),
        );
        counter(
            &mut out,
            "weir_kafka_commits_total",
            "Successful offset commits.",
            k.commits.load(Relaxed),
        );
        counter(
            &mut out,
            "weir_kafka_commit_failures_total",
            "Failed offset commits.",
            k.commit_failures.load(Relaxed),
        );
        let lag = k.lag();
        if !lag.is_empty() {
            out += "# HELP weir_kafka_consumer_lag Records between the last commit and the end of the partition.\n# TYPE weir_kafka_consumer_lag gauge\n";
            for (topic, partition, records) in lag {
                out += &format!(
                    "weir_kafka_consumer_lag{{topic=\"{}\",partition=\"{partition}\"}} {records}\n",
                    label(&topic)
                );
            }
        }
    }
    out
}

/// `weir_event_latency_seconds`: record timestamp to sink acknowledgement, per source event.
fn event_latency(out: &mut String, s: &weir_core::LatencySnapshot) {
    let _ = writeln!(
        out,
        "# HELP weir_event_latency_seconds Time from an event's record timestamp to the sink's acknowledgement.\n# TYPE weir_event_latency_seconds histogram"
    );
    let mut cumulative = 0;
    for (i, n) in s.buckets.iter().enumerate() {
        cumulative += n;
        let le = weir_core::LATENCY_BUCKETS_MS
            .get(i)
            .map_or("+Inf".to_owned(), |ms| (*ms as f64 / 1e3).to_string());
        let _ = writeln!(
            out,
            "weir_event_latency_seconds_bucket{{le=\"{le}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "weir_event_latency_seconds_sum {}\nweir_event_latency_seconds_count {cumulative}",
        s.sum_ms as f64 / 1e3
    );
}

/// Escapes a Prometheus label value.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
