//! .tf sources read statically into a plan-shaped document (parsing, expressions, module calls
//! that resolve to nothing).
#![no_main]

use gatehouse_engine::terraform::hcl::Loader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // A directory that does not exist: a local module call reads nothing from the disk.
    let dir = std::path::Path::new("/nonexistent/gatehouse-fuzz");
    let _ = Loader::new().load_text(dir, "fuzz.tf", text.to_string());
});
