//! A compiled plugin: checked against the contract once, pre-instantiated once, then
//! instantiated cheaply as often as needed.

use crate::bindings::TransformerPre;
use crate::config::PluginSpec;
use crate::engine::PluginEngine;
use crate::error::PluginError;
use crate::instance::{HostState, PluginInstance};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
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
        let digest = Sha256::digest(bytes);
        let version = hex(&digest[..6]);
        let component = compile(engine, &name, bytes, &digest)?;
        let info = describe(engine, &name, &version, bytes.len(), &component);
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
    let digest = Sha256::digest(bytes);
    let component = compile(engine, name, bytes, &digest)?;
    Ok(describe(
        engine,
        name,
        &hex(&digest[..6]),
        bytes.len(),
        &component,
    ))
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
fn compile(
    engine: &PluginEngine,
    name: &str,
    bytes: &[u8],
    digest: &[u8],
) -> Result<Component, PluginError> {
    let inner = engine.inner();
    let cache_path = inner
        .cache_dir
        .as_ref()
        .map(|dir| dir.join(format!("{}-{}.cwasm", hex(digest), engine_hash(engine))));
    if let Some(path) = &cache_path
        && let Some(component) = cache::load(&inner.engine, path)
    {
        tracing::debug!(plugin = name, cache = %path.display(), "Loaded compiled plugin from cache");
        return Ok(component);
    }
    let component = Component::new(&inner.engine, bytes).map_err(|e| PluginError::Compile {
        plugin: name.to_owned(),
        reason: format!("{e:#}"),
    })?;
    if let Some(path) = &cache_path {
        cache::store(&component, path);
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The compiled-plugin cache. Entries carry a checksum so that a truncated or corrupted file
/// is recompiled rather than trusted.
mod cache {
    use super::{PathBuf, hex};
    use sha2::{Digest, Sha256};
    use std::path::Path;
    use wasmtime::Engine;
    use wasmtime::component::Component;

    const CHECKSUM_LEN: usize = 32;

    pub(super) fn load(engine: &Engine, path: &Path) -> Option<Component> {
        let data = std::fs::read(path).ok()?;
        let (checksum, body) = data.split_at_checked(CHECKSUM_LEN)?;
        if Sha256::digest(body).as_slice() != checksum {
            tracing::warn!(cache = %path.display(), "Compiled plugin cache entry is corrupt; recompiling");
            let _ = std::fs::remove_file(path);
            return None;
        }
        // SAFETY: the bytes were produced by `Component::serialize` of this same engine
        // configuration (the file name carries the engine's compatibility hash) and the
        // checksum proves they are unchanged since.
        #[allow(
            unsafe_code,
            reason = "deserializing our own checksummed compilation output"
        )]
        let component = unsafe { Component::deserialize(engine, body) };
        match component {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(cache = %path.display(), error = %e, "Compiled plugin cache entry is unusable; recompiling");
                None
            }
        }
    }

    pub(super) fn store(component: &Component, path: &PathBuf) {
        let Ok(body) = component.serialize() else {
            return;
        };
        let mut data = Sha256::digest(&body).to_vec();
        data.extend_from_slice(&body);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, &data))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::warn!(cache = %path.display(), error = %e, "Cannot write the compiled plugin cache");
        } else {
            tracing::debug!(cache = %path.display(), checksum = %hex(&data[..4]), "Cached compiled plugin");
        }
    }
}
