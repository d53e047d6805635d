//! Hot plugin reload. A watcher notices that a plugin file changed (or receives SIGHUP),
//! loads the whole chain again (compile, contract check, `init`), and hands the new chain to
//! the transform stage, which swaps it in between two batches: a batch is always processed
//! by one version from start to end. A chain that fails to load is refused with its reason
//! and the running one carries on.

use crate::plugins;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, SystemTime};
use weir_core::{Event, EventResult, Transform};
use weir_runtime::{PluginChain, PluginEngine, PluginSpec};

/// How often plugin files are checked for changes.
const POLL_EVERY: Duration = Duration::from_secs(2);

/// The plugin chain as the pipeline sees it: the current chain, replaced at a batch
/// boundary when the watcher has loaded a new one.
pub struct ReloadableChain {
    current: PluginChain,
    updates: mpsc::Receiver<PluginChain>,
}

impl ReloadableChain {
    /// Wraps `chain`; without a watcher it never changes.
    pub fn new(chain: PluginChain) -> (Self, mpsc::Sender<PluginChain>) {
        let (sender, updates) = mpsc::channel();
        (
            Self {
                current: chain,
                updates,
            },
            sender,
        )
    }
}

impl Transform for ReloadableChain {
    fn transform(&mut self, batch: &[Event]) -> Vec<EventResult> {
        // The only place a swap happens: between two batches.
        while let Ok(next) = self.updates.try_recv() {
            self.current = next;
        }
        self.current.transform(batch)
    }
}

/// Each plugin's name and version, for comparing chains and logging what changed.
pub fn versions(chain: &PluginChain) -> Vec<(String, String)> {
    chain
        .plugins()
        .map(|p| (p.info().name.clone(), p.info().version.clone()))
        .collect()
}

/// The modification times of the plugins that live in files (built-ins never change).
fn stamps(specs: &[PluginSpec]) -> Vec<Option<SystemTime>> {
    specs
        .iter()
        .filter(|s| !s.path.starts_with("builtin:"))
        .map(|s| {
            std::fs::metadata(PathBuf::from(&s.path))
                .and_then(|m| m.modified())
                .ok()
        })
        .collect()
}

/// Watches the plugin files and SIGHUP until the process ends; sends every chain that
/// loaded and differs from the running one.
pub async fn watch(
    engine: PluginEngine,
    specs: Vec<PluginSpec>,
    mut current: Vec<(String, String)>,
    updates: mpsc::Sender<PluginChain>,
) {
    let mut seen = stamps(&specs);
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            tracing::warn!(error = %e, "Cannot listen for SIGHUP; plugin files are still watched");
            None
        }
    };
    let mut ticker = tokio::time::interval(POLL_EVERY);
    loop {
        let asked = tokio::select! {
            _ = ticker.tick() => false,
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => None } } => true,
        };
        let now = stamps(&specs);
        if !asked && now == seen {
            continue;
        }
        seen = now;
        let (engine, load_specs) = (engine.clone(), specs.clone());
        let loaded =
            tokio::task::spawn_blocking(move || plugins::load_chain(&engine, &load_specs)).await;
        let chain = match loaded {
            Ok(Ok(chain)) => chain,
            Ok(Err(e)) => {
                tracing::error!(
                    error = format!("{e:#}"),
                    running = ?current,
                    "Plugin reload refused; the running version stays"
                );
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "Plugin reload failed; the running version stays");
                continue;
            }
        };
        let next = versions(&chain);
        if next == current {
            tracing::debug!("Plugins unchanged; nothing to reload");
            continue;
        }
        for ((name, old), (_, new)) in current.iter().zip(&next).filter(|(a, b)| a != b) {
            tracing::info!(plugin = %name, from = %old, to = %new, "Plugin reloaded; the new version takes the next batch");
        }
        if updates.send(chain).is_err() {
            return; // The pipeline has ended.
        }
        current = next;
    }
}
