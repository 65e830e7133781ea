//! Terraform plan JSON (`terraform show -json`), as the scanner recognises and reads it.
#![no_main]

use gatehouse_engine::terraform::plan::{Plan, looks_like_plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if !looks_like_plan(&value) {
        return;
    }
    if let Ok(plan) = Plan::from_json(&value) {
        for change in plan.resources.iter().take(100) {
            let _ = (change.address(), change.resource_type(), change.configuration_address(), change.resource());
        }
    }
});
