//! Verification against a real OCI registry on loopback (see `gatehouse_signatures::testing`):
//! signed, unsigned, foreign-key and tampered images, the cache by digest checked against the
//! registry's own access log, and registries that are down or silent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gatehouse_signatures::cache::Source;
use gatehouse_signatures::testing::{LoopbackRegistry, key_pair, push_image, sign, tools};
use gatehouse_signatures::{CacheSettings, Digest, KeySet, PublicKey, Registry, Verdict, Verifier};

fn verifier_for(host: &str, timeout: Duration) -> Verifier {
    Verifier::new(Registry::new(vec![host.to_string()], timeout).expect("client"), CacheSettings::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked_against_a_real_registry_and_verdicts_cached_by_digest() {
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let registry = LoopbackRegistry::start(dir);
    let host = registry.host.clone();
    let (ours, ours_pem) = key_pair(dir, "ours");
    let (theirs, _) = key_pair(dir, "theirs");
    let keys = KeySet::new(vec![PublicKey::from_pem("ours", &ours_pem).expect("key")]);

    let signed = push_image(dir, &host, "shop/web", "v1");
    sign(dir, &host, "shop/web", &signed, &ours, false);
    let unsigned = push_image(dir, &host, "shop/unsigned", "v1");
    let foreign = push_image(dir, &host, "shop/foreign", "v1");
    sign(dir, &host, "shop/foreign", &foreign, &theirs, false);
    let tampered = push_image(dir, &host, "shop/tampered", "v1");
    sign(dir, &host, "shop/tampered", &tampered, &ours, true);
    let verifier = verifier_for(&host, Duration::from_secs(5));

    let (verdict, _) = verifier.verify(&format!("{host}/shop/web:v1"), &keys).await;
    assert_eq!(verdict, Verdict::Verified { digest: Digest::parse(&signed).expect("digest"), key: "ours".into() });
    let (verdict, _) = verifier.verify(&format!("{host}/shop/unsigned:v1"), &keys).await;
    assert_eq!(verdict, Verdict::Unsigned { digest: Digest::parse(&unsigned).expect("digest") });
    let (verdict, _) = verifier.verify(&format!("{host}/shop/foreign:v1"), &keys).await;
    assert!(
        matches!(&verdict, Verdict::Invalid { reasons, .. } if reasons[0].contains("none of the keys (ours)")),
        "{verdict:?}"
    );
    let (verdict, _) = verifier.verify(&format!("{host}/shop/tampered:v1"), &keys).await;
    assert!(matches!(&verdict, Verdict::Invalid { .. }), "a tampered payload: {verdict:?}");
    let (verdict, _) = verifier.verify(&format!("{host}/shop/web:v2"), &keys).await;
    assert!(
        matches!(&verdict, Verdict::Malformed { reason } if reason.contains("no such image or tag")),
        "{verdict:?}"
    );

    // The same digest again, by digest: no registry call at all, by the registry's own log.
    let before = registry.requests();
    let (verdict, source) = verifier.verify(&format!("{host}/shop/web@{signed}"), &keys).await;
    assert!(matches!(verdict, Verdict::Verified { .. }) && source == Source::Cached, "{verdict:?} {source:?}");
    assert_eq!(registry.requests(), before, "a cached digest asks the registry nothing");

    // Twenty concurrent admissions of a new image share one lookup.
    let fresh = push_image(dir, &host, "shop/fresh", "v1");
    sign(dir, &host, "shop/fresh", &fresh, &ours, false);
    let verifier = Arc::new(verifier);
    let before = registry.requests().len();
    let mut checks = Vec::new();
    for _ in 0..20 {
        let (verifier, keys, image) = (Arc::clone(&verifier), keys.clone(), format!("{host}/shop/fresh@{fresh}"));
        checks.push(tokio::spawn(async move { verifier.verify(&image, &keys).await }));
    }
    for check in checks {
        assert!(matches!(check.await.expect("check").0, Verdict::Verified { .. }));
    }
    let asked: Vec<String> = registry.requests().split_off(before);
    assert_eq!(asked.len(), 2, "the signature manifest and its payload, once: {asked:?}");
    assert!(asked[0].contains("/manifests/sha256-") && asked[1].contains("/blobs/sha256:"), "{asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_is_down_or_silent_is_unavailable_within_the_timeout() {
    // Nothing listens: refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("address");
    let verifier = verifier_for(&closed.to_string(), Duration::from_millis(500));
    let keys = KeySet::new(Vec::new());
    let started = Instant::now();
    let (verdict, _) = verifier.verify(&format!("{closed}/shop/web:v1"), &keys).await;
    assert!(matches!(&verdict, Verdict::Unavailable { reason } if reason.contains(&closed.to_string())), "{verdict:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // A registry that accepts and never answers: unavailable once the timeout passes.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let address = silent.local_addr().expect("address").to_string();
    std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(30));
        drop(held);
    });
    let verifier = verifier_for(&address, Duration::from_millis(300));
    let started = Instant::now();
    let (verdict, _) = verifier.verify(&format!("{address}/shop/web@sha256:{}", "a".repeat(64)), &keys).await;
    assert!(
        matches!(&verdict, Verdict::Unavailable { reason } if reason.contains("no answer within 300 ms")),
        "{verdict:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerability_attestations_are_judged_by_signer_subject_age_and_findings() {
    use gatehouse_signatures::attestation::{Finding, Requirement, Severity};
    use gatehouse_signatures::testing::attest;
    use gatehouse_signatures::{AttestationVerdict, Reference};
    if !tools() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();
    let registry = LoopbackRegistry::start(dir);
    let host = registry.host.clone();
    let (ours, ours_pem) = key_pair(dir, "ours");
    let (theirs, _) = key_pair(dir, "theirs");
    let keys = KeySet::new(vec![PublicKey::from_pem("ours", &ours_pem).expect("key")]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let time = |seconds_ago: u64| gatehouse_signatures::attestation::rfc3339(now - seconds_ago);
    let mut images = Vec::new();
    for (name, signer, ago, vulnerabilities) in [
        ("clean", Some(&ours), 3_600, vec![("CVE-2024-0001", "LOW", "1.1")]),
        ("old", Some(&ours), 30 * 86_400, vec![]),
        ("vulnerable", Some(&ours), 60, vec![("CVE-2024-0002", "CRITICAL", "3.0.3"), ("CVE-2024-0003", "HIGH", "")]),
        ("foreign", Some(&theirs), 60, vec![]),
        ("missing", None, 0, vec![]),
    ] {
        let repository = format!("shop/{name}");
        let digest = push_image(dir, &host, &repository, "v1");
        if let Some(signer) = signer {
            attest(dir, &host, &repository, &digest, signer, &time(ago), &vulnerabilities);
        }
        images.push((name, Reference::parse(&format!("{host}/{repository}:v1")).expect("reference"), digest));
    }
    let verifier = verifier_for(&host, Duration::from_secs(5));
    let need = Requirement { max_age_seconds: 7 * 86_400, severity: Severity::High, ignore_unfixed: false };
    let mut found = std::collections::BTreeMap::new();
    for (name, image, digest) in &images {
        let digest = Digest::parse(digest).expect("digest");
        found.insert(*name, verifier.attestation(image, &digest, &keys, &need).await.0);
    }
    assert!(matches!(found["clean"], AttestationVerdict::Checked(Finding::Passed { .. })), "{found:?}");
    assert!(matches!(found["old"], AttestationVerdict::Checked(Finding::Stale { .. })), "{found:?}");
    assert!(
        matches!(&found["vulnerable"], AttestationVerdict::Checked(Finding::Vulnerable { findings, .. }) if findings == &["CVE-2024-0002", "CVE-2024-0003"]),
        "{found:?}"
    );
    assert!(
        matches!(&found["foreign"], AttestationVerdict::Checked(Finding::Invalid(r)) if r[0].contains("none of the keys")),
        "{found:?}"
    );
    assert_eq!(found["missing"], AttestationVerdict::Checked(Finding::Missing));
    // Only the fixable finding counts when unfixed ones are ignored; a passing verdict is cached.
    let (_, image, digest) = &images[2];
    let digest = Digest::parse(digest).expect("digest");
    let fixable = Requirement { ignore_unfixed: true, ..need.clone() };
    let (verdict, _) = verifier.attestation(image, &digest, &keys, &fixable).await;
    assert!(
        matches!(&verdict, AttestationVerdict::Checked(Finding::Vulnerable { findings, .. }) if findings == &["CVE-2024-0002"]),
        "{verdict:?}"
    );
    let (_, image, digest) = &images[0];
    let (_, source) = verifier.attestation(image, &Digest::parse(digest).expect("digest"), &keys, &need).await;
    assert_eq!(source, Source::Cached);
}
