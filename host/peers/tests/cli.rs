//! The `weir-peers` command as CI and developers call it (also makes `cargo test` build the
//! binary that weir-test-support runs as the shared pair's supervisor).

use std::process::Command;

#[test]
fn help_lists_the_commands_ci_uses() {
    let out = Command::new(env!("CARGO_BIN_EXE_weir-peers"))
        .arg("--help")
        .output()
        .expect("weir-peers runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["up", "down", "status", "fetch", "serve"] {
        assert!(help.contains(command), "--help lacks `{command}`:\n{help}");
    }
}

#[test]
fn status_of_an_empty_state_dir_fails_and_says_how_to_start() {
    let dir = std::env::temp_dir().join(format!("weir-peers-cli-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_weir-peers"))
        .arg("--state-dir")
        .arg(&dir)
        .arg("status")
        .output()
        .expect("weir-peers runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("weir-peers -- up"), "{stderr}");
}
