//! One sandboxed plugin instance: its store (WASI context, limits) and its bindings.

use crate::bindings::{Batch, BatchResult, EventError, Level, Transformer, TransformerPre};
use crate::config::{Grants, PluginSpec};
use crate::engine::{EPOCH_TICK, PluginEngine};
use crate::error::PluginError;
use crate::plugin::PluginInfo;
use std::net::SocketAddr;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap};
use wasmtime_wasi::{
    FsPerms, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView,
};
use weir_core::ErrorClass;

/// What a plugin returns for one batch, as the contract defines it: packed outputs and
/// failures that refer to the input events by index. Not yet validated.
pub type PluginOutput = BatchResult;

/// One packed batch of input events, as the contract defines it.
pub type PluginBatch = Batch;

/// A call that did not complete: the instance is unusable afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFault {
    /// Trap, timeout or memory.
    pub class: ErrorClass,
    /// What happened, for the operator.
    pub message: String,
}

/// The data a store owns for one instance: the sandbox and the limits, nothing else.
pub struct HostState {
    plugin: String,
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryCap,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl crate::bindings::weir::transform::log::Host for HostState {
    fn write(&mut self, level: Level, message: String) {
        let plugin = self.plugin.as_str();
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}

impl crate::bindings::weir::transform::types::Host for HostState {}

/// Caps linear memory and remembers whether the cap was hit, so the fault can be named.
struct MemoryCap {
    limit: usize,
    exceeded: bool,
    /// Linear memory granted so far (wasmtime asks for the initial size too).
    size: usize,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = true;
            wasmtime::bail!(
                "memory cap of {} bytes exceeded (wanted {desired})",
                self.limit
            );
        }
        self.size = self.size.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million is far beyond any honest plugin.
        Ok(desired <= 1_000_000)
    }
}

/// A clock frozen at the Unix epoch: what a plugin sees unless granted the real clock.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A live instance of a plugin.
pub struct PluginInstance {
    store: Store<HostState>,
    bindings: Transformer,
    deadline_ticks: u64,
}

impl PluginInstance {
    pub(crate) fn new(
        engine: &PluginEngine,
        pre: &TransformerPre<HostState>,
        info: &PluginInfo,
        spec: &PluginSpec,
    ) -> Result<Self, PluginError> {
        let wasi = sandbox(&info.name, &spec.grants)?;
        let state = HostState {
            plugin: info.name.clone(),
            wasi,
            table: ResourceTable::new(),
            memory: MemoryCap {
                limit: usize::try_from(spec.limits.memory.0).unwrap_or(usize::MAX),
                exceeded: false,
                size: 0,
            },
        };
        let mut store = Store::new(&engine.inner().engine, state);
        store.limiter(|s| &mut s.memory);
        store.epoch_deadline_trap();
        let deadline_ticks = ticks(spec.limits.timeout);
        store.set_epoch_deadline(deadline_ticks);
        let bindings = pre
            .instantiate(&mut store)
            .map_err(|e| PluginError::Instantiate {
                plugin: info.name.clone(),
                reason: format!("{e:#}"),
            })?;
        let mut instance = Self {
            store,
            bindings,
            deadline_ticks,
        };
        let config: Vec<(String, String)> = spec
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        instance.store.set_epoch_deadline(deadline_ticks);
        let init = instance
            .bindings
            .weir_transform_transform()
            .call_init(&mut instance.store, &config);
        match init {
            Ok(Ok(())) => Ok(instance),
            Ok(Err(reason)) => Err(PluginError::Init {
                plugin: info.name.clone(),
                reason,
            }),
            Err(e) => Err(PluginError::Init {
                plugin: info.name.clone(),
                reason: instance.classify(e).message,
            }),
        }
    }

    /// Runs one batch. On `Err` the instance must be dropped: its state is undefined. The
    /// result comes straight from the plugin: check it before trusting an index or a span.
    pub fn process(&mut self, batch: &Batch) -> Result<BatchResult, CallFault> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        self.bindings
            .weir_transform_transform()
            .call_process(&mut self.store, batch)
            .map_err(|e| self.classify(e))
    }

    /// Bytes of linear memory the instance has grown to: what one instance of this plugin
    /// costs beyond the host's bookkeeping.
    pub fn memory_bytes(&self) -> usize {
        self.store.data().memory.size
    }

    fn classify(&self, error: wasmtime::Error) -> CallFault {
        if self.store.data().memory.exceeded {
            return CallFault {
                class: ErrorClass::PluginMemory,
                message: format!(
                    "plugin exceeded its memory cap of {} bytes; raise limits.memory if this is expected",
                    self.store.data().memory.limit
                ),
            };
        }
        if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
            return CallFault {
                class: ErrorClass::PluginTimeout,
                message: format!(
                    "plugin ran past its time budget of {:?}; raise limits.timeout if this is expected",
                    EPOCH_TICK * u32::try_from(self.deadline_ticks).unwrap_or(u32::MAX)
                ),
            };
        }
        CallFault {
            class: ErrorClass::PluginTrap,
            message: format!("plugin trapped: {}", root_cause(&error)),
        }
    }
}

/// The innermost message plus the trap code, without wasmtime's multi-line backtrace.
fn root_cause(error: &wasmtime::Error) -> String {
    let trap = error.downcast_ref::<Trap>().map(|t| t.to_string());
    let first = error.to_string();
    let first = first.lines().next().unwrap_or_default().to_owned();
    match trap {
        Some(t) if !first.contains(&t) => format!("{first} ({t})"),
        _ => first,
    }
}

fn ticks(timeout: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    u64::try_from(timeout.as_nanos().div_ceil(tick))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Builds the WASI context: nothing is reachable unless granted.
fn sandbox(plugin: &str, grants: &Grants) -> Result<WasiCtx, PluginError> {
    let mut builder = WasiCtxBuilder::new();
    for name in &grants.env {
        if let Ok(value) = std::env::var(name) {
            builder.env(name, value);
        }
    }
    for dir in &grants.read_dirs {
        let guest = dir.to_string_lossy().into_owned();
        builder
            .preopened_dir(dir, &guest, FsPerms::ReadOnly)
            .map_err(|e| PluginError::Grant {
                plugin: plugin.to_owned(),
                reason: format!(
                    "grants.read_dirs: cannot open `{}`: {e}; check the path exists and is readable",
                    dir.display()
                ),
            })?;
    }
    if !grants.clock {
        builder.wall_clock(FrozenClock);
        builder.monotonic_clock(FrozenClock);
    }
    let mut allowed: Vec<SocketAddr> = Vec::new();
    for address in &grants.network {
        let parsed = address.parse().map_err(|_| PluginError::Grant {
            plugin: plugin.to_owned(),
            reason: format!(
                "grants.network: `{address}` is not an IP:port address, e.g. \"127.0.0.1:8080\""
            ),
        })?;
        allowed.push(parsed);
    }
    if !allowed.is_empty() {
        builder.socket_addr_check(move |addr, _use| {
            let ok = allowed.contains(&addr);
            Box::pin(async move { ok })
        });
    } else {
        builder.allow_tcp(false).allow_udp(false);
    }
    Ok(builder.build())
}

impl From<&EventError> for ErrorClass {
    fn from(error: &EventError) -> Self {
        use crate::bindings::ErrorKind;
        match error.kind {
            ErrorKind::InvalidInput => ErrorClass::InvalidInput,
            ErrorKind::MissingField => ErrorClass::MissingField,
            ErrorKind::InvalidField => ErrorClass::InvalidField,
            ErrorKind::Rejected => ErrorClass::Rejected,
        }
    }
}
