//! Running a renderer or converter (helm, kubectl, terraform) as a process, with a time bound.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs `command` to its end, reading both pipes; kills it after `timeout`.
pub fn run_bounded(mut command: Command, timeout: Duration) -> std::io::Result<Output> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let started = std::time::Instant::now();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read = |pipe: Option<std::process::ChildStdout>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = std::io::Read::read_to_end(&mut p, &mut bytes);
            }
            bytes
        })
    };
    let out = read(stdout);
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = stderr {
            let _ = std::io::Read::read_to_end(&mut p, &mut bytes);
        }
        bytes
    });
    loop {
        if let Some(status) = child.try_wait()? {
            let stdout = out.join().unwrap_or_default();
            let stderr = err.join().unwrap_or_default();
            return Ok(Output { status, stdout, stderr });
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!("no answer within {timeout:?}")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
