//! The configuration file (`--config`): per-policy parameters, enforcement, namespace overrides.
#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use gatehouse_engine::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Config::from_source(Path::new("gatehouse.yaml"), text) {
        let labels = BTreeMap::from([("environment".to_string(), "production".to_string())]);
        let _ = config.namespace_enforcement("require-probes", &labels);
    }
});
