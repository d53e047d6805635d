//! Compiles the guest workspaces (`plugins/`, and `tests/plugins/` with the `test-plugins`
//! feature) to WebAssembly components with a nested `cargo build`, and generates the
//! constants that `src/lib.rs` exposes.
//!
//! The nested build gets its own target directory under `OUT_DIR` (no lock contention
//! with the outer build) and none of the outer build's `CARGO_*`/`RUSTFLAGS` settings,
//! which target the host and would break or silently change the guest build.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const TARGET: &str = "wasm32-wasip2";
const INSTALL: &str = "rustup target add wasm32-wasip2";
/// Compiler flags for the guests (variable, value).
const GUEST_RUSTFLAGS: (&str, &str) = (
    "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
    "-Ctarget-feature=+simd128",
);

/// Shipped plugins: (package name, constant prefix).
const PLUGINS: &[(&str, &str)] = &[
    ("enricher", "ENRICHER"),
    ("filter", "FILTER"),
    ("pii-mask", "PII_MASK"),
];
/// Test plugins, built with the `test-plugins` feature.
const TEST_PLUGINS: &[(&str, &str)] = &[
    ("trap-on-marker", "TRAP_ON_MARKER"),
    ("spin", "SPIN"),
    ("grow", "GROW"),
    ("read-file", "READ_FILE"),
    ("wrong-version", "WRONG_VERSION"),
    ("echo", "ECHO"),
    ("malformed", "MALFORMED"),
];

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest_dir.join("../..");
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let test_plugins = env::var_os("CARGO_FEATURE_TEST_PLUGINS").is_some();

    watch(&root.join("wit"));
    watch(&root.join("plugins"));
    if test_plugins {
        watch(&root.join("tests/plugins"));
    }

    check_target()?;

    let mut generated = String::new();
    let mut all = Vec::new();
    let plugins = build(&root.join("plugins"), &out_dir.join("plugins"), PLUGINS)?;
    for (name, konst, path) in &plugins {
        writeln!(generated, "/// The `{name}` plugin component, embedded.").ok();
        writeln!(
            generated,
            "pub const {konst}: &[u8] = include_bytes!({path:?});"
        )
        .ok();
        writeln!(
            generated,
            "/// Path of the built `{name}` plugin component."
        )
        .ok();
        writeln!(generated, "pub const {konst}_WASM: &str = {path:?};").ok();
        all.push((name, konst));
    }
    let tests = if test_plugins {
        build(
            &root.join("tests/plugins"),
            &out_dir.join("test-plugins"),
            TEST_PLUGINS,
        )?
    } else {
        Vec::new()
    };
    for (name, konst, path) in &tests {
        writeln!(
            generated,
            "/// Path of the built `{name}` test plugin component."
        )
        .ok();
        writeln!(generated, "#[cfg(feature = \"test-plugins\")]").ok();
        writeln!(generated, "pub const {konst}_WASM: &str = {path:?};").ok();
        all.push((name, konst));
    }
    generated.push_str("/// Every built plugin: package name and component path.\npub const ALL: &[(&str, &str)] = &[\n");
    for (name, konst) in all {
        writeln!(generated, "    ({name:?}, {konst}_WASM),").ok();
    }
    generated.push_str("];\n");
    fs::write(out_dir.join("plugins.rs"), generated).map_err(|e| format!("writing plugins.rs: {e}"))
}

/// Reruns the build script when any source under `dir` changes, skipping `target/`.
fn watch(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            watch(&path);
        }
    }
}

fn check_target() -> Result<(), String> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| format!("running `{rustc}`: {e}"))?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() || !has_std(&libdir) {
        return Err(format!(
            "the `{TARGET}` target is not installed; weir's plugins are built for it.\n       install it with:  {INSTALL}"
        ));
    }
    Ok(())
}

fn has_std(libdir: &Path) -> bool {
    fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

/// Builds one guest workspace and copies its components to `dest`; returns
/// (package, constant prefix, component path) for each.
fn build(
    workspace: &Path,
    dest: &Path,
    packages: &[(&'static str, &'static str)],
) -> Result<Vec<(&'static str, &'static str, String)>, String> {
    let target_dir = dest.join("target");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace)
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(workspace.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .stdout(Stdio::null());
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        if leaks_into_nested_build(&key) {
            command.env_remove(&*key);
        }
    }
    // 128-bit SIMD, as the native build has (SSE2): LLVM vectorises the guests' byte loops
    // with it, which measured 1,237-1,329 ns per event for the enricher against
    // 1,316-1,348 ns without. wasmtime supports it by default.
    command.env(GUEST_RUSTFLAGS.0, GUEST_RUSTFLAGS.1);
    let status = command
        .status()
        .map_err(|e| format!("running `{cargo}`: {e}"))?;
    if !status.success() {
        return Err(format!(
            "building the plugins in {} failed (see the compiler output above); reproduce with\n       {}={} cargo build --release --target {TARGET} --manifest-path {}",
            workspace.display(),
            GUEST_RUSTFLAGS.0,
            GUEST_RUSTFLAGS.1,
            workspace.join("Cargo.toml").display()
        ));
    }
    let built = target_dir.join(TARGET).join("release");
    packages
        .iter()
        .map(|&(name, konst)| {
            let file = format!("{}.wasm", name.replace('-', "_"));
            let to = dest.join(name.to_owned() + ".wasm");
            fs::copy(built.join(&file), &to)
                .map_err(|e| format!("copying {file} from {}: {e}", built.display()))?;
            Ok((name, konst, to.display().to_string()))
        })
        .collect()
}

/// Settings the outer cargo passes to build scripts (or the user set for the host build)
/// that must not reach the guest build.
fn leaks_into_nested_build(key: &str) -> bool {
    const KEEP: &[&str] = &[
        "CARGO_HOME",
        "CARGO_MAKEFLAGS",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const DROP: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "TARGET",
        "HOST",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "OUT_DIR",
        "NUM_JOBS",
    ];
    (key.starts_with("CARGO_") && !KEEP.iter().any(|keep| key.starts_with(keep)))
        || DROP.contains(&key)
}
