package gatehouse.kubernetes.verify_image_signatures_test

import data.gatehouse.kubernetes.verify_image_signatures as signatures

signed := "registry.example/shop/web:1.4.2"

other := "registry.example/shop/worker:2.0"

verified := {"verdict": "verified", "digest": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "key": "release", "rule": "shop"}

review(kind, obj, op) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": kind},
	"namespace": "shop",
	"operation": op,
	"object": object.union({"metadata": {"name": "web", "namespace": "shop"}}, obj),
}}

deployment(spec, images) := object.union(review("Deployment", {"spec": {"template": {"spec": spec}}}, "CREATE"), {"images": images})

containers(images) := {"containers": [{"name": sprintf("c%d", [i]), "image": image} | some i, image in images]}

violations(inp) := v if {
	v := signatures.violation with input as inp
}

test_verified_images_and_images_no_rule_covers_pass if {
	count(violations(deployment(containers([signed, other]), {signed: verified}))) == 0
}

test_reviews_without_signature_checks_are_not_judged if {
	count(violations(review("Deployment", {"spec": {"template": {"spec": containers([signed])}}}, "CREATE"))) == 0
}

test_every_rejected_verdict_is_a_violation_with_its_reason if {
	results := {
		"unsigned": {"verdict": "unsigned", "rule": "shop"},
		"invalid": {"verdict": "invalid", "reasons": ["signature 1: made by none of the keys (release)"], "rule": "shop"},
		"unavailable": {"verdict": "unavailable", "reason": "no answer within 2000 ms", "rule": "shop", "onRegistryError": "deny"},
		"malformed": {"verdict": "malformed", "reason": "no such image or tag", "rule": "shop"},
	}
	expected := {
		"unsigned": "which is not signed",
		"invalid": "made by none of the keys (release)",
		"unavailable": "could not be checked: no answer within 2000 ms",
		"malformed": "cannot be checked: no such image or tag",
	}
	every verdict, result in results {
		found := violations(deployment(containers([signed]), {signed: result}))
		count(found) == 1
		some v in found
		contains(v.msg, expected[verdict])
		contains(v.msg, `signature rule "shop"`)
		v.path == "/spec/template/spec/containers/0/image"
		v.details.verdict == verdict
	}
}

test_a_registry_error_is_let_through_only_when_the_rule_allows_it if {
	down := {"verdict": "unavailable", "reason": "connection refused", "rule": "shop"}
	count(violations(deployment(containers([signed]), {signed: object.union(down, {"onRegistryError": "allow"})}))) == 0
	count(violations(deployment(containers([signed]), {signed: object.union(down, {"onRegistryError": "deny"})}))) == 1
	count(violations(deployment(containers([signed]), {signed: down}))) == 1
}

test_init_and_ephemeral_containers_and_every_workload_kind_are_checked if {
	spec := {"containers": [{"name": "a", "image": other}], "initContainers": [{"name": "i", "image": signed}], "ephemeralContainers": [{"name": "e", "image": signed}]}
	found := violations(deployment(spec, {signed: {"verdict": "unsigned", "rule": "shop"}}))
	{v.path | some v in found} == {"/spec/template/spec/initContainers/0/image", "/spec/template/spec/ephemeralContainers/0/image"}
	cron := object.union(review("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": containers([signed])}}}}}, "CREATE"), {"images": {signed: {"verdict": "unsigned"}}})
	{v.path | some v in violations(cron)} == {"/spec/jobTemplate/spec/template/spec/containers/0/image"}
	pod := object.union(review("Pod", {"spec": containers([signed])}, "CREATE"), {"images": {signed: {"verdict": "unsigned"}}})
	{v.path | some v in violations(pod)} == {"/spec/containers/0/image"}
}

test_missing_and_odd_fields_do_not_break_it if {
	count(violations(deployment({"containers": [{"name": "a"}, {"name": "b", "image": 7}]}, {signed: {"verdict": "unsigned"}}))) == 0
	count(violations(deployment({"containers": "nope"}, {signed: {"verdict": "unsigned"}}))) == 0
	found := violations(deployment(containers([signed]), {signed: {"verdict": "revoked"}}))
	some v in found
	contains(v.msg, `unknown verdict "revoked"`)
	contains(v.msg, `signature rule "?"`)
}

test_deletes_are_let_through if {
	inp := object.union(review("Deployment", {"spec": {"template": {"spec": containers([signed])}}}, "DELETE"), {"images": {signed: {"verdict": "unsigned"}}})
	count(violations(inp)) == 0
}

with_attestation(a) := {signed: object.union(verified, {"attestation": a, "onRegistryError": "deny"})}

test_a_rule_that_asks_for_an_attestation_needs_a_passing_one if {
	count(violations(deployment(containers([signed]), with_attestation({"verdict": "passed", "scannedAt": "2026-11-28T10:00:00Z"})))) == 0
	expected := {
		"missing": [{"verdict": "missing"}, "without a signed vulnerability attestation"],
		"stale": [{"verdict": "stale", "scannedAt": "2026-10-01T10:00:00Z"}, "scan (2026-10-01T10:00:00Z) is older than the rule allows"],
		"vulnerable": [
			{"verdict": "vulnerable", "scannedAt": "2026-11-28T10:00:00Z", "findings": ["CVE-1", "CVE-2", "CVE-3", "CVE-4", "CVE-5", "CVE-6"]},
			"found 6 at or above the rule's severity: CVE-1, CVE-2, CVE-3, CVE-4, CVE-5",
		],
		"invalid": [{"verdict": "invalid", "reasons": ["attestation 1: signed by none of the keys"]}, "not valid: attestation 1: signed by none of the keys"],
		"unavailable": [{"verdict": "unavailable", "reason": "connection refused"}, "could not be read: connection refused"],
		"odd": [{"verdict": "vulnerable", "findings": "CVE-1"}, "scan (at an unknown time) found 0"],
	}
	every _, case in expected {
		found := violations(deployment(containers([signed]), with_attestation(case[0])))
		count(found) == 1
		some v in found
		contains(v.msg, case[1])
	}
	# A registry error on the attestation is let through only when the rule allows it.
	allowing := {signed: object.union(verified, {"attestation": {"verdict": "unavailable"}, "onRegistryError": "allow"})}
	count(violations(deployment(containers([signed]), allowing))) == 0
}
