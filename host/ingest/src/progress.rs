//! What the operator sees while users are produced: a progress bar on a terminal, a log line
//! every few seconds otherwise (containers, CI, pipes).

use crate::run::Totals;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

const LOG_EVERY: Duration = Duration::from_secs(5);

/// Progress of one run.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    last_log: Instant,
}

impl Progress {
    /// A bar (of `total` users, or a spinner when open-ended) if stderr is a terminal.
    pub(crate) fn start(total: Option<u64>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = match total {
                Some(total) => ProgressBar::new(total),
                None => ProgressBar::new_spinner(),
            };
            let template = match total {
                Some(_) => {
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} users ({per_sec}) {msg}"
                }
                None => "{spinner} [{elapsed_precise}] {pos} users ({per_sec}) {msg}",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            last_log: Instant::now(),
        }
    }

    /// Shows `produced` users of this run, and the totals so far.
    pub(crate) fn update(&mut self, produced: u64, run: &Totals) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(produced);
                bar.set_message(format!(
                    "skipped {}, failed requests {}, retries {}",
                    run.skipped, run.requests.failed, run.requests.retries
                ));
            }
            None if self.last_log.elapsed() >= LOG_EVERY => {
                self.last_log = Instant::now();
                tracing::info!(
                    produced,
                    skipped = run.skipped,
                    failed_requests = run.requests.failed,
                    retries = run.requests.retries,
                    "Ingesting"
                );
            }
            None => {}
        }
    }

    /// Removes the bar; the caller logs the run's outcome.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
