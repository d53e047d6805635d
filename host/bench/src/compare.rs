//! `weir-bench compare`: two saved runs side by side, with regressions beyond a tolerance
//! flagged.

use crate::report::{Better, Metric, Saved, grouped};
use std::fmt;

/// A relative tolerance, e.g. 10% = 0.10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance(pub f64);

impl Tolerance {
    /// Parses `10%`, `10` (both percent) or `2.5%`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let number = text.trim().trim_end_matches('%').trim();
        match number.parse::<f64>() {
            Ok(p) if p.is_finite() && p >= 0.0 => Ok(Self(p / 100.0)),
            _ => Err(format!(
                "`{text}` is not a tolerance; write a percentage such as 10% or 2.5%"
            )),
        }
    }
}

/// What became of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within tolerance.
    Same,
    /// Better by more than the tolerance.
    Improved,
    /// Worse by more than the tolerance.
    Regressed,
    /// In the old run only (renamed or dropped figure).
    Gone,
    /// In the new run only.
    New,
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The metric's key.
    pub key: String,
    /// Old value, if present.
    pub old: Option<f64>,
    /// New value, if present.
    pub new: Option<f64>,
    /// Unit of the figure.
    pub unit: String,
    /// Verdict under the tolerance.
    pub verdict: Verdict,
}

impl Change {
    /// Relative change new vs old, signed (+ = larger), when both exist and old is non-zero.
    pub fn relative(&self) -> Option<f64> {
        match (self.old, self.new) {
            (Some(old), Some(new)) if old != 0.0 => Some((new - old) / old.abs()),
            _ => None,
        }
    }
}

/// Every figure of either run, in key order.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The rows.
    pub changes: Vec<Change>,
    /// The tolerance applied.
    pub tolerance: Tolerance,
}

impl Comparison {
    /// Number of figures that got worse by more than the tolerance.
    pub fn regressions(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.verdict == Verdict::Regressed)
            .count()
    }
}

fn judge(old: &Metric, new: &Metric, tolerance: Tolerance) -> Verdict {
    if old.value == 0.0 {
        return Verdict::Same;
    }
    let relative = (new.value - old.value) / old.value.abs();
    // Positive `gain` is an improvement whichever way the metric points.
    let gain = match old.better {
        Better::Higher => relative,
        Better::Lower => -relative,
    };
    if gain < -tolerance.0 {
        Verdict::Regressed
    } else if gain > tolerance.0 {
        Verdict::Improved
    } else {
        Verdict::Same
    }
}

/// Compares two saved runs figure by figure. The direction of improvement is the old run's.
pub fn compare(old: &Saved, new: &Saved, tolerance: Tolerance) -> Comparison {
    let mut changes: Vec<Change> = old
        .metrics
        .iter()
        .map(|(key, o)| {
            let n = new.metrics.get(key);
            Change {
                key: key.clone(),
                old: Some(o.value),
                new: n.map(|n| n.value),
                unit: o.unit.clone(),
                verdict: n.map_or(Verdict::Gone, |n| judge(o, n, tolerance)),
            }
        })
        .collect();
    changes.extend(
        new.metrics
            .iter()
            .filter(|(key, _)| !old.metrics.contains_key(*key))
            .map(|(key, n)| Change {
                key: key.clone(),
                old: None,
                new: Some(n.value),
                unit: n.unit.clone(),
                verdict: Verdict::New,
            }),
    );
    changes.sort_by(|a, b| a.key.cmp(&b.key));
    Comparison { changes, tolerance }
}

fn figure(value: Option<f64>) -> String {
    match value {
        None => "-".into(),
        Some(v) if v.abs() >= 1000.0 => grouped(v),
        Some(v) => format!("{v:.3}"),
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<40} {:>14} {:>14} {:>9}  {:<9} verdict (tolerance {:.1}%)",
            "metric",
            "old",
            "new",
            "change",
            "unit",
            self.tolerance.0 * 100.0
        )?;
        for c in &self.changes {
            let change = c
                .relative()
                .map_or_else(|| "-".into(), |r| format!("{:+.1}%", r * 100.0));
            let verdict = match c.verdict {
                Verdict::Same => "ok",
                Verdict::Improved => "better",
                Verdict::Regressed => "REGRESSION",
                Verdict::Gone => "missing in new run",
                Verdict::New => "new",
            };
            writeln!(
                f,
                "{:<40} {:>14} {:>14} {:>9}  {:<9} {verdict}",
                c.key,
                figure(c.old),
                figure(c.new),
                change,
                c.unit
            )?;
        }
        match self.regressions() {
            0 => writeln!(f, "no regressions"),
            n => writeln!(f, "{n} regression(s) beyond the tolerance"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FORMAT;
    use std::collections::BTreeMap;

    fn saved(metrics: &[(&str, f64, Better)]) -> Saved {
        Saved {
            format: FORMAT.into(),
            events: 20_480,
            quick: false,
            metrics: metrics
                .iter()
                .map(|(key, value, better)| {
                    (
                        (*key).to_owned(),
                        Metric {
                            value: *value,
                            unit: "u".into(),
                            better: *better,
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn verdict_of(comparison: &Comparison, key: &str) -> Verdict {
        comparison
            .changes
            .iter()
            .find(|c| c.key == key)
            .map(|c| c.verdict)
            .expect("key compared")
    }

    #[test]
    fn a_drop_in_throughput_or_a_rise_in_cost_beyond_tolerance_is_a_regression() {
        let old = saved(&[
            ("rate", 1000.0, Better::Higher),
            ("cost", 100.0, Better::Lower),
            ("steady", 50.0, Better::Lower),
        ]);
        let new = saved(&[
            ("rate", 880.0, Better::Higher),
            ("cost", 111.0, Better::Lower),
            ("steady", 54.0, Better::Lower),
        ]);
        let comparison = compare(&old, &new, Tolerance(0.10));
        assert_eq!(verdict_of(&comparison, "rate"), Verdict::Regressed);
        assert_eq!(verdict_of(&comparison, "cost"), Verdict::Regressed);
        assert_eq!(verdict_of(&comparison, "steady"), Verdict::Same);
        assert_eq!(comparison.regressions(), 2);
    }

    #[test]
    fn improvements_and_renamed_figures_are_reported_but_not_regressions() {
        let old = saved(&[
            ("rate", 1000.0, Better::Higher),
            ("cost", 100.0, Better::Lower),
            ("dropped", 1.0, Better::Lower),
        ]);
        let new = saved(&[
            ("rate", 1500.0, Better::Higher),
            ("cost", 50.0, Better::Lower),
            ("added", 1.0, Better::Lower),
        ]);
        let comparison = compare(&old, &new, Tolerance(0.10));
        assert_eq!(verdict_of(&comparison, "rate"), Verdict::Improved);
        assert_eq!(verdict_of(&comparison, "cost"), Verdict::Improved);
        assert_eq!(verdict_of(&comparison, "dropped"), Verdict::Gone);
        assert_eq!(verdict_of(&comparison, "added"), Verdict::New);
        assert_eq!(comparison.regressions(), 0);
    }

    #[test]
    fn tolerance_reads_percentages_with_or_without_the_sign() {
        assert_eq!(Tolerance::parse("10%"), Ok(Tolerance(0.10)));
        assert_eq!(Tolerance::parse("2.5"), Ok(Tolerance(0.025)));
        assert!(Tolerance::parse("ten").is_err());
        assert!(Tolerance::parse("-5%").is_err());
    }
}
