//! Waiver files (`--waivers`) and the waiver annotation of a resource.
#![no_main]

use std::path::Path;

use gatehouse_engine::waivers;
use gatehouse_engine::yaml::Position;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let known = |id: &str| id == "require-probes" || id == "no-inline-secrets";
    let _ = waivers::parse_file_text(Path::new("waivers.yaml"), text, &known);
    let _ = waivers::from_annotation(text, Path::new("app.yaml"), Position { line: 3, column: 5 }, &known);
});
