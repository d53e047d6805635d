//! Reading a running `weir`: its Prometheus text at `/metrics`, and CPU time from `/proc`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// `GET /metrics` from a `weir` serving metrics at `addr`.
pub fn metrics(addr: SocketAddr) -> Result<String, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))
        .map_err(|e| format!("cannot connect to weir's metrics at {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: weir\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("cannot ask {addr} for metrics: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("cannot read metrics from {addr}: {e}"))?;
    match response.split_once("\r\n\r\n") {
        Some((_, body)) => Ok(body.to_owned()),
        None => Err(format!("{addr} answered without a body")),
    }
}

/// The value of an unlabelled sample `name` in exposition text.
pub fn value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
}

/// The cumulative buckets `(le, count)` of histogram `name`, in order; `+Inf` is infinite.
pub fn buckets(text: &str, name: &str) -> Vec<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    text.lines()
        .filter_map(|line| {
            let (le, count) = line.strip_prefix(&prefix)?.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect()
}

/// `later - earlier`, bucket by bucket: the observations made between two scrapes.
pub fn bucket_difference(later: &[(f64, f64)], earlier: &[(f64, f64)]) -> Vec<(f64, f64)> {
    later
        .iter()
        .map(|&(le, count)| {
            let before = earlier
                .iter()
                .find(|(l, _)| *l == le)
                .map_or(0.0, |(_, c)| *c);
            (le, count - before)
        })
        .collect()
}

/// The `q` quantile of cumulative buckets, interpolated linearly inside its bucket (as
/// Prometheus' `histogram_quantile` does); `None` without observations. In the `+Inf` bucket
/// the answer is the last finite bound: "at least this".
pub fn quantile(buckets: &[(f64, f64)], q: f64) -> Option<f64> {
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower = (0.0, 0.0);
    for &(le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let width = count - lower.1;
            let into = if width > 0.0 {
                (rank - lower.1) / width
            } else {
                0.0
            };
            return Some(lower.0 + (le - lower.0) * into);
        }
        lower = (le, count);
    }
    Some(lower.0)
}

/// User + system CPU time of process `pid` (all its threads, and the final figure of a
/// zombie not yet reaped), from `/proc/PID/stat`.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // /proc reports in USER_HZ, which Linux fixes at 100 on every architecture weir targets.
    Some(Duration::from_millis(ticks * 10))
}

/// Busy and total jiffies of the whole machine, from the first line of `/proc/stat`.
pub fn machine_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE weir_events_acknowledged_total counter\n\
        weir_events_acknowledged_total 1200\n\
        weir_event_latency_seconds_bucket{le=\"0.01\"} 100\n\
        weir_event_latency_seconds_bucket{le=\"0.02\"} 900\n\
        weir_event_latency_seconds_bucket{le=\"0.05\"} 1000\n\
        weir_event_latency_seconds_bucket{le=\"+Inf\"} 1000\n";

    #[test]
    fn values_and_buckets_are_read_by_name() {
        assert_eq!(value(TEXT, "weir_events_acknowledged_total"), Some(1200.0));
        assert_eq!(value(TEXT, "weir_events_acknowledged"), None);
        let b = buckets(TEXT, "weir_event_latency_seconds");
        assert_eq!(b.len(), 4);
        assert!(b[3].0.is_infinite());
    }

    #[test]
    fn quantiles_interpolate_inside_their_bucket() {
        let b = buckets(TEXT, "weir_event_latency_seconds");
        let p50 = quantile(&b, 0.5).expect("observations");
        assert!((p50 - 0.015).abs() < 1e-9, "{p50}");
        let p99 = quantile(&b, 0.99).expect("observations");
        assert!((p99 - 0.047).abs() < 1e-9, "{p99}");
        let none = bucket_difference(&b, &b);
        assert_eq!(quantile(&none, 0.5), None);
    }
}
