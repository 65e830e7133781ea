package gatehouse.kubernetes.websocket_session_affinity_test

import data.gatehouse.kubernetes.websocket_session_affinity as policy

params := {
	"websocketAnnotation": "gatehouse.dev/websocket",
	"exemptionAnnotations": ["gatehouse.dev/session-affinity-delegated"],
}

ws := {"gatehouse.dev/websocket": "true"}

service(annotations, spec) := {
	"review": {
		"kind": {"group": "", "version": "v1", "kind": "Service"},
		"namespace": "chat",
		"operation": "CREATE",
		"object": {
			"apiVersion": "v1",
			"kind": "Service",
			"metadata": {"name": "gateway", "namespace": "chat", "annotations": annotations},
			"spec": object.union({"selector": {"app": "gateway"}, "ports": [{"name": "ws", "port": 80, "targetPort": 8080}]}, spec),
		},
	},
	"parameters": params,
}

violations(inp) := v if {
	v := policy.violation with input as inp
}

paths(inp) := {x.path | some x in violations(inp)}

missing_msg := "Service \"gateway\" is marked as WebSocket (gatehouse.dev/websocket: \"true\") but sets no spec.sessionAffinity (None by default): set spec.sessionAffinity: ClientIP so that each client's connections stay on one pod, or, where a gateway keeps the affinity with a cookie or header hash, annotate the Service with gatehouse.dev/session-affinity-delegated saying where"

test_client_ip_affinity_passes if {
	count(violations(service(ws, {"sessionAffinity": "ClientIP"}))) == 0
	count(violations(service(ws, {"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 3600}}}))) == 0
}

test_missing_affinity_is_reported_where_it_belongs if {
	violations(service(ws, {})) == {{"msg": missing_msg, "path": "/spec/sessionAffinity"}}
	violations(service(ws, {"sessionAffinity": null})) == {{"msg": missing_msg, "path": "/spec/sessionAffinity"}}
}

test_explicit_none_is_reported if {
	violations(service(ws, {"sessionAffinity": "None"})) == {{
		"msg": "Service \"gateway\" is marked as WebSocket (gatehouse.dev/websocket: \"true\") but its spec.sessionAffinity is \"None\": set spec.sessionAffinity: ClientIP so that each client's connections stay on one pod, or, where a gateway keeps the affinity with a cookie or header hash, annotate the Service with gatehouse.dev/session-affinity-delegated saying where",
		"path": "/spec/sessionAffinity",
	}}
	paths(service(ws, {"sessionAffinity": "clientip"})) == {"/spec/sessionAffinity"}
	paths(service(ws, {"sessionAffinity": true})) == {"/spec/sessionAffinity"}
}

test_services_not_marked_as_websocket_are_left_alone if {
	count(violations(service({}, {}))) == 0
	count(violations(service(null, {}))) == 0
	count(violations(service("gatehouse.dev/websocket=true", {}))) == 0
	count(violations(service({"gatehouse.dev/websocket": "false"}, {}))) == 0
	count(violations(service({"gatehouse.dev/websocket": true}, {}))) == 0
	count(violations(service({"websocket": "true"}, {}))) == 0
}

test_the_marker_value_is_read_in_any_case if {
	paths(service({"gatehouse.dev/websocket": "True"}, {})) == {"/spec/sessionAffinity"}
	paths(service({"gatehouse.dev/websocket": "TRUE"}, {})) == {"/spec/sessionAffinity"}
}

test_the_marker_is_a_parameter if {
	custom := object.union(service({"example.com/protocol-ws": "true"}, {}), {"parameters": {"websocketAnnotation": "example.com/protocol-ws"}})
	v := policy.violation with input as custom
	{x.path | some x in v} == {"/spec/sessionAffinity"}
	default_marker := object.union(service(ws, {}), {"parameters": {"websocketAnnotation": "example.com/protocol-ws"}})
	count(policy.violation) == 0 with input as default_marker
}

test_delegated_affinity_is_exempt if {
	count(violations(service(object.union(ws, {"gatehouse.dev/session-affinity-delegated": "envoy-gateway/chat-affinity"}), {}))) == 0
}

test_an_empty_or_false_delegation_does_not_exempt if {
	every value in ["", "  ", "false", "False", null, true] {
		p := {x.path | some x in policy.violation} with input as service(object.union(ws, {"gatehouse.dev/session-affinity-delegated": value}), {})
		p == {"/spec/sessionAffinity"}
	}
}

test_the_exemption_annotations_are_a_parameter if {
	annotated := object.union(ws, {"example.com/sticky-at": "ingress-nginx cookie"})
	custom := {"websocketAnnotation": "gatehouse.dev/websocket", "exemptionAnnotations": ["example.com/sticky-at", "other"]}
	count(policy.violation) == 0 with input as object.union(service(annotated, {}), {"parameters": custom})
	paths(service(annotated, {})) == {"/spec/sessionAffinity"}
	none := {"websocketAnnotation": "gatehouse.dev/websocket", "exemptionAnnotations": []}
	delegated := object.union(ws, {"gatehouse.dev/session-affinity-delegated": "gateway"})
	v := policy.violation with input as object.union(service(delegated, {}), {"parameters": none})
	[x.msg | some x in v] == ["Service \"gateway\" is marked as WebSocket (gatehouse.dev/websocket: \"true\") but sets no spec.sessionAffinity (None by default): set spec.sessionAffinity: ClientIP so that each client's connections stay on one pod"]
	two := {"websocketAnnotation": "gatehouse.dev/websocket", "exemptionAnnotations": ["a", "b"]}
	w := policy.violation with input as object.union(service(ws, {}), {"parameters": two})
	[x.msg | some x in w] == ["Service \"gateway\" is marked as WebSocket (gatehouse.dev/websocket: \"true\") but sets no spec.sessionAffinity (None by default): set spec.sessionAffinity: ClientIP so that each client's connections stay on one pod, or, where a gateway keeps the affinity with a cookie or header hash, annotate the Service with a or b saying where"]
}

test_headless_and_external_name_services_are_skipped if {
	count(violations(service(ws, {"clusterIP": "None"}))) == 0
	count(violations(service(ws, {"type": "ExternalName", "externalName": "chat.example.com"}))) == 0
	paths(service(ws, {"type": "LoadBalancer"})) == {"/spec/sessionAffinity"}
	paths(service(ws, {"type": "NodePort", "clusterIP": "10.0.0.12"})) == {"/spec/sessionAffinity"}
}

test_malformed_services_raise_no_error if {
	inp := service(ws, {})
	broken := object.union(inp, {"review": {"object": {"spec": "not a spec"}}})
	paths(broken) == {"/spec/sessionAffinity"}
	nameless := object.union(inp, {"review": {"object": {"metadata": {"name": 42}}}})
	[x.msg | some x in violations(nameless)] == [replace(missing_msg, "Service \"gateway\"", "Service 42")]
}

test_deletes_are_let_through if {
	count(violations(object.union(service(ws, {}), {"review": {"operation": "DELETE", "object": null}}))) == 0
	finalizing := object.union(service(ws, {}), {"review": {"operation": "UPDATE", "object": {"metadata": {"deletionTimestamp": "2025-01-01T00:00:00Z"}}}})
	count(violations(finalizing)) == 0
	update := object.union(service(ws, {}), {"review": {"operation": "UPDATE"}})
	paths(update) == {"/spec/sessionAffinity"}
}

test_a_service_without_spec_is_reported if {
	inp := service(ws, {})
	bare := {"review": {"kind": inp.review.kind, "object": {"metadata": {"name": "gateway", "annotations": ws}}}, "parameters": params}
	violations(bare) == {{"msg": missing_msg, "path": "/spec/sessionAffinity"}}
}

# Affinity kept by Envoy Gateway: an HTTPRoute to the Service and a BackendTrafficPolicy hashing
# clients onto endpoints for that route, found in the inventory of the Service's namespace.
route(name, backend_ref) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "HTTPRoute",
	"metadata": {"name": name, "namespace": "chat"},
	"spec": {"rules": [{"backendRefs": [object.union({"port": 80}, backend_ref)]}]},
}

hash_policy(namespace, name, spec) := {
	"apiVersion": "gateway.envoyproxy.io/v1alpha1",
	"kind": "BackendTrafficPolicy",
	"metadata": {"name": name, "namespace": namespace},
	"spec": spec,
}

sticky(hash) := {"type": "ConsistentHash", "consistentHash": {"type": hash}}

to_route(name) := {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": name}]}

inventory(objects) := {"namespace": {ns: {v: {k: {o.metadata.name: o |
	some o in objects
	o.metadata.namespace == ns
	o.apiVersion == v
	o.kind == k
}} |
	some x in objects
	x.metadata.namespace == ns
	v := x.apiVersion
	k := x.kind
} |
	some y in objects
	ns := y.metadata.namespace
}}

violations_among(objects) := v if {
	v := policy.violation with input as service(ws, {}) with data.inventory as inventory(objects)
}

test_a_gateway_hash_on_a_route_to_the_service_keeps_the_affinity if {
	every hash in ["Cookie", "Header", "SourceIP"] {
		count(violations_among([route("ws", {"name": "gateway"}), hash_policy("chat", "ws-affinity", object.union(to_route("ws"), {"loadBalancer": sticky(hash)}))])) == 0
	}
}

test_a_single_target_ref_and_a_v1beta1_route_count if {
	beta := object.union(route("ws", {"name": "gateway"}), {"apiVersion": "gateway.networking.k8s.io/v1beta1"})
	single := {"targetRef": {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "ws"}, "loadBalancer": sticky("Cookie")}
	count(violations_among([beta, hash_policy("chat", "ws-affinity", single)])) == 0
}

test_a_policy_that_does_not_hash_or_targets_another_route_does_not_count if {
	paths_among([route("ws", {"name": "gateway"}), hash_policy("chat", "ws-lb", object.union(to_route("ws"), {"loadBalancer": {"type": "RoundRobin"}}))]) == {"/spec/sessionAffinity"}
	paths_among([route("ws", {"name": "gateway"}), hash_policy("chat", "ws-lb", object.union(to_route("ws"), {"loadBalancer": sticky("Random")}))]) == {"/spec/sessionAffinity"}
	paths_among([route("ws", {"name": "gateway"}), route("api", {"name": "api"}), hash_policy("chat", "api-affinity", object.union(to_route("api"), {"loadBalancer": sticky("Cookie")}))]) == {"/spec/sessionAffinity"}
	paths_among([route("ws", {"name": "gateway"}), hash_policy("chat", "ws-timeouts", to_route("ws"))]) == {"/spec/sessionAffinity"}
}

test_a_policy_in_another_namespace_does_not_count if {
	paths_among([route("ws", {"name": "gateway"}), hash_policy("edge", "ws-affinity", object.union(to_route("ws"), {"loadBalancer": sticky("Cookie")}))]) == {"/spec/sessionAffinity"}
}

test_a_route_to_another_kind_or_namespace_does_not_count if {
	affinity := hash_policy("chat", "ws-affinity", object.union(to_route("ws"), {"loadBalancer": sticky("Cookie")}))
	paths_among([route("ws", {"name": "gateway", "kind": "ServiceImport", "group": "multicluster.x-k8s.io"}), affinity]) == {"/spec/sessionAffinity"}
	paths_among([route("ws", {"name": "gateway", "namespace": "other"}), affinity]) == {"/spec/sessionAffinity"}
	count(violations_among([route("ws", {"name": "gateway", "namespace": "chat", "kind": "Service", "group": ""}), affinity])) == 0
}

test_a_malformed_route_or_policy_counts_nothing if {
	broken_route := object.union(route("ws", {"name": "gateway"}), {"spec": {"rules": "all"}})
	paths_among([broken_route, hash_policy("chat", "ws-affinity", object.union(to_route("ws"), {"loadBalancer": sticky("Cookie")}))]) == {"/spec/sessionAffinity"}
	paths_among([route("ws", {"name": "gateway"}), hash_policy("chat", "ws-affinity", {"targetRefs": "ws", "loadBalancer": sticky("Cookie")})]) == {"/spec/sessionAffinity"}
}

paths_among(objects) := {x.path | some x in violations_among(objects)}
