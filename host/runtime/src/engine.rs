//! One wasmtime engine per process: compiles plugins (through an on-disk cache) and drives
//! the epoch clock that enforces time budgets.

use crate::error::PluginError;
use crate::instance::HostState;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine};

/// How often the epoch advances. Time budgets are rounded up to this granularity.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Engine-wide settings.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// Where compiled plugins are cached; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
}

/// The shared engine. Cheap to clone.
#[derive(Clone)]
pub struct PluginEngine {
    inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) cache_dir: Option<PathBuf>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for EngineInner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl PluginEngine {
    /// Creates the engine, its linker (WASI deny-by-default plus weir's log import) and the
    /// epoch ticker thread.
    pub fn new(options: EngineOptions) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        // weir calls plugins synchronously; async support triples the cost of every call.
        config.concurrency_support(false);
        // Epoch interruption enforces time budgets at a fraction of the cost of fuel.
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| PluginError::Engine(format!("{e:#}")))?;

        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| PluginError::Engine(format!("{e:#}")))?;
        crate::bindings::Transformer::add_to_linker::<HostState, HasSelf<HostState>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| PluginError::Engine(format!("{e:#}")))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.weak(), Arc::clone(&stop_ticker));
        Ok(Self {
            inner: Arc::new(EngineInner {
                engine,
                linker,
                cache_dir: options.cache_dir,
                stop_ticker,
            }),
        })
    }

    pub(crate) fn inner(&self) -> &EngineInner {
        &self.inner
    }

    /// The wasmtime engine, for tools that inspect components.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
}

fn spawn_epoch_ticker(engine: wasmtime::EngineWeak, stop: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("weir-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        });
    if let Err(e) = spawned {
        // Without the ticker a runaway plugin would never be stopped; say so loudly.
        tracing::error!(error = %e, "Cannot start the epoch thread: plugin time budgets will not be enforced");
    }
}
