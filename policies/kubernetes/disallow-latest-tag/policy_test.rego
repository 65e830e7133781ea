package gatehouse.kubernetes.disallow_latest_tag_test

import data.gatehouse.kubernetes.disallow_latest_tag as latest

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
	v := latest.violation with input as inp
}

# How many violations each image raises alone in a Deployment.
counts(images) := [n | some image in images; n := count(violations_of(with_images([image])))]

test_version_tags_and_digests_pass if {
	pinned := [
		"nginx:1.27.3",
		"registry.example/team/app:1.4.2",
		"registry:5000/team/app:2.0",
		"localhost:5000/app:dev-3f2a1c9",
		"app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"app:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"app:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"registry:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"latest:1.0",
		"team/latest:2",
	]
	counts(pinned) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
}

test_latest_and_missing_tags_are_reported if {
	moving := [
		"nginx",
		"nginx:latest",
		"registry.example/team/app",
		"registry.example/team/app:latest",
		"registry:5000/team/app",
		"registry:5000/team/app:latest",
		"localhost/app",
	]
	counts(moving) == [1, 1, 1, 1, 1, 1, 1]
}

test_the_message_names_the_object_container_and_image if {
	v := violations_of(with_images(["nginx:1.27", "nginx:latest"]))
	v == {{
		"msg": "Deployment \"web\" container \"c1\" uses image \"nginx:latest\", tagged latest: latest moves, so a rollback would not bring back the image that ran; pin a version tag or a digest",
		"path": "/spec/template/spec/containers/1/image",
	}}
}

test_a_port_is_not_a_tag if {
	v := violations_of(with_images(["registry:5000/team/app"]))
	v == {{
		"msg": "Deployment \"web\" container \"c0\" uses image \"registry:5000/team/app\", which names no tag and so means :latest: latest moves, so a rollback would not bring back the image that ran; pin a version tag or a digest",
		"path": "/spec/template/spec/containers/0/image",
	}}
}

test_init_and_ephemeral_containers_are_checked if {
	spec := {
		"initContainers": [{"name": "migrate", "image": "migrate"}],
		"containers": [{"name": "app", "image": "app:1.0"}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:latest"}],
	}
	v := violations_of(pod(spec))
	{[x.path, x.msg] | some x in v} == {
		[
			"/spec/initContainers/0/image",
			"Pod \"web\" initContainer \"migrate\" uses image \"migrate\", which names no tag and so means :latest: latest moves, so a rollback would not bring back the image that ran; pin a version tag or a digest",
		],
		[
			"/spec/ephemeralContainers/0/image",
			"Pod \"web\" ephemeralContainer \"debug\" uses image \"busybox:latest\", tagged latest: latest moves, so a rollback would not bring back the image that ran; pin a version tag or a digest",
		],
	}
}

test_every_workload_kind_is_checked if {
	spec := {"containers": [{"name": "app", "image": "app"}]}
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

test_each_offending_container_is_reported if {
	spec := {"containers": [
		{"name": "a", "image": "a"},
		{"name": "b", "image": "b:1"},
		{"name": "c", "image": "c:latest"},
	]}
	{x.path | some x in violations_of(deployment(spec))} == {
		"/spec/template/spec/containers/0/image",
		"/spec/template/spec/containers/2/image",
	}
}

test_missing_null_and_malformed_fields_raise_nothing if {
	shapes := [
		{},
		{"containers": null, "initContainers": null, "ephemeralContainers": null},
		{"containers": "app:latest"},
		{"containers": {"name": "app", "image": "app:latest"}},
		{"containers": [null, "app:latest", {"name": "app"}, {"name": "app", "image": null}, {"name": "app", "image": ""}, {"name": "app", "image": 3}]},
	]
	[n | some spec in shapes; n := count(violations_of(deployment(spec)))] == [0, 0, 0, 0, 0]
	count(violations_of(review("Deployment", {"spec": null}))) == 0
	count(violations_of(review("Deployment", {"spec": {"template": "x"}}))) == 0
	count(violations_of(pod(null))) == 0
}

test_an_unnamed_container_and_a_numeric_name_still_read if {
	doc := object.union(deployment({"containers": [{"image": "app"}]}), {"review": {"object": {"metadata": {"name": 42}}}})
	[x.msg | some x in violations_of(doc)] == ["Deployment 42 container <unnamed> uses image \"app\", which names no tag and so means :latest: latest moves, so a rollback would not bring back the image that ran; pin a version tag or a digest"]
}

test_deletes_and_objects_being_deleted_are_let_through if {
	spec := {"containers": [{"name": "app", "image": "app:latest"}]}
	deletion := {"review": {"kind": {"kind": "Pod"}, "operation": "DELETE", "object": null, "oldObject": {"spec": spec}}}
	count(violations_of(deletion)) == 0
	going := object.union(pod(spec), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations_of(going)) == 0
	update := object.union(pod(spec), {"review": {"operation": "UPDATE"}})
	count(violations_of(update)) == 1
}
