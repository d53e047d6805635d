//! What an operator sees while a pipeline runs: a periodic status line, signal handling and
//! the final summary.

use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::PipelineStats;

const STATUS_EVERY: Duration = Duration::from_secs(5);

/// First SIGINT/SIGTERM: drain and commit. Second: exit at once.
pub async fn on_signals(stop: impl Fn()) {
    let mut count = 0;
    loop {
        weir_core::termination_signal().await;
        count += 1;
        if count == 1 {
            tracing::info!(
                "Signal received: draining in-flight events and committing (again to exit at once)"
            );
            stop();
        } else {
            tracing::warn!(
                "Second signal: exiting without draining; uncommitted events will be read again"
            );
            std::process::exit(130);
        }
    }
}

/// Logs throughput, consumer lag (Kafka sources) and failures every few seconds.
pub async fn status_line(stats: Arc<PipelineStats>, kafka: Option<Arc<weir_kafka::SourceStats>>) {
    let started = Instant::now();
    let mut last = 0;
    let mut ticker = tokio::time::interval(STATUS_EVERY);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let done = PipelineStats::get(&stats.acknowledged);
        let rate = (done - last) as f64 / STATUS_EVERY.as_secs_f64();
        last = done;
        tracing::info!(
            read = PipelineStats::get(&stats.events_in),
            written = PipelineStats::get(&stats.events_out),
            dead_lettered = PipelineStats::get(&stats.dead_lettered),
            rate = format!("{rate:.0}/s"),
            lag = kafka.as_ref().map(|k| k.total_lag()),
            uptime = ?Duration::from_secs(started.elapsed().as_secs()),
            "Progress"
        );
    }
}

/// Prints the final summary on standard error.
pub fn summary(stats: &PipelineStats, elapsed: Duration) {
    let read = PipelineStats::get(&stats.events_in);
    let secs = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "weir: {read} events in, {} out, {} failed (dead-lettered), {:.2}s, {:.0} events/s",
        PipelineStats::get(&stats.events_out),
        PipelineStats::get(&stats.dead_lettered),
        secs,
        read as f64 / secs
    );
}
