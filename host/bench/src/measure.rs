//! Clocks and process counters: wall time, CPU time, peak memory, and the median of
//! repeated runs.

use rustix::time::{ClockId, clock_gettime};
use std::time::{Duration, Instant};

/// How many times each measurement runs.
#[derive(Debug, Clone, Copy)]
pub struct Repetitions {
    /// Untimed runs first, to fill caches, grow the guest's memory and settle the allocator.
    pub warmup: usize,
    /// Timed runs; the median is reported.
    pub timed: usize,
}

/// Which clock a measurement reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Elapsed real time: for work that uses several threads (compilation, the pipeline).
    Wall,
    /// CPU time of the calling thread: for single-threaded work, so that other processes
    /// competing for the cores do not count against it.
    ThreadCpu,
}

impl Clock {
    /// The current reading; only differences between readings mean anything.
    pub fn now(self) -> Duration {
        match self {
            Clock::Wall => START.elapsed(),
            Clock::ThreadCpu => cpu_time(ClockId::ThreadCPUTime),
        }
    }
}

static START: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// Runs `run` `warmup` times untimed, then `timed` times, and returns the median time on
/// `clock`.
pub fn median_time(clock: Clock, reps: Repetitions, mut run: impl FnMut()) -> Duration {
    median_time_with(clock, reps, || (), |&()| run())
}

/// Like [`median_time`], with an untimed `setup` before every run whose result the run
/// reads: fresh input, as a source would deliver it. The input is dropped after the clock
/// stops: freeing the source's events is the source's cost, not the measured stage's.
pub fn median_time_with<S>(
    clock: Clock,
    reps: Repetitions,
    mut setup: impl FnMut() -> S,
    mut run: impl FnMut(&S),
) -> Duration {
    for _ in 0..reps.warmup {
        run(&setup());
    }
    let samples: Vec<Duration> = (0..reps.timed.max(1))
        .map(|_| {
            let input = setup();
            let started = clock.now();
            run(&input);
            let elapsed = clock.now().saturating_sub(started);
            drop(input);
            elapsed
        })
        .collect();
    median(samples)
}

/// The median (the lower middle one for an even count); zero for no samples.
pub fn median<T: Ord + Copy + Default>(mut samples: Vec<T>) -> T {
    samples.sort_unstable();
    match samples.len() {
        0 => T::default(),
        n => samples[(n - 1) / 2],
    }
}

/// CPU time used so far by every thread of this process.
pub fn process_cpu_time() -> Duration {
    cpu_time(ClockId::ProcessCPUTime)
}

fn cpu_time(id: ClockId) -> Duration {
    let t = clock_gettime(id);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// The process's peak resident set size in bytes (`VmHWM` of `/proc/self/status`), if the
/// platform reports it.
pub fn peak_rss_bytes() -> Option<u64> {
    weir_peers::status_kib(None, "VmHWM").map(|kib| kib * 1024)
}

/// Events per second for `events` processed in `elapsed`.
pub fn rate(events: usize, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-12)
}

/// Nanoseconds per event for `events` processed in `elapsed`.
pub fn ns_per_event(events: usize, elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1e9 / events.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_takes_the_middle_sample_in_order() {
        assert_eq!(median(vec![5, 1, 3]), 3);
        assert_eq!(median(vec![4, 1, 3, 2]), 2);
        assert_eq!(median(Vec::<u32>::new()), 0);
    }
}
