//! `weir plugin new --lang js|python`, `weir plugin test` and `weir plugin inspect` on
//! JavaScript and Python components, as a plugin author uses them. The toolchains come
//! from `plugins/languages.sh setup` (pinned, from npm and PyPI; a no-op once installed).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const WEIR: &str = env!("CARGO_BIN_EXE_weir");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `program args` in `dir` and returns its output, failing the test if it fails.
fn run(program: &Path, args: &[&str], dir: &Path) -> Output {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("WEIR_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("{} runs: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}\n{}",
        program.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn weir(args: &[&str], dir: &Path) -> Output {
    run(Path::new(WEIR), args, dir)
}

/// Installs the pinned JS and Python toolchains (a no-op when they are there).
fn setup() {
    run(
        Path::new("bash"),
        &[
            repo().join("plugins/languages.sh").to_str().expect("utf-8"),
            "setup",
        ],
        &repo(),
    );
}

/// Scaffolds NAME in LANG, checks that `plugin test` runs the built component on one event
/// and that `plugin inspect` names the toolchain.
fn runs_in_weir(dir: &Path, wasm: &Path, toolchain: &str) {
    std::fs::write(dir.join("one.jsonl"), "{\"id\":1}\nnot json\n").expect("input");
    let wasm = wasm.to_str().expect("utf-8 path");
    let out = weir(&["plugin", "test", wasm, "--input", "one.jsonl"], dir);
    let stdout = text(&out.stdout);
    let name = Path::new(wasm)
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("stem");
    assert!(
        stdout.contains(&format!(r#"line 1: {{"id":1,"processed_by":"{name}"}}"#)),
        "{stdout}"
    );
    assert!(stdout.contains("line 2: error invalid-input"), "{stdout}");
    let inspected = text(&weir(&["plugin", "inspect", wasm], dir).stdout);
    assert!(
        inspected.contains(&format!("built by: {toolchain}")),
        "{inspected}"
    );
    assert!(
        !inspected.contains("wasi:"),
        "no WASI imports expected:\n{inspected}"
    );
}

#[test]
fn a_javascript_scaffold_passes_its_own_test_builds_and_runs_in_weir() {
    setup();
    let dir = tempfile::tempdir().expect("tempdir");
    weir(&["plugin", "new", "hello-js", "--lang", "js"], dir.path());
    let root = dir.path().join("hello-js");
    let npm = Path::new("npm");
    run(
        npm,
        &["install", "--prefer-offline", "--no-audit", "--no-fund"],
        &root,
    );
    let tested = run(npm, &["test"], &root);
    assert!(
        text(&tested.stdout).contains("# pass 2"),
        "{}",
        text(&tested.stdout)
    );
    run(npm, &["run", "build"], &root);
    runs_in_weir(
        dir.path(),
        &root.join("hello-js.wasm"),
        "JavaScript (ComponentizeJS 0.23.0)",
    );
}

#[test]
fn a_python_scaffold_passes_its_own_test_builds_and_runs_in_weir() {
    setup();
    let dir = tempfile::tempdir().expect("tempdir");
    weir(
        &["plugin", "new", "hello-py", "--lang", "python"],
        dir.path(),
    );
    let root = dir.path().join("hello-py");
    let python = repo().join("target/weir-py/bin/python");
    let tested = Command::new(&python)
        .args(["-m", "unittest", "-v"])
        .current_dir(&root)
        .output()
        .expect("python runs");
    assert!(tested.status.success(), "{}", text(&tested.stderr));
    assert!(
        text(&tested.stderr).contains("Ran 2 tests"),
        "{}",
        text(&tested.stderr)
    );
    run(&python, &["build.py"], &root);
    runs_in_weir(
        dir.path(),
        &root.join("hello-py.wasm"),
        "Python (componentize-py 0.25.1)",
    );
}

#[test]
fn inspect_names_rust_for_the_builtin_enricher() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stdout = text(&weir(&["plugin", "inspect", "builtin:enricher"], dir.path()).stdout);
    assert!(
        stdout.contains("built by: Rust (wit-bindgen-rust"),
        "{stdout}"
    );
}
