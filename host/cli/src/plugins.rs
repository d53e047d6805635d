//! Turns the `[[plugins]]` entries into a loaded chain; resolves `builtin:NAME`.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::Arc;
use weir_runtime::{EngineOptions, Plugin, PluginChain, PluginEngine, PluginSpec};

/// The plugins compiled into the binary, usable as `path = "builtin:NAME"`.
pub const BUILTINS: [(&str, &[u8]); 3] = [
    ("enricher", weir_builtin::ENRICHER),
    ("filter", weir_builtin::FILTER),
    ("pii-mask", weir_builtin::PII_MASK),
];

/// Creates the engine with the configured compiled-plugin cache.
pub fn engine(cache_dir: Option<std::path::PathBuf>) -> Result<PluginEngine> {
    Ok(PluginEngine::new(EngineOptions { cache_dir })?)
}

/// Loads every plugin (compile or cache, contract check, init) in order.
pub fn load_chain(engine: &PluginEngine, specs: &[PluginSpec]) -> Result<PluginChain> {
    let mut plugins = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        let plugin =
            load(engine, spec.clone()).with_context(|| format!("plugins[{i}] ({})", spec.path))?;
        let info = plugin.info();
        tracing::info!(
            plugin = %info.name,
            version = %info.version,
            size = info.size,
            "Loaded plugin"
        );
        plugins.push(Arc::new(plugin));
    }
    Ok(PluginChain::new(plugins))
}

/// Loads one plugin from a file or from the built-in set.
pub fn load(engine: &PluginEngine, spec: PluginSpec) -> Result<Plugin> {
    if let Some(name) = spec.path.strip_prefix("builtin:") {
        let Some((_, bytes)) = BUILTINS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = BUILTINS.iter().map(|(n, _)| *n).collect();
            bail!(
                "there is no built-in plugin `{name}`; built-ins are: {}",
                names.join(", ")
            );
        };
        return Ok(Plugin::load_bytes(engine, spec, bytes)?);
    }
    let path = Path::new(&spec.path).to_owned();
    Ok(Plugin::load_file(engine, spec, &path)?)
}
