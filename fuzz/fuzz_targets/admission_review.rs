//! AdmissionReview bodies as the webhook reads them, before any evaluation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policy_webhook::admission;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = admission::parse(data) {
        let review = &request.review;
        let _ = (review.kind(), review.namespace(), review.name(), review.operation(), review.object());
        let _ = review.object_field("/metadata/annotations/gatehouse.dev~1waivers");
    }
});
