//! The faults: what each one breaks and when, while users stream in.

use crate::lab::{Lab, WeirProcess};
use crate::{Outcome, tally, traffic};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use weir_test_support::{CqlError, CqlFault};

/// How long users are produced while a fault runs (at the matrix's rate).
const STREAM_SECONDS: u64 = 20;
/// How long the pipeline gets to finish once the fault is over.
const DRAIN_DEADLINE: Duration = Duration::from_secs(300);

/// One way the world breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// weir SIGKILLed at a random point while it processes, 10 rounds, restarted each time.
    WeirKill,
    /// The Kafka broker SIGKILLed mid-stream, restarted on its data.
    KafkaKill,
    /// Cassandra unreachable: connections refused and open ones dropped, for 10 s.
    CassandraUnreachable,
    /// Cassandra slow: 200 ms added to every frame each way, for 10 s.
    CassandraSlow,
    /// Cassandra answering 30% of writes `Overloaded`, for 7 s.
    Overloaded,
    /// Cassandra answering 30% of writes `WriteTimeout`, for 7 s.
    WriteTimeout,
    /// Cassandra answering 30% of writes `Unavailable`, for 7 s.
    Unavailable,
    /// Cassandra frozen with SIGSTOP for 10 s, then thawed.
    CassandraFrozen,
    /// Cassandra SIGKILLed mid-stream, restarted on its data.
    CassandraKill,
    /// A second weir joins the group mid-stream, then leaves.
    Rebalance,
    /// A third of all events invalid, all already in the topic: weir at full speed.
    PoisonHeavy,
}

impl Fault {
    /// Every fault, in the order of the table.
    pub const ALL: [Fault; 11] = [
        Fault::WeirKill,
        Fault::KafkaKill,
        Fault::CassandraUnreachable,
        Fault::CassandraSlow,
        Fault::Overloaded,
        Fault::WriteTimeout,
        Fault::Unavailable,
        Fault::CassandraFrozen,
        Fault::CassandraKill,
        Fault::Rebalance,
        Fault::PoisonHeavy,
    ];

    /// Short name (topic and keyspace names, `--faults`).
    pub fn name(self) -> &'static str {
        match self {
            Fault::WeirKill => "weir-kill",
            Fault::KafkaKill => "kafka-kill",
            Fault::CassandraUnreachable => "cassandra-unreachable",
            Fault::CassandraSlow => "cassandra-slow",
            Fault::Overloaded => "overloaded",
            Fault::WriteTimeout => "write-timeout",
            Fault::Unavailable => "unavailable",
            Fault::CassandraFrozen => "cassandra-frozen",
            Fault::CassandraKill => "cassandra-kill",
            Fault::Rebalance => "rebalance",
            Fault::PoisonHeavy => "poison-heavy",
        }
    }

    /// What is done, for the table.
    pub fn what(self) -> &'static str {
        match self {
            Fault::WeirKill => {
                "weir `kill -9` at a random point while it processes, 10 rounds, restarted each time"
            }
            Fault::KafkaKill => {
                "Kafka broker `kill -9` mid-stream, restarted 5 s later on its data"
            }
            Fault::CassandraUnreachable => {
                "Cassandra unreachable for 10 s (connections refused, open ones dropped)"
            }
            Fault::CassandraSlow => "Cassandra slow for 10 s (+200 ms per frame each way)",
            Fault::Overloaded => "Cassandra answers 30% of writes `Overloaded` for 7 s",
            Fault::WriteTimeout => "Cassandra answers 30% of writes `WriteTimeout` for 7 s",
            Fault::Unavailable => "Cassandra answers 30% of writes `Unavailable` for 7 s",
            Fault::CassandraFrozen => "Cassandra frozen (`SIGSTOP`) for 10 s, then thawed",
            Fault::CassandraKill => "Cassandra `kill -9` mid-stream, restarted on its data",
            Fault::Rebalance => "a second weir joins the group mid-stream, then leaves",
            Fault::PoisonHeavy => "a third of all events invalid, weir at full speed",
        }
    }
}

/// Runs one fault on a fresh stream and counts what became of every event.
pub async fn run(lab: &mut Lab, fault: Fault, progress: &impl Fn(&str)) -> anyhow::Result<Outcome> {
    let index = Fault::ALL.iter().position(|f| *f == fault).unwrap_or(0);
    let stream = lab.stream(fault.name()).await?;
    let tag = format!("{:08x}-{:04x}", lab.run, index);
    let count = lab.rate as usize * STREAM_SECONDS as usize;
    let started = Instant::now();
    let writes_before = lab.proxy.forwarded_writes();
    let mut peak = 0u64;

    let (sent, mut weir) = if fault == Fault::PoisonHeavy {
        // Everything is in the topic before weir starts, so it runs as fast as it can.
        let events = traffic::events(&tag, count, Some(3));
        let sent = traffic::produce(lab.kafka.clone(), stream.topic.clone(), events, None).await?;
        (sent, lab.start_weir(&stream, "weir")?)
    } else {
        let mut weir = lab.start_weir(&stream, "weir")?;
        weir.started().await?;
        let events = traffic::events(&tag, count, None);
        // The kill rounds take about 80 s: the same events, spread over them.
        let rate = if fault == Fault::WeirKill {
            (lab.rate / 4).max(1)
        } else {
            lab.rate
        };
        let producer = tokio::spawn(traffic::produce(
            lab.kafka.clone(),
            stream.topic.clone(),
            events,
            Some(rate),
        ));
        inject(lab, fault, &stream, &mut weir, &mut peak, progress).await?;
        (producer.await??, weir)
    };

    // Finished once the group has committed every record: commits follow acknowledged
    // writes, so this is also "everything is in Cassandra or in the dead-letter topic".
    let deadline = Instant::now() + DRAIN_DEADLINE;
    let drained = loop {
        if let Some(crash) = weir.crashed() {
            anyhow::bail!("{}: {crash}", fault.name());
        }
        peak = peak.max(weir.peak_bytes());
        match tally::uncommitted(&lab.kafka, &stream.group, &stream.topic).await {
            Ok(0) => break true,
            Ok(_) | Err(_) if Instant::now() < deadline => {}
            Ok(left) => {
                progress(&format!(
                    "{}: {left} records still uncommitted",
                    fault.name()
                ));
                break false;
            }
            Err(e) => {
                progress(&format!(
                    "{}: cannot read the group's progress: {e}",
                    fault.name()
                ));
                break false;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    peak = peak.max(weir.stop()?);
    let writes = lab.proxy.forwarded_writes() - writes_before;

    let rows = tally::rows(&lab.cassandra, &stream.keyspace).await?;
    let dead = tally::dead_letter_keys(&lab.kafka, &stream.dlq).await?;
    let valid_ids: HashSet<&str> = sent.valid.iter().map(|(id, _)| id.as_str()).collect();
    let lost = sent
        .valid
        .iter()
        .filter(|(id, _)| !rows.contains_key(id) && !dead.contains(id))
        .count()
        + sent.invalid.iter().filter(|k| !dead.contains(*k)).count();
    let wrong_rows = sent
        .valid
        .iter()
        .filter(|(id, user)| {
            rows.get(id)
                .is_some_and(|row| Some(row) != tally::expected_row(user).as_ref())
        })
        .count()
        + rows
            .keys()
            .filter(|id| !valid_ids.contains(id.as_str()))
            .count();
    let valid_dead_lettered = dead
        .iter()
        .filter(|k| valid_ids.contains(k.as_str()))
        .count();
    Ok(Outcome {
        fault: fault.name().to_owned(),
        what: fault.what().to_owned(),
        produced: sent.valid.len() + sent.invalid.len(),
        invalid: sent.invalid.len(),
        rows: rows.len(),
        dead_lettered: dead.len(),
        lost,
        wrong_rows,
        valid_dead_lettered,
        rewrites: writes.saturating_sub(rows.len() as u64),
        peak_rss_bytes: peak,
        drained,
        seconds: started.elapsed().as_secs_f64(),
    })
}

async fn sleep_s(seconds: f64) {
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
}

/// Breaks what `fault` breaks, on its timeline, then mends it.
async fn inject(
    lab: &mut Lab,
    fault: Fault,
    stream: &crate::lab::Stream,
    weir: &mut WeirProcess,
    peak: &mut u64,
    progress: &impl Fn(&str),
) -> anyhow::Result<()> {
    let name = fault.name();
    let blocking = |f: &mut dyn FnMut() -> Result<(), weir_peers::Error>| {
        tokio::task::block_in_place(f).map_err(anyhow::Error::from)
    };
    match fault {
        Fault::WeirKill => {
            // Each process is killed while it processes: once it has its partitions (a killed
            // member's are only handed on after its session times out, 6 s here).
            for round in 1..=10 {
                weir.assigned().await?;
                sleep_s(0.2 + 1.8 * fastrand::f64()).await;
                *peak = (*peak).max(weir.kill9());
                progress(&format!("{name}: round {round}: weir killed, restarting"));
                *weir = lab.start_weir(stream, &format!("weir-{round}"))?;
            }
        }
        Fault::KafkaKill => {
            sleep_s(5.0).await;
            progress(&format!("{name}: broker killed"));
            blocking(&mut || lab.peers.kafka().kill9())?;
            sleep_s(5.0).await;
            blocking(&mut || lab.peers.kafka().start())?;
            progress(&format!("{name}: broker back"));
        }
        Fault::CassandraUnreachable => {
            sleep_s(3.0).await;
            lab.proxy.refuse_new(true);
            lab.proxy.drop_open();
            sleep_s(10.0).await;
            lab.proxy.refuse_new(false);
        }
        Fault::CassandraSlow => {
            sleep_s(3.0).await;
            lab.proxy.set_latency(Duration::from_millis(200));
            sleep_s(10.0).await;
            lab.proxy.set_latency(Duration::ZERO);
        }
        Fault::Overloaded | Fault::WriteTimeout | Fault::Unavailable => {
            let error = match fault {
                Fault::Overloaded => CqlError::Overloaded,
                Fault::WriteTimeout => CqlError::WriteTimeout,
                _ => CqlError::Unavailable,
            };
            sleep_s(3.0).await;
            let before = lab.proxy.injected();
            lab.proxy.inject(Some(CqlFault::Fraction {
                fraction: 0.3,
                error,
            }));
            sleep_s(7.0).await;
            lab.proxy.inject(None);
            let injected = lab.proxy.injected() - before;
            progress(&format!(
                "{name}: {injected} writes answered with {error:?}"
            ));
        }
        Fault::CassandraFrozen => {
            sleep_s(3.0).await;
            blocking(&mut || lab.peers.cassandra().freeze())?;
            sleep_s(10.0).await;
            blocking(&mut || lab.peers.cassandra().thaw())?;
        }
        Fault::CassandraKill => {
            sleep_s(3.0).await;
            progress(&format!("{name}: Cassandra killed"));
            blocking(&mut || lab.peers.cassandra().kill9())?;
            sleep_s(5.0).await;
            blocking(&mut || lab.peers.cassandra().start())?;
            progress(&format!("{name}: Cassandra back"));
        }
        Fault::Rebalance => {
            sleep_s(4.0).await;
            progress(&format!("{name}: a second weir joins"));
            let mut second = lab.start_weir(stream, "weir-2")?;
            sleep_s(8.0).await;
            progress(&format!("{name}: the second weir leaves"));
            *peak = (*peak).max(second.stop()?);
        }
        Fault::PoisonHeavy => {}
    }
    Ok(())
}
