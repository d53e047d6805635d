//! `weir plugin new | test | inspect`: the plugin author's loop.

use crate::plugins;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::process::ExitCode;

/// Plugin subcommands.
#[derive(clap::Subcommand)]
pub enum PluginCommand {
    /// Create a new plugin project (Rust, JavaScript or Python) on the weir SDK, ready to
    /// build and test.
    New(NewArgs),
    /// Run a plugin on sample events and print each output or error.
    Test(TestArgs),
    /// Print what a component declares: contract version, imports and exports.
    Inspect(InspectArgs),
}

/// Arguments of `weir plugin test`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// The plugin: a `.wasm` component or `builtin:NAME`.
    plugin: String,
    /// Sample events, one JSON document per line (`-` for stdin).
    #[arg(long, short)]
    input: PathBuf,
    /// A plugin setting passed to its `init`, e.g. `--config field=email` (repeatable).
    #[arg(long = "config", value_name = "KEY=VALUE")]
    config: Vec<String>,
    /// Event timestamp: `now` or an RFC 3339 instant (plugins must use it instead of a clock).
    #[arg(long, default_value = "now")]
    timestamp: String,
    /// Events per plugin call.
    #[arg(long, default_value_t = 512)]
    batch_size: usize,
}

/// Arguments of `weir plugin new`.
#[derive(clap::Args)]
pub struct NewArgs {
    /// The plugin's name (lowercase, digits, `-`, `_`); also its folder and crate name.
    name: String,
    /// Where to create the plugin folder.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// The plugin's language.
    #[arg(long, value_enum, default_value = "rust")]
    lang: super::scaffold::Lang,
    /// The weir SDK to depend on (`plugins/sdk`, `plugins/sdk-js` or `plugins/sdk-py` of a
    /// weir checkout, by language); defaults to the one this weir was built from.
    #[arg(long)]
    sdk_path: Option<PathBuf>,
}

/// Arguments of `weir plugin inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The component to inspect (`.wasm` or `builtin:NAME`).
    plugin: String,
}

/// Runs a plugin subcommand.
pub async fn execute(command: PluginCommand) -> Result<ExitCode> {
    match command {
        PluginCommand::New(args) => {
            let root = super::scaffold::create(
                &args.name,
                &args.dir,
                args.sdk_path.as_deref(),
                args.lang,
            )?;
            println!("Created {}", root.display());
            println!("Next:");
            println!("  cd {}", root.display());
            let component = match args.lang {
                super::scaffold::Lang::Rust => {
                    println!(
                        "  cargo test                                  # the plugin's own tests, natively"
                    );
                    println!("  cargo build --release --target wasm32-wasip2  # the component");
                    format!(
                        "target/wasm32-wasip2/release/{}.wasm",
                        args.name.replace('-', "_")
                    )
                }
                super::scaffold::Lang::Js => {
                    println!("  npm install     # once: links the weir SDK");
                    println!("  npm test        # the plugin's own tests, natively in Node");
                    println!("  npm run build   # the component");
                    format!("{}.wasm", args.name)
                }
                super::scaffold::Lang::Python => {
                    println!("  (once, see README.md: a venv with the SDK's requirements.txt)");
                    println!("  python -m unittest   # the plugin's own tests, natively");
                    println!("  python build.py      # the component");
                    format!("{}.wasm", args.name)
                }
            };
            println!("  weir plugin test {component} --input events.jsonl");
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Test(args) => tokio::task::block_in_place(|| test(args)),
        PluginCommand::Inspect(args) => tokio::task::block_in_place(|| inspect(args)),
    }
}

fn spec_for(plugin: &str, config: &[String]) -> Result<weir_runtime::PluginSpec> {
    let mut table = std::collections::BTreeMap::new();
    for entry in config {
        let (k, v) = entry
            .split_once('=')
            .with_context(|| format!("--config `{entry}`: expected KEY=VALUE"))?;
        table.insert(k.trim().to_owned(), v.to_owned());
    }
    Ok(weir_runtime::PluginSpec {
        name: None,
        path: plugin.to_owned(),
        config: table,
        limits: Default::default(),
        grants: Default::default(),
    })
}

fn test(args: TestArgs) -> Result<ExitCode> {
    use weir_core::Transform;
    let timestamp = weir_file::InputTimestamp::parse(&args.timestamp)
        .map_err(|e| anyhow::anyhow!("--timestamp: {e}"))?;
    let engine = plugins::engine(crate::config::default_cache_dir())?;
    let spec = spec_for(&args.plugin, &args.config)?;
    let mut chain = plugins::load_chain(&engine, &[spec])?;
    let events = read_events(&args.input, timestamp)?;
    let (mut outputs, mut failures) = (0usize, 0usize);
    for batch in events.chunks(args.batch_size.max(1)) {
        for (event, result) in batch.iter().zip(chain.transform(batch)) {
            let line = event.position.offset;
            match result {
                Ok(out) if out.is_empty() => println!("line {line}: dropped"),
                Ok(out) => {
                    for o in out {
                        outputs += 1;
                        println!("line {line}: {}", String::from_utf8_lossy(&o.value));
                    }
                }
                Err(failure) => {
                    failures += 1;
                    println!("line {line}: error {failure}");
                }
            }
        }
    }
    eprintln!(
        "{} events in, {outputs} outputs, {failures} errors",
        events.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads every event of a JSONL file (or `-` for stdin), as a file source would.
/// Call from a blocking context (`block_in_place`).
pub(crate) fn read_events(
    path: &std::path::Path,
    timestamp: weir_file::InputTimestamp,
) -> Result<Vec<weir_core::Event>> {
    use weir_core::Source;
    let config = weir_file::FileSourceConfig {
        path: path.to_owned(),
        timestamp,
    };
    let handle = tokio::runtime::Handle::current();
    handle.block_on(async {
        let mut source = weir_file::FileSource::open(&config).await?;
        let mut all = Vec::new();
        while let Some(batch) = source
            .next_batch(4096)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            all.extend(batch);
        }
        Ok(all)
    })
}

fn inspect(args: InspectArgs) -> Result<ExitCode> {
    let engine = plugins::engine(crate::config::default_cache_dir())?;
    let (name, bytes) = match args.plugin.strip_prefix("builtin:") {
        Some(name) => {
            let (_, bytes) = plugins::BUILTINS
                .iter()
                .find(|(n, _)| *n == name)
                .with_context(|| format!("there is no built-in plugin `{name}`"))?;
            (name.to_owned(), bytes.to_vec())
        }
        None => {
            let bytes = std::fs::read(&args.plugin)
                .with_context(|| format!("cannot read {}", args.plugin))?;
            let spec = spec_for(&args.plugin, &[])?;
            (spec.display_name(), bytes)
        }
    };
    let info = weir_runtime::inspect(&engine, &name, &bytes)?;
    let contract = info
        .exports
        .iter()
        .find(|e| e.starts_with("weir:transform/"))
        .cloned()
        .unwrap_or_else(|| "none (not a weir plugin)".into());
    let supported = if contract == weir_runtime::CONTRACT_EXPORT {
        "supported"
    } else {
        "NOT supported by this weir"
    };
    println!("plugin:   {}", info.name);
    println!("version:  {} (content hash)", info.version);
    println!("size:     {} bytes", info.size);
    println!(
        "built by: {}",
        super::toolchain::describe(&bytes)
            .unwrap_or_else(|| "unknown (the component names no toolchain)".into())
    );
    println!("world:    weir:transform/transformer");
    println!(
        "contract: {contract} ({supported}; this weir speaks {})",
        weir_runtime::CONTRACT_PACKAGE
    );
    println!("imports:");
    for import in &info.imports {
        println!("  {import}");
    }
    println!("exports:");
    for export in &info.exports {
        println!("  {export}");
    }
    Ok(ExitCode::SUCCESS)
}
