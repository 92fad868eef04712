//! The binary as a user runs it: in a folder of its own, with nothing
//! from the environment that chooses a database, a ledger, a key or an
//! address.

use std::path::Path;
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_windledger");

/// The variables that would choose for the commands.
const CHOOSING: [&str; 5] = [
    "DATABASE_URL",
    "WINDLEDGER_LEDGER",
    "WINDLEDGER_KEY_FILE",
    "WINDLEDGER_LISTEN",
    "RUST_LOG",
];

/// `windledger ARGS` in `folder`, not yet run.
pub fn command(folder: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(folder);
    for name in CHOOSING {
        command.env_remove(name);
    }
    command
}

/// `windledger ARGS` in `folder`, run to its end.
pub fn windledger(folder: &Path, args: &[&str]) -> Output {
    command(folder, args)
        .output()
        .expect("the windledger binary runs")
}

/// Its standard output, once it succeeded.
pub fn success(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

/// Its error, one line at the end of standard error, once it failed with
/// exit code 1.
pub fn failure(output: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{what} should fail: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    let error = stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: "), "{what}: {stderr}");
    error.to_owned()
}

/// `windledger demo --no-serve ARGS` in `folder`: its output.
pub fn demo(folder: &Path, args: &[&str]) -> String {
    let mut all = vec!["demo", "--no-serve", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    success(&windledger(folder, &all), "the demo")
}
