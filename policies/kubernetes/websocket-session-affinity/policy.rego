package gatehouse.kubernetes.websocket_session_affinity

# A Service annotated as WebSocket keeps each client on one pod: spec.sessionAffinity ClientIP,
# unless an exemption annotation says that a gateway keeps the affinity.

# A DELETE, and an update to a Service already being deleted (its load-balancer finalizer being
# removed), are let through.
checked if {
	not input.review.operation == "DELETE"
	not input.review.object.metadata.deletionTimestamp
}

annotations := a if {
	a := input.review.object.metadata.annotations
	is_object(a)
} else := {}

websocket if {
	value := annotations[input.parameters.websocketAnnotation]
	is_string(value)
	lower(value) == "true"
}

# kube-proxy balances neither headless nor ExternalName Services: affinity there is moot.
load_balanced if {
	not input.review.object.spec.type == "ExternalName"
	not input.review.object.spec.clusterIP == "None"
}

delegated if {
	names := input.parameters.exemptionAnnotations
	is_array(names)
	some name in names
	value := annotations[name]
	is_string(value)
	trim_space(value) != ""
	lower(value) != "false"
}

gateway_group := "gateway.networking.k8s.io"

route_versions := ["gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1beta1"]

# Envoy Gateway keeps a client on one endpoint with a consistent hash on its address, a header
# or a cookie.
sticky_hashes := {"SourceIP", "Header", "Cookie"}

# The HTTPRoutes of the Service's namespace (from the inventory) that send traffic to it.
routes_to_service contains name if {
	ns := data.gatehouse.lib.kubernetes.namespace
	service := input.review.object.metadata.name
	some version in route_versions
	routes := data.inventory.namespace[ns][version].HTTPRoute
	is_object(routes)
	some name, route in routes
	rules := route.spec.rules
	is_array(rules)
	some rule in rules
	refs := rule.backendRefs
	is_array(refs)
	some ref in refs
	is_object(ref)
	object.get(ref, "group", "") in {"", null}
	object.get(ref, "kind", "Service") in {"Service", null}
	ref.name == service
	object.get(ref, "namespace", ns) in {ns, null}
}

# A BackendTrafficPolicy of the namespace that hashes clients onto endpoints, for a route that
# sends traffic to the Service: the gateway keeps the affinity that sessionAffinity would.
gateway_affinity if {
	count(routes_to_service) > 0
	ns := data.gatehouse.lib.kubernetes.namespace
	policies := data.inventory.namespace[ns]["gateway.envoyproxy.io/v1alpha1"].BackendTrafficPolicy
	is_object(policies)
	some policy in policies
	policy.spec.loadBalancer.type == "ConsistentHash"
	policy.spec.loadBalancer.consistentHash.type in sticky_hashes
	some ref in target_refs(policy.spec)
	is_object(ref)
	object.get(ref, "group", gateway_group) in {gateway_group, null}
	ref.kind == "HTTPRoute"
	routes_to_service[ref.name]
}

# The policy's direct references: targetRef when set (Envoy Gateway then ignores targetRefs).
target_refs(spec) := [ref] if {
	ref := spec.targetRef
	is_object(ref)
} else := refs if {
	refs := spec.targetRefs
	is_array(refs)
} else := []

affinity := a if {
	a := input.review.object.spec.sessionAffinity
	a != null
} else := "None"

violation contains {"msg": msg, "path": "/spec/sessionAffinity"} if {
	checked
	websocket
	not affinity == "ClientIP"
	load_balanced
	not delegated
	not gateway_affinity
	msg := sprintf(
		"Service %s is marked as WebSocket (%s: \"true\") but %s: set spec.sessionAffinity: ClientIP so that each client's connections stay on one pod%s",
		[
			quoted(data.gatehouse.lib.kubernetes.name),
			input.parameters.websocketAnnotation,
			affinity_text(input.review.object),
			exemption_hint(input.parameters.exemptionAnnotations),
		],
	)
}

# Message fragments: functions, so that they are computed only for a violation (regorus
# evaluates every complete rule of the package).

affinity_text(obj) := sprintf("its spec.sessionAffinity is %s", [json.marshal(a)]) if {
	a := obj.spec.sessionAffinity
	a != null
} else := "sets no spec.sessionAffinity (None by default)"

exemption_hint(names) := sprintf(", or, where a gateway keeps the affinity with a cookie or header hash, annotate the Service with %s saying where", [concat(" or ", names)]) if {
	is_array(names)
	count(names) > 0
	every a in names {
		is_string(a)
	}
} else := ""

quoted(s) := sprintf("%q", [s]) if {
	is_string(s)
} else := json.marshal(s)
