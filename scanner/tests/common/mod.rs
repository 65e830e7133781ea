//! Helpers shared by the scanner's end-to-end tests: the binary run in the repository, its
//! JSON report read back, files written for it, a SARIF report checked against its schema.
// Each test binary uses some of them.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `policy-scan` run in the repository, with `stdin` on its standard input and `path_env` as
/// its PATH when given.
pub fn run(args: &[&str], stdin: Option<&str>, path_env: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_policy-scan"));
    command.current_dir(repo()).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(path) = path_env {
        command.env("PATH", path);
    }
    let mut child = command.spawn().expect("runs");
    if let Some(text) = stdin {
        // A run that stops on a usage error exits without reading: a broken pipe is its answer.
        if let Err(e) = child.stdin.take().expect("stdin").write_all(text.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing standard input: {e}");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("finishes")
}

/// `policy-scan <command> --format json <args>`: its exit code and the report it printed.
pub fn json_run(command: &str, args: &[&str], stdin: Option<&str>, path_env: Option<&str>) -> (i32, Value) {
    let mut all = vec![command, "--format", "json"];
    all.extend_from_slice(args);
    let out = run(&all, stdin, path_env);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().expect("exit code"), report)
}

/// Writes `text` to `dir/name` (making its directories); the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

/// Where a SARIF report breaks the SARIF 2.1.0 schema (tests/fixtures/sarif), one line a problem.
pub fn sarif_schema_problems(sarif: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/fixtures/sarif/sarif-schema-2.1.0.json")).expect("schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    validator.iter_errors(sarif).map(|e| format!("{e} at {}", e.instance_path())).collect()
}
