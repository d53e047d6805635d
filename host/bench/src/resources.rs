//! Section 6 beyond load costs: memory per plugin instance, and the peak RSS of a real
//! `weir run` process with a four-plugin chain.

use crate::data;
use crate::stages::LARGE_BATCH;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::Transform;
use weir_runtime::{Plugin, PluginChain};

/// The chain `weir run` is measured with: every shipped plugin, four links.
const CHAIN: &str = r#"
[[plugins]]
path = "builtin:enricher"

[[plugins]]
path = "builtin:pii-mask"
config = { fields = "email,phone", key = "weir-bench" }

[[plugins]]
name = "keep-adults"
path = "builtin:filter"
config = { field = "age", op = "gt", value = "17" }

[[plugins]]
name = "keep-grouped"
path = "builtin:filter"
config = { field = "age_group", op = "exists" }
"#;

/// What the `weir run` measurement saw.
#[derive(Debug, Clone, Copy)]
pub struct WeirRun {
    /// Peak resident set of the `weir` process (`VmHWM`, sampled until it exited).
    pub peak_rss_bytes: u64,
    /// Wall time of the run, start to exit.
    pub wall: Duration,
}

/// Linear memory of one enricher instance after a batch of [`LARGE_BATCH`] events.
pub fn instance_memory(enricher: &Arc<Plugin>, values: &[String]) -> Option<usize> {
    let mut chain = PluginChain::new(vec![Arc::clone(enricher)]);
    let events = data::events(&values[..values.len().min(LARGE_BATCH)]);
    let _ = chain.transform(&events);
    chain.instance_memory().next().and_then(|(_, bytes)| bytes)
}

/// The `weir` binary built beside this one, if there is one.
pub fn weir_binary() -> Option<PathBuf> {
    let path = std::env::current_exe().ok()?.with_file_name("weir");
    path.is_file().then_some(path)
}

/// Runs `weir run` over `input` (JSONL) with the four-plugin chain into a null sink, and
/// samples its peak RSS until it exits.
pub fn weir_run(weir: &Path, input: &Path, scratch: &Path) -> Result<WeirRun, String> {
    let log = scratch.join("weir-run.log");
    let config = scratch.join("weir-bench.toml");
    let text = format!(
        "[source]\ntype = \"file\"\npath = {input:?}\ntimestamp = \"2024-06-15T12:00:00Z\"\n\n\
         [sink]\ntype = \"null\"\n\n[dead_letter]\ntype = \"jsonl\"\npath = {dead:?}\n\n\
         [runtime]\ncache_dir = {cache:?}\n{CHAIN}",
        input = input.display().to_string(),
        dead = scratch
            .join("weir-run-dead-letters.jsonl")
            .display()
            .to_string(),
        cache = scratch.join("weir-run-cache").display().to_string(),
    );
    std::fs::write(&config, text).map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    // Once untimed to fill the compiled-plugin cache, as a restart would find it.
    run_once(weir, &config, &log)?;
    run_once(weir, &config, &log)
}

fn run_once(weir: &Path, config: &Path, log: &Path) -> Result<WeirRun, String> {
    let stderr =
        std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let started = Instant::now();
    let mut child = Command::new(weir)
        .arg("run")
        .arg("--config")
        .arg(config)
        .env("WEIR_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", weir.display()))?;
    let mut peak = 0;
    let status = loop {
        // VmHWM only grows, so the last reading before exit is the peak (to within the
        // sampling interval, which the final reading below closes).
        if let Some(hwm) = weir_peers::status_kib(Some(child.id()), "VmHWM") {
            peak = peak.max(hwm * 1024);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for weir: {e}")),
        }
    };
    let wall = started.elapsed();
    if !status.success() {
        let stderr = std::fs::read_to_string(log).unwrap_or_default();
        return Err(format!(
            "`weir run --config {}` failed ({status}): {}",
            config.display(),
            stderr.trim()
        ));
    }
    Ok(WeirRun {
        peak_rss_bytes: peak,
        wall,
    })
}
