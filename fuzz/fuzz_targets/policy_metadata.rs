//! A policy's `policy.yaml`, as the bundle loader validates it.
#![no_main]

use std::path::Path;

use gatehouse_engine::metadata;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = Path::new("policies/kubernetes/require-probes/policy.yaml");
    if let Ok(m) = metadata::load(file, text, "require-probes", "kubernetes") {
        let _ = m.default_parameters();
        let _ = m.applies_to("apps", "Deployment");
    }
    let _ = metadata::load(Path::new("policies/terraform/x/policy.yaml"), text, "x", "terraform");
});
