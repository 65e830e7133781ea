//! Running a renderer or converter (helm, kubectl, terraform) as a process, with a time bound
//! and a bound on what it writes.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// What a process is allowed: `time` to finish, `output` bytes on each of its pipes.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub time: Duration,
    pub output: u64,
}

/// Reads a pipe to its end or until it has given more than `limit` bytes, which `over` then
/// says; the process is killed rather than let fill memory.
fn drain<R: Read + Send + 'static>(pipe: Option<R>, limit: u64, over: Arc<AtomicBool>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = pipe {
            let _ = pipe.take(limit + 1).read_to_end(&mut bytes);
        }
        if bytes.len() as u64 > limit {
            over.store(true, Ordering::Release);
        }
        bytes
    })
}

/// Runs `command` to its end, reading both pipes. It is killed, and an error says which bound,
/// once it runs longer than `bounds.time` or writes more than `bounds.output` bytes to a pipe.
pub fn run_bounded(mut command: Command, bounds: Bounds) -> std::io::Result<Output> {
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn()?;
    let started = std::time::Instant::now();
    let over = Arc::new(AtomicBool::new(false));
    let out = drain(child.stdout.take(), bounds.output, Arc::clone(&over));
    let err = drain(child.stderr.take(), bounds.output, Arc::clone(&over));
    loop {
        let exceeded = if over.load(Ordering::Acquire) {
            Some(format!("wrote more than {} bytes", bounds.output))
        } else if started.elapsed() > bounds.time {
            Some(format!("no answer within {} s", bounds.time.as_secs_f64()))
        } else {
            None
        };
        if let Some(reason) = exceeded {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!("{reason}; stopped")));
        }
        if let Some(status) = child.try_wait()? {
            let stdout = out.join().unwrap_or_default();
            let stderr = err.join().unwrap_or_default();
            if over.load(Ordering::Acquire) {
                return Err(std::io::Error::other(format!("wrote more than {} bytes; stopped", bounds.output)));
            }
            return Ok(Output { status, stdout, stderr });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn a_process_that_writes_without_end_is_stopped_at_the_output_bound() {
        let bounds = Bounds { time: Duration::from_secs(600), output: 1 << 20 };
        let error = run_bounded(sh("yes gatehouse"), bounds).expect_err("stopped");
        assert_eq!(error.to_string(), "wrote more than 1048576 bytes; stopped");
        let error = run_bounded(sh("yes gatehouse >&2"), bounds).expect_err("stderr is bounded too");
        assert!(error.to_string().starts_with("wrote more than"), "{error}");
    }

    #[test]
    fn a_process_that_does_not_finish_is_stopped_at_the_time_bound() {
        let bounds = Bounds { time: Duration::from_millis(300), output: 1 << 20 };
        let error = run_bounded(sh("sleep 600"), bounds).expect_err("stopped");
        assert_eq!(error.to_string(), "no answer within 0.3 s; stopped");
    }

    #[test]
    fn output_within_the_bounds_is_returned_whole() {
        let bounds = Bounds { time: Duration::from_secs(600), output: 4096 };
        let output = run_bounded(sh("printf '%4096s' x; echo warning >&2; exit 3"), bounds).expect("within bounds");
        assert_eq!(output.stdout.len(), 4096);
        assert_eq!(output.stderr, b"warning\n");
        assert_eq!(output.status.code(), Some(3));
    }
}
