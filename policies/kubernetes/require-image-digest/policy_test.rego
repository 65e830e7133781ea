package gatehouse.kubernetes.require_image_digest_test

import data.gatehouse.kubernetes.require_image_digest as digest

sha := "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

review(kind, obj) := {"review": {
	"kind": {"group": "apps", "version": "v1", "kind": kind},
	"namespace": "shop",
	"operation": "CREATE",
	"object": object.union({"metadata": {"name": "web", "namespace": "shop"}}, obj),
}}

template(spec) := {"spec": {"template": {"spec": spec}}}

deployment(spec) := review("Deployment", template(spec))

pod(spec) := review("Pod", {"spec": spec})

with_images(images) := deployment({"containers": [{"name": sprintf("c%d", [i]), "image": image} | some i, image in images]})

violations_of(inp) := v if {
	v := digest.violation with input as inp
}

counts(images) := [n | some image in images; n := count(violations_of(with_images([image])))]

test_sha256_digests_pass if {
	pinned := [
		concat("@", ["app", sha]),
		concat("@", ["app:1.2", sha]),
		concat("@", ["app:latest", sha]),
		concat("@", ["registry:5000/team/app", sha]),
		concat("@", ["rg.fr-par.scw.cloud/shop/app:2.8.1", sha]),
	]
	counts(pinned) == [0, 0, 0, 0, 0]
}

test_tags_and_malformed_digests_are_reported if {
	loose := [
		"app",
		"app:1.2.3",
		"registry:5000/team/app:2.0",
		"app@sha256:9f86d081884c7d659a2feaa0c55ad015",
		"app@sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
		"app@sha512:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		concat("", ["app@", sha, "0"]),
		concat("@", ["app", sha, sha]),
		"app@",
	]
	counts(loose) == [1, 1, 1, 1, 1, 1, 1, 1, 1]
}

test_the_message_names_the_object_container_and_image if {
	v := violations_of(with_images([concat("@", ["app:1.0", sha]), "rg.fr-par.scw.cloud/shop/app:2.8.1"]))
	v == {{
		"msg": "Deployment \"web\" container \"c1\" uses image \"rg.fr-par.scw.cloud/shop/app:2.8.1\", which is not pinned by digest: only a digest guarantees that what runs is the image CI scanned; pin it as rg.fr-par.scw.cloud/shop/app:2.8.1@sha256:<digest>",
		"path": "/spec/template/spec/containers/1/image",
	}}
}

test_a_malformed_digest_is_named_as_such if {
	v := violations_of(with_images(["app:1.0@sha256:abc"]))
	[x.msg | some x in v] == ["Deployment \"web\" container \"c0\" uses image \"app:1.0@sha256:abc\", whose digest is not sha256 followed by 64 lowercase hexadecimal digits: only a digest guarantees that what runs is the image CI scanned; pin it as app:1.0@sha256:<digest>"]
}

test_init_and_ephemeral_containers_are_checked if {
	spec := {
		"initContainers": [{"name": "migrate", "image": "migrate:1.0"}],
		"containers": [{"name": "app", "image": concat("@", ["app:1.0", sha])}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
	}
	v := violations_of(pod(spec))
	{x.path | some x in v} == {"/spec/initContainers/0/image", "/spec/ephemeralContainers/0/image"}
	{x.msg | some x in v} == {
		"Pod \"web\" initContainer \"migrate\" uses image \"migrate:1.0\", which is not pinned by digest: only a digest guarantees that what runs is the image CI scanned; pin it as migrate:1.0@sha256:<digest>",
		"Pod \"web\" ephemeralContainer \"debug\" uses image \"busybox:1.36\", which is not pinned by digest: only a digest guarantees that what runs is the image CI scanned; pin it as busybox:1.36@sha256:<digest>",
	}
}

test_every_workload_kind_is_checked if {
	spec := {"containers": [{"name": "app", "image": "app:1.0"}]}
	paths := {kind: [x.path | some x in violations_of(review(kind, template(spec)))] |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"]
	}
	count(paths) == 6
	every p in paths {
		p == ["/spec/template/spec/containers/0/image"]
	}
	[x.path | some x in violations_of(pod(spec))] == ["/spec/containers/0/image"]
	cron := review("CronJob", {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}})
	[x.path | some x in violations_of(cron)] == ["/spec/jobTemplate/spec/template/spec/containers/0/image"]
}

test_missing_null_and_malformed_fields_raise_nothing if {
	shapes := [
		{},
		{"containers": null, "initContainers": null, "ephemeralContainers": null},
		{"containers": "app:1.0"},
		{"containers": {"name": "app", "image": "app:1.0"}},
		{"containers": [null, "app:1.0", {"name": "app"}, {"name": "app", "image": null}, {"name": "app", "image": ""}, {"name": "app", "image": ["app:1.0"]}]},
	]
	[n | some spec in shapes; n := count(violations_of(deployment(spec)))] == [0, 0, 0, 0, 0]
	count(violations_of(review("Deployment", {"spec": null}))) == 0
	count(violations_of(pod(null))) == 0
}

test_deletes_and_objects_being_deleted_are_let_through if {
	spec := {"containers": [{"name": "app", "image": "app:1.0"}]}
	deletion := {"review": {"kind": {"kind": "Pod"}, "operation": "DELETE", "object": null, "oldObject": {"spec": spec}}}
	count(violations_of(deletion)) == 0
	going := object.union(pod(spec), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations_of(going)) == 0
	update := object.union(pod(spec), {"review": {"operation": "UPDATE"}})
	count(violations_of(update)) == 1
}
