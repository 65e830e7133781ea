package gatehouse.kubernetes.allowed_registries_test

import data.gatehouse.kubernetes.allowed_registries as registries

scaleway := {"registries": ["rg.fr-par.scw.cloud/"]}

review(kind, obj) := {
	"review": {
		"kind": {"group": "apps", "version": "v1", "kind": kind},
		"namespace": "shop",
		"operation": "CREATE",
		"object": object.union({"metadata": {"name": "web", "namespace": "shop"}}, obj),
	},
	"parameters": scaleway,
}

template(spec) := {"spec": {"template": {"spec": spec}}}

deployment(spec) := review("Deployment", template(spec))

pod(spec) := review("Pod", {"spec": spec})

with_parameters(doc, parameters) := object.union(doc, {"parameters": parameters})

with_images(images) := deployment({"containers": [{"name": sprintf("c%d", [i]), "image": image} | some i, image in images]})

violations_of(inp) := v if {
	v := registries.violation with input as inp
}

# How many violations each image raises alone in a Deployment, under the given prefixes.
counts(images, prefixes) := [n |
	some image in images
	n := count(registries.violation) with input as with_images([image]) with input.parameters as {"registries": prefixes}
]

test_images_from_the_allowed_registry_pass if {
	images := [
		"rg.fr-par.scw.cloud/shop/web:1.4.2",
		"rg.fr-par.scw.cloud/shop/web@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"rg.fr-par.scw.cloud/platform/tools/wait-for:2",
	]
	counts(images, ["rg.fr-par.scw.cloud/"]) == [0, 0, 0]
}

test_images_from_elsewhere_are_reported if {
	images := [
		"nginx:1.27",
		"bitnami/redis:7.4",
		"quay.io/prometheus/prometheus:v2.54.1",
		"rg.nl-ams.scw.cloud/shop/web:1.4.2",
		"rg.fr-par.scw.cloud.attacker.example/shop/web:1",
		"rg.fr-par.scw.cloud:443/shop/web:1",
		"localhost:5000/web:1",
	]
	counts(images, ["rg.fr-par.scw.cloud/"]) == [1, 1, 1, 1, 1, 1, 1]
}

test_docker_hub_references_are_normalized if {
	library := ["nginx", "nginx:1.27", "docker.io/nginx:1.27", "index.docker.io/nginx:1.27", "docker.io/library/nginx:1.27", "nginx@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
	counts(library, ["docker.io/library/"]) == [0, 0, 0, 0, 0, 0]
	counts(library, ["docker.io/library/nginx:"]) == [1, 0, 0, 0, 0, 1]
	counts(library, ["index.docker.io/", "nginx"]) == [1, 1, 1, 1, 1, 1]
	org := ["bitnami/redis:7.4", "docker.io/bitnami/redis:7.4"]
	counts(org, ["docker.io/bitnami/"]) == [0, 0]
	counts(org, ["docker.io/library/"]) == [1, 1]
}

test_a_first_segment_is_a_registry_only_with_a_dot_a_port_localhost_or_uppercase if {
	# "registry/app" is the Docker Hub user "registry", not a registry host.
	counts(["registry/app:1", "team/app:1"], ["registry/", "team/"]) == [1, 1]
	counts(["registry/app:1", "team/app:1"], ["docker.io/registry/", "docker.io/team/"]) == [0, 0]
	counts(["registry:5000/team/app:1"], ["registry:5000/"]) == [0]
	counts(["localhost/app:1", "localhost:5000/app:1"], ["localhost/", "localhost:5000/"]) == [0, 0]
	counts(["Registry/app:1"], ["Registry/"]) == [0]
	counts(["registry.local/app"], ["registry.local/"]) == [0]
}

test_a_repository_prefix_narrows_the_registry if {
	images := ["rg.fr-par.scw.cloud/payments/ledger:4.2.0", "rg.fr-par.scw.cloud/shop/web:1.4.2"]
	counts(images, ["rg.fr-par.scw.cloud/payments/"]) == [0, 1]
	counts(images, ["rg.fr-par.scw.cloud/payments/", "rg.fr-par.scw.cloud/shop/"]) == [0, 0]
}

test_the_message_names_the_normalized_image_and_the_allowed_prefixes if {
	v := violations_of(with_images(["rg.fr-par.scw.cloud/shop/web:1.4.2", "nginx:1.27"]))
	v == {{
		"msg": "Deployment \"web\" container \"c1\" uses image \"nginx:1.27\" (docker.io/library/nginx:1.27), which is not from an allowed registry (rg.fr-par.scw.cloud/): push it through CI to one of them",
		"path": "/spec/template/spec/containers/1/image",
	}}
	w := violations_of(with_parameters(with_images(["quay.io/prometheus/prometheus:v2.54.1"]), {"registries": ["rg.fr-par.scw.cloud/", "ghcr.io/acme/"]}))
	[x.msg | some x in w] == ["Deployment \"web\" container \"c0\" uses image \"quay.io/prometheus/prometheus:v2.54.1\", which is not from an allowed registry (ghcr.io/acme/, rg.fr-par.scw.cloud/): push it through CI to one of them"]
}

test_an_empty_or_malformed_list_allows_nothing if {
	counts(["rg.fr-par.scw.cloud/shop/web:1"], []) == [1]
	counts(["rg.fr-par.scw.cloud/shop/web:1"], [null, 3]) == [1]
	n := count(registries.violation) with input as with_images(["rg.fr-par.scw.cloud/shop/web:1"]) with input.parameters as {"registries": null}
	n == 1
	v := violations_of(with_parameters(with_images(["rg.fr-par.scw.cloud/shop/web:1"]), {"registries": []}))
	[x.msg | some x in v] == ["Deployment \"web\" container \"c0\" uses image \"rg.fr-par.scw.cloud/shop/web:1\", which is not from an allowed registry (the registries parameter lists none): push it through CI to one of them"]
}

test_init_and_ephemeral_containers_are_checked if {
	spec := {
		"initContainers": [{"name": "wait", "image": "busybox:1.36"}],
		"containers": [{"name": "app", "image": "rg.fr-par.scw.cloud/shop/app:1.0"}],
		"ephemeralContainers": [{"name": "debug", "image": "nicolaka/netshoot:v0.13"}],
	}
	v := violations_of(pod(spec))
	{[x.path, x.msg] | some x in v} == {
		[
			"/spec/initContainers/0/image",
			"Pod \"web\" initContainer \"wait\" uses image \"busybox:1.36\" (docker.io/library/busybox:1.36), which is not from an allowed registry (rg.fr-par.scw.cloud/): push it through CI to one of them",
		],
		[
			"/spec/ephemeralContainers/0/image",
			"Pod \"web\" ephemeralContainer \"debug\" uses image \"nicolaka/netshoot:v0.13\" (docker.io/nicolaka/netshoot:v0.13), which is not from an allowed registry (rg.fr-par.scw.cloud/): push it through CI to one of them",
		],
	}
}

test_every_workload_kind_is_checked if {
	spec := {"containers": [{"name": "app", "image": "nginx:1.27"}]}
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
		{"containers": "nginx"},
		{"containers": {"name": "app", "image": "nginx"}},
		{"containers": [null, "nginx", {"name": "app"}, {"name": "app", "image": null}, {"name": "app", "image": ""}, {"name": "app", "image": {"repository": "nginx"}}]},
	]
	[n | some spec in shapes; n := count(violations_of(deployment(spec)))] == [0, 0, 0, 0, 0]
	count(violations_of(review("Deployment", {"spec": null}))) == 0
	count(violations_of(pod(null))) == 0
}

test_deletes_and_objects_being_deleted_are_let_through if {
	spec := {"containers": [{"name": "app", "image": "nginx:1.27"}]}
	deletion := {"review": {"kind": {"kind": "Pod"}, "operation": "DELETE", "object": null, "oldObject": {"spec": spec}}, "parameters": scaleway}
	count(violations_of(deletion)) == 0
	going := object.union(pod(spec), {"review": {"object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations_of(going)) == 0
	update := object.union(pod(spec), {"review": {"operation": "UPDATE"}})
	count(violations_of(update)) == 1
}
