//! A compiled plugin: checked against the contract once, pre-instantiated once, then
//! instantiated cheaply as often as needed.

use crate::bindings::TransformerPre;
use crate::cache::Cache;
use crate::config::PluginSpec;
use crate::engine::PluginEngine;
use crate::error::PluginError;
use crate::instance::{HostState, PluginInstance};
use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::component::Component;

/// The WIT package this host implements.
pub const CONTRACT_PACKAGE: &str = "weir:transform@0.3.0";
/// The export every plugin must have.
pub const CONTRACT_EXPORT: &str = "weir:transform/transform@0.3.0";
const EXPORT_PREFIX: &str = "weir:transform/transform@";

/// What a component declares, for `weir plugin inspect` and logs.
#[derive(Debug, Clone)]
pub struct PluginInfo {
    /// Plugin name.
    pub name: String,
    /// Short content hash of the component; changes whenever the file does.
    pub version: String,
    /// Size of the component in bytes.
    pub size: usize,
    /// Every import, e.g. `wasi:filesystem/types@0.2.6`.
    pub imports: Vec<String>,
    /// Every export, e.g. `weir:transform/transform@0.3.0`.
    pub exports: Vec<String>,
}

/// A compiled, contract-checked plugin with its spec.
pub struct Plugin {
    info: PluginInfo,
    spec: PluginSpec,
    engine: PluginEngine,
    pre: TransformerPre<HostState>,
}

impl Plugin {
    /// Reads, compiles (or loads from the cache), checks and pre-instantiates a plugin file.
    pub fn load_file(
        engine: &PluginEngine,
        spec: PluginSpec,
        path: &Path,
    ) -> Result<Self, PluginError> {
        let bytes = std::fs::read(path).map_err(|source| PluginError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::load_bytes(engine, spec, &bytes)
    }

    /// Same as [`Plugin::load_file`], from bytes already in memory (built-in plugins).
    pub fn load_bytes(
        engine: &PluginEngine,
        spec: PluginSpec,
        bytes: &[u8],
    ) -> Result<Self, PluginError> {
        let name = spec.display_name();
        let component = compile(engine, &name, bytes)?;
        let info = describe(engine, &name, &version(bytes), bytes.len(), &component);
        check_contract(&info)?;
        let instance_pre = engine
            .inner()
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Link {
                plugin: name.clone(),
                reason: format!("{e:#}"),
            })?;
        let pre = TransformerPre::new(instance_pre).map_err(|e| PluginError::Link {
            plugin: name.clone(),
            reason: format!("{e:#}"),
        })?;
        let plugin = Self {
            info,
            spec,
            engine: engine.clone(),
            pre,
        };
        // Instantiate and init once now, so a bad config or grant is refused at load time.
        plugin.instantiate()?;
        Ok(plugin)
    }

    /// What the component declares.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The configuration this plugin was loaded with.
    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    /// A fresh, initialised instance in its own sandbox.
    pub fn instantiate(&self) -> Result<PluginInstance, PluginError> {
        PluginInstance::new(&self.engine, &self.pre, &self.info, &self.spec)
    }
}

/// Reads a component's imports and exports without instantiating it.
pub fn inspect(engine: &PluginEngine, name: &str, bytes: &[u8]) -> Result<PluginInfo, PluginError> {
    let component = compile(engine, name, bytes)?;
    Ok(describe(
        engine,
        name,
        &version(bytes),
        bytes.len(),
        &component,
    ))
}

/// A short content hash (XXH3-128, unkeyed, so the same file shows the same version on
/// every machine): 12 hex digits.
fn version(bytes: &[u8]) -> String {
    let hash = twox_hash::xxhash3_128::Hasher::oneshot(bytes);
    format!("{:012x}", hash >> 80)
}

fn describe(
    engine: &PluginEngine,
    name: &str,
    version: &str,
    size: usize,
    component: &Component,
) -> PluginInfo {
    let wasmtime_engine = &engine.inner().engine;
    let ty = component.component_type();
    PluginInfo {
        name: name.to_owned(),
        version: version.to_owned(),
        size,
        imports: ty
            .imports(wasmtime_engine)
            .map(|(n, _)| n.to_owned())
            .collect(),
        exports: ty
            .exports(wasmtime_engine)
            .map(|(n, _)| n.to_owned())
            .collect(),
    }
}

fn check_contract(info: &PluginInfo) -> Result<(), PluginError> {
    let ours: Vec<&String> = info
        .exports
        .iter()
        .filter(|e| e.starts_with(EXPORT_PREFIX))
        .collect();
    match ours.as_slice() {
        [one] if one.as_str() == CONTRACT_EXPORT => Ok(()),
        [other] => Err(PluginError::VersionMismatch {
            plugin: info.name.clone(),
            expected: CONTRACT_EXPORT.into(),
            found: (*other).clone(),
        }),
        _ => Err(PluginError::NotAPlugin {
            plugin: info.name.clone(),
            expected: CONTRACT_EXPORT.into(),
            found: if info.exports.is_empty() {
                "none".into()
            } else {
                info.exports.join(", ")
            },
        }),
    }
}

/// Compiles a component, reusing a cached compilation when one exists for these exact bytes
/// and this exact engine configuration.
fn compile(engine: &PluginEngine, name: &str, bytes: &[u8]) -> Result<Component, PluginError> {
    let inner = engine.inner();
    let cached = inner
        .cache_dir
        .as_deref()
        .and_then(Cache::open)
        .map(|cache| {
            let key = cache.key(bytes, &engine_hash(engine));
            (cache, key)
        });
    if let Some((cache, key)) = &cached
        && let Some(component) = cache.load(&inner.engine, key)
    {
        tracing::debug!(plugin = name, key = %key, "Loaded compiled plugin from cache");
        return Ok(component);
    }
    let component = Component::new(&inner.engine, bytes).map_err(|e| PluginError::Compile {
        plugin: name.to_owned(),
        reason: format!("{e:#}"),
    })?;
    if let Some((cache, key)) = &cached {
        cache.store(&component, key);
    }
    Ok(component)
}

fn engine_hash(engine: &PluginEngine) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine
        .inner()
        .engine
        .precompile_compatibility_hash()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}
