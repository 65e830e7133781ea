//! The Gatehouse policy engine: one Rego engine and one policy bundle, used in the same way by
//! the admission webhook and the CI scanner.
//!
//! ```no_run
//! use gatehouse_engine::{Bundle, Config, Evaluator, Inventory, Review};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bundle = Bundle::load("policies".as_ref(), &Config::default())?;
//! let mut evaluator = Evaluator::new(&bundle, &Inventory::new())?;
//! let object = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
//! let decision = evaluator.evaluate(&Review::from_object(object, "default")?);
//! for v in &decision.violations {
//!     println!("{} {} {}: {}", v.policy, v.enforcement, v.path, v.message);
//! }
//! # Ok(()) }
//! ```

pub mod bundle;
pub mod config;
pub mod diagnostic;
pub mod evaluate;
pub mod guidelines;
pub mod images;
pub mod inventory;
pub mod kinds;
pub mod metadata;
pub mod parameters;
pub mod rego_text;
pub mod review;
pub mod terraform;
pub mod testing;
pub mod waivers;
pub mod yaml;

pub use bundle::{Bundle, Policy};
pub use config::Config;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use evaluate::{Decision, EvaluationError, Evaluator, PatchOperation, PolicyTiming, Violation};
pub use inventory::Inventory;
pub use metadata::{Class, Enforcement, Mode, PolicyMetadata, Severity};
pub use review::{Review, ReviewError};

/// Turns off backtrace capture for library errors (`RUST_LIB_BACKTRACE=0`) unless the user set
/// it, keeping panic backtraces. regorus raises and discards `anyhow` errors while it evaluates;
/// with `RUST_BACKTRACE=1` in the environment (common in CI) each one captures a backtrace, which
/// measured 30% slower evaluation. Call it first thing in `main`, before any thread starts.
pub fn quiet_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: called at the start of `main`, before any other thread exists, so no other
        // code reads or writes the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("RUST_LIB_BACKTRACE", "0");
        }
    }
}

impl std::fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.policy {
            Some(p) => write!(f, "policy {p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EvaluationError {}
