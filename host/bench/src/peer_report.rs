//! Sections 4 and 5 in the table and in the saved JSON.

use crate::peer_paths::{DrainedRun, PeerResults};
use crate::report::{Better, grouped};
use std::fmt;

/// Most weir CPU per event on the full path, as a multiple of the host pipeline's (#15).
pub const TARGET_FULL_PATH_CPU_RATIO: f64 = 2.0;

/// Puts the figures of sections 4 and 5 under their stable keys.
pub fn save(
    results: &PeerResults,
    pipeline_cpu_ns: f64,
    put: &mut impl FnMut(String, f64, &str, Better),
) {
    for (prefix, run) in [
        ("kafka_in", &results.kafka_in),
        ("full_path", &results.full_path),
    ] {
        put(
            format!("{prefix}.events_per_s"),
            run.events_per_s,
            "events/s",
            Better::Higher,
        );
        put(
            format!("{prefix}.cpu_ns_per_event"),
            run.cpu_ns_per_event,
            "ns/event",
            Better::Lower,
        );
    }
    put(
        "full_path.cpu_over_pipeline".into(),
        results.full_path.cpu_ns_per_event / pipeline_cpu_ns.max(f64::MIN_POSITIVE),
        "ratio",
        Better::Lower,
    );
    put(
        "full_path.latency_p50_ms".into(),
        results.latency.p50_ms,
        "ms",
        Better::Lower,
    );
    put(
        "full_path.latency_p99_ms".into(),
        results.latency.p99_ms,
        "ms",
        Better::Lower,
    );
}

/// Writes sections 4 and 5, or why they were not measured.
pub fn write(
    f: &mut fmt::Formatter<'_>,
    results: Option<&Result<PeerResults, String>>,
    pipeline_cpu_ns: f64,
) -> fmt::Result {
    let r = match results {
        None => {
            return writeln!(
                f,
                "4./5. Kafka in and the full path: not measured (run with --with-peers, or --kafka and --cassandra)"
            );
        }
        Some(Err(why)) => {
            return writeln!(f, "4./5. Kafka in and the full path: not measured: {why}");
        }
        Some(Ok(r)) => r,
    };
    writeln!(
        f,
        "4. Kafka in: {} synthetic users, 4 partitions -> `weir run --until-drained` -> enricher -> null sink (topic filled by weir ingest at {} events/s)",
        grouped(r.events as f64),
        grouped(r.produce_events_per_s)
    )?;
    write_run(f, &r.kafka_in)?;
    writeln!(f, "   bounded by: {}", bound(&r.kafka_in))?;
    writeln!(f)?;
    let ratio = r.full_path.cpu_ns_per_event / pipeline_cpu_ns.max(f64::MIN_POSITIVE);
    writeln!(
        f,
        "5. Full path: the same topic -> enricher -> Cassandra (fresh keyspace, consistency one)"
    )?;
    write_run(f, &r.full_path)?;
    writeln!(
        f,
        "   weir CPU per event {:.1}x section 3's {:.0} ns; target within {:.0}x: {}",
        ratio,
        pipeline_cpu_ns,
        TARGET_FULL_PATH_CPU_RATIO,
        if ratio <= TARGET_FULL_PATH_CPU_RATIO {
            "met"
        } else {
            "MISSED"
        }
    )?;
    writeln!(f, "   bounded by: {}", bound(&r.full_path))?;
    let write = r.latency.mean_write_ms.map_or_else(String::new, |ms| {
        format!(" (mean Cassandra write meanwhile {ms:.2} ms)")
    });
    writeln!(
        f,
        "   latency, Kafka record timestamp -> sink acknowledgement, {} events produced at {} events/s while weir ran: p50 {:.1} ms, p99 {:.1} ms{write}",
        grouped(r.latency.events as f64),
        grouped(r.latency.rate),
        r.latency.p50_ms,
        r.latency.p99_ms
    )
}

fn write_run(f: &mut fmt::Formatter<'_>, run: &DrainedRun) -> fmt::Result {
    writeln!(
        f,
        "   {} events/s wall; weir CPU {:.0} ns per event (user+sys, {:.0} ns over its whole life incl. start-up)",
        grouped(run.events_per_s),
        run.cpu_ns_per_event,
        run.total_cpu_ns_per_event
    )?;
    let cassandra = run
        .cassandra_cores
        .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}"));
    let machine = run
        .machine_cores
        .map_or_else(|| "-".to_owned(), |c| format!("{c:.2}"));
    let write = run.mean_write_ms.map_or_else(String::new, |ms| {
        format!("; mean Cassandra write {ms:.2} ms")
    });
    writeln!(
        f,
        "   cores busy meanwhile: weir {:.2}, Cassandra JVM {cassandra}, whole machine {machine} of {}; weir's write stage waited on the sink {:.0}% of the time{write}",
        run.weir_cores,
        cores(),
        run.sink_wait_fraction * 100.0
    )
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Which component bounds the throughput, from the evidence in `run`.
fn bound(run: &DrainedRun) -> String {
    let cores = cores() as f64;
    let saturated = run.machine_cores.is_some_and(|m| m >= 0.9 * cores);
    let cassandra = run.cassandra_cores.unwrap_or(0.0);
    let others = run
        .machine_cores
        .map_or(0.0, |m| (m - run.weir_cores - cassandra).max(0.0));
    let biggest = if cassandra >= run.weir_cores && cassandra >= others {
        "the Cassandra JVM"
    } else if run.weir_cores >= others {
        "weir"
    } else {
        "other processes (Kafka, whatever else runs)"
    };
    if saturated {
        format!(
            "the machine's CPU: all {cores:.0} cores busy, the largest share ({:.2} cores) taken by {biggest}; weir {:.2}, other processes {others:.2}",
            run.weir_cores.max(cassandra).max(others),
            run.weir_cores
        )
    } else if run.sink_wait_fraction >= 0.8 {
        format!(
            "Cassandra's write latency: weir's write stage waited on it {:.0}% of the time while the cores were not saturated",
            run.sink_wait_fraction * 100.0
        )
    } else {
        format!(
            "not clear-cut: cores not saturated and the sink waited on {:.0}% of the time; the largest CPU user is {biggest}",
            run.sink_wait_fraction * 100.0
        )
    }
}
