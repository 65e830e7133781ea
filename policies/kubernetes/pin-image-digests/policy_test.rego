package gatehouse.kubernetes.pin_image_digests_test

import data.gatehouse.kubernetes.pin_image_digests as pin

digest := "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

web := "registry.example/shop/web:1.4.2"

verified := {"verdict": "verified", "digest": digest, "key": "release", "rule": "shop"}

review(kind, obj, op, images) := {"images": images, "review": {
	"kind": {"group": "apps", "version": "v1", "kind": kind},
	"namespace": "shop",
	"operation": op,
	"object": object.union({"metadata": {"name": "web", "namespace": "shop"}}, obj),
}}

template(spec) := {"spec": {"template": {"spec": spec}}}

patches(inp) := p if {
	p := pin.patch with input as inp
}

test_a_verified_tag_is_pinned_to_its_digest if {
	inp := review("Deployment", template({"containers": [{"name": "web", "image": web}]}), "CREATE", {web: verified})
	patches(inp) == {{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": concat("@", [web, digest])}}
}

test_every_container_list_and_kind_is_pinned if {
	spec := {"containers": [{"name": "a", "image": web}], "initContainers": [{"name": "i", "image": web}], "ephemeralContainers": [{"name": "e", "image": web}]}
	{p.path | some p in patches(review("Deployment", template(spec), "CREATE", {web: verified}))} == {
		"/spec/template/spec/containers/0/image",
		"/spec/template/spec/initContainers/0/image",
		"/spec/template/spec/ephemeralContainers/0/image",
	}
	cron := {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": web}]}}}}}}
	{p.path | some p in patches(review("CronJob", cron, "CREATE", {web: verified}))} == {"/spec/jobTemplate/spec/template/spec/containers/0/image"}
	{p.path | some p in patches(review("Pod", {"spec": {"containers": [{"name": "a", "image": web}]}}, "CREATE", {web: verified}))} == {"/spec/containers/0/image"}
}

test_unverified_pinned_and_uncovered_images_are_left_alone if {
	count(patches(review("Deployment", template({"containers": [{"name": "web", "image": web}]}), "CREATE", {web: {"verdict": "unsigned", "digest": digest}}))) == 0
	count(patches(review("Deployment", template({"containers": [{"name": "web", "image": concat("@", [web, digest])}]}), "CREATE", {concat("@", [web, digest]): verified}))) == 0
	count(patches(review("Deployment", template({"containers": [{"name": "web", "image": "other/app:1"}]}), "CREATE", {web: verified}))) == 0
	count(patches(review("Deployment", template({"containers": [{"name": "web", "image": web}]}), "CREATE", {web: object.union(verified, {"digest": "md5:00"})}))) == 0
	count(patches(review("Deployment", template({"containers": [{"name": "web", "image": web}]}), "CREATE", {}))) == 0
}

test_immutable_templates_deletes_and_deleting_objects_are_left_alone if {
	pod := {"spec": {"containers": [{"name": "a", "image": web}]}}
	count(patches(review("Pod", pod, "UPDATE", {web: verified}))) == 0
	count(patches(review("Job", template({"containers": [{"name": "a", "image": web}]}), "UPDATE", {web: verified}))) == 0
	count(patches(review("Deployment", template({"containers": [{"name": "a", "image": web}]}), "UPDATE", {web: verified}))) == 1
	count(patches(review("Deployment", template({"containers": [{"name": "a", "image": web}]}), "DELETE", {web: verified}))) == 0
	deleting := object.union(template({"containers": [{"name": "a", "image": web}]}), {"metadata": {"deletionTimestamp": "2026-11-28T10:00:00Z"}})
	count(patches(review("Deployment", deleting, "UPDATE", {web: verified}))) == 0
}
