//! YAML and JSON manifests as the scanner reads them: documents with source positions, objects
//! and `List` items, then a position for fields of every object found.
#![no_main]

use std::sync::Arc;

use gatehouse_engine::yaml::{Limits, SharedStrings};
use libfuzzer_sys::fuzz_target;
use policy_scan::documents::{self, Locator, Source};

// Small limits, so the fuzzer reaches them instead of running out of memory.
const LIMITS: Limits =
    Limits { max_input_bytes: 1 << 20, max_nodes_per_document: 20_000, max_depth: 64, max_documents: 200 };

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = Source { name: Arc::from("fuzz.yaml"), text: Arc::from(text) };
    let Ok(loaded) = documents::load(&source, &LIMITS, &mut SharedStrings::default()) else { return };
    let mut locator = Locator::new(LIMITS);
    for object in loaded.objects.iter().take(50) {
        for pointer in ["", "/metadata/name", "/spec/template/spec/containers/0/image", "/spec/0/x~1y", "/items/3"] {
            let _ = locator.locate(object, text, pointer);
        }
    }
});
