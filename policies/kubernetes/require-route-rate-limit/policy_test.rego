package gatehouse.kubernetes.require_route_rate_limit_test

import data.gatehouse.kubernetes.require_route_rate_limit as rl

params := {"publicGatewayLabel": "gatehouse.dev/exposure"}

route_in(version, meta, spec) := {
	"apiVersion": concat("/", ["gateway.networking.k8s.io", version]),
	"kind": "HTTPRoute",
	"metadata": object.union({"name": "api", "namespace": "shop"}, meta),
	"spec": spec,
}

route(refs) := route_in("v1", {}, {"parentRefs": refs, "rules": [{"backendRefs": [{"name": "api", "port": 8080}]}]})

review_with(obj, parameters) := {
	"review": {
		"kind": {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "HTTPRoute"},
		"name": "api",
		"namespace": "shop",
		"operation": "CREATE",
		"object": obj,
	},
	"parameters": parameters,
}

gateway(ns, name, labels) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "Gateway",
	"metadata": {"name": name, "namespace": ns, "labels": labels},
	"spec": {"gatewayClassName": "eg", "listeners": [{"name": "https", "protocol": "HTTPS", "port": 443}]},
}

public_gw := gateway("gateway-system", "public", {"gatehouse.dev/exposure": "public"})

internal_gw := gateway("gateway-system", "internal", {"gatehouse.dev/exposure": "internal"})

public_ref := {"name": "public", "namespace": "gateway-system", "sectionName": "https"}

local_limit := {"type": "Local", "local": {"rules": [{"limit": {"requests": 100, "unit": "Second"}}]}}

btp(ns, name, spec) := {
	"apiVersion": "gateway.envoyproxy.io/v1alpha1",
	"kind": "BackendTrafficPolicy",
	"metadata": {"name": name, "namespace": ns},
	"spec": spec,
}

target(kind, name) := {"group": "gateway.networking.k8s.io", "kind": kind, "name": name}

route_limit := btp("shop", "api-rate-limit", {"targetRefs": [target("HTTPRoute", "api")], "rateLimit": local_limit})

gateway_limit := btp("gateway-system", "public-rate-limit", {"targetRefs": [target("Gateway", "public")], "rateLimit": local_limit})

route_timeouts := btp("shop", "api-timeouts", {"targetRefs": [target("HTTPRoute", "api")], "timeout": {"http": {"requestTimeout": "10s"}}})

# An inventory of Gateways and BackendTrafficPolicies, each placed in its own namespace.
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

violations(obj, objects) := v if {
	v := rl.violation with input as review_with(obj, params) with data.inventory as inventory(objects)
}

paths(obj, objects) := {x.path | some x in violations(obj, objects)}

missing_msg := "HTTPRoute \"api\" attaches through spec.parentRefs[0] to public Gateway \"gateway-system/public\", but no BackendTrafficPolicy with a spec.rateLimit targets the route (in namespace \"shop\") or the Gateway (in namespace \"gateway-system\"): add one targeting HTTPRoute \"api\" with a rateLimit"

test_the_inventory_helper_places_objects if {
	inv := inventory([public_gw, route_limit])
	inv.namespace["gateway-system"]["gateway.networking.k8s.io/v1"].Gateway.public == public_gw
	inv.namespace.shop["gateway.envoyproxy.io/v1alpha1"].BackendTrafficPolicy["api-rate-limit"] == route_limit
}

test_a_route_level_rate_limit_covers_the_route if {
	count(violations(route([public_ref]), [public_gw, route_limit])) == 0
}

test_a_gateway_level_rate_limit_covers_the_route if {
	count(violations(route([public_ref]), [public_gw, gateway_limit])) == 0
}

test_an_uncovered_route_on_a_public_gateway_is_reported if {
	violations(route([public_ref]), [public_gw]) == {{"msg": missing_msg, "path": "/spec/parentRefs/0"}}
}

test_routes_on_other_gateways_are_not_checked if {
	count(violations(route([{"name": "internal", "namespace": "gateway-system"}]), [internal_gw, public_gw])) == 0
	unlabelled := gateway("gateway-system", "edge", null)
	count(violations(route([{"name": "edge", "namespace": "gateway-system"}]), [unlabelled])) == 0
	count(violations(route([{"name": "public", "namespace": "gateway-system"}]), [])) == 0
	count(violations(route([{"name": "public"}]), [public_gw])) == 0
}

test_the_label_key_is_a_parameter if {
	labelled := gateway("gateway-system", "public", {"example.com/tier": "public"})
	inp := review_with(route([public_ref]), {"publicGatewayLabel": "example.com/tier"})
	v := rl.violation with input as inp with data.inventory as inventory([labelled])
	{x.path | some x in v} == {"/spec/parentRefs/0"}
	count(violations(route([public_ref]), [labelled])) == 0
	w := rl.violation with input as review_with(route([public_ref]), {"publicGatewayLabel": "example.com/tier"}) with data.inventory as inventory([public_gw])
	count(w) == 0
}

test_the_gateway_namespace_defaults_to_the_route_namespace if {
	local_gw := gateway("shop", "public", {"gatehouse.dev/exposure": "public"})
	paths(route([{"name": "public"}]), [local_gw]) == {"/spec/parentRefs/0"}
	local_limit_policy := btp("shop", "gw", {"targetRefs": [target("Gateway", "public")], "rateLimit": local_limit})
	count(violations(route([{"name": "public"}]), [local_gw, local_limit_policy])) == 0
}

test_v1beta1_gateways_are_looked_up if {
	beta := object.union(public_gw, {"apiVersion": "gateway.networking.k8s.io/v1beta1"})
	paths(route([public_ref]), [beta]) == {"/spec/parentRefs/0"}
	count(violations(route([public_ref]), [beta, gateway_limit])) == 0
	beta_route := route_in("v1beta1", {}, {"parentRefs": [public_ref]})
	paths(beta_route, [beta]) == {"/spec/parentRefs/0"}
}

test_a_policy_without_rate_limit_does_not_cover if {
	paths(route([public_ref]), [public_gw, route_timeouts]) == {"/spec/parentRefs/0"}
	[x.msg | some x in violations(route([public_ref]), [public_gw, route_timeouts])] == [missing_msg]
	null_limit := btp("shop", "api-rate-limit", {"targetRefs": [target("HTTPRoute", "api")], "rateLimit": null})
	paths(route([public_ref]), [public_gw, null_limit]) == {"/spec/parentRefs/0"}
	empty_limit := btp("shop", "api-rate-limit", {"targetRefs": [target("HTTPRoute", "api")], "rateLimit": {}})
	paths(route([public_ref]), [public_gw, empty_limit]) == {"/spec/parentRefs/0"}
	gw_timeouts := btp("gateway-system", "public", {"targetRefs": [target("Gateway", "public")], "retry": {"numRetries": 2}})
	paths(route([public_ref]), [public_gw, gw_timeouts]) == {"/spec/parentRefs/0"}
}

test_a_policy_targeting_something_else_does_not_cover if {
	other_route := btp("shop", "web", {"targetRefs": [target("HTTPRoute", "web")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, other_route]) == {"/spec/parentRefs/0"}
	grpc := btp("shop", "grpc", {"targetRefs": [target("GRPCRoute", "api")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, grpc]) == {"/spec/parentRefs/0"}
	other_gateway := btp("gateway-system", "internal", {"targetRefs": [target("Gateway", "internal")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, other_gateway]) == {"/spec/parentRefs/0"}
	other_group := btp("shop", "x", {"targetRefs": [{"group": "example.com", "kind": "HTTPRoute", "name": "api"}], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, other_group]) == {"/spec/parentRefs/0"}
}

test_policies_in_other_namespaces_do_not_count if {
	# A route-level policy must sit in the route's namespace...
	misplaced := btp("gateway-system", "api-rate-limit", {"targetRefs": [target("HTTPRoute", "api")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, misplaced]) == {"/spec/parentRefs/0"}
	# ...and a Gateway-level one in the Gateway's.
	gateway_in_shop := btp("shop", "public-rate-limit", {"targetRefs": [target("Gateway", "public")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, gateway_in_shop]) == {"/spec/parentRefs/0"}
	elsewhere := btp("other", "api-rate-limit", {"targetRefs": [target("HTTPRoute", "api")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, elsewhere]) == {"/spec/parentRefs/0"}
}

test_the_legacy_target_ref_counts_and_wins_over_target_refs if {
	legacy := btp("shop", "api-rate-limit", {"targetRef": target("HTTPRoute", "api"), "rateLimit": local_limit})
	count(violations(route([public_ref]), [public_gw, legacy])) == 0
	both := btp("shop", "api-rate-limit", {"targetRef": target("HTTPRoute", "web"), "targetRefs": [target("HTTPRoute", "api")], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, both]) == {"/spec/parentRefs/0"}
	legacy_gw := btp("gateway-system", "g", {"targetRef": target("Gateway", "public"), "rateLimit": local_limit})
	count(violations(route([public_ref]), [public_gw, legacy_gw])) == 0
	no_group := btp("shop", "api-rate-limit", {"targetRefs": [{"kind": "HTTPRoute", "name": "api"}], "rateLimit": local_limit})
	count(violations(route([public_ref]), [public_gw, no_group])) == 0
}

test_target_selectors_count if {
	labelled := route_in("v1", {"labels": {"app.kubernetes.io/part-of": "shop", "exposure": "public"}}, {"parentRefs": [public_ref]})
	by_label := btp("shop", "public-routes", {"targetSelectors": [{"kind": "HTTPRoute", "matchLabels": {"exposure": "public"}}], "rateLimit": local_limit})
	count(violations(labelled, [public_gw, by_label])) == 0
	paths(route([public_ref]), [public_gw, by_label]) == {"/spec/parentRefs/0"}
	by_expression := btp("shop", "shop-routes", {"targetSelectors": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "matchExpressions": [{"key": "app.kubernetes.io/part-of", "operator": "In", "values": ["shop"]}]}], "rateLimit": local_limit})
	count(violations(labelled, [public_gw, by_expression])) == 0
	wrong_kind := btp("shop", "gateways", {"targetSelectors": [{"kind": "Gateway", "matchLabels": {"exposure": "public"}}], "rateLimit": local_limit})
	paths(labelled, [public_gw, wrong_kind]) == {"/spec/parentRefs/0"}
	gateway_selector := btp("gateway-system", "public-gateways", {"targetSelectors": [{"kind": "Gateway", "matchLabels": {"gatehouse.dev/exposure": "public"}}], "rateLimit": local_limit})
	count(violations(route([public_ref]), [public_gw, gateway_selector])) == 0
}

test_a_rule_level_policy_does_not_cover_the_whole_route if {
	one_rule := btp("shop", "login-rate-limit", {"targetRefs": [object.union(target("HTTPRoute", "api"), {"sectionName": "login"})], "rateLimit": local_limit})
	paths(route([public_ref]), [public_gw, one_rule]) == {"/spec/parentRefs/0"}
	count(violations(route([public_ref]), [public_gw, one_rule, gateway_limit])) == 0
}

test_a_route_policy_without_rate_limit_replaces_the_gateway_one if {
	v := violations(route([public_ref]), [public_gw, gateway_limit, route_timeouts])
	v == {{
		"msg": "HTTPRoute \"api\" attaches through spec.parentRefs[0] to public Gateway \"gateway-system/public\", rate limited by BackendTrafficPolicy \"gateway-system/public-rate-limit\", but BackendTrafficPolicy \"shop/api-timeouts\" targets the route without a rateLimit or a mergeType and replaces it (Envoy Gateway applies only the most specific policy): add a rateLimit to it or set its spec.mergeType to StrategicMerge",
		"path": "/spec/parentRefs/0",
	}}
	rule_timeouts := btp("shop", "login-timeouts", {"targetRefs": [object.union(target("HTTPRoute", "api"), {"sectionName": "login"})], "timeout": {"http": {"requestTimeout": "5s"}}})
	paths(route([public_ref]), [public_gw, gateway_limit, rule_timeouts]) == {"/spec/parentRefs/0"}
	selected := btp("shop", "all-routes", {"targetSelectors": [{"kind": "HTTPRoute"}], "retry": {"numRetries": 3}})
	paths(route([public_ref]), [public_gw, gateway_limit, selected]) == {"/spec/parentRefs/0"}
}

test_a_merging_route_policy_keeps_the_gateway_rate_limit if {
	merging := btp("shop", "api-timeouts", {"targetRefs": [target("HTTPRoute", "api")], "mergeType": "StrategicMerge", "timeout": {"http": {"requestTimeout": "10s"}}})
	count(violations(route([public_ref]), [public_gw, gateway_limit, merging])) == 0
	# A merging policy does not rate-limit the route on its own.
	paths(route([public_ref]), [public_gw, merging]) == {"/spec/parentRefs/0"}
}

test_a_route_rate_limit_beside_other_route_policies_covers if {
	count(violations(route([public_ref]), [public_gw, gateway_limit, route_timeouts, route_limit])) == 0
	count(violations(route([public_ref]), [public_gw, route_timeouts, route_limit])) == 0
}

test_each_public_parent_ref_is_reported if {
	other_public := gateway("gateway-system", "partners", {"gatehouse.dev/exposure": "public"})
	refs := [public_ref, {"name": "internal", "namespace": "gateway-system"}, {"name": "partners", "namespace": "gateway-system"}]
	paths(route(refs), [public_gw, internal_gw, other_public]) == {"/spec/parentRefs/0", "/spec/parentRefs/2"}
	paths(route(refs), [public_gw, internal_gw, other_public, gateway_limit]) == {"/spec/parentRefs/2"}
	count(violations(route(refs), [public_gw, internal_gw, other_public, route_limit])) == 0
}

test_parents_other_than_gateways_are_not_checked if {
	count(violations(route([{"group": "", "kind": "Service", "name": "public", "namespace": "gateway-system"}]), [public_gw])) == 0
	count(violations(route([{"group": "example.com", "kind": "Gateway", "name": "public", "namespace": "gateway-system"}]), [public_gw])) == 0
	paths(route([{"group": null, "kind": "Gateway", "name": "public", "namespace": "gateway-system"}]), [public_gw]) == {"/spec/parentRefs/0"}
}

test_malformed_fields_raise_nothing_without_error if {
	count(violations(route_in("v1", {}, {"parentRefs": null}), [public_gw])) == 0
	count(violations(route_in("v1", {}, {"parentRefs": "public"}), [public_gw])) == 0
	count(violations(route_in("v1", {}, "not a spec"), [public_gw])) == 0
	count(violations(route([null, "public", {"name": 1}]), [public_gw])) == 0
	bad_labels := gateway("gateway-system", "public", "gatehouse.dev/exposure=public")
	count(violations(route([public_ref]), [bad_labels])) == 0
	broken := [
		btp("shop", "a", "not a spec"),
		btp("shop", "b", {"targetRefs": "api", "rateLimit": local_limit}),
		btp("shop", "c", {"targetRefs": [null, "api"], "rateLimit": local_limit}),
		btp("shop", "d", {"targetRef": "api", "rateLimit": local_limit}),
		btp("shop", "e", {"targetSelectors": "api", "rateLimit": local_limit}),
		btp("shop", "f", {"targetSelectors": [null, {"kind": "HTTPRoute", "matchLabels": "x"}], "rateLimit": local_limit}),
		btp("shop", "g", {"targetRefs": [target("HTTPRoute", "api")], "rateLimit": "100/s"}),
	]
	paths(route([public_ref]), array.concat([public_gw], broken)) == {"/spec/parentRefs/0"}
	inv := {"namespace": {"shop": {"gateway.envoyproxy.io/v1alpha1": {"BackendTrafficPolicy": "none"}}, "gateway-system": {"gateway.networking.k8s.io/v1": {"Gateway": {"public": public_gw}}}}}
	v := rl.violation with input as review_with(route([public_ref]), params) with data.inventory as inv
	count(v) == 1
	w := rl.violation with input as review_with(route([public_ref]), {"publicGatewayLabel": null}) with data.inventory as inventory([public_gw])
	count(w) == 0
}

test_deletes_are_let_through if {
	obj := route([public_ref])
	inp := object.union(review_with(obj, params), {"review": {"operation": "DELETE"}})
	count(rl.violation) == 0 with input as inp with data.inventory as inventory([public_gw])
	being_deleted := object.union(obj, {"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
	count(rl.violation) == 0 with input as review_with(being_deleted, params) with data.inventory as inventory([public_gw])
	count(rl.violation) == 1 with input as review_with(obj, params) with data.inventory as inventory([public_gw])
}
